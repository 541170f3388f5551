//! Bulk import of performance and cost records, all or nothing: rows arrive as CSV (a header row
//! with the field names) or JSON (`{"records": [...]}`), each row is checked on its own, then
//! against the database (the partner exists, the record is not there yet unless upserting, no
//! two rows claim the same record), and only when every row is good is anything written — in
//! multi-row statements (`db::insert_many`) inside the caller's one transaction.
//!
//! Rows are numbered from 1: the first record (in CSV, the line after the header). The HTTP
//! import and the CLI share this code: the HTTP import calls [`run`] once on the whole body, the
//! CLI (`import_file`) reads the file through one [`CsvRows`], which numbers rows through the
//! whole file, and calls [`run`] (or [`check`] for `--dry-run`) once per chunk. The CLI also
//! imports partners (`import_partners`).
//!
//! Money in CSV: `revenue` / `amount` in yuan with up to two decimals (`1234.5`), or
//! `revenue_minor` / `amount_minor` in fen (`123450`); one of the two per file.

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::IntoParams;

use super::costs::model::{CostRecord, CostRecordCreate};
pub use super::events::ImportMode;
use super::events::PerformanceImported;
use super::import_rows::{checked, internal, row_error, typed};
pub use super::import_rows::{ImportResult, Row};
use super::records::model::{PerformanceRecord, PerformanceRecordCreate};
use crate::access::Actor;
use crate::audit;
use crate::db::schema::{cost_records as cr, partners as p, performance_records as pr};
use crate::db::{self, DbConn};
use crate::error::{ApiError, FieldError};
use crate::events::{self, DomainEvent};

/// Rows one HTTP request may carry.
pub const MAX_ROWS: usize = 50_000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Default `insert`.
    pub mode: Option<ImportMode>,
}

/// Which records a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Performance,
    Costs,
    /// Partners (CLI only): the fields of `POST /api/v1/partners` that fit a flat row, plus `status`.
    Partners,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Performance => "performance",
            Kind::Costs => "costs",
            Kind::Partners => "partners",
        }
    }

    /// The CSV columns and how each is read; the money column pairs are (yuan, fen).
    fn columns(self) -> &'static [(&'static str, Cell)] {
        match self {
            Kind::Performance => &[
                ("partner_id", Cell::Text),
                ("period", Cell::Text),
                ("product_line", Cell::Text),
                ("revenue", Cell::Yuan("revenue_minor")),
                ("revenue_minor", Cell::Int),
                ("currency", Cell::Text),
                ("units", Cell::Int),
                ("orders", Cell::Int),
                ("new_customers", Cell::Int),
                ("customer_satisfaction", Cell::Int),
                ("market_share_bp", Cell::Int),
                ("notes", Cell::Text),
            ],
            Kind::Costs => &[
                ("id", Cell::Text),
                ("partner_id", Cell::Text),
                ("period", Cell::Text),
                ("category", Cell::Text),
                ("amount", Cell::Yuan("amount_minor")),
                ("amount_minor", Cell::Int),
                ("currency", Cell::Text),
                ("notes", Cell::Text),
            ],
            Kind::Partners => &[
                ("name", Cell::Text),
                ("channel_type", Cell::Text),
                ("kind", Cell::Text),
                ("tier", Cell::Text),
                ("status", Cell::Text),
                ("region", Cell::Text),
                ("territories", Cell::List),
                ("industries", Cell::List),
                ("owner", Cell::Text),
                ("next_review_at", Cell::Text),
                ("notes", Cell::Text),
                ("source", Cell::Text),
                ("campaign_id", Cell::Text),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Cell {
    Text,
    Int,
    /// Yuan with up to two decimals, stored as the named fen field.
    Yuan(&'static str),
    /// Labels separated by `;` (or `；`), e.g. `上海;杭州`.
    List,
}

/// `1234.5` yuan → 123450 fen; `None` for anything else (signs, separators, three decimals).
pub fn parse_yuan(text: &str) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || frac.len() > 2 || text.ends_with('.') {
        return None;
    }
    let fen = format!("{frac:0<2}").parse::<i64>().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(fen)
}

/// The header's columns checked against the kind's; errors are reported on row 0 (the header).
fn check_header(kind: Kind, header: &[String]) -> Result<Vec<Option<Cell>>, Vec<FieldError>> {
    let known = kind.columns();
    let mut errors = Vec::new();
    let mut cells = Vec::new();
    let mut seen = HashSet::new();
    for name in header {
        let name = name.trim_start_matches('\u{feff}').trim();
        match known.iter().find(|(n, _)| *n == name) {
            Some((_, cell)) => cells.push(Some(*cell)),
            None => {
                let names: Vec<&str> = known.iter().map(|(n, _)| *n).collect();
                errors.push(row_error(
                    0,
                    name,
                    format!("is not a column of {} imports ({})", kind.name(), names.join(", ")),
                ));
                cells.push(None);
            }
        }
        if !seen.insert(name.to_string()) {
            errors.push(row_error(0, name, "is given twice"));
        }
    }
    if errors.is_empty() {
        Ok(cells)
    } else {
        Err(errors)
    }
}

/// A reader of CSV rows of `kind`, numbering them from `offset + 1`.
pub struct CsvRows<R: std::io::Read> {
    reader: ::csv::Reader<R>,
    header: Vec<String>,
    cells: Vec<Option<Cell>>,
    next: u64,
}

impl<R: std::io::Read> CsvRows<R> {
    pub fn new(kind: Kind, input: R) -> Result<Self, Vec<FieldError>> {
        let mut reader = ::csv::ReaderBuilder::new().flexible(false).trim(::csv::Trim::Headers).from_reader(input);
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|s| s.trim_start_matches('\u{feff}').to_string()).collect(),
            Err(e) => return Err(vec![row_error(0, "body", format!("the CSV header could not be read: {e}"))]),
        };
        let cells = check_header(kind, &header)?;
        Ok(CsvRows { reader, header, cells, next: 1 })
    }

    /// Skips `n` data rows (the CLI's `--skip`); their numbers are still counted.
    pub fn skip(&mut self, n: u64) -> Result<(), FieldError> {
        let mut record = ::csv::StringRecord::new();
        for _ in 0..n {
            match self.reader.read_record(&mut record) {
                Ok(true) => self.next += 1,
                Ok(false) => break,
                Err(e) => return Err(row_error(self.next, "body", format!("not readable as CSV: {e}"))),
            }
        }
        Ok(())
    }

    /// The number the next row read will have.
    pub fn next_row(&self) -> u64 {
        self.next
    }

    /// How far into the input the reader is, in bytes (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Up to `max` rows (fewer at the end), each converted or with its errors.
    pub fn chunk(&mut self, max: usize) -> (Vec<Row>, Vec<FieldError>) {
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        let mut record = ::csv::StringRecord::new();
        while rows.len() + errors.len() < max {
            let number = self.next;
            match self.reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    self.next += 1;
                    match self.convert(number, &record) {
                        Ok(row) => rows.push(row),
                        Err(mut e) => errors.append(&mut e),
                    }
                }
                Err(e) => {
                    self.next += 1;
                    errors.push(row_error(number, "body", format!("not readable as CSV: {e}")));
                    // A row of the wrong width does not stop the reader; broken quoting does.
                    if !matches!(e.kind(), ::csv::ErrorKind::UnequalLengths { .. }) {
                        break;
                    }
                }
            }
        }
        (rows, errors)
    }

    fn convert(&self, number: u64, record: &::csv::StringRecord) -> Result<Row, Vec<FieldError>> {
        let mut fields = Map::new();
        let mut errors = Vec::new();
        for ((name, cell), text) in self.header.iter().zip(&self.cells).zip(record.iter()) {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let value = match cell {
                None => continue,
                Some(Cell::Text) => Value::from(text),
                Some(Cell::List) => {
                    Value::from(text.split([';', '；']).map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>())
                }
                Some(Cell::Int) => match text.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => {
                        errors.push(row_error(number, name, format!("must be a whole number (got {text:?})")));
                        continue;
                    }
                },
                Some(Cell::Yuan(target)) => match parse_yuan(text) {
                    Some(fen) => {
                        if fields.insert(target.to_string(), Value::from(fen)).is_some() {
                            errors.push(row_error(number, name, format!("give {name} or {target}, not both")));
                        }
                        continue;
                    }
                    None => {
                        let msg = format!("must be yuan with up to two decimals, e.g. 1234.50 (got {text:?})");
                        errors.push(row_error(number, name, msg));
                        continue;
                    }
                },
            };
            if fields.insert(name.clone(), value).is_some() {
                errors.push(row_error(number, name, "give the amount in yuan or in fen, not both"));
            }
        }
        if errors.is_empty() {
            Ok(Row { number, fields })
        } else {
            Err(errors)
        }
    }
}

/// The rows of an HTTP body (`text/csv` or JSON `{"records": [...]}`) and the errors of the CSV
/// rows that could not be read as their record type (reported with the others by the plan).
pub fn parse_body(kind: Kind, content_type: &str, body: &[u8]) -> Result<(Vec<Row>, Vec<FieldError>), ApiError> {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (rows, errors) = if essence == "text/csv" {
        let mut reader = CsvRows::new(kind, body).map_err(ApiError::validation)?;
        reader.chunk(MAX_ROWS + 1)
    } else {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            records: Vec<Map<String, Value>>,
        }
        let parsed: Body = crate::http::extract::parse_json(body)?;
        let rows = parsed.records.into_iter().zip(1..).map(|(fields, number)| Row { number, fields }).collect();
        (rows, Vec::new())
    };
    if rows.len() + errors.len() > MAX_ROWS {
        return Err(ApiError::field(
            "records",
            format!("at most {MAX_ROWS} rows per request; the CLI imports files of any size"),
        ));
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(ApiError::field("records", "has no rows"));
    }
    Ok((rows, errors))
}

/// Current (not archived) partners among `ids`.
fn current_partners(conn: &mut DbConn, ids: &BTreeSet<String>) -> Result<HashSet<String>, ApiError> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut found = HashSet::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<String> = p::table
            .filter(p::id.eq_any(chunk.iter().copied()).and(p::archived_at.is_null()))
            .select(p::id)
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// A checked import, ready to write: records to insert, records to update.
pub struct Plan<T> {
    pub inserts: Vec<T>,
    pub updates: Vec<T>,
}

/// Plans a performance import; every bad row is reported.
pub fn plan_performance(
    conn: &mut DbConn,
    rows: &[Row],
    mode: ImportMode,
    mut errors: Vec<FieldError>,
) -> Result<Plan<PerformanceRecord>, Vec<FieldError>> {
    let now = db::now().and_utc();
    let mut records: Vec<(u64, PerformanceRecord)> = Vec::new();
    for row in rows {
        let input = typed::<PerformanceRecordCreate>(row, &mut errors);
        if let Some(input) = checked(row, input, |i, c| i.check(c), &mut errors) {
            records.push((row.number, input.into_record(db::new_id(), now)));
        }
    }
    let plan = db_checks_performance(conn, records, mode, &mut errors).map_err(|e| vec![internal(e)])?;
    if errors.is_empty() {
        Ok(plan)
    } else {
        errors.sort_by_key(|e| e.row);
        Err(errors)
    }
}

type Key = (String, String, String);

fn db_checks_performance(
    conn: &mut DbConn,
    records: Vec<(u64, PerformanceRecord)>,
    mode: ImportMode,
    errors: &mut Vec<FieldError>,
) -> Result<Plan<PerformanceRecord>, ApiError> {
    let partner_ids: BTreeSet<String> = records.iter().map(|(_, r)| r.partner_id.clone()).collect();
    let partners = current_partners(conn, &partner_ids)?;
    let existing = existing_keys(conn, &partner_ids, &records)?;
    let mut seen: HashMap<Key, u64> = HashMap::new();
    let mut plan = Plan { inserts: Vec::new(), updates: Vec::new() };
    for (number, mut record) in records {
        if !partners.contains(&record.partner_id) {
            errors.push(row_error(number, "partner_id", "no such partner (or it is archived)"));
            continue;
        }
        let key = (record.partner_id.clone(), record.period.clone(), record.line_key.clone());
        if let Some(first) = seen.insert(key.clone(), number) {
            errors.push(row_error(
                number,
                "period",
                format!("row {first} is already the record of this partner, month and product line"),
            ));
            continue;
        }
        match (existing.get(&key), mode) {
            (None, _) => plan.inserts.push(record),
            (Some(_), ImportMode::Insert) => errors.push(row_error(
                number,
                "period",
                "the partner already has a record for this month and product line (import with mode=upsert to replace it)",
            )),
            (Some((id, version, created_at)), ImportMode::Upsert) => {
                (record.id, record.version, record.created_at) = (id.clone(), version + 1, *created_at);
                plan.updates.push(record);
            }
        }
    }
    Ok(plan)
}

type Existing = HashMap<Key, (String, i64, chrono::DateTime<chrono::Utc>)>;

/// The stored records the rows could collide with: those of the rows' partners in the rows'
/// month range.
fn existing_keys(
    conn: &mut DbConn,
    partner_ids: &BTreeSet<String>,
    records: &[(u64, PerformanceRecord)],
) -> Result<Existing, ApiError> {
    let (Some(first), Some(last)) =
        (records.iter().map(|(_, r)| &r.period).min(), records.iter().map(|(_, r)| &r.period).max())
    else {
        return Ok(HashMap::new());
    };
    let ids: Vec<&String> = partner_ids.iter().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String, String, String, i64, chrono::NaiveDateTime)> = pr::table
            .filter(pr::partner_id.eq_any(chunk.iter().copied()))
            .filter(pr::period.ge(first).and(pr::period.le(last)))
            .select((pr::id, pr::partner_id, pr::period, pr::line_key, pr::version, pr::created_at))
            .load(conn)?;
        for (id, partner, period, line, version, created) in rows {
            out.insert((partner, period, line), (id, version, created.and_utc()));
        }
    }
    Ok(out)
}

/// Plans a cost import; every bad row is reported. In upsert mode a row with an `id` replaces
/// that cost record (which must exist); rows without one are new.
pub fn plan_costs(
    conn: &mut DbConn,
    rows: &[Row],
    mode: ImportMode,
    mut errors: Vec<FieldError>,
) -> Result<Plan<CostRecord>, Vec<FieldError>> {
    let now = db::now().and_utc();
    let mut records: Vec<(u64, Option<String>, CostRecord)> = Vec::new();
    for row in rows {
        let mut fields = row.fields.clone();
        let id = fields.remove("id");
        let id = match (id, mode) {
            (None, _) => None,
            (Some(Value::String(id)), ImportMode::Upsert) if uuid::Uuid::parse_str(&id).is_ok() => {
                Some(id.to_lowercase())
            }
            (Some(_), ImportMode::Upsert) => {
                errors.push(row_error(row.number, "id", "must be a cost record id (UUID)"));
                continue;
            }
            (Some(_), ImportMode::Insert) => {
                errors.push(row_error(row.number, "id", "is only read with mode=upsert (new records get new ids)"));
                continue;
            }
        };
        let row_without_id = Row { number: row.number, fields };
        let input = typed::<CostRecordCreate>(&row_without_id, &mut errors);
        if let Some(input) = checked(row, input, |i, c| i.check(c), &mut errors) {
            records.push((row.number, id, input.into_record(db::new_id(), now)));
        }
    }
    let plan = db_checks_costs(conn, records, &mut errors).map_err(|e| vec![internal(e)])?;
    if errors.is_empty() {
        Ok(plan)
    } else {
        errors.sort_by_key(|e| e.row);
        Err(errors)
    }
}

fn db_checks_costs(
    conn: &mut DbConn,
    records: Vec<(u64, Option<String>, CostRecord)>,
    errors: &mut Vec<FieldError>,
) -> Result<Plan<CostRecord>, ApiError> {
    let partner_ids: BTreeSet<String> = records.iter().map(|(_, _, r)| r.partner_id.clone()).collect();
    let partners = current_partners(conn, &partner_ids)?;
    let ids: Vec<String> = records.iter().filter_map(|(_, id, _)| id.clone()).collect();
    let mut stored: HashMap<String, (String, i64, chrono::DateTime<chrono::Utc>)> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String, i64, chrono::NaiveDateTime)> = cr::table
            .filter(cr::id.eq_any(chunk))
            .select((cr::id, cr::partner_id, cr::version, cr::created_at))
            .load(conn)?;
        stored.extend(rows.into_iter().map(|(id, partner, v, c)| (id, (partner, v, c.and_utc()))));
    }
    let mut plan = Plan { inserts: Vec::new(), updates: Vec::new() };
    let mut seen = HashSet::new();
    for (number, id, mut record) in records {
        if !partners.contains(&record.partner_id) {
            errors.push(row_error(number, "partner_id", "no such partner (or it is archived)"));
            continue;
        }
        let Some(id) = id else {
            plan.inserts.push(record);
            continue;
        };
        match stored.get(&id) {
            None => errors.push(row_error(number, "id", "no cost record has this id")),
            Some((partner, _, _)) if *partner != record.partner_id => {
                errors.push(row_error(number, "partner_id", "is not the partner of the cost record with this id"))
            }
            Some(_) if !seen.insert(id.clone()) => {
                errors.push(row_error(number, "id", "is given in an earlier row too"))
            }
            Some((_, version, created_at)) => {
                (record.id, record.version, record.created_at) = (id, version + 1, *created_at);
                plan.updates.push(record);
            }
        }
    }
    Ok(plan)
}

/// Writes a performance plan. Returns what it wrote and the months it touched.
pub fn write_performance(
    conn: &mut DbConn,
    plan: Plan<PerformanceRecord>,
) -> Result<(ImportResult, Vec<String>), ApiError> {
    let periods = months(plan.inserts.iter().chain(&plan.updates).map(|r| r.period.as_str()));
    let result = ImportResult { created: plan.inserts.len() as u64, updated: plan.updates.len() as u64 };
    db::insert_many(conn, pr::table, plan.inserts)?;
    for record in plan.updates {
        diesel::update(pr::table.find(record.id.clone())).set(record).execute(conn)?;
    }
    Ok((result, periods))
}

/// Writes a cost plan. Returns what it wrote and the months it touched.
pub fn write_costs(conn: &mut DbConn, plan: Plan<CostRecord>) -> Result<(ImportResult, Vec<String>), ApiError> {
    let periods = months(plan.inserts.iter().chain(&plan.updates).map(|r| r.period.as_str()));
    let result = ImportResult { created: plan.inserts.len() as u64, updated: plan.updates.len() as u64 };
    db::insert_many(conn, cr::table, plan.inserts)?;
    for record in plan.updates {
        diesel::update(cr::table.find(record.id.clone())).set(record).execute(conn)?;
    }
    Ok((result, periods))
}

fn months<'a>(periods: impl Iterator<Item = &'a str>) -> Vec<String> {
    periods.collect::<BTreeSet<_>>().into_iter().map(str::to_string).collect()
}

/// One whole import (or one CLI chunk) in the caller's transaction: plan (422 listing every bad
/// row, with the `unread` ones, nothing written), write, one audit record and one
/// `performance.imported` (partners: an audit record and a `partner.created` per partner, as
/// `POST /partners` writes, and each update as `PATCH /partners/{id}` does).
pub fn run(
    conn: &mut DbConn,
    actor: &Actor,
    kind: Kind,
    (rows, unread): (&[Row], Vec<FieldError>),
    mode: ImportMode,
) -> Result<ImportResult, ApiError> {
    let (result, periods) = match kind {
        Kind::Performance => {
            let plan = plan_performance(conn, rows, mode, unread).map_err(ApiError::validation)?;
            write_performance(conn, plan)?
        }
        Kind::Costs => {
            let plan = plan_costs(conn, rows, mode, unread).map_err(ApiError::validation)?;
            write_costs(conn, plan)?
        }
        Kind::Partners => {
            let plan = super::import_partners::plan(conn, rows, mode, unread).map_err(ApiError::validation)?;
            return super::import_partners::write(conn, actor, plan);
        }
    };
    record_import(conn, actor, kind, mode, result, periods)?;
    Ok(result)
}

/// What [`run`] would do, without writing: every bad row of the chunk, or the counts it would
/// write (the CLI's `--dry-run`).
pub fn check(
    conn: &mut DbConn,
    kind: Kind,
    (rows, unread): (&[Row], Vec<FieldError>),
    mode: ImportMode,
) -> Result<ImportResult, Vec<FieldError>> {
    let counts = |inserts: usize, updates: usize| ImportResult { created: inserts as u64, updated: updates as u64 };
    Ok(match kind {
        Kind::Performance => {
            let plan = plan_performance(conn, rows, mode, unread)?;
            counts(plan.inserts.len(), plan.updates.len())
        }
        Kind::Costs => {
            let plan = plan_costs(conn, rows, mode, unread)?;
            counts(plan.inserts.len(), plan.updates.len())
        }
        Kind::Partners => {
            let plan = super::import_partners::plan(conn, rows, mode, unread)?;
            counts(plan.inserts.len(), plan.updates.len())
        }
    })
}

/// The audit record and the event of an import (or of one CLI chunk).
pub fn record_import(
    conn: &mut DbConn,
    actor: &Actor,
    kind: Kind,
    mode: ImportMode,
    result: ImportResult,
    periods: Vec<String>,
) -> Result<(), ApiError> {
    let import_id = db::new_id();
    let resource_type = match kind {
        Kind::Performance => "performance_record",
        Kind::Costs => "cost_record",
        Kind::Partners => "partner",
    };
    let changes =
        serde_json::json!({"mode": mode, "created": result.created, "updated": result.updated, "periods": periods});
    audit::record(conn, actor, "import", resource_type, &import_id, changes)?;
    let event = PerformanceImported {
        import_id,
        kind: kind.name().to_string(),
        mode,
        created: result.created,
        updated: result.updated,
        periods,
    };
    events::emit(conn, &DomainEvent::PerformanceImported(event))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_has_at_most_two_decimals() {
        assert_eq!(parse_yuan("1234.5"), Some(123450));
        assert_eq!(parse_yuan("1234.56"), Some(123456));
        assert_eq!(parse_yuan("0"), Some(0));
        assert_eq!(parse_yuan("7.05"), Some(705));
        for bad in ["1.234", "-1", "1,234", "", ".5", "5.", "1e3", "１"] {
            assert_eq!(parse_yuan(bad), None, "{bad}");
        }
    }

    #[test]
    fn csv_rows_are_typed_and_numbered() {
        let text = "\u{feff}partner_id,period,revenue,units\np,2026-01,12.5,3\np,2026-02,x,\np,2026-03,1,2,3\n";
        let mut rows = CsvRows::new(Kind::Performance, text.as_bytes()).unwrap();
        let (ok, errors) = rows.chunk(10);
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].fields["revenue_minor"], 1250);
        assert_eq!(ok[0].fields["units"], 3);
        let at: Vec<_> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(at, [(Some(2), "revenue"), (Some(3), "body")]);
        let bad = CsvRows::new(Kind::Performance, "partner_id,profit\n".as_bytes()).err().unwrap();
        assert_eq!((bad[0].row, bad[0].field.as_str()), (Some(0), "profit"));
    }
}

//! Statements in the database, and the calculation that writes them: for each partner the
//! program addresses now, the figures of the months (performance records, the agreed target,
//! the active contracts' rebate terms), one line per rule, drafts replaced, approved statements
//! left alone and any difference from them written as an adjustment — all in one transaction.

use std::collections::BTreeMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::bulletins::model::resolve_audience;
use crate::bulletins::store::load_candidates;
use crate::contracts::model::ContractStatus;
use crate::contracts::terms::model::{Params, TermKind};
use crate::db::schema::{
    contract_terms as ct, contracts as c, cost_records as cr, incentive_statements as st, partners as p,
    performance_records as pr, targets as t,
};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code, FieldError};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::incentives::events::StatementApproved;
use crate::incentives::programs::model::{
    Basis, Measure, Program, ProgramKind, ProgramStatus, RebateMode, RebateRules, RebateStep, Rules,
};
use crate::incentives::programs::store as programs;
use crate::incentives::rebate::{self, Explanation, Figures};
use crate::performance::costs::model::{CostCategory, CostRecord};
use crate::performance::period::Month;
use crate::performance::records::model::line_key;
use crate::targets::model::{Metric, TargetStatus};

pub fn not_found() -> ApiError {
    ApiError::not_found(Code::IncentiveStatementNotFound)
}

/// Sums a column of the partner's records of the months: whole-business ones, or those of the
/// given line keys; in `currency` when given.
fn sum(
    conn: &mut DbConn,
    column: &str,
    partner_id: &str,
    (from, to): (&str, &str),
    lines: &[String],
    currency: Option<&str>,
) -> Result<i64, ApiError> {
    let mut q =
        pr::table.filter(pr::partner_id.eq(partner_id)).filter(pr::period.ge(from).and(pr::period.le(to))).into_boxed();
    q = if lines.is_empty() { q.filter(pr::line_key.eq("")) } else { q.filter(pr::line_key.eq_any(lines)) };
    if let Some(cur) = currency {
        q = q.filter(pr::currency.eq(cur));
    }
    // SUM of a BIGINT is NUMERIC on Postgres: cast back so both backends read an i64.
    Ok(q.select(sql::<BigInt>(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))).first(conn)?)
}

/// Currencies other than `currency` the partner has revenue in over the months (same records).
fn other_currencies(
    conn: &mut DbConn,
    partner_id: &str,
    (from, to): (&str, &str),
    lines: &[String],
    currency: &str,
) -> Result<Vec<String>, ApiError> {
    let mut q = pr::table
        .filter(pr::partner_id.eq(partner_id))
        .filter(pr::period.ge(from).and(pr::period.le(to)))
        .filter(pr::currency.ne(currency).and(pr::revenue_minor.ne(0)))
        .into_boxed();
    q = if lines.is_empty() { q.filter(pr::line_key.eq("")) } else { q.filter(pr::line_key.eq_any(lines)) };
    let mut found: Vec<String> = q.select(pr::currency).distinct().load(conn)?;
    found.sort();
    Ok(found)
}

/// The agreed target of `metric` whose period is exactly these months.
fn target_of(
    conn: &mut DbConn,
    partner_id: &str,
    metric: Metric,
    (from, to): (&str, &str),
) -> Result<Option<i64>, ApiError> {
    Ok(t::table
        .filter(t::partner_id.eq(partner_id).and(t::metric.eq(metric)).and(t::status.eq(TargetStatus::Agreed)))
        .filter(t::first_month.eq(from).and(t::last_month.eq(to)))
        .select(t::target_value)
        .first(conn)
        .optional()?)
}

/// A contract rebate term that applies: its contract's number and currency, the term and its tiers.
struct ContractRebate {
    contract_id: String,
    number: String,
    currency: String,
    term_id: String,
    title: String,
    tiers: Vec<RebateStep>,
}

/// Rebate terms of the partner's active contracts in effect at some time in the months.
fn contract_rebates(
    conn: &mut DbConn,
    partner_id: &str,
    (from, to): (&str, &str),
) -> Result<Vec<ContractRebate>, ApiError> {
    // Dates are YYYY-MM-DD text: "-31" ends any month for a text comparison.
    let (first_day, last_day) = (format!("{from}-01"), format!("{to}-31"));
    type Row = (String, String, String, String, String, String);
    let rows: Vec<Row> = c::table
        .inner_join(ct::table.on(ct::contract_id.eq(c::id)))
        .filter(c::partner_id.eq(partner_id).and(c::status.eq(ContractStatus::Active.as_str())))
        .filter(c::effective_from.is_null().or(c::effective_from.le(&last_day)))
        .filter(c::effective_to.is_null().or(c::effective_to.ge(&first_day)))
        .filter(ct::kind.eq(TermKind::Rebate.as_str()))
        .order((c::id.asc(), ct::id.asc()))
        .select((c::id, c::number, c::currency, ct::id, ct::title, ct::params))
        .load(conn)?;
    rows.into_iter()
        .map(|(contract_id, number, currency, term_id, title, params)| {
            let value: serde_json::Value = serde_json::from_str(&params).map_err(ApiError::internal)?;
            let Params::Rebate(r) = Params::from_stored(TermKind::Rebate, &value)? else {
                return Err(ApiError::internal("a rebate term without rebate parameters"));
            };
            let tiers =
                r.tiers.iter().map(|s| RebateStep { threshold: s.threshold_minor, rate_bp: s.rate_bp }).collect();
            Ok(ContractRebate { contract_id, number, currency, term_id, title, tiers })
        })
        .collect()
}

fn line(source: LineSource, computed: rebate::Computed) -> StatementLine {
    StatementLine {
        source,
        contract_id: None,
        term_id: None,
        eligible: computed.eligible,
        basis_value: computed.basis_value,
        target_value: computed.target_value,
        attainment_bp: computed.attainment_bp,
        tier_reached: computed.tier_reached,
        rate_bp: computed.rate_bp,
        amount_minor: computed.amount_minor,
        explanation: computed.explanation,
    }
}

/// The lines one partner earns over the months; currency clashes are collected into `errors`.
fn lines_for(
    conn: &mut DbConn,
    program: &Program,
    rules: &RebateRules,
    partner_id: &str,
    months: (&str, &str),
    errors: &mut Vec<FieldError>,
) -> Result<Vec<StatementLine>, ApiError> {
    let keys: Vec<String> = rules.product_lines.iter().map(|l| line_key(Some(l))).collect();
    let currency = program.currency.as_str();
    for other in other_currencies(conn, partner_id, months, &keys, currency)? {
        errors.push(FieldError::new(
            "currency",
            format!("partner {partner_id} has revenue in {other} in these months; the program pays in {currency}"),
        ));
    }
    let figures = Figures {
        revenue_minor: sum(conn, "revenue_minor", partner_id, months, &keys, Some(currency))?,
        units: sum(conn, "units", partner_id, months, &keys, None)?,
        target_value: match rules.measure {
            Measure::Amount => None,
            Measure::Attainment => {
                let metric = if rules.basis == Basis::Revenue { Metric::Revenue } else { Metric::Units };
                target_of(conn, partner_id, metric, months)?
            }
        },
    };
    let mut lines = vec![line(LineSource::Program, rebate::compute(rules, &figures, currency))];
    let terms = contract_rebates(conn, partner_id, months)?;
    if terms.is_empty() {
        return Ok(lines);
    }
    let whole = Figures {
        revenue_minor: sum(conn, "revenue_minor", partner_id, months, &[], Some(currency))?,
        units: 0,
        target_value: None,
    };
    for term in terms {
        if term.currency != currency {
            errors.push(FieldError::new(
                "currency",
                format!(
                    "contract {} of partner {partner_id} is in {}; the program pays in {currency}",
                    term.number, term.currency
                ),
            ));
            continue;
        }
        let schedule = RebateRules {
            basis: Basis::Revenue,
            measure: Measure::Amount,
            tiers: term.tiers,
            mode: RebateMode::Retroactive,
            cap_minor: None,
            product_lines: Vec::new(),
        };
        let mut computed = rebate::compute(&schedule, &whole, currency);
        computed.explanation = Explanation {
            zh: format!("合同 {} 返点条款「{}」：{}", term.number, term.title, computed.explanation.zh),
            en: format!("Contract {} rebate term \"{}\": {}", term.number, term.title, computed.explanation.en),
        };
        let mut l = line(LineSource::ContractTerm, computed);
        (l.contract_id, l.term_id) = (Some(term.contract_id), Some(term.term_id));
        lines.push(l);
    }
    Ok(lines)
}

fn not_calculable(detail: &str) -> ApiError {
    ApiError::conflict(Code::IncentiveProgramNotCalculable, detail.to_string())
}

/// Calculates the program over the months: one draft per addressed partner (or an adjustment
/// when approved statements of the same months differ), drafts of others removed.
pub fn calculate(
    conn: &mut DbConn,
    actor: &Actor,
    program_id: &str,
    (from, to): (Month, Month),
) -> Result<CalculateResult, ApiError> {
    programs::lock(conn, program_id)?;
    let program = programs::load(conn, program_id)?;
    let Rules::Rebate(rules) = &program.rules else {
        return Err(not_calculable(&format!(
            "only rebate programs compute statements; this one is a {} program",
            program.kind
        )));
    };
    check_calculable(&program, from, to)?;
    let (from_s, to_s) = (from.to_string(), to.to_string());
    check_no_overlap(conn, &program.id, (&from_s, &to_s))?;
    let months = (from_s.as_str(), to_s.as_str());
    let partners = resolve_audience(&program.audience, &load_candidates(conn, &program.audience)?);
    let mut result = CalculateResult {
        program_id: program.id.clone(),
        from: from_s.clone(),
        to: to_s.clone(),
        partners: partners.len() as i64,
        ..Default::default()
    };
    let mut errors = Vec::new();
    let mut computed = Vec::with_capacity(partners.len());
    for partner_id in &partners {
        computed.push(lines_for(conn, &program, rules, partner_id, months, &mut errors)?);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let existing: Vec<Statement> = st::table
        .filter(st::program_id.eq(&program.id).and(st::from_month.eq(&from_s)).and(st::to_month.eq(&to_s)))
        .select(Statement::as_select())
        .load(conn)?;
    let mut granted: BTreeMap<&str, (bool, i64)> = BTreeMap::new();
    for s in existing.iter().filter(|s| s.status != StatementStatus::Draft) {
        let entry = granted.entry(s.partner_id.as_str()).or_insert((true, 0));
        entry.1 = entry.1.saturating_add(s.total_minor);
    }
    result.removed =
        existing.iter().filter(|s| s.status == StatementStatus::Draft && !partners.contains(&s.partner_id)).count()
            as i64;
    diesel::delete(
        st::table
            .filter(st::program_id.eq(&program.id).and(st::from_month.eq(&from_s)).and(st::to_month.eq(&to_s)))
            .filter(st::status.eq(StatementStatus::Draft)),
    )
    .execute(conn)?;
    let rows = new_drafts(&program, (&from_s, &to_s), partners.iter().zip(computed), &granted, &mut result);
    result.drafts = rows.len() as i64;
    db::insert_many(conn, st::table, rows)?;
    let summary = serde_json::to_value(&result).map_err(ApiError::internal)?;
    audit::record(conn, actor, "calculate", "incentive_program", &program.id, summary)?;
    Ok(result)
}

/// Months that overlap another calculation's months of the program would pay the overlap twice:
/// a program is calculated over exactly the same months again (refreshing them), or over months
/// apart from every earlier calculation's.
fn check_no_overlap(conn: &mut DbConn, program_id: &str, (from, to): (&str, &str)) -> Result<(), ApiError> {
    let other: Option<(String, String)> = st::table
        .filter(st::program_id.eq(program_id))
        .filter(st::from_month.le(to).and(st::to_month.ge(from)))
        .filter(st::from_month.ne(from).or(st::to_month.ne(to)))
        .select((st::from_month, st::to_month))
        .order((st::from_month.asc(), st::to_month.asc()))
        .first(conn)
        .optional()?;
    match other {
        None => Ok(()),
        Some((f, t)) => Err(ApiError::conflict(
            Code::IncentiveWindowOverlaps,
            format!(
                "{from}–{to} overlaps the statements of {f}–{t}: recalculate {f}–{t} itself, or choose months apart from it"
            ),
        )),
    }
}

/// A rebate program that is active or closed, asked for months within its own.
fn check_calculable(program: &Program, from: Month, to: Month) -> Result<(), ApiError> {
    if program.kind != ProgramKind::Rebate || program.status == ProgramStatus::Draft {
        return Err(not_calculable("a draft program computes nothing yet: activate it first"));
    }
    let (first, last) = program.months().ok_or_else(|| ApiError::internal("stored program months are malformed"))?;
    let mut outside = Vec::new();
    if from < first || from > last {
        outside.push(FieldError::new("from", format!("must be within the program's months {first}–{last}")));
    }
    if to > last || to < first {
        outside.push(FieldError::new("to", format!("must be within the program's months {first}–{last}")));
    }
    if outside.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(outside))
    }
}

/// The draft statements to write: a statement for a partner with nothing approved for these
/// months, an adjustment (with a `previously_approved` line) for one whose approved total now
/// differs, nothing where it does not. Counts what it decided in `result`.
fn new_drafts<'a>(
    program: &Program,
    (from_s, to_s): (&str, &str),
    computed: impl Iterator<Item = (&'a String, Vec<StatementLine>)>,
    granted: &BTreeMap<&str, (bool, i64)>,
    result: &mut CalculateResult,
) -> Vec<Statement> {
    let now = db::now().and_utc();
    let mut rows = Vec::new();
    for (partner_id, mut lines) in computed {
        if lines.iter().any(|l| !l.eligible) {
            result.not_eligible += 1;
        }
        let kind = match granted.get(partner_id.as_str()) {
            None => StatementKind::Statement,
            Some((_, approved)) => {
                let difference = total(&lines).saturating_sub(*approved);
                if difference == 0 {
                    result.unchanged += 1;
                    continue;
                }
                lines.push(previously_approved(*approved, &program.currency));
                result.adjustments += 1;
                StatementKind::Adjustment
            }
        };
        rows.push(Statement {
            id: db::new_id(),
            program_id: program.id.clone(),
            partner_id: partner_id.clone(),
            kind,
            from: from_s.to_string(),
            to: to_s.to_string(),
            currency: program.currency.clone(),
            total_minor: total(&lines),
            lines,
            status: StatementStatus::Draft,
            approved_at: None,
            paid_at: None,
            cost_record_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        });
    }
    rows
}

fn previously_approved(approved: i64, currency: &str) -> StatementLine {
    let amount = rebate::money(approved, currency);
    StatementLine {
        source: LineSource::PreviouslyApproved,
        contract_id: None,
        term_id: None,
        eligible: true,
        basis_value: 0,
        target_value: None,
        attainment_bp: None,
        tier_reached: None,
        rate_bp: 0,
        amount_minor: approved.saturating_neg(),
        explanation: Explanation {
            zh: format!("这些月份已审批的结算单共计 {amount}，予以扣除：本调整单只计差额。"),
            en: format!("Approved statements of these months already granted {amount}, deducted: this adjustment is the difference."),
        },
    }
}

/// A statement as `scope` may see it: a partner key sees its own partner's, once approved.
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Statement, ApiError> {
    let s: Option<Statement> = st::table.find(id).select(Statement::as_select()).first(conn).optional()?;
    s.filter(|s| match scope {
        Scope::All => true,
        Scope::Partner(own) => own == &s.partner_id && s.status != StatementStatus::Draft,
    })
    .ok_or_else(not_found)
}

/// Newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &StatementFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Statement>, ApiError> {
    let mut q = st::table.into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(st::partner_id.eq(own.clone()).and(st::status.ne(StatementStatus::Draft)));
    }
    if let Some(v) = &filter.program_id {
        q = q.filter(st::program_id.eq(v.to_lowercase()));
    }
    if let Some(v) = &filter.partner_id {
        q = q.filter(st::partner_id.eq(v.to_lowercase()));
    }
    if let Some(v) = filter.status {
        q = q.filter(st::status.eq(v));
    }
    if let Some(v) = filter.kind {
        q = q.filter(st::kind.eq(v));
    }
    if let Some(after) = &page.after {
        q = q.filter(st::id.lt(after[0].clone()));
    }
    Ok(q.order(st::id.desc()).limit(page.limit + 1).select(Statement::as_select()).load(conn)?)
}

fn moved(conn: &mut DbConn, current: &Statement, next: &Statement) -> Result<(), ApiError> {
    let updated = diesel::update(st::table.filter(st::id.eq(&current.id).and(st::version.eq(current.version))))
        .set((
            st::status.eq(next.status),
            st::approved_at.eq(next.approved_at.map(|t| t.naive_utc())),
            st::paid_at.eq(next.paid_at.map(|t| t.naive_utc())),
            st::cost_record_id.eq(&next.cost_record_id),
            st::version.eq(next.version),
            st::updated_at.eq(next.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    Ok(())
}

fn transition(current: &Statement, to: StatementStatus) -> Result<(), ApiError> {
    let allowed = matches!(
        (current.status, to),
        (StatementStatus::Draft, StatementStatus::Approved) | (StatementStatus::Approved, StatementStatus::Paid)
    );
    if allowed {
        Ok(())
    } else {
        Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!("a statement moves draft → approved → paid, not {} → {to}", current.status),
        ))
    }
}

/// Approves a draft: from now on it never changes. Sends `incentive.statement_approved`.
pub fn approve(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<Statement, ApiError> {
    let program_id: String = st::table.find(id).select(st::program_id).first(conn).optional()?.ok_or_else(not_found)?;
    programs::lock(conn, &program_id)?;
    let current = get(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    transition(&current, StatementStatus::Approved)?;
    let now = db::now().and_utc();
    let next = Statement {
        status: StatementStatus::Approved,
        approved_at: Some(now),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    moved(conn, &current, &next)?;
    audit::record(conn, actor, "approve", "incentive_statement", id, audit::diff(Some(&current), Some(&next)))?;
    let program = programs::load(conn, &next.program_id)?;
    let partner_name: String = p::table.find(&next.partner_id).select(p::name).first(conn)?;
    let event = StatementApproved { statement: next.clone(), program_name: program.name, partner_name };
    events::emit(conn, &DomainEvent::IncentiveStatementApproved(event))?;
    Ok(next)
}

/// Marks an approved statement paid; a positive total becomes a `rebate` cost record of the
/// statement's last month, so the scorecard's cost side includes it.
pub fn pay(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<Statement, ApiError> {
    let current = get(conn, id, &Scope::All)?;
    etag::check(expected, current.version)?;
    transition(&current, StatementStatus::Paid)?;
    let now = db::now().and_utc();
    let mut cost_record_id = None;
    if current.total_minor > 0 {
        let record = CostRecord {
            id: db::new_id(),
            partner_id: current.partner_id.clone(),
            period: current.to.clone(),
            category: CostCategory::Rebate,
            amount_minor: current.total_minor,
            currency: current.currency.clone(),
            notes: Some(format!("返点结算单 rebate statement {} ({}–{})", current.id, current.from, current.to)),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(cr::table).values(record.clone()).execute(conn)?;
        audit::record(
            conn,
            actor,
            "create",
            "cost_record",
            &record.id,
            audit::diff(None::<&CostRecord>, Some(&record)),
        )?;
        cost_record_id = Some(record.id);
    }
    let next = Statement {
        status: StatementStatus::Paid,
        paid_at: Some(now),
        cost_record_id,
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    moved(conn, &current, &next)?;
    audit::record(conn, actor, "pay", "incentive_statement", id, audit::diff(Some(&current), Some(&next)))?;
    Ok(next)
}

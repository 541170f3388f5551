//! Deal registrations in the database. Clash lookups are indexed queries on the account columns
//! (`account_key`, `credit_code`, `key_account_id`) narrowed by the duplicate rule in Rust.
//! Approvals take a constant advisory lock on Postgres (SQLite has one writer), so two
//! concurrent approvals of clashing registrations see each other: exactly one wins.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use super::cases::{self, ConflictCause, ConflictKind, ConflictSeverity, Detected, Link, LinkKind};
use super::events::{DealDecided, DealSubmitted};
use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::db::schema::{
    deal_registration_lines as drl, deal_registrations as dr, key_account_assignments as kaa,
    key_account_primary_lines as pl, key_accounts as ka, partners as p,
};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::validation::comparison_key;

/// The advisory lock space of deal approvals on Postgres ("deal" in ASCII).
const APPROVAL_LOCK: i32 = 0x6465_616c;

pub fn not_found() -> ApiError {
    ApiError::not_found(Code::DealRegistrationNotFound)
}

fn load(conn: &mut DbConn, id: &str) -> Result<DealRow, ApiError> {
    dr::table.find(id).select(DealRow::as_select()).first(conn).optional()?.ok_or_else(not_found)
}

fn live_statuses() -> [DealStatus; 2] {
    [DealStatus::Submitted, DealStatus::Approved]
}

/// Live registrations of other partners that may name the same account as `row` (indexed on
/// each account column), before the duplicate rule narrows them.
fn candidates(conn: &mut DbConn, row: &DealRow) -> Result<Vec<DealRow>, ApiError> {
    let base = || {
        dr::table
            .filter(dr::status.eq_any(live_statuses()))
            .filter(dr::id.ne(row.id.clone()))
            .filter(dr::partner_id.ne(row.partner_id.clone()))
            .select(DealRow::as_select())
            .into_boxed()
    };
    let mut found: BTreeMap<String, DealRow> = BTreeMap::new();
    for r in base().filter(dr::account_key.eq(row.account_key.clone())).load(conn)? {
        found.insert(r.id.clone(), r);
    }
    if let Some(code) = &row.credit_code {
        for r in base().filter(dr::credit_code.eq(code.clone())).load(conn)? {
            found.insert(r.id.clone(), r);
        }
    }
    if let Some(ka_id) = &row.key_account_id {
        for r in base().filter(dr::key_account_id.eq(ka_id.clone())).load(conn)? {
            found.insert(r.id.clone(), r);
        }
    }
    Ok(found.into_values().collect())
}

/// The registrations `row` clashes with at `now`, earliest submitted first.
fn clashing(conn: &mut DbConn, row: &DealRow, now: DateTime<Utc>) -> Result<Vec<DealRow>, ApiError> {
    let mine = ClashFacts::of(row);
    let mut found: Vec<DealRow> =
        candidates(conn, row)?.into_iter().filter(|o| clashes(&mine, &ClashFacts::of(o), now)).collect();
    found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(found)
}

fn submitted_before(a: &DealRow, b: &DealRow) -> bool {
    (a.created_at, &a.id) < (b.created_at, &b.id)
}

/// The clash of `row` with the registrations before it (`earlier`, non-empty, earliest first)
/// as a conflict to open: fingerprint `deal_clash:{earliest}`, linking every registration.
fn deal_clash(row: &DealRow, earlier: &[DealRow]) -> Detected {
    let mut all: Vec<&DealRow> = earlier.iter().collect();
    all.push(row);
    let earliest = earlier.first().map(|r| r.id.as_str()).unwrap_or(&row.id);
    let mut lines: Vec<String> = Vec::new();
    for other in earlier {
        for line in shared_lines(&row.product_lines, &other.product_lines) {
            if !lines.iter().any(|l| comparison_key(l) == comparison_key(&line)) {
                lines.push(line);
            }
        }
    }
    let mut parties: Vec<String> = Vec::new();
    for r in &all {
        if !parties.contains(&r.partner_id) {
            parties.push(r.partner_id.clone());
        }
    }
    Detected {
        kind: ConflictKind::DealClash,
        cause: ConflictCause::CompetitivePressure,
        severity: ConflictSeverity::Medium,
        fingerprint: format!("deal_clash:{earliest}"),
        party_partner_ids: parties.clone(),
        involves_direct: false,
        key_account_id: all.iter().find_map(|r| r.key_account_id.clone()),
        territories: Vec::new(),
        product_lines: lines.clone(),
        summary: format!(
            "商机报备冲突：{}（{}）已由 {} 个渠道报备 Deal registration clash: {} ({}) is registered by {} channels",
            row.account_name,
            lines.join("、"),
            parties.len(),
            row.account_name,
            lines.join(", "),
            parties.len()
        ),
        links: all
            .iter()
            .map(|r| Link {
                kind: LinkKind::DealRegistration,
                ref_id: r.id.clone(),
                partner_id: Some(r.partner_id.clone()),
            })
            .collect(),
    }
}

/// The primary partners of `row`'s key account for its product lines that are not its own
/// partner: (partner id, is direct, the lines).
fn other_primaries(conn: &mut DbConn, row: &DealRow) -> Result<Vec<(String, bool, Vec<String>)>, ApiError> {
    let Some(ka_id) = &row.key_account_id else { return Ok(Vec::new()) };
    let held: Vec<(String, String, String)> = pl::table
        .inner_join(kaa::table.on(kaa::id.eq(pl::assignment_id)))
        .inner_join(p::table.on(p::id.eq(kaa::partner_id)))
        .filter(pl::key_account_id.eq(ka_id))
        .select((pl::product_line, kaa::partner_id, p::channel_type))
        .load(conn)?;
    let keys: Vec<String> = row.product_lines.iter().map(|l| comparison_key(l)).collect();
    let mut by_partner: BTreeMap<String, (bool, Vec<String>)> = BTreeMap::new();
    for (line, partner, channel) in held {
        if partner == row.partner_id || !keys.contains(&comparison_key(&line)) {
            continue;
        }
        let entry = by_partner.entry(partner).or_insert((channel == "direct", Vec::new()));
        entry.1.push(line);
    }
    Ok(by_partner.into_iter().map(|(id, (direct, lines))| (id, direct, lines)).collect())
}

/// The clash of `row` with its key account's current primaries: fingerprint
/// `deal_vs_primary:{id}`; `involves_direct` when a primary is our direct channel.
fn deal_vs_primary(row: &DealRow, primaries: &[(String, bool, Vec<String>)]) -> Option<Detected> {
    if primaries.is_empty() {
        return None;
    }
    let direct = primaries.iter().any(|(_, d, _)| *d);
    let mut parties = vec![row.partner_id.clone()];
    let mut lines: Vec<String> = Vec::new();
    for (id, _, ls) in primaries {
        parties.push(id.clone());
        for l in ls {
            if !lines.contains(l) {
                lines.push(l.clone());
            }
        }
    }
    let (zh, en) = if direct { ("直销渠道", "our direct channel") } else { ("其他伙伴", "another partner") };
    Some(Detected {
        kind: ConflictKind::DealClash,
        cause: ConflictCause::CompetitivePressure,
        severity: ConflictSeverity::Medium,
        fingerprint: format!("deal_vs_primary:{}", row.id),
        party_partner_ids: parties,
        involves_direct: direct,
        key_account_id: row.key_account_id.clone(),
        territories: Vec::new(),
        product_lines: lines.clone(),
        summary: format!(
            "商机报备与客户主责冲突：{}（{}）的主责是{} Deal registration vs the account's primary: {} ({}) is led by {}",
            row.account_name,
            lines.join("、"),
            zh,
            row.account_name,
            lines.join(", "),
            en
        ),
        links: vec![Link {
            kind: LinkKind::DealRegistration,
            ref_id: row.id.clone(),
            partner_id: Some(row.partner_id.clone()),
        }],
    })
}

/// Every current clash among live registrations (and with key accounts' primaries) on `today`,
/// built exactly as at creation (same fingerprints), for the conflicts scan.
pub fn detect_clashes(conn: &mut DbConn, today: NaiveDate) -> Result<Vec<Detected>, ApiError> {
    let now = today.and_time(chrono::NaiveTime::MIN).and_utc();
    let live: Vec<DealRow> = dr::table
        .filter(dr::status.eq_any(live_statuses()))
        .order((dr::created_at.asc(), dr::id.asc()))
        .select(DealRow::as_select())
        .load(conn)?;
    let live: Vec<DealRow> = live.into_iter().filter(|r| ClashFacts::of(r).is_live(now)).collect();
    let mut by_fingerprint: BTreeMap<String, Detected> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (i, row) in live.iter().enumerate() {
        let mine = ClashFacts::of(row);
        let earlier: Vec<DealRow> =
            live[..i].iter().filter(|o| clashes(&mine, &ClashFacts::of(o), now)).cloned().collect();
        if !earlier.is_empty() {
            let found = deal_clash(row, &earlier);
            match by_fingerprint.get_mut(&found.fingerprint) {
                Some(existing) => merge(existing, found),
                None => {
                    order.push(found.fingerprint.clone());
                    by_fingerprint.insert(found.fingerprint.clone(), found);
                }
            }
        }
        if let Some(found) = deal_vs_primary(row, &other_primaries(conn, row)?) {
            order.push(found.fingerprint.clone());
            by_fingerprint.insert(found.fingerprint.clone(), found);
        }
    }
    Ok(order.into_iter().filter_map(|f| by_fingerprint.remove(&f)).collect())
}

/// Two detections of one fingerprint (a group of three or more registrations) as one.
fn merge(into: &mut Detected, other: Detected) {
    for id in other.party_partner_ids {
        if !into.party_partner_ids.contains(&id) {
            into.party_partner_ids.push(id);
        }
    }
    for line in other.product_lines {
        if !into.product_lines.contains(&line) {
            into.product_lines.push(line);
        }
    }
    for link in other.links {
        if !into.links.iter().any(|l| l.ref_id == link.ref_id) {
            into.links.push(link);
        }
    }
    if into.key_account_id.is_none() {
        into.key_account_id = other.key_account_id;
    }
    into.summary = other.summary;
}

/// The registration as the API shows it to `scope`, with its current clashes.
fn view(conn: &mut DbConn, row: DealRow, scope: &Scope) -> Result<DealRegistration, ApiError> {
    let now = db::now().and_utc();
    let ids: Vec<String> = clashing(conn, &row, now)?.into_iter().map(|r| r.id).collect();
    Ok(DealRegistration::from(row).with_clash(ids, matches!(scope, Scope::Partner(_))))
}

/// A registration as `scope` may see it: a partner key sees its own partner's only.
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<DealRegistration, ApiError> {
    let row = load(conn, id)?;
    if !scope.allows(&row.partner_id) {
        return Err(not_found());
    }
    view(conn, row, scope)
}

/// Newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &DealFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<DealRegistration>, ApiError> {
    let mut q = dr::table.into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(dr::partner_id.eq(own.clone()));
    }
    if let Some(v) = &filter.partner_id {
        q = q.filter(dr::partner_id.eq(v.to_lowercase()));
    }
    if let Some(v) = &filter.key_account_id {
        q = q.filter(dr::key_account_id.eq(v.to_lowercase()));
    }
    if let Some(v) = filter.status {
        q = q.filter(dr::status.eq(v));
    }
    if let Some(line) = &filter.product_line {
        let ids = drl::table.filter(drl::line_key.eq(comparison_key(line))).select(drl::registration_id);
        q = q.filter(dr::id.eq_any(ids));
    }
    if let Some(after) = &page.after {
        q = q.filter(dr::id.lt(after[0].clone()));
    }
    let rows: Vec<DealRow> = q.order(dr::id.desc()).limit(page.limit + 1).select(DealRow::as_select()).load(conn)?;
    rows.into_iter().map(|r| view(conn, r, scope)).collect()
}

fn partner_name(conn: &mut DbConn, partner_id: &str) -> Result<String, ApiError> {
    Ok(p::table.find(partner_id).select(p::name).first(conn)?)
}

/// What creating a registration found: the registration as the caller sees it.
pub struct Created {
    pub registration: DealRegistration,
    /// The conflict cases it opened or joined.
    pub case_ids: Vec<String>,
}

/// Registers a deal for `partner_id`. A registration that clashes is accepted with
/// `conflicts_with` (a partner key: `clash` only) and opens or joins a conflict case; so does a
/// clash with the key account's primary partner. Sends `deal.submitted`.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: &DealRegistrationCreate,
    partner_id: &str,
    scope: &Scope,
) -> Result<Created, ApiError> {
    let partner: Option<String> =
        p::table.find(partner_id).filter(p::archived_at.is_null()).select(p::name).first(conn).optional()?;
    let partner = partner.ok_or_else(|| ApiError::field("partner_id", "names no current partner"))?;
    let (key_account_id, account_name, prospect) = match (&input.key_account_id, &input.prospect) {
        (Some(id), _) => {
            let id = id.to_lowercase();
            let name: Option<String> =
                ka::table.find(&id).filter(ka::archived_at.is_null()).select(ka::name).first(conn).optional()?;
            let name = name.ok_or_else(|| ApiError::field("key_account_id", "names no current key account"))?;
            (Some(id), name, None)
        }
        (None, Some(prospect)) => (None, prospect.name.trim().to_string(), Some(prospect.clone())),
        (None, None) => {
            return Err(ApiError::field("key_account_id", "give exactly one of key_account_id and prospect"))
        }
    };
    let now = db::now().and_utc();
    let row = DealRow {
        id: db::new_id(),
        partner_id: partner_id.to_string(),
        key_account_id,
        prospect_name: prospect.as_ref().map(|_| account_name.clone()),
        credit_code: prospect.as_ref().and_then(|p| p.credit_code.clone()),
        prospect_region: prospect.as_ref().and_then(|p| p.region.as_ref().map(|r| r.trim().to_string())),
        account_key: account_key(&account_name),
        account_name,
        product_lines: input.product_lines.iter().map(|l| l.trim().to_string()).collect(),
        estimated_value_minor: input.estimated_value_minor,
        currency: input.currency.clone(),
        expected_close_on: input.expected_close_on,
        description: input.description.clone(),
        status: DealStatus::Submitted,
        decision_reason: None,
        decided_by: None,
        decided_at: None,
        protected_until: None,
        extension_reason: None,
        closed_at: None,
        submitted_by: actor.name.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(dr::table).values(row.clone()).execute(conn)?;
    let keys: BTreeSet<String> = row.product_lines.iter().map(|l| comparison_key(l)).collect();
    for key in keys {
        diesel::insert_into(drl::table)
            .values((drl::registration_id.eq(&row.id), drl::line_key.eq(key)))
            .execute(conn)?;
    }
    let staff_view = DealRegistration::from(row.clone());
    audit::record(
        conn,
        actor,
        "create",
        "deal_registration",
        &row.id,
        audit::diff(None::<&DealRegistration>, Some(&staff_view)),
    )?;
    let earlier = clashing(conn, &row, now)?;
    let mut case_ids = Vec::new();
    if !earlier.is_empty() {
        case_ids.extend(cases::open(conn, actor, &deal_clash(&row, &earlier))?);
    }
    if let Some(found) = deal_vs_primary(&row, &other_primaries(conn, &row)?) {
        case_ids.extend(cases::open(conn, actor, &found)?);
    }
    let ids: Vec<String> = earlier.into_iter().map(|r| r.id).collect();
    let event =
        DealSubmitted { registration: staff_view.clone().with_clash(ids.clone(), false), partner_name: partner };
    events::emit(conn, &DomainEvent::DealSubmitted(event))?;
    let registration = staff_view.with_clash(ids, matches!(scope, Scope::Partner(_)));
    Ok(Created { registration, case_ids })
}

fn transition(current: &DealRow, to: DealStatus) -> Result<(), ApiError> {
    if current.status.can_move_to(to) {
        Ok(())
    } else {
        Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!(
                "a registration moves submitted → approved | rejected, approved → won | lost | expired; not {} → {to}",
                current.status
            ),
        ))
    }
}

/// Writes the moved registration (compare-and-set on the version) and its audit entry.
fn save(conn: &mut DbConn, actor: &Actor, action: &str, current: &DealRow, next: &DealRow) -> Result<(), ApiError> {
    let updated = diesel::update(dr::table.filter(dr::id.eq(&current.id).and(dr::version.eq(current.version))))
        .set((
            dr::status.eq(next.status),
            dr::decision_reason.eq(&next.decision_reason),
            dr::decided_by.eq(&next.decided_by),
            dr::decided_at.eq(next.decided_at.map(|t| t.naive_utc())),
            dr::protected_until.eq(next.protected_until.map(|t| t.naive_utc())),
            dr::extension_reason.eq(&next.extension_reason),
            dr::closed_at.eq(next.closed_at.map(|t| t.naive_utc())),
            dr::version.eq(next.version),
            dr::updated_at.eq(next.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    let (old, new) = (DealRegistration::from(current.clone()), DealRegistration::from(next.clone()));
    audit::record(conn, actor, action, "deal_registration", &current.id, audit::diff(Some(&old), Some(&new)))
}

fn for_move(conn: &mut DbConn, id: &str, expected: &Option<Vec<i64>>, scope: &Scope) -> Result<DealRow, ApiError> {
    let current = load(conn, id)?;
    if !scope.allows(&current.partner_id) {
        return Err(not_found());
    }
    etag::check(expected, current.version)?;
    Ok(current)
}

fn decided(conn: &mut DbConn, row: &DealRow) -> Result<DealRegistration, ApiError> {
    let partner_name = partner_name(conn, &row.partner_id)?;
    let now = db::now().and_utc();
    let ids: Vec<String> = clashing(conn, row, now)?.into_iter().map(|r| r.id).collect();
    let registration = DealRegistration::from(row.clone()).with_clash(ids, false);
    events::emit(conn, &DomainEvent::DealDecided(DealDecided { registration: registration.clone(), partner_name }))?;
    Ok(registration)
}

/// Serialises deal approvals on Postgres (SQLite has one writer).
fn lock_approvals(conn: &mut DbConn) -> Result<(), ApiError> {
    Ok(db::take_turn(conn, APPROVAL_LOCK, "deal_approval")?)
}

/// Approves a submitted registration, protecting it for `protection_days`. 409 `deal_conflict`
/// when a clashing registration is already approved, or an earlier-submitted clashing one is
/// still submitted (unless `override_earlier`, recorded in the case). Sends `deal.decided`.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &DealApprove,
    protection_days: i64,
) -> Result<DealRegistration, ApiError> {
    lock_approvals(conn)?;
    let current = for_move(conn, id, expected, &Scope::All)?;
    transition(&current, DealStatus::Approved)?;
    let now = db::now().and_utc();
    let clash = clashing(conn, &current, now)?;
    if let Some(approved) = clash.iter().find(|r| r.status == DealStatus::Approved) {
        return Err(ApiError::conflict(
            Code::DealConflict,
            format!("a clashing registration is already approved and protected: {}", approved.id),
        ));
    }
    let earlier: Vec<DealRow> = clash.into_iter().filter(|r| submitted_before(r, &current)).collect();
    if let Some(first) = earlier.first() {
        if !input.override_earlier {
            return Err(ApiError::conflict(
                Code::DealConflict,
                format!(
                    "an earlier-submitted clashing registration is still submitted and wins ties: {}; decide it first, or approve with override_earlier and a reason",
                    first.id
                ),
            ));
        }
        let reason = input.reason.as_deref().unwrap_or_default().trim();
        let case = cases::open(conn, actor, &deal_clash(&current, &earlier))?;
        if let Some(case_id) = case {
            let ids: Vec<&str> = earlier.iter().map(|r| r.id.as_str()).collect();
            let note = format!(
                "经理改判：批准 {} 而非更早报备的 {}。理由：{reason} Manager override: approved {} over the earlier {}. Reason: {reason}",
                current.id,
                ids.join("、"),
                current.id,
                ids.join(", ")
            );
            cases::note(conn, actor, &case_id, &note)?;
        }
    }
    let next = DealRow {
        status: DealStatus::Approved,
        decision_reason: input.reason.as_ref().map(|r| r.trim().to_string()),
        decided_by: Some(actor.name.clone()),
        decided_at: Some(now),
        protected_until: Some(now + Duration::days(protection_days)),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "approve", &current, &next)?;
    decided(conn, &next)
}

/// Rejects a submitted registration, saying why. Sends `deal.decided`.
pub fn reject(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &DealReject,
) -> Result<DealRegistration, ApiError> {
    let current = for_move(conn, id, expected, &Scope::All)?;
    transition(&current, DealStatus::Rejected)?;
    let now = db::now().and_utc();
    let next = DealRow {
        status: DealStatus::Rejected,
        decision_reason: Some(input.reason.trim().to_string()),
        decided_by: Some(actor.name.clone()),
        decided_at: Some(now),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "reject", &current, &next)?;
    decided(conn, &next)
}

/// Closes an approved registration as won or lost. Sends `deal.decided`.
pub fn close(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    to: DealStatus,
    scope: &Scope,
) -> Result<DealRegistration, ApiError> {
    let current = for_move(conn, id, expected, scope)?;
    transition(&current, to)?;
    let now = db::now().and_utc();
    let next =
        DealRow { status: to, closed_at: Some(now), version: current.version + 1, updated_at: now, ..current.clone() };
    save(conn, actor, &to.to_string(), &current, &next)?;
    let shown = decided(conn, &next)?;
    Ok(shown.with_clash(Vec::new(), matches!(scope, Scope::Partner(_))))
}

/// Pushes an approved registration's protection by `days`, saying why.
pub fn extend(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &DealExtend,
) -> Result<DealRegistration, ApiError> {
    let current = for_move(conn, id, expected, &Scope::All)?;
    if current.status != DealStatus::Approved {
        return Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!("only an approved registration's protection is extended; this one is {}", current.status),
        ));
    }
    let now = db::now().and_utc();
    let from = current.protected_until.unwrap_or(now);
    let next = DealRow {
        protected_until: Some(from + Duration::days(input.days)),
        extension_reason: Some(input.reason.trim().to_string()),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "extend", &current, &next)?;
    view(conn, next, &Scope::All)
}

/// Approved registrations whose protection ended by `now`, claimed and moved to `expired`
/// exactly once (the conditional update), each with `deal.decided`.
pub fn expire(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let actor = Actor::system("deal-expiry");
    let due: Vec<DealRow> = dr::table
        .filter(dr::status.eq(DealStatus::Approved).and(dr::protected_until.le(now.naive_utc())))
        .select(DealRow::as_select())
        .load(conn)?;
    let mut done = 0;
    for current in due {
        let claimed = diesel::update(dr::table.filter(dr::id.eq(&current.id).and(dr::status.eq(DealStatus::Approved))))
            .set((
                dr::status.eq(DealStatus::Expired),
                dr::closed_at.eq(now.naive_utc()),
                dr::version.eq(current.version + 1),
                dr::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        if claimed != 1 {
            continue;
        }
        let next = DealRow {
            status: DealStatus::Expired,
            closed_at: Some(now),
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        let (old, new) = (DealRegistration::from(current.clone()), DealRegistration::from(next.clone()));
        audit::record(conn, &actor, "expire", "deal_registration", &current.id, audit::diff(Some(&old), Some(&new)))?;
        let partner_name = partner_name(conn, &next.partner_id)?;
        let event = DomainEvent::DealDecided(DealDecided { registration: new, partner_name });
        events::emit_once(conn, &format!("deal_expired:{}", next.id), &event)?;
        done += 1;
    }
    Ok(done)
}

/// `deal.expiring` once per registration and protection end, 7 days before it.
pub fn warn_expiring(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let soon: Vec<DealRow> = dr::table
        .filter(dr::status.eq(DealStatus::Approved))
        .filter(dr::protected_until.gt(now.naive_utc()))
        .filter(dr::protected_until.le((now + Duration::days(7)).naive_utc()))
        .select(DealRow::as_select())
        .load(conn)?;
    let mut done = 0;
    for row in soon {
        let Some(until) = row.protected_until else { continue };
        let key = format!("deal_expiring:{}:{}", row.id, until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let partner_name = partner_name(conn, &row.partner_id)?;
        let days_left = (until - now).num_days().max(0);
        let event = DomainEvent::DealExpiring(super::events::DealExpiring {
            registration: DealRegistration::from(row),
            partner_name,
            days_left,
        });
        if events::emit_once(conn, &key, &event)?.is_some() {
            done += 1;
        }
    }
    Ok(done)
}

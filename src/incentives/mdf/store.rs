//! Marketing support requests and budgets in the database. Every move that commits money takes
//! the program's row lock first (`programs::lock`: `FOR UPDATE` on Postgres; SQLite has one
//! writer), so two concurrent approvals see each other and can never overspend a budget.

use std::collections::BTreeMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::bulletins::model::resolve_audience;
use crate::bulletins::store::load_candidates;
use crate::contracts::render::money;
use crate::db::schema::{cost_records as cr, mdf_requests as mr, partners as p, performance_records as pr};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::incentives::events::{MdfRequestDecided, MdfRequestSubmitted};
use crate::incentives::programs::model::{MarketingSupportRules, Program, ProgramStatus, Rules};
use crate::incentives::programs::store as programs;
use crate::performance::costs::model::{CostCategory, CostRecord};

pub fn not_found() -> ApiError {
    ApiError::not_found(Code::MdfRequestNotFound)
}

/// The program's marketing support rules, or 409 when it is another kind of program.
fn mdf_rules(program: &Program) -> Result<&MarketingSupportRules, ApiError> {
    match &program.rules {
        Rules::MarketingSupport(r) => Ok(r),
        _ => Err(ApiError::conflict(
            Code::IncentiveProgramNotMarketingSupport,
            format!(
                "the program is a {} program: budgets and requests belong to marketing_support programs",
                program.kind
            ),
        )),
    }
}

/// The program's allocation for each partner: its fixed amount, or its rate of the partner's
/// whole-business revenue (in the program's currency) over the budget window.
fn allocations(
    conn: &mut DbConn,
    program: &Program,
    rules: &MarketingSupportRules,
    partner_ids: &[String],
) -> Result<BTreeMap<String, i64>, ApiError> {
    if let Some(fixed) = rules.budget.fixed_minor {
        return Ok(partner_ids.iter().map(|id| (id.clone(), fixed)).collect());
    }
    let (Some(rate), Some(window)) = (rules.budget.rate_bp, &rules.budget.window) else {
        return Err(ApiError::internal("a stored marketing support budget has neither a fixed amount nor a rate"));
    };
    let mut revenue: BTreeMap<String, i64> = BTreeMap::new();
    for chunk in partner_ids.chunks(db::INSERT_MANY_CHUNK) {
        // SUM of a BIGINT is NUMERIC on Postgres: cast back so both backends read an i64.
        let rows: Vec<(String, i64)> = pr::table
            .filter(pr::partner_id.eq_any(chunk))
            .filter(pr::period.ge(&window.from).and(pr::period.le(&window.to)))
            .filter(pr::line_key.eq("").and(pr::currency.eq(&program.currency)))
            .group_by(pr::partner_id)
            .select((pr::partner_id, sql::<BigInt>("CAST(COALESCE(SUM(revenue_minor), 0) AS BIGINT)")))
            .load(conn)?;
        revenue.extend(rows);
    }
    Ok(partner_ids
        .iter()
        .map(|id| (id.clone(), rate_allocation(revenue.get(id).copied().unwrap_or(0), rate)))
        .collect())
}

/// What the partners' requests in the program hold of their budgets.
fn held(conn: &mut DbConn, program_id: &str, partner_ids: &[String]) -> Result<BTreeMap<String, Held>, ApiError> {
    let mut out: BTreeMap<String, Held> = BTreeMap::new();
    for chunk in partner_ids.chunks(db::INSERT_MANY_CHUNK) {
        let rows: Vec<(String, String, i64, i64)> = mr::table
            .filter(mr::program_id.eq(program_id).and(mr::partner_id.eq_any(chunk)))
            .group_by((mr::partner_id, mr::status))
            .select((
                mr::partner_id,
                mr::status,
                sql::<BigInt>("CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT)"),
                sql::<BigInt>("CAST(COALESCE(SUM(COALESCE(actual_minor, amount_minor)), 0) AS BIGINT)"),
            ))
            .load(conn)?;
        for (partner_id, status, amount, actual) in rows {
            out.entry(partner_id).or_default().add(MdfStatus::from_db(&status)?, amount, Some(actual));
        }
    }
    Ok(out)
}

/// One partner's budget in the program.
fn budget_of(conn: &mut DbConn, program: &Program, partner_id: &str) -> Result<Budget, ApiError> {
    let rules = mdf_rules(program)?;
    let ids = [partner_id.to_string()];
    let allocated = allocations(conn, program, rules, &ids)?.get(partner_id).copied().unwrap_or(0);
    let held = held(conn, &program.id, &ids)?.remove(partner_id).unwrap_or_default();
    let name: String = p::table.find(partner_id).select(p::name).first(conn)?;
    Ok(held.budget(partner_id.to_string(), name, program.currency.clone(), allocated))
}

/// A page of the program's budgets in partner id order: every partner the audience addresses
/// now, and any other partner that still has requests in it. A partner key sees its own row.
pub fn budgets(
    conn: &mut DbConn,
    program_id: &str,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Budget>, ApiError> {
    let program = programs::get(conn, program_id, scope)?;
    let rules = mdf_rules(&program)?.clone();
    let mut ids: Vec<String> = match scope {
        Scope::Partner(own) => vec![own.clone()],
        Scope::All => {
            let mut ids = resolve_audience(&program.audience, &load_candidates(conn, &program.audience)?);
            let requested: Vec<String> =
                mr::table.filter(mr::program_id.eq(&program.id)).select(mr::partner_id).distinct().load(conn)?;
            ids.extend(requested);
            ids.sort();
            ids.dedup();
            ids
        }
    };
    if let Some(after) = &page.after {
        ids.retain(|id| id > &after[0]);
    }
    ids.truncate(usize::try_from(page.limit + 1).unwrap_or(usize::MAX));
    let allocated = allocations(conn, &program, &rules, &ids)?;
    let mut held = held(conn, &program.id, &ids)?;
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for chunk in ids.chunks(db::INSERT_MANY_CHUNK) {
        let rows: Vec<(String, String)> = p::table.filter(p::id.eq_any(chunk)).select((p::id, p::name)).load(conn)?;
        names.extend(rows);
    }
    Ok(ids
        .into_iter()
        .map(|id| {
            let h = held.remove(&id).unwrap_or_default();
            let name = names.remove(&id).unwrap_or_default();
            let allocated = allocated.get(&id).copied().unwrap_or(0);
            h.budget(id, name, program.currency.clone(), allocated)
        })
        .collect())
}

fn load(conn: &mut DbConn, id: &str) -> Result<MdfRequest, ApiError> {
    mr::table.find(id).select(MdfRequest::as_select()).first(conn).optional()?.ok_or_else(not_found)
}

/// A request as `scope` may see it: a partner key sees its own partner's only.
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<MdfRequest, ApiError> {
    let found = load(conn, id)?;
    if scope.allows(&found.partner_id) {
        Ok(found)
    } else {
        Err(not_found())
    }
}

/// Newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &MdfFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<MdfRequest>, ApiError> {
    let mut q = mr::table.into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(mr::partner_id.eq(own.clone()));
    }
    if let Some(v) = &filter.program_id {
        q = q.filter(mr::program_id.eq(v.to_lowercase()));
    }
    if let Some(v) = &filter.partner_id {
        q = q.filter(mr::partner_id.eq(v.to_lowercase()));
    }
    if let Some(v) = filter.status {
        q = q.filter(mr::status.eq(v));
    }
    if let Some(v) = filter.activity {
        q = q.filter(mr::activity.eq(v));
    }
    if let Some(after) = &page.after {
        q = q.filter(mr::id.lt(after[0].clone()));
    }
    Ok(q.order(mr::id.desc()).limit(page.limit + 1).select(MdfRequest::as_select()).load(conn)?)
}

fn names(conn: &mut DbConn, request: &MdfRequest) -> Result<(String, String), ApiError> {
    let program = programs::load(conn, &request.program_id)?;
    let partner: String = p::table.find(&request.partner_id).select(p::name).first(conn)?;
    Ok((program.name, partner))
}

/// Submits a request for `partner_id` against an active marketing_support program that
/// addresses the partner. Sends `mdf.request_submitted`.
pub fn submit(
    conn: &mut DbConn,
    actor: &Actor,
    input: &MdfRequestCreate,
    partner_id: &str,
) -> Result<MdfRequest, ApiError> {
    let program_id = input.program_id.to_lowercase();
    let program = match programs::load(conn, &program_id) {
        Err(e) if e.code == Code::IncentiveProgramNotFound => {
            return Err(ApiError::field("program_id", "names no incentive program"));
        }
        other => other?,
    };
    mdf_rules(&program)?;
    if program.status != ProgramStatus::Active {
        return Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!("the program is {}: requests are taken while it is active", program.status),
        ));
    }
    let addressed = programs::candidate(conn, partner_id)?.is_some_and(|c| programs::addresses(&program.audience, &c));
    if !addressed {
        return Err(ApiError::field(
            "partner_id",
            "is not a current partner the program addresses: its audience decides who has a budget",
        ));
    }
    let now = db::now().and_utc();
    let request = MdfRequest {
        id: db::new_id(),
        program_id: program.id.clone(),
        partner_id: partner_id.to_string(),
        activity: input.activity,
        title: input.title.trim().to_string(),
        description: input.description.clone(),
        planned_on: input.planned_on,
        amount_minor: input.amount_minor,
        currency: program.currency.clone(),
        status: MdfStatus::Submitted,
        decision_reason: None,
        decided_by: None,
        decided_at: None,
        actual_minor: None,
        proof_urls: Vec::new(),
        claimed_at: None,
        claim_rejection_reason: None,
        paid_at: None,
        cost_record_id: None,
        submitted_by: actor.name.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(mr::table).values(request.clone()).execute(conn)?;
    audit::record(conn, actor, "create", "mdf_request", &request.id, audit::diff(None::<&MdfRequest>, Some(&request)))?;
    let partner_name: String = p::table.find(partner_id).select(p::name).first(conn)?;
    let event = MdfRequestSubmitted { request: request.clone(), program_name: program.name, partner_name };
    events::emit(conn, &DomainEvent::MdfRequestSubmitted(event))?;
    Ok(request)
}

fn transition(current: &MdfRequest, to: MdfStatus) -> Result<(), ApiError> {
    if current.status.can_move_to(to) {
        Ok(())
    } else {
        Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!(
                "a request moves submitted → approved | rejected, approved → claimed → paid | claim_rejected; not {} → {to}",
                current.status
            ),
        ))
    }
}

/// Writes the moved request (compare-and-set on the version) and its audit entry.
fn save(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    current: &MdfRequest,
    next: &MdfRequest,
) -> Result<(), ApiError> {
    let updated = diesel::update(mr::table.filter(mr::id.eq(&current.id).and(mr::version.eq(current.version))))
        .set((
            mr::status.eq(next.status),
            mr::decision_reason.eq(&next.decision_reason),
            mr::decided_by.eq(&next.decided_by),
            mr::decided_at.eq(next.decided_at.map(|t| t.naive_utc())),
            mr::actual_minor.eq(next.actual_minor),
            mr::proof_urls.eq(crate::db::json::encode(&next.proof_urls)),
            mr::claimed_at.eq(next.claimed_at.map(|t| t.naive_utc())),
            mr::claim_rejection_reason.eq(&next.claim_rejection_reason),
            mr::paid_at.eq(next.paid_at.map(|t| t.naive_utc())),
            mr::cost_record_id.eq(&next.cost_record_id),
            mr::version.eq(next.version),
            mr::updated_at.eq(next.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, action, "mdf_request", &current.id, audit::diff(Some(current), Some(next)))
}

/// The request, locked for a move: the program's row first (so budget arithmetic of concurrent
/// moves is serialised), then the request, checked against `If-Match` and the scope.
fn for_move(
    conn: &mut DbConn,
    id: &str,
    expected: &Option<Vec<i64>>,
    scope: &Scope,
) -> Result<(MdfRequest, Program), ApiError> {
    let program_id: String = mr::table.find(id).select(mr::program_id).first(conn).optional()?.ok_or_else(not_found)?;
    programs::lock(conn, &program_id)?;
    let current = get(conn, id, scope)?;
    etag::check(expected, current.version)?;
    let program = programs::load(conn, &program_id)?;
    Ok((current, program))
}

fn decided(conn: &mut DbConn, request: &MdfRequest) -> Result<(), ApiError> {
    let (program_name, partner_name) = names(conn, request)?;
    let event = MdfRequestDecided { request: request.clone(), program_name, partner_name };
    events::emit(conn, &DomainEvent::MdfRequestDecided(event))?;
    Ok(())
}

/// Approves a submitted request if the partner's remaining budget covers it (409
/// `budget_exceeded` otherwise). Sends `mdf.request_decided`.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<MdfRequest, ApiError> {
    let (current, program) = for_move(conn, id, expected, &Scope::All)?;
    transition(&current, MdfStatus::Approved)?;
    if program.status != ProgramStatus::Active {
        return Err(ApiError::conflict(
            Code::IncentiveProgramClosed,
            format!("the program is {}: requests are approved while it is active", program.status),
        ));
    }
    let budget = budget_of(conn, &program, &current.partner_id)?;
    if current.amount_minor > budget.remaining {
        return Err(ApiError::conflict(
            Code::BudgetExceeded,
            format!(
                "the request asks {} but the partner's remaining budget is {} (allocated {}, committed {}, claimed {}, paid {})",
                money(current.amount_minor, &program.currency),
                money(budget.remaining.max(0), &program.currency),
                money(budget.allocated, &program.currency),
                money(budget.committed, &program.currency),
                money(budget.claimed, &program.currency),
                money(budget.paid, &program.currency),
            ),
        ));
    }
    let now = db::now().and_utc();
    let next = MdfRequest {
        status: MdfStatus::Approved,
        decided_by: Some(actor.name.clone()),
        decided_at: Some(now),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "approve", &current, &next)?;
    decided(conn, &next)?;
    Ok(next)
}

/// Rejects a submitted request, saying why. Sends `mdf.request_decided`.
pub fn reject(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &MdfRejectRequest,
) -> Result<MdfRequest, ApiError> {
    let (current, _) = for_move(conn, id, expected, &Scope::All)?;
    transition(&current, MdfStatus::Rejected)?;
    let now = db::now().and_utc();
    let next = MdfRequest {
        status: MdfStatus::Rejected,
        decision_reason: Some(input.reason.trim().to_string()),
        decided_by: Some(actor.name.clone()),
        decided_at: Some(now),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "reject", &current, &next)?;
    decided(conn, &next)?;
    Ok(next)
}

/// Claims an approved request with what the activity cost (at most what was approved) and its
/// proof, until the program's `claim_deadline` (409 `claim_deadline_passed` after it).
pub fn claim(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &MdfClaim,
    scope: &Scope,
) -> Result<MdfRequest, ApiError> {
    let (current, program) = for_move(conn, id, expected, scope)?;
    transition(&current, MdfStatus::Claimed)?;
    let rules = mdf_rules(&program)?;
    let today = db::now().date();
    if today > rules.claim_deadline {
        return Err(ApiError::conflict(
            Code::ClaimDeadlinePassed,
            format!("claims for this program closed on {}", rules.claim_deadline),
        ));
    }
    if input.actual_minor > current.amount_minor {
        return Err(ApiError::field(
            "actual_minor",
            format!("must not exceed the approved {}", money(current.amount_minor, &current.currency)),
        ));
    }
    let now = db::now().and_utc();
    let next = MdfRequest {
        status: MdfStatus::Claimed,
        actual_minor: Some(input.actual_minor),
        proof_urls: input.proof_urls.clone(),
        claimed_at: Some(now),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "claim", &current, &next)?;
    Ok(next)
}

/// Rejects a claim, saying why: the request holds nothing of the budget any more.
pub fn reject_claim(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &MdfRejectRequest,
) -> Result<MdfRequest, ApiError> {
    let (current, _) = for_move(conn, id, expected, &Scope::All)?;
    transition(&current, MdfStatus::ClaimRejected)?;
    let now = db::now().and_utc();
    let next = MdfRequest {
        status: MdfStatus::ClaimRejected,
        claim_rejection_reason: Some(input.reason.trim().to_string()),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "reject_claim", &current, &next)?;
    Ok(next)
}

/// Pays a claim: a positive actual amount becomes a `marketing_support` cost record of the
/// activity's month, so the partner's scorecard counts it as cost.
pub fn pay(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<MdfRequest, ApiError> {
    let (current, _) = for_move(conn, id, expected, &Scope::All)?;
    transition(&current, MdfStatus::Paid)?;
    let now = db::now().and_utc();
    let actual = current.actual_minor.unwrap_or(0);
    let mut cost_record_id = None;
    if actual > 0 {
        let record = CostRecord {
            id: db::new_id(),
            partner_id: current.partner_id.clone(),
            period: current.planned_on.format("%Y-%m").to_string(),
            category: CostCategory::MarketingSupport,
            amount_minor: actual,
            currency: current.currency.clone(),
            notes: Some(format!("市场推广支持 marketing support request {}: {}", current.id, current.title)),
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
    let next = MdfRequest {
        status: MdfStatus::Paid,
        paid_at: Some(now),
        cost_record_id,
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "pay", &current, &next)?;
    Ok(next)
}

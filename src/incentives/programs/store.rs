//! Incentive programs in the database. A partner key sees a program only once it is active (or
//! closed) and its audience addresses the partner, judged by the bulletins' audience rules.

use diesel::prelude::*;

use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::bulletins::model::{resolve_audience, Audience, AudienceRequest, Candidate};
use crate::bulletins::store::ensure_partners_exist;
use crate::db::schema::{incentive_programs as ip, partners as p};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code, FieldError};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::partners::model::{ChannelType, PartnerStatus, Tier};

pub fn not_found() -> ApiError {
    ApiError::not_found(Code::IncentiveProgramNotFound)
}

/// The partner as audience resolution sees it; `None` when there is no such partner.
pub fn candidate(conn: &mut DbConn, partner_id: &str) -> Result<Option<Candidate>, ApiError> {
    type Row = (String, String, Option<String>, String, String, Option<chrono::NaiveDateTime>);
    let row: Option<Row> = p::table
        .find(partner_id)
        .select((p::id, p::tier, p::region, p::channel_type, p::status, p::archived_at))
        .first(conn)
        .optional()?;
    row.map(|(id, tier, region, channel_type, status, archived_at)| {
        Ok(Candidate {
            id,
            tier: Tier::from_db(&tier)?,
            region,
            channel_type: ChannelType::from_db(&channel_type)?,
            status: PartnerStatus::from_db(&status)?,
            archived: archived_at.is_some(),
        })
    })
    .transpose()
}

/// True when the audience addresses this (current, active or onboarding) partner.
pub fn addresses(audience: &Audience, partner: &Candidate) -> bool {
    !resolve_audience(audience, std::slice::from_ref(partner)).is_empty()
}

/// What a partner key may see of programs: live ones addressed to it.
fn visible_to(program: &Program, partner: &Candidate) -> bool {
    program.status != ProgramStatus::Draft && addresses(&program.audience, partner)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    program: Program,
    audience: &AudienceRequest,
) -> Result<Program, ApiError> {
    ensure_partners_exist(conn, audience)?;
    diesel::insert_into(ip::table).values(program.clone()).execute(conn)?;
    audit::record(
        conn,
        actor,
        "create",
        "incentive_program",
        &program.id,
        audit::diff(None::<&Program>, Some(&program)),
    )?;
    Ok(program)
}

/// The program, whoever asks (for staff and for the other stores).
pub fn load(conn: &mut DbConn, id: &str) -> Result<Program, ApiError> {
    ip::table.find(id).select(Program::as_select()).first(conn).optional()?.ok_or_else(not_found)
}

pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Program, ApiError> {
    let program = load(conn, id)?;
    match scope {
        Scope::All => Ok(program),
        Scope::Partner(own) => match candidate(conn, own)? {
            Some(partner) if visible_to(&program, &partner) => Ok(program),
            _ => Err(not_found()),
        },
    }
}

/// Newest first. For a partner key the audience is judged per program, so pages are read in
/// batches of the page size until enough visible programs are found (programs are few).
pub fn list(
    conn: &mut DbConn,
    filter: &ProgramFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Program>, ApiError> {
    let partner = match scope {
        Scope::All => None,
        Scope::Partner(own) => match candidate(conn, own)? {
            Some(c) => Some(c),
            None => return Ok(Vec::new()),
        },
    };
    let months = filter.months();
    let mut after = page.after.as_ref().map(|a| a[0].clone());
    let mut out = Vec::new();
    loop {
        let mut q = ip::table.into_boxed();
        if let Some(v) = filter.kind {
            q = q.filter(ip::kind.eq(v));
        }
        if let Some(v) = filter.status {
            q = q.filter(ip::status.eq(v));
        }
        if let Some((first, last)) = months {
            q = q.filter(ip::from_month.le(last.to_string()).and(ip::to_month.ge(first.to_string())));
        }
        if partner.is_some() {
            q = q.filter(ip::status.ne(ProgramStatus::Draft));
        }
        if let Some(a) = &after {
            q = q.filter(ip::id.lt(a.clone()));
        }
        let rows: Vec<Program> =
            q.order(ip::id.desc()).limit(page.limit + 1).select(Program::as_select()).load(conn)?;
        let exhausted = rows.len() as i64 <= page.limit;
        after = rows.last().map(|r| r.id.clone());
        out.extend(rows.into_iter().filter(|r| partner.as_ref().is_none_or(|c| visible_to(r, c))));
        if partner.is_none() || exhausted || out.len() as i64 > page.limit {
            break;
        }
    }
    out.truncate(page.limit as usize + 1);
    Ok(out)
}

fn conflict_on(code: Code, detail: impl Into<String>, fields: &[&str], message: &str) -> ApiError {
    let mut err = ApiError::conflict(code, detail);
    err.errors = fields.iter().map(|f| FieldError::new(*f, message)).collect();
    err
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &ProgramUpdate,
) -> Result<Program, ApiError> {
    let current = load(conn, id)?;
    etag::check(expected, current.version)?;
    let now = db::now().and_utc();
    let mut next = patch.apply(&current, now)?;
    let changed = changed_fields(&current, &next);
    if changed.is_empty() {
        return Ok(current);
    }
    match current.status {
        ProgramStatus::Closed => {
            return Err(ApiError::conflict(Code::IncentiveProgramClosed, "the program is closed, which is final"))
        }
        ProgramStatus::Active => {
            let frozen: Vec<&str> = changed.iter().copied().filter(|f| !LIVE_FIELDS.contains(f)).collect();
            if !frozen.is_empty() {
                return Err(conflict_on(
                    Code::IncentiveProgramFrozen,
                    format!(
                        "an active program's rules are frozen ({}): close it and create another",
                        frozen.join(", ")
                    ),
                    &frozen,
                    "cannot change while the program is active",
                ));
            }
        }
        ProgramStatus::Draft => {}
    }
    if next.status != current.status && !current.status.can_move_to(next.status) {
        return Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!("a program moves draft → active → closed, not {} → {}", current.status, next.status),
        ));
    }
    if let Some(audience) = &patch.audience {
        if next.audience != current.audience {
            ensure_partners_exist(conn, audience)?;
        }
    }
    next.version = current.version + 1;
    next.updated_at = now;
    let updated = diesel::update(ip::table.filter(ip::id.eq(id).and(ip::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "incentive_program", id, audit::diff(Some(&current), Some(&next)))?;
    Ok(next)
}

/// Only a draft can be deleted: a live program has statements or partners counting on it.
pub fn delete(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = load(conn, id)?;
    etag::check(expected, current.version)?;
    if current.status != ProgramStatus::Draft {
        return Err(ApiError::conflict(
            Code::IncentiveProgramNotDraft,
            "only a draft program can be deleted; close an active one instead",
        ));
    }
    diesel::delete(ip::table.filter(ip::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "incentive_program", id, audit::diff(Some(&current), None::<&Program>))?;
    Ok(())
}

/// Holds the program's row until the transaction ends (Postgres: `FOR UPDATE`; SQLite: the
/// transaction already runs in the single writer's turn), so that a calculation and an approval
/// of the same program's statements never interleave: otherwise a calculation that read the
/// statements before an approval committed would write a second full statement for months
/// already approved, instead of an adjustment.
pub fn lock(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    let q = ip::table.find(id).select(ip::version);
    let found = match conn {
        DbConn::Pg(pg) => q.for_update().first::<i64>(pg).optional()?,
        DbConn::Sqlite(_) => q.first::<i64>(conn).optional()?,
    };
    found.map(|_| ()).ok_or_else(not_found)
}

/// Active programs of `kind` that run in `month` (`YYYY-MM`).
pub fn active_in(conn: &mut DbConn, kind: ProgramKind, month: &str) -> Result<Vec<Program>, ApiError> {
    Ok(ip::table
        .filter(ip::kind.eq(kind).and(ip::status.eq(ProgramStatus::Active)))
        .filter(ip::from_month.le(month).and(ip::to_month.ge(month)))
        .order(ip::id.asc())
        .select(Program::as_select())
        .load(conn)?)
}

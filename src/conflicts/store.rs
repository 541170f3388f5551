//! Conflict cases in the database: a case, its parties (a row per partner, so a partner's cases
//! are an indexed lookup), its links and its comments. Detected conditions go through
//! `open_detected`, which holds the fingerprint's turn (a transaction-scoped advisory lock on
//! Postgres; SQLite has one writer), so two scans on two replicas open one case.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::events::ConflictEvent;
use super::model::*;
use crate::access::{Actor, Scope};
use crate::audit;
use crate::db::schema::{
    action_items as ai, conflict_comments as cc, conflict_links as cl, conflict_parties as cp, conflicts as c,
    incentive_programs as ip, key_accounts as ka, meetings as m, partners as p,
};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::partners::model::ChannelType;

pub fn not_found() -> ApiError {
    ApiError::not_found(Code::ConflictNotFound)
}

/// Who opens detected cases, in the audit trail and `opened_by`.
pub const SCANNER: &str = "conflict_scan";

pub fn load(conn: &mut DbConn, id: &str) -> Result<Conflict, ApiError> {
    c::table.find(id).select(Conflict::as_select()).first(conn).optional()?.ok_or_else(not_found)
}

fn is_party(conn: &mut DbConn, id: &str, partner_id: &str) -> Result<bool, ApiError> {
    let found: Option<String> = cp::table
        .filter(cp::conflict_id.eq(id).and(cp::partner_id.eq(partner_id)))
        .select(cp::partner_id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// A case as `scope` may see it: a partner key sees the cases it is party to, redacted.
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<ConflictView, ApiError> {
    let found = load(conn, id)?;
    if let Scope::Partner(own) = scope {
        if !is_party(conn, id, own)? {
            return Err(not_found());
        }
    }
    Ok(views(conn, vec![found], scope)?.remove(0))
}

/// The cases with their parties' names and their links, redacted for a partner scope.
pub fn views(conn: &mut DbConn, cases: Vec<Conflict>, scope: &Scope) -> Result<Vec<ConflictView>, ApiError> {
    let mut partner_ids: Vec<String> = cases.iter().flat_map(|k| k.party_partner_ids.iter().cloned()).collect();
    partner_ids.sort();
    partner_ids.dedup();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for chunk in partner_ids.chunks(db::INSERT_MANY_CHUNK) {
        let rows: Vec<(String, String)> = p::table.filter(p::id.eq_any(chunk)).select((p::id, p::name)).load(conn)?;
        names.extend(rows);
    }
    let ids: Vec<&str> = cases.iter().map(|k| k.id.as_str()).collect();
    let mut links: BTreeMap<String, Vec<Link>> = BTreeMap::new();
    for chunk in ids.chunks(db::INSERT_MANY_CHUNK) {
        let rows: Vec<(String, String, String, Option<String>)> = cl::table
            .filter(cl::conflict_id.eq_any(chunk))
            .order((cl::conflict_id, cl::kind, cl::ref_id))
            .select((cl::conflict_id, cl::kind, cl::ref_id, cl::partner_id))
            .load(conn)?;
        for (conflict_id, kind, ref_id, partner_id) in rows {
            links.entry(conflict_id).or_default().push(Link { kind: LinkKind::from_db(&kind)?, ref_id, partner_id });
        }
    }
    Ok(cases
        .into_iter()
        .map(|conflict| {
            let parties = conflict
                .party_partner_ids
                .iter()
                .map(|id| ConflictParty {
                    partner_id: Some(id.clone()),
                    name: names.get(id).cloned().unwrap_or_default(),
                })
                .collect();
            let links = links.remove(&conflict.id).unwrap_or_default();
            let view = ConflictView { conflict, parties, links };
            match scope {
                Scope::All => view,
                Scope::Partner(own) => view.redacted(own),
            }
        })
        .collect())
}

/// Newest first. A partner key lists the cases it is party to.
pub fn list(
    conn: &mut DbConn,
    filter: &ConflictFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<ConflictView>, ApiError> {
    let mut q = c::table.into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(c::id.eq_any(cp::table.filter(cp::partner_id.eq(own.clone())).select(cp::conflict_id)));
    }
    if let Some(v) = &filter.partner_id {
        q = q.filter(c::id.eq_any(cp::table.filter(cp::partner_id.eq(v.to_lowercase())).select(cp::conflict_id)));
    }
    if let Some(v) = filter.status {
        q = q.filter(c::status.eq(v));
    }
    if let Some(v) = filter.kind {
        q = q.filter(c::kind.eq(v));
    }
    if let Some(v) = filter.cause {
        q = q.filter(c::cause.eq(v));
    }
    if let Some(v) = filter.severity {
        q = q.filter(c::severity.eq(v));
    }
    if let Some(v) = &filter.key_account_id {
        q = q.filter(c::key_account_id.eq(v.to_lowercase()));
    }
    if let Some(after) = &page.after {
        q = q.filter(c::id.lt(after[0].clone()));
    }
    let rows = q.order(c::id.desc()).limit(page.limit + 1).select(Conflict::as_select()).load(conn)?;
    views(conn, rows, scope)
}

/// The open and investigating cases `scope` may see, most severe first (for the `冲突` command).
pub fn live(conn: &mut DbConn, scope: &Scope, limit: i64) -> Result<(Vec<ConflictView>, i64), ApiError> {
    let mut q = c::table.filter(c::status.eq_any([ConflictStatus::Open, ConflictStatus::Investigating])).into_boxed();
    let mut count =
        c::table.filter(c::status.eq_any([ConflictStatus::Open, ConflictStatus::Investigating])).into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(c::id.eq_any(cp::table.filter(cp::partner_id.eq(own.clone())).select(cp::conflict_id)));
        count = count.filter(c::id.eq_any(cp::table.filter(cp::partner_id.eq(own.clone())).select(cp::conflict_id)));
    }
    let total: i64 = count.count().get_result(conn)?;
    let mut rows: Vec<Conflict> = q.order(c::id.desc()).limit(500).select(Conflict::as_select()).load(conn)?;
    rows.sort_by(|a, b| b.severity.rank().cmp(&a.severity.rank()).then(b.id.cmp(&a.id)));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((views(conn, rows, scope)?, total))
}

/// The partners exist (422 naming the one that does not); true when one of them is a direct
/// channel.
fn check_partners(conn: &mut DbConn, field: &str, ids: &[String]) -> Result<bool, ApiError> {
    let rows: Vec<(String, String)> = p::table.filter(p::id.eq_any(ids)).select((p::id, p::channel_type)).load(conn)?;
    let mut errors = crate::validation::Check::new();
    for (i, id) in ids.iter().enumerate() {
        if !rows.iter().any(|(found, _)| found == id) {
            errors.add(format!("{field}[{i}]"), "names no partner");
        }
    }
    errors.finish()?;
    Ok(rows.iter().any(|(_, kind)| kind == ChannelType::Direct.as_str()))
}

fn check_key_account(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    let found: Option<String> = ka::table.find(id).select(ka::id).first(conn).optional()?;
    found.map(|_| ()).ok_or_else(|| ApiError::field("key_account_id", "names no key account"))
}

fn write_parties(conn: &mut DbConn, id: &str, partner_ids: &[String]) -> Result<(), ApiError> {
    diesel::delete(cp::table.filter(cp::conflict_id.eq(id))).execute(conn)?;
    let rows: Vec<_> = partner_ids.iter().map(|pid| (cp::conflict_id.eq(id), cp::partner_id.eq(pid))).collect();
    db::insert_many(conn, cp::table, rows)?;
    Ok(())
}

fn write_links(conn: &mut DbConn, id: &str, links: &[Link]) -> Result<(), ApiError> {
    let existing: Vec<(String, String)> =
        cl::table.filter(cl::conflict_id.eq(id)).select((cl::kind, cl::ref_id)).load(conn)?;
    let rows: Vec<_> = links
        .iter()
        .filter(|l| !existing.iter().any(|(k, r)| k == l.kind.as_str() && r == &l.ref_id))
        .map(|l| {
            (
                cl::conflict_id.eq(id),
                cl::kind.eq(l.kind),
                cl::ref_id.eq(l.ref_id.clone()),
                cl::partner_id.eq(l.partner_id.clone()),
            )
        })
        .collect();
    db::insert_many(conn, cl::table, rows)?;
    Ok(())
}

fn opened_event(conn: &mut DbConn, conflict: &Conflict) -> Result<ConflictEvent, ApiError> {
    let view = views(conn, vec![conflict.clone()], &Scope::All)?.remove(0);
    let key_account_name = match &conflict.key_account_id {
        Some(id) => ka::table.find(id).select(ka::name).first(conn).optional()?,
        None => None,
    };
    Ok(ConflictEvent { conflict: view.conflict, parties: view.parties, key_account_name })
}

fn insert(conn: &mut DbConn, actor: &Actor, conflict: &Conflict, links: &[Link]) -> Result<(), ApiError> {
    diesel::insert_into(c::table).values(conflict.clone()).execute(conn)?;
    write_parties(conn, &conflict.id, &conflict.party_partner_ids)?;
    write_links(conn, &conflict.id, links)?;
    audit::record(conn, actor, "create", "conflict", &conflict.id, audit::diff(None::<&Conflict>, Some(conflict)))?;
    let event = opened_event(conn, conflict)?;
    events::emit(conn, &DomainEvent::ConflictOpened(event))?;
    Ok(())
}

fn sorted_ids(ids: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.to_lowercase()).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// A manager opens a case by hand. Sends `conflict.opened`.
pub fn create(conn: &mut DbConn, actor: &Actor, input: &ConflictCreate) -> Result<ConflictView, ApiError> {
    let parties = sorted_ids(&input.party_partner_ids);
    let direct = check_partners(
        conn,
        "party_partner_ids",
        &input.party_partner_ids.iter().map(|id| id.to_lowercase()).collect::<Vec<_>>(),
    )?;
    let key_account_id = input.key_account_id.as_ref().map(|id| id.to_lowercase());
    if let Some(id) = &key_account_id {
        check_key_account(conn, id)?;
    }
    let now = db::now().and_utc();
    let conflict = Conflict {
        id: db::new_id(),
        kind: input.kind,
        cause: input.cause,
        severity: input.severity,
        status: ConflictStatus::Open,
        summary: input.summary.trim().to_string(),
        party_partner_ids: parties,
        involves_direct: input.involves_direct || direct,
        key_account_id,
        territories: input.territories.clone(),
        product_lines: input.product_lines.clone(),
        fingerprint: None,
        previous_conflict_id: None,
        resolution: None,
        resolved_by: None,
        resolved_at: None,
        condition_cleared_at: None,
        opened_by: actor.name.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    insert(conn, actor, &conflict, &[])?;
    get(conn, &conflict.id, &Scope::All)
}

/// Reports a detected condition: joins the open case with its fingerprint (adding new parties,
/// territories, product lines and links), or opens a case — linked to the previous one when the
/// condition returns after that was closed. A dismissed case stands (nothing opens) until a scan
/// has seen the condition gone. Sends `conflict.opened` for a new case.
pub fn open_detected(conn: &mut DbConn, actor: &Actor, found: &Detected) -> Result<Outcome, ApiError> {
    db::take_turn(conn, 1616, &found.fingerprint)?;
    let latest: Option<Conflict> = c::table
        .filter(c::fingerprint.eq(&found.fingerprint))
        .order((c::created_at.desc(), c::id.desc()))
        .select(Conflict::as_select())
        .first(conn)
        .optional()?;
    let parties = sorted_ids(&found.party_partner_ids);
    match latest {
        Some(open) if open.status.is_live() => {
            let mut next = open.clone();
            merge_ids(&mut next.party_partner_ids, &parties);
            merge_labels(&mut next.territories, &found.territories);
            merge_labels(&mut next.product_lines, &found.product_lines);
            next.involves_direct |= found.involves_direct;
            if next != open {
                next.version += 1;
                next.updated_at = db::now().and_utc();
                save(conn, actor, "join", &open, &next)?;
                if next.party_partner_ids != open.party_partner_ids {
                    write_parties(conn, &next.id, &next.party_partner_ids)?;
                }
            }
            write_links(conn, &next.id, &found.links)?;
            Ok(Outcome::Joined(next))
        }
        Some(dismissed)
            if dismissed.status == ConflictStatus::Dismissed && dismissed.condition_cleared_at.is_none() =>
        {
            Ok(Outcome::Suppressed)
        }
        previous => {
            let now = db::now().and_utc();
            let mut links = found.links.clone();
            if let Some(prev) = &previous {
                links.push(Link { kind: LinkKind::Conflict, ref_id: prev.id.clone(), partner_id: None });
            }
            let conflict = Conflict {
                id: db::new_id(),
                kind: found.kind,
                cause: found.cause,
                severity: found.severity,
                status: ConflictStatus::Open,
                summary: found.summary.clone(),
                party_partner_ids: parties,
                involves_direct: found.involves_direct,
                key_account_id: found.key_account_id.clone(),
                territories: found.territories.clone(),
                product_lines: found.product_lines.clone(),
                fingerprint: Some(found.fingerprint.clone()),
                previous_conflict_id: previous.map(|p| p.id),
                resolution: None,
                resolved_by: None,
                resolved_at: None,
                condition_cleared_at: None,
                opened_by: actor.name.clone(),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            insert(conn, actor, &conflict, &links)?;
            Ok(Outcome::Opened(conflict))
        }
    }
}

/// Marks the closed detected cases whose condition a scan no longer finds, so a return opens a
/// new case. Returns how many it marked.
pub fn mark_cleared(conn: &mut DbConn, still_found: &[String], now: DateTime<Utc>) -> Result<usize, ApiError> {
    let closed: Vec<(String, String)> = c::table
        .filter(c::status.eq_any([ConflictStatus::Resolved, ConflictStatus::Dismissed]))
        .filter(c::condition_cleared_at.is_null())
        .filter(c::fingerprint.is_not_null())
        .select((c::id, c::fingerprint.assume_not_null()))
        .load(conn)?;
    let gone: Vec<String> = closed.into_iter().filter(|(_, fp)| !still_found.contains(fp)).map(|(id, _)| id).collect();
    for chunk in gone.chunks(db::INSERT_MANY_CHUNK) {
        diesel::update(c::table.filter(c::id.eq_any(chunk)))
            .set(c::condition_cleared_at.eq(Some(now.naive_utc())))
            .execute(conn)?;
    }
    Ok(gone.len())
}

/// Writes the changed case (compare-and-set on the version) and its audit entry.
fn save(conn: &mut DbConn, actor: &Actor, action: &str, current: &Conflict, next: &Conflict) -> Result<(), ApiError> {
    let updated = diesel::update(c::table.filter(c::id.eq(&current.id).and(c::version.eq(current.version))))
        .set((
            c::kind.eq(next.kind),
            c::cause.eq(next.cause),
            c::severity.eq(next.severity),
            c::status.eq(next.status),
            c::summary.eq(&next.summary),
            c::party_partner_ids.eq(db::json::encode(&next.party_partner_ids)),
            c::involves_direct.eq(next.involves_direct),
            c::territories.eq(db::json::encode(&next.territories)),
            c::product_lines.eq(db::json::encode(&next.product_lines)),
            c::resolution.eq(next.resolution.as_ref().map(db::json::encode)),
            c::resolved_by.eq(&next.resolved_by),
            c::resolved_at.eq(next.resolved_at.map(|t| t.naive_utc())),
            c::version.eq(next.version),
            c::updated_at.eq(next.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, action, "conflict", &current.id, audit::diff(Some(current), Some(next)))
}

fn for_change(conn: &mut DbConn, id: &str, expected: &Option<Vec<i64>>) -> Result<Conflict, ApiError> {
    let current = load(conn, id)?;
    etag::check(expected, current.version)?;
    Ok(current)
}

fn transition(current: &Conflict, to: ConflictStatus) -> Result<(), ApiError> {
    if current.status.can_move_to(to) {
        Ok(())
    } else {
        Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!(
                "a case moves open → investigating → resolved | dismissed (or open → resolved | dismissed); not {} → {to}",
                current.status
            ),
        ))
    }
}

/// Edits an open or investigating case.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &ConflictUpdate,
) -> Result<ConflictView, ApiError> {
    let current = for_change(conn, id, expected)?;
    if !current.status.is_live() {
        return Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!("the case is {}: only open and investigating cases are edited", current.status),
        ));
    }
    let mut next = input.apply(&current);
    if let Some(ids) = &input.party_partner_ids {
        let lowered: Vec<String> = ids.iter().map(|id| id.to_lowercase()).collect();
        next.involves_direct |= check_partners(conn, "party_partner_ids", &lowered)?;
    }
    if next.party_partner_ids.len() < 2 && !next.involves_direct {
        return Err(ApiError::field(
            "party_partner_ids",
            "needs two partners, or one with involves_direct: a conflict has two sides",
        ));
    }
    if next != current {
        next.version += 1;
        next.updated_at = db::now().and_utc();
        save(conn, actor, "update", &current, &next)?;
        if next.party_partner_ids != current.party_partner_ids {
            write_parties(conn, id, &next.party_partner_ids)?;
        }
    }
    get(conn, id, &Scope::All)
}

/// open → investigating.
pub fn investigate(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<ConflictView, ApiError> {
    let current = for_change(conn, id, expected)?;
    transition(&current, ConflictStatus::Investigating)?;
    let next = Conflict {
        status: ConflictStatus::Investigating,
        version: current.version + 1,
        updated_at: db::now().and_utc(),
        ..current.clone()
    };
    save(conn, actor, "investigate", &current, &next)?;
    get(conn, id, &Scope::All)
}

/// The resolution's references exist (422 naming the one that does not).
fn check_resolution(conn: &mut DbConn, r: &Resolution) -> Result<Resolution, ApiError> {
    let mut r = r.clone();
    r.notes = r.notes.trim().to_string();
    let mut errors = crate::validation::Check::new();
    if let Some(id) = &mut r.incentive_program_id {
        *id = id.to_lowercase();
        let found: Option<String> = ip::table.find(&*id).select(ip::id).first(conn).optional()?;
        if found.is_none() {
            errors.add("resolution.incentive_program_id", "names no incentive program");
        }
    }
    if let Some(id) = &mut r.meeting_id {
        *id = id.to_lowercase();
        let found: Option<String> = m::table.find(&*id).select(m::id).first(conn).optional()?;
        if found.is_none() {
            errors.add("resolution.meeting_id", "names no meeting");
        }
    }
    for id in &mut r.action_item_ids {
        *id = id.to_lowercase();
    }
    let found: Vec<String> = ai::table.filter(ai::id.eq_any(&r.action_item_ids)).select(ai::id).load(conn)?;
    for (i, id) in r.action_item_ids.iter().enumerate() {
        if !found.contains(id) {
            errors.add(format!("resolution.action_item_ids[{i}]"), "names no action item");
        }
    }
    errors.finish()?;
    Ok(r)
}

/// Resolves a case with one of the seed's remedies. Sends `conflict.resolved`.
pub fn resolve(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &ConflictResolveRequest,
) -> Result<ConflictView, ApiError> {
    let current = for_change(conn, id, expected)?;
    transition(&current, ConflictStatus::Resolved)?;
    let resolution = check_resolution(conn, &input.resolution)?;
    let now = db::now().and_utc();
    let next = Conflict {
        status: ConflictStatus::Resolved,
        resolution: Some(resolution),
        resolved_by: Some(actor.name.clone()),
        resolved_at: Some(now),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "resolve", &current, &next)?;
    let event = opened_event(conn, &next)?;
    events::emit(conn, &DomainEvent::ConflictResolved(event))?;
    get(conn, id, &Scope::All)
}

/// Dismisses a case that is not a real conflict; the reason goes on the timeline.
pub fn dismiss(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    input: &ConflictDismissRequest,
) -> Result<ConflictView, ApiError> {
    let current = for_change(conn, id, expected)?;
    transition(&current, ConflictStatus::Dismissed)?;
    let now = db::now().and_utc();
    let next = Conflict {
        status: ConflictStatus::Dismissed,
        resolved_by: Some(actor.name.clone()),
        resolved_at: Some(now),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    save(conn, actor, "dismiss", &current, &next)?;
    add_note(conn, actor, id, &format!("已驳回 dismissed: {}", input.reason.trim()), false)?;
    get(conn, id, &Scope::All)
}

fn insert_comment(conn: &mut DbConn, actor: &Actor, comment: &Comment) -> Result<(), ApiError> {
    diesel::insert_into(cc::table).values(comment.clone()).execute(conn)?;
    audit::record(
        conn,
        actor,
        "comment",
        "conflict",
        &comment.conflict_id,
        audit::diff(None::<&Comment>, Some(comment)),
    )
}

/// A comment written by the service or on a manager's decision (e.g. an approval that overrode
/// the earlier registration), on the case's timeline.
pub fn add_note(
    conn: &mut DbConn,
    actor: &Actor,
    conflict_id: &str,
    body: &str,
    internal: bool,
) -> Result<(), ApiError> {
    let comment = Comment {
        id: db::new_id(),
        conflict_id: conflict_id.to_string(),
        body: body.to_string(),
        internal,
        author: actor.name.clone(),
        author_partner_id: None,
        created_at: db::now().and_utc(),
    };
    insert_comment(conn, actor, &comment)
}

/// A comment on a case `scope` may see; a partner key writes public comments only.
pub fn comment(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    input: &CommentCreate,
    scope: &Scope,
) -> Result<Comment, ApiError> {
    get(conn, id, scope)?;
    let author_partner_id = match scope {
        Scope::Partner(own) => Some(own.clone()),
        Scope::All => None,
    };
    let comment = Comment {
        id: db::new_id(),
        conflict_id: id.to_string(),
        body: input.body.trim().to_string(),
        internal: input.internal,
        author: actor.name.clone(),
        author_partner_id,
        created_at: db::now().and_utc(),
    };
    insert_comment(conn, actor, &comment)?;
    Ok(comment)
}

/// The timeline, oldest first; internal comments hidden from a partner scope.
pub fn comments(conn: &mut DbConn, id: &str, page: &PageRequest, scope: &Scope) -> Result<Vec<Comment>, ApiError> {
    get(conn, id, scope)?;
    let mut q = cc::table.filter(cc::conflict_id.eq(id)).into_boxed();
    if matches!(scope, Scope::Partner(_)) {
        q = q.filter(cc::internal.eq(false));
    }
    if let Some(after) = &page.after {
        q = q.filter(cc::id.gt(after[0].clone()));
    }
    Ok(q.order(cc::id.asc()).limit(page.limit + 1).select(Comment::as_select()).load(conn)?)
}

/// Counts of the cases opened in the window (business dates, China Standard Time) and the median
/// days to resolve the resolved ones.
pub fn stats(conn: &mut DbConn, window: &StatsWindow) -> Result<ConflictStats, ApiError> {
    let mut q = c::table.into_boxed();
    // Opened on a business date in [from, to]: created_at is UTC, the day starts at 16:00 UTC before.
    if let Some(from) = window.from {
        q = q.filter(c::created_at.ge(from.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::hours(8)));
    }
    if let Some(to) = window.to {
        let end = to.succ_opt().unwrap_or(to).and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::hours(8);
        q = q.filter(c::created_at.lt(end));
    }
    let rows: Vec<Conflict> = q.select(Conflict::as_select()).load(conn)?;
    let mut out = ConflictStats { from: window.from, to: window.to, ..Default::default() };
    let mut days = Vec::new();
    for k in &rows {
        out.total += 1;
        *out.by_kind.entry(k.kind.to_string()).or_default() += 1;
        *out.by_cause.entry(k.cause.to_string()).or_default() += 1;
        *out.by_status.entry(k.status.to_string()).or_default() += 1;
        if k.status == ConflictStatus::Resolved {
            if let Some(r) = &k.resolution {
                *out.by_remedy.entry(r.remedy.to_string()).or_default() += 1;
            }
            if let Some(at) = k.resolved_at {
                days.push((at - k.created_at).num_seconds() as f64 / 86_400.0);
            }
        }
    }
    out.median_days_to_resolve = median(days).map(|d| (d * 100.0).round() / 100.0);
    Ok(out)
}

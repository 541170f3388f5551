//! Partner queries: filtered, cursor-paged lists on indexed columns; audited writes that emit their
//! events through the outbox in the same transaction.

use super::events::{PartnerSnapshot, PartnerStatusChanged, PartnerUpdated};
use super::model::*;
use crate::access::Actor;
use crate::access::Scope;
use crate::audit;
use crate::db::schema::{
    partner_contacts as pc, partner_territories as pt, partners as p, recruitment_campaigns as rc,
};
use crate::db::{self, like_pattern, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::pagination::PageRequest;
use diesel::prelude::*;

fn name_taken(name: &str) -> ApiError {
    ApiError::conflict(
        Code::PartnerNameTaken,
        format!("a partner named {name:?} already exists (names are unique ignoring case)"),
    )
}

fn ensure_name_free(conn: &mut DbConn, name: &str, except_id: Option<&str>) -> Result<(), ApiError> {
    let mut q = p::table.filter(p::name_key.eq(name_key(name)).and(p::archived_at.is_null())).into_boxed();
    if let Some(id) = except_id {
        q = q.filter(p::id.ne(id.to_string()));
    }
    let taken: i64 = q.count().get_result(conn)?;
    if taken > 0 {
        return Err(name_taken(name));
    }
    Ok(())
}

fn write_territories(conn: &mut DbConn, partner_id: &str, territories: &[String]) -> Result<(), ApiError> {
    diesel::delete(pt::table.filter(pt::partner_id.eq(partner_id))).execute(conn)?;
    let rows: Vec<_> = territories.iter().map(|t| (pt::partner_id.eq(partner_id), pt::territory.eq(t))).collect();
    db::insert_many(conn, pt::table, rows)?;
    Ok(())
}

/// A partner may be linked only to a current (not archived) recruitment campaign.
fn ensure_campaign(conn: &mut DbConn, campaign_id: Option<&str>) -> Result<(), ApiError> {
    let Some(id) = campaign_id else { return Ok(()) };
    let found: i64 = rc::table.filter(rc::id.eq(id).and(rc::archived_at.is_null())).count().get_result(conn)?;
    if found == 0 {
        return Err(ApiError::field("campaign_id", "no such recruitment campaign (or it is archived)"));
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &PartnerCreate) -> Result<Partner, ApiError> {
    let campaign_id = input.campaign_id.as_ref().map(|id| id.to_ascii_lowercase());
    ensure_campaign(conn, campaign_id.as_deref())?;
    ensure_name_free(conn, &input.name, None)?;
    let now = db::now().and_utc();
    let partner = Partner {
        id: db::new_id(),
        name: input.name.clone(),
        channel_type: input.channel_type,
        kind: input.kind,
        tier: input.tier.unwrap_or(Tier::Standard),
        status: PartnerStatus::Prospect,
        region: input.region.clone(),
        territories: input.territories.clone(),
        industries: input.industries.clone(),
        owner: input.owner.clone(),
        next_review_at: input.next_review_at.map(db::stored_precision),
        notes: input.notes.clone(),
        source: input.source,
        campaign_id,
        activated_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
        archived_at: None,
    };
    diesel::insert_into(p::table)
        .values((partner.clone(), p::name_key.eq(name_key(&partner.name))))
        .execute(conn)
        .map_err(|e| {
            // Two requests racing past the check above: the unique index decides.
            if db::is_unique_violation(&e) {
                name_taken(&partner.name)
            } else {
                e.into()
            }
        })?;
    write_territories(conn, &partner.id, &partner.territories)?;
    audit::record(conn, actor, "create", "partner", &partner.id, audit::diff(None::<&Partner>, Some(&partner)))?;
    events::emit(conn, &DomainEvent::PartnerCreated(PartnerSnapshot { partner: partner.clone() }))?;
    Ok(partner)
}

/// Upgrade `comparison_keys_v1`: recomputes every partner's `name_key` under the current rule.
/// Two current partners whose names the new rule calls the same keep their old keys (logged):
/// someone must rename one, and until then neither blocks the other.
pub fn rekey_names(conn: &mut DbConn) -> Result<usize, ApiError> {
    let mut changed = 0;
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String)> = p::table
            .filter(p::id.gt(&after))
            .order(p::id.asc())
            .limit(db::upgrades::BATCH)
            .select((p::id, p::name, p::name_key))
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        for (id, name, old) in rows {
            let key = name_key(&name);
            if key == old {
                continue;
            }
            let set = |c: &mut DbConn| diesel::update(p::table.find(&id)).set(p::name_key.eq(&key)).execute(c);
            if db::upgrades::try_in_savepoint(conn, set)? {
                changed += 1;
            } else {
                tracing::warn!(partner_id = %id, name = %name, "partner name now equals another partner's; rename one");
            }
        }
    }
    Ok(changed)
}

/// A partner visible in `scope` (archived ones included: they are kept for history).
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Partner, ApiError> {
    if !scope.allows(id) {
        return Err(ApiError::not_found(Code::PartnerNotFound));
    }
    let partner: Option<Partner> = p::table.find(id).select(Partner::as_select()).first(conn).optional()?;
    partner.ok_or_else(|| ApiError::not_found(Code::PartnerNotFound))
}

/// Current (not archived) partners, newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &PartnerFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Partner>, ApiError> {
    let mut q = p::table.filter(p::archived_at.is_null()).into_boxed();
    if let Scope::Partner(own) = scope {
        q = q.filter(p::id.eq(own.clone()));
    }
    if let Some(v) = filter.status {
        q = q.filter(p::status.eq(v));
    }
    if let Some(v) = filter.tier {
        q = q.filter(p::tier.eq(v));
    }
    if let Some(v) = filter.channel_type {
        q = q.filter(p::channel_type.eq(v));
    }
    if let Some(v) = filter.kind {
        q = q.filter(p::kind.eq(v));
    }
    if let Some(v) = &filter.region {
        q = q.filter(p::region.eq(v.clone()));
    }
    if let Some(v) = &filter.owner {
        q = q.filter(p::owner.eq(v.clone()));
    }
    if let Some(v) = &filter.territory {
        q = q.filter(p::id.eq_any(pt::table.filter(pt::territory.eq(v.clone())).select(pt::partner_id)));
    }
    if let Some(v) = &filter.q {
        q = q.filter(p::name_key.like(like_pattern(&name_key(v))).escape('\\'));
    }
    if let Some(v) = filter.source {
        q = q.filter(p::source.eq(v));
    }
    if let Some(v) = &filter.campaign_id {
        q = q.filter(p::campaign_id.eq(v.to_ascii_lowercase()));
    }
    if let Some(after) = &page.after {
        q = q.filter(p::id.lt(after[0].clone()));
    }
    Ok(q.order(p::id.desc()).limit(page.limit + 1).select(Partner::as_select()).load(conn)?)
}

/// Writes `next` over `current` if nobody changed it in between (else 412).
fn save(conn: &mut DbConn, current: &Partner, next: &mut Partner) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(p::table.filter(p::id.eq(&current.id).and(p::version.eq(current.version))))
        .set((next.clone(), p::name_key.eq(name_key(&next.name))))
        .execute(conn)
        .map_err(|e| if db::is_unique_violation(&e) { name_taken(&next.name) } else { e.into() })?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    Ok(())
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &PartnerUpdate,
) -> Result<Partner, ApiError> {
    let current = get(conn, id, &Scope::All)?;
    // An invalid request is answered as such whatever its preconditions (RFC 9110 §13.2.2).
    patch.validate(&current)?;
    crate::http::etag::check(expected, current.version)?;
    if current.archived_at.is_some() {
        return Err(ApiError::conflict(Code::PartnerArchived, "the partner is archived and can no longer change"));
    }
    if let Some(to) = patch.status {
        if to != current.status && !current.status.can_move_to(to) {
            return Err(ApiError::conflict(
                Code::InvalidStatusTransition,
                format!("a partner cannot move from {} to {to}", current.status),
            ));
        }
    }
    let mut next = patch.apply(&current);
    next.next_review_at = next.next_review_at.map(db::stored_precision);
    if next.campaign_id != current.campaign_id {
        ensure_campaign(conn, next.campaign_id.as_deref())?;
    }
    // The first move to active is kept: the recruitment funnel measures time to active from it.
    if next.status == PartnerStatus::Active && next.activated_at.is_none() {
        next.activated_at = Some(db::now().and_utc());
    }
    if name_key(&next.name) != name_key(&current.name) {
        ensure_name_free(conn, &next.name, Some(id))?;
    }
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    save(conn, &current, &mut next)?;
    if next.territories != current.territories {
        write_territories(conn, id, &next.territories)?;
    }
    audit::record(conn, actor, "update", "partner", id, changes.clone())?;
    let status_changed = next.status != current.status;
    // `activated_at` moves with the status and is announced by partner.status_changed.
    let other_changes = changes.as_object().is_some_and(|m| m.keys().any(|k| k != "status" && k != "activated_at"));
    if status_changed {
        let moved = PartnerStatusChanged { partner: next.clone(), from: current.status, to: next.status };
        events::emit(conn, &DomainEvent::PartnerStatusChanged(moved))?;
    }
    if other_changes {
        events::emit(conn, &DomainEvent::PartnerUpdated(PartnerUpdated { partner: next.clone(), changes }))?;
    }
    Ok(next)
}

pub fn archive(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = get(conn, id, &Scope::All)?;
    crate::http::etag::check(expected, current.version)?;
    if current.archived_at.is_some() {
        return Ok(());
    }
    let mut next = current.clone();
    next.archived_at = Some(db::now().and_utc());
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "delete", "partner", id, audit::diff(Some(&current), Some(&next)))?;
    events::emit(conn, &DomainEvent::PartnerArchived(PartnerSnapshot { partner: next }))?;
    Ok(())
}

// ---- contacts ----

/// The partner a contact write goes to: it must exist and not be archived.
fn writable_partner(conn: &mut DbConn, partner_id: &str) -> Result<Partner, ApiError> {
    let partner = get(conn, partner_id, &Scope::All)?;
    if partner.archived_at.is_some() {
        return Err(ApiError::conflict(Code::PartnerArchived, "the partner is archived and can no longer change"));
    }
    Ok(partner)
}

pub fn create_contact(
    conn: &mut DbConn,
    actor: &Actor,
    partner_id: &str,
    input: &ContactCreate,
) -> Result<Contact, ApiError> {
    writable_partner(conn, partner_id)?;
    let now = db::now().and_utc();
    let contact = Contact {
        id: db::new_id(),
        partner_id: partner_id.to_string(),
        name: input.name.clone(),
        title: input.title.clone(),
        phone: input.phone.clone(),
        email: input.email.clone(),
        wecom_userid: input.wecom_userid.clone(),
        dingtalk_userid: input.dingtalk_userid.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(pc::table).values(contact.clone()).execute(conn)?;
    audit::record(conn, actor, "create", "contact", &contact.id, audit::diff(None::<&Contact>, Some(&contact)))?;
    Ok(contact)
}

pub fn get_contact(conn: &mut DbConn, partner_id: &str, id: &str, scope: &Scope) -> Result<Contact, ApiError> {
    get(conn, partner_id, scope)?;
    let contact: Option<Contact> = pc::table
        .filter(pc::id.eq(id).and(pc::partner_id.eq(partner_id)))
        .select(Contact::as_select())
        .first(conn)
        .optional()?;
    contact.ok_or_else(|| ApiError::not_found(Code::ContactNotFound))
}

/// A partner's contacts in the order they were added.
pub fn list_contacts(
    conn: &mut DbConn,
    partner_id: &str,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Contact>, ApiError> {
    get(conn, partner_id, scope)?;
    let mut q = pc::table.filter(pc::partner_id.eq(partner_id.to_string())).into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(pc::id.gt(after[0].clone()));
    }
    Ok(q.order(pc::id.asc()).limit(page.limit + 1).select(Contact::as_select()).load(conn)?)
}

pub fn update_contact(
    conn: &mut DbConn,
    actor: &Actor,
    partner_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &ContactUpdate,
) -> Result<Contact, ApiError> {
    writable_partner(conn, partner_id)?;
    let current = get_contact(conn, partner_id, id, &Scope::All)?;
    crate::http::etag::check(expected, current.version)?;
    let mut next = patch.apply(&current);
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(pc::table.filter(pc::id.eq(id).and(pc::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    audit::record(conn, actor, "update", "contact", id, changes)?;
    Ok(next)
}

pub fn delete_contact(
    conn: &mut DbConn,
    actor: &Actor,
    partner_id: &str,
    id: &str,
    expected: &Option<Vec<i64>>,
) -> Result<(), ApiError> {
    let current = get_contact(conn, partner_id, id, &Scope::All)?;
    crate::http::etag::check(expected, current.version)?;
    diesel::delete(pc::table.filter(pc::id.eq(id))).execute(conn)?;
    audit::record(conn, actor, "delete", "contact", id, audit::diff(Some(&current), None::<&Contact>))?;
    Ok(())
}

//! Recruitment campaign queries, and the funnel read from the partners each campaign brought in
//! (`partners.campaign_id`, `partners.activated_at`).

use diesel::prelude::*;

use super::events::{CampaignSnapshot, CampaignUpdated};
use super::model::*;
use crate::access::Actor;
use crate::audit;
use crate::db::schema::{partners as p, recruitment_campaigns as rc};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::partners::model::PartnerStatus;

pub fn create(conn: &mut DbConn, actor: &Actor, input: &CampaignCreate) -> Result<Campaign, ApiError> {
    let campaign = input.to_campaign(db::new_id(), db::now().and_utc())?;
    diesel::insert_into(rc::table).values(campaign.clone()).execute(conn)?;
    audit::record(
        conn,
        actor,
        "create",
        "recruitment_campaign",
        &campaign.id,
        audit::diff(None::<&Campaign>, Some(&campaign)),
    )?;
    events::emit(conn, &DomainEvent::RecruitmentCampaignCreated(CampaignSnapshot { campaign: campaign.clone() }))?;
    Ok(campaign)
}

/// A campaign, archived ones included.
pub fn get(conn: &mut DbConn, id: &str) -> Result<Campaign, ApiError> {
    let found: Option<Campaign> = rc::table.find(id).select(Campaign::as_select()).first(conn).optional()?;
    found.ok_or_else(|| ApiError::not_found(Code::RecruitmentCampaignNotFound))
}

/// Current campaigns, newest first.
pub fn list(conn: &mut DbConn, filter: &CampaignFilter, page: &PageRequest) -> Result<Vec<Campaign>, ApiError> {
    let mut q = rc::table.filter(rc::archived_at.is_null()).into_boxed();
    if let Some(v) = filter.kind {
        q = q.filter(rc::kind.eq(v));
    }
    if let Some(v) = &filter.region {
        q = q.filter(rc::region.eq(v.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(rc::id.lt(after[0].clone()));
    }
    Ok(q.order(rc::id.desc()).limit(page.limit + 1).select(Campaign::as_select()).load(conn)?)
}

fn save(conn: &mut DbConn, current: &Campaign, next: &mut Campaign) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(rc::table.filter(rc::id.eq(&current.id).and(rc::version.eq(current.version))))
        .set(next.clone())
        .execute(conn)?;
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
    patch: &CampaignUpdate,
) -> Result<Campaign, ApiError> {
    let current = get(conn, id)?;
    // An invalid request is answered as such whatever its preconditions (RFC 9110 §13.2.2).
    let mut next = patch.apply(&current)?;
    etag::check(expected, current.version)?;
    if current.archived_at.is_some() {
        return Err(ApiError::conflict(
            Code::RecruitmentCampaignArchived,
            "the recruitment campaign is archived and can no longer change",
        ));
    }
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "update", "recruitment_campaign", id, changes.clone())?;
    let updated = CampaignUpdated { campaign: next.clone(), changes };
    events::emit(conn, &DomainEvent::RecruitmentCampaignUpdated(updated))?;
    Ok(next)
}

/// Archives the campaign: it leaves the lists and takes no new partners; those it brought in keep
/// their `campaign_id`, and its funnel stays readable.
pub fn archive(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = get(conn, id)?;
    etag::check(expected, current.version)?;
    if current.archived_at.is_some() {
        return Ok(());
    }
    let mut next = current.clone();
    next.archived_at = Some(db::now().and_utc());
    save(conn, &current, &mut next)?;
    audit::record(conn, actor, "delete", "recruitment_campaign", id, audit::diff(Some(&current), Some(&next)))?;
    events::emit(conn, &DomainEvent::RecruitmentCampaignArchived(CampaignSnapshot { campaign: next }))?;
    Ok(())
}

/// The campaign's funnel over its current (not archived) partners; `partners_campaign` indexes
/// them, so the work grows with the campaign, not with the partner book.
pub fn funnel(conn: &mut DbConn, id: &str) -> Result<Funnel, ApiError> {
    let campaign = get(conn, id)?;
    let recruited = p::table.filter(p::campaign_id.eq(id).and(p::archived_at.is_null()));
    let per_status: Vec<(PartnerStatus, i64)> =
        recruited.group_by(p::status).select((p::status, diesel::dsl::count_star())).load(conn)?;
    let mut counts = StatusCounts::default();
    for (status, n) in per_status {
        let slot = match status {
            PartnerStatus::Prospect => &mut counts.prospects,
            PartnerStatus::Onboarding => &mut counts.onboarding,
            PartnerStatus::Active => &mut counts.active,
            PartnerStatus::Suspended => &mut counts.suspended,
            PartnerStatus::Terminated => &mut counts.terminated,
        };
        *slot += n;
    }
    let activations: Vec<(chrono::DateTime<chrono::Utc>, Option<chrono::DateTime<chrono::Utc>>)> =
        recruited.filter(p::activated_at.is_not_null()).select((p::created_at, p::activated_at)).load(conn)?;
    let activations: Vec<_> = activations.into_iter().filter_map(|(c, a)| Some((c, a?))).collect();
    Ok(Funnel::compute(&campaign, counts, &activations))
}

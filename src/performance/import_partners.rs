//! The partners file of `channeldesk import partners`: one partner per row, with the fields of
//! `POST /api/v1/partners` that fit a flat row (lists such as `territories` separated by `;`) and
//! `status` (a file usually comes from a system where the partners already have one; default
//! `prospect`). It lives beside the performance import because it is read, numbered, chunked
//! and reported by the same code; the rules of a partner are the partners room's own
//! (`PartnerCreate` / `PartnerUpdate` validation, the name rule, the status lifecycle).
//!
//! insert: every row is a new partner (a name a current partner has is a bad row). upsert: a
//! row whose name a current partner has (ignoring case, as names are unique) updates that
//! partner with the row's non-empty cells, as a `PATCH` would (status moves follow the
//! lifecycle); other rows are new partners.

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::prelude::*;
use serde_json::Value;

use super::events::ImportMode;
use super::import_rows::{checked_api, internal, row_error, typed, ImportResult, Row};
use crate::access::Actor;
use crate::audit;
use crate::db::schema::{partner_territories as pt, partners as p, recruitment_campaigns as rc};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code, FieldError};
use crate::events::{self, DomainEvent};
use crate::partners::events::PartnerSnapshot;
use chrono::{DateTime, Utc};

use crate::db::types::{JsonText, UtcTime};
use crate::partners::model::{
    name_key, ChannelType, Partner, PartnerCreate, PartnerKind, PartnerSource, PartnerStatus, PartnerUpdate, Tier,
};

/// A checked partners chunk: new partners, and (id, patch) of the partners rows update.
pub struct PartnerPlan {
    pub inserts: Vec<Partner>,
    pub updates: Vec<(String, PartnerUpdate)>,
}

/// Plans a partners chunk; every bad row is reported.
pub fn plan(
    conn: &mut DbConn,
    rows: &[Row],
    mode: ImportMode,
    mut errors: Vec<FieldError>,
) -> Result<PartnerPlan, Vec<FieldError>> {
    let keys: BTreeSet<String> =
        rows.iter().filter_map(|r| r.fields.get("name").and_then(Value::as_str)).map(name_key).collect();
    let campaign_ids: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.fields.get("campaign_id").and_then(Value::as_str))
        .map(str::to_ascii_lowercase)
        .collect();
    let existing = current_by_name(conn, &keys).map_err(|e| vec![internal(e)])?;
    let campaigns = current_campaigns(conn, &campaign_ids).map_err(|e| vec![internal(e)])?;
    let now = db::now().and_utc();
    let mut plan = PartnerPlan { inserts: Vec::new(), updates: Vec::new() };
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in rows {
        let number = row.number;
        let mut fields = row.fields.clone();
        let status = match fields.remove("status").map(serde_json::from_value::<PartnerStatus>) {
            None => None,
            Some(Ok(s)) => Some(s),
            Some(Err(_)) => {
                let msg = "must be one of prospect, onboarding, active, suspended, terminated";
                errors.push(row_error(number, "status", msg));
                continue;
            }
        };
        let campaign = fields.get("campaign_id").and_then(Value::as_str).map(str::to_ascii_lowercase);
        let unknown_campaign =
            campaign.as_ref().is_some_and(|id| uuid::Uuid::parse_str(id).is_ok() && !campaigns.contains(id));
        let key = fields.get("name").and_then(Value::as_str).map(name_key);
        if let Some(key) = &key {
            if let Some(first) = seen.insert(key.clone(), number) {
                errors.push(row_error(number, "name", format!("row {first} already names this partner")));
                continue;
            }
        }
        match (key.and_then(|k| existing.get(&k)), mode) {
            (Some(current), ImportMode::Upsert) => {
                if let Some(s) = status {
                    fields.insert("status".into(), Value::from(s.to_string()));
                }
                let row = Row { number, fields };
                if let Some(patch) = planned_update(&row, current, unknown_campaign, &mut errors) {
                    plan.updates.push((current.id.clone(), patch));
                }
            }
            (Some(current), ImportMode::Insert) => errors.push(row_error(
                number,
                "name",
                format!("a partner named {:?} already exists (import with --mode upsert to update it)", current.name),
            )),
            (None, _) => {
                let input = typed::<PartnerCreate>(&Row { number, fields }, &mut errors);
                let Some(input) = checked_api(number, input, PartnerCreate::validate, &mut errors) else {
                    continue;
                };
                if unknown_campaign {
                    errors.push(row_error(number, "campaign_id", "no such recruitment campaign (or it is archived)"));
                    continue;
                }
                plan.inserts.push(new_partner(input, status.unwrap_or(PartnerStatus::Prospect), now));
            }
        }
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        errors.sort_by_key(|e| e.row);
        Err(errors)
    }
}

/// The patch an upsert row makes of a stored partner, checked as `PATCH /partners/{id}` checks
/// it (the status move included); `None` after reporting why not.
fn planned_update(
    row: &Row,
    current: &Partner,
    unknown_campaign: bool,
    errors: &mut Vec<FieldError>,
) -> Option<PartnerUpdate> {
    let number = row.number;
    let patch = typed::<PartnerUpdate>(row, errors);
    let patch = checked_api(number, patch, |u| u.validate(current), errors)?;
    if let Some(to) = patch.status {
        if to != current.status && !current.status.can_move_to(to) {
            errors.push(row_error(number, "status", format!("a partner cannot move from {} to {to}", current.status)));
            return None;
        }
    }
    if unknown_campaign {
        errors.push(row_error(number, "campaign_id", "no such recruitment campaign (or it is archived)"));
        return None;
    }
    Some(patch)
}

/// The partner a row creates, as `POST /partners` makes it but in the row's status; one that is
/// (or was) active counts as activated now.
fn new_partner(input: PartnerCreate, status: PartnerStatus, now: chrono::DateTime<chrono::Utc>) -> Partner {
    let activated = matches!(status, PartnerStatus::Active | PartnerStatus::Suspended);
    Partner {
        id: db::new_id(),
        name: input.name,
        channel_type: input.channel_type,
        kind: input.kind,
        tier: input.tier.unwrap_or(Tier::Standard),
        status,
        region: input.region,
        territories: input.territories,
        industries: input.industries,
        owner: input.owner,
        next_review_at: input.next_review_at.map(db::stored_precision),
        notes: input.notes,
        source: input.source,
        campaign_id: input.campaign_id.map(|id| id.to_ascii_lowercase()),
        activated_at: activated.then_some(now),
        version: 1,
        created_at: now,
        updated_at: now,
        archived_at: None,
    }
}

/// Current partners whose name keys are among `keys`, by key.
fn current_by_name(conn: &mut DbConn, keys: &BTreeSet<String>) -> Result<HashMap<String, Partner>, ApiError> {
    let keys: Vec<&String> = keys.iter().collect();
    let mut out = HashMap::new();
    for chunk in keys.chunks(500) {
        let rows: Vec<(String, Partner)> = p::table
            .filter(p::name_key.eq_any(chunk.iter().copied()).and(p::archived_at.is_null()))
            .select((p::name_key, Partner::as_select()))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Current recruitment campaigns among `ids`.
fn current_campaigns(conn: &mut DbConn, ids: &BTreeSet<String>) -> Result<HashSet<String>, ApiError> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<String> = rc::table
            .filter(rc::id.eq_any(chunk.iter().copied()).and(rc::archived_at.is_null()))
            .select(rc::id)
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// A partner's row with its name key, for multi-row inserts (a `Partner` embedded in a row
/// struct is not insertable by reference, which diesel's derive needs).
#[derive(Insertable)]
#[diesel(table_name = p, treat_none_as_default_value = false)]
struct NewPartner {
    id: String,
    name: String,
    name_key: String,
    channel_type: ChannelType,
    kind: PartnerKind,
    tier: Tier,
    status: PartnerStatus,
    region: Option<String>,
    #[diesel(serialize_as = JsonText)]
    territories: Vec<String>,
    #[diesel(serialize_as = JsonText)]
    industries: Vec<String>,
    owner: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    next_review_at: Option<DateTime<Utc>>,
    notes: Option<String>,
    source: Option<PartnerSource>,
    campaign_id: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    activated_at: Option<DateTime<Utc>>,
    version: i64,
    #[diesel(serialize_as = UtcTime)]
    created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    updated_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    archived_at: Option<DateTime<Utc>>,
}

impl From<&Partner> for NewPartner {
    fn from(p: &Partner) -> Self {
        let p = p.clone();
        NewPartner {
            name_key: name_key(&p.name),
            id: p.id,
            name: p.name,
            channel_type: p.channel_type,
            kind: p.kind,
            tier: p.tier,
            status: p.status,
            region: p.region,
            territories: p.territories,
            industries: p.industries,
            owner: p.owner,
            next_review_at: p.next_review_at,
            notes: p.notes,
            source: p.source,
            campaign_id: p.campaign_id,
            activated_at: p.activated_at,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
            archived_at: p.archived_at,
        }
    }
}

/// Writes a partners plan: new partners in multi-row statements, each with its audit record and
/// `partner.created`; updates one by one through the partners store (its audit and events).
pub fn write(conn: &mut DbConn, actor: &Actor, plan: PartnerPlan) -> Result<ImportResult, ApiError> {
    let result = ImportResult { created: plan.inserts.len() as u64, updated: plan.updates.len() as u64 };
    let territories: Vec<_> = plan
        .inserts
        .iter()
        .flat_map(|p| p.territories.iter().map(|t| (pt::partner_id.eq(p.id.clone()), pt::territory.eq(t.clone()))))
        .collect();
    let rows: Vec<NewPartner> = plan.inserts.iter().map(NewPartner::from).collect();
    db::insert_many(conn, p::table, rows).map_err(|e| {
        // Another writer took a name since the plan read them: the unique index decides.
        if db::is_unique_violation(&e) {
            ApiError::conflict(Code::PartnerNameTaken, "a partner of this chunk was created meanwhile; run it again")
        } else {
            e.into()
        }
    })?;
    db::insert_many(conn, pt::table, territories)?;
    for partner in plan.inserts {
        audit::record(conn, actor, "create", "partner", &partner.id, audit::diff(None::<&Partner>, Some(&partner)))?;
        events::emit(conn, &DomainEvent::PartnerCreated(PartnerSnapshot { partner }))?;
    }
    for (id, patch) in plan.updates {
        crate::partners::store::update(conn, actor, &id, &None, &patch)?;
    }
    Ok(result)
}

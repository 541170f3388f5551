//! Bulletins in the database: drafts written freely, publishing resolves the audience into one
//! recipient row per partner (in the same transaction as the status move and its event), and
//! lists read in list order through whichever index the filters allow.

use actix_web::http::StatusCode;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::events::BulletinSnapshot;
use super::model::*;
use crate::access::Actor;
use crate::access::Scope;
use crate::audit;
use crate::db::like_pattern;
use crate::db::schema::{bulletin_recipients as br, bulletins as b, partners as p};
use crate::db::{self, json as dbjson, DbConn};
use crate::error::{ApiError, Code, FieldError};
use crate::events::{self, DomainEvent};
use crate::http::etag;
use crate::http::pagination::PageRequest;
use crate::partners::model::{ChannelType, PartnerStatus, Tier};

pub fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::BulletinNotFound, "bulletin not found")
}

fn conflict_on(code: Code, detail: impl Into<String>, fields: &[(&str, &str)]) -> ApiError {
    let mut err = ApiError::conflict(code, detail);
    err.errors = fields.iter().map(|(f, m)| FieldError::new(*f, *m)).collect();
    err
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = b)]
#[diesel(treat_none_as_null = true)]
struct BulletinRow {
    id: String,
    title: String,
    title_key: String,
    body: String,
    body_key: String,
    category: String,
    importance: String,
    audience: String,
    attachments: String,
    pinned: bool,
    expires_at: Option<NaiveDateTime>,
    status: String,
    recipient_count: i64,
    published_at: Option<NaiveDateTime>,
    archived_at: Option<NaiveDateTime>,
    sort_at: NaiveDateTime,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl BulletinRow {
    fn into_model(self) -> Result<Bulletin, ApiError> {
        Ok(Bulletin {
            id: self.id,
            title: self.title,
            body: self.body,
            category: Category::from_db(&self.category)?,
            importance: Importance::from_db(&self.importance)?,
            audience: Some(dbjson::decode(&self.audience)?),
            attachments: dbjson::decode(&self.attachments)?,
            pinned: self.pinned,
            expires_at: self.expires_at.map(|t| t.and_utc()),
            status: BulletinStatus::from_db(&self.status)?,
            recipient_count: Some(self.recipient_count),
            published_at: self.published_at.map(|t| t.and_utc()),
            archived_at: self.archived_at.map(|t| t.and_utc()),
            read_at: None,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    fn from_model(m: &Bulletin) -> Self {
        BulletinRow {
            id: m.id.clone(),
            title: m.title.clone(),
            title_key: search_key(&m.title),
            body: m.body.clone(),
            body_key: search_key(&m.body),
            category: m.category.as_str().into(),
            importance: m.importance.as_str().into(),
            audience: dbjson::encode(&m.audience.clone().unwrap_or_default()),
            attachments: dbjson::encode(&m.attachments),
            pinned: m.pinned,
            expires_at: m.expires_at.map(|t| t.naive_utc()),
            status: m.status.as_str().into(),
            recipient_count: m.recipient_count.unwrap_or(0),
            published_at: m.published_at.map(|t| t.naive_utc()),
            archived_at: m.archived_at.map(|t| t.naive_utc()),
            sort_at: m.sort_key().at,
            version: m.version,
            created_at: m.created_at.naive_utc(),
            updated_at: m.updated_at.naive_utc(),
        }
    }
}

/// Every partner an audience names must exist and not be archived; the error points at the
/// request's own index. Shared with the other rooms that take an audience.
pub fn ensure_partners_exist(conn: &mut DbConn, request: &AudienceRequest) -> Result<(), ApiError> {
    let ids = request.normalize().partner_ids;
    if ids.is_empty() {
        return Ok(());
    }
    let found: Vec<String> =
        p::table.filter(p::id.eq_any(&ids).and(p::archived_at.is_null())).select(p::id).load(conn)?;
    let errors: Vec<FieldError> = request
        .partner_ids
        .iter()
        .enumerate()
        .filter(|(_, raw)| {
            let id = uuid::Uuid::parse_str(raw).map(|u| u.hyphenated().to_string()).unwrap_or_default();
            !found.contains(&id)
        })
        .map(|(i, _)| FieldError::new(format!("audience.partner_ids[{i}]"), "no such partner (or it is archived)"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: &BulletinCreate) -> Result<Bulletin, ApiError> {
    ensure_partners_exist(conn, &input.audience)?;
    let now = db::now().and_utc();
    let bulletin = Bulletin {
        id: db::new_id(),
        title: input.title.clone(),
        body: input.body.clone(),
        category: input.category,
        importance: input.importance.unwrap_or(Importance::Normal),
        audience: Some(input.audience.normalize()),
        attachments: input.attachments.iter().map(AttachmentRequest::to_attachment).collect(),
        pinned: input.pinned,
        expires_at: input.expires_at.map(crate::db::stored_precision),
        status: BulletinStatus::Draft,
        recipient_count: Some(0),
        published_at: None,
        archived_at: None,
        read_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(b::table).values(BulletinRow::from_model(&bulletin)).execute(conn)?;
    audit::record(conn, actor, "create", "bulletin", &bulletin.id, audit::diff(None::<&Bulletin>, Some(&bulletin)))?;
    Ok(bulletin)
}

/// A bulletin as staff see it.
pub fn load(conn: &mut DbConn, id: &str) -> Result<Bulletin, ApiError> {
    let row: Option<BulletinRow> = b::table.find(id).select(BulletinRow::as_select()).first(conn).optional()?;
    row.ok_or_else(not_found)?.into_model()
}

/// A bulletin visible in `scope`. A partner key sees only published, unexpired bulletins
/// addressed to its partner, with its own read receipt; everything else is 404.
pub fn get(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Bulletin, ApiError> {
    let own = match scope {
        Scope::All => return load(conn, id),
        Scope::Partner(own) => own,
    };
    let now = db::now();
    let row: Option<(BulletinRow, Option<NaiveDateTime>)> = br::table
        .inner_join(b::table.on(b::id.eq(br::bulletin_id)))
        .filter(br::bulletin_id.eq(id).and(br::partner_id.eq(own)))
        .filter(b::status.eq(BulletinStatus::Published.as_str()))
        .filter(b::expires_at.is_null().or(b::expires_at.gt(now)))
        .select((BulletinRow::as_select(), br::read_at))
        .first(conn)
        .optional()?;
    let (row, read_at) = row.ok_or_else(not_found)?;
    Ok(row.into_model()?.for_partner(read_at.map(|t| t.and_utc())))
}

/// Filters on the bulletin's own columns, the same for both query shapes of `list`.
macro_rules! bulletin_filters {
    ($q:expr, $filter:expr) => {{
        let mut q = $q;
        let filter: &BulletinFilter = $filter;
        if let Some(v) = filter.category {
            q = q.filter(b::category.eq(v.as_str()));
        }
        if let Some(v) = filter.status {
            q = q.filter(b::status.eq(v.as_str()));
        }
        if let Some(v) = filter.importance {
            q = q.filter(b::importance.eq(v.as_str()));
        }
        if let Some(v) = &filter.q {
            let pattern = like_pattern(&search_key(v));
            q = q.filter(b::title_key.like(pattern.clone()).escape('\\').or(b::body_key.like(pattern).escape('\\')));
        }
        q
    }};
}

/// Bulletins in list order: pinned first, then newest published (drafts by creation time), then
/// id. Filtering by recipient (`addressed_to`, `unread_by`, and every partner key) reads the
/// recipients table, whose index holds the same order.
pub fn list(
    conn: &mut DbConn,
    filter: &BulletinFilter,
    page: &PageRequest,
    scope: &Scope,
) -> Result<Vec<Bulletin>, ApiError> {
    let after = page.after.as_deref().map(SortKey::parse).transpose()?;
    // Whose recipient rows drive the query, whether only the unread ones, and a second partner
    // the bulletin must also be addressed to.
    let by = match scope {
        Scope::Partner(own) => {
            // A partner key only ever sees its own partner's bulletins.
            let other = |v: &Option<String>| v.as_ref().is_some_and(|x| x != own);
            if other(&filter.addressed_to) || other(&filter.unread_by) {
                return Ok(Vec::new());
            }
            Some(ByRecipient { partner_id: own.clone(), unread_only: filter.unread_by.is_some(), also: None })
        }
        Scope::All => match (&filter.unread_by, &filter.addressed_to) {
            (Some(u), a) => {
                Some(ByRecipient { partner_id: u.clone(), unread_only: true, also: a.clone().filter(|a| a != u) })
            }
            (None, Some(a)) => Some(ByRecipient { partner_id: a.clone(), unread_only: false, also: None }),
            (None, None) => None,
        },
    };
    match by {
        None => list_all(conn, filter, page, after.as_ref()),
        Some(by) => list_by_recipient(conn, filter, page, after.as_ref(), scope, &by),
    }
}

/// The recipient whose rows a list reads.
struct ByRecipient {
    partner_id: String,
    /// Only the bulletins it has not acknowledged.
    unread_only: bool,
    /// A second partner the bulletin must also be addressed to.
    also: Option<String>,
}

/// Every bulletin, read from the bulletins table in list order (or, for a narrow publication
/// window, through bulletins_published; the planner picks).
fn list_all(
    conn: &mut DbConn,
    filter: &BulletinFilter,
    page: &PageRequest,
    after: Option<&SortKey>,
) -> Result<Vec<Bulletin>, ApiError> {
    let mut q = bulletin_filters!(b::table.into_boxed(), filter);
    if let Some(from) = filter.published_from {
        q = q.filter(b::published_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.published_to {
        q = q.filter(b::published_at.lt(to.naive_utc()));
    }
    if let Some(k) = after {
        q = q.filter(
            b::pinned
                .lt(k.pinned)
                .or(b::pinned.eq(k.pinned).and(b::sort_at.lt(k.at)))
                .or(b::pinned.eq(k.pinned).and(b::sort_at.eq(k.at)).and(b::id.lt(k.id.clone()))),
        );
    }
    let rows: Vec<BulletinRow> = q
        .order((b::pinned.desc(), b::sort_at.desc(), b::id.desc()))
        .limit(page.limit + 1)
        .select(BulletinRow::as_select())
        .load(conn)?;
    rows.into_iter().map(BulletinRow::into_model).collect()
}

/// The bulletins addressed to one recipient, read from its recipient rows in list order; a
/// partner key sees only those published and in force, with its own read receipt.
fn list_by_recipient(
    conn: &mut DbConn,
    filter: &BulletinFilter,
    page: &PageRequest,
    after: Option<&SortKey>,
    scope: &Scope,
    by: &ByRecipient,
) -> Result<Vec<Bulletin>, ApiError> {
    let joined = br::table.inner_join(b::table.on(b::id.eq(br::bulletin_id))).into_boxed();
    let mut q = bulletin_filters!(joined, filter).filter(br::partner_id.eq(by.partner_id.clone()));
    if by.unread_only {
        q = q.filter(br::acknowledged.eq(false));
    }
    if let Some(other) = &by.also {
        let (ob, op) = (br::bulletin_id, br::partner_id);
        let also = diesel::alias!(br as also);
        q = q.filter(b::id.eq_any(also.filter(also.field(op).eq(other.clone())).select(also.field(ob))));
    }
    if let Scope::Partner(_) = scope {
        let now = db::now();
        q = q
            .filter(b::status.eq(BulletinStatus::Published.as_str()))
            .filter(b::expires_at.is_null().or(b::expires_at.gt(now)));
    }
    if let Some(from) = filter.published_from {
        q = q.filter(br::published_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.published_to {
        q = q.filter(br::published_at.lt(to.naive_utc()));
    }
    if let Some(k) = after {
        q = q.filter(
            br::pinned
                .lt(k.pinned)
                .or(br::pinned.eq(k.pinned).and(br::published_at.lt(k.at)))
                .or(br::pinned.eq(k.pinned).and(br::published_at.eq(k.at)).and(br::bulletin_id.lt(k.id.clone()))),
        );
    }
    let rows: Vec<(BulletinRow, Option<NaiveDateTime>)> = q
        .order((br::pinned.desc(), br::published_at.desc(), br::bulletin_id.desc()))
        .limit(page.limit + 1)
        .select((BulletinRow::as_select(), br::read_at))
        .load(conn)?;
    rows.into_iter()
        .map(|(row, read_at)| {
            let bulletin = row.into_model()?;
            Ok(match scope {
                Scope::Partner(_) => bulletin.for_partner(read_at.map(|t| t.and_utc())),
                Scope::All => bulletin,
            })
        })
        .collect()
}

/// The bulletins in force: published and not expired at `now`, in list order (pinned first, then
/// newest), at most `limit`. A partner scope reads them as `list` does for a partner key: only
/// those addressed to it, with its read receipt.
pub fn current(conn: &mut DbConn, scope: &Scope, now: DateTime<Utc>, limit: i64) -> Result<Vec<Bulletin>, ApiError> {
    let filter = BulletinFilter { status: Some(BulletinStatus::Published), ..Default::default() };
    if let Scope::Partner(_) = scope {
        let mut rows = list(conn, &filter, &PageRequest { limit, after: None }, scope)?;
        rows.truncate(limit.max(0) as usize);
        return Ok(rows);
    }
    let rows: Vec<BulletinRow> = bulletin_filters!(b::table.into_boxed(), &filter)
        .filter(b::expires_at.is_null().or(b::expires_at.gt(now.naive_utc())))
        .order((b::pinned.desc(), b::sort_at.desc(), b::id.desc()))
        .limit(limit)
        .select(BulletinRow::as_select())
        .load(conn)?;
    rows.into_iter().map(BulletinRow::into_model).collect()
}

/// Writes `next` over `current` if nobody changed it in between (else 412).
fn save(conn: &mut DbConn, current: &Bulletin, next: &mut Bulletin) -> Result<(), ApiError> {
    next.version = current.version + 1;
    next.updated_at = db::now().and_utc();
    let updated = diesel::update(b::table.filter(b::id.eq(&current.id).and(b::version.eq(current.version))))
        .set(BulletinRow::from_model(next))
        .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::version_mismatch());
    }
    Ok(())
}

/// Applies a validated patch: drafts take every field, published bulletins only `pinned` and
/// `expires_at`, archived ones nothing.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected: &Option<Vec<i64>>,
    patch: &BulletinUpdate,
) -> Result<Bulletin, ApiError> {
    let current = load(conn, id)?;
    etag::check(expected, current.version)?;
    if current.status == BulletinStatus::Archived {
        return Err(ApiError::conflict(Code::BulletinArchived, "the bulletin is archived and can no longer change"));
    }
    let mut next = patch.apply(&current);
    next.expires_at = next.expires_at.map(crate::db::stored_precision);
    if current.status == BulletinStatus::Published {
        let locked = locked_changes(&current, &next);
        if !locked.is_empty() {
            let message = "cannot change once the bulletin is published (only pinned and expires_at can)";
            let fields: Vec<(&str, &str)> = locked.iter().map(|f| (*f, message)).collect();
            return Err(conflict_on(
                Code::BulletinNotEditable,
                format!(
                    "a published bulletin keeps what partners were sent; {} cannot change (archive it and publish a new one)",
                    locked.join(", ")
                ),
                &fields,
            ));
        }
    }
    if let Some(audience) = &patch.audience {
        if next.audience != current.audience {
            ensure_partners_exist(conn, audience)?;
        }
    }
    let changes = audit::diff(Some(&current), Some(&next));
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(current);
    }
    save(conn, &current, &mut next)?;
    if next.pinned != current.pinned && current.status == BulletinStatus::Published {
        // Recipients' lists are ordered from their own rows.
        diesel::update(br::table.filter(br::bulletin_id.eq(id))).set(br::pinned.eq(next.pinned)).execute(conn)?;
    }
    audit::record(conn, actor, "update", "bulletin", id, changes)?;
    Ok(next)
}

type CandidateRow = (String, String, Option<String>, String, String, Option<NaiveDateTime>);

/// The partners that could be in `audience`: a superset (current active and onboarding partners
/// of each named group) read through the partner indexes; `resolve_audience` decides.
pub fn load_candidates(conn: &mut DbConn, audience: &Audience) -> Result<Vec<Candidate>, ApiError> {
    let reachable = [PartnerStatus::Active.as_str(), PartnerStatus::Onboarding.as_str()];
    let base = || {
        p::table
            .filter(p::archived_at.is_null())
            .filter(p::status.eq_any(reachable))
            .select((p::id, p::tier, p::region, p::channel_type, p::status, p::archived_at))
            .into_boxed()
    };
    let mut rows: Vec<CandidateRow> = Vec::new();
    if audience.all {
        rows = base().load(conn)?;
    } else {
        if !audience.tiers.is_empty() {
            let tiers: Vec<&str> = audience.tiers.iter().map(|t| t.as_str()).collect();
            rows.extend(base().filter(p::tier.eq_any(tiers)).load::<CandidateRow>(conn)?);
        }
        if !audience.regions.is_empty() {
            rows.extend(base().filter(p::region.eq_any(&audience.regions)).load::<CandidateRow>(conn)?);
        }
        if !audience.channel_types.is_empty() {
            let types: Vec<&str> = audience.channel_types.iter().map(|t| t.as_str()).collect();
            rows.extend(base().filter(p::channel_type.eq_any(types)).load::<CandidateRow>(conn)?);
        }
        if !audience.partner_ids.is_empty() {
            rows.extend(base().filter(p::id.eq_any(&audience.partner_ids)).load::<CandidateRow>(conn)?);
        }
    }
    rows.into_iter()
        .map(|(id, tier, region, channel_type, status, archived_at)| {
            Ok(Candidate {
                id,
                tier: Tier::from_db(&tier)?,
                region,
                channel_type: ChannelType::from_db(&channel_type)?,
                status: PartnerStatus::from_db(&status)?,
                archived: archived_at.is_some(),
            })
        })
        .collect()
}

/// A recipient's row as publishing writes it: unread, unacknowledged.
#[derive(Insertable)]
#[diesel(table_name = br, treat_none_as_default_value = false)]
struct RecipientRow {
    bulletin_id: String,
    partner_id: String,
    pinned: bool,
    published_at: NaiveDateTime,
    acknowledged: bool,
    read_at: Option<NaiveDateTime>,
    contact_id: Option<String>,
    contact_name: Option<String>,
    recorded_by: Option<String>,
    on_behalf: bool,
    version: i64,
}

/// Publishes a draft: resolves its audience into recipients now and keeps that list, in the same
/// transaction as the status change and the `bulletin.published` event.
pub fn publish(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<Bulletin, ApiError> {
    let current = load(conn, id)?;
    etag::check(expected, current.version)?;
    if !current.status.can_move_to(BulletinStatus::Published) {
        return Err(ApiError::conflict(
            Code::InvalidStatusTransition,
            format!("a {} bulletin cannot be published; only drafts can", current.status),
        ));
    }
    let now = db::now();
    if current.expires_at.is_some_and(|at| at.naive_utc() <= now) {
        return Err(conflict_on(
            Code::BulletinExpired,
            "the bulletin's expires_at has passed: move it into the future before publishing",
            &[("expires_at", "must be in the future to publish")],
        ));
    }
    let audience = current.audience.clone().unwrap_or_default();
    let recipients = resolve_audience(&audience, &load_candidates(conn, &audience)?);
    if recipients.is_empty() {
        return Err(conflict_on(
            Code::NoRecipients,
            "the audience matches no active or onboarding partner right now",
            &[("audience", "matches no active or onboarding partner")],
        ));
    }
    let mut next = current.clone();
    next.status = BulletinStatus::Published;
    next.published_at = Some(now.and_utc());
    next.recipient_count = Some(recipients.len() as i64);
    save(conn, &current, &mut next)?;
    let rows: Vec<RecipientRow> = recipients
        .iter()
        .map(|partner_id| RecipientRow {
            bulletin_id: id.to_string(),
            partner_id: partner_id.clone(),
            pinned: next.pinned,
            published_at: now,
            acknowledged: false,
            read_at: None,
            contact_id: None,
            contact_name: None,
            recorded_by: None,
            on_behalf: false,
            version: 1,
        })
        .collect();
    db::insert_many(conn, br::table, rows)?;
    audit::record(conn, actor, "publish", "bulletin", id, audit::diff(Some(&current), Some(&next)))?;
    events::emit(conn, &DomainEvent::BulletinPublished(BulletinSnapshot::new(next.clone(), recipients)))?;
    Ok(next)
}

fn recipient_ids(conn: &mut DbConn, id: &str) -> Result<Vec<String>, ApiError> {
    Ok(br::table.filter(br::bulletin_id.eq(id)).order(br::partner_id.asc()).select(br::partner_id).load(conn)?)
}

/// Archives a published bulletin (partners stop seeing it; receipts are kept). Archiving an
/// archived bulletin changes nothing; a draft cannot be archived (delete it instead).
pub fn archive(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<Bulletin, ApiError> {
    let current = load(conn, id)?;
    etag::check(expected, current.version)?;
    match current.status {
        BulletinStatus::Archived => return Ok(current),
        BulletinStatus::Draft => {
            return Err(ApiError::conflict(
                Code::InvalidStatusTransition,
                "a draft cannot be archived: it was never sent; delete it instead",
            ))
        }
        BulletinStatus::Published => {}
    }
    let mut next = current.clone();
    next.status = BulletinStatus::Archived;
    next.archived_at = Some(db::now().and_utc());
    save(conn, &current, &mut next)?;
    let recipients = recipient_ids(conn, id)?;
    audit::record(conn, actor, "archive", "bulletin", id, audit::diff(Some(&current), Some(&next)))?;
    events::emit(conn, &DomainEvent::BulletinArchived(BulletinSnapshot::new(next.clone(), recipients)))?;
    Ok(next)
}

/// `DELETE`: a draft is discarded (the audit trail keeps it); a published bulletin is archived,
/// since partners have seen it; an archived one stays as it is.
pub fn delete(conn: &mut DbConn, actor: &Actor, id: &str, expected: &Option<Vec<i64>>) -> Result<(), ApiError> {
    let current = load(conn, id)?;
    etag::check(expected, current.version)?;
    match current.status {
        BulletinStatus::Draft => {
            let deleted =
                diesel::delete(b::table.filter(b::id.eq(id).and(b::version.eq(current.version)))).execute(conn)?;
            if deleted != 1 {
                return Err(ApiError::version_mismatch());
            }
            audit::record(conn, actor, "delete", "bulletin", id, audit::diff(Some(&current), None::<&Bulletin>))?;
        }
        BulletinStatus::Published => {
            archive(conn, actor, id, expected)?;
        }
        BulletinStatus::Archived => {}
    }
    Ok(())
}

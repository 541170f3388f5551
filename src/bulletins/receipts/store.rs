//! Read receipts in the database: one row per recipient, written when the bulletin is published
//! (`bulletins::store::publish`) and acknowledged once; the first acknowledgement is kept.

use actix_web::http::StatusCode;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Receipt, ReceiptFilter};
use crate::access::{Actor, Scope};
use crate::audit;
use crate::bulletins::model::BulletinStatus;
use crate::bulletins::store::{get, load};
use crate::db::schema::{bulletin_recipients as br, partner_contacts as pc, partners as p};
use crate::db::{self, DbConn};
use crate::error::{ApiError, Code};
use crate::http::pagination::PageRequest;

fn recipient_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::RecipientNotFound, "the partner is not a recipient of this bulletin")
}

#[derive(Queryable)]
struct ReceiptRow {
    bulletin_id: String,
    partner_id: String,
    partner_name: String,
    acknowledged: bool,
    read_at: Option<NaiveDateTime>,
    contact_id: Option<String>,
    contact_name: Option<String>,
    recorded_by: Option<String>,
    on_behalf: bool,
    version: i64,
}

impl ReceiptRow {
    fn into_model(self) -> Receipt {
        Receipt {
            bulletin_id: self.bulletin_id,
            partner_id: self.partner_id,
            partner_name: self.partner_name,
            read: self.acknowledged,
            read_at: self.read_at.map(|t| t.and_utc()),
            contact_id: self.contact_id,
            contact_name: self.contact_name,
            recorded_by: self.recorded_by,
            on_behalf: self.on_behalf,
            version: self.version,
        }
    }
}

macro_rules! receipt_columns {
    () => {
        (
            br::bulletin_id,
            br::partner_id,
            p::name,
            br::acknowledged,
            br::read_at,
            br::contact_id,
            br::contact_name,
            br::recorded_by,
            br::on_behalf,
            br::version,
        )
    };
}

fn find_receipt(conn: &mut DbConn, bulletin_id: &str, partner_id: &str) -> Result<Option<Receipt>, ApiError> {
    let row: Option<ReceiptRow> = br::table
        .inner_join(p::table.on(p::id.eq(br::partner_id)))
        .filter(br::bulletin_id.eq(bulletin_id).and(br::partner_id.eq(partner_id)))
        .select(receipt_columns!())
        .first(conn)
        .optional()?;
    Ok(row.map(ReceiptRow::into_model))
}

/// Who acknowledges: a partner key for its own partner, or staff on a partner's behalf.
#[derive(Debug, Clone)]
pub enum Acknowledger {
    /// A partner key; the bulletin must be visible to it.
    Partner(String),
    /// A manager or admin recording for this partner.
    Staff(String),
}

/// Records that a partner read the bulletin. Returns the receipt and whether this call recorded
/// it (false when it was already acknowledged: the first time is kept).
pub fn acknowledge(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    by: &Acknowledger,
    contact_id: Option<&str>,
) -> Result<(Receipt, bool), ApiError> {
    let (partner_id, on_behalf) = match by {
        Acknowledger::Partner(own) => {
            get(conn, id, &Scope::Partner(own.clone()))?;
            (own.as_str(), false)
        }
        Acknowledger::Staff(partner_id) => {
            load(conn, id)?;
            (partner_id.as_str(), true)
        }
    };
    let current = find_receipt(conn, id, partner_id)?.ok_or_else(recipient_not_found)?;
    let contact_name = match contact_id {
        None => None,
        Some(cid) => {
            let name: Option<String> = pc::table
                .filter(pc::id.eq(cid).and(pc::partner_id.eq(partner_id)))
                .select(pc::name)
                .first(conn)
                .optional()?;
            Some(name.ok_or_else(|| ApiError::field("contact_id", "is not a contact of this partner"))?)
        }
    };
    if current.read {
        return Ok((current, false));
    }
    let updated = diesel::update(
        br::table.filter(br::bulletin_id.eq(id).and(br::partner_id.eq(partner_id)).and(br::acknowledged.eq(false))),
    )
    .set((
        br::acknowledged.eq(true),
        br::read_at.eq(Some(db::now())),
        br::contact_id.eq(contact_id),
        br::contact_name.eq(contact_name),
        br::recorded_by.eq(Some(&actor.name)),
        br::on_behalf.eq(on_behalf),
        br::version.eq(current.version + 1),
    ))
    .execute(conn)?;
    let receipt = find_receipt(conn, id, partner_id)?.ok_or_else(recipient_not_found)?;
    if updated == 0 {
        // Another request acknowledged it in between; its time stands.
        return Ok((receipt, false));
    }
    audit::record(conn, actor, "acknowledge", "bulletin_receipt", id, audit::diff(Some(&current), Some(&receipt)))?;
    Ok((receipt, true))
}

/// One recipient's receipt. A partner key may read only its own, on a bulletin it can see.
pub fn receipt(conn: &mut DbConn, id: &str, partner_id: &str, scope: &Scope) -> Result<Receipt, ApiError> {
    get(conn, id, scope)?;
    if !scope.allows(partner_id) {
        return Err(recipient_not_found());
    }
    let receipt = find_receipt(conn, id, partner_id)?.ok_or_else(recipient_not_found)?;
    Ok(match scope {
        Scope::All => receipt,
        Scope::Partner(_) => receipt.for_partner(),
    })
}

/// Totals over every recipient of a bulletin.
pub struct ReceiptTotals {
    pub recipients: i64,
    pub read: i64,
}

/// The recipients of a published (or archived) bulletin in partner id order, with totals.
pub fn receipts(
    conn: &mut DbConn,
    id: &str,
    filter: &ReceiptFilter,
    page: &PageRequest,
) -> Result<(ReceiptTotals, Vec<Receipt>), ApiError> {
    let bulletin = load(conn, id)?;
    if bulletin.status == BulletinStatus::Draft {
        return Err(ApiError::conflict(
            Code::BulletinNotPublished,
            "a draft has no recipients yet: they are resolved when it is published",
        ));
    }
    let read: i64 = br::table.filter(br::bulletin_id.eq(id).and(br::acknowledged.eq(true))).count().get_result(conn)?;
    let totals = ReceiptTotals { recipients: bulletin.recipient_count.unwrap_or(0), read };
    let mut q = br::table.inner_join(p::table.on(p::id.eq(br::partner_id))).filter(br::bulletin_id.eq(id)).into_boxed();
    if let Some(read) = filter.read {
        q = q.filter(br::acknowledged.eq(read));
    }
    if let Some(after) = &page.after {
        q = q.filter(br::partner_id.gt(after[0].clone()));
    }
    let rows: Vec<ReceiptRow> =
        q.order(br::partner_id.asc()).limit(page.limit + 1).select(receipt_columns!()).load(conn)?;
    Ok((totals, rows.into_iter().map(ReceiptRow::into_model).collect()))
}

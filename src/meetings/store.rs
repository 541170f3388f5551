//! The queries every part of the meetings room shares: a meeting by id within a caller's scope,
//! partner names for events and exports, and the check of the records a meeting (or a series
//! template) refers to — partners, a key account, contacts — which also fills attendees in from
//! their contacts.

use std::collections::HashMap;

use diesel::prelude::*;

use super::meetings::model::{meeting_not_found, Meeting};
use super::model::{id_or_empty, Attendee, AttendeeRequest};
use crate::access::Scope;
use crate::db::schema::{key_accounts as ka, meetings as m, partner_contacts as pc, partners as p};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::validation::Check;

/// A meeting visible in `scope` (others are "not found").
pub fn meeting(conn: &mut DbConn, id: &str, scope: &Scope) -> Result<Meeting, ApiError> {
    let found: Option<Meeting> = m::table.find(id).select(Meeting::as_select()).first(conn).optional()?;
    found.filter(|meeting| meeting.visible_in(scope)).ok_or_else(meeting_not_found)
}

/// `id → name` of the given partners.
pub fn partner_names(conn: &mut DbConn, ids: &[String]) -> Result<HashMap<String, String>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> =
        p::table.filter(p::id.eq_any(ids.to_vec())).select((p::id, p::name)).load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Checks the records a meeting refers to: current partners (when `check_partners`), a current key
/// account, and contacts of the meeting's partners. Problems are added to `c` under `prefix`; returns the attendees with
/// their contacts' details filled in.
pub fn resolve_refs(
    conn: &mut DbConn,
    c: &mut Check,
    prefix: &str,
    partner_ids: &[String],
    check_partners: bool,
    key_account_id: Option<&str>,
    attendees: Option<&[AttendeeRequest]>,
) -> Result<Option<Vec<Attendee>>, ApiError> {
    if check_partners {
        let current: Vec<String> = p::table
            .filter(p::id.eq_any(partner_ids.to_vec()))
            .filter(p::archived_at.is_null())
            .select(p::id)
            .load(conn)?;
        for (i, id) in partner_ids.iter().enumerate() {
            if !current.contains(id) {
                c.add(format!("{prefix}partner_ids[{i}]"), "is not a current partner");
            }
        }
    }
    if let Some(id) = key_account_id {
        let found: i64 = ka::table.filter(ka::id.eq(id)).filter(ka::archived_at.is_null()).count().get_result(conn)?;
        if found == 0 {
            c.add(format!("{prefix}key_account_id"), "is not a current key account");
        }
    }
    let Some(attendees) = attendees else { return Ok(None) };
    let contact_ids: Vec<String> =
        attendees.iter().filter_map(|a| a.contact_id.as_deref().map(id_or_empty)).filter(|id| !id.is_empty()).collect();
    type ContactInfo = (String, String, String, Option<String>, Option<String>, Option<String>);
    let contacts: Vec<ContactInfo> = if contact_ids.is_empty() {
        Vec::new()
    } else {
        pc::table
            .filter(pc::id.eq_any(contact_ids))
            .select((pc::id, pc::partner_id, pc::name, pc::email, pc::wecom_userid, pc::dingtalk_userid))
            .load(conn)?
    };
    let mut out = Vec::with_capacity(attendees.len());
    for (i, a) in attendees.iter().enumerate() {
        let mut attendee = Attendee {
            name: a.name.clone().unwrap_or_default(),
            contact_id: None,
            partner_id: None,
            email: a.email.clone(),
            wecom_userid: a.wecom_userid.clone(),
            dingtalk_userid: a.dingtalk_userid.clone(),
        };
        if let Some(raw) = &a.contact_id {
            let id = id_or_empty(raw);
            match contacts.iter().find(|ct| ct.0 == id) {
                None => c.add(format!("{prefix}attendees[{i}].contact_id"), "is not a partner contact"),
                Some((cid, partner_id, name, email, wecom, dingtalk)) => {
                    if !partner_ids.contains(partner_id) {
                        c.add(
                            format!("{prefix}attendees[{i}].contact_id"),
                            "is a contact of a partner that is not in the meeting",
                        );
                    }
                    attendee.contact_id = Some(cid.clone());
                    attendee.partner_id = Some(partner_id.clone());
                    if a.name.is_none() {
                        attendee.name = name.clone();
                    }
                    attendee.email = attendee.email.or_else(|| email.clone());
                    attendee.wecom_userid = attendee.wecom_userid.or_else(|| wecom.clone());
                    attendee.dingtalk_userid = attendee.dingtalk_userid.or_else(|| dingtalk.clone());
                }
            }
        }
        out.push(attendee);
    }
    Ok(Some(out))
}

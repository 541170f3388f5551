//! A meeting as an iCalendar VEVENT: what calendar apps show of it (title, partners, agenda,
//! link, organizer, attendees), with a UID and SEQUENCE that let them update it in place.

use std::collections::HashMap;

use super::ics;
use crate::error::ApiError;
use crate::meetings::meetings::model::{MeetingStatus, MeetingView};
use crate::meetings::time;

/// "1 other attendee", "2 other attendees".
fn others(n: usize, what: &str) -> String {
    format!("{n} other {what}{}", if n == 1 { "" } else { "s" })
}

/// What calendar apps show as the event's notes: kind and partners, agenda, link, organizer,
/// attendees. A partner key's view names only its own partner and people; the rest are counts.
fn description(view: &MeetingView, names: &HashMap<String, String>) -> String {
    let meeting = &view.meeting;
    let mut partners: Vec<String> =
        meeting.partner_ids.iter().map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone())).collect();
    if let Some(n) = view.other_partners.filter(|&n| n > 0) {
        partners.push(others(n, "partner"));
    }
    let mut lines = vec![format!("{} · {}", meeting.kind.as_str().replace('_', " "), partners.join(", "))];
    if !meeting.agenda.is_empty() {
        lines.push("Agenda:".into());
        lines.extend(meeting.agenda.iter().enumerate().map(|(i, item)| format!("{}. {item}", i + 1)));
    }
    if let Some(url) = &meeting.online_url {
        lines.push(format!("Online: {url}"));
    }
    lines.push(format!("Organizer: {}", meeting.organizer));
    let mut who: Vec<String> = meeting.attendees.iter().map(|a| a.name.clone()).collect();
    if let Some(n) = view.other_attendees.filter(|&n| n > 0) {
        who.push(others(n, "attendee"));
    }
    if !who.is_empty() {
        lines.push(format!("Attendees: {}", who.join(", ")));
    }
    if let Some(reason) = &meeting.cancel_reason {
        lines.push(format!("Cancelled: {reason}"));
    }
    lines.join("\n")
}

/// The VEVENT of a meeting as a caller may see it: UID `<id>@channeldesk`, SEQUENCE
/// `version − 1`, times in the meeting's own timezone (UTC ones in UTC).
pub fn event(view: &MeetingView, names: &HashMap<String, String>) -> Result<ics::Event, ApiError> {
    let meeting = &view.meeting;
    let tz = meeting.tz()?;
    Ok(ics::Event {
        uid: format!("{}@channeldesk", meeting.id),
        dtstamp: meeting.updated_at,
        created: meeting.created_at,
        starts_at: meeting.starts_at,
        ends_at: meeting.ends_at,
        tz: if time::is_utc(tz) { None } else { Some(tz) },
        summary: meeting.title.clone(),
        description: Some(description(view, names)),
        location: meeting.location.clone(),
        url: meeting.online_url.clone(),
        categories: Some(meeting.kind.as_str().to_string()),
        organizer: meeting
            .organizer_email
            .as_ref()
            .map(|email| ics::Person { name: meeting.organizer.clone(), email: email.clone() }),
        attendees: meeting
            .attendees
            .iter()
            .filter_map(|a| a.email.as_ref().map(|e| ics::Person { name: a.name.clone(), email: e.clone() }))
            .collect(),
        sequence: meeting.version - 1,
        cancelled: meeting.status == MeetingStatus::Cancelled,
    })
}

/// A feed: one VEVENT per meeting, in the order given.
pub fn feed(meetings: &[MeetingView], names: &HashMap<String, String>) -> Result<String, ApiError> {
    let events = meetings.iter().map(|m| event(m, names)).collect::<Result<Vec<_>, _>>()?;
    Ok(ics::calendar("channeldesk meetings", &events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Scope;
    use crate::meetings::meetings::model::Meeting;

    fn joint() -> Meeting {
        let person = |name: &str, partner: Option<&str>| {
            serde_json::json!({"name": name, "contact_id": partner.map(|_| "c"), "partner_id": partner,
                "email": format!("{name}@example.cn"), "wecom_userid": null, "dingtalk_userid": null})
        };
        serde_json::from_value(serde_json::json!({
            "id": "m1", "series_id": null, "title": "联合回顾", "kind": "business_review",
            "partner_ids": ["pa", "pb"], "key_account_id": null, "organizer": "王芳", "organizer_email": null,
            "attendees": [person("alice", Some("pa")), person("bob", Some("pb")), person("carol", None)],
            "agenda": [], "location": null, "online_url": null,
            "starts_at": "2027-01-04T02:00:00Z", "ends_at": "2027-01-04T03:00:00Z", "timezone": "Asia/Shanghai",
            "status": "scheduled", "minutes": null, "decisions": [], "cancel_reason": null, "held_at": null,
            "cancelled_at": null, "version": 1,
            "created_at": "2027-01-01T00:00:00Z", "updated_at": "2027-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn a_partner_keys_event_names_only_its_own_partner_and_people() {
        let names: HashMap<String, String> = [("pa".into(), "甲公司".into()), ("pb".into(), "乙公司".into())].into();
        let staff = event(&joint().view(&Scope::All), &names).unwrap();
        let text = staff.description.unwrap_or_default();
        assert!(text.contains("甲公司, 乙公司") && text.contains("Attendees: alice, bob, carol"), "{text}");
        assert_eq!(staff.attendees.len(), 3);
        let b = event(&joint().view(&Scope::Partner("pb".into())), &names).unwrap();
        let text = b.description.unwrap_or_default();
        assert!(text.contains("business review · 乙公司, 1 other partner"), "{text}");
        assert!(text.contains("Attendees: bob, 2 other attendees"), "{text}");
        assert!(!text.contains("甲公司") && !text.contains("alice") && !text.contains("carol"), "{text}");
        assert_eq!(b.attendees, vec![ics::Person { name: "bob".into(), email: "bob@example.cn".into() }]);
    }
}

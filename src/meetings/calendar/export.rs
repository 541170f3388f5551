//! A meeting as an iCalendar VEVENT: what calendar apps show of it (title, partners, agenda,
//! link, organizer, attendees), with a UID and SEQUENCE that let them update it in place.

use std::collections::HashMap;

use super::ics;
use crate::error::ApiError;
use crate::meetings::meetings::model::{Meeting, MeetingStatus};
use crate::meetings::time;

/// The VEVENT of a meeting: UID `<id>@channeldesk`, SEQUENCE `version − 1`, times in the
/// meeting's own timezone (UTC ones in UTC).
pub fn event(meeting: &Meeting, names: &HashMap<String, String>) -> Result<ics::Event, ApiError> {
    let tz = meeting.tz()?;
    let partners: Vec<&str> =
        meeting.partner_ids.iter().map(|id| names.get(id).map(String::as_str).unwrap_or(id.as_str())).collect();
    let mut description = vec![format!("{} · {}", meeting.kind.as_str().replace('_', " "), partners.join(", "))];
    if !meeting.agenda.is_empty() {
        description.push("Agenda:".into());
        description.extend(meeting.agenda.iter().enumerate().map(|(i, item)| format!("{}. {item}", i + 1)));
    }
    if let Some(url) = &meeting.online_url {
        description.push(format!("Online: {url}"));
    }
    description.push(format!("Organizer: {}", meeting.organizer));
    if !meeting.attendees.is_empty() {
        let who: Vec<&str> = meeting.attendees.iter().map(|a| a.name.as_str()).collect();
        description.push(format!("Attendees: {}", who.join(", ")));
    }
    if let Some(reason) = &meeting.cancel_reason {
        description.push(format!("Cancelled: {reason}"));
    }
    Ok(ics::Event {
        uid: format!("{}@channeldesk", meeting.id),
        dtstamp: meeting.updated_at,
        created: meeting.created_at,
        starts_at: meeting.starts_at,
        ends_at: meeting.ends_at,
        tz: if time::is_utc(tz) { None } else { Some(tz) },
        summary: meeting.title.clone(),
        description: Some(description.join("\n")),
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
pub fn feed(meetings: &[Meeting], names: &HashMap<String, String>) -> Result<String, ApiError> {
    let events = meetings.iter().map(|m| event(m, names)).collect::<Result<Vec<_>, _>>()?;
    Ok(ics::calendar("channeldesk meetings", &events))
}

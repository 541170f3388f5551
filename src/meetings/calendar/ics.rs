//! An iCalendar (RFC 5545) writer for meetings: CRLF line ends, content lines folded at 75
//! octets without splitting a UTF-8 character, TEXT escaping, and a VTIMEZONE for every zone the
//! events use, built from the tz database for the span of time the events cover.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// Octets a content line may have before it is folded (CRLF not counted).
const MAX_LINE_OCTETS: usize = 75;
pub const PRODID: &str = "-//channeldesk//Meetings 1.0//EN";

/// Someone with a calendar address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// One VEVENT.
#[derive(Debug, Clone)]
pub struct Event {
    /// Stable across every export of the same meeting.
    pub uid: String,
    /// When this version of the event was written (the meeting's last change): exports of an
    /// unchanged meeting are byte-identical.
    pub dtstamp: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The zone DTSTART/DTEND are written in; `None` writes them in UTC.
    pub tz: Option<Tz>,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    pub categories: Option<String>,
    pub organizer: Option<Person>,
    pub attendees: Vec<Person>,
    /// Grows with every change of the event.
    pub sequence: i64,
    pub cancelled: bool,
}

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks; other control characters
/// (which TEXT may not hold) become spaces.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A parameter value, always quoted: DQUOTE cannot appear inside, so it becomes an apostrophe;
/// control characters become spaces.
pub fn param_value(value: &str) -> String {
    let inner: String = value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("\"{inner}\"")
}

/// Splits one logical line into physical lines of at most 75 octets, each continuation starting
/// with a space (which counts toward its 75), breaking only between characters.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
    out
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local_stamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// What a zone's clocks say at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observance {
    offset: i32,
    dst: bool,
    name: Option<String>,
}

fn observance(tz: Tz, at: DateTime<Utc>) -> Observance {
    let o = tz.offset_from_utc_datetime(&at.naive_utc());
    Observance {
        offset: o.fix().local_minus_utc(),
        dst: !o.dst_offset().is_zero(),
        name: o.abbreviation().map(str::to_string),
    }
}

/// Every change of observance in `[from, to]`: the first instant of each new one.
fn transitions(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, Observance, Observance)> {
    let mut out = Vec::new();
    let mut t = from;
    let mut current = observance(tz, t);
    while t < to {
        let next = (t + Duration::days(1)).min(to);
        let after = observance(tz, next);
        if after != current {
            // Bisect to the second: `lo` still shows `current`, `hi` shows the new observance.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if observance(tz, mid) == current {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let new = observance(tz, hi);
            out.push((hi, current.clone(), new.clone()));
            current = new;
            // Keep scanning from the transition itself: two changes within one day are found too.
            t = hi;
            continue;
        }
        t = next;
    }
    out
}

fn observance_block(out: &mut String, from: &Observance, to: &Observance, starts_local: NaiveDateTime) {
    let kind = if to.dst { "DAYLIGHT" } else { "STANDARD" };
    out.push_str(&fold(&format!("BEGIN:{kind}")));
    out.push_str(&fold(&format!("DTSTART:{}", local_stamp(starts_local))));
    out.push_str(&fold(&format!("TZOFFSETFROM:{}", offset_text(from.offset))));
    out.push_str(&fold(&format!("TZOFFSETTO:{}", offset_text(to.offset))));
    if let Some(name) = &to.name {
        out.push_str(&fold(&format!("TZNAME:{}", escape_text(name))));
    }
    out.push_str(&fold(&format!("END:{kind}")));
}

/// A VTIMEZONE stating `tz`'s offsets over `[from, to]`: the observance in force at `from`, then
/// one block per change.
pub fn vtimezone(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let mut out = String::new();
    out.push_str(&fold("BEGIN:VTIMEZONE"));
    out.push_str(&fold(&format!("TZID:{}", tz.name())));
    let first = observance(tz, from);
    observance_block(&mut out, &first, &first, from.naive_utc() + Duration::seconds(i64::from(first.offset)));
    for (at, before, after) in transitions(tz, from, to) {
        // DTSTART of an observance is the local time of the change, read with the old offset.
        observance_block(&mut out, &before, &after, at.naive_utc() + Duration::seconds(i64::from(before.offset)));
    }
    out.push_str(&fold("END:VTIMEZONE"));
    out
}

fn date_time_line(name: &str, at: DateTime<Utc>, tz: Option<Tz>) -> String {
    match tz {
        Some(tz) => fold(&format!("{name};TZID={}:{}", tz.name(), local_stamp(at.with_timezone(&tz).naive_local()))),
        None => fold(&format!("{name}:{}", utc_stamp(at))),
    }
}

fn person_line(name: &str, extra: &str, p: &Person) -> String {
    fold(&format!("{name};CN={}{extra}:mailto:{}", param_value(&p.name), p.email))
}

fn write_event(out: &mut String, e: &Event) {
    out.push_str(&fold("BEGIN:VEVENT"));
    out.push_str(&fold(&format!("UID:{}", escape_text(&e.uid))));
    out.push_str(&fold(&format!("DTSTAMP:{}", utc_stamp(e.dtstamp))));
    out.push_str(&fold(&format!("CREATED:{}", utc_stamp(e.created))));
    out.push_str(&fold(&format!("LAST-MODIFIED:{}", utc_stamp(e.dtstamp))));
    out.push_str(&fold(&format!("SEQUENCE:{}", e.sequence.max(0))));
    out.push_str(&date_time_line("DTSTART", e.starts_at, e.tz));
    out.push_str(&date_time_line("DTEND", e.ends_at, e.tz));
    out.push_str(&fold(&format!("SUMMARY:{}", escape_text(&e.summary))));
    if let Some(d) = &e.description {
        out.push_str(&fold(&format!("DESCRIPTION:{}", escape_text(d))));
    }
    if let Some(l) = &e.location {
        out.push_str(&fold(&format!("LOCATION:{}", escape_text(l))));
    }
    if let Some(u) = &e.url {
        out.push_str(&fold(&format!("URL:{u}")));
    }
    if let Some(c) = &e.categories {
        out.push_str(&fold(&format!("CATEGORIES:{}", escape_text(c))));
    }
    out.push_str(&fold(if e.cancelled { "STATUS:CANCELLED" } else { "STATUS:CONFIRMED" }));
    if let Some(o) = &e.organizer {
        out.push_str(&person_line("ORGANIZER", "", o));
    }
    for a in &e.attendees {
        out.push_str(&person_line("ATTENDEE", ";ROLE=REQ-PARTICIPANT", a));
    }
    out.push_str(&fold("END:VEVENT"));
}

/// A whole calendar: `name` becomes X-WR-CALNAME; each zone the events use gets a VTIMEZONE
/// covering the whole years their times fall in (so a zone with daylight saving shows both of
/// its changes, and the block is the same for every export in those years).
pub fn calendar(name: &str, events: &[Event]) -> String {
    let mut out = String::new();
    out.push_str(&fold("BEGIN:VCALENDAR"));
    out.push_str(&fold(&format!("PRODID:{PRODID}")));
    out.push_str(&fold("VERSION:2.0"));
    out.push_str(&fold("CALSCALE:GREGORIAN"));
    out.push_str(&fold(&format!("X-WR-CALNAME:{}", escape_text(name))));
    let mut zones: Vec<Tz> = events.iter().filter_map(|e| e.tz).collect();
    zones.sort_by_key(|tz| tz.name());
    zones.dedup();
    for tz in zones {
        let of_zone = events.iter().filter(|e| e.tz == Some(tz));
        let from = of_zone.clone().map(|e| e.starts_at.min(e.ends_at)).min();
        let to = of_zone.map(|e| e.ends_at.max(e.starts_at)).max();
        if let (Some(from), Some(to)) = (from, to) {
            let year_start = |y: i32| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).single();
            let local_year = |t: DateTime<Utc>| t.with_timezone(&tz).year();
            let start = year_start(local_year(from)).unwrap_or(from - Duration::days(1));
            let end = year_start(local_year(to) + 1).unwrap_or(to + Duration::days(1));
            // The local year's first instant can be up to a day before UTC midnight.
            out.push_str(&vtimezone(tz, start - Duration::days(1), end + Duration::days(1)));
        }
    }
    for e in events {
        write_event(&mut out, e);
    }
    out.push_str(&fold("END:VCALENDAR"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "")
    }

    #[test]
    fn folding_respects_octets_and_characters() {
        let line = format!("SUMMARY:{}", "渠道季度业务回顾会议".repeat(12));
        let folded = fold(&line);
        assert!(folded.ends_with("\r\n"));
        for physical in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(physical.len() <= 75, "{} octets: {physical}", physical.len());
        }
        assert!(folded.split("\r\n").skip(1).filter(|l| !l.is_empty()).all(|l| l.starts_with(' ')));
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
        // A 4-octet character straddling the limit moves whole to the next line.
        let emoji = format!("X:{}{}", "a".repeat(72), "🤝");
        let folded = fold(&emoji);
        assert_eq!(folded, format!("X:{}\r\n 🤝\r\n", "a".repeat(72)));
        assert_eq!(fold(&"b".repeat(75)), format!("{}\r\n", "b".repeat(75)));
        assert_eq!(fold(&"b".repeat(76)), format!("{}\r\n b\r\n", "b".repeat(75)));
    }

    #[test]
    fn text_escaping() {
        assert_eq!(escape_text("a\\b;c,d\ne\r\nf\rg\u{7}h\ti"), "a\\\\b\\;c\\,d\\ne\\nf\\ng h\ti");
        assert_eq!(escape_text("华东, 华南; 回顾"), "华东\\, 华南\\; 回顾");
        assert_eq!(param_value("Li \"Lei\": a;b,c"), "\"Li 'Lei': a;b,c\"");
    }

    #[test]
    fn offsets_print_as_rfc_5545_utc_offsets() {
        assert_eq!(offset_text(8 * 3600), "+0800");
        assert_eq!(offset_text(-5 * 3600), "-0500");
        assert_eq!(offset_text(5 * 3600 + 45 * 60), "+0545");
        assert_eq!(offset_text(-(3600 + 30)), "-010030");
    }

    #[test]
    fn vtimezone_lists_the_changes_in_range() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let from: DateTime<Utc> = "2027-03-01T00:00:00Z".parse().unwrap();
        let to: DateTime<Utc> = "2027-12-01T00:00:00Z".parse().unwrap();
        let tz = vtimezone(ny, from, to);
        assert!(tz.contains("TZID:America/New_York\r\n"));
        // The change of 2027-03-14 02:00 EST, and back on 2027-11-07 02:00 EDT.
        assert!(
            tz.contains(
                "BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"
            ),
            "{tz}"
        );
        assert!(
            tz.contains(
                "BEGIN:STANDARD\r\nDTSTART:20271107T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n"
            ),
            "{tz}"
        );
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let tz = vtimezone(sh, from, to);
        assert_eq!(tz.matches("BEGIN:STANDARD").count(), 1, "no changes in Shanghai: {tz}");
        assert!(tz.contains("TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\n"));
    }

    #[test]
    fn calendar_shape() {
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let at: DateTime<Utc> = "2027-01-04T02:00:00Z".parse().unwrap();
        let event = Event {
            uid: "m1@channeldesk".into(),
            dtstamp: at,
            created: at,
            starts_at: at,
            ends_at: at + Duration::hours(1),
            tz: Some(sh),
            summary: "季度回顾, Q1".into(),
            description: None,
            location: None,
            url: Some("https://meet.example.cn/q1".into()),
            categories: None,
            organizer: Some(Person { name: "王芳".into(), email: "wang.fang@example.cn".into() }),
            attendees: vec![],
            sequence: 2,
            cancelled: true,
        };
        let mut utc = event.clone();
        utc.tz = None;
        let cal = calendar("channeldesk", &[event, utc]);
        assert!(cal.starts_with("BEGIN:VCALENDAR\r\nPRODID:-//channeldesk//Meetings 1.0//EN\r\nVERSION:2.0\r\n"));
        assert!(cal.ends_with("END:VCALENDAR\r\n"));
        assert!(!cal.replace("\r\n", "").contains('\n'), "only CRLF line ends");
        assert!(cal.contains("DTSTART;TZID=Asia/Shanghai:20270104T100000\r\n"));
        assert!(cal.contains("DTSTART:20270104T020000Z\r\n"));
        assert!(cal.contains("SUMMARY:季度回顾\\, Q1\r\n"));
        assert!(cal.contains("STATUS:CANCELLED\r\n"));
        assert!(cal.contains("SEQUENCE:2\r\n"));
        assert!(cal.contains("ORGANIZER;CN=\"王芳\":mailto:wang.fang@example.cn\r\n"));
        assert_eq!(cal.matches("BEGIN:VTIMEZONE").count(), 1);
    }
}

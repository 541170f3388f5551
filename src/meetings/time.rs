//! Wall-clock time in IANA timezones, kept pure: how a local time becomes an instant and back.
//! Meetings are planned in their own zone (a 10:00 meeting stays at 10:00 local across
//! daylight-saving changes, so its UTC instant moves), and an action item becomes overdue at
//! midnight in its meeting's zone.
//!
//! Local times that do not map to exactly one instant are resolved deterministically, as RFC 5545
//! §3.3.5 does:
//! - a time that happens twice (clocks go back) is the first of the two instants;
//! - a time that never happens (clocks go forward) is read with the UTC offset in force before the
//!   gap, which moves it forward by the gap's length (02:30 on a day that jumps from 02:00 to 03:00
//!   becomes 03:30).

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// An IANA timezone by its name (case as in the tz database, e.g. `Asia/Shanghai`).
pub fn parse_tz(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// True for the zones that are UTC under another name (calendar exports write them in UTC).
pub fn is_utc(tz: Tz) -> bool {
    matches!(tz, Tz::UTC | Tz::Etc__UTC | Tz::Etc__UCT | Tz::UCT)
}

/// The instant a wall-clock time in `tz` names (see the module docs for gaps and overlaps).
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // The offset a day earlier is the one in force before the gap (transitions are
            // months apart in every zone).
            let before = tz.offset_from_utc_datetime(&(local - Duration::days(1))).fix();
            (local - Duration::seconds(i64::from(before.local_minus_utc()))).and_utc()
        }
    }
}

/// The wall-clock time an instant shows in `tz`.
pub fn utc_to_local(tz: Tz, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

/// Moves an occurrence to `time` of day (local) in `to_tz`, keeping the local date it has in
/// `from_tz`: how a series edit of start time or timezone reaches each occurrence.
pub fn move_local(from_tz: Tz, to_tz: Tz, starts_at: DateTime<Utc>, time: Option<NaiveTime>) -> DateTime<Utc> {
    let local = utc_to_local(from_tz, starts_at);
    local_to_utc(to_tz, local.date().and_time(time.unwrap_or(local.time())))
}

/// The day after `date` starts (in `tz`): when an item due on `date` becomes overdue.
pub fn end_of_day(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let next = date.succ_opt()?;
    Some(local_to_utc(tz, next.and_hms_opt(0, 0, 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn gaps_move_forward_and_overlaps_take_the_first_instant() {
        let ny = parse_tz("America/New_York").unwrap();
        let gap = d(2027, 3, 14).and_time(NaiveTime::from_hms_opt(2, 30, 0).unwrap());
        assert_eq!(local_to_utc(ny, gap), utc("2027-03-14T07:30:00Z"));
        assert_eq!(utc_to_local(ny, local_to_utc(ny, gap)).time(), NaiveTime::from_hms_opt(3, 30, 0).unwrap());
        let twice = d(2027, 11, 7).and_time(NaiveTime::from_hms_opt(1, 30, 0).unwrap());
        assert_eq!(local_to_utc(ny, twice), utc("2027-11-07T05:30:00Z"), "01:30 EDT, the first of the two");
    }

    #[test]
    fn moving_keeps_the_local_date() {
        let sh = parse_tz("Asia/Shanghai").unwrap();
        let berlin = parse_tz("Europe/Berlin").unwrap();
        // 2027-01-04 09:00 Shanghai → 14:30 the same local date, in Berlin (UTC+1 in winter).
        let moved = move_local(sh, berlin, utc("2027-01-04T01:00:00Z"), NaiveTime::from_hms_opt(14, 30, 0));
        assert_eq!(moved, utc("2027-01-04T13:30:00Z"));
        assert_eq!(move_local(sh, sh, utc("2027-01-04T01:00:00Z"), None), utc("2027-01-04T01:00:00Z"));
    }

    #[test]
    fn overdue_starts_the_next_local_day() {
        let sh = parse_tz("Asia/Shanghai").unwrap();
        assert_eq!(end_of_day(sh, d(2027, 1, 4)), Some(utc("2027-01-04T16:00:00Z")));
        assert_eq!(utc_to_local(sh, utc("2027-01-04T01:00:00Z")).weekday(), chrono::Weekday::Mon);
        assert!(is_utc(parse_tz("Etc/UTC").unwrap()) && !is_utc(sh));
    }
}

//! Recurrence, kept pure: which local dates a rule yields, and the instants of a series'
//! occurrences. Occurrences keep the series' wall-clock time in its timezone (see
//! `meetings::time` for daylight-saving gaps and overlaps).

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::error::FieldError;
use crate::meetings::time::{local_to_utc, utc_to_local};

crate::text_enum! {
    /// weekly, biweekly (every 2 weeks), monthly, quarterly (every 3 months); `interval` multiplies.
    Frequency { Weekly => "weekly", Biweekly => "biweekly", Monthly => "monthly", Quarterly => "quarterly" }
}

/// The most occurrences one series may have.
pub const MAX_OCCURRENCES: usize = 200;

/// How a rule ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// This many occurrences in all.
    Count(u32),
    /// Occurrences on local dates up to and including this one.
    Until(NaiveDate),
}

/// The `k`-th step from `first`: weeks are added as days; months are counted from the first
/// date every time (never from the previous occurrence), and a day the month lacks becomes its
/// last day, so a series on the 31st falls on Feb 28/29, Mar 31, Apr 30, ….
fn nth_date(first: NaiveDate, frequency: Frequency, interval: u32, k: u32) -> Option<NaiveDate> {
    let steps = k.checked_mul(interval)?;
    match frequency {
        Frequency::Weekly => first.checked_add_signed(Duration::weeks(i64::from(steps))),
        Frequency::Biweekly => first.checked_add_signed(Duration::weeks(2 * i64::from(steps))),
        Frequency::Monthly => first.checked_add_months(Months::new(steps)),
        Frequency::Quarterly => first.checked_add_months(Months::new(steps.checked_mul(3)?)),
    }
}

/// The local dates of a rule starting on `first`, or the field to blame: `rule.count` or
/// `rule.until` when the rule yields no occurrence or more than [`MAX_OCCURRENCES`].
pub fn dates(first: NaiveDate, frequency: Frequency, interval: u32, end: End) -> Result<Vec<NaiveDate>, FieldError> {
    let interval = interval.max(1);
    match end {
        End::Count(n) => {
            if n == 0 || n as usize > MAX_OCCURRENCES {
                return Err(FieldError::new(
                    "rule.count",
                    format!("must be between 1 and {MAX_OCCURRENCES} (got {n})"),
                ));
            }
            (0..n)
                .map(|k| {
                    nth_date(first, frequency, interval, k)
                        .ok_or_else(|| FieldError::new("rule.count", "reaches past the supported calendar"))
                })
                .collect()
        }
        End::Until(until) => {
            if until < first {
                return Err(FieldError::new(
                    "rule.until",
                    format!("must not be before the first occurrence ({first})"),
                ));
            }
            let mut out = Vec::new();
            for k in 0.. {
                let Some(date) = nth_date(first, frequency, interval, k) else { break };
                if date > until {
                    break;
                }
                if out.len() == MAX_OCCURRENCES {
                    return Err(FieldError::new(
                        "rule.until",
                        format!("gives more than {MAX_OCCURRENCES} occurrences: choose an earlier date"),
                    ));
                }
                out.push(date);
            }
            Ok(out)
        }
    }
}

/// One generated occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The occurrences of a series whose first meeting starts at `first_start` in `tz` and lasts
/// `duration`: each keeps the first one's local time of day and its duration.
pub fn occurrences(
    tz: Tz,
    first_start: DateTime<Utc>,
    duration: Duration,
    frequency: Frequency,
    interval: u32,
    end: End,
) -> Result<Vec<Occurrence>, FieldError> {
    let local = utc_to_local(tz, first_start);
    let dates = dates(local.date(), frequency, interval, end)?;
    Ok(dates
        .into_iter()
        .map(|d| {
            let starts_at = local_to_utc(tz, d.and_time(local.time()));
            Occurrence { starts_at, ends_at: starts_at + duration }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meetings::time::parse_tz;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn monthly_on_the_31st_uses_the_last_day() {
        let got = dates(d(2027, 1, 31), Frequency::Monthly, 1, End::Count(6)).unwrap();
        assert_eq!(
            got,
            vec![d(2027, 1, 31), d(2027, 2, 28), d(2027, 3, 31), d(2027, 4, 30), d(2027, 5, 31), d(2027, 6, 30)]
        );
        let leap = dates(d(2028, 1, 31), Frequency::Monthly, 1, End::Count(2)).unwrap();
        assert_eq!(leap[1], d(2028, 2, 29));
    }

    #[test]
    fn quarterly_biweekly_and_intervals() {
        let q = dates(d(2026, 11, 30), Frequency::Quarterly, 1, End::Count(3)).unwrap();
        assert_eq!(q, vec![d(2026, 11, 30), d(2027, 2, 28), d(2027, 5, 30)]);
        let b = dates(d(2026, 12, 1), Frequency::Biweekly, 1, End::Count(3)).unwrap();
        assert_eq!(b, vec![d(2026, 12, 1), d(2026, 12, 15), d(2026, 12, 29)]);
        let w = dates(d(2026, 12, 1), Frequency::Weekly, 3, End::Count(2)).unwrap();
        assert_eq!(w, vec![d(2026, 12, 1), d(2026, 12, 22)]);
        let m2 = dates(d(2026, 12, 31), Frequency::Monthly, 2, End::Count(2)).unwrap();
        assert_eq!(m2, vec![d(2026, 12, 31), d(2027, 2, 28)]);
    }

    #[test]
    fn until_is_inclusive_and_bounded() {
        let got = dates(d(2026, 12, 1), Frequency::Weekly, 1, End::Until(d(2026, 12, 15))).unwrap();
        assert_eq!(got.len(), 3);
        let last = d(2026, 12, 1) + Duration::weeks(199);
        assert_eq!(dates(d(2026, 12, 1), Frequency::Weekly, 1, End::Until(last)).unwrap().len(), 200);
        let err = dates(d(2026, 12, 1), Frequency::Weekly, 1, End::Until(last + Duration::weeks(1))).unwrap_err();
        assert_eq!(err.field, "rule.until");
        let err = dates(d(2026, 12, 1), Frequency::Weekly, 1, End::Until(d(2026, 11, 1))).unwrap_err();
        assert_eq!(err.field, "rule.until");
        assert_eq!(dates(d(2026, 12, 1), Frequency::Weekly, 1, End::Count(200)).unwrap().len(), 200);
        assert_eq!(dates(d(2026, 12, 1), Frequency::Weekly, 1, End::Count(201)).unwrap_err().field, "rule.count");
        assert_eq!(dates(d(2026, 12, 1), Frequency::Weekly, 1, End::Count(0)).unwrap_err().field, "rule.count");
    }

    #[test]
    fn wall_clock_hour_survives_dst() {
        let ny = parse_tz("America/New_York").unwrap();
        // Mondays 10:00 New York, across the 2027-03-14 spring-forward.
        let occ = occurrences(ny, utc("2027-03-08T15:00:00Z"), Duration::hours(1), Frequency::Weekly, 1, End::Count(2))
            .unwrap();
        assert_eq!(occ[0].starts_at, utc("2027-03-08T15:00:00Z"), "EST, UTC-5");
        assert_eq!(occ[1].starts_at, utc("2027-03-15T14:00:00Z"), "EDT, UTC-4: still 10:00 local");
        assert_eq!(occ[1].ends_at - occ[1].starts_at, Duration::hours(1));
        let sh = parse_tz("Asia/Shanghai").unwrap();
        let occ = occurrences(sh, utc("2027-03-08T02:00:00Z"), Duration::hours(1), Frequency::Weekly, 1, End::Count(2))
            .unwrap();
        assert_eq!(occ[1].starts_at, utc("2027-03-15T02:00:00Z"));
    }
}

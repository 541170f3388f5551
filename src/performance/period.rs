//! Calendar months as performance and cost records key them (`YYYY-MM`), and the longer periods a
//! target or a scorecard window covers (`YYYY-Qn`, `YYYY`), each as a first and a last month.
//! Months are stored as their `YYYY-MM` text: fixed width, so text order is time order and range
//! filters (`period >= ? AND period <= ?`) use the indexes on both backends.

use std::fmt;

use crate::validation::Check;

/// One calendar month. Years 1970–9999: anything else in business data is a typo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    /// 1–12.
    month: u32,
}

pub const MONTH_HINT: &str = "must be a month written YYYY-MM, e.g. 2026-03";

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1970..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
    }

    /// `YYYY-MM` exactly (two-digit month, no spaces).
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit()) {
            return None;
        }
        Month::new(text[..4].parse().ok()?, text[5..].parse().ok()?)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    /// Months since year 0, for arithmetic.
    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    fn from_index(i: i64) -> Option<Self> {
        Month::new(i32::try_from(i.div_euclid(12)).ok()?, u32::try_from(i.rem_euclid(12)).ok()? + 1)
    }

    /// This month moved by `n` months (negative: back); `None` outside the supported years.
    pub fn plus(self, n: i64) -> Option<Self> {
        Month::from_index(self.index() + n)
    }

    /// How many months from `self` to `other` (0 when equal, negative when `other` is earlier).
    pub fn months_until(self, other: Month) -> i64 {
        other.index() - self.index()
    }

    /// The month a UTC instant falls in, in China Standard Time (the business calendar).
    pub fn of(t: chrono::DateTime<chrono::Utc>) -> Option<Self> {
        use chrono::Datelike;
        let local = t + chrono::Duration::hours(8);
        Month::new(local.year(), local.month())
    }

    /// The month's last calendar day (`None` only for December 9999).
    pub fn last_day(self) -> Option<chrono::NaiveDate> {
        let next = self.plus(1)?;
        chrono::NaiveDate::from_ymd_opt(next.year, next.month, 1)?.pred_opt()
    }

    /// Every month from `self` to `last`, both included.
    pub fn through(self, last: Month) -> impl Iterator<Item = Month> {
        (self.index()..=last.index()).filter_map(Month::from_index)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Checks a required `YYYY-MM` field.
pub fn check_month(c: &mut Check, field: &str, value: &str) -> Option<Month> {
    let month = Month::parse(value);
    if month.is_none() {
        c.add(field, MONTH_HINT);
    }
    month
}

/// A target's period: a month (`2026-03`), a quarter (`2026-Q1`) or a year (`2026`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month(Month),
    Quarter { year: i32, quarter: u32 },
    Year(i32),
}

pub const PERIOD_HINT: &str =
    "must be a month (YYYY-MM), a quarter (YYYY-Qn) or a year (YYYY), e.g. 2026-03, 2026-Q1, 2026";

impl Period {
    pub fn parse(text: &str) -> Option<Self> {
        let year_of = |s: &str| -> Option<i32> {
            (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        match text.len() {
            4 => year_of(text).filter(|y| Month::new(*y, 1).is_some()).map(Period::Year),
            7 if text.as_bytes()[5] == b'Q' => {
                let (year, rest) = (year_of(&text[..4])?, &text[4..]);
                let quarter = rest.strip_prefix("-Q")?.parse::<u32>().ok().filter(|q| (1..=4).contains(q))?;
                Month::new(year, 1)?;
                Some(Period::Quarter { year, quarter })
            }
            7 => Month::parse(text).map(Period::Month),
            _ => None,
        }
    }

    /// The first and the last month the period covers.
    pub fn months(self) -> (Month, Month) {
        let m = |y, n| Month { year: y, month: n };
        match self {
            Period::Month(month) => (month, month),
            Period::Quarter { year, quarter } => (m(year, quarter * 3 - 2), m(year, quarter * 3)),
            Period::Year(year) => (m(year, 1), m(year, 12)),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(month) => month.fmt(f),
            Period::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Period::Year(year) => write!(f, "{year:04}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_months_last_day() {
        let day = |s: &str| super::Month::parse(s).and_then(super::Month::last_day).map(|d| d.to_string());
        assert_eq!(day("2028-02").as_deref(), Some("2028-02-29"));
        assert_eq!(day("2026-12").as_deref(), Some("2026-12-31"));
        assert_eq!(day("9999-12"), None);
    }

    use super::*;

    #[test]
    fn months_parse_strictly_and_count() {
        let m = Month::parse("2026-03").unwrap();
        assert_eq!(m.to_string(), "2026-03");
        for bad in ["2026-3", "2026-13", "2026-00", "26-03", "2026/03", " 2026-03", "1969-12", "２０２６-03", "2026-0a"]
        {
            assert!(Month::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(m.plus(-3).unwrap().to_string(), "2025-12");
        assert_eq!(m.plus(10).unwrap().to_string(), "2027-01");
        assert_eq!(m.months_until(Month::parse("2027-02").unwrap()), 11);
        let all: Vec<String> = m.through(Month::parse("2026-05").unwrap()).map(|m| m.to_string()).collect();
        assert_eq!(all, ["2026-03", "2026-04", "2026-05"]);
        let late_utc = "2026-03-31T17:00:00Z".parse().unwrap();
        assert_eq!(Month::of(late_utc).unwrap().to_string(), "2026-04", "01:00 on April 1st in China");
    }

    #[test]
    fn periods_cover_their_months() {
        let months = |s: &str| {
            let (a, b) = Period::parse(s).unwrap().months();
            (a.to_string(), b.to_string())
        };
        assert_eq!(months("2026-03"), ("2026-03".into(), "2026-03".into()));
        assert_eq!(months("2026-Q1"), ("2026-01".into(), "2026-03".into()));
        assert_eq!(months("2026-Q4"), ("2026-10".into(), "2026-12".into()));
        assert_eq!(months("2026"), ("2026-01".into(), "2026-12".into()));
        for bad in ["2026-Q5", "2026-Q0", "2026Q1", "2026-q1", "202", "1969", "2026-1", ""] {
            assert!(Period::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Period::parse("2026-Q2").unwrap().to_string(), "2026-Q2");
    }
}

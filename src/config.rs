//! Typed settings, read from the environment. Every variable is listed in the README.

use std::str::FromStr;

use crate::db::DbUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://path` (default `sqlite://channeldesk.db`) or `postgres://…`.
    pub database_url: DbUrl,
    /// `CHANNELDESK_BIND`: host:port to listen on (default 127.0.0.1:8080; tests use port 0).
    pub bind: String,
    /// `CHANNELDESK_LOG_FORMAT`: pretty (default) or json.
    pub log_format: LogFormat,
    /// `CHANNELDESK_POOL_SIZE`: database connections per process (default 16).
    pub pool_size: u32,
    /// `CHANNELDESK_BODY_LIMIT_BYTES`: largest accepted request body (default 1 MiB).
    pub body_limit_bytes: usize,
    /// `CHANNELDESK_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `CHANNELDESK_AUTH_CACHE_SECS`: how long a verified API key is trusted without asking the
    /// database again (default 5; 0 turns the cache off). A key revoked through another replica
    /// stops working there within this time; through this one, at once.
    pub auth_cache_secs: u64,
    /// `CHANNELDESK_MEETING_REMINDER_LEADS`: how long before a meeting `meeting.reminder` goes
    /// out, e.g. `24h,1h` (the default), `2d,90m`; `none` turns reminders off.
    pub meeting_reminder_leads: Vec<crate::meetings::reminders::Lead>,
    /// `CHANNELDESK_RISK_SCAN_INTERVAL_SECS`: how often the contract risk scan runs (default 86400,
    /// daily; 60–2592000). It also runs once at start-up.
    pub risk_scan_interval_secs: u64,
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let database_url = lookup("DATABASE_URL").unwrap_or_else(|| "sqlite://channeldesk.db".into());
        let bind = lookup("CHANNELDESK_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        if bind.rsplit_once(':').and_then(|(_, port)| port.parse::<u16>().ok()).is_none() {
            return Err(format!("CHANNELDESK_BIND must be host:port (got {bind:?})"));
        }
        let log_format = match lookup("CHANNELDESK_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(format!("CHANNELDESK_LOG_FORMAT must be pretty or json (got {other:?})")),
        };
        Ok(Self {
            database_url: DbUrl::parse(&database_url)?,
            bind,
            log_format,
            pool_size: parse_var(&lookup, "CHANNELDESK_POOL_SIZE", 16, 1..=512)?,
            body_limit_bytes: parse_var(&lookup, "CHANNELDESK_BODY_LIMIT_BYTES", 1024 * 1024, 1024..=64 * 1024 * 1024)?,
            auth_cache_secs: parse_var(&lookup, "CHANNELDESK_AUTH_CACHE_SECS", 5, 0..=300)?,
            workers: match lookup("CHANNELDESK_WORKERS") {
                None => None,
                Some(_) => Some(parse_var(&lookup, "CHANNELDESK_WORKERS", 1, 1..=256)?),
            },
            meeting_reminder_leads: crate::meetings::reminders::parse_leads(
                lookup("CHANNELDESK_MEETING_REMINDER_LEADS")
                    .as_deref()
                    .unwrap_or(crate::meetings::reminders::DEFAULT_LEADS),
            )?,
            risk_scan_interval_secs: parse_var(&lookup, "CHANNELDESK_RISK_SCAN_INTERVAL_SECS", 86_400, 60..=2_592_000)?,
        })
    }

    /// Settings for tests: the given database, port 0, small pool.
    pub fn for_tests(database_url: DbUrl) -> Self {
        Self {
            database_url,
            bind: "127.0.0.1:0".into(),
            log_format: LogFormat::Pretty,
            pool_size: 4,
            body_limit_bytes: 256 * 1024,
            workers: Some(1),
            auth_cache_secs: 5,
            meeting_reminder_leads: crate::meetings::reminders::parse_leads(crate::meetings::reminders::DEFAULT_LEADS)
                .unwrap_or_default(),
            risk_scan_interval_secs: 86_400,
        }
    }
}

fn parse_var<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, String>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = lookup(name) else { return Ok(default) };
    let value: T = raw.trim().parse().map_err(|_| format!("{name} must be a number (got {raw:?})"))?;
    if !range.contains(&value) {
        return Err(format!("{name} must be between {} and {} (got {value})", range.start(), range.end()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn defaults_are_embedded_sqlite_on_loopback() {
        let c = Config::from_lookup(env(&[])).expect("defaults");
        assert_eq!(c.database_url, DbUrl::Sqlite("channeldesk.db".into()));
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.log_format, LogFormat::Pretty);
        assert_eq!(c.pool_size, 16);
        assert_eq!(c.meeting_reminder_leads.iter().map(|l| l.label()).collect::<Vec<_>>(), vec!["1h", "24h"]);
        assert_eq!(c.risk_scan_interval_secs, 86_400);
    }

    #[test]
    fn unknown_scheme_and_bad_numbers_are_errors() {
        assert!(Config::from_lookup(env(&[("DATABASE_URL", "mysql://x")])).is_err());
        assert!(Config::from_lookup(env(&[("CHANNELDESK_POOL_SIZE", "zero")])).is_err());
        assert!(Config::from_lookup(env(&[("CHANNELDESK_POOL_SIZE", "0")])).is_err());
        assert!(Config::from_lookup(env(&[("CHANNELDESK_LOG_FORMAT", "xml")])).is_err());
        assert!(Config::from_lookup(env(&[("CHANNELDESK_MEETING_REMINDER_LEADS", "soon")])).is_err());
        let leads = Config::from_lookup(env(&[("CHANNELDESK_MEETING_REMINDER_LEADS", "2d, 90m")])).expect("leads");
        assert_eq!(leads.meeting_reminder_leads.iter().map(|l| l.minutes).collect::<Vec<_>>(), vec![90, 2880]);
        let pg = Config::from_lookup(env(&[("DATABASE_URL", "postgres://u@h/db")])).expect("pg");
        assert_eq!(pg.database_url, DbUrl::Postgres("postgres://u@h/db".into()));
    }
}

//! Typed settings, read from the environment. Every variable is listed in the README.

use std::str::FromStr;

use crate::db::DbUrl;
use crate::secrets::SecretKey;
use crate::telemetry::LogFormat;

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://path` (default `sqlite://channeldesk.db`) or `postgres://…`.
    pub database_url: DbUrl,
    /// `CHANNELDESK_BIND`: host:port to listen on (default 127.0.0.1:8080; tests use port 0).
    pub bind: String,
    /// `CHANNELDESK_LOG_FORMAT`: pretty (default) or json.
    pub log_format: LogFormat,
    /// `CHANNELDESK_POOL_SIZE`: database connections per process, which is also how much database
    /// work runs at once (default: twice the cores, at least 4; see [`default_pool_size`]).
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
    pub meeting_reminder_leads: Vec<Lead>,
    /// `CHANNELDESK_RISK_SCAN_INTERVAL_SECS`: how often the contract risk scan runs (default 86400,
    /// daily; 60–2592000). It also runs once at start-up.
    pub risk_scan_interval_secs: u64,
    /// `CHANNELDESK_DEAL_PROTECTION_DAYS`: how long an approved deal registration protects the
    /// deal for its partner, from approval (default 90; 1–3650).
    pub deal_protection_days: i64,
    /// Bot push, webhooks and bot callbacks (`src/notify`, `src/bots`).
    pub notify: NotifyConfig,
}

/// A credential from the environment: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// WeCom (企业微信) callback credentials: all three come from the app's callback settings.
#[derive(Debug, Clone)]
pub struct WecomCallbackConfig {
    /// `CHANNELDESK_WECOM_TOKEN`
    pub token: Secret,
    /// `CHANNELDESK_WECOM_AES_KEY`: the 43-character EncodingAESKey (decoded when the config is read).
    pub aes_key: Secret,
    /// `CHANNELDESK_WECOM_CORP_ID`: the receive id (CorpID of a self-built app; empty for a smart bot).
    pub corp_id: String,
}

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// `CHANNELDESK_OUTBOUND_ALLOW_HOSTS`: comma-separated `host[:port]` that bot channels (and plain
    /// http webhooks) may point at; a host without a port allows any port. Default: the two
    /// platforms' hosts.
    pub outbound_allow_hosts: Vec<String>,
    /// `CHANNELDESK_DELIVERY_BACKOFF_MS`: the first retry's delay; each next one doubles, up to
    /// 10 minutes (default 1000).
    pub delivery_backoff_ms: u64,
    /// `CHANNELDESK_DELIVERY_RETRY_HOURS`: how long after its first attempt a failing delivery is
    /// still retried before it is dead (default 24, 1–720). Time decides, not a count of attempts:
    /// a robot that is down for a while gets everything once it is back.
    pub delivery_retry_hours: u32,
    /// `CHANNELDESK_BOT_RATE_PER_MINUTE`: messages per minute per robot (default 20).
    pub bot_rate_per_minute: i64,
    /// `CHANNELDESK_DELIVERY_TIMEOUT_MS`: one outbound HTTP request's time limit (default 10000).
    pub delivery_timeout_ms: u64,
    /// `CHANNELDESK_PUBLIC_BASE_URL`: where people open records (links in bot messages); none by default.
    pub public_base_url: Option<String>,
    /// `CHANNELDESK_DINGTALK_APP_SECRET`: the DingTalk robot's AppSecret; unset, the callback is 404.
    pub dingtalk_app_secret: Option<Secret>,
    /// `CHANNELDESK_WECOM_TOKEN` + `CHANNELDESK_WECOM_AES_KEY` (+ `CHANNELDESK_WECOM_CORP_ID`); unset,
    /// the WeCom callback is 404.
    pub wecom: Option<WecomCallbackConfig>,
    /// `CHANNELDESK_SECRET_KEY`: the base64 AES-256 key that robot URLs, DingTalk secrets and
    /// webhook secrets are stored under. Unset, it is settled at start-up (`notify::secrets`):
    /// read from the key file, or on SQLite generated into it.
    pub secret_key: Option<SecretKey>,
    /// `CHANNELDESK_SECRET_KEY_FILE`: where the key is kept when `CHANNELDESK_SECRET_KEY` is unset
    /// (default on SQLite: beside the database, `<name>.secret-key`; on Postgres none).
    pub secret_key_file: Option<std::path::PathBuf>,
}

impl NotifyConfig {
    /// What seals and opens stored secrets; an error when no key was settled (Postgres without
    /// `CHANNELDESK_SECRET_KEY`).
    pub fn sealer(&self) -> Result<crate::secrets::Sealer, crate::error::ApiError> {
        // A configuration gap, not a fault of the request nor a bug: 503 with a code that says
        // what to set, rather than an anonymous 500.
        self.secret_key.as_ref().map(SecretKey::sealer).ok_or_else(|| {
            crate::error::ApiError::misconfigured(
                crate::error::Code::SecretKeyMissing,
                "CHANNELDESK_SECRET_KEY is not set on this server, so robot and webhook secrets cannot be stored or read",
            )
        })
    }
}

pub const DEFAULT_OUTBOUND_ALLOW_HOSTS: &str = "qyapi.weixin.qq.com,oapi.dingtalk.com";

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            outbound_allow_hosts: split_hosts(DEFAULT_OUTBOUND_ALLOW_HOSTS),
            delivery_backoff_ms: 1000,
            delivery_retry_hours: 24,
            bot_rate_per_minute: 20,
            delivery_timeout_ms: 10_000,
            public_base_url: None,
            dingtalk_app_secret: None,
            wecom: None,
            secret_key: None,
            secret_key_file: None,
        }
    }
}

fn split_hosts(raw: &str) -> Vec<String> {
    raw.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect()
}

impl NotifyConfig {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let hosts = split_hosts(
            &lookup("CHANNELDESK_OUTBOUND_ALLOW_HOSTS").unwrap_or_else(|| DEFAULT_OUTBOUND_ALLOW_HOSTS.into()),
        );
        for host in &hosts {
            if host.contains('/') || host.contains('@') || host.chars().any(char::is_whitespace) {
                return Err(format!("CHANNELDESK_OUTBOUND_ALLOW_HOSTS entries must be host[:port] (got {host:?})"));
            }
        }
        let public_base_url =
            match lookup("CHANNELDESK_PUBLIC_BASE_URL").map(|v| v.trim().trim_end_matches('/').to_string()) {
                None => None,
                Some(v) if v.is_empty() => None,
                Some(v) if v.starts_with("https://") || v.starts_with("http://") => Some(v),
                Some(v) => return Err(format!("CHANNELDESK_PUBLIC_BASE_URL must be an http(s) URL (got {v:?})")),
            };
        let secret = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let wecom = match (secret("CHANNELDESK_WECOM_TOKEN"), secret("CHANNELDESK_WECOM_AES_KEY")) {
            (None, None) => None,
            (Some(token), Some(aes_key)) => {
                if crate::platforms::crypto::decode_aes_key(&aes_key).is_none() {
                    return Err("CHANNELDESK_WECOM_AES_KEY must be the 43-character EncodingAESKey".into());
                }
                Some(WecomCallbackConfig {
                    token: Secret::new(token),
                    aes_key: Secret::new(aes_key),
                    corp_id: lookup("CHANNELDESK_WECOM_CORP_ID").map(|v| v.trim().to_string()).unwrap_or_default(),
                })
            }
            _ => return Err("set both CHANNELDESK_WECOM_TOKEN and CHANNELDESK_WECOM_AES_KEY, or neither".into()),
        };
        if lookup("CHANNELDESK_DELIVERY_MAX_ATTEMPTS").is_some() {
            // Refused rather than ignored: a deployment that set it expects a limit it no longer gets.
            return Err("CHANNELDESK_DELIVERY_MAX_ATTEMPTS is gone: a failing delivery now retries for \
                        CHANNELDESK_DELIVERY_RETRY_HOURS (default 24) after its first attempt; unset it"
                .into());
        }
        Ok(Self {
            outbound_allow_hosts: hosts,
            delivery_backoff_ms: parse_var(lookup, "CHANNELDESK_DELIVERY_BACKOFF_MS", 1000, 1..=600_000)?,
            delivery_retry_hours: parse_var(lookup, "CHANNELDESK_DELIVERY_RETRY_HOURS", 24, 1..=720)?,
            bot_rate_per_minute: parse_var(lookup, "CHANNELDESK_BOT_RATE_PER_MINUTE", 20, 1..=10_000)?,
            delivery_timeout_ms: parse_var(lookup, "CHANNELDESK_DELIVERY_TIMEOUT_MS", 10_000, 100..=120_000)?,
            public_base_url,
            dingtalk_app_secret: secret("CHANNELDESK_DINGTALK_APP_SECRET").map(Secret::new),
            wecom,
            secret_key: secret("CHANNELDESK_SECRET_KEY")
                .map(|k| SecretKey::from_base64(&k).map_err(|e| format!("CHANNELDESK_SECRET_KEY {e}")))
                .transpose()?,
            secret_key_file: secret("CHANNELDESK_SECRET_KEY_FILE").map(std::path::PathBuf::from),
        })
    }
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
            pool_size: parse_var(&lookup, "CHANNELDESK_POOL_SIZE", default_pool_size(), 1..=512)?,
            body_limit_bytes: parse_var(&lookup, "CHANNELDESK_BODY_LIMIT_BYTES", 1024 * 1024, 1024..=64 * 1024 * 1024)?,
            auth_cache_secs: parse_var(&lookup, "CHANNELDESK_AUTH_CACHE_SECS", 5, 0..=300)?,
            workers: match lookup("CHANNELDESK_WORKERS") {
                None => None,
                Some(_) => Some(parse_var(&lookup, "CHANNELDESK_WORKERS", 1, 1..=256)?),
            },
            meeting_reminder_leads: parse_leads(
                lookup("CHANNELDESK_MEETING_REMINDER_LEADS").as_deref().unwrap_or(DEFAULT_LEADS),
            )?,
            risk_scan_interval_secs: parse_var(&lookup, "CHANNELDESK_RISK_SCAN_INTERVAL_SECS", 86_400, 60..=2_592_000)?,
            deal_protection_days: parse_var(&lookup, "CHANNELDESK_DEAL_PROTECTION_DAYS", 90, 1..=3650)?,
            notify: NotifyConfig::from_lookup(&lookup)?,
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
            meeting_reminder_leads: parse_leads(DEFAULT_LEADS).unwrap_or_default(),
            risk_scan_interval_secs: 86_400,
            deal_protection_days: 90,
            // Tests aim robots and webhooks at fake servers on loopback.
            notify: NotifyConfig {
                outbound_allow_hosts: split_hosts(&format!("{DEFAULT_OUTBOUND_ALLOW_HOSTS},127.0.0.1")),
                secret_key: Some(SecretKey::generate()),
                ..NotifyConfig::default()
            },
        }
    }
}

/// How long before a meeting a reminder goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lead {
    pub minutes: u32,
}

impl Lead {
    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.minutes))
    }

    /// `24h`, `90m`: the form used in event keys and payloads.
    pub fn label(self) -> String {
        if self.minutes % 60 == 0 {
            format!("{}h", self.minutes / 60)
        } else {
            format!("{}m", self.minutes)
        }
    }
}

pub const DEFAULT_LEADS: &str = "24h,1h";

/// Parses `CHANNELDESK_MEETING_REMINDER_LEADS`: comma-separated `<n>m`, `<n>h` or `<n>d`, each
/// from 1 minute to 30 days, at most 10; `none` (or an empty value) turns reminders off.
pub fn parse_leads(raw: &str) -> Result<Vec<Lead>, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut leads = Vec::new();
    for part in raw.split(',') {
        let part = part.trim();
        let bad = || format!("CHANNELDESK_MEETING_REMINDER_LEADS: {part:?} is not a lead time such as 24h, 90m or 2d");
        let unit = part.chars().last().ok_or_else(bad)?;
        let n: u32 = part[..part.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        let minutes = match unit {
            'm' => Some(n),
            'h' => n.checked_mul(60),
            'd' => n.checked_mul(1440),
            _ => None,
        }
        .ok_or_else(bad)?;
        if !(1..=30 * 1440).contains(&minutes) {
            return Err(format!("CHANNELDESK_MEETING_REMINDER_LEADS: {part:?} must be between 1 minute and 30 days"));
        }
        let lead = Lead { minutes };
        if !leads.contains(&lead) {
            leads.push(lead);
        }
    }
    if leads.len() > 10 {
        return Err("CHANNELDESK_MEETING_REMINDER_LEADS: at most 10 lead times".into());
    }
    leads.sort();
    Ok(leads)
}

/// Twice the cores, at least 4. Database work here is short and CPU-bound (SQLite in-process, or
/// Postgres usually on the same few cores): more of it in flight than the cores can run only
/// queues it in the kernel scheduler, where the unlucky requests wait longest. On 2 cores, 16
/// connections gave a Postgres GET by id a p99 of 70-190 ms at 16 clients; 4 gave 2.5 ms and the
/// same throughput (bench/README.md).
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores.saturating_mul(2)).unwrap_or(u32::MAX).clamp(4, 512)
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
        assert_eq!(c.pool_size, default_pool_size());
        assert!((4..=512).contains(&c.pool_size));
        assert_eq!(c.meeting_reminder_leads.iter().map(|l| l.label()).collect::<Vec<_>>(), vec!["1h", "24h"]);
        assert_eq!(c.risk_scan_interval_secs, 86_400);
        assert_eq!(c.deal_protection_days, 90);
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

    #[test]
    fn leads_parse_and_sort() {
        let leads = parse_leads(DEFAULT_LEADS).unwrap();
        assert_eq!(leads, vec![Lead { minutes: 60 }, Lead { minutes: 1440 }]);
        assert_eq!(leads[1].label(), "24h");
        assert_eq!(
            parse_leads(" 90m , 2d,1h,1h").unwrap().iter().map(|l| l.label()).collect::<Vec<_>>(),
            vec!["1h", "90m", "48h"]
        );
        assert!(parse_leads("none").unwrap().is_empty());
        for bad in ["24", "h", "-1h", "0m", "31d", "1w", "1h,,2h", "1时"] {
            assert!(parse_leads(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn notify_settings_and_secrets() {
        let c = Config::from_lookup(env(&[])).expect("defaults");
        assert_eq!(c.notify.outbound_allow_hosts, vec!["qyapi.weixin.qq.com", "oapi.dingtalk.com"]);
        assert_eq!(
            (c.notify.delivery_backoff_ms, c.notify.delivery_retry_hours, c.notify.bot_rate_per_minute),
            (1000, 24, 20)
        );
        assert!(c.notify.wecom.is_none() && c.notify.dingtalk_app_secret.is_none());
        let c = Config::from_lookup(env(&[
            ("CHANNELDESK_WECOM_TOKEN", "tok"),
            ("CHANNELDESK_WECOM_AES_KEY", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"),
            ("CHANNELDESK_DINGTALK_APP_SECRET", "app-secret-value"),
            ("CHANNELDESK_OUTBOUND_ALLOW_HOSTS", " Example.com:8443 , 127.0.0.1"),
            ("CHANNELDESK_PUBLIC_BASE_URL", "https://desk.example.com/"),
        ]))
        .expect("configured");
        assert_eq!(c.notify.outbound_allow_hosts, vec!["example.com:8443", "127.0.0.1"]);
        assert_eq!(c.notify.public_base_url.as_deref(), Some("https://desk.example.com"));
        let printed = format!("{c:?}");
        assert!(!printed.contains("app-secret-value") && !printed.contains("6qkdMrq68"), "{printed}");
        assert!(Config::from_lookup(env(&[("CHANNELDESK_WECOM_TOKEN", "tok")])).is_err(), "half configured");
        assert!(Config::from_lookup(env(&[("CHANNELDESK_WECOM_TOKEN", "t"), ("CHANNELDESK_WECOM_AES_KEY", "short")]))
            .is_err());
        let gone = Config::from_lookup(env(&[("CHANNELDESK_DELIVERY_MAX_ATTEMPTS", "10")])).unwrap_err();
        assert!(gone.contains("CHANNELDESK_DELIVERY_RETRY_HOURS"), "{gone}");
        assert!(Config::from_lookup(env(&[("CHANNELDESK_DELIVERY_RETRY_HOURS", "0")])).is_err());
        let week = Config::from_lookup(env(&[("CHANNELDESK_DELIVERY_RETRY_HOURS", "168")])).expect("a week");
        assert_eq!(week.notify.delivery_retry_hours, 168);
        assert!(Config::from_lookup(env(&[("CHANNELDESK_PUBLIC_BASE_URL", "ftp://x")])).is_err());
        let key =
            Config::from_lookup(env(&[("CHANNELDESK_SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")]))
                .expect("a key");
        assert!(key.notify.secret_key.is_some() && !format!("{key:?}").contains("AAECAwQF"));
        let short = Config::from_lookup(env(&[("CHANNELDESK_SECRET_KEY", "AAECAwQFBgcI")])).unwrap_err();
        assert!(short.contains("CHANNELDESK_SECRET_KEY") && short.contains("32 bytes"), "{short}");
    }
}

//! Field rules the notify wire types share: event-type patterns (`*` matches any run of
//! characters, dots included), ids, and outbound URLs — the host allow list, the credential a
//! robot URL must carry, no internal addresses for webhooks — with the masking that keeps robot
//! credentials write-only.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use crate::platforms::Platform;
use crate::validation::Check;

pub const MAX_URL: usize = 2048;
pub const MAX_EVENT_TYPES: usize = 50;
pub const EVENT_TYPE_PATTERN: &str = r"^(\*|[a-z0-9_]+)(\.(\*|[a-z0-9_]+))*$";

/// `event_types[]` in the schema: what `check_event_types` enforces.
pub fn event_types_schema() -> impl Into<RefOr<Schema>> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(EVENT_TYPE_PATTERN))
                .min_length(Some(1))
                .max_length(Some(100)),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_EVENT_TYPES))
        .unique_items(true)
        .description(Some("Event types, with `*` matching any run of characters: `partner.created`, `meeting.*`, `*`."))
}

/// `partner_ids[]` in the schema.
pub fn partner_ids_schema() -> impl Into<RefOr<Schema>> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid))),
        )
        .max_items(Some(100))
        .unique_items(true)
}

pub fn check_event_types(c: &mut Check, field: &str, types: &[String]) {
    if types.is_empty() || types.len() > MAX_EVENT_TYPES {
        c.add(field, format!("must have 1 to {MAX_EVENT_TYPES} items (got {})", types.len()));
        return;
    }
    for (i, t) in types.iter().enumerate() {
        if !is_event_type_pattern(t) {
            c.add(format!("{field}[{i}]"), "must be a dotted event type such as partner.created, meeting.* or *");
        } else if types[..i].contains(t) {
            c.add(format!("{field}[{i}]"), "is a duplicate");
        }
    }
}

pub fn is_event_type_pattern(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 100
        && t.split('.').all(|seg| {
            seg == "*"
                || (!seg.is_empty() && seg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        })
}

/// True when `event_type` matches `pattern`, where `*` stands for any run of characters
/// (dots included): `meeting.*` matches `meeting.reminder`, `*` matches everything.
pub fn type_matches(pattern: &str, event_type: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), event_type.as_bytes())
}

pub fn check_uuid(c: &mut Check, field: &str, value: &str) {
    if uuid::Uuid::parse_str(value).is_err() {
        c.add(field, "must be a UUID");
    }
}

// ---- outbound URLs ----

/// A parsed outbound URL: http(s), no user info, and its `host[:port]` for the allow list.
fn parse_outbound(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|_| "must be an absolute http(s) URL".to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http(s) URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(url)
}

/// True when the URL's host (any port) or host:port is listed.
pub fn host_allowed(url: &url::Url, allow_hosts: &[String]) -> bool {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port_or_known_default().unwrap_or(0);
    let with_port = format!("{host}:{port}");
    allow_hosts.iter().any(|a| *a == host || *a == with_port)
}

fn query_value(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty())
}

/// A robot URL: allowed host, and the credential the platform puts in it.
pub fn check_robot_url(platform: Platform, raw: &str, allow_hosts: &[String]) -> Result<(), String> {
    let url = parse_outbound(raw)?;
    if !host_allowed(&url, allow_hosts) {
        return Err(format!(
            "the host {} is not in CHANNELDESK_OUTBOUND_ALLOW_HOSTS",
            url.host_str().unwrap_or_default()
        ));
    }
    let param = robot_credential_param(platform);
    if query_value(&url, param).is_none() {
        return Err(format!("a {platform} robot URL carries its {param}=… query parameter"));
    }
    Ok(())
}

fn robot_credential_param(platform: Platform) -> &'static str {
    match platform {
        Platform::Wecom => "key",
        Platform::Dingtalk => "access_token",
    }
}

/// The URL as it may be shown: the values of `key` and `access_token` replaced by `****`.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else { return "****".into() };
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let secret = matches!(k.as_ref(), "key" | "access_token" | "sign" | "secret" | "token");
            (k.into_owned(), if secret { "****".to_string() } else { v.into_owned() })
        })
        .collect();
    if pairs.is_empty() {
        return url.to_string();
    }
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string().replace("%2A%2A%2A%2A", "****")
}

/// A webhook URL: https to any public host, or any http(s) URL on an allowed host. An https URL
/// naming a loopback, private or link-local IP address (or `localhost`) must be allowed
/// explicitly, so a webhook cannot be aimed at the service's own neighbourhood by address.
pub fn check_webhook_url(raw: &str, allow_hosts: &[String]) -> Result<(), String> {
    let url = parse_outbound(raw)?;
    if host_allowed(&url, allow_hosts) {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err("must be https (plain http only to a host in CHANNELDESK_OUTBOUND_ALLOW_HOSTS)".into());
    }
    let internal = match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
        }
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        None => true,
    };
    if internal {
        return Err("names an internal address; list it in CHANNELDESK_OUTBOUND_ALLOW_HOSTS to allow it".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["qyapi.weixin.qq.com".into(), "oapi.dingtalk.com".into(), "127.0.0.1:9000".into()]
    }

    #[test]
    fn wildcards() {
        assert!(type_matches("*", "partner.created"));
        assert!(type_matches("meeting.*", "meeting.reminder"));
        assert!(type_matches("meeting.*", "meeting.x.y"));
        assert!(!type_matches("meeting.*", "meetings.reminder"));
        assert!(!type_matches("meeting.*", "meeting"));
        assert!(type_matches("*.overdue", "action_item.overdue"));
        assert!(type_matches("partner.created", "partner.created"));
        assert!(!type_matches("partner.created", "partner.created2"));
        for ok in ["*", "meeting.*", "a.b.c", "action_item.overdue", "*.overdue"] {
            assert!(is_event_type_pattern(ok), "{ok}");
        }
        for bad in ["", "Meeting.x", "a..b", "a.", " a", "a*b.c", "a.b*"] {
            assert!(!is_event_type_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn robot_urls_must_be_allowed_and_carry_their_credential() {
        let h = hosts();
        assert!(
            check_robot_url(Platform::Wecom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", &h).is_ok()
        );
        assert!(check_robot_url(Platform::Dingtalk, "https://oapi.dingtalk.com/robot/send?access_token=t", &h).is_ok());
        assert!(check_robot_url(Platform::Dingtalk, "https://oapi.dingtalk.com/robot/send?key=t", &h).is_err());
        assert!(check_robot_url(Platform::Wecom, "https://evil.example.com/send?key=abc", &h).is_err());
        assert!(check_robot_url(Platform::Wecom, "http://127.0.0.1:9000/send?key=abc", &h).is_ok());
        assert!(check_robot_url(Platform::Wecom, "http://127.0.0.1:9001/send?key=abc", &h).is_err(), "other port");
        assert!(check_robot_url(Platform::Wecom, "https://u:p@qyapi.weixin.qq.com/?key=a", &h).is_err());
        assert!(check_robot_url(Platform::Wecom, "ftp://qyapi.weixin.qq.com/?key=a", &h).is_err());
        assert!(check_robot_url(Platform::Wecom, "https://qyapi.weixin.qq.com.evil.cn/?key=a", &h).is_err());
        let any_port = vec!["127.0.0.1".to_string()];
        assert!(check_robot_url(Platform::Wecom, "http://127.0.0.1:41234/x?key=k", &any_port).is_ok());
    }

    #[test]
    fn webhook_urls() {
        let h = hosts();
        assert!(check_webhook_url("https://hooks.example.com/in", &h).is_ok());
        assert!(check_webhook_url("http://hooks.example.com/in", &h).is_err());
        assert!(check_webhook_url("https://127.0.0.1/in", &h).is_err());
        assert!(check_webhook_url("https://10.1.2.3/in", &h).is_err());
        assert!(check_webhook_url("https://[::1]/in", &h).is_err());
        assert!(check_webhook_url("https://localhost/in", &h).is_err());
        assert!(check_webhook_url("http://127.0.0.1:9000/in", &h).is_ok(), "allowed explicitly");
    }

    #[test]
    fn masking_hides_credentials_only() {
        assert_eq!(
            mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****"
        );
        let m = mask_url("https://oapi.dingtalk.com/robot/send?access_token=SECRET123&x=1");
        assert_eq!(m, "https://oapi.dingtalk.com/robot/send?access_token=****&x=1");
        assert!(!mask_url("not a url SECRET").contains("SECRET"));
    }
}

//! One HTTP request to a robot or a webhook, and what its answer means: done, try again later,
//! or never. Error texts never contain the URL (robot URLs carry their key or token).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::platforms::crypto;
use crate::platforms::Platform;

/// Where a message goes, with the credentials needed to send it.
#[derive(Clone)]
pub enum Destination {
    Robot { platform: Platform, webhook_url: String, secret: Option<String> },
    Webhook { url: String, secret: String },
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Robot { platform, .. } => write!(f, "Robot({platform})"),
            Destination::Webhook { .. } => f.write_str("Webhook"),
        }
    }
}

/// The answer to one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub outcome: Outcome,
    pub http_status: Option<u16>,
    pub errcode: Option<i64>,
    /// The platform's errmsg, or what went wrong on the way.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Timeouts, connection failures, HTTP 5xx / 429, and the platforms' "busy / rate limited"
    /// errcodes: try again after a backoff.
    Retry,
    /// The platform refused the message for a reason a retry will not fix.
    Permanent,
}

/// WeCom: 45009 (rate limit) and -1 (busy). DingTalk: 130101 (throttled for sending too often).
pub fn retryable_errcode(platform: Platform, errcode: i64) -> bool {
    match platform {
        Platform::Wecom => matches!(errcode, 45009 | -1),
        Platform::Dingtalk => errcode == 130101,
    }
}

/// An HTTP client for outbound messages: no redirects (a redirect could lead past the host
/// allow list) and a bounded time per request.
pub fn client(timeout_ms: u64) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(timeout_ms))
        .connect_timeout(Duration::from_millis(timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("channeldesk/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))
}

/// The URL to post to: a signed DingTalk robot gets `&timestamp=…&sign=…` (ms; the sign
/// percent-encoded once).
pub fn robot_url(platform: Platform, webhook_url: &str, secret: Option<&str>, now: DateTime<Utc>) -> String {
    match (platform, secret) {
        (Platform::Dingtalk, Some(secret)) => {
            let ts = now.timestamp_millis().to_string();
            let sep = if webhook_url.contains('?') { '&' } else { '?' };
            format!("{webhook_url}{sep}timestamp={ts}&sign={}", crypto::dingtalk_sign_query(secret, &ts))
        }
        _ => webhook_url.to_string(),
    }
}

fn transport_error(e: reqwest::Error, timeout_ms: u64) -> Attempt {
    let error = if e.is_timeout() {
        format!("timed out after {timeout_ms} ms")
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        format!("request failed: {}", e.without_url())
    };
    Attempt { outcome: Outcome::Retry, http_status: None, errcode: None, error: Some(error) }
}

/// Sends `body` once.
pub async fn send(
    client: &reqwest::Client,
    to: &Destination,
    body: &Value,
    now: DateTime<Utc>,
    timeout_ms: u64,
) -> Attempt {
    match to {
        Destination::Robot { platform, webhook_url, secret } => {
            // The formatter keeps every message within the limit; this is the last line of defence.
            if !crate::platforms::format::within_limit(*platform, body) {
                return Attempt {
                    outcome: Outcome::Permanent,
                    http_status: None,
                    errcode: None,
                    error: Some("the message is over the platform's size limit".into()),
                };
            }
            let url = robot_url(*platform, webhook_url, secret.as_deref(), now);
            let res = match client.post(url).json(body).send().await {
                Ok(r) => r,
                Err(e) => return transport_error(e, timeout_ms),
            };
            let status = res.status();
            let text = match res.text().await {
                Ok(t) => t,
                Err(e) => return transport_error(e, timeout_ms),
            };
            robot_answer(*platform, status.as_u16(), &text)
        }
        Destination::Webhook { url, secret } => {
            let payload = serde_json::to_vec(body).unwrap_or_default();
            let ts = now.timestamp().to_string();
            let signature = crypto::webhook_signature(secret, &ts, &payload);
            let res = client
                .post(url.as_str())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("X-Channeldesk-Timestamp", &ts)
                .header("X-Channeldesk-Signature", signature)
                .body(payload)
                .send()
                .await;
            match res {
                Ok(r) => webhook_answer(r.status().as_u16()),
                Err(e) => transport_error(e, timeout_ms),
            }
        }
    }
}

/// A robot's answer: HTTP 200 with `{errcode, errmsg}`.
pub fn robot_answer(platform: Platform, status: u16, text: &str) -> Attempt {
    let http_status = Some(status);
    if status >= 500 || status == 429 || status == 408 {
        return Attempt { outcome: Outcome::Retry, http_status, errcode: None, error: Some(format!("HTTP {status}")) };
    }
    if !(200..300).contains(&status) {
        return Attempt {
            outcome: Outcome::Permanent,
            http_status,
            errcode: None,
            error: Some(format!("HTTP {status}")),
        };
    }
    let Ok(answer) = serde_json::from_str::<Value>(text) else {
        return Attempt {
            outcome: Outcome::Retry,
            http_status,
            errcode: None,
            error: Some("the answer is not the platform's JSON".into()),
        };
    };
    let errcode = answer.get("errcode").and_then(Value::as_i64).unwrap_or(0);
    let errmsg = answer.get("errmsg").and_then(Value::as_str).map(|m| crate::notify::render::clip_chars(m, 500));
    let outcome = if errcode == 0 {
        Outcome::Delivered
    } else if retryable_errcode(platform, errcode) {
        Outcome::Retry
    } else {
        Outcome::Permanent
    };
    let error = (errcode != 0).then(|| errmsg.clone().unwrap_or_else(|| format!("errcode {errcode}")));
    Attempt { outcome, http_status, errcode: Some(errcode), error }
}

/// A webhook receiver's answer: 2xx delivered; 5xx, 408, 429 retried; other statuses refused.
pub fn webhook_answer(status: u16) -> Attempt {
    let http_status = Some(status);
    let (outcome, error) = match status {
        200..=299 => (Outcome::Delivered, None),
        408 | 429 | 500..=599 => (Outcome::Retry, Some(format!("HTTP {status}"))),
        _ => (Outcome::Permanent, Some(format!("HTTP {status}"))),
    };
    Attempt { outcome, http_status, errcode: None, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_answers_are_classified() {
        let ok = robot_answer(Platform::Wecom, 200, r#"{"errcode":0,"errmsg":"ok"}"#);
        assert_eq!((ok.outcome, ok.error), (Outcome::Delivered, None));
        for (platform, code) in [(Platform::Wecom, 45009), (Platform::Wecom, -1), (Platform::Dingtalk, 130101)] {
            let a = robot_answer(platform, 200, &format!(r#"{{"errcode":{code},"errmsg":"busy"}}"#));
            assert_eq!(a.outcome, Outcome::Retry, "{platform} {code}");
        }
        for (platform, code) in [
            (Platform::Wecom, 93000),
            (Platform::Wecom, 40058),
            (Platform::Dingtalk, 310000),
            (Platform::Dingtalk, 300001),
        ] {
            let a = robot_answer(platform, 200, &format!(r#"{{"errcode":{code},"errmsg":"refused {code}"}}"#));
            assert_eq!(a.outcome, Outcome::Permanent);
            assert_eq!(a.error, Some(format!("refused {code}")));
            assert_eq!(a.errcode, Some(code));
        }
        assert_eq!(robot_answer(Platform::Dingtalk, 502, "").outcome, Outcome::Retry);
        assert_eq!(robot_answer(Platform::Dingtalk, 404, "").outcome, Outcome::Permanent);
        assert_eq!(robot_answer(Platform::Wecom, 200, "<html>").outcome, Outcome::Retry);
        assert_eq!(webhook_answer(204).outcome, Outcome::Delivered);
        assert_eq!(webhook_answer(503).outcome, Outcome::Retry);
        assert_eq!(webhook_answer(410).outcome, Outcome::Permanent);
    }

    #[actix_web::test]
    async fn an_oversized_message_is_never_sent() {
        let body = serde_json::json!({"msgtype": "markdown", "markdown": {"content": "渠".repeat(1366)}});
        let to = Destination::Robot {
            platform: Platform::Wecom,
            webhook_url: "http://127.0.0.1:9/x?key=k".into(),
            secret: None,
        };
        let a = send(&client(1000).unwrap(), &to, &body, Utc::now(), 1000).await;
        assert_eq!(a.outcome, Outcome::Permanent);
        assert_eq!(a.http_status, None, "no request was made");
    }

    #[test]
    fn dingtalk_urls_are_signed_and_encoded_once() {
        let now = DateTime::from_timestamp_millis(1_577_262_236_757).unwrap();
        let url = robot_url(
            Platform::Dingtalk,
            "https://oapi.dingtalk.com/robot/send?access_token=T",
            Some("this is secret"),
            now,
        );
        assert_eq!(
            url,
            "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1577262236757&sign=hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D"
        );
        assert_eq!(robot_url(Platform::Dingtalk, "https://x/?access_token=T", None, now), "https://x/?access_token=T");
        assert_eq!(robot_url(Platform::Wecom, "https://x/?key=K", Some("ignored"), now), "https://x/?key=K");
    }
}

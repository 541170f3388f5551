//! The platforms' callbacks. They authenticate by the platform's signature (no API key), answer
//! 404 while their credentials are not configured, and do nothing for a request that fails a
//! check: bad or missing signature or a timestamp more than an hour off → 401, a body that cannot
//! be read or decrypted → 400, a message for another receive id → 401.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::commands::{self, Asker};
use super::store;
use crate::error::{ApiError, Code};
use crate::platforms::crypto::{self, CryptoError, WecomCrypto};
use crate::platforms::format::{self, Style};
use crate::platforms::xml;
use crate::platforms::Platform;
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";
/// How far a callback's timestamp may be from our clock.
pub const WINDOW_SECS: i64 = 3600;

fn unauthorized(code: Code, detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, detail.to_string())
}

fn bad_request(code: Code, detail: &str) -> ApiError {
    ApiError::bad_request(code, detail.to_string())
}

fn not_configured() -> ApiError {
    ApiError::not_found(Code::RouteNotFound)
}

/// Runs a command for a message (once per platform message id) and returns the stored reply
/// text; `make_reply` turns the command's answer into what is stored and sent.
async fn answer_once(
    state: &web::Data<AppState>,
    asker: Asker,
    msg_id: Option<String>,
    text: String,
    make_reply: impl FnOnce(&crate::platforms::format::Message) -> String + Send + 'static,
) -> Result<String, ApiError> {
    state
        .db
        .write(move |conn| {
            if let Some(id) = &msg_id {
                if let Some(reply) = store::answered(conn, asker.platform, id)? {
                    return Ok(reply);
                }
            }
            let message = commands::answer(conn, &asker, &text, Utc::now())?;
            let reply = make_reply(&message);
            match &msg_id {
                Some(id) => store::remember(conn, asker.platform, id, &reply),
                None => Ok(reply),
            }
        })
        .await
}

// ---- DingTalk ----

/// The message DingTalk posts (fields channeldesk reads; others are ignored).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct DingtalkCallback {
    /// `text` for chat messages.
    pub msgtype: Option<String>,
    pub text: Option<DingtalkText>,
    #[serde(rename = "msgId")]
    pub msg_id: Option<String>,
    #[serde(rename = "senderStaffId")]
    pub sender_staff_id: Option<String>,
    #[serde(rename = "senderNick")]
    pub sender_nick: Option<String>,
    #[serde(rename = "conversationId")]
    pub conversation_id: Option<String>,
    /// "1" one-to-one, "2" group.
    #[serde(rename = "conversationType")]
    pub conversation_type: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct DingtalkText {
    pub content: Option<String>,
}

/// A command from a DingTalk chat (robot HTTP mode). Headers `timestamp` (ms, within an hour)
/// and `sign` = base64(HMAC-SHA256(AppSecret, timestamp + "\n" + AppSecret)). The reply is a
/// robot message in the response body. A retried message (same `msgId`) gets the first reply.
#[utoipa::path(
    tag = "integrations",
    params(
        ("timestamp" = String, Header, description = "Milliseconds since the epoch, within an hour of ours"),
        ("sign" = String, Header, description = "base64(HMAC-SHA256(AppSecret, timestamp + \"\\n\" + AppSecret))"),
    ),
    request_body(content = DingtalkCallback, content_type = "application/json"),
    responses(
        (status = 200, description = "The reply: a DingTalk robot message (`msgtype` markdown)", body = Object, content_type = "application/json"),
        (status = 400, description = "`malformed_body`: not a JSON message", body = crate::error::Problem, content_type = PROBLEM),
        (status = 401, description = "`invalid_signature` or `stale_timestamp`", body = crate::error::Problem, content_type = PROBLEM),
        (status = 404, description = "DingTalk is not configured (`CHANNELDESK_DINGTALK_APP_SECRET` unset)", body = crate::error::Problem, content_type = PROBLEM),
    ),
    security(()),
)]
#[post("/integrations/dingtalk/callback")]
pub async fn dingtalk_callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = state.config.notify.dingtalk_app_secret.clone() else { return Err(not_configured()) };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (Some(timestamp), Some(sign)) = (header("timestamp"), header("sign")) else {
        return Err(unauthorized(Code::InvalidSignature, "the timestamp and sign headers are required"));
    };
    let ts: i64 =
        timestamp.trim().parse().map_err(|_| unauthorized(Code::StaleTimestamp, "timestamp is not a number"))?;
    if (Utc::now().timestamp_millis() - ts).abs() > WINDOW_SECS * 1000 {
        return Err(unauthorized(Code::StaleTimestamp, "timestamp is more than an hour from now"));
    }
    if !crypto::dingtalk_verify(secret.expose(), timestamp.trim(), &sign) {
        return Err(unauthorized(Code::InvalidSignature, "sign does not match"));
    }
    let msg: DingtalkCallback = serde_json::from_slice(&body)
        .map_err(|_| bad_request(Code::MalformedBody, "the body is not a DingTalk message"))?;
    let text = match msg.msgtype.as_deref() {
        Some("text") | None => msg.text.and_then(|t| t.content).unwrap_or_default(),
        Some(_) => String::new(),
    };
    let asker = Asker { platform: Platform::Dingtalk, userid: msg.sender_staff_id, chat_id: msg.conversation_id };
    let reply = answer_once(&state, asker, msg.msg_id.filter(|m| !m.is_empty()), text.trim().to_string(), |m| {
        format::single_body(Platform::Dingtalk, m, &Style::default()).to_string()
    })
    .await?;
    Ok(HttpResponse::Ok().content_type("application/json").body(reply))
}

// ---- WeCom ----

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WecomVerify {
    pub msg_signature: String,
    /// Seconds since the epoch, within an hour of ours.
    pub timestamp: String,
    pub nonce: String,
    pub echostr: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WecomSigned {
    pub msg_signature: String,
    /// Seconds since the epoch, within an hour of ours.
    pub timestamp: String,
    pub nonce: String,
}

fn wecom_crypto(state: &AppState) -> Result<(WecomCrypto, String), ApiError> {
    let Some(cfg) = &state.config.notify.wecom else { return Err(not_configured()) };
    let c = WecomCrypto::new(cfg.token.expose(), cfg.aes_key.expose(), &cfg.corp_id).ok_or_else(not_configured)?;
    Ok((c, cfg.corp_id.clone()))
}

/// The query parameters, with a `+` that arrived unencoded (and so reads as a space) restored:
/// base64 never contains spaces.
fn query_params(req: &HttpRequest) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(req.query_string().as_bytes()).map(|(k, v)| (k.into_owned(), v.replace(' ', "+"))).collect()
}

fn check_timestamp(ts: &str) -> Result<(), ApiError> {
    let ts: i64 = ts.trim().parse().map_err(|_| unauthorized(Code::StaleTimestamp, "timestamp is not a number"))?;
    if (Utc::now().timestamp() - ts).abs() > WINDOW_SECS {
        return Err(unauthorized(Code::StaleTimestamp, "timestamp is more than an hour from now"));
    }
    Ok(())
}

fn open(c: &WecomCrypto, encrypt: &str) -> Result<Vec<u8>, ApiError> {
    c.decrypt(encrypt).map_err(|e| match e {
        CryptoError::WrongReceiveId => unauthorized(Code::WrongReceiveId, "the message is for another receive id"),
        other => bad_request(Code::Undecryptable, &other.to_string()),
    })
}

fn signed_params(req: &HttpRequest) -> Result<(String, String, String), ApiError> {
    let q = query_params(req);
    let get = |k: &str| {
        q.get(k)
            .cloned()
            .ok_or_else(|| unauthorized(Code::InvalidSignature, "msg_signature, timestamp and nonce are required"))
    };
    Ok((get("msg_signature")?, get("timestamp")?, get("nonce")?))
}

/// WeCom's URL check: verifies `msg_signature` over `echostr`, decrypts it and answers the
/// plaintext byte for byte (no quotes, no newline).
#[utoipa::path(
    tag = "integrations",
    params(WecomVerify),
    responses(
        (status = 200, description = "The decrypted echostr, byte for byte", body = String, content_type = "text/plain"),
        (status = 400, description = "`undecryptable`", body = crate::error::Problem, content_type = PROBLEM),
        (status = 401, description = "`invalid_signature`, `stale_timestamp` or `wrong_receive_id`", body = crate::error::Problem, content_type = PROBLEM),
        (status = 404, description = "WeCom is not configured (`CHANNELDESK_WECOM_TOKEN` / `CHANNELDESK_WECOM_AES_KEY` unset)", body = crate::error::Problem, content_type = PROBLEM),
    ),
    security(()),
)]
#[get("/integrations/wecom/callback")]
pub async fn wecom_verify(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (c, _) = wecom_crypto(&state)?;
    let (signature, timestamp, nonce) = signed_params(&req)?;
    let echostr = query_params(&req)
        .get("echostr")
        .cloned()
        .ok_or_else(|| unauthorized(Code::InvalidSignature, "echostr is required"))?;
    check_timestamp(&timestamp)?;
    if !c.verify(&signature, &timestamp, &nonce, &echostr) {
        return Err(unauthorized(Code::InvalidSignature, "msg_signature does not match"));
    }
    let plain = open(&c, &echostr)?;
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(plain))
}

/// How the message came: a self-built app's XML, or a smart bot's JSON.
#[derive(Clone, Copy)]
enum Mode {
    Xml,
    Json,
}

fn nonce() -> String {
    rand::thread_rng().gen_range(100_000_000u64..10_000_000_000).to_string()
}

/// The encrypted passive reply around `plain`.
fn seal(c: &WecomCrypto, mode: Mode, plain: &str) -> HttpResponse {
    let encrypt = c.encrypt(plain.as_bytes());
    let timestamp = Utc::now().timestamp().to_string();
    let nonce = nonce();
    let signature = c.signature(&timestamp, &nonce, &encrypt);
    match mode {
        Mode::Xml => HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(format!(
            "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{timestamp}</TimeStamp><Nonce>{}</Nonce></xml>",
            xml::cdata(&encrypt),
            xml::cdata(&signature),
            xml::cdata(&nonce)
        )),
        Mode::Json => HttpResponse::Ok().json(json!({
            "encrypt": encrypt, "msgsignature": signature, "timestamp": timestamp, "nonce": nonce,
        })),
    }
}

/// A message from WeCom: the app's XML envelope (`<xml><Encrypt>…</Encrypt>…</xml>`) or a smart
/// bot's `{"encrypt": …}`. Text messages are commands; the reply comes back encrypted (XML: a
/// text message of at most 2048 bytes; smart bot: markdown of at most 4096 bytes). Other message
/// types get an empty 200. A retried message (same `MsgId` / `msgid`) gets the first reply.
#[utoipa::path(
    tag = "integrations",
    params(WecomSigned),
    request_body(content = String, description = "`<xml><ToUserName/><Encrypt/><AgentID/></xml>`, or a smart bot's JSON `{\"encrypt\": …}`", content_type = "text/xml"),
    responses(
        (status = 200, description = "The encrypted passive reply `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>` (smart bots: JSON `{encrypt, msgsignature, timestamp, nonce}`), or empty", body = String, content_type = "text/xml"),
        (status = 400, description = "`malformed_body` or `undecryptable`", body = crate::error::Problem, content_type = PROBLEM),
        (status = 401, description = "`invalid_signature`, `stale_timestamp` or `wrong_receive_id`", body = crate::error::Problem, content_type = PROBLEM),
        (status = 404, description = "WeCom is not configured", body = crate::error::Problem, content_type = PROBLEM),
    ),
    security(()),
)]
#[post("/integrations/wecom/callback")]
pub async fn wecom_message(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (c, corp_id) = wecom_crypto(&state)?;
    let (signature, timestamp, nonce) = signed_params(&req)?;
    check_timestamp(&timestamp)?;
    let text = std::str::from_utf8(&body).map_err(|_| bad_request(Code::MalformedBody, "the body is not UTF-8"))?;
    let (mode, encrypt) = if text.trim_start().starts_with('{') {
        let v: Value =
            serde_json::from_str(text).map_err(|_| bad_request(Code::MalformedBody, "the body is not JSON"))?;
        let e = v
            .get("encrypt")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_request(Code::MalformedBody, "encrypt is missing"))?;
        (Mode::Json, e.to_string())
    } else {
        let envelope = xml::parse_flat(text).map_err(|e| bad_request(Code::MalformedBody, &e.to_string()))?;
        let e = envelope.get("Encrypt").ok_or_else(|| bad_request(Code::MalformedBody, "Encrypt is missing"))?;
        (Mode::Xml, e.to_string())
    };
    if !c.verify(&signature, &timestamp, &nonce, &encrypt) {
        return Err(unauthorized(Code::InvalidSignature, "msg_signature does not match"));
    }
    let plain = open(&c, &encrypt)?;
    let plain = String::from_utf8(plain).map_err(|_| bad_request(Code::Undecryptable, "the message is not UTF-8"))?;
    let (msg_type, content, from, msg_id, chat_id) = match mode {
        Mode::Xml => {
            let m = xml::parse_flat(&plain).map_err(|e| bad_request(Code::MalformedBody, &e.to_string()))?;
            let get = |k: &str| m.get(k).map(str::to_string);
            (get("MsgType"), get("Content"), get("FromUserName"), get("MsgId"), None)
        }
        Mode::Json => {
            let m: Value = serde_json::from_str(&plain)
                .map_err(|_| bad_request(Code::MalformedBody, "the message is not JSON"))?;
            let s = |ptr: &str| m.pointer(ptr).and_then(Value::as_str).map(str::to_string);
            (s("/msgtype"), s("/text/content"), s("/from/userid"), s("/msgid"), s("/chatid"))
        }
    };
    if msg_type.as_deref() != Some("text") {
        return Ok(HttpResponse::Ok().finish());
    }
    let asker = Asker { platform: Platform::Wecom, userid: from.clone(), chat_id };
    let base_url = state.config.notify.public_base_url.clone();
    let reply = answer_once(&state, asker, msg_id.filter(|m| !m.is_empty()), content.unwrap_or_default(), move |m| match mode {
        Mode::Xml => {
            let text = format::plain_text(m, base_url.as_deref(), format::WECOM_TEXT_MAX_BYTES);
            format!(
                "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>{}</Content></xml>",
                xml::cdata(from.as_deref().unwrap_or_default()),
                xml::cdata(&corp_id),
                Utc::now().timestamp(),
                xml::cdata(&text)
            )
        }
        Mode::Json => format::single_body(Platform::Wecom, m, &Style { keyword: None, base_url }).to_string(),
    })
    .await?;
    Ok(seal(&c, mode, &reply))
}

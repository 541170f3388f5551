//! A fake WeCom / DingTalk robot and webhook receiver: a real HTTP server on 127.0.0.1 (port 0)
//! that records what it receives, checks bodies, signatures and byte limits, and answers as
//! scripted (success by default).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use channeldesk::platforms::crypto;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HashMap<String, String>,
    pub body: Value,
    /// The body exactly as sent.
    pub raw: String,
    /// What the request got wrong about the platform's rules (empty when it was right).
    pub problems: Vec<String>,
}

impl Received {
    /// The markdown text (WeCom `content`, DingTalk `text`).
    pub fn text(&self) -> String {
        self.body["markdown"]["content"]
            .as_str()
            .or(self.body["markdown"]["text"].as_str())
            .unwrap_or_default()
            .to_string()
    }
}

#[derive(Debug, Clone)]
pub enum Reply {
    Ok,
    Errcode(i64, &'static str),
    Http(u16),
    Delay(Duration),
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    script: VecDeque<Reply>,
    dingtalk_secret: Option<String>,
    keyword: Option<String>,
    webhook_secret: Option<String>,
}

pub struct FakeRobot {
    pub base: String,
    state: Arc<Mutex<State>>,
}

async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<Mutex<State>>>) -> HttpResponse {
    let query: HashMap<String, String> =
        form_urlencoded::parse(req.query_string().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut problems = Vec::new();
    let reply = {
        let mut st = state.lock().unwrap();
        let path = req.path().to_string();
        match path.as_str() {
            "/cgi-bin/webhook/send" => {
                if query.get("key").is_none_or(|k| k.is_empty()) {
                    problems.push("no key".to_string());
                }
                match parsed["msgtype"].as_str() {
                    Some("markdown") => {
                        let content = parsed["markdown"]["content"].as_str().unwrap_or_default();
                        if content.len() > 4096 {
                            problems.push(format!("markdown content of {} bytes", content.len()));
                        }
                        if content.is_empty() {
                            problems.push("empty content".into());
                        }
                    }
                    other => problems.push(format!("unexpected msgtype {other:?}")),
                }
            }
            "/robot/send" => {
                if query.get("access_token").is_none_or(|k| k.is_empty()) {
                    problems.push("no access_token".to_string());
                }
                if body.len() > 20_000 {
                    problems.push(format!("body of {} bytes", body.len()));
                }
                if let Some(secret) = &st.dingtalk_secret {
                    match (query.get("timestamp"), query.get("sign")) {
                        (Some(ts), Some(sign)) => {
                            if !crypto::dingtalk_verify(secret, ts, sign) {
                                problems.push("bad sign".into());
                            }
                            let ms: i64 = ts.parse().unwrap_or(0);
                            if (chrono::Utc::now().timestamp_millis() - ms).abs() > 3_600_000 {
                                problems.push("stale timestamp".into());
                            }
                        }
                        _ => problems.push("unsigned".into()),
                    }
                }
                let text = parsed["markdown"]["text"].as_str().unwrap_or_default();
                if parsed["msgtype"] != "markdown" || parsed["markdown"]["title"].as_str().is_none_or(str::is_empty) {
                    problems.push("not a titled markdown message".into());
                }
                if let Some(k) = &st.keyword {
                    if !text.contains(k.as_str()) {
                        problems.push("keyword missing".into());
                    }
                }
                for id in parsed["at"]["atUserIds"].as_array().cloned().unwrap_or_default() {
                    if !text.contains(&format!("@{}", id.as_str().unwrap_or_default())) {
                        problems.push(format!("@{id} not in the text"));
                    }
                }
            }
            "/hook" => {
                let secret = st.webhook_secret.clone().unwrap_or_default();
                match (headers.get("x-channeldesk-timestamp"), headers.get("x-channeldesk-signature")) {
                    (Some(ts), Some(sig)) => {
                        if crypto::webhook_signature(&secret, ts, &body) != *sig {
                            problems.push("bad webhook signature".into());
                        }
                    }
                    _ => problems.push("unsigned webhook".into()),
                }
            }
            other => problems.push(format!("unknown path {other}")),
        }
        let raw = String::from_utf8_lossy(&body).into_owned();
        st.received.push(Received { path, query: query.clone(), headers, body: parsed, raw, problems });
        st.script.pop_front().unwrap_or(Reply::Ok)
    };
    match reply {
        Reply::Ok => HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"})),
        Reply::Errcode(code, msg) => HttpResponse::Ok().json(json!({"errcode": code, "errmsg": msg})),
        Reply::Http(status) => HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body("busy"),
        Reply::Delay(d) => {
            actix_web::rt::time::sleep(d).await;
            HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"}))
        }
    }
}

impl FakeRobot {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(handle)))
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind the fake robot");
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        Self { base: format!("http://127.0.0.1:{port}"), state }
    }

    pub fn wecom_url(&self, key: &str) -> String {
        format!("{}/cgi-bin/webhook/send?key={key}", self.base)
    }

    pub fn dingtalk_url(&self, token: &str) -> String {
        format!("{}/robot/send?access_token={token}", self.base)
    }

    pub fn hook_url(&self) -> String {
        format!("{}/hook", self.base)
    }

    /// The next answers, in order (then success again).
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    pub fn expect_dingtalk(&self, secret: Option<&str>, keyword: Option<&str>) {
        let mut st = self.state.lock().unwrap();
        st.dingtalk_secret = secret.map(str::to_string);
        st.keyword = keyword.map(str::to_string);
    }

    pub fn expect_webhook_secret(&self, secret: &str) {
        self.state.lock().unwrap().webhook_secret = Some(secret.to_string());
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Received requests for one robot key / token.
    pub fn received_by(&self, credential: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.query.get("key").or(r.query.get("access_token")).map(String::as_str) == Some(credential))
            .collect()
    }

    /// Fails the test if any request broke a platform rule.
    #[track_caller]
    pub fn assert_all_valid(&self) {
        for r in self.received() {
            assert!(r.problems.is_empty(), "{} broke the rules: {:?}\n{}", r.path, r.problems, r.body);
        }
    }
}

//! The WeCom and DingTalk callbacks: signatures, timestamps, decryption, replays, commands and
//! partner scoping.

use actix_web::http::{Method, StatusCode};
use channeldesk::config::{Secret, WecomCallbackConfig};
use channeldesk::platforms::crypto::{self, WecomCrypto};
use channeldesk::platforms::xml;
use chrono::Utc;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Res, TestApp};

const DING_SECRET: &str = "dingtalk-app-secret-for-tests";
// The WeCom team's own sample settings (bot-test-vectors.json).
const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CORP_ID: &str = "ww1436e0e65a779aee";
const DING_PATH: &str = "/api/v1/integrations/dingtalk/callback";
const WECOM_PATH: &str = "/api/v1/integrations/wecom/callback";

pub async fn configured(app: TestApp) -> TestApp {
    app.with_config(|c| {
        c.notify.dingtalk_app_secret = Some(Secret::new(DING_SECRET));
        c.notify.wecom = Some(WecomCallbackConfig {
            token: Secret::new(TOKEN),
            aes_key: Secret::new(AES_KEY),
            corp_id: CORP_ID.into(),
        });
    })
    .await
}

pub fn cipher() -> WecomCrypto {
    WecomCrypto::new(TOKEN, AES_KEY, CORP_ID).unwrap()
}

pub async fn ding(app: &TestApp, body: Value) -> Res {
    let ts = Utc::now().timestamp_millis().to_string();
    ding_signed(app, &ts, &crypto::dingtalk_sign(DING_SECRET, &ts), body).await
}

async fn ding_signed(app: &TestApp, ts: &str, sign: &str, body: Value) -> Res {
    app.post(DING_PATH, body).anonymous().header("timestamp", ts).header("sign", sign).send().await
}

pub fn ding_text(text: &str, msg_id: &str, sender: &str, chat: &str) -> Value {
    json!({"msgtype": "text", "text": {"content": format!(" {text}")}, "msgId": msg_id, "senderStaffId": sender,
           "senderNick": "测试", "conversationId": chat, "conversationType": "2", "robotCode": "ding-robot"})
}

pub fn reply_text(res: &Res) -> String {
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["msgtype"], "markdown", "{}", res.text);
    res.body["markdown"]["text"].as_str().unwrap().to_string()
}

both!(callbacks_are_404_until_configured, |app: TestApp| async move {
    ding(&app, ding_text("帮助", "m0", "u", "c")).await.problem(404, "route_not_found");
    app.get(&format!("{WECOM_PATH}?msg_signature=a&timestamp=1&nonce=1&echostr=x"))
        .anonymous()
        .send()
        .await
        .problem(404, "route_not_found");
    let res = app
        .req(Method::POST, &format!("{WECOM_PATH}?msg_signature=a&timestamp=1&nonce=1"))
        .anonymous()
        .raw("text/xml", "<xml/>")
        .send()
        .await;
    res.problem(404, "route_not_found");
    let res = app.req(Method::PUT, DING_PATH).anonymous().send().await;
    res.problem(405, "method_not_allowed");
});

both!(dingtalk_checks_signature_and_time_and_answers_commands, |app: TestApp| async move {
    let app = configured(app).await;
    let help = reply_text(&ding(&app, ding_text("随便说点什么", "m1", "u1", "c1")).await);
    assert!(help.contains("可用命令") && help.contains("伙伴 〈名称〉 / partner 〈name〉"), "{help}");
    app.partner_with(
        json!({"name": "华东星辰", "channel_type": "indirect", "kind": "agent", "tier": "key", "owner": "王芳"}),
    )
    .await;
    let text = reply_text(&ding(&app, ding_text("伙伴 华东星辰", "m2", "u1", "c1")).await);
    assert!(text.contains("#### 伙伴：华东星辰"), "{text}");
    assert!(
        text.contains("- **等级**：重点伙伴")
            && text.contains("- **状态**：潜在")
            && text.contains("- **负责人**：王芳"),
        "{text}"
    );
    let text = reply_text(&ding(&app, ding_text("partner 华东", "m3", "u1", "c1")).await);
    assert!(text.contains("伙伴：华东星辰"), "a unique substring finds it: {text}");
    let text = reply_text(&ding(&app, ding_text("伙伴 不存在", "m4", "u1", "c1")).await);
    assert!(text.contains("没有找到名称包含「不存在」的伙伴"), "{text}");

    let now = Utc::now().timestamp_millis();
    let stale = (now - 3_700_000).to_string();
    ding_signed(&app, &stale, &crypto::dingtalk_sign(DING_SECRET, &stale), ding_text("帮助", "m5", "u", "c"))
        .await
        .problem(401, "stale_timestamp");
    let future = (now + 3_700_000).to_string();
    ding_signed(&app, &future, &crypto::dingtalk_sign(DING_SECRET, &future), ding_text("帮助", "m5", "u", "c"))
        .await
        .problem(401, "stale_timestamp");
    let ts = now.to_string();
    let good = crypto::dingtalk_sign(DING_SECRET, &ts);
    let mut tampered = good.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    ding_signed(&app, &ts, &tampered, ding_text("帮助", "m5", "u", "c")).await.problem(401, "invalid_signature");
    ding_signed(&app, &ts, &crypto::dingtalk_sign("another secret", &ts), ding_text("帮助", "m5", "u", "c"))
        .await
        .problem(401, "invalid_signature");
    ding_signed(&app, &ts, &crypto::dingtalk_sign_query(DING_SECRET, &ts), ding_text("帮助", "m5", "u", "c"))
        .await
        .problem(401, "invalid_signature");
    app.post(DING_PATH, ding_text("帮助", "m5", "u", "c")).anonymous().send().await.problem(401, "invalid_signature");
    let res = app
        .req(Method::POST, DING_PATH)
        .anonymous()
        .header("timestamp", &ts)
        .header("sign", &good)
        .raw("application/json", "{not json")
        .send()
        .await;
    res.problem(400, "malformed_body");
    // Nothing above was answered or remembered: m5 is still fresh.
    assert!(reply_text(&ding(&app, ding_text("帮助", "m5", "u", "c")).await).contains("可用命令"));
});

both!(a_retried_message_gets_the_first_answer, |app: TestApp| async move {
    let app = configured(app).await;
    let p = app.partner("回放伙伴").await;
    let first = ding(&app, ding_text("伙伴 回放伙伴", "same-msg", "u1", "c1")).await;
    assert!(reply_text(&first).contains("标准伙伴"));
    app.patch(&format!("/api/v1/partners/{}", p["id"].as_str().unwrap()), json!({"tier": "strategic"})).send().await;
    let again = ding(&app, ding_text("伙伴 回放伙伴", "same-msg", "u1", "c1")).await;
    assert_eq!(again.text, first.text, "answered once, from the first result");
    let fresh = ding(&app, ding_text("伙伴 回放伙伴", "new-msg", "u1", "c1")).await;
    assert!(reply_text(&fresh).contains("战略伙伴"));
});

both!(a_chat_bound_to_a_partner_sees_only_that_partner, |app: TestApp| async move {
    let app = configured(app).await;
    let a = app.partner("甲伙伴").await;
    let b = app.partner("乙伙伴").await;
    let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let ch = json!({"platform": "dingtalk", "name": "甲群", "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=t",
                    "partner_id": aid, "chat_id": "cid-bound"});
    assert_eq!(app.post("/api/v1/bot-channels", ch).send().await.status, StatusCode::CREATED);
    let staff = json!({"platform": "dingtalk", "name": "内部群", "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=s", "chat_id": "cid-staff"});
    assert_eq!(app.post("/api/v1/bot-channels", staff).send().await.status, StatusCode::CREATED);
    app.post(&format!("/api/v1/partners/{bid}/contacts"), json!({"name": "乙联系人", "dingtalk_userid": "b-user"}))
        .send()
        .await;

    let ask = |text: &'static str, msg: &'static str, sender: &'static str, chat: &'static str| {
        let app = &app;
        async move { reply_text(&ding(app, ding_text(text, msg, sender, chat)).await) }
    };
    assert!(ask("伙伴 乙伙伴", "s1", "staff", "cid-bound").await.contains("没有找到"), "another partner is invisible");
    assert!(
        ask("伙伴 伙伴", "s2", "staff", "cid-bound").await.contains("伙伴：甲伙伴"),
        "substring search is scoped too"
    );
    assert!(ask("伙伴 甲伙伴", "s3", "b-user", "cid-bound").await.contains("伙伴：甲伙伴"), "the chat decides");
    // An unregistered chat: a sender known as a partner's contact sees only that partner.
    assert!(ask("伙伴 甲伙伴", "s4", "b-user", "cid-other").await.contains("没有找到"));
    assert!(ask("伙伴 乙伙伴", "s5", "b-user", "cid-other").await.contains("伙伴：乙伙伴"));
    assert!(ask("伙伴 甲伙伴", "s6", "staff", "cid-other").await.contains("伙伴：甲伙伴"));
    let both = ask("伙伴 伙伴", "s7", "staff", "cid-staff").await;
    assert!(both.contains("找到 2 个") && both.contains("甲伙伴") && both.contains("乙伙伴"), "{both}");
});

/// A signed WeCom POST around `inner` (app XML envelope, or smart-bot JSON when `json`).
pub fn wecom_request(c: &WecomCrypto, inner: &str, ts: i64, json_mode: bool) -> (String, String) {
    let encrypt = c.encrypt(inner.as_bytes());
    let nonce = "1597212914";
    let sig = c.signature(&ts.to_string(), nonce, &encrypt);
    let query = format!("{WECOM_PATH}?msg_signature={sig}&timestamp={ts}&nonce={nonce}");
    let body = if json_mode {
        json!({"encrypt": encrypt}).to_string()
    } else {
        format!("<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>")
    };
    (query, body)
}

fn text_message(content: &str, msg_id: &str) -> String {
    text_message_from(content, msg_id, "ChenJiaShun")
}

/// An app's text message from the WeCom user `from`.
pub fn text_message_from(content: &str, msg_id: &str, from: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>1476422779</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>"
    )
}

pub async fn wecom_post(app: &TestApp, inner: &str) -> Res {
    let (path, body) = wecom_request(&cipher(), inner, Utc::now().timestamp(), false);
    app.req(Method::POST, &path).anonymous().raw("text/xml", body).send().await
}

/// Opens an encrypted passive reply and returns the inner plaintext.
pub fn open_reply(res: &Res) -> String {
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let c = cipher();
    let (encrypt, sig, ts, nonce) = if res.text.starts_with('{') {
        let v: Value = serde_json::from_str(&res.text).unwrap();
        let s = |k: &str| v[k].as_str().unwrap().to_string();
        (s("encrypt"), s("msgsignature"), s("timestamp"), s("nonce"))
    } else {
        let x = xml::parse_flat(&res.text).expect("reply XML");
        let s = |k: &str| x.get(k).unwrap().to_string();
        (s("Encrypt"), s("MsgSignature"), s("TimeStamp"), s("Nonce"))
    };
    assert!(c.verify(&sig, &ts, &nonce, &encrypt), "the reply is signed");
    String::from_utf8(c.decrypt(&encrypt).expect("the reply opens")).unwrap()
}

both!(wecom_url_verification_echoes_byte_for_byte, |app: TestApp| async move {
    let app = configured(app).await;
    let c = cipher();
    let verify = |c: &WecomCrypto, plain: &str, ts: i64| {
        let echostr = c.encrypt(plain.as_bytes());
        let sig = c.signature(&ts.to_string(), "47744683", &echostr);
        format!(
            "{WECOM_PATH}?msg_signature={sig}&timestamp={ts}&nonce=47744683&echostr={}",
            crypto::query_encode(&echostr)
        )
    };
    let now = Utc::now().timestamp();
    let res = app.get(&verify(&c, "1288432023552776189", now)).anonymous().send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.text, "1288432023552776189", "no quotes, no newline");
    assert!(res.header("content-type").unwrap().starts_with("text/plain"));
    // The vendor's own sample request is signed correctly but from 2016: too old.
    let v = "msg_signature=012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb&timestamp=1476416373&nonce=47744683&echostr=fsi1xnbH4yQh0%2BPJxcOdhhK6TDXkjMyhEPA7xB2TGz6b%2Bg7xyAbEkRxN%2F3cNXW9qdqjnoVzEtpbhnFyq6SVHyA%3D%3D";
    app.get(&format!("{WECOM_PATH}?{v}")).anonymous().send().await.problem(401, "stale_timestamp");
    app.get(&verify(&c, "123", now - 4000)).anonymous().send().await.problem(401, "stale_timestamp");
    let tampered = verify(&c, "123", now).replace("msg_signature=", "msg_signature=0");
    app.get(&tampered).anonymous().send().await.problem(401, "invalid_signature");
    let other_corp = WecomCrypto::new(TOKEN, AES_KEY, "ww-another-corp").unwrap();
    app.get(&verify(&other_corp, "123", now)).anonymous().send().await.problem(401, "wrong_receive_id");
    let garbage = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let sig = c.signature(&now.to_string(), "1", garbage);
    let res = app
        .get(&format!("{WECOM_PATH}?msg_signature={sig}&timestamp={now}&nonce=1&echostr={garbage}"))
        .anonymous()
        .send()
        .await;
    res.problem(400, "undecryptable");
    app.get(&format!("{WECOM_PATH}?timestamp={now}&nonce=1&echostr=x"))
        .anonymous()
        .send()
        .await
        .problem(401, "invalid_signature");
});

both!(wecom_messages_are_decrypted_answered_and_replayed_once, |app: TestApp| async move {
    let app = configured(app).await;
    app.partner_with(
        json!({"name": "Acme 渠道", "channel_type": "indirect", "kind": "distributor", "tier": "strategic"}),
    )
    .await;
    let res = wecom_post(&app, &text_message("帮助", "1001")).await;
    let inner = open_reply(&res);
    let reply = xml::parse_flat(&inner).expect("inner reply");
    assert_eq!(reply.get("MsgType"), Some("text"));
    assert_eq!(reply.get("ToUserName"), Some("ChenJiaShun"));
    assert_eq!(reply.get("FromUserName"), Some(CORP_ID));
    assert!(reply.get("Content").unwrap().contains("可用命令"));
    let res = wecom_post(&app, &text_message("partner acme 渠道", "1002")).await;
    let content = xml::parse_flat(&open_reply(&res)).unwrap().get("Content").unwrap().to_string();
    assert!(content.starts_with("伙伴：Acme 渠道\n"), "plain text, no markdown: {content}");
    assert!(content.contains("等级：战略伙伴") && content.contains("类型：间接渠道·经销商"), "{content}");
    assert!(content.len() <= 2048);
    // The platform retries the same MsgId: the first answer, the command not run again.
    let again = wecom_post(&app, &text_message("partner acme 渠道", "1002")).await;
    assert_eq!(open_reply(&again), open_reply(&res));
    // Not a text message: an empty 200.
    let event = format!("<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>u</FromUserName><MsgType>event</MsgType><Event>enter_agent</Event></xml>");
    let res = wecom_post(&app, &event).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text.is_empty());
    // Smart bots speak JSON.
    let inner = json!({"msgid": "sb-1", "aibotid": "bot", "chatid": "wrk-chat", "chattype": "group", "from": {"userid": "zhang"},
                       "msgtype": "text", "text": {"content": "@渠道助手 help"}})
    .to_string();
    let (path, body) = wecom_request(&cipher(), &inner, Utc::now().timestamp(), true);
    let res = app.req(Method::POST, &path).anonymous().raw("application/json", body).send().await;
    let inner: Value = serde_json::from_str(&open_reply(&res)).unwrap();
    assert_eq!(inner["msgtype"], "markdown");
    assert!(inner["markdown"]["content"].as_str().unwrap().contains("可用命令"));
});

both!(wecom_rejects_bad_requests_and_takes_both_padding_edges, |app: TestApp| async move {
    let app = configured(app).await;
    let now = Utc::now().timestamp();
    let (path, body) = wecom_request(&cipher(), &text_message("帮助", "2001"), now, false);
    let tampered = path.replace("msg_signature=", "msg_signature=f");
    app.req(Method::POST, &tampered)
        .anonymous()
        .raw("text/xml", body.clone())
        .send()
        .await
        .problem(401, "invalid_signature");
    let (stale_path, stale_body) = wecom_request(&cipher(), &text_message("帮助", "2002"), now - 7200, false);
    app.req(Method::POST, &stale_path)
        .anonymous()
        .raw("text/xml", stale_body)
        .send()
        .await
        .problem(401, "stale_timestamp");
    let other = WecomCrypto::new(TOKEN, AES_KEY, "ww-another-corp").unwrap();
    let (p2, b2) = wecom_request(&other, &text_message("帮助", "2003"), now, false);
    app.req(Method::POST, &p2).anonymous().raw("text/xml", b2).send().await.problem(401, "wrong_receive_id");
    app.req(Method::POST, &path)
        .anonymous()
        .raw("text/xml", "<xml><Encrypt>")
        .send()
        .await
        .problem(400, "malformed_body");
    // The envelope is intact: the first request is still answered (nothing was recorded before).
    assert!(
        open_reply(&app.req(Method::POST, &path).anonymous().raw("text/xml", body).send().await).contains("可用命令")
    );
    // Frames that end exactly on a 32-byte block (pad 32) and one byte short of one (pad 1).
    for (residue, msg_id) in [(0usize, "3001"), (31, "3002")] {
        let mut filler = String::new();
        let inner = loop {
            let inner = text_message(&format!("帮助{filler}"), msg_id);
            if (16 + 4 + inner.len() + CORP_ID.len()) % 32 == residue {
                break inner;
            }
            filler.push(' ');
        };
        let reply = open_reply(&wecom_post(&app, &inner).await);
        assert!(reply.contains("可用命令"), "residue {residue}");
    }
});

//! Bot channels, subscriptions, webhooks and deliveries through the API.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::json;

use crate::both;

const WECOM: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-0001";
const DING: &str = "https://oapi.dingtalk.com/robot/send?access_token=ding-token-0002";

both!(bot_channel_crud_masks_credentials, |app: crate::helpers::TestApp| async move {
    let res = app
        .post("/api/v1/bot-channels", json!({"platform": "wecom", "name": "华东渠道群", "webhook_url": WECOM}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/bot-channels/{id}"));
    assert_eq!(res.etag(), "\"1\"");
    assert_eq!(res.body["webhook_url"], "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****");
    assert_eq!(res.body["enabled"], true);
    assert_eq!(res.body["secret_set"], false);
    let ding = app
        .post(
            "/api/v1/bot-channels",
            json!({"platform": "dingtalk", "name": "钉钉群", "webhook_url": DING, "secret": "SECsigning-secret-xyz", "keyword": "渠道"}),
        )
        .send()
        .await;
    assert_eq!(ding.status, StatusCode::CREATED, "{}", ding.text);
    assert_eq!(ding.body["secret_set"], true);
    assert!(ding.body.get("secret").is_none());
    let url = format!("/api/v1/bot-channels/{id}");
    let got = app.get(&url).send().await;
    assert_eq!(got.body, res.body);
    let list = app.get("/api/v1/bot-channels?platform=dingtalk").send().await;
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.items()[0]["name"], "钉钉群");
    app.patch(&url, json!({"name": "x"})).if_match("\"7\"").send().await.problem(412, "version_mismatch");
    let patched = app
        .patch(&url, json!({"enabled": false, "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=rotated-key"}))
        .if_match("\"1\"")
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["enabled"], false);
    assert_eq!(patched.etag(), "\"2\"");
    let ding_url = format!("/api/v1/bot-channels/{}", ding.id());
    let cleared = app.patch(&ding_url, json!({"secret": null})).send().await;
    assert_eq!(cleared.body["secret_set"], false);
    // Neither responses nor the audit trail carry a credential.
    let audit = app.get("/api/v1/audit-events?resource_type=bot_channel").send().await;
    assert_eq!(audit.items().len(), 4);
    for text in [&audit.text, &list.text, &patched.text, &got.text] {
        for secret in ["wecom-key-0001", "ding-token-0002", "SECsigning-secret-xyz", "rotated-key"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
    assert!(
        audit.items().iter().any(|a| a["changes"]["secret"] == json!({"old": "****", "new": null})),
        "a secret change is noted, masked: {}",
        audit.text
    );
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "bot_channel_not_found");
    app.delete(&url).send().await.problem(404, "bot_channel_not_found");
});

both!(bot_channel_validation, |app: crate::helpers::TestApp| async move {
    let p = app.partner("绑定伙伴").await;
    let cases = [
        (
            json!({"platform": "wecom", "name": "x", "webhook_url": "https://evil.example.com/send?key=k"}),
            "webhook_url",
        ),
        (json!({"platform": "wecom", "name": "x", "webhook_url": "https://10.0.0.1/send?key=k"}), "webhook_url"),
        (
            json!({"platform": "wecom", "name": "x", "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}),
            "webhook_url",
        ),
        (json!({"platform": "dingtalk", "name": "x", "webhook_url": WECOM}), "webhook_url"),
        (json!({"platform": "wecom", "name": "x", "webhook_url": "not a url"}), "webhook_url"),
        (json!({"platform": "feishu", "name": "x", "webhook_url": WECOM}), "platform"),
        (json!({"platform": "wecom", "name": "  ", "webhook_url": WECOM}), "name"),
        (
            json!({"platform": "wecom", "name": "x", "webhook_url": WECOM, "partner_id": "0192f0c4-3b9e-7c1a-8f00-000000000000"}),
            "partner_id",
        ),
        (json!({"platform": "wecom", "name": "x", "webhook_url": WECOM, "extra": 1}), "extra"),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/bot-channels", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{body}");
    }
    let pid = p["id"].as_str().unwrap();
    let ok = json!({"platform": "wecom", "name": "伙伴群", "webhook_url": WECOM, "partner_id": pid, "chat_id": "wrkSFfCgAA"});
    let first = app.post("/api/v1/bot-channels", ok.clone()).send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["partner_id"], pid);
    app.post("/api/v1/bot-channels", ok).send().await.problem(409, "chat_id_taken");
    let res = app.patch(&format!("/api/v1/bot-channels/{}", first.id()), json!({"platform": "dingtalk"})).send().await;
    assert_eq!(res.fields(), vec!["platform"], "the platform cannot change");
});

both!(bot_endpoints_are_admin_only, |app: crate::helpers::TestApp| async move {
    let p = app.partner("P").await;
    let manager = app.key(Role::Manager, None);
    let partner = app.key(Role::Partner, p["id"].as_str());
    for path in ["/api/v1/bot-channels", "/api/v1/webhooks", "/api/v1/deliveries"] {
        app.get(path).key(&manager).send().await.problem(403, "forbidden");
        app.get(path).key(&partner).send().await.problem(404, "not_found");
        app.get(path).anonymous().send().await.problem(401, "unauthorized");
    }
    let body = json!({"platform": "wecom", "name": "x", "webhook_url": WECOM});
    app.post("/api/v1/bot-channels", body).key(&manager).send().await.problem(403, "forbidden");
});

both!(subscriptions_crud_and_validation, |app: crate::helpers::TestApp| async move {
    let p = app.partner("订阅伙伴").await;
    let ch =
        app.post("/api/v1/bot-channels", json!({"platform": "wecom", "name": "群", "webhook_url": WECOM})).send().await;
    let base = format!("/api/v1/bot-channels/{}/subscriptions", ch.id());
    let res = app
        .post(
            &base,
            json!({"event_types": ["partner.*", "meeting.reminder"], "partner_tiers": ["key", "key", "strategic"],
                   "regions": ["华东"], "partner_ids": [p["id"]], "min_importance": "important"}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["partner_tiers"], json!(["key", "strategic"]), "duplicates folded");
    let url = format!("{base}/{}", res.id());
    assert_eq!(res.header("location").unwrap(), url);
    let patched = app.patch(&url, json!({"min_importance": null, "regions": []})).if_match("\"1\"").send().await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["min_importance"], serde_json::Value::Null);
    assert_eq!(app.get(&base).send().await.items().len(), 1);
    let cases = [
        (json!({"event_types": []}), "event_types"),
        (json!({"event_types": ["Partner.Created"]}), "event_types[0]"),
        (json!({"event_types": ["a", "a"]}), "event_types[1]"),
        (json!({"event_types": ["*"], "partner_ids": ["0192f0c4-3b9e-7c1a-8f00-000000000000"]}), "partner_ids"),
        (json!({"event_types": ["*"], "partner_ids": ["nope"]}), "partner_ids[0]"),
        (json!({"event_types": ["*"], "min_importance": "huge"}), "min_importance"),
        (json!({"event_types": ["*"], "regions": [""]}), "regions[0]"),
    ];
    for (body, field) in cases {
        let res = app.post(&base, body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{body}");
    }
    let missing = "/api/v1/bot-channels/0192f0c4-3b9e-7c1a-8f00-000000000000/subscriptions";
    app.post(missing, json!({"event_types": ["*"]})).send().await.problem(404, "bot_channel_not_found");
    app.get(&format!("{base}/0192f0c4-3b9e-7c1a-8f00-000000000000"))
        .send()
        .await
        .problem(404, "subscription_not_found");
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "subscription_not_found");
});

both!(webhooks_crud_and_validation, |app: crate::helpers::TestApp| async move {
    let body = json!({"name": "CRM", "url": "https://crm.example.com/hooks/channeldesk", "secret": "whsec-0123456789abcdef", "event_types": ["*"]});
    let res = app.post("/api/v1/webhooks", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["secret_set"], true);
    assert!(!res.text.contains("whsec-0123456789abcdef"));
    let url = format!("/api/v1/webhooks/{}", res.id());
    let patched = app.patch(&url, json!({"enabled": false})).if_match("\"1\"").send().await;
    assert_eq!(patched.body["enabled"], false);
    let cases = [
        (
            json!({"name": "x", "url": "http://crm.example.com/h", "secret": "s".repeat(16), "event_types": ["*"]}),
            "url",
        ),
        (json!({"name": "x", "url": "https://192.168.1.5/h", "secret": "s".repeat(16), "event_types": ["*"]}), "url"),
        (json!({"name": "x", "url": "https://crm.example.com/h", "secret": "short", "event_types": ["*"]}), "secret"),
        (
            json!({"name": "x", "url": "https://crm.example.com/h", "secret": "s".repeat(16), "event_types": []}),
            "event_types",
        ),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/webhooks", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{body}");
    }
    // An allowed host may be plain http (the test configuration allows 127.0.0.1).
    let local =
        json!({"name": "local", "url": "http://127.0.0.1:9/h", "secret": "s".repeat(16), "event_types": ["partner.*"]});
    assert_eq!(app.post("/api/v1/webhooks", local).send().await.status, StatusCode::CREATED);
    assert_eq!(app.get("/api/v1/webhooks").send().await.items().len(), 2);
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "webhook_not_found");
});

both!(deliveries_lookups, |app: crate::helpers::TestApp| async move {
    assert!(app.get("/api/v1/deliveries").send().await.items().is_empty());
    let res = app.get("/api/v1/deliveries?status=lost").send().await;
    assert_eq!(res.fields(), vec!["status"]);
    let res = app.get("/api/v1/deliveries?channel_id=nope").send().await;
    assert_eq!(res.fields(), vec!["channel_id"]);
    let missing = "/api/v1/deliveries/0192f0c4-3b9e-7c1a-8f00-000000000000";
    app.get(missing).send().await.problem(404, "delivery_not_found");
    app.post(&format!("{missing}/retry"), json!({})).send().await.problem(404, "delivery_not_found");
});

use actix_web::http::{Method, StatusCode};
use channeldesk::access::Role;
use channeldesk::events::Event;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Res, TestApp};

const MISSING: &str = "0192f0c4-3b9e-7c1a-8f00-000000000000";

/// A partner moved along its lifecycle to `status` (prospect, onboarding, active, suspended).
async fn partner_in(app: &TestApp, body: Value, status: &str) -> String {
    let p = app.partner_with(body).await;
    let id = p["id"].as_str().unwrap().to_string();
    let path: &[&str] = match status {
        "prospect" => &[],
        "onboarding" => &["onboarding"],
        "active" => &["onboarding", "active"],
        "suspended" => &["onboarding", "active", "suspended"],
        other => panic!("no path to {other}"),
    };
    for step in path {
        let res = app.patch(&format!("/api/v1/partners/{id}"), json!({"status": step})).send().await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    id
}

async fn active(app: &TestApp, name: &str) -> String {
    partner_in(app, json!({"name": name, "channel_type": "indirect", "kind": "agent"}), "active").await
}

fn draft(title: &str, audience: Value) -> Value {
    json!({"title": title, "body": format!("{title} body"), "category": "market", "audience": audience})
}

async fn create(app: &TestApp, body: Value) -> String {
    let res = app.post("/api/v1/bulletins", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.id()
}

/// Publishes with no request body at all, as most clients will.
async fn publish(app: &TestApp, id: &str) -> Res {
    let res = app.req(Method::POST, &format!("/api/v1/bulletins/{id}/publish")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res
}

/// Creates and publishes a bulletin; returns its id.
async fn published(app: &TestApp, body: Value) -> String {
    let id = create(app, body).await;
    publish(app, &id).await;
    id
}

fn events(app: &TestApp, event_type: &str) -> Vec<Event> {
    app.with_conn(|c| channeldesk::events::since(c, None, 10_000).expect("events"))
        .into_iter()
        .filter(|e| e.event_type == event_type)
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn ids(res: &Res) -> Vec<String> {
    res.items().iter().map(|b| b["id"].as_str().unwrap().to_string()).collect()
}

fn titles(res: &Res) -> Vec<String> {
    res.items().iter().map(|b| b["title"].as_str().unwrap().to_string()).collect()
}

fn receipt_partners(res: &Res) -> Vec<String> {
    res.items().iter().map(|r| r["partner_id"].as_str().unwrap().to_string()).collect()
}

/// Moves a bulletin's expiry into the past behind the API's back (the API refuses past expiries).
fn expire(app: &TestApp, id: &str) {
    use channeldesk::db::schema::bulletins as b;
    use diesel::prelude::*;
    let past = channeldesk::db::now() - chrono::Duration::minutes(1);
    app.with_conn(|c| {
        diesel::update(b::table.filter(b::id.eq(id))).set(b::expires_at.eq(Some(past))).execute(c).expect("expire")
    });
}

both!(draft_crud_and_bad_input, |app: TestApp| async move {
    let named = active(&app, "Named").await;
    let res = app
        .post(
            "/api/v1/bulletins",
            json!({
                "title": "竞品降价 10%", "body": "# 竞品动态\n\n详见附件。", "category": "competitor",
                "audience": {"tiers": ["key", "key"], "partner_ids": [named.to_uppercase()]},
                "attachments": [{"name": "分析.pdf", "url": "https://files.example.cn/a.pdf"}],
                "expires_at": "2099-01-01T00:00:00Z"
            }),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/bulletins/{id}"));
    assert_eq!(res.etag(), "\"1\"");
    assert_eq!(res.body["status"], "draft");
    assert_eq!(res.body["importance"], "normal");
    assert_eq!(res.body["pinned"], false);
    assert_eq!(res.body["recipient_count"], 0);
    assert_eq!(
        res.body["audience"],
        json!({"all": false, "tiers": ["key"], "regions": [], "channel_types": [], "partner_ids": [named]}),
        "repeats dropped, ids canonical"
    );
    assert!(res.body.get("read_at").is_none());

    let url = format!("/api/v1/bulletins/{id}");
    let got = app.get(&url).send().await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.etag(), "\"1\"");
    assert_eq!(got.body["attachments"][0]["url"], "https://files.example.cn/a.pdf");

    // A draft is fully editable.
    let res = app
        .patch(&url, json!({"body": "updated", "importance": "urgent", "expires_at": null, "audience": {"all": true}}))
        .if_match("\"1\"")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.etag(), "\"2\"");
    assert_eq!(res.body["body"], "updated");
    assert_eq!(res.body["title"], "竞品降价 10%", "absent fields are kept");
    assert_eq!(res.body["expires_at"], Value::Null);
    app.patch(&url, json!({"pinned": true})).if_match("\"1\"").send().await.problem(412, "version_mismatch");

    let ok = || draft("ok", json!({"all": true}));
    let with = |field: &str, value: Value| {
        let mut body = ok();
        body[field] = value;
        body
    };
    let cases = [
        (with("audience", json!({})), "audience"),
        (with("audience", json!({"all": false, "tiers": [], "regions": []})), "audience"),
        (with("audience", json!({"partner_ids": [MISSING]})), "audience.partner_ids[0]"),
        (with("audience", json!({"partner_ids": [named, "not-a-uuid"]})), "audience.partner_ids[1]"),
        (with("audience", json!({"regions": [""]})), "audience.regions[0]"),
        (with("audience", json!({"tiers": ["gold"]})), "audience.tiers[0]"),
        (with("audience", json!({"everyone": true})), "audience.everyone"),
        (with("expires_at", json!("2001-01-01T00:00:00Z")), "expires_at"),
        (with("attachments", json!([{"name": "x", "url": "javascript:alert(1)"}])), "attachments[0].url"),
        (
            with(
                "attachments",
                json!([{"name": "ok", "url": "https://a.example"}, {"name": "x", "url": "ftp://a.example/f"}]),
            ),
            "attachments[1].url",
        ),
        (with("attachments", json!([{"name": " ", "url": "https://a.example"}])), "attachments[0].name"),
        (with("attachments", json!([{"url": "https://a.example"}])), "attachments[0].name"),
        (with("body", json!("b".repeat(64 * 1024 + 1))), "body"),
        (with("body", json!("渠".repeat(21_846))), "body"),
        (with("body", json!("nul\u{0}")), "body"),
        (with("title", json!("   ")), "title"),
        (with("title", json!("t".repeat(201))), "title"),
        (with("category", json!("gossip")), "category"),
        (with("importance", json!("critical")), "importance"),
        (with("status", json!("published")), "status"),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/bulletins", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(
            res.fields(),
            vec![field.to_string()],
            "body {}",
            &body.to_string()[..body.to_string().len().min(200)]
        );
    }
    // The largest body fits, well inside the request size limit.
    let res = app.post("/api/v1/bulletins", with("body", json!("b".repeat(64 * 1024)))).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", &res.text[..res.text.len().min(300)]);
    let res = app.patch(&url, json!({"expires_at": "2001-01-01T00:00:00Z"})).send().await;
    assert_eq!(res.fields(), vec!["expires_at"]);
    let res = app.patch(&url, json!({"audience": {"partner_ids": [MISSING]}})).send().await;
    assert_eq!(res.fields(), vec!["audience.partner_ids[0]"]);

    app.get(&format!("/api/v1/bulletins/{MISSING}")).send().await.problem(404, "bulletin_not_found");
    app.patch(&format!("/api/v1/bulletins/{MISSING}"), json!({"pinned": true}))
        .send()
        .await
        .problem(404, "bulletin_not_found");
    let res = app.get("/api/v1/bulletins/nope").send().await;
    assert_eq!(res.fields(), vec!["id"]);

    // Discarding a draft removes it; drafts never reach the outbox.
    app.delete(&url).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    assert_eq!(app.delete(&url).if_match("\"2\"").send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "bulletin_not_found");
    assert!(!app.event_types().iter().any(|t| t.starts_with("bulletin.")));
});

both!(publishing_resolves_the_audience_once, |app: TestApp| async move {
    let body = |name: &str, tier: &str, region: &str| json!({"name": name, "channel_type": "indirect", "kind": "agent", "tier": tier, "region": region});
    let a = partner_in(&app, body("A key east", "key", "华东"), "active").await;
    let b = partner_in(&app, body("B std east", "standard", "华东"), "onboarding").await;
    let c = partner_in(&app, body("C key north", "key", "华北"), "active").await;
    let d = partner_in(&app, body("D std south", "standard", "华南"), "active").await;
    let e = partner_in(&app, body("E key prospect", "key", "华东"), "prospect").await;
    let f = partner_in(&app, body("F key suspended", "key", "华东"), "suspended").await;
    let g = partner_in(&app, body("G key archived", "key", "华东"), "active").await;
    assert_eq!(app.delete(&format!("/api/v1/partners/{g}")).send().await.status, StatusCode::NO_CONTENT);
    let _ = (&e, &f);

    let id = create(
        &app,
        json!({"title": "华东市场简报", "body": "本月重点", "category": "market", "importance": "important",
               "audience": {"tiers": ["key"], "regions": ["华东"], "partner_ids": [d, a]}}),
    )
    .await;
    let res = publish(&app, &id).await;
    assert_eq!(res.body["status"], "published");
    assert_eq!(res.body["recipient_count"], 4, "A matches three groups and counts once");
    assert!(res.body["published_at"].is_string());
    assert_eq!(res.etag(), "\"2\"");
    let expected = sorted(vec![a.clone(), b.clone(), c.clone(), d.clone()]);

    let emitted = events(&app, "bulletin.published");
    assert_eq!(emitted.len(), 1);
    let event = &emitted[0];
    assert_eq!(event.resource_id, id);
    assert_eq!(event.partner_id, None, "several partners: no single partner on the event");
    assert_eq!(event.payload["partner_ids"], json!(expected));
    assert_eq!(event.payload["recipient_count"], 4);
    assert_eq!(event.payload["importance"], "important");
    assert_eq!(event.payload["category"], "market");
    assert_eq!(event.payload["title"], "华东市场简报");
    assert_eq!(event.payload["bulletin"]["id"], json!(id));
    assert_eq!(event.payload["bulletin"]["status"], "published");

    // Later partner changes do not rewrite who received it.
    app.patch(&format!("/api/v1/partners/{e}"), json!({"status": "onboarding"})).send().await;
    app.patch(&format!("/api/v1/partners/{a}"), json!({"status": "suspended"})).send().await;
    app.patch(&format!("/api/v1/partners/{c}"), json!({"tier": "standard", "region": "华南"})).send().await;
    let receipts = app.get(&format!("/api/v1/bulletins/{id}/receipts")).send().await;
    assert_eq!(receipts.status, StatusCode::OK, "{}", receipts.text);
    assert_eq!(receipt_partners(&receipts), expected);
    assert_eq!(receipts.body["recipients"], 4);
    assert_eq!(app.get(&format!("/api/v1/bulletins/{id}")).send().await.body["recipient_count"], 4);

    // The same audience published now reaches the partners as they are now.
    let again = published(
        &app,
        json!({"title": "again", "body": "b", "category": "market",
               "audience": {"tiers": ["key"], "regions": ["华东"], "partner_ids": [d, a]}}),
    )
    .await;
    let receipts = app.get(&format!("/api/v1/bulletins/{again}/receipts")).send().await;
    assert_eq!(receipt_partners(&receipts), sorted(vec![b.clone(), d.clone(), e.clone()]));

    // One recipient: the event names it.
    let solo = published(&app, draft("solo", json!({"partner_ids": [d]}))).await;
    let event = events(&app, "bulletin.published").into_iter().find(|e| e.resource_id == solo).unwrap();
    assert_eq!(event.partner_id.as_deref(), Some(d.as_str()));
    assert_eq!(event.payload["partner_ids"], json!([d]));

    // by channel type, and everyone
    let direct =
        partner_in(&app, json!({"name": "Direct", "channel_type": "direct", "kind": "telesales"}), "active").await;
    let by_type = published(&app, draft("direct only", json!({"channel_types": ["direct"]}))).await;
    let receipts = app.get(&format!("/api/v1/bulletins/{by_type}/receipts")).send().await;
    assert_eq!(receipt_partners(&receipts), vec![direct.clone()]);
    let all = published(&app, draft("everyone", json!({"all": true}))).await;
    let receipts = app.get(&format!("/api/v1/bulletins/{all}/receipts")).send().await;
    assert_eq!(receipt_partners(&receipts), sorted(vec![b, c, d, e, direct]));
});

both!(publish_and_archive_rules, |app: TestApp| async move {
    let p = active(&app, "P").await;
    let id = create(&app, draft("rules", json!({"partner_ids": [p]}))).await;
    let url = format!("/api/v1/bulletins/{id}");
    app.post(&format!("{url}/publish"), json!({})).if_match("\"7\"").send().await.problem(412, "version_mismatch");
    app.post(&format!("{url}/archive"), json!({})).send().await.problem(409, "invalid_status_transition");
    publish(&app, &id).await;
    app.post(&format!("{url}/publish"), json!({})).send().await.problem(409, "invalid_status_transition");

    // Nobody to send to.
    let prospect =
        partner_in(&app, json!({"name": "Prospect", "channel_type": "direct", "kind": "other"}), "prospect").await;
    let nobody = create(&app, draft("nobody", json!({"partner_ids": [prospect], "regions": ["月球"]}))).await;
    let res = app.post(&format!("/api/v1/bulletins/{nobody}/publish"), json!({})).send().await;
    res.problem(409, "no_recipients");
    assert_eq!(res.fields(), vec!["audience"]);

    // A draft whose expiry passed cannot be published until it is moved.
    let stale = create(&app, draft("stale", json!({"all": true}))).await;
    expire(&app, &stale);
    let res = app.post(&format!("/api/v1/bulletins/{stale}/publish"), json!({})).send().await;
    res.problem(409, "bulletin_expired");
    assert_eq!(res.fields(), vec!["expires_at"]);
    let res =
        app.patch(&format!("/api/v1/bulletins/{stale}"), json!({"expires_at": "2099-01-01T00:00:00Z"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    publish(&app, &stale).await;

    // Published: only pinned and expires_at may change.
    let res = app.patch(&url, json!({"body": "rewritten", "title": "rules"})).send().await;
    res.problem(409, "bulletin_not_editable");
    assert_eq!(res.fields(), vec!["body"], "an unchanged title is not an edit");
    let res = app.patch(&url, json!({"audience": {"all": true}, "attachments": []})).send().await;
    res.problem(409, "bulletin_not_editable");
    assert_eq!(res.fields(), vec!["audience"], "the same (empty) attachments are no change");
    let res = app.patch(&url, json!({"body": ""})).send().await;
    res.problem(422, "validation_failed");
    let res =
        app.patch(&url, json!({"pinned": true, "expires_at": "2099-06-01T00:00:00Z"})).if_match("\"2\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["pinned"], true);
    assert_eq!(res.body["expires_at"], "2099-06-01T00:00:00Z");
    assert_eq!(res.etag(), "\"3\"");
    let res = app.patch(&url, json!({"expires_at": "2001-01-01T00:00:00Z"})).send().await;
    assert_eq!(res.fields(), vec!["expires_at"]);

    // Archive: event with the recipients, then nothing changes any more.
    let res = app.post(&format!("{url}/archive"), json!({})).if_match("\"3\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["status"], "archived");
    assert!(res.body["archived_at"].is_string());
    let archived = events(&app, "bulletin.archived");
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].partner_id.as_deref(), Some(p.as_str()));
    assert_eq!(archived[0].payload["partner_ids"], json!([p]));
    assert_eq!(archived[0].payload["recipient_count"], 1);
    assert_eq!(archived[0].payload["bulletin"]["status"], "archived");
    let again = app.post(&format!("{url}/archive"), json!({})).send().await;
    assert_eq!(again.status, StatusCode::OK, "archiving again changes nothing");
    assert_eq!(events(&app, "bulletin.archived").len(), 1);
    app.patch(&url, json!({"pinned": false})).send().await.problem(409, "bulletin_archived");
    app.post(&format!("{url}/publish"), json!({})).send().await.problem(409, "invalid_status_transition");
    // Receipts outlive archiving.
    assert_eq!(app.get(&format!("{url}/receipts")).send().await.body["recipients"], 1);

    // DELETE on a published bulletin archives it.
    let other = published(&app, draft("other", json!({"all": true}))).await;
    assert_eq!(app.delete(&format!("/api/v1/bulletins/{other}")).send().await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/bulletins/{other}")).send().await.body["status"], "archived");
    assert_eq!(events(&app, "bulletin.archived").len(), 2);
    assert_eq!(app.delete(&format!("/api/v1/bulletins/{other}")).send().await.status, StatusCode::NO_CONTENT);
});

both!(receipts_and_read_rate, |app: TestApp| async move {
    let a = active(&app, "A").await;
    let b = active(&app, "B").await;
    let c = active(&app, "C").await;
    let outsider = active(&app, "Outsider").await;
    let id = published(&app, draft("read me", json!({"partner_ids": [a, b, c]}))).await;
    let ack = format!("/api/v1/bulletins/{id}/acknowledgements");
    let a_key = app.key(Role::Partner, Some(&a));

    // A partner key acknowledges for its own partner; the first time is kept.
    let first = app.post(&ack, json!({})).key(&a_key).send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.header("location").unwrap(), format!("/api/v1/bulletins/{id}/receipts/{a}"));
    assert_eq!(first.etag(), "\"2\"");
    assert_eq!(first.body["partner_id"], json!(a));
    assert_eq!(first.body["partner_name"], "A");
    assert_eq!(first.body["read"], true);
    assert_eq!(first.body["on_behalf"], false);
    assert_eq!(first.body["recorded_by"], Value::Null, "key names stay internal");
    let read_at = first.body["read_at"].as_str().unwrap().to_string();
    let second = app.post(&ack, json!({"partner_id": a})).key(&a_key).send().await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(second.body["read_at"], json!(read_at), "acknowledging twice keeps the first time");
    // and a manager recording it again changes nothing either
    let third = app.post(&ack, json!({"partner_id": a})).send().await;
    assert_eq!(third.status, StatusCode::OK);
    assert_eq!(third.body["on_behalf"], false);

    // A manager records one on B's behalf, naming the contact who read it.
    let contact = app.post(&format!("/api/v1/partners/{b}/contacts"), json!({"name": "王芳"})).send().await.id();
    let manager = app.key(Role::Manager, None);
    let res = app.post(&ack, json!({"partner_id": b, "contact_id": contact})).key(&manager).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["on_behalf"], true);
    assert_eq!(res.body["contact_id"], json!(contact));
    assert_eq!(res.body["contact_name"], "王芳");
    assert_eq!(res.body["recorded_by"], "test-manager");

    // Who may not.
    let res = app.post(&ack, json!({"partner_id": c, "contact_id": contact})).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["contact_id"], "a contact of another partner");
    let res = app.post(&ack, json!({})).send().await;
    assert_eq!(res.fields(), vec!["partner_id"], "staff must name the partner");
    app.post(&ack, json!({"partner_id": outsider})).send().await.problem(404, "recipient_not_found");
    app.post(&ack, json!({"partner_id": MISSING})).send().await.problem(404, "recipient_not_found");
    let outsider_key = app.key(Role::Partner, Some(&outsider));
    app.post(&ack, json!({})).key(&outsider_key).send().await.problem(404, "bulletin_not_found");
    app.post(&ack, json!({"partner_id": c})).key(&a_key).send().await.problem(403, "forbidden");
    let viewer = app.key(Role::Viewer, None);
    app.post(&ack, json!({"partner_id": c})).key(&viewer).send().await.problem(403, "forbidden");
    app.post(&format!("/api/v1/bulletins/{MISSING}/acknowledgements"), json!({"partner_id": c}))
        .send()
        .await
        .problem(404, "bulletin_not_found");
    let res = app.post(&ack, json!({"partner_id": "c"})).send().await;
    assert_eq!(res.fields(), vec!["partner_id"]);

    // Totals over every recipient; pages in partner order.
    let url = format!("/api/v1/bulletins/{id}/receipts");
    let all = app.get(&url).key(&viewer).send().await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!((&all.body["recipients"], &all.body["read"], &all.body["unread"]), (&json!(3), &json!(2), &json!(1)));
    assert_eq!(all.body["read_rate"], 6666, "basis points");
    assert_eq!(receipt_partners(&all), sorted(vec![a.clone(), b.clone(), c.clone()]));
    let unread = &all.items().iter().find(|r| r["partner_id"] == json!(c)).unwrap();
    assert_eq!(unread["read"], false);
    assert_eq!(unread["read_at"], Value::Null);
    let res = app.get(&format!("{url}?read=false")).send().await;
    assert_eq!(receipt_partners(&res), vec![c.clone()]);
    assert_eq!(res.body["recipients"], 3, "totals ignore the filter");
    let res = app.get(&format!("{url}?read=true")).send().await;
    assert_eq!(receipt_partners(&res), sorted(vec![a.clone(), b.clone()]));
    let page = app.get(&format!("{url}?limit=2")).send().await;
    assert_eq!(page.items().len(), 2);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
    assert!(page.header("link").unwrap().contains(&format!("cursor={cursor}")));
    let rest = app.get(&format!("{url}?limit=2&cursor={cursor}")).send().await;
    assert_eq!(rest.items().len(), 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    assert!(rest.header("link").is_none());

    // One receipt.
    let one = app.get(&format!("{url}/{b}")).send().await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["contact_name"], "王芳");
    assert_eq!(one.etag(), "\"2\"");
    app.get(&format!("{url}/{outsider}")).send().await.problem(404, "recipient_not_found");
    let own = app.get(&format!("{url}/{a}")).key(&a_key).send().await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["read_at"], json!(read_at));
    assert_eq!(own.body["recorded_by"], Value::Null);
    assert_eq!(app.get(&format!("{url}/{a}")).send().await.body["recorded_by"], "test-partner");
    app.get(&format!("{url}/{b}")).key(&a_key).send().await.problem(404, "recipient_not_found");
    app.get(&url).key(&a_key).send().await.problem(404, "not_found");

    // A draft has no receipts yet.
    let d = create(&app, draft("draft", json!({"all": true}))).await;
    app.get(&format!("/api/v1/bulletins/{d}/receipts")).send().await.problem(409, "bulletin_not_published");
    app.post(&format!("/api/v1/bulletins/{d}/acknowledgements"), json!({"partner_id": a}))
        .send()
        .await
        .problem(404, "recipient_not_found");

    // Every first acknowledgement is audited.
    let audit = app.get(&format!("/api/v1/audit-events?resource_type=bulletin_receipt&resource_id={id}")).send().await;
    assert_eq!(audit.items().len(), 2);
});

both!(partner_keys_see_only_their_live_bulletins, |app: TestApp| async move {
    let mine = active(&app, "Mine").await;
    let other = active(&app, "Other").await;
    let key = app.key(Role::Partner, Some(&mine));
    let live = published(&app, draft("live", json!({"partner_ids": [mine]}))).await;
    let to_both = published(&app, draft("to both", json!({"partner_ids": [mine, other]}))).await;
    let others = published(&app, draft("others", json!({"partner_ids": [other]}))).await;
    let drafted = create(&app, draft("drafted", json!({"partner_ids": [mine]}))).await;
    let archived = published(&app, draft("archived", json!({"partner_ids": [mine]}))).await;
    app.post(&format!("/api/v1/bulletins/{archived}/archive"), json!({})).send().await;
    let expired = published(&app, draft("expired", json!({"partner_ids": [mine]}))).await;
    expire(&app, &expired);

    let list = app.get("/api/v1/bulletins").key(&key).send().await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(ids(&list), vec![to_both.clone(), live.clone()]);
    for item in list.items() {
        assert!(item.get("audience").is_none(), "other partners stay hidden: {item}");
        assert!(item.get("recipient_count").is_none());
        assert_eq!(item["read_at"], Value::Null);
    }
    let got = app.get(&format!("/api/v1/bulletins/{live}")).key(&key).send().await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["read_at"], Value::Null);
    assert!(got.body.get("audience").is_none());
    for hidden in [&others, &drafted, &archived, &expired] {
        app.get(&format!("/api/v1/bulletins/{hidden}")).key(&key).send().await.problem(404, "bulletin_not_found");
        app.post(&format!("/api/v1/bulletins/{hidden}/acknowledgements"), json!({}))
            .key(&key)
            .send()
            .await
            .problem(404, "bulletin_not_found");
    }

    // Its own read_at once acknowledged, and the unread filter.
    let res = app.post(&format!("/api/v1/bulletins/{live}/acknowledgements"), json!({})).key(&key).send().await;
    assert_eq!(res.status, StatusCode::CREATED);
    let read_at = res.body["read_at"].clone();
    let got = app.get(&format!("/api/v1/bulletins/{live}")).key(&key).send().await;
    assert_eq!(got.body["read_at"], read_at);
    let list = app.get("/api/v1/bulletins").key(&key).send().await;
    assert_eq!(list.items()[1]["read_at"], read_at);
    let unread = app.get(&format!("/api/v1/bulletins?unread_by={mine}")).key(&key).send().await;
    assert_eq!(ids(&unread), vec![to_both.clone()]);
    // Filters naming another partner find nothing for a partner key.
    assert!(app.get(&format!("/api/v1/bulletins?addressed_to={other}")).key(&key).send().await.items().is_empty());
    assert!(app.get(&format!("/api/v1/bulletins?unread_by={other}")).key(&key).send().await.items().is_empty());
    assert!(app.get("/api/v1/bulletins?status=draft").key(&key).send().await.items().is_empty());
    assert_eq!(ids(&app.get("/api/v1/bulletins?q=BOTH").key(&key).send().await), vec![to_both.clone()]);

    // Staff-only operations are 404 for partner keys: fail closed.
    app.post("/api/v1/bulletins", draft("x", json!({"all": true}))).key(&key).send().await.problem(404, "not_found");
    app.patch(&format!("/api/v1/bulletins/{live}"), json!({"pinned": true}))
        .key(&key)
        .send()
        .await
        .problem(404, "not_found");
    app.delete(&format!("/api/v1/bulletins/{live}")).key(&key).send().await.problem(404, "not_found");
    app.post(&format!("/api/v1/bulletins/{drafted}/publish"), json!({}))
        .key(&key)
        .send()
        .await
        .problem(404, "not_found");
    app.post(&format!("/api/v1/bulletins/{live}/archive"), json!({})).key(&key).send().await.problem(404, "not_found");

    // A partner key bound to no partner sees nothing.
    let unbound = app.key(Role::Partner, None);
    assert!(app.get("/api/v1/bulletins").key(&unbound).send().await.items().is_empty());
    app.get(&format!("/api/v1/bulletins/{live}")).key(&unbound).send().await.problem(404, "bulletin_not_found");

    // Staff: viewers read, cannot write; no key is 401.
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(app.get("/api/v1/bulletins").key(&viewer).send().await.items().len(), 6);
    app.post("/api/v1/bulletins", draft("x", json!({"all": true}))).key(&viewer).send().await.problem(403, "forbidden");
    app.post(&format!("/api/v1/bulletins/{drafted}/publish"), json!({}))
        .key(&viewer)
        .send()
        .await
        .problem(403, "forbidden");
    app.get("/api/v1/bulletins").anonymous().send().await.problem(401, "unauthorized");
});

both!(list_filters_and_order, |app: TestApp| async move {
    let a = active(&app, "A").await;
    let b = active(&app, "B").await;
    let body = |title: &str, text: &str, category: &str, importance: &str, audience: Value| json!({"title": title, "body": text, "category": category, "importance": importance, "audience": audience});
    let m1 =
        published(&app, body("Market one", "东部 PRICES up", "market", "normal", json!({"partner_ids": [a]}))).await;
    let p1 =
        published(&app, body("100%_deal", "product news", "product", "urgent", json!({"partner_ids": [a, b]}))).await;
    let c1 = published(
        &app,
        body("Competitor", "they cut 100% of fees", "competitor", "important", json!({"partner_ids": [b]})),
    )
    .await;
    let d1 = create(&app, body("Draft", "not yet", "market", "normal", json!({"all": true}))).await;

    let all = app.get("/api/v1/bulletins").send().await;
    assert_eq!(ids(&all), vec![d1.clone(), c1.clone(), p1.clone(), m1.clone()], "newest first; a draft by creation");

    // Pinning a published bulletin moves it first, for staff and in recipients' lists.
    let res = app.patch(&format!("/api/v1/bulletins/{m1}"), json!({"pinned": true})).send().await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(ids(&app.get("/api/v1/bulletins").send().await), vec![m1.clone(), d1.clone(), c1.clone(), p1.clone()]);
    assert_eq!(
        ids(&app.get(&format!("/api/v1/bulletins?addressed_to={a}")).send().await),
        vec![m1.clone(), p1.clone()]
    );

    let get = |q: &'static str| app.get(&format!("/api/v1/bulletins?{q}"));
    assert_eq!(ids(&get("category=market").send().await), vec![m1.clone(), d1.clone()]);
    assert_eq!(ids(&get("status=published&category=market").send().await), vec![m1.clone()]);
    assert_eq!(ids(&get("status=draft").send().await), vec![d1.clone()]);
    assert_eq!(ids(&get("importance=urgent").send().await), vec![p1.clone()]);
    assert_eq!(ids(&get("q=prices").send().await), vec![m1.clone()], "q searches the body, ignoring case");
    assert_eq!(ids(&get("q=MARKET%20ONE").send().await), vec![m1.clone()], "and the title");
    assert_eq!(ids(&get("q=%E4%B8%9C%E9%83%A8").send().await), vec![m1.clone()]);
    assert_eq!(titles(&get("q=%25_").send().await), vec!["100%_deal"], "LIKE wildcards are literal");
    assert_eq!(ids(&get("q=100%25").send().await), vec![c1.clone(), p1.clone()]);
    assert!(get("q=_").send().await.items().iter().all(|b| b["title"] == "100%_deal"));

    // Recipients: addressed_to and unread_by, alone and together.
    assert_eq!(
        ids(&app.get(&format!("/api/v1/bulletins?addressed_to={b}")).send().await),
        vec![c1.clone(), p1.clone()]
    );
    app.post(&format!("/api/v1/bulletins/{p1}/acknowledgements"), json!({"partner_id": b})).send().await;
    assert_eq!(ids(&app.get(&format!("/api/v1/bulletins?unread_by={b}")).send().await), vec![c1.clone()]);
    assert_eq!(ids(&app.get(&format!("/api/v1/bulletins?unread_by={a}")).send().await), vec![m1.clone(), p1.clone()]);
    assert_eq!(
        ids(&app.get(&format!("/api/v1/bulletins?unread_by={a}&addressed_to={b}")).send().await),
        vec![p1.clone()]
    );
    assert_eq!(
        ids(&app.get(&format!("/api/v1/bulletins?addressed_to={a}&category=product")).send().await),
        vec![p1.clone()]
    );
    assert!(app.get(&format!("/api/v1/bulletins?addressed_to={MISSING}")).send().await.items().is_empty());

    // The published window.
    let published_at = |id: &str, all: &Res| {
        all.items().iter().find(|b| b["id"] == json!(id)).unwrap()["published_at"].as_str().unwrap().to_string()
    };
    let all = app.get("/api/v1/bulletins").send().await;
    let (t_m1, t_c1) = (published_at(&m1, &all), published_at(&c1, &all));
    let enc = |t: &str| t.replace(':', "%3A");
    let res = app.get(&format!("/api/v1/bulletins?published_from={}", enc(&t_c1))).send().await;
    assert_eq!(ids(&res), vec![c1.clone()], "from is inclusive; drafts have no publishing time");
    let res = app.get(&format!("/api/v1/bulletins?published_to={}", enc(&t_c1))).send().await;
    assert_eq!(ids(&res), vec![m1.clone(), p1.clone()], "to is exclusive");
    let res = app
        .get(&format!("/api/v1/bulletins?published_from={}&published_to={}&addressed_to={a}", enc(&t_m1), enc(&t_c1)))
        .send()
        .await;
    assert_eq!(ids(&res), vec![m1.clone(), p1.clone()]);

    // Paging through the compound order, across the pinned boundary, on both query shapes.
    for base in ["/api/v1/bulletins?limit=1".to_string(), format!("/api/v1/bulletins?limit=1&addressed_to={a}")] {
        let mut seen = Vec::new();
        let mut url = base.clone();
        loop {
            let page = app.get(&url).send().await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            seen.extend(ids(&page));
            match page.body["next_cursor"].as_str() {
                Some(c) => url = format!("{base}&cursor={c}"),
                None => break,
            }
        }
        let whole = app.get(&base.replace("limit=1", "limit=200")).send().await;
        assert_eq!(seen, ids(&whole), "{base}");
    }

    // Bad filters name the parameter.
    for (q, field) in [
        ("category=gossip", "category"),
        ("status=live", "status"),
        ("addressed_to=someone", "addressed_to"),
        ("unread_by=1", "unread_by"),
        ("published_from=yesterday", "published_from"),
        ("q=", "q"),
        ("cursor=WyIxIl0", "cursor"),
        ("limit=0", "limit"),
    ] {
        let res = app.get(&format!("/api/v1/bulletins?{q}")).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{q}");
    }
});

//! Calendar subscription URLs: made by any key that reads meetings, served without an
//! Authorization header with the maker's scope and filters, stopped by revoking the feed or the key.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Res, TestApp};
use crate::meetings::{id_of, meeting, meeting_body};
use crate::partner_views::{assert_nothing_of, joint_meeting};

/// The path of a feed URL (`http://host/feeds/<token>.ics` → `/feeds/<token>.ics`).
fn path_of(created: &Value) -> String {
    let url = created["url"].as_str().expect("url");
    let at = url.find("/feeds/").expect("a /feeds/ URL");
    url[at..].to_string()
}

async fn create(app: &TestApp, key: &str, filters: Value) -> Res {
    app.post("/api/v1/calendar-feeds", filters).key(key).send().await
}

fn soon(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

both!(a_feed_url_serves_the_filtered_calendar_until_revoked, |app: TestApp| async move {
    let p = id_of(&app.partner("华东星辰代理").await);
    let q = id_of(&app.partner("华南远航分销").await);
    let mine = meeting(&app, meeting_body(&[&p], &soon(3))).await;
    let other = meeting(&app, meeting_body(&[&q], &soon(4))).await;
    let viewer = app.key(Role::Viewer, None);

    let res = create(&app, &viewer, json!({"partner_id": p.to_uppercase()})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.header("location"), Some(format!("/api/v1/calendar-feeds/{id}")));
    assert_eq!(res.body["filters"], json!({"partner_id": p, "from": null, "to": null}));
    assert!(res.body["created_at"].is_string());
    let url = res.body["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://") && url.contains("/feeds/cdf_") && url.ends_with(".ics"), "{url}");
    let token = url.rsplit('/').next().unwrap().trim_end_matches(".ics").to_string();
    let path = path_of(&res.body);

    let feed = app.get(&path).anonymous().send().await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.text);
    assert_eq!(feed.header("content-type").as_deref(), Some("text/calendar; charset=utf-8"));
    assert!(feed.text.contains(&format!("UID:{}@channeldesk", id_of(&mine))), "{}", feed.text);
    assert!(!feed.text.contains(&id_of(&other)), "the stored partner filter applies");

    // Listed and read without the token; another key sees none of it.
    let list = app.get("/api/v1/calendar-feeds").key(&viewer).send().await;
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.items()[0]["id"], id.as_str());
    assert!(!list.text.contains(&token) && list.items()[0].get("url").is_none(), "{}", list.text);
    let one = app.get(&format!("/api/v1/calendar-feeds/{id}")).key(&viewer).send().await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(!one.text.contains(&token));
    assert!(app.get("/api/v1/calendar-feeds").send().await.items().is_empty(), "the admin has no feeds");
    app.get(&format!("/api/v1/calendar-feeds/{id}")).send().await.problem(404, "calendar_feed_not_found");
    app.delete(&format!("/api/v1/calendar-feeds/{id}")).send().await.problem(404, "calendar_feed_not_found");
    let stored: Vec<String> = app.with_conn(|c| {
        use channeldesk::db::schema::calendar_feeds as cf;
        use diesel::prelude::*;
        cf::table.select(cf::token_hash).load(c).expect("rows")
    });
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&token[4..]), "only a hash of the token is stored");

    let revoked = app.delete(&format!("/api/v1/calendar-feeds/{id}")).key(&viewer).send().await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    app.get(&path).anonymous().send().await.problem(404, "calendar_feed_not_found");
    assert!(app.get("/api/v1/calendar-feeds").key(&viewer).send().await.items().is_empty());
    app.delete(&format!("/api/v1/calendar-feeds/{id}"))
        .key(&viewer)
        .send()
        .await
        .problem(404, "calendar_feed_not_found");

    let audit = app.get(&format!("/api/v1/audit-events?resource_type=calendar_feed&resource_id={id}")).send().await;
    let actions: Vec<&str> = audit.items().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.len(), 2, "{}", audit.text);
    assert!(actions.contains(&"create") && actions.contains(&"revoke"), "{actions:?}");
    assert!(!audit.text.contains(&token));
});

both!(feeds_need_a_key_to_make_and_a_current_token_to_read, |app: TestApp| async move {
    app.post("/api/v1/calendar-feeds", json!({})).anonymous().send().await.problem(401, "unauthorized");
    app.get("/api/v1/calendar-feeds").anonymous().send().await.problem(401, "unauthorized");
    let res = create(&app, &app.admin, json!({"from": "2030-03-05T00:00:00Z", "to": "2030-03-01T00:00:00Z"})).await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["to"]);
    let res = create(&app, &app.admin, json!({"partner_id": "nope"})).await;
    assert_eq!(res.fields(), vec!["partner_id"]);
    create(&app, &app.admin, json!({"colour": "red"})).await.problem(422, "validation_failed");
    app.get("/feeds/cdf_0000.ics").anonymous().send().await.problem(404, "calendar_feed_not_found");
    let made = create(&app, &app.admin, json!({})).await;
    let path = path_of(&made.body);
    app.get(&path.replace("cdf_", "cdf_0")).anonymous().send().await.problem(404, "calendar_feed_not_found");
    let ok = app.get(&path).anonymous().send().await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert!(ok.text.starts_with("BEGIN:VCALENDAR\r\n"));
    // A replay must not show the URL again.
    let body = json!({});
    let first = app.post("/api/v1/calendar-feeds", body.clone()).header("Idempotency-Key", "f-1").send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = app.post("/api/v1/calendar-feeds", body).header("Idempotency-Key", "f-1").send().await;
    replay.problem(409, "idempotency_replay_withheld");
    assert!(!replay.text.contains(first.body["url"].as_str().unwrap()));
});

both!(revoking_the_key_stops_its_feeds, |app: TestApp| async move {
    let made = app.post("/api/v1/api-keys", json!({"name": "calendar", "role": "viewer"})).send().await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let (key_id, secret) = (made.id(), made.body["secret"].as_str().unwrap().to_string());
    let feed = create(&app, &secret, json!({})).await;
    assert_eq!(feed.status, StatusCode::CREATED, "{}", feed.text);
    let path = path_of(&feed.body);
    assert_eq!(app.get(&path).anonymous().send().await.status, StatusCode::OK);
    let revoked = app.delete(&format!("/api/v1/api-keys/{key_id}")).send().await;
    assert!(revoked.status.is_success(), "{}", revoked.text);
    app.get(&path).anonymous().send().await.problem(404, "calendar_feed_not_found");
});

both!(a_partner_keys_feed_shows_only_its_own_side, |app: TestApp| async move {
    let (a, b, m) = joint_meeting(&app).await;
    let only_a = meeting(&app, meeting_body(&[&a.id], &soon(5))).await;
    let key = app.key(Role::Partner, Some(&b));
    let feed = create(&app, &key, json!({})).await;
    assert_eq!(feed.status, StatusCode::CREATED, "{}", feed.text);
    let res = app.get(&path_of(&feed.body)).anonymous().send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.text.contains(&format!("UID:{m}@channeldesk")));
    assert!(!res.text.contains(&id_of(&only_a)), "A's own meetings stay out");
    assert_nothing_of(&a, "a partner key's feed", &res.text);
    assert!(res.text.replace("\r\n ", "").contains("3 other attendees"));
});

both!(feed_urls_use_the_configured_public_base_url, |app: TestApp| async move {
    let app = app.with_config(|c| c.notify.public_base_url = Some("https://cd.example.cn".into())).await;
    let feed = create(&app, &app.admin, json!({})).await;
    let url = feed.body["url"].as_str().unwrap();
    assert!(url.starts_with("https://cd.example.cn/feeds/cdf_"), "{url}");
});

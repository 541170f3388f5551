//! `Idempotency-Key`: nothing is written for a caller that is not authenticated, the recorded
//! response commits with the change (a retry after a crash replays, never runs twice), twins
//! racing each other create once, and a secret shown once is never stored or replayed.

use actix_web::http::StatusCode;
use channeldesk::db::schema::{api_keys, idempotency_keys, partner_contacts, partners};
use diesel::prelude::*;
use serde_json::json;

use crate::both;
use crate::helpers::TestApp;

fn idempotency_rows(app: &TestApp) -> i64 {
    app.with_conn(|c| idempotency_keys::table.count().get_result(c).expect("count"))
}

both!(unauthenticated_idempotent_posts_write_nothing, |app: TestApp| async move {
    let body = json!({"name": "Nobody", "channel_type": "indirect", "kind": "agent"});
    for (n, auth) in ["Bearer cdk_000000000000_0000", "Bearer not-a-key", "Basic abc", ""].into_iter().enumerate() {
        let mut req =
            app.post("/api/v1/partners", body.clone()).anonymous().header("Idempotency-Key", &format!("k{n}"));
        if !auth.is_empty() {
            req = req.header("Authorization", auth);
        }
        req.send().await.problem(401, "unauthorized");
    }
    // A malformed key from an unknown caller is still a 401 first: nothing is learnt, nothing kept.
    let res = app
        .post("/api/v1/partners", body)
        .anonymous()
        .header("Authorization", "Bearer nope")
        .header("Idempotency-Key", "bad key")
        .send()
        .await;
    res.problem(401, "unauthorized");
    assert_eq!(idempotency_rows(&app), 0, "a rejected request writes nothing");
    let partners: i64 = app.with_conn(|c| partners::table.count().get_result(c).expect("count"));
    assert_eq!(partners, 0);
});

both!(a_retry_after_a_crash_past_the_commit_replays_the_recorded_response, |app: TestApp| async move {
    let partner = app.partner("Crashy").await;
    let pid = partner["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/partners/{pid}/contacts");
    let body = json!({"name": "王芳"});
    let bytes = serde_json::to_vec(&body).expect("json");
    let admin_id: String = app.with_conn(|c| api_keys::table.select(api_keys::id).first(c).expect("admin key"));
    // The handler's transaction commits, then the process dies before the middleware answers.
    let (db, input, actor) = (
        app.db.clone(),
        serde_json::from_value(body.clone()).expect("input"),
        channeldesk::access::Actor::system("crash"),
    );
    let pid_in = pid.clone();
    channeldesk::http::idempotency::run_as_idempotent(&admin_id, "crash-1", &path, &bytes, async move {
        channeldesk::http::idempotency::write(&db, move |conn| {
            let contact = channeldesk::partners::store::create_contact(conn, &actor, &pid_in, &input)?;
            Ok(channeldesk::http::reply::Reply::created(&contact, format!("/x/{}", contact.id)))
        })
        .await
        .expect("first attempt commits")
    })
    .await;
    // The client never saw an answer and retries with the same key and body.
    let retry = app.post(&path, body.clone()).header("Idempotency-Key", "crash-1").send().await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.body["name"], "王芳");
    let contacts: i64 = app.with_conn(|c| partner_contacts::table.count().get_result(c).expect("count"));
    assert_eq!(contacts, 1, "run once, not twice");
    // Not a 409 "in progress" either: a different key runs afresh.
    let fresh = app.post(&path, body).header("Idempotency-Key", "crash-2").send().await;
    assert_eq!(fresh.status, StatusCode::CREATED);
    assert!(fresh.header("idempotent-replayed").is_none());
});

both!(concurrent_twins_with_one_key_create_once_and_get_one_answer, |app: TestApp| async move {
    let body = json!({"name": "Twin", "channel_type": "indirect", "kind": "agent"});
    let sends = (0..8).map(|_| app.post("/api/v1/partners", body.clone()).header("Idempotency-Key", "twin").send());
    let answers = futures_util::future::join_all(sends).await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            r.body["id"].as_str().expect("id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every twin got the same partner");
    let partners: i64 = app.with_conn(|c| partners::table.count().get_result(c).expect("count"));
    assert_eq!(partners, 1);
    assert_eq!(idempotency_rows(&app), 1);
});

both!(a_new_api_keys_secret_is_never_stored_or_replayed, |app: TestApp| async move {
    let body = json!({"name": "frontend", "role": "viewer"});
    let first = app.post("/api/v1/api-keys", body.clone()).header("Idempotency-Key", "key-1").send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let secret = first.body["secret"].as_str().expect("secret").to_string();
    let stored: Vec<Option<String>> =
        app.with_conn(|c| idempotency_keys::table.select(idempotency_keys::response_body).load(c).expect("rows"));
    assert_eq!(stored, vec![None], "the response body is not kept");
    let dump: Vec<(String, Option<String>)> = app.with_conn(|c| {
        idempotency_keys::table
            .select((idempotency_keys::request_hash, idempotency_keys::response_headers))
            .load(c)
            .expect("rows")
    });
    assert!(!format!("{dump:?}").contains(&secret));
    let replay = app.post("/api/v1/api-keys", body).header("Idempotency-Key", "key-1").send().await;
    replay.problem(409, "idempotency_replay_withheld");
    assert!(!replay.text.contains(&secret));
    let keys = app.get("/api/v1/api-keys").send().await;
    assert_eq!(keys.items().iter().filter(|k| k["name"] == "frontend").count(), 1, "created once");
});

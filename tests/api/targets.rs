//! Joint targets: periods of a month, quarter or year, actuals from whole-business records,
//! agreeing (and `target.agreed`), the missed-target scan (once), validation and scope.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;
use crate::meetings::{meeting, meeting_body};
use crate::performance::{pid, record};

pub async fn target(app: &TestApp, body: Value) -> Value {
    let res = app.post("/api/v1/targets", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

both!(targets_show_actuals_of_their_period, |app: TestApp| async move {
    let p = pid(&app.partner("华东星辰").await);
    for (m, revenue) in [(1, 100), (2, 200), (3, 300), (4, 1000)] {
        record(&app, &p, &format!("2026-{m:02}"), revenue).await;
    }
    // A product line's record is a breakdown of the whole business: not added on top.
    let line = json!({"partner_id": p, "period": "2026-02", "product_line": "ERP", "revenue_minor": 150, "units": 5});
    app.post("/api/v1/performance-records", line).send().await;
    let q1 =
        target(&app, json!({"partner_id": p, "period": "2026-Q1", "metric": "revenue", "target_value": 800})).await;
    assert_eq!((q1["actual"].as_i64(), q1["attainment_bp"].as_i64()), (Some(600), Some(7500)));
    assert_eq!(q1["status"], "draft");
    let month =
        target(&app, json!({"partner_id": p, "period": "2026-04", "metric": "revenue", "target_value": 800})).await;
    assert_eq!(month["attainment_bp"], 12500);
    let year = target(&app, json!({"partner_id": p, "period": "2026", "metric": "units", "target_value": 3})).await;
    assert_eq!(year["actual"], 0);
    let url = format!("/api/v1/targets/{}", pid(&q1));
    let got = app.get(&url).send().await;
    assert_eq!((got.etag(), got.body["actual"].clone()), ("\"1\"".to_string(), json!(600)));
    let list = app.get(&format!("/api/v1/targets?partner_id={p}&period=2026-Q1")).send().await;
    assert_eq!(list.items().len(), 1);
    assert_eq!(app.get("/api/v1/targets?metric=units").send().await.items().len(), 1);
    let again = json!({"partner_id": p, "period": "2026-Q1", "metric": "revenue", "target_value": 1});
    app.post("/api/v1/targets", again).send().await.problem(409, "target_exists");
    let res = app.patch(&url, json!({"target_value": 600})).if_match("\"1\"").send().await;
    assert_eq!((res.status, res.body["attainment_bp"].clone()), (StatusCode::OK, json!(10000)));
    app.patch(&url, json!({"target_value": 5})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "target_not_found");
});

both!(agreeing_a_target_announces_it_and_fixes_it, |app: TestApp| async move {
    let (p, other) = (pid(&app.partner("甲").await), pid(&app.partner("乙").await));
    let m = pid(&meeting(&app, meeting_body(&[&p], "2026-01-09T10:00:00+08:00")).await);
    let body =
        json!({"partner_id": p, "period": "2026-Q1", "metric": "new_customers", "target_value": 10, "meeting_id": m});
    let t = target(&app, body).await;
    assert!(app.event_types().iter().all(|e| e != "target.agreed"), "a draft is not announced");
    let url = format!("/api/v1/targets/{}", pid(&t));
    let res = app.patch(&url, json!({"status": "agreed"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.body["agreed_at"].is_string());
    assert_eq!(app.event_types().iter().filter(|e| *e == "target.agreed").count(), 1);
    app.patch(&url, json!({"target_value": 5})).send().await.problem(409, "target_agreed");
    app.patch(&url, json!({"status": "draft"})).send().await.problem(409, "target_agreed");
    let created_agreed =
        json!({"partner_id": other, "period": "2026", "metric": "units", "target_value": 1, "status": "agreed"});
    target(&app, created_agreed).await;
    assert_eq!(app.event_types().iter().filter(|e| *e == "target.agreed").count(), 2);
    // The meeting must be one with the partner.
    let wrong =
        json!({"partner_id": other, "period": "2026-Q2", "metric": "units", "target_value": 1, "meeting_id": m});
    let res = app.post("/api/v1/targets", wrong).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["meeting_id"]);
});

both!(an_ended_period_below_target_is_announced_once, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("甲").await), pid(&app.partner("乙").await));
    record(&app, &a, "2026-03", 500).await;
    record(&app, &b, "2026-03", 5000).await;
    for p in [&a, &b] {
        target(&app, json!({"partner_id": p, "period": "2026-03", "metric": "revenue", "target_value": 1000, "status": "agreed"})).await;
    }
    let draft =
        target(&app, json!({"partner_id": a, "period": "2026-02", "metric": "revenue", "target_value": 9})).await;
    let scan = |now: &str| app.with_conn(|c| channeldesk::targets::missed::run(c, at(now)).unwrap());
    assert_eq!(scan("2026-04-03T00:00:00Z"), 0, "within the grace after the period");
    assert_eq!(scan("2026-04-08T00:00:00Z"), 1, "only the partner below target");
    assert_eq!(scan("2026-05-01T00:00:00Z"), 0, "once");
    let missed: Vec<_> = app.event_types().into_iter().filter(|e| e == "target.missed").collect();
    assert_eq!(missed.len(), 1);
    let list = app.get(&format!("/api/v1/targets?partner_id={a}&status=agreed")).send().await;
    assert_eq!((list.items()[0]["missed"].clone(), list.items()[0]["version"].clone()), (json!(true), json!(2)));
    assert!(list.items()[0]["settled_at"].is_string());
    let met = app.get(&format!("/api/v1/targets?partner_id={b}")).send().await;
    assert_eq!(met.items()[0]["missed"], false);
    let d = app.get(&format!("/api/v1/targets/{}", pid(&draft))).send().await;
    assert_eq!(d.body["settled_at"], Value::Null, "drafts are not judged");
});

both!(targets_validate_and_scope, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("甲").await), pid(&app.partner("乙").await));
    let cases = [
        (json!({"partner_id": a, "period": "2026-Q5", "metric": "revenue", "target_value": 1}), "period"),
        (json!({"partner_id": a, "period": "26", "metric": "revenue", "target_value": 1}), "period"),
        (json!({"partner_id": a, "period": "2026", "metric": "profit", "target_value": 1}), "metric"),
        (json!({"partner_id": a, "period": "2026", "metric": "revenue", "target_value": 0}), "target_value"),
        (
            json!({"partner_id": a, "period": "2026", "metric": "revenue", "target_value": 1, "status": "done"}),
            "status",
        ),
        (
            json!({"partner_id": a, "period": "2026", "metric": "revenue", "target_value": 1, "meeting_id": "x"}),
            "meeting_id",
        ),
        (
            json!({"partner_id": a, "period": "2026", "metric": "revenue", "target_value": 1, "meeting_id": "0192f0c4-3b9e-7c1a-8f00-000000000000"}),
            "meeting_id",
        ),
        (
            json!({"partner_id": "0192f0c4-3b9e-7c1a-8f00-000000000000", "period": "2026", "metric": "revenue", "target_value": 1}),
            "partner_id",
        ),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/targets", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{body}");
    }
    let ta = target(&app, json!({"partner_id": a, "period": "2026", "metric": "units", "target_value": 1})).await;
    let tb = target(&app, json!({"partner_id": b, "period": "2026", "metric": "units", "target_value": 1})).await;
    let key = app.key(Role::Partner, Some(&a));
    let mine = app.get("/api/v1/targets").key(&key).send().await;
    assert_eq!(mine.items().iter().map(pid).collect::<Vec<_>>(), [pid(&ta)]);
    app.get(&format!("/api/v1/targets/{}", pid(&tb))).key(&key).send().await.problem(404, "target_not_found");
    app.patch(&format!("/api/v1/targets/{}", pid(&ta)), json!({"target_value": 2}))
        .key(&key)
        .send()
        .await
        .problem(404, "not_found");
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(app.get("/api/v1/targets").key(&viewer).send().await.items().len(), 2);
    app.delete(&format!("/api/v1/targets/{}", pid(&ta))).key(&viewer).send().await.problem(403, "forbidden");
});

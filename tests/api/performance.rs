//! Performance and cost records: CRUD, the one-record-per-month rule, validation naming each
//! field, filters and pages, CSV, and who may see and change what.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;

pub fn pid(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Creates a whole-business record and returns it.
pub async fn record(app: &TestApp, partner: &str, period: &str, revenue: i64) -> Value {
    let body = json!({"partner_id": partner, "period": period, "revenue_minor": revenue});
    let res = app.post("/api/v1/performance-records", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

both!(performance_record_crud, |app: TestApp| async move {
    let p = pid(&app.partner("华东星辰").await);
    let body = json!({
        "partner_id": p, "period": "2026-03", "revenue_minor": 12345600, "units": 40, "orders": 12,
        "new_customers": 3, "customer_satisfaction": 91, "market_share_bp": 1250, "notes": "春季促销"
    });
    let res = app.post("/api/v1/performance-records", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let url = format!("/api/v1/performance-records/{}", res.id());
    assert_eq!(res.header("location").unwrap(), url);
    assert_eq!(res.body["currency"], "CNY");
    assert_eq!(res.body["product_line"], Value::Null);
    assert!(res.body.get("line_key").is_none(), "the key column is not on the wire");
    let got = app.get(&url).send().await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.etag(), "\"1\"");
    assert_eq!(got.body["market_share_bp"], 1250);

    let res = app.patch(&url, json!({"revenue_minor": 200, "notes": null})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!((res.body["revenue_minor"].as_i64(), res.body["notes"].clone()), (Some(200), Value::Null));
    app.patch(&url, json!({"units": 1})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    app.delete(&url).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    assert_eq!(app.delete(&url).if_match("\"2\"").send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "performance_record_not_found");
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={}", url.rsplit('/').next().unwrap())).send().await;
    let actions: Vec<_> = audit.items().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(actions, ["delete", "update", "create"]);
});

both!(one_record_per_partner_month_and_product_line, |app: TestApp| async move {
    let p = pid(&app.partner("甲").await);
    record(&app, &p, "2026-03", 100).await;
    let again = json!({"partner_id": p, "period": "2026-03", "revenue_minor": 5});
    app.post("/api/v1/performance-records", again).send().await.problem(409, "performance_record_exists");
    let line = json!({"partner_id": p, "period": "2026-03", "product_line": "ERP", "revenue_minor": 5});
    let erp = app.post("/api/v1/performance-records", line).send().await;
    assert_eq!(erp.status, StatusCode::CREATED, "a product line is another record");
    let same_line = json!({"partner_id": p, "period": "2026-03", "product_line": "ｅｒｐ", "revenue_minor": 5});
    app.post("/api/v1/performance-records", same_line).send().await.problem(409, "performance_record_exists");
    // Moving the product-line record onto the whole business collides too.
    let url = format!("/api/v1/performance-records/{}", erp.id());
    app.patch(&url, json!({"product_line": null})).send().await.problem(409, "performance_record_exists");
    let moved = app.patch(&url, json!({"period": "2026-04", "product_line": null})).send().await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(app.get("/api/v1/performance-records").send().await.items().len(), 2);
    assert_eq!(app.event_types().iter().filter(|t| t.starts_with("performance")).count(), 0);
});

both!(performance_records_validate_every_field, |app: TestApp| async move {
    let p = pid(&app.partner("乙").await);
    let cases = [
        (json!({"partner_id": p, "period": "2026-3", "revenue_minor": 1}), "period"),
        (json!({"partner_id": p, "period": "2026-13", "revenue_minor": 1}), "period"),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": -1}), "revenue_minor"),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1.5}), "revenue_minor"),
        (json!({"partner_id": p, "period": "2026-03"}), "revenue_minor"),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "currency": "rmb"}), "currency"),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "units": -1}), "units"),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "orders": -1}), "orders"),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "new_customers": -1}), "new_customers"),
        (
            json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "customer_satisfaction": 101}),
            "customer_satisfaction",
        ),
        (
            json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "market_share_bp": 10001}),
            "market_share_bp",
        ),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "product_line": " "}), "product_line"),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "notes": "a\u{0}b"}), "notes"),
        (json!({"partner_id": p, "period": "2026-03", "revenue_minor": 1, "extra": 1}), "extra"),
        (json!({"partner_id": "nope", "period": "2026-03", "revenue_minor": 1}), "partner_id"),
        (
            json!({"partner_id": "0192f0c4-3b9e-7c1a-8f00-000000000000", "period": "2026-03", "revenue_minor": 1}),
            "partner_id",
        ),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/performance-records", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{body}");
    }
    assert!(app.get("/api/v1/performance-records").send().await.items().is_empty(), "nothing was written");
    let bad_filter = app.get("/api/v1/performance-records?period_from=2026-05&period_to=2026-01").send().await;
    bad_filter.problem(422, "validation_failed");
    assert_eq!(bad_filter.fields(), ["period_to"]);
});

both!(record_lists_filter_page_and_export_csv, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("华东甲").await), pid(&app.partner("华南乙").await));
    for m in 1..=6 {
        record(&app, &a, &format!("2026-{m:02}"), m * 100).await;
    }
    record(&app, &b, "2026-03", 7).await;
    let line = json!({"partner_id": b, "period": "2026-04", "product_line": "服务器", "revenue_minor": 9});
    app.post("/api/v1/performance-records", line).send().await;
    let periods = |res: &crate::helpers::Res| {
        res.items().iter().map(|r| r["period"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let res = app
        .get(&format!("/api/v1/performance-records?partner_id={a}&period_from=2026-02&period_to=2026-04"))
        .send()
        .await;
    assert_eq!(periods(&res), ["2026-04", "2026-03", "2026-02"]);
    let res = app.get("/api/v1/performance-records?product_line=%E6%9C%8D%E5%8A%A1%E5%99%A8").send().await;
    assert_eq!(periods(&res), ["2026-04"]);
    // Pages walk newest month first without gaps or repeats.
    let mut seen = Vec::new();
    let mut url = "/api/v1/performance-records?limit=3".to_string();
    loop {
        let res = app.get(&url).send().await;
        seen.extend(periods(&res));
        match res.body["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/performance-records?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["2026-06", "2026-05", "2026-04", "2026-04", "2026-03", "2026-03", "2026-02", "2026-01"]);
    let csv = app.get(&format!("/api/v1/performance-records?partner_id={b}")).header("Accept", "text/csv").send().await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(csv.text.starts_with("\u{feff}id,partner_id,period,product_line,revenue_minor,"), "{}", csv.text);
    assert_eq!(csv.text.lines().count(), 3);
    assert!(csv.text.contains(",2026-04,服务器,9,CNY,"), "{}", csv.text);
    let paged = app.get("/api/v1/performance-records?limit=2").header("Accept", "text/csv").send().await;
    assert!(paged.header("link").unwrap().contains("cursor="));
});

both!(partner_keys_see_their_own_records_and_viewers_only_read, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("甲").await), pid(&app.partner("乙").await));
    let ra = record(&app, &a, "2026-01", 1).await;
    let rb = record(&app, &b, "2026-01", 2).await;
    let key = app.key(Role::Partner, Some(&a));
    let res = app.get("/api/v1/performance-records").key(&key).send().await;
    assert_eq!(res.items().iter().map(pid).collect::<Vec<_>>(), [pid(&ra)]);
    let res = app.get(&format!("/api/v1/performance-records?partner_id={b}")).key(&key).send().await;
    assert!(res.items().is_empty());
    app.get(&format!("/api/v1/performance-records/{}", pid(&rb)))
        .key(&key)
        .send()
        .await
        .problem(404, "performance_record_not_found");
    let body = json!({"partner_id": a, "period": "2026-02", "revenue_minor": 1});
    app.post("/api/v1/performance-records", body.clone()).key(&key).send().await.problem(404, "not_found");
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(app.get("/api/v1/performance-records").key(&viewer).send().await.items().len(), 2);
    app.post("/api/v1/performance-records", body.clone()).key(&viewer).send().await.problem(403, "forbidden");
    app.delete(&format!("/api/v1/performance-records/{}", pid(&ra)))
        .key(&viewer)
        .send()
        .await
        .problem(403, "forbidden");
    app.get("/api/v1/performance-records").anonymous().send().await.problem(401, "unauthorized");
    // Archived partners keep their history but get no new records.
    app.delete(&format!("/api/v1/partners/{b}")).send().await;
    let late = json!({"partner_id": b, "period": "2026-02", "revenue_minor": 1});
    app.post("/api/v1/performance-records", late).send().await.problem(409, "partner_archived");
});

both!(cost_record_crud_filters_and_scope, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("甲").await), pid(&app.partner("乙").await));
    let body =
        json!({"partner_id": a, "period": "2026-03", "category": "rebate", "amount_minor": 50000, "notes": "Q1 返点"});
    let res = app.post("/api/v1/cost-records", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let url = format!("/api/v1/cost-records/{}", res.id());
    assert_eq!(res.body["currency"], "CNY");
    for (p, period, category) in [(&a, "2026-03", "rebate"), (&a, "2026-04", "training"), (&b, "2026-03", "operating")]
    {
        let body = json!({"partner_id": p, "period": period, "category": category, "amount_minor": 10});
        assert_eq!(app.post("/api/v1/cost-records", body).send().await.status, StatusCode::CREATED, "many per month");
    }
    let count = |res: crate::helpers::Res| res.items().len();
    assert_eq!(count(app.get(&format!("/api/v1/cost-records?partner_id={a}")).send().await), 3);
    assert_eq!(count(app.get("/api/v1/cost-records?category=rebate").send().await), 2);
    assert_eq!(count(app.get("/api/v1/cost-records?period_from=2026-04").send().await), 1);
    let res = app.patch(&url, json!({"category": "discount", "amount_minor": 7})).if_match("\"1\"").send().await;
    assert_eq!((res.status, res.body["category"].clone()), (StatusCode::OK, json!("discount")));
    app.patch(&url, json!({"category": "bribe"})).send().await.problem(422, "validation_failed");
    app.patch(&url, json!({"amount_minor": -1})).send().await.problem(422, "validation_failed");
    let bad = json!({"partner_id": a, "period": "2026", "category": "rebate", "amount_minor": 1});
    let res = app.post("/api/v1/cost-records", bad).send().await;
    assert_eq!(res.fields(), ["period"]);
    let key = app.key(Role::Partner, Some(&b));
    assert_eq!(count(app.get("/api/v1/cost-records").key(&key).send().await), 1);
    app.get(&url).key(&key).send().await.problem(404, "cost_record_not_found");
    let csv = app.get("/api/v1/cost-records").key(&key).header("Accept", "text/csv").send().await;
    assert!(csv.text.starts_with("\u{feff}id,partner_id,period,category,amount_minor,currency,notes\n"));
    assert!(csv.text.contains(",operating,10,CNY,"));
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "cost_record_not_found");
});

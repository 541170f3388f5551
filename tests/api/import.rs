//! Bulk import over HTTP: CSV and JSON, yuan or fen, insert and upsert, all or nothing with every
//! bad row reported, one audit record and one `performance.imported` per import.

use actix_web::http::{Method, StatusCode};
use channeldesk::access::Role;
use serde_json::json;

use crate::both;
use crate::helpers::TestApp;
use crate::performance::pid;

const PERF: &str = "/api/v1/performance-records/import";

both!(csv_import_writes_every_row_or_none, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("华东星辰").await), pid(&app.partner("华南渠道").await));
    let csv = format!(
        "\u{feff}partner_id,period,product_line,revenue,units,orders,new_customers,customer_satisfaction,market_share_bp,notes\n\
         {a},2026-01,,12345.6,40,12,3,90,1200,\"春季, 促销\"\n\
         {a},2026-01,服务器,100,1,1,0,,,\n\
         {b},2026-02,,0.05,0,0,0,,,\n"
    );
    let res = app.req(Method::POST, PERF).raw("text/csv", csv).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body, json!({"created": 3, "updated": 0}));
    let list = app
        .get(&format!("/api/v1/performance-records?partner_id={a}&period_from=2026-01&period_to=2026-01"))
        .send()
        .await;
    let whole = list.items().iter().find(|r| r["product_line"].is_null()).unwrap();
    assert_eq!((whole["revenue_minor"].as_i64(), whole["notes"].as_str()), (Some(1234560), Some("春季, 促销")));
    let imported = app.event_types().into_iter().filter(|t| t == "performance.imported").count();
    assert_eq!(imported, 1);
    let audit = app.get("/api/v1/audit-events?resource_type=performance_record").send().await;
    assert_eq!(audit.items().len(), 1, "one audit record for the import");
    assert_eq!(audit.items()[0]["changes"]["periods"], json!(["2026-01", "2026-02"]));

    // Every bad row is reported with its field; nothing of the good rows is written.
    let bad = format!(
        "partner_id,period,revenue_minor,units,market_share_bp\n\
         {a},2026-03,100,1,\n\
         {a},2026-13,100,1,\n\
         {b},2026-03,-5,x,10001\n\
         0192f0c4-3b9e-7c1a-8f00-000000000000,2026-03,1,1,\n\
         {a},2026-01,1,1,\n\
         {a},2026-03,7,1,\n"
    );
    let res = app.req(Method::POST, PERF).raw("text/csv", bad).send().await;
    res.problem(422, "validation_failed");
    let at: Vec<(u64, String)> = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap().to_string()))
        .collect();
    let want = [(2, "period"), (3, "units"), (4, "partner_id"), (5, "period"), (6, "period")];
    assert_eq!(at, want.map(|(r, f)| (r, f.to_string())), "{}", res.text);
    assert_eq!(app.get("/api/v1/performance-records").send().await.items().len(), 3, "nothing written");
    let header = app.req(Method::POST, PERF).raw("text/csv", "partner_id,profit\n").send().await;
    assert_eq!(
        header.body["errors"][0],
        json!({"row": 0, "field": "profit", "message": header.body["errors"][0]["message"]})
    );
});

both!(upsert_replaces_records_and_json_works_too, |app: TestApp| async move {
    let a = pid(&app.partner("甲").await);
    let rows = |revenue: i64| {
        json!({"records": [
            {"partner_id": a, "period": "2026-01", "revenue_minor": revenue, "units": 2},
            {"partner_id": a, "period": "2026-02", "revenue_minor": revenue}
        ]})
    };
    let res = app.post(PERF, rows(10)).send().await;
    assert_eq!(res.body, json!({"created": 2, "updated": 0}), "{}", res.text);
    let res = app.post(PERF, rows(20)).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.body["errors"].as_array().unwrap().len(), 2, "both rows exist already");
    let res = app.post(&format!("{PERF}?mode=upsert"), rows(30)).send().await;
    assert_eq!(res.body, json!({"created": 0, "updated": 2}), "{}", res.text);
    let list = app.get("/api/v1/performance-records").send().await;
    assert!(list.items().iter().all(|r| r["revenue_minor"] == 30 && r["version"] == 2));
    let res = app.post(PERF, json!({"records": [{"partner_id": a, "period": "2026-05", "revenue": 1}]})).send().await;
    assert_eq!(
        (res.body["errors"][0]["row"].as_u64(), res.body["errors"][0]["field"].as_str()),
        (Some(1), Some("revenue"))
    );
    app.post(PERF, json!({"records": []})).send().await.problem(422, "validation_failed");
    app.req(Method::POST, PERF).raw("text/plain", "x").send().await.problem(415, "unsupported_media_type");
    app.post(&format!("{PERF}?mode=merge"), rows(1)).send().await.problem(422, "validation_failed");
    let viewer = app.key(Role::Viewer, None);
    app.post(PERF, rows(1)).key(&viewer).send().await.problem(403, "forbidden");
    let partner = app.key(Role::Partner, Some(&a));
    app.post(PERF, rows(1)).key(&partner).send().await.problem(404, "not_found");
});

both!(cost_import_in_yuan_with_upsert_by_id, |app: TestApp| async move {
    let a = pid(&app.partner("甲").await);
    let csv = format!("partner_id,period,category,amount\n{a},2026-01,rebate,500.5\n{a},2026-01,training,20\n");
    let res = app.req(Method::POST, "/api/v1/cost-records/import").raw("text/csv", csv).send().await;
    assert_eq!(res.body, json!({"created": 2, "updated": 0}), "{}", res.text);
    let list = app.get("/api/v1/cost-records?category=rebate").send().await;
    let rebate = &list.items()[0];
    assert_eq!(rebate["amount_minor"], 50050);
    let id = rebate["id"].as_str().unwrap();
    let csv = format!("id,partner_id,period,category,amount_minor\n{id},{a},2026-01,rebate,1\n,{a},2026-02,other,2\n");
    let res =
        app.req(Method::POST, "/api/v1/cost-records/import?mode=upsert").raw("text/csv", csv.clone()).send().await;
    assert_eq!(res.body, json!({"created": 1, "updated": 1}), "{}", res.text);
    assert_eq!(app.get(&format!("/api/v1/cost-records/{id}")).send().await.body["amount_minor"], 1);
    let res = app.req(Method::POST, "/api/v1/cost-records/import").raw("text/csv", csv).send().await;
    assert_eq!(res.body["errors"][0]["field"], "id", "ids are for upserts only");
    let both_units = format!("partner_id,period,category,amount,amount_minor\n{a},2026-01,rebate,1,100\n");
    let res = app.req(Method::POST, "/api/v1/cost-records/import").raw("text/csv", both_units).send().await;
    res.problem(422, "validation_failed");
});

both!(a_row_of_the_wrong_shape_is_reported_not_dropped, |app: TestApp| async move {
    let p = app.partner("形状").await;
    let body = json!({"records": [
        {"partner_id": p["id"], "period": "2026-03", "category": "other", "amount_minor": 1},
        {"partner_id": p["id"], "period": "2026-03", "category": {}, "amount_minor": 1},
    ]});
    let res = app.post("/api/v1/cost-records/import", body).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.body["errors"][0]["row"], 2, "{}", res.text);
    let listed = app.get("/api/v1/cost-records").send().await;
    assert!(listed.items().is_empty(), "nothing written");
});

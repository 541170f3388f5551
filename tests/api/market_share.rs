//! `GET /api/v1/market-share`: our revenue-weighted share per region from the performance
//! records beside each competitor's latest observed share, and who may read it.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::competitors::{competitor, observe};
use crate::helpers::TestApp;
use crate::performance::pid;

async fn record(app: &TestApp, partner: &str, period: &str, revenue: i64, share: Option<i64>) {
    let mut body = json!({"partner_id": partner, "period": period, "revenue_minor": revenue});
    if let Some(share) = share {
        body["market_share_bp"] = json!(share);
    }
    let res = app.post("/api/v1/performance-records", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
}

async fn partner_in(app: &TestApp, name: &str, region: &str) -> String {
    pid(&app.partner_with(json!({"name": name, "channel_type": "indirect", "kind": "agent", "region": region})).await)
}

fn region<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["regions"].as_array().unwrap().iter().find(|r| r["region"] == name).unwrap_or_else(|| panic!("{body}"))
}

both!(market_share_weighs_our_records_and_takes_each_competitors_latest, |app: TestApp| async move {
    let a = partner_in(&app, "华东甲", "华东").await;
    let b = partner_in(&app, "华东乙", "华东").await;
    let c = partner_in(&app, "华南丙", "华南").await;
    // 华东, 2026-Q1: 9,000 fen at 20 % and 1,000 fen at 10 % → 1,900 bp; a record without a share
    // adds revenue only; a record outside the quarter counts for nothing.
    record(&app, &a, "2026-01", 9_000, Some(2_000)).await;
    record(&app, &b, "2026-02", 1_000, Some(1_000)).await;
    record(&app, &b, "2026-03", 5_000, None).await;
    record(&app, &a, "2026-04", 1_000_000, Some(9_000)).await;
    record(&app, &c, "2026-02", 100, Some(500)).await;
    let hw = competitor(&app, "华为渠道").await;
    let hw = hw["id"].as_str().unwrap();
    let lx = competitor(&app, "联想渠道").await;
    let lx = lx["id"].as_str().unwrap();
    observe(&app, hw, json!({"region": "华东", "market_share_bp": 2_500, "observed_on": "2025-12-01"})).await;
    let latest =
        observe(&app, hw, json!({"region": "华东", "market_share_bp": 3_000, "observed_on": "2026-03-20"})).await;
    observe(&app, hw, json!({"region": "华东", "market_share_bp": 9_999, "observed_on": "2026-04-01"})).await;
    observe(&app, hw, json!({"region": "华东", "observed_on": "2026-03-25"})).await;
    observe(&app, lx, json!({"region": "华东", "market_share_bp": 4_000, "observed_on": "2026-02-01"})).await;
    observe(&app, lx, json!({"region": "西南", "market_share_bp": 1_200, "observed_on": "2026-01-01"})).await;

    let res = app.get("/api/v1/market-share?period=2026-Q1").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        (&res.body["period"], &res.body["from"], &res.body["to"]),
        (&json!("2026-Q1"), &json!("2026-01"), &json!("2026-03"))
    );
    let names: Vec<&str> =
        res.body["regions"].as_array().unwrap().iter().map(|r| r["region"].as_str().unwrap()).collect();
    assert_eq!(names, ["华东", "华南", "西南"]);
    let east = region(&res.body, "华东");
    assert_eq!(
        east["ours"],
        json!({"share_bp": 1_900, "revenue_minor": 15_000, "partners": 2, "partners_with_share": 2})
    );
    let theirs: Vec<(&str, i64)> = east["competitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["share_bp"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        theirs,
        [("联想渠道", 4_000), ("华为渠道", 3_000)],
        "largest first; the latest up to 03-31 with a share"
    );
    assert_eq!(east["competitors"][1]["observation_id"], latest["id"]);
    assert_eq!(east["competitors"][1]["observed_on"], "2026-03-20");
    assert_eq!(east["unaccounted_bp"], 10_000 - 1_900 - 7_000);
    let west = region(&res.body, "西南");
    assert_eq!(west["ours"]["share_bp"], Value::Null);
    assert_eq!(west["unaccounted_bp"], Value::Null, "unknown without our share");

    let one = app.get("/api/v1/market-share?period=2026-02&region=%E5%8D%8E%E5%8D%97").send().await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["regions"].as_array().unwrap().len(), 1);
    assert_eq!(one.body["regions"][0]["ours"]["share_bp"], 500);
    let empty = app.get("/api/v1/market-share?period=2026&region=%E5%8D%8E%E5%8C%97").send().await;
    assert_eq!(empty.body["regions"][0]["ours"]["partners"], 0, "an asked region is answered even when empty");

    app.delete(&format!("/api/v1/competitors/{lx}")).send().await;
    let after = app.get("/api/v1/market-share?period=2026-Q1").send().await;
    assert_eq!(
        region(&after.body, "华东")["competitors"].as_array().unwrap().len(),
        1,
        "archived competitors drop out"
    );
});

both!(market_share_validates_and_is_internal, |app: TestApp| async move {
    let res = app.get("/api/v1/market-share?period=2026-13").send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "period");
    app.get("/api/v1/market-share?period=1969").send().await.problem(422, "validation_failed");
    let defaulted = app.get("/api/v1/market-share").send().await;
    assert_eq!(defaulted.status, StatusCode::OK, "{}", defaulted.text);
    assert_eq!(defaulted.body["from"], defaulted.body["to"], "the last full month");
    let partner = app.partner("P").await;
    let partner_key = app.key(Role::Partner, Some(partner["id"].as_str().unwrap()));
    app.get("/api/v1/market-share").key(&partner_key).send().await.problem(403, "forbidden");
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(app.get("/api/v1/market-share").key(&viewer).send().await.status, StatusCode::OK);
    app.get("/api/v1/market-share").anonymous().send().await.problem(401, "unauthorized");
});

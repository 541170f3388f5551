//! Scorecards: figures and scores worked out by hand for known records, costs and targets; no
//! score without records; groups; sort orders and pages; weights; validation; partner scoping;
//! CSV and the SVG chart.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;
use crate::performance::pid;

const WINDOW: &str = "from=2026-01&to=2026-03";

async fn post(app: &TestApp, path: &str, body: Value) {
    let res = app.post(path, body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{path}: {}", res.text);
}

async fn month(app: &TestApp, partner: &str, period: &str, revenue: i64, extra: Value) {
    let mut body = json!({"partner_id": partner, "period": period, "revenue_minor": revenue});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    post(app, "/api/v1/performance-records", body).await;
}

async fn cost(app: &TestApp, partner: &str, period: &str, category: &str, amount: i64) {
    let body = json!({"partner_id": partner, "period": period, "category": category, "amount_minor": amount});
    post(app, "/api/v1/cost-records", body).await;
}

async fn target(app: &TestApp, partner: &str, period: &str, value: i64) {
    let body = json!({"partner_id": partner, "period": period, "metric": "revenue", "target_value": value});
    post(app, "/api/v1/targets", body).await;
}

struct Book {
    a: String,
    b: String,
    c: String,
}

/// A (华东, agent): 2025-11 ¥10,000 before; Jan–Mar 2026 ¥4,000 a month (satisfaction 90 and 80,
/// share 1000 and 2000 bp in Jan and Feb); ¥2,400 cost in January; a Q1 target of ¥15,000 (and
/// its January breakdown, and a 2026 year target, neither of which counts for Q1).
/// B (华南, distributor): 2025-12 ¥10,000 before; February ¥5,000 (satisfaction 70, share
/// 5000 bp); ¥1,000 + ¥1,500 cost; no target.
/// C (华东, distributor): a ¥100 cost and no records.
async fn book(app: &TestApp) -> Book {
    let partner = |name: &str, kind: &str, region: &str| json!({"name": name, "channel_type": "indirect", "kind": kind, "region": region});
    let a = pid(&app.partner_with(partner("华东甲代理", "agent", "华东")).await);
    let b = pid(&app.partner_with(partner("华南乙经销", "distributor", "华南")).await);
    let c = pid(&app.partner_with(partner("华东丙经销", "distributor", "华东")).await);
    month(app, &a, "2025-11", 1_000_000, json!({})).await;
    month(app, &a, "2026-01", 400_000, json!({"customer_satisfaction": 90, "market_share_bp": 1000, "units": 4})).await;
    month(
        app,
        &a,
        "2026-02",
        400_000,
        json!({"customer_satisfaction": 80, "market_share_bp": 2000, "units": 5, "new_customers": 2}),
    )
    .await;
    month(app, &a, "2026-03", 400_000, json!({"units": 6})).await;
    // A product line is a breakdown of the whole business: not added on top.
    month(app, &a, "2026-01", 999_999, json!({"product_line": "ERP", "customer_satisfaction": 10})).await;
    cost(app, &a, "2026-01", "operating", 240_000).await;
    cost(app, &a, "2025-12", "rebate", 999).await;
    target(app, &a, "2026-Q1", 1_500_000).await;
    target(app, &a, "2026-01", 500_000).await;
    target(app, &a, "2026", 9_000_000).await;

    month(app, &b, "2025-12", 1_000_000, json!({})).await;
    month(app, &b, "2026-02", 500_000, json!({"customer_satisfaction": 70, "market_share_bp": 5000})).await;
    cost(app, &b, "2026-02", "sales_expense", 100_000).await;
    cost(app, &b, "2026-03", "rebate", 150_000).await;

    cost(app, &c, "2026-01", "training", 10_000).await;
    Book { a, b, c }
}

fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn keys(res: &crate::helpers::Res) -> Vec<String> {
    res.items().iter().map(|i| i["key"].as_str().unwrap().to_string()).collect()
}

both!(scorecard_figures_and_scores_are_the_hand_computed_ones, |app: TestApp| async move {
    let Book { a, b, c } = book(&app).await;
    let res = app.get(&format!("/api/v1/scorecards?{WINDOW}")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(keys(&res), [a.clone(), b.clone(), c.clone()], "by score, the unscored last");
    let [ia, ib, ic] = &res.items()[..] else { panic!("{}", res.text) };

    assert_eq!(ia["label"], "华东甲代理");
    assert_eq!(ia["revenue_minor"], 1_200_000);
    assert_eq!(ia["prev_revenue_minor"], 1_000_000);
    assert_eq!(ia["growth_bp"], 2000);
    assert_eq!((ia["units"].as_i64(), ia["new_customers"].as_i64()), (Some(15), Some(2)));
    assert_eq!(ia["customer_satisfaction"], 85.0, "revenue-weighted: both months ¥4,000");
    assert_eq!(ia["market_share_bp"], 1500);
    assert_eq!(ia["cost_minor"], 240_000);
    assert_eq!(ia["cost_ratio_bp"], 2000);
    assert_eq!(ia["contribution_minor"], 960_000);
    assert_eq!(ia["target_minor"], 1_500_000, "the quarter, not its January breakdown, not the year");
    assert_eq!(ia["attainment_bp"], 8000);
    // growth 70·30 + attainment 80·30 + share 15·10 + satisfaction 85·10 + cost 60·20 = 6700 / 100.
    assert_eq!(ia["score"], 67.0);
    assert_eq!(ia["rank"], 1);

    assert_eq!(ib["revenue_minor"], 500_000);
    assert_eq!(ib["growth_bp"], -5000);
    assert_eq!(ib["cost_minor"], 250_000);
    assert_eq!(ib["cost_ratio_bp"], 5000);
    assert_eq!((ib["target_minor"].clone(), ib["attainment_bp"].clone()), (Value::Null, Value::Null));
    // No target: growth 0·30 + share 50·10 + satisfaction 70·10 + cost 0·20 over 70 = 17.14.
    assert_eq!(ib["score"], 17.1);
    assert_eq!(ib["rank"], 2);

    assert_eq!(ic["revenue_minor"], 0);
    assert_eq!(ic["cost_minor"], 10_000);
    assert_eq!(ic["cost_ratio_bp"], Value::Null);
    assert_eq!((ic["score"].clone(), ic["rank"].clone()), (Value::Null, Value::Null), "no records: no score, not 0");

    // Over the whole year the year's target is the plan, and the window before is 2025.
    let year = app.get("/api/v1/scorecards?from=2026-01&to=2026-12&kind=agent").send().await;
    assert_eq!(keys(&year), std::slice::from_ref(&a));
    assert_eq!(year.items()[0]["target_minor"], 9_000_000);
    assert_eq!(year.items()[0]["prev_revenue_minor"], 1_000_000);

    // A product line has its own revenue; costs and targets are per partner and drop out.
    let erp = app.get(&format!("/api/v1/scorecards?{WINDOW}&product_line=erp")).send().await;
    let erp_a = erp.items().iter().find(|i| i["key"] == a.as_str()).unwrap();
    assert_eq!(erp_a["revenue_minor"], 999_999);
    assert_eq!((erp_a["cost_minor"].clone(), erp_a["target_minor"].clone()), (Value::Null, Value::Null));
    assert_eq!(erp_a["score"], 10.0, "satisfaction alone: no revenue before, no share, no cost");
});

both!(groups_by_region_and_filters, |app: TestApp| async move {
    let Book { .. } = book(&app).await;
    let res = app.get(&format!("/api/v1/scorecards?{WINDOW}&group_by=region")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(keys(&res), ["华东", "华南"]);
    let east = &res.items()[0];
    assert_eq!(east["label"], "华东");
    assert_eq!(east["revenue_minor"], 1_200_000);
    assert_eq!(east["cost_minor"], 250_000, "A's and C's");
    assert_eq!(east["cost_ratio_bp"], 2083);
    // growth 70·30 + attainment 80·30 + share 15·10 + satisfaction 85·10 + cost 58.34·20 = 66.668.
    assert_eq!(east["score"], 66.7);
    assert_eq!(res.items()[1]["score"], 17.1);

    let kinds = app.get(&format!("/api/v1/scorecards?{WINDOW}&group_by=kind&region={}", enc("华东"))).send().await;
    assert_eq!(keys(&kinds), ["agent", "distributor"]);
    assert_eq!(kinds.items()[1]["score"], Value::Null, "C alone has no records");
    let none = app.get(&format!("/api/v1/scorecards?{WINDOW}&group_by=tier&channel_type=direct")).send().await;
    assert!(none.items().is_empty(), "{}", none.text);
});

both!(sort_orders_pages_and_weights, |app: TestApp| async move {
    let Book { a, b, c } = book(&app).await;
    let order = |sort: &str| {
        let app = &app;
        let url = format!("/api/v1/scorecards?{WINDOW}&sort={sort}");
        async move { keys(&app.get(&url).send().await) }
    };
    assert_eq!(order("revenue").await, [a.clone(), b.clone(), c.clone()]);
    assert_eq!(order("growth").await, [a.clone(), b.clone(), c.clone()]);
    assert_eq!(order("cost_ratio").await, [a.clone(), b.clone(), c.clone()], "lowest first, none last");
    assert_eq!(order("attainment").await, [a.clone(), b.clone(), c.clone()]);

    // Market share alone puts B (5000 bp) above A (1500 bp); the rank follows the score.
    let shares = app.get(&format!("/api/v1/scorecards?{WINDOW}&weights=share:1")).send().await;
    assert_eq!(keys(&shares), [b.clone(), a.clone(), c.clone()]);
    assert_eq!((shares.items()[0]["score"].as_f64(), shares.items()[0]["rank"].as_i64()), (Some(50.0), Some(1)));
    let by_revenue = app.get(&format!("/api/v1/scorecards?{WINDOW}&weights=share:1&sort=revenue")).send().await;
    assert_eq!(by_revenue.items()[0]["rank"], 2, "sorted by revenue, ranked by score");

    let mut seen = Vec::new();
    let mut url = format!("/api/v1/scorecards?{WINDOW}&sort=cost_ratio&limit=1");
    loop {
        let page = app.get(&url).send().await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        seen.extend(keys(&page));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                assert!(page.header("link").unwrap().contains("rel=\"next\""));
                url = format!("/api/v1/scorecards?{WINDOW}&sort=cost_ratio&limit=1&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(seen, [a, b, c]);
});

both!(scorecard_queries_are_validated, |app: TestApp| async move {
    for (query, field) in [
        ("from=2026-13&to=2026-12", "from"),
        ("to=2026-12", "from"),
        ("from=2026-06&to=2026-01", "to"),
        ("from=2023-01&to=2026-01", "to"),
        ("from=2026-01&to=2026-03&weights=speed:10", "weights"),
        ("from=2026-01&to=2026-03&weights=growth:0,cost:0", "weights"),
        ("from=2026-01&to=2026-03&weights=growth:1,growth:2", "weights"),
        ("from=2026-01&to=2026-03&weights=growth:1.5", "weights"),
        ("from=2026-01&to=2026-03&group_by=city", "group_by"),
        ("from=2026-01&to=2026-03&sort=name", "sort"),
    ] {
        let res = app.get(&format!("/api/v1/scorecards?{query}")).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), [field], "{query}: {}", res.text);
    }
    let p = pid(&app.partner("甲").await);
    let res = app.get(&format!("/api/v1/partners/{p}/scorecard?from=2026-02&to=2026-01")).send().await;
    assert_eq!(res.fields(), ["to"], "{}", res.text);
    app.get(&format!("/api/v1/scorecards?{WINDOW}")).anonymous().send().await.problem(401, "unauthorized");
});

both!(partner_keys_see_their_own_scorecard_only, |app: TestApp| async move {
    let Book { a, b, .. } = book(&app).await;
    let key = app.key(Role::Partner, Some(&a));
    let res = app.get(&format!("/api/v1/scorecards?{WINDOW}")).key(&key).send().await;
    assert_eq!(keys(&res), std::slice::from_ref(&a), "{}", res.text);
    let region = app.get(&format!("/api/v1/scorecards?{WINDOW}&group_by=region")).key(&key).send().await;
    assert_eq!(keys(&region), ["华东"]);
    assert_eq!(region.items()[0]["cost_minor"], 240_000, "C's cost is not A's to see");
    let own = app.get(&format!("/api/v1/partners/{a}/scorecard?{WINDOW}")).key(&key).send().await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    app.get(&format!("/api/v1/partners/{b}/scorecard?{WINDOW}"))
        .key(&key)
        .send()
        .await
        .problem(404, "partner_not_found");
    let viewer = app.key(Role::Viewer, None);
    let all = app.get(&format!("/api/v1/scorecards?{WINDOW}")).key(&viewer).send().await;
    assert_eq!(all.items().len(), 3);
    let unknown = "0192f0c4-3b9e-7c1a-8f00-000000000000";
    app.get(&format!("/api/v1/partners/{unknown}/scorecard?{WINDOW}")).send().await.problem(404, "partner_not_found");
});

both!(partner_scorecard_has_the_months, |app: TestApp| async move {
    let Book { a, .. } = book(&app).await;
    let res = app.get(&format!("/api/v1/partners/{a}/scorecard?{WINDOW}")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!((res.body["name"].as_str(), res.body["from"].as_str()), (Some("华东甲代理"), Some("2026-01")));
    assert_eq!(res.body["score"], 67.0);
    assert_eq!(res.body["attainment_bp"], 8000);
    let months = res.body["months"].as_array().unwrap();
    let got: Vec<_> = months
        .iter()
        .map(|m| {
            (
                m["period"].as_str().unwrap().to_string(),
                m["revenue_minor"].as_i64().unwrap(),
                m["cost_minor"].as_i64().unwrap(),
                m["target_minor"].as_i64().unwrap(),
                m["units"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("2026-01".to_string(), 400_000, 240_000, 500_000, 4),
            ("2026-02".to_string(), 400_000, 0, 500_000, 5),
            ("2026-03".to_string(), 400_000, 0, 500_000, 6),
        ]
    );
});

both!(scorecards_answer_csv_and_svg, |app: TestApp| async move {
    let Book { a, .. } = book(&app).await;
    let csv = app.get(&format!("/api/v1/scorecards?{WINDOW}")).header("Accept", "text/csv").send().await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(
        csv.text.starts_with("\u{feff}key,label,revenue_minor,prev_revenue_minor,growth_bp,units,new_customers,"),
        "{}",
        csv.text
    );
    assert_eq!(csv.text.lines().count(), 4);
    assert!(csv.text.contains(&format!("{a},华东甲代理,1200000,1000000,2000,")), "{}", csv.text);
    let costs = app.get("/api/v1/cost-records").header("Accept", "text/csv").send().await;
    assert!(costs.text.starts_with("\u{feff}id,partner_id,period,category,amount_minor"), "{}", costs.text);

    let svg =
        app.get(&format!("/api/v1/partners/{a}/scorecard?{WINDOW}")).header("Accept", "image/svg+xml").send().await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(svg.text.starts_with("<svg"), "{}", svg.text);
    assert!(!svg.text.contains("<script") && !svg.text.contains("href"), "{}", svg.text);
    assert!(svg.text.contains("华东甲代理") && svg.text.contains("<polyline"));
});

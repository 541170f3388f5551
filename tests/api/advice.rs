use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::json;

use crate::both;

fn body(tc: &str, cu: &str, st: &str, market: &str, sales: &str, partners: &str) -> serde_json::Value {
    json!({
        "product": {"technical_complexity": tc, "customization": cu, "standardization": st},
        "market": {"concentration": market},
        "resources": {"sales_team_strength": sales, "partner_network_strength": partners}
    })
}

both!(advice_follows_the_seed, |app: crate::helpers::TestApp| async move {
    let direct =
        app.post("/api/v1/channel-advice", body("high", "high", "low", "concentrated", "high", "low")).send().await;
    assert_eq!(direct.status, StatusCode::OK, "{}", direct.text);
    assert_eq!(direct.body["recommendation"], "direct");
    assert_eq!(direct.body["score"], 100);
    assert!(direct.body["reasons"].as_array().unwrap().len() >= 6);
    let indirect =
        app.post("/api/v1/channel-advice", body("low", "low", "high", "dispersed", "low", "high")).send().await;
    assert_eq!(indirect.body["recommendation"], "indirect");
    let hybrid =
        app.post("/api/v1/channel-advice", body("high", "high", "low", "dispersed", "high", "low")).send().await;
    assert_eq!(hybrid.body["recommendation"], "hybrid");
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(
        app.post("/api/v1/channel-advice", body("low", "low", "low", "dispersed", "low", "low"))
            .key(&viewer)
            .send()
            .await
            .status,
        StatusCode::OK
    );
});

both!(advice_rejects_bad_levels, |app: crate::helpers::TestApp| async move {
    let res =
        app.post("/api/v1/channel-advice", body("extreme", "high", "low", "concentrated", "high", "low")).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["product.technical_complexity"]);
    let res = app.post("/api/v1/channel-advice", json!({"product": {"technical_complexity": "low", "customization": "low", "standardization": "low"}, "market": {"concentration": "dispersed"}})).send().await;
    assert_eq!(res.fields(), vec!["resources"]);
    let res = app.post("/api/v1/channel-advice", json!({"product": {"technical_complexity": "low", "customization": "low"}, "market": {"concentration": "dispersed"}, "resources": {"sales_team_strength": "low", "partner_network_strength": "low"}})).send().await;
    assert_eq!(res.fields(), vec!["product.standardization"]);
    let partner = app.partner("P").await;
    let pkey = app.key(Role::Partner, partner["id"].as_str());
    app.post("/api/v1/channel-advice", body("low", "low", "low", "dispersed", "low", "low"))
        .key(&pkey)
        .send()
        .await
        .problem(404, "not_found");
});

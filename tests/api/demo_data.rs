//! `channeldesk demo-data`: the network it loads is complete enough to look at (every region,
//! kind and tier; a year of figures; risks to find) and a second run changes nothing.

use actix_web::http::StatusCode;

use crate::both;
use crate::helpers::TestApp;

both!(demo_data_fills_every_room_once, |app: TestApp| async move {
    let db = app.db.clone();
    let now = chrono::Utc::now();
    let loaded = actix_web::rt::task::spawn_blocking(move || channeldesk::demo::load(&db, now))
        .await
        .unwrap()
        .unwrap()
        .expect("the first run loads");
    assert_eq!(loaded.partners, channeldesk::demo::PARTNERS);
    assert!(loaded.performance_records >= 12 * 150, "a year of figures: {}", loaded.performance_records);
    let db = app.db.clone();
    let again = actix_web::rt::task::spawn_blocking(move || channeldesk::demo::load(&db, now)).await.unwrap().unwrap();
    assert!(again.is_none(), "a second run changes nothing");

    let key = loaded.admin_key.as_str();
    let partners = app.get("/api/v1/partners?limit=200").key(key).send().await;
    assert_eq!(partners.status, StatusCode::OK, "{}", partners.text);
    let items = partners.items();
    assert_eq!(items.len(), 200);
    let distinct = |field: &str| {
        let mut values: Vec<String> = items.iter().map(|p| p[field].as_str().unwrap_or("").to_string()).collect();
        values.sort();
        values.dedup();
        values
    };
    assert_eq!(distinct("region"), ["华东", "华北", "华南", "西南"]);
    assert_eq!(distinct("tier"), ["key", "probation", "standard", "strategic"]);
    assert_eq!(distinct("kind").len(), 7, "every kind but other");
    assert!(distinct("status").len() >= 3, "some are still prospects or onboarding: {:?}", distinct("status"));

    let risks = app.get("/api/v1/risks?limit=200").key(key).send().await;
    assert_eq!(risks.status, StatusCode::OK, "{}", risks.text);
    let codes: Vec<&str> = risks.items().iter().filter_map(|r| r["code"].as_str()).collect();
    for code in ["exclusivity_overlap", "missing_required_terms", "expiring"] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let overdue = app.get("/api/v1/action-items?overdue=true").key(key).send().await;
    assert!(!overdue.items().is_empty(), "some action items are overdue");
    let share = app.get("/api/v1/market-share").key(key).send().await;
    let regions = share.body["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 4, "{}", share.text);
    assert!(regions.iter().all(|r| r["ours"]["share_bp"].is_i64() && !r["competitors"].as_array().unwrap().is_empty()));
    let targets = app.get("/api/v1/targets?limit=200").key(key).send().await;
    assert!(targets.items().iter().any(|t| t["attainment_bp"].as_i64().unwrap_or(0) > 0));
    let bulletins = app.get("/api/v1/bulletins").key(key).send().await;
    assert!(bulletins.items().iter().all(|b| b["status"] == "published"));
});

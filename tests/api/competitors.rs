//! Competitors and their observations (渠道竞争分析): CRUD, the name rule, validation, and who
//! may see them (staff only; partner keys get 403).

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Res, TestApp};

const MISSING: &str = "0192f0c4-3b9e-7c1a-8f00-000000000000";

pub async fn competitor(app: &TestApp, name: &str) -> Value {
    let res = app.post("/api/v1/competitors", json!({"name": name, "website": "https://www.example.cn"})).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

pub async fn observe(app: &TestApp, competitor_id: &str, body: Value) -> Value {
    let res = app.post(&format!("/api/v1/competitors/{competitor_id}/observations"), body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

fn names(res: &Res) -> Vec<String> {
    res.items().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
}

both!(competitor_crud_search_and_archive, |app: TestApp| async move {
    let res = app
        .post("/api/v1/competitors", json!({"name": "华为渠道", "website": "https://e.huawei.com", "notes": "强势"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    let url = format!("/api/v1/competitors/{id}");
    assert_eq!(res.header("location").unwrap(), url);
    assert_eq!(res.etag(), "\"1\"");
    competitor(&app, "Lenovo Channel").await;
    assert_eq!(names(&app.get("/api/v1/competitors").send().await), ["Lenovo Channel", "华为渠道"]);
    assert_eq!(names(&app.get("/api/v1/competitors?q=LENOVO").send().await), ["Lenovo Channel"]);
    let got = app.get(&url).send().await;
    assert_eq!(got.body, res.body);
    let res = app.patch(&url, json!({"website": null, "notes": "价格战"})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["website"], Value::Null);
    assert_eq!(res.etag(), "\"2\"");
    app.patch(&url, json!({"notes": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    assert_eq!(names(&app.get("/api/v1/competitors").send().await), ["Lenovo Channel"]);
    assert!(app.get(&url).send().await.body["archived_at"].is_string(), "archived ones stay readable");
    app.patch(&url, json!({"notes": "x"})).send().await.problem(409, "competitor_archived");
    app.get(&format!("/api/v1/competitors/{MISSING}")).send().await.problem(404, "competitor_not_found");
    app.get("/api/v1/competitors/not-an-id").send().await.problem(404, "not_found");
    let types = app.event_types();
    assert_eq!(types, ["competitor.created", "competitor.created", "competitor.updated", "competitor.archived"]);
});

both!(competitor_names_are_unique_ignoring_case_and_width, |app: TestApp| async move {
    let first = competitor(&app, "Acme 渠道").await;
    for taken in ["ACME 渠道", "Ａｃｍｅ 渠道", " acme 渠道\u{00A0}"] {
        app.post("/api/v1/competitors", json!({"name": taken})).send().await.problem(409, "competitor_name_taken");
    }
    let other = competitor(&app, "Other").await;
    let url = format!("/api/v1/competitors/{}", other["id"].as_str().unwrap());
    app.patch(&url, json!({"name": "acme 渠道"})).send().await.problem(409, "competitor_name_taken");
    // Archiving frees the name.
    let first_url = format!("/api/v1/competitors/{}", first["id"].as_str().unwrap());
    assert_eq!(app.delete(&first_url).send().await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.patch(&url, json!({"name": "ACME 渠道"})).send().await.status, StatusCode::OK);
});

both!(competitor_input_is_validated_naming_the_field, |app: TestApp| async move {
    let cases = [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "a".repeat(201)}), "name"),
        (json!({"name": "nul\u{0}"}), "name"),
        (json!({"name": "ok", "website": "www.example.cn"}), "website"),
        (json!({"name": "ok", "website": "ftp://example.cn"}), "website"),
        (json!({"name": "ok", "website": 7}), "website"),
        (json!({"name": "ok", "notes": " "}), "notes"),
        (json!({"name": "ok", "colour": "red"}), "colour"),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/competitors", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), [field], "{body}");
    }
    assert!(app.event_types().is_empty(), "nothing written on bad input");
});

both!(observations_crud_filters_and_rules, |app: TestApp| async move {
    let c = competitor(&app, "华为渠道").await;
    let base = format!("/api/v1/competitors/{}/observations", c["id"].as_str().unwrap());
    let res = app
        .post(
            &base,
            json!({"region": "华东", "kind": "distributor", "partner_names": ["上海百联", "苏宁"],
                   "market_share_bp": 2800, "price_position": "below", "strategy": "低价抢量",
                   "observed_on": "2026-10-15", "source": "展会"}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["channel_type"], "indirect", "follows from kind");
    assert_eq!(res.body["observed_on"], "2026-10-15");
    let url = format!("{base}/{}", res.id());
    assert_eq!(res.header("location").unwrap(), url);
    observe(
        &app,
        c["id"].as_str().unwrap(),
        json!({"region": "华南", "channel_type": "direct", "observed_on": "2026-11-20"}),
    )
    .await;
    let regions = |res: &Res| res.items().iter().map(|o| o["region"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(regions(&app.get(&base).send().await), ["华南", "华东"]);
    assert_eq!(regions(&app.get(&format!("{base}?channel_type=indirect")).send().await), ["华东"]);
    assert_eq!(regions(&app.get(&format!("{base}?observed_from=2026-11-01")).send().await), ["华南"]);
    assert_eq!(regions(&app.get(&format!("{base}?observed_to=2026-10-15")).send().await), ["华东"]);
    assert_eq!(
        regions(&app.get(&format!("{base}?price_position=below&region=%E5%8D%8E%E4%B8%9C")).send().await),
        ["华东"]
    );
    let page = app.get(&format!("{base}?limit=1")).send().await;
    assert!(page.body["next_cursor"].is_string());
    let res = app.patch(&url, json!({"market_share_bp": null, "partner_names": []})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["market_share_bp"], Value::Null);
    app.patch(&url, json!({"kind": "telesales"})).send().await.problem(422, "validation_failed");
    app.patch(&url, json!({"strategy": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "observation_not_found");
    app.get(&format!("/api/v1/competitors/{MISSING}/observations")).send().await.problem(404, "competitor_not_found");
    app.post(&format!("/api/v1/competitors/{MISSING}/observations"), json!({"observed_on": "2026-01-01"}))
        .send()
        .await
        .problem(404, "competitor_not_found");
    // An archived competitor keeps its observations but takes no new ones.
    assert_eq!(app.delete(&format!("/api/v1/competitors/{}", c["id"].as_str().unwrap())).send().await.status, 204);
    assert_eq!(app.get(&base).send().await.items().len(), 1);
    app.post(&base, json!({"observed_on": "2026-12-01"})).send().await.problem(409, "competitor_archived");
    let types = app.event_types();
    assert_eq!(types.iter().filter(|t| *t == "competitor.observed").count(), 2);
});

both!(observation_input_is_validated_naming_the_field, |app: TestApp| async move {
    let c = competitor(&app, "甲").await;
    let base = format!("/api/v1/competitors/{}/observations", c["id"].as_str().unwrap());
    let day = "2026-10-01";
    let cases = [
        (json!({}), "observed_on"),
        (json!({"observed_on": "2026-13-01"}), "observed_on"),
        (json!({"observed_on": day, "market_share_bp": 10001}), "market_share_bp"),
        (json!({"observed_on": day, "market_share_bp": -1}), "market_share_bp"),
        (json!({"observed_on": day, "price_position": "cheap"}), "price_position"),
        (json!({"observed_on": day, "channel_type": "direct", "kind": "agent"}), "kind"),
        (json!({"observed_on": day, "kind": "franchise"}), "kind"),
        (json!({"observed_on": day, "partner_names": ["甲", "甲"]}), "partner_names[1]"),
        (json!({"observed_on": day, "partner_names": [""]}), "partner_names[0]"),
        (json!({"observed_on": day, "region": ""}), "region"),
        (json!({"observed_on": day, "strategy": "\u{0}"}), "strategy"),
    ];
    for (body, field) in cases {
        let res = app.post(&base, body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), [field], "{body}");
    }
    app.get(&format!("{base}?observed_from=soon")).send().await.problem(422, "validation_failed");
    assert_eq!(app.event_types(), ["competitor.created"], "nothing written on bad input");
});

both!(competitor_intelligence_is_internal, |app: TestApp| async move {
    let c = competitor(&app, "甲").await;
    let cid = c["id"].as_str().unwrap();
    let o = observe(&app, cid, json!({"observed_on": "2026-10-01"})).await;
    let url = format!("/api/v1/competitors/{cid}");
    let obs = format!("{url}/observations/{}", o["id"].as_str().unwrap());
    let partner = app.partner("P").await;
    let partner_key = app.key(Role::Partner, Some(partner["id"].as_str().unwrap()));
    for path in ["/api/v1/competitors", url.as_str(), &format!("{url}/observations"), obs.as_str()] {
        let res = app.get(path).key(&partner_key).send().await;
        res.problem(403, "forbidden");
        assert!(res.body["detail"].as_str().unwrap().contains("internal"), "{}", res.text);
    }
    app.post("/api/v1/competitors", json!({"name": "乙"})).key(&partner_key).send().await.problem(403, "forbidden");
    app.delete(&url).key(&partner_key).send().await.problem(403, "forbidden");
    let viewer = app.key(Role::Viewer, None);
    for path in ["/api/v1/competitors", url.as_str(), &format!("{url}/observations"), obs.as_str()] {
        assert_eq!(app.get(path).key(&viewer).send().await.status, StatusCode::OK, "{path}");
    }
    app.post("/api/v1/competitors", json!({"name": "乙"})).key(&viewer).send().await.problem(403, "forbidden");
    app.patch(&obs, json!({"strategy": "x"})).key(&viewer).send().await.problem(403, "forbidden");
    app.get("/api/v1/competitors").anonymous().send().await.problem(401, "unauthorized");
    let manager = app.key(Role::Manager, None);
    assert_eq!(app.patch(&obs, json!({"strategy": "渠道下沉"})).key(&manager).send().await.status, StatusCode::OK);
});

both!(competitor_changes_are_audited, |app: TestApp| async move {
    let c = competitor(&app, "甲").await;
    let cid = c["id"].as_str().unwrap();
    let o = observe(&app, cid, json!({"observed_on": "2026-10-01", "market_share_bp": 100})).await;
    let oid = o["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/competitors/{cid}/observations/{oid}"), json!({"market_share_bp": 200})).send().await;
    let res =
        app.get(&format!("/api/v1/audit-events?resource_type=competitor_observation&resource_id={oid}")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let actions: Vec<_> = res.items().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(actions.len(), 2, "{}", res.text);
    assert!(actions.contains(&"create".to_string()) && actions.contains(&"update".to_string()));
    let res = app.get(&format!("/api/v1/audit-events?resource_type=competitor&resource_id={cid}")).send().await;
    assert_eq!(res.items().len(), 1);
});

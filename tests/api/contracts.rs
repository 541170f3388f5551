use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Res, TestApp};

pub const REQUIRED: [&str; 4] = ["rights", "obligations", "breach_liability", "dispute_resolution"];

/// A draft contract for `partner_id` running through 2026.
pub async fn draft(app: &TestApp, partner_id: &str, number: &str) -> Value {
    draft_with(app, json!({"partner_id": partner_id, "number": number})).await
}

pub async fn draft_with(app: &TestApp, fields: Value) -> Value {
    let mut body = json!({"title": "渠道代理协议", "kind": "agency",
                          "effective_from": "2026-01-01", "effective_to": "2026-12-31"});
    for (k, v) in fields.as_object().expect("object") {
        body[k] = v.clone();
    }
    let res = app.post("/api/v1/contracts", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

/// A term body of `kind` with `params`.
pub fn term(kind: &str, params: Value) -> Value {
    json!({"kind": kind, "title": format!("{kind} 条款"), "text": format!("关于{kind}的约定。"), "params": params})
}

pub async fn add_term(app: &TestApp, contract_id: &str, body: Value) -> Value {
    let res = app.post(&format!("/api/v1/contracts/{contract_id}/terms"), body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

pub async fn add_required_terms(app: &TestApp, contract_id: &str) {
    for kind in REQUIRED {
        let params = if kind == "dispute_resolution" {
            json!({"method": "arbitration", "venue": "上海国际仲裁中心"})
        } else {
            json!({})
        };
        add_term(app, contract_id, term(kind, params)).await;
    }
}

pub async fn activate(app: &TestApp, contract_id: &str) -> Value {
    let res = app.patch(&format!("/api/v1/contracts/{contract_id}"), json!({"status": "active"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body
}

/// An active contract with the four required terms plus `extra` terms.
pub async fn active_contract(app: &TestApp, fields: Value, extra: Vec<Value>) -> Value {
    let c = draft_with(app, fields).await;
    let id = c["id"].as_str().expect("id");
    add_required_terms(app, id).await;
    for t in extra {
        add_term(app, id, t).await;
    }
    activate(app, id).await
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn terms_of(res: &Res) -> Vec<String> {
    res.items().iter().map(|t| t["kind"].as_str().unwrap().to_string()).collect()
}

both!(create_returns_201_location_etag_and_defaults, |app: TestApp| async move {
    let p = app.partner("华东星辰代理").await;
    let res = app
        .post(
            "/api/v1/contracts",
            json!({"partner_id": p["id"], "number": "HT-2026-001", "title": "华东独家代理协议 🤝 O'Brien; --",
                   "kind": "agency", "signed_at": "2025-12-20T10:00:00+08:00", "effective_from": "2026-01-01",
                   "effective_to": "2026-12-31", "total_value": 120_000_000, "owner": "王芳", "notes": "100%_\\"}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let cid = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/contracts/{cid}"));
    assert_eq!(res.etag(), "\"1\"");
    let b = &res.body;
    assert_eq!(b["status"], "draft");
    assert_eq!(b["currency"], "CNY");
    assert_eq!(b["renewal_notice_days"], 30);
    assert_eq!(b["auto_renew"], false);
    assert_eq!(b["signed_at"], "2025-12-20T02:00:00Z");
    assert_eq!(b["effective_to"], "2026-12-31");
    assert_eq!(b["predecessor_id"], Value::Null);
    assert_eq!(b["successor_id"], Value::Null);
    let got = app.get(&format!("/api/v1/contracts/{cid}")).send().await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, res.body, "round-trips exactly");
    assert_eq!(got.etag(), "\"1\"");
    let events = app.with_conn(|c| channeldesk::events::since(c, None, 100).unwrap());
    let created = events.iter().find(|e| e.event_type == "contract.created").expect("contract.created");
    assert_eq!(created.partner_id.as_deref(), p["id"].as_str());
    assert_eq!(created.payload["partner_name"], "华东星辰代理");
    assert_eq!(created.payload["partner_ids"], json!([p["id"]]));
    assert_eq!(created.payload["contract"]["number"], "HT-2026-001");
});

both!(create_validates_every_field, |app: TestApp| async move {
    let p = app.partner("P").await;
    let pid = p["id"].as_str().unwrap();
    let base = json!({"partner_id": pid, "number": "HT-1", "title": "t", "kind": "agency"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (json!({"number": "HT-1", "title": "t", "kind": "agency"}), "partner_id"),
        (with("partner_id", json!("not-a-uuid")), "partner_id"),
        (with("partner_id", json!("0192f0c4-3b9e-7c1a-8f00-000000000000")), "partner_id"),
        (with("number", json!(" ")), "number"),
        (with("number", json!("x".repeat(65))), "number"),
        (with("title", json!("a\u{0}b")), "title"),
        (with("kind", json!("lease")), "kind"),
        (with("currency", json!("rmb")), "currency"),
        (with("currency", json!("EURO")), "currency"),
        (with("renewal_notice_days", json!(731)), "renewal_notice_days"),
        (with("total_value", json!(-1)), "total_value"),
        (with("total_value", json!(12.5)), "total_value"),
        (with("effective_from", json!("2026-13-01")), "effective_from"),
        (with("status", json!("active")), "status"),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/contracts", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field.to_string()], "body {body}");
    }
    // effective_to before effective_from: a rule across two fields.
    let mut body = base.clone();
    body["effective_from"] = json!("2026-06-01");
    body["effective_to"] = json!("2026-05-31");
    let res = app.post("/api/v1/contracts", body).send().await;
    assert_eq!(res.fields(), vec!["effective_to"]);
    // An archived partner takes no new contracts.
    let gone = app.partner("Gone").await;
    app.delete(&format!("/api/v1/partners/{}", gone["id"].as_str().unwrap())).send().await;
    let res = app.post("/api/v1/contracts", with("partner_id", gone["id"].clone())).send().await;
    assert_eq!(res.fields(), vec!["partner_id"]);
    assert!(!app.event_types().iter().any(|t| t.starts_with("contract.")), "nothing written on bad input");
});

both!(numbers_are_unique_ignoring_case, |app: TestApp| async move {
    let p = app.partner("P").await;
    let pid = p["id"].as_str().unwrap();
    draft(&app, pid, "HT-2026-001").await;
    let res = app
        .post("/api/v1/contracts", json!({"partner_id": pid, "number": "ht-2026-001 ", "title": "t", "kind": "agency"}))
        .send()
        .await;
    res.problem(409, "contract_number_taken");
    let other = draft(&app, pid, "HT-2026-002").await;
    let res = app.patch(&format!("/api/v1/contracts/{}", id(&other)), json!({"number": "HT-2026-001"})).send().await;
    res.problem(409, "contract_number_taken");
});

both!(get_unknown_and_malformed_ids, |app: TestApp| async move {
    let res = app.get("/api/v1/contracts/0192f0c4-3b9e-7c1a-8f00-000000000000").send().await;
    res.problem(404, "contract_not_found");
    let res = app.get("/api/v1/contracts/nope").send().await;
    res.problem(404, "not_found");
    assert_eq!(res.fields(), vec!["id"]);
    let res = app.get("/api/v1/contracts/0192f0c4-3b9e-7c1a-8f00-000000000000/terms").send().await;
    res.problem(404, "contract_not_found");
    let p = app.partner("P").await;
    let c = draft(&app, p["id"].as_str().unwrap(), "HT-1").await;
    let res = app.get(&format!("/api/v1/contracts/{}/terms/0192f0c4-3b9e-7c1a-8f00-000000000000", id(&c))).send().await;
    res.problem(404, "term_not_found");
    let res =
        app.get(&format!("/api/v1/contracts/{}/amendments/0192f0c4-3b9e-7c1a-8f00-000000000000", id(&c))).send().await;
    res.problem(404, "amendment_not_found");
});

both!(patch_merges_and_honours_if_match, |app: TestApp| async move {
    let p = app.partner("P").await;
    let q = app.partner("Q").await;
    let c =
        draft_with(&app, json!({"partner_id": p["id"], "number": "HT-1", "owner": "李雷", "total_value": 500})).await;
    let url = format!("/api/v1/contracts/{}", id(&c));
    let res = app
        .patch(&url, json!({"owner": null, "total_value": null, "currency": "USD", "partner_id": q["id"]}))
        .if_match("\"1\"")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["owner"], Value::Null);
    assert_eq!(res.body["total_value"], Value::Null);
    assert_eq!(res.body["currency"], "USD");
    assert_eq!(res.body["partner_id"], q["id"]);
    assert_eq!(res.body["title"], "渠道代理协议", "absent fields are kept");
    assert_eq!(res.etag(), "\"2\"");
    app.patch(&url, json!({"title": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    let res = app.patch(&url, json!({"effective_to": "2025-01-01"})).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["effective_to"]);
    let res = app.patch(&url, json!({"effective_from": "2027-01-01"})).send().await;
    assert_eq!(res.fields(), vec!["effective_from"]);
    let res = app.patch(&url, json!({"partner_id": "0192f0c4-3b9e-7c1a-8f00-000000000000"})).send().await;
    assert_eq!(res.fields(), vec!["partner_id"]);
    // JSON Schema integers include 9.0; fractions are refused.
    let res = app.patch(&url, json!({"renewal_notice_days": 45.0, "total_value": 900.0})).send().await;
    assert_eq!((res.body["renewal_notice_days"].clone(), res.body["total_value"].clone()), (json!(45), json!(900)));
    assert_eq!(app.patch(&url, json!({"total_value": 0.5})).send().await.fields(), vec!["total_value"]);
    let res = app.patch(&url, json!({"renewal_notice_days": 30, "total_value": null})).send().await;
    assert_eq!(res.status, StatusCode::OK);
    let same = app.patch(&url, json!({"title": "渠道代理协议"})).send().await;
    assert_eq!(same.etag(), "\"4\"", "a patch that changes nothing keeps the version");
    let res = app.patch("/api/v1/contracts/0192f0c4-3b9e-7c1a-8f00-000000000000", json!({"title": "x"})).send().await;
    res.problem(404, "contract_not_found");
    let types = app.event_types();
    assert_eq!(types.iter().filter(|t| *t == "contract.updated").count(), 3);
});

both!(status_moves_along_the_lifecycle_only, |app: TestApp| async move {
    let p = app.partner("P").await;
    let pid = p["id"].as_str().unwrap();
    let c = draft_with(&app, json!({"partner_id": pid, "number": "HT-1", "effective_from": null})).await;
    let url = format!("/api/v1/contracts/{}", id(&c));
    app.patch(&url, json!({"status": "expired"})).send().await.problem(409, "invalid_status_transition");
    app.patch(&url, json!({"status": "terminated"})).send().await.problem(409, "invalid_status_transition");
    app.patch(&url, json!({"status": "active"})).send().await.problem(409, "contract_incomplete");
    let res = app.patch(&url, json!({"status": "active", "effective_from": "2026-01-01"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["status"], "active");
    app.patch(&url, json!({"status": "draft"})).send().await.problem(409, "invalid_status_transition");
    // After draft only status, owner and notes change here.
    let res = app.patch(&url, json!({"title": "新标题"})).send().await;
    res.problem(409, "contract_not_draft");
    assert!(res.body["detail"].as_str().unwrap().contains("amendments"), "{}", res.text);
    app.patch(&url, json!({"total_value": 1})).send().await.problem(409, "contract_not_draft");
    let res = app.patch(&url, json!({"owner": "韩梅梅", "notes": "续约洽谈中", "title": "渠道代理协议"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app.patch(&url, json!({"status": "terminated"})).send().await;
    assert_eq!(res.body["status"], "terminated");
    app.patch(&url, json!({"status": "active"})).send().await.problem(409, "invalid_status_transition");
    app.patch(&url, json!({"status": "expired"})).send().await.problem(409, "invalid_status_transition");
    let other = draft(&app, pid, "HT-2").await;
    activate(&app, &id(&other)).await;
    let res = app.patch(&format!("/api/v1/contracts/{}", id(&other)), json!({"status": "expired"})).send().await;
    assert_eq!(res.body["status"], "expired");
    let types = app.event_types();
    for expected in ["contract.activated", "contract.terminated", "contract.expired"] {
        assert!(types.contains(&expected.to_string()), "{expected} in {types:?}");
    }
    let events = app.with_conn(|c| channeldesk::events::since(c, None, 100).unwrap());
    let activated = events.iter().find(|e| e.event_type == "contract.activated").unwrap();
    assert_eq!((activated.payload["from"].as_str(), activated.payload["to"].as_str()), (Some("draft"), Some("active")));
});

both!(terms_of_a_draft_are_edited_freely, |app: TestApp| async move {
    let p = app.partner("P").await;
    let c = draft(&app, p["id"].as_str().unwrap(), "HT-1").await;
    let base = format!("/api/v1/contracts/{}/terms", id(&c));
    let res = app
        .post(&base, json!({"kind": "rebate", "title": "季度返点", "text": "按季度结算返点。",
                           "params": {"tiers": [{"threshold_minor": 0, "rate_bp": 100}, {"threshold_minor": 10_000_000, "rate_bp": 300}]}}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let tid = res.id();
    assert_eq!(res.header("location").unwrap(), format!("{base}/{tid}"));
    assert_eq!(res.body["obligated_party"], "both");
    let conf = add_term(&app, &id(&c), json!({"kind": "confidentiality", "title": "保密", "text": "双方保密。"})).await;
    assert_eq!(conf["params"], json!({}), "kinds without parameters store {{}}");
    let url = format!("{base}/{tid}");
    let res = app
        .patch(&url, json!({"kind": "discount", "params": {"rate_bp": 1250}, "obligated_party": "company"}))
        .if_match("\"1\"")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["params"], json!({"rate_bp": 1250}));
    assert_eq!(res.etag(), "\"2\"");
    app.patch(&url, json!({"title": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    let res = app.patch(&url, json!({"kind": "payment"})).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["params"], "a new kind needs parameters that fit it");
    let list = app.get(&base).send().await;
    assert_eq!(terms_of(&list), vec!["discount", "confidentiality"]);
    let got = app.get(&url).send().await;
    assert_eq!(got.body["title"], "季度返点");
    let res = app.delete(&url).if_match("\"1\"").send().await;
    res.problem(412, "version_mismatch");
    let res = app.delete(&url).send().await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "term_not_found");
    // Paging through terms.
    for i in 0..3 {
        add_term(&app, &id(&c), json!({"kind": "other", "title": format!("其他 {i}"), "text": "…"})).await;
    }
    let first = app.get(&format!("{base}?limit=2")).send().await;
    assert_eq!(first.items().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("{base}?limit=2&cursor={cursor}")).send().await;
    assert_eq!(second.items().len(), 2);
    assert_eq!(second.body["next_cursor"], Value::Null);
});

both!(term_params_are_validated_by_kind_with_paths, |app: TestApp| async move {
    let p = app.partner("P").await;
    let c = draft(&app, p["id"].as_str().unwrap(), "HT-1").await;
    let base = format!("/api/v1/contracts/{}/terms", id(&c));
    let cases = [
        (
            term(
                "rebate",
                json!({"tiers": [{"threshold_minor": 100, "rate_bp": 1}, {"threshold_minor": 100, "rate_bp": 2}]}),
            ),
            "params.tiers[1].threshold_minor",
        ),
        (
            term(
                "rebate",
                json!({"tiers": [{"threshold_minor": 100, "rate_bp": 1}, {"threshold_minor": "lots", "rate_bp": 2}]}),
            ),
            "params.tiers[1].threshold_minor",
        ),
        (term("rebate", json!({"tiers": [{"threshold_minor": 1, "rate_bp": 10_001}]})), "params.tiers[0].rate_bp"),
        (term("rebate", json!({"tiers": [{"threshold_minor": 1}]})), "params.tiers[0].rate_bp"),
        (term("discount", json!({"rate_bp": 1250, "cap_minor": 5})), "params.cap_minor"),
        (term("discount", json!({"rate_bp": -1})), "params.rate_bp"),
        (term("discount", json!({})), "params.rate_bp"),
        (term("discount", json!("12%")), "params"),
        (term("exclusivity", json!({"territories": ["上海"], "product_lines": []})), "params.product_lines"),
        (
            term("exclusivity", json!({"territories": ["上海", "上海"], "product_lines": ["服务器"]})),
            "params.territories[1]",
        ),
        (term("territory", json!({"territories": []})), "params.territories"),
        (term("minimum_purchase", json!({"amount_minor": 100, "period": "week"})), "params.period"),
        (term("dispute_resolution", json!({"method": "arbitration"})), "params.venue"),
        (term("dispute_resolution", json!({"method": "duel", "venue": "x"})), "params.method"),
        (term("payment", json!({"days": 4000})), "params.days"),
        (term("termination", json!({"notice_days": "soon"})), "params.notice_days"),
        (term("rights", json!({"rate_bp": 1})), "params.rate_bp"),
        (json!({"kind": "rights", "title": " ", "text": "x"}), "title"),
        (json!({"kind": "rights", "title": "t", "text": "x", "obligated_party": "nobody"}), "obligated_party"),
        (json!({"kind": "warranty", "title": "t", "text": "x"}), "kind"),
    ];
    for (body, field) in cases {
        let res = app.post(&base, body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field.to_string()], "body {body}");
    }
    assert!(app.get(&base).send().await.items().is_empty(), "nothing stored");
});

both!(direct_term_writes_on_an_active_contract_are_409, |app: TestApp| async move {
    let p = app.partner("P").await;
    let c = active_contract(&app, json!({"partner_id": p["id"], "number": "HT-1"}), vec![]).await;
    let base = format!("/api/v1/contracts/{}/terms", id(&c));
    let existing = app.get(&base).send().await.items()[0].clone();
    let res = app.post(&base, term("payment", json!({"days": 30}))).send().await;
    res.problem(409, "contract_not_draft");
    let url = format!("{base}/{}", id(&existing));
    app.patch(&url, json!({"title": "改"})).send().await.problem(409, "contract_not_draft");
    app.delete(&url).send().await.problem(409, "contract_not_draft");
    assert_eq!(app.get(&base).send().await.items().len(), 4, "unchanged");
    // Reads stay open.
    assert_eq!(app.get(&url).send().await.status, StatusCode::OK);
});

both!(amendments_apply_atomically_and_keep_history, |app: TestApp| async move {
    let p = app.partner("P").await;
    let c = active_contract(
        &app,
        json!({"partner_id": p["id"], "number": "HT-1", "total_value": 1_000_000}),
        vec![term("discount", json!({"rate_bp": 1000})), term("payment", json!({"days": 30}))],
    )
    .await;
    let cid = id(&c);
    let terms = app.get(&format!("/api/v1/contracts/{cid}/terms")).send().await.items().clone();
    let discount = terms.iter().find(|t| t["kind"] == "discount").unwrap().clone();
    let payment = terms.iter().find(|t| t["kind"] == "payment").unwrap().clone();
    let url = format!("/api/v1/contracts/{cid}/amendments");
    let events_before = app.event_types().len();

    // One bad change rejects the whole amendment, naming its path.
    let bad = json!({"reason": "补充协议一", "changes": [
        {"op": "modify", "term_id": discount["id"], "term": {"params": {"rate_bp": 1500}}},
        {"op": "add", "term": term("rebate", json!({"tiers": [{"threshold_minor": 5, "rate_bp": 1}, {"threshold_minor": 1, "rate_bp": 2}]}))},
        {"op": "remove", "term_id": "0192f0c4-3b9e-7c1a-8f00-000000000000"},
    ]});
    let res = app.post(&url, bad).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["changes[1].term.params.tiers[1].threshold_minor", "changes[2].term_id"]);
    let after_bad = app.get(&format!("/api/v1/contracts/{cid}/terms/{}", id(&discount))).send().await;
    assert_eq!(after_bad.body["params"]["rate_bp"], 1000, "nothing applied");
    assert!(app.get(&url).send().await.items().is_empty(), "no amendment recorded");
    assert_eq!(app.event_types().len(), events_before, "no event");
    let res = app
        .post(&url, json!({"reason": "x", "changes": [{"op": "add", "term": term("other", json!({})), "term_id": discount["id"]}]}))
        .send()
        .await;
    assert_eq!(res.fields(), vec!["changes[0].term_id"]);
    let res = app
        .post(
            &url,
            json!({"reason": "x", "changes": [{"op": "modify", "term_id": discount["id"], "term": {"color": 1}}]}),
        )
        .send()
        .await;
    assert_eq!(res.fields(), vec!["changes[0].term.color"]);
    let res = app
        .post(
            &url,
            json!({"reason": "x", "changes": [{"op": "update_contract", "contract": {"effective_to": "2025-01-01"}}]}),
        )
        .send()
        .await;
    assert_eq!(res.fields(), vec!["changes[0].contract.effective_to"]);
    let res = app.post(&url, json!({"reason": " ", "changes": []})).send().await;
    assert_eq!(res.fields(), vec!["reason", "changes"]);
    let res = app.post(&url, json!({"reason": "x", "changes": [{"op": "rename"}]})).send().await;
    assert_eq!(res.fields(), vec!["changes[0].op"]);

    // A good one: modify, add, remove and extend, all at once.
    let good = json!({"reason": "2026年补充协议：提高折扣并延期", "changes": [
        {"op": "modify", "term_id": discount["id"], "term": {"params": {"rate_bp": 1500}, "title": "新折扣"}},
        {"op": "add", "term": term("minimum_purchase", json!({"amount_minor": 5_000_000, "period": "quarter"}))},
        {"op": "remove", "term_id": payment["id"]},
        {"op": "update_contract", "contract": {"effective_to": "2027-06-30", "total_value": 1_500_000}},
    ]});
    app.post(&url, good.clone()).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    let version = app.get(&format!("/api/v1/contracts/{cid}")).send().await.etag();
    let res = app.post(&url, good).if_match(&version).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let aid = res.id();
    assert_eq!(res.header("location").unwrap(), format!("{url}/{aid}"));
    let a = &res.body;
    assert_eq!(a["number"], 1);
    assert_eq!(a["amended_by"], "test-admin");
    assert_eq!(a["reason"], "2026年补充协议：提高折扣并延期");
    let changes = a["changes"].as_array().unwrap();
    assert_eq!(changes[0]["before"]["params"]["rate_bp"], 1000);
    assert_eq!(changes[0]["after"]["params"]["rate_bp"], 1500);
    assert_eq!(changes[0]["after"]["title"], "新折扣");
    assert_eq!(changes[1]["before"], Value::Null);
    assert_eq!(changes[1]["after"]["kind"], "minimum_purchase");
    assert_eq!(changes[2]["before"]["kind"], "payment");
    assert_eq!(changes[2]["after"], Value::Null);
    assert_eq!(changes[3]["before"], json!({"effective_to": "2026-12-31", "total_value": 1_000_000}));
    assert_eq!(changes[3]["after"], json!({"effective_to": "2027-06-30", "total_value": 1_500_000}));

    let contract = app.get(&format!("/api/v1/contracts/{cid}")).send().await;
    assert_eq!(contract.body["effective_to"], "2027-06-30");
    assert_eq!(contract.body["version"], a["contract_version"]);
    let kinds = terms_of(&app.get(&format!("/api/v1/contracts/{cid}/terms")).send().await);
    assert!(kinds.contains(&"minimum_purchase".to_string()) && !kinds.contains(&"payment".to_string()), "{kinds:?}");
    let history = app.get(&url).send().await;
    assert_eq!(history.items().len(), 1);
    assert_eq!(history.items()[0], *a);
    let one = app.get(&format!("{url}/{aid}")).send().await;
    assert_eq!(one.body, *a);

    // A second amendment without If-Match is numbered 2.
    let res = app.post(&url, json!({"reason": "更正", "changes": [{"op": "modify", "term_id": discount["id"], "term": {"text": "更正后的文本"}}]})).send().await;
    assert_eq!(res.body["number"], 2);
    let events = app.with_conn(|c| channeldesk::events::since(c, None, 1000).unwrap());
    let amended: Vec<_> = events.iter().filter(|e| e.event_type == "contract.amended").collect();
    assert_eq!(amended.len(), 2);
    assert_eq!(amended[0].payload["amendment"]["reason"], "2026年补充协议：提高折扣并延期");
    assert_eq!(amended[0].payload["contract"]["effective_to"], "2027-06-30");
});

both!(amendments_need_an_active_contract, |app: TestApp| async move {
    let p = app.partner("P").await;
    let c = draft(&app, p["id"].as_str().unwrap(), "HT-1").await;
    let body = json!({"reason": "x", "changes": [{"op": "add", "term": term("other", json!({}))}]});
    let res = app.post(&format!("/api/v1/contracts/{}/amendments", id(&c)), body.clone()).send().await;
    res.problem(409, "contract_not_active");
    let res = app.post("/api/v1/contracts/0192f0c4-3b9e-7c1a-8f00-000000000000/amendments", body).send().await;
    res.problem(404, "contract_not_found");
});

both!(renewal_links_both_ways_and_copies_terms, |app: TestApp| async move {
    let p = app.partner("P").await;
    let pid = p["id"].as_str().unwrap();
    let c = active_contract(
        &app,
        json!({"partner_id": pid, "number": "HT-2026", "auto_renew": true, "renewal_notice_days": 60, "total_value": 900}),
        vec![term("discount", json!({"rate_bp": 800}))],
    )
    .await;
    let cid = id(&c);
    let res = app.post(&format!("/api/v1/contracts/{cid}/renew"), json!({"number": "HT-2027"})).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let sid = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/contracts/{sid}"));
    let s = &res.body;
    assert_eq!(s["status"], "draft");
    assert_eq!(s["predecessor_id"], cid.as_str());
    assert_eq!(s["effective_from"], "2027-01-01");
    assert_eq!(s["effective_to"], "2027-12-31");
    assert_eq!((s["auto_renew"].clone(), s["renewal_notice_days"].clone()), (json!(true), json!(60)));
    assert_eq!(s["total_value"], 900);
    assert_eq!(s["title"], c["title"]);
    let pred = app.get(&format!("/api/v1/contracts/{cid}")).send().await;
    assert_eq!(pred.body["successor_id"], sid.as_str());
    let old_terms = app.get(&format!("/api/v1/contracts/{cid}/terms")).send().await;
    let new_terms = app.get(&format!("/api/v1/contracts/{sid}/terms")).send().await;
    let strip = |r: &Res| -> Vec<Value> {
        r.items().iter().map(|t| json!([t["kind"], t["title"], t["text"], t["params"], t["obligated_party"]])).collect()
    };
    assert_eq!(strip(&old_terms), strip(&new_terms), "terms copied");
    assert!(new_terms.items().iter().all(|t| t["contract_id"] == sid.as_str()));

    app.post(&format!("/api/v1/contracts/{cid}/renew"), json!({"number": "HT-X"}))
        .send()
        .await
        .problem(409, "contract_already_renewed");
    app.post(&format!("/api/v1/contracts/{sid}/renew"), json!({"number": "HT-Y"}))
        .send()
        .await
        .problem(409, "contract_not_renewable");
    let other = active_contract(&app, json!({"partner_id": pid, "number": "HT-OTHER"}), vec![]).await;
    app.post(&format!("/api/v1/contracts/{}/renew", id(&other)), json!({"number": "ht-2027"}))
        .send()
        .await
        .problem(409, "contract_number_taken");
    let res = app
        .post(
            &format!("/api/v1/contracts/{}/renew", id(&other)),
            json!({"number": "HT-Z", "effective_to": "2026-06-30"}),
        )
        .send()
        .await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["effective_to"], "before the defaulted start 2027-01-01");
    let res = app.post(&format!("/api/v1/contracts/{}/renew", id(&other)), json!({})).send().await;
    assert_eq!(res.fields(), vec!["number"]);

    // Deleting the draft successor unlinks the predecessor, which can then be renewed again.
    let res = app.delete(&format!("/api/v1/contracts/{sid}")).send().await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/contracts/{sid}")).send().await.problem(404, "contract_not_found");
    let pred = app.get(&format!("/api/v1/contracts/{cid}")).send().await;
    assert_eq!(pred.body["successor_id"], Value::Null);
    let again = app.post(&format!("/api/v1/contracts/{cid}/renew"), json!({"number": "HT-2027"})).send().await;
    assert_eq!(again.status, StatusCode::CREATED, "the number is free again: {}", again.text);
    app.delete(&format!("/api/v1/contracts/{cid}")).send().await.problem(409, "contract_not_draft");
    let events = app.with_conn(|c| channeldesk::events::since(c, None, 1000).unwrap());
    let renewed = events.iter().find(|e| e.event_type == "contract.renewed").unwrap();
    assert_eq!(renewed.payload["contract"]["id"], cid.as_str());
    assert_eq!(renewed.payload["successor"]["number"], "HT-2027");
});

both!(list_filters_search_and_expiry_order, |app: TestApp| async move {
    let p = app.partner("P").await;
    let q = app.partner("Q").await;
    let (pid, qid) = (p["id"].as_str().unwrap(), q["id"].as_str().unwrap());
    let today = channeldesk::contracts::risks::business_date(chrono::Utc::now());
    let in_days = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let a = draft_with(
        &app,
        json!({"partner_id": pid, "number": "HT-A", "title": "Alpha 代理", "owner": "amy",
                                   "effective_to": in_days(20)}),
    )
    .await;
    draft_with(
        &app,
        json!({"partner_id": qid, "number": "HT-B", "title": "Beta 100%_经销", "kind": "distribution",
                                   "effective_to": in_days(5)}),
    )
    .await;
    draft_with(&app, json!({"partner_id": pid, "number": "XY-C", "title": "Gamma", "effective_to": in_days(400)}))
        .await;
    activate(&app, &id(&a)).await;
    let numbers = |res: &Res| res.items().iter().map(|c| c["number"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(numbers(&app.get("/api/v1/contracts").send().await), ["XY-C", "HT-B", "HT-A"], "newest first");
    assert_eq!(numbers(&app.get(&format!("/api/v1/contracts?partner_id={pid}")).send().await), ["XY-C", "HT-A"]);
    assert_eq!(numbers(&app.get("/api/v1/contracts?status=active").send().await), ["HT-A"]);
    assert_eq!(numbers(&app.get("/api/v1/contracts?kind=distribution").send().await), ["HT-B"]);
    assert_eq!(numbers(&app.get("/api/v1/contracts?owner=amy").send().await), ["HT-A"]);
    assert_eq!(numbers(&app.get("/api/v1/contracts?q=ht-").send().await), ["HT-B", "HT-A"], "number, ignoring case");
    assert_eq!(numbers(&app.get("/api/v1/contracts?q=ALPHA").send().await), ["HT-A"], "title, ignoring case");
    assert_eq!(numbers(&app.get("/api/v1/contracts?q=%25_").send().await), ["HT-B"], "LIKE wildcards are literal");
    let soon = app.get("/api/v1/contracts?expiring_within_days=30").send().await;
    assert_eq!(numbers(&soon), ["HT-B", "HT-A"], "soonest first");
    let page1 = app.get("/api/v1/contracts?expiring_within_days=500&limit=2").send().await;
    assert_eq!(numbers(&page1), ["HT-B", "HT-A"]);
    let cursor = page1.body["next_cursor"].as_str().unwrap().to_string();
    let page2 = app.get(&format!("/api/v1/contracts?expiring_within_days=500&limit=2&cursor={cursor}")).send().await;
    assert_eq!(numbers(&page2), ["XY-C"]);
    let res = app.get(&format!("/api/v1/contracts?cursor={cursor}")).send().await;
    assert_eq!(res.fields(), vec!["cursor"], "a cursor of the expiry order does not fit the default order");
    assert_eq!(numbers(&app.get("/api/v1/contracts?expiring_within_days=0").send().await), Vec::<String>::new());
    for (query, field) in [
        ("status=signed", "status"),
        ("expiring_within_days=-1", "expiring_within_days"),
        ("expiring_within_days=soon", "expiring_within_days"),
        ("partner_id=nope", "partner_id"),
        ("q=", "q"),
        ("limit=500", "limit"),
    ] {
        let res = app.get(&format!("/api/v1/contracts?{query}")).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{query}");
    }
});

both!(markdown_rendering_for_chat, |app: TestApp| async move {
    let p = app.partner("华东星辰代理").await;
    let c = draft_with(
        &app,
        json!({"partner_id": p["id"], "number": "HT-2026-001", "title": "华东独家代理协议",
                                   "total_value": 120_000_000}),
    )
    .await;
    let cid = id(&c);
    add_term(&app, &cid, term("rebate", json!({"tiers": [{"threshold_minor": 10_000_000, "rate_bp": 250}]}))).await;
    add_term(&app, &cid, term("exclusivity", json!({"territories": ["上海", "苏州"], "product_lines": ["服务器"]})))
        .await;
    let res = app.get(&format!("/api/v1/contracts/{cid}")).header("Accept", "text/markdown").send().await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type").as_deref(), Some("text/markdown; charset=utf-8"));
    assert_eq!(res.etag(), "\"1\"");
    let md = &res.text;
    for expected in [
        "# 合同 Contract HT-2026-001 · 华东独家代理协议",
        "| 渠道成员 Partner | 华东星辰代理 |",
        "| 合同金额 Value | CNY 1,200,000.00 |",
        "| 状态 Status | 草稿 Draft |",
        "## 条款 Terms (2)",
        "### 1. 返点 Rebate · rebate 条款",
        "采购额 ≥ CNY 100,000.00 返点 2.5%",
        "独家区域 Exclusive territories: 上海、苏州",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in\n{md}");
    }
    // JSON stays the default, and wins when preferred.
    let json_res = app
        .get(&format!("/api/v1/contracts/{cid}"))
        .header("Accept", "application/json, text/markdown;q=0.5")
        .send()
        .await;
    assert_eq!(json_res.body["number"], "HT-2026-001");
    let any = app.get(&format!("/api/v1/contracts/{cid}")).header("Accept", "*/*").send().await;
    assert_eq!(any.body["number"], "HT-2026-001");
    let pkey = app.key(Role::Partner, p["id"].as_str());
    let own = app.get(&format!("/api/v1/contracts/{cid}")).header("Accept", "text/markdown").key(&pkey).send().await;
    assert_eq!(own.status, StatusCode::OK);
    let other = app.partner("Other").await;
    let okey = app.key(Role::Partner, other["id"].as_str());
    let res = app.get(&format!("/api/v1/contracts/{cid}")).header("Accept", "text/markdown").key(&okey).send().await;
    res.problem(404, "contract_not_found");
});

both!(partner_keys_read_only_their_own, |app: TestApp| async move {
    let mine = app.partner("Mine").await;
    let other = app.partner("Other").await;
    let own = active_contract(&app, json!({"partner_id": mine["id"], "number": "HT-MINE"}), vec![]).await;
    let theirs = active_contract(&app, json!({"partner_id": other["id"], "number": "HT-THEIRS"}), vec![]).await;
    let (own_id, their_id) = (id(&own), id(&theirs));
    app.post(
        &format!("/api/v1/contracts/{own_id}/amendments"),
        json!({"reason": "x", "changes": [{"op": "add", "term": term("other", json!({}))}]}),
    )
    .send()
    .await;
    let pkey = app.key(Role::Partner, mine["id"].as_str());
    let list = app.get("/api/v1/contracts").key(&pkey).send().await;
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.items()[0]["id"], own_id.as_str());
    let filtered =
        app.get(&format!("/api/v1/contracts?partner_id={}", other["id"].as_str().unwrap())).key(&pkey).send().await;
    assert!(filtered.items().is_empty(), "filtering by another partner shows nothing");
    for path in ["", "/terms", "/amendments", "/risks"] {
        let res = app.get(&format!("/api/v1/contracts/{own_id}{path}")).key(&pkey).send().await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
        app.get(&format!("/api/v1/contracts/{their_id}{path}"))
            .key(&pkey)
            .send()
            .await
            .problem(404, "contract_not_found");
    }
    let aid = app.get(&format!("/api/v1/contracts/{own_id}/amendments")).send().await.items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&format!("/api/v1/contracts/{own_id}/amendments/{aid}")).key(&pkey).send().await.status,
        StatusCode::OK
    );
    let tid = app.get(&format!("/api/v1/contracts/{own_id}/terms")).send().await.items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&format!("/api/v1/contracts/{own_id}/terms/{tid}")).key(&pkey).send().await.status,
        StatusCode::OK
    );
    app.get(&format!("/api/v1/contracts/{their_id}/terms/{tid}"))
        .key(&pkey)
        .send()
        .await
        .problem(404, "contract_not_found");
    // Partners never write.
    let writes = [
        app.post("/api/v1/contracts", json!({"partner_id": mine["id"], "number": "N", "title": "t", "kind": "agency"}))
            .key(&pkey)
            .send()
            .await,
        app.patch(&format!("/api/v1/contracts/{own_id}"), json!({"notes": "x"})).key(&pkey).send().await,
        app.delete(&format!("/api/v1/contracts/{own_id}")).key(&pkey).send().await,
        app.post(&format!("/api/v1/contracts/{own_id}/renew"), json!({"number": "N"})).key(&pkey).send().await,
        app.post(&format!("/api/v1/contracts/{own_id}/terms"), term("other", json!({}))).key(&pkey).send().await,
        app.patch(&format!("/api/v1/contracts/{own_id}/terms/{tid}"), json!({"title": "x"})).key(&pkey).send().await,
        app.delete(&format!("/api/v1/contracts/{own_id}/terms/{tid}")).key(&pkey).send().await,
        app.post(
            &format!("/api/v1/contracts/{own_id}/amendments"),
            json!({"reason": "x", "changes": [{"op": "remove", "term_id": tid}]}),
        )
        .key(&pkey)
        .send()
        .await,
    ];
    for res in writes {
        res.problem(404, "not_found");
    }
    // Viewers read everything and write nothing; no key is 401.
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(app.get("/api/v1/contracts").key(&viewer).send().await.items().len(), 2);
    app.patch(&format!("/api/v1/contracts/{own_id}"), json!({"notes": "x"}))
        .key(&viewer)
        .send()
        .await
        .problem(403, "forbidden");
    app.post(
        &format!("/api/v1/contracts/{own_id}/amendments"),
        json!({"reason": "x", "changes": [{"op": "remove", "term_id": tid}]}),
    )
    .key(&viewer)
    .send()
    .await
    .problem(403, "forbidden");
    let manager = app.key(Role::Manager, None);
    let res =
        app.patch(&format!("/api/v1/contracts/{own_id}"), json!({"notes": "经理备注"})).key(&manager).send().await;
    assert_eq!(res.status, StatusCode::OK);
    app.get("/api/v1/contracts").anonymous().send().await.problem(401, "unauthorized");
    app.get("/api/v1/risks").anonymous().send().await.problem(401, "unauthorized");
});

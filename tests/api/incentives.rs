//! Incentives: programs (CRUD, frozen rules, status moves, validation, who sees what), the rebate
//! calculation into statements (drafts replaced, approved ones kept, adjustments for late
//! changes, contract rebate terms, mixed currencies), approve → paid (event, cost record), and
//! the discount that applies to a partner on a day.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::contracts::{active_contract, term};
use crate::helpers::TestApp;
use crate::performance::{pid, record};

const MISSING: &str = "0192f0c4-3b9e-7c1a-8f00-000000000000";

/// A current (onboarding) partner of `tier`: audiences address only active and onboarding ones.
pub async fn live_partner(app: &TestApp, name: &str, tier: &str) -> String {
    let p = app.partner_with(json!({"name": name, "channel_type": "indirect", "kind": "agent", "tier": tier})).await;
    let id = pid(&p);
    let res = app.patch(&format!("/api/v1/partners/{id}"), json!({"status": "onboarding"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    id
}

pub fn rebate_rules() -> Value {
    json!({"basis": "revenue", "measure": "amount", "mode": "retroactive",
           "tiers": [{"threshold": 0, "rate_bp": 100}, {"threshold": 8_000_000, "rate_bp": 200}]})
}

pub async fn program(app: &TestApp, body: Value) -> Value {
    let res = app.post("/api/v1/incentive-programs", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

pub fn rebate_body(audience: Value, status: &str) -> Value {
    json!({"name": "2026 Q1 返点", "kind": "rebate", "from": "2026-01", "to": "2026-03", "audience": audience,
           "rules": rebate_rules(), "status": status})
}

both!(programs_crud_with_etags_and_frozen_rules, |app: TestApp| async move {
    let body = json!({"name": "2026 返点计划", "kind": "rebate", "from": "2026-01", "to": "2026-12",
                      "audience": {"tiers": ["key", "key"]}, "rules": rebate_rules()});
    let res = app.post("/api/v1/incentive-programs", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = pid(&res.body);
    let url = format!("/api/v1/incentive-programs/{id}");
    assert_eq!(res.header("location").as_deref(), Some(url.as_str()));
    assert_eq!((res.body["status"].clone(), res.body["currency"].clone()), (json!("draft"), json!("CNY")));
    assert_eq!(res.body["audience"]["tiers"], json!(["key"]), "repeats dropped as for bulletins");
    assert_eq!((res.body["from"].clone(), res.body["to"].clone()), (json!("2026-01"), json!("2026-12")));
    let got = app.get(&url).send().await;
    assert_eq!(got.etag(), "\"1\"");
    // A draft changes freely, honouring If-Match.
    let marginal = json!({"rules": {"basis": "units", "measure": "amount", "mode": "marginal",
                                    "tiers": [{"threshold": 10, "rate_bp": 50}]}});
    let res = app.patch(&url, marginal.clone()).if_match("\"1\"").send().await;
    assert_eq!((res.status, res.body["rules"]["mode"].clone()), (StatusCode::OK, json!("marginal")));
    app.patch(&url, json!({"name": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    // Active: the rules are frozen; the name may still change.
    let res = app.patch(&url, json!({"status": "active"})).send().await;
    assert!(res.body["activated_at"].is_string(), "{}", res.text);
    let res = app.patch(&url, json!({"rules": rebate_rules(), "to": "2026-06"})).send().await;
    res.problem(409, "incentive_program_frozen");
    let mut frozen = res.fields();
    frozen.sort();
    assert_eq!(frozen, ["rules", "to"]);
    assert_eq!(app.patch(&url, json!({"name": "2026 返点计划（修订）"})).send().await.status, StatusCode::OK);
    app.patch(&url, json!({"status": "draft"})).send().await.problem(409, "invalid_status_transition");
    app.delete(&url).send().await.problem(409, "incentive_program_not_draft");
    assert_eq!(app.patch(&url, json!({"status": "closed"})).send().await.body["status"], "closed");
    app.patch(&url, json!({"status": "active"})).send().await.problem(409, "incentive_program_closed");
    // Lists filter by kind, status and period.
    let d = program(
        &app,
        json!({"name": "折扣", "kind": "discount", "from": "2027-01", "to": "2027-03",
                                 "audience": {"all": true}, "rules": {"by_tier": {"key": 800}}}),
    )
    .await;
    let ids = |res: crate::helpers::Res| res.items().iter().map(pid).collect::<Vec<_>>();
    assert_eq!(ids(app.get("/api/v1/incentive-programs?kind=discount").send().await), [pid(&d)]);
    assert_eq!(ids(app.get("/api/v1/incentive-programs?status=closed").send().await), std::slice::from_ref(&id));
    assert_eq!(ids(app.get("/api/v1/incentive-programs?period=2027-Q1").send().await), [pid(&d)]);
    assert_eq!(ids(app.get("/api/v1/incentive-programs?period=2026-05").send().await), std::slice::from_ref(&id));
    assert_eq!(app.get("/api/v1/incentive-programs?period=2026-Q5").send().await.fields(), ["period"]);
    let page = app.get("/api/v1/incentive-programs?limit=1").send().await;
    assert_eq!((page.items().len(), page.body["next_cursor"].is_string()), (1, true));
    // A draft can be deleted.
    let durl = format!("/api/v1/incentive-programs/{}", pid(&d));
    assert_eq!(app.delete(&durl).send().await.status, StatusCode::NO_CONTENT);
    app.get(&durl).send().await.problem(404, "incentive_program_not_found");
    app.get("/api/v1/incentive-programs/not-a-uuid").send().await.problem(404, "not_found");
});

both!(programs_validate_every_field, |app: TestApp| async move {
    let base = || {
        json!({"name": "计划", "kind": "rebate", "from": "2026-01", "to": "2026-03",
               "audience": {"all": true}, "rules": rebate_rules()})
    };
    let with = |changes: Value| {
        let mut b = base();
        for (k, v) in changes.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        (with(json!({"name": " "})), vec!["name"]),
        (with(json!({"kind": "cashback"})), vec!["kind"]),
        (with(json!({"from": "2026-13"})), vec!["from"]),
        (with(json!({"to": "2025-12"})), vec!["to"]),
        (with(json!({"audience": {}})), vec!["audience"]),
        (with(json!({"audience": {"partner_ids": [MISSING]}})), vec!["audience.partner_ids[0]"]),
        (with(json!({"currency": "cny"})), vec!["currency"]),
        (with(json!({"status": "closed"})), vec!["status"]),
        (
            with(json!({"rules": {"basis": "revenue", "measure": "amount", "mode": "marginal",
                                  "tiers": [{"threshold": 10, "rate_bp": 1}, {"threshold": 9, "rate_bp": 2}]}})),
            vec!["rules.tiers[1].threshold"],
        ),
        (with(json!({"rules": {"by_tier": {"key": 1}}})), vec!["rules.by_tier"]),
        (with(json!({"kind": "discount", "rules": {"by_tier": {"key": 10001}}})), vec!["rules.by_tier.key"]),
        (
            with(json!({"kind": "marketing_support",
                        "rules": {"budget": {"rate_bp": 100, "window": {"from": "2025-10", "to": "2026-01"}},
                                  "claim_deadline": "2026-06-30"}})),
            vec!["rules.budget.window.to"],
        ),
    ];
    for (body, fields) in cases {
        let res = app.post("/api/v1/incentive-programs", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), fields, "{body}");
    }
    assert!(app.get("/api/v1/incentive-programs").send().await.items().is_empty(), "nothing was written");
});

both!(programs_are_read_by_staff_and_by_the_partners_they_address, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "甲", "key").await, live_partner(&app, "乙", "standard").await);
    let for_key = program(&app, rebate_body(json!({"tiers": ["key"]}), "active")).await;
    let draft = program(&app, rebate_body(json!({"all": true}), "draft")).await;
    let key_a = app.key(Role::Partner, Some(&a));
    let key_b = app.key(Role::Partner, Some(&b));
    let seen = app.get("/api/v1/incentive-programs").key(&key_a).send().await;
    assert_eq!(seen.items().iter().map(pid).collect::<Vec<_>>(), [pid(&for_key)], "no drafts, only its own");
    assert!(app.get("/api/v1/incentive-programs").key(&key_b).send().await.items().is_empty());
    let url = format!("/api/v1/incentive-programs/{}", pid(&for_key));
    assert_eq!(app.get(&url).key(&key_a).send().await.status, StatusCode::OK);
    app.get(&url).key(&key_b).send().await.problem(404, "incentive_program_not_found");
    let durl = format!("/api/v1/incentive-programs/{}", pid(&draft));
    app.get(&durl).key(&key_a).send().await.problem(404, "incentive_program_not_found");
    app.patch(&url, json!({"name": "x"})).key(&key_a).send().await.problem(404, "not_found");
    app.post("/api/v1/incentive-programs", rebate_body(json!({"all": true}), "draft"))
        .key(&key_a)
        .send()
        .await
        .problem(404, "not_found");
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(app.get("/api/v1/incentive-programs").key(&viewer).send().await.items().len(), 2);
    app.patch(&url, json!({"name": "x"})).key(&viewer).send().await.problem(403, "forbidden");
    app.get("/api/v1/incentive-programs").anonymous().send().await.problem(401, "unauthorized");
});

fn statements_of(res: &crate::helpers::Res, partner: &str) -> Vec<Value> {
    res.items().iter().filter(|s| s["partner_id"] == partner).cloned().collect()
}

both!(calculation_writes_drafts_keeps_approved_and_adjusts, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "华南远航", "standard").await);
    let jan = record(&app, &a, "2026-01", 4_000_000).await;
    record(&app, &a, "2026-02", 3_000_000).await;
    record(&app, &a, "2026-03", 3_000_000).await;
    record(&app, &b, "2026-01", 1_000_000).await;
    let contract = active_contract(
        &app,
        json!({"partner_id": a, "number": "HT-REB-1"}),
        vec![term("rebate", json!({"tiers": [{"threshold_minor": 5_000_000, "rate_bp": 50}]}))],
    )
    .await;
    let prog = program(&app, rebate_body(json!({"all": true}), "active")).await;
    let calc = format!("/api/v1/incentive-programs/{}/calculate", pid(&prog));
    let res = app.post(&calc, json!({"from": "2026-01", "to": "2026-03"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!((res.body["partners"].clone(), res.body["drafts"].clone()), (json!(2), json!(2)));
    let list_url = format!("/api/v1/incentive-statements?program_id={}", pid(&prog));
    let all = app.get(&list_url).send().await;
    let sa = &statements_of(&all, &a)[0];
    assert_eq!((sa["status"].clone(), sa["kind"].clone()), (json!("draft"), json!("statement")));
    let lines = sa["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0]["source"].clone(), lines[0]["amount_minor"].clone()), (json!("program"), json!(200_000)));
    assert_eq!((lines[0]["tier_reached"].clone(), lines[0]["rate_bp"].clone()), (json!(2), json!(200)));
    assert!(lines[0]["explanation"]["zh"].as_str().unwrap().contains("第 2 档"));
    assert!(lines[0]["explanation"]["en"].as_str().unwrap().contains("tier 2"));
    assert_eq!((lines[1]["source"].clone(), lines[1]["amount_minor"].clone()), (json!("contract_term"), json!(50_000)));
    assert_eq!(lines[1]["contract_id"], contract["id"]);
    assert_eq!(sa["total_minor"], 250_000, "the sum of the lines");
    assert_eq!(statements_of(&all, &b)[0]["total_minor"], 10_000);
    // Recalculating replaces drafts: still one per partner.
    app.post(&calc, json!({"from": "2026-01", "to": "2026-03"})).send().await;
    let all = app.get(&list_url).send().await;
    assert_eq!(all.items().len(), 2);
    let sa = statements_of(&all, &a)[0].clone();
    let surl = format!("/api/v1/incentive-statements/{}", pid(&sa));
    // Partners see their own statements once approved.
    let key_a = app.key(Role::Partner, Some(&a));
    app.get(&surl).key(&key_a).send().await.problem(404, "incentive_statement_not_found");
    app.post(&format!("{surl}/approve"), json!({})).key(&key_a).send().await.problem(404, "not_found");
    app.post(&format!("{surl}/approve"), json!({})).if_match("\"7\"").send().await.problem(412, "version_mismatch");
    let approved = app.post(&format!("{surl}/approve"), json!({})).send().await;
    assert_eq!(
        (approved.status, approved.body["status"].clone()),
        (StatusCode::OK, json!("approved")),
        "{}",
        approved.text
    );
    assert_eq!(approved.etag(), "\"2\"");
    assert_eq!(app.event_types().iter().filter(|e| *e == "incentive.statement_approved").count(), 1);
    app.post(&format!("{surl}/approve"), json!({})).send().await.problem(409, "invalid_status_transition");
    let mine = app.get("/api/v1/incentive-statements").key(&key_a).send().await;
    assert_eq!(mine.items().iter().map(pid).collect::<Vec<_>>(), [pid(&sa)]);
    // A late change to a month already approved: the approved statement stays, an adjustment
    // carries the difference.
    let res = app
        .patch(&format!("/api/v1/performance-records/{}", pid(&jan)), json!({"revenue_minor": 5_000_000}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app.post(&calc, json!({"from": "2026-01", "to": "2026-03"})).send().await;
    assert_eq!((res.body["drafts"].clone(), res.body["adjustments"].clone()), (json!(2), json!(1)), "{}", res.text);
    let kept = app.get(&surl).send().await;
    assert_eq!((kept.body["total_minor"].clone(), kept.body["version"].clone()), (json!(250_000), json!(2)));
    let adj = app.get(&format!("{list_url}&partner_id={a}&status=draft")).send().await;
    let adj = &adj.items()[0];
    assert_eq!(adj["kind"], "adjustment");
    let amounts: Vec<i64> =
        adj["lines"].as_array().unwrap().iter().map(|l| l["amount_minor"].as_i64().unwrap()).collect();
    assert_eq!(amounts, [220_000, 55_000, -250_000]);
    assert_eq!(adj["total_minor"], 25_000);
    assert_eq!(adj["lines"][2]["source"], "previously_approved");
    // Nothing changed since: the same adjustment draft is written again, not a second one.
    app.post(&calc, json!({"from": "2026-01", "to": "2026-03"})).send().await;
    assert_eq!(app.get(&format!("{list_url}&partner_id={a}")).send().await.items().len(), 2);
    // Paying writes the rebate as a cost record of the last month.
    app.post(&format!("{surl}/pay"), json!({}))
        .key(&app.key(Role::Viewer, None))
        .send()
        .await
        .problem(403, "forbidden");
    let paid = app.post(&format!("{surl}/pay"), json!({})).send().await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.text);
    let cost = app.get(&format!("/api/v1/cost-records/{}", paid.body["cost_record_id"].as_str().unwrap())).send().await;
    assert_eq!(
        (cost.body["category"].clone(), cost.body["amount_minor"].clone(), cost.body["period"].clone()),
        (json!("rebate"), json!(250_000), json!("2026-03"))
    );
    app.post(&format!("{surl}/pay"), json!({})).send().await.problem(409, "invalid_status_transition");
    let draft_b = statements_of(&app.get(&list_url).send().await, &b)[0].clone();
    let burl = format!("/api/v1/incentive-statements/{}", pid(&draft_b));
    app.post(&format!("{burl}/pay"), json!({})).send().await.problem(409, "invalid_status_transition");
    app.get(&burl).key(&key_a).send().await.problem(404, "incentive_statement_not_found");
    app.get(&format!("/api/v1/incentive-statements/{MISSING}"))
        .send()
        .await
        .problem(404, "incentive_statement_not_found");
    assert_eq!(app.get("/api/v1/incentive-statements?status=paid").send().await.items().len(), 1);
    app.get("/api/v1/incentive-statements?partner_id=x").send().await.problem(422, "validation_failed");
});

both!(calculation_refuses_what_it_cannot_compute, |app: TestApp| async move {
    let a = live_partner(&app, "甲", "key").await;
    record(&app, &a, "2026-01", 1_000_000).await;
    let draft = program(&app, rebate_body(json!({"all": true}), "draft")).await;
    let months = json!({"from": "2026-01", "to": "2026-03"});
    let calc = |p: &Value| format!("/api/v1/incentive-programs/{}/calculate", pid(p));
    app.post(&calc(&draft), months.clone()).send().await.problem(409, "incentive_program_not_calculable");
    let discount = program(&app, json!({"name": "折扣", "kind": "discount", "from": "2026-01", "to": "2026-03",
                                        "audience": {"all": true}, "rules": {"by_tier": {"key": 800}}, "status": "active"}))
    .await;
    app.post(&calc(&discount), months.clone()).send().await.problem(409, "incentive_program_not_calculable");
    app.post(&format!("/api/v1/incentive-programs/{MISSING}/calculate"), months.clone())
        .send()
        .await
        .problem(404, "incentive_program_not_found");
    let live = program(&app, rebate_body(json!({"all": true}), "active")).await;
    let res = app.post(&calc(&live), json!({"from": "2025-12", "to": "2026-04"})).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["from", "to"]);
    let res = app.post(&calc(&live), json!({"from": "2026-03", "to": "2026-01"})).send().await;
    assert_eq!(res.fields(), ["to"]);
    app.post(&calc(&live), months.clone()).key(&app.key(Role::Viewer, None)).send().await.problem(403, "forbidden");
    app.post(&calc(&live), months.clone()).anonymous().send().await.problem(401, "unauthorized");
    // Revenue in another currency than the program's is refused, naming the currency.
    let usd = json!({"partner_id": a, "period": "2026-02", "revenue_minor": 100, "currency": "USD"});
    assert_eq!(app.post("/api/v1/performance-records", usd).send().await.status, StatusCode::CREATED);
    let res = app.post(&calc(&live), months.clone()).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["currency"]);
    assert!(app.get("/api/v1/incentive-statements").send().await.items().is_empty(), "nothing was written");
    // An attainment rebate without an agreed target: a statement that says it is not eligible.
    let attain = json!({"name": "达成率返点", "kind": "rebate", "from": "2026-01", "to": "2026-03", "currency": "USD",
                        "audience": {"partner_ids": [a]}, "status": "active",
                        "rules": {"basis": "revenue", "measure": "attainment", "mode": "retroactive",
                                  "tiers": [{"threshold": 10000, "rate_bp": 300}]}});
    let attain = program(&app, attain).await;
    let res = app.post(&calc(&attain), months.clone()).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["currency"], "the CNY records clash with a USD program");
    let cny = json!({"name": "达成率返点", "kind": "rebate", "from": "2026-01", "to": "2026-03",
                     "audience": {"partner_ids": [a]}, "status": "active",
                     "rules": {"basis": "units", "measure": "attainment", "mode": "retroactive",
                               "tiers": [{"threshold": 10000, "rate_bp": 300}]}});
    let cny = program(&app, cny).await;
    let usd_id = app
        .get(&format!("/api/v1/performance-records?partner_id={a}&period_from=2026-02&period_to=2026-02"))
        .send()
        .await
        .items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/api/v1/performance-records/{usd_id}")).send().await.status,
        StatusCode::NO_CONTENT
    );
    let res = app.post(&calc(&cny), months).send().await;
    assert_eq!((res.body["drafts"].clone(), res.body["not_eligible"].clone()), (json!(1), json!(1)), "{}", res.text);
    let s = app.get(&format!("/api/v1/incentive-statements?program_id={}", pid(&cny))).send().await;
    let line = &s.items()[0]["lines"][0];
    assert_eq!((line["eligible"].clone(), line["amount_minor"].clone()), (json!(false), json!(0)));
    assert!(line["explanation"]["en"].as_str().unwrap().contains("not eligible"));
});

both!(the_best_discount_applies_and_says_why, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "甲", "key").await, live_partner(&app, "乙", "probation").await);
    let prog = program(
        &app,
        json!({"name": "2026 渠道折扣", "kind": "discount", "from": "2026-01", "to": "2026-12",
                                    "audience": {"all": true}, "rules": {"by_tier": {"key": 800, "strategic": 1500}},
                                    "status": "active"}),
    )
    .await;
    active_contract(
        &app,
        json!({"partner_id": a, "number": "HT-DIS-1", "effective_from": "2026-03-01", "effective_to": "2026-06-30"}),
        vec![term("discount", json!({"rate_bp": 1200}))],
    )
    .await;
    let res = app.get(&format!("/api/v1/partners/{a}/discount?on=2026-04-15")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        (res.body["rate_bp"].clone(), res.body["winner"]["source"].clone()),
        (json!(1200), json!("contract_term"))
    );
    assert_eq!(res.body["offers"].as_array().unwrap().len(), 2);
    assert!(res.body["explanation"]["en"].as_str().unwrap().contains("12.00%"));
    let res = app.get(&format!("/api/v1/partners/{a}/discount?on=2026-08-01")).send().await;
    assert_eq!(
        (res.body["rate_bp"].clone(), res.body["winner"]["program_id"].clone()),
        (json!(800), prog["id"].clone())
    );
    let res = app.get(&format!("/api/v1/partners/{b}/discount?on=2026-08-01")).send().await;
    assert_eq!(
        (res.body["rate_bp"].clone(), res.body["winner"].clone()),
        (json!(0), Value::Null),
        "no rate for its tier"
    );
    let res = app.get(&format!("/api/v1/partners/{a}/discount?on=2027-01-01")).send().await;
    assert_eq!(res.body["rate_bp"], 0, "the program has ended");
    app.get(&format!("/api/v1/partners/{a}/discount?on=2026-13-01")).send().await.problem(422, "validation_failed");
    app.get(&format!("/api/v1/partners/{a}/discount")).send().await.problem(422, "validation_failed");
    app.get(&format!("/api/v1/partners/{MISSING}/discount?on=2026-04-15"))
        .send()
        .await
        .problem(404, "partner_not_found");
    let key_a = app.key(Role::Partner, Some(&a));
    assert_eq!(
        app.get(&format!("/api/v1/partners/{a}/discount?on=2026-04-15")).key(&key_a).send().await.status,
        StatusCode::OK
    );
    app.get(&format!("/api/v1/partners/{b}/discount?on=2026-04-15"))
        .key(&key_a)
        .send()
        .await
        .problem(404, "partner_not_found");
});

both!(calculations_never_overlap_and_statements_come_as_csv, |app: TestApp| async move {
    let a = live_partner(&app, "甲", "key").await;
    record(&app, &a, "2026-02", 1_000_000).await;
    let mut body = rebate_body(json!({"all": true}), "active");
    body["to"] = json!("2026-06");
    let prog = program(&app, body).await;
    let calc = format!("/api/v1/incentive-programs/{}/calculate", pid(&prog));
    assert_eq!(app.post(&calc, json!({"from": "2026-01", "to": "2026-03"})).send().await.status, StatusCode::OK);
    // Overlapping months would pay February twice.
    let res = app.post(&calc, json!({"from": "2026-02", "to": "2026-04"})).send().await;
    res.problem(409, "incentive_window_overlaps");
    assert!(res.text.contains("2026-01–2026-03"), "{}", res.text);
    app.post(&calc, json!({"from": "2026-03", "to": "2026-03"})).send().await.problem(409, "incentive_window_overlaps");
    // The same months refresh; months apart are their own statements.
    assert_eq!(app.post(&calc, json!({"from": "2026-01", "to": "2026-03"})).send().await.status, StatusCode::OK);
    assert_eq!(app.post(&calc, json!({"from": "2026-04", "to": "2026-06"})).send().await.status, StatusCode::OK);
    let csv = app.get("/api/v1/incentive-statements?limit=1").header("accept", "text/csv").send().await;
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(csv.header("link").is_some_and(|l| l.contains("cursor=")), "the next page is linked");
    let mut rows = csv.text.lines();
    assert_eq!(
        rows.next(),
        Some("\u{feff}id,program_id,partner_id,kind,from,to,currency,total_minor,status,approved_at,paid_at,cost_record_id")
    );
    let row = rows.next().expect("a statement row");
    assert!(row.contains(&format!("{},{a},statement,", pid(&prog))) && row.contains(",CNY,"), "{row}");
    assert_eq!(rows.next(), None);
});

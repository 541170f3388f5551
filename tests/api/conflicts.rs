//! Conflict cases: opened by hand and worked to a resolution with a remedy, the comment timeline,
//! what a partner key may see of a case it is party to, the stats, and detection by the scan
//! (contract overlaps, account overlaps, territory intrusions), its fingerprints (not reopened
//! while open, a new linked case after resolution, a dismissed case standing) and two concurrent
//! scans opening one case.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::contracts::{active_contract, id, term};
use crate::helpers::TestApp;
use crate::room_messages::{last_event, rendered};

const MISSING: &str = "0192f0c4-3b9e-7c1a-8f00-000000000000";

fn case_body(parties: &[&str]) -> Value {
    json!({"kind": "price_undercut", "cause": "competitive_pressure", "severity": "high",
           "summary": "两家代理在同一项目上互相压价", "party_partner_ids": parties,
           "territories": ["上海"], "product_lines": ["服务器"]})
}

async fn opened(app: &TestApp, parties: &[&str]) -> Value {
    let res = app.post("/api/v1/conflicts", case_body(parties)).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

fn resolution(remedy: &str) -> Value {
    json!({"resolution": {"remedy": remedy, "notes": "按项目来源重新划分返点"}})
}

both!(a_case_is_opened_worked_and_resolved, |app: TestApp| async move {
    let (a, b) = (id(&app.partner("华东星辰").await), id(&app.partner("江南渠道").await));
    let res = app.post("/api/v1/conflicts", case_body(&[&a, &b])).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let case = id(&res.body);
    let url = format!("/api/v1/conflicts/{case}");
    assert_eq!(res.header("location").as_deref(), Some(url.as_str()));
    assert_eq!(res.etag(), "\"1\"");
    assert_eq!((res.body["status"].clone(), res.body["opened_by"].is_string()), (json!("open"), true));
    let names: Vec<&str> =
        res.body["parties"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"华东星辰") && names.contains(&"江南渠道"), "{names:?}");
    let message = rendered(&app, &last_event(&app, "conflict.opened"), None);
    assert!(message.title.contains("低价竞争") && message.lines.iter().any(|l| l.contains("华东星辰")), "{message:?}");

    // Validation and authorization.
    let res = app.post("/api/v1/conflicts", case_body(&[&a])).send().await;
    assert_eq!((res.status.as_u16(), res.fields()), (422, vec!["party_partner_ids".to_string()]), "one side only");
    let res = app.post("/api/v1/conflicts", case_body(&[&a, MISSING])).send().await;
    assert_eq!((res.status.as_u16(), res.fields()), (422, vec!["party_partner_ids[1]".to_string()]));
    let mut direct = case_body(&[&a]);
    direct["involves_direct"] = json!(true);
    assert_eq!(app.post("/api/v1/conflicts", direct).send().await.status, StatusCode::CREATED, "partner vs direct");
    let viewer = app.key(Role::Viewer, None);
    app.post("/api/v1/conflicts", case_body(&[&a, &b])).key(&viewer).send().await.problem(403, "forbidden");
    app.post("/api/v1/conflicts", case_body(&[&a, &b])).anonymous().send().await.problem(401, "unauthorized");
    let key_a = app.key(Role::Partner, Some(&a));
    app.post("/api/v1/conflicts", case_body(&[&a, &b])).key(&key_a).send().await.problem(404, "not_found");
    app.get(&format!("/api/v1/conflicts/{MISSING}")).send().await.problem(404, "conflict_not_found");
    assert_eq!(app.get(&url).key(&viewer).send().await.status, StatusCode::OK, "viewers read");

    // Edit, with If-Match.
    app.patch(&url, json!({"severity": "low"})).if_match("\"9\"").send().await.problem(412, "version_mismatch");
    let res =
        app.patch(&url, json!({"severity": "medium", "cause": "unfair_distribution"})).if_match("\"1\"").send().await;
    assert_eq!((res.status, res.body["severity"].clone()), (StatusCode::OK, json!("medium")), "{}", res.text);
    let res = app.patch(&url, json!({"party_partner_ids": [a]})).send().await;
    assert_eq!(res.fields(), ["party_partner_ids"]);

    // Moves.
    let res = app.post(&format!("{url}/investigate"), json!({})).send().await;
    assert_eq!(res.body["status"], "investigating", "{}", res.text);
    app.post(&format!("{url}/investigate"), json!({})).send().await.problem(409, "invalid_status_transition");
    let res = app.post(&format!("{url}/resolve"), json!({})).send().await;
    assert_eq!(res.status.as_u16(), 422, "the remedy is required: {}", res.text);
    let mut bad = resolution("adjust_distribution");
    bad["resolution"]["meeting_id"] = json!(MISSING);
    bad["resolution"]["incentive_program_id"] = json!(MISSING);
    let res = app.post(&format!("{url}/resolve"), bad).send().await;
    assert_eq!(res.fields(), ["resolution.incentive_program_id", "resolution.meeting_id"], "{}", res.text);
    app.post(&format!("{url}/resolve"), resolution("adjust_distribution"))
        .key(&viewer)
        .send()
        .await
        .problem(403, "forbidden");
    let res = app.post(&format!("{url}/resolve"), resolution("adjust_distribution")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        (res.body["status"].clone(), res.body["resolution"]["remedy"].clone(), res.body["resolved_at"].is_string()),
        (json!("resolved"), json!("adjust_distribution"), true)
    );
    let resolved = rendered(&app, &last_event(&app, "conflict.resolved"), None);
    assert!(resolved.lines.iter().any(|l| l.contains("调整利益分配")), "{resolved:?}");
    app.post(&format!("{url}/dismiss"), json!({"reason": "x"})).send().await.problem(409, "invalid_status_transition");
    app.patch(&url, json!({"severity": "low"})).send().await.problem(409, "invalid_status_transition");

    // Lists and stats.
    let res = app.get("/api/v1/conflicts?status=resolved").send().await;
    assert_eq!(res.items().iter().map(|c| c["id"].clone()).collect::<Vec<_>>(), [json!(case)]);
    let res = app.get(&format!("/api/v1/conflicts?partner_id={b}")).send().await;
    assert_eq!(res.items().len(), 1, "b is party to the first case only");
    let other = opened(&app, &[&a, &b]).await;
    let res = app.post(&format!("/api/v1/conflicts/{}/dismiss", id(&other)), json!({"reason": "误报"})).send().await;
    assert_eq!(res.body["status"], "dismissed", "{}", res.text);
    let res = app.get("/api/v1/conflicts/stats").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["total"], 3);
    assert_eq!(res.body["by_status"], json!({"open": 1, "resolved": 1, "dismissed": 1}));
    assert_eq!(res.body["by_remedy"], json!({"adjust_distribution": 1}));
    assert_eq!(res.body["by_cause"]["unfair_distribution"], 1);
    assert!(res.body["median_days_to_resolve"].as_f64().is_some_and(|d| (0.0..0.01).contains(&d)), "{}", res.text);
    let res = app.get("/api/v1/conflicts/stats?from=2000-01-01&to=2000-12-31").send().await;
    assert_eq!((res.body["total"].clone(), res.body["median_days_to_resolve"].clone()), (json!(0), Value::Null));
    let res = app.get("/api/v1/conflicts/stats?from=2026-02-01&to=2026-01-01").send().await;
    assert_eq!(res.fields(), ["to"]);
    app.get("/api/v1/conflicts/stats").key(&key_a).send().await.problem(404, "not_found");
});

both!(a_party_sees_its_case_redacted_and_comments_in_public, |app: TestApp| async move {
    let (a, b, c) =
        (id(&app.partner("华东星辰").await), id(&app.partner("江南渠道").await), id(&app.partner("西南远航").await));
    let case = id(&opened(&app, &[&a, &b]).await);
    let url = format!("/api/v1/conflicts/{case}");
    let (key_a, key_c) = (app.key(Role::Partner, Some(&a)), app.key(Role::Partner, Some(&c)));
    let res = app.get(&url).key(&key_a).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["party_partner_ids"], json!([a]));
    assert!(!res.text.contains(&b) && !res.text.contains("江南渠道"), "nothing about the other party: {}", res.text);
    assert!(res.text.contains("another partner"), "{}", res.text);
    app.get(&url).key(&key_c).send().await.problem(404, "conflict_not_found");
    assert!(app.get("/api/v1/conflicts").key(&key_c).send().await.items().is_empty());
    assert_eq!(app.get("/api/v1/conflicts").key(&key_a).send().await.items().len(), 1);
    app.patch(&url, json!({"severity": "low"})).key(&key_a).send().await.problem(404, "not_found");
    app.post(&format!("{url}/investigate"), json!({})).key(&key_a).send().await.problem(404, "not_found");

    // The timeline: staff write internal notes; partners write and read public comments only.
    let comments = format!("{url}/comments");
    let res = app.post(&comments, json!({"body": "先核实两家的项目来源", "internal": true})).send().await;
    assert_eq!((res.status, res.body["internal"].clone()), (StatusCode::CREATED, json!(true)), "{}", res.text);
    let res = app.post(&comments, json!({"body": "该客户由我方首先拜访"})).key(&key_a).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["author_partner_id"], json!(a));
    app.post(&comments, json!({"body": "x", "internal": true})).key(&key_a).send().await.problem(403, "forbidden");
    app.post(&comments, json!({"body": "x"})).key(&key_c).send().await.problem(404, "conflict_not_found");
    app.post(&comments, json!({"body": "x"})).key(&app.key(Role::Viewer, None)).send().await.problem(403, "forbidden");
    let res = app.post(&comments, json!({"body": "  "})).send().await;
    assert_eq!(res.fields(), ["body"]);
    let staff = app.get(&comments).send().await;
    assert_eq!(staff.items().len(), 2);
    let partner = app.get(&comments).key(&key_a).send().await;
    assert_eq!(partner.items().len(), 1, "internal comments are hidden: {}", partner.text);
    assert_eq!(partner.items()[0]["body"], "该客户由我方首先拜访");
    app.get(&comments).key(&key_c).send().await.problem(404, "conflict_not_found");

    // Messages: a party's chat sees the redacted case; another partner's chat is never shown it.
    let event = app
        .with_conn(|conn| channeldesk::events::since(conn, None, 10_000).expect("events"))
        .into_iter()
        .find(|e| e.event_type == "conflict.opened")
        .expect("conflict.opened");
    let seen = rendered(&app, &event, Some(&a));
    assert!(seen.lines.iter().any(|l| l.contains("华东星辰") && l.contains("another partner")), "{seen:?}");
    assert!(!seen.lines.iter().any(|l| l.contains("江南渠道")), "{seen:?}");
    let other = app.with_conn(|conn| channeldesk::notify::render::render(conn, &event, Some(&c)));
    assert!(other.is_err(), "{other:?}");
});

fn excl(territories: &[&str], lines: &[&str]) -> Value {
    term("exclusivity", json!({"territories": territories, "product_lines": lines}))
}

async fn exclusive(app: &TestApp, partner: &str, number: &str, territories: &[&str], lines: &[&str]) -> Value {
    active_contract(
        app,
        json!({"partner_id": partner, "number": number, "effective_from": "2026-01-01", "effective_to": "2099-12-31"}),
        vec![excl(territories, lines)],
    )
    .await
}

async fn scan(app: &TestApp) -> Value {
    let res = app.post("/api/v1/conflicts/scan", json!({})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body
}

async fn cases_of_kind(app: &TestApp, kind: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/conflicts?kind={kind}&limit=100")).send().await.items().clone()
}

both!(the_scan_opens_a_case_per_condition_once, |app: TestApp| async move {
    let (a, b) = (id(&app.partner("华东星辰").await), id(&app.partner("江南渠道").await));
    exclusive(&app, &a, "HT-A", &["上海"], &["服务器"]).await;
    exclusive(&app, &b, "HT-B", &["上海"], &["服务器"]).await;
    let report = scan(&app).await;
    assert_eq!((report["opened"].clone(), report["already_open"].clone()), (json!(1), json!(0)), "{report}");
    let cases = cases_of_kind(&app, "territory_overlap").await;
    assert_eq!(cases.len(), 1);
    let first = &cases[0];
    assert_eq!((first["cause"].clone(), first["severity"].clone()), (json!("unclear_roles"), json!("high")));
    let mut parties = vec![a.clone(), b.clone()];
    parties.sort();
    assert_eq!(first["party_partner_ids"], json!(parties));
    assert_eq!((first["territories"].clone(), first["product_lines"].clone()), (json!(["上海"]), json!(["服务器"])));
    assert_eq!(first["links"][0]["kind"], "contract_risk", "the case links the contract risk: {first}");
    assert_eq!(first["opened_by"], "test-admin", "the key that ran the scan");

    // While open, the condition is not opened twice.
    let again = scan(&app).await;
    assert_eq!((again["opened"].clone(), again["already_open"].clone()), (json!(0), json!(1)), "{again}");
    assert_eq!(cases_of_kind(&app, "territory_overlap").await.len(), 1);
    // Once resolved, a condition still there is a new case that links the old one.
    let url = format!("/api/v1/conflicts/{}", id(first));
    let res = app.post(&format!("{url}/resolve"), resolution("clarify_roles")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(scan(&app).await["opened"], 1);
    let cases = cases_of_kind(&app, "territory_overlap").await;
    assert_eq!(cases.len(), 2);
    let newest = &cases[0];
    assert_eq!(newest["previous_conflict_id"], first["id"]);
    assert!(newest["links"].as_array().unwrap().iter().any(|l| l["kind"] == "conflict" && l["ref_id"] == first["id"]));
    // A dismissed case stands while its condition lasts.
    let res = app
        .post(
            &format!("/api/v1/conflicts/{}/dismiss", id(newest)),
            json!({"reason": "两家合同的独家条款已协商，暂不处理"}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let report = scan(&app).await;
    assert_eq!((report["opened"].clone(), report["suppressed"].clone()), (json!(0), json!(1)), "{report}");
    // Partner keys and viewers do not scan.
    app.post("/api/v1/conflicts/scan", json!({}))
        .key(&app.key(Role::Viewer, None))
        .send()
        .await
        .problem(403, "forbidden");
    app.post("/api/v1/conflicts/scan", json!({}))
        .key(&app.key(Role::Partner, Some(&a)))
        .send()
        .await
        .problem(404, "not_found");
});

both!(the_scan_finds_account_overlaps_and_territory_intrusions, |app: TestApp| async move {
    let a = id(&app.partner("华东星辰").await);
    let b = id(&app.partner("江南渠道").await);
    let direct =
        id(&app.partner_with(json!({"name": "华东直销部", "channel_type": "direct", "kind": "sales_team"})).await);
    let account = id(&app.key_account("上海申能集团").await);
    let assignments = format!("/api/v1/key-accounts/{account}/assignments");
    for (partner, role) in [(&a, "support"), (&b, "referral")] {
        let body = json!({"partner_id": partner, "role": role, "product_lines": ["储能", "光伏"]});
        let res = app.post(&assignments, body).send().await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    // The direct channel works 苏州, which `a` holds exclusively.
    let res = app.patch(&format!("/api/v1/partners/{direct}"), json!({"territories": ["苏州"]})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    exclusive(&app, &a, "HT-A", &["苏州"], &["储能"]).await;
    let report = scan(&app).await;
    assert_eq!(report["opened"], 3, "two lines without a lead, one intrusion: {report}");
    let overlaps = cases_of_kind(&app, "account_overlap").await;
    assert_eq!(overlaps.len(), 2);
    assert!(overlaps.iter().all(|c| c["key_account_id"] == json!(account) && c["cause"] == "unclear_roles"));
    let intrusion = cases_of_kind(&app, "territory_overlap").await;
    assert_eq!(intrusion.len(), 1);
    assert_eq!(
        (intrusion[0]["involves_direct"].clone(), intrusion[0]["territories"].clone()),
        (json!(true), json!(["苏州"]))
    );

    // Naming a primary for 储能 says who leads: that condition is gone, and after the case is
    // resolved nothing reopens it.
    let c = id(&app.partner("西南远航").await);
    let body = json!({"partner_id": c, "role": "primary", "product_lines": ["储能"]});
    assert_eq!(app.post(&assignments, body).send().await.status, StatusCode::CREATED);
    let storage = overlaps.iter().find(|o| o["product_lines"] == json!(["储能"])).expect("储能 case");
    let res = app.post(&format!("/api/v1/conflicts/{}/resolve", id(storage)), resolution("clarify_roles")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let report = scan(&app).await;
    assert_eq!((report["opened"].clone(), report["already_open"].clone()), (json!(0), json!(2)), "{report}");
});

both!(two_concurrent_scans_open_one_case, |app: TestApp| async move {
    let (a, b) = (id(&app.partner("华东星辰").await), id(&app.partner("江南渠道").await));
    exclusive(&app, &a, "HT-A", &["上海"], &["服务器"]).await;
    exclusive(&app, &b, "HT-B", &["上海"], &["服务器"]).await;
    let (r1, r2) = tokio::join!(
        app.post("/api/v1/conflicts/scan", json!({})).send(),
        app.post("/api/v1/conflicts/scan", json!({})).send()
    );
    assert_eq!((r1.status, r2.status), (StatusCode::OK, StatusCode::OK), "{} {}", r1.text, r2.text);
    assert_eq!(r1.body["opened"].as_i64().unwrap() + r2.body["opened"].as_i64().unwrap(), 1);
    assert_eq!(cases_of_kind(&app, "territory_overlap").await.len(), 1);
});

both!(a_deal_clash_opens_one_case_that_the_scan_refinds, |app: TestApp| async move {
    let (a, b) = (id(&app.partner("华东星辰").await), id(&app.partner("江南渠道").await));
    let deal = |partner: &str, name: &str| {
        json!({"partner_id": partner, "prospect": {"name": name, "region": "华东"}, "product_lines": ["储能"],
               "estimated_value_minor": 1_000_000, "currency": "CNY", "expected_close_on": "2026-12-31"})
    };
    let first = app.post("/api/v1/deal-registrations", deal(&a, "杭州西湖储能科技有限公司")).send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = app.post("/api/v1/deal-registrations", deal(&b, "杭州西湖储能科技")).send().await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.body["conflicts_with"], json!([id(&first.body)]), "{}", second.text);
    let cases = cases_of_kind(&app, "deal_clash").await;
    assert_eq!(cases.len(), 1);
    let links: Vec<Value> = cases[0]["links"].as_array().unwrap().iter().map(|l| l["ref_id"].clone()).collect();
    assert!(links.contains(&first.body["id"]) && links.contains(&second.body["id"]), "{}", cases[0]);
    // The scan finds the same clash and joins its case.
    let report = scan(&app).await;
    assert_eq!((report["opened"].clone(), report["already_open"].clone()), (json!(0), json!(1)), "{report}");
    assert_eq!(cases_of_kind(&app, "deal_clash").await.len(), 1);
});

//! Risk warnings computed from contracts and terms, and the scan that announces them once.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use channeldesk::contracts::risks::{business_date, scan};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::contracts::{active_contract, add_term, draft_with, id, term};
use crate::helpers::TestApp;

fn in_days(n: i64) -> String {
    (business_date(Utc::now()) + Duration::days(n)).to_string()
}

async fn risks_of(app: &TestApp, contract_id: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/contracts/{contract_id}/risks")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.items().clone()
}

fn codes(risks: &[Value]) -> Vec<String> {
    risks.iter().map(|r| r["code"].as_str().unwrap().to_string()).collect()
}

fn excl(territories: &[&str], lines: &[&str]) -> Value {
    term("exclusivity", json!({"territories": territories, "product_lines": lines}))
}

fn territory(territories: &[&str], lines: &[&str]) -> Value {
    term("territory", json!({"territories": territories, "product_lines": lines}))
}

/// A long-running contract (far from expiry) with the required terms and `extra`.
async fn healthy(app: &TestApp, partner: &Value, number: &str, extra: Vec<Value>) -> Value {
    active_contract(
        app,
        json!({"partner_id": partner["id"], "number": number, "effective_from": "2026-01-01", "effective_to": in_days(365)}),
        extra,
    )
    .await
}

both!(missing_required_terms_positive_and_negative, |app: TestApp| async move {
    let p = app.partner("P").await;
    let complete = healthy(&app, &p, "HT-OK", vec![]).await;
    assert!(risks_of(&app, &id(&complete)).await.is_empty(), "all four required kinds present");
    let bare =
        draft_with(&app, json!({"partner_id": p["id"], "number": "HT-BARE", "effective_to": in_days(365)})).await;
    let bid = id(&bare);
    add_term(&app, &bid, term("rights", json!({}))).await;
    add_term(&app, &bid, term("obligations", json!({}))).await;
    assert!(risks_of(&app, &bid).await.is_empty(), "drafts have no warnings");
    crate::contracts::activate(&app, &bid).await;
    let risks = risks_of(&app, &bid).await;
    assert_eq!(codes(&risks), ["missing_required_terms"]);
    assert_eq!(risks[0]["evidence"]["missing"], json!(["breach_liability", "dispute_resolution"]));
    assert_eq!(risks[0]["severity"], "high");
    assert_eq!(risks[0]["partner_id"], p["id"]);
    assert_eq!(risks[0]["contract_id"], bid.as_str());
    assert_eq!(risks[0]["contract_number"], "HT-BARE");
    assert!(risks[0]["message"].as_str().unwrap().contains("违约责任"), "{}", risks[0]);
    // Fixed by amendment: the warning goes away.
    app.post(
        &format!("/api/v1/contracts/{bid}/amendments"),
        json!({"reason": "补齐条款", "changes": [
            {"op": "add", "term": term("breach_liability", json!({}))},
            {"op": "add", "term": term("dispute_resolution", json!({"method": "litigation", "venue": "杭州"}))}]}),
    )
    .send()
    .await;
    assert!(risks_of(&app, &bid).await.is_empty());
});

both!(expiring_and_expired_but_active, |app: TestApp| async move {
    let p = app.partner("P").await;
    let pid = p["id"].clone();
    let far = healthy(&app, &p, "HT-FAR", vec![]).await;
    assert!(risks_of(&app, &id(&far)).await.is_empty());
    let soon =
        active_contract(&app, json!({"partner_id": pid, "number": "HT-SOON", "effective_to": in_days(10)}), vec![])
            .await;
    let risks = risks_of(&app, &id(&soon)).await;
    assert_eq!(codes(&risks), ["expiring"]);
    assert_eq!(risks[0]["evidence"]["days_left"], 10);
    assert_eq!(risks[0]["severity"], "medium");
    // Outside a shorter notice window: no warning.
    let later = active_contract(
        &app,
        json!({"partner_id": pid, "number": "HT-LATER", "effective_to": in_days(10), "renewal_notice_days": 7}),
        vec![],
    )
    .await;
    assert!(risks_of(&app, &id(&later)).await.is_empty());
    // A successor settles it.
    app.post(&format!("/api/v1/contracts/{}/renew", id(&soon)), json!({"number": "HT-SOON-2"})).send().await;
    assert!(risks_of(&app, &id(&soon)).await.is_empty());
    // Past its last day but still active.
    let overdue = active_contract(
        &app,
        json!({"partner_id": pid, "number": "HT-OVERDUE", "effective_from": "2025-01-01", "effective_to": in_days(-3)}),
        vec![],
    )
    .await;
    let risks = risks_of(&app, &id(&overdue)).await;
    assert_eq!(codes(&risks), ["expired_but_active"]);
    assert_eq!(risks[0]["evidence"]["days_overdue"], 3);
    let res = app.patch(&format!("/api/v1/contracts/{}", id(&overdue)), json!({"status": "expired"})).send().await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(risks_of(&app, &id(&overdue)).await.is_empty(), "marked expired: settled");
});

both!(exclusivity_overlap_between_partners, |app: TestApp| async move {
    let p = app.partner("华东星辰").await;
    let q = app.partner("江南渠道").await;
    let a = healthy(&app, &p, "HT-A", vec![excl(&["上海", "苏州"], &["服务器", "存储"])]).await;
    let b = healthy(&app, &q, "HT-B", vec![excl(&["上海"], &["服务器"])]).await;
    let ra = risks_of(&app, &id(&a)).await;
    assert_eq!(codes(&ra), ["exclusivity_overlap"]);
    assert_eq!(ra[0]["severity"], "critical");
    let ev = &ra[0]["evidence"];
    assert_eq!(ev["territories"], json!(["上海"]));
    assert_eq!(ev["product_lines"], json!(["服务器"]));
    assert_eq!(ev["other"]["contract_id"], b["id"]);
    assert_eq!(ev["other"]["partner_name"], "江南渠道");
    let rb = risks_of(&app, &id(&b)).await;
    assert_eq!(rb[0]["evidence"]["other"]["contract_id"], a["id"], "seen from both sides");
    // The partner sees its warning but not who the other partner is.
    let pkey = app.key(Role::Partner, p["id"].as_str());
    let own = app.get(&format!("/api/v1/contracts/{}/risks", id(&a))).key(&pkey).send().await;
    assert_eq!(codes(own.items()), ["exclusivity_overlap"]);
    assert!(own.items()[0]["evidence"].get("other").is_none());
    assert!(!own.items()[0]["message"].as_str().unwrap().contains("江南渠道"), "{}", own.text);

    // Negatives: the same partner twice, another product line, another territory, a draft.
    let p2 = healthy(&app, &p, "HT-A2", vec![excl(&["上海"], &["服务器"])]).await;
    assert_eq!(codes(&risks_of(&app, &id(&p2)).await), ["exclusivity_overlap"], "only against HT-B");
    let r = app.partner("R").await;
    let line = healthy(&app, &r, "HT-LINE", vec![excl(&["上海"], &["网络"])]).await;
    assert!(risks_of(&app, &id(&line)).await.is_empty());
    let place = healthy(&app, &r, "HT-PLACE", vec![excl(&["杭州"], &["服务器"])]).await;
    assert!(risks_of(&app, &id(&place)).await.is_empty());
    let d = draft_with(&app, json!({"partner_id": r["id"], "number": "HT-DRAFT"})).await;
    add_term(&app, &id(&d), excl(&["苏州"], &["存储"])).await;
    assert_eq!(risks_of(&app, &id(&a)).await.len(), 1, "a draft's exclusivity is not yet a conflict");
});

both!(territory_conflict_with_another_partners_territory, |app: TestApp| async move {
    let p = app.partner("P").await;
    let q = app.partner("Q").await;
    let a = healthy(&app, &p, "HT-A", vec![excl(&["上海"], &["服务器"])]).await;
    let b = healthy(&app, &q, "HT-B", vec![territory(&["上海", "杭州"], &[])]).await;
    let ra = risks_of(&app, &id(&a)).await;
    assert_eq!(codes(&ra), ["territory_conflict"]);
    assert_eq!(ra[0]["severity"], "high");
    assert_eq!(ra[0]["evidence"]["overlaps"], json!([{"territory": "上海", "product_line": "服务器"}]));
    let rb = risks_of(&app, &id(&b)).await;
    assert_eq!(codes(&rb), ["territory_conflict"]);
    assert_eq!(rb[0]["evidence"]["other"]["contract_number"], "HT-A");
    // Negatives: a territory term for another product line, or elsewhere, or the partner's own.
    let r = app.partner("R").await;
    let other_line = healthy(&app, &r, "HT-C", vec![territory(&["上海"], &["网络"])]).await;
    assert!(risks_of(&app, &id(&other_line)).await.is_empty());
    let elsewhere = healthy(&app, &r, "HT-D", vec![territory(&["广州"], &[])]).await;
    assert!(risks_of(&app, &id(&elsewhere)).await.is_empty());
    let own = healthy(&app, &p, "HT-E", vec![territory(&["上海"], &["服务器"])]).await;
    assert!(risks_of(&app, &id(&own)).await.is_empty());
    // Terminating B clears A's warning.
    app.patch(&format!("/api/v1/contracts/{}", id(&b)), json!({"status": "terminated"})).send().await;
    assert!(risks_of(&app, &id(&a)).await.is_empty());
});

both!(risk_list_filters_and_scoping, |app: TestApp| async move {
    let p = app.partner("P").await;
    let q = app.partner("Q").await;
    healthy(&app, &p, "HT-A", vec![excl(&["上海"], &["服务器"])]).await;
    healthy(&app, &q, "HT-B", vec![excl(&["上海"], &["服务器"])]).await;
    active_contract(&app, json!({"partner_id": q["id"], "number": "HT-SOON", "effective_to": in_days(3)}), vec![])
        .await;
    let all = app.get("/api/v1/risks").send().await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(codes(all.items()), ["exclusivity_overlap", "exclusivity_overlap", "expiring"], "most severe first");
    assert_eq!(all.items()[2]["severity"], "high", "three days left");
    assert_eq!(codes(app.get("/api/v1/risks?code=expiring").send().await.items()), ["expiring"]);
    assert_eq!(app.get("/api/v1/risks?severity=critical").send().await.items().len(), 2);
    assert!(app.get("/api/v1/risks?severity=low").send().await.items().is_empty());
    let for_q = app.get(&format!("/api/v1/risks?partner_id={}", q["id"].as_str().unwrap())).send().await;
    assert_eq!(codes(for_q.items()), ["exclusivity_overlap", "expiring"]);
    let page1 = app.get("/api/v1/risks?limit=2").send().await;
    assert_eq!(page1.items().len(), 2);
    let cursor = page1.body["next_cursor"].as_str().unwrap().to_string();
    let page2 = app.get(&format!("/api/v1/risks?limit=2&cursor={cursor}")).send().await;
    assert_eq!(codes(page2.items()), ["expiring"]);
    assert_eq!(page2.body["next_cursor"], Value::Null);
    for (query, field) in [("code=bad", "code"), ("severity=extreme", "severity"), ("partner_id=x", "partner_id")] {
        let res = app.get(&format!("/api/v1/risks?{query}")).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field]);
    }
    let pkey = app.key(Role::Partner, p["id"].as_str());
    let mine = app.get("/api/v1/risks").key(&pkey).send().await;
    assert_eq!(codes(mine.items()), ["exclusivity_overlap"]);
    assert!(mine.items()[0]["evidence"].get("other").is_none());
    let asked = app.get(&format!("/api/v1/risks?partner_id={}", q["id"].as_str().unwrap())).key(&pkey).send().await;
    assert!(asked.items().is_empty(), "another partner's risks stay hidden");
});

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

fn scan_events(app: &TestApp) -> Vec<channeldesk::events::Event> {
    app.with_conn(|c| channeldesk::events::since(c, None, 10_000).unwrap())
        .into_iter()
        .filter(|e| e.event_type == "risk.raised" || e.event_type == "contract.expiring")
        .collect()
}

async fn run_scan(app: &TestApp, now: DateTime<Utc>) -> usize {
    let job = scan::job(&channeldesk::config::Config::for_tests(channeldesk::db::DbUrl::Sqlite("unused".into())));
    channeldesk::jobs::run_once(&app.db, job, now).await.expect("scan")
}

both!(scan_announces_each_risk_once_and_again_after_it_clears, |app: TestApp| async move {
    let p = app.partner("华东星辰").await;
    let q = app.partner("江南渠道").await;
    let expiring = active_contract(
        &app,
        json!({"partner_id": p["id"], "number": "HT-EXP", "effective_from": "2026-01-01", "effective_to": "2026-12-31"}),
        vec![],
    )
    .await;
    let a = active_contract(
        &app,
        json!({"partner_id": p["id"], "number": "HT-A", "effective_from": "2026-01-01", "effective_to": "2030-12-31"}),
        vec![excl(&["上海"], &["服务器"])],
    )
    .await;
    let b = active_contract(
        &app,
        json!({"partner_id": q["id"], "number": "HT-B", "effective_from": "2026-01-01", "effective_to": "2030-12-31"}),
        vec![excl(&["上海"], &["服务器"])],
    )
    .await;

    // Mid-year: only the overlap (announced once, with both partners).
    assert_eq!(run_scan(&app, at("2026-06-01T02:00:00Z")).await, 1);
    let events = scan_events(&app);
    assert_eq!(events.len(), 1);
    let raised = &events[0];
    assert_eq!(raised.event_type, "risk.raised");
    assert_eq!(raised.payload["risk"]["code"], "exclusivity_overlap");
    assert_eq!(raised.payload["partner_ids"], json!([p["id"], q["id"]]));
    assert_eq!(raised.payload["risks"].as_array().unwrap().len(), 2);
    let numbers: Vec<&str> =
        raised.payload["contracts"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["HT-A", "HT-B"]);
    assert_eq!(raised.partner_id.as_deref(), p["id"].as_str());
    assert_eq!(run_scan(&app, at("2026-06-02T02:00:00Z")).await, 0, "already announced");

    // December: the expiring contract too, as contract.expiring with its dates.
    assert_eq!(run_scan(&app, at("2026-12-10T02:00:00Z")).await, 1);
    let events = scan_events(&app);
    let exp = events.iter().find(|e| e.event_type == "contract.expiring").expect("contract.expiring");
    assert_eq!(exp.payload["contract"]["id"], expiring["id"]);
    assert_eq!(exp.payload["days_left"], 21);
    assert_eq!(exp.payload["partner_name"], "华东星辰");
    assert_eq!(exp.payload["effective_to"], "2026-12-31");
    assert_eq!(exp.resource_id, id(&expiring));

    // The overlap clears (B terminated): its key is released.
    app.patch(&format!("/api/v1/contracts/{}", id(&b)), json!({"status": "terminated"})).send().await;
    assert_eq!(run_scan(&app, at("2026-12-11T02:00:00Z")).await, 1, "one risk cleared");
    assert_eq!(scan_events(&app).len(), 2);
    // The same risk raised, cleared and raised again is announced twice.
    let rights = app.get(&format!("/api/v1/contracts/{}/terms", id(&a))).send().await.items()[0].clone();
    assert_eq!(rights["kind"], "rights");
    let amend = |changes: Value| {
        let url = format!("/api/v1/contracts/{}/amendments", id(&a));
        let app = &app;
        async move {
            let res = app.post(&url, json!({"reason": "调整", "changes": changes})).send().await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
            res.body["changes"][0]["term_id"].as_str().unwrap_or_default().to_string()
        }
    };
    amend(json!([{"op": "remove", "term_id": rights["id"]}])).await;
    assert_eq!(run_scan(&app, at("2026-12-12T02:00:00Z")).await, 1);
    let new_rights = amend(json!([{"op": "add", "term": term("rights", json!({}))}])).await;
    assert_eq!(run_scan(&app, at("2026-12-13T02:00:00Z")).await, 1, "cleared");
    amend(json!([{"op": "remove", "term_id": new_rights}])).await;
    assert_eq!(run_scan(&app, at("2026-12-14T02:00:00Z")).await, 1, "back: a new risk");
    let missing: Vec<_> =
        scan_events(&app).into_iter().filter(|e| e.payload["risk"]["code"] == "missing_required_terms").collect();
    assert_eq!(missing.len(), 2);
    assert_eq!(missing[1].payload["risk"]["evidence"]["missing"], json!(["rights"]));
    assert_eq!(missing[1].payload["contracts"][0]["number"], "HT-A");
    // Expired but still active on 2027-01-02: expiring clears, expired_but_active is raised.
    assert_eq!(run_scan(&app, at("2027-01-02T02:00:00Z")).await, 2);
    let events = scan_events(&app);
    assert_eq!(events.last().unwrap().payload["risk"]["code"], "expired_but_active");
    assert_eq!(events.last().unwrap().payload["risk"]["contract_number"], "HT-EXP");
});

both!(concurrent_scans_announce_exactly_once, |app: TestApp| async move {
    let p = app.partner("P").await;
    let q = app.partner("Q").await;
    for (partner, number) in [(&p, "HT-1"), (&q, "HT-2"), (&q, "HT-3")] {
        active_contract(
            &app,
            json!({"partner_id": partner["id"], "number": number, "effective_from": "2026-01-01", "effective_to": "2026-12-31"}),
            vec![excl(&["上海"], &["服务器"])],
        )
        .await;
    }
    let bare = draft_with(&app, json!({"partner_id": p["id"], "number": "HT-BARE"})).await;
    crate::contracts::activate(&app, &id(&bare)).await;
    // Expected: HT-1×HT-2 and HT-1×HT-3 overlaps (HT-2 and HT-3 share a partner), four expiring
    // contracts, one contract lacking required terms.
    let now = at("2026-12-20T02:00:00Z");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let db = app.db.clone();
            std::thread::spawn(move || db.write_blocking(|conn| scan::run(conn, now)).expect("scan"))
        })
        .collect();
    let announced: usize = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    let events = scan_events(&app);
    assert_eq!(announced, 7);
    assert_eq!(events.len(), 7, "{:?}", events.iter().map(|e| &e.payload["risk"]["code"]).collect::<Vec<_>>());
    assert_eq!(events.iter().filter(|e| e.event_type == "contract.expiring").count(), 4);
    assert_eq!(run_scan(&app, now).await, 0);
});

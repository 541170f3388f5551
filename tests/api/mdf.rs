//! Marketing support (MDF): requests from submission to payment (partner keys on their own,
//! managers deciding), the budgets they draw on (fixed and rate-of-revenue allocations, CSV),
//! `budget_exceeded` including two concurrent approvals, the claim deadline, and the messages
//! the two MDF events become.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;
use crate::incentives::{live_partner, program, rebate_body};
use crate::performance::{pid, record};
use crate::room_messages::{last_event, rendered};

const MISSING: &str = "0192f0c4-3b9e-7c1a-8f00-000000000000";

fn mdf_program(audience: Value, budget: Value, claim_deadline: &str) -> Value {
    json!({"name": "2026 市场推广支持", "kind": "marketing_support", "from": "2026-01", "to": "2026-12",
           "audience": audience, "status": "active",
           "rules": {"budget": budget, "claim_deadline": claim_deadline}})
}

fn request_body(program: &Value, partner: Option<&str>, amount: i64) -> Value {
    let mut body = json!({"program_id": pid(program), "activity": "seminar", "title": "杭州储能研讨会",
                          "planned_on": "2026-05-20", "amount_minor": amount});
    if let Some(p) = partner {
        body["partner_id"] = json!(p);
    }
    body
}

async fn submitted(app: &TestApp, program: &Value, partner: &str, amount: i64) -> String {
    let res = app.post("/api/v1/mdf-requests", request_body(program, Some(partner), amount)).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    pid(&res.body)
}

fn budget_of(res: &crate::helpers::Res, partner: &str) -> Value {
    res.items().iter().find(|b| b["partner_id"] == partner).cloned().unwrap_or_else(|| panic!("{}", res.text))
}

fn proof() -> Value {
    json!(["https://files.example.cn/mdf/invoice-001.pdf"])
}

both!(a_request_goes_from_submission_to_payment, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "西南远航", "key").await);
    let prog =
        program(&app, mdf_program(json!({"partner_ids": [a, b]}), json!({"fixed_minor": 5_000_000}), "2099-12-31"))
            .await;
    let key_a = app.key(Role::Partner, Some(&a));
    // A partner key submits for its own partner, naming it or not; never for another.
    let res = app.post("/api/v1/mdf-requests", request_body(&prog, None, 2_000_000)).key(&key_a).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = pid(&res.body);
    let url = format!("/api/v1/mdf-requests/{id}");
    assert_eq!(res.header("location").as_deref(), Some(url.as_str()));
    assert_eq!(
        (res.body["status"].clone(), res.body["partner_id"].clone(), res.body["currency"].clone()),
        (json!("submitted"), json!(a), json!("CNY"))
    );
    app.post("/api/v1/mdf-requests", request_body(&prog, Some(&b), 1))
        .key(&key_a)
        .send()
        .await
        .problem(403, "forbidden");
    let res = app.post("/api/v1/mdf-requests", request_body(&prog, None, 1)).send().await;
    assert_eq!((res.status.as_u16(), res.fields()), (422, vec!["partner_id".to_string()]), "staff name the partner");
    let submitted_event = last_event(&app, "mdf.request_submitted");
    let message = rendered(&app, &submitted_event, Some(&a));
    assert!(message.title.contains("市场推广支持申请待审批") && message.title.contains("华东星辰"), "{message:?}");
    assert!(message.lines.iter().any(|l| l.contains("CNY 20,000.00")), "{message:?}");
    let other = app.with_conn(|c| channeldesk::notify::render::render(c, &submitted_event, Some(&b)));
    assert!(other.is_err(), "another partner's chat is never shown the request: {other:?}");

    // Only staff decide; approving commits the amount.
    // A partner key is not told that staff-only moves exist.
    app.post(&format!("{url}/approve"), json!({})).key(&key_a).send().await.problem(404, "not_found");
    app.post(&format!("{url}/approve"), json!({}))
        .key(&app.key(Role::Viewer, None))
        .send()
        .await
        .problem(403, "forbidden");
    app.post(&format!("{url}/approve"), json!({})).if_match("\"7\"").send().await.problem(412, "version_mismatch");
    let res = app.post(&format!("{url}/approve"), json!({})).if_match("\"1\"").send().await;
    assert_eq!((res.status, res.body["status"].clone()), (StatusCode::OK, json!("approved")), "{}", res.text);
    assert_eq!(res.etag(), "\"2\"");
    let decided = rendered(&app, &last_event(&app, "mdf.request_decided"), Some(&a));
    assert!(decided.title.contains("已批准"), "{decided:?}");
    app.post(&format!("{url}/approve"), json!({})).send().await.problem(409, "invalid_status_transition");
    let budgets = format!("/api/v1/incentive-programs/{}/budgets", pid(&prog));
    let res = app.get(&budgets).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.items().len(), 2, "every addressed partner has a budget");
    let mine = budget_of(&res, &a);
    assert_eq!(
        [&mine["allocated"], &mine["committed"], &mine["claimed"], &mine["paid"], &mine["remaining"]],
        [&json!(5_000_000), &json!(2_000_000), &json!(0), &json!(0), &json!(3_000_000)]
    );
    assert_eq!(budget_of(&res, &b)["remaining"], 5_000_000);

    // The partner claims what it really spent, with proof; no more than approved.
    let claim = format!("{url}/claim");
    let res = app.post(&claim, json!({"actual_minor": 2_000_001, "proof_urls": proof()})).key(&key_a).send().await;
    assert_eq!((res.status.as_u16(), res.fields()), (422, vec!["actual_minor".to_string()]));
    let res = app.post(&claim, json!({"actual_minor": 1_800_000, "proof_urls": []})).key(&key_a).send().await;
    assert_eq!(res.fields(), ["proof_urls"]);
    let res = app.post(&claim, json!({"actual_minor": 1_800_000, "proof_urls": proof()})).key(&key_a).send().await;
    assert_eq!((res.status, res.body["status"].clone()), (StatusCode::OK, json!("claimed")), "{}", res.text);
    assert_eq!(res.body["proof_urls"], proof());
    let mine = budget_of(&app.get(&budgets).send().await, &a);
    assert_eq!(
        [&mine["committed"], &mine["claimed"], &mine["remaining"]],
        [&json!(0), &json!(1_800_000), &json!(3_200_000)]
    );

    // Paying writes a marketing_support cost record of the activity's month.
    app.post(&format!("{url}/pay"), json!({})).key(&key_a).send().await.problem(404, "not_found");
    let paid = app.post(&format!("{url}/pay"), json!({})).send().await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.text);
    let cost = app.get(&format!("/api/v1/cost-records/{}", paid.body["cost_record_id"].as_str().unwrap())).send().await;
    assert_eq!(
        (cost.body["category"].clone(), cost.body["amount_minor"].clone(), cost.body["period"].clone()),
        (json!("marketing_support"), json!(1_800_000), json!("2026-05"))
    );
    app.post(&format!("{url}/pay"), json!({})).send().await.problem(409, "invalid_status_transition");
    let mine = budget_of(&app.get(&budgets).send().await, &a);
    assert_eq!(
        [&mine["claimed"], &mine["paid"], &mine["remaining"]],
        [&json!(0), &json!(1_800_000), &json!(3_200_000)]
    );

    // Who sees what: a partner key its own requests and its own budget row.
    let key_b = app.key(Role::Partner, Some(&b));
    app.get(&url).key(&key_b).send().await.problem(404, "mdf_request_not_found");
    assert!(app.get("/api/v1/mdf-requests").key(&key_b).send().await.items().is_empty());
    assert_eq!(app.get("/api/v1/mdf-requests").key(&key_a).send().await.items().len(), 1);
    app.post(&claim, json!({"actual_minor": 1, "proof_urls": proof()}))
        .key(&key_b)
        .send()
        .await
        .problem(404, "mdf_request_not_found");
    let rows = app.get(&budgets).key(&key_b).send().await;
    assert_eq!(rows.items().iter().map(|r| r["partner_id"].clone()).collect::<Vec<_>>(), [json!(b)]);
    // Lists filter; bad filters and unknown ids are answered as such.
    assert_eq!(app.get("/api/v1/mdf-requests?status=paid").send().await.items().len(), 1);
    assert!(app.get("/api/v1/mdf-requests?status=submitted").send().await.items().is_empty());
    assert_eq!(app.get(&format!("/api/v1/mdf-requests?partner_id={a}&activity=seminar")).send().await.items().len(), 1);
    app.get("/api/v1/mdf-requests?program_id=x").send().await.problem(422, "validation_failed");
    app.get(&format!("/api/v1/mdf-requests/{MISSING}")).send().await.problem(404, "mdf_request_not_found");
    app.get("/api/v1/mdf-requests").anonymous().send().await.problem(401, "unauthorized");
    // CSV for finance, with the BOM spreadsheets need.
    let csv = app.get(&budgets).header("accept", "text/csv").send().await;
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(csv
        .text
        .starts_with("\u{feff}partner_id,partner_name,currency,allocated,committed,claimed,paid,remaining\n"));
    assert!(csv.text.contains(&format!("{a},华东星辰,CNY,5000000,0,0,1800000,3200000")), "{}", csv.text);
});

both!(approvals_never_overspend_a_budget, |app: TestApp| async move {
    let a = live_partner(&app, "华东星辰", "key").await;
    let prog =
        program(&app, mdf_program(json!({"partner_ids": [a]}), json!({"fixed_minor": 100_000}), "2099-12-31")).await;
    let (one, two) = (submitted(&app, &prog, &a, 60_000).await, submitted(&app, &prog, &a, 60_000).await);
    let approve = |id: &str| format!("/api/v1/mdf-requests/{id}/approve");
    let (u1, u2) = (approve(&one), approve(&two));
    let (r1, r2) = tokio::join!(app.post(&u1, json!({})).send(), app.post(&u2, json!({})).send());
    let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", r1.text, r2.text);
    let refused = if r1.status == StatusCode::CONFLICT { &r1 } else { &r2 };
    refused.problem(409, "budget_exceeded");
    assert!(refused.text.contains("CNY 400.00"), "names the remaining budget: {}", refused.text);
    let budgets = app.get(&format!("/api/v1/incentive-programs/{}/budgets", pid(&prog))).send().await;
    assert_eq!(budget_of(&budgets, &a)["committed"], 60_000);
    // A rejected request holds nothing; rejecting needs a reason.
    let loser = if r1.status == StatusCode::CONFLICT { &one } else { &two };
    let reject = format!("/api/v1/mdf-requests/{loser}/reject");
    let res = app.post(&reject, json!({"reason": " "})).send().await;
    assert_eq!((res.status.as_u16(), res.fields()), (422, vec!["reason".to_string()]));
    app.post(&reject, json!({})).send().await.problem(422, "validation_failed");
    let res = app.post(&reject, json!({"reason": "预算已用完，请下季度再申请"})).send().await;
    assert_eq!(
        (res.body["status"].clone(), res.body["decision_reason"].clone()),
        (json!("rejected"), json!("预算已用完，请下季度再申请"))
    );
    app.post(&approve(loser), json!({})).send().await.problem(409, "invalid_status_transition");
    // Exactly the remainder may still be approved.
    let last = submitted(&app, &prog, &a, 40_000).await;
    assert_eq!(app.post(&approve(&last), json!({})).send().await.status, StatusCode::OK);
    let over = submitted(&app, &prog, &a, 1).await;
    app.post(&approve(&over), json!({})).send().await.problem(409, "budget_exceeded");
});

both!(rate_budgets_follow_the_window_revenue, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "西南远航", "standard").await);
    record(&app, &a, "2025-11", 3_000_000).await;
    record(&app, &a, "2025-12", 1_000_025).await;
    record(&app, &a, "2026-01", 9_999_999).await;
    let budget = json!({"rate_bp": 200, "window": {"from": "2025-10", "to": "2025-12"}});
    let prog = program(&app, mdf_program(json!({"all": true}), budget, "2099-12-31")).await;
    let res = app.get(&format!("/api/v1/incentive-programs/{}/budgets?limit=1", pid(&prog))).send().await;
    assert_eq!(res.items().len(), 1);
    let cursor = res.body["next_cursor"].as_str().expect("a second page").to_string();
    let next =
        app.get(&format!("/api/v1/incentive-programs/{}/budgets?limit=1&cursor={cursor}", pid(&prog))).send().await;
    let rows: Vec<Value> = res.items().iter().chain(next.items()).cloned().collect();
    assert!(next.body["next_cursor"].is_null());
    let find = |p: &str| rows.iter().find(|r| r["partner_id"] == p).cloned().unwrap();
    // 2 % of 40,000.25 yuan is 800.005 yuan: rounded half up once to 800.01.
    assert_eq!(find(&a)["allocated"], 80_001);
    assert_eq!(find(&b)["allocated"], 0, "no revenue in the window, no budget");
    let id = submitted(&app, &prog, &b, 1).await;
    app.post(&format!("/api/v1/mdf-requests/{id}/approve"), json!({})).send().await.problem(409, "budget_exceeded");
});

both!(claims_close_at_the_deadline_and_can_be_rejected, |app: TestApp| async move {
    let a = live_partner(&app, "华东星辰", "key").await;
    let key_a = app.key(Role::Partner, Some(&a));
    let past = json!({"name": "2025 市场推广支持", "kind": "marketing_support", "from": "2025-01", "to": "2025-12",
                      "audience": {"partner_ids": [a]}, "status": "active",
                      "rules": {"budget": {"fixed_minor": 1_000_000}, "claim_deadline": "2026-01-31"}});
    let past = program(&app, past).await;
    let late = submitted(&app, &past, &a, 100_000).await;
    assert_eq!(
        app.post(&format!("/api/v1/mdf-requests/{late}/approve"), json!({})).send().await.status,
        StatusCode::OK
    );
    let res = app
        .post(&format!("/api/v1/mdf-requests/{late}/claim"), json!({"actual_minor": 100_000, "proof_urls": proof()}))
        .key(&key_a)
        .send()
        .await;
    res.problem(409, "claim_deadline_passed");
    assert!(res.text.contains("2026-01-31"), "{}", res.text);
    // Before the deadline a claim may be rejected: the request then holds nothing.
    let prog =
        program(&app, mdf_program(json!({"partner_ids": [a]}), json!({"fixed_minor": 500_000}), "2099-12-31")).await;
    let id = submitted(&app, &prog, &a, 300_000).await;
    let url = format!("/api/v1/mdf-requests/{id}");
    app.post(&format!("{url}/reject-claim"), json!({"reason": "x"}))
        .send()
        .await
        .problem(409, "invalid_status_transition");
    app.post(&format!("{url}/claim"), json!({"actual_minor": 1, "proof_urls": proof()}))
        .send()
        .await
        .problem(409, "invalid_status_transition");
    app.post(&format!("{url}/approve"), json!({})).send().await;
    app.post(&format!("{url}/claim"), json!({"actual_minor": 250_000, "proof_urls": proof()})).key(&key_a).send().await;
    app.post(&format!("{url}/reject-claim"), json!({"reason": "发票抬头不符"}))
        .key(&key_a)
        .send()
        .await
        .problem(404, "not_found");
    let res = app.post(&format!("{url}/reject-claim"), json!({"reason": "发票抬头不符"})).send().await;
    assert_eq!(
        (res.body["status"].clone(), res.body["claim_rejection_reason"].clone()),
        (json!("claim_rejected"), json!("发票抬头不符")),
        "{}",
        res.text
    );
    app.post(&format!("{url}/pay"), json!({})).send().await.problem(409, "invalid_status_transition");
    let budgets = app.get(&format!("/api/v1/incentive-programs/{}/budgets", pid(&prog))).send().await;
    assert_eq!(budget_of(&budgets, &a)["remaining"], 500_000);
});

both!(requests_need_a_live_marketing_support_program_that_addresses_the_partner, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "西南远航", "key").await);
    let prog =
        program(&app, mdf_program(json!({"partner_ids": [a]}), json!({"fixed_minor": 500_000}), "2099-12-31")).await;
    let res = app.post("/api/v1/mdf-requests", request_body(&prog, Some(&b), 1)).send().await;
    assert_eq!((res.status.as_u16(), res.fields()), (422, vec!["partner_id".to_string()]), "{}", res.text);
    let mut unknown = request_body(&prog, Some(&a), 1);
    unknown["program_id"] = json!(MISSING);
    assert_eq!(app.post("/api/v1/mdf-requests", unknown).send().await.fields(), ["program_id"]);
    let rebate = program(&app, rebate_body(json!({"all": true}), "active")).await;
    let res = app.post("/api/v1/mdf-requests", request_body(&rebate, Some(&a), 1)).send().await;
    res.problem(409, "incentive_program_not_marketing_support");
    app.get(&format!("/api/v1/incentive-programs/{}/budgets", pid(&rebate)))
        .send()
        .await
        .problem(409, "incentive_program_not_marketing_support");
    app.get(&format!("/api/v1/incentive-programs/{MISSING}/budgets"))
        .send()
        .await
        .problem(404, "incentive_program_not_found");
    let mut draft = mdf_program(json!({"partner_ids": [a]}), json!({"fixed_minor": 500_000}), "2099-12-31");
    draft["status"] = json!("draft");
    let draft = program(&app, draft).await;
    app.post("/api/v1/mdf-requests", request_body(&draft, Some(&a), 1))
        .send()
        .await
        .problem(409, "invalid_status_transition");
    // Every field is checked, each named.
    let mut bad = request_body(&prog, Some(&a), 0);
    bad["title"] = json!(" ");
    bad["planned_on"] = json!("2026-02-30");
    let res = app.post("/api/v1/mdf-requests", bad).send().await;
    res.problem(422, "validation_failed");
    let mut bad = request_body(&prog, Some(&a), 0);
    bad["title"] = json!("");
    let mut fields = app.post("/api/v1/mdf-requests", bad).send().await.fields();
    fields.sort();
    assert_eq!(fields, ["amount_minor", "title"]);
    let mut bad = request_body(&prog, Some(&a), 10);
    bad["activity"] = json!("golf");
    assert_eq!(app.post("/api/v1/mdf-requests", bad).send().await.fields(), ["activity"]);
    let res = app
        .post("/api/v1/mdf-requests", request_body(&prog, Some(&a), 10))
        .key(&app.key(Role::Viewer, None))
        .send()
        .await;
    res.problem(403, "forbidden");
    // A program closed after approval: no more approvals.
    let id = submitted(&app, &prog, &a, 10).await;
    app.patch(&format!("/api/v1/incentive-programs/{}", pid(&prog)), json!({"status": "closed"})).send().await;
    app.post(&format!("/api/v1/mdf-requests/{id}/approve"), json!({}))
        .send()
        .await
        .problem(409, "incentive_program_closed");
});

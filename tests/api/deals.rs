//! Deal registrations (商机报备): registering (staff and partner keys), the 422s, scoping, the
//! duplicate rule at creation (conflicts_with, the partner's redacted clash, the conflict case),
//! approvals (deal_conflict, override, two at once), the protection job, extend, won/lost, and
//! the clash with a key account's primary partner.

use actix_web::http::StatusCode;
use channeldesk::access::{Role, Scope};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;
use crate::incentives::live_partner;
use crate::performance::pid;
use crate::room_messages::{last_event, rendered};

const MISSING: &str = "0192f0c4-3b9e-7c1a-8f00-000000000000";
const URL: &str = "/api/v1/deal-registrations";

fn prospect_body(partner: Option<&str>, name: &str, lines: &[&str]) -> Value {
    let mut body = json!({"prospect": {"name": name, "credit_code": "91350100M000100Y43", "region": "华东"},
                          "product_lines": lines, "estimated_value_minor": 1_000_000, "currency": "CNY",
                          "expected_close_on": "2026-12-31", "description": "储能项目"});
    if let Some(p) = partner {
        body["partner_id"] = json!(p);
    }
    body
}

async fn registered(app: &TestApp, body: Value) -> Value {
    let res = app.post(URL, body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

/// The case with `fingerprint`: its id and the (ref id, partner id) of its links.
/// A case's links as (ref id, partner id).
type Links = Vec<(String, Option<String>)>;

fn case_of(app: &TestApp, fingerprint: &str) -> Option<(String, Links)> {
    use channeldesk::db::schema::conflicts as c;
    let id: Option<String> = app.with_conn(|conn| {
        c::table.filter(c::fingerprint.eq(fingerprint)).select(c::id).first(conn).optional().expect("case")
    });
    let id = id?;
    let view = app.with_conn(|conn| channeldesk::conflicts::store::get(conn, &id, &Scope::All)).expect("view");
    let links = view.links.iter().map(|l| (l.ref_id.clone(), l.partner_id.clone())).collect();
    Some((id, links))
}

fn case_comments(app: &TestApp, case_id: &str) -> Vec<(String, bool)> {
    use channeldesk::db::schema::conflict_comments as cc;
    app.with_conn(|conn| {
        cc::table.filter(cc::conflict_id.eq(case_id)).select((cc::body, cc::internal)).load(conn).expect("comments")
    })
}

both!(staff_and_partner_keys_register_deals, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "西南远航", "key").await);
    let key_a = app.key(Role::Partner, Some(&a));
    // A partner key registers for its own partner, naming it or not; never for another.
    let res = app.post(URL, prospect_body(None, "杭州西湖储能科技有限公司", &["储能"])).key(&key_a).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = pid(&res.body);
    assert_eq!(res.header("location").as_deref(), Some(format!("{URL}/{id}").as_str()));
    assert_eq!(res.etag(), "\"1\"");
    assert_eq!(
        (res.body["status"].clone(), res.body["partner_id"].clone(), res.body["account_name"].clone()),
        (json!("submitted"), json!(a), json!("杭州西湖储能科技有限公司"))
    );
    assert_eq!(res.body["prospect"]["credit_code"], "91350100M000100Y43");
    assert_eq!(res.body["conflicts_with"], json!([]));
    app.post(URL, prospect_body(Some(&b), "某客户", &["储能"])).key(&key_a).send().await.problem(403, "forbidden");
    // Staff name the partner.
    let res = app.post(URL, prospect_body(None, "某客户", &["储能"])).send().await;
    assert_eq!((res.status.as_u16(), res.fields()), (422, vec!["partner_id".to_string()]));
    let staff = registered(&app, prospect_body(Some(&b), "成都天府新能源", &["光伏"])).await;
    assert_eq!(staff["partner_id"], json!(b));
    // Viewers read only; no key is 401.
    let viewer = app.key(Role::Viewer, None);
    app.post(URL, prospect_body(Some(&b), "x", &["储能"])).key(&viewer).send().await.problem(403, "forbidden");
    app.post(URL, prospect_body(Some(&b), "x", &["储能"])).anonymous().send().await.problem(401, "unauthorized");
    assert_eq!(app.get(&format!("{URL}/{id}")).key(&viewer).send().await.status, StatusCode::OK);
    // The partner sees its own, never another's.
    let mine = app.get(URL).key(&key_a).send().await;
    assert_eq!(mine.items().iter().map(pid).collect::<Vec<_>>(), vec![id.clone()]);
    app.get(&format!("{URL}/{}", pid(&staff))).key(&key_a).send().await.problem(404, "deal_registration_not_found");
    app.get(&format!("{URL}/{MISSING}")).send().await.problem(404, "deal_registration_not_found");
    app.get(&format!("{URL}/not-an-id")).send().await.problem(404, "not_found");
    // Filters.
    let all = app.get(URL).send().await;
    assert_eq!(all.items().len(), 2);
    let by_line = app.get(&format!("{URL}?product_line=%E5%85%89%E4%BC%8F")).send().await;
    assert_eq!(by_line.items().iter().map(pid).collect::<Vec<_>>(), vec![pid(&staff)], "光伏");
    let by_partner = app.get(&format!("{URL}?partner_id={a}&status=submitted")).send().await;
    assert_eq!(by_partner.items().iter().map(pid).collect::<Vec<_>>(), vec![id.clone()]);
    // A key account registration.
    let account = pid(&app.key_account("宁波港务集团").await);
    let body = json!({"partner_id": a, "key_account_id": account, "product_lines": ["储能"],
                      "estimated_value_minor": 0, "currency": "CNY", "expected_close_on": "2027-03-31"});
    let res = registered(&app, body).await;
    assert_eq!((res["key_account_id"].clone(), res["account_name"].clone()), (json!(account), json!("宁波港务集团")));
    let by_account = app.get(&format!("{URL}?key_account_id={account}")).send().await;
    assert_eq!(by_account.items().len(), 1);
    // Audit and the event.
    let event = last_event(&app, "deal.submitted");
    let message = rendered(&app, &event, Some(&a));
    assert!(message.title.contains("商机报备待审批") && message.title.contains("宁波港务集团"), "{message:?}");
    let other = app.with_conn(|c| channeldesk::notify::render::render(c, &event, Some(&b)));
    assert!(other.is_err(), "another partner's chat is never shown the registration: {other:?}");
});

both!(registrations_are_validated, |app: TestApp| async move {
    let a = live_partner(&app, "华东星辰", "key").await;
    let fields = |res: crate::helpers::Res| (res.status.as_u16(), res.fields());
    let mut body = prospect_body(Some(&a), "西湖储能", &["储能"]);
    body["prospect"]["credit_code"] = json!("91350100M000100Y44");
    assert_eq!(fields(app.post(URL, body).send().await), (422, vec!["prospect.credit_code".to_string()]));
    let mut body = prospect_body(Some(&a), "西湖储能", &["储能"]);
    body["prospect"]["credit_code"] = json!("91350100O000100Y43");
    assert_eq!(fields(app.post(URL, body).send().await), (422, vec!["prospect.credit_code".to_string()]));
    let mut body = prospect_body(Some(&a), "西湖储能", &["储能"]);
    body["key_account_id"] = json!(MISSING);
    assert_eq!(fields(app.post(URL, body).send().await), (422, vec!["key_account_id".to_string()]), "both");
    let mut body = prospect_body(Some(&a), "西湖储能", &["储能"]);
    body.as_object_mut().expect("object").remove("prospect");
    assert_eq!(fields(app.post(URL, body.clone()).send().await), (422, vec!["key_account_id".to_string()]), "neither");
    body["key_account_id"] = json!(MISSING);
    assert_eq!(fields(app.post(URL, body).send().await), (422, vec!["key_account_id".to_string()]), "unknown");
    let body = prospect_body(Some(&a), "西湖储能", &[]);
    assert_eq!(fields(app.post(URL, body).send().await), (422, vec!["product_lines".to_string()]));
    let mut body = prospect_body(Some(&a), "西湖储能", &["储能"]);
    body["currency"] = json!("cny");
    body["estimated_value_minor"] = json!(-1);
    assert_eq!(fields(app.post(URL, body).send().await).0, 422);
    let body = prospect_body(Some(MISSING), "西湖储能", &["储能"]);
    assert_eq!(fields(app.post(URL, body).send().await), (422, vec!["partner_id".to_string()]));
    // The credit code is optional: the name rule still finds clashes.
    let mut body = prospect_body(Some(&a), "西湖储能", &["储能"]);
    body["prospect"].as_object_mut().expect("object").remove("credit_code");
    assert_eq!(app.post(URL, body).send().await.status, StatusCode::CREATED);
});

both!(a_clash_is_accepted_and_opens_one_case, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "西南远航", "key").await);
    let c = live_partner(&app, "江南渠道", "key").await;
    let first = registered(&app, prospect_body(Some(&a), "杭州西湖储能科技有限公司", &["储能", "光伏"])).await;
    let first_id = pid(&first);
    // The same account by name (suffix dropped, full width), sharing 储能: accepted, named.
    let mut body = prospect_body(Some(&b), "杭州西湖储能科技", &["储能"]);
    body["prospect"].as_object_mut().expect("object").remove("credit_code");
    let second = registered(&app, body).await;
    assert_eq!(second["conflicts_with"], json!([first_id]));
    let (case_id, links) = case_of(&app, &format!("deal_clash:{first_id}")).expect("a case opened");
    assert_eq!(links.len(), 2, "{links:?}");
    assert!(links.contains(&(first_id.clone(), Some(a.clone()))) && links.contains(&(pid(&second), Some(b.clone()))));
    // A partner key registering the same account by credit code is told only that it is taken.
    let key_c = app.key(Role::Partner, Some(&c));
    let res = app.post(URL, prospect_body(None, "Westlake Storage Co., Ltd.", &["储能"])).key(&key_c).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(
        (res.body["conflicts_with"].clone(), res.body["clash"].clone(), res.body["clash_message"].clone()),
        (json!([]), json!("already_registered"), json!("已由其他渠道报备 already registered by another channel"))
    );
    for secret in [&first_id, &pid(&second), &a, &b] {
        assert!(!res.text.contains(secret.as_str()), "nothing about who: {}", res.text);
    }
    let again = app.get(&format!("{URL}/{}", pid(&res.body))).key(&key_c).send().await;
    assert_eq!(
        (again.body["clash"].clone(), again.body["conflicts_with"].clone()),
        (json!("already_registered"), json!([]))
    );
    // Staff see the one it clashes with (by credit code: the name differs from the second's);
    // it joined the same case.
    let staff = app.get(&format!("{URL}/{}", pid(&res.body))).send().await;
    assert_eq!(staff.body["conflicts_with"], json!([first_id]), "{}", staff.text);
    let (joined, links) = case_of(&app, &format!("deal_clash:{first_id}")).expect("case");
    assert_eq!((joined, links.len()), (case_id, 3));
    // No shared product line, or a rejected one: no clash.
    let other_line = registered(&app, prospect_body(Some(&b), "杭州西湖储能科技", &["风电"])).await;
    assert_eq!(other_line["conflicts_with"], json!([]));
    // The scan re-finds what creation found.
    let today = chrono::Utc::now().date_naive();
    let found = app.with_conn(|conn| channeldesk::deals::store::detect_clashes(conn, today)).expect("detect");
    let fingerprints: Vec<&str> = found.iter().map(|d| d.fingerprint.as_str()).collect();
    assert_eq!(fingerprints, vec![format!("deal_clash:{first_id}").as_str()]);
    assert_eq!(found[0].links.len(), 3);
});

both!(approvals_follow_the_earlier_registration, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "西南远航", "key").await);
    let first = pid(&registered(&app, prospect_body(Some(&a), "西湖储能有限公司", &["储能"])).await);
    let second = pid(&registered(&app, prospect_body(Some(&b), "西湖储能", &["储能"])).await);
    let approve = |id: &str| format!("{URL}/{id}/approve");
    // Staff only; a partner key is not told the move exists.
    let key_b = app.key(Role::Partner, Some(&b));
    app.post(&approve(&second), json!({})).key(&key_b).send().await.problem(404, "not_found");
    app.post(&approve(&second), json!({})).key(&app.key(Role::Viewer, None)).send().await.problem(403, "forbidden");
    // The earlier submission wins ties…
    let res = app.post(&approve(&second), json!({})).send().await;
    res.problem(409, "deal_conflict");
    assert!(res.text.contains(&first), "{}", res.text);
    let res = app.post(&approve(&second), json!({"override_earlier": true})).send().await;
    assert_eq!(res.fields(), ["reason"]);
    // The body is optional, but one that is sent must be valid: never silently ignored.
    let res = app
        .req(actix_web::http::Method::POST, &approve(&second))
        .raw("application/json", "{\"override_earlier\": tru")
        .send()
        .await;
    assert_eq!(res.status.as_u16() / 100, 4, "a malformed body is refused: {}", res.text);
    let res = app.req(actix_web::http::Method::POST, &approve(&second)).send().await;
    res.problem(409, "deal_conflict");
    let res = app.req(actix_web::http::Method::POST, &approve(&second)).raw("application/json", "null").send().await;
    res.problem(409, "deal_conflict");
    // …unless a manager decides otherwise, recorded in the case.
    app.post(&approve(&second), json!({})).if_match("\"9\"").send().await.problem(412, "version_mismatch");
    let res = app
        .post(&approve(&second), json!({"override_earlier": true, "reason": "客户书面指定西南远航"}))
        .if_match("\"1\"")
        .send()
        .await;
    assert_eq!((res.status, res.body["status"].clone()), (StatusCode::OK, json!("approved")), "{}", res.text);
    assert!(res.body["protected_until"].is_string());
    let (case_id, _) = case_of(&app, &format!("deal_clash:{first}")).expect("case");
    let notes = case_comments(&app, &case_id);
    assert!(notes.iter().any(|(body, internal)| *internal && body.contains("客户书面指定西南远航")), "{notes:?}");
    // Now the earlier one clashes with an approved one: 409 naming it.
    let res = app.post(&approve(&first), json!({})).send().await;
    res.problem(409, "deal_conflict");
    assert!(res.text.contains(&second), "{}", res.text);
    app.post(&approve(&second), json!({})).send().await.problem(409, "invalid_status_transition");
    // Reject needs a reason.
    let res = app.post(&format!("{URL}/{first}/reject"), json!({})).send().await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.text);
    let res = app.post(&format!("{URL}/{first}/reject"), json!({"reason": "已由其他渠道获批"})).send().await;
    assert_eq!((res.status, res.body["status"].clone()), (StatusCode::OK, json!("rejected")), "{}", res.text);
    let decided = rendered(&app, &last_event(&app, "deal.decided"), Some(&a));
    assert!(decided.title.contains("已驳回"), "{decided:?}");
    app.post(&approve(MISSING), json!({})).send().await.problem(404, "deal_registration_not_found");
});

both!(two_concurrent_approvals_of_a_clash_give_one_winner, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "西南远航", "key").await);
    let first = pid(&registered(&app, prospect_body(Some(&a), "西湖储能有限公司", &["储能"])).await);
    let second = pid(&registered(&app, prospect_body(Some(&b), "西湖储能", &["储能"])).await);
    let (u1, u2) = (format!("{URL}/{first}/approve"), format!("{URL}/{second}/approve"));
    let body = json!({"override_earlier": true, "reason": "经理决定"});
    let (r1, r2) = tokio::join!(app.post(&u1, json!({})).send(), app.post(&u2, body).send());
    let mut codes = vec![r1.status.as_u16(), r2.status.as_u16()];
    codes.sort();
    assert_eq!(codes, vec![200, 409], "{} / {}", r1.text, r2.text);
    let loser = if r1.status.as_u16() == 409 { &r1 } else { &r2 };
    assert_eq!(loser.body["code"], "deal_conflict", "{}", loser.text);
    let approved = app.get(&format!("{URL}?status=approved")).send().await;
    assert_eq!(approved.items().len(), 1);
});

both!(protection_expires_once_and_can_be_extended, |app: TestApp| async move {
    let a = live_partner(&app, "华东星辰", "key").await;
    let id = pid(&registered(&app, prospect_body(Some(&a), "西湖储能", &["储能"])).await);
    let url = format!("{URL}/{id}");
    app.post(&format!("{url}/extend"), json!({"days": 10, "reason": "客户延期"}))
        .send()
        .await
        .problem(409, "invalid_status_transition");
    let approved = app.post(&format!("{url}/approve"), json!({})).send().await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let until: chrono::DateTime<chrono::Utc> =
        approved.body["protected_until"].as_str().expect("protected_until").parse().expect("time");
    let days = (until - chrono::Utc::now()).num_days();
    assert!((89..=90).contains(&days), "90 days by default: {days}");
    // Extend: managers, 1–365 days, with a reason.
    let key_a = app.key(Role::Partner, Some(&a));
    app.post(&format!("{url}/extend"), json!({"days": 10, "reason": "x"}))
        .key(&key_a)
        .send()
        .await
        .problem(404, "not_found");
    let res = app.post(&format!("{url}/extend"), json!({"days": 366, "reason": "x"})).send().await;
    assert_eq!(res.fields(), ["days"]);
    let res = app.post(&format!("{url}/extend"), json!({"days": 10, "reason": "客户延期"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let extended: chrono::DateTime<chrono::Utc> =
        res.body["protected_until"].as_str().expect("protected_until").parse().expect("time");
    assert_eq!(extended - until, chrono::Duration::days(10));
    assert_eq!(res.body["extension_reason"], "客户延期");
    // 7 days before the end: deal.expiring, once.
    let job = channeldesk::deals::expiry::JOB;
    let warn_at = extended - chrono::Duration::days(3);
    assert_eq!(channeldesk::jobs::run_once(&app.db, job, warn_at).await.expect("job"), 1);
    assert_eq!(channeldesk::jobs::run_once(&app.db, job, warn_at).await.expect("job"), 0, "once");
    let expiring = rendered(&app, &last_event(&app, "deal.expiring"), Some(&a));
    assert!(expiring.title.contains("保护期即将结束"), "{expiring:?}");
    // After the end: expired, exactly once.
    let after = extended + chrono::Duration::hours(1);
    assert_eq!(channeldesk::jobs::run_once(&app.db, job, after).await.expect("job"), 1);
    assert_eq!(channeldesk::jobs::run_once(&app.db, job, after).await.expect("job"), 0, "once");
    let res = app.get(&url).send().await;
    assert_eq!(res.body["status"], "expired", "{}", res.text);
    assert!(res.body["closed_at"].is_string());
    app.post(&format!("{url}/won"), json!({})).send().await.problem(409, "invalid_status_transition");
});

both!(approved_registrations_are_won_or_lost, |app: TestApp| async move {
    let (a, b) = (live_partner(&app, "华东星辰", "key").await, live_partner(&app, "西南远航", "key").await);
    let won = pid(&registered(&app, prospect_body(Some(&a), "西湖储能", &["储能"])).await);
    let lost = pid(&registered(&app, prospect_body(Some(&a), "东湖光伏", &["光伏"])).await);
    app.post(&format!("{URL}/{won}/won"), json!({})).send().await.problem(409, "invalid_status_transition");
    for id in [&won, &lost] {
        assert_eq!(app.post(&format!("{URL}/{id}/approve"), json!({})).send().await.status, StatusCode::OK);
    }
    // The partner closes its own; another partner's key gets 404.
    let key_b = app.key(Role::Partner, Some(&b));
    app.post(&format!("{URL}/{won}/won"), json!({}))
        .key(&key_b)
        .send()
        .await
        .problem(404, "deal_registration_not_found");
    let res = app.post(&format!("{URL}/{won}/won"), json!({})).key(&app.key(Role::Partner, Some(&a))).send().await;
    assert_eq!((res.status, res.body["status"].clone()), (StatusCode::OK, json!("won")), "{}", res.text);
    let res = app.post(&format!("{URL}/{lost}/lost"), json!({})).if_match("\"2\"").send().await;
    assert_eq!((res.status, res.body["status"].clone()), (StatusCode::OK, json!("lost")), "{}", res.text);
    app.post(&format!("{URL}/{lost}/won"), json!({})).send().await.problem(409, "invalid_status_transition");
    // A closed registration no longer clashes.
    let later = registered(&app, prospect_body(Some(&b), "西湖储能", &["储能"])).await;
    assert_eq!(later["conflicts_with"], json!([]));
});

both!(a_registration_clashes_with_the_accounts_primary, |app: TestApp| async move {
    let direct =
        pid(&app.partner_with(json!({"name": "直销一部", "channel_type": "direct", "kind": "sales_team"})).await);
    let b = live_partner(&app, "西南远航", "key").await;
    let account = pid(&app.key_account("宁波港务集团").await);
    let res = app
        .post(
            &format!("/api/v1/key-accounts/{account}/assignments"),
            json!({"partner_id": direct, "role": "primary", "product_lines": ["储能"]}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let body = |lines: &[&str]| {
        json!({"partner_id": b, "key_account_id": account, "product_lines": lines,
               "estimated_value_minor": 0, "currency": "CNY", "expected_close_on": "2027-03-31"})
    };
    let other_line = registered(&app, body(&["光伏"])).await;
    assert!(case_of(&app, &format!("deal_vs_primary:{}", pid(&other_line))).is_none(), "another product line");
    let reg = registered(&app, body(&["储能"])).await;
    let fingerprint = format!("deal_vs_primary:{}", pid(&reg));
    let (case_id, links) = case_of(&app, &fingerprint).expect("a partner-vs-direct case");
    assert_eq!(links, vec![(pid(&reg), Some(b.clone()))]);
    let view = app.with_conn(|conn| channeldesk::conflicts::store::get(conn, &case_id, &Scope::All)).expect("view");
    assert!(view.conflict.involves_direct);
    let today = chrono::Utc::now().date_naive();
    let found = app.with_conn(|conn| channeldesk::deals::store::detect_clashes(conn, today)).expect("detect");
    assert!(found.iter().any(|d| d.fingerprint == fingerprint && d.involves_direct));
});

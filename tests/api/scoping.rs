//! Partner scoping over the whole API: partner B's key calls every operation the OpenAPI document
//! lists, with every id of partner A's data in every path parameter, and no response may carry
//! anything of A's — name, id, contacts, contracts, bulletins, action items — except what B itself
//! put in the request. Records shared by A and B (a joint meeting) show A at most as a count.

use actix_web::http::Method;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;

/// A's data, made by a manager: the ids to probe with and the strings that must never reach B.
struct PartnerA {
    ids: Vec<String>,
    secrets: Vec<String>,
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let res = app.post(path, body).send().await;
    assert!(res.status.is_success(), "POST {path}: {}", res.text);
    res.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn partner_a_and_a_joint_meeting_with(app: &TestApp, b: &str) -> PartnerA {
    let a = app.partner("甲方机密渠道有限公司").await;
    let a_id = id(&a);
    let res = app.patch(&format!("/api/v1/partners/{a_id}"), json!({"status": "onboarding"})).send().await;
    assert!(res.status.is_success(), "{}", res.text);
    let mut ids = vec![a_id.clone()];
    let mut secrets = vec!["甲方机密渠道有限公司".to_string(), a_id.clone()];
    let mut contacts = Vec::new();
    for (name, email, wecom) in [
        ("甲联系人一", "a.one@a-secret.example.cn", "AOneWecom"),
        ("甲联系人二", "a.two@a-secret.example.cn", "ATwoWecom"),
    ] {
        let c = created(
            app,
            &format!("/api/v1/partners/{a_id}/contacts"),
            json!({"name": name, "email": email, "wecom_userid": wecom}),
        )
        .await;
        contacts.push(id(&c));
        secrets.extend([name.to_string(), email.to_string(), wecom.to_string(), id(&c)]);
    }
    ids.extend(contacts.iter().cloned());
    let b_contact =
        created(app, &format!("/api/v1/partners/{b}/contacts"), json!({"name": "乙联系人", "email": "b@b.example.cn"}))
            .await;

    // Within the default window of /calendar.ics, so that the feed carries it too.
    let soon = chrono::Utc::now() + chrono::Duration::days(3);
    let meeting = created(
        app,
        "/api/v1/meetings",
        json!({
            "title": "甲乙联合季度会", "kind": "business_review", "partner_ids": [a_id, b],
            "organizer": "王芳", "starts_at": soon.to_rfc3339(), "ends_at": (soon + chrono::Duration::hours(1)).to_rfc3339(),
            "attendees": [{"contact_id": contacts[0]}, {"contact_id": contacts[1]}, {"contact_id": id(&b_contact)}],
        }),
    )
    .await;
    let meeting_id = id(&meeting);
    ids.push(meeting_id.clone());
    let item = created(
        app,
        &format!("/api/v1/meetings/{meeting_id}/action-items"),
        json!({"title": "甲方专属待办事项", "owner": "甲方负责人", "partner_id": a_id}),
    )
    .await;
    ids.push(id(&item));
    secrets.extend(["甲方专属待办事项".to_string(), "甲方负责人".to_string(), id(&item)]);

    let bulletin = created(
        app,
        "/api/v1/bulletins",
        json!({"title": "甲方专属通报", "body": "只给甲方", "category": "policy", "audience": {"partner_ids": [a_id]}}),
    )
    .await;
    let bulletin_id = id(&bulletin);
    let res = app.req(Method::POST, &format!("/api/v1/bulletins/{bulletin_id}/publish")).send().await;
    assert!(res.status.is_success(), "{}", res.text);
    ids.push(bulletin_id.clone());
    secrets.extend(["甲方专属通报".to_string(), bulletin_id]);

    let contract = created(
        app,
        "/api/v1/contracts",
        json!({"partner_id": a_id, "number": "HT-JIA-SECRET-001", "title": "甲方代理协议", "kind": "agency",
               "effective_from": "2026-01-01", "effective_to": "2026-12-31"}),
    )
    .await;
    ids.push(id(&contract));
    secrets.extend(["HT-JIA-SECRET-001".to_string(), "甲方代理协议".to_string(), id(&contract)]);

    let record = created(
        app,
        "/api/v1/performance-records",
        json!({"partner_id": a_id, "period": "2026-10", "revenue_minor": 123456, "notes": "甲方业绩备注"}),
    )
    .await;
    let cost = created(
        app,
        "/api/v1/cost-records",
        json!({"partner_id": a_id, "period": "2026-10", "category": "operating", "amount_minor": 4321, "notes": "甲方成本备注"}),
    )
    .await;
    let target = created(
        app,
        "/api/v1/targets",
        json!({"partner_id": a_id, "period": "2026-Q4", "metric": "revenue", "target_value": 999000}),
    )
    .await;
    ids.extend([id(&record), id(&cost), id(&target)]);
    secrets.extend(["甲方业绩备注".to_string(), "甲方成本备注".to_string(), id(&record), id(&cost), id(&target)]);

    let account = app.key_account("甲方独家客户").await;
    let account_id = id(&account);
    let assignment = created(
        app,
        &format!("/api/v1/key-accounts/{account_id}/assignments"),
        json!({"partner_id": a_id, "role": "primary", "product_lines": ["储能"]}),
    )
    .await;
    ids.extend([account_id, id(&assignment)]);
    secrets.push(id(&assignment));

    let fund = created(
        app,
        "/api/v1/incentive-programs",
        json!({"name": "甲方专属推广基金", "kind": "marketing_support", "from": "2026-01", "to": "2026-12",
               "audience": {"partner_ids": [a_id]}, "status": "active",
               "rules": {"budget": {"fixed_minor": 777_000}, "claim_deadline": "2099-12-31"}}),
    )
    .await;
    let request = created(
        app,
        "/api/v1/mdf-requests",
        json!({"program_id": id(&fund), "partner_id": a_id, "activity": "seminar", "title": "甲方专属研讨会",
               "planned_on": "2026-06-01", "amount_minor": 1000}),
    )
    .await;
    ids.extend([id(&fund), id(&request)]);
    secrets.extend(["甲方专属推广基金".to_string(), "甲方专属研讨会".to_string(), id(&fund), id(&request)]);

    // A conflict of A with a third partner (B is no party), and one of A with B: B sees the
    // second with A as "another partner" and without the internal notes.
    let c = id(&app.partner("丙方渠道").await);
    let own_case = created(
        app,
        "/api/v1/conflicts",
        json!({"kind": "price_undercut", "cause": "competitive_pressure", "severity": "high",
               "summary": "甲方与丙方的压价冲突", "party_partner_ids": [a_id, c]}),
    )
    .await;
    let joint_case = created(
        app,
        "/api/v1/conflicts",
        json!({"kind": "account_overlap", "cause": "unclear_roles", "severity": "medium",
               "summary": "两家伙伴的客户重叠", "party_partner_ids": [a_id, b]}),
    )
    .await;
    for case in [&own_case, &joint_case] {
        created(
            app,
            &format!("/api/v1/conflicts/{}/comments", id(case)),
            json!({"body": "甲方内部备注", "internal": true}),
        )
        .await;
    }
    ids.extend([id(&own_case), id(&joint_case)]);
    secrets.extend(["甲方与丙方的压价冲突".to_string(), "甲方内部备注".to_string(), id(&own_case)]);
    let deal = created(
        app,
        "/api/v1/deal-registrations",
        json!({"partner_id": a_id, "prospect": {"name": "甲方报备客户有限公司", "credit_code": "91350100M000100Y43"},
               "product_lines": ["储能"], "estimated_value_minor": 5000, "currency": "CNY",
               "expected_close_on": "2026-12-31", "description": "甲方报备说明"}),
    )
    .await;
    ids.push(id(&deal));
    secrets.extend(["甲方报备客户有限公司".to_string(), "甲方报备说明".to_string(), id(&deal)]);
    PartnerA { ids, secrets }
}

/// Every path of the spec with each `{param}` filled by each id (all combinations).
fn fill(template: &str, ids: &[String]) -> Vec<String> {
    let mut paths = vec![template.to_string()];
    while paths.iter().any(|p| p.contains('{')) {
        paths = paths
            .into_iter()
            .flat_map(|p| match (p.find('{'), p.find('}')) {
                (Some(open), Some(close)) => {
                    ids.iter().map(|id| format!("{}{id}{}", &p[..open], &p[close + 1..])).collect::<Vec<_>>()
                }
                _ => vec![p],
            })
            .collect();
    }
    paths
}

both!(no_response_to_a_partner_key_carries_another_partners_data, |app: TestApp| async move {
    let b = id(&app.partner("乙方渠道").await);
    let a = partner_a_and_a_joint_meeting_with(&app, &b).await;
    let b_key = app.key(Role::Partner, Some(&b));
    let spec: Value = serde_json::from_str(&channeldesk::app::spec_json()).expect("spec");

    // Reads first, so that a write that wrongly succeeded cannot hide a read that leaks.
    let mut calls = Vec::new();
    for method in ["get", "post", "patch", "put", "delete"] {
        for (template, ops) in spec["paths"].as_object().expect("paths") {
            if ops.get(method).is_none() || template.starts_with("/api/v1/integrations/") {
                continue;
            }
            for path in fill(template, &a.ids) {
                if method == "get" && !template.contains('{') {
                    calls.push((method, format!("{path}?partner_id={}", a.ids[0])));
                }
                calls.push((method, path));
            }
        }
    }
    assert!(calls.len() > 100, "the walk covers the API: {} calls", calls.len());
    let mut leaks = Vec::new();
    for (method, path) in &calls {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let req = app.req(method.clone(), path).key(&b_key);
        let req = if method == Method::GET || method == Method::DELETE { req } else { req.json(json!({})) };
        let res = req.send().await;
        assert!(res.status.as_u16() < 500, "{method} {path}: {} {}", res.status, res.text);
        let headers: String = res.headers.iter().map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or(""))).collect();
        for secret in &a.secrets {
            // What B sent in the path is B's own knowledge, not a leak.
            if !path.contains(secret.as_str())
                && (res.text.contains(secret.as_str()) || headers.contains(secret.as_str()))
            {
                leaks.push(format!("{method} {path} → {} shows {secret:?}", res.status));
            }
        }
    }
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));

    // The walk could not have passed by seeing nothing: B does see the joint meeting, with A as a count.
    let res = app.get("/api/v1/meetings").key(&b_key).send().await;
    assert_eq!(res.items().len(), 1, "{}", res.text);
    assert!(res.text.contains("甲乙联合季度会"), "{}", res.text);
});

//! A partner key sees a record shared with other partners (a joint meeting) as its own partner's:
//! the others appear at most as a count, never by name, id, contact, email or userid.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;
use crate::meetings::{id_of, meeting, meeting_body};

/// What identifies partner A and its people: none of it may reach partner B's key.
pub struct PartnerA {
    pub id: String,
    pub secrets: Vec<String>,
}

async fn contact(app: &TestApp, partner: &str, name: &str, email: &str, wecom: &str) -> Value {
    let body = json!({"name": name, "email": email, "wecom_userid": wecom, "dingtalk_userid": format!("dt-{wecom}")});
    let res = app.post(&format!("/api/v1/partners/{partner}/contacts"), body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

/// Partners A and B, two contacts each, and a joint meeting (soon, so the default feed window
/// has it) whose attendees are all four plus one of our own staff.
pub async fn joint_meeting(app: &TestApp) -> (PartnerA, String, String) {
    let a = id_of(&app.partner("甲方星辰代理").await);
    let b = id_of(&app.partner("乙方远航分销").await);
    let a1 = contact(app, &a, "赵甲一", "zhao.jiayi@a-partner.cn", "ZhaoJiaYi").await;
    let a2 = contact(app, &a, "钱甲二", "qian.jiaer@a-partner.cn", "QianJiaEr").await;
    let b1 = contact(app, &b, "孙乙一", "sun.yiyi@b-partner.cn", "SunYiYi").await;
    let b2 = contact(app, &b, "李乙二", "li.yier@b-partner.cn", "LiYiEr").await;
    let start = (Utc::now() + Duration::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut body = meeting_body(&[&a, &b], &start);
    body["title"] = json!("联合季度回顾");
    body["attendees"] = json!([
        {"contact_id": id_of(&a1)}, {"contact_id": id_of(&b1)}, {"contact_id": id_of(&a2)},
        {"contact_id": id_of(&b2)}, {"name": "王芳", "email": "wang.fang@example.cn"},
    ]);
    let m = id_of(&meeting(app, body).await);
    let mut secrets = vec![a.clone(), "甲方星辰代理".into()];
    for c in [&a1, &a2] {
        for field in ["id", "name", "email", "wecom_userid", "dingtalk_userid"] {
            secrets.push(c[field].as_str().expect("contact field").to_string());
        }
    }
    (PartnerA { id: a, secrets }, b, m)
}

#[track_caller]
pub fn assert_nothing_of(a: &PartnerA, what: &str, body: &str) {
    for secret in &a.secrets {
        assert!(!body.contains(secret.as_str()), "{what} shows partner A's {secret:?}: {body}");
    }
}

both!(a_partner_key_sees_only_its_own_side_of_a_joint_meeting, |app: TestApp| async move {
    let (a, b, m) = joint_meeting(&app).await;
    let key = app.key(Role::Partner, Some(&b));

    let list = app.get("/api/v1/meetings").key(&key).send().await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_nothing_of(&a, "GET /meetings", &list.text);
    let item = &list.items()[0];
    assert_eq!(item["partner_ids"], json!([b]));
    let names: Vec<&str> = item["attendees"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["孙乙一", "李乙二"]);
    assert_eq!((item["other_attendees"].as_u64(), item["other_partners"].as_u64()), (Some(3), Some(1)));

    let got = app.get(&format!("/api/v1/meetings/{m}")).key(&key).send().await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_nothing_of(&a, "GET /meetings/{id}", &got.text);
    assert_eq!(got.body["other_attendees"], 3);
    assert_eq!(got.body["attendees"].as_array().unwrap().len(), 2);

    let one = app.get(&format!("/api/v1/meetings/{m}/calendar.ics")).key(&key).send().await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_nothing_of(&a, "/meetings/{id}/calendar.ics", &one.text);
    let unfolded = one.text.replace("\r\n ", "");
    assert!(unfolded.contains("3 other attendees"), "{unfolded}");
    assert!(unfolded.contains("1 other partner"), "{unfolded}");
    assert!(unfolded.contains("mailto:sun.yiyi@b-partner.cn"), "B's own people stay: {unfolded}");

    let feed = app.get("/api/v1/calendar.ics").key(&key).send().await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.text);
    assert_nothing_of(&a, "/calendar.ics", &feed.text);
    assert!(feed.text.replace("\r\n ", "").contains("3 other attendees"));

    // Staff still see the whole meeting, without the partner-only counts.
    let staff = app.get(&format!("/api/v1/meetings/{m}")).send().await;
    assert_eq!(staff.body["attendees"].as_array().unwrap().len(), 5);
    assert!(staff.body.get("other_attendees").is_none() && staff.text.contains(&a.id));
});

// Every GET operation of the API document, called with B's key with every id of the joint data
// (A's and B's) in its path: nothing of A's may come back.
both!(no_read_operation_shows_another_partners_people, |app: TestApp| async move {
    let (a, b, m) = joint_meeting(&app).await;
    let item = |partner: &str| json!({"title": format!("跟进报价 {partner}"), "owner": "王芳", "partner_id": partner});
    let held = app
        .patch(
            &format!("/api/v1/meetings/{m}"),
            json!({"status": "held", "minutes": "纪要", "action_items": [item(&a.id), item(&b)]}),
        )
        .send()
        .await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);
    let items = app.get(&format!("/api/v1/meetings/{m}/action-items")).send().await;
    let mut ids: Vec<String> = items.items().iter().map(id_of).collect();
    let a_item = items.items().iter().find(|i| i["partner_id"] == a.id.as_str()).map(id_of).expect("A's item");
    let mut a = a;
    a.secrets.push(a_item);
    let mut series = meeting_body(&[&a.id, &b], "2031-01-06T10:00:00+08:00");
    series["attendees"] = json!([{"contact_id": a.secrets[2]}]);
    let s =
        app.post("/api/v1/meeting-series", json!({"template": series, "rule": {"frequency": "weekly", "count": 2}}));
    let s = s.send().await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
    ids.extend([m.clone(), b.clone(), a.id.clone(), a.secrets[2].clone(), id_of(&s.body)]);

    let key = app.key(Role::Partner, Some(&b));
    let spec = app.get("/api-docs/openapi.json").anonymous().send().await.body;
    let mut calls = 0;
    for (path, op) in spec["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/") || op.get("get").is_none() {
            continue;
        }
        let params = path.matches('{').count();
        let mut urls = vec![path.clone()];
        for _ in 0..params {
            urls = urls
                .iter()
                .flat_map(|u| {
                    let (head, rest) = u.split_once('{').expect("param");
                    let tail = rest.split_once('}').expect("param end").1;
                    ids.iter().map(move |id| format!("{head}{id}{tail}"))
                })
                .collect();
        }
        for url in urls {
            for query in ["", "?partner_id="] {
                let full = if query.is_empty() { url.clone() } else { format!("{url}{query}{}", a.id) };
                let res = app.get(&full).key(&key).send().await;
                assert!(res.status.as_u16() < 500, "GET {full}: {}", res.text);
                assert_nothing_of(&a, &format!("GET {full}"), &res.text);
                calls += 1;
            }
        }
    }
    assert!(calls > 100, "the walk reached the API ({calls} calls)");
});

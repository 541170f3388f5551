//! Meetings and action items: CRUD, status moves, validation, scoping, carry-over, reminders.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use channeldesk::meetings::reminders;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// A meeting body with one partner, an hour long, starting at `starts_at`.
pub fn meeting_body(partner_ids: &[&str], starts_at: &str) -> Value {
    let start: DateTime<Utc> = starts_at.parse().expect("time");
    json!({
        "title": "季度业务回顾",
        "kind": "business_review",
        "partner_ids": partner_ids,
        "organizer": "王芳",
        "starts_at": starts_at,
        "ends_at": (start + Duration::hours(1)).to_rfc3339(),
    })
}

/// Outbox event types other than the partner fixtures' own.
pub fn meeting_events(app: &TestApp) -> Vec<String> {
    app.event_types().into_iter().filter(|t| !t.starts_with("partner.")).collect()
}

pub async fn meeting(app: &TestApp, body: Value) -> Value {
    let res = app.post("/api/v1/meetings", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

async fn partner_id(app: &TestApp, name: &str) -> String {
    id_of(&app.partner(name).await)
}

both!(meeting_create_get_patch, |app: TestApp| async move {
    let p = partner_id(&app, "华东星辰代理").await;
    let contact = app
        .post(
            &format!("/api/v1/partners/{p}/contacts"),
            json!({"name": "张伟", "email": "zhang.wei@example.cn", "wecom_userid": "ZhangWei"}),
        )
        .send()
        .await;
    let ka = id_of(&app.key_account("上海银行").await);
    let mut body = meeting_body(&[&p], "2030-01-07T10:00:00+08:00");
    body["key_account_id"] = json!(ka);
    body["attendees"] = json!([{"contact_id": contact.id()}, {"name": "李雷", "email": "li.lei@example.cn"}]);
    body["agenda"] = json!(["回顾Q4销量", "返点政策"]);
    body["location"] = json!("上海 会议室 A");
    body["online_url"] = json!("https://meet.example.cn/q4");
    let res = app.post("/api/v1/meetings", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/meetings/{id}"));
    assert_eq!(res.etag(), "\"1\"");
    let m = &res.body;
    assert_eq!(m["status"], "scheduled");
    assert_eq!(m["timezone"], "Asia/Shanghai", "the default zone");
    assert_eq!(m["starts_at"], "2030-01-07T02:00:00Z");
    assert_eq!(m["kind"], "business_review");
    assert_eq!(m["key_account_id"], ka.as_str());
    assert_eq!(m["attendees"][0]["name"], "张伟", "filled from the contact");
    assert_eq!(m["attendees"][0]["partner_id"], p.as_str());
    assert_eq!(m["attendees"][0]["email"], "zhang.wei@example.cn");
    assert_eq!(m["attendees"][0]["wecom_userid"], "ZhangWei");
    assert_eq!(m["attendees"][1]["contact_id"], Value::Null);

    let url = format!("/api/v1/meetings/{id}");
    let got = app.get(&url).send().await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.etag(), "\"1\"");
    assert_eq!(got.body["title"], "季度业务回顾");
    assert_eq!(got.body["action_items"], json!([]));
    assert_eq!(got.body["carried_over_action_items"], json!([]));

    let res = app
        .patch(&url, json!({"title": "年度回顾", "location": null, "starts_at": "2030-01-07T03:00:00Z", "ends_at": "2030-01-07T04:30:00Z"}))
        .if_match("\"1\"")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.etag(), "\"2\"");
    assert_eq!(res.body["location"], Value::Null);
    assert_eq!(res.body["online_url"], "https://meet.example.cn/q4", "untouched fields stay");
    app.patch(&url, json!({"title": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    // An empty patch changes nothing.
    let same = app.patch(&url, json!({})).send().await;
    assert_eq!(same.etag(), "\"2\"");
    assert_eq!(meeting_events(&app), vec!["meeting.scheduled", "meeting.updated"]);
    let events: Vec<_> = app
        .with_conn(|c| channeldesk::events::since(c, None, 100).unwrap())
        .into_iter()
        .filter(|e| e.event_type.starts_with("meeting."))
        .collect();
    assert_eq!(events[0].partner_id.as_deref(), Some(p.as_str()));
    assert_eq!(events[0].payload["partners"][0]["name"], "华东星辰代理");
    assert_eq!(events[1].payload["changes"]["title"]["new"], "年度回顾");
    app.get("/api/v1/meetings/0192f0c4-3b9e-7c1a-8f00-000000000000").send().await.problem(404, "meeting_not_found");
    assert_eq!(app.get("/api/v1/meetings/nope").send().await.fields(), vec!["id"]);
});

both!(meeting_bad_input_names_the_field, |app: TestApp| async move {
    let p = partner_id(&app, "P").await;
    let other = partner_id(&app, "Other").await;
    let other_contact =
        app.post(&format!("/api/v1/partners/{other}/contacts"), json!({"name": "Theirs"})).send().await.id();
    let base = || meeting_body(&[&p], "2030-01-07T10:00:00+08:00");
    let missing = "0192f0c4-3b9e-7c1a-8f00-000000000000";
    let cases: Vec<(Value, &str)> = vec![
        (json!({"ends_at": "2030-01-07T09:00:00+08:00"}), "ends_at"),
        (json!({"ends_at": "2030-01-08T10:00:01+08:00"}), "ends_at"),
        (json!({"timezone": "Asia/Shangai"}), "timezone"),
        (json!({"partner_ids": [missing]}), "partner_ids[0]"),
        (json!({"partner_ids": []}), "partner_ids"),
        (json!({"partner_ids": ["not-a-uuid"]}), "partner_ids[0]"),
        (json!({"key_account_id": missing}), "key_account_id"),
        (json!({"attendees": [{"contact_id": missing}]}), "attendees[0].contact_id"),
        (json!({"attendees": [{"contact_id": other_contact}]}), "attendees[0].contact_id"),
        (json!({"attendees": [{"email": "a@b.cn"}]}), "attendees[0].name"),
        (json!({"online_url": "javascript:alert(1)"}), "online_url"),
        (json!({"agenda": ["ok", "  "]}), "agenda[1]"),
        (json!({"title": "a\u{0}b"}), "title"),
        (json!({"kind": "party"}), "kind"),
        (json!({"colour": "red"}), "colour"),
    ];
    for (change, field) in cases {
        let mut body = base();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app.post("/api/v1/meetings", body).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{change}");
    }
    let m = meeting(&app, base()).await;
    let url = format!("/api/v1/meetings/{}", id_of(&m));
    let res = app.patch(&url, json!({"starts_at": "2030-01-07T03:00:00Z"})).send().await;
    assert_eq!(res.fields(), vec!["ends_at"], "the result is checked: now after ends_at");
    let res = app.patch(&url, json!({"timezone": "Nowhere/City"})).send().await;
    assert_eq!(res.fields(), vec!["timezone"]);
    let res = app.patch(&url, json!({"partner_ids": [missing]})).send().await;
    assert_eq!(res.fields(), vec!["partner_ids[0]"]);
    let viewer = app.key(Role::Viewer, None);
    app.post("/api/v1/meetings", base()).key(&viewer).send().await.problem(403, "forbidden");
    app.post("/api/v1/meetings", base()).anonymous().send().await.problem(401, "unauthorized");
    assert_eq!(meeting_events(&app), vec!["meeting.scheduled"]);
});

both!(holding_and_cancelling, |app: TestApp| async move {
    let p = partner_id(&app, "P").await;
    let q = partner_id(&app, "Q").await;
    let m = meeting(&app, meeting_body(&[&p, &q], "2026-11-02T10:00:00+08:00")).await;
    let url = format!("/api/v1/meetings/{}", id_of(&m));
    let res = app.patch(&url, json!({"status": "held"})).send().await;
    assert_eq!(res.fields(), vec!["minutes"]);
    let res = app.patch(&url, json!({"minutes": "# 纪要"})).send().await;
    assert_eq!(res.fields(), vec!["minutes"], "only a held meeting has minutes");
    let res = app.patch(&url, json!({"cancel_reason": "x"})).send().await;
    assert_eq!(res.fields(), vec!["cancel_reason"]);
    let res = app.patch(&url, json!({"action_items": [{"title": "t", "owner": "o"}]})).send().await;
    assert_eq!(res.fields(), vec!["action_items"]);
    let res = app
        .patch(&url, json!({"status": "held", "minutes": "m", "action_items": [{"title": "t", "owner": "o"}]}))
        .send()
        .await;
    assert_eq!(res.fields(), vec!["action_items[0].partner_id"], "two partners: say which");
    let res = app
        .patch(
            &url,
            json!({
                "status": "held",
                "minutes": "## 纪要\n- 销量达成 92%",
                "decisions": ["返点提高到3.5%", "下季度联合推广"],
                "action_items": [
                    {"title": "提交推广计划", "owner": "张伟", "partner_id": p, "due_date": "2026-11-20"},
                    {"title": "核对返点", "owner": "王芳", "partner_id": q}
                ]
            }),
        )
        .if_match("\"1\"")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["status"], "held");
    assert!(res.body["held_at"].is_string());
    assert_eq!(res.body["decisions"][1], "下季度联合推广");
    let events = app.with_conn(|c| channeldesk::events::since(c, None, 100).unwrap());
    let held = events.iter().find(|e| e.event_type == "meeting.held").expect("meeting.held");
    assert_eq!(held.payload["decisions"], json!(["返点提高到3.5%", "下季度联合推广"]));
    assert_eq!(held.payload["action_items"].as_array().unwrap().len(), 2);
    assert_eq!(held.payload["action_items"][0]["title"], "提交推广计划");
    assert_eq!(held.payload["partner_ids"], json!([p, q]));
    let detail = app.get(&url).send().await;
    assert_eq!(detail.body["action_items"].as_array().unwrap().len(), 2);
    // Minutes can be corrected; time and partners are history.
    let res = app.patch(&url, json!({"minutes": "## 纪要（修订）"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    app.patch(&url, json!({"starts_at": "2026-11-03T02:00:00Z"})).send().await.problem(409, "meeting_held");
    app.patch(&url, json!({"minutes": null})).send().await.problem(422, "validation_failed");
    app.patch(&url, json!({"status": "cancelled", "cancel_reason": "x"}))
        .send()
        .await
        .problem(409, "invalid_status_transition");

    let m2 = meeting(&app, meeting_body(&[&p], "2030-02-04T10:00:00+08:00")).await;
    let url2 = format!("/api/v1/meetings/{}", id_of(&m2));
    let res = app.patch(&url2, json!({"status": "cancelled"})).send().await;
    assert_eq!(res.fields(), vec!["cancel_reason"]);
    let res = app.patch(&url2, json!({"status": "cancelled", "cancel_reason": "春节调休"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["cancel_reason"], "春节调休");
    assert!(res.body["cancelled_at"].is_string());
    app.patch(&url2, json!({"title": "again"})).send().await.problem(409, "meeting_cancelled");
    app.post(&format!("{url2}/action-items"), json!({"title": "t", "owner": "o"}))
        .send()
        .await
        .problem(409, "meeting_cancelled");
    // A partner with action items from the meeting stays in it.
    let m3 = meeting(&app, meeting_body(&[&p, &q], "2030-03-04T10:00:00+08:00")).await;
    let url3 = format!("/api/v1/meetings/{}", id_of(&m3));
    app.post(&format!("{url3}/action-items"), json!({"title": "t", "owner": "o", "partner_id": q})).send().await;
    app.patch(&url3, json!({"partner_ids": [p]})).send().await.problem(409, "partner_has_action_items");
    let ok = app.patch(&url3, json!({"partner_ids": [p, q, p]})).send().await;
    assert_eq!(ok.body["partner_ids"], json!([p, q]), "duplicates dropped");
    let types = meeting_events(&app);
    assert!(types.contains(&"meeting.cancelled".to_string()), "{types:?}");
});

both!(listing_filters_and_pages, |app: TestApp| async move {
    let p = partner_id(&app, "P").await;
    let q = partner_id(&app, "Q").await;
    let mut ids = Vec::new();
    for (i, (partners, kind, organizer)) in [
        (vec![p.as_str()], "regular_review", "王芳"),
        (vec![q.as_str()], "training", "王芳"),
        (vec![p.as_str(), q.as_str()], "kickoff", "李雷"),
        (vec![p.as_str()], "regular_review", "李雷"),
    ]
    .into_iter()
    .enumerate()
    {
        // Created out of start order: the list orders by start time, not creation.
        let day = [4, 1, 3, 2][i];
        let mut body = meeting_body(&partners, &format!("2030-03-0{day}T10:00:00+08:00"));
        body["kind"] = json!(kind);
        body["organizer"] = json!(organizer);
        ids.push((day, id_of(&meeting(&app, body).await)));
    }
    ids.sort();
    let all: Vec<String> = ids.iter().map(|(_, id)| id.clone()).collect();
    let list = |q: String| {
        let app = &app;
        async move {
            let res = app.get(&format!("/api/v1/meetings{q}")).send().await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text);
            res.items().iter().map(id_of).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(String::new()).await, all);
    assert_eq!(list(format!("?partner_id={p}")).await, vec![all[1].clone(), all[2].clone(), all[3].clone()]);
    assert_eq!(list(format!("?partner_id={q}&kind=kickoff")).await, vec![all[2].clone()]);
    assert_eq!(list("?kind=training".into()).await, vec![all[0].clone()]);
    assert_eq!(list("?organizer=%E6%9D%8E%E9%9B%B7".into()).await, vec![all[1].clone(), all[2].clone()]);
    assert_eq!(
        list("?from=2030-03-02T02:00:00Z&to=2030-03-04T02:00:00Z".into()).await,
        vec![all[1].clone(), all[2].clone()],
        "from inclusive, to exclusive"
    );
    app.patch(&format!("/api/v1/meetings/{}", all[3]), json!({"status": "cancelled", "cancel_reason": "r"}))
        .send()
        .await;
    assert_eq!(list("?status=cancelled".into()).await, vec![all[3].clone()]);
    // Pages of two, following the cursor, with and without a partner filter.
    for filter in [String::new(), format!("partner_id={p}&")] {
        let mut seen = Vec::new();
        let mut url = format!("/api/v1/meetings?{filter}limit=2");
        loop {
            let res = app.get(&url).send().await;
            seen.extend(res.items().iter().map(id_of));
            match res.body["next_cursor"].as_str() {
                Some(c) => {
                    assert!(res.header("link").unwrap().contains("rel=\"next\""));
                    url = format!("/api/v1/meetings?{filter}limit=2&cursor={c}");
                }
                None => break,
            }
        }
        let expected: Vec<String> = if filter.is_empty() { all.clone() } else { all[1..].to_vec() };
        assert_eq!(seen, expected);
    }
    assert_eq!(app.get("/api/v1/meetings?cursor=abc").send().await.fields(), vec!["cursor"]);
    assert_eq!(app.get("/api/v1/meetings?partner_id=x").send().await.fields(), vec!["partner_id"]);
    assert_eq!(app.get("/api/v1/meetings?status=done").send().await.fields(), vec!["status"]);
    assert_eq!(app.get("/api/v1/meetings?from=yesterday").send().await.fields(), vec!["from"]);
});

both!(partner_keys_see_their_meetings_only_and_write_nothing, |app: TestApp| async move {
    let mine = partner_id(&app, "Mine").await;
    let other = partner_id(&app, "Other").await;
    let shared = meeting(&app, meeting_body(&[&mine, &other], "2030-03-01T10:00:00+08:00")).await;
    let theirs = meeting(&app, meeting_body(&[&other], "2030-03-02T10:00:00+08:00")).await;
    let shared_url = format!("/api/v1/meetings/{}", id_of(&shared));
    let theirs_url = format!("/api/v1/meetings/{}", id_of(&theirs));
    let own_item = app
        .post(&format!("{shared_url}/action-items"), json!({"title": "mine", "owner": "o", "partner_id": mine}))
        .send()
        .await;
    let their_item = app
        .post(&format!("{shared_url}/action-items"), json!({"title": "theirs", "owner": "o", "partner_id": other}))
        .send()
        .await;
    let key = app.key(Role::Partner, Some(&mine));
    let list = app.get("/api/v1/meetings").key(&key).send().await;
    assert_eq!(list.items().iter().map(id_of).collect::<Vec<_>>(), vec![id_of(&shared)]);
    assert!(app.get(&format!("/api/v1/meetings?partner_id={other}")).key(&key).send().await.items().is_empty());
    let detail = app.get(&shared_url).key(&key).send().await;
    assert_eq!(detail.status, StatusCode::OK);
    let titles: Vec<_> = detail.body["action_items"].as_array().unwrap().iter().map(|i| i["title"].clone()).collect();
    assert_eq!(titles, vec![json!("mine")], "only its own partner's items");
    app.get(&theirs_url).key(&key).send().await.problem(404, "meeting_not_found");
    app.get(&format!("{theirs_url}/calendar.ics")).key(&key).send().await.problem(404, "meeting_not_found");
    app.get(&format!("{theirs_url}/action-items")).key(&key).send().await.problem(404, "meeting_not_found");
    assert_eq!(
        app.get(&format!("/api/v1/action-items/{}", own_item.id())).key(&key).send().await.status,
        StatusCode::OK
    );
    app.get(&format!("/api/v1/action-items/{}", their_item.id()))
        .key(&key)
        .send()
        .await
        .problem(404, "action_item_not_found");
    let items = app.get("/api/v1/action-items").key(&key).send().await;
    assert_eq!(items.items().len(), 1);
    let items = app.get(&format!("{shared_url}/action-items")).key(&key).send().await;
    assert_eq!(items.items().len(), 1);
    // Every write is a 404 for partner keys: they learn nothing.
    app.post("/api/v1/meetings", meeting_body(&[&mine], "2030-03-05T10:00:00+08:00"))
        .key(&key)
        .send()
        .await
        .problem(404, "not_found");
    app.patch(&shared_url, json!({"title": "x"})).key(&key).send().await.problem(404, "not_found");
    app.post(&format!("{shared_url}/action-items"), json!({"title": "t", "owner": "o"}))
        .key(&key)
        .send()
        .await
        .problem(404, "not_found");
    app.patch(&format!("/api/v1/action-items/{}", own_item.id()), json!({"status": "done"}))
        .key(&key)
        .send()
        .await
        .problem(404, "not_found");
    app.get("/api/v1/meeting-series").key(&key).send().await.problem(404, "not_found");
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(app.get(&theirs_url).key(&viewer).send().await.status, StatusCode::OK);
    app.patch(&theirs_url, json!({"title": "x"})).key(&viewer).send().await.problem(403, "forbidden");
    app.patch(&format!("/api/v1/action-items/{}", own_item.id()), json!({"status": "done"}))
        .key(&viewer)
        .send()
        .await
        .problem(403, "forbidden");
});

both!(action_items_lifecycle_and_lists, |app: TestApp| async move {
    let p = partner_id(&app, "P").await;
    let q = partner_id(&app, "Q").await;
    let solo = meeting(&app, meeting_body(&[&p], "2030-03-01T10:00:00+08:00")).await;
    let duo = meeting(&app, meeting_body(&[&p, &q], "2030-03-02T10:00:00+08:00")).await;
    let solo_items = format!("/api/v1/meetings/{}/action-items", id_of(&solo));
    let duo_items = format!("/api/v1/meetings/{}/action-items", id_of(&duo));
    let res = app.post(&solo_items, json!({"title": "报价单", "owner": "张伟", "due_date": "2020-01-10"})).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["partner_id"], p.as_str(), "the only partner by default");
    assert_eq!(res.body["overdue"], true);
    assert_eq!(res.body["status"], "open");
    let overdue_id = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/action-items/{overdue_id}"));
    app.post(&duo_items, json!({"title": "t", "owner": "o"})).send().await.problem(422, "validation_failed");
    let res = app
        .post(&duo_items, json!({"title": "t", "owner": "o", "partner_id": partner_id(&app, "R").await}))
        .send()
        .await;
    assert_eq!(res.fields(), vec!["partner_id"]);
    let res = app
        .post(&duo_items, json!({"title": "t", "owner": "o", "partner_id": q, "due_date": "2031-05-01"}))
        .send()
        .await;
    let later_id = res.id();
    let res = app.post(&duo_items, json!({"title": "undated", "owner": "张伟", "partner_id": q})).send().await;
    let undated_id = res.id();
    for (body, field) in [
        (json!({"owner": "o"}), "title"),
        (json!({"title": "t", "owner": " "}), "owner"),
        (json!({"title": "t", "owner": "o", "due_date": "2030-02-30"}), "due_date"),
    ] {
        let res = app.post(&solo_items, body).send().await;
        assert_eq!(res.fields(), vec![field]);
    }
    let ids = |res: &crate::helpers::Res| res.items().iter().map(id_of).collect::<Vec<_>>();
    let all = app.get("/api/v1/action-items").send().await;
    assert_eq!(ids(&all), vec![overdue_id.clone(), later_id.clone(), undated_id.clone()], "by due date, undated last");
    assert_eq!(ids(&app.get("/api/v1/action-items?overdue=true").send().await), vec![overdue_id.clone()]);
    assert_eq!(
        ids(&app.get("/api/v1/action-items?overdue=false").send().await),
        vec![later_id.clone(), undated_id.clone()]
    );
    assert_eq!(
        ids(&app.get("/api/v1/action-items?owner=%E5%BC%A0%E4%BC%9F").send().await),
        vec![overdue_id.clone(), undated_id.clone()]
    );
    assert_eq!(
        ids(&app.get(&format!("/api/v1/action-items?partner_id={q}")).send().await),
        vec![later_id.clone(), undated_id.clone()]
    );
    let page = app.get("/api/v1/action-items?limit=2").send().await;
    let next = page.body["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&app.get(&format!("/api/v1/action-items?limit=2&cursor={next}")).send().await),
        vec![undated_id.clone()]
    );
    assert_eq!(ids(&app.get(&duo_items).send().await), vec![later_id.clone(), undated_id.clone()]);

    let url = format!("/api/v1/action-items/{overdue_id}");
    let got = app.get(&url).send().await;
    assert_eq!(got.etag(), "\"1\"");
    let res = app.patch(&url, json!({"due_date": "2031-01-01", "title": "报价单 v2"})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["overdue"], false);
    app.patch(&url, json!({"title": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    let res = app.patch(&url, json!({"partner_id": q})).send().await;
    assert_eq!(res.fields(), vec!["partner_id"], "not a partner of that meeting");
    let res = app.patch(&url, json!({"status": "done"})).send().await;
    assert_eq!(res.body["status"], "done");
    assert!(res.body["done_at"].is_string());
    app.patch(&url, json!({"status": "open"})).send().await.problem(409, "action_item_closed");
    assert_eq!(ids(&app.get("/api/v1/action-items?status=done").send().await), vec![overdue_id.clone()]);
    app.get("/api/v1/action-items/0192f0c4-3b9e-7c1a-8f00-000000000000")
        .send()
        .await
        .problem(404, "action_item_not_found");
    app.post("/api/v1/meetings/0192f0c4-3b9e-7c1a-8f00-000000000000/action-items", json!({"title": "t", "owner": "o"}))
        .send()
        .await
        .problem(404, "meeting_not_found");
    assert_eq!(app.get("/api/v1/action-items?overdue=maybe").send().await.fields(), vec!["overdue"]);
});

both!(open_items_carry_over_to_later_meetings_with_the_same_partners, |app: TestApp| async move {
    let p = partner_id(&app, "P").await;
    let q = partner_id(&app, "Q").await;
    let r = partner_id(&app, "R").await;
    let first = meeting(&app, meeting_body(&[&p, &r], "2030-01-06T10:00:00+08:00")).await;
    let second = meeting(&app, meeting_body(&[&q], "2030-02-06T10:00:00+08:00")).await;
    let review = meeting(&app, meeting_body(&[&p, &q], "2030-03-06T10:00:00+08:00")).await;
    let later = meeting(&app, meeting_body(&[&p], "2030-04-06T10:00:00+08:00")).await;
    let add = |m: &Value, title: &str, partner: &str, due: Option<&str>| {
        let url = format!("/api/v1/meetings/{}/action-items", id_of(m));
        let body = json!({"title": title, "owner": "o", "partner_id": partner, "due_date": due});
        let app = &app;
        async move { app.post(&url, body).send().await.id() }
    };
    let open_p = add(&first, "open P", &p, Some("2030-02-01")).await;
    let done_p = add(&first, "done P", &p, None).await;
    add(&first, "open R", &r, None).await;
    let open_q = add(&second, "open Q", &q, Some("2030-01-20")).await;
    add(&review, "own item", &p, None).await;
    add(&later, "later P", &p, None).await;
    app.patch(&format!("/api/v1/action-items/{done_p}"), json!({"status": "done"})).send().await;
    let detail = app.get(&format!("/api/v1/meetings/{}", id_of(&review))).send().await;
    let carried: Vec<String> = detail.body["carried_over_action_items"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(
        carried,
        vec![open_q.clone(), open_p.clone()],
        "open, earlier, this meeting's partners; soonest due first"
    );
    assert_eq!(detail.body["action_items"].as_array().unwrap().len(), 1);
    let key = app.key(Role::Partner, Some(&q));
    let detail = app.get(&format!("/api/v1/meetings/{}", id_of(&review))).key(&key).send().await;
    let carried: Vec<String> = detail.body["carried_over_action_items"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(carried, vec![open_q], "a partner key sees its own partner's items");
    let first_detail = app.get(&format!("/api/v1/meetings/{}", id_of(&first))).send().await;
    assert_eq!(first_detail.body["carried_over_action_items"], json!([]), "nothing before the first meeting");
});

fn reminder_events(app: &TestApp) -> Vec<(String, String, String)> {
    app.with_conn(|c| channeldesk::events::since(c, None, 10_000).unwrap())
        .into_iter()
        .filter(|e| e.event_type == "meeting.reminder" || e.event_type == "action_item.overdue")
        .map(|e| (e.event_type, e.resource_id, e.payload["lead"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// Runs the registered job from two threads at once, as two replicas would.
fn scan_twice_concurrently(app: &TestApp, now: DateTime<Utc>) -> usize {
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let db = app.db.clone();
            std::thread::spawn(move || db.write_blocking(|conn| (reminders::JOB.run)(conn, now)).expect("scan"))
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("thread")).sum()
}

both!(reminders_and_overdue_notices_are_exactly_once_with_two_scanners, |app: TestApp| async move {
    let p = partner_id(&app, "P").await;
    let m = meeting(&app, meeting_body(&[&p], "2030-01-10T10:00:00+08:00")).await;
    let mid = id_of(&m);
    let start: DateTime<Utc> = "2030-01-10T02:00:00Z".parse().unwrap();
    let cancelled = meeting(&app, meeting_body(&[&p], "2030-01-10T11:00:00+08:00")).await;
    app.patch(&format!("/api/v1/meetings/{}", id_of(&cancelled)), json!({"status": "cancelled", "cancel_reason": "r"}))
        .send()
        .await;

    assert_eq!(scan_twice_concurrently(&app, start - Duration::hours(25)), 0, "too early");
    assert_eq!(scan_twice_concurrently(&app, start - Duration::hours(23)), 1);
    assert_eq!(scan_twice_concurrently(&app, start - Duration::hours(22)), 0, "already sent");
    assert_eq!(scan_twice_concurrently(&app, start - Duration::minutes(30)), 1);
    assert_eq!(scan_twice_concurrently(&app, start - Duration::minutes(10)), 0);
    assert_eq!(scan_twice_concurrently(&app, start + Duration::minutes(10)), 0, "started");
    assert_eq!(
        reminder_events(&app),
        vec![
            ("meeting.reminder".to_string(), mid.clone(), "24h".to_string()),
            ("meeting.reminder".to_string(), mid.clone(), "1h".to_string())
        ]
    );
    let events = app.with_conn(|c| channeldesk::events::since(c, None, 10_000).unwrap());
    let r = events.iter().find(|e| e.event_type == "meeting.reminder").unwrap();
    assert_eq!(r.payload["meeting"]["title"], "季度业务回顾");
    assert_eq!(r.payload["partners"][0]["name"], "P");
    assert_eq!(r.payload["lead_minutes"], 1440);
    assert_eq!(r.partner_id.as_deref(), Some(p.as_str()));

    // Moved a day later: reminded again, once per lead.
    app.patch(
        &format!("/api/v1/meetings/{mid}"),
        json!({"starts_at": "2030-01-11T02:00:00Z", "ends_at": "2030-01-11T03:00:00Z"}),
    )
    .send()
    .await;
    let moved = start + Duration::days(1);
    assert_eq!(scan_twice_concurrently(&app, moved - Duration::minutes(45)), 1, "only the 1h lead: 24h is stale");
    assert_eq!(scan_twice_concurrently(&app, moved - Duration::minutes(44)), 0);
    assert_eq!(reminder_events(&app).len(), 3);

    // Overdue action items: once per item and due date.
    let items = format!("/api/v1/meetings/{mid}/action-items");
    let item = app.post(&items, json!({"title": "t", "owner": "o", "due_date": "2030-01-20"})).send().await.id();
    app.post(&items, json!({"title": "undated", "owner": "o"})).send().await;
    let due_end: DateTime<Utc> = "2030-01-20T16:00:00Z".parse().unwrap();
    assert_eq!(scan_twice_concurrently(&app, due_end - Duration::seconds(1)), 0, "still due today in Shanghai");
    assert_eq!(scan_twice_concurrently(&app, due_end), 1);
    assert_eq!(scan_twice_concurrently(&app, due_end + Duration::days(3)), 0);
    app.patch(&format!("/api/v1/action-items/{item}"), json!({"due_date": "2030-02-01"})).send().await;
    assert_eq!(scan_twice_concurrently(&app, due_end + Duration::days(3)), 0);
    assert_eq!(scan_twice_concurrently(&app, "2030-02-02T00:00:00Z".parse().unwrap()), 1, "missed again");
    let overdue: Vec<_> = reminder_events(&app).into_iter().filter(|e| e.0 == "action_item.overdue").collect();
    assert_eq!(overdue.len(), 2);
    assert!(overdue.iter().all(|e| e.1 == item));
    let events = app.with_conn(|c| channeldesk::events::since(c, None, 10_000).unwrap());
    let o = events.iter().find(|e| e.event_type == "action_item.overdue").unwrap();
    assert_eq!(o.payload["meeting"]["title"], "季度业务回顾");
    assert_eq!(o.payload["action_item"]["id"], item.as_str());
    // Done items are never overdue.
    let done = app.post(&items, json!({"title": "done", "owner": "o", "due_date": "2030-01-21"})).send().await.id();
    app.patch(&format!("/api/v1/action-items/{done}"), json!({"status": "done"})).send().await;
    assert_eq!(scan_twice_concurrently(&app, "2030-03-01T00:00:00Z".parse().unwrap()), 0);
});

both!(the_job_runs_through_the_runner_with_configured_leads, |app: TestApp| async move {
    let p = partner_id(&app, "P").await;
    meeting(&app, meeting_body(&[&p], "2030-01-10T10:00:00+08:00")).await;
    let start: DateTime<Utc> = "2030-01-10T02:00:00Z".parse().unwrap();
    // A custom lead through scan itself (the job uses the process-wide setting).
    let leads = channeldesk::config::parse_leads("3h").unwrap();
    let n = app.db.write_blocking(|c| reminders::scan(c, start - Duration::hours(2), &leads)).unwrap();
    assert_eq!(n, 1);
    assert_eq!(reminder_events(&app)[0].2, "3h");
    let n = channeldesk::jobs::run_once(&app.db, reminders::JOB, start - Duration::minutes(30)).await.unwrap();
    assert_eq!(n, 1, "the 1h lead of the defaults");
});

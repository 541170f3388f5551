//! Recurring series: generation (the 31st, DST), limits, editing one or this-and-following,
//! cancelling.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;
use crate::meetings::{id_of, meeting_body, meeting_events};

async fn series(app: &TestApp, template: Value, rule: Value) -> Value {
    let res = app.post("/api/v1/meeting-series", json!({"template": template, "rule": rule})).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

fn starts(s: &Value) -> Vec<String> {
    s["occurrences"].as_array().unwrap().iter().map(|o| o["starts_at"].as_str().unwrap().to_string()).collect()
}

fn occurrence_ids(s: &Value) -> Vec<String> {
    s["occurrences"].as_array().unwrap().iter().map(id_of).collect()
}

both!(monthly_on_the_31st_falls_on_the_last_day, |app: TestApp| async move {
    let p = id_of(&app.partner("P").await);
    let s = series(&app, meeting_body(&[&p], "2027-01-31T10:00:00+08:00"), json!({"frequency": "monthly", "count": 5}))
        .await;
    assert_eq!(
        starts(&s),
        vec![
            "2027-01-31T02:00:00Z",
            "2027-02-28T02:00:00Z",
            "2027-03-31T02:00:00Z",
            "2027-04-30T02:00:00Z",
            "2027-05-31T02:00:00Z"
        ]
    );
    assert_eq!(s["template"]["start_time"], "10:00");
    assert_eq!(s["template"]["starts_on"], "2027-01-31");
    assert_eq!(s["template"]["duration_minutes"], 60);
    assert_eq!(s["rule"], json!({"frequency": "monthly", "interval": 1, "until": null, "count": 5}));
    assert_eq!(s["status"], "active");
    // The occurrences are real meetings.
    let sid = id_of(&s);
    let list = app.get(&format!("/api/v1/meetings?series_id={sid}")).send().await;
    assert_eq!(list.items().len(), 5);
    assert!(list.items().iter().all(|m| m["series_id"] == sid.as_str() && m["status"] == "scheduled"));
    let got = app.get(&format!("/api/v1/meeting-series/{sid}")).send().await;
    assert_eq!(got.etag(), "\"1\"");
    assert_eq!(occurrence_ids(&got.body), occurrence_ids(&s));
    // Quarterly with until: every third month up to and including the date.
    let q = series(
        &app,
        meeting_body(&[&p], "2027-01-31T10:00:00+08:00"),
        json!({"frequency": "quarterly", "until": "2027-10-31"}),
    )
    .await;
    assert_eq!(
        starts(&q),
        vec!["2027-01-31T02:00:00Z", "2027-04-30T02:00:00Z", "2027-07-31T02:00:00Z", "2027-10-31T02:00:00Z"]
    );
    let b = series(
        &app,
        meeting_body(&[&p], "2027-01-04T10:00:00+08:00"),
        json!({"frequency": "biweekly", "interval": 2, "count": 2}),
    )
    .await;
    assert_eq!(starts(&b), vec!["2027-01-04T02:00:00Z", "2027-02-01T02:00:00Z"]);
    let list = app.get("/api/v1/meeting-series").send().await;
    assert_eq!(list.items().len(), 3);
    assert_eq!(list.items()[0]["id"], id_of(&b), "newest first");
    assert_eq!(app.get("/api/v1/meeting-series?status=cancelled").send().await.items().len(), 0);
    let types = meeting_events(&app);
    assert_eq!(types, vec!["meeting_series.scheduled"; 3], "one event per series, not per occurrence");
    let events: Vec<_> = app
        .with_conn(|c| channeldesk::events::since(c, None, 10).unwrap())
        .into_iter()
        .filter(|e| e.event_type.starts_with("meeting_series."))
        .collect();
    assert_eq!(events[0].payload["occurrences"].as_array().unwrap().len(), 5);
    assert_eq!(events[0].payload["partners"][0]["name"], "P");
});

both!(wall_clock_time_holds_across_dst, |app: TestApp| async move {
    let p = id_of(&app.partner("P").await);
    let mut template = meeting_body(&[&p], "2027-03-01T10:00:00-05:00");
    template["timezone"] = json!("America/New_York");
    let s = series(&app, template, json!({"frequency": "weekly", "count": 4})).await;
    // Clocks go forward on 2027-03-14: 10:00 EST is 15:00 UTC, 10:00 EDT is 14:00 UTC.
    assert_eq!(
        starts(&s),
        vec!["2027-03-01T15:00:00Z", "2027-03-08T15:00:00Z", "2027-03-15T14:00:00Z", "2027-03-22T14:00:00Z"]
    );
    let ends: Vec<_> =
        s["occurrences"].as_array().unwrap().iter().map(|o| o["ends_at"].as_str().unwrap().to_string()).collect();
    assert_eq!(ends[2], "2027-03-15T15:00:00Z", "an hour long on the UTC clock too");
    // And back on 2027-11-07, monthly from October.
    let mut template = meeting_body(&[&p], "2027-10-25T09:30:00-04:00");
    template["timezone"] = json!("America/New_York");
    let s = series(&app, template, json!({"frequency": "weekly", "count": 3, "interval": 1})).await;
    assert_eq!(starts(&s), vec!["2027-10-25T13:30:00Z", "2027-11-01T13:30:00Z", "2027-11-08T14:30:00Z"]);
});

both!(series_bad_input, |app: TestApp| async move {
    let p = id_of(&app.partner("P").await);
    let body = |rule: Value| json!({"template": meeting_body(&[&p], "2027-01-04T10:00:00+08:00"), "rule": rule});
    for (rule, field) in [
        (json!({"frequency": "weekly", "count": 201}), "rule.count"),
        (json!({"frequency": "weekly", "count": 0}), "rule.count"),
        (json!({"frequency": "weekly", "until": "2031-01-01"}), "rule.until"),
        (json!({"frequency": "weekly", "until": "2026-01-01"}), "rule.until"),
        (json!({"frequency": "weekly"}), "rule"),
        (json!({"frequency": "weekly", "count": 2, "until": "2027-02-01"}), "rule"),
        (json!({"frequency": "daily", "count": 2}), "rule.frequency"),
        (json!({"frequency": "weekly", "count": 2, "interval": 0}), "rule.interval"),
    ] {
        let res = app.post("/api/v1/meeting-series", body(rule.clone())).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{rule}");
    }
    let ok = app.post("/api/v1/meeting-series", body(json!({"frequency": "weekly", "count": 200}))).send().await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(ok.body["occurrences"].as_array().unwrap().len(), 200);
    let mut template = meeting_body(&[&p], "2027-01-04T10:00:00+08:00");
    template["timezone"] = json!("Europe/Atlantis");
    template["ends_at"] = json!("2027-01-04T01:00:00Z");
    let res = app
        .post("/api/v1/meeting-series", json!({"template": template, "rule": {"frequency": "weekly", "count": 2}}))
        .send()
        .await;
    assert_eq!(res.fields(), vec!["template.ends_at", "template.timezone"]);
    let mut template = meeting_body(&["0192f0c4-3b9e-7c1a-8f00-000000000000"], "2027-01-04T10:00:00+08:00");
    template["agenda"] = json!(["a"]);
    let res = app
        .post("/api/v1/meeting-series", json!({"template": template, "rule": {"frequency": "weekly", "count": 2}}))
        .send()
        .await;
    assert_eq!(res.fields(), vec!["template.partner_ids[0]"]);
    let viewer = app.key(Role::Viewer, None);
    app.post("/api/v1/meeting-series", body(json!({"frequency": "weekly", "count": 2})))
        .key(&viewer)
        .send()
        .await
        .problem(403, "forbidden");
    app.get("/api/v1/meeting-series/0192f0c4-3b9e-7c1a-8f00-000000000000")
        .send()
        .await
        .problem(404, "meeting_series_not_found");
    assert_eq!(app.get("/api/v1/meeting-series").key(&viewer).send().await.status, StatusCode::OK);
});

both!(edit_one_occurrence_or_this_and_following, |app: TestApp| async move {
    let p = id_of(&app.partner("P").await);
    let q = id_of(&app.partner("Q").await);
    let s = series(&app, meeting_body(&[&p], "2030-01-07T10:00:00+08:00"), json!({"frequency": "weekly", "count": 5}))
        .await;
    let sid = id_of(&s);
    let occ = occurrence_ids(&s);
    let surl = format!("/api/v1/meeting-series/{sid}");
    // One occurrence, on its own: the others keep theirs.
    let res = app.patch(&format!("/api/v1/meetings/{}", occ[1]), json!({"title": "特别议程"})).send().await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["series_id"], sid.as_str(), "still part of the series");
    // The fourth is held before the series is edited: it keeps its record.
    app.patch(&format!("/api/v1/meetings/{}", occ[3]), json!({"status": "held", "minutes": "ok"})).send().await;
    // This and following, from the third occurrence: new time, title and partners.
    let res = app
        .patch(
            &surl,
            json!({"from": occ[2], "changes": {"start_time": "14:30", "title": "周会", "partner_ids": [p, q]}}),
        )
        .if_match("\"1\"")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.etag(), "\"2\"");
    assert_eq!(res.body["template"]["start_time"], "14:30");
    assert_eq!(res.body["template"]["title"], "周会");
    assert_eq!(
        starts(&res.body),
        vec![
            "2030-01-07T02:00:00Z",
            "2030-01-14T02:00:00Z",
            "2030-01-21T06:30:00Z",
            "2030-01-28T02:00:00Z",
            "2030-02-04T06:30:00Z"
        ]
    );
    let get = |i: usize| {
        let url = format!("/api/v1/meetings/{}", occ[i]);
        let app = &app;
        async move { app.get(&url).send().await.body }
    };
    assert_eq!(get(0).await["title"], "季度业务回顾");
    assert_eq!(get(1).await["title"], "特别议程");
    let third = get(2).await;
    assert_eq!(third["title"], "周会");
    assert_eq!(third["partner_ids"], json!([p, q]));
    assert_eq!(third["ends_at"], "2030-01-21T07:30:00Z", "keeps its hour");
    assert_eq!(third["version"], 2);
    assert_eq!(get(3).await["title"], "季度业务回顾", "held: untouched");
    // The new partner sees the edited occurrences only.
    let key = app.key(Role::Partner, Some(&q));
    assert_eq!(app.get("/api/v1/meetings").key(&key).send().await.items().len(), 2);
    // From a local date, in another timezone: each keeps its local date and time of day.
    let res = app
        .patch(&surl, json!({"from": "2030-02-01", "changes": {"timezone": "Europe/Berlin", "duration_minutes": 30}}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let last = get(4).await;
    assert_eq!(last["timezone"], "Europe/Berlin");
    assert_eq!(last["starts_at"], "2030-02-04T13:30:00Z", "14:30 in Berlin (UTC+1)");
    assert_eq!(last["ends_at"], "2030-02-04T14:00:00Z");
    for (body, field) in [
        (json!({"from": "next week", "changes": {"title": "x"}}), "from"),
        (json!({"changes": {}}), "changes"),
        (json!({"changes": {"start_time": "9:00"}}), "changes.start_time"),
        (json!({"changes": {"timezone": "Mars/Base"}}), "changes.timezone"),
        (json!({"changes": {"title": "x"}, "status": "cancelled", "cancel_reason": "r"}), "status"),
        (json!({"from": "0192f0c4-3b9e-7c1a-8f00-000000000000", "changes": {"title": "x"}}), "from"),
        (json!({"changes": {"status": "cancelled"}}), "changes.cancel_reason"),
    ] {
        let res = app.patch(&surl, body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{body}");
    }
    app.patch(&surl, json!({"from": "2031-01-01", "changes": {"title": "x"}}))
        .send()
        .await
        .problem(409, "no_scheduled_occurrences");
    app.patch(&surl, json!({"changes": {"title": "x"}}))
        .if_match("\"1\"")
        .send()
        .await
        .problem(412, "version_mismatch");
    app.patch(&surl, json!({"changes": {"title": "x"}})).key(&key).send().await.problem(404, "not_found");
    // Ending the series at a date: those occurrences are cancelled, the series stays.
    let res = app
        .patch(&surl, json!({"from": occ[4], "changes": {"status": "cancelled", "cancel_reason": "改为双周"}}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(get(4).await["status"], "cancelled");
    assert_eq!(res.body["status"], "active");
    assert!(meeting_events(&app).iter().filter(|t| *t == "meeting_series.updated").count() == 3);
});

both!(cancelling_a_series_cancels_future_occurrences_only, |app: TestApp| async move {
    let p = id_of(&app.partner("P").await);
    // Three weeks in the past, three ahead.
    let first = (Utc::now() - Duration::weeks(3) + Duration::hours(1)).to_rfc3339();
    let s = series(&app, meeting_body(&[&p], &first), json!({"frequency": "weekly", "count": 6})).await;
    let occ = occurrence_ids(&s);
    let surl = format!("/api/v1/meeting-series/{}", id_of(&s));
    app.patch(&format!("/api/v1/meetings/{}", occ[0]), json!({"status": "held", "minutes": "done"})).send().await;
    let res = app.patch(&surl, json!({"status": "cancelled"})).send().await;
    assert_eq!(res.fields(), vec!["cancel_reason"]);
    let res = app
        .patch(&surl, json!({"status": "cancelled", "cancel_reason": "渠道合作终止", "from": "2030-01-01"}))
        .send()
        .await;
    assert_eq!(res.fields(), vec!["from"]);
    let res = app.patch(&surl, json!({"status": "cancelled", "cancel_reason": "渠道合作终止"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["status"], "cancelled");
    assert_eq!(res.body["cancel_reason"], "渠道合作终止");
    let statuses: Vec<_> =
        res.body["occurrences"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses, vec!["held", "scheduled", "scheduled", "cancelled", "cancelled", "cancelled"]);
    let future = app.get(&format!("/api/v1/meetings/{}", occ[5])).send().await;
    assert_eq!(future.body["cancel_reason"], "渠道合作终止");
    app.patch(&surl, json!({"changes": {"title": "x"}})).send().await.problem(409, "series_cancelled");
    let events = app.with_conn(|c| channeldesk::events::since(c, None, 100).unwrap());
    let cancelled = events.iter().find(|e| e.event_type == "meeting_series.cancelled").expect("event");
    assert_eq!(cancelled.payload["occurrences"].as_array().unwrap().len(), 3);
    let starts_at: Vec<DateTime<Utc>> = cancelled.payload["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["starts_at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(starts_at.iter().all(|t| *t > Utc::now()));
});

both!(a_retried_series_creation_is_made_once, |app: TestApp| async move {
    let p = id_of(&app.partner("P").await);
    let body = json!({"template": meeting_body(&[&p], "2030-01-07T10:00:00+08:00"), "rule": {"frequency": "weekly", "count": 10}});
    let first = app.post("/api/v1/meeting-series", body.clone()).header("Idempotency-Key", "series-1").send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = app.post("/api/v1/meeting-series", body).header("Idempotency-Key", "series-1").send().await;
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(app.get("/api/v1/meetings").send().await.items().len(), 10, "one set of occurrences");
    // Each occurrence has its own audit trail, and so does the series.
    let audit = app
        .get(&format!("/api/v1/audit-events?resource_type=meeting&resource_id={}", occurrence_ids(&first.body)[0]))
        .send()
        .await;
    assert_eq!(audit.items().len(), 1);
    assert_eq!(audit.items()[0]["action"], "create");
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={}", id_of(&first.body))).send().await;
    assert_eq!(audit.items()[0]["resource_type"], "meeting_series");
    // Meetings are cancelled, not deleted: DELETE is not an operation here.
    let res = app.delete(&format!("/api/v1/meetings/{}", occurrence_ids(&first.body)[0])).send().await;
    res.problem(405, "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, PATCH, HEAD"));
    let res = app.delete(&format!("/api/v1/meeting-series/{}", id_of(&first.body))).send().await;
    assert_eq!(res.header("allow").as_deref(), Some("GET, PATCH, HEAD"));
});

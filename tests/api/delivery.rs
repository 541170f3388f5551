//! The delivery worker against a fake robot on loopback: rendering, signing, byte limits,
//! retries and backoff, permanent errors, order, the per-minute limit, crash recovery and
//! concurrent workers. Time is moved by an injected clock, never slept.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::StatusCode;
use channeldesk::notify::worker::{self, Worker};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::fake_robot::{FakeRobot, Reply};
use crate::helpers::TestApp;

#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(Utc::now())))
    }
    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

pub fn worker(app: &TestApp, clock: &TestClock) -> Worker {
    let c = clock.clone();
    Worker::new(app.db.clone(), app.config.notify.clone()).expect("worker").with_clock(Arc::new(move || c.now()))
}

/// Rounds until the worker has nothing to do at the current (fake) time.
pub async fn drain(w: &Worker) -> usize {
    let mut sent = 0;
    for _ in 0..100 {
        let (fanned, attempted) = w.run_once().await.expect("worker round");
        sent += attempted;
        if fanned == 0 && attempted == 0 {
            return sent;
        }
    }
    panic!("the worker never went idle");
}

pub async fn channel(app: &TestApp, body: Value, event_types: Value) -> String {
    let res = app.post("/api/v1/bot-channels", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    let sub =
        app.post(&format!("/api/v1/bot-channels/{id}/subscriptions"), json!({"event_types": event_types})).send().await;
    assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.text);
    id
}

pub async fn wecom(app: &TestApp, robot: &FakeRobot, key: &str) -> String {
    channel(app, json!({"platform": "wecom", "name": key, "webhook_url": robot.wecom_url(key)}), json!(["partner.*"]))
        .await
}

pub async fn deliveries(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/deliveries?limit=200&{query}")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.items().clone()
}

async fn only_delivery(app: &TestApp, channel: &str) -> Value {
    let mut all = deliveries(app, &format!("channel_id={channel}")).await;
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

both!(events_reach_both_platforms_rendered_signed_and_mentioned, |app: TestApp| async move {
    let app = app.with_config(|c| c.notify.public_base_url = Some("https://desk.example.com".into())).await;
    let robot = FakeRobot::start().await;
    robot.expect_dingtalk(Some("SECc0ffee"), Some("渠道"));
    robot.expect_webhook_secret("whsec-0123456789abcdef");
    let w_id = wecom(&app, &robot, "wk1").await;
    let d_id = channel(
        &app,
        json!({"platform": "dingtalk", "name": "钉钉", "webhook_url": robot.dingtalk_url("dt1"), "secret": "SECc0ffee", "keyword": "渠道"}),
        json!(["partner.created", "partner.status_changed"]),
    )
    .await;
    let hook = app
        .post("/api/v1/webhooks", json!({"name": "crm", "url": robot.hook_url(), "secret": "whsec-0123456789abcdef", "event_types": ["partner.created"]}))
        .send()
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let p = app
        .partner_with(json!({"name": "华东星辰", "channel_type": "indirect", "kind": "agent", "tier": "key", "region": "华东", "owner": "张伟"}))
        .await;
    let pid = p["id"].as_str().unwrap();
    let contact = json!({"name": "张伟", "wecom_userid": "ZhangWei", "dingtalk_userid": "zw001"});
    assert_eq!(app.post(&format!("/api/v1/partners/{pid}/contacts"), contact).send().await.status, StatusCode::CREATED);
    // The contact exists before the worker renders, so the owner is mentioned.
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    assert_eq!(drain(&w).await, 3);
    robot.assert_all_valid();
    let wk = robot.received_by("wk1");
    assert_eq!(wk.len(), 1);
    let text = wk[0].text();
    assert!(text.starts_with("**新伙伴：华东星辰**\n"), "{text}");
    assert!(text.contains("- **等级**：重点伙伴") && text.contains("- **负责人**：张伟"), "{text}");
    assert!(text.contains(&format!("[查看详情](https://desk.example.com/partners/{pid})")), "{text}");
    assert!(text.contains("<@ZhangWei>"), "{text}");
    let dt = robot.received_by("dt1");
    assert_eq!(dt.len(), 1);
    assert_eq!(dt[0].body["markdown"]["title"], "新伙伴：华东星辰");
    assert_eq!(dt[0].body["at"]["atUserIds"], json!(["zw001"]));
    let hooks: Vec<_> = robot.received().into_iter().filter(|r| r.path == "/hook").collect();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].body["type"], "partner.created");
    assert_eq!(hooks[0].headers["content-type"], "application/json");
    assert_eq!(hooks[0].body["data"]["partner"]["id"], pid);
    assert!(hooks[0].body["id"].is_string() && hooks[0].body["occurred_at"].as_str().unwrap().ends_with('Z'));
    for id in [&w_id, &d_id] {
        let d = only_delivery(&app, id).await;
        assert_eq!(d["status"], "sent", "{d}");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["event_type"], "partner.created");
    }
    // A status change goes to both channels; a plain update only to WeCom (partner.*).
    app.patch(&format!("/api/v1/partners/{pid}"), json!({"status": "onboarding"})).send().await;
    app.patch(&format!("/api/v1/partners/{pid}"), json!({"tier": "strategic"})).send().await;
    drain(&w).await;
    robot.assert_all_valid();
    let wk = robot.received_by("wk1");
    assert_eq!(wk.len(), 3);
    assert!(wk[1].text().contains("- **状态**：潜在 → **签约导入中**"), "{}", wk[1].text());
    assert!(wk[2].text().contains("- **等级**：重点伙伴 → 战略伙伴"), "{}", wk[2].text());
    assert_eq!(robot.received_by("dt1").len(), 2);
    assert_eq!(deliveries(&app, "status=sent").await.len(), 6);
    // Nothing is fanned out twice.
    assert_eq!(drain(&w).await, 0);
    assert_eq!(robot.received().len(), 6);
});

both!(filters_and_partner_bound_channels, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let a = app
        .partner_with(
            json!({"name": "A", "channel_type": "indirect", "kind": "agent", "tier": "key", "region": "华东"}),
        )
        .await;
    let b = app
        .partner_with(
            json!({"name": "B", "channel_type": "indirect", "kind": "agent", "tier": "standard", "region": "华北"}),
        )
        .await;
    let c = app
        .partner_with(
            json!({"name": "C", "channel_type": "indirect", "kind": "agent", "tier": "key", "region": "华北"}),
        )
        .await;
    let ids: Vec<&str> = [&a, &b, &c].iter().map(|p| p["id"].as_str().unwrap()).collect();
    let key_tier = app
        .post("/api/v1/bot-channels", json!({"platform": "wecom", "name": "k", "webhook_url": robot.wecom_url("tier")}))
        .send()
        .await
        .id();
    app.post(
        &format!("/api/v1/bot-channels/{key_tier}/subscriptions"),
        json!({"event_types": ["partner.*"], "partner_tiers": ["key"], "regions": ["华北"]}),
    )
    .send()
    .await;
    let bound = app
        .post(
            "/api/v1/bot-channels",
            json!({"platform": "wecom", "name": "b", "webhook_url": robot.wecom_url("bound"), "partner_id": ids[1]}),
        )
        .send()
        .await
        .id();
    app.post(&format!("/api/v1/bot-channels/{bound}/subscriptions"), json!({"event_types": ["*"]})).send().await;
    let off = app
        .post(
            "/api/v1/bot-channels",
            json!({"platform": "wecom", "name": "off", "webhook_url": robot.wecom_url("off"), "enabled": false}),
        )
        .send()
        .await
        .id();
    app.post(&format!("/api/v1/bot-channels/{off}/subscriptions"), json!({"event_types": ["*"]})).send().await;
    // An event about no partner never reaches a bound channel.
    app.raw_event("system.notice", ("system", "1"), None, json!({}));
    drain(&worker(&app, &TestClock::new())).await;
    robot.assert_all_valid();
    let tier: Vec<String> = robot.received_by("tier").iter().map(|r| r.text()).collect();
    assert_eq!(tier.len(), 1, "only C is a key partner in 华北: {tier:?}");
    assert!(tier[0].contains("新伙伴：C"));
    let bound_msgs = robot.received_by("bound");
    assert_eq!(bound_msgs.len(), 1, "the bound chat sees its own partner only");
    assert!(bound_msgs[0].text().contains("新伙伴：B"));
    assert!(robot.received_by("off").is_empty(), "a disabled channel gets nothing");
});

both!(retries_with_backoff_then_dead_then_requeued, |app: TestApp| async move {
    let app = app
        .with_config(|c| {
            c.notify.delivery_backoff_ms = 1000;
            c.notify.delivery_retry_hours = 1;
        })
        .await;
    let robot = FakeRobot::start().await;
    let ch = wecom(&app, &robot, "flaky").await;
    app.partner("Retry me").await;
    robot.script([Reply::Errcode(45009, "api freq out of limit"), Reply::Http(502), Reply::Errcode(-1, "system busy")]);
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    let mut expected_wait = 1000;
    for attempt in 1..=3 {
        drain(&w).await;
        let d = only_delivery(&app, &ch).await;
        assert_eq!(d["status"], "pending", "{d}");
        assert_eq!(d["attempts"], attempt);
        let next: DateTime<Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
        let until = next - clock.now();
        let wait = until.num_milliseconds();
        assert!(
            wait >= expected_wait / 2 - 1 && wait <= expected_wait,
            "attempt {attempt}: waits {wait} ms, base {expected_wait}"
        );
        // Not before its time…
        clock.advance(until - chrono::Duration::milliseconds(1));
        assert_eq!(drain(&w).await, 0, "retried early");
        // …and then it is.
        clock.advance(chrono::Duration::milliseconds(1));
        expected_wait *= 2;
    }
    let errors = only_delivery(&app, &ch).await;
    assert_eq!(errors["last_error"], "system busy");
    assert_eq!(errors["last_errcode"], -1);
    drain(&w).await;
    let d = only_delivery(&app, &ch).await;
    assert_eq!(d["status"], "sent", "{d}");
    assert_eq!(d["attempts"], 4);
    assert_eq!(robot.received().len(), 4);

    // Always busy: dead once the hour since its first attempt is over, then re-queued by hand.
    app.partner("Never").await;
    let mut tries = 0;
    while deliveries(&app, &format!("channel_id={ch}&status=dead")).await.is_empty() {
        robot.script([Reply::Http(503)]);
        tries += drain(&w).await;
        clock.advance(chrono::Duration::minutes(10));
        assert!(tries < 30, "never gave up");
    }
    let dead = deliveries(&app, &format!("channel_id={ch}&status=dead")).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0]["attempts"].as_i64().unwrap() >= 7, "tried every 10 minutes at most: {}", dead[0]);
    assert_eq!(dead[0]["last_error"], "HTTP 503");
    assert_eq!(dead[0]["last_http_status"], 503);
    let url = format!("/api/v1/deliveries/{}", dead[0]["id"].as_str().unwrap());
    let retried = app.post(&format!("{url}/retry"), json!({})).send().await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
    assert_eq!(retried.body["status"], "pending");
    assert_eq!(retried.body["attempts"], 0);
    assert_eq!(retried.body["first_attempt_at"], Value::Null, "a fresh window");
    app.post(&format!("{url}/retry"), json!({})).send().await.problem(409, "delivery_not_retryable");
    drain(&w).await;
    assert_eq!(app.get(&url).send().await.body["status"], "sent");
    app.post(&format!("{url}/retry"), json!({})).send().await.problem(409, "delivery_not_retryable");
    robot.assert_all_valid();
});

both!(permanent_errors_are_not_retried, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let ch = channel(
        &app,
        json!({"platform": "dingtalk", "name": "d", "webhook_url": robot.dingtalk_url("bad")}),
        json!(["partner.*"]),
    )
    .await;
    app.partner("Refused").await;
    robot.script([Reply::Errcode(310000, "keywords not in content")]);
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    drain(&w).await;
    clock.advance(chrono::Duration::hours(2));
    drain(&w).await;
    let d = only_delivery(&app, &ch).await;
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_error"], "keywords not in content");
    assert_eq!(d["last_errcode"], 310000);
    assert_eq!(robot.received().len(), 1, "sent once, never again");
});

both!(order_per_channel_holds_behind_a_retry, |app: TestApp| async move {
    let app = app.with_config(|c| c.notify.delivery_backoff_ms = 10).await;
    let robot = FakeRobot::start().await;
    wecom(&app, &robot, "ordered").await;
    for name in ["一", "二", "三"] {
        app.partner(name).await;
    }
    robot.script([Reply::Http(500)]);
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    drain(&w).await;
    assert_eq!(robot.received().len(), 1, "the others wait behind the failed first one");
    clock.advance(chrono::Duration::seconds(1));
    drain(&w).await;
    let titles: Vec<String> = robot.received().iter().map(|r| r.text().lines().next().unwrap().to_string()).collect();
    assert_eq!(titles, ["**新伙伴：一**", "**新伙伴：一**", "**新伙伴：二**", "**新伙伴：三**"]);
});

both!(per_robot_rate_limit_queues_and_never_drops, |app: TestApp| async move {
    let app = app.with_config(|c| c.notify.bot_rate_per_minute = 3).await;
    let robot = FakeRobot::start().await;
    let ch = wecom(&app, &robot, "busy").await;
    let other = wecom(&app, &robot, "quiet").await;
    app.delete(&format!("/api/v1/bot-channels/{other}")).send().await;
    for i in 0..5 {
        app.partner(&format!("限流{i}")).await;
    }
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    drain(&w).await;
    assert_eq!(robot.received_by("busy").len(), 3, "3 per minute");
    assert_eq!(deliveries(&app, &format!("channel_id={ch}&status=pending")).await.len(), 2);
    clock.advance(chrono::Duration::seconds(30));
    assert_eq!(drain(&w).await, 0, "still within the minute");
    clock.advance(chrono::Duration::seconds(31));
    drain(&w).await;
    assert_eq!(robot.received_by("busy").len(), 5);
    assert_eq!(deliveries(&app, &format!("channel_id={ch}&status=sent")).await.len(), 5);
    let titles: Vec<String> = robot.received().iter().map(|r| r.text().lines().next().unwrap().to_string()).collect();
    assert_eq!(titles, (0..5).map(|i| format!("**新伙伴：限流{i}**")).collect::<Vec<_>>(), "in order");
    // The test endpoint counts toward the limit too.
    let res = app.post(&format!("/api/v1/bot-channels/{ch}/test"), json!({})).send().await;
    assert_eq!(res.status, StatusCode::OK, "the real clock's minute has room: {}", res.text);
    for _ in 0..3 {
        app.post(&format!("/api/v1/bot-channels/{ch}/test"), json!({})).send().await;
    }
    let res = app.post(&format!("/api/v1/bot-channels/{ch}/test"), json!({})).send().await;
    res.problem(429, "rate_limited");
    assert_eq!(res.header("retry-after").as_deref(), Some("60"));
});

both!(a_crashed_senders_claim_expires_and_nothing_is_lost_or_doubled, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let ch = wecom(&app, &robot, "crash").await;
    app.partner("Survivor").await;
    let clock = TestClock::new();
    let first = worker(&app, &clock);
    first.fan_out().await.unwrap();
    // A sender claims the delivery and dies before sending or recording anything.
    let now = clock.now().naive_utc();
    let sealer = app.config.notify.sealer().unwrap();
    let claimed = app.db.write_blocking(|conn| worker::claim(conn, now, 20, 41, 10, Some(&sealer))).unwrap();
    assert_eq!(claimed.len(), 1);
    drop(first);
    // A restarted worker does not touch it while the lease holds…
    let restarted = worker(&app, &clock);
    clock.advance(chrono::Duration::seconds(40));
    assert_eq!(drain(&restarted).await, 0);
    assert!(robot.received().is_empty());
    // …and sends it once the lease has run out.
    clock.advance(chrono::Duration::seconds(2));
    assert_eq!(drain(&restarted).await, 1);
    assert_eq!(robot.received().len(), 1);
    let d = only_delivery(&app, &ch).await;
    assert_eq!(d["status"], "sent");
    assert_eq!(d["attempts"], 2, "the lost claim counts as an attempt");
    // The dead sender's late answer changes nothing.
    let late = channeldesk::notify::send::Attempt {
        outcome: channeldesk::notify::send::Outcome::Permanent,
        http_status: Some(200),
        errcode: Some(93000),
        error: Some("late".into()),
    };
    let (id, token) = (claimed[0].id.clone(), claimed[0].lease_token.clone());
    let policy = worker::RetryPolicy { backoff_base_ms: 1000, retry_hours: 24 };
    let recorded = app.db.write_blocking(|conn| worker::record(conn, &id, &token, now, &late, &policy)).unwrap();
    assert!(!recorded);
    assert_eq!(only_delivery(&app, &ch).await["status"], "sent");
});

both!(two_workers_never_send_the_same_delivery_twice, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    for i in 0..6 {
        wecom(&app, &robot, &format!("r{i}")).await;
    }
    for i in 0..8 {
        app.partner(&format!("并发{i}")).await;
    }
    let clock = TestClock::new();
    let (a, b) = (worker(&app, &clock), worker(&app, &clock));
    // Both replicas fan out and send at the same time until there is nothing left.
    for _ in 0..40 {
        let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        if ra == (0, 0) && rb == (0, 0) {
            break;
        }
    }
    robot.assert_all_valid();
    assert_eq!(deliveries(&app, "").await.len(), 48, "one delivery per event and channel");
    assert_eq!(deliveries(&app, "status=sent").await.len(), 48);
    assert_eq!(robot.received().len(), 48, "and each sent exactly once");
    for i in 0..6 {
        let titles: Vec<String> =
            robot.received_by(&format!("r{i}")).iter().map(|r| r.text().lines().next().unwrap().to_string()).collect();
        assert_eq!(titles, (0..8).map(|j| format!("**新伙伴：并发{j}**")).collect::<Vec<_>>(), "robot r{i} in order");
    }
});

both!(timeouts_are_retried, |app: TestApp| async move {
    let app = app.with_config(|c| c.notify.delivery_timeout_ms = 200).await;
    let robot = FakeRobot::start().await;
    let ch = wecom(&app, &robot, "slow").await;
    app.partner("Slow").await;
    robot.script([Reply::Delay(Duration::from_millis(1500))]);
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    drain(&w).await;
    let d = only_delivery(&app, &ch).await;
    assert_eq!(d["status"], "pending");
    assert_eq!(d["last_error"], "timed out after 200 ms");
    assert!(!d.to_string().contains("127.0.0.1"), "errors never show the robot URL: {d}");
    clock.advance(chrono::Duration::seconds(5));
    drain(&w).await;
    assert_eq!(only_delivery(&app, &ch).await["status"], "sent");
});

// A payload its renderer cannot read (this meeting.held is not a meeting) still goes out, through
// the generic renderer, which an unbound channel may see.
both!(unreadable_payloads_are_rendered_generically_and_split_within_limits, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let w_id = channel(
        &app,
        json!({"platform": "wecom", "name": "w", "webhook_url": robot.wecom_url("long")}),
        json!(["meeting.*"]),
    )
    .await;
    let d_id = channel(
        &app,
        json!({"platform": "dingtalk", "name": "d", "webhook_url": robot.dingtalk_url("longd")}),
        json!(["meeting.*"]),
    )
    .await;
    let decisions: Vec<Value> = (0..120).map(|i| json!({"text": format!("第{i}项决议：调整返点政策")})).collect();
    let mut meeting = serde_json::Map::new();
    for (k, v) in [("id", "m1"), ("title", "季度业务复盘"), ("scheduled_at", "2026-12-01T02:00:00Z"), ("owner", "王芳")]
    {
        meeting.insert(k.into(), json!(v));
    }
    // Forty long agenda fields: far more than WeCom's 4096 bytes.
    for i in 0..40 {
        meeting.insert(
            format!("agenda_{i:02}"),
            json!(format!("议程{i}：{}", "同步华东区域渠道政策与返点安排".repeat(6))),
        );
    }
    let payload = json!({"meeting": meeting, "decisions": decisions});
    app.raw_event("meeting.held", ("meeting", "m1"), None, payload);
    drain(&worker(&app, &TestClock::new())).await;
    robot.assert_all_valid();
    for (key, id) in [("long", &w_id), ("longd", &d_id)] {
        let parts = robot.received_by(key);
        let d = only_delivery(&app, id).await;
        assert_eq!(d["status"], "sent");
        assert_eq!(d["parts_total"].as_u64().unwrap() as usize, parts.len());
        let text = parts[0].text();
        assert!(text.contains("会议已召开：季度业务复盘"), "{text}");
        let all: String = parts.iter().map(|p| p.text()).collect();
        assert!(all.contains("2026-12-01 10:00"), "times in UTC+8: {all}");
        if parts.len() > 1 {
            assert!(text.contains(&format!("（1/{}）", parts.len())), "{text}");
        }
    }
    assert!(robot.received_by("long").len() > 1, "4096 bytes cannot hold it");
    let wecom_all: String = robot.received_by("long").iter().map(|r| r.text()).collect();
    assert!(wecom_all.contains("第0项决议") && wecom_all.contains("等 120 项"));
    assert!(wecom_all.contains("议程0：") && wecom_all.contains("议程39："), "nothing lost between parts");
});

both!(test_message_returns_the_platforms_answer, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let ch = app
        .post(
            "/api/v1/bot-channels",
            json!({"platform": "wecom", "name": "测试群", "webhook_url": robot.wecom_url("t1")}),
        )
        .send()
        .await
        .id();
    let url = format!("/api/v1/bot-channels/{ch}/test");
    let ok = app.post(&url, json!({})).send().await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body, json!({"ok": true, "http_status": 200, "errcode": 0, "errmsg": null, "error": null}));
    assert!(robot.received()[0].text().contains("测试群"));
    robot.script([Reply::Errcode(93000, "invalid webhook url")]);
    let refused = app.post(&url, json!({})).send().await;
    assert_eq!(refused.body["ok"], false);
    assert_eq!(refused.body["errcode"], 93000);
    assert_eq!(refused.body["errmsg"], "invalid webhook url");
    app.post("/api/v1/bot-channels/0192f0c4-3b9e-7c1a-8f00-000000000000/test", json!({}))
        .send()
        .await
        .problem(404, "bot_channel_not_found");
    robot.assert_all_valid();
});

both!(an_event_committed_late_with_a_smaller_id_is_still_fanned_out, |app: TestApp| async move {
    use channeldesk::db::schema::outbox_pending as op;
    use diesel::prelude::*;
    let robot = FakeRobot::start().await;
    let ch =
        channel(&app, json!({"platform": "wecom", "name": "w", "webhook_url": robot.wecom_url("late")}), json!(["*"]))
            .await;
    // A transaction takes its event id, then commits after a later one has been fanned out.
    let early_id = channeldesk::db::new_id();
    app.raw_event("test.second", ("test", "2"), None, json!({"name": "后"}));
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    drain(&w).await;
    // What events::emit writes, with the earlier id: the event and its pending row.
    app.raw_event_with_id(&early_id, "test.first", ("test", "1"), None, json!({"name": "先"}));
    drain(&w).await;
    let sent: Vec<String> = deliveries(&app, &format!("channel_id={ch}"))
        .await
        .iter()
        .map(|d| d["event_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent.len(), 2, "the late event is not skipped: {sent:?}");
    assert!(sent.contains(&"test.first".to_string()));
    // Handled events leave the pending list, so later rounds find nothing to do.
    let pending = app.with_conn(|conn| op::table.count().get_result::<i64>(conn).unwrap());
    assert_eq!(pending, 0);
    assert_eq!(drain(&w).await, 0);
    assert_eq!(robot.received().len(), 2);
});

both!(events_nobody_listens_to_are_only_marked_handled, |app: TestApp| async move {
    use channeldesk::db::schema::outbox_pending as op;
    use diesel::prelude::*;
    app.partner("无人订阅").await;
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    assert_eq!(app.with_conn(|conn| op::table.count().get_result::<i64>(conn).unwrap()), 1);
    drain(&w).await;
    assert_eq!(app.with_conn(|conn| op::table.count().get_result::<i64>(conn).unwrap()), 0);
    // A channel added afterwards starts with the events after it.
    let robot = FakeRobot::start().await;
    let ch =
        channel(&app, json!({"platform": "wecom", "name": "w", "webhook_url": robot.wecom_url("new")}), json!(["*"]))
            .await;
    app.partner("有人订阅").await;
    drain(&w).await;
    let sent = deliveries(&app, &format!("channel_id={ch}")).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(robot.received().len(), 1);
});

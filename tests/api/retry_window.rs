//! Retry by time, not by count: a failing delivery keeps being retried (at most 10 minutes
//! apart) until `CHANNELDESK_DELIVERY_RETRY_HOURS` have passed since its first attempt; only then
//! is it dead, `delivery.dead` announces it, and its channel moves on. Time is the injected clock.

use serde_json::{json, Value};

use crate::both;
use crate::delivery::{channel, deliveries, drain, wecom, worker, TestClock};
use crate::fake_robot::{FakeRobot, Reply};
use crate::helpers::TestApp;

fn titles(robot: &FakeRobot, key: &str) -> Vec<String> {
    robot.received_by(key).iter().map(|r| r.text().lines().next().unwrap_or_default().to_string()).collect()
}

both!(a_robot_that_recovers_within_the_window_gets_every_event_once_in_order, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let ch = wecom(&app, &robot, "flaky").await;
    for name in ["一", "二", "三"] {
        app.partner(name).await;
    }
    // Twelve failures in a row: more than the old attempt limit of ten.
    robot.script(std::iter::repeat_n(Reply::Http(500), 12));
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    for failed in 1..=12 {
        drain(&w).await;
        let head = deliveries(&app, &format!("channel_id={ch}&status=pending")).await;
        assert_eq!(head.len(), 3, "nothing is given up after {failed} failures");
        assert_eq!(robot.received().len(), failed, "only the head is tried, once per retry");
        let tried = head.iter().find(|d| d["attempts"] == failed).expect("the head");
        let next: chrono::DateTime<chrono::Utc> = tried["next_attempt_at"].as_str().unwrap().parse().unwrap();
        assert!(next - clock.now() <= chrono::Duration::minutes(10), "backoff is capped at 10 minutes");
        clock.advance(chrono::Duration::minutes(10));
    }
    drain(&w).await;
    assert_eq!(titles(&robot, "flaky")[12..], ["**新伙伴：一**", "**新伙伴：二**", "**新伙伴：三**"]);
    let sent = deliveries(&app, &format!("channel_id={ch}&status=sent")).await;
    assert_eq!(sent.len(), 3);
    let first = sent.iter().find(|d| d["attempts"] == 13).expect("the head, tried 13 times");
    assert!(first["first_attempt_at"].is_string(), "{first}");
    assert_eq!(drain(&w).await, 0, "and nothing twice");
    assert_eq!(robot.received().len(), 15);
    robot.assert_all_valid();
});

both!(after_the_window_a_delivery_is_dead_announced_and_the_next_one_goes, |app: TestApp| async move {
    let app = app.with_config(|c| c.notify.delivery_retry_hours = 2).await;
    let (down, ops) = (FakeRobot::start().await, FakeRobot::start().await);
    // The failing robot hears about everything, delivery.dead included, but never about itself.
    let ch = channel(
        &app,
        json!({"platform": "wecom", "name": "华东群", "webhook_url": down.wecom_url("down")}),
        json!(["*"]),
    )
    .await;
    channel(
        &app,
        json!({"platform": "wecom", "name": "运维群", "webhook_url": ops.wecom_url("ops")}),
        json!(["delivery.*"]),
    )
    .await;
    app.partner("先到").await;
    app.partner("后到").await;
    let clock = TestClock::new();
    let started = clock.now();
    let w = worker(&app, &clock);
    let mut rounds = 0;
    while deliveries(&app, &format!("channel_id={ch}&status=dead")).await.is_empty() {
        down.script([Reply::Http(503)]);
        drain(&w).await;
        assert!(
            !app.event_types().contains(&"delivery.dead".to_string())
                || clock.now() - started >= chrono::Duration::hours(2)
        );
        clock.advance(chrono::Duration::minutes(10));
        rounds += 1;
        assert!(rounds < 20, "never gave up");
    }
    assert!(clock.now() - started > chrono::Duration::hours(2), "not before the window was over");
    let dead = deliveries(&app, &format!("channel_id={ch}&status=dead")).await.remove(0);
    assert_eq!(dead["last_error"], "HTTP 503");
    assert_eq!(app.event_types().iter().filter(|t| *t == "delivery.dead").count(), 1);
    // The next round tells the ops chat and sends the channel's next delivery.
    drain(&w).await;
    let told = ops.received_by("ops");
    assert_eq!(told.len(), 1, "{told:?}");
    let text = told[0].text();
    assert!(text.starts_with("**消息投递失败：机器人「华东群」**"), "{text}");
    assert!(text.contains("HTTP 503") && text.contains("历时 2 小时"), "{text}");
    assert!(text.contains(&format!("/api/v1/deliveries/{}/retry", dead["id"].as_str().unwrap())), "{text}");
    let after = titles(&down, "down");
    assert_eq!(after.last().map(String::as_str), Some("**新伙伴：后到**"), "the queue moved on: {after:?}");
    assert!(after.iter().all(|t| !t.contains("消息投递失败")), "the broken robot is not told about itself");
    let pending = deliveries(&app, &format!("channel_id={ch}&status=pending")).await;
    assert!(pending.is_empty(), "{pending:?}");
    // Fixed, it is sent again by hand, with a new window.
    let url = format!("/api/v1/deliveries/{}", dead["id"].as_str().unwrap());
    let retried = app.post(&format!("{url}/retry"), json!({})).send().await;
    assert_eq!(retried.body["status"], "pending", "{}", retried.text);
    drain(&w).await;
    assert_eq!(app.get(&url).send().await.body["status"], "sent");
    assert_eq!(titles(&down, "down").last().map(String::as_str), Some("**新伙伴：先到**"));
    down.assert_all_valid();
    ops.assert_all_valid();
});

both!(a_dead_announcement_that_cannot_be_delivered_is_not_announced_again, |app: TestApp| async move {
    let app = app.with_config(|c| c.notify.delivery_retry_hours = 1).await;
    let robot = FakeRobot::start().await;
    let a = wecom(&app, &robot, "a").await;
    let b = channel(&app, json!({"platform": "wecom", "name": "b", "webhook_url": robot.wecom_url("b")}), json!(["*"]))
        .await;
    app.partner("无人接收").await;
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    // Every robot is down for the whole test.
    robot.script(std::iter::repeat_n(Reply::Http(503), 500));
    for _ in 0..40 {
        drain(&w).await;
        clock.advance(chrono::Duration::minutes(10));
    }
    assert_eq!(deliveries(&app, &format!("channel_id={a}&status=dead")).await.len(), 1);
    let b_dead: Vec<Value> = deliveries(&app, &format!("channel_id={b}&status=dead")).await;
    let types: Vec<&str> = b_dead.iter().map(|d| d["event_type"].as_str().unwrap()).collect();
    assert!(types.contains(&"partner.created") && types.contains(&"delivery.dead"), "{types:?}");
    assert_eq!(
        app.event_types().iter().filter(|t| *t == "delivery.dead").count(),
        2,
        "one for a's and one for b's partner.created; none for the announcement b could not take"
    );
});

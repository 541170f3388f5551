//! The messages the evaluation rooms' events become (`performance.imported`, `target.agreed`,
//! `target.missed`), delivered through the worker to WeCom and DingTalk robots: internal chats get
//! all three, a chat bound to the target's partner its targets only, another partner's chat
//! nothing.

use actix_web::http::{Method, StatusCode};
use serde_json::json;

use crate::both;
use crate::delivery::{channel, drain, worker, TestClock};
use crate::fake_robot::FakeRobot;
use crate::helpers::TestApp;
use crate::performance::pid;
use crate::room_messages::{last_event, rendered};

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().expect("time")
}

fn texts(robot: &FakeRobot, key: &str) -> Vec<String> {
    robot.received_by(key).iter().map(|r| r.text()).collect()
}

/// The one text a robot key received whose title is `title`.
#[track_caller]
fn text_titled(robot: &FakeRobot, key: &str, title: &str) -> String {
    let found: Vec<String> = texts(robot, key).into_iter().filter(|t| t.starts_with(&format!("**{title}**"))).collect();
    assert_eq!(found.len(), 1, "{key}: {title}: {:#?}", texts(robot, key));
    found[0].clone()
}

/// A partner with three months of revenue (7,500 yuan), a Q1 revenue target of 10,000 yuan
/// agreed, and the missed-target scan run after the quarter.
async fn evaluated(app: &TestApp, name: &str) -> String {
    let a = pid(&app.partner(name).await);
    let csv = format!("partner_id,period,revenue,units\n{a},2027-01,3000,5\n{a},2027-02,2500,4\n{a},2027-03,2000,3\n");
    let res = app.req(Method::POST, "/api/v1/performance-records/import").raw("text/csv", csv).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let body = json!({"partner_id": a, "period": "2027-Q1", "metric": "revenue", "target_value": 1_000_000});
    let res = app.post("/api/v1/targets", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = app.patch(&format!("/api/v1/targets/{}", res.id()), json!({"status": "agreed"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let missed = app.with_conn(|c| channeldesk::targets::missed::run(c, at("2027-04-10T00:00:00Z")));
    assert_eq!(missed.expect("scan"), 1);
    a
}

both!(evaluation_events_reach_both_platforms_and_only_their_partners_chat, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let types = json!(["performance.*", "target.*"]);
    channel(&app, json!({"platform": "wecom", "name": "w", "webhook_url": robot.wecom_url("ew")}), types.clone()).await;
    channel(&app, json!({"platform": "dingtalk", "name": "d", "webhook_url": robot.dingtalk_url("ed")}), types.clone())
        .await;
    let b = pid(&app.partner("江南渠道").await);
    let a = evaluated(&app, "华东星辰").await;
    for (key, partner) in [("ba", &a), ("bb", &b)] {
        let body =
            json!({"platform": "wecom", "name": key, "webhook_url": robot.wecom_url(key), "partner_id": partner});
        channel(&app, body, types.clone()).await;
    }
    drain(&worker(&app, &TestClock::new())).await;
    robot.assert_all_valid();

    let imported = text_titled(&robot, "ew", "业绩数据导入：2027-01 至 2027-03");
    assert!(
        imported.contains(
            "- **类型**：业绩数据\n- **方式**：仅新增\n- **新增**：3 条\n- **更新**：0 条\n- **月份**：2027-01、2027-02、2027-03"
        ),
        "{imported}"
    );
    let agreed = text_titled(&robot, "ew", "目标已确认：华东星辰 2027-Q1 销售额");
    assert!(
        agreed.contains("- **伙伴**：华东星辰\n- **周期**：2027-Q1\n- **指标**：销售额\n- **目标**：CNY 10,000.00\n- **当前完成**：CNY 7,500.00（75%）\n- **确认时间**："),
        "{agreed}"
    );
    let missed = text_titled(&robot, "ew", "目标未达成：华东星辰 2027-Q1 销售额");
    assert!(
        missed.contains("- **目标**：CNY 10,000.00\n- **实际完成**：CNY 7,500.00\n- **完成率**：75%\n- **差距**：CNY 2,500.00\n- **结算时间**："),
        "{missed}"
    );
    assert_eq!(texts(&robot, "ew").len(), 3, "{:#?}", texts(&robot, "ew"));

    // DingTalk: the same messages, titled in the markdown body.
    let ding = robot.received_by("ed");
    let titles: Vec<&str> = ding.iter().filter_map(|r| r.body["markdown"]["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "业绩数据导入：2027-01 至 2027-03",
            "目标已确认：华东星辰 2027-Q1 销售额",
            "目标未达成：华东星辰 2027-Q1 销售额"
        ]
    );
    assert!(ding[1].text().contains("- **当前完成**：CNY 7,500.00（75%）"), "{}", ding[1].text());
    assert!(ding[2].text().contains("- **差距**：CNY 2,500.00"), "{}", ding[2].text());

    // The partner's own chat gets its targets, not the import (which spans every partner).
    let own = texts(&robot, "ba");
    assert_eq!(own.len(), 2, "{own:#?}");
    assert!(own[0].starts_with("**目标已确认：华东星辰 2027-Q1 销售额**"), "{own:#?}");
    assert!(own[1].starts_with("**目标未达成：华东星辰 2027-Q1 销售额**"), "{own:#?}");
    assert!(texts(&robot, "bb").is_empty(), "another partner's chat hears nothing: {:#?}", texts(&robot, "bb"));
});

both!(evaluation_renderers_refuse_readers_they_are_not_for, |app: TestApp| async move {
    let b = pid(&app.partner("江南渠道").await);
    let a = evaluated(&app, "华东星辰").await;
    let target = last_event(&app, "target.agreed");
    assert_eq!(rendered(&app, &target, Some(&a)).title, "目标已确认：华东星辰 2027-Q1 销售额");
    let refused = |event_type: &str, viewer: &str| {
        let event = last_event(&app, event_type);
        app.with_conn(|c| channeldesk::notify::render::render(c, &event, Some(viewer))).is_err()
    };
    assert!(refused("target.agreed", &b), "another partner's chat");
    assert!(refused("target.missed", &b), "another partner's chat");
    assert!(refused("performance.imported", &a), "an import is not one partner's");
});

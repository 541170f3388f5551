//! Meeting, bulletin, contract and risk events through the delivery worker to a fake robot:
//! subscription filters (tier, region, partner, minimum importance), partner-bound channels and
//! what they are shown, and @mentions on both platforms.

use actix_web::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both;
use crate::contracts::{active_contract, draft_with, id, term};
use crate::delivery::{drain, worker, TestClock};
use crate::fake_robot::FakeRobot;
use crate::helpers::TestApp;
use crate::meetings::{meeting, meeting_body};

/// A WeCom channel (optionally bound to a partner) with one subscription.
async fn subscribed(app: &TestApp, robot: &FakeRobot, key: &str, partner: Option<&str>, sub: Value) {
    let mut body = json!({"platform": "wecom", "name": key, "webhook_url": robot.wecom_url(key)});
    if let Some(p) = partner {
        body["partner_id"] = json!(p);
    }
    let res = app.post("/api/v1/bot-channels", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = app.post(&format!("/api/v1/bot-channels/{}/subscriptions", res.id()), sub).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
}

async fn onboarding(app: &TestApp, name: &str, tier: &str, region: &str) -> String {
    let p = app
        .partner_with(
            json!({"name": name, "channel_type": "indirect", "kind": "agent", "tier": tier, "region": region}),
        )
        .await;
    let pid = id(&p);
    let res = app.patch(&format!("/api/v1/partners/{pid}"), json!({"status": "onboarding"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    pid
}

async fn bulletin(app: &TestApp, title: &str, importance: &str, audience: Value) {
    let body = json!({"title": title, "body": format!("{title}正文"), "category": "policy", "importance": importance, "audience": audience});
    let res = app.post("/api/v1/bulletins", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = app.req(Method::POST, &format!("/api/v1/bulletins/{}/publish", res.id())).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}

/// Every message text a robot key received.
fn texts(robot: &FakeRobot, key: &str) -> Vec<String> {
    robot.received_by(key).iter().map(|r| r.text()).collect()
}

/// The one message whose title starts with `title`.
#[track_caller]
fn message(robot: &FakeRobot, key: &str, title: &str) -> String {
    let found: Vec<String> = texts(robot, key).into_iter().filter(|t| t.starts_with(&format!("**{title}"))).collect();
    assert_eq!(found.len(), 1, "{key}: {title}: {found:#?}");
    found[0].clone()
}

fn got(robot: &FakeRobot, key: &str, title: &str) -> bool {
    texts(robot, key).iter().any(|t| t.starts_with(&format!("**{title}")))
}

both!(room_events_follow_filters_and_bindings_and_partners_see_their_own_side, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let a = onboarding(&app, "华东星辰", "key", "华东").await;
    let b = onboarding(&app, "江南渠道", "standard", "华北").await;
    let c = onboarding(&app, "西部数码", "strategic", "华东").await;
    let types = json!(["meeting.*", "bulletin.*", "contract.*", "risk.*"]);
    subscribed(&app, &robot, "all", None, json!({"event_types": types})).await;
    subscribed(&app, &robot, "key", None, json!({"event_types": types, "partner_tiers": ["key"]})).await;
    subscribed(&app, &robot, "north", None, json!({"event_types": types, "regions": ["华北"]})).await;
    subscribed(&app, &robot, "onlyc", None, json!({"event_types": types, "partner_ids": [c]})).await;
    subscribed(&app, &robot, "important", None, json!({"event_types": ["bulletin.*"], "min_importance": "important"}))
        .await;
    subscribed(&app, &robot, "bound_a", Some(&a), json!({"event_types": ["*"]})).await;
    subscribed(&app, &robot, "bound_b", Some(&b), json!({"event_types": ["*"]})).await;

    let mut joint = meeting_body(&[&a, &b], "2030-01-07T10:00:00+08:00");
    joint["title"] = json!("联合复盘");
    let joint = meeting(&app, joint).await;
    let held = json!({"status": "held", "minutes": "纪要", "action_items": [
        {"title": "星辰待办", "owner": "张三", "partner_id": a},
        {"title": "江南待办", "owner": "李四", "partner_id": b}]});
    let res = app.patch(&format!("/api/v1/meetings/{}", id(&joint)), held).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let mut own = meeting_body(&[&c], "2030-01-08T10:00:00+08:00");
    own["title"] = json!("西部专场");
    meeting(&app, own).await;
    bulletin(&app, "星辰专属通知", "normal", json!({"partner_ids": [a]})).await;
    bulletin(&app, "全员紧急通知", "urgent", json!({"all": true})).await;
    draft_with(&app, json!({"partner_id": c, "number": "HT-C"})).await;
    let excl = term("exclusivity", json!({"territories": ["上海"], "product_lines": ["服务器"]}));
    for (partner, number) in [(&a, "HT-A"), (&b, "HT-B")] {
        active_contract(
            &app,
            json!({"partner_id": partner, "number": number, "effective_from": "2026-01-01", "effective_to": "2099-12-31"}),
            vec![excl.clone()],
        )
        .await;
    }
    let announced = app.with_conn(|conn| channeldesk::contracts::risks::scan::run(conn, chrono::Utc::now())).unwrap();
    assert_eq!(announced, 1);

    drain(&worker(&app, &TestClock::new())).await;
    robot.assert_all_valid();

    let expect = |key: &str, title: &str, wanted: bool| {
        assert_eq!(got(&robot, key, title), wanted, "{key} receiving {title}: {:#?}", texts(&robot, key));
    };
    for title in [
        "会议安排：联合复盘",
        "会议纪要：联合复盘",
        "会议安排：西部专场",
        "公告：星辰专属通知",
        "【紧急】公告：全员紧急通知",
        "新合同：HT-C",
        "合同生效：HT-A",
        "合同生效：HT-B",
        "风险预警：独家授权重叠",
    ] {
        expect("all", title, true);
    }
    // Tier key: 华东星辰 only.
    for (title, wanted) in [
        ("会议纪要：联合复盘", true),
        ("会议安排：西部专场", false),
        ("公告：星辰专属通知", true),
        ("【紧急】公告：全员紧急通知", true),
        ("新合同：HT-C", false),
        ("合同生效：HT-A", true),
        ("合同生效：HT-B", false),
        ("风险预警：独家授权重叠", true),
    ] {
        expect("key", title, wanted);
    }
    // Region 华北: 江南渠道 only.
    for (title, wanted) in [
        ("会议纪要：联合复盘", true),
        ("会议安排：西部专场", false),
        ("公告：星辰专属通知", false),
        ("【紧急】公告：全员紧急通知", true),
        ("合同生效：HT-A", false),
        ("合同生效：HT-B", true),
        ("风险预警：独家授权重叠", true),
    ] {
        expect("north", title, wanted);
    }
    // Partner id 西部数码.
    for (title, wanted) in [
        ("会议安排：联合复盘", false),
        ("会议安排：西部专场", true),
        ("公告：星辰专属通知", false),
        ("【紧急】公告：全员紧急通知", true),
        ("新合同：HT-C", true),
        ("合同生效：HT-A", false),
        ("风险预警：独家授权重叠", false),
    ] {
        expect("onlyc", title, wanted);
    }
    assert_eq!(texts(&robot, "important").len(), 1, "only the urgent bulletin: {:#?}", texts(&robot, "important"));
    expect("important", "【紧急】公告：全员紧急通知", true);

    // Bound chats: their partner's events only, each rendered for that partner.
    for (key, own_title, other_title) in
        [("bound_a", "合同生效：HT-A", "合同生效：HT-B"), ("bound_b", "合同生效：HT-B", "合同生效：HT-A")]
    {
        expect(key, "会议纪要：联合复盘", true);
        expect(key, "会议安排：西部专场", false);
        expect(key, "【紧急】公告：全员紧急通知", true);
        expect(key, "新合同：HT-C", false);
        expect(key, own_title, true);
        expect(key, other_title, false);
    }
    expect("bound_a", "公告：星辰专属通知", true);
    expect("bound_b", "公告：星辰专属通知", false);
    let minutes_a = message(&robot, "bound_a", "会议纪要：联合复盘");
    assert!(minutes_a.contains("星辰待办") && !minutes_a.contains("江南待办"), "{minutes_a}");
    let minutes_b = message(&robot, "bound_b", "会议纪要：联合复盘");
    assert!(minutes_b.contains("江南待办") && !minutes_b.contains("星辰待办"), "{minutes_b}");
    let joint_staff = message(&robot, "all", "会议安排：联合复盘");
    assert!(joint_staff.contains("- **伙伴**：华东星辰、江南渠道"), "{joint_staff}");
    let joint_a = message(&robot, "bound_a", "会议安排：联合复盘");
    assert!(joint_a.contains("- **伙伴**：华东星辰") && !joint_a.contains("江南渠道"), "{joint_a}");
    let joint_b = message(&robot, "bound_b", "会议安排：联合复盘");
    assert!(joint_b.contains("- **伙伴**：江南渠道") && !joint_b.contains("华东星辰"), "{joint_b}");
    let minutes_staff = message(&robot, "all", "会议纪要：联合复盘");
    assert!(minutes_staff.contains("星辰待办") && minutes_staff.contains("江南待办"), "{minutes_staff}");
    assert!(message(&robot, "all", "【紧急】公告：全员紧急通知").contains("**接收伙伴**：3 家"));
    assert!(!message(&robot, "bound_a", "【紧急】公告：全员紧急通知").contains("接收伙伴"));

    let staff_risk = message(&robot, "all", "风险预警：独家授权重叠");
    assert!(staff_risk.contains("华东星辰") && staff_risk.contains("江南渠道") && staff_risk.contains("HT-B"));
    for (key, own, other_name, other_number) in
        [("bound_a", "HT-A", "江南渠道", "HT-B"), ("bound_b", "HT-B", "华东星辰", "HT-A")]
    {
        let risk = message(&robot, key, "风险预警：独家授权重叠");
        assert!(risk.contains(own) && risk.contains("另一渠道成员"), "{key}: {risk}");
        assert!(!risk.contains(other_name) && !risk.contains(other_number), "{key} sees the other side: {risk}");
    }
});

both!(a_held_meeting_reaches_both_platforms_with_mentions, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    robot.expect_dingtalk(Some("SECmeeting-secret"), Some("纪要"));
    crate::delivery::channel(
        &app,
        json!({"platform": "wecom", "name": "w", "webhook_url": robot.wecom_url("wm")}),
        json!(["meeting.held"]),
    )
    .await;
    crate::delivery::channel(
        &app,
        json!({"platform": "dingtalk", "name": "d", "webhook_url": robot.dingtalk_url("dm"), "secret": "SECmeeting-secret", "keyword": "纪要"}),
        json!(["meeting.held"]),
    )
    .await;
    let p = app.partner("华东星辰").await;
    let pid = id(&p);
    let contact = app
        .post(
            &format!("/api/v1/partners/{pid}/contacts"),
            json!({"name": "张伟", "wecom_userid": "ZhangWei", "dingtalk_userid": "zw001"}),
        )
        .send()
        .await
        .id();
    let mut body = meeting_body(&[&pid], "2030-01-07T10:00:00+08:00");
    body["attendees"] =
        json!([{"contact_id": contact}, {"name": "王芳", "wecom_userid": "WangFang", "dingtalk_userid": "wf01"}]);
    let m = meeting(&app, body).await;
    let held = json!({"status": "held", "minutes": "销量达成 92%", "decisions": ["返点提高到3.5%"],
                      "action_items": [{"title": "提交推广计划", "owner": "张伟", "due_date": "2030-01-20"}]});
    let res = app.patch(&format!("/api/v1/meetings/{}", id(&m)), held).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    drain(&worker(&app, &TestClock::new())).await;
    robot.assert_all_valid();
    let wecom = robot.received_by("wm");
    assert_eq!(wecom.len(), 1, "meeting.scheduled is not subscribed");
    let text = wecom[0].text();
    assert!(
        text.starts_with("**会议纪要：季度业务回顾**\n- **时间**：2030-01-07（周一）10:00–11:00（北京时间）"),
        "{text}"
    );
    assert!(text.contains("**决议**（1 项）\n1. 返点提高到3.5%"), "{text}");
    assert!(text.contains("- 提交推广计划（负责人：张伟，截止：2030-01-20）"), "{text}");
    assert!(text.ends_with("<@ZhangWei> <@WangFang>"), "the owner first, then attendees: {text}");
    let ding = robot.received_by("dm");
    assert_eq!(ding.len(), 1);
    assert_eq!(ding[0].body["markdown"]["title"], "会议纪要：季度业务回顾");
    assert_eq!(ding[0].body["at"]["atUserIds"], json!(["zw001", "wf01"]));
    assert!(ding[0].text().contains("@zw001 @wf01"), "{}", ding[0].text());
    assert!(ding[0].query.contains_key("sign"), "signed");
});

both!(a_bound_channel_gets_only_a_headline_when_a_renderer_fails, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let a = id(&app.partner("华东星辰").await);
    let b = id(&app.partner("江南渠道").await);
    subscribed(&app, &robot, "staff", None, json!({"event_types": ["risk.*"]})).await;
    subscribed(&app, &robot, "bound", Some(&a), json!({"event_types": ["risk.*"]})).await;
    // A payload the risk renderer cannot read, naming the other partner.
    let payload = json!({"partner_ids": [a, b], "risks": "unreadable", "note": "江南渠道的报价底线"});
    app.raw_event("risk.raised", ("contract", "k1"), Some(&a), payload);
    drain(&worker(&app, &TestClock::new())).await;
    robot.assert_all_valid();
    let bound = texts(&robot, "bound");
    assert_eq!(bound, ["**风险预警**\n> 事件：risk.raised"], "nothing from the payload");
    let staff = texts(&robot, "staff");
    assert_eq!(staff.len(), 1);
    assert!(staff[0].contains("江南渠道的报价底线"), "an internal chat gets the generic rendering: {}", staff[0]);
});

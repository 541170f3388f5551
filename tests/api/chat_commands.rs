//! The chat commands for meetings, bulletins, risks, expiring contracts, action items and
//! performance (业绩), and
//! the partner command's sections, through the signed DingTalk and encrypted WeCom callbacks:
//! what staff chats see, what a chat bound to a partner (or a partner's contact) sees, and replies
//! cut to each platform's limit.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::{Method, StatusCode};
use channeldesk::contracts::risks::business_date;
use channeldesk::platforms::format;
use channeldesk::platforms::xml;
use channeldesk::platforms::Platform;
use chrono::{DateTime, Datelike, Duration, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::callbacks::{
    cipher, configured, ding, ding_text, open_reply, reply_text, text_message_from, wecom_post, wecom_request,
};
use crate::contracts::{active_contract, draft_with, id};
use crate::helpers::TestApp;
use crate::meetings::{meeting, meeting_body};

static MSG: AtomicUsize = AtomicUsize::new(1);

fn msg_id() -> String {
    format!("cmd-{}", MSG.fetch_add(1, Ordering::SeqCst))
}

/// The DingTalk reply (markdown text) to `text` from `sender` in `chat`.
async fn ask(app: &TestApp, text: &str, chat: &str, sender: &str) -> String {
    reply_text(&ding(app, ding_text(text, &msg_id(), sender, chat)).await)
}

/// The WeCom app reply (plain text) to `text` from the WeCom user `from`.
async fn ask_wecom(app: &TestApp, text: &str, from: &str) -> String {
    let res = wecom_post(app, &text_message_from(text, &msg_id(), from)).await;
    let inner = open_reply(&res);
    let reply = xml::parse_flat(&inner).expect("reply XML");
    reply.get("Content").expect("Content").to_string()
}

/// Partners 华东星辰 (contact 张伟: dingtalk zw001, wecom ZhangWei) and 江南渠道 (contact 李娜:
/// dingtalk ln01, wecom LiNa), both onboarding; DingTalk chats `cid-a` bound to the first,
/// `cid-b` to the second, and `cid-staff` unbound.
async fn setup(app: &TestApp) -> (String, String) {
    let mut ids = Vec::new();
    for (name, contact) in [
        ("华东星辰", json!({"name": "张伟", "dingtalk_userid": "zw001", "wecom_userid": "ZhangWei"})),
        ("江南渠道", json!({"name": "李娜", "dingtalk_userid": "ln01", "wecom_userid": "LiNa"})),
    ] {
        let pid = id(&app.partner(name).await);
        let res = app.patch(&format!("/api/v1/partners/{pid}"), json!({"status": "onboarding"})).send().await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let res = app.post(&format!("/api/v1/partners/{pid}/contacts"), contact).send().await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        ids.push(pid);
    }
    for (chat, partner) in [("cid-a", Some(&ids[0])), ("cid-b", Some(&ids[1])), ("cid-staff", None)] {
        let body = json!({"platform": "dingtalk", "name": chat, "partner_id": partner, "chat_id": chat,
                          "webhook_url": format!("https://oapi.dingtalk.com/robot/send?access_token={chat}")});
        let res = app.post("/api/v1/bot-channels", body).send().await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    (ids[0].clone(), ids[1].clone())
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn meeting_at(app: &TestApp, partners: &[&str], title: &str, starts: DateTime<Utc>) -> Value {
    let mut body = meeting_body(partners, &rfc(starts));
    body["title"] = json!(title);
    meeting(app, body).await
}

/// The China Standard Time date of an instant.
fn cst(t: DateTime<Utc>) -> chrono::NaiveDate {
    business_date(t)
}

both!(meetings_command_lists_scheduled_meetings_in_the_chats_scope, |app: TestApp| async move {
    let app = configured(app).await;
    let (a, b) = setup(&app).await;
    let now = Utc::now();
    let soon = now + Duration::hours(2);
    let in3 = now + Duration::days(3);
    meeting_at(&app, &[&a], "星辰周会", soon).await;
    meeting_at(&app, &[&b], "江南复盘", in3).await;
    meeting_at(&app, &[&a], "远期规划", now + Duration::days(10)).await;
    let gone = meeting_at(&app, &[&a], "已取消会", now + Duration::days(1)).await;
    let res = app
        .patch(&format!("/api/v1/meetings/{}", id(&gone)), json!({"status": "cancelled", "cancel_reason": "改期"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    let staff = ask(&app, "会议", "cid-staff", "wf01").await;
    assert!(staff.starts_with("#### 未来 7 天的会议"), "{staff}");
    assert!(staff.contains("星辰周会｜华东星辰") && staff.contains("江南复盘｜江南渠道"), "{staff}");
    assert!(!staff.contains("远期规划") && !staff.contains("已取消会"), "{staff}");
    assert!(staff.find("星辰周会") < staff.find("江南复盘"), "in start order: {staff}");
    let bound = ask(&app, "meetings", "cid-a", "wf01").await;
    assert!(bound.contains("星辰周会") && !bound.contains("江南复盘"), "{bound}");
    assert!(!bound.contains("｜华东星辰"), "a partner's chat is not told partner names: {bound}");
    let bound_b = ask(&app, "会议", "cid-b", "wf01").await;
    assert!(bound_b.contains("江南复盘") && !bound_b.contains("星辰周会"), "{bound_b}");

    let today = ask(&app, "会议 今天", "cid-staff", "wf01").await;
    assert!(today.starts_with("#### 今天的会议"), "{today}");
    assert_eq!(today.contains("星辰周会"), cst(soon) == cst(now), "{today}");
    assert!(!today.contains("江南复盘"), "{today}");
    let week = ask(&app, "meetings week", "cid-staff", "wf01").await;
    let monday = cst(now) + Duration::days(7 - i64::from(cst(now).weekday().num_days_from_monday()));
    assert_eq!(week.contains("星辰周会"), cst(soon) < monday, "{week}");
    assert_eq!(week.contains("江南复盘"), cst(in3) < monday, "{week}");
    assert!(!week.contains("远期规划"), "{week}");
    assert!(ask(&app, "会议 明年", "cid-staff", "wf01").await.contains("用法：会议"), "an unknown range: usage");

    // WeCom: the sender's contact decides the scope (no registered chat in an app's messages).
    let zhang = ask_wecom(&app, "meetings", "ZhangWei").await;
    assert!(zhang.starts_with("未来 7 天的会议\n"), "{zhang}");
    assert!(zhang.contains("星辰周会") && !zhang.contains("江南复盘"), "{zhang}");
    let staff = ask_wecom(&app, "会议", "WangFang").await;
    assert!(staff.contains("星辰周会") && staff.contains("江南复盘"), "{staff}");
    // A contact of both partners cannot be told which one is asking: nothing (fail closed).
    for pid in [&a, &b] {
        let res = app
            .post(&format!("/api/v1/partners/{pid}/contacts"), json!({"name": "双重", "wecom_userid": "Both"}))
            .send()
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    let both = ask_wecom(&app, "会议", "Both").await;
    assert!(both.contains("没有已安排的会议") && !both.contains("星辰周会"), "{both}");
});

both!(bulletins_command_shows_bulletins_in_force_addressed_to_the_chat, |app: TestApp| async move {
    let app = configured(app).await;
    let (a, _b) = setup(&app).await;
    let post = |title: &'static str, importance: &'static str, audience: Value| {
        let app = &app;
        async move {
            let body = json!({"title": title, "body": "正文", "category": "policy", "importance": importance, "audience": audience});
            let res = app.post("/api/v1/bulletins", body).send().await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
            res.id()
        }
    };
    let publish = |bid: String| {
        let app = &app;
        async move {
            let res = app.req(Method::POST, &format!("/api/v1/bulletins/{bid}/publish")).send().await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        }
    };
    publish(post("星辰专属", "important", json!({"partner_ids": [a]})).await).await;
    publish(post("全员通知", "normal", json!({"all": true})).await).await;
    let expired = post("过期通知", "urgent", json!({"all": true})).await;
    publish(expired.clone()).await;
    post("草稿通知", "normal", json!({"all": true})).await;
    let withdrawn = post("已撤通知", "normal", json!({"all": true})).await;
    publish(withdrawn.clone()).await;
    let res = app.req(Method::POST, &format!("/api/v1/bulletins/{withdrawn}/archive")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // Its expiry passes (it had to be in the future when published).
    app.with_conn(|conn| {
        use channeldesk::db::schema::bulletins as bt;
        use diesel::prelude::*;
        diesel::update(bt::table.find(&expired))
            .set(bt::expires_at.eq(Some((Utc::now() - Duration::minutes(1)).naive_utc())))
            .execute(conn)
    })
    .unwrap();

    let staff = ask(&app, "公告", "cid-staff", "wf01").await;
    assert!(staff.starts_with("#### 最新公告"), "{staff}");
    assert!(staff.contains("【重要】**星辰专属**（政策通知，") && staff.contains("**全员通知**"), "{staff}");
    for hidden in ["过期通知", "草稿通知", "已撤通知"] {
        assert!(!staff.contains(hidden), "{hidden}: {staff}");
    }
    assert!(staff.find("全员通知") < staff.find("星辰专属"), "newest first: {staff}");
    let bound_a = ask(&app, "bulletins", "cid-a", "wf01").await;
    assert!(bound_a.contains("星辰专属") && bound_a.contains("全员通知"), "{bound_a}");
    assert!(bound_a.contains("，未读）"), "its partner has not acknowledged them: {bound_a}");
    assert!(!bound_a.contains("过期通知") && !bound_a.contains("已撤通知"), "{bound_a}");
    let bound_b = ask(&app, "公告", "cid-b", "wf01").await;
    assert!(bound_b.contains("全员通知") && !bound_b.contains("星辰专属"), "{bound_b}");
    let li_na = ask_wecom(&app, "bulletins", "LiNa").await;
    assert!(li_na.contains("全员通知") && !li_na.contains("星辰专属"), "{li_na}");
});

both!(risks_and_expiring_commands_are_redacted_for_partner_chats, |app: TestApp| async move {
    let app = configured(app).await;
    // 华东星辰 (contact 张伟, zw001) and 江南渠道 with overlapping exclusivity; HT-EXP (华东星辰) ends in 20 days.
    let (a, b) = crate::room_messages::overlapping_partners(&app).await;
    for (chat, partner) in [("cid-a", &a), ("cid-b", &b), ("cid-staff", &String::new())] {
        let partner = if partner.is_empty() { Value::Null } else { json!(partner) };
        let body = json!({"platform": "dingtalk", "name": chat, "partner_id": partner, "chat_id": chat,
                          "webhook_url": format!("https://oapi.dingtalk.com/robot/send?access_token={chat}")});
        assert_eq!(app.post("/api/v1/bot-channels", body).send().await.status, StatusCode::CREATED);
    }
    let in_days = |n: i64| (business_date(Utc::now()) + Duration::days(n)).to_string();
    for (number, days) in [("HT-B2", 25), ("HT-FAR", 60)] {
        active_contract(
            &app,
            json!({"partner_id": b, "number": number, "effective_from": "2026-01-01", "effective_to": in_days(days)}),
            vec![],
        )
        .await;
    }
    draft_with(&app, json!({"partner_id": b, "number": "HT-DRAFT", "effective_to": in_days(5)})).await;

    let staff = ask(&app, "风险", "cid-staff", "wf01").await;
    assert!(staff.starts_with("#### 风险预警（4 条）"), "two sides of the overlap, two expiring: {staff}");
    assert!(staff.contains("**严重**（2 条）") && staff.contains("**中**（2 条）"), "{staff}");
    assert!(
        staff.contains(
            "- HT-A·独家授权重叠：合同 HT-A（华东星辰）与合同 HT-B（江南渠道）的独家条款在 上海/服务器 重叠。"
        ),
        "{staff}"
    );
    assert!(staff.find("**严重**") < staff.find("**中**"), "most severe first: {staff}");
    assert!(staff.contains("HT-EXP·合同即将到期") && staff.contains("HT-B2·合同即将到期"), "{staff}");
    for (reply, own, other_name, other_number) in [
        (ask(&app, "risks", "cid-a", "wf01").await, "HT-A", "江南渠道", "HT-B"),
        (ask(&app, "风险", "cid-b", "wf01").await, "HT-B", "华东星辰", "HT-A"),
        (ask_wecom(&app, "风险", "ZhangWei").await, "HT-A", "江南渠道", "HT-B"),
    ] {
        assert!(
            reply.contains(&format!("{own}·独家授权重叠：合同 {own} 的独家条款与另一渠道成员的独家授权")),
            "{reply}"
        );
        assert!(!reply.contains(other_name) && !reply.contains(other_number), "the other side leaked: {reply}");
    }
    assert!(ask(&app, "风险", "cid-a", "wf01").await.contains("HT-EXP·合同即将到期"));

    let staff = ask(&app, "合同到期", "cid-staff", "wf01").await;
    assert!(staff.starts_with("#### 30 天内到期的合同"), "{staff}");
    assert!(
        staff.contains(&format!("- **HT-EXP** 渠道代理协议｜华东星辰｜{} 到期（剩余 20 天）", in_days(20))),
        "{staff}"
    );
    assert!(staff.contains("- **HT-B2** 渠道代理协议｜江南渠道｜"), "{staff}");
    assert!(!staff.contains("HT-FAR") && !staff.contains("HT-DRAFT") && !staff.contains("HT-A "), "{staff}");
    assert!(staff.find("HT-EXP") < staff.find("HT-B2"), "soonest first: {staff}");
    let bound = ask(&app, "expiring", "cid-b", "wf01").await;
    assert!(bound.contains("HT-B2") && !bound.contains("HT-EXP") && !bound.contains("江南渠道"), "{bound}");
    let zhang = ask_wecom(&app, "合同到期", "ZhangWei").await;
    assert!(zhang.contains("HT-EXP") && !zhang.contains("HT-B2"), "{zhang}");
});

both!(my_actions_match_the_owner_by_userid_contact_name_or_attendee, |app: TestApp| async move {
    let app = configured(app).await;
    let (a, _b) = setup(&app).await;
    let mut body = meeting_body(&[&a], "2030-01-07T10:00:00+08:00");
    body["attendees"] = json!([{"name": "王芳", "dingtalk_userid": "wf01", "wecom_userid": "WangFang"}]);
    let m1 = meeting(&app, body).await;
    let held = json!({"status": "held", "minutes": "纪要", "action_items": [
        {"title": "王芳的待办", "owner": "王芳", "due_date": "2020-01-01"},
        {"title": "写成账号的待办", "owner": "wf01", "due_date": "2030-02-01"},
        {"title": "张伟的待办", "owner": "张伟"},
        {"title": "别人的待办", "owner": "李雷"},
        {"title": "已完成的待办", "owner": "王芳"}]});
    let res = app.patch(&format!("/api/v1/meetings/{}", id(&m1)), held).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let items = app.get(&format!("/api/v1/meetings/{}/action-items", id(&m1))).send().await;
    let done = items.items().iter().find(|i| i["title"] == "已完成的待办").unwrap()["id"].as_str().unwrap().to_string();
    let res = app.patch(&format!("/api/v1/action-items/{done}"), json!({"status": "done"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // Another meeting without 王芳 among its attendees: an owner written 王芳 there is someone else.
    let m2 = meeting(&app, meeting_body(&[&a], "2030-01-08T10:00:00+08:00")).await;
    let held = json!({"status": "held", "minutes": "纪要", "action_items": [{"title": "同名不同人", "owner": "王芳"}]});
    assert_eq!(app.patch(&format!("/api/v1/meetings/{}", id(&m2)), held).send().await.status, StatusCode::OK);

    let wang = ask(&app, "我的待办", "cid-staff", "wf01").await;
    assert!(wang.starts_with("#### 我的待办（2 项）"), "{wang}");
    assert!(wang.contains("- **王芳的待办**｜截止 2020-01-01，已逾期｜季度业务回顾"), "{wang}");
    assert!(wang.contains("- **写成账号的待办**｜截止 2030-02-01｜季度业务回顾"), "{wang}");
    assert!(wang.find("王芳的待办") < wang.find("写成账号的待办"), "soonest due first: {wang}");
    for other in ["张伟的待办", "别人的待办", "已完成的待办", "同名不同人"] {
        assert!(!wang.contains(other), "{other}: {wang}");
    }
    // On WeCom the same person is WangFang: the item written with the DingTalk id is not matched.
    let wang_wecom = ask_wecom(&app, "my actions", "WangFang").await;
    assert!(wang_wecom.starts_with("我的待办（1 项）\n"), "{wang_wecom}");
    assert!(wang_wecom.contains("王芳的待办") && !wang_wecom.contains("写成账号的待办"), "{wang_wecom}");
    // 张伟 is a contact: his name is how he is written.
    let zhang = ask(&app, "我的待办", "cid-staff", "zw001").await;
    assert!(zhang.contains("张伟的待办") && !zhang.contains("王芳的待办"), "{zhang}");
    let zhang_wecom = ask_wecom(&app, "我的待办", "ZhangWei").await;
    assert!(zhang_wecom.contains("张伟的待办"), "{zhang_wecom}");
    // A chat bound to the other partner sees none of 华东星辰's items.
    assert!(ask(&app, "我的待办", "cid-b", "wf01").await.contains("没有负责人是你的未完成待办事项"));
    assert!(ask(&app, "我的待办", "cid-a", "wf01").await.contains("王芳的待办"));
    assert!(ask(&app, "我的待办", "cid-staff", "").await.contains("无法识别你的账号"));
});

both!(partner_command_shows_contracts_next_meeting_and_open_items, |app: TestApp| async move {
    let app = configured(app).await;
    let (a, _b) = setup(&app).await;
    active_contract(
        &app,
        json!({"partner_id": a, "number": "HT-A", "effective_from": "2026-01-01", "effective_to": "2099-12-31"}),
        vec![],
    )
    .await;
    draft_with(&app, json!({"partner_id": a, "number": "HT-DRAFT"})).await;
    let now = Utc::now();
    let next = meeting_at(&app, &[&a], "下次例会", now + Duration::days(2)).await;
    meeting_at(&app, &[&a], "更晚的会", now + Duration::days(5)).await;
    let past = meeting(&app, meeting_body(&[&a], "2026-01-05T10:00:00+08:00")).await;
    let held = json!({"status": "held", "minutes": "纪要", "action_items": [
        {"title": "补交资料", "owner": "张伟", "due_date": "2020-01-01"},
        {"title": "确认报价", "owner": "王芳", "due_date": "2099-01-01"},
        {"title": "联系客户", "owner": "王芳"},
        {"title": "整理名单", "owner": "王芳"}]});
    assert_eq!(app.patch(&format!("/api/v1/meetings/{}", id(&past)), held).send().await.status, StatusCode::OK);

    let text = ask(&app, "伙伴 华东星辰", "cid-staff", "wf01").await;
    assert!(text.contains("- **有效合同**：HT-A（至 2099-12-31）"), "{text}");
    assert!(!text.contains("HT-DRAFT"), "{text}");
    let starts: DateTime<Utc> = next["starts_at"].as_str().unwrap().parse().unwrap();
    let ends: DateTime<Utc> = next["ends_at"].as_str().unwrap().parse().unwrap();
    let when = channeldesk::notify::render::meetings::when(starts, ends, "Asia/Shanghai");
    assert!(text.contains(&format!("- **下次会议**：{when} 下次例会")), "{text}");
    assert!(text.contains("- **待办事项**：4 项未完成，其中 1 项已逾期"), "{text}");
    assert!(text.contains("　· 补交资料（张伟，截止 2020-01-01，已逾期）"), "{text}");
    assert!(text.contains("　· 确认报价（王芳，截止 2099-01-01）"), "{text}");
    assert_eq!(text.matches("　· ").count(), 3, "the first three: {text}");
    let other = ask(&app, "partner 江南渠道", "cid-staff", "wf01").await;
    for line in ["- **有效合同**：无", "- **下次会议**：暂无安排", "- **待办事项**：无"] {
        assert!(other.contains(line), "{line}: {other}");
    }
    assert!(ask(&app, "伙伴 华东星辰", "cid-a", "wf01").await.contains("- **有效合同**：HT-A"), "its own chat");
    let bound_b = ask(&app, "伙伴 华东星辰", "cid-b", "wf01").await;
    assert!(bound_b.contains("没有找到") && !bound_b.contains("HT-A"), "{bound_b}");
    let wecom = ask_wecom(&app, "partner 华东星辰", "LiNa").await;
    assert!(wecom.contains("没有找到") && !wecom.contains("下次例会"), "a contact of the other partner: {wecom}");
});

both!(long_answers_are_cut_to_each_platforms_limit, |app: TestApp| async move {
    let app = configured(app).await;
    let (a, _b) = setup(&app).await;
    let now = Utc::now();
    for i in 0..22 {
        let mut body = meeting_body(&[&a], &rfc(now + Duration::hours(1 + i)));
        body["title"] = json!(format!("{i:02}{}", "季度渠道业务复盘".repeat(24)));
        body["location"] = json!("上海会议室".repeat(100));
        meeting(&app, body).await;
    }
    // DingTalk: the reply body stays within 20000 bytes, cut with a note.
    let res = ding(&app, ding_text("会议", &msg_id(), "wf01", "cid-staff")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.text.len() > 15_000, "the test needs a long answer: {}", res.text.len());
    assert!(format::within_limit(Platform::Dingtalk, &res.body), "{} bytes", res.text.len());
    let text = reply_text(&res);
    assert!(text.starts_with("#### 未来 7 天的会议") && text.contains("00季度"), "{text}");
    assert!(text.contains("已截断"), "{text}");
    // WeCom app: plain text of at most 2048 bytes, cut at a character boundary.
    let plain = ask_wecom(&app, "会议", "WangFang").await;
    assert!(plain.len() <= format::WECOM_TEXT_MAX_BYTES && plain.len() > 1500, "{}", plain.len());
    assert!(plain.starts_with("未来 7 天的会议\n") && plain.ends_with('…'), "{plain}");
    // WeCom smart bot: markdown of at most 4096 bytes.
    let inner = json!({"msgid": msg_id(), "chatid": "wrk-long", "chattype": "group", "from": {"userid": "WangFang"},
                       "msgtype": "text", "text": {"content": "会议"}})
    .to_string();
    let (path, body) = wecom_request(&cipher(), &inner, Utc::now().timestamp(), true);
    let res = app.req(Method::POST, &path).anonymous().raw("application/json", body).send().await;
    let reply: Value = serde_json::from_str(&open_reply(&res)).unwrap();
    let content = reply["markdown"]["content"].as_str().unwrap();
    assert!(content.len() <= format::WECOM_MARKDOWN_MAX_BYTES, "{}", content.len());
    assert!(content.starts_with("**未来 7 天的会议**\n- **") && content.contains("00季度"), "{content}");
    assert!(content.ends_with("…（内容过长，已截断）"), "{content}");
});

both!(performance_command_shows_three_full_months_growth_and_attainment, |app: TestApp| async move {
    use channeldesk::performance::period::Month;
    let app = configured(app).await;
    let (a, b) = setup(&app).await;
    let this = Month::of(Utc::now()).unwrap();
    let month = |n: i64| this.plus(-n).unwrap().to_string();
    for (partner, back, fen) in
        [(&a, 4, 100_000), (&a, 3, 110_000), (&a, 2, 99_000), (&a, 1, 121_000), (&b, 1, 500_000)]
    {
        let body = json!({"partner_id": partner, "period": month(back), "revenue_minor": fen});
        let res = app.post("/api/v1/performance-records", body).send().await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    // A product line's figure is not the partner's whole business; this month is not full yet.
    for (period, line) in [(month(1), Some("服务器")), (month(0), None)] {
        let body = json!({"partner_id": a, "period": period, "product_line": line, "revenue_minor": 9_999_999});
        assert_eq!(app.post("/api/v1/performance-records", body).send().await.status, StatusCode::CREATED);
    }
    let body = json!({"partner_id": a, "period": month(1), "metric": "revenue", "target_value": 100_000});
    assert_eq!(app.post("/api/v1/targets", body).send().await.status, StatusCode::CREATED);

    let staff = ask(&app, "业绩 华东星辰", "cid-staff", "wf01").await;
    assert!(staff.starts_with("#### 业绩：华东星辰"), "{staff}");
    for want in ["¥1,100.00，环比 +10.0%", "¥990.00，环比 -10.0%", "¥1,210.00，环比 +22.2%", "¥3,300.00", "+230.0%"]
    {
        assert!(staff.contains(want), "{want} in {staff}");
    }
    assert!(staff.contains(&format!("{}（草案）：目标 ¥1,000.00，实际 ¥1,210.00，达成 121.0%", month(1))), "{staff}");
    assert!(!staff.contains("99,999.99"), "neither a product line nor the current month: {staff}");
    assert!(ask(&app, "业绩", "cid-staff", "wf01").await.contains("用法：业绩"), "staff must name a partner");
    assert!(ask(&app, "业绩 不存在的伙伴", "cid-staff", "wf01")
        .await
        .contains("没有找到名称包含「不存在的伙伴」的伙伴"));
    let partial = ask(&app, "业绩 江南", "cid-staff", "wf01").await;
    assert!(partial.contains("业绩：江南渠道") && partial.contains("¥5,000.00"), "{partial}");
    assert!(partial.contains("没有营收目标"), "{partial}");

    // A partner's chat: its own partner without a name; another partner's name finds nothing.
    let own = ask(&app, "业绩", "cid-a", "wf01").await;
    assert!(own.contains("业绩：华东星辰") && own.contains("121.0%"), "{own}");
    let other = ask(&app, "业绩 江南渠道", "cid-a", "wf01").await;
    assert!(other.contains("没有找到") && !other.contains("5,000"), "{other}");
    assert!(ask(&app, "performance", "cid-b", "wf01").await.contains("¥5,000.00"));
    assert!(ask(&app, "帮助", "cid-staff", "wf01").await.contains("业绩"), "the help lists it");

    // WeCom: a partner's contact is scoped to that partner; staff see any partner.
    let contact = ask_wecom(&app, "业绩", "ZhangWei").await;
    assert!(contact.contains("华东星辰") && contact.contains("¥1,210.00"), "{contact}");
    let across = ask_wecom(&app, "业绩 江南渠道", "ZhangWei").await;
    assert!(across.contains("没有找到") && !across.contains("5,000"), "{across}");
    let staff = ask_wecom(&app, "业绩 江南渠道", "WangFang").await;
    assert!(staff.contains("江南渠道") && staff.contains("¥5,000.00"), "{staff}");
});

both!(rebate_command_shows_a_partners_latest_statements, |app: TestApp| async move {
    let app = configured(app).await;
    let (a, b) = setup(&app).await;
    for (partner, fen) in [(&a, 12_345_600), (&b, 500_000)] {
        let body = json!({"partner_id": partner, "period": "2026-02", "revenue_minor": fen});
        assert_eq!(app.post("/api/v1/performance-records", body).send().await.status, StatusCode::CREATED);
    }
    let body = json!({"name": "2026 Q1 返点", "kind": "rebate", "from": "2026-01", "to": "2026-03",
                      "audience": {"all": true}, "status": "active",
                      "rules": {"basis": "revenue", "measure": "amount", "mode": "retroactive",
                                "tiers": [{"threshold": 0, "rate_bp": 200}]}});
    let res = app.post("/api/v1/incentive-programs", body).send().await;
    let program = id(&res.body);
    let res = app
        .post(&format!("/api/v1/incentive-programs/{program}/calculate"), json!({"from": "2026-01", "to": "2026-03"}))
        .send()
        .await;
    assert_eq!(res.body["drafts"], 2, "{}", res.text);
    // Drafts are internal: a partner's chat sees its statements once approved.
    assert!(ask(&app, "返点", "cid-a", "wf01").await.contains("还没有返点结算单"));
    let staff = ask(&app, "返点 华东星辰", "cid-staff", "wf01").await;
    assert!(staff.contains("2026-01 至 2026-03 2026 Q1 返点结算单：CNY 2,469.12（草稿）"), "{staff}");
    let list = app.get(&format!("/api/v1/incentive-statements?partner_id={a}")).send().await;
    let statement = id(&list.items()[0]);
    let res = app.post(&format!("/api/v1/incentive-statements/{statement}/approve"), json!({})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let own = ask(&app, "返点", "cid-a", "wf01").await;
    assert!(own.starts_with("#### 返点：华东星辰") && own.contains("CNY 2,469.12（已批准）"), "{own}");
    let other = ask(&app, "返点 华东星辰", "cid-b", "wf01").await;
    assert!(other.contains("没有找到") && !other.contains("2,469"), "{other}");
    assert!(ask(&app, "返点", "cid-staff", "wf01").await.contains("用法：返点"), "staff must name a partner");
    assert!(ask(&app, "rebates 江南渠道", "cid-staff", "wf01").await.contains("CNY 100.00（草稿）"));
});

both!(conflict_command_lists_the_open_cases_of_the_chats_scope, |app: TestApp| async move {
    let app = configured(app).await;
    let (a, b) = setup(&app).await;
    let third = id(&app.partner("西南远航").await);
    assert!(ask(&app, "冲突", "cid-staff", "wf01").await.contains("当前没有待处理的渠道冲突"));
    for (parties, severity, summary) in
        [(vec![&a, &b], "high", "两家在上海互相压价"), (vec![&b, &third], "low", "江南与西南的客户重叠")]
    {
        let body = json!({"kind": "price_undercut", "cause": "competitive_pressure", "severity": severity,
                          "summary": summary, "party_partner_ids": parties});
        assert_eq!(app.post("/api/v1/conflicts", body).send().await.status, StatusCode::CREATED);
    }
    let staff = ask(&app, "冲突", "cid-staff", "wf01").await;
    assert!(staff.contains("共 2 件"), "{staff}");
    let high = staff.find("两家在上海互相压价").expect("high case");
    assert!(high < staff.find("江南与西南的客户重叠").expect("low case"), "most severe first: {staff}");
    assert!(staff.contains("华东星辰") && staff.contains("西南远航"), "{staff}");
    // A partner's chat sees its own case, the other side as "another partner".
    let own = ask(&app, "冲突", "cid-a", "wf01").await;
    assert!(own.contains("共 1 件") && own.contains("两家在上海互相压价"), "{own}");
    assert!(!own.contains("江南渠道") && own.contains("another partner"), "{own}");
    assert!(ask(&app, "conflicts", "cid-b", "wf01").await.contains("共 2 件"));
});

both!(register_command_registers_a_deal_for_the_chats_partner, |app: TestApp| async move {
    let app = configured(app).await;
    let (a, b) = setup(&app).await;
    let own = ask(&app, "报备 杭州西湖储能科技有限公司 储能", "cid-a", "zw001").await;
    assert!(own.contains("商机报备已提交") && own.contains("杭州西湖储能科技有限公司"), "{own}");
    assert!(!own.contains("已由其他渠道报备"), "{own}");
    let list = app.get(&format!("/api/v1/deal-registrations?partner_id={a}")).send().await;
    assert_eq!(list.items().len(), 1, "{}", list.text);
    assert_eq!(list.items()[0]["product_lines"], json!(["储能"]));
    // Another partner's chat registering the same customer hears only that it is taken.
    let other = ask(&app, "register 杭州西湖储能科技 储能", "cid-b", "ln01").await;
    assert!(other.contains("已由其他渠道报备") && !other.contains("华东星辰"), "{other}");
    assert_eq!(app.get(&format!("/api/v1/deal-registrations?partner_id={b}")).send().await.items().len(), 1);
    // An internal chat registers for no partner; a bare command gets the usage.
    assert!(ask(&app, "报备 某公司 储能", "cid-staff", "wf01").await.contains("绑定伙伴的群"));
    assert!(ask(&app, "报备", "cid-a", "zw001").await.contains("用法：报备"));
});

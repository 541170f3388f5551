//! The messages meeting, bulletin and contract events become, rendered from events the API and
//! the scans really produced: titles, Chinese lines, times in the meeting's zone, links, mentions,
//! and what a chat bound to one partner is (not) shown.

use actix_web::http::{Method, StatusCode};
use channeldesk::contracts::risks::business_date;
use channeldesk::events::Event;
use channeldesk::meetings::reminders;
use channeldesk::notify::render;
use channeldesk::platforms::format::Message;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::contracts::{active_contract, add_required_terms, draft_with, id, term};
use crate::helpers::TestApp;
use crate::meetings::{meeting, meeting_body};

/// The newest outbox event of `event_type`.
pub fn last_event(app: &TestApp, event_type: &str) -> Event {
    app.with_conn(|c| channeldesk::events::since(c, None, 10_000).expect("events"))
        .into_iter()
        .rev()
        .find(|e| e.event_type == event_type)
        .unwrap_or_else(|| panic!("no {event_type} event"))
}

/// `event` rendered for an unbound channel (`viewer` None) or one bound to `viewer`.
pub fn rendered(app: &TestApp, event: &Event, viewer: Option<&str>) -> Message {
    app.with_conn(|c| render::render(c, event, viewer)).expect("render")
}

fn last(app: &TestApp, event_type: &str) -> Message {
    rendered(app, &last_event(app, event_type), None)
}

#[track_caller]
fn has_line(m: &Message, line: &str) {
    assert!(m.lines.iter().any(|l| l == line), "no line {line:?} in {:#?}", m.lines);
}

fn all_text(m: &Message) -> String {
    format!("{}\n{}", m.title, m.lines.join("\n"))
}

fn mentioned(m: &Message) -> Vec<String> {
    m.mentions.iter().map(|p| p.name.clone()).collect()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

/// A partner with a contact 张伟 who has a userid on both platforms.
async fn partner_with_zhang(app: &TestApp, name: &str) -> (String, String) {
    let p = app.partner(name).await;
    let pid = id(&p);
    let contact = json!({"name": "张伟", "wecom_userid": "ZhangWei", "dingtalk_userid": "zw001"});
    let res = app.post(&format!("/api/v1/partners/{pid}/contacts"), contact).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    (pid, res.id())
}

both!(meeting_events_render_in_the_meetings_zone_with_attendees_and_owners, |app: TestApp| async move {
    let (pid, contact) = partner_with_zhang(&app, "华东星辰").await;
    let mut body = meeting_body(&[&pid], "2030-01-07T10:00:00+08:00");
    body["attendees"] = json!([{"contact_id": contact}, {"name": "王芳", "wecom_userid": "WangFang", "dingtalk_userid": "wf01"}, {"name": "访客"}]);
    body["agenda"] = json!(["回顾Q4销量", "返点政策"]);
    body["location"] = json!("上海 会议室 A");
    let m = meeting(&app, body).await;
    let mid = id(&m);
    let url = format!("/api/v1/meetings/{mid}");

    let msg = last(&app, "meeting.scheduled");
    assert_eq!(msg.title, "会议安排：季度业务回顾");
    has_line(&msg, "- **时间**：2030-01-07（周一）10:00–11:00（北京时间）");
    has_line(&msg, "- **类型**：业务回顾");
    has_line(&msg, "- **地点**：上海 会议室 A");
    has_line(&msg, "- **伙伴**：华东星辰");
    has_line(&msg, "- **组织人**：王芳");
    has_line(&msg, "- **参会人**：张伟、王芳、访客");
    has_line(&msg, "**议程**");
    has_line(&msg, "2. 返点政策");
    assert_eq!(msg.link.as_deref(), Some(format!("/meetings/{mid}").as_str()));
    assert_eq!(mentioned(&msg), ["张伟", "王芳"], "attendees with a userid");
    assert_eq!(msg.mentions[0].wecom_userid.as_deref(), Some("ZhangWei"), "filled from the contact");

    // Moved to Berlin: the message speaks Berlin time.
    let res = app
        .patch(&url, json!({"timezone": "Europe/Berlin", "starts_at": "2030-01-07T09:00:00Z", "ends_at": "2030-01-07T10:30:00Z"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let msg = last(&app, "meeting.updated");
    assert_eq!(msg.title, "会议变更：季度业务回顾");
    has_line(&msg, "- **时区**：Asia/Shanghai → **Europe/Berlin**");
    has_line(&msg, "- **开始**：2030-01-07（周一）03:00 → **2030-01-07（周一）10:00**");
    has_line(&msg, "- **时间**：2030-01-07（周一）10:00–11:30（Europe/Berlin）");

    // The reminder scan, 50 minutes before.
    let leads = channeldesk::config::parse_leads("1h").unwrap();
    let emitted = app.with_conn(|c| reminders::scan(c, at("2030-01-07T08:10:00Z"), &leads)).unwrap();
    assert_eq!(emitted, 1);
    let msg = last(&app, "meeting.reminder");
    assert_eq!(msg.title, "会议提醒：季度业务回顾");
    assert_eq!(msg.lines[0], "**50 分钟后开始**");
    has_line(&msg, "1. 回顾Q4销量");
    assert_eq!(mentioned(&msg), ["张伟", "王芳"]);

    // Held, with decisions and action items: owners are mentioned first.
    let held = json!({
        "status": "held",
        "minutes": "## 纪要\n- 销量达成 92%",
        "decisions": ["返点提高到3.5%", "下季度联合推广"],
        "action_items": [
            {"title": "提交推广计划", "owner": "张伟", "due_date": "2030-01-20"},
            {"title": "核对返点", "owner": "WangFang"},
            {"title": "整理名单", "owner": "李雷"}
        ]
    });
    let res = app.patch(&url, held).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let msg = last(&app, "meeting.held");
    assert_eq!(msg.title, "会议纪要：季度业务回顾");
    has_line(&msg, "- **时间**：2030-01-07（周一）10:00–11:30（Europe/Berlin）");
    has_line(&msg, "**纪要**");
    has_line(&msg, "> \\#\\# 纪要 - 销量达成 92%");
    has_line(&msg, "**决议**（2 项）");
    has_line(&msg, "1. 返点提高到3.5%");
    has_line(&msg, "2. 下季度联合推广");
    has_line(&msg, "**待办**（3 项）");
    has_line(&msg, "- 提交推广计划（负责人：张伟，截止：2030-01-20）");
    has_line(&msg, "- 核对返点（负责人：WangFang，截止：未定）");
    has_line(&msg, "- 整理名单（负责人：李雷，截止：未定）");
    assert_eq!(mentioned(&msg), ["张伟", "王芳"], "李雷 has no userid anywhere");

    // The item passes its due date (end of 2030-01-20 in Berlin).
    let emitted = app.with_conn(|c| reminders::scan(c, at("2030-01-20T23:30:00Z"), &leads)).unwrap();
    assert_eq!(emitted, 1);
    let msg = last(&app, "action_item.overdue");
    assert_eq!(msg.title, "待办逾期：提交推广计划");
    has_line(&msg, "- **负责人**：张伟");
    has_line(&msg, "- **截止**：2030-01-20");
    has_line(&msg, "- **会议**：季度业务回顾（01-07（周一）10:00（Europe/Berlin））");
    has_line(&msg, "- **伙伴**：华东星辰");
    assert_eq!(msg.link.as_deref(), Some(format!("/meetings/{mid}").as_str()));
    assert_eq!(mentioned(&msg), ["张伟"]);

    let other = meeting(&app, meeting_body(&[&pid], "2030-02-01T15:00:00+08:00")).await;
    let res = app
        .patch(
            &format!("/api/v1/meetings/{}", id(&other)),
            json!({"status": "cancelled", "cancel_reason": "客户临时出差"}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let msg = last(&app, "meeting.cancelled");
    assert_eq!(msg.title, "会议取消：季度业务回顾");
    has_line(&msg, "- **原定时间**：2030-02-01（周五）15:00–16:00（北京时间）");
    has_line(&msg, "- **取消原因**：客户临时出差");
    assert!(msg.mentions.is_empty());
});

both!(series_events_render_their_rule_and_occurrences, |app: TestApp| async move {
    let (pid, _) = partner_with_zhang(&app, "华东星辰").await;
    let mut template = meeting_body(&[&pid], "2030-01-07T10:00:00+08:00");
    template["title"] = json!("周例会");
    template["attendees"] = json!([{"name": "王芳", "wecom_userid": "WangFang"}]);
    let res = app
        .post("/api/v1/meeting-series", json!({"template": template, "rule": {"frequency": "weekly", "count": 4}}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let sid = res.id();
    let msg = last(&app, "meeting_series.scheduled");
    assert_eq!(msg.title, "系列会议安排：周例会");
    has_line(&msg, "- **周期**：每周 10:00，60 分钟（北京时间）");
    has_line(&msg, "- **首次**：2030-01-07（周一）");
    has_line(&msg, "- **次数**：4 次");
    has_line(&msg, "- **场次**：01-07（周一）10:00、01-14（周一）10:00、01-21（周一）10:00、01-28（周一）10:00");
    assert_eq!(msg.link.as_deref(), Some(format!("/meeting-series/{sid}").as_str()));
    assert_eq!(mentioned(&msg), ["王芳"]);

    let url = format!("/api/v1/meeting-series/{sid}");
    let res = app.patch(&url, json!({"from": "2030-01-21", "changes": {"start_time": "14:30"}})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let msg = last(&app, "meeting_series.updated");
    assert_eq!(msg.title, "系列会议变更：周例会");
    has_line(&msg, "- **生效**：2030-01-21（周一）起");
    has_line(&msg, "- **开始时间**：10:00 → **14:30**");
    has_line(&msg, "- **调整场次**：01-21（周一）14:30、01-28（周一）14:30");

    let res = app.patch(&url, json!({"status": "cancelled", "cancel_reason": "合作结束"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let msg = last(&app, "meeting_series.cancelled");
    assert_eq!(msg.title, "系列会议取消：周例会");
    has_line(&msg, "- **取消原因**：合作结束");
    assert!(all_text(&msg).contains("- **取消场次**：01-07（周一）10:00、"), "{:#?}", msg.lines);
});

async fn onboarding(app: &TestApp, body: Value) -> String {
    let p = app.partner_with(body).await;
    let pid = id(&p);
    let res = app.patch(&format!("/api/v1/partners/{pid}"), json!({"status": "onboarding"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    pid
}

both!(bulletin_events_render_importance_and_hide_the_audience_from_partners, |app: TestApp| async move {
    let a = onboarding(&app, json!({"name": "甲", "channel_type": "indirect", "kind": "agent"})).await;
    let b = onboarding(&app, json!({"name": "乙", "channel_type": "indirect", "kind": "agent"})).await;
    let body = json!({
        "title": "竞品华东降价", "body": "**要点**：竞品在华东\n\n降价 10%。", "category": "competitor",
        "importance": "urgent", "audience": {"partner_ids": [a, b]}, "pinned": true,
        "attachments": [{"name": "分析.pdf", "url": "https://files.example.cn/a.pdf"}],
        "expires_at": "2031-01-01T00:00:00Z"
    });
    let res = app.post("/api/v1/bulletins", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let bid = res.id();
    let res = app.req(Method::POST, &format!("/api/v1/bulletins/{bid}/publish")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let event = last_event(&app, "bulletin.published");
    let msg = rendered(&app, &event, None);
    assert_eq!(msg.title, "【紧急】公告：竞品华东降价");
    has_line(&msg, "- **类别**：竞品情报");
    has_line(&msg, "- **重要程度**：紧急");
    has_line(&msg, "- **有效期至**：2031-01-01 08:00");
    has_line(&msg, "- **置顶**：是");
    has_line(&msg, "- **接收伙伴**：2 家");
    has_line(&msg, "- **附件**：分析.pdf");
    has_line(&msg, "> \\*\\*要点\\*\\*：竞品在华东 降价 10%。");
    assert!(msg.lines.iter().any(|l| l.starts_with("- **发布时间**：")));
    assert_eq!(msg.link.as_deref(), Some(format!("/bulletins/{bid}").as_str()));
    assert!(msg.mentions.is_empty());
    let for_a = rendered(&app, &event, Some(&a));
    assert!(!all_text(&for_a).contains("接收伙伴"), "a partner's chat is not told who else got it");
    assert_eq!(for_a.title, msg.title);

    let res = app.req(Method::POST, &format!("/api/v1/bulletins/{bid}/archive")).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let msg = last(&app, "bulletin.archived");
    assert_eq!(msg.title, "公告已归档：竞品华东降价");
    has_line(&msg, "- **类别**：竞品情报");
    assert!(msg.lines.iter().any(|l| l.starts_with("- **撤下时间**：")));
});

fn in_days(n: i64) -> String {
    (business_date(Utc::now()) + Duration::days(n)).to_string()
}

both!(contract_events_render_terms_amounts_and_owners, |app: TestApp| async move {
    let (pid, _) = partner_with_zhang(&app, "华东星辰").await;
    let to = in_days(200);
    let c = draft_with(
        &app,
        json!({"partner_id": pid, "number": "HT-2026-001", "owner": "张伟", "total_value": 12345678, "effective_to": to}),
    )
    .await;
    let cid = id(&c);
    let msg = last(&app, "contract.created");
    assert_eq!(msg.title, "新合同：HT-2026-001 渠道代理协议");
    for line in [
        "- **合同编号**：HT-2026-001",
        "- **伙伴**：华东星辰",
        "- **类型**：代理",
        "- **状态**：草稿",
        &format!("- **有效期**：2026-01-01 至 {to}"),
        "- **金额**：CNY 123,456.78",
        "- **负责人**：张伟",
    ] {
        has_line(&msg, line);
    }
    assert_eq!(msg.link.as_deref(), Some(format!("/contracts/{cid}").as_str()));
    assert_eq!(mentioned(&msg), ["张伟"], "the owner is a contact with a userid");

    add_required_terms(&app, &cid).await;
    crate::contracts::activate(&app, &cid).await;
    let msg = last(&app, "contract.activated");
    assert_eq!(msg.title, "合同生效：HT-2026-001 渠道代理协议");
    has_line(&msg, "- **状态**：草稿 → **生效**");

    let res = app
        .post(
            &format!("/api/v1/contracts/{cid}/amendments"),
            json!({"reason": "补充保密约定", "changes": [{"op": "add", "term": term("confidentiality", json!({}))}]}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let msg = last(&app, "contract.amended");
    assert_eq!(msg.title, "合同补充协议：HT-2026-001 渠道代理协议");
    has_line(&msg, "- **补充协议**：第 1 号");
    has_line(&msg, "- **原因**：补充保密约定");
    has_line(&msg, "- 新增条款：保密·confidentiality 条款");

    let res = app.patch(&format!("/api/v1/contracts/{cid}"), json!({"owner": "王芳"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let msg = last(&app, "contract.updated");
    assert_eq!(msg.title, "合同变更：HT-2026-001 渠道代理协议");
    has_line(&msg, "- **负责人**：张伟 → **王芳**");
    assert!(msg.mentions.is_empty(), "王芳 is no contact of the partner");

    let res = app.post(&format!("/api/v1/contracts/{cid}/renew"), json!({"number": "HT-2027-001"})).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let successor = id(&res.body);
    let msg = last(&app, "contract.renewed");
    assert_eq!(msg.title, "合同续签：HT-2026-001 渠道代理协议");
    has_line(&msg, "- **续签合同**：HT-2027-001（草稿）");
    assert_eq!(msg.link.as_deref(), Some(format!("/contracts/{successor}").as_str()));

    let res = app.patch(&format!("/api/v1/contracts/{cid}"), json!({"status": "terminated"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let msg = last(&app, "contract.terminated");
    assert_eq!(msg.title, "合同终止：HT-2026-001 渠道代理协议");
    has_line(&msg, "- **状态**：生效 → **已终止**");

    assert_eq!(app.delete(&format!("/api/v1/contracts/{successor}")).send().await.status, StatusCode::NO_CONTENT);
    let msg = last(&app, "contract.deleted");
    assert_eq!(msg.title, "合同草稿已删除：HT-2027-001 渠道代理协议");
    assert_eq!(msg.link, None, "nothing left to open");
});

/// Two partners whose active contracts both grant exclusivity for 上海/服务器 (a two-sided risk),
/// and a contract of the first expiring in 20 days; the risk scan has run. Returns the partner
/// ids.
pub async fn overlapping_partners(app: &TestApp) -> (String, String) {
    let (a, _) = partner_with_zhang(app, "华东星辰").await;
    let b = id(&app.partner("江南渠道").await);
    let excl = term("exclusivity", json!({"territories": ["上海"], "product_lines": ["服务器"]}));
    active_contract(
        app,
        json!({"partner_id": a, "number": "HT-A", "owner": "张伟", "effective_from": "2026-01-01", "effective_to": in_days(365)}),
        vec![excl.clone()],
    )
    .await;
    active_contract(
        app,
        json!({"partner_id": b, "number": "HT-B", "effective_from": "2026-01-01", "effective_to": in_days(365)}),
        vec![excl],
    )
    .await;
    active_contract(
        app,
        json!({"partner_id": a, "number": "HT-EXP", "owner": "张伟", "effective_from": "2026-01-01", "effective_to": in_days(20)}),
        vec![],
    )
    .await;
    let announced = app.with_conn(|c| channeldesk::contracts::risks::scan::run(c, Utc::now())).expect("scan");
    assert_eq!(announced, 2, "the overlap and the expiring contract");
    (a, b)
}

both!(scan_events_render_and_a_two_sided_risk_is_redacted_for_each_partner, |app: TestApp| async move {
    let (a, b) = overlapping_partners(&app).await;
    let msg = last(&app, "contract.expiring");
    assert_eq!(msg.title, "合同即将到期：HT-EXP 渠道代理协议（剩余 20 天）");
    has_line(&msg, &format!("- **到期日**：{}", in_days(20)));
    has_line(&msg, "- **剩余**：20 天");
    has_line(&msg, "- **风险等级**：中");
    has_line(&msg, "- **续约**：尚无续约合同");
    assert_eq!(mentioned(&msg), ["张伟"]);

    let event = last_event(&app, "risk.raised");
    let staff = rendered(&app, &event, None);
    assert_eq!(staff.title, "风险预警：独家授权重叠·HT-A");
    has_line(&staff, "- **风险等级**：严重");
    has_line(&staff, "- **合同**：HT-A（华东星辰）");
    has_line(&staff, "- **合同**：HT-B（江南渠道）");
    has_line(&staff, "- **区域**：上海");
    has_line(&staff, "- **产品线**：服务器");
    has_line(&staff, "> 合同 HT-A（华东星辰）与合同 HT-B（江南渠道）的独家条款在 上海/服务器 重叠。");
    assert_eq!(mentioned(&staff), ["张伟"], "HT-A's owner; HT-B has none");

    let for_a = rendered(&app, &event, Some(&a));
    assert_eq!(for_a.title, "风险预警：独家授权重叠·HT-A");
    has_line(&for_a, "- **合同**：HT-A（华东星辰）");
    has_line(&for_a, "> 合同 HT-A 的独家条款与另一渠道成员的独家授权在 上海/服务器 重叠。");
    let for_b = rendered(&app, &event, Some(&b));
    assert_eq!(for_b.title, "风险预警：独家授权重叠·HT-B");
    has_line(&for_b, "> 合同 HT-B 的独家条款与另一渠道成员的独家授权在 上海/服务器 重叠。");
    assert!(for_b.mentions.is_empty(), "not A's owner");
    for (text, other_name, other_number) in
        [(all_text(&for_a), "江南渠道", "HT-B"), (all_text(&for_b), "华东星辰", "HT-A")]
    {
        assert!(!text.contains(other_name) && !text.contains(other_number), "the other side leaked: {text}");
    }
});

/// The pinned stored form of every event type (`tests/fixtures/events`, as
/// `tests/api/event_payloads.rs` keeps it), as the outbox row it was.
fn pinned_event(event_type: &str) -> Event {
    let path = format!("{}/tests/fixtures/events/{event_type}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let row: Value = serde_json::from_str(&text.replace("\"<now>\"", "\"2026-12-01T08:00:00.123456Z\"")).expect(&path);
    Event {
        id: "e1".into(),
        event_type: event_type.into(),
        occurred_at: at("2026-12-01T08:00:00Z").naive_utc(),
        resource_type: row["resource_type"].as_str().expect("resource_type").into(),
        resource_id: row["resource_id"].as_str().expect("resource_id").into(),
        partner_id: row["partner_id"].as_str().map(str::to_string),
        payload: row["payload"].clone(),
    }
}

/// What only the generic renderer writes: its last line names the event type.
fn is_generic(m: &Message) -> bool {
    m.lines.last().is_some_and(|l| l.starts_with("> 事件："))
}

// Every real payload reads as its type and gets its own renderer, for an internal chat and for
// its partner's chat; competitor and recruitment events have none yet and read generically.
both!(every_pinned_event_gets_its_own_renderer, |app: TestApp| async move {
    for &event_type in channeldesk::events::DomainEvent::TYPES {
        let event = pinned_event(event_type);
        assert!(event.domain().is_ok(), "{event_type} reads as its type");
        let staff = rendered(&app, &event, None);
        let generic_on_purpose =
            event_type.starts_with("competitor.") || event_type.starts_with("recruitment_campaign.");
        assert_eq!(is_generic(&staff), generic_on_purpose, "{event_type}: {staff:#?}");
        if let Some(partner) = &event.partner_id {
            let own = rendered(&app, &event, Some(partner));
            assert!(!is_generic(&own), "{event_type} for its partner: {own:#?}");
        }
    }
});

// A row whose payload is not of its type (an older shape, a hand-written one) is no error: an
// internal chat gets the generic rendering, a partner's chat the headline only.
both!(a_payload_not_of_its_type_falls_back, |app: TestApp| async move {
    let mut event = pinned_event("partner.created");
    event.payload = json!({"partner": {"name": "华东星辰", "notes": "内部备注"}});
    let staff = rendered(&app, &event, None);
    assert!(is_generic(&staff), "{staff:#?}");
    assert!(all_text(&staff).contains("内部备注"), "{staff:#?}");
    let own = rendered(&app, &event, event.partner_id.as_deref());
    assert_eq!(
        (own.title.as_str(), own.lines.as_slice()),
        ("伙伴新建", ["> 事件：partner.created".to_string()].as_slice())
    );
});

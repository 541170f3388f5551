//! The wire JSON of every domain event, pinned. Each event type the service emits is produced for
//! real (through the API or the scan jobs), read back from the outbox as stored — event type,
//! subject columns and the payload text, byte for byte — and compared with
//! `tests/fixtures/events/<event_type>.json`. One webhook body is pinned the same way, as the
//! receiver got it: `tests/fixtures/events/webhook/meeting.held.json`.
//!
//! Volatile values become placeholders first: ids the test knows get names (`<partner:a>`,
//! `<meeting:1>` …), other UUIDs `<id:1>`, `<id:2>` … in order of first appearance, and timestamps
//! taken while the test ran `<now>`. Every other byte must match. The fixtures are the stored text
//! pretty-printed without reordering anything (see [`pretty`]), so a change of key order, spacing
//! or escaping shows up as a diff.
//!
//! After an intended change of the wire format, rewrite the fixtures with
//! `CHANNELDESK_BLESS_EVENTS=1 cargo test --test api event_payloads`, read the diff, and run the
//! test again without the variable (with `CHANNELDESK_TEST_PG` set, so both backends agree).

use actix_web::http::{Method, StatusCode};
use channeldesk::events::DomainEvent;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::both;
use crate::contracts::{active_contract, add_required_terms, draft_with, id, term};
use crate::delivery::{drain, worker, TestClock};
use crate::fake_robot::FakeRobot;
use crate::helpers::{Res, TestApp};
use crate::meetings::{meeting, meeting_body};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/events");

// Every event type the service emits, by the scenario below that produces it.
const PARTNER_TYPES: &[&str] = &["partner.created", "partner.status_changed", "partner.updated", "partner.archived"];
const MEETING_TYPES: &[&str] = &[
    "meeting.scheduled",
    "meeting.updated",
    "meeting.reminder",
    "meeting.held",
    "action_item.overdue",
    "meeting.cancelled",
];
const SERIES_TYPES: &[&str] = &["meeting_series.scheduled", "meeting_series.updated", "meeting_series.cancelled"];
const BULLETIN_TYPES: &[&str] = &["bulletin.published", "bulletin.archived"];
const CONTRACT_TYPES: &[&str] = &[
    "contract.created",
    "contract.activated",
    "contract.expired",
    "contract.amended",
    "contract.updated",
    "contract.renewed",
    "contract.terminated",
    "contract.deleted",
];
const SCAN_TYPES: &[&str] = &["contract.expiring", "risk.raised"];
const DELIVERY_TYPES: &[&str] = &["delivery.dead"];
const RECRUITMENT_TYPES: &[&str] =
    &["recruitment_campaign.created", "recruitment_campaign.updated", "recruitment_campaign.archived"];
const COMPETITOR_TYPES: &[&str] =
    &["competitor.created", "competitor.observed", "competitor.updated", "competitor.archived"];
const EVALUATION_TYPES: &[&str] = &["performance.imported", "target.agreed", "target.missed"];
const INCENTIVE_TYPES: &[&str] = &["incentive.statement_approved", "mdf.request_submitted", "mdf.request_decided"];
const CONFLICT_TYPES: &[&str] = &["conflict.opened", "conflict.resolved"];
const DEAL_TYPES: &[&str] = &["deal.submitted", "deal.decided", "deal.expiring"];

fn blessing() -> bool {
    std::env::var("CHANNELDESK_BLESS_EVENTS").is_ok_and(|v| v == "1")
}

/// What a scenario knows about its run: when it started, and the ids it can name.
struct Pin {
    started: DateTime<Utc>,
    /// The latest time the run's clock reached, when a test clock ran ahead of the real one.
    until: Option<DateTime<Utc>>,
    names: Vec<(String, String)>,
}

impl Pin {
    fn new() -> Self {
        Pin { started: Utc::now(), until: None, names: Vec::new() }
    }

    /// Timestamps up to `t` (a test clock's time) were taken during the run too.
    fn until(&mut self, t: DateTime<Utc>) {
        self.until = Some(t);
    }

    /// Shows `id` as `<label>` in the fixtures.
    fn name(&mut self, id: &str, label: &str) {
        self.names.push((id.to_string(), format!("<{label}>")));
    }

    /// `text` with ids and this run's timestamps replaced by placeholders; nothing else changes.
    fn scrub(&self, text: &str) -> String {
        let end = self.until.map_or_else(Utc::now, |t| t.max(Utc::now()));
        let (from, to) = (self.started - Duration::minutes(1), end + Duration::minutes(1));
        let mut unnamed: Vec<&str> = Vec::new();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if is_uuid(rest) {
                let uuid = &rest[..36];
                match self.names.iter().find(|(id, _)| id == uuid) {
                    Some((_, label)) => out.push_str(label),
                    None => {
                        let n = unnamed.iter().position(|u| *u == uuid).unwrap_or_else(|| {
                            unnamed.push(uuid);
                            unnamed.len() - 1
                        });
                        out.push_str(&format!("<id:{}>", n + 1));
                    }
                }
                i += 36;
                continue;
            }
            if let Some(len) = timestamp_len(rest) {
                let taken_now = DateTime::parse_from_rfc3339(&rest[..len])
                    .is_ok_and(|t| t.with_timezone(&Utc) >= from && t.with_timezone(&Utc) <= to);
                if taken_now {
                    out.push_str("<now>");
                    i += len;
                    continue;
                }
            }
            let c = rest.chars().next().expect("a char");
            out.push(c);
            i += c.len_utf8();
        }
        out
    }

    /// Compares `compact` (scrubbed, pretty-printed) with the fixture `name`, or writes it when
    /// blessing.
    #[track_caller]
    fn check(&self, name: &str, compact: &str) {
        let path = format!("{FIXTURES}/{name}.json");
        let got = pretty(&self.scrub(compact));
        if blessing() {
            let dir = std::path::Path::new(&path).parent().expect("a folder");
            std::fs::create_dir_all(dir).expect("fixture folder");
            std::fs::write(&path, &got).expect("write the fixture");
            return;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}; write it with CHANNELDESK_BLESS_EVENTS=1"));
        assert!(
            got == want,
            "{name}: the stored JSON is not the pinned one \
             (if the change is intended: CHANNELDESK_BLESS_EVENTS=1 cargo test --test api event_payloads)\n\
             --- pinned\n{want}--- now\n{got}"
        );
    }

    /// Pins the newest stored event of each of `types`, and reads every stored event back as a
    /// `DomainEvent` that writes the same row again.
    #[track_caller]
    fn events(&self, app: &TestApp, types: &[&str]) {
        let rows = stored(app);
        for t in types {
            let row = rows.iter().rev().find(|r| r.event_type == *t).unwrap_or_else(|| panic!("no {t} was emitted"));
            self.check(t, &row.envelope());
        }
        for row in &rows {
            let event = DomainEvent::from_stored(&row.event_type, &row.payload)
                .unwrap_or_else(|e| panic!("{} does not read back: {e}", row.event_type));
            assert_eq!(event.payload().expect("payload").to_string(), row.payload, "{}", row.event_type);
            let subject = event.subject();
            let columns = (subject.resource_type, subject.resource_id, subject.partner_id);
            assert_eq!(columns, (&*row.resource_type, &*row.resource_id, row.partner_id.as_deref()));
        }
    }
}

/// `8-4-4-4-12` lowercase hex digits at the start of `s`.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 36
        && b[..36].iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

/// The length of an RFC 3339 timestamp (`2026-01-02T03:04:05[.123456](Z|±hh:mm)`) at the start of
/// `s`.
fn timestamp_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if b.len() < shape.len() || !shape.iter().zip(b).all(|(p, c)| if *p == b'd' { c.is_ascii_digit() } else { p == c })
    {
        return None;
    }
    let mut len = shape.len();
    if b.get(len) == Some(&b'.') {
        len += 1;
        while b.get(len).is_some_and(u8::is_ascii_digit) {
            len += 1;
        }
    }
    match b.get(len) {
        Some(b'Z') => Some(len + 1),
        Some(b'+' | b'-') if b.len() >= len + 6 => Some(len + 6),
        _ => None,
    }
}

/// Compact JSON text indented two spaces a level, keeping every other byte (and so the key
/// order) as it is.
fn pretty(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                match chars.peek() {
                    Some(&close @ ('}' | ']')) => {
                        out.push(close);
                        chars.next();
                    }
                    _ => {
                        depth += 1;
                        newline(&mut out, depth);
                    }
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out.push('\n');
    out
}

/// An outbox row as stored.
struct Stored {
    event_type: String,
    resource_type: String,
    resource_id: String,
    partner_id: Option<String>,
    payload: String,
}

impl Stored {
    /// The row's columns as one JSON object, the payload text inserted verbatim.
    fn envelope(&self) -> String {
        format!(
            r#"{{"event_type":{},"resource_type":{},"resource_id":{},"partner_id":{},"payload":{}}}"#,
            json!(self.event_type),
            json!(self.resource_type),
            json!(self.resource_id),
            json!(self.partner_id),
            self.payload
        )
    }
}

fn stored(app: &TestApp) -> Vec<Stored> {
    use channeldesk::db::schema::events as ev;
    use diesel::prelude::*;
    let rows: Vec<(String, String, String, Option<String>, String)> = app.with_conn(|c| {
        ev::table
            .order(ev::id.asc())
            .select((ev::event_type, ev::resource_type, ev::resource_id, ev::partner_id, ev::payload))
            .load(c)
            .expect("events")
    });
    rows.into_iter()
        .map(|(event_type, resource_type, resource_id, partner_id, payload)| Stored {
            event_type,
            resource_type,
            resource_id,
            partner_id,
            payload,
        })
        .collect()
}

#[track_caller]
fn ok(res: Res) -> Value {
    assert!(res.status.is_success(), "{} {}", res.status, res.text);
    res.body
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

async fn named_partner(app: &TestApp, pin: &mut Pin, name: &str, label: &str) -> String {
    let pid = id(&app.partner(name).await);
    pin.name(&pid, label);
    pid
}

both!(partner_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let p = app
        .partner_with(json!({
            "name": "华东星辰", "channel_type": "indirect", "kind": "agent", "tier": "key", "region": "华东",
            "territories": ["上海", "苏州"], "industries": ["制造"], "owner": "张伟",
            "next_review_at": "2040-03-01T02:00:00Z", "notes": "重点培育"
        }))
        .await;
    let pid = id(&p);
    pin.name(&pid, "partner:a");
    let url = format!("/api/v1/partners/{pid}");
    ok(app.patch(&url, json!({"status": "onboarding"})).send().await);
    ok(app.patch(&url, json!({"tier": "strategic", "territories": ["上海"], "notes": null})).send().await);
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    pin.events(&app, PARTNER_TYPES);
});

both!(meeting_events_and_a_webhook_body_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let robot = FakeRobot::start().await;
    robot.expect_webhook_secret("whsec-0123456789abcdef");
    let hook = json!({"name": "crm", "url": robot.hook_url(), "secret": "whsec-0123456789abcdef", "event_types": ["meeting.held"]});
    ok(app.post("/api/v1/webhooks", hook).send().await);
    let a = named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    let b = named_partner(&app, &mut pin, "江南渠道", "partner:b").await;
    let contact = json!({"name": "张伟", "wecom_userid": "ZhangWei", "dingtalk_userid": "zw001"});
    let contact = id(&ok(app.post(&format!("/api/v1/partners/{a}/contacts"), contact).send().await));
    pin.name(&contact, "contact:zhang");

    let mut body = meeting_body(&[&a, &b], "2040-01-09T10:00:00+08:00");
    body["attendees"] = json!([{"contact_id": contact}, {"name": "王芳", "wecom_userid": "WangFang"}]);
    body["agenda"] = json!(["回顾Q4销量", "返点政策"]);
    body["location"] = json!("上海 会议室 A");
    let mid = id(&meeting(&app, body).await);
    pin.name(&mid, "meeting:1");
    let url = format!("/api/v1/meetings/{mid}");
    let moved =
        json!({"location": "杭州 会议室 B", "starts_at": "2040-01-09T03:00:00Z", "ends_at": "2040-01-09T04:30:00Z"});
    ok(app.patch(&url, moved).send().await);
    let leads = channeldesk::config::parse_leads("1h").expect("leads");
    let reminded = app.with_conn(|c| channeldesk::meetings::reminders::scan(c, at("2040-01-09T02:10:00Z"), &leads));
    assert_eq!(reminded.expect("scan"), 1);
    let held = json!({
        "status": "held",
        "minutes": "## 纪要\n- 销量达成 92%",
        "decisions": ["返点提高到3.5%", "下季度联合推广"],
        "action_items": [
            {"title": "提交推广计划", "owner": "张伟", "partner_id": a, "due_date": "2040-01-20"},
            {"title": "核对返点", "owner": "王芳", "partner_id": b}
        ]
    });
    ok(app.patch(&url, held).send().await);
    let overdue = app.with_conn(|c| channeldesk::meetings::reminders::scan(c, at("2040-01-21T00:00:00Z"), &leads));
    assert_eq!(overdue.expect("scan"), 1);
    let other = id(&meeting(&app, meeting_body(&[&a], "2040-02-03T15:00:00+08:00")).await);
    pin.name(&other, "meeting:2");
    let cancel = json!({"status": "cancelled", "cancel_reason": "客户临时出差"});
    ok(app.patch(&format!("/api/v1/meetings/{other}"), cancel).send().await);
    pin.events(&app, MEETING_TYPES);

    drain(&worker(&app, &TestClock::new())).await;
    robot.assert_all_valid();
    let hooks: Vec<_> = robot.received().into_iter().filter(|r| r.path == "/hook").collect();
    assert_eq!(hooks.len(), 1);
    pin.check("webhook/meeting.held", &hooks[0].raw);
});

both!(series_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let a = named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    let mut template = meeting_body(&[&a], "2040-01-09T10:00:00+08:00");
    template["title"] = json!("周例会");
    template["attendees"] = json!([{"name": "王芳", "wecom_userid": "WangFang"}]);
    let created = json!({"template": template, "rule": {"frequency": "weekly", "count": 4}});
    let sid = id(&ok(app.post("/api/v1/meeting-series", created).send().await));
    pin.name(&sid, "series:1");
    let url = format!("/api/v1/meeting-series/{sid}");
    ok(app.patch(&url, json!({"from": "2040-01-23", "changes": {"start_time": "14:30"}})).send().await);
    ok(app.patch(&url, json!({"status": "cancelled", "cancel_reason": "合作结束"})).send().await);
    pin.events(&app, SERIES_TYPES);
});

both!(bulletin_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let a = named_partner(&app, &mut pin, "甲", "partner:a").await;
    let b = named_partner(&app, &mut pin, "乙", "partner:b").await;
    for p in [&a, &b] {
        ok(app.patch(&format!("/api/v1/partners/{p}"), json!({"status": "onboarding"})).send().await);
    }
    let body = json!({
        "title": "竞品华东降价", "body": "**要点**：竞品在华东\n\n降价 10%。", "category": "competitor",
        "importance": "urgent", "audience": {"partner_ids": [a, b]}, "pinned": true,
        "attachments": [{"name": "分析.pdf", "url": "https://files.example.cn/a.pdf"}],
        "expires_at": "2041-01-01T00:00:00Z"
    });
    let bid = id(&ok(app.post("/api/v1/bulletins", body).send().await));
    pin.name(&bid, "bulletin:1");
    ok(app.req(Method::POST, &format!("/api/v1/bulletins/{bid}/publish")).send().await);
    ok(app.req(Method::POST, &format!("/api/v1/bulletins/{bid}/archive")).send().await);
    pin.events(&app, BULLETIN_TYPES);
});

both!(contract_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let a = named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    // One that runs its course …
    let ended = active_contract(
        &app,
        json!({"partner_id": a, "number": "HT-2027-000", "effective_from": "2027-01-01", "effective_to": "2027-06-30"}),
        vec![],
    )
    .await;
    pin.name(&id(&ended), "contract:ended");
    ok(app.patch(&format!("/api/v1/contracts/{}", id(&ended)), json!({"status": "expired"})).send().await);
    // … and one that goes through every other change.
    let c = draft_with(
        &app,
        json!({"partner_id": a, "number": "HT-2027-001", "owner": "张伟", "total_value": 12345678,
               "effective_from": "2027-01-01", "effective_to": "2027-12-31", "auto_renew": true}),
    )
    .await;
    let cid = id(&c);
    pin.name(&cid, "contract:1");
    let url = format!("/api/v1/contracts/{cid}");
    add_required_terms(&app, &cid).await;
    crate::contracts::activate(&app, &cid).await;
    let amendment =
        json!({"reason": "补充保密约定", "changes": [{"op": "add", "term": term("confidentiality", json!({}))}]});
    ok(app.post(&format!("{url}/amendments"), amendment).send().await);
    ok(app.patch(&url, json!({"owner": "王芳", "notes": "续约谈判中"})).send().await);
    let successor = id(&ok(app.post(&format!("{url}/renew"), json!({"number": "HT-2028-001"})).send().await));
    pin.name(&successor, "contract:successor");
    ok(app.patch(&url, json!({"status": "terminated"})).send().await);
    assert_eq!(app.delete(&format!("/api/v1/contracts/{successor}")).send().await.status, StatusCode::NO_CONTENT);
    pin.events(&app, CONTRACT_TYPES);
});

both!(scan_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let a = named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    let b = named_partner(&app, &mut pin, "江南渠道", "partner:b").await;
    let excl = term("exclusivity", json!({"territories": ["上海"], "product_lines": ["服务器"]}));
    for (partner, number, to, extra, label) in [
        (&a, "HT-A", "2030-12-31", vec![excl.clone()], "contract:a"),
        (&b, "HT-B", "2030-12-31", vec![excl], "contract:b"),
        (&a, "HT-EXP", "2027-06-21", vec![], "contract:expiring"),
    ] {
        let body = json!({"partner_id": partner, "number": number, "owner": "张伟",
                          "effective_from": "2027-01-01", "effective_to": to});
        pin.name(&id(&active_contract(&app, body, extra).await), label);
    }
    let announced = app.with_conn(|c| channeldesk::contracts::risks::scan::run(c, at("2027-06-01T02:00:00Z")));
    assert_eq!(announced.expect("scan"), 2, "the overlap and the expiring contract");
    pin.events(&app, SCAN_TYPES);
});

both!(delivery_events_keep_their_wire_json, |app: TestApp| async move {
    let app = app.with_config(|c| c.notify.delivery_retry_hours = 1).await;
    let mut pin = Pin::new();
    let robot = FakeRobot::start().await;
    let body = json!({"platform": "wecom", "name": "华东群", "webhook_url": robot.wecom_url("down")});
    let ch = crate::delivery::channel(&app, body, json!(["partner.*"])).await;
    pin.name(&ch, "channel:1");
    named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    // Down for the whole hour: tried every 10 minutes, given up at the end.
    robot.script(std::iter::repeat_n(crate::fake_robot::Reply::Http(503), 20));
    let clock = TestClock::new();
    let w = worker(&app, &clock);
    for _ in 0..8 {
        drain(&w).await;
        clock.advance(Duration::minutes(10));
    }
    pin.until(clock.now());
    pin.events(&app, DELIVERY_TYPES);
});

both!(competitor_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let body = json!({"name": "华为渠道", "website": "https://e.huawei.com", "notes": "华东强势"});
    let cid = id(&ok(app.post("/api/v1/competitors", body).send().await));
    pin.name(&cid, "competitor:1");
    let url = format!("/api/v1/competitors/{cid}");
    let seen = json!({"region": "华东", "kind": "distributor", "partner_names": ["上海百联"], "market_share_bp": 2800,
                      "price_position": "below", "strategy": "低价抢量", "observed_on": "2026-10-15", "source": "展会"});
    let oid = id(&ok(app.post(&format!("{url}/observations"), seen).send().await));
    pin.name(&oid, "observation:1");
    ok(app.patch(&url, json!({"website": null, "notes": "价格战"})).send().await);
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    pin.events(&app, COMPETITOR_TYPES);
});

both!(evaluation_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let a = named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    let csv = format!("partner_id,period,revenue,units\n{a},2027-01,3000,5\n{a},2027-02,2500,4\n{a},2027-03,2000,3\n");
    ok(app.req(Method::POST, "/api/v1/performance-records/import").raw("text/csv", csv).send().await);
    let body = json!({"partner_id": a, "period": "2027-Q1", "metric": "revenue", "target_value": 1000000});
    let tid = id(&ok(app.post("/api/v1/targets", body).send().await));
    pin.name(&tid, "target:1");
    ok(app.patch(&format!("/api/v1/targets/{tid}"), json!({"status": "agreed"})).send().await);
    let missed = app.with_conn(|c| channeldesk::targets::missed::run(c, at("2027-04-10T00:00:00Z")));
    assert_eq!(missed.expect("scan"), 1);
    pin.events(&app, EVALUATION_TYPES);
});

both!(incentive_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let a = named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    ok(app.patch(&format!("/api/v1/partners/{a}"), json!({"status": "onboarding"})).send().await);
    let rec = json!({"partner_id": a, "period": "2027-01", "revenue_minor": 12_345_678});
    ok(app.post("/api/v1/performance-records", rec).send().await);
    let body = json!({"name": "2027 Q1 返点", "kind": "rebate", "from": "2027-01", "to": "2027-03",
                      "audience": {"partner_ids": [a]}, "status": "active",
                      "rules": {"basis": "revenue", "measure": "amount", "mode": "marginal",
                                "tiers": [{"threshold": 0, "rate_bp": 100}, {"threshold": 10_000_000, "rate_bp": 250}]}});
    let program = id(&ok(app.post("/api/v1/incentive-programs", body).send().await));
    pin.name(&program, "program:1");
    let calc = format!("/api/v1/incentive-programs/{program}/calculate");
    ok(app.post(&calc, json!({"from": "2027-01", "to": "2027-03"})).send().await);
    let list = ok(app.get("/api/v1/incentive-statements").send().await);
    let statement = list["items"][0]["id"].as_str().expect("a statement").to_string();
    pin.name(&statement, "statement:1");
    ok(app.post(&format!("/api/v1/incentive-statements/{statement}/approve"), json!({})).send().await);
    let body = json!({"name": "2027 市场推广支持", "kind": "marketing_support", "from": "2027-01", "to": "2027-12",
                      "audience": {"partner_ids": [a]}, "status": "active",
                      "rules": {"budget": {"fixed_minor": 5_000_000}, "claim_deadline": "2028-01-31"}});
    let mdf = id(&ok(app.post("/api/v1/incentive-programs", body).send().await));
    pin.name(&mdf, "program:2");
    let body = json!({"program_id": mdf, "partner_id": a, "activity": "seminar", "title": "杭州储能研讨会",
                      "planned_on": "2027-04-18", "amount_minor": 1_200_000});
    let request = id(&ok(app.post("/api/v1/mdf-requests", body).send().await));
    pin.name(&request, "mdf_request:1");
    ok(app.post(&format!("/api/v1/mdf-requests/{request}/approve"), json!({})).send().await);
    pin.events(&app, INCENTIVE_TYPES);
});

both!(conflict_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let a = named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    let b = named_partner(&app, &mut pin, "江南渠道", "partner:b").await;
    let account = id(&ok(app.post("/api/v1/key-accounts", json!({"name": "上海申能集团"})).send().await));
    pin.name(&account, "key_account:1");
    let body = json!({"kind": "account_overlap", "cause": "unclear_roles", "severity": "medium",
                      "summary": "两家伙伴同时跟进申能集团储能项目", "party_partner_ids": [a, b],
                      "key_account_id": account, "product_lines": ["储能"]});
    let case = id(&ok(app.post("/api/v1/conflicts", body).send().await));
    pin.name(&case, "conflict:1");
    let body = json!({"resolution": {"remedy": "clarify_roles", "notes": "华东星辰为主负责方，江南渠道协助交付"}});
    ok(app.post(&format!("/api/v1/conflicts/{case}/resolve"), body).send().await);
    pin.events(&app, CONFLICT_TYPES);
});

both!(deal_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let a = named_partner(&app, &mut pin, "华东星辰", "partner:a").await;
    let body = json!({"partner_id": a, "prospect": {"name": "杭州西湖储能科技有限公司", "credit_code": "91350100M000100Y43",
                      "region": "华东"}, "product_lines": ["储能"], "estimated_value_minor": 12_000_000,
                      "currency": "CNY", "expected_close_on": "2027-06-30", "description": "园区储能项目"});
    let deal = id(&ok(app.post("/api/v1/deal-registrations", body).send().await));
    pin.name(&deal, "deal:1");
    ok(app.post(&format!("/api/v1/deal-registrations/{deal}/approve"), json!({})).send().await);
    // Protection runs 90 days from approval: the warning goes out 7 days before it ends.
    let later = Utc::now() + Duration::days(85);
    let warned = app.with_conn(|c| channeldesk::deals::store::warn_expiring(c, later));
    assert_eq!(warned.expect("scan"), 1);
    pin.until(Utc::now() + Duration::days(91));
    pin.events(&app, DEAL_TYPES);
});

both!(recruitment_events_keep_their_wire_json, |app: TestApp| async move {
    let mut pin = Pin::new();
    let body = json!({"name": "2026 上海渠道招募展", "kind": "trade_show", "starts_on": "2026-03-01",
                      "ends_on": "2026-03-03", "region": "华东", "cost_minor": 12000000, "notes": "展位 A12"});
    let cid = id(&ok(app.post("/api/v1/recruitment-campaigns", body).send().await));
    pin.name(&cid, "campaign:1");
    let url = format!("/api/v1/recruitment-campaigns/{cid}");
    ok(app.patch(&url, json!({"cost_minor": 15000000, "notes": null})).send().await);
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    pin.events(&app, RECRUITMENT_TYPES);
});

#[test]
fn every_event_type_is_pinned_by_its_fixture() {
    if blessing() {
        return;
    }
    let mut pinned: Vec<&str> = [
        PARTNER_TYPES,
        MEETING_TYPES,
        SERIES_TYPES,
        BULLETIN_TYPES,
        CONTRACT_TYPES,
        SCAN_TYPES,
        DELIVERY_TYPES,
        COMPETITOR_TYPES,
        EVALUATION_TYPES,
        INCENTIVE_TYPES,
        CONFLICT_TYPES,
        DEAL_TYPES,
        RECRUITMENT_TYPES,
    ]
    .concat();
    pinned.sort_unstable();
    let mut types = DomainEvent::TYPES.to_vec();
    types.sort_unstable();
    assert_eq!(pinned, types, "every DomainEvent type is produced here, and only those");
    let mut files: Vec<String> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".json").map(str::to_string))
        .collect();
    files.sort_unstable();
    assert_eq!(files, pinned, "one fixture per event type, and no stale ones");
}

//! iCalendar export, read back with an independent parser (the `icalendar` crate).

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use chrono::{DateTime, Utc};
use icalendar::{Calendar, CalendarComponent, Component, EventLike};
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Res, TestApp};
use crate::meetings::{id_of, meeting, meeting_body};

const LONG_TITLE: &str = "华东区渠道季度业务回顾会议：销量达成、返点政策、联合市场推广与窜货问题的共同解决方案";

/// Checks the wire form (CRLF only, lines of at most 75 octets) and parses the body.
fn parse(res: &Res) -> (String, Calendar) {
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.header("content-type").as_deref(), Some("text/calendar; charset=utf-8"));
    let text = res.text.clone();
    assert!(!text.contains('\u{FFFD}'), "valid UTF-8: no character was split");
    assert!(text.ends_with("\r\n"));
    for line in text.split_terminator("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "bare line break in {line:?}");
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    let cal: Calendar = text.parse().expect("an independent parser reads it");
    (text, cal)
}

fn events(cal: &Calendar) -> Vec<&icalendar::Event> {
    cal.components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn start_utc(e: &icalendar::Event) -> DateTime<Utc> {
    match e.get_start().expect("DTSTART") {
        icalendar::DatePerhapsTime::DateTime(dt) => dt.try_into_utc().expect("resolvable"),
        other => panic!("not a date-time: {other:?}"),
    }
}

both!(a_meeting_round_trips_through_an_independent_parser, |app: TestApp| async move {
    let p = id_of(&app.partner("华东星辰代理").await);
    let mut body = meeting_body(&[&p], "2030-01-07T10:00:00+08:00");
    body["title"] = json!(LONG_TITLE);
    body["agenda"] = json!(["回顾 Q4; 销量, 返点", "路径 C:\\渠道\\政策"]);
    body["location"] = json!("上海市浦东新区, 世纪大道100号; 8楼");
    body["online_url"] = json!("https://meet.example.cn/j/123?pwd=a,b");
    body["organizer_email"] = json!("wang.fang@example.cn");
    body["attendees"] = json!([{"name": "张伟, 渠道经理", "email": "zhang.wei@example.cn"}, {"name": "无邮箱"}]);
    let m = meeting(&app, body).await;
    let id = id_of(&m);
    let url = format!("/api/v1/meetings/{id}/calendar.ics");
    let res = app.get(&url).send().await;
    assert_eq!(res.etag(), "\"1\"");
    let (text, cal) = parse(&res);
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(text.lines().any(|l| l.starts_with(' ')), "the long title was folded");
    assert_eq!(cal.property_value("VERSION"), Some("2.0"));
    assert!(cal.property_value("PRODID").is_some_and(|v| v.contains("channeldesk")));
    let evs = events(&cal);
    assert_eq!(evs.len(), 1);
    let e = evs[0];
    assert_eq!(e.get_uid(), Some(format!("{id}@channeldesk").as_str()));
    assert_eq!(e.get_summary(), Some(LONG_TITLE), "the Chinese title survives folding and escaping");
    assert_eq!(e.get_location(), Some("上海市浦东新区, 世纪大道100号; 8楼"));
    let description = e.get_description().expect("DESCRIPTION");
    assert!(description.contains("1. 回顾 Q4; 销量, 返点\n2. 路径 C:\\渠道\\政策"), "{description}");
    assert!(description.contains("华东星辰代理"));
    assert!(description.contains("无邮箱"), "attendees without an address are named in the description");
    assert_eq!(e.get_url(), Some("https://meet.example.cn/j/123?pwd=a,b"));
    assert_eq!(e.get_sequence(), Some(0));
    assert_eq!(e.property_value("STATUS"), Some("CONFIRMED"));
    assert!(e.get_timestamp().is_some(), "DTSTAMP");
    assert_eq!(start_utc(e), "2030-01-07T02:00:00Z".parse::<DateTime<Utc>>().unwrap());
    let dtstart = e.properties().get("DTSTART").expect("DTSTART");
    assert_eq!(dtstart.params().get("TZID").map(|p| p.value()), Some("Asia/Shanghai"));
    assert_eq!(dtstart.value(), "20300107T100000");
    let organizer = e.properties().get("ORGANIZER").expect("ORGANIZER");
    assert_eq!(organizer.value(), "mailto:wang.fang@example.cn");
    let attendees = e.multi_properties().get("ATTENDEE").expect("ATTENDEE");
    assert_eq!(attendees.len(), 1);
    assert_eq!(attendees[0].value(), "mailto:zhang.wei@example.cn");
    assert_eq!(attendees[0].params().get("CN").map(|p| p.value()), Some("张伟, 渠道经理"));
    // The VTIMEZONE the TZID points at, read with the parser's generic component tree.
    let unfolded = icalendar::parser::unfold(&text);
    let tree = icalendar::parser::read_calendar(&unfolded).expect("component tree");
    let vtz = tree.components.iter().find(|c| c.name == "VTIMEZONE").expect("VTIMEZONE");
    assert_eq!(vtz.find_prop("TZID").map(|p| p.val.as_str()), Some("Asia/Shanghai"));
    let standard = vtz.components.iter().find(|c| c.name == "STANDARD").expect("STANDARD");
    assert_eq!(standard.find_prop("TZOFFSETTO").map(|p| p.val.as_str()), Some("+0800"));

    // Every change raises SEQUENCE; cancelling says so.
    app.patch(&format!("/api/v1/meetings/{id}"), json!({"title": "改期"})).send().await;
    app.patch(&format!("/api/v1/meetings/{id}"), json!({"status": "cancelled", "cancel_reason": "客户要求改期"}))
        .send()
        .await;
    let res = app.get(&url).send().await;
    let (_, cal) = parse(&res);
    let e = events(&cal)[0].clone();
    assert_eq!(e.get_uid(), Some(format!("{id}@channeldesk").as_str()), "the UID is stable");
    assert_eq!(e.get_sequence(), Some(2));
    assert_eq!(e.property_value("STATUS"), Some("CANCELLED"));
    assert_eq!(e.get_summary(), Some("改期"));
});

both!(feeds_by_partner_and_window, |app: TestApp| async move {
    let p = id_of(&app.partner("P").await);
    let q = id_of(&app.partner("Q").await);
    let a = meeting(&app, meeting_body(&[&p], "2030-03-01T10:00:00+08:00")).await;
    let mut ny = meeting_body(&[&p, &q], "2030-03-11T10:00:00-04:00");
    ny["timezone"] = json!("America/New_York");
    let b = meeting(&app, ny).await;
    let mut utc = meeting_body(&[&q], "2030-03-20T08:00:00Z");
    utc["timezone"] = json!("UTC");
    let c = meeting(&app, utc).await;
    let window = "from=2030-02-01T00:00:00Z&to=2030-04-01T00:00:00Z";
    let uids = |cal: &Calendar| events(cal).iter().map(|e| e.get_uid().unwrap().to_string()).collect::<Vec<_>>();
    let uid = |m: &Value| format!("{}@channeldesk", id_of(m));

    let (text, cal) = parse(&app.get(&format!("/api/v1/calendar.ics?{window}")).send().await);
    assert_eq!(uids(&cal), vec![uid(&a), uid(&b), uid(&c)]);
    let e_b = events(&cal)[1];
    assert_eq!(start_utc(e_b), "2030-03-11T14:00:00Z".parse::<DateTime<Utc>>().unwrap(), "EDT after 2030-03-10");
    let e_c = events(&cal)[2];
    assert_eq!(e_c.properties().get("DTSTART").unwrap().value(), "20300320T080000Z", "UTC meetings in UTC");
    // New York's VTIMEZONE states the change that the event's offset depends on.
    let unfolded = icalendar::parser::unfold(&text);
    let tree = icalendar::parser::read_calendar(&unfolded).expect("component tree");
    let tzs: Vec<_> = tree.components.iter().filter(|c| c.name == "VTIMEZONE").collect();
    assert_eq!(tzs.len(), 2, "one per zone used");
    let vtz = tzs.iter().find(|c| c.find_prop("TZID").is_some_and(|p| p.val == "America/New_York")).unwrap();
    let daylight = vtz.components.iter().find(|c| c.name == "DAYLIGHT").expect("DAYLIGHT");
    assert_eq!(daylight.find_prop("DTSTART").map(|p| p.val.as_str()), Some("20300310T020000"));
    assert_eq!(daylight.find_prop("TZOFFSETFROM").map(|p| p.val.as_str()), Some("-0500"));
    assert_eq!(daylight.find_prop("TZOFFSETTO").map(|p| p.val.as_str()), Some("-0400"));

    let (_, cal) = parse(&app.get(&format!("/api/v1/calendar.ics?{window}&partner_id={q}")).send().await);
    assert_eq!(uids(&cal), vec![uid(&b), uid(&c)]);
    let (_, cal) =
        parse(&app.get("/api/v1/calendar.ics?from=2030-03-05T00:00:00Z&to=2030-03-15T00:00:00Z").send().await);
    assert_eq!(uids(&cal), vec![uid(&b)]);
    let key = app.key(Role::Partner, Some(&p));
    let (_, cal) = parse(&app.get(&format!("/api/v1/calendar.ics?{window}")).key(&key).send().await);
    assert_eq!(uids(&cal), vec![uid(&a), uid(&b)], "a partner key's feed has its own meetings");
    let (_, cal) = parse(&app.get(&format!("/api/v1/calendar.ics?{window}&partner_id={q}")).key(&key).send().await);
    assert!(events(&cal).is_empty());
    let res = app.get("/api/v1/calendar.ics?from=2030-03-05T00:00:00Z&to=2030-03-01T00:00:00Z").send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["to"]);
    let res = app.get("/api/v1/calendar.ics?from=2030-01-01T00:00:00Z&to=2031-03-01T00:00:00Z").send().await;
    assert_eq!(res.fields(), vec!["to"]);
    app.get("/api/v1/calendar.ics").anonymous().send().await.problem(401, "unauthorized");
    // An empty window is still a calendar.
    let (_, cal) = parse(&app.get("/api/v1/calendar.ics?from=2040-01-01T00:00:00Z").send().await);
    assert!(events(&cal).is_empty());
});

//! Recruitment campaigns (新渠道拓展), the partners they bring in, and each campaign's funnel.

use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::TestApp;

const MISSING: &str = "0192f0c4-3b9e-7c1a-8f00-000000000000";

pub async fn campaign(app: &TestApp, body: Value) -> Value {
    let res = app.post("/api/v1/recruitment-campaigns", body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

fn trade_show() -> Value {
    json!({"name": "2026 上海渠道招募展", "kind": "trade_show", "starts_on": "2026-03-01", "ends_on": "2026-03-03",
           "region": "华东", "cost_minor": 12_000_000})
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

both!(campaign_crud_filters_and_archive, |app: TestApp| async move {
    let res = app.post("/api/v1/recruitment-campaigns", trade_show()).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let cid = res.id();
    let url = format!("/api/v1/recruitment-campaigns/{cid}");
    assert_eq!(res.header("location").unwrap(), url);
    assert_eq!(res.body["currency"], "CNY");
    assert_eq!(res.body["starts_on"], "2026-03-01");
    campaign(
        &app,
        json!({"name": "线上招商", "kind": "online_marketing", "starts_on": "2026-05-01", "region": "华南"}),
    )
    .await;
    let names = |res: &crate::helpers::Res| {
        res.items().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(&app.get("/api/v1/recruitment-campaigns").send().await), ["线上招商", "2026 上海渠道招募展"]);
    assert_eq!(names(&app.get("/api/v1/recruitment-campaigns?kind=trade_show").send().await), ["2026 上海渠道招募展"]);
    assert_eq!(names(&app.get("/api/v1/recruitment-campaigns?region=%E5%8D%8E%E5%8D%97").send().await), ["线上招商"]);
    assert_eq!(app.get(&url).send().await.body, res.body);
    let res = app.patch(&url, json!({"cost_minor": 15_000_000, "notes": "含展位费"})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["cost_minor"], 15_000_000);
    app.patch(&url, json!({"notes": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    let res = app.patch(&url, json!({"starts_on": "2026-03-05"})).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["ends_on"], "checked against the stored ends_on");
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    assert_eq!(names(&app.get("/api/v1/recruitment-campaigns").send().await), ["线上招商"]);
    assert!(app.get(&url).send().await.body["archived_at"].is_string());
    app.patch(&url, json!({"notes": "x"})).send().await.problem(409, "recruitment_campaign_archived");
    let missing = format!("/api/v1/recruitment-campaigns/{MISSING}");
    app.get(&missing).send().await.problem(404, "recruitment_campaign_not_found");
    app.get(&format!("{missing}/funnel")).send().await.problem(404, "recruitment_campaign_not_found");
    let types: Vec<String> = app.event_types().into_iter().filter(|t| t.starts_with("recruitment_campaign.")).collect();
    assert_eq!(
        types,
        [
            "recruitment_campaign.created",
            "recruitment_campaign.created",
            "recruitment_campaign.updated",
            "recruitment_campaign.archived"
        ]
    );
});

both!(campaign_input_is_validated_naming_the_field, |app: TestApp| async move {
    let base = json!({"name": "n", "kind": "seminar", "starts_on": "2026-04-01"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases = [
        (without("name"), "name"),
        (with("name", json!(" ")), "name"),
        (without("kind"), "kind"),
        (with("kind", json!("cold_call")), "kind"),
        (without("starts_on"), "starts_on"),
        (with("starts_on", json!("April")), "starts_on"),
        (with("ends_on", json!("2026-03-31")), "ends_on"),
        (with("cost_minor", json!(-1)), "cost_minor"),
        (with("cost_minor", json!(1.5)), "cost_minor"),
        (with("currency", json!("rmb")), "currency"),
        (with("region", json!("")), "region"),
        (with("budget", json!(1)), "budget"),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/recruitment-campaigns", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), [field], "{body}");
    }
    assert!(app.event_types().is_empty(), "nothing written on bad input");
});

both!(partners_say_how_they_came_and_which_campaign_brought_them, |app: TestApp| async move {
    let c = campaign(&app, trade_show()).await;
    let cid = id(&c);
    let res = app
        .post(
            "/api/v1/partners",
            json!({"name": "展会新伙伴", "channel_type": "indirect", "kind": "agent", "source": "trade_show", "campaign_id": cid}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!((res.body["source"].clone(), res.body["campaign_id"].clone()), (json!("trade_show"), json!(cid)));
    assert_eq!(res.body["activated_at"], Value::Null);
    let pid = res.id();
    let inbound = app
        .partner_with(json!({"name": "自来客", "channel_type": "direct", "kind": "telesales", "source": "inbound"}))
        .await;
    app.partner("老伙伴").await;
    let names = |res: crate::helpers::Res| {
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        res.items().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(app.get(&format!("/api/v1/partners?campaign_id={cid}")).send().await), ["展会新伙伴"]);
    assert_eq!(names(app.get("/api/v1/partners?source=inbound").send().await), ["自来客"]);
    let url = format!("/api/v1/partners/{}", id(&inbound));
    let res = app.patch(&url, json!({"campaign_id": cid, "source": "referral"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app.patch(&url, json!({"campaign_id": null, "source": null})).send().await;
    assert_eq!((res.body["source"].clone(), res.body["campaign_id"].clone()), (Value::Null, Value::Null));
    // The campaign must exist and be current.
    let bad = |body: Value| app.post("/api/v1/partners", body);
    let res =
        bad(json!({"name": "x", "channel_type": "indirect", "kind": "agent", "campaign_id": MISSING})).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["campaign_id"]);
    let res =
        bad(json!({"name": "x", "channel_type": "indirect", "kind": "agent", "campaign_id": "nope"})).send().await;
    assert_eq!(res.fields(), ["campaign_id"]);
    let res = bad(json!({"name": "x", "channel_type": "indirect", "kind": "agent", "source": "magazine"})).send().await;
    assert_eq!(res.fields(), ["source"]);
    app.get("/api/v1/partners?campaign_id=nope").send().await.problem(422, "validation_failed");
    assert_eq!(app.delete(&format!("/api/v1/recruitment-campaigns/{cid}")).send().await.status, 204);
    let res = app.patch(&url, json!({"campaign_id": cid})).send().await;
    assert_eq!(res.fields(), ["campaign_id"], "an archived campaign takes no new partners");
    let kept = app.get(&format!("/api/v1/partners/{pid}")).send().await;
    assert_eq!(kept.body["campaign_id"], json!(cid), "partners keep the link to an archived campaign");
});

both!(activated_at_is_the_first_move_to_active, |app: TestApp| async move {
    let p = app.partner("P").await;
    let url = format!("/api/v1/partners/{}", id(&p));
    app.patch(&url, json!({"status": "onboarding"})).send().await;
    let active = app.patch(&url, json!({"status": "active"})).send().await;
    let first = active.body["activated_at"].clone();
    assert!(first.is_string(), "{}", active.text);
    app.patch(&url, json!({"status": "suspended"})).send().await;
    let again = app.patch(&url, json!({"status": "active"})).send().await;
    assert_eq!(again.body["activated_at"], first, "a reactivation keeps the first moment");
    // A move to active is announced once, as a status change.
    let types = app.event_types();
    assert_eq!(types.iter().filter(|t| *t == "partner.updated").count(), 0, "{types:?}");
});

both!(funnel_counts_converts_and_measures_time_to_active, |app: TestApp| async move {
    let c = campaign(&app, trade_show()).await;
    let cid = id(&c);
    let mut partners = Vec::new();
    for (i, moves) in
        [&["onboarding", "active"][..], &["onboarding", "active"], &["onboarding"], &[], &[], &["terminated"]]
            .iter()
            .enumerate()
    {
        let body = json!({"name": format!("伙伴{i}"), "channel_type": "indirect", "kind": "agent", "campaign_id": cid});
        let pid = id(&app.partner_with(body).await);
        for status in moves.iter() {
            let res = app.patch(&format!("/api/v1/partners/{pid}"), json!({"status": status})).send().await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        }
        partners.push(pid);
    }
    // Not brought by the campaign: not counted.
    app.partner("别处来的").await;
    // Time to active is from created_at: make the two active partners 10 and 30 days old.
    app.with_conn(|conn| {
        use channeldesk::db::schema::partners as p;
        use diesel::prelude::*;
        for (pid, days) in [(&partners[0], 10), (&partners[1], 30)] {
            let activated: chrono::NaiveDateTime =
                p::table.find(pid).select(p::activated_at).first::<Option<_>>(conn).unwrap().unwrap();
            diesel::update(p::table.find(pid))
                .set(p::created_at.eq(activated - chrono::Duration::days(days)))
                .execute(conn)
                .unwrap();
        }
    });
    let url = format!("/api/v1/recruitment-campaigns/{cid}/funnel");
    let res = app.get(&url).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let f = &res.body;
    assert_eq!(
        (&f["recruited"], &f["prospects"], &f["onboarding"], &f["active"], &f["terminated"]),
        (&json!(6), &json!(2), &json!(1), &json!(2), &json!(1)),
        "{f}"
    );
    assert_eq!(f["conversion_bp"], 3333, "2 / 6 in basis points");
    assert_eq!(f["cost_per_active_minor"], 6_000_000);
    assert_eq!(f["median_days_to_active"], 20.0);
    // Archived partners leave the funnel.
    assert_eq!(app.delete(&format!("/api/v1/partners/{}", partners[5])).send().await.status, 204);
    assert_eq!(app.get(&url).send().await.body["recruited"], 5);
    let empty =
        campaign(&app, json!({"name": "空", "kind": "referral", "starts_on": "2026-06-01", "cost_minor": 100})).await;
    let res = app.get(&format!("/api/v1/recruitment-campaigns/{}/funnel", id(&empty))).send().await;
    assert_eq!(
        (
            &res.body["recruited"],
            &res.body["conversion_bp"],
            &res.body["cost_per_active_minor"],
            &res.body["median_days_to_active"]
        ),
        (&json!(0), &json!(0), &Value::Null, &Value::Null)
    );
});

both!(recruitment_is_staff_only, |app: TestApp| async move {
    let c = campaign(&app, trade_show()).await;
    let url = format!("/api/v1/recruitment-campaigns/{}", id(&c));
    let viewer = app.key(Role::Viewer, None);
    for path in ["/api/v1/recruitment-campaigns".to_string(), url.clone(), format!("{url}/funnel")] {
        assert_eq!(app.get(&path).key(&viewer).send().await.status, StatusCode::OK, "{path}");
    }
    app.post("/api/v1/recruitment-campaigns", trade_show()).key(&viewer).send().await.problem(403, "forbidden");
    app.delete(&url).key(&viewer).send().await.problem(403, "forbidden");
    let p = app.partner("P").await;
    let partner_key = app.key(Role::Partner, Some(p["id"].as_str().unwrap()));
    app.get(&url).key(&partner_key).send().await.problem(404, "not_found");
    app.get(&format!("{url}/funnel")).key(&partner_key).send().await.problem(404, "not_found");
    app.get(&url).anonymous().send().await.problem(401, "unauthorized");
    let manager = app.key(Role::Manager, None);
    assert_eq!(app.patch(&url, json!({"region": "华北"})).key(&manager).send().await.status, StatusCode::OK);
    let audit = app
        .get(&format!("/api/v1/audit-events?resource_type=recruitment_campaign&resource_id={}", id(&c)))
        .send()
        .await;
    assert_eq!(audit.items().len(), 2, "{}", audit.text);
});

both!(partners_active_before_the_column_existed_get_activated_at_from_the_audit_trail, |app: TestApp| async move {
    use channeldesk::db::{DbConn, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
    use diesel::prelude::*;
    use diesel_migrations::MigrationHarness;
    let p = app.partner("老伙伴").await;
    let url = format!("/api/v1/partners/{}", id(&p));
    app.patch(&url, json!({"status": "onboarding"})).send().await;
    app.patch(&url, json!({"status": "active"})).send().await;
    app.patch(&url, json!({"status": "suspended"})).send().await;
    let pending_after = |conn: &mut DbConn| -> Vec<String> {
        let names = match conn {
            DbConn::Sqlite(c) => {
                c.pending_migrations(SQLITE_MIGRATIONS).unwrap().iter().map(|m| m.name().to_string()).collect()
            }
            DbConn::Pg(c) => {
                c.pending_migrations(POSTGRES_MIGRATIONS).unwrap().iter().map(|m| m.name().to_string()).collect()
            }
        };
        names
    };
    app.with_conn(|conn| {
        // Back to before the recruitment migration, then forward again: the backfill runs.
        while !pending_after(conn).iter().any(|n| n.contains("_recruitment")) {
            match conn {
                DbConn::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(|_| ()),
                DbConn::Pg(c) => c.revert_last_migration(POSTGRES_MIGRATIONS).map(|_| ()),
            }
            .unwrap();
        }
        channeldesk::db::run_migrations(conn).unwrap();
    });
    let first_active: chrono::NaiveDateTime = app.with_conn(|conn| {
        use channeldesk::db::schema::audit_events as ae;
        ae::table
            .filter(ae::resource_id.eq(id(&p)).and(ae::changes.like("%\"new\":\"active\"%")))
            .select(ae::occurred_at)
            .first(conn)
            .unwrap()
    });
    let res = app.get(&url).send().await;
    assert_eq!(res.body["status"], "suspended");
    let got: chrono::DateTime<chrono::Utc> = res.body["activated_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(got.naive_utc(), first_active);
    let never = app.partner("从未激活").await;
    assert_eq!(never["activated_at"], Value::Null);
});

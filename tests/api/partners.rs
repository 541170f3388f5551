use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::json;

use crate::both;

both!(create_returns_201_location_etag_and_defaults, |app: crate::helpers::TestApp| async move {
    let res = app
        .post(
            "/api/v1/partners",
            json!({"name": "华东渠道 🤝 O'Brien; DROP TABLE partners;--", "channel_type": "indirect", "kind": "distributor",
                   "region": "华东", "territories": ["上海", "苏州"], "industries": ["制造"], "owner": "王芳",
                   "next_review_at": "2027-01-15T08:00:00+08:00", "notes": "季度复盘 %_\\"}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/partners/{id}"));
    assert_eq!(res.etag(), "\"1\"");
    assert_eq!(res.body["tier"], "standard");
    assert_eq!(res.body["status"], "prospect");
    assert_eq!(res.body["next_review_at"], "2027-01-15T00:00:00Z");
    let got = app.get(&format!("/api/v1/partners/{id}")).send().await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, res.body, "Chinese, emoji and SQL metacharacters round-trip exactly");
    assert_eq!(got.etag(), "\"1\"");
    assert_eq!(app.event_types(), vec!["partner.created"]);
});

both!(create_validates_every_field, |app: crate::helpers::TestApp| async move {
    let cases = [
        (json!({"channel_type": "indirect", "kind": "agent"}), "name"),
        (json!({"name": "", "channel_type": "indirect", "kind": "agent"}), "name"),
        (json!({"name": "a".repeat(201), "channel_type": "indirect", "kind": "agent"}), "name"),
        (json!({"name": "ok", "channel_type": "sideways", "kind": "agent"}), "channel_type"),
        (json!({"name": "ok", "channel_type": "indirect"}), "kind"),
        (json!({"name": "ok", "channel_type": "direct", "kind": "agent"}), "kind"),
        (json!({"name": "ok", "channel_type": "indirect", "kind": "agent", "tier": "gold"}), "tier"),
        (json!({"name": "ok", "channel_type": "indirect", "kind": "agent", "territories": "上海"}), "territories"),
        (
            json!({"name": "ok", "channel_type": "indirect", "kind": "agent", "territories": ["上海", "上海"]}),
            "territories[1]",
        ),
        (json!({"name": "ok", "channel_type": "indirect", "kind": "agent", "status": "active"}), "status"),
        (
            json!({"name": "ok", "channel_type": "indirect", "kind": "agent", "next_review_at": "tomorrow"}),
            "next_review_at",
        ),
        (json!({"name": "nul\u{0}byte", "channel_type": "indirect", "kind": "agent"}), "name"),
        (json!({"name": 42, "channel_type": "indirect", "kind": "agent"}), "name"),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/partners", body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field.to_string()], "body {body}");
    }
    assert!(app.event_types().is_empty(), "nothing written on bad input");
});

both!(names_are_unique_ignoring_case, |app: crate::helpers::TestApp| async move {
    app.partner("Acme 渠道").await;
    let res = app
        .post("/api/v1/partners", json!({"name": "ACME 渠道", "channel_type": "indirect", "kind": "agent"}))
        .send()
        .await;
    res.problem(409, "partner_name_taken");
    // Renaming into a taken name is refused too.
    let other = app.partner("Other").await;
    let id = other["id"].as_str().unwrap();
    let res = app.patch(&format!("/api/v1/partners/{id}"), json!({"name": "acme 渠道"})).send().await;
    res.problem(409, "partner_name_taken");
});

both!(archived_partner_frees_its_name_and_leaves_lists, |app: crate::helpers::TestApp| async move {
    let p = app.partner("Gone").await;
    let id = p["id"].as_str().unwrap();
    let res = app.delete(&format!("/api/v1/partners/{id}")).send().await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let list = app.get("/api/v1/partners").send().await;
    assert!(list.items().is_empty());
    let got = app.get(&format!("/api/v1/partners/{id}")).send().await;
    assert_eq!(got.status, StatusCode::OK, "kept for history");
    assert!(got.body["archived_at"].is_string());
    app.partner("gone").await;
    let res = app.patch(&format!("/api/v1/partners/{id}"), json!({"tier": "key"})).send().await;
    res.problem(409, "partner_archived");
    assert!(app.event_types().contains(&"partner.archived".to_string()));
});

both!(get_unknown_and_malformed_ids, |app: crate::helpers::TestApp| async move {
    let res = app.get("/api/v1/partners/0192f0c4-3b9e-7c1a-8f00-000000000000").send().await;
    res.problem(404, "partner_not_found");
    let res = app.get("/api/v1/partners/not-a-uuid").send().await;
    res.problem(404, "not_found");
    assert_eq!(res.fields(), vec!["id"]);
});

both!(patch_merges_fields_and_honours_if_match, |app: crate::helpers::TestApp| async move {
    let p = app.partner_with(json!({"name": "P", "channel_type": "indirect", "kind": "agent", "owner": "李雷", "region": "华北", "territories": ["北京"]})).await;
    let id = p["id"].as_str().unwrap();
    let url = format!("/api/v1/partners/{id}");
    let res =
        app.patch(&url, json!({"tier": "key", "owner": null, "territories": ["天津"]})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["tier"], "key");
    assert_eq!(res.body["owner"], serde_json::Value::Null);
    assert_eq!(res.body["region"], "华北", "absent fields are kept");
    assert_eq!(res.etag(), "\"2\"");
    let stale = app.patch(&url, json!({"tier": "strategic"})).if_match("\"1\"").send().await;
    stale.problem(412, "version_mismatch");
    let stale = app.delete(&url).if_match("\"1\"").send().await;
    stale.problem(412, "version_mismatch");
    // The territory index follows the patch.
    let by_old = app.get("/api/v1/partners?territory=%E5%8C%97%E4%BA%AC").send().await;
    assert!(by_old.items().is_empty());
    let by_new = app.get("/api/v1/partners?territory=%E5%A4%A9%E6%B4%A5").send().await;
    assert_eq!(by_new.items().len(), 1);
    let res = app.patch(&url, json!({"tier": "platinum"})).send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["tier"]);
    let res = app.patch(&url, json!({"kind": "sales_team"})).send().await;
    assert_eq!(res.fields(), vec!["kind"], "a direct kind on an indirect partner");
    let res = app.patch("/api/v1/partners/0192f0c4-3b9e-7c1a-8f00-000000000000", json!({"tier": "key"})).send().await;
    res.problem(404, "partner_not_found");
    assert_eq!(app.event_types(), vec!["partner.created", "partner.updated"]);
});

both!(status_moves_along_the_lifecycle_only, |app: crate::helpers::TestApp| async move {
    let p = app.partner("Lifecycle").await;
    let url = format!("/api/v1/partners/{}", p["id"].as_str().unwrap());
    app.patch(&url, json!({"status": "active"})).send().await.problem(409, "invalid_status_transition");
    for status in ["onboarding", "active", "suspended", "active", "terminated"] {
        let res = app.patch(&url, json!({"status": status})).send().await;
        assert_eq!(res.status, StatusCode::OK, "to {status}: {}", res.text);
        assert_eq!(res.body["status"], status);
    }
    app.patch(&url, json!({"status": "active"})).send().await.problem(409, "invalid_status_transition");
    let types = app.event_types();
    assert_eq!(types.iter().filter(|t| *t == "partner.status_changed").count(), 5);
    assert!(!types.contains(&"partner.updated".to_string()), "a pure status move is not an update");
});

both!(list_filters_and_search, |app: crate::helpers::TestApp| async move {
    app.partner_with(json!({"name": "Shanghai Agent", "channel_type": "indirect", "kind": "agent", "tier": "key", "region": "华东", "owner": "amy", "territories": ["上海"]})).await;
    app.partner_with(json!({"name": "Beijing Team", "channel_type": "direct", "kind": "sales_team", "tier": "strategic", "region": "华北", "owner": "bob"})).await;
    app.partner_with(
        json!({"name": "100%_Reseller", "channel_type": "indirect", "kind": "reseller", "region": "华东"}),
    )
    .await;
    let names = |res: &crate::helpers::Res| {
        res.items().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let all = app.get("/api/v1/partners").send().await;
    assert_eq!(names(&all), vec!["100%_Reseller", "Beijing Team", "Shanghai Agent"], "newest first");
    let res = app.get("/api/v1/partners?region=%E5%8D%8E%E4%B8%9C&kind=agent").send().await;
    assert_eq!(names(&res), vec!["Shanghai Agent"]);
    assert_eq!(names(&app.get("/api/v1/partners?tier=strategic").send().await), vec!["Beijing Team"]);
    assert_eq!(names(&app.get("/api/v1/partners?channel_type=direct").send().await), vec!["Beijing Team"]);
    assert_eq!(names(&app.get("/api/v1/partners?owner=amy").send().await), vec!["Shanghai Agent"]);
    assert_eq!(names(&app.get("/api/v1/partners?status=prospect&q=team").send().await), vec!["Beijing Team"]);
    assert_eq!(names(&app.get("/api/v1/partners?q=BEIJING").send().await), vec!["Beijing Team"], "q ignores case");
    assert_eq!(
        names(&app.get("/api/v1/partners?q=%25_").send().await),
        vec!["100%_Reseller"],
        "LIKE wildcards are literal"
    );
    assert!(app.get("/api/v1/partners?q=%25").send().await.items().len() == 1);
    assert!(app.get("/api/v1/partners?status=active").send().await.items().is_empty());
    let bad = app.get("/api/v1/partners?status=dormant").send().await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.fields(), vec!["status"]);
});

both!(list_pages_with_cursor_and_link, |app: crate::helpers::TestApp| async move {
    for i in 0..5 {
        app.partner(&format!("P{i}")).await;
    }
    app.get("/api/v1/partners?limit=2&region=").send().await.problem(422, "validation_failed");
    let first = app.get("/api/v1/partners?limit=2").send().await;
    assert_eq!(first.items().len(), 2);
    let cursor = first.body["next_cursor"].as_str().expect("next cursor").to_string();
    let link = first.header("link").expect("Link header");
    assert!(link.starts_with("</api/v1/partners?limit=2&cursor=") && link.ends_with(">; rel=\"next\""), "{link}");
    let mut seen: Vec<String> = first.items().iter().map(|p| p["name"].as_str().unwrap().into()).collect();
    let mut next = Some(cursor);
    while let Some(c) = next {
        let page = app.get(&format!("/api/v1/partners?limit=2&cursor={c}")).send().await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(page.items().iter().map(|p| p["name"].as_str().unwrap().to_string()));
        next = page.body["next_cursor"].as_str().map(str::to_string);
        if next.is_none() {
            assert!(page.header("link").is_none());
        }
    }
    assert_eq!(seen, vec!["P4", "P3", "P2", "P1", "P0"]);
    app.get("/api/v1/partners?limit=201").send().await.problem(422, "validation_failed");
    app.get("/api/v1/partners?limit=0").send().await.problem(422, "validation_failed");
    let res = app.get("/api/v1/partners?limit=ten").send().await;
    assert_eq!(res.fields(), vec!["limit"]);
    let res = app.get("/api/v1/partners?cursor=garbage!").send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["cursor"]);
    assert_eq!(app.get("/api/v1/partners?limit=200").send().await.items().len(), 5);
});

both!(roles_and_partner_scoping, |app: crate::helpers::TestApp| async move {
    let mine = app.partner("Mine").await;
    let other = app.partner("Other").await;
    let (mine_id, other_id) = (mine["id"].as_str().unwrap(), other["id"].as_str().unwrap());
    let pkey = app.key(Role::Partner, Some(mine_id));
    let viewer = app.key(Role::Viewer, None);
    let manager = app.key(Role::Manager, None);

    let own = app.get(&format!("/api/v1/partners/{mine_id}")).key(&pkey).send().await;
    assert_eq!(own.status, StatusCode::OK);
    app.get(&format!("/api/v1/partners/{other_id}")).key(&pkey).send().await.problem(404, "partner_not_found");
    let list = app.get("/api/v1/partners").key(&pkey).send().await;
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.items()[0]["id"], mine_id);
    // Writes and staff-only endpoints are 404 for partner keys: fail closed.
    app.patch(&format!("/api/v1/partners/{mine_id}"), json!({"tier": "key"}))
        .key(&pkey)
        .send()
        .await
        .problem(404, "not_found");
    app.post("/api/v1/partners", json!({"name": "x", "channel_type": "direct", "kind": "other"}))
        .key(&pkey)
        .send()
        .await
        .problem(404, "not_found");
    app.get("/api/v1/key-accounts").key(&pkey).send().await.problem(404, "not_found");
    app.get("/api/v1/audit-events").key(&pkey).send().await.problem(404, "not_found");
    app.get("/api/v1/api-keys").key(&pkey).send().await.problem(404, "not_found");

    assert_eq!(app.get("/api/v1/partners").key(&viewer).send().await.items().len(), 2);
    app.patch(&format!("/api/v1/partners/{mine_id}"), json!({"tier": "key"}))
        .key(&viewer)
        .send()
        .await
        .problem(403, "forbidden");
    let res = app.patch(&format!("/api/v1/partners/{mine_id}"), json!({"tier": "key"})).key(&manager).send().await;
    assert_eq!(res.status, StatusCode::OK);

    app.get("/api/v1/partners").anonymous().send().await.problem(401, "unauthorized");
    let res = app
        .get("/api/v1/partners")
        .key("cdk_000000000000_0000000000000000000000000000000000000000000000000000000000000000")
        .send()
        .await;
    res.problem(401, "unauthorized");
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    app.get("/api/v1/partners")
        .header("Authorization", "Basic YTpi")
        .anonymous()
        .send()
        .await
        .problem(401, "unauthorized");
});

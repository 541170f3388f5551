use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::json;

use crate::both;

both!(changes_are_audited_with_actor_and_fields, |app: crate::helpers::TestApp| async move {
    let manager = app.key(Role::Manager, None);
    let res = app
        .post(
            "/api/v1/partners",
            json!({"name": "Audited", "channel_type": "indirect", "kind": "agent", "tier": "standard"}),
        )
        .key(&manager)
        .send()
        .await;
    let id = res.id();
    app.patch(&format!("/api/v1/partners/{id}"), json!({"tier": "key", "owner": "韩梅梅"})).key(&manager).send().await;
    app.delete(&format!("/api/v1/partners/{id}")).send().await;
    let trail = app.get(&format!("/api/v1/audit-events?resource_type=partner&resource_id={id}")).send().await;
    assert_eq!(trail.status, StatusCode::OK);
    let actions: Vec<_> = trail.items().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["delete", "update", "create"], "newest first");
    let update = &trail.items()[1];
    assert_eq!(update["actor_name"], "test-manager");
    assert_eq!(
        update["changes"],
        json!({"tier": {"old": "standard", "new": "key"}, "owner": {"old": null, "new": "韩梅梅"}})
    );
    assert!(update["request_id"].is_string());
    let created = &trail.items()[2];
    assert_eq!(created["changes"]["name"], json!({"old": null, "new": "Audited"}));
    let by_actor =
        app.get(&format!("/api/v1/audit-events?actor={}", update["actor_key_id"].as_str().unwrap())).send().await;
    assert_eq!(by_actor.items().len(), 2);
    let by_name = app.get("/api/v1/audit-events?actor=test-manager&limit=1").send().await;
    assert_eq!(by_name.items().len(), 1);
    assert!(by_name.body["next_cursor"].is_string());
    let viewer = app.key(Role::Viewer, None);
    app.get("/api/v1/audit-events").key(&viewer).send().await.problem(403, "forbidden");
    assert_eq!(app.get("/api/v1/audit-events").key(&manager).send().await.status, StatusCode::OK);
});

both!(failed_changes_leave_no_trace, |app: crate::helpers::TestApp| async move {
    app.partner("Once").await;
    app.post("/api/v1/partners", json!({"name": "once", "channel_type": "indirect", "kind": "agent"}))
        .send()
        .await
        .problem(409, "partner_name_taken");
    let trail = app.get("/api/v1/audit-events?resource_type=partner").send().await;
    assert_eq!(trail.items().len(), 1);
    assert_eq!(app.event_types(), vec!["partner.created"]);
});

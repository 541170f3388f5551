use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::json;

use crate::both;

both!(admin_creates_lists_and_revokes_keys, |app: crate::helpers::TestApp| async move {
    let res = app.post("/api/v1/api-keys", json!({"name": "crm-frontend", "role": "manager"})).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let secret = res.body["secret"].as_str().unwrap().to_string();
    let id = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/api-keys/{id}"));
    // The new key works.
    assert_eq!(app.get("/api/v1/partners").key(&secret).send().await.status, StatusCode::OK);
    let list = app.get("/api/v1/api-keys").send().await;
    assert_eq!(list.items().len(), 2);
    assert!(!list.text.contains(&secret), "secrets are never listed");
    assert!(list.items().iter().all(|k| k.get("secret").is_none() && k.get("secret_hash").is_none()));
    let got = app.get(&format!("/api/v1/api-keys/{id}")).send().await;
    assert_eq!(got.body["role"], "manager");
    assert!(got.body.get("secret").is_none());
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}")).send().await.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/partners").key(&secret).send().await.problem(401, "unauthorized");
    let got = app.get(&format!("/api/v1/api-keys/{id}")).send().await;
    assert!(got.body["revoked_at"].is_string());
    assert_eq!(
        app.delete(&format!("/api/v1/api-keys/{id}")).send().await.status,
        StatusCode::NO_CONTENT,
        "revoking twice is harmless"
    );
    app.delete("/api/v1/api-keys/0192f0c4-3b9e-7c1a-8f00-000000000000").send().await.problem(404, "api_key_not_found");
});

both!(partner_keys_need_an_existing_partner, |app: crate::helpers::TestApp| async move {
    let res = app.post("/api/v1/api-keys", json!({"name": "p", "role": "partner"})).send().await;
    assert_eq!(res.fields(), vec!["partner_id"]);
    let res = app
        .post(
            "/api/v1/api-keys",
            json!({"name": "p", "role": "partner", "partner_id": "0192f0c4-3b9e-7c1a-8f00-000000000000"}),
        )
        .send()
        .await;
    assert_eq!(res.fields(), vec!["partner_id"]);
    let res = app
        .post(
            "/api/v1/api-keys",
            json!({"name": "v", "role": "viewer", "partner_id": "0192f0c4-3b9e-7c1a-8f00-000000000000"}),
        )
        .send()
        .await;
    assert_eq!(res.fields(), vec!["partner_id"]);
    let res = app.post("/api/v1/api-keys", json!({"name": "x", "role": "root"})).send().await;
    assert_eq!(res.fields(), vec!["role"]);
    let p = app.partner("P").await;
    let res = app.post("/api/v1/api-keys", json!({"name": "p", "role": "partner", "partner_id": p["id"]})).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["partner_id"], p["id"]);
});

both!(only_admins_manage_keys, |app: crate::helpers::TestApp| async move {
    let manager = app.key(Role::Manager, None);
    app.get("/api/v1/api-keys").key(&manager).send().await.problem(403, "forbidden");
    app.post("/api/v1/api-keys", json!({"name": "x", "role": "admin"}))
        .key(&manager)
        .send()
        .await
        .problem(403, "forbidden");
});

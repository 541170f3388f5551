use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::json;

use crate::both;

both!(key_account_crud_and_filters, |app: crate::helpers::TestApp| async move {
    let res = app
        .post("/api/v1/key-accounts", json!({"name": "中国石化", "industry": "能源", "region": "华北", "owner": "amy"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    let url = format!("/api/v1/key-accounts/{id}");
    assert_eq!(res.header("location").unwrap(), url);
    app.post("/api/v1/key-accounts", json!({"name": "Bank of Ningbo", "industry": "金融", "region": "华东"}))
        .send()
        .await;
    let names = |res: &crate::helpers::Res| {
        res.items().iter().map(|k| k["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(&app.get("/api/v1/key-accounts").send().await), vec!["Bank of Ningbo", "中国石化"]);
    assert_eq!(names(&app.get("/api/v1/key-accounts?industry=%E8%83%BD%E6%BA%90").send().await), vec!["中国石化"]);
    assert_eq!(names(&app.get("/api/v1/key-accounts?q=ningbo").send().await), vec!["Bank of Ningbo"]);
    assert_eq!(names(&app.get("/api/v1/key-accounts?owner=amy").send().await), vec!["中国石化"]);
    let res = app.patch(&url, json!({"owner": null, "region": "西南"})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["owner"], serde_json::Value::Null);
    app.patch(&url, json!({"region": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    app.patch(&url, json!({"name": ""})).send().await.problem(422, "validation_failed");
    app.post("/api/v1/key-accounts", json!({"industry": "x"})).send().await.problem(422, "validation_failed");
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    assert_eq!(names(&app.get("/api/v1/key-accounts").send().await), vec!["Bank of Ningbo"]);
    app.patch(&url, json!({"region": "x"})).send().await.problem(409, "key_account_archived");
    app.get("/api/v1/key-accounts/0192f0c4-3b9e-7c1a-8f00-000000000000")
        .send()
        .await
        .problem(404, "key_account_not_found");
    let viewer = app.key(Role::Viewer, None);
    assert_eq!(app.get("/api/v1/key-accounts").key(&viewer).send().await.status, StatusCode::OK);
    app.post("/api/v1/key-accounts", json!({"name": "v"})).key(&viewer).send().await.problem(403, "forbidden");
});

both!(one_primary_partner_per_product_line, |app: crate::helpers::TestApp| async move {
    let account = app.key_account("国家电网").await;
    let base = format!("/api/v1/key-accounts/{}/assignments", account["id"].as_str().unwrap());
    let (a, b) = (app.partner("A").await, app.partner("B").await);
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let first =
        app.post(&base, json!({"partner_id": a_id, "role": "primary", "product_lines": ["ERP", "CRM"]})).send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let res =
        app.post(&base, json!({"partner_id": b_id, "role": "primary", "product_lines": ["BI", "CRM"]})).send().await;
    res.problem(409, "primary_partner_taken");
    let support =
        app.post(&base, json!({"partner_id": b_id, "role": "support", "product_lines": ["CRM"]})).send().await;
    assert_eq!(support.status, StatusCode::CREATED);
    let other_line =
        app.post(&base, json!({"partner_id": b_id, "role": "primary", "product_lines": ["BI"]})).send().await;
    assert_eq!(other_line.status, StatusCode::CREATED);
    // Promoting the support partner onto a taken line fails; freeing the line lets it through.
    let support_url = format!("{base}/{}", support.id());
    app.patch(&support_url, json!({"role": "primary"})).send().await.problem(409, "primary_partner_taken");
    let first_url = format!("{base}/{}", first.id());
    let res = app.patch(&first_url, json!({"product_lines": ["ERP"]})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app.patch(&support_url, json!({"role": "primary"})).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(app.get(&base).send().await.items().len(), 3);
    assert_eq!(app.delete(&first_url).send().await.status, StatusCode::NO_CONTENT);
    let again = app.post(&base, json!({"partner_id": a_id, "role": "primary", "product_lines": ["ERP"]})).send().await;
    assert_eq!(again.status, StatusCode::CREATED, "deleting an assignment frees its lines");
    app.get(&first_url).send().await.problem(404, "assignment_not_found");
});

both!(assignment_validation, |app: crate::helpers::TestApp| async move {
    let account = app.key_account("KA").await;
    let base = format!("/api/v1/key-accounts/{}/assignments", account["id"].as_str().unwrap());
    let p = app.partner("P").await;
    let pid = p["id"].as_str().unwrap();
    let cases = [
        (json!({"partner_id": pid, "role": "primary", "product_lines": []}), "product_lines"),
        (json!({"partner_id": pid, "role": "owner", "product_lines": ["x"]}), "role"),
        (json!({"partner_id": "nope", "role": "support", "product_lines": ["x"]}), "partner_id"),
        (
            json!({"partner_id": "0192f0c4-3b9e-7c1a-8f00-000000000000", "role": "support", "product_lines": ["x"]}),
            "partner_id",
        ),
        (json!({"role": "support", "product_lines": ["x"]}), "partner_id"),
    ];
    for (body, field) in cases {
        let res = app.post(&base, body.clone()).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field], "{body}");
    }
    app.post(
        "/api/v1/key-accounts/0192f0c4-3b9e-7c1a-8f00-000000000000/assignments",
        json!({"partner_id": pid, "role": "support", "product_lines": ["x"]}),
    )
    .send()
    .await
    .problem(404, "key_account_not_found");
});

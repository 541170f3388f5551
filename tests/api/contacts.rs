use actix_web::http::StatusCode;
use channeldesk::access::Role;
use serde_json::json;

use crate::both;

both!(contact_crud, |app: crate::helpers::TestApp| async move {
    let p = app.partner("With contacts").await;
    let pid = p["id"].as_str().unwrap();
    let base = format!("/api/v1/partners/{pid}/contacts");
    let res = app
        .post(&base, json!({"name": "张伟", "title": "渠道经理", "phone": "+86 138-0000-0000", "email": "zhang.wei@example.cn", "wecom_userid": "ZhangWei", "dingtalk_userid": "zw001"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let cid = res.id();
    assert_eq!(res.header("location").unwrap(), format!("{base}/{cid}"));
    let url = format!("{base}/{cid}");
    let got = app.get(&url).send().await;
    assert_eq!(got.body["name"], "张伟");
    let res = app.patch(&url, json!({"title": null, "phone": "010-12345678"})).if_match("\"1\"").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["title"], serde_json::Value::Null);
    assert_eq!(res.body["phone"], "010-12345678");
    assert_eq!(res.body["email"], "zhang.wei@example.cn");
    app.patch(&url, json!({"name": "x"})).if_match("\"1\"").send().await.problem(412, "version_mismatch");
    app.post(&base, json!({"name": "李娜"})).send().await;
    let list = app.get(&base).send().await;
    let names: Vec<_> = list.items().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["张伟", "李娜"]);
    assert_eq!(app.delete(&url).send().await.status, StatusCode::NO_CONTENT);
    app.get(&url).send().await.problem(404, "contact_not_found");
    app.delete(&url).send().await.problem(404, "contact_not_found");
});

both!(contact_validation_and_missing_partner, |app: crate::helpers::TestApp| async move {
    let p = app.partner("P").await;
    let base = format!("/api/v1/partners/{}/contacts", p["id"].as_str().unwrap());
    let cases = [
        (json!({}), "name"),
        (json!({"name": "a", "email": "not-an-email"}), "email"),
        (json!({"name": "a", "phone": "call me"}), "phone"),
        (json!({"name": "a", "wecom_userid": "has space"}), "wecom_userid"),
        (json!({"name": "a", "nickname": "x"}), "nickname"),
    ];
    for (body, field) in cases {
        let res = app.post(&base, body).send().await;
        res.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec![field]);
    }
    let missing = "/api/v1/partners/0192f0c4-3b9e-7c1a-8f00-000000000000/contacts";
    app.post(missing, json!({"name": "a"})).send().await.problem(404, "partner_not_found");
    app.get(missing).send().await.problem(404, "partner_not_found");
    let res = app.get(&format!("{base}/nope")).send().await;
    res.problem(404, "not_found");
    assert_eq!(res.fields(), vec!["contact_id"]);
    // A contact is reached only through its own partner.
    let other = app.partner("Other").await;
    let c = app.post(&base, json!({"name": "a"})).send().await;
    let wrong = format!("/api/v1/partners/{}/contacts/{}", other["id"].as_str().unwrap(), c.id());
    app.get(&wrong).send().await.problem(404, "contact_not_found");
    // Archived partners take no new contacts.
    app.delete(&format!("/api/v1/partners/{}", p["id"].as_str().unwrap())).send().await;
    app.post(&base, json!({"name": "late"})).send().await.problem(409, "partner_archived");
});

both!(contacts_scoped_to_partner_keys, |app: crate::helpers::TestApp| async move {
    let mine = app.partner("Mine").await;
    let other = app.partner("Other").await;
    let mine_base = format!("/api/v1/partners/{}/contacts", mine["id"].as_str().unwrap());
    let other_base = format!("/api/v1/partners/{}/contacts", other["id"].as_str().unwrap());
    let c = app.post(&mine_base, json!({"name": "Own"})).send().await;
    app.post(&other_base, json!({"name": "Theirs"})).send().await;
    let pkey = app.key(Role::Partner, mine["id"].as_str());
    assert_eq!(app.get(&mine_base).key(&pkey).send().await.items().len(), 1);
    assert_eq!(app.get(&format!("{mine_base}/{}", c.id())).key(&pkey).send().await.status, StatusCode::OK);
    app.get(&other_base).key(&pkey).send().await.problem(404, "partner_not_found");
    app.post(&mine_base, json!({"name": "x"})).key(&pkey).send().await.problem(404, "not_found");
    let viewer = app.key(Role::Viewer, None);
    app.post(&mine_base, json!({"name": "x"})).key(&viewer).send().await.problem(403, "forbidden");
    app.delete(&format!("{mine_base}/{}", c.id())).key(&viewer).send().await.problem(403, "forbidden");
});

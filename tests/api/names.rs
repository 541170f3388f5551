//! Names that are "unique ignoring case" are compared after Unicode NFKC, case folding and
//! removing invisible characters and surrounding whitespace; the stored name keeps what was typed.

use actix_web::http::StatusCode;
use channeldesk::db::schema::{contracts, key_accounts, partners};
use diesel::prelude::*;
use serde_json::json;

use crate::both;
use crate::contracts::{active_contract, draft, id};
use crate::helpers::TestApp;

const LOOK_ALIKES: &[(&str, &str)] = &[
    ("A公司", "Ａ公司"),
    ("华东代理", "华东代理\u{00A0}"),
    ("华南代理", "华南\u{200B}代理"),
    ("café", "cafe\u{0301}"),
    ("Acme", "  ACME\u{3000}"),
];

both!(look_alike_partner_names_are_the_same_partner, |app: TestApp| async move {
    for (first, second) in LOOK_ALIKES {
        let created = app.partner(first).await;
        assert_eq!(created["name"], *first, "the stored name keeps what was typed");
        let res = app
            .post("/api/v1/partners", json!({"name": second, "channel_type": "indirect", "kind": "agent"}))
            .send()
            .await;
        res.problem(409, "partner_name_taken");
        // Renaming another partner onto a look-alike is refused the same way.
        let other = app.partner(&format!("other {first}")).await;
        let path = format!("/api/v1/partners/{}", other["id"].as_str().expect("id"));
        app.patch(&path, json!({"name": second})).send().await.problem(409, "partner_name_taken");
    }
    let found = app.get("/api/v1/partners?q=%EF%BC%A1%E5%85%AC%E5%8F%B8").send().await;
    let names: Vec<&str> = found.items().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names.len(), 2, "q matches by the same key: Ａ公司 finds A公司 and other A公司: {names:?}");
});

both!(look_alike_key_account_names_are_the_same_account, |app: TestApp| async move {
    for (first, second) in LOOK_ALIKES {
        let created = app.key_account(first).await;
        assert_eq!(created["name"], *first);
        let res = app.post("/api/v1/key-accounts", json!({"name": second})).send().await;
        res.problem(409, "key_account_name_taken");
    }
    // An archived account frees its name.
    let gone = app.key_account("旧客户").await;
    let path = format!("/api/v1/key-accounts/{}", gone["id"].as_str().expect("id"));
    assert_eq!(app.delete(&path).send().await.status, StatusCode::NO_CONTENT);
    app.key_account("旧客户").await;
});

both!(the_upgrade_rekeys_existing_rows_and_leaves_collisions_to_a_rename, |app: TestApp| async move {
    let a = app.partner("Ａlpha").await;
    let b = app.partner("Beta").await;
    let acct = app.key_account("Gamma").await;
    // Keys as an older version wrote them: trim + lower case only, and no key for accounts.
    let (a_id, b_id, acct_id) = (
        a["id"].as_str().unwrap().to_string(),
        b["id"].as_str().unwrap().to_string(),
        acct["id"].as_str().unwrap().to_string(),
    );
    app.with_conn(|c| {
        diesel::update(partners::table.find(&a_id)).set(partners::name_key.eq("ａlpha")).execute(c).unwrap();
        diesel::update(partners::table.find(&b_id))
            .set((partners::name.eq("ＢＥＴＡ"), partners::name_key.eq("ｂｅｔａ")))
            .execute(c)
            .unwrap();
        diesel::update(key_accounts::table.find(&acct_id))
            .set(key_accounts::name_key.eq(None::<String>))
            .execute(c)
            .unwrap();
    });
    // Before the upgrade a look-alike slips through; an old-keyed "Beta" exists as ＢＥＴＡ.
    let beta =
        app.post("/api/v1/partners", json!({"name": "beta", "channel_type": "indirect", "kind": "agent"})).send().await;
    assert_eq!(beta.status, StatusCode::CREATED);
    let changed = app.with_conn(|c| {
        c.transaction(|c| {
            Ok::<_, channeldesk::error::ApiError>(
                channeldesk::partners::store::rekey_names(c)? + channeldesk::key_accounts::store::rekey_names(c)?,
            )
        })
        .unwrap()
    });
    assert_eq!(changed, 2, "Ａlpha and Gamma get their keys; ＢＥＴＡ collides with beta and keeps its old key");
    let key_of =
        |id: &str| app.with_conn(|c| partners::table.find(id).select(partners::name_key).first::<String>(c).unwrap());
    assert_eq!(key_of(&a_id), "alpha");
    assert_eq!(key_of(&b_id), "ｂｅｔａ");
    app.post("/api/v1/partners", json!({"name": "ALPHA", "channel_type": "indirect", "kind": "agent"}))
        .send()
        .await
        .problem(409, "partner_name_taken");
    app.post("/api/v1/key-accounts", json!({"name": "gamma"})).send().await.problem(409, "key_account_name_taken");
});

/// Contract numbers as a look-alike of "HT-001" may be typed.
const NUMBER_LOOK_ALIKES: &[&str] = &["ＨＴ－００１", "HT-001\u{00A0}", "HT-\u{200B}001", "ht-001", " HT-001\u{3000}"];

both!(look_alike_contract_numbers_are_the_same_number, |app: TestApp| async move {
    let p = app.partner("P").await;
    let pid = p["id"].as_str().unwrap();
    let first = draft(&app, pid, "HT-001").await;
    assert_eq!(first["number"], "HT-001");
    let other = draft(&app, pid, "HT-002").await;
    let active = active_contract(&app, json!({"partner_id": pid, "number": "HT-003"}), vec![]).await;
    for number in NUMBER_LOOK_ALIKES {
        let body = json!({"partner_id": pid, "number": number, "title": "t", "kind": "agency"});
        app.post("/api/v1/contracts", body).send().await.problem(409, "contract_number_taken");
        let path = format!("/api/v1/contracts/{}", id(&other));
        app.patch(&path, json!({"number": number})).send().await.problem(409, "contract_number_taken");
        let renew = format!("/api/v1/contracts/{}/renew", id(&active));
        app.post(&renew, json!({"number": number})).send().await.problem(409, "contract_number_taken");
    }
    let kept = app.get(&format!("/api/v1/contracts/{}", id(&other))).send().await;
    assert_eq!((kept.body["number"].clone(), kept.body["version"].clone()), (json!("HT-002"), json!(1)));
    // A number that only looks alike in part is another number.
    draft(&app, pid, "HT-0001").await;
    // q= compares the same way: full-width "ＨＴ－００" finds the HT-00… numbers.
    let found = app.get("/api/v1/contracts?q=%EF%BC%A8%EF%BC%B4%EF%BC%8D%EF%BC%90%EF%BC%90").send().await;
    let numbers: Vec<&str> = found.items().iter().filter_map(|c| c["number"].as_str()).collect();
    assert_eq!(numbers, ["HT-0001", "HT-003", "HT-002", "HT-001"], "newest first");
});

both!(the_number_upgrade_rekeys_contracts_and_leaves_collisions_to_a_renumber, |app: TestApp| async move {
    let p = app.partner("P").await;
    let pid = p["id"].as_str().unwrap();
    let wide = draft(&app, pid, "ＨＴ－００２").await;
    let plain = draft_titled(&app, pid, "Ｘ-1", "Ｔｉｔｌｅ").await;
    let (wide_id, plain_id) = (id(&wide), id(&plain));
    // Keys as an older version wrote them: trim + lower case only.
    app.with_conn(|c| {
        diesel::update(contracts::table.find(&wide_id))
            .set(contracts::number_key.eq("ｈｔ－００２"))
            .execute(c)
            .unwrap();
        diesel::update(contracts::table.find(&plain_id))
            .set((contracts::number_key.eq("ｘ-1"), contracts::title_key.eq("ｔｉｔｌｅ")))
            .execute(c)
            .unwrap();
    });
    // Before the upgrade a look-alike of the old-keyed ＨＴ－００２ slips through.
    draft(&app, pid, "HT-002").await;
    let changed = app.with_conn(|c| c.transaction(channeldesk::contracts::store::rekey_numbers).unwrap());
    assert_eq!(changed, 1, "Ｘ-1 gets its keys; ＨＴ－００２ collides with HT-002 and keeps its old key");
    let keys_of = |id: &str| {
        app.with_conn(|c| {
            contracts::table
                .find(id)
                .select((contracts::number_key, contracts::title_key))
                .first::<(String, String)>(c)
                .unwrap()
        })
    };
    assert_eq!(keys_of(&plain_id), ("x-1".to_string(), "title".to_string()));
    assert_eq!(keys_of(&wide_id).0, "ｈｔ－００２");
    let body = json!({"partner_id": pid, "number": "x-1", "title": "t", "kind": "agency"});
    app.post("/api/v1/contracts", body).send().await.problem(409, "contract_number_taken");
    let found = app.get("/api/v1/contracts?q=title").send().await;
    assert_eq!(found.items().len(), 1, "the recomputed title key is searched: {}", found.text);
});

async fn draft_titled(app: &TestApp, partner_id: &str, number: &str, title: &str) -> serde_json::Value {
    crate::contracts::draft_with(app, json!({"partner_id": partner_id, "number": number, "title": title})).await
}

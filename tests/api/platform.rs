use actix_web::http::{Method, StatusCode};
use serde_json::json;

use crate::both;

both!(malformed_bodies_are_problems, |app: crate::helpers::TestApp| async move {
    let res = app.req(Method::POST, "/api/v1/partners").raw("application/json", "{\"name\": ").send().await;
    res.problem(400, "malformed_json");
    let res = app.req(Method::POST, "/api/v1/partners").raw("text/plain", "name=x").send().await;
    res.problem(415, "unsupported_media_type");
    let res = app.req(Method::POST, "/api/v1/partners").raw("application/json", "[]").send().await;
    res.problem(422, "validation_failed");
    let big =
        format!("{{\"name\": \"{}\", \"channel_type\": \"direct\", \"kind\": \"other\"}}", "x".repeat(300 * 1024));
    let res = app.req(Method::POST, "/api/v1/partners").raw("application/json", big).send().await;
    res.problem(413, "payload_too_large");
    let res = app.req(Method::POST, "/api/v1/partners").raw("application/json", "").send().await;
    res.problem(400, "malformed_json");
});

both!(unknown_paths_and_wrong_methods, |app: crate::helpers::TestApp| async move {
    let res = app.get("/api/v1/nothing-here").send().await;
    res.problem(404, "route_not_found");
    let res = app.req(Method::PUT, "/api/v1/partners/0192f0c4-3b9e-7c1a-8f00-000000000000").send().await;
    res.problem(405, "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, PATCH, DELETE, HEAD"));
    let res = app.req(Method::DELETE, "/api/v1/partners").send().await;
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST, HEAD"));
    // `import` is a literal path beside `/cost-records/{id}`: a PATCH must not reach the record's
    // handler (which would read the body and answer 422), and nothing may be written.
    for path in ["/api/v1/cost-records/import", "/api/v1/performance-records/import"] {
        let res = app.patch(path, json!({"records": []})).send().await;
        res.problem(405, "method_not_allowed");
        assert_eq!(res.header("allow").as_deref(), Some("POST"), "{path}");
        app.get(path).send().await.problem(405, "method_not_allowed");
        app.delete(path).send().await.problem(405, "method_not_allowed");
    }
});

both!(idempotency_key_replays_and_rejects_reuse, |app: crate::helpers::TestApp| async move {
    let body = json!({"name": "Idem", "channel_type": "indirect", "kind": "agent"});
    let first = app.post("/api/v1/partners", body.clone()).header("Idempotency-Key", "k-1").send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = app.post("/api/v1/partners", body.clone()).header("Idempotency-Key", "k-1").send().await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body, first.body, "the first response, replayed");
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(app.get("/api/v1/partners").send().await.items().len(), 1, "created once");
    let other = app
        .post("/api/v1/partners", json!({"name": "Other", "channel_type": "indirect", "kind": "agent"}))
        .header("Idempotency-Key", "k-1")
        .send()
        .await;
    other.problem(422, "idempotency_key_reused");
    // Keys belong to the caller: another key may use the same value independently.
    let second_admin = app.key(channeldesk::access::Role::Admin, None);
    let res = app
        .post("/api/v1/partners", json!({"name": "Other", "channel_type": "indirect", "kind": "agent"}))
        .key(&second_admin)
        .header("Idempotency-Key", "k-1")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    // Errors replay too: the same failing request keeps failing the same way.
    let dup = json!({"name": "idem", "channel_type": "indirect", "kind": "agent"});
    let a = app.post("/api/v1/partners", dup.clone()).header("Idempotency-Key", "k-2").send().await;
    a.problem(409, "partner_name_taken");
    let b = app.post("/api/v1/partners", dup).header("Idempotency-Key", "k-2").send().await;
    b.problem(409, "partner_name_taken");
    let res = app.post("/api/v1/partners", body).header("Idempotency-Key", "bad key with spaces").send().await;
    res.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["Idempotency-Key"]);
});

both!(ops_endpoints, |app: crate::helpers::TestApp| async move {
    let health = app.get("/healthz").anonymous().send().await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = app.get("/readyz").anonymous().send().await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    app.get("/api/v1/partners").send().await;
    let metrics = app.get("/metrics").anonymous().send().await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .text
            .contains("channeldesk_http_requests_total{method=\"GET\",route=\"/api/v1/partners\",status=\"200\"} 1"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("channeldesk_http_request_duration_seconds_bucket"));
    // The configured 4, plus on SQLite the writer's own connection.
    let connections = match app.db.backend() {
        channeldesk::db::Backend::Sqlite => 5,
        channeldesk::db::Backend::Postgres => 4,
    };
    assert!(metrics.text.contains(&format!("channeldesk_db_pool_max_connections {connections}")), "{}", metrics.text);
    let ui = app.get("/swagger-ui/").anonymous().send().await;
    assert_eq!(ui.status, StatusCode::OK);
    assert!(ui.text.contains("swagger-ui"), "vendored Swagger UI is served");
    let redirect = app.get("/swagger-ui").anonymous().send().await;
    assert!(redirect.status.is_redirection());
    let spec = app.get("/api-docs/openapi.json").anonymous().send().await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["openapi"], "3.1.0");
});

both!(request_ids_are_echoed_and_carried_by_problems, |app: crate::helpers::TestApp| async move {
    let res = app
        .get("/api/v1/partners/0192f0c4-3b9e-7c1a-8f00-000000000000")
        .header("X-Request-Id", "trace-abc_123")
        .send()
        .await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("trace-abc_123"));
    assert_eq!(res.body["request_id"], "trace-abc_123");
    let res = app.get("/healthz").header("X-Request-Id", "bad id with spaces").send().await;
    let generated = res.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(&generated).is_ok());
});

both!(emit_once_is_exactly_once_under_concurrency, |app: crate::helpers::TestApp| async move {
    use channeldesk::events::{emit_once, release_key};
    // Any real event will do: the partner's own, read back.
    app.partner("华东星辰").await;
    let stored = app.with_conn(|c| channeldesk::events::since(c, None, 10)).expect("events");
    let event = stored[0].domain().expect("a typed event");
    // Eight writers race for the same key; the database lets exactly one through.
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (db, event) = (app.db.clone(), event.clone());
            std::thread::spawn(move || db.write_blocking(|conn| emit_once(conn, "once:r1", &event)).expect("emit"))
        })
        .collect();
    let emitted = handles.into_iter().map(|h| h.join().expect("thread")).filter(Option::is_some).count();
    assert_eq!(emitted, 1);
    assert_eq!(app.event_types(), vec!["partner.created"; 2]);
    // Released, the same key may fire again (a condition that clears and returns).
    app.db.write_blocking(|conn| release_key(conn, "once:r1")).expect("release");
    let again = app.db.write_blocking(|conn| emit_once(conn, "once:r1", &event)).expect("emit");
    assert!(again.is_some());
});

both!(database_work_beyond_the_pool_waits_its_turn, |app: crate::helpers::TestApp| async move {
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::RwLock;
    let metric = |text: &str| -> Option<String> {
        text.lines().find_map(|l| l.strip_prefix("channeldesk_db_waiting_requests ").map(str::to_string))
    };
    // The test app's pool has 4 connections: four reads parked on a gate hold every turn.
    let gate = Arc::new(RwLock::new(()));
    let closed = gate.write().await;
    let holders: Vec<_> = (0..4)
        .map(|_| {
            let (db, gate) = (app.db.clone(), gate.clone());
            actix_web::rt::spawn(async move {
                db.read(move |_| {
                    drop(gate.blocking_read());
                    Ok(())
                })
                .await
            })
        })
        .collect();
    // Nobody waits forever: with the clock moved past MAX_WAIT, a waiter is told 503. (Moved by
    // hand: a paused clock does not run itself forward while blocking tasks, the holders, run.)
    tokio::time::pause();
    let db = app.db.clone();
    let impatient = actix_web::rt::spawn(async move { db.read(|_| Ok(())).await });
    for _ in 0..500 {
        if app.db.waiting() == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(app.db.waiting(), 1, "a fifth read waits");
    // Past the deadline with room to spare: the timer wheel rounds deadlines up to the millisecond.
    tokio::time::advance(channeldesk::db::MAX_WAIT + Duration::from_secs(1)).await;
    let refused = impatient.await.expect("impatient task").expect_err("no turn within MAX_WAIT");
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::resume();
    assert_eq!(app.db.waiting(), 0);
    let db = app.db.clone();
    let queued = actix_web::rt::spawn(async move {
        db.read(|conn| {
            use diesel::prelude::*;
            use diesel::sql_types::Integer;
            #[derive(QueryableByName)]
            struct One {
                #[diesel(sql_type = Integer)]
                one: i32,
            }
            Ok(diesel::sql_query("SELECT 1 AS one").get_result::<One>(conn)?.one)
        })
        .await
    });
    let mut seen = 0;
    for _ in 0..500 {
        seen = app.db.waiting();
        if seen == 1 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen, 1, "the fifth read waits for a turn");
    let metrics = app.get("/metrics").anonymous().send().await;
    assert_eq!(metric(&metrics.text).as_deref(), Some("1"), "{}", metrics.text);
    // A waiter whose client goes away stops counting.
    let gave_up = actix_web::rt::time::timeout(Duration::from_millis(20), app.db.read(|_| Ok(()))).await;
    assert!(gave_up.is_err(), "no turn is free while the gate is closed");
    assert_eq!(app.db.waiting(), 1);
    // Opening the gate lets everyone through, the waiter with a working connection.
    drop(closed);
    for h in holders {
        h.await.expect("holder task").expect("holder read");
    }
    assert_eq!(queued.await.expect("queued task").expect("queued read"), 1);
    assert_eq!(app.db.waiting(), 0);
    let metrics = app.get("/metrics").anonymous().send().await;
    assert_eq!(metric(&metrics.text).as_deref(), Some("0"));
});

/// SQLite takes one writer at a time: writers queued behind a slow one hold no reader's turn, so
/// reads go on while the writers wait (before, each queued writer held an admission permit and a
/// thread, and five of them starved every read).
#[actix_web::test]
async fn queued_sqlite_writers_do_not_block_readers() {
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::RwLock;
    let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let gate = Arc::new(RwLock::new(()));
    let closed = gate.write().await;
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (db, gate) = (app.db.clone(), gate.clone());
            actix_web::rt::spawn(async move {
                db.write(move |_| {
                    drop(gate.blocking_read());
                    Ok(())
                })
                .await
            })
        })
        .collect();
    for _ in 0..500 {
        if app.db.waiting() == 7 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(app.db.waiting(), 7, "one writer works, seven wait their turn");
    for _ in 0..6 {
        let read = actix_web::rt::time::timeout(Duration::from_secs(5), app.db.read(|_| Ok(()))).await;
        assert!(matches!(read, Ok(Ok(()))), "a read goes on while writers queue: {read:?}");
    }
    let res = app.get("/api/v1/partners").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    drop(closed);
    for w in writers {
        w.await.expect("writer task").expect("writer");
    }
    assert_eq!(app.db.waiting(), 0);
}

/// Postgres going away mid-run: requests get 503 with `Retry-After` (never 500), `/readyz` says
/// 503 while the database refuses connections, and service resumes by itself when it is back.
#[actix_web::test]
#[cfg_attr(not(channeldesk_test_pg), ignore = "needs CHANNELDESK_TEST_PG: it stops a Postgres database")]
async fn postgres_going_away_is_503_and_recovery_is_automatic() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Postgres).await;
    let channeldesk::db::DbUrl::Postgres(url) = &app.config.database_url else { panic!("a Postgres app") };
    let name = url.rsplit('/').next().expect("database name").split('?').next().expect("name").to_string();
    let mut admin = diesel::PgConnection::establish(&crate::helpers::pg_server().expect("server")).expect("admin");
    // Warm the pool so that every pooled connection is one the server will cut.
    for _ in 0..4 {
        assert_eq!(app.get("/api/v1/partners").send().await.status, StatusCode::OK);
    }
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    admin.batch_execute(&format!("ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false; {kill}")).expect("stop");
    for _ in 0..6 {
        let res = app.get("/api/v1/partners").send().await;
        res.problem(503, "service_unavailable");
        assert!(res.header("retry-after").is_some(), "503 says when to retry");
    }
    let ready = app.get("/readyz").anonymous().send().await;
    ready.problem(503, "service_unavailable");
    admin.batch_execute(&format!("ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS true")).expect("restart");
    let mut recovered = false;
    for _ in 0..20 {
        let res = app.get("/api/v1/partners").send().await;
        assert_ne!(res.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", res.text);
        if res.status == StatusCode::OK {
            recovered = true;
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "the service resumes once the database is back");
    assert_eq!(app.get("/readyz").anonymous().send().await.status, StatusCode::OK);
}

/// A connection the server cut is not handed to the next request: after one 503 per cut
/// connection at most, requests succeed again.
#[actix_web::test]
#[cfg_attr(not(channeldesk_test_pg), ignore = "needs CHANNELDESK_TEST_PG: it cuts Postgres connections")]
async fn cut_postgres_connections_are_dropped_not_reused() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Postgres).await;
    let channeldesk::db::DbUrl::Postgres(url) = &app.config.database_url else { panic!("a Postgres app") };
    let name = url.rsplit('/').next().expect("database name").split('?').next().expect("name").to_string();
    let mut admin = diesel::PgConnection::establish(&crate::helpers::pg_server().expect("server")).expect("admin");
    for _ in 0..4 {
        app.get("/api/v1/partners").send().await;
    }
    admin
        .batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .expect("cut");
    let mut failures = 0;
    for _ in 0..12 {
        let res = app.get("/api/v1/partners").send().await;
        match res.status.as_u16() {
            200 => {}
            503 => failures += 1,
            other => panic!("{other}: {}", res.text),
        }
    }
    assert!(failures <= 4, "each cut connection fails at most once ({failures} failures)");
    assert_eq!(app.get("/api/v1/partners").send().await.status, StatusCode::OK);
}

//! The test harness: each test gets the real app over its own fresh database, on SQLite always
//! and on Postgres when `CHANNELDESK_TEST_PG` names a server (`postgres://user@host:port/db`).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use actix_web::body::{to_bytes, BoxBody};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::test::TestRequest;
use channeldesk::access::Actor;
use channeldesk::access::Role;
use channeldesk::api_keys::model::ApiKeyCreate;
use channeldesk::app::mk_app;
use channeldesk::config::Config;
use channeldesk::db::{self, Db, DbConn, DbUrl};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per backend: `both!(name, |app| async move { … })`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[actix_web::test]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await;
                ($body)(app).await;
            }

            #[actix_web::test]
            #[cfg_attr(
                not(channeldesk_test_pg),
                ignore = "set CHANNELDESK_TEST_PG to a Postgres server URL to run the Postgres variant"
            )]
            async fn postgres() {
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await;
                ($body)(app).await;
            }
        }
    };
}

type Call = Rc<dyn Fn(actix_http::Request) -> Pin<Box<dyn Future<Output = ServiceResponse<BoxBody>>>>>;

pub struct TestApp {
    call: Call,
    pub db: Db,
    /// The configuration the app runs with (`with_config` changes it).
    pub config: Config,
    /// An admin key made at start-up.
    pub admin: String,
    _guard: DbGuard,
}

/// Removes the test's database when the test ends.
enum DbGuard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server: String, name: String },
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let DbGuard::Postgres { server, name } = self {
            if let Ok(mut conn) = PgConnection::establish(server) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

pub fn pg_server() -> Option<String> {
    std::env::var("CHANNELDESK_TEST_PG").ok().filter(|v| !v.is_empty())
}

/// `postgres://u@h:p/db` → the same server with another database name.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// A migrated template database, made once per test process; each test copies it, which is much
/// faster than migrating a fresh database every time.
fn pg_template(server: &str) -> String {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let pid = std::process::id();
            let mut admin = PgConnection::establish(server).expect("connect to CHANNELDESK_TEST_PG");
            drop_leftovers(&mut admin);
            let name = format!("cdk_tpl_{pid}");
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .expect("drop old template");
            admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("create template");
            let url = DbUrl::Postgres(with_database(server, &name));
            let db = Db::connect(&url, 1).expect("connect template");
            channeldesk::app::migrate(&db, &mut Config::for_tests(url)).expect("migrate template");
            name
        })
        .clone()
}

/// Databases left by earlier test processes that died before cleaning up.
fn drop_leftovers(admin: &mut PgConnection) {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'cdk\\_t%'")
        .load(admin)
        .unwrap_or_default();
    for Name { datname } in names {
        let pid = datname.rsplit('_').nth(if datname.starts_with("cdk_tpl_") { 0 } else { 1 });
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"));
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let (url, guard) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("test.db");
                (DbUrl::Sqlite(path.to_string_lossy().into_owned()), DbGuard::Sqlite(dir))
            }
            Backend::Postgres => {
                static SEQ: AtomicUsize = AtomicUsize::new(0);
                let server = pg_server().expect("CHANNELDESK_TEST_PG names the Postgres server for this variant");
                let template = tokio::task::spawn_blocking({
                    let server = server.clone();
                    move || pg_template(&server)
                })
                .await
                .expect("template");
                let name = format!("cdk_t_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
                let mut admin = PgConnection::establish(&server).expect("connect");
                admin
                    .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
                    .expect("create test database");
                (DbUrl::Postgres(with_database(&server, &name)), DbGuard::Postgres { server, name })
            }
        };
        let db = Db::connect(&url, 4).expect("connect test database");
        let mut config = Config::for_tests(url);
        if backend == Backend::Sqlite {
            channeldesk::app::migrate(&db, &mut config).expect("migrate");
        }
        let admin = make_key(&db, Role::Admin, "test-admin", None);
        let call = service(db.clone(), config.clone()).await;
        TestApp { call, db, config, admin, _guard: guard }
    }

    /// The same database and keys, served with a changed configuration.
    pub async fn with_config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self.call = service(self.db.clone(), self.config.clone()).await;
        self
    }

    /// A new API key with `role` (and for partner keys, the partner).
    pub fn key(&self, role: Role, partner_id: Option<&str>) -> String {
        make_key(&self.db, role, &format!("test-{role}"), partner_id.map(str::to_string))
    }

    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req { app: self, builder: TestRequest::default().method(method).uri(path), key: Some(self.admin.clone()) }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: &str, body: Value) -> Req<'_> {
        self.req(Method::POST, path).json(body)
    }

    pub fn patch(&self, path: &str, body: Value) -> Req<'_> {
        self.req(Method::PATCH, path).json(body)
    }

    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }

    /// Runs blocking store code against the test's database.
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut DbConn) -> T) -> T {
        let mut conn = self.db.conn().expect("conn");
        f(&mut conn)
    }

    /// Outbox event types in order.
    pub fn event_types(&self) -> Vec<String> {
        self.with_conn(|c| channeldesk::events::since(c, None, 10_000).expect("events"))
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    /// Writes an outbox row of any type and payload, pending delivery: what an older version or
    /// another writer may have left, which `events::emit` (typed) cannot produce. Returns its id.
    pub fn raw_event(
        &self,
        event_type: &str,
        resource: (&str, &str),
        partner_id: Option<&str>,
        payload: Value,
    ) -> String {
        self.raw_event_with_id(&db::new_id(), event_type, resource, partner_id, payload)
    }

    /// [`raw_event`](Self::raw_event) with a given id (ids order the outbox).
    pub fn raw_event_with_id(
        &self,
        id: &str,
        event_type: &str,
        (resource_type, resource_id): (&str, &str),
        partner_id: Option<&str>,
        payload: Value,
    ) -> String {
        use channeldesk::db::schema::{events as ev, outbox_pending as op};
        use diesel::prelude::*;
        self.with_conn(|conn| {
            diesel::insert_into(ev::table)
                .values((
                    ev::id.eq(id),
                    ev::event_type.eq(event_type),
                    ev::occurred_at.eq(db::now()),
                    ev::resource_type.eq(resource_type),
                    ev::resource_id.eq(resource_id),
                    ev::partner_id.eq(partner_id),
                    ev::payload.eq(payload.to_string()),
                ))
                .execute(conn)?;
            diesel::insert_into(op::table).values(op::event_id.eq(id)).execute(conn)
        })
        .expect("write the event");
        id.to_string()
    }

    // ---- fixtures ----

    pub async fn partner(&self, name: &str) -> Value {
        self.partner_with(serde_json::json!({"name": name, "channel_type": "indirect", "kind": "agent"})).await
    }

    pub async fn partner_with(&self, body: Value) -> Value {
        let res = self.post("/api/v1/partners", body).send().await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body
    }

    pub async fn key_account(&self, name: &str) -> Value {
        let res = self.post("/api/v1/key-accounts", serde_json::json!({"name": name, "region": "华东"})).send().await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body
    }
}

async fn service(db: Db, config: Config) -> Call {
    let state = channeldesk::app::state(db, config);
    let service = Rc::new(actix_web::test::init_service(mk_app(state)).await);
    Rc::new(move |req| {
        let service = service.clone();
        Box::pin(async move {
            match service.call(req).await {
                Ok(res) => res.map_into_boxed_body(),
                Err(err) => panic!("service error escaped as Err: {err}"),
            }
        })
    })
}

fn make_key(db: &Db, role: Role, name: &str, partner_id: Option<String>) -> String {
    let input = ApiKeyCreate { name: name.into(), role, partner_id };
    db.write_blocking(|conn| channeldesk::api_keys::store::create(conn, &Actor::system("tests"), &input))
        .expect("create key")
        .secret
}

pub struct Req<'a> {
    app: &'a TestApp,
    builder: TestRequest,
    key: Option<String>,
}

impl Req<'_> {
    pub fn json(mut self, body: Value) -> Self {
        self.builder = self.builder.set_json(body);
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<actix_web::web::Bytes>) -> Self {
        self.builder = self.builder.insert_header((header::CONTENT_TYPE, content_type)).set_payload(body.into());
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.insert_header((name, value));
        self
    }

    pub fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_string());
        self
    }

    pub fn anonymous(mut self) -> Self {
        self.key = None;
        self
    }

    pub fn if_match(self, etag: &str) -> Self {
        self.header("If-Match", etag)
    }

    pub async fn send(self) -> Res {
        let mut builder = self.builder;
        if let Some(key) = &self.key {
            builder = builder.insert_header((header::AUTHORIZATION, format!("Bearer {key}")));
        }
        let res = (self.app.call)(builder.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = to_bytes(res.into_body()).await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Res { status, headers, body, text: String::from_utf8_lossy(&bytes).into_owned() }
    }
}

#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Asserts a problem+json answer with this status and code; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.header("content-type").as_deref(), Some("application/problem+json"), "body: {}", self.text);
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(self.body["status"], status);
        &self.body
    }

    /// The field names a 422 points at.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("id").to_string()
    }

    pub fn etag(&self) -> String {
        self.header("etag").expect("etag")
    }

    pub fn items(&self) -> &Vec<Value> {
        self.body["items"].as_array().expect("items")
    }
}

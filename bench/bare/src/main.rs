//! The bare baseline for bench/run.sh: what an actix-web + diesel server costs when it does nothing
//! but the database work and the JSON of channeldesk's partner endpoints, on the same database.
//!
//! Same stack as channeldesk (actix-web, a diesel `MultiConnection` over SQLite and Postgres, an
//! r2d2 pool of twice the cores and at least 4, diesel work on `web::block`, the same SQLite
//! PRAGMAs and, on SQLite, one writer at a time), the same queries and the same JSON fields. No
//! authentication, request ids, tracing, metrics, validation, audit, outbox, idempotency or
//! territory rows: that difference is what bench/run.sh measures.
//!
//!   DATABASE_URL=sqlite://file.db | postgres://…   BARE_BIND=127.0.0.1:8081 (default)
//!
//!   GET  /healthz, /readyz
//!   GET  /partners/{id}
//!   GET  /partners?status=&tier=&channel_type=&kind=&region=&owner=&territory=&limit=&after=
//!   POST /partners          (the channeldesk create body; one INSERT into partners)
//!
//! `channeldesk-bare explain-sqlite FILE SQL` prints SQLite's plan for SQL (parameters left
//! unbound, as a prepared statement is planned) with this same SQLite build, for bench/README.md's
//! findings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{get, post, web, App, HttpResponse, HttpServer};
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use serde::{Deserialize, Serialize};

diesel::table! {
    partners (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        channel_type -> Text,
        kind -> Text,
        tier -> Text,
        status -> Text,
        region -> Nullable<Text>,
        territories -> Text,
        industries -> Text,
        owner -> Nullable<Text>,
        next_review_at -> Nullable<Timestamp>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partner_territories (territory, partner_id) {
        partner_id -> Text,
        territory -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(partners, partner_territories);

use partner_territories as pt;
use partners as p;

#[derive(diesel::MultiConnection)]
enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

#[derive(Debug, Clone)]
struct Manager {
    url: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConn, ConnectionError> {
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            let mut conn = SqliteConnection::establish(path)?;
            // channeldesk's PRAGMAs, in its order.
            conn.batch_execute(
                "PRAGMA busy_timeout = 5000;
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
            Ok(DbConn::Sqlite(conn))
        } else if self.url.starts_with("postgres://") || self.url.starts_with("postgresql://") {
            Ok(DbConn::Pg(PgConnection::establish(&self.url)?))
        } else {
            Err(ConnectionError::InvalidConnectionUrl("DATABASE_URL must start with sqlite:// or postgres://".into()))
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectionError> {
        diesel::r2d2::R2D2Connection::ping(conn).map_err(|e| ConnectionError::BadConnection(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

struct State {
    pool: r2d2::Pool<Manager>,
    /// SQLite takes one writer at a time; queueing writers in-process (as channeldesk does) beats
    /// spinning on busy_timeout, so the baseline is not slowed by lock retries.
    write_lock: Option<Mutex<()>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = p)]
struct Row {
    id: String,
    name: String,
    name_key: String,
    channel_type: String,
    kind: String,
    tier: String,
    status: String,
    region: Option<String>,
    territories: String,
    industries: String,
    owner: Option<String>,
    next_review_at: Option<NaiveDateTime>,
    notes: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    archived_at: Option<NaiveDateTime>,
}

/// The JSON channeldesk answers with for a partner: the same fields, in the same order.
#[derive(Serialize)]
struct Partner {
    id: String,
    name: String,
    channel_type: String,
    kind: String,
    tier: String,
    status: String,
    region: Option<String>,
    territories: Vec<String>,
    industries: Vec<String>,
    owner: Option<String>,
    next_review_at: Option<DateTime<Utc>>,
    notes: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    archived_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_partner(self) -> Result<Partner, String> {
        Ok(Partner {
            id: self.id,
            name: self.name,
            channel_type: self.channel_type,
            kind: self.kind,
            tier: self.tier,
            status: self.status,
            region: self.region,
            territories: serde_json::from_str(&self.territories).map_err(|e| e.to_string())?,
            industries: serde_json::from_str(&self.industries).map_err(|e| e.to_string())?,
            owner: self.owner,
            next_review_at: self.next_review_at.map(|t| t.and_utc()),
            notes: self.notes,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            archived_at: self.archived_at.map(|t| t.and_utc()),
        })
    }
}

#[derive(Serialize)]
struct Page {
    items: Vec<Partner>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    tier: Option<String>,
    channel_type: Option<String>,
    kind: Option<String>,
    region: Option<String>,
    owner: Option<String>,
    territory: Option<String>,
    limit: Option<i64>,
    /// The id of the last partner of the previous page (channeldesk wraps it in an opaque cursor).
    after: Option<String>,
}

/// The channeldesk create body (unknown fields are ignored here; no validation beyond parsing).
#[derive(Deserialize)]
struct Create {
    name: String,
    channel_type: String,
    kind: String,
    tier: Option<String>,
    region: Option<String>,
    #[serde(default)]
    territories: Vec<String>,
    #[serde(default)]
    industries: Vec<String>,
    owner: Option<String>,
    next_review_at: Option<DateTime<Utc>>,
    notes: Option<String>,
}

fn internal(e: impl std::fmt::Display) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(e.to_string())
}

/// Runs `f` with a pooled connection on actix's blocking threads.
async fn with_conn<T, F>(state: &web::Data<State>, f: F) -> actix_web::Result<T>
where
    F: FnOnce(&mut DbConn) -> Result<T, String> + Send + 'static,
    T: Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let mut conn = state.pool.get().map_err(|e| e.to_string())?;
        f(&mut conn)
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

fn with_etag(mut res: actix_web::HttpResponseBuilder, version: i64) -> actix_web::HttpResponseBuilder {
    res.insert_header((header::ETAG, format!("\"{version}\"")));
    res
}

#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

#[get("/readyz")]
async fn readyz(state: web::Data<State>) -> actix_web::Result<HttpResponse> {
    with_conn(&state, |conn| conn.batch_execute("SELECT 1").map_err(|e| e.to_string())).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}

#[get("/partners/{id}")]
async fn get_partner(state: web::Data<State>, id: web::Path<String>) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let row = with_conn(&state, move |conn| {
        p::table.find(id).select(Row::as_select()).first(conn).optional().map_err(|e| e.to_string())
    })
    .await?;
    match row {
        None => Ok(HttpResponse::NotFound().finish()),
        Some(row) => {
            let version = row.version;
            Ok(with_etag(HttpResponse::Ok(), version).json(row.into_partner().map_err(internal)?))
        }
    }
}

/// channeldesk's list query: current partners, every filter given, newest first, one row more
/// than the page to know whether another page follows.
#[get("/partners")]
async fn list_partners(state: web::Data<State>, query: web::Query<ListQuery>) -> actix_web::Result<HttpResponse> {
    let f = query.into_inner();
    let limit = f.limit.unwrap_or(50).clamp(1, 200);
    let rows: Vec<Row> = with_conn(&state, move |conn| {
        let mut q = p::table.filter(p::archived_at.is_null()).into_boxed();
        if let Some(v) = f.status {
            q = q.filter(p::status.eq(v));
        }
        if let Some(v) = f.tier {
            q = q.filter(p::tier.eq(v));
        }
        if let Some(v) = f.channel_type {
            q = q.filter(p::channel_type.eq(v));
        }
        if let Some(v) = f.kind {
            q = q.filter(p::kind.eq(v));
        }
        if let Some(v) = f.region {
            q = q.filter(p::region.eq(v));
        }
        if let Some(v) = f.owner {
            q = q.filter(p::owner.eq(v));
        }
        if let Some(v) = f.territory {
            q = q.filter(p::id.eq_any(pt::table.filter(pt::territory.eq(v)).select(pt::partner_id)));
        }
        if let Some(after) = f.after {
            q = q.filter(p::id.lt(after));
        }
        q.order(p::id.desc()).limit(limit + 1).select(Row::as_select()).load(conn).map_err(|e| e.to_string())
    })
    .await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<Partner> =
        rows.into_iter().take(limit as usize).map(Row::into_partner).collect::<Result<_, _>>().map_err(internal)?;
    let next_cursor = if more { items.last().map(|p| p.id.clone()) } else { None };
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// One INSERT into partners: no name check, no territories, no audit, no outbox.
#[post("/partners")]
async fn create_partner(state: web::Data<State>, body: web::Json<Create>) -> actix_web::Result<HttpResponse> {
    let c = body.into_inner();
    let now = Utc::now().naive_utc().trunc_subsecs(6);
    let row = Row {
        id: uuid::Uuid::now_v7().to_string(),
        name_key: c.name.trim().to_lowercase(),
        name: c.name,
        channel_type: c.channel_type,
        kind: c.kind,
        tier: c.tier.unwrap_or_else(|| "standard".into()),
        status: "prospect".into(),
        region: c.region,
        territories: serde_json::to_string(&c.territories).map_err(internal)?,
        industries: serde_json::to_string(&c.industries).map_err(internal)?,
        owner: c.owner,
        next_review_at: c.next_review_at.map(|t| t.naive_utc().trunc_subsecs(6)),
        notes: c.notes,
        version: 1,
        created_at: now,
        updated_at: now,
        archived_at: None,
    };
    let st = state.clone();
    let row = with_conn(&state, move |conn| {
        let _turn = st.write_lock.as_ref().map(|m| m.lock().unwrap_or_else(|p| p.into_inner()));
        diesel::insert_into(p::table).values(&row).execute(conn).map_err(|e| e.to_string())?;
        Ok(row)
    })
    .await?;
    let location = format!("/partners/{}", row.id);
    let version = row.version;
    let mut res = with_etag(HttpResponse::Created(), version);
    res.insert_header((header::LOCATION, location));
    Ok(res.json(row.into_partner().map_err(internal)?))
}

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    parent: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// EXPLAIN QUERY PLAN with the bundled SQLite (the system's sqlite3 may plan differently).
fn explain_sqlite(path: &str, sql: &str) -> Result<(), String> {
    let mut conn = SqliteConnection::establish(path).map_err(|e| e.to_string())?;
    let rows: Vec<PlanRow> =
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(&mut conn).map_err(|e| e.to_string())?;
    let mut depth: Vec<(i32, usize)> = Vec::new();
    for r in rows {
        while depth.last().is_some_and(|(id, _)| *id != r.parent) {
            depth.pop();
        }
        let indent = depth.last().map_or(0, |(_, d)| d + 1);
        println!("{}{}", "  ".repeat(indent), r.detail);
        depth.push((r.id, indent));
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "explain-sqlite" {
        if let Err(e) = explain_sqlite(&args[2], &args[3]) {
            eprintln!("explain-sqlite: {e}");
            std::process::exit(1);
        }
        return Ok(());
    }
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://channeldesk.db".into());
    let bind = std::env::var("BARE_BIND").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // channeldesk's default pool size: twice the cores, at least 4.
    let pool_size = u32::try_from(cores * 2).unwrap_or(u32::MAX).clamp(4, 512);
    let sqlite = url.starts_with("sqlite://");
    let manager = Manager { url };
    if let Err(e) = r2d2::ManageConnection::connect(&manager) {
        eprintln!("cannot connect to the database: {e}");
        std::process::exit(1);
    }
    let pool = r2d2::Pool::builder()
        .max_size(pool_size)
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let state = web::Data::from(Arc::new(State { pool, write_lock: sqlite.then(|| Mutex::new(())) }));
    eprintln!("bare: {bind}, pool {pool_size}, {cores} workers");
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .service(healthz)
                .service(readyz)
                .service(get_partner)
                .service(list_partners)
                .service(create_partner)
        })
        .workers(cores)
        .bind(bind)?
        .run(),
    )
}

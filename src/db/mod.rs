//! Storage: one diesel `MultiConnection` over SQLite (embedded default) and Postgres, an r2d2
//! manager that picks the backend by URL scheme, and the embedded migrations of each backend.

pub mod json;
pub mod schema;
pub mod types;
pub mod upgrades;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{ApiError, Code};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Sqlite(_) => Backend::Sqlite,
            DbConn::Pg(_) => Backend::Postgres,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `DATABASE_URL`. Unknown schemes are rejected: a typo must never become a silent
/// SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(String),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("DATABASE_URL sqlite:// needs a file path, e.g. sqlite://channeldesk.db".into());
            }
            Ok(DbUrl::Sqlite(path.to_string()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl::Postgres(url.to_string()))
        } else {
            Err(format!(
                "DATABASE_URL must start with sqlite:// or postgres:// (got {:?})",
                url.split("://").next().unwrap_or_default()
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// The r2d2 manager. Written by hand rather than through `MultiConnection::establish` because the
/// derived `establish` reports every failure as "invalid connection url".
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DbUrl,
    /// When connecting last failed (cleared by a success): while the database refuses
    /// connections, requests fail fast instead of each waiting out the whole limit.
    last_connect_failure: Arc<std::sync::Mutex<Option<Instant>>>,
}

/// How long after a failed connection attempt requests that find no idle connection give up.
const FAIL_FAST: Duration = Duration::from_millis(500);

thread_local! {
    /// Set on a blocking thread when the work it just ran lost its connection, so that the
    /// connection is dropped when it goes back to the pool rather than handed to the next request.
    static CONNECTION_LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl ConnectionManager {
    pub fn new(url: DbUrl) -> Self {
        Self { url, last_connect_failure: Arc::new(std::sync::Mutex::new(None)) }
    }

    fn establish(&self) -> ConnectionResult<DbConn> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // busy_timeout must come before journal_mode=WAL, or a fresh file can report
                // "database is locked" while another connection switches the journal mode.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConn::Sqlite(conn))
            }
            DbUrl::Postgres(url) => Ok(DbConn::Pg(PgConnection::establish(url)?)),
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConn, ConnectionError> {
        let result = self.establish();
        *self.last_connect_failure.lock().unwrap_or_else(|p| p.into_inner()) = result.is_err().then(Instant::now);
        result
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectionError> {
        diesel::r2d2::R2D2Connection::ping(conn).map_err(|e| ConnectionError::BadConnection(e.to_string()))
    }

    /// Checked when a connection goes back to the pool: one that lost its server or was left in a
    /// broken transaction is dropped instead of handed to the next request.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        CONNECTION_LOST.replace(false) || std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// The longest a request waits for its turn at the database before it is answered 503: a stuck
/// database must not turn into requests that hang for as long as their clients are willing to wait.
/// It covers the whole wait: the turn in the admission queue and getting a connection together.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

/// The database handle the app shares: a pool plus, on SQLite, a writer's turn. SQLite allows one
/// writer at a time; taking turns in-process keeps writers from failing with SQLITE_BUSY when a
/// deferred transaction upgrades to a write lock, and is cheaper than spinning on busy_timeout.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    /// SQLite's writers queue here, in arrival order and without a thread or a connection: a
    /// queued writer holds nothing a reader needs. The one whose turn it is then takes
    /// `write_lock` (held also by blocking callers such as the CLI) and the writer's connection.
    writer_queue: Arc<tokio::sync::Mutex<()>>,
    write_lock: Arc<std::sync::Mutex<()>>,
    /// One permit per pooled connection. Work beyond that waits here, in arrival order and without
    /// a thread, rather than each request taking a blocking thread to wait on the pool: with more
    /// database work in flight than the machine has cores to run it, the kernel's scheduler, not
    /// arrival order, decides who waits, and the slowest 1% waited 10-50x the median (bench/).
    admission: Arc<tokio::sync::Semaphore>,
    /// Requests waiting for a permit now: a `/metrics` gauge, the signal that the pool is too small
    /// for the load (or the database too slow for it).
    waiting: Arc<AtomicUsize>,
    /// Shared with the connection manager: when connecting last failed.
    last_connect_failure: Arc<std::sync::Mutex<Option<Instant>>>,
}

/// Counts one waiting request for as long as it lives, including when its client goes away.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Db {
    /// Connects once up front so a bad URL, a refused connection or a wrong password is reported
    /// with the server's own words instead of an r2d2 timeout.
    pub fn connect(url: &DbUrl, pool_size: u32) -> Result<Self, String> {
        let manager = ConnectionManager::new(url.clone());
        let last_connect_failure = manager.last_connect_failure.clone();
        manager.establish().map_err(|e| format!("cannot connect to the database: {e}"))?;
        // No test query on every checkout: on Postgres it was a second network round trip for every
        // request. Broken connections are caught on return (`has_broken`), idle ones retired.
        // On SQLite the writer works beside the admitted readers, on a connection of its own.
        let connections = match url.backend() {
            Backend::Sqlite => pool_size + 1,
            Backend::Postgres => pool_size,
        };
        let pool = r2d2::Pool::builder()
            .max_size(connections)
            .test_on_check_out(false)
            .idle_timeout(Some(Duration::from_secs(300)))
            .connection_timeout(MAX_WAIT)
            .build(manager)
            .map_err(|e| format!("cannot build the connection pool: {e}"))?;
        Ok(Self {
            pool,
            backend: url.backend(),
            writer_queue: Arc::new(tokio::sync::Mutex::new(())),
            write_lock: Arc::new(std::sync::Mutex::new(())),
            admission: Arc::new(tokio::sync::Semaphore::new(pool_size as usize)),
            waiting: Arc::new(AtomicUsize::new(0)),
            last_connect_failure,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    pub fn pool_max_size(&self) -> u32 {
        self.pool.max_size()
    }

    pub fn conn(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, ApiError> {
        self.conn_until(Instant::now() + MAX_WAIT)
    }

    /// A connection by `deadline`. While the database refuses connections and none is idle, the
    /// wait is short: the answer (503) will not improve by waiting the whole limit.
    fn conn_until(&self, deadline: Instant) -> Result<r2d2::PooledConnection<ConnectionManager>, ApiError> {
        let mut timeout = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        if self.pool.state().idle_connections == 0 && self.connect_failed_recently() {
            timeout = timeout.min(FAIL_FAST);
        }
        self.pool.get_timeout(timeout).map_err(|e| ApiError::unavailable(format!("database pool: {e}")))
    }

    fn connect_failed_recently(&self) -> bool {
        let last = *self.last_connect_failure.lock().unwrap_or_else(|p| p.into_inner());
        last.is_some_and(|at| at.elapsed() < Duration::from_secs(5))
    }

    /// Runs `f` on a connection got by `deadline`; a connection `f` found dead is not reused.
    fn with_conn<T>(
        &self,
        deadline: Instant,
        f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut conn = self.conn_until(deadline)?;
        let result = f(&mut conn);
        if matches!(&result, Err(e) if e.code == crate::error::Code::ServiceUnavailable) {
            CONNECTION_LOST.set(true);
        }
        result
    }

    /// Runs blocking diesel work on the blocking pool, keeping the caller's tracing span.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = Instant::now() + MAX_WAIT;
        let permit = self.admit(deadline).await?;
        let db = self.clone();
        crate::telemetry::run_blocking(move || {
            let _permit = permit;
            db.with_conn(deadline, f)
        })
        .await
        .map_err(blocking_failed)?
    }

    /// Runs `f` in one transaction: the change, its audit record and its outbox events commit
    /// together or not at all.
    ///
    /// On SQLite a writer first waits for its turn in the writers' queue, not for one of the
    /// readers' admission permits: writers wait for each other, never readers for writers.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = Instant::now() + MAX_WAIT;
        let (turn, permit) = match self.backend {
            Backend::Sqlite => (Some(self.writers_turn(deadline).await?), None),
            Backend::Postgres => (None, Some(self.admit(deadline).await?)),
        };
        let db = self.clone();
        crate::telemetry::run_blocking(move || {
            let _held = (turn, permit);
            db.write_until(deadline, f)
        })
        .await
        .map_err(blocking_failed)?
    }

    /// The SQLite writer's turn, in arrival order, by `deadline`. Like an admission permit it moves
    /// into the blocking task, so a writer whose client left keeps its turn until its work is done.
    async fn writers_turn(&self, deadline: Instant) -> Result<tokio::sync::OwnedMutexGuard<()>, ApiError> {
        if let Ok(turn) = self.writer_queue.clone().try_lock_owned() {
            return Ok(turn);
        }
        let _waiting = Waiting::enter(&self.waiting);
        let remaining = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(remaining, self.writer_queue.clone().lock_owned()).await.map_err(|_elapsed| {
            ApiError::unavailable(format!("the database's writer stayed busy for {} s", MAX_WAIT.as_secs()))
        })
    }

    /// Waits for a turn at the database. The permit moves into the blocking task, so a request
    /// whose client went away still counts until its database work has actually finished.
    async fn admit(&self, deadline: Instant) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = self.admission.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::enter(&self.waiting);
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, self.admission.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(ApiError::unavailable("the database is closed")),
            Err(_elapsed) => Err(ApiError::unavailable(format!(
                "every database connection stayed busy for {} s",
                MAX_WAIT.as_secs()
            ))),
        }
    }

    /// Requests waiting for their turn at the database right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError>,
    {
        self.write_until(Instant::now() + MAX_WAIT, f)
    }

    fn write_until<T, F>(&self, deadline: Instant, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError>,
    {
        // Take the writer's turn before a connection, so queued writers do not hold connections
        // that readers could use.
        let _turn = match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        };
        self.with_conn(deadline, |conn| conn.transaction(f))
    }
}

fn blocking_failed(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(format!("blocking task failed: {e}"))
}

/// Applies pending migrations of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize, String> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| format!("migration failed: {e}"))
}

/// True when the schema is at the newest embedded migration (used by `/readyz`).
pub fn is_migrated(conn: &mut DbConn) -> Result<bool, String> {
    let pending = match conn {
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map(|p| !p).map_err(|e| e.to_string())
}

/// Reverts every applied migration (used by the migration round-trip test).
pub fn revert_all_migrations(conn: &mut DbConn) -> Result<(), String> {
    let res = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConn::Pg(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    res.map_err(|e| format!("revert failed: {e}"))
}

/// Migration names per backend, for the parity test.
pub fn migration_names(backend: Backend) -> Vec<String> {
    use diesel::migration::MigrationSource;
    let source = match backend {
        Backend::Sqlite => MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect::<Vec<_>>()),
        Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect::<Vec<_>>()),
    };
    source.unwrap_or_default()
}

/// The current time as stored: UTC, naive, truncated to microseconds so that SQLite's text form
/// and Postgres' timestamp compare and round-trip identically.
/// Takes the turn on `key` (within `space`, so unrelated users of a key never collide) until the
/// transaction ends: a transaction-scoped advisory lock on Postgres. SQLite runs one writer at a
/// time already.
pub fn take_turn(conn: &mut DbConn, space: i32, key: &str) -> QueryResult<()> {
    if conn.backend() == Backend::Postgres {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))")
            .bind::<diesel::sql_types::Text, _>(key)
            .bind::<diesel::sql_types::BigInt, _>(i64::from(space))
            .execute(conn)?;
    }
    Ok(())
}

pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A client-given time as it will be stored and read back: to the microsecond.
pub fn stored_precision(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// A stored record: its id (the default page key) and its version (the `ETag`; grows by one with
/// every change).
pub trait Record {
    fn id(&self) -> &str;
    fn version(&self) -> i64;
}

/// Implements [`Record`] for structs with `id: String` and `version: i64` fields.
#[macro_export]
macro_rules! record {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::db::Record for $ty {
            fn id(&self) -> &str {
                &self.id
            }
            fn version(&self) -> i64 {
                self.version
            }
        }
    )+};
}

/// Rows per statement of [`insert_many`]: below both backends' bind limits (SQLite 32766,
/// Postgres 65535) for rows of up to 32 columns.
pub const INSERT_MANY_CHUNK: usize = 1000;

/// Inserts `rows` with multi-row `INSERT … VALUES (…), (…)` statements, `INSERT_MANY_CHUNK` rows
/// at a time. diesel's multi-backend connection has no batch insert, so this runs on the
/// connection variant itself. Rows that derive `Insertable` need
/// `#[diesel(treat_none_as_default_value = false)]`, or SQLite falls back to a statement per row.
pub fn insert_many<T, R>(conn: &mut DbConn, table: T, mut rows: Vec<R>) -> QueryResult<usize>
where
    T: diesel::Table + Copy,
    Vec<R>: Insertable<T>,
    diesel::query_builder::InsertStatement<T, <Vec<R> as Insertable<T>>::Values>:
        diesel::query_dsl::methods::ExecuteDsl<SqliteConnection> + diesel::query_dsl::methods::ExecuteDsl<PgConnection>,
{
    let mut inserted = 0;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(INSERT_MANY_CHUNK));
        let chunk = std::mem::replace(&mut rows, rest);
        inserted += match conn {
            DbConn::Sqlite(c) => diesel::insert_into(table).values(chunk).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(table).values(chunk).execute(c)?,
        };
    }
    Ok(inserted)
}

/// `%text%` with LIKE's own wildcards taken literally.
pub fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// A new time-ordered id (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Diesel errors a store did not expect become 500s (logged, never shown); a lost or refused
/// connection is the database being away, a 503 the client may retry.
impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match e {
            Error::NotFound => ApiError::not_found(Code::NotFound),
            Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, info) => {
                ApiError::unavailable(format!("database connection lost: {}", info.message()))
            }
            Error::BrokenTransactionManager => ApiError::unavailable("database connection lost mid-transaction"),
            other => ApiError::internal(other),
        }
    }
}

/// True when `e` is a unique-constraint violation (both backends report it the same way).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

//! One-off data upgrades that SQL migrations cannot express (they need Rust: Unicode
//! normalisation, encryption…). Each runs once per database, in one transaction that also records
//! it in `data_upgrades`; of several replicas starting together, one claims it and the others,
//! blocked on the claim until it commits, skip it.

use diesel::prelude::*;

use super::schema::data_upgrades as du;
use super::{Backend, Db, DbConn};
use crate::error::ApiError;

/// The work of an upgrade: returns how many rows it changed.
pub type UpgradeFn = dyn Fn(&mut DbConn) -> Result<usize, ApiError> + Send + Sync;

/// A named upgrade. It may capture what it needs from start-up (the secret key).
#[derive(Clone)]
pub struct Upgrade {
    pub name: &'static str,
    pub run: std::sync::Arc<UpgradeFn>,
}

impl Upgrade {
    pub fn new(
        name: &'static str,
        run: impl Fn(&mut DbConn) -> Result<usize, ApiError> + Send + Sync + 'static,
    ) -> Self {
        Self { name, run: std::sync::Arc::new(run) }
    }
}

/// Runs every upgrade not yet recorded, in order. Returns the names that ran now.
pub fn run(db: &Db, upgrades: &[Upgrade]) -> Result<Vec<&'static str>, String> {
    let mut ran = Vec::new();
    for upgrade in upgrades {
        let (name, run) = (upgrade.name, upgrade.run.clone());
        let done = db
            .write_blocking(move |conn| {
                if !claim(conn, name)? {
                    return Ok(false);
                }
                let changed = (*run)(conn)?;
                diesel::update(du::table.find(name))
                    .set(du::changed.eq(i64::try_from(changed).unwrap_or(i64::MAX)))
                    .execute(conn)?;
                tracing::info!(upgrade = name, changed, "data upgrade applied");
                Ok(true)
            })
            .map_err(|e| format!("data upgrade {name} failed: {e}"))?;
        if done {
            ran.push(name);
        }
    }
    Ok(ran)
}

/// Records `name` as applied (in the caller's transaction); false when it already was.
fn claim(conn: &mut DbConn, name: &str) -> Result<bool, ApiError> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "INSERT INTO data_upgrades (name, applied_at, changed) VALUES (?, ?, 0) ON CONFLICT DO NOTHING"
        }
        Backend::Postgres => {
            "INSERT INTO data_upgrades (name, applied_at, changed) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING"
        }
    };
    let inserted = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(name)
        .bind::<diesel::sql_types::Timestamp, _>(super::now())
        .execute(conn)?;
    Ok(inserted == 1)
}

/// Rows read per batch by upgrades that walk a whole table.
pub const BATCH: i64 = 1000;

/// Runs `f` in a savepoint: a unique-constraint violation inside it (two old rows that the new
/// rule says are the same) rolls back only `f` and is reported as `Ok(false)`.
pub fn try_in_savepoint(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> QueryResult<usize>) -> QueryResult<bool> {
    match conn.transaction(f) {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

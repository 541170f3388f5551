//! Periodic background work inside `serve` (reminder scans, risk scans, delivery).
//!
//! Every replica runs every job: a job must make its effects exactly-once by construction (claim
//! rows with `FOR UPDATE SKIP LOCKED`, or emit through `events::emit_once`), never by assuming it
//! is alone. Each run is one transaction, so a crash mid-run leaves nothing half done.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::{Db, DbConn};
use crate::error::ApiError;

/// A unit of periodic work: `run` gets a connection inside a transaction and the current time,
/// and returns how many things it did (for the log).
#[derive(Clone, Copy)]
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    pub run: fn(&mut DbConn, DateTime<Utc>) -> Result<usize, ApiError>,
}

/// Runs `job` once at `now` (what the loop does on each tick; tests call it directly).
pub async fn run_once(db: &Db, job: Job, now: DateTime<Utc>) -> Result<usize, ApiError> {
    db.write(move |conn| (job.run)(conn, now)).await
}

/// Starts every job on the current actix runtime; they stop with it.
pub fn spawn(db: Db, jobs: Vec<Job>) {
    for job in jobs {
        let db = db.clone();
        actix_web::rt::spawn(async move {
            let mut tick = tokio::time::interval(job.every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match run_once(&db, job, Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(job = job.name, done = n, "background job ran"),
                    Err(err) => tracing::error!(job = job.name, error = %err, "background job failed"),
                }
            }
        });
    }
}

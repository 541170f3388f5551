//! The delivery worker that `serve` runs: a fan-out that turns each new outbox event into one
//! delivery per matching bot channel and webhook, and a sender that claims due deliveries and
//! sends them.
//!
//! - Exactly-once fan-out with any number of replicas: the fan-out holds the `notify_state` row
//!   (`FOR UPDATE` on Postgres, the writer's turn on SQLite), takes the oldest events still in the
//!   outbox's pending list (`events::pending`) and removes them from it (`events::mark_handled`)
//!   in the same transaction as their deliveries, and `(event_id, target_id)` is unique. An event
//!   whose transaction commits late (Postgres: after a newer id) is pending until then and is found
//!   then; each round costs what its batch costs, however large the outbox grows.
//! - In order per target: a delivery is claimable only when no earlier (`seq`) delivery of its
//!   target is still pending, so one message per target is in flight and a retry holds back the
//!   ones after it.
//! - At-least-once and crash-safe: claiming sets a lease (and counts the attempt); the outcome is
//!   recorded only by the lease holder; a lease that runs out (the sender died mid-send) makes the
//!   delivery claimable again. Postgres claims with `FOR UPDATE SKIP LOCKED`, re-checking the lease
//!   under the lock, so two replicas never hold the same delivery.
//! - Per-robot rate: every message sent to a robot is logged; a robot with `bot_rate_per_minute`
//!   messages in the last minute waits (its queue is kept, never dropped).
//! - The clock is injectable (`Worker::with_clock`) so tests move time instead of sleeping.
//!
//! Files: `fanout.rs` (events → deliveries), `claiming.rs` (due deliveries → leases),
//! `outcome.rs` (an attempt's answer → sent, retry later, or given up); this file runs the rounds.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::send;
use crate::config::NotifyConfig;
use crate::db::{self, Db};
use crate::error::ApiError;

mod claiming;
mod fanout;
mod outcome;

pub use claiming::{claim, Claimed};
pub use fanout::{fan_out, webhook_body};
pub use outcome::{backoff_ms, record, RetryPolicy};

/// Deliveries claimed (and sent concurrently, one per target) per round.
const SEND_BATCH: i64 = 32;
/// A lease outlives the request timeout by this much.
const LEASE_MARGIN_SECS: i64 = 30;

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Clone)]
pub struct Worker {
    db: Db,
    config: NotifyConfig,
    client: reqwest::Client,
    clock: Clock,
}

fn stored(t: DateTime<Utc>) -> NaiveDateTime {
    db::stored_precision(t).naive_utc()
}

impl Worker {
    pub fn new(db: Db, config: NotifyConfig) -> Result<Self, String> {
        let client = send::client(config.delivery_timeout_ms)?;
        Ok(Self { db, config, client, clock: Arc::new(Utc::now) })
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Fans out the next batch of events; returns how many events it handled.
    pub async fn fan_out(&self) -> Result<usize, ApiError> {
        let now = stored(self.now());
        let base_url = self.config.public_base_url.clone();
        self.db.write(move |conn| fan_out(conn, now, base_url.as_deref())).await
    }

    /// Claims due deliveries, sends them (concurrently, one per target) and records each outcome;
    /// returns how many were attempted.
    pub async fn send_due(&self) -> Result<usize, ApiError> {
        let now = self.now();
        let (rate, lease) = (self.config.bot_rate_per_minute, lease_secs(&self.config));
        let sealer = self.config.secret_key.as_ref().map(crate::secrets::SecretKey::sealer);
        let claimed =
            self.db.write(move |conn| claim(conn, stored(now), rate, lease, SEND_BATCH, sealer.as_ref())).await?;
        let timeout = self.config.delivery_timeout_ms;
        let attempts = futures_util::future::join_all(
            claimed.iter().map(|c| send::send(&self.client, &c.destination, &c.body, now, timeout)),
        )
        .await;
        let n = claimed.len();
        for (c, attempt) in claimed.into_iter().zip(attempts) {
            let done = self.now();
            let policy = RetryPolicy::new(&self.config);
            self.db.write(move |conn| record(conn, &c.id, &c.lease_token, stored(done), &attempt, &policy)).await?;
        }
        Ok(n)
    }

    /// One round of both.
    pub async fn run_once(&self) -> Result<(usize, usize), ApiError> {
        let fanned = self.fan_out().await?;
        let sent = self.send_due().await?;
        Ok((fanned, sent))
    }

    /// Runs forever on the current actix runtime (stops with it).
    pub fn spawn(self) {
        actix_web::rt::spawn(async move {
            loop {
                let pause = match self.run_once().await {
                    Ok((0, 0)) => Duration::from_millis(500),
                    Ok((fanned, sent)) => {
                        tracing::debug!(fanned, sent, "delivery worker round");
                        Duration::from_millis(20)
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "delivery worker round failed");
                        Duration::from_secs(2)
                    }
                };
                tokio::time::sleep(pause).await;
            }
        });
    }
}

fn lease_secs(config: &NotifyConfig) -> i64 {
    (config.delivery_timeout_ms / 1000) as i64 + 1 + LEASE_MARGIN_SECS
}

/// Starts the worker for `serve`.
pub fn spawn(db: Db, config: &NotifyConfig) -> Result<(), String> {
    Worker::new(db, config.clone())?.spawn();
    Ok(())
}

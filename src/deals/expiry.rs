//! The deal protection job: approved registrations past `protected_until` become `expired`
//! (claimed by a conditional update, so exactly once across replicas), and `deal.expiring` goes
//! out once per registration and protection end, 7 days before it.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::DbConn;
use crate::error::ApiError;
use crate::jobs::Job;

pub const JOB: Job = Job { name: "deal_protection", every: Duration::from_secs(3600), run };

pub fn run(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    Ok(super::store::expire(conn, now)? + super::store::warn_expiring(conn, now)?)
}

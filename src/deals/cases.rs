//! The one place the deals room talks to the conflicts room: open or join a case for a detected
//! clash, and add a note to it. Everything the conflicts room is asked goes through here.

use crate::access::Actor;
use crate::conflicts::store;
use crate::db::DbConn;
use crate::error::ApiError;

pub use crate::conflicts::model::{ConflictCause, ConflictKind, ConflictSeverity, Detected, Link, LinkKind};

/// Opens a case for `found`, or joins the open one with its fingerprint; the case id, unless
/// the conflicts room suppressed it (a dismissed case of the condition stands).
pub fn open(conn: &mut DbConn, actor: &Actor, found: &Detected) -> Result<Option<String>, ApiError> {
    Ok(store::open_detected(conn, actor, found)?.conflict_id().map(str::to_string))
}

/// An internal note on the case (a manager's override of "earlier submission wins").
pub fn note(conn: &mut DbConn, actor: &Actor, case_id: &str, body: &str) -> Result<(), ApiError> {
    store::add_note(conn, actor, case_id, body, true)
}

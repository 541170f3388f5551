//! The one place the deals room talks to the conflicts room: open or join a case for a detected
//! clash, and add a note to it. Everything the conflicts room is asked goes through here.

use crate::access::Actor;
use crate::db::DbConn;
use crate::error::ApiError;

pub use pending::{ConflictCause, ConflictKind, ConflictSeverity, Detected, Link, LinkKind};

/// Opens a case for `found`, or joins the open one with its fingerprint; the case id, unless
/// the conflicts room suppressed it.
pub fn open(conn: &mut DbConn, actor: &Actor, found: &Detected) -> Result<Option<String>, ApiError> {
    pending::open_detected(conn, actor, found)
}

/// An internal note on the case (a manager's override of "earlier submission wins").
pub fn note(conn: &mut DbConn, actor: &Actor, case_id: &str, body: &str) -> Result<(), ApiError> {
    pending::add_note(conn, actor, case_id, body, true)
}

/// Until the conflicts room is merged: its types as its API states them, and calls that open
/// nothing. Replaced by `crate::conflicts::{model, store}` at the merge.
mod pending {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ConflictKind {
        DealClash,
    }
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ConflictCause {
        CompetitivePressure,
    }
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ConflictSeverity {
        Medium,
    }
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum LinkKind {
        DealRegistration,
    }
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Link {
        pub kind: LinkKind,
        pub ref_id: String,
        pub partner_id: Option<String>,
    }
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Detected {
        pub kind: ConflictKind,
        pub cause: ConflictCause,
        pub severity: ConflictSeverity,
        pub fingerprint: String,
        pub party_partner_ids: Vec<String>,
        pub involves_direct: bool,
        pub key_account_id: Option<String>,
        pub territories: Vec<String>,
        pub product_lines: Vec<String>,
        pub summary: String,
        pub links: Vec<Link>,
    }

    pub fn open_detected(_conn: &mut DbConn, _actor: &Actor, _found: &Detected) -> Result<Option<String>, ApiError> {
        Ok(None)
    }

    pub fn add_note(
        _conn: &mut DbConn,
        _actor: &Actor,
        _conflict_id: &str,
        _body: &str,
        _internal: bool,
    ) -> Result<(), ApiError> {
        Ok(())
    }
}

//! What inbound commands read about their chat and sender, and the record of messages already
//! answered (a platform's retry of the same message gets the first answer).

use diesel::prelude::*;

use crate::db::schema::{bot_channels as bc, bot_inbound as bi, partner_contacts as pc};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::platforms::Platform;

/// Answers are kept this long; platforms retry within seconds.
const KEEP_HOURS: i64 = 24;

/// The bot channel registered for a chat: `(channel id, its partner binding)`.
pub fn channel_for_chat(
    conn: &mut DbConn,
    platform: Platform,
    chat_id: &str,
) -> Result<Option<(String, Option<String>)>, ApiError> {
    Ok(bc::table
        .filter(bc::platform.eq(platform.as_str()).and(bc::chat_id.eq(chat_id)))
        .select((bc::id, bc::partner_id))
        .first(conn)
        .optional()?)
}

/// The partners whose contacts carry this platform userid.
pub fn partners_of_userid(conn: &mut DbConn, platform: Platform, userid: &str) -> Result<Vec<String>, ApiError> {
    let q = pc::table.into_boxed();
    let q = match platform {
        Platform::Wecom => q.filter(pc::wecom_userid.eq(userid)),
        Platform::Dingtalk => q.filter(pc::dingtalk_userid.eq(userid)),
    };
    let mut ids: Vec<String> = q.select(pc::partner_id).limit(50).load(conn)?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// The names of the contacts that carry this platform userid (how the person may be written as an
/// action item's owner).
pub fn contact_names_of_userid(conn: &mut DbConn, platform: Platform, userid: &str) -> Result<Vec<String>, ApiError> {
    let q = pc::table.into_boxed();
    let q = match platform {
        Platform::Wecom => q.filter(pc::wecom_userid.eq(userid)),
        Platform::Dingtalk => q.filter(pc::dingtalk_userid.eq(userid)),
    };
    let mut names: Vec<String> = q.select(pc::name).limit(50).load(conn)?;
    names.sort();
    names.dedup();
    Ok(names)
}

/// The answer already given to this message, if any.
pub fn answered(conn: &mut DbConn, platform: Platform, msg_id: &str) -> Result<Option<String>, ApiError> {
    Ok(bi::table
        .filter(bi::platform.eq(platform.as_str()).and(bi::msg_id.eq(msg_id)))
        .select(bi::reply)
        .first(conn)
        .optional()?)
}

/// Keeps `reply` as the answer to this message unless one was kept first (by a concurrent
/// retry on another replica); returns the answer that stands.
pub fn remember(conn: &mut DbConn, platform: Platform, msg_id: &str, reply: &str) -> Result<String, ApiError> {
    let now = db::now();
    diesel::delete(bi::table.filter(bi::created_at.lt(now - chrono::Duration::hours(KEEP_HOURS)))).execute(conn)?;
    let sql = match conn.backend() {
        db::Backend::Sqlite => {
            "INSERT INTO bot_inbound (platform, msg_id, reply, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        }
        db::Backend::Postgres => {
            "INSERT INTO bot_inbound (platform, msg_id, reply, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        }
    };
    let inserted = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(platform.as_str())
        .bind::<diesel::sql_types::Text, _>(msg_id)
        .bind::<diesel::sql_types::Text, _>(reply)
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .execute(conn)?;
    if inserted == 1 {
        return Ok(reply.to_string());
    }
    Ok(answered(conn, platform, msg_id)?.unwrap_or_else(|| reply.to_string()))
}

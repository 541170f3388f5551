//! What every chat command runs with and shares: who asked, the context (connection, scope,
//! clock), the reply shape and the lookup of the partner a command names. Below both the
//! registry (`commands.rs`) and the commands in files of their own (`performance.rs`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::access::Scope;
use crate::db::schema::partners as p;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::notify::render::plain;
use crate::partners::model::{name_key, Partner, PartnerFilter};
use crate::platforms::format::Message;
use crate::platforms::Platform;

/// Who asked, and from which chat.
#[derive(Debug, Clone)]
pub struct Asker {
    pub platform: Platform,
    /// The sender's platform userid (DingTalk `senderStaffId`, WeCom `FromUserName` / `from.userid`).
    pub userid: Option<String>,
    /// The chat (DingTalk `conversationId`, WeCom smart-bot `chatid`); none for a one-to-one app chat.
    pub chat_id: Option<String>,
}

/// What a command runs with.
pub struct CommandContext<'a> {
    pub conn: &'a mut DbConn,
    /// What the chat may see: `Scope::Partner` for a chat bound to a partner (or a sender known
    /// only as a partner's contact), else `Scope::All`.
    pub scope: Scope,
    pub asker: &'a Asker,
    pub now: DateTime<Utc>,
}

pub fn reply(title: &str, lines: Vec<String>) -> Message {
    Message { title: title.into(), lines, link: None, mentions: Vec::new() }
}

/// A current partner named exactly `name` (ignoring case), within scope.
pub fn exact_partner(ctx: &mut CommandContext<'_>, name: &str) -> Result<Option<Partner>, ApiError> {
    let mut q = p::table.filter(p::name_key.eq(name_key(name)).and(p::archived_at.is_null())).into_boxed();
    if let Scope::Partner(own) = &ctx.scope {
        q = q.filter(p::id.eq(own.clone()));
    }
    let id: Option<String> = q.select(p::id).first(ctx.conn).optional()?;
    id.map(|id| crate::partners::store::get(ctx.conn, &id, &ctx.scope)).transpose()
}

/// The partner a command names (`args`), or the chat's own partner when it is bound to one and
/// names none. Another partner's name finds nothing in a partner's chat, as in `伙伴`. `Err` is
/// the reply to give instead (usage, nothing found, several found).
pub fn named_partner(
    ctx: &mut CommandContext<'_>,
    args: &str,
    title: &str,
    usage: &str,
) -> Result<Result<Partner, Message>, ApiError> {
    let name = args.trim();
    if name.is_empty() {
        if let Scope::Partner(own) = &ctx.scope {
            if !own.is_empty() {
                let own = own.clone();
                return Ok(Ok(crate::partners::store::get(ctx.conn, &own, &ctx.scope)?));
            }
        }
        return Ok(Err(reply(title, vec![usage.to_string()])));
    }
    if name.chars().count() > 200 {
        return Ok(Err(reply(title, vec!["名称太长了（最多 200 个字）。".into()])));
    }
    if let Some(found) = exact_partner(ctx, name)? {
        return Ok(Ok(found));
    }
    let filter = PartnerFilter { q: Some(name.to_string()), ..Default::default() };
    let page = PageRequest { limit: 10, after: None };
    let mut matches = crate::partners::store::list(ctx.conn, &filter, &page, &ctx.scope)?;
    match matches.len() {
        0 => Ok(Err(reply(title, vec![format!("没有找到名称包含「{}」的伙伴。", plain(name))]))),
        1 => Ok(Ok(matches.remove(0))),
        n => {
            let mut lines = vec![format!("找到 {n} 个名称包含「{}」的伙伴，请输入完整名称：", plain(name))];
            lines.extend(matches.iter().take(10).map(|p| format!("- {}", plain(&p.name))));
            Ok(Err(reply(title, lines)))
        }
    }
}

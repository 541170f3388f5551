//! Chat commands: parsing (Chinese and English), the scope a chat may see, and the command
//! registry.
//!
//! Adding a command is one function plus one entry in `COMMANDS`: write
//! `fn(&mut CommandContext<'_>, &str) -> Result<Message, ApiError>` (the `&str` is the text after
//! the command word, trimmed), read through `ctx.scope` (a chat bound to a partner sees what that
//! partner's API key would), and list it with its names, usage and summary. The help lists every
//! entry, and unknown text gets the help. Replies are `notify::render::Message`s; the callback
//! formats them per platform within the byte limits.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::store;
use crate::db::schema::partners as p;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::http::auth::Scope;
use crate::http::pagination::PageRequest;
use crate::notify::model::Platform;
use crate::notify::render::partners::partner_lines;
use crate::notify::render::{plain, Message};
use crate::partners::model::{name_key, Partner, PartnerFilter};

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

pub type CommandFn = fn(&mut CommandContext<'_>, &str) -> Result<Message, ApiError>;

pub struct Command {
    /// The words that call it (Chinese first). A Chinese word may be followed directly by its
    /// argument (`伙伴华东代理`); an English word needs a space.
    pub names: &'static [&'static str],
    /// How to call it, as the help shows it (markdown; write placeholders as 〈…〉, since `<…>`
    /// reads as an HTML tag to the platforms' markdown).
    pub usage: &'static str,
    pub summary: &'static str,
    pub run: CommandFn,
}

/// Every command, in the order the help lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        names: &["帮助", "help", "?", "？"], usage: "帮助 / help", summary: "列出可用命令", run: help
    },
    Command {
        names: &["伙伴", "partner"],
        usage: "伙伴 〈名称〉 / partner 〈name〉",
        summary: "伙伴的等级、状态、负责人和联系人",
        run: partner,
    },
];

/// What `伙伴` shows after the partner's own fields: each section returns its lines (none to
/// stay silent). Rooms add theirs here: 有效合同 (contracts), 下次会议 (meetings), 待办事项
/// (open action items) — each reading through `ctx.scope`.
pub type PartnerSection = fn(&mut CommandContext<'_>, &Partner) -> Result<Vec<String>, ApiError>;

pub const PARTNER_SECTIONS: &[PartnerSection] = &[contacts_section];

/// The longest message text a command reads; longer text is cut before parsing.
const MAX_INPUT_CHARS: usize = 500;

/// Text with leading @mentions and slashes removed, spaces normalised.
fn normalize(text: &str) -> String {
    let text: String =
        text.chars().take(MAX_INPUT_CHARS).map(|c| if c == '\u{3000}' || c == '\0' { ' ' } else { c }).collect();
    let mut words: Vec<&str> = text.split_whitespace().collect();
    while words.first().is_some_and(|w| w.starts_with('@')) {
        words.remove(0);
    }
    let joined = words.join(" ");
    joined.trim_start_matches(['/', '／']).trim().to_string()
}

/// The command a text calls and its argument, or `None` for unknown text.
pub fn parse(text: &str) -> Option<(&'static Command, String)> {
    let text = normalize(text);
    let lower = text.to_lowercase();
    let mut best: Option<(&'static Command, usize)> = None;
    for cmd in COMMANDS {
        for name in cmd.names {
            let ascii = name.is_ascii();
            let matches =
                if ascii { lower == *name || lower.starts_with(&format!("{name} ")) } else { text.starts_with(name) };
            if matches && best.is_none_or(|(_, len)| name.len() > len) {
                best = Some((cmd, name.len()));
            }
        }
    }
    best.map(|(cmd, len)| (cmd, text[len..].trim().to_string()))
}

/// The scope a chat's commands run in: a chat registered as a bot channel bound to a partner
/// sees that partner only; a registered unbound chat sees everything; from any other chat, a
/// sender who is a partner's contact sees that partner only (and a contact of several partners
/// sees none), anyone else everything.
pub fn scope_for(conn: &mut DbConn, asker: &Asker) -> Result<Scope, ApiError> {
    if let Some(chat) = asker.chat_id.as_deref().filter(|c| !c.is_empty()) {
        if let Some((_, binding)) = store::channel_for_chat(conn, asker.platform, chat)? {
            return Ok(match binding {
                Some(pid) => Scope::Partner(pid),
                None => Scope::All,
            });
        }
    }
    if let Some(userid) = asker.userid.as_deref().filter(|u| !u.is_empty()) {
        let partners = store::partners_of_userid(conn, asker.platform, userid)?;
        match partners.as_slice() {
            [] => {}
            [one] => return Ok(Scope::Partner(one.clone())),
            _ => return Ok(Scope::Partner(String::new())),
        }
    }
    Ok(Scope::All)
}

/// The reply to a chat message: the command it names, or the help.
pub fn answer(conn: &mut DbConn, asker: &Asker, text: &str, now: DateTime<Utc>) -> Result<Message, ApiError> {
    let scope = scope_for(conn, asker)?;
    let mut ctx = CommandContext { conn, scope, asker, now };
    match parse(text) {
        Some((cmd, args)) => (cmd.run)(&mut ctx, &args),
        None => help(&mut ctx, ""),
    }
}

pub fn help(_ctx: &mut CommandContext<'_>, _args: &str) -> Result<Message, ApiError> {
    let mut lines = vec!["可用命令：".to_string()];
    for cmd in COMMANDS {
        lines.push(format!("- **{}**：{}", cmd.usage, cmd.summary));
    }
    Ok(Message { title: "channeldesk 渠道助手".into(), lines, link: None, mentions: Vec::new() })
}

fn reply(title: &str, lines: Vec<String>) -> Message {
    Message { title: title.into(), lines, link: None, mentions: Vec::new() }
}

/// A current partner named exactly `name` (ignoring case), within scope.
fn exact_partner(ctx: &mut CommandContext<'_>, name: &str) -> Result<Option<Partner>, ApiError> {
    let mut q = p::table.filter(p::name_key.eq(name_key(name)).and(p::archived_at.is_null())).into_boxed();
    if let Scope::Partner(own) = &ctx.scope {
        q = q.filter(p::id.eq(own.clone()));
    }
    let id: Option<String> = q.select(p::id).first(ctx.conn).optional()?;
    id.map(|id| crate::partners::store::get(ctx.conn, &id, &ctx.scope)).transpose()
}

pub fn partner(ctx: &mut CommandContext<'_>, args: &str) -> Result<Message, ApiError> {
    let name = args.trim();
    if name.is_empty() {
        return Ok(reply("伙伴查询", vec!["用法：伙伴 〈名称〉，例如「伙伴 华东星辰」。".into()]));
    }
    if name.chars().count() > 200 {
        return Ok(reply("伙伴查询", vec!["名称太长了（最多 200 个字）。".into()]));
    }
    let found = match exact_partner(ctx, name)? {
        Some(p) => p,
        None => {
            let filter = PartnerFilter { q: Some(name.to_string()), ..Default::default() };
            let page = PageRequest { limit: 10, after: None };
            let mut matches = crate::partners::store::list(ctx.conn, &filter, &page, &ctx.scope)?;
            match matches.len() {
                0 => return Ok(reply("伙伴查询", vec![format!("没有找到名称包含「{}」的伙伴。", plain(name))])),
                1 => matches.remove(0),
                n => {
                    let mut lines = vec![format!("找到 {n} 个名称包含「{}」的伙伴，请输入完整名称：", plain(name))];
                    lines.extend(matches.iter().take(10).map(|p| format!("- {}", plain(&p.name))));
                    return Ok(reply("伙伴查询", lines));
                }
            }
        }
    };
    let mut lines = partner_lines(&found);
    for section in PARTNER_SECTIONS {
        lines.extend(section(ctx, &found)?);
    }
    Ok(Message {
        title: format!("伙伴：{}", found.name),
        lines,
        link: Some(format!("/partners/{}", found.id)),
        mentions: Vec::new(),
    })
}

/// 联系人: names and titles (no phone numbers or emails in a chat).
fn contacts_section(ctx: &mut CommandContext<'_>, partner: &Partner) -> Result<Vec<String>, ApiError> {
    use crate::db::schema::partner_contacts as pc;
    let rows: Vec<(String, Option<String>)> = pc::table
        .filter(pc::partner_id.eq(&partner.id))
        .order(pc::id.asc())
        .limit(10)
        .select((pc::name, pc::title))
        .load(ctx.conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = rows
        .iter()
        .map(|(name, title)| match title {
            Some(t) => format!("{}（{}）", plain(name), plain(t)),
            None => plain(name),
        })
        .collect();
    Ok(vec![format!("- **联系人**：{}", names.join("、"))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn called(text: &str) -> Option<(&'static str, String)> {
        parse(text).map(|(c, a)| (c.names[0], a))
    }

    #[test]
    fn parses_chinese_and_english() {
        assert_eq!(called("帮助"), Some(("帮助", String::new())));
        assert_eq!(called(" HELP "), Some(("帮助", String::new())));
        assert_eq!(called("伙伴 华东星辰"), Some(("伙伴", "华东星辰".into())));
        assert_eq!(called("伙伴华东星辰"), Some(("伙伴", "华东星辰".into())));
        assert_eq!(called("@渠道助手 partner Acme Ltd"), Some(("伙伴", "Acme Ltd".into())));
        assert_eq!(called("Partner  Acme"), Some(("伙伴", "Acme".into())));
        assert_eq!(called("/help"), Some(("帮助", String::new())));
        assert_eq!(called("\u{3000}伙伴\u{3000}上海"), Some(("伙伴", "上海".into())));
        assert_eq!(called("partners"), None, "English words need a boundary");
        assert_eq!(called("helpme"), None);
        assert_eq!(called("你好"), None);
        assert_eq!(called(""), None);
    }
}

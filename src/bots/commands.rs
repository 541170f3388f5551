//! Chat commands: parsing (Chinese and English), the scope a chat may see, and the command
//! registry.
//!
//! Adding a command is one function plus one entry in `COMMANDS`: write
//! `fn(&mut CommandContext<'_>, &str) -> Result<Message, ApiError>` (the `&str` is the text after
//! the command word, trimmed), read through `ctx.scope` (a chat bound to a partner sees what that
//! partner's API key would), and list it with its names, usage and summary. The help lists every
//! entry, and unknown text gets the help. Replies are `platforms::format::Message`s; the callback
//! formats them per platform within the byte limits.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use super::context::{named_partner, reply};
pub use super::context::{Asker, CommandContext};
use super::store;
use crate::access::Scope;
use crate::contracts::model::{ContractFilter, ContractStatus};
use crate::contracts::risks::{business_date, Severity};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::meetings::action_items::model::{ActionItemFilter, ActionItemStatus};
use crate::meetings::action_items::store as action_items;
use crate::meetings::meetings::model::{MeetingFilter, MeetingStatus};
use crate::meetings::meetings::store as meeting_store;
use crate::meetings::model::ChatUserid;
use crate::notify::render::bulletins::{category_label, importance_tag};
use crate::notify::render::contracts::{chinese_part, risk_label, severity_label, term_text};
use crate::notify::render::meetings::{when, when_short};
use crate::notify::render::partners::partner_lines;
use crate::notify::render::{clip_chars, local_time, plain};
use crate::partners::model::Partner;
use crate::platforms::format::Message;
use crate::platforms::Platform;
use crate::{bulletins, contracts};

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
        summary: "伙伴的等级、状态、负责人、联系人、有效合同、下次会议和待办事项",
        run: partner,
    },
    Command {
        names: &["业绩", "performance"],
        usage: "业绩 〔伙伴名称〕 / performance 〔name〕",
        summary: "伙伴最近 3 个完整月的营收、环比增长和营收目标达成率（伙伴群可省略名称）",
        run: super::performance::performance,
    },
    Command {
        names: &["返点", "rebates"],
        usage: "返点 〔伙伴名称〕 / rebates 〔name〕",
        summary: "伙伴最近的返点结算单：周期、方案、金额和状态（伙伴群可省略名称）",
        run: super::incentives::rebates,
    },
    Command {
        names: &["报备", "register"],
        usage: "报备 〈客户名〉 〈产品线〉 / register 〈customer〉 〈product line〉",
        summary: "在绑定伙伴的群里为本伙伴报备商机，并告知是否已由其他渠道报备",
        run: super::deals::register,
    },
    Command {
        names: &["会议", "meetings"],
        usage: "会议 〔今天｜本周〕 / meetings 〔today｜week〕",
        summary: "已安排的会议（默认未来 7 天）",
        run: meetings,
    },
    Command {
        names: &["公告", "bulletins"],
        usage: "公告 / bulletins",
        summary: "最新发布、仍在有效期内的公告",
        run: bulletins,
    },
    Command {
        names: &["风险", "risks"], usage: "风险 / risks", summary: "当前的风险预警，按风险等级排列", run: risks
    },
    Command {
        names: &["冲突", "conflicts"],
        usage: "冲突 / conflicts",
        summary: "待处理的渠道冲突，按严重程度排列（伙伴群只看本伙伴涉及的）",
        run: super::conflicts::conflicts,
    },
    Command {
        names: &["合同到期", "expiring"],
        usage: "合同到期 / expiring",
        summary: "30 天内到期的有效合同",
        run: expiring,
    },
    Command {
        names: &["我的待办", "my actions"],
        usage: "我的待办 / my actions",
        summary: "负责人是你的未完成待办事项",
        run: my_actions,
    },
];

/// What `伙伴` shows after the partner's own fields: each section returns its lines (none to
/// stay silent), each reading through `ctx.scope`.
pub type PartnerSection = fn(&mut CommandContext<'_>, &Partner) -> Result<Vec<String>, ApiError>;

pub const PARTNER_SECTIONS: &[PartnerSection] =
    &[contacts_section, contracts_section, next_meeting_section, action_items_section];

/// Rows a list command shows; more are summed up in a last line.
const MAX_ROWS: usize = 20;
/// How far ahead `合同到期` looks.
const EXPIRING_DAYS: i64 = 30;
/// How far ahead `会议` looks without an argument.
const MEETING_DAYS: i64 = 7;

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

pub fn partner(ctx: &mut CommandContext<'_>, args: &str) -> Result<Message, ApiError> {
    let usage = "用法：伙伴 〈名称〉，例如「伙伴 华东星辰」。";
    if args.trim().is_empty() {
        return Ok(reply("伙伴查询", vec![usage.into()]));
    }
    let found = match named_partner(ctx, args, "伙伴查询", usage)? {
        Ok(p) => p,
        Err(message) => return Ok(message),
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

/// 有效合同: the partner's active contracts, newest first (five at most).
fn contracts_section(ctx: &mut CommandContext<'_>, partner: &Partner) -> Result<Vec<String>, ApiError> {
    let filter = ContractFilter {
        partner_id: Some(partner.id.clone()),
        status: Some(ContractStatus::Active),
        ..Default::default()
    };
    let page = PageRequest { limit: 5, after: None };
    let found = contracts::store::list(ctx.conn, &filter, &page, &ctx.scope, business_date(ctx.now))?;
    if found.is_empty() {
        return Ok(vec!["- **有效合同**：无".into()]);
    }
    let shown: Vec<String> = found
        .iter()
        .take(5)
        .map(|c| match c.effective_to {
            Some(to) => format!("{}（至 {to}）", plain(&c.number)),
            None => format!("{}（长期）", plain(&c.number)),
        })
        .collect();
    let more = if found.len() > 5 { " 等" } else { "" };
    Ok(vec![format!("- **有效合同**：{}{more}", shown.join("、"))])
}

/// 下次会议: the partner's next scheduled meeting.
fn next_meeting_section(ctx: &mut CommandContext<'_>, partner: &Partner) -> Result<Vec<String>, ApiError> {
    let filter = MeetingFilter {
        partner_id: Some(partner.id.clone()),
        status: Some(MeetingStatus::Scheduled),
        from: Some(ctx.now),
        ..Default::default()
    };
    let next = meeting_store::list(ctx.conn, &filter, &PageRequest { limit: 1, after: None }, &ctx.scope)?;
    Ok(vec![match next.first() {
        Some(m) => format!("- **下次会议**：{} {}", when(m.starts_at, m.ends_at, &m.timezone), plain(&m.title)),
        None => "- **下次会议**：暂无安排".into(),
    }])
}

/// 待办事项: how many open action items the partner has (and how many are overdue), and the
/// first three due.
fn action_items_section(ctx: &mut CommandContext<'_>, partner: &Partner) -> Result<Vec<String>, ApiError> {
    let (open, overdue) = action_items::open_item_counts(ctx.conn, &partner.id, &ctx.scope, ctx.now)?;
    if open == 0 {
        return Ok(vec!["- **待办事项**：无".into()]);
    }
    let late = if overdue > 0 { format!("，其中 {overdue} 项已逾期") } else { String::new() };
    let mut lines = vec![format!("- **待办事项**：{open} 项未完成{late}")];
    let filter = ActionItemFilter {
        partner_id: Some(partner.id.clone()),
        status: Some(ActionItemStatus::Open),
        ..Default::default()
    };
    let page = PageRequest { limit: 3, after: None };
    let items = action_items::list(ctx.conn, &filter, &page, &ctx.scope, ctx.now)?;
    for item in items.iter().take(3) {
        lines.push(format!(
            "　· {}（{}，截止 {}{}）",
            plain(&item.title),
            plain(&item.owner),
            due(item.due_date),
            overdue_tag(item.overdue)
        ));
    }
    Ok(lines)
}

fn due(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "未定".into())
}

fn overdue_tag(overdue: bool) -> &'static str {
    if overdue {
        "，已逾期"
    } else {
        ""
    }
}

/// The instant a China Standard Time date begins (business dates are UTC+8, as contracts use).
fn china_midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::hours(8)
}

/// A last line when a list was cut.
fn more_line(lines: &mut Vec<String>, shown: usize, found: usize) {
    if found > shown {
        lines.push(format!("…… 只列出前 {shown} 条，更多请在系统中查看。"));
    }
}

/// 会议: scheduled meetings in scope, in start order: the next 7 days, the rest of today
/// (`今天`, a China Standard Time day) or of this week through Sunday (`本周`).
pub fn meetings(ctx: &mut CommandContext<'_>, args: &str) -> Result<Message, ApiError> {
    let today = business_date(ctx.now);
    let arg = args.trim().to_lowercase();
    let (title, from, to) = match arg.as_str() {
        "" => (format!("未来 {MEETING_DAYS} 天的会议"), ctx.now, ctx.now + Duration::days(MEETING_DAYS)),
        "今天" | "today" => ("今天的会议".into(), china_midnight(today), china_midnight(today + Duration::days(1))),
        "本周" | "week" | "this week" => {
            let left = 7 - i64::from(today.weekday().num_days_from_monday());
            ("本周的会议".into(), china_midnight(today), china_midnight(today + Duration::days(left)))
        }
        _ => {
            return Ok(reply(
                "会议查询",
                vec!["用法：会议 / 会议 今天 / 会议 本周（meetings / meetings today / meetings week）".into()],
            ))
        }
    };
    let filter =
        MeetingFilter { status: Some(MeetingStatus::Scheduled), from: Some(from), to: Some(to), ..Default::default() };
    let page = PageRequest { limit: MAX_ROWS as i64, after: None };
    let found = meeting_store::list(ctx.conn, &filter, &page, &ctx.scope)?;
    if found.is_empty() {
        return Ok(reply(&title, vec!["没有已安排的会议。".into()]));
    }
    let shown = &found[..found.len().min(MAX_ROWS)];
    // Partner names for staff only: a partner's chat is not told who else is in a joint meeting.
    let names = match ctx.scope {
        Scope::All => {
            let mut ids: Vec<String> = shown.iter().flat_map(|m| m.partner_ids.iter().cloned()).collect();
            ids.sort();
            ids.dedup();
            crate::meetings::store::partner_names(ctx.conn, &ids)?
        }
        Scope::Partner(_) => Default::default(),
    };
    let mut lines = Vec::new();
    for m in shown {
        let mut line = format!("- **{}** {}", when_short(m.starts_at, &m.timezone), plain(&m.title));
        let partners: Vec<String> = m.partner_ids.iter().filter_map(|id| names.get(id)).map(|n| plain(n)).collect();
        if !partners.is_empty() {
            line.push_str(&format!("｜{}", partners.join("、")));
        }
        if let Some(loc) = &m.location {
            line.push_str(&format!("｜{}", plain(loc)));
        }
        lines.push(line);
    }
    more_line(&mut lines, MAX_ROWS, found.len());
    Ok(reply(&title, lines))
}

/// 公告: published bulletins still in force, pinned first then newest; a chat scoped to a partner
/// sees only those addressed to it, marked when its partner has not acknowledged them.
pub fn bulletins(ctx: &mut CommandContext<'_>, _args: &str) -> Result<Message, ApiError> {
    let found = bulletins::store::current(ctx.conn, &ctx.scope, ctx.now, MAX_ROWS as i64 + 1)?;
    if found.is_empty() {
        return Ok(reply("最新公告", vec!["目前没有有效的公告。".into()]));
    }
    let mut lines = Vec::new();
    for b in found.iter().take(MAX_ROWS) {
        let mut facts = vec![category_label(b.category).to_string()];
        if let Some(at) = b.published_at {
            facts.push(format!("{} 发布", local_time(&at)));
        }
        if b.pinned {
            facts.push("置顶".into());
        }
        if b.read_at == Some(None) {
            facts.push("未读".into());
        }
        lines.push(format!("- {}**{}**（{}）", importance_tag(b.importance), plain(&b.title), facts.join("，")));
    }
    more_line(&mut lines, MAX_ROWS, found.len());
    Ok(reply("最新公告", lines))
}

/// 风险: the risk warnings of active contracts now, most severe first; a chat scoped to a partner
/// sees its own, redacted as for a partner key.
pub fn risks(ctx: &mut CommandContext<'_>, _args: &str) -> Result<Message, ApiError> {
    let found = contracts::risks::store::current_risks(ctx.conn, &ctx.scope, business_date(ctx.now))?;
    if found.is_empty() {
        return Ok(reply("风险预警", vec!["目前没有风险预警。".into()]));
    }
    let mut lines = Vec::new();
    let mut heading: Option<Severity> = None;
    for r in found.iter().take(MAX_ROWS) {
        if heading != Some(r.severity) {
            let n = found.iter().filter(|x| x.severity == r.severity).count();
            lines.push(format!("**{}**（{n} 条）", severity_label(r.severity)));
            heading = Some(r.severity);
        }
        lines.push(format!(
            "- {}·{}：{}",
            plain(&r.contract_number),
            risk_label(r.code),
            plain(&clip_chars(chinese_part(&r.message), 200))
        ));
    }
    more_line(&mut lines, MAX_ROWS, found.len());
    Ok(reply(&format!("风险预警（{} 条）", found.len()), lines))
}

/// 合同到期: active contracts whose last day is within 30 days, soonest first.
pub fn expiring(ctx: &mut CommandContext<'_>, _args: &str) -> Result<Message, ApiError> {
    let today = business_date(ctx.now);
    let filter = ContractFilter {
        status: Some(ContractStatus::Active),
        expiring_within_days: Some(EXPIRING_DAYS),
        ..Default::default()
    };
    let page = PageRequest { limit: MAX_ROWS as i64, after: None };
    let found = contracts::store::list(ctx.conn, &filter, &page, &ctx.scope, today)?;
    let title = format!("{EXPIRING_DAYS} 天内到期的合同");
    if found.is_empty() {
        return Ok(reply(&title, vec![format!("{EXPIRING_DAYS} 天内没有到期的有效合同。")]));
    }
    let mut lines = Vec::new();
    for c in found.iter().take(MAX_ROWS) {
        let mut line = format!("- **{}** {}", plain(&c.number), plain(&c.title));
        if ctx.scope == Scope::All {
            line.push_str(&format!("｜{}", plain(&contracts::store::partner_name(ctx.conn, &c.partner_id)?)));
        }
        if let Some(to) = c.effective_to {
            line.push_str(&format!("｜{to} 到期（剩余 {} 天）", (to - today).num_days()));
        } else {
            line.push_str(&format!("｜{}", term_text(c.effective_from, c.effective_to)));
        }
        if c.successor_id.is_some() {
            line.push_str("｜已续签");
        } else if c.auto_renew {
            line.push_str("｜自动续约");
        }
        lines.push(line);
    }
    more_line(&mut lines, MAX_ROWS, found.len());
    Ok(reply(&title, lines))
}

/// 我的待办: open action items whose owner is the sender. The owner is free text, so it is
/// matched exactly against the sender's userid on this platform, the names of partner contacts
/// carrying that userid, and the names of the item's meeting attendees carrying it.
pub fn my_actions(ctx: &mut CommandContext<'_>, _args: &str) -> Result<Message, ApiError> {
    let Some(userid) = ctx.asker.userid.clone().filter(|u| !u.trim().is_empty()) else {
        return Ok(reply("我的待办", vec!["无法识别你的账号，请在群聊或单聊中直接发送「我的待办」。".into()]));
    };
    let who = match ctx.asker.platform {
        Platform::Wecom => ChatUserid::Wecom(&userid),
        Platform::Dingtalk => ChatUserid::Dingtalk(&userid),
    };
    let mut names = vec![userid.clone()];
    names.extend(store::contact_names_of_userid(ctx.conn, ctx.asker.platform, &userid)?);
    let found = action_items::open_items_of(ctx.conn, &names, who, &ctx.scope, ctx.now, MAX_ROWS + 1)?;
    if found.is_empty() {
        return Ok(reply("我的待办", vec!["没有负责人是你的未完成待办事项。".into()]));
    }
    let mut lines = Vec::new();
    for (item, meeting_title) in found.iter().take(MAX_ROWS) {
        lines.push(format!(
            "- **{}**｜截止 {}{}｜{}",
            plain(&item.title),
            due(item.due_date),
            overdue_tag(item.overdue),
            plain(meeting_title)
        ));
    }
    more_line(&mut lines, MAX_ROWS, found.len());
    let count = if found.len() > MAX_ROWS { format!("{MAX_ROWS}+") } else { found.len().to_string() };
    Ok(reply(&format!("我的待办（{count} 项）"), lines))
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
        assert_eq!(called("会议 本周"), Some(("会议", "本周".into())));
        assert_eq!(called("会议今天"), Some(("会议", "今天".into())));
        assert_eq!(called("Meetings week"), Some(("会议", "week".into())));
        assert_eq!(called("公告"), Some(("公告", String::new())));
        assert_eq!(called("risks"), Some(("风险", String::new())));
        assert_eq!(called("合同到期"), Some(("合同到期", String::new())));
        assert_eq!(called("EXPIRING"), Some(("合同到期", String::new())));
        assert_eq!(called("我的待办"), Some(("我的待办", String::new())));
        assert_eq!(called("My  Actions"), Some(("我的待办", String::new())));
        assert_eq!(called("my"), None);
        assert_eq!(called("业绩"), Some(("业绩", String::new())));
        assert_eq!(called("业绩华东星辰"), Some(("业绩", "华东星辰".into())));
        assert_eq!(called("Performance Acme"), Some(("业绩", "Acme".into())));
    }

    #[test]
    fn china_days_begin_at_sixteen_utc() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
        assert_eq!(china_midnight(d).to_rfc3339(), "2027-01-03T16:00:00+00:00");
    }
}

//! A `Message` in each platform's wire format, within the platform's byte limits.
//!
//! - WeCom group robot: `{"msgtype":"markdown","markdown":{"content":…}}`, content ≤ 4096 bytes,
//!   mentions inline as `<@userid>`.
//! - DingTalk custom robot: `{"msgtype":"markdown","markdown":{"title":…,"text":…},"at":{…}}`, the
//!   whole body ≤ 20000 bytes; mentions in `at.atUserIds` and as `@userid` in the text.
//!
//! Content over the limit is split between lines (a single over-long line at character
//! boundaries) into numbered parts `（1/3）`; past `MAX_PARTS` the rest is cut with a note and the
//! link. Sizes are measured on the exact bytes that will be sent, so no message is oversized.

use serde_json::{json, Value};

use super::Platform;

/// A platform-neutral message: what a renderer returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    /// Plain text, short: the notification's headline (DingTalk shows it in the chat list).
    pub title: String,
    /// Markdown lines, in order (`- **标签**：值`, paragraphs, quotes). Long messages are split
    /// between lines, and a line longer than a whole message at character boundaries.
    pub lines: Vec<String>,
    /// The record's path under `CHANNELDESK_PUBLIC_BASE_URL` (e.g. `/partners/{id}`); rendered as
    /// a link only when that setting is present.
    pub link: Option<String>,
    /// Who to @mention (those with a userid on the channel's platform are mentioned).
    pub mentions: Vec<Person>,
}

/// Someone who may be @mentioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub wecom_userid: Option<String>,
    pub dingtalk_userid: Option<String>,
}

/// Markdown-neutral text: line breaks folded, characters that would open markup escaped.
pub fn plain(text: &str) -> String {
    let folded: String = text.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect();
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if matches!(c, '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub const WECOM_MARKDOWN_MAX_BYTES: usize = 4096;
pub const WECOM_TEXT_MAX_BYTES: usize = 2048;
pub const DINGTALK_BODY_MAX_BYTES: usize = 20_000;
/// A message longer than this many parts is cut.
pub const MAX_PARTS: usize = 5;

/// How one channel wants its messages.
#[derive(Debug, Clone, Default)]
pub struct Style {
    /// A DingTalk security keyword that must appear in every message.
    pub keyword: Option<String>,
    /// `CHANNELDESK_PUBLIC_BASE_URL`, for links.
    pub base_url: Option<String>,
}

struct Formatter<'a> {
    platform: Platform,
    msg: &'a Message,
    style: &'a Style,
    url: Option<String>,
}

impl<'a> Formatter<'a> {
    fn new(platform: Platform, msg: &'a Message, style: &'a Style) -> Self {
        let url = match (&style.base_url, &msg.link) {
            (Some(base), Some(path)) => Some(format!("{}{}", base.trim_end_matches('/'), path)),
            _ => None,
        };
        Self { platform, msg, style, url }
    }

    fn limit(&self) -> usize {
        match self.platform {
            Platform::Wecom => WECOM_MARKDOWN_MAX_BYTES,
            Platform::Dingtalk => DINGTALK_BODY_MAX_BYTES,
        }
    }

    /// The bytes the limit applies to.
    fn size(&self, body: &Value) -> usize {
        match self.platform {
            Platform::Wecom => body.pointer("/markdown/content").and_then(Value::as_str).map_or(0, str::len),
            Platform::Dingtalk => serde_json::to_vec(body).map_or(usize::MAX, |b| b.len()),
        }
    }

    fn userids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for p in &self.msg.mentions {
            let id = match self.platform {
                Platform::Wecom => p.wecom_userid.clone(),
                Platform::Dingtalk => p.dingtalk_userid.clone(),
            };
            if let Some(id) = id.filter(|i| !ids.contains(i)) {
                ids.push(id);
            }
        }
        ids
    }

    /// One message: `label` numbers the part, mentions go with the first, the link with the last.
    fn build(&self, label: &str, lines: &[String], first: bool, last: bool) -> Value {
        let title = format!("{}{label}", self.msg.title);
        let mentions = if first { self.userids() } else { Vec::new() };
        let link = if last { self.url.as_ref().map(|u| format!("[查看详情]({u})")) } else { None };
        match self.platform {
            Platform::Wecom => {
                let mut content = format!("**{}**", plain(&title));
                for line in lines {
                    content.push('\n');
                    content.push_str(line);
                }
                if let Some(link) = link {
                    content.push('\n');
                    content.push_str(&link);
                }
                if !mentions.is_empty() {
                    content.push('\n');
                    content.push_str(&mentions.iter().map(|m| format!("<@{m}>")).collect::<Vec<_>>().join(" "));
                }
                self.add_keyword(&mut content, "\n");
                json!({"msgtype": "markdown", "markdown": {"content": content}})
            }
            Platform::Dingtalk => {
                let mut text = format!("#### {}", plain(&title));
                for line in lines {
                    text.push_str("\n\n");
                    text.push_str(line);
                }
                if let Some(link) = link {
                    text.push_str("\n\n");
                    text.push_str(&link);
                }
                if !mentions.is_empty() {
                    text.push_str("\n\n");
                    text.push_str(&mentions.iter().map(|m| format!("@{m}")).collect::<Vec<_>>().join(" "));
                }
                self.add_keyword(&mut text, "\n\n");
                json!({
                    "msgtype": "markdown",
                    "markdown": {"title": title, "text": text},
                    "at": {"atUserIds": mentions, "isAtAll": false},
                })
            }
        }
    }

    fn add_keyword(&self, content: &mut String, sep: &str) {
        if let Some(k) = self.style.keyword.as_deref().filter(|k| !content.contains(*k)) {
            content.push_str(sep);
            content.push_str(k);
        }
    }

    fn fits(&self, label: &str, lines: &[String]) -> bool {
        self.size(&self.build(label, lines, true, true)) <= self.limit()
    }

    /// The longest prefix (in characters) of `line` that fits alone.
    fn longest_prefix(&self, label: &str, line: &str) -> usize {
        let chars: Vec<char> = line.chars().collect();
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let prefix: String = chars[..mid].iter().collect();
            if self.fits(label, &[prefix]) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    /// Lines packed into as few messages as fit, an over-long line cut at character boundaries.
    fn pack(&self, label: &str) -> Vec<Vec<String>> {
        let mut chunks: Vec<Vec<String>> = Vec::new();
        let mut current: Vec<String> = Vec::new();
        for line in &self.msg.lines {
            let mut candidate = current.clone();
            candidate.push(line.clone());
            if self.fits(label, &candidate) {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                chunks.push(std::mem::take(&mut current));
            }
            let mut rest: String = line.clone();
            while !self.fits(label, std::slice::from_ref(&rest)) {
                let n = self.longest_prefix(label, &rest).max(1);
                let head: String = rest.chars().take(n).collect();
                rest = rest.chars().skip(n).collect();
                chunks.push(vec![head]);
                if rest.is_empty() {
                    break;
                }
            }
            if !rest.is_empty() {
                current.push(rest);
            }
        }
        if !current.is_empty() || chunks.is_empty() {
            chunks.push(current);
        }
        chunks
    }

    /// `chunk` with the truncation note at its end, dropping content until it fits.
    fn cut(&self, label: &str, mut chunk: Vec<String>) -> Vec<String> {
        let note = match &self.url {
            Some(u) => format!("…（内容过长，已截断，[查看完整内容]({u})）"),
            None => "…（内容过长，已截断）".to_string(),
        };
        loop {
            let mut candidate = chunk.clone();
            candidate.push(note.clone());
            if self.fits(label, &candidate) || chunk.is_empty() {
                return candidate;
            }
            let last = chunk.pop().unwrap_or_default();
            let keep = last.chars().count() / 2;
            if keep > 0 {
                chunk.push(last.chars().take(keep).collect());
            }
        }
    }

    fn bodies(&self, max_parts: usize) -> Vec<Value> {
        let whole = self.build("", &self.msg.lines, true, true);
        if self.size(&whole) <= self.limit() {
            return vec![whole];
        }
        if max_parts <= 1 {
            let mut chunks = self.pack("").into_iter();
            let first = chunks.next().unwrap_or_default();
            return vec![self.build("", &self.cut("", first), true, true)];
        }
        let worst = format!("（{max_parts}/{max_parts}）");
        let mut chunks = self.pack(&worst);
        if chunks.len() > max_parts {
            chunks.truncate(max_parts);
            let last = chunks.pop().unwrap_or_default();
            chunks.push(self.cut(&worst, last));
        }
        let n = chunks.len();
        chunks
            .iter()
            .enumerate()
            .map(|(i, lines)| {
                let label = if n > 1 { format!("（{}/{n}）", i + 1) } else { String::new() };
                self.build(&label, lines, i == 0, i + 1 == n)
            })
            .collect()
    }
}

/// The messages to push for `msg`: one, or up to `MAX_PARTS` numbered parts.
pub fn push_bodies(platform: Platform, msg: &Message, style: &Style) -> Vec<Value> {
    Formatter::new(platform, msg, style).bodies(MAX_PARTS)
}

/// One message, cut to the limit when needed (a reply cannot be split).
pub fn single_body(platform: Platform, msg: &Message, style: &Style) -> Value {
    Formatter::new(platform, msg, style).bodies(1).into_iter().next().unwrap_or(Value::Null)
}

/// True when `body` is within its platform's limit (the fake robot in the tests and a debug
/// check in the sender use it).
pub fn within_limit(platform: Platform, body: &Value) -> bool {
    let msg = Message::default();
    let style = Style::default();
    let f = Formatter::new(platform, &msg, &style);
    f.size(body) <= f.limit()
}

/// Markdown lines as plain text: emphasis markers and escapes removed.
pub fn to_plain_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// A message as plain text of at most `max_bytes` bytes (cut at a character boundary with `…`).
pub fn plain_text(msg: &Message, base_url: Option<&str>, max_bytes: usize) -> String {
    let mut text = to_plain_text(&plain(&msg.title));
    for line in &msg.lines {
        text.push('\n');
        text.push_str(&to_plain_text(line));
    }
    if let (Some(base), Some(link)) = (base_url, &msg.link) {
        text.push('\n');
        text.push_str(&format!("{}{link}", base.trim_end_matches('/')));
    }
    truncate_bytes(&text, max_bytes)
}

/// At most `max` bytes, cut at a character boundary, ending in `…` when cut.
pub fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let budget = max.saturating_sub('…'.len_utf8());
    let mut end = budget;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::Person;
    use super::*;

    fn message(lines: Vec<String>) -> Message {
        Message {
            title: "伙伴信息更新：华东代理".into(),
            lines,
            link: Some("/partners/p1".into()),
            mentions: vec![Person {
                name: "张伟".into(),
                wecom_userid: Some("ZhangWei".into()),
                dingtalk_userid: Some("zw001".into()),
            }],
        }
    }

    fn style() -> Style {
        Style { keyword: Some("渠道".into()), base_url: Some("https://desk.example.com/".into()) }
    }

    #[test]
    fn short_messages_in_both_dialects() {
        let m = message(vec!["- **等级**：标准伙伴 → 重点伙伴".into()]);
        let w = push_bodies(Platform::Wecom, &m, &style());
        assert_eq!(w.len(), 1);
        assert_eq!(
            w[0]["markdown"]["content"],
            "**伙伴信息更新：华东代理**\n- **等级**：标准伙伴 → 重点伙伴\n[查看详情](https://desk.example.com/partners/p1)\n<@ZhangWei>\n渠道"
        );
        assert!(w[0].get("mentioned_list").is_none(), "markdown takes no mentioned_list");
        let d = push_bodies(Platform::Dingtalk, &m, &Style { keyword: Some("告警".into()), base_url: None });
        assert_eq!(d[0]["markdown"]["title"], "伙伴信息更新：华东代理");
        assert_eq!(
            d[0]["markdown"]["text"],
            "#### 伙伴信息更新：华东代理\n\n- **等级**：标准伙伴 → 重点伙伴\n\n@zw001\n\n告警"
        );
        assert_eq!(d[0]["at"]["atUserIds"], json!(["zw001"]));
    }

    fn content(body: &Value) -> String {
        body["markdown"]["content"].as_str().or(body["markdown"]["text"].as_str()).unwrap().to_string()
    }

    #[test]
    fn long_messages_split_into_numbered_parts_within_limits() {
        let lines: Vec<String> = (0..300).map(|i| format!("- 第{i}项：{}", "渠道冲突预警".repeat(3))).collect();
        for platform in [Platform::Wecom, Platform::Dingtalk] {
            let bodies = push_bodies(platform, &message(lines.clone()), &style());
            assert!(bodies.len() > 1, "{platform}");
            assert!(bodies.len() <= MAX_PARTS);
            for (i, b) in bodies.iter().enumerate() {
                assert!(within_limit(platform, b), "{platform} part {i}");
                assert!(content(b).contains(&format!("（{}/{}）", i + 1, bodies.len())));
                assert!(content(b).contains("渠道"), "keyword in every part");
            }
            let all: String = bodies.iter().map(content).collect();
            assert!(all.contains("第0项") && all.contains("第20项"));
            assert_eq!(bodies.iter().filter(|b| content(b).contains("查看详情")).count(), 1, "link once, in the last");
        }
    }

    #[test]
    fn too_long_is_cut_with_a_link_and_one_huge_line_splits_at_char_boundaries() {
        let huge = vec!["伙".repeat(40_000)];
        for platform in [Platform::Wecom, Platform::Dingtalk] {
            let bodies = push_bodies(platform, &message(huge.clone()), &style());
            assert_eq!(bodies.len(), MAX_PARTS, "{platform}");
            for b in &bodies {
                assert!(within_limit(platform, b));
            }
            assert!(content(bodies.last().unwrap())
                .contains("已截断，[查看完整内容](https://desk.example.com/partners/p1)"));
            let single = single_body(platform, &message(huge.clone()), &style());
            assert!(within_limit(platform, &single));
            assert!(content(&single).contains("已截断"));
        }
    }

    #[test]
    fn dingtalk_limit_counts_json_escapes() {
        // Quotes and newlines double in JSON; the limit is on the bytes sent.
        let lines = vec!["\"\\".repeat(9_000)];
        let bodies = push_bodies(Platform::Dingtalk, &message(lines), &Style::default());
        for b in &bodies {
            assert!(serde_json::to_vec(b).unwrap().len() <= DINGTALK_BODY_MAX_BYTES);
        }
    }

    #[test]
    fn plain_text_is_cut_at_a_boundary() {
        let m = message(vec!["- **等级**：重点\\*".into(), "渠".repeat(1000)]);
        let t = plain_text(&m, None, WECOM_TEXT_MAX_BYTES);
        assert!(t.len() <= WECOM_TEXT_MAX_BYTES);
        assert!(t.starts_with("伙伴信息更新：华东代理\n- 等级：重点*\n"));
        assert!(t.ends_with('…'));
        assert_eq!(truncate_bytes("ab渠", 4), "a…");
    }
}

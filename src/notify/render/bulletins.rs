//! Bulletin events (`bulletin.published`, `bulletin.archived`). The payload is
//! `{bulletin, title, category, importance, recipient_count, partner_ids}`; routing reads the
//! recipients from `partner_ids`, and a partner's chat is not told how many others got it (a
//! partner key does not see `recipient_count` either).
//!
//! Bulletins mention no one: they have no owner, and they are addressed to partners as a whole.

use super::{clip_chars, local_time, plain, Message, RenderContext};
use crate::bulletins::events::BulletinSnapshot;
use crate::bulletins::model::{Bulletin, Category, Importance};
use crate::error::ApiError;

/// Characters of the body quoted in the message.
const BODY_EXCERPT: usize = 300;

pub fn category_label(c: Category) -> &'static str {
    match c {
        Category::Market => "市场动态",
        Category::Competitor => "竞品情报",
        Category::Product => "产品信息",
        Category::Policy => "政策通知",
        Category::Training => "培训",
        Category::Other => "其他",
    }
}

pub fn importance_label(i: Importance) -> &'static str {
    match i {
        Importance::Normal => "一般",
        Importance::Important => "重要",
        Importance::Urgent => "紧急",
    }
}

/// `【紧急】` before the title of urgent and important bulletins.
pub fn importance_tag(i: Importance) -> &'static str {
    match i {
        Importance::Normal => "",
        Importance::Important => "【重要】",
        Importance::Urgent => "【紧急】",
    }
}

fn link(b: &Bulletin) -> Option<String> {
    Some(format!("/bulletins/{}", b.id))
}

/// Markdown body as one quoted paragraph of plain text.
pub fn excerpt(body: &str, max_chars: usize) -> String {
    let words: Vec<&str> = body.split_whitespace().collect();
    plain(&clip_chars(&words.join(" "), max_chars))
}

pub fn published(event: &BulletinSnapshot, ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let b = &event.bulletin;
    let mut lines = vec![
        format!("- **类别**：{}", category_label(b.category)),
        format!("- **重要程度**：{}", importance_label(b.importance)),
    ];
    if let Some(at) = b.published_at {
        lines.push(format!("- **发布时间**：{}", local_time(&at)));
    }
    if let Some(at) = b.expires_at {
        lines.push(format!("- **有效期至**：{}", local_time(&at)));
    }
    if b.pinned {
        lines.push("- **置顶**：是".into());
    }
    if ctx.viewer.is_none() {
        lines.push(format!("- **接收伙伴**：{} 家", event.recipient_count));
    }
    if !b.attachments.is_empty() {
        let names: Vec<String> = b.attachments.iter().map(|a| plain(&a.name)).collect();
        lines.push(format!("- **附件**：{}", names.join("、")));
    }
    let text = excerpt(&b.body, BODY_EXCERPT);
    if !text.is_empty() {
        lines.push(format!("> {text}"));
    }
    Ok(Message {
        title: format!("{}公告：{}", importance_tag(b.importance), b.title),
        lines,
        link: link(b),
        mentions: Vec::new(),
    })
}

pub fn archived(event: &BulletinSnapshot, _ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let b = &event.bulletin;
    let mut lines = vec![format!("- **类别**：{}", category_label(b.category))];
    if let Some(at) = b.published_at {
        lines.push(format!("- **发布时间**：{}", local_time(&at)));
    }
    if let Some(at) = b.archived_at {
        lines.push(format!("- **撤下时间**：{}", local_time(&at)));
    }
    lines.push("> 该公告已归档，伙伴不再看到它。".into());
    Ok(Message { title: format!("公告已归档：{}", b.title), lines, link: link(b), mentions: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_fold_markdown_whitespace_and_escape() {
        assert_eq!(excerpt("**要点**：\n\n- 华东  降价", 100), "\\*\\*要点\\*\\*： - 华东 降价");
        assert_eq!(excerpt("渠道渠道渠道", 3), "渠道…");
    }
}

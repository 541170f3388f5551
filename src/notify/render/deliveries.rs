//! `delivery.dead`: a message to the internal chats that one robot or webhook stopped taking
//! messages, long enough that a delivery was given up — what it was, where it went, the last
//! error, and how to send it again once the target is fixed.

use super::{plain, Message, RenderContext};
use crate::error::ApiError;
use crate::notify::deliveries::events::DeliveryDead;
use crate::notify::deliveries::model::TargetKind;

pub fn dead(dead: &DeliveryDead, _ctx: &mut RenderContext<'_>) -> Result<Message, ApiError> {
    let d = &dead.delivery;
    let kind = match d.target_kind {
        TargetKind::BotChannel => "机器人",
        TargetKind::Webhook => "Webhook",
    };
    let target = match &dead.target_name {
        Some(name) => format!("{kind}「{}」", plain(name)),
        None => format!("{kind}（已删除）"),
    };
    let mut lines = vec![
        format!("- **目标**：{target}"),
        format!("- **事件**：{}", plain(&d.event_type)),
        format!("- **已尝试**：{} 次，历时 {} 小时", d.attempts, dead.retry_hours),
    ];
    if let Some(error) = &d.last_error {
        lines.push(format!("- **最后错误**：{}", plain(error)));
    }
    lines.push(format!("> 修复后重新投递：POST /api/v1/deliveries/{}/retry", d.id));
    Ok(Message { title: format!("消息投递失败：{target}"), lines, link: None, mentions: Vec::new() })
}

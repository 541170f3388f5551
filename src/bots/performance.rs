//! The `业绩` chat command: a partner's last three full months of revenue with growth and the
//! attainment of its revenue targets, answered from the performance records on a read.

use diesel::prelude::*;

use super::context::{named_partner, reply, CommandContext};
use crate::error::ApiError;
use crate::platforms::format::Message;

/// Months `业绩` shows: the last full months before the current (China Standard Time) one.
const PERFORMANCE_MONTHS: i64 = 3;

/// 业绩: the partner's revenue in each of the last 3 full months (whole business, CNY, as targets
/// measure it) with growth over the month before, the 3 months' total against the 3 months
/// before them, and the attainment of the partner's revenue targets whose periods overlap those
/// months. Reads only.
pub fn performance(ctx: &mut CommandContext<'_>, args: &str) -> Result<Message, ApiError> {
    use crate::db::schema::{performance_records as pr, targets as t};
    use crate::performance::period::Month;
    use crate::targets::model::{Metric, Target, TargetStatus};
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;

    let usage = "用法：业绩 〈伙伴名称〉，例如「业绩 华东星辰」；绑定伙伴的群里直接发「业绩」。";
    let partner = match named_partner(ctx, args, "业绩查询", usage)? {
        Ok(p) => p,
        Err(message) => return Ok(message),
    };
    let window = Month::of(ctx.now).and_then(|this| Some((this.plus(-2 * PERFORMANCE_MONTHS)?, this.plus(-1)?)));
    let Some((earliest, last)) = window else {
        return Ok(reply("业绩查询", vec!["无法确定统计月份。".into()]));
    };
    let first = last.plus(1 - PERFORMANCE_MONTHS).unwrap_or(last);
    let rows: Vec<(String, i64)> = pr::table
        .filter(pr::partner_id.eq(&partner.id))
        .filter(pr::line_key.eq("").and(pr::currency.eq("CNY")))
        .filter(pr::period.ge(earliest.to_string()).and(pr::period.le(last.to_string())))
        .group_by(pr::period)
        .select((pr::period, sql::<BigInt>("CAST(COALESCE(SUM(revenue_minor), 0) AS BIGINT)")))
        .load(ctx.conn)?;
    let revenue: std::collections::HashMap<String, i64> = rows.into_iter().collect();
    let of = |m: Month| revenue.get(&m.to_string()).copied();
    let title = format!("业绩：{}", partner.name);
    let mut lines = vec![format!("**{first} 至 {last} 营收**（整体业务，人民币）")];
    for month in first.through(last) {
        let figure = match of(month) {
            Some(fen) => yuan(fen),
            None => "无记录".into(),
        };
        let growth = match (of(month), month.plus(-1).and_then(of)) {
            (Some(now), Some(before)) => format!("，环比 {}", growth_text(now, before)),
            _ => String::new(),
        };
        lines.push(format!("- {}年{}月：{figure}{growth}", month.year(), month.month()));
    }
    let sum = |from: Month, to: Month| -> Option<i64> {
        let figures: Vec<i64> = from.through(to).filter_map(of).collect();
        (!figures.is_empty()).then(|| figures.iter().sum())
    };
    let before_last = first.plus(-1).unwrap_or(first);
    let before_first = first.plus(-PERFORMANCE_MONTHS).unwrap_or(first);
    match (sum(first, last), sum(before_first, before_last)) {
        (Some(total), Some(before)) => lines.push(format!(
            "- **合计** {}，较前 3 个月（{before_first} 至 {before_last}）{}",
            yuan(total),
            growth_text(total, before)
        )),
        (Some(total), None) => lines.push(format!("- **合计** {}", yuan(total))),
        (None, _) => lines.push("这 3 个月没有业绩记录。".into()),
    }
    let targets: Vec<Target> = t::table
        .filter(t::partner_id.eq(&partner.id))
        .filter(t::metric.eq(Metric::Revenue.to_string()))
        .filter(t::first_month.le(last.to_string()).and(t::last_month.ge(first.to_string())))
        .order((t::first_month.asc(), t::last_month.asc()))
        .limit(6)
        .select(Target::as_select())
        .load(ctx.conn)?;
    if targets.is_empty() {
        lines.push("- **营收目标**：这几个月没有营收目标".into());
    } else {
        lines.push("**营收目标达成**".into());
        for target in targets.into_iter().take(5) {
            let draft = if target.status == TargetStatus::Draft { "（草案）" } else { "" };
            let view = crate::targets::store::view(ctx.conn, target)?;
            lines.push(format!(
                "- {}{draft}：目标 {}，实际 {}，达成 {}",
                view.target.period,
                yuan(view.target.target_value),
                yuan(view.actual),
                percent(view.attainment_bp)
            ));
        }
    }
    Ok(Message { title, lines, link: Some(format!("/partners/{}", partner.id)), mentions: Vec::new() })
}

/// Fen as yuan with thousands separators: `¥1,234,567.80`.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", fen % 100)
}

/// Basis points as a percentage with one decimal: `10250` → `102.5%`.
fn percent(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let tenths = (bp.unsigned_abs() + 5) / 10;
    format!("{sign}{}.{}%", tenths / 10, tenths % 10)
}

/// Growth of `now` over `before`: `+12.5%`, `-3.0%`, or `—` when there was nothing before.
fn growth_text(now: i64, before: i64) -> String {
    if before <= 0 {
        return "—（上期为 0）".into();
    }
    let bp = (i128::from(now) - i128::from(before)) * 10_000 / i128::from(before);
    let bp = i64::try_from(bp).unwrap_or(i64::MAX);
    let text = percent(bp);
    if bp > 0 {
        format!("+{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_shares_read_as_people_write_them() {
        assert_eq!(yuan(123456780), "¥1,234,567.80");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(100000), "¥1,000.00");
        assert_eq!(percent(10250), "102.5%");
        assert_eq!(percent(0), "0.0%");
        assert_eq!(growth_text(110, 100), "+10.0%");
        assert_eq!(growth_text(97, 100), "-3.0%");
        assert_eq!(growth_text(5, 0), "—（上期为 0）");
    }
}

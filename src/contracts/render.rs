//! A contract and its terms as a Markdown document in Chinese and English, for pasting into a
//! WeCom or DingTalk chat.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::model::{Contract, ContractKind, ContractStatus};
use super::terms::{DisputeMethod, Params, Party, PurchasePeriod, Term, TermKind};

pub fn term_kind_zh(kind: TermKind) -> &'static str {
    match kind {
        TermKind::Rights => "权利",
        TermKind::Obligations => "义务",
        TermKind::BreachLiability => "违约责任",
        TermKind::DisputeResolution => "争议解决",
        TermKind::Pricing => "价格",
        TermKind::Discount => "折扣",
        TermKind::Rebate => "返点",
        TermKind::Exclusivity => "独家授权",
        TermKind::Territory => "销售区域",
        TermKind::Payment => "付款",
        TermKind::Confidentiality => "保密",
        TermKind::MinimumPurchase => "最低采购量",
        TermKind::Termination => "合同终止",
        TermKind::Other => "其他",
    }
}

fn term_kind_en(kind: TermKind) -> &'static str {
    match kind {
        TermKind::Rights => "Rights",
        TermKind::Obligations => "Obligations",
        TermKind::BreachLiability => "Liability for breach",
        TermKind::DisputeResolution => "Dispute resolution",
        TermKind::Pricing => "Pricing",
        TermKind::Discount => "Discount",
        TermKind::Rebate => "Rebate",
        TermKind::Exclusivity => "Exclusivity",
        TermKind::Territory => "Territory",
        TermKind::Payment => "Payment",
        TermKind::Confidentiality => "Confidentiality",
        TermKind::MinimumPurchase => "Minimum purchase",
        TermKind::Termination => "Termination",
        TermKind::Other => "Other",
    }
}

fn contract_kind(kind: ContractKind) -> &'static str {
    match kind {
        ContractKind::Agency => "代理 Agency",
        ContractKind::Distribution => "经销 Distribution",
        ContractKind::Reseller => "转售 Reseller",
        ContractKind::Service => "服务 Service",
        ContractKind::Framework => "框架 Framework",
        ContractKind::Other => "其他 Other",
    }
}

fn status(status: ContractStatus) -> &'static str {
    match status {
        ContractStatus::Draft => "草稿 Draft",
        ContractStatus::Active => "生效 Active",
        ContractStatus::Expired => "已到期 Expired",
        ContractStatus::Terminated => "已终止 Terminated",
    }
}

fn party(p: Party) -> &'static str {
    match p {
        Party::Company => "我方 Company",
        Party::Partner => "渠道成员 Partner",
        Party::Both => "双方 Both parties",
    }
}

fn period(p: PurchasePeriod) -> &'static str {
    match p {
        PurchasePeriod::Month => "每月 per month",
        PurchasePeriod::Quarter => "每季度 per quarter",
        PurchasePeriod::Year => "每年 per year",
    }
}

fn method(m: DisputeMethod) -> &'static str {
    match m {
        DisputeMethod::Negotiation => "协商 Negotiation",
        DisputeMethod::Mediation => "调解 Mediation",
        DisputeMethod::Arbitration => "仲裁 Arbitration",
        DisputeMethod::Litigation => "诉讼 Litigation",
    }
}

/// Digits after the decimal point of a currency's minor unit (ISO 4217).
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// `1234567` fen → `CNY 12,345.67`.
pub fn money(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let scale = 10_i64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let (whole, frac) = (abs / scale as u64, abs % scale as u64);
    let whole = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if digits == 0 {
        format!("{currency} {sign}{grouped}")
    } else {
        format!("{currency} {sign}{grouped}.{frac:0width$}", width = digits as usize)
    }
}

/// `1250` → `12.5%`.
pub fn percent(bp: i64) -> String {
    let whole = bp / 100;
    let frac = (bp % 100).abs();
    if frac == 0 {
        format!("{whole}%")
    } else if frac % 10 == 0 {
        format!("{whole}.{}%", frac / 10)
    } else {
        format!("{whole}.{frac:02}%")
    }
}

/// Text for one table cell or heading: one line, pipes escaped.
fn inline(text: &str) -> String {
    text.split(['\r', '\n']).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn date_or_dash<T: std::fmt::Display>(d: Option<T>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
}

fn params_lines(params: &Params, currency: &str) -> Vec<String> {
    match params {
        Params::Discount(p) => vec![format!("折扣率 Discount rate: {}", percent(p.rate_bp))],
        Params::Rebate(p) => p
            .tiers
            .iter()
            .map(|t| {
                format!(
                    "采购额 ≥ {} 返点 {} · Rebate {} from {}",
                    money(t.threshold_minor, currency),
                    percent(t.rate_bp),
                    percent(t.rate_bp),
                    money(t.threshold_minor, currency)
                )
            })
            .collect(),
        Params::Exclusivity(p) => vec![
            format!("独家区域 Exclusive territories: {}", inline(&p.territories.join("、"))),
            format!("产品线 Product lines: {}", inline(&p.product_lines.join("、"))),
        ],
        Params::Territory(p) => {
            let lines = if p.product_lines.is_empty() {
                "全部 All".to_string()
            } else {
                inline(&p.product_lines.join("、"))
            };
            vec![
                format!("销售区域 Territories: {}", inline(&p.territories.join("、"))),
                format!("产品线 Product lines: {lines}"),
            ]
        }
        Params::MinimumPurchase(p) => {
            vec![format!("最低采购额 Minimum purchase: {} {}", money(p.amount_minor, currency), period(p.period))]
        }
        Params::DisputeResolution(p) => {
            vec![format!("方式 Method: {}", method(p.method)), format!("地点/机构 Venue: {}", inline(&p.venue))]
        }
        Params::Payment(p) => vec![format!("付款期限 Payment due: {} 天 days", p.days)],
        Params::Termination(p) => vec![format!("提前通知 Notice: {} 天 days", p.notice_days)],
        Params::None => vec![],
    }
}

/// Links to the contracts this one renewed or was renewed by, as numbers when known.
pub struct Links {
    pub predecessor_number: Option<String>,
    pub successor_number: Option<String>,
}

pub fn contract_markdown(
    contract: &Contract,
    partner_name: &str,
    terms: &[Term],
    links: &Links,
    generated_at: DateTime<Utc>,
) -> String {
    let c = contract;
    let mut md = String::new();
    let _ = writeln!(md, "# 合同 Contract {} · {}\n", inline(&c.number), inline(&c.title));
    let _ = writeln!(md, "| 项目 Field | 内容 Value |\n|---|---|");
    for (k, v) in fields(c, partner_name, links) {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    md.push('\n');
    if let Some(notes) = &c.notes {
        let _ = writeln!(md, "> 备注 Notes: {}\n", inline(notes));
    }
    terms_section(&mut md, terms, &c.currency);
    let _ = writeln!(
        md,
        "---\n版本 Version {} · 生成于 Generated {}",
        c.version,
        generated_at.format("%Y-%m-%d %H:%M UTC")
    );
    md
}

/// The rows of the document's field table, in order (owner and links only when known).
fn fields(c: &Contract, partner_name: &str, links: &Links) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("合同编号 Number", inline(&c.number)),
        ("渠道成员 Partner", inline(partner_name)),
        ("合同类型 Kind", contract_kind(c.kind).into()),
        ("状态 Status", status(c.status).into()),
        (
            "签署时间 Signed",
            c.signed_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "—".into()),
        ),
        (
            "有效期 Term",
            format!(
                "{} → {}",
                date_or_dash(c.effective_from),
                c.effective_to.map(|d| d.to_string()).unwrap_or_else(|| "长期 open-ended".into())
            ),
        ),
        (
            "自动续约 Auto-renew",
            format!(
                "{}；续约通知期 {} 天 · notice {} days",
                if c.auto_renew { "是 Yes" } else { "否 No" },
                c.renewal_notice_days,
                c.renewal_notice_days
            ),
        ),
        ("合同金额 Value", c.total_value.map(|v| money(v, &c.currency)).unwrap_or_else(|| "—".into())),
    ];
    if let Some(owner) = &c.owner {
        rows.push(("负责人 Owner", inline(owner)));
    }
    if let Some(p) = &links.predecessor_number {
        rows.push(("续签自 Renews", inline(p)));
    }
    if let Some(s) = &links.successor_number {
        rows.push(("续签合同 Renewed by", inline(s)));
    }
    rows
}

/// `## 条款 Terms (n)` and one `###` section per term, with its parameters as a list.
fn terms_section(md: &mut String, terms: &[Term], currency: &str) {
    let _ = writeln!(md, "## 条款 Terms ({})\n", terms.len());
    if terms.is_empty() {
        let _ = writeln!(md, "暂无条款。No terms yet.\n");
    }
    for (i, t) in terms.iter().enumerate() {
        let _ =
            writeln!(md, "### {}. {} {} · {}\n", i + 1, term_kind_zh(t.kind), term_kind_en(t.kind), inline(&t.title));
        let _ = writeln!(md, "义务方 Obligated party: {}\n", party(t.obligated_party));
        let _ = writeln!(md, "{}\n", t.text.trim());
        // Stored parameters were validated on the way in; a term whose parameters no longer read
        // is shown without them rather than failing the whole document.
        if let Ok(params) = Params::from_stored(t.kind, &t.params) {
            for line in params_lines(&params, currency) {
                let _ = writeln!(md, "- {line}");
            }
            md.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    #[test]
    fn money_uses_the_currency_minor_unit() {
        assert_eq!(money(123_456_789, "CNY"), "CNY 1,234,567.89");
        assert_eq!(money(5, "CNY"), "CNY 0.05");
        assert_eq!(money(0, "USD"), "USD 0.00");
        assert_eq!(money(1_000_000, "JPY"), "JPY 1,000,000");
        assert_eq!(money(1_500, "KWD"), "KWD 1.500");
        assert_eq!(money(-250, "EUR"), "EUR -2.50");
    }

    #[test]
    fn percent_from_basis_points() {
        assert_eq!(percent(1250), "12.5%");
        assert_eq!(percent(10_000), "100%");
        assert_eq!(percent(5), "0.05%");
        assert_eq!(percent(0), "0%");
    }

    #[test]
    fn renders_a_readable_document() {
        let now = Utc::now();
        let contract = Contract {
            id: "c".into(),
            partner_id: "p".into(),
            number: "HT-2026-001".into(),
            title: "华东独家代理 | 2026".into(),
            kind: ContractKind::Agency,
            status: ContractStatus::Active,
            signed_at: None,
            effective_from: NaiveDate::from_ymd_opt(2026, 1, 1),
            effective_to: None,
            auto_renew: true,
            renewal_notice_days: 30,
            total_value: Some(120_000_000),
            currency: "CNY".into(),
            owner: Some("王芳".into()),
            notes: None,
            predecessor_id: None,
            successor_id: None,
            version: 3,
            created_at: now,
            updated_at: now,
        };
        let term = |kind, title: &str, params| Term {
            id: "t".into(),
            contract_id: "c".into(),
            kind,
            title: title.into(),
            text: "第一款：……".into(),
            obligated_party: Party::Partner,
            params,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let terms = [
            term(TermKind::Rebate, "季度返点", json!({"tiers": [{"threshold_minor": 10_000_000, "rate_bp": 200}]})),
            term(TermKind::DisputeResolution, "争议", json!({"method": "arbitration", "venue": "上海国际仲裁中心"})),
        ];
        let links = Links { predecessor_number: Some("HT-2025-001".into()), successor_number: None };
        let md = contract_markdown(&contract, "华东星辰代理", &terms, &links, now);
        assert!(md.starts_with("# 合同 Contract HT-2026-001 · 华东独家代理 \\| 2026\n"), "{md}");
        for expected in [
            "| 渠道成员 Partner | 华东星辰代理 |",
            "| 合同金额 Value | CNY 1,200,000.00 |",
            "| 有效期 Term | 2026-01-01 → 长期 open-ended |",
            "| 续签自 Renews | HT-2025-001 |",
            "## 条款 Terms (2)",
            "### 1. 返点 Rebate · 季度返点",
            "- 采购额 ≥ CNY 100,000.00 返点 2% · Rebate 2% from CNY 100,000.00",
            "- 方式 Method: 仲裁 Arbitration",
            "义务方 Obligated party: 渠道成员 Partner",
            "版本 Version 3",
        ] {
            assert!(md.contains(expected), "missing {expected:?} in\n{md}");
        }
    }
}

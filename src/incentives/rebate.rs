//! The rebate calculator (返点计算): one statement line from a rebate schedule and a partner's
//! figures for some months. Pure: the store gathers the figures, this decides the money.
//!
//! - The money base is always the revenue (fen); `basis`/`measure` only decide what the
//!   thresholds are compared with: revenue, units, or attainment of the agreed target in bp.
//! - A threshold is reached when the measure is at least it (exactly at the threshold counts).
//! - retroactive: the highest tier reached pays its rate on the whole revenue.
//! - marginal: each band `[threshold_i, threshold_{i+1})` of the measure pays tier i's rate on
//!   its share of the revenue (the band's part of the measure, in proportion); for a revenue
//!   measure that is just the band's revenue.
//! - The line is computed exactly (i128) and rounded half up to the fen once; then the cap.
//! - An attainment measure without an agreed target is not eligible, and says so.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::programs::model::{Basis, Measure, RebateMode, RebateRules, RebateStep};
use crate::targets::model::attainment_bp;

/// What a line's figure means, in Chinese and in English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    pub zh: String,
    pub en: String,
}

/// A partner's figures over the statement's months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    /// Revenue in the program's currency, fen: the money base.
    pub revenue_minor: i64,
    pub units: i64,
    /// The agreed target for the basis over exactly these months, if any.
    pub target_value: Option<i64>,
}

/// The calculator's answer for one schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    pub eligible: bool,
    /// Revenue (fen) or units, by the rules' basis.
    pub basis_value: i64,
    pub target_value: Option<i64>,
    pub attainment_bp: Option<i64>,
    /// 1-based; `None` when no tier was reached.
    pub tier_reached: Option<i64>,
    /// The reached tier's rate (marginal: the top band's), 0 when none.
    pub rate_bp: i64,
    pub amount_minor: i64,
    pub explanation: Explanation,
}

/// `minor` fen as `1234.56 CNY`.
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}

/// Basis points as a percentage: `250` → `2.50%`.
pub fn percent(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let abs = bp.unsigned_abs();
    format!("{sign}{}.{:02}%", abs / 100, abs % 100)
}

/// `n / d` rounded half up, for `n >= 0`, `d > 0`.
fn half_up(n: i128, d: i128) -> i128 {
    (2 * n + d) / (2 * d)
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// How a threshold or measured value of these rules reads.
fn measured(rules: &RebateRules, value: i64, currency: &str) -> (String, String) {
    match (rules.measure, rules.basis) {
        (Measure::Attainment, _) => (percent(value), percent(value)),
        (Measure::Amount, Basis::Revenue) => (money(value, currency), money(value, currency)),
        (Measure::Amount, Basis::Units) => (format!("{value} 件"), format!("{value} units")),
    }
}

fn not_eligible(basis_value: i64, target_value: Option<i64>, explanation: Explanation) -> Computed {
    Computed {
        eligible: false,
        basis_value,
        target_value,
        attainment_bp: None,
        tier_reached: None,
        rate_bp: 0,
        amount_minor: 0,
        explanation,
    }
}

/// The rebate `rules` pay on `figures`; amounts in `currency`.
pub fn compute(rules: &RebateRules, figures: &Figures, currency: &str) -> Computed {
    let revenue = figures.revenue_minor.max(0);
    let basis_value = match rules.basis {
        Basis::Revenue => revenue,
        Basis::Units => figures.units.max(0),
    };
    let measured_as = match measure_of(rules, figures, basis_value, currency) {
        Ok(measured_as) => measured_as,
        Err(explanation) => return not_eligible(basis_value, figures.target_value, explanation),
    };
    let Some(top) = rules.tiers.iter().rposition(|s| measured_as.value >= s.threshold) else {
        let first = rules.tiers.first().map(|s| s.threshold).unwrap_or(0);
        let (fz, fe) = measured(rules, first, currency);
        let text = &measured_as.text;
        return Computed {
            eligible: true,
            basis_value,
            target_value: figures.target_value,
            attainment_bp: measured_as.attainment_bp,
            tier_reached: None,
            rate_bp: 0,
            amount_minor: 0,
            explanation: Explanation {
                zh: format!("{} 未达到第 1 档门槛 {fz}：无返点，金额 {}。", text.0, money(0, currency)),
                en: format!("{} is below the first tier's threshold {fe}: no rebate, {}.", text.1, money(0, currency)),
            },
        };
    };
    let step = &rules.tiers[top];
    let (mut amount, mut zh, mut en) = tier_amount(rules, top, &measured_as, revenue, currency);
    if let Some(cap) = rules.cap_minor.filter(|cap| amount > *cap) {
        zh.push_str(&format!("；超过每个渠道的上限 {}，按上限计", money(cap, currency)));
        en.push_str(&format!("; above the per-partner cap {}, capped", money(cap, currency)));
        amount = cap;
    }
    zh.push('。');
    en.push('.');
    Computed {
        eligible: true,
        basis_value,
        target_value: figures.target_value,
        attainment_bp: measured_as.attainment_bp,
        tier_reached: Some(top as i64 + 1),
        rate_bp: step.rate_bp,
        amount_minor: amount,
        explanation: Explanation { zh, en },
    }
}

/// What the tiers' thresholds are compared with, and how to say it.
struct Measured {
    /// The basis itself (`amount`) or its attainment in basis points (`attainment`).
    value: i64,
    attainment_bp: Option<i64>,
    /// The measure in words, Chinese and English.
    text: (String, String),
}

/// The measure the tiers apply to; `Err` explains why the partner is not eligible (an attainment
/// rebate without an agreed target).
fn measure_of(
    rules: &RebateRules,
    figures: &Figures,
    basis_value: i64,
    currency: &str,
) -> Result<Measured, Explanation> {
    let basis_word = match rules.basis {
        Basis::Revenue => ("营业额", "revenue"),
        Basis::Units => ("销量", "units"),
    };
    match rules.measure {
        Measure::Amount => {
            let (zh, en) = measured(rules, basis_value, currency);
            Ok(Measured {
                value: basis_value,
                attainment_bp: None,
                text: (format!("{} {zh}", basis_word.0), format!("{} {en}", capitalize(basis_word.1))),
            })
        }
        Measure::Attainment => {
            let Some(target) = figures.target_value.filter(|t| *t > 0) else {
                return Err(Explanation {
                    zh: format!(
                        "这些月份没有已约定的{}目标，按目标达成率计算的返点不适用：不符合条件，金额 {}。",
                        basis_word.0,
                        money(0, currency)
                    ),
                    en: format!(
                        "No agreed {} target covers exactly these months, so an attainment rebate cannot apply: not eligible, {}.",
                        basis_word.1,
                        money(0, currency)
                    ),
                });
            };
            let bp = attainment_bp(basis_value, target);
            let (a, t) = match rules.basis {
                Basis::Revenue => (money(basis_value, currency), money(target, currency)),
                Basis::Units => (basis_value.to_string(), target.to_string()),
            };
            Ok(Measured {
                value: bp,
                attainment_bp: Some(bp),
                text: (
                    format!("{}目标达成率 {}（实际 {a} / 目标 {t}）", basis_word.0, percent(bp)),
                    format!(
                        "{} target attainment {} (actual {a} of target {t})",
                        capitalize(basis_word.1),
                        percent(bp)
                    ),
                ),
            })
        }
    }
}

/// The amount for tier `top` (0-based) by the program's mode, and the arithmetic in words
/// (without the closing full stop: a cap may still be added).
fn tier_amount(rules: &RebateRules, top: usize, m: &Measured, revenue: i64, currency: &str) -> (i64, String, String) {
    let step = &rules.tiers[top];
    let (tz, te) = measured(rules, step.threshold, currency);
    match rules.mode {
        RebateMode::Retroactive => {
            let amount = clamp_i64(half_up(i128::from(revenue) * i128::from(step.rate_bp), 10_000));
            let product =
                format!("{} × {} = {}", money(revenue, currency), percent(step.rate_bp), money(amount, currency));
            (
                amount,
                format!(
                    "{} 达到第 {} 档（门槛 {tz}），返点率 {}；全额累进：{product}",
                    m.text.0,
                    top + 1,
                    percent(step.rate_bp)
                ),
                format!(
                    "{} reached tier {} (threshold {te}) at {}; retroactive, on all revenue: {product}",
                    m.text.1,
                    top + 1,
                    percent(step.rate_bp)
                ),
            )
        }
        RebateMode::Marginal => {
            let amount = marginal(&rules.tiers, m.value, revenue);
            let bands = bands_text(rules, m.value, currency);
            let share = if rules.measure == Measure::Amount && rules.basis == Basis::Revenue {
                (String::new(), String::new())
            } else {
                (
                    format!("，按各段占比分摊营业额 {}", money(revenue, currency)),
                    format!(", each band's share of revenue {}", money(revenue, currency)),
                )
            };
            (
                amount,
                format!(
                    "{} 达到第 {} 档（门槛 {tz}）；分段累进，各段按本段费率{}：{} = {}",
                    m.text.0,
                    top + 1,
                    share.0,
                    bands.0,
                    money(amount, currency)
                ),
                format!(
                    "{} reached tier {} (threshold {te}); marginal, each band at its own rate{}: {} = {}",
                    m.text.1,
                    top + 1,
                    share.1,
                    bands.1,
                    money(amount, currency)
                ),
            )
        }
    }
}

fn capitalize(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Σ over bands of (the band's part of the measure × its rate), as a share of the revenue,
/// rounded once.
fn marginal(tiers: &[RebateStep], measure: i64, revenue: i64) -> i64 {
    if measure <= 0 || revenue <= 0 {
        return 0;
    }
    let mut weighted: i128 = 0;
    for (i, step) in tiers.iter().enumerate() {
        let upper = tiers.get(i + 1).map_or(measure, |next| next.threshold.min(measure));
        let part = i128::from(upper) - i128::from(step.threshold);
        if part > 0 {
            weighted += part * i128::from(step.rate_bp);
        }
    }
    clamp_i64(half_up(i128::from(revenue) * weighted, i128::from(measure) * 10_000))
}

fn bands_text(rules: &RebateRules, measure: i64, currency: &str) -> (String, String) {
    let mut zh = Vec::new();
    let mut en = Vec::new();
    for (i, step) in rules.tiers.iter().enumerate() {
        if measure < step.threshold {
            break;
        }
        let upper = rules.tiers.get(i + 1).map_or(measure, |next| next.threshold.min(measure));
        let (lz, le) = measured(rules, step.threshold, currency);
        let (uz, ue) = measured(rules, upper, currency);
        zh.push(format!("[{lz}–{uz}] × {}", percent(step.rate_bp)));
        en.push(format!("[{le}–{ue}] × {}", percent(step.rate_bp)));
    }
    (zh.join(" + "), en.join(" + "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(basis: Basis, measure: Measure, mode: RebateMode, tiers: &[(i64, i64)], cap: Option<i64>) -> RebateRules {
        RebateRules {
            basis,
            measure,
            tiers: tiers.iter().map(|&(threshold, rate_bp)| RebateStep { threshold, rate_bp }).collect(),
            mode,
            cap_minor: cap,
            product_lines: Vec::new(),
        }
    }

    fn figures(revenue_minor: i64, units: i64, target_value: Option<i64>) -> Figures {
        Figures { revenue_minor, units, target_value }
    }

    use Basis::*;
    use Measure::*;
    use RebateMode::*;

    /// Tiers: from 100 000.00 yuan 2 %, from 500 000.00 yuan 3 %, from 1 000 000.00 yuan 5 %.
    const TIERS: &[(i64, i64)] = &[(10_000_000, 200), (50_000_000, 300), (100_000_000, 500)];

    #[test]
    fn a_table_of_rebate_cases() {
        // (name, rules, figures, eligible, tier, rate, amount)
        type Case = (&'static str, RebateRules, Figures, bool, Option<i64>, i64, i64);
        let cases: Vec<Case> = vec![
            (
                "retroactive: the reached tier's rate on all revenue",
                rules(Revenue, Amount, Retroactive, TIERS, None),
                figures(80_000_000, 0, None),
                true,
                Some(2),
                300,
                2_400_000,
            ),
            (
                "marginal: each band at its own rate, nothing below the first threshold",
                rules(Revenue, Amount, Marginal, TIERS, None),
                figures(80_000_000, 0, None),
                true,
                Some(2),
                300,
                40_000_000 * 200 / 10_000 + 30_000_000 * 300 / 10_000,
            ),
            (
                "exactly at a threshold reaches it (retroactive)",
                rules(Revenue, Amount, Retroactive, TIERS, None),
                figures(50_000_000, 0, None),
                true,
                Some(2),
                300,
                1_500_000,
            ),
            (
                "exactly at a threshold reaches it (marginal: the new band is empty)",
                rules(Revenue, Amount, Marginal, TIERS, None),
                figures(50_000_000, 0, None),
                true,
                Some(2),
                300,
                800_000,
            ),
            (
                "one fen below a threshold stays in the tier below",
                rules(Revenue, Amount, Retroactive, TIERS, None),
                figures(49_999_999, 0, None),
                true,
                Some(1),
                200,
                1_000_000,
            ),
            (
                "the cap limits the line",
                rules(Revenue, Amount, Retroactive, TIERS, Some(1_000_000)),
                figures(200_000_000, 0, None),
                true,
                Some(3),
                500,
                1_000_000,
            ),
            (
                "below the cap it does nothing",
                rules(Revenue, Amount, Retroactive, TIERS, Some(20_000_000)),
                figures(200_000_000, 0, None),
                true,
                Some(3),
                500,
                10_000_000,
            ),
            (
                "zero revenue: no tier, nothing",
                rules(Revenue, Amount, Retroactive, TIERS, None),
                figures(0, 0, None),
                true,
                None,
                0,
                0,
            ),
            (
                "zero revenue with a zero threshold: tier 1, still nothing",
                rules(Revenue, Amount, Marginal, &[(0, 100)], None),
                figures(0, 0, None),
                true,
                Some(1),
                100,
                0,
            ),
            (
                "attainment without a target: not eligible",
                rules(Revenue, Attainment, Retroactive, &[(8_000, 100), (10_000, 300)], None),
                figures(5_000_000, 0, None),
                false,
                None,
                0,
                0,
            ),
            (
                "attainment: 10000 bp is exactly the target",
                rules(Revenue, Attainment, Retroactive, &[(8_000, 100), (10_000, 300)], None),
                figures(5_000_000, 0, Some(5_000_000)),
                true,
                Some(2),
                300,
                150_000,
            ),
            (
                "attainment marginal: bands of attainment share the revenue",
                // 12000 bp: 8000–10000 at 1 % (2000/12000 of revenue), 10000–12000 at 3 % (2000/12000).
                rules(Revenue, Attainment, Marginal, &[(8_000, 100), (10_000, 300)], None),
                figures(6_000_000, 0, Some(5_000_000)),
                true,
                Some(2),
                300,
                6_000_000 / 6 / 100 + 6_000_000 / 6 * 3 / 100,
            ),
            (
                "units basis: thresholds on units, money on revenue",
                rules(Units, Amount, Retroactive, &[(100, 150), (500, 250)], None),
                figures(1_000_000, 499, None),
                true,
                Some(1),
                150,
                15_000,
            ),
            (
                "half up, once per line: 333 fen × 1.5 % = 4.995 → 5",
                rules(Revenue, Amount, Retroactive, &[(0, 150)], None),
                figures(333, 0, None),
                true,
                Some(1),
                150,
                5,
            ),
            (
                "half up below half: 33 fen × 1.5 % = 0.495 → 0",
                rules(Revenue, Amount, Retroactive, &[(0, 150)], None),
                figures(33, 0, None),
                true,
                Some(1),
                150,
                0,
            ),
        ];
        for (name, r, f, eligible, tier, rate, amount) in cases {
            let got = compute(&r, &f, "CNY");
            assert_eq!(
                (got.eligible, got.tier_reached, got.rate_bp, got.amount_minor),
                (eligible, tier, rate, amount),
                "{name}: {:?}",
                got.explanation
            );
            assert!(!got.explanation.zh.is_empty() && !got.explanation.en.is_empty(), "{name}");
        }
    }

    #[test]
    fn marginal_rounds_once_for_the_whole_line() {
        // Bands 0–100 at 0.5 % and 100–… at 1.5 %, revenue 301 fen: 0.5 + 3.015 = 3.515 → 4 (not 1 + 3).
        let r = rules(Revenue, Amount, Marginal, &[(0, 50), (100, 150)], None);
        assert_eq!(compute(&r, &figures(301, 0, None), "CNY").amount_minor, 4);
    }

    #[test]
    fn explanations_say_the_arithmetic_in_both_languages() {
        let got = compute(&rules(Revenue, Amount, Retroactive, TIERS, None), &figures(80_000_000, 0, None), "CNY");
        assert_eq!(
            got.explanation.en,
            "Revenue 800000.00 CNY reached tier 2 (threshold 500000.00 CNY) at 3.00%; retroactive, on all revenue: \
             800000.00 CNY × 3.00% = 24000.00 CNY."
        );
        assert!(
            got.explanation.zh.contains("第 2 档") && got.explanation.zh.contains("24000.00 CNY"),
            "{}",
            got.explanation.zh
        );
        let none = compute(&rules(Revenue, Attainment, Retroactive, TIERS, None), &figures(1, 0, None), "CNY");
        assert!(none.explanation.en.contains("not eligible") && none.explanation.zh.contains("不符合条件"));
        let capped = compute(&rules(Revenue, Amount, Marginal, TIERS, Some(5)), &figures(80_000_000, 0, None), "CNY");
        assert!(
            capped.explanation.en.ends_with("above the per-partner cap 0.05 CNY, capped."),
            "{}",
            capped.explanation.en
        );
        assert_eq!(money(-12345, "CNY"), "-123.45 CNY");
        assert_eq!(percent(1250), "12.50%");
    }

    #[test]
    fn no_overflow_at_the_largest_figures() {
        let r = rules(Revenue, Amount, Marginal, &[(0, 10_000)], None);
        let big = 12_000_000_000_000_000;
        assert_eq!(compute(&r, &figures(big, 0, None), "CNY").amount_minor, big);
    }
}

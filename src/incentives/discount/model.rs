//! Discount answers: the offers a partner has on a day and the choice among them (pure).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::incentives::rebate::{percent, Explanation};
use crate::validation::Check;

crate::text_enum! {
    /// program: an active discount program addressed to the partner (its tier's rate);
    /// contract_term: a discount term of one of the partner's active contracts.
    DiscountSource { Program => "program", ContractTerm => "contract_term" }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiscountQuery {
    /// The day, `YYYY-MM-DD`.
    #[param(value_type = String, format = Date, example = "2026-03-15")]
    pub on: NaiveDate,
}

impl DiscountQuery {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.date("on", Some(self.on));
        c.finish()
    }
}

/// One discount the partner could get.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DiscountOffer {
    pub source: DiscountSource,
    #[schema(format = Uuid)]
    pub program_id: Option<String>,
    #[schema(format = Uuid)]
    pub contract_id: Option<String>,
    #[schema(format = Uuid)]
    pub term_id: Option<String>,
    /// The program's name, or the contract's number and the term's title.
    pub name: String,
    /// Basis points off list price.
    pub rate_bp: i64,
}

/// The discount that applies, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PartnerDiscount {
    #[schema(format = Uuid)]
    pub partner_id: String,
    #[schema(value_type = String, format = Date)]
    pub on: NaiveDate,
    /// The winning rate; 0 when nothing applies.
    pub rate_bp: i64,
    pub winner: Option<DiscountOffer>,
    /// Every offer considered, programs first.
    pub offers: Vec<DiscountOffer>,
    pub explanation: Explanation,
}

/// The best offer: the highest rate; on a tie the first listed (programs before contract terms).
pub fn choose(partner_id: String, on: NaiveDate, offers: Vec<DiscountOffer>) -> PartnerDiscount {
    let mut winner: Option<&DiscountOffer> = None;
    for offer in &offers {
        if winner.is_none_or(|w| offer.rate_bp > w.rate_bp) {
            winner = Some(offer);
        }
    }
    let explanation = match winner {
        None => Explanation {
            zh: format!("{on} 没有适用于该渠道的折扣方案或合同折扣条款：折扣为 0。"),
            en: format!("On {on} no discount program or contract discount term applies to the partner: no discount."),
        },
        Some(w) => {
            let (zh_source, en_source) = match w.source {
                DiscountSource::Program => {
                    (format!("折扣方案「{}」", w.name), format!("discount program \"{}\"", w.name))
                }
                DiscountSource::ContractTerm => {
                    (format!("合同折扣条款 {}", w.name), format!("contract discount term {}", w.name))
                }
            };
            let others = offers.len() - 1;
            Explanation {
                zh: format!(
                    "{on} 共有 {} 项折扣可用，取最高者：{zh_source} 的 {}{}。",
                    offers.len(),
                    percent(w.rate_bp),
                    if others > 0 { "（同率时先列者优先，方案先于合同条款）" } else { "" }
                ),
                en: format!(
                    "On {on}, {} discount(s) apply and the highest wins: {en_source} at {}{}.",
                    offers.len(),
                    percent(w.rate_bp),
                    if others > 0 { " (on a tie the first listed wins: programs before contract terms)" } else { "" }
                ),
            }
        }
    };
    PartnerDiscount {
        partner_id,
        on,
        rate_bp: winner.map_or(0, |w| w.rate_bp),
        winner: winner.cloned(),
        offers,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(source: DiscountSource, name: &str, rate_bp: i64) -> DiscountOffer {
        DiscountOffer { source, program_id: None, contract_id: None, term_id: None, name: name.into(), rate_bp }
    }

    #[test]
    fn the_highest_rate_wins_and_ties_go_to_the_first() {
        let on = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let got = choose(
            "p".into(),
            on,
            vec![
                offer(DiscountSource::Program, "A", 800),
                offer(DiscountSource::ContractTerm, "C-1", 1200),
                offer(DiscountSource::Program, "B", 1200),
            ],
        );
        assert_eq!((got.rate_bp, got.winner.unwrap().name), (1200, "C-1".to_string()));
        assert!(got.explanation.en.contains("12.00%") && got.explanation.zh.contains("12.00%"));
        let none = choose("p".into(), on, vec![]);
        assert_eq!((none.rate_bp, none.winner), (0, None));
        assert!(none.explanation.en.contains("no discount"));
    }
}

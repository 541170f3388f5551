//! The seed's channel-selection rules (产品特点、市场特征、企业资源) as data in, recommendation and
//! reasons out: pure, so every rule is unit-tested here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::text_enum! { Level { Low => "low", Medium => "medium", High => "high" } }
crate::text_enum! { Concentration { Concentrated => "concentrated", Dispersed => "dispersed" } }
crate::text_enum! {
    /// direct: own sales team, telesales, online direct. indirect: agents, distributors,
    /// wholesalers, resellers. hybrid: both, split by segment or product line.
    Recommendation { Direct => "direct", Indirect => "indirect", Hybrid => "hybrid" }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductTraits {
    pub technical_complexity: Level,
    pub customization: Level,
    pub standardization: Level,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketTraits {
    pub concentration: Concentration,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceTraits {
    /// The strength of the company's own sales team and network.
    pub sales_team_strength: Level,
    /// The strength of the partners available (relationships, complementary resources).
    pub partner_network_strength: Level,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdviceRequest {
    pub product: ProductTraits,
    pub market: MarketTraits,
    pub resources: ResourceTraits,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Advice {
    pub recommendation: Recommendation,
    /// −100 (fully indirect) … +100 (fully direct).
    pub score: i32,
    /// Why, factor by factor, in Chinese with English.
    pub reasons: Vec<String>,
}

/// A factor's pull: positive towards direct, negative towards indirect.
fn pull(level: Level, towards_direct_when_high: bool) -> i32 {
    let v = match level {
        Level::Low => -2,
        Level::Medium => 0,
        Level::High => 2,
    };
    if towards_direct_when_high {
        v
    } else {
        -v
    }
}

const MAX_TOTAL: i32 = 12;
/// How strong the sum of pulls must be for a pure recommendation.
const DECISIVE: i32 = 6;

/// The seed's rules: complex, customised products suit direct channels and standardised ones
/// indirect; a concentrated market suits direct and a dispersed one indirect; a strong own sales
/// team suits direct and strong partners indirect. A pure recommendation needs a decisive total
/// and no dimension (product, market, resources) pulling the other way; otherwise hybrid.
pub fn advise(req: &AdviceRequest) -> Advice {
    let factors: [(&str, i32); 6] = [
        ("technical_complexity", pull(req.product.technical_complexity, true)),
        ("customization", pull(req.product.customization, true)),
        ("standardization", pull(req.product.standardization, false)),
        ("concentration", if req.market.concentration == Concentration::Concentrated { 2 } else { -2 }),
        ("sales_team_strength", pull(req.resources.sales_team_strength, true)),
        ("partner_network_strength", pull(req.resources.partner_network_strength, false)),
    ];
    let total: i32 = factors.iter().map(|(_, v)| v).sum();
    let dimensions = [factors[0].1 + factors[1].1 + factors[2].1, factors[3].1, factors[4].1 + factors[5].1];
    let recommendation = if total >= DECISIVE && dimensions.iter().all(|d| *d >= 0) {
        Recommendation::Direct
    } else if total <= -DECISIVE && dimensions.iter().all(|d| *d <= 0) {
        Recommendation::Indirect
    } else {
        Recommendation::Hybrid
    };

    let mut reasons: Vec<String> =
        factors.iter().filter(|(_, v)| *v != 0).map(|(name, v)| reason(name, *v > 0)).collect();
    reasons.push(match recommendation {
        Recommendation::Direct => "各项因素一致指向直接渠道 (all factors point to direct channels)".to_string(),
        Recommendation::Indirect => "各项因素一致指向间接渠道 (all factors point to indirect channels)".to_string(),
        Recommendation::Hybrid => {
            "信号不一致，建议直接与间接渠道结合 (mixed signals: combine direct and indirect channels)".to_string()
        }
    });
    Advice { recommendation, score: (total * 100) / MAX_TOTAL, reasons }
}

fn reason(factor: &str, favours_direct: bool) -> String {
    let text = match (factor, favours_direct) {
        ("technical_complexity", true) => "技术复杂度高，适合直接渠道 (high technical complexity favours direct)",
        ("technical_complexity", false) => "技术复杂度低，间接渠道即可胜任 (low technical complexity suits indirect)",
        ("customization", true) => "定制化程度高，适合直接渠道 (high customisation favours direct)",
        ("customization", false) => "定制化程度低，适合间接渠道 (little customisation suits indirect)",
        ("standardization", true) => "标准化程度低，需要直接服务 (low standardisation favours direct)",
        ("standardization", false) => {
            "通用性强、标准化程度高，间接渠道更具优势 (standardised products favour indirect)"
        }
        ("concentration", true) => "目标市场集中，直接渠道利于提高销售渗透力 (a concentrated market favours direct)",
        ("concentration", false) => "目标市场分散，间接渠道利于扩大覆盖面 (a dispersed market favours indirect)",
        ("sales_team_strength", true) => "自有销售团队强大，适合直接渠道 (a strong own sales team favours direct)",
        ("sales_team_strength", false) => "自有销售团队薄弱，宜借助合作伙伴 (a weak own sales team favours indirect)",
        ("partner_network_strength", true) => "合作伙伴资源薄弱，间接渠道难以支撑 (weak partners favour direct)",
        ("partner_network_strength", false) => {
            "合作伙伴关系良好、资源互补，适合间接渠道 (strong partners favour indirect)"
        }
        _ => "",
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::Concentration::*;
    use super::Level::*;
    use super::Recommendation::*;
    use super::*;

    fn req(tc: Level, cu: Level, st: Level, market: Concentration, sales: Level, partners: Level) -> AdviceRequest {
        AdviceRequest {
            product: ProductTraits { technical_complexity: tc, customization: cu, standardization: st },
            market: MarketTraits { concentration: market },
            resources: ResourceTraits { sales_team_strength: sales, partner_network_strength: partners },
        }
    }

    #[test]
    fn table_of_cases() {
        let cases = [
            // complex, customised, concentrated, strong own team → direct
            (req(High, High, Low, Concentrated, High, Low), Direct, 100),
            (req(High, High, Low, Concentrated, High, Medium), Direct, 83),
            (req(High, High, Medium, Concentrated, High, High), Direct, 50),
            // standardised, dispersed, strong partners → indirect
            (req(Low, Low, High, Dispersed, Low, High), Indirect, -100),
            (req(Low, Low, High, Dispersed, Medium, High), Indirect, -83),
            (req(Low, Medium, High, Dispersed, High, High), Indirect, -50),
            // mixed: complex product but dispersed market → hybrid
            (req(High, High, Low, Dispersed, High, Low), Hybrid, 66),
            // mixed: standardised product for a concentrated market
            (req(Low, Low, High, Concentrated, Low, High), Hybrid, -66),
            // everything medium, market decides little → hybrid
            (req(Medium, Medium, Medium, Concentrated, Medium, Medium), Hybrid, 16),
            // strong product signal, resources pull the other way → hybrid
            (req(High, High, Low, Concentrated, Low, High), Hybrid, 33),
        ];
        for (i, (input, expected, score)) in cases.iter().enumerate() {
            let advice = advise(input);
            assert_eq!(advice.recommendation, *expected, "case {i}");
            assert_eq!(advice.score, *score, "case {i}");
            assert!(!advice.reasons.is_empty());
        }
    }

    #[test]
    fn reasons_name_each_non_neutral_factor() {
        let advice = advise(&req(High, Medium, Medium, Dispersed, Medium, Medium));
        assert_eq!(advice.reasons.len(), 3);
        assert!(advice.reasons[0].contains("技术复杂度高"));
        assert!(advice.reasons[1].contains("目标市场分散"));
        assert!(advice.reasons[2].contains("mixed signals"));
    }
}

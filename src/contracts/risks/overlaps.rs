//! The risk rules between two partners' active contracts: two exclusivity grants of the same
//! territory and product line (`exclusivity_overlap`), and a territory one partner holds
//! exclusively granted to another by a territory term (`territory_conflict`). Each is one risk
//! seen from both sides, with the same key; labels compare by `model::norm`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};

use super::model::{key, norm, Risk, RiskCode, Severity, Subject};
use crate::contracts::terms::Params;

/// Shared (territory, product line) pairs between two contracts, keyed by normalized labels and
/// keeping the first spelling seen for display.
type Overlaps = BTreeMap<(String, String), (String, String)>;

/// Accumulated overlaps of one ordered contract pair, with the terms involved on each side.
#[derive(Default)]
struct Pair {
    overlaps: Overlaps,
    left_terms: BTreeSet<String>,
    right_terms: BTreeSet<String>,
}

fn pair_evidence(
    overlaps: &Overlaps,
    own_terms: &BTreeSet<String>,
    other: &Subject,
    other_terms: &BTreeSet<String>,
) -> Value {
    let territories: BTreeSet<&str> = overlaps.values().map(|(t, _)| t.as_str()).collect();
    let lines: BTreeSet<&str> = overlaps.values().map(|(_, l)| l.as_str()).collect();
    json!({
        "term_ids": own_terms,
        "territories": territories,
        "product_lines": lines,
        "overlaps": overlaps.values().map(|(t, l)| json!({"territory": t, "product_line": l})).collect::<Vec<_>>(),
        "other": {
            "contract_id": other.contract.id,
            "contract_number": other.contract.number,
            "partner_id": other.contract.partner_id,
            "partner_name": other.partner_name,
            "term_ids": other_terms,
        },
    })
}

fn describe(overlaps: &Overlaps) -> String {
    overlaps.values().map(|(t, l)| format!("{t}/{l}")).collect::<Vec<_>>().join("、")
}

fn identity(overlaps: &Overlaps) -> Vec<String> {
    overlaps.keys().map(|(t, l)| format!("{t}\u{1e}{l}")).collect()
}

/// An exclusivity grant of one (territory, product line), as written in the term.
struct Grant {
    subject: usize,
    term_id: String,
    territory: String,
    line: String,
}

/// An exclusivity term's grant in one territory: which subject, term, spelling and lines.
struct Exclusive<'a> {
    subject: usize,
    term_id: &'a str,
    territory: &'a str,
    lines: &'a [String],
}

/// Two partners' active contracts both granting exclusivity for a territory and product line.
pub(super) fn exclusivity_overlaps(active: &[&Subject]) -> Vec<Risk> {
    // (territory, line) → the contracts (by index) and terms granting exclusivity there.
    let mut grants: BTreeMap<(String, String), Vec<Grant>> = BTreeMap::new();
    for (i, s) in active.iter().enumerate() {
        for t in &s.terms {
            if let Params::Exclusivity(p) = &t.params {
                for territory in &p.territories {
                    for line in &p.product_lines {
                        grants.entry((norm(territory), norm(line))).or_default().push(Grant {
                            subject: i,
                            term_id: t.id.clone(),
                            territory: territory.clone(),
                            line: line.clone(),
                        });
                    }
                }
            }
        }
    }
    let mut pairs: BTreeMap<(usize, usize), Pair> = BTreeMap::new();
    for (spot, holders) in &grants {
        for (a, b) in holders.iter().flat_map(|a| holders.iter().map(move |b| (a, b))) {
            let (sa, sb) = (active[a.subject], active[b.subject]);
            // Each unordered pair once (by contract id), partners different.
            if sa.contract.partner_id == sb.contract.partner_id || sa.contract.id >= sb.contract.id {
                continue;
            }
            let pair = pairs.entry((a.subject, b.subject)).or_default();
            pair.overlaps.entry(spot.clone()).or_insert_with(|| (a.territory.clone(), a.line.clone()));
            pair.left_terms.insert(a.term_id.clone());
            pair.right_terms.insert(b.term_id.clone());
        }
    }
    let mut risks = Vec::new();
    for ((ia, ib), pair) in pairs {
        let (sa, sb) = (active[ia], active[ib]);
        let key = key(RiskCode::ExclusivityOverlap, &[&sa.contract.id, &sb.contract.id], &identity(&pair.overlaps));
        let spots = describe(&pair.overlaps);
        for (own, own_terms, other, other_terms) in
            [(sa, &pair.left_terms, sb, &pair.right_terms), (sb, &pair.right_terms, sa, &pair.left_terms)]
        {
            let message = format!(
                "合同 {}（{}）与合同 {}（{}）的独家条款在 {spots} 重叠。Exclusivity of contract {} ({}) overlaps contract {} ({}) in {spots}.",
                own.contract.number, own.partner_name, other.contract.number, other.partner_name,
                own.contract.number, own.partner_name, other.contract.number, other.partner_name,
            );
            let partner_message = format!(
                "合同 {} 的独家条款与另一渠道成员的独家授权在 {spots} 重叠。Exclusivity of contract {} overlaps another partner's exclusivity in {spots}.",
                own.contract.number, own.contract.number,
            );
            risks.push(Risk {
                code: RiskCode::ExclusivityOverlap,
                severity: Severity::Critical,
                partner_id: own.contract.partner_id.clone(),
                partner_name: own.partner_name.clone(),
                contract_id: own.contract.id.clone(),
                contract_number: own.contract.number.clone(),
                message,
                evidence: pair_evidence(&pair.overlaps, own_terms, other, other_terms),
                key: key.clone(),
                partner_message,
            });
        }
    }
    risks
}

/// A territory that one partner holds exclusively (for a product line) listed in another
/// partner's territory term covering that product line (a territory term without product lines
/// covers them all).
pub(super) fn territory_conflicts(active: &[&Subject]) -> Vec<Risk> {
    let exclusive = exclusive_territories(active);
    let pairs = territory_pairs(active, &exclusive);
    let mut risks = Vec::new();
    for ((ie, it), pair) in pairs {
        risks.extend(territory_conflict(active[ie], active[it], &pair));
    }
    risks
}

/// territory (normalized) → the exclusivity grants there.
fn exclusive_territories<'a>(active: &[&'a Subject]) -> HashMap<String, Vec<Exclusive<'a>>> {
    let mut exclusive: HashMap<String, Vec<Exclusive>> = HashMap::new();
    for (i, s) in active.iter().enumerate() {
        for t in &s.terms {
            if let Params::Exclusivity(p) = &t.params {
                for territory in &p.territories {
                    exclusive.entry(norm(territory)).or_default().push(Exclusive {
                        subject: i,
                        term_id: &t.id,
                        territory,
                        lines: &p.product_lines,
                    });
                }
            }
        }
    }
    exclusive
}

/// (exclusive holder, territory holder) → where their grants meet.
fn territory_pairs(active: &[&Subject], exclusive: &HashMap<String, Vec<Exclusive>>) -> BTreeMap<(usize, usize), Pair> {
    let mut pairs: BTreeMap<(usize, usize), Pair> = BTreeMap::new();
    for (j, s) in active.iter().enumerate() {
        for t in &s.terms {
            let Params::Territory(p) = &t.params else { continue };
            let lines: BTreeSet<String> = p.product_lines.iter().map(|l| norm(l)).collect();
            for territory in &p.territories {
                for grant in exclusive.get(&norm(territory)).into_iter().flatten() {
                    if active[grant.subject].contract.partner_id == s.contract.partner_id {
                        continue;
                    }
                    for line in grant.lines {
                        if lines.is_empty() || lines.contains(&norm(line)) {
                            let pair = pairs.entry((grant.subject, j)).or_default();
                            pair.overlaps
                                .entry((norm(territory), norm(line)))
                                .or_insert_with(|| (grant.territory.to_string(), line.clone()));
                            pair.left_terms.insert(grant.term_id.to_string());
                            pair.right_terms.insert(t.id.clone());
                        }
                    }
                }
            }
        }
    }
    pairs
}

/// The two sides of one territory conflict: `se` holds the exclusivity, `st` the territory term.
fn territory_conflict(se: &Subject, st: &Subject, pair: &Pair) -> [Risk; 2] {
    let key = key(RiskCode::TerritoryConflict, &[&se.contract.id, &st.contract.id], &identity(&pair.overlaps));
    let spots = describe(&pair.overlaps);
    let side = |own: &Subject,
                own_terms: &BTreeSet<String>,
                other: &Subject,
                other_terms: &BTreeSet<String>,
                message: String,
                partner_message: String| Risk {
        code: RiskCode::TerritoryConflict,
        severity: Severity::High,
        partner_id: own.contract.partner_id.clone(),
        partner_name: own.partner_name.clone(),
        contract_id: own.contract.id.clone(),
        contract_number: own.contract.number.clone(),
        message,
        evidence: pair_evidence(&pair.overlaps, own_terms, other, other_terms),
        key: key.clone(),
        partner_message,
    };
    [
        side(
            se,
            &pair.left_terms,
            st,
            &pair.right_terms,
            format!(
                "合同 {}（{}）的独家区域 {spots} 出现在合同 {}（{}）的区域条款中。Exclusive territory of contract {} ({}) in {spots} is granted by the territory term of contract {} ({}).",
                se.contract.number, se.partner_name, st.contract.number, st.partner_name,
                se.contract.number, se.partner_name, st.contract.number, st.partner_name,
            ),
            format!(
                "合同 {} 的独家区域 {spots} 出现在另一渠道成员的区域条款中。Exclusive territory of contract {} in {spots} is granted to another partner too.",
                se.contract.number, se.contract.number,
            ),
        ),
        side(
            st,
            &pair.right_terms,
            se,
            &pair.left_terms,
            format!(
                "合同 {}（{}）的区域条款包含合同 {}（{}）的独家区域 {spots}。The territory term of contract {} ({}) covers {spots}, exclusive to contract {} ({}).",
                st.contract.number, st.partner_name, se.contract.number, se.partner_name,
                st.contract.number, st.partner_name, se.contract.number, se.partner_name,
            ),
            format!(
                "合同 {} 的区域条款包含另一渠道成员的独家区域 {spots}。The territory term of contract {} covers {spots}, exclusive to another partner.",
                st.contract.number, st.contract.number,
            ),
        ),
    ]
}

//! Contract terms (合同条款): the clause kinds, and the structured parameters each kind carries,
//! validated per kind with errors that name the JSON path (`params.tiers[1].threshold_minor`).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::error::{ApiError, FieldError};
use crate::validation::{Check, MAX_LONG_TEXT, MAX_SHORT_TEXT};

crate::record!(Term);

crate::text_enum! {
    /// rights 权利 · obligations 义务 · breach_liability 违约责任 · dispute_resolution 争议解决 ·
    /// pricing 价格 · discount 折扣 · rebate 返点 · exclusivity 独家 · territory 区域 · payment 付款 ·
    /// confidentiality 保密 · minimum_purchase 最低采购 · termination 终止 · other 其他
    TermKind {
        Rights => "rights", Obligations => "obligations", BreachLiability => "breach_liability",
        DisputeResolution => "dispute_resolution", Pricing => "pricing", Discount => "discount",
        Rebate => "rebate", Exclusivity => "exclusivity", Territory => "territory", Payment => "payment",
        Confidentiality => "confidentiality", MinimumPurchase => "minimum_purchase",
        Termination => "termination", Other => "other",
    }
}

crate::text_enum! {
    /// Who the clause binds: the company (我方), the partner (渠道成员) or both (双方).
    Party { Company => "company", Partner => "partner", Both => "both" }
}

crate::text_enum! {
    PurchasePeriod { Month => "month", Quarter => "quarter", Year => "year" }
}

crate::text_enum! {
    /// negotiation 协商 · mediation 调解 · arbitration 仲裁 · litigation 诉讼
    DisputeMethod {
        Negotiation => "negotiation", Mediation => "mediation", Arbitration => "arbitration",
        Litigation => "litigation",
    }
}

/// The four kinds every active contract should have (else `missing_required_terms`).
pub const REQUIRED_KINDS: [TermKind; 4] =
    [TermKind::Rights, TermKind::Obligations, TermKind::BreachLiability, TermKind::DisputeResolution];

/// Basis points: 0–10000 (0 %–100 %).
pub const MAX_BP: i64 = 10_000;
/// The largest amount in minor units we accept (10^15 fen = 10 trillion yuan).
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;
/// Days in payment and notice periods: 0–3650.
pub const MAX_DAYS: i64 = 3650;

/// `discount`: a flat rate off list price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountParams {
    /// Basis points, 0–10000 (1250 = 12.5 %).
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    pub rate_bp: i64,
}

/// One step of a rebate schedule: purchases of at least `threshold_minor` earn `rate_bp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebateTier {
    /// Minor units (fen), 0–10^15; strictly greater than the previous tier's.
    #[schema(minimum = 0, maximum = 1e15)]
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    pub threshold_minor: i64,
    /// Basis points, 0–10000.
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    pub rate_bp: i64,
}

/// `rebate`: a tiered schedule, thresholds strictly ascending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebateParams {
    #[schema(min_items = 1, max_items = 20)]
    pub tiers: Vec<RebateTier>,
}

/// `exclusivity`: the partner alone sells these product lines in these territories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusivityParams {
    #[schema(min_items = 1, max_items = 100)]
    pub territories: Vec<String>,
    #[schema(min_items = 1, max_items = 50)]
    pub product_lines: Vec<String>,
}

/// `territory`: where the partner may sell; `product_lines` narrows it (empty = every line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerritoryParams {
    #[schema(min_items = 1, max_items = 100)]
    pub territories: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub product_lines: Vec<String>,
}

/// `minimum_purchase`: the partner buys at least this much per period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinimumPurchaseParams {
    /// Minor units (fen), 1–10^15, in the contract's currency.
    #[schema(minimum = 1, maximum = 1e15)]
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    pub amount_minor: i64,
    pub period: PurchasePeriod,
}

/// `dispute_resolution`: how disputes are settled and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeResolutionParams {
    pub method: DisputeMethod,
    /// The court, arbitration commission or city, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub venue: String,
}

/// `payment`: days after invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentParams {
    #[schema(minimum = 0, maximum = 3650)]
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    pub days: i64,
}

/// `termination`: days of notice either side must give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminationParams {
    #[schema(minimum = 0, maximum = 3650)]
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    pub notice_days: i64,
}

/// The kinds without structured parameters take an empty object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// A term's parameters, typed by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    Discount(DiscountParams),
    Rebate(RebateParams),
    Exclusivity(ExclusivityParams),
    Territory(TerritoryParams),
    MinimumPurchase(MinimumPurchaseParams),
    DisputeResolution(DisputeResolutionParams),
    Payment(PaymentParams),
    Termination(TerminationParams),
    None,
}

impl Params {
    pub fn to_value(&self) -> Value {
        let v = match self {
            Params::Discount(p) => serde_json::to_value(p),
            Params::Rebate(p) => serde_json::to_value(p),
            Params::Exclusivity(p) => serde_json::to_value(p),
            Params::Territory(p) => serde_json::to_value(p),
            Params::MinimumPurchase(p) => serde_json::to_value(p),
            Params::DisputeResolution(p) => serde_json::to_value(p),
            Params::Payment(p) => serde_json::to_value(p),
            Params::Termination(p) => serde_json::to_value(p),
            Params::None => Ok(Value::Object(Default::default())),
        };
        // Plain structs of numbers, strings and lists always serialize.
        v.unwrap_or_else(|_| Value::Object(Default::default()))
    }

    /// Reads stored parameters of a term of `kind` (written by this service, so a failure is a 500).
    pub fn from_stored(kind: TermKind, value: &Value) -> Result<Params, ApiError> {
        parse(kind, value, "params")
            .map_err(|e| ApiError::internal(format!("stored {kind} term parameters are malformed: {}", e.detail)))
    }
}

/// Parses and checks `value` as the parameters of a `kind` term. Every error names its JSON path,
/// starting with `prefix` (e.g. `params` or `changes[0].term.params`).
pub fn parse(kind: TermKind, value: &Value, prefix: &str) -> Result<Params, ApiError> {
    let params = match kind {
        TermKind::Discount => Params::Discount(parse_at(value, prefix)?),
        TermKind::Rebate => Params::Rebate(parse_at(value, prefix)?),
        TermKind::Exclusivity => Params::Exclusivity(parse_at(value, prefix)?),
        TermKind::Territory => Params::Territory(parse_at(value, prefix)?),
        TermKind::MinimumPurchase => Params::MinimumPurchase(parse_at(value, prefix)?),
        TermKind::DisputeResolution => Params::DisputeResolution(parse_at(value, prefix)?),
        TermKind::Payment => Params::Payment(parse_at(value, prefix)?),
        TermKind::Termination => Params::Termination(parse_at(value, prefix)?),
        TermKind::Rights
        | TermKind::Obligations
        | TermKind::BreachLiability
        | TermKind::Pricing
        | TermKind::Confidentiality
        | TermKind::Other => {
            let _: NoParams = parse_at(value, prefix).map_err(|mut e| {
                for f in &mut e.errors {
                    f.message = format!("{} ({kind} terms take no parameters: send {{}})", f.message);
                }
                e
            })?;
            Params::None
        }
    };
    let mut c = Check::new();
    check(&mut c, &params, prefix);
    c.finish()?;
    Ok(params)
}

/// Deserializes a part of a request body, naming failing fields by their full JSON path (the
/// part sits at `prefix`, e.g. `changes[2].term`).
pub fn parse_at<T: serde::de::DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, ApiError> {
    // serde would also read a struct from an array of its field values; the API takes objects.
    if !value.is_object() {
        return Err(ApiError::field(prefix, "must be a JSON object"));
    }
    let bytes = serde_json::to_vec(value).map_err(ApiError::internal)?;
    crate::http::extract::parse_json(&bytes).map_err(|mut err| {
        for f in &mut err.errors {
            f.field = if f.field == "body" { prefix.to_string() } else { format!("{prefix}.{}", f.field) };
        }
        if let [one] = err.errors.as_slice() {
            err.detail = format!("{}: {}", one.field, one.message);
        }
        err
    })
}

fn range(c: &mut Check, field: String, value: i64, min: i64, max: i64) {
    if !(min..=max).contains(&value) {
        c.add(field, format!("must be between {min} and {max} (got {value})"));
    }
}

/// Range and ordering rules serde cannot state.
fn check(c: &mut Check, params: &Params, prefix: &str) {
    match params {
        Params::Discount(p) => range(c, format!("{prefix}.rate_bp"), p.rate_bp, 0, MAX_BP),
        Params::Rebate(p) => {
            if p.tiers.is_empty() || p.tiers.len() > 20 {
                c.add(format!("{prefix}.tiers"), format!("must have 1 to 20 tiers (got {})", p.tiers.len()));
            }
            for (i, tier) in p.tiers.iter().enumerate() {
                let at = format!("{prefix}.tiers[{i}]");
                range(c, format!("{at}.threshold_minor"), tier.threshold_minor, 0, MAX_MINOR);
                range(c, format!("{at}.rate_bp"), tier.rate_bp, 0, MAX_BP);
                if i > 0 && tier.threshold_minor <= p.tiers[i - 1].threshold_minor {
                    c.add(
                        format!("{at}.threshold_minor"),
                        format!(
                            "thresholds must be strictly ascending: {} is not above tier {}'s {}",
                            tier.threshold_minor,
                            i - 1,
                            p.tiers[i - 1].threshold_minor
                        ),
                    );
                }
            }
        }
        Params::Exclusivity(p) => {
            c.labels(&format!("{prefix}.territories"), &p.territories, 1, 100);
            c.labels(&format!("{prefix}.product_lines"), &p.product_lines, 1, 50);
        }
        Params::Territory(p) => {
            c.labels(&format!("{prefix}.territories"), &p.territories, 1, 100);
            c.labels(&format!("{prefix}.product_lines"), &p.product_lines, 0, 50);
        }
        Params::MinimumPurchase(p) => range(c, format!("{prefix}.amount_minor"), p.amount_minor, 1, MAX_MINOR),
        Params::DisputeResolution(p) => c.text(&format!("{prefix}.venue"), &p.venue, 1, MAX_SHORT_TEXT),
        Params::Payment(p) => range(c, format!("{prefix}.days"), p.days, 0, MAX_DAYS),
        Params::Termination(p) => range(c, format!("{prefix}.notice_days"), p.notice_days, 0, MAX_DAYS),
        Params::None => {}
    }
}

/// The OpenAPI schema of `params`: one of the per-kind shapes (which one is decided by `kind`).
pub struct TermParams;

impl PartialSchema for TermParams {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(DiscountParams::name()))
            .item(Ref::from_schema_name(RebateParams::name()))
            .item(Ref::from_schema_name(ExclusivityParams::name()))
            .item(Ref::from_schema_name(TerritoryParams::name()))
            .item(Ref::from_schema_name(MinimumPurchaseParams::name()))
            .item(Ref::from_schema_name(DisputeResolutionParams::name()))
            .item(Ref::from_schema_name(PaymentParams::name()))
            .item(Ref::from_schema_name(TerminationParams::name()))
            .item(Ref::from_schema_name(NoParams::name()))
            .description(Some(
                "Structured parameters, by kind: discount `{rate_bp}`; rebate `{tiers: [{threshold_minor, rate_bp}]}` \
                 (thresholds strictly ascending); exclusivity `{territories, product_lines}`; territory \
                 `{territories, product_lines?}`; minimum_purchase `{amount_minor, period}`; dispute_resolution \
                 `{method, venue}`; payment `{days}`; termination `{notice_days}`; every other kind `{}`. Unknown \
                 keys are rejected.",
            ))
            .into()
    }
}

impl ToSchema for TermParams {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TermParams")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((T::name().into_owned(), T::schema()));
            T::schemas(schemas);
        }
        add::<DiscountParams>(schemas);
        add::<RebateTier>(schemas);
        add::<RebateParams>(schemas);
        add::<ExclusivityParams>(schemas);
        add::<TerritoryParams>(schemas);
        add::<MinimumPurchaseParams>(schemas);
        add::<DisputeResolutionParams>(schemas);
        add::<PaymentParams>(schemas);
        add::<TerminationParams>(schemas);
        add::<NoParams>(schemas);
    }
}

/// A clause of a contract.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Term {
    pub id: String,
    pub contract_id: String,
    pub kind: TermKind,
    pub title: String,
    pub text: String,
    pub obligated_party: Party,
    #[schema(value_type = TermParams)]
    pub params: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermCreate {
    pub kind: TermKind,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// The clause as written, 1–10000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub text: String,
    /// Defaults to `both`.
    pub obligated_party: Option<Party>,
    /// Required for discount, rebate, exclusivity, territory, minimum_purchase, dispute_resolution,
    /// payment and termination; `{}` (or absent) for the other kinds.
    #[schema(value_type = Option<TermParams>)]
    pub params: Option<Value>,
}

/// A JSON merge patch of a term. Changing `kind` re-checks `params` (send new ones with it).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermUpdate {
    pub kind: Option<TermKind>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub text: Option<String>,
    pub obligated_party: Option<Party>,
    #[schema(value_type = Option<TermParams>)]
    pub params: Option<Value>,
}

/// What a valid create or update writes: everything but the bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct TermContent {
    pub kind: TermKind,
    pub title: String,
    pub text: String,
    pub obligated_party: Party,
    pub params: Value,
}

impl TermContent {
    pub fn of(term: &Term) -> Self {
        TermContent {
            kind: term.kind,
            title: term.title.clone(),
            text: term.text.clone(),
            obligated_party: term.obligated_party,
            params: term.params.clone(),
        }
    }
}

fn check_texts(c: &mut Check, prefix: &str, title: Option<&str>, text: Option<&str>) {
    if let Some(t) = title {
        c.text(&format!("{prefix}title"), t, 1, MAX_SHORT_TEXT);
    }
    if let Some(t) = text {
        c.text(&format!("{prefix}text"), t, 1, MAX_LONG_TEXT);
    }
}

/// Collects the field errors of `result` into `c` (so several problems are reported together).
pub fn collect<T>(c: &mut Check, result: Result<T, ApiError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            for FieldError { field, message, .. } in e.errors {
                c.add(field, message);
            }
            None
        }
    }
}

impl TermCreate {
    /// Validates the term; `prefix` is where it sits in the body (`""` or `changes[2].term.`).
    pub fn content(&self, c: &mut Check, prefix: &str) -> Option<TermContent> {
        check_texts(c, prefix, Some(&self.title), Some(&self.text));
        let empty = Value::Object(Default::default());
        let params = collect(c, parse(self.kind, self.params.as_ref().unwrap_or(&empty), &format!("{prefix}params")))?;
        Some(TermContent {
            kind: self.kind,
            title: self.title.clone(),
            text: self.text.clone(),
            obligated_party: self.obligated_party.unwrap_or(Party::Both),
            params: params.to_value(),
        })
    }
}

impl TermUpdate {
    /// The term after the patch, validated; `prefix` as for [`TermCreate::content`].
    pub fn apply(&self, current: &Term, c: &mut Check, prefix: &str) -> Option<TermContent> {
        check_texts(c, prefix, self.title.as_deref(), self.text.as_deref());
        let kind = self.kind.unwrap_or(current.kind);
        let params_field = format!("{prefix}params");
        let params = match &self.params {
            Some(p) => collect(c, parse(kind, p, &params_field))?.to_value(),
            None if kind != current.kind => {
                // The stored parameters must fit the new kind; name `params` so the client sends them.
                let parsed = parse(kind, &current.params, &params_field).map_err(|_| {
                    ApiError::field(
                        params_field.clone(),
                        format!("the term's parameters do not fit kind {kind}: send params with the new kind"),
                    )
                });
                collect(c, parsed)?.to_value()
            }
            None => current.params.clone(),
        };
        Some(TermContent {
            kind,
            title: self.title.clone().unwrap_or_else(|| current.title.clone()),
            text: self.text.clone().unwrap_or_else(|| current.text.clone()),
            obligated_party: self.obligated_party.unwrap_or(current.obligated_party),
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(kind: TermKind, params: Value) -> Vec<String> {
        match parse(kind, &params, "params") {
            Ok(_) => vec![],
            Err(e) => {
                assert_eq!(e.status.as_u16(), 422, "{e}");
                e.errors.into_iter().map(|f| f.field).collect()
            }
        }
    }

    #[test]
    fn enum_schemas_list_the_wire_values() {
        fn values<T: utoipa::PartialSchema>() -> Value {
            serde_json::to_value(T::schema()).unwrap()["enum"].clone()
        }
        let wire = |all: Vec<&str>| json!(all);
        assert_eq!(values::<TermKind>(), wire(TermKind::ALL.iter().map(|k| k.as_str()).collect()));
        assert_eq!(values::<Party>(), wire(Party::ALL.iter().map(|k| k.as_str()).collect()));
        assert_eq!(values::<DisputeMethod>(), wire(DisputeMethod::ALL.iter().map(|k| k.as_str()).collect()));
        assert_eq!(values::<PurchasePeriod>(), wire(PurchasePeriod::ALL.iter().map(|k| k.as_str()).collect()));
    }

    #[test]
    fn valid_params_of_every_kind() {
        let ok = [
            (TermKind::Discount, json!({"rate_bp": 1250})),
            (
                TermKind::Rebate,
                json!({"tiers": [{"threshold_minor": 0, "rate_bp": 100}, {"threshold_minor": 100000, "rate_bp": 300}]}),
            ),
            (TermKind::Exclusivity, json!({"territories": ["上海"], "product_lines": ["服务器"]})),
            (TermKind::Territory, json!({"territories": ["上海", "苏州"]})),
            (TermKind::MinimumPurchase, json!({"amount_minor": 5_000_000, "period": "quarter"})),
            (TermKind::DisputeResolution, json!({"method": "arbitration", "venue": "上海国际仲裁中心"})),
            (TermKind::Payment, json!({"days": 60})),
            (TermKind::Termination, json!({"notice_days": 90})),
            (TermKind::Rights, json!({})),
            (TermKind::Other, json!({})),
        ];
        for (kind, params) in ok {
            assert_eq!(fields(kind, params.clone()), Vec::<String>::new(), "{kind} {params}");
        }
    }

    #[test]
    fn territory_params_default_to_every_product_line() {
        let p = parse(TermKind::Territory, &json!({"territories": ["上海"]}), "params").unwrap();
        assert_eq!(p.to_value(), json!({"territories": ["上海"], "product_lines": []}));
    }

    #[test]
    fn errors_name_the_json_path() {
        let tiers =
            json!({"tiers": [{"threshold_minor": 500, "rate_bp": 100}, {"threshold_minor": 500, "rate_bp": 200}]});
        assert_eq!(fields(TermKind::Rebate, tiers), ["params.tiers[1].threshold_minor"]);
        let descending =
            json!({"tiers": [{"threshold_minor": 500, "rate_bp": 100}, {"threshold_minor": 10, "rate_bp": 200}]});
        assert_eq!(fields(TermKind::Rebate, descending), ["params.tiers[1].threshold_minor"]);
        let wrong_type =
            json!({"tiers": [{"threshold_minor": 1, "rate_bp": 1}, {"threshold_minor": "x", "rate_bp": 1}]});
        assert_eq!(fields(TermKind::Rebate, wrong_type), ["params.tiers[1].threshold_minor"]);
        assert_eq!(
            fields(TermKind::Rebate, json!({"tiers": [{"threshold_minor": 1, "rate_bp": 10001}]})),
            ["params.tiers[0].rate_bp"]
        );
        assert_eq!(fields(TermKind::Rebate, json!({"tiers": []})), ["params.tiers"]);
        assert_eq!(fields(TermKind::Discount, json!({"rate_bp": 10001})), ["params.rate_bp"]);
        assert_eq!(fields(TermKind::Discount, json!({"rate_bp": -1})), ["params.rate_bp"]);
        assert_eq!(fields(TermKind::Discount, json!({"rate_bp": 12.5})), ["params.rate_bp"]);
        assert_eq!(fields(TermKind::Discount, json!({})), ["params.rate_bp"]);
        assert_eq!(fields(TermKind::Discount, json!({"rate_bp": 1, "cap": 2})), ["params.cap"]);
        assert_eq!(fields(TermKind::Discount, json!([1])), ["params"]);
        assert_eq!(
            fields(TermKind::Exclusivity, json!({"territories": [], "product_lines": ["a"]})),
            ["params.territories"]
        );
        assert_eq!(
            fields(TermKind::Exclusivity, json!({"territories": ["上海", "上海"], "product_lines": ["a"]})),
            ["params.territories[1]"]
        );
        assert_eq!(fields(TermKind::Exclusivity, json!({"territories": ["上海"]})), ["params.product_lines"]);
        assert_eq!(fields(TermKind::Territory, json!({"territories": [" "]})), ["params.territories[0]"]);
        assert_eq!(
            fields(TermKind::MinimumPurchase, json!({"amount_minor": 0, "period": "month"})),
            ["params.amount_minor"]
        );
        assert_eq!(fields(TermKind::MinimumPurchase, json!({"amount_minor": 10, "period": "week"})), ["params.period"]);
        assert_eq!(fields(TermKind::DisputeResolution, json!({"method": "duel", "venue": "x"})), ["params.method"]);
        assert_eq!(
            fields(TermKind::DisputeResolution, json!({"method": "mediation", "venue": "a\u{0}"})),
            ["params.venue"]
        );
        assert_eq!(fields(TermKind::Payment, json!({"days": 3651})), ["params.days"]);
        assert_eq!(fields(TermKind::Termination, json!({"notice_days": -5})), ["params.notice_days"]);
        assert_eq!(fields(TermKind::Rights, json!({"rate_bp": 5})), ["params.rate_bp"]);
    }

    #[test]
    fn prefixes_nest_inside_amendments() {
        let err = parse(TermKind::Payment, &json!({"days": "soon"}), "changes[3].term.params").unwrap_err();
        assert_eq!(err.errors[0].field, "changes[3].term.params.days");
        assert!(err.detail.starts_with("changes[3].term.params.days:"), "{}", err.detail);
    }

    fn term(kind: TermKind, params: Value) -> Term {
        Term {
            id: "t".into(),
            contract_id: "c".into(),
            kind,
            title: "t".into(),
            text: "x".into(),
            obligated_party: Party::Both,
            params,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn changing_kind_rechecks_the_stored_params() {
        let current = term(TermKind::Payment, json!({"days": 30}));
        let mut c = Check::new();
        let patch = TermUpdate { kind: Some(TermKind::Discount), ..Default::default() };
        assert!(patch.apply(&current, &mut c, "").is_none());
        assert_eq!(c.finish().unwrap_err().errors[0].field, "params");
        let mut c = Check::new();
        let patch =
            TermUpdate { kind: Some(TermKind::Discount), params: Some(json!({"rate_bp": 300})), ..Default::default() };
        let next = patch.apply(&current, &mut c, "").unwrap();
        assert!(c.is_ok());
        assert_eq!(next.params, json!({"rate_bp": 300}));
        let mut c = Check::new();
        let patch = TermUpdate { title: Some("新标题".into()), ..Default::default() };
        let next = patch.apply(&current, &mut c, "").unwrap();
        assert_eq!((next.title.as_str(), next.params), ("新标题", json!({"days": 30})));
    }

    #[test]
    fn create_defaults_party_and_empty_params() {
        let input = TermCreate {
            kind: TermKind::Confidentiality,
            title: "保密".into(),
            text: "双方对合作信息保密".into(),
            obligated_party: None,
            params: None,
        };
        let mut c = Check::new();
        let content = input.content(&mut c, "").unwrap();
        assert_eq!(content.obligated_party, Party::Both);
        assert_eq!(content.params, json!({}));
        let missing = TermCreate { kind: TermKind::Payment, ..input };
        let mut c = Check::new();
        assert!(missing.content(&mut c, "changes[0].term.").is_none());
        assert_eq!(c.finish().unwrap_err().errors[0].field, "changes[0].term.params.days");
    }
}

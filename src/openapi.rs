//! The OpenAPI 3.1 document: collected from the handlers' own annotations (`app::spec`), then
//! completed here with what every operation shares (bearer security, problem+json error responses).

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::Required;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::Modify;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "channeldesk",
        description = "Channel management for key-account (大客户) marketing: partners, key accounts, meetings, bulletins, contracts and risk warnings, with WeCom and DingTalk bots.",
        license(name = "Apache-2.0"),
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&Shared),
    tags(
        (name = "partners", description = "Partners (渠道成员) and their contacts"),
        (name = "key-accounts", description = "Key accounts (大客户) and the partners assigned to them"),
        (name = "meetings", description = "Regular partner meetings (定期会议): minutes, action items, recurring series, calendar feeds"),
        (name = "channel-advice", description = "Which channel type fits a product and market (渠道类型与选择依据)"),
        (name = "bulletins", description = "Information shared with partners (信息共享), its recipients and read receipts"),
        (name = "api-keys", description = "API keys and roles (admin only)"),
        (name = "contracts", description = "Contracts (合同) whose terms are data, amendments, renewals and risk warnings (风险预警)"),
        (name = "performance", description = "Partners' monthly performance (渠道效果): revenue, units, customers, satisfaction, market share"),
        (name = "costs", description = "Partners' monthly costs by category (渠道成本)"),
        (name = "competitors", description = "Competitors and their observed channels (渠道竞争分析): internal intelligence — every staff role reads it, partner keys get 403"),
        (name = "targets", description = "Joint targets (共同目标) for a month, quarter or year, with actuals and attainment"),
        (name = "scorecards", description = "Scorecards (渠道效果/成本评估): effect weighed against cost per partner or group, month by month, as JSON, CSV or a chart"),
        (name = "incentives", description = "Incentive programs (激励政策: 返点 rebates, 折扣 discounts, 市场推广支持 marketing support), their statements computed from performance, and the discount that applies to a partner"),
        (name = "conflicts", description = "Channel conflicts (渠道冲突): cases opened by hand or detected from deals, contracts and assignments, resolved with the seed's remedies (调整利益分配, 明确角色定位, 加强沟通)"),
        (name = "deals", description = "Deal registrations (商机报备): who registered a customer first, for which product lines, and how clashes between channels become conflict cases"),
        (name = "recruitment", description = "Recruitment campaigns (新渠道拓展) and their funnels"),
        (name = "audit", description = "Who changed what"),
        (name = "bot-channels", description = "WeCom (企业微信) and DingTalk (钉钉) group robots and what they are sent (admin only)"),
        (name = "webhooks", description = "Signed webhooks that receive events (admin only)"),
        (name = "deliveries", description = "Messages to robots and webhooks: attempts, errors, retries (admin only)"),
        (name = "integrations", description = "Chat commands from WeCom and DingTalk: authenticated by the platform's signature, not an API key"),
        (name = "ops", description = "Health, readiness and metrics"),
    ),
)]
pub struct ApiDoc;

struct Shared;

impl Modify for Shared {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer cdk_…`"))
                    .build(),
            ),
        );
    }
}

/// Completes the document collected from the handlers (`app::spec`) with what every operation
/// shares.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    add_shared_responses(&mut doc);
    state_text_rules(doc)
}

/// Problem responses every operation can give, and the bearer requirement on `/api/v1`.
fn add_shared_responses(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        // The bot callbacks authenticate by the platform's signature and declare their own answers.
        let authenticated = path.starts_with("/api/v1/") && !path.starts_with("/api/v1/integrations/");
        for op in [&mut item.get, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
            complete_operation(op, authenticated, false);
        }
        if let Some(op) = &mut item.post {
            complete_operation(op, authenticated, true);
        }
    }
}

fn complete_operation(op: &mut Operation, authenticated: bool, is_post: bool) {
    let has_body = op.request_body.is_some();
    let mut shared: Vec<(&str, &str)> =
        vec![("500", "Internal error (the body carries `request_id`)"), ("503", "Database unavailable (`service_unavailable`), or a setting the operation needs is missing (`secret_key_missing`)")];
    if authenticated {
        op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
        shared.extend([
            ("400", "Malformed request (`malformed_json`, `malformed_body`)"),
            ("401", "Missing, unknown or revoked API key (`unauthorized`)"),
            ("403", "The key's role may not do this (`forbidden`)"),
            ("404", "Not found, or not visible to this key"),
            ("422", "Invalid input (`validation_failed`, with `errors[]` naming each field)"),
        ]);
        if has_body {
            shared.extend([
                ("413", "Body over the size limit (`payload_too_large`)"),
                ("415", "Body is not JSON (`unsupported_media_type`)"),
            ]);
        }
        if is_post {
            // Every POST honours Idempotency-Key; a retry racing the first request is a 409.
            shared.push(("409", "Conflict (`idempotency_key_in_progress`, or the operation's own conflicts)"));
            let parameter = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("Repeat a POST safely: the same key and body within 24 h replay the first response; the same key with another body is 422 `idempotency_key_reused`."))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[!-~]+$")),
                ))
                .build();
            op.parameters.get_or_insert_with(Vec::new).push(parameter);
        }
    }
    for (status, description) in shared {
        if op.responses.responses.contains_key(status) {
            continue;
        }
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build();
        op.responses.responses.insert(status.to_string(), response.into());
    }
}

/// What `validation::Check` enforces on every free text input, stated in the schema so clients
/// (and schemathesis) can know it: no NUL character and not blank. Labels in lists are 1–100
/// characters and unique. Applied to the schemas a request body reaches and to query parameters
/// only; responses carry whatever was stored. (Choosing schemas by name suffix once constrained
/// the `MdfRequest` response and missed `MdfClaim`.)
fn state_text_rules(doc: OpenApi) -> OpenApi {
    let Ok(mut value) = serde_json::to_value(&doc) else { return doc };
    let inputs = request_schemas(&value);
    if let Some(schemas) = value.pointer_mut("/components/schemas").and_then(|v| v.as_object_mut()) {
        for (name, schema) in schemas.iter_mut() {
            if inputs.contains(name) {
                constrain(schema);
            }
        }
    }
    if let Some(paths) = value.pointer_mut("/paths").and_then(|v| v.as_object_mut()) {
        for item in paths.values_mut() {
            for op in item.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
                for param in op.get_mut("parameters").and_then(|p| p.as_array_mut()).into_iter().flatten() {
                    if param["in"] == "query" {
                        if let Some(schema) = param.get_mut("schema") {
                            constrain(schema);
                        }
                    }
                }
            }
        }
    }
    serde_json::from_value(value).unwrap_or(doc)
}

/// The component schemas one of our request bodies refers to, directly or through other components.
fn request_schemas(doc: &serde_json::Value) -> std::collections::BTreeSet<String> {
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(name) =
                    map.get("$ref").and_then(|r| r.as_str()).and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    out.push(name.to_string());
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    // A platform callback's body is the platform's wire format, which `Check` does not judge.
    let ours =
        doc["paths"].as_object().into_iter().flatten().filter(|(path, _)| !path.starts_with("/api/v1/integrations/"));
    for (_, item) in ours {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            if let Some(body) = op.get("requestBody") {
                refs(body, &mut pending);
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            refs(&doc["components"]["schemas"][name.as_str()], &mut pending);
        }
    }
    seen
}

fn is_plain_string(schema: &serde_json::Value) -> bool {
    let ty = &schema["type"];
    let stringish = ty == "string" || ty.as_array().is_some_and(|t| t.iter().any(|x| x == "string"));
    stringish && schema.get("format").is_none() && schema.get("enum").is_none() && schema.get("pattern").is_none()
}

fn constrain(schema: &mut serde_json::Value) {
    if is_plain_string(schema) {
        schema["pattern"] = crate::validation::text_pattern().into();
        return;
    }
    if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for prop in props.values_mut() {
            constrain(prop);
        }
    }
    let is_array =
        schema["type"] == "array" || schema["type"].as_array().is_some_and(|t| t.iter().any(|x| x == "array"));
    if is_array {
        if let Some(items) = schema.get_mut("items") {
            if is_plain_string(items) {
                items["pattern"] = crate::validation::text_pattern().into();
                items["minLength"] = 1.into();
                items["maxLength"] = 100.into();
                schema["uniqueItems"] = true.into();
            }
        }
    }
}

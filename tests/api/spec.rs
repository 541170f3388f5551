//! The committed OpenAPI document and the migrations stay in step with the code.

use channeldesk::db::{self, Backend as DbBackend};

use crate::both;

/// `openapi/openapi.json` must be what the code generates. Regenerate with
/// `cargo run -- openapi > openapi/openapi.json`.
#[test]
fn committed_openapi_matches_the_code() {
    let generated = channeldesk::app::spec_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_declares_security_and_problem_responses() {
    let spec: serde_json::Value = serde_json::from_str(&channeldesk::app::spec_json()).expect("spec is JSON");
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            if !["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                continue;
            }
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("500"), "{method} {path} lacks 500");
            if path.starts_with("/api/v1/integrations/") {
                // Bot callbacks authenticate by the platform's signature: no bearer key.
                assert_eq!(op["security"], serde_json::json!([{}]), "{method} {path} must not ask for a bearer key");
                for status in ["401", "404"] {
                    assert!(
                        responses[status]["content"]["application/problem+json"].is_object(),
                        "{method} {path} lacks {status}"
                    );
                }
            } else if path.starts_with("/api/v1/") {
                assert!(op["security"][0]["bearer"].is_array(), "{method} {path} lacks bearer security");
                for status in ["401", "403", "404", "422"] {
                    let r = &responses[status];
                    assert!(r["content"]["application/problem+json"].is_object(), "{method} {path} lacks {status}");
                }
            }
        }
    }
}

#[test]
fn operation_ids_are_unique() {
    let spec: serde_json::Value = serde_json::from_str(&channeldesk::app::spec_json()).expect("spec is JSON");
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                if let Some(first) = seen.insert(id.to_string(), format!("{method} {path}")) {
                    panic!("operationId {id} is used by {first} and {method} {path}");
                }
            }
        }
    }
    assert!(seen.len() > 50);
}

/// Every code an error response of the spec names (in backticks) is in the registry
/// (`error::Code`): a code that the document promises but the service cannot produce, or a
/// misspelt one, fails here.
#[test]
fn every_documented_error_code_is_in_the_registry() {
    use channeldesk::error::Code;
    let spec: serde_json::Value = serde_json::from_str(&channeldesk::app::spec_json()).expect("spec is JSON");
    // Backticked field names (`expires_at`, `errors`) are not codes.
    let mut fields = std::collections::BTreeSet::new();
    fn collect_fields(v: &serde_json::Value, into: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(props) = map.get("properties").and_then(|p| p.as_object()) {
                    into.extend(props.keys().cloned());
                }
                if let Some(name) = map.get("name").and_then(|n| n.as_str()) {
                    into.insert(name.to_string());
                }
                map.values().for_each(|v| collect_fields(v, into));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_fields(v, into)),
            _ => {}
        }
    }
    collect_fields(&spec, &mut fields);
    let known: std::collections::BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let mut documented = std::collections::BTreeSet::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("item").values() {
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                if !status.starts_with('4') && !status.starts_with('5') {
                    continue;
                }
                let text = response["description"].as_str().unwrap_or_default();
                for (i, part) in text.split('`').enumerate() {
                    let codeish = !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                    if i % 2 == 1 && codeish && !fields.contains(part) {
                        documented.insert(part.to_string());
                    }
                }
            }
        }
    }
    let unknown: Vec<&String> = documented.iter().filter(|c| !known.contains(c.as_str())).collect();
    assert!(unknown.is_empty(), "the spec documents codes the registry lacks: {unknown:?}");
    assert!(documented.len() >= 20, "only {} codes documented", documented.len());
}

#[test]
fn migration_names_match_across_backends() {
    let sqlite = db::migration_names(DbBackend::Sqlite);
    let postgres = db::migration_names(DbBackend::Postgres);
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

both!(migrations_revert_and_reapply, |app: crate::helpers::TestApp| async move {
    app.with_conn(|conn| {
        db::revert_all_migrations(conn).expect("every down.sql runs");
        assert!(!db::is_migrated(conn).unwrap());
        db::run_migrations(conn).expect("and up again");
        assert!(db::is_migrated(conn).unwrap());
    });
});

//! API key wire types and the secret format: a visible prefix for lookup, a SHA-256 hash at rest.

use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::validation::Check;

use crate::access::Role;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreate {
    /// Who or what uses the key, e.g. "crm-frontend" (1–100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub role: Role,
    /// Required for (and only for) role `partner`.
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
}

impl ApiKeyCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("name", &self.name, 1, 100);
        match (self.role, &self.partner_id) {
            (Role::Partner, None) => c.add("partner_id", "is required for role partner"),
            (Role::Partner, Some(id)) if uuid::Uuid::parse_str(id).is_err() => {
                c.add("partner_id", "must be a partner id")
            }
            (Role::Partner, Some(_)) => {}
            (_, Some(_)) => c.add("partner_id", "is only allowed for role partner"),
            (_, None) => {}
        }
        c.finish()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::api_keys, treat_none_as_default_value = false)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub partner_id: Option<String>,
    /// The key's public prefix, to tell keys apart; the secret is never shown again.
    pub prefix: String,
    #[diesel(serialize_as = crate::db::types::UtcTime)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[diesel(serialize_as = crate::db::types::UtcTime)]
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The bearer token. Shown only in this response: store it now.
    pub secret: String,
}

/// A freshly generated key: `cdk_<prefix>_<secret>`. The prefix finds the row; only the SHA-256
/// of the secret is stored (the secret has 256 bits of entropy, so a slow hash adds nothing).
pub struct GeneratedKey {
    pub prefix: String,
    pub token: String,
    pub secret_hash: String,
}

pub fn generate() -> GeneratedKey {
    let mut rng = rand::thread_rng();
    let mut prefix = [0u8; 6];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut prefix);
    rng.fill_bytes(&mut secret);
    let prefix = hex::encode(prefix);
    let secret = hex::encode(secret);
    GeneratedKey { token: format!("cdk_{prefix}_{secret}"), secret_hash: hash_secret(&secret), prefix }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Splits a presented token into (prefix, secret); `None` when it is not one of ours.
pub fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("cdk_")?;
    let (prefix, secret) = rest.split_once('_')?;
    let hexish = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexish(prefix, 12) && hexish(secret, 64)).then_some((prefix, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_split_back_and_hash_matches() {
        let k = generate();
        let (prefix, secret) = split_token(&k.token).expect("own token parses");
        assert_eq!(prefix, k.prefix);
        assert_eq!(hash_secret(secret), k.secret_hash);
        assert!(split_token("cdk_short_abc").is_none());
        assert!(split_token("Bearer something").is_none());
    }

    #[test]
    fn partner_id_only_with_partner_role() {
        let k = |role, partner_id: Option<&str>| ApiKeyCreate {
            name: "x".into(),
            role,
            partner_id: partner_id.map(str::to_string),
        };
        assert!(k(Role::Partner, None).validate().is_err());
        assert!(k(Role::Viewer, Some("0192f0c4-3b9e-7c1a-8f00-000000000000")).validate().is_err());
        assert!(k(Role::Partner, Some("0192f0c4-3b9e-7c1a-8f00-000000000000")).validate().is_ok());
        assert!(k(Role::Admin, None).validate().is_ok());
    }
}

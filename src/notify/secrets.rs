//! Which stored values are secrets, where their key comes from, and the operations over all of
//! them: the start-up upgrade that encrypts plaintext rows, and key rotation. The cipher itself is
//! `crate::secrets`.
//!
//! Secrets: a bot channel's `webhook_url` (it carries the robot's key / access_token) and
//! `secret` (DingTalk 加签), and a webhook's `secret`. The key, at start-up
//! ([`settle_key`]): `CHANNELDESK_SECRET_KEY`; else the key file (`CHANNELDESK_SECRET_KEY_FILE`,
//! on SQLite by default `<database name>.secret-key` beside the database), generated there on
//! SQLite when it does not exist yet and nothing was sealed. A key that does not open what is
//! stored, and Postgres without a key once there are secrets to keep, stop the start with a
//! message that says what to set. Postgres never generates a key: replicas would each make their
//! own.

use std::io::Write;
use std::path::{Path, PathBuf};

use diesel::prelude::*;

use crate::config::NotifyConfig;
use crate::db::schema::{bot_channels as bc, webhooks as wh};
use crate::db::{Db, DbConn, DbUrl};
use crate::error::ApiError;
use crate::secrets::{is_sealed, Sealer, SecretKey};

/// A column that holds a secret; a value is sealed for its column and row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretColumn {
    ChannelUrl,
    ChannelSecret,
    WebhookSecret,
}

impl SecretColumn {
    /// The associated data a value of this column in row `id` is sealed with.
    pub fn context(self, id: &str) -> String {
        let column = match self {
            SecretColumn::ChannelUrl => "bot_channels.webhook_url",
            SecretColumn::ChannelSecret => "bot_channels.secret",
            SecretColumn::WebhookSecret => "webhooks.secret",
        };
        format!("{column}:{id}")
    }

    pub fn seal(self, sealer: &Sealer, id: &str, plaintext: &str) -> String {
        sealer.seal(plaintext, &self.context(id))
    }

    /// The plaintext of this column's stored value in row `id`; a clear error otherwise.
    pub fn open(self, sealer: &Sealer, id: &str, stored: &str) -> Result<String, ApiError> {
        sealer.open(stored, &self.context(id)).map_err(|e| {
            ApiError::internal(format!(
                "{}: {e}; check CHANNELDESK_SECRET_KEY, or run `channeldesk secret-key rotate`",
                self.context(id)
            ))
        })
    }
}

/// One stored secret: its column, row and stored text.
struct Stored {
    column: SecretColumn,
    id: String,
    value: String,
}

/// Every stored secret (the tables are a few rows per robot and webhook).
fn all_secrets(conn: &mut DbConn) -> Result<Vec<Stored>, ApiError> {
    let channels: Vec<(String, String, Option<String>)> =
        bc::table.select((bc::id, bc::webhook_url, bc::secret)).order(bc::id.asc()).load(conn)?;
    let hooks: Vec<(String, String)> = wh::table.select((wh::id, wh::secret)).order(wh::id.asc()).load(conn)?;
    let mut all = Vec::new();
    for (id, url, secret) in channels {
        all.push(Stored { column: SecretColumn::ChannelUrl, id: id.clone(), value: url });
        if let Some(secret) = secret {
            all.push(Stored { column: SecretColumn::ChannelSecret, id, value: secret });
        }
    }
    all.extend(hooks.into_iter().map(|(id, value)| Stored { column: SecretColumn::WebhookSecret, id, value }));
    Ok(all)
}

fn write(conn: &mut DbConn, s: &Stored, value: &str) -> Result<(), ApiError> {
    match s.column {
        SecretColumn::ChannelUrl => {
            diesel::update(bc::table.find(&s.id)).set(bc::webhook_url.eq(value)).execute(conn)?
        }
        SecretColumn::ChannelSecret => diesel::update(bc::table.find(&s.id)).set(bc::secret.eq(value)).execute(conn)?,
        SecretColumn::WebhookSecret => diesel::update(wh::table.find(&s.id)).set(wh::secret.eq(value)).execute(conn)?,
    };
    Ok(())
}

/// Upgrade `sealed_secrets_v1`: encrypts every secret still stored in plaintext (rows from before
/// encryption at rest). Returns how many it sealed.
pub fn seal_plaintext(conn: &mut DbConn, sealer: Option<&Sealer>) -> Result<usize, ApiError> {
    let plain: Vec<Stored> = all_secrets(conn)?.into_iter().filter(|s| !is_sealed(&s.value)).collect();
    if plain.is_empty() {
        return Ok(0);
    }
    let sealer = sealer.ok_or_else(|| ApiError::internal("stored secrets are in plaintext and no key is set"))?;
    for s in &plain {
        write(conn, s, &s.column.seal(sealer, &s.id, &s.value))?;
    }
    Ok(plain.len())
}

/// Re-encrypts every secret under `new` (plaintext leftovers too), in the caller's transaction:
/// all or nothing. Returns how many values it rewrote.
pub fn rotate(conn: &mut DbConn, old: &Sealer, new: &Sealer) -> Result<usize, ApiError> {
    if let DbConn::Pg(pg) = conn {
        // No robot or webhook is written under the old key while the new one takes over.
        diesel::sql_query("LOCK TABLE bot_channels, webhooks IN EXCLUSIVE MODE").execute(pg)?;
    }
    let all = all_secrets(conn)?;
    for s in &all {
        let plain = if is_sealed(&s.value) { s.column.open(old, &s.id, &s.value)? } else { s.value.clone() };
        write(conn, s, &s.column.seal(new, &s.id, &plain))?;
    }
    Ok(all.len())
}

/// `(sealed, plaintext)` counts of the stored secrets, and the first sealed one.
fn census(conn: &mut DbConn) -> Result<(usize, usize, Option<Stored>), ApiError> {
    let all = all_secrets(conn)?;
    let sealed = all.iter().filter(|s| is_sealed(&s.value)).count();
    let plain = all.len() - sealed;
    Ok((sealed, plain, all.into_iter().find(|s| is_sealed(&s.value))))
}

/// The key file: `CHANNELDESK_SECRET_KEY_FILE`, else on SQLite `<database name>.secret-key`
/// beside the database, else none.
pub fn key_file(config: &NotifyConfig, url: &DbUrl) -> Option<PathBuf> {
    match (&config.secret_key_file, url) {
        (Some(path), _) => Some(path.clone()),
        (None, DbUrl::Sqlite(path)) => Some(Path::new(path).with_extension("secret-key")),
        (None, DbUrl::Postgres(_)) => None,
    }
}

/// Reads a key file (the base64 key, whitespace around it ignored).
pub fn read_key_file(path: &Path) -> Result<SecretKey, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
    SecretKey::from_base64(&text).map_err(|e| format!("the key file {}: the key {e}", path.display()))
}

/// Writes `key` to a new file only its owner may read (mode 0600); fails if the file exists.
pub fn write_key_file(path: &Path, key: &SecretKey) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let failed = |e: std::io::Error| format!("cannot write the key file {}: {e}", path.display());
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(format!("{}\n", key.to_base64()).as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// The key this process uses, settled once the schema is migrated (see the module doc). `None`
/// only on Postgres without a key and with no secrets stored: creating a robot or webhook then
/// fails until `CHANNELDESK_SECRET_KEY` is set.
pub fn settle_key(db: &Db, config: &NotifyConfig, url: &DbUrl) -> Result<Option<SecretKey>, String> {
    let (sealed, plain, sample) = db.write_blocking(census).map_err(|e| e.to_string())?;
    let file = key_file(config, url);
    let key = match (&config.secret_key, &file) {
        (Some(key), _) => Some(key.clone()),
        (None, Some(path)) if path.exists() => Some(read_key_file(path)?),
        (None, Some(path)) if url.backend() == crate::db::Backend::Sqlite && sealed == 0 => {
            let key = SecretKey::generate();
            write_key_file(path, &key)?;
            tracing::info!(key_file = %path.display(), "generated the secret key for stored robot and webhook secrets; back it up with the database");
            Some(key)
        }
        (None, Some(path)) => {
            return Err(format!(
                "{sealed} stored secrets are encrypted but the key file {} does not exist: restore it or set CHANNELDESK_SECRET_KEY",
                path.display()
            ))
        }
        (None, None) if sealed + plain > 0 => {
            return Err(format!(
                "{} robot and webhook secrets are stored: set CHANNELDESK_SECRET_KEY (base64 of 32 random bytes, the same on every replica)",
                sealed + plain
            ))
        }
        (None, None) => {
            tracing::warn!("CHANNELDESK_SECRET_KEY is not set: bot channels and webhooks cannot be created");
            None
        }
    };
    if let (Some(key), Some(s)) = (&key, sample) {
        key.sealer()
            .open(&s.value, &s.column.context(&s.id))
            .map_err(|e| format!("the secret key does not open the stored secrets ({e}); is it the right one?"))?;
    }
    Ok(key)
}

/// What `channeldesk secret-key rotate` did.
#[derive(Debug)]
pub struct Rotated {
    /// Values re-encrypted.
    pub count: usize,
    pub new_key: SecretKey,
    /// Where the new key was written; `None` when the old one came from `CHANNELDESK_SECRET_KEY`,
    /// which the operator must now change.
    pub key_file: Option<PathBuf>,
}

/// Re-encrypts every stored secret under `new_key` (or a new random key) in one transaction.
/// `config` holds the current key, settled by `app::migrate`; `from_env` says whether it came
/// from `CHANNELDESK_SECRET_KEY` (else from the key file, which is replaced: the new key is
/// written beside it first and moved over it once the transaction has committed).
pub fn rotate_key(
    db: &Db,
    config: &NotifyConfig,
    url: &DbUrl,
    from_env: bool,
    new_key: Option<SecretKey>,
) -> Result<Rotated, String> {
    let old = config.secret_key.clone().ok_or("there is no current key to rotate from: set CHANNELDESK_SECRET_KEY")?;
    let new_key = new_key.unwrap_or_else(SecretKey::generate);
    if new_key == old {
        return Err("the new key is the current one".into());
    }
    let file = if from_env { None } else { key_file(config, url) };
    let staged = file.as_ref().map(|f| {
        let mut name = f.clone().into_os_string();
        name.push(".new");
        PathBuf::from(name)
    });
    if let Some(staged) = &staged {
        // Left by a rotation that failed before its commit: its key never sealed anything.
        let _ = std::fs::remove_file(staged);
        write_key_file(staged, &new_key)?;
    }
    let (old_sealer, new_sealer) = (old.sealer(), new_key.sealer());
    let count = db.write_blocking(|conn| rotate(conn, &old_sealer, &new_sealer)).map_err(|e| {
        if let Some(staged) = &staged {
            let _ = std::fs::remove_file(staged);
        }
        format!("nothing was changed: {e}")
    })?;
    if let (Some(staged), Some(file)) = (&staged, &file) {
        std::fs::rename(staged, file).map_err(|e| {
            format!(
                "the secrets are now sealed under the key in {}, but it could not replace {}: {e}; move it there by hand",
                staged.display(),
                file.display()
            )
        })?;
    }
    Ok(Rotated { count, new_key, key_file: file })
}

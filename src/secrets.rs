//! Secrets at rest: robot URLs (their key or access_token), DingTalk signing secrets and webhook
//! secrets are stored encrypted, so a copy of the database (a backup, a dump, a stolen disk) does
//! not give away the credentials to post into a company's chats.
//!
//! AES-256-GCM under one 32-byte key (`CHANNELDESK_SECRET_KEY`, base64). A stored value is
//! `v1:<base64(nonce ‖ ciphertext ‖ tag)>` with a fresh random 96-bit nonce each time it is
//! written; the version prefix lets a later scheme coexist. Each value is bound to where it is
//! kept (`context`, e.g. `bot_channels.secret:<id>`) as associated data, so a value copied into
//! another row or column does not open. Opening with the wrong key, or a value that was changed,
//! is an error that says so; it never yields garbage.
//!
//! Pure: no database, no configuration. Where the key comes from and which columns hold secrets
//! is `notify::secrets`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// The key that seals every stored secret. Never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// A new random key (from the operating system's generator).
    pub fn generate() -> Self {
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(key)
    }

    /// Reads the base64 form (standard alphabet, padded or not; surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| "is not base64".to_string())?;
        let key: [u8; KEY_LEN] =
            bytes.try_into().map_err(|b: Vec<u8>| format!("must be {KEY_LEN} bytes (got {})", b.len()))?;
        Ok(Self(key))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    pub fn sealer(&self) -> Sealer {
        Sealer { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0)) }
    }
}

/// Why a stored value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// No `v1:` prefix: plaintext from before encryption, or another scheme.
    #[error("the stored secret is not encrypted (written before secrets were encrypted at rest?)")]
    NotSealed,
    #[error("the stored secret is not valid base64 or is too short")]
    Malformed,
    #[error("the stored secret does not open with this key: the key is not the one it was sealed with, or the value was changed")]
    WrongKeyOrTampered,
}

/// Seals and opens stored secrets with one key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

/// True when `stored` has the form of a sealed value (it may still not open).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

impl Sealer {
    /// `plaintext` sealed for the place `context` names, under a fresh random nonce.
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() };
        // AES-GCM encryption fails only for messages beyond 64 GiB; secrets are at most a few KiB.
        let sealed = self.cipher.encrypt(Nonce::from_slice(&nonce), payload).unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(bytes))
    }

    /// The plaintext of a value sealed for `context`.
    pub fn open(&self, stored: &str, context: &str) -> Result<String, OpenError> {
        let encoded = stored.strip_prefix(PREFIX).ok_or(OpenError::NotSealed)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(OpenError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let payload = Payload { msg: sealed, aad: context.as_bytes() };
        let plain =
            self.cipher.decrypt(Nonce::from_slice(nonce), payload).map_err(|_| OpenError::WrongKeyOrTampered)?;
        String::from_utf8(plain).map_err(|_| OpenError::WrongKeyOrTampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: &str = "bot_channels.secret:0192f0c4-3b9e-7c1a-8f00-000000000001";

    #[test]
    fn a_sealed_value_opens_to_what_was_sealed_and_shows_nothing_of_it() {
        let sealer = SecretKey::generate().sealer();
        for plain in ["SECc0ffee", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6", "", "渠道密钥"]
        {
            let stored = sealer.seal(plain, CTX);
            assert!(is_sealed(&stored) && stored.starts_with("v1:"), "{stored}");
            if !plain.is_empty() {
                assert!(!stored.contains(plain), "{stored}");
            }
            assert_eq!(sealer.open(&stored, CTX).unwrap(), plain);
        }
    }

    #[test]
    fn the_wrong_key_is_an_error_never_garbage() {
        let stored = SecretKey::generate().sealer().seal("SECc0ffee", CTX);
        assert_eq!(SecretKey::generate().sealer().open(&stored, CTX), Err(OpenError::WrongKeyOrTampered));
    }

    #[test]
    fn a_changed_value_or_another_place_does_not_open() {
        let sealer = SecretKey::generate().sealer();
        let stored = sealer.seal("whsec-0123456789abcdef", CTX);
        let mut bytes = STANDARD.decode(&stored[3..]).unwrap();
        for i in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[i] ^= 1;
            let tampered = format!("v1:{}", STANDARD.encode(&bytes));
            assert_eq!(sealer.open(&tampered, CTX), Err(OpenError::WrongKeyOrTampered), "byte {i}");
            bytes[i] ^= 1;
        }
        assert_eq!(sealer.open(&stored, "webhooks.secret:another-row"), Err(OpenError::WrongKeyOrTampered));
        assert_eq!(sealer.open("SECc0ffee", CTX), Err(OpenError::NotSealed));
        assert_eq!(sealer.open("v1:!!", CTX), Err(OpenError::Malformed));
        assert_eq!(sealer.open("v1:AAAA", CTX), Err(OpenError::Malformed));
    }

    #[test]
    fn every_seal_takes_a_fresh_nonce() {
        let sealer = SecretKey::generate().sealer();
        let mut nonces = std::collections::HashSet::new();
        let mut values = std::collections::HashSet::new();
        for _ in 0..1000 {
            let stored = sealer.seal("same secret", CTX);
            let bytes = STANDARD.decode(&stored[3..]).unwrap();
            assert!(nonces.insert(bytes[..NONCE_LEN].to_vec()), "a nonce came twice");
            assert!(values.insert(stored));
        }
    }

    #[test]
    fn keys_read_from_base64_of_exactly_32_bytes() {
        let key = SecretKey::generate();
        assert_eq!(SecretKey::from_base64(&format!(" {}\n", key.to_base64())).unwrap(), key);
        assert_eq!(SecretKey::from_base64(key.to_base64().trim_end_matches('=')).unwrap(), key);
        assert!(SecretKey::from_base64("not base64!").is_err());
        assert!(SecretKey::from_base64(&STANDARD.encode([0u8; 16])).unwrap_err().contains("32 bytes"));
        assert_eq!(format!("{key:?} {:?}", key.sealer()), "SecretKey(***) Sealer(***)");
    }
}

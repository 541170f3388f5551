//! The platforms' cryptography, byte-exact with their documentation and vendor samples
//! (`../shared/docs/bot-protocols.md`; vectors in `bot-test-vectors.json`, tested below):
//!
//! - WeCom callbacks: `msg_signature = sha1(sort(token, timestamp, nonce, encrypt))` in lowercase
//!   hex; AES-256-CBC with IV = key[0..16] over `random(16) ‖ len (u32 BE) ‖ msg ‖ receive_id`,
//!   padded PKCS#7 to **32-byte** blocks (pad values 1..=32), so the padding is handled here rather
//!   than by a 16-byte unpadder that would reject about half of real messages.
//! - DingTalk: `sign = base64(HMAC-SHA256(key = secret, msg = timestamp + "\n" + secret))`; push
//!   URLs carry it percent-encoded exactly once, callbacks send it as plain base64.
//! - Our own webhooks: `hex(HMAC-SHA256(secret, timestamp + "." + body))`.
//!
//! Comparisons of signatures are constant-time.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// WeCom pads to this block size (PKCS#7 with k = 32), not AES's 16.
const WECOM_PAD_BLOCK: usize = 32;

/// Base64 that tolerates non-zero trailing bits and missing padding: real EncodingAESKeys (the
/// vendor's own sample among them) end in a character whose unused low bits are set, which strict
/// decoders reject.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Equal-length-independent constant-time equality of two byte strings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `EncodingAESKey` (43 characters) → the 32-byte AES key, decoded leniently.
pub fn decode_aes_key(encoding_aes_key: &str) -> Option<[u8; 32]> {
    let trimmed = encoding_aes_key.trim().trim_end_matches('=');
    if trimmed.len() != 43 {
        return None;
    }
    let bytes = LENIENT.decode(trimmed).ok()?;
    bytes.try_into().ok()
}

/// Why a WeCom message could not be opened. The messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    BadBase64,
    BadLength,
    BadPadding,
    BadFrame,
    WrongReceiveId,
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CryptoError::BadBase64 => "the encrypted text is not base64",
            CryptoError::BadLength => "the encrypted text is not a whole number of AES blocks",
            CryptoError::BadPadding => "the decrypted text has no valid padding",
            CryptoError::BadFrame => "the decrypted text is not a WeCom message frame",
            CryptoError::WrongReceiveId => "the message is for another receive id",
        })
    }
}

/// The WeCom callback cipher of one app or smart bot.
#[derive(Clone)]
pub struct WecomCrypto {
    token: String,
    key: [u8; 32],
    receive_id: String,
}

impl std::fmt::Debug for WecomCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WecomCrypto").field("receive_id", &self.receive_id).finish_non_exhaustive()
    }
}

impl WecomCrypto {
    /// `None` when the EncodingAESKey does not decode to 32 bytes.
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Option<Self> {
        Some(Self { token: token.to_string(), key: decode_aes_key(encoding_aes_key)?, receive_id: receive_id.into() })
    }

    /// `msg_signature`: SHA-1 over the four values sorted and concatenated, lowercase hex.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let mut hasher = Sha1::new();
        for part in parts {
            hasher.update(part.as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    /// Constant-time check of a presented `msg_signature`.
    pub fn verify(&self, msg_signature: &str, timestamp: &str, nonce: &str, encrypt: &str) -> bool {
        let expected = self.signature(timestamp, nonce, encrypt);
        constant_time_eq(expected.as_bytes(), msg_signature.trim().to_ascii_lowercase().as_bytes())
    }

    /// Opens an `Encrypt` value: the message bytes, after checking the frame and the receive id.
    pub fn decrypt(&self, encrypt: &str) -> Result<Vec<u8>, CryptoError> {
        let mut data = STANDARD.decode(encrypt.trim()).map_err(|_| CryptoError::BadBase64)?;
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(CryptoError::BadLength);
        }
        let iv: [u8; 16] = self.key[..16].try_into().map_err(|_| CryptoError::BadLength)?;
        let cipher = Aes256CbcDec::new(&self.key.into(), &iv.into());
        let plain = cipher
            .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut data)
            .map_err(|_| CryptoError::BadLength)?;
        let plain = unpad_pkcs7_32(plain)?;
        if plain.len() < 20 {
            return Err(CryptoError::BadFrame);
        }
        let len = u32::from_be_bytes([plain[16], plain[17], plain[18], plain[19]]) as usize;
        let end = 20usize.checked_add(len).filter(|end| *end <= plain.len()).ok_or(CryptoError::BadFrame)?;
        let (msg, receive_id) = (&plain[20..end], &plain[end..]);
        if receive_id != self.receive_id.as_bytes() {
            return Err(CryptoError::WrongReceiveId);
        }
        Ok(msg.to_vec())
    }

    /// Seals `msg` with fresh randomness.
    pub fn encrypt(&self, msg: &[u8]) -> String {
        let mut random = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut random);
        self.encrypt_with(&random, msg)
    }

    /// Seals `msg` with the given 16 random bytes (deterministic, for the known-answer tests).
    pub fn encrypt_with(&self, random: &[u8; 16], msg: &[u8]) -> String {
        let mut plain = Vec::with_capacity(20 + msg.len() + self.receive_id.len() + WECOM_PAD_BLOCK);
        plain.extend_from_slice(random);
        plain.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        plain.extend_from_slice(msg);
        plain.extend_from_slice(self.receive_id.as_bytes());
        let pad = WECOM_PAD_BLOCK - plain.len() % WECOM_PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let len = plain.len();
        let iv: [u8; 16] = self.key[..16].try_into().unwrap_or([0; 16]);
        let cipher = Aes256CbcEnc::new(&self.key.into(), &iv.into());
        // The buffer is already a whole number of blocks, so NoPadding cannot fail.
        let sealed = cipher
            .encrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut plain, len)
            .map(|c| c.to_vec())
            .unwrap_or_default();
        STANDARD.encode(sealed)
    }
}

/// Strips PKCS#7 padding of block size 32: the last byte says how many bytes (1..=32) to drop,
/// and every one of them must carry that value.
fn unpad_pkcs7_32(data: &[u8]) -> Result<&[u8], CryptoError> {
    let pad = *data.last().ok_or(CryptoError::BadPadding)? as usize;
    if pad == 0 || pad > WECOM_PAD_BLOCK || pad > data.len() {
        return Err(CryptoError::BadPadding);
    }
    let (body, padding) = data.split_at(data.len() - pad);
    if padding.iter().any(|b| *b as usize != pad) {
        return Err(CryptoError::BadPadding);
    }
    Ok(body)
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length: construction cannot fail, and if it did the empty result
    // would match no signature.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else { return Vec::new() };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// DingTalk's `sign` for a timestamp in milliseconds, as plain base64.
pub fn dingtalk_sign(secret: &str, timestamp_ms: &str) -> String {
    STANDARD.encode(hmac_sha256(secret.as_bytes(), &[timestamp_ms.as_bytes(), b"\n", secret.as_bytes()]))
}

/// Everything but RFC 3986's unreserved characters is encoded, so `+`, `/` and `=` become
/// `%2B`, `%2F`, `%3D` (an unencoded `+` would arrive as a space).
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A query-string value, percent-encoded once.
pub fn query_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// DingTalk's `sign` as it goes into a push URL's query (percent-encoded once).
pub fn dingtalk_sign_query(secret: &str, timestamp_ms: &str) -> String {
    query_encode(&dingtalk_sign(secret, timestamp_ms))
}

/// Constant-time check of the `sign` header of a DingTalk callback.
pub fn dingtalk_verify(app_secret: &str, timestamp_ms: &str, sign: &str) -> bool {
    constant_time_eq(dingtalk_sign(app_secret, timestamp_ms).as_bytes(), sign.trim().as_bytes())
}

/// `X-Channeldesk-Signature` of our webhooks: hex HMAC-SHA256(secret, timestamp + "." + body).
pub fn webhook_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        // The vectors live in the shared docs; a copy is kept beside the tests so the crate
        // builds and tests on its own (tests/fixtures/bot-test-vectors.json, byte-identical).
        serde_json::from_str(include_str!("../../tests/fixtures/bot-test-vectors.json")).expect("vectors parse")
    }

    fn s<'a>(v: &'a Value, path: &str) -> &'a str {
        v.pointer(path).and_then(Value::as_str).unwrap_or_else(|| panic!("vector {path}"))
    }

    fn official() -> (Value, WecomCrypto) {
        let v = vectors()["wecom_official_sample"].clone();
        let c = WecomCrypto::new(s(&v, "/token"), s(&v, "/encoding_aes_key"), s(&v, "/receive_id")).expect("key");
        (v, c)
    }

    fn wechatpy() -> (Value, WecomCrypto) {
        let v = vectors()["wechatpy_tests"].clone();
        let c = WecomCrypto::new(s(&v, "/token"), s(&v, "/encoding_aes_key"), s(&v, "/receive_id")).expect("key");
        (v, c)
    }

    /// The `<Encrypt>` text of a callback body (CDATA).
    fn encrypt_of(post_data: &str) -> String {
        crate::platforms::xml::parse_flat(post_data).expect("xml").get("Encrypt").expect("Encrypt").to_string()
    }

    #[test]
    fn both_sample_keys_need_lenient_base64() {
        for key in ["6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"] {
            assert!(STANDARD.decode(format!("{key}=")).is_err(), "strict base64 rejects {key}");
            assert_eq!(decode_aes_key(key).map(|k| k.len()), Some(32));
            assert_eq!(decode_aes_key(&format!("{key}=")), decode_aes_key(key), "a trailing = is tolerated");
        }
        assert!(decode_aes_key("tooshort").is_none());
        assert!(decode_aes_key(&"!".repeat(43)).is_none());
    }

    #[test]
    fn wecom_official_verify_url() {
        let (v, c) = official();
        let (sig, ts, nonce, echostr) = (
            s(&v, "/verify_url/msg_signature"),
            s(&v, "/verify_url/timestamp"),
            s(&v, "/verify_url/nonce"),
            s(&v, "/verify_url/echostr"),
        );
        assert_eq!(c.signature(ts, nonce, echostr), sig);
        assert!(c.verify(sig, ts, nonce, echostr));
        let plain = c.decrypt(echostr).expect("echostr opens");
        assert_eq!(plain, s(&v, "/verify_url/expected_plain").as_bytes());
        let other = WecomCrypto::new(s(&v, "/token"), s(&v, "/encoding_aes_key"), "ww-someone-else").expect("key");
        assert_eq!(other.decrypt(echostr), Err(CryptoError::WrongReceiveId));
    }

    #[test]
    fn wecom_official_decrypt_msg() {
        let (v, c) = official();
        let encrypt = encrypt_of(s(&v, "/decrypt_msg/post_data"));
        let (sig, ts, nonce) =
            (s(&v, "/decrypt_msg/msg_signature"), s(&v, "/decrypt_msg/timestamp"), s(&v, "/decrypt_msg/nonce"));
        assert!(c.verify(sig, ts, nonce, &encrypt));
        assert!(!c.verify(sig, ts, "1597212915", &encrypt), "another nonce fails");
        let plain = c.decrypt(&encrypt).expect("opens");
        assert_eq!(String::from_utf8(plain).unwrap(), s(&v, "/decrypt_msg/expected_plain"));
    }

    #[test]
    fn wechatpy_check_signature() {
        let (v, c) = wechatpy();
        let (sig, ts, nonce, bad, echostr) = (
            s(&v, "/check_signature/msg_signature"),
            s(&v, "/check_signature/timestamp"),
            s(&v, "/check_signature/nonce"),
            s(&v, "/check_signature/bad_nonce"),
            s(&v, "/check_signature/echostr"),
        );
        assert!(c.verify(sig, ts, nonce, echostr));
        assert!(!c.verify(sig, ts, bad, echostr));
        assert!(c.decrypt(echostr).is_ok(), "the echostr carries the right receive id");
    }

    #[test]
    fn wechatpy_deterministic_encrypt() {
        let (v, c) = wechatpy();
        let random: [u8; 16] = s(&v, "/encrypt_deterministic/random16").as_bytes().try_into().unwrap();
        let plain = s(&v, "/encrypt_deterministic/plain");
        let sealed = c.encrypt_with(&random, plain.as_bytes());
        assert_eq!(sealed, s(&v, "/encrypt_deterministic/expected_encrypt"));
        let sig =
            c.signature(s(&v, "/encrypt_deterministic/timestamp"), s(&v, "/encrypt_deterministic/nonce"), &sealed);
        assert_eq!(sig, s(&v, "/encrypt_deterministic/expected_signature"));
        assert_eq!(c.decrypt(&sealed).unwrap(), plain.as_bytes());
    }

    #[test]
    fn wechatpy_decrypt() {
        let (v, c) = wechatpy();
        let encrypt = encrypt_of(s(&v, "/decrypt/post_data"));
        assert!(c.verify(
            s(&v, "/decrypt/msg_signature"),
            s(&v, "/decrypt/timestamp"),
            s(&v, "/decrypt/nonce"),
            &encrypt
        ));
        let plain = String::from_utf8(c.decrypt(&encrypt).unwrap()).unwrap();
        let fields = crate::platforms::xml::parse_flat(&plain).expect("inner xml");
        assert_eq!(fields.get("Content"), Some(s(&v, "/decrypt/expected_content")));
        assert_eq!(fields.get("FromUserName"), Some(s(&v, "/decrypt/expected_from")));
    }

    /// A message whose frame is `len` bytes long, before padding.
    fn message_framing_to(c: &WecomCrypto, frame_len: usize) -> Vec<u8> {
        let msg_len = frame_len - 20 - c.receive_id.len();
        "消".repeat(msg_len / 3).into_bytes().into_iter().chain(std::iter::repeat_n(b'x', msg_len % 3)).collect()
    }

    fn raw_padding(c: &WecomCrypto, sealed: &str) -> u8 {
        let mut data = STANDARD.decode(sealed).unwrap();
        let iv: [u8; 16] = c.key[..16].try_into().unwrap();
        let plain = Aes256CbcDec::new(&c.key.into(), &iv.into())
            .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut data)
            .unwrap();
        *plain.last().unwrap()
    }

    #[test]
    fn pad_32_and_pad_1_edge_cases() {
        let (_, c) = official();
        // A frame that is a whole number of 32-byte blocks gets a full block of padding (32 × 0x20),
        // which 16-byte PKCS#7 would call invalid.
        let msg = message_framing_to(&c, 32 * 5);
        let sealed = c.encrypt_with(&[7; 16], &msg);
        assert_eq!(raw_padding(&c, &sealed), 32);
        assert_eq!(STANDARD.decode(&sealed).unwrap().len(), 32 * 6);
        assert_eq!(c.decrypt(&sealed).unwrap(), msg);
        // One byte short of a block: padding of one byte (0x01).
        let msg = message_framing_to(&c, 32 * 5 - 1);
        let sealed = c.encrypt_with(&[7; 16], &msg);
        assert_eq!(raw_padding(&c, &sealed), 1);
        assert_eq!(c.decrypt(&sealed).unwrap(), msg);
        // 16 bytes of padding (0x10): the value a 16-byte unpadder would also accept.
        let msg = message_framing_to(&c, 32 * 5 - 16);
        assert_eq!(raw_padding(&c, &c.encrypt_with(&[7; 16], &msg)), 16);
    }

    #[test]
    fn tampered_ciphertexts_are_rejected() {
        let (v, c) = official();
        assert_eq!(c.decrypt("not base64!"), Err(CryptoError::BadBase64));
        assert_eq!(c.decrypt(&STANDARD.encode([1u8; 20])), Err(CryptoError::BadLength));
        let echostr = s(&v, "/verify_url/echostr");
        let mut bytes = STANDARD.decode(echostr).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        assert!(c.decrypt(&STANDARD.encode(&bytes)).is_err(), "a flipped last block breaks the padding");
        // A length field pointing past the end is a bad frame, never a panic.
        let mut frame = vec![0u8; 16];
        frame.extend_from_slice(&u32::MAX.to_be_bytes());
        frame.extend_from_slice(b"abc");
        let sealed_bad = {
            let pad = WECOM_PAD_BLOCK - frame.len() % WECOM_PAD_BLOCK;
            frame.extend(std::iter::repeat_n(pad as u8, pad));
            let len = frame.len();
            let iv: [u8; 16] = c.key[..16].try_into().unwrap();
            let out = Aes256CbcEnc::new(&c.key.into(), &iv.into())
                .encrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut frame, len)
                .unwrap()
                .to_vec();
            STANDARD.encode(out)
        };
        assert_eq!(c.decrypt(&sealed_bad), Err(CryptoError::BadFrame));
    }

    #[test]
    fn dingtalk_known_answers() {
        let v = vectors();
        let cases = v["dingtalk_derived"]["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 3);
        for case in cases {
            let (secret, ts) = (s(case, "/secret"), s(case, "/timestamp"));
            assert_eq!(dingtalk_sign(secret, ts), s(case, "/sign_b64"), "{secret}");
            assert_eq!(dingtalk_sign_query(secret, ts), s(case, "/sign_query"), "{secret}");
            assert!(dingtalk_verify(secret, ts, s(case, "/sign_b64")));
            assert!(!dingtalk_verify(secret, ts, s(case, "/sign_query")), "the callback sign is not URL-encoded");
            assert!(!dingtalk_verify(secret, "1577262236758", s(case, "/sign_b64")));
        }
    }

    #[test]
    fn webhook_signature_is_hex_hmac_over_timestamp_dot_body() {
        // Independent value: printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec -hex
        let sig = webhook_signature("whsec", "1700000000", br#"{"a":1}"#);
        assert_eq!(sig, "8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032");
        assert_ne!(sig, webhook_signature("whsec", "1700000001", br#"{"a":1}"#));
    }
}

//! The `hash` transform: listed fields replaced (or copied) by a digest of
//! their value, bit for bit the digest faucet-stream 1.17 writes.

use serde_json::Value;

use super::chain::Transform;
use super::json_text::{Numbers, canonical};
use crate::error::Result;
use crate::page::Record;

/// The digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// BLAKE3 (256-bit output).
    Blake3,
}

/// How a digest is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashEncoding {
    /// Lowercase hexadecimal.
    Hex,
    /// Standard base64, padded.
    Base64,
}

/// Replaces each listed top-level field with the digest of its value, or,
/// with `into` (one field only), writes the digest there and keeps the field.
///
/// A string is hashed over its UTF-8 bytes; any other value over its compact
/// JSON with keys sorted, numbers as faucet-stream writes them. The salt, if
/// any, is prepended. A field the record lacks, or whose value is null, is
/// left alone (hashing null would give every null row one token).
#[derive(Clone)]
pub struct Hash {
    fields: Vec<String>,
    algorithm: HashAlgorithm,
    encoding: HashEncoding,
    salt: Option<String>,
    into: Option<String>,
}

/// The salt is a secret: never printed.
impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hash")
            .field("fields", &self.fields)
            .field("algorithm", &self.algorithm)
            .field("encoding", &self.encoding)
            .field("salt", &self.salt.as_ref().map(|_| "***"))
            .field("into", &self.into)
            .finish()
    }
}

impl Hash {
    /// Hashes `fields` (exactly one when `into` is set: faucet-gen checks it).
    pub fn new(
        fields: Vec<String>,
        algorithm: HashAlgorithm,
        encoding: HashEncoding,
        salt: Option<String>,
        into: Option<String>,
    ) -> Self {
        Hash { fields, algorithm, encoding, salt, into }
    }

    /// The digest of the text `s`, salted and encoded.
    pub fn digest(&self, s: &str) -> String {
        let salt = self.salt.as_deref().unwrap_or_default().as_bytes();
        let bytes: [u8; 32] = match self.algorithm {
            HashAlgorithm::Sha256 => {
                use sha2::Digest;
                let mut h = sha2::Sha256::new();
                h.update(salt);
                h.update(s.as_bytes());
                h.finalize().into()
            }
            HashAlgorithm::Blake3 => {
                let mut h = blake3::Hasher::new();
                h.update(salt);
                h.update(s.as_bytes());
                *h.finalize().as_bytes()
            }
        };
        match self.encoding {
            HashEncoding::Hex => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut out = String::with_capacity(64);
                for b in bytes {
                    out.push(HEX[usize::from(b >> 4)] as char);
                    out.push(HEX[usize::from(b & 0x0f)] as char);
                }
                out
            }
            HashEncoding::Base64 => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
        }
    }

    /// The digest of a value; `None` for null.
    pub fn digest_value(&self, value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) => Some(self.digest(s)),
            other => Some(self.digest(&canonical(other, Numbers::Double))),
        }
    }
}

impl Transform for Hash {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        if let Value::Object(map) = &mut record {
            for field in &self.fields {
                let Some(digest) = map.get(field).and_then(|v| self.digest_value(v)) else { continue };
                match &self.into {
                    Some(into) => {
                        map.insert(into.clone(), Value::String(digest));
                    }
                    None => {
                        if let Some(v) = map.get_mut(field) {
                            *v = Value::String(digest);
                        }
                    }
                }
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn hash(algorithm: HashAlgorithm, encoding: HashEncoding, salt: Option<&str>) -> Hash {
        Hash::new(vec!["v".into()], algorithm, encoding, salt.map(Into::into), None)
    }

    #[test]
    fn known_digests() {
        use HashAlgorithm::*;
        use HashEncoding::*;
        // Published test vectors of the empty string and "abc".
        assert_eq!(
            hash(Sha256, Hex, None).digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hash(Blake3, Hex, None).digest(""),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(hash(Sha256, Base64, None).digest("abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        // The salt is prepended.
        assert_eq!(hash(Sha256, Hex, Some("ab")).digest("c"), hash(Sha256, Hex, None).digest("abc"));
    }

    #[test]
    fn replaces_in_place_or_writes_into() {
        let h = hash(HashAlgorithm::Sha256, HashEncoding::Hex, None);
        let abc = h.digest("abc");
        let mut t = h.clone();
        let out = t.apply(json!({"v": "abc", "w": 1})).unwrap().unwrap();
        assert_eq!(out, json!({"v": abc, "w": 1}));
        let mut into = Hash::new(vec!["v".into()], h.algorithm, h.encoding, None, Some("v_hash".into()));
        let out = into.apply(json!({"v": "abc"})).unwrap().unwrap();
        assert_eq!(out, json!({"v": "abc", "v_hash": abc}));
    }

    #[test]
    fn null_and_missing_are_left_alone_other_values_hash_their_json() {
        let mut h = hash(HashAlgorithm::Sha256, HashEncoding::Hex, None);
        assert_eq!(h.apply(json!({"v": null})).unwrap().unwrap(), json!({"v": null}));
        assert_eq!(h.apply(json!({"w": 1})).unwrap().unwrap(), json!({"w": 1}));
        let obj = h.apply(json!({"v": {"b": 1.50, "a": [true]}})).unwrap().unwrap();
        assert_eq!(obj["v"], json!(h.digest(r#"{"a":[true],"b":1.5}"#)));
        let int = h.apply(json!({"v": 42})).unwrap().unwrap();
        assert_eq!(int["v"], json!(h.digest("42")));
    }

    #[test]
    fn debug_hides_the_salt() {
        let h = hash(HashAlgorithm::Blake3, HashEncoding::Hex, Some("pepper-s3cret"));
        assert!(!format!("{h:?}").contains("pepper-s3cret"));
    }
}

//! The last segment of a matrix child's state key: its parent record's key
//! value, rendered as faucet-stream 1.17 renders it (its key scheme 4), so
//! bookmarks a faucet-stream run left under `pipeline::row::<value>` are the
//! ones a faucet run of the same config reads and writes.
//!
//! - a string made only of `[A-Za-z0-9_.-:]`, at most 64 bytes, not holding
//!   `::` nor starting or ending with `:`, is kept as it is (`cust-42`, `a_b`);
//! - any other value is tagged with its JSON type: `_n.42` for the number 42,
//!   `_b.true`, `_z.null`, `_a.…` and `_o.…` for arrays and objects (their
//!   compact JSON), so the number `1` and the string `"1"` never share a key;
//!   a string that looks like a tag (`_n.1`), or like one of faucet-stream's
//!   marker segments (`__lease__`), is tagged `_s.` itself;
//! - a rendering with any other character, or longer than 64 bytes, becomes
//!   its first 32 characters from `[A-Za-z0-9_.-]`, then `.h` and the FNV-1a
//!   64-bit hash of the whole rendering in 16 hex digits.
//!
//! One departure: faucet-stream also keeps `/` (`a/b`); a faucet state key
//! cannot hold it (the file store names a file after the key), so such a
//! value is hashed like any other.

use serde_json::Value;

/// Longest rendering kept as it is.
const MAX_KEPT: usize = 64;
/// Characters of the readable prefix of a hashed rendering.
const READABLE: usize = 32;
/// Segments faucet-stream gives its marker keys (`pipeline::row::__lease__`).
const MARKERS: [&str; 8] = [
    "__sla__",
    "__profiling__",
    "__status__",
    "__lease__",
    "__rollback__",
    "__replication__",
    "__backfill__",
    "__serve_backfill__",
];

/// The state key segment of a child whose parent record's key is `value`.
pub fn parent_key_segment(value: &Value) -> String {
    match value {
        Value::String(s) if MARKERS.contains(&s.as_str()) || looks_tagged(s) => {
            kept_or_hashed(&format!("_s.{s}"))
        }
        Value::String(s) => kept_or_hashed(s),
        other => {
            let tag = match other {
                Value::Number(_) => 'n',
                Value::Bool(_) => 'b',
                Value::Null => 'z',
                Value::Array(_) => 'a',
                _ => 'o',
            };
            kept_or_hashed(&format!("_{tag}.{other}"))
        }
    }
}

/// Whether `s` starts like a type tag: `_`, one of `snbzao`, `.`.
fn looks_tagged(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3 && b[0] == b'_' && b"snbzao".contains(&b[1]) && b[2] == b'.'
}

/// `raw` when a state key may hold it as a segment, else its hashed form.
fn kept_or_hashed(raw: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let kept = !raw.is_empty()
        && raw.len() <= MAX_KEPT
        && raw.bytes().all(|b| plain(b) || b == b':')
        && !raw.contains("::")
        && !raw.starts_with(':')
        && !raw.ends_with(':');
    if kept {
        return raw.to_owned();
    }
    let readable: String = raw.bytes().filter(|&b| plain(b)).take(READABLE).map(char::from).collect();
    format!("{readable}.h{:016x}", fnv1a(raw.as_bytes()))
}

/// The 64-bit FNV-1a hash of `bytes`.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::state::validate_key;

    fn key(value: Value) -> String {
        format!("p::r::{}", parent_key_segment(&value))
    }

    #[test]
    fn faucet_stream_renderings() {
        // As faucet-cli 1.17.0 keys a child of parent key value …
        assert_eq!(key(json!(1)), "p::r::_n.1");
        assert_eq!(key(json!("1")), "p::r::1");
        assert_eq!(key(json!(-2.5)), "p::r::_n.-2.5");
        assert_eq!(key(json!(true)), "p::r::_b.true");
        assert_eq!(key(json!(null)), "p::r::_z.null");
        assert_eq!(key(json!("_n.1")), "p::r::_s._n.1");
        assert_eq!(key(json!("__lease__")), "p::r::_s.__lease__");
        assert_eq!(key(json!("cust-42_a.b")), "p::r::cust-42_a.b");
        assert_eq!(key(json!("a:b")), "p::r::a:b");
        assert!(key(json!({"a": 1})).starts_with("p::r::_o.a1.h"));
    }

    #[test]
    fn hashed_renderings_are_readable_and_stable() {
        // FNV-1a 64 of the bytes of "x::y".
        assert_eq!(parent_key_segment(&json!("x::y")), "xy.h1f99055382621cda");
        assert_eq!(parent_key_segment(&json!("a@b.c")), format!("ab.c.h{:016x}", fnv1a(b"a@b.c")));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        for raw in ["", "x::y", ":x", "y:", "émoji", "a/b", "../x y\0", &"z".repeat(65)] {
            let segment = parent_key_segment(&json!(raw));
            assert!(segment.contains(".h"), "{raw:?} → {segment}");
            assert!(validate_key(&format!("p::r::{segment}")).is_ok(), "{raw:?} → {segment}");
        }
        assert_ne!(parent_key_segment(&json!("a/b")), parent_key_segment(&json!("a_b")));
    }
}

//! Compact JSON for the line-oriented sinks, byte for byte what
//! `serde_json::to_writer` prints, but faster on the strings that need no escaping.
//!
//! Almost every key and value of a record is plain text: no quote, no
//! backslash, no control character. Those are found eight bytes at a time and
//! copied whole; only a string that does need escaping goes through
//! serde_json's own escaper (a hand-written run-copying escaper measured 15%
//! slower on the benchmark's JSON-in-a-string column). Keys are checked the
//! same way, so a record's fixed column names cost a scan and a copy rather
//! than an escape per byte.

use serde_json::Value;

/// The top-level keys of the records written so far, by position, each with
/// its encoding (`"key":`). Records of one source share their keys, so a key
/// found at its position costs a comparison and a copy instead of a scan for
/// escapes and quoting.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    keys: Vec<(String, Vec<u8>)>,
}

impl KeyCache {
    /// Positions remembered at most: a record with more keys encodes the rest each time.
    const CAPACITY: usize = 256;
}

/// Appends `record` as compact JSON, exactly as `serde_json::to_writer` would,
/// taking its top-level keys' encodings from `cache` when they are there.
pub(crate) fn write_record(out: &mut Vec<u8>, record: &Value, cache: &mut KeyCache) {
    let Value::Object(fields) = record else {
        return write_value(out, record);
    };
    out.push(b'{');
    for (i, (key, item)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match cache.keys.get(i) {
            Some((known, encoded)) if known == key => out.extend_from_slice(encoded),
            _ => {
                let start = out.len();
                write_str(out, key);
                out.push(b':');
                if i < KeyCache::CAPACITY {
                    let entry = (key.clone(), out[start..].to_vec());
                    match cache.keys.get_mut(i) {
                        Some(slot) => *slot = entry,
                        None => cache.keys.push(entry),
                    }
                }
            }
        }
        write_value(out, item);
    }
    out.push(b'}');
}

/// Appends `value` as compact JSON, exactly as `serde_json::to_writer` would.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // A number is the text it was read from (serde_json's `arbitrary_precision`).
        Value::Number(number) => out.extend_from_slice(number.as_str().as_bytes()),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Appends `text` as a JSON string.
fn write_str(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text.as_bytes()) {
        drop(serde_json::to_writer(&mut *out, text));
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// True when `bytes` holds a byte JSON escapes: `"`, `\\` or one below 0x20.
///
/// Long strings are scanned eight bytes at a time; short ones (most keys and
/// values) byte by byte through a table, which costs less than setting up words.
fn needs_escape(bytes: &[u8]) -> bool {
    if bytes.len() < 16 {
        return bytes.iter().any(|&b| ESCAPED[usize::from(b)]);
    }
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Nonzero when a byte of `word` is below `n` (n <= 0x80); exact as a yes/no.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let word = u64::from_ne_bytes(chunk.try_into().expect("chunks of eight"));
        if below(word, 0x20)
            | zero_byte(word ^ (ONES * u64::from(b'"')))
            | zero_byte(word ^ (ONES * u64::from(b'\\')))
            != 0
        {
            return true;
        }
    }
    words.remainder().iter().any(|&b| ESCAPED[usize::from(b)])
}

/// The bytes JSON escapes inside a string.
static ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ours(value: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_serde_json_on_every_kind_of_value() {
        let value = json!({
            "id": 1, "neg": -7, "big": u64::MAX, "float": 2.5, "tiny": 1e-300, "t": true, "f": false, "n": null,
            "plain": "hello world", "quote\"d": "a \"b\" c", "back\\slash": "c:\\dir", "nl": "line\nbreak\ttab\r",
            "ctl": "\u{0}\u{1}\u{1f}\u{7f}", "unicode": "é ünï 日本 😀", "empty": "", "long": "x".repeat(100),
            "nested": {"a": [1, "two", {"three": [null, [], {}]}]}, "list": []
        });
        assert_eq!(ours(&value), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn escapes_exactly_where_serde_json_does_at_every_offset() {
        // Each special byte at every position of strings 0..=24 bytes long, so
        // it lands in every lane of a word and in the remainder.
        let specials = ['"', '\\', '\n', '\u{0}', '\u{1f}', ' ', '\u{7f}', 'é', '!', '~'];
        for len in 0..=24 {
            for at in 0..len {
                for special in specials {
                    let mut text: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                    text.replace_range(at..at + 1, special.encode_utf8(&mut [0; 4]));
                    let value = Value::String(text);
                    assert_eq!(ours(&value), serde_json::to_string(&value).unwrap(), "{value:?}");
                }
            }
        }
    }

    #[test]
    fn every_ascii_character_is_escaped_as_serde_json_does() {
        let all: String = (0u8..0x80).map(char::from).chain("é😀".chars()).collect();
        for text in [all.clone(), all.chars().rev().collect()] {
            let value = Value::String(text);
            assert_eq!(ours(&value), serde_json::to_string(&value).unwrap());
        }
    }

    #[test]
    fn records_through_the_key_cache_match_serde_json() {
        let records = [
            json!({"id": 1, "name": "a", "tags": ["x"]}),
            json!({"id": 2, "name": "b", "tags": []}),
            json!({"id": 3, "renamed": "c", "tags": null}),
            json!({"q\"uote": 4}),
            json!({"id": 5, "name": "e", "tags": [], "extra": {"id": 6}}),
            json!({}),
            json!([1, {"id": 2}]),
            json!("plain"),
            json!({"id": 7, "name": "g"}),
        ];
        let mut cache = KeyCache::default();
        for record in &records {
            let mut out = Vec::new();
            write_record(&mut out, record, &mut cache);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(record).unwrap());
        }
    }

    #[test]
    fn random_bytes_agree_with_serde_json() {
        // A fixed-seed generator: the same cases on every run.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| (next() % 0x80) as u8).collect();
            let value = Value::String(String::from_utf8(bytes).unwrap());
            assert_eq!(ours(&value), serde_json::to_string(&value).unwrap());
        }
    }
}

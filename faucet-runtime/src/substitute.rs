//! Values from a matrix parent's record, substituted so they cannot escape
//! their place.
//!
//! A `${parent.field}` reference may only appear where the generator knows
//! what the value becomes, and it tags each reference with that position's
//! [`Encode`]. Positions that must never take a record value (a URL's host,
//! port or user, database URLs, buckets, credentials) are refused at build
//! time and never get here. This module is the run-time half of that rule:
//! every value is checked or encoded for its position, and a URL's resolved
//! text is checked once more as a whole ([`check_url_segments`]).
//!
//! [`lookup`] and [`render`] read the value from the record; a matrix also
//! uses them for its parent keys.

use std::ops::Range;

use serde_json::Value;

use crate::error::{FaucetError, Result};
use crate::page::Record;

/// Where a parent-record value lands, and so how it is made safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encode {
    /// Taken as is: data the receiving API encodes itself (header values,
    /// query values, JSON body strings).
    Raw,
    /// One segment of a file or object path: a value that is empty, `.` or
    /// `..`, or holds `/`, `\` or NUL is refused, so it cannot leave the
    /// configured directory or prefix.
    PathSegment,
    /// [`Encode::PathSegment`] in a path that is read as a glob: glob
    /// characters (`*?[]{}`) are escaped so they match only themselves.
    GlobSegment,
    /// [`Encode::PathSegment`] in a file URL (`sqlite://…`) whose path is
    /// percent-decoded: the value is also percent-encoded, so `?`, `#` and `%`
    /// stay part of the file name.
    FileUrlSegment,
    /// Within one URL path segment (a REST `path`): percent-encoded, `/`
    /// included; a segment that would be `.` or `..` is refused.
    UrlSegment,
    /// [`Encode::UrlSegment`] in an absolute URL (a REST `base_url`): the
    /// value must also come after the end of the authority, so it can never
    /// name the host, port or user.
    UrlPathInUrl,
}

/// Characters left as they are in a URL path segment (RFC 3986 unreserved).
pub(crate) const URL_UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `value` (a parent record's field) made safe for `encode`'s position.
///
/// `before` is the text resolved so far in the same config string: a value
/// in a URL must come after the authority's closing `/`.
pub fn substitute(value: &str, encode: Encode, before: &str) -> Result<String> {
    match encode {
        Encode::Raw => Ok(value.to_owned()),
        Encode::PathSegment => path_segment(value).map(str::to_owned),
        Encode::GlobSegment => Ok(escape_glob(path_segment(value)?)),
        Encode::FileUrlSegment => Ok(percent_encode(path_segment(value)?)),
        Encode::UrlSegment => Ok(percent_encode(value)),
        Encode::UrlPathInUrl => {
            if !authority_closed(before) {
                return Err(FaucetError::config(format!(
                    "the parent value {value:?} would land in the URL's authority (host, port or user); \
                     a record value may only be part of the URL's path"
                )));
            }
            Ok(percent_encode(value))
        }
    }
}

/// True for the encodings whose resolved URL is checked by [`check_url_segments`].
pub fn is_url_path(encode: Encode) -> bool {
    matches!(encode, Encode::UrlSegment | Encode::UrlPathInUrl)
}

/// Refuses a URL whose path segment holding (part of) a parent value is a dot
/// segment (`.`, `..`, or their `%2e` spellings, which URL parsers resolve too).
///
/// `spans` are the byte ranges of `url` that came from parent values.
pub fn check_url_segments(url: &str, spans: &[Range<usize>]) -> Result<()> {
    let path_end = url.find(['?', '#']).unwrap_or(url.len());
    let mut start = 0;
    for segment in url[..path_end].split(['/', '\\']) {
        let range = start..start + segment.len();
        start = range.end + 1;
        let touched = spans.iter().any(|s| {
            if s.is_empty() {
                range.start <= s.start && s.start <= range.end
            } else {
                s.start < range.end && range.start < s.end
            }
        });
        if touched && is_dot_segment(segment) {
            return Err(FaucetError::config(format!(
                "a parent value makes the URL path segment {segment:?} in {url:?}, which would step out of the configured path"
            )));
        }
    }
    Ok(())
}

fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase().replace("%2e", ".");
    lower == "." || lower == ".."
}

/// The file-path rule: one non-empty segment that is neither `.` nor `..`.
fn path_segment(value: &str) -> Result<&str> {
    if value.is_empty() || value == "." || value == ".." || value.contains(['/', '\\', '\0']) {
        return Err(FaucetError::config(format!(
            "the parent value {value:?} cannot be part of a path: it is empty, `.` or `..`, or holds `/`, `\\` or NUL"
        )));
    }
    Ok(value)
}

fn percent_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, URL_UNRESERVED).to_string()
}

/// Each glob character as a one-character class (`*` → `[*]`), which globset
/// and the glob split of the file sources both read as that literal character.
fn escape_glob(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}') {
            out.extend(['[', c, ']']);
        } else {
            out.push(c);
        }
    }
    out
}

/// True when `prefix` already holds a whole authority: `scheme://` followed by
/// a `/` (or `\`, which http URLs read as `/`) that ends it, and no query or fragment.
fn authority_closed(prefix: &str) -> bool {
    let Some(scheme_end) = prefix.find("://") else { return false };
    let after = &prefix[scheme_end + 3..];
    match after.find(['/', '\\', '?', '#']) {
        Some(i) => matches!(after.as_bytes()[i], b'/' | b'\\') && !after.contains(['?', '#']),
        None => false,
    }
}

/// The value at a dotted path of a record (numeric segments index arrays).
pub fn lookup<'a>(record: &'a Record, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(record, |value, segment| match value {
        Value::Object(map) => map.get(*segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// A value as text: strings raw, arrays comma-joined, anything else as compact JSON.
pub fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(render).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn path_segments_refuse_traversal() {
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "x\0"] {
            for encode in [Encode::PathSegment, Encode::GlobSegment, Encode::FileUrlSegment] {
                assert!(substitute(bad, encode, "").is_err(), "{bad:?} as {encode:?}");
            }
        }
        assert_eq!(substitute("..x", Encode::PathSegment, "").unwrap(), "..x");
        assert_eq!(substitute("a b", Encode::PathSegment, "").unwrap(), "a b");
    }

    #[test]
    #[cfg(feature = "files")]
    fn glob_characters_match_literally() {
        assert_eq!(substitute("*", Encode::GlobSegment, "").unwrap(), "[*]");
        assert_eq!(substitute("[a-c]{x,y}?", Encode::GlobSegment, "").unwrap(), "[[]a-c[]][{]x,y[}][?]");
        let glob = globset::GlobBuilder::new(&format!("d/{}.jsonl", escape_glob("[a-c]*")))
            .literal_separator(true)
            .build()
            .unwrap()
            .compile_matcher();
        assert!(glob.is_match("d/[a-c]*.jsonl"));
        assert!(!glob.is_match("d/b.jsonl") && !glob.is_match("d/a-anything.jsonl"));
    }

    #[test]
    fn file_urls_keep_query_characters_in_the_name() {
        assert_eq!(substitute("a?mode=ro#x%", Encode::FileUrlSegment, "").unwrap(), "a%3Fmode%3Dro%23x%25");
    }

    #[test]
    fn url_values_never_reach_the_authority() {
        for prefix in
            ["", "http:", "http://", "http://host", "http://user@host:80", "http:host/", "http://h/?q="]
        {
            assert!(substitute("x", Encode::UrlPathInUrl, prefix).is_err(), "{prefix:?}");
        }
        let hostile = substitute("127.0.0.1:18081/steal?", Encode::UrlPathInUrl, "http://api.test/").unwrap();
        assert_eq!(hostile, "127.0.0.1%3A18081%2Fsteal%3F");
        assert_eq!(
            substitute("attacker@host", Encode::UrlPathInUrl, "http://h/v1/").unwrap(),
            "attacker%40host"
        );
        assert!(substitute("x", Encode::UrlPathInUrl, "http://h\\").is_ok());
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn dot_segments_from_values_are_refused() {
        let url = "/items/../detail";
        assert!(check_url_segments(url, &[7..9]).is_err());
        assert!(check_url_segments("/items/.%2E/detail", &[8..11]).is_err());
        assert!(check_url_segments("/items/x../detail", &[8..10]).is_ok());
        // Literal dot segments are the config's own business.
        assert!(check_url_segments("/a/../b/x", &[8..9]).is_ok());
        // An empty value that completes a literal `.` is caught too.
        assert!(check_url_segments("/a/./b", &[4..4]).is_err());
    }

    #[test]
    fn lookup_and_render() {
        let r = json!({"id": 7, "user": {"tags": ["x", "y"], "name": "n"}});
        assert_eq!(render(lookup(&r, &["id"]).unwrap()), "7");
        assert_eq!(render(lookup(&r, &["user", "name"]).unwrap()), "n");
        assert_eq!(render(lookup(&r, &["user", "tags"]).unwrap()), "x,y");
        assert_eq!(render(lookup(&r, &["user", "tags", "1"]).unwrap()), "y");
        assert!(lookup(&r, &["nope"]).is_none());
    }
}

//! The registered secret values, and scrubbing them out of messages.
//!
//! The bottom of the secret handling: [`FaucetError`](crate::FaucetError)
//! scrubs every message through [`scrub`], and connection URLs register their
//! credentials ([`register`], [`is_secret_name`]), so this module uses nothing
//! else of the crate. Resolving `${env:…}` templates is the parent module's.

use std::sync::{PoisonError, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use regex::Regex;

/// The registered secrets, and one pattern finding any of their forms.
struct Registry {
    secrets: Vec<String>,
    /// `None` before the first secret, or if the pattern grew too large to
    /// compile (then the secrets are replaced as written only).
    pattern: Option<Regex>,
    /// A secret was registered since `pattern` was built: it is rebuilt by
    /// the next [`scrub`], so registering stays cheap (an OAuth2 refresh).
    stale: bool,
}

impl Registry {
    fn rebuild(&mut self) {
        let mut forms: Vec<String> = self.secrets.iter().flat_map(|s| forms(s)).collect();
        // Longest first, so a secret containing another is replaced whole.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        let pattern = forms.iter().map(|f| spelled(f)).collect::<Vec<_>>().join("|");
        self.pattern = regex::RegexBuilder::new(&pattern).size_limit(64 << 20).build().ok();
        self.stale = false;
    }
}

static REGISTRY: RwLock<Registry> =
    RwLock::new(Registry { secrets: Vec::new(), pattern: None, stale: false });

/// Registers a value that must never appear in a message, in any form.
///
/// Values shorter than 3 characters are not registered: scrubbing them would
/// mangle ordinary text without protecting anything.
pub fn register(value: &str) {
    if value.chars().count() < 3 {
        return;
    }
    let mut registry = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    if registry.secrets.iter().any(|known| known == value) {
        return;
    }
    registry.secrets.push(value.to_owned());
    registry.stale = true;
}

/// Replaces every registered secret in `message` with `***`.
pub fn scrub(message: String) -> String {
    if REGISTRY.read().unwrap_or_else(PoisonError::into_inner).stale {
        let mut registry = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
        if registry.stale {
            registry.rebuild();
        }
    }
    let registry = REGISTRY.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(pattern) = &registry.pattern {
        return match pattern.replace_all(&message, "***") {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(scrubbed) => scrubbed,
        };
    }
    let mut out = message;
    let mut longest_first: Vec<&String> = registry.secrets.iter().collect();
    longest_first.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in longest_first {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

/// The forms of `secret` to look for, each also matched percent-encoded:
/// itself, its base64, and the base64 characters that encode only its bytes
/// wherever it sits in a longer base64 text (`user:secret` in basic auth).
fn forms(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut out = vec![secret.to_owned(), STANDARD.encode(bytes), URL_SAFE.encode(bytes)];
    for offset in 0..3 {
        // A base64 character encodes 6 bits: keep those that come only from `secret`'s bytes.
        let padded: Vec<u8> = [&[0u8; 3][..offset], bytes].concat();
        let first = (offset * 8).div_ceil(6);
        let last = (padded.len() * 8) / 6;
        for engine in [&STANDARD, &URL_SAFE] {
            let encoded = engine.encode(&padded);
            if last > first + 3 {
                out.push(encoded[first..last].to_owned());
            }
        }
    }
    out
}

/// A regex matching `form` as written, with any of its characters
/// percent-encoded (either case of hex digit), a space as `+`, or `"`, `\`
/// and `/` JSON-escaped.
fn spelled(form: &str) -> String {
    let mut out = String::from("(?:");
    for c in form.chars() {
        if c.is_ascii_alphanumeric() || "-._~".contains(c) {
            out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            continue;
        }
        let mut alternatives = vec![regex::escape(c.encode_utf8(&mut [0; 4]))];
        let mut encoded = String::new();
        for b in c.encode_utf8(&mut [0; 4]).bytes() {
            encoded.push('%');
            for digit in format!("{b:02X}").chars() {
                if digit.is_ascii_digit() {
                    encoded.push(digit);
                } else {
                    encoded.push_str(&format!("[{digit}{}]", digit.to_ascii_lowercase()));
                }
            }
        }
        alternatives.push(encoded);
        match c {
            ' ' => alternatives.push(r"\+".to_owned()),
            '"' | '\\' | '/' => alternatives.push(regex::escape(&format!("\\{c}"))),
            _ => {}
        }
        out.push_str(&format!("(?:{})", alternatives.join("|")));
    }
    out.push(')');
    out
}

/// Which names hold credentials (it decides what a printed URL hides):
/// faucet-credentials' rule, the one faucet-gen refuses literal values by.
pub use faucet_credentials::is_secret_name;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretString;
    use crate::substitute::URL_UNRESERVED;

    #[test]
    fn derived_forms_are_scrubbed() {
        let secret = "p@ss wörd/+\"x-5517";
        register(secret);
        let encoded = percent_encoding::utf8_percent_encode(secret, URL_UNRESERVED).to_string();
        let form: String = url_form(secret);
        let json = serde_json::to_string(secret).unwrap();
        // Each form, and how many characters of it may stay: none, except a
        // JSON string's quotes and, in base64, the characters that also
        // encode the user's bytes, the last one and the padding.
        let mut shown: Vec<(String, usize)> = vec![
            (secret.to_owned(), 0),
            (encoded.clone(), 0),
            (encoded.to_lowercase(), 0),
            (form, 0),
            (json, 2),
        ];
        // Inside a longer base64 text at each alignment (a basic-auth header), in both alphabets.
        for user in ["a", "ab", "abc"] {
            let pair = format!("{user}:{secret}");
            let mixed = (user.len() + 1) * 8 / 6 + 1 + 3;
            shown.push((STANDARD.encode(&pair), mixed));
            shown.push((URL_SAFE.encode(&pair), mixed));
        }
        for (form, may_stay) in shown {
            let message = scrub(format!("server said <{form}>"));
            let left = message.strip_prefix("server said <").and_then(|m| m.strip_suffix('>')).unwrap();
            assert!(left.contains("***") && left.len() - 3 <= may_stay, "{form} -> {message}");
        }
        assert_eq!(scrub("nothing to hide here".to_owned()), "nothing to hide here");
        assert_eq!(format!("{:?}", SecretString::new("direct-8826".into())), "\"***\"");
        assert_eq!(scrub("direct-8826".into()), "***");
    }

    /// `application/x-www-form-urlencoded`, as an OAuth2 token request body sends it.
    fn url_form(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b' ' => "+".to_owned(),
                b if b.is_ascii_alphanumeric() || b"*-._".contains(&b) => (b as char).to_string(),
                b => format!("%{b:02X}"),
            })
            .collect()
    }
}

//! The one rule for where a faucet config carries credentials, shared by
//! build time (faucet-gen refuses a literal credential and decides which
//! `${env:…}` values are masked) and run time (faucet-runtime masks and
//! redacts), so the two can never disagree:
//!
//! - [`is_secret_name`]: which setting, header and query parameter names hold
//!   credentials;
//! - [`url_credentials`]: where a URL carries them: its userinfo password and
//!   the values of its query parameters whose (percent-decoded) names say so.
//!
//! A URL is read through [`Chars`]: a resolved `str`, or a config value whose
//! `${…}` references stay opaque until run time.

use std::ops::Range;

/// True when a setting, header or query parameter named `name` holds a
/// credential: its last word is `password`, `secret`, `token`, `key`,
/// `signature`, `auth`, `cookie`, … (`sasl.password`, `X-Api-Key`,
/// `accessToken`, `ssl.key.pem`), unless the name says it is something else:
/// a pagination token (`page_token`, `nextToken`) or a non-secret key
/// (`public_key`, `sort_key`, `ssl-key`, a path).
pub fn is_secret_name(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last().map(String::as_str) else { return false };
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let lower = name.to_ascii_lowercase();
    if ["token", "tokens"].iter().any(|t| last.ends_with(t)) {
        return !["page", "next", "continuation", "cursor", "sync", "resume", "start"]
            .iter()
            .any(|w| lower.contains(w));
    }
    if ["password", "passwd", "passphrase", "secret", "apikey"].iter().any(|s| last.ends_with(s)) {
        return true;
    }
    if last == "key" || last == "keys" {
        return !has(&[
            "public",
            "partition",
            "sort",
            "primary",
            "foreign",
            "idempotency",
            "cache",
            "routing",
            "shard",
            "row",
            "object",
            "record",
            "message",
            "dedup",
            "group",
            "hash",
            "lookup",
            "order",
            "join",
            "index",
            "ssl",
            "tls",
        ]);
    }
    if last == "pem" {
        return words.len() >= 2 && words[words.len() - 2] == "key";
    }
    ["pwd", "auth", "authorization", "credential", "credentials", "signature", "sig", "cookie"]
        .contains(&last)
}

/// The lowercase words of a name, split at non-alphanumerics and camelCase
/// humps (`X-Api-Key` → `x`, `api`, `key`; `accessToken` → `access`, `token`).
pub fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut word));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
}

/// Percent-decodes a query parameter's name or value (`+` is a space); a `%`
/// not followed by two hex digits stays as written, and bytes that are not
/// UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |i: usize| bytes.get(i).and_then(|&b| char::from(b).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2))
        {
            // Two hex digits: at most 0xFF.
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A value read unit by unit, as [`url_credentials`] reads it: each unit is a
/// literal character or opaque (a `${…}` reference not resolved before run
/// time), so a URL's structure is read only from what is written.
pub trait Chars {
    /// How many units the value has.
    fn unit_count(&self) -> usize;
    /// The literal character at unit `i`, or `None` where it is opaque.
    fn char_at(&self, i: usize) -> Option<char>;
    /// The text of the units in `range`, or `None` when one is opaque.
    fn literal(&self, range: Range<usize>) -> Option<String>;
}

/// A resolved value: its units are its bytes, so ranges are byte ranges.
/// A byte of a non-ASCII character reads as opaque, which changes nothing:
/// every character looked for (`:/?#@&=`) is ASCII.
impl Chars for str {
    fn unit_count(&self) -> usize {
        self.len()
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.as_bytes().get(i).filter(|b| b.is_ascii()).map(|&b| char::from(b))
    }

    fn literal(&self, range: Range<usize>) -> Option<String> {
        self.get(range).map(str::to_owned)
    }
}

/// A credential inside a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCredential {
    /// Its units; never empty (an empty password or value holds no secret).
    pub value: Range<usize>,
    /// Which part of the URL holds it.
    pub part: UrlPart,
}

/// Where in a URL a [`UrlCredential`] sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlPart {
    /// The userinfo password (`scheme://user:password@host/…`); `scheme` is
    /// the units before `://`.
    Password {
        /// The units of the scheme (possibly empty or not literal).
        scheme: Range<usize>,
    },
    /// The value of a query parameter whose name [`is_secret_name`] calls a
    /// credential.
    Query {
        /// The parameter's name, percent-decoded (`pass%77ord` → `password`).
        name: String,
    },
}

/// The credentials in `url`, in order: the userinfo password, then the
/// values of secret-named query parameters.
///
/// The authority follows the first literal `://` and ends at the next literal
/// `/`, `?` or `#`; its password runs from the first `:` to the last `@` in
/// it. The query starts at the first `?` after the authority (anywhere when
/// there is no `://`, so a bare `host/db?password=…` is covered too; a `?`
/// in a fragment counts as well, which hides more, never less) and ends at
/// the next `#`. A parameter whose name is not literal is not judged.
pub fn url_credentials<C: Chars + ?Sized>(url: &C) -> Vec<UrlCredential> {
    let len = url.unit_count();
    let is = |i: usize, c: char| url.char_at(i) == Some(c);
    let find = |range: Range<usize>, c: char| range.into_iter().find(|&i| is(i, c));
    let mut out = Vec::new();
    let mut rest_from = 0;
    let separator = (0..len.saturating_sub(2)).find(|&i| is(i, ':') && is(i + 1, '/') && is(i + 2, '/'));
    if let Some(sep) = separator {
        let start = sep + 3;
        let end = ['/', '?', '#'].iter().filter_map(|&c| find(start..len, c)).min().unwrap_or(len);
        if let Some(at) = (start..end).rev().find(|&i| is(i, '@'))
            && let Some(colon) = find(start..at, ':')
            && colon + 1 < at
        {
            out.push(UrlCredential { value: colon + 1..at, part: UrlPart::Password { scheme: 0..sep } });
        }
        rest_from = end;
    }
    let Some(query) = find(rest_from..len, '?') else { return out };
    let end = find(query..len, '#').unwrap_or(len);
    let mut start = query + 1;
    while start < end {
        let pair_end = find(start..end, '&').unwrap_or(end);
        if let Some(eq) = find(start..pair_end, '=')
            && eq + 1 < pair_end
            && let Some(name) = url.literal(start..eq).map(|n| percent_decode(&n))
            && is_secret_name(&name)
        {
            out.push(UrlCredential { value: eq + 1..pair_end, part: UrlPart::Query { name } });
        }
        start = pair_end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for name in [
            "password",
            "sasl.password",
            "ssl.key.password",
            "ssl.keystore.password",
            "sslpassword",
            "client_secret",
            "sasl.oauthbearer.client.secret",
            "token",
            "access_token",
            "accessToken",
            "X-Auth-Token",
            "X-Amz-Security-Token",
            "session_token",
            "sas_token",
            "api_key",
            "apiKey",
            "apikey",
            "X-Api-Key",
            "key",
            "access_key",
            "secret_access_key",
            "service_account_key",
            "ssl.key.pem",
            "Authorization",
            "Proxy-Authorization",
            "Cookie",
            "sig",
            "X-Amz-Signature",
            "auth",
            "PASSWD",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "username",
            "sasl.username",
            "client_id",
            "access_key_id",
            "token_url",
            "page_token",
            "pageToken",
            "nextToken",
            "continuation_token",
            "cursor",
            "ssl.key.location",
            "ssl.ca.pem",
            "ssl.certificate.pem",
            "public_key",
            "sort_key",
            "partition_key",
            "ssl-key",
            "sslkey",
            "key_file",
            "password_file",
            "auth_type",
            "sslmode",
            "Accept",
            "Content-Type",
            "limit",
            "",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn words_split_at_separators_and_humps() {
        assert_eq!(words("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(words("accessToken"), ["access", "token"]);
        assert_eq!(words("sasl.oauthbearer.client.secret"), ["sasl", "oauthbearer", "client", "secret"]);
        assert_eq!(words("s3Key"), ["s3", "key"]);
        assert_eq!(words("PASSWD"), ["passwd"]);
        assert!(words("--").is_empty());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("pw%40x%zz+y"), "pw@x%zz y");
        assert_eq!(percent_decode("pass%77ord"), "password");
        assert_eq!(percent_decode("caf%C3%a9"), "café");
        // Only two hex digits make an escape (not a sign, not one digit).
        assert_eq!(percent_decode("%+41%-1%4"), "% 41%-1%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        assert_eq!(percent_decode("é%"), "é%");
    }

    /// The credentials of a resolved `url`, as text.
    fn found(url: &str) -> Vec<(String, &str)> {
        url_credentials(url)
            .into_iter()
            .map(|c| {
                let part = match c.part {
                    UrlPart::Password { scheme } => format!("password of {}", &url[scheme]),
                    UrlPart::Query { name } => name,
                };
                (part, &url[c.value])
            })
            .collect()
    }

    #[test]
    fn credentials_of_resolved_urls() {
        assert_eq!(found("postgres://u:s3cret@h:5432/db?x=1"), [("password of postgres".into(), "s3cret")]);
        assert!(found("postgres://u@h/db").is_empty());
        assert_eq!(found("redis://:pw%40x@h/0"), [("password of redis".into(), "pw%40x")]);
        assert_eq!(found("mysql://h/db?password=x@y"), [("password".into(), "x@y")]);
        assert_eq!(
            found("postgres://u@h/db?sslmode=require&password=pw&sslpassword=k&sslkey=/k.pem#f"),
            [("password".into(), "pw"), ("sslpassword".into(), "k")]
        );
        assert_eq!(found("postgres://u@h/db?pass%77ord=pw&password=&password"), [("password".into(), "pw")]);
        // The password runs from the first `:` to the last `@` of the authority.
        assert_eq!(found("postgres://u:a:b@c@h/db"), [("password of postgres".into(), "a:b@c")]);
        assert!(found("postgres://u:@h/db").is_empty());
        // A `@` or `:` after the authority is not userinfo.
        assert!(found("https://h/a:b@c").is_empty());
        // A `?` in the fragment is read as a query too: more is hidden, never less.
        assert_eq!(found("https://h/a#?password=x"), [("password".into(), "x")]);
        assert_eq!(
            found("https://u:p@h?a=1&client_secret=s"),
            [("password of https".into(), "p"), ("client_secret".into(), "s")]
        );
        // No `://`: no userinfo, but the query is still read.
        assert_eq!(found("h/db?api_key=k-1"), [("api_key".into(), "k-1")]);
        assert!(found("host=h password=x").is_empty());
        assert_eq!(found("p://ü:pä@h/?tökén=v"), [("password of p".into(), "pä")]);
        assert_eq!(found("p://h/?clé_password=v"), [("clé_password".into(), "v")]);
    }

    /// A value with opaque units, written with `¤` for each.
    struct Template(Vec<Option<char>>);

    impl Template {
        fn new(s: &str) -> Self {
            Template(s.chars().map(|c| (c != '¤').then_some(c)).collect())
        }
    }

    impl Chars for Template {
        fn unit_count(&self) -> usize {
            self.0.len()
        }

        fn char_at(&self, i: usize) -> Option<char> {
            self.0[i]
        }

        fn literal(&self, range: Range<usize>) -> Option<String> {
            self.0[range].iter().copied().collect()
        }
    }

    #[test]
    fn credentials_around_opaque_units() {
        // (start, end) of each credential's units.
        let values = |s: &str| -> Vec<(usize, usize)> {
            url_credentials(&Template::new(s)).into_iter().map(|c| (c.value.start, c.value.end)).collect()
        };
        assert_eq!(values("postgres://app:¤@host/db"), [(15, 16)]);
        assert_eq!(values("postgres://app:pw@¤/db"), [(15, 17)]);
        // Opaque userinfo or scheme separator: nothing is known to be a password.
        assert!(values("postgres://¤@h/db").is_empty());
        assert!(values("¤/db?x=1").is_empty());
        // An opaque name is not judged; an opaque value is still a credential.
        assert!(values("https://h/x?¤=v").is_empty());
        assert_eq!(values("https://h/x?token=¤"), [(18, 19)]);
        assert_eq!(values("¤?password=pw"), [(11, 13)]);
        let scheme = url_credentials(&Template::new("¤://u:p@h")).remove(0).part;
        assert_eq!(scheme, UrlPart::Password { scheme: 0..1 });
    }
}

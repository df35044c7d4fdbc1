//! The one secret rule: where a config value carries a credential, every
//! character of that credential is read at run time: from `${env:…}`, its
//! alias `${secret:…}`, or `${file:…}`.
//!
//! A literal (or partly literal) credential would be compiled into the binary,
//! so it is a build error, located at the value, with a help line showing the
//! `${env:…}` form. (`${now.…}` is no secret: it counts as literal here.) The positions that carry credentials:
//!
//! - settings that are credentials as a whole (`token`, `password`,
//!   `client_secret`, `secret_access_key`, `sas_token`, …): [`secret`];
//! - the userinfo password of any URL, and its query parameters whose names
//!   say they are credentials (`?password=`, `?api_key=`): [`Position::Url`];
//! - HTTP headers, query parameters and client settings whose names say so
//!   (`Authorization`, `X-Api-Key`, `sasl.password`): [`Position::Named`],
//!   [`Position::Header`].
//!
//! [`credentials`] says which parts of a value are credentials; [`check`]
//! records the `${env:…}` variables read there ([`collecting`]), so the
//! runtime masks only those values and prints hosts, paths and table names in
//! full. Which names are credentials and where a URL carries them is
//! faucet-credentials' rule, the one the runtime masks and redacts by.

use std::cell::RefCell;
use std::ops::Range;

use faucet_credentials::{Chars, UrlPart, words};

use crate::diag::Diagnostics;
use crate::load::Node;
use crate::read::text;
use crate::text::{SecretEnv, Text, TextPart};

/// Where a config value sits, which decides the parts of it that are credentials.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Position<'a> {
    /// A setting that is a credential as a whole (`token`, `password`, …).
    Whole,
    /// A URL: its userinfo password and its secret-named query parameters.
    Url,
    /// A query parameter or client setting with this name: a credential as a
    /// whole when [`is_secret_name`] says so.
    Named(&'a str),
    /// An HTTP header with this name. A secret-named header is a credential
    /// as a whole, except that `Authorization` may start with a literal
    /// scheme (`Bearer ${env:TOKEN}`) and every value of a `Cookie` is one.
    Header(&'a str),
}

thread_local! {
    /// The variables found in secret positions by the running validation.
    static FOUND: RefCell<SecretEnv> = RefCell::new(SecretEnv::default());
}

/// Runs a validation, returning the `${env:…}` variables it found in secret positions.
pub(crate) fn collecting<R>(f: impl FnOnce() -> R) -> (R, SecretEnv) {
    let previous = FOUND.with(|found| found.replace(SecretEnv::default()));
    let result = f();
    (result, FOUND.with(|found| found.replace(previous)))
}

/// Records the variables of `shape` read in a credential (masked whole) and,
/// in a URL, the others (masked where the resolved URL holds credentials).
fn record(shape: &Shape<'_>, credentials: &[Credential], position: Position<'_>) {
    FOUND.with(|found| {
        let mut found = found.borrow_mut();
        for (i, unit) in shape.0.iter().enumerate() {
            let Unit::Ref(TextPart::Env(var)) = unit else { continue };
            if credentials.iter().any(|c| c.range.contains(&i)) {
                found.whole.insert(var.clone());
            } else if matches!(position, Position::Url) {
                found.in_url.insert(var.clone());
            }
        }
    });
}

/// Reads a setting that is a credential as a whole: it must be read at run
/// time (`${env:…}`, `${secret:…}` or `${file:…}`).
pub(crate) fn secret(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, key, diags)?;
    check(node, &t, key, Position::Whole, diags).then_some(t)
}

/// Checks the credentials of `t` (the value of `key`, at `node`) against the
/// rule; false (with an error reported) when one is literal.
pub(crate) fn check(
    node: &Node,
    t: &Text,
    key: &str,
    position: Position<'_>,
    diags: &mut Diagnostics,
) -> bool {
    let shape = Shape::new(t);
    let found = credentials(&shape, key, position);
    record(&shape, &found, position);
    let literal: Vec<&Credential> = found.iter().filter(|c| c.is_literal(&shape)).collect();
    for c in &literal {
        let message = if c.range.clone().any(|i| matches!(shape.0[i], Unit::Ref(TextPart::Now(_)))) {
            format!("{} reads the clock (`${{now.…}}`), which is no secret", c.what)
        } else if c.range.clone().any(|i| matches!(shape.0[i], Unit::Ref(_))) {
            format!(
                "{} mixes literal text with `${{…}}`; the literal part would be compiled into the binary",
                c.what
            )
        } else {
            format!("{} is a literal secret, which would be compiled into the binary", c.what)
        };
        let help = match position {
            Position::Whole | Position::Named(_) => {
                format!("read it from the environment at run time: `{key}: \"${{env:{}}}\"`", c.env)
            }
            Position::Url | Position::Header(_) => {
                let fixed = shape.render_replacing(&literal);
                format!("read it from the environment at run time: `{key}: \"{fixed}\"`")
            }
        };
        diags.error_help(&node.loc, message, help);
    }
    literal.is_empty()
}

/// Which names hold credentials: faucet-credentials' rule, which the runtime
/// applies too when it redacts URLs.
pub use faucet_credentials::is_secret_name;

/// One character of a value, or one `${…}` reference (resolved at run time).
#[derive(Debug, Clone, Copy)]
enum Unit<'a> {
    Char(char),
    Ref(&'a TextPart),
}

/// A value as units, so that its structure (a URL's parts) can be read while
/// its references stay opaque.
struct Shape<'a>(Vec<Unit<'a>>);

impl<'a> Shape<'a> {
    fn new(t: &'a Text) -> Self {
        let mut units = Vec::new();
        for part in &t.0 {
            match part {
                TextPart::Lit(s) => units.extend(s.chars().map(Unit::Char)),
                _ => units.push(Unit::Ref(part)),
            }
        }
        Shape(units)
    }

    /// The first literal `c` in `range`.
    fn find(&self, range: Range<usize>, c: char) -> Option<usize> {
        range.into_iter().find(|&i| matches!(self.0[i], Unit::Char(x) if x == c))
    }

    /// `range` as written in the config (references as `${…}`).
    fn render(&self, range: Range<usize>) -> String {
        let mut out = String::new();
        for unit in &self.0[range] {
            match unit {
                Unit::Char('{') if out.ends_with('$') => out.push_str("${"),
                Unit::Char(c) => out.push(*c),
                Unit::Ref(TextPart::Env(var)) => out.push_str(&format!("${{env:{var}}}")),
                Unit::Ref(TextPart::File(path)) => out.push_str(&format!("${{file:{path}}}")),
                Unit::Ref(TextPart::Now(now)) => out.push_str(&format!("${{now.{}}}", now.as_written())),
                Unit::Ref(TextPart::Shard(value)) => {
                    out.push_str(&format!("${{shard.{}}}", value.as_written()))
                }
                Unit::Ref(TextPart::Parent { path, .. }) => {
                    let row = crate::read::parent_row().unwrap_or_else(|| "parent".into());
                    out.push_str(&format!("${{{row}.{}}}", path.join(".")));
                }
                Unit::Ref(TextPart::Lit(s)) => out.push_str(s),
            }
        }
        out
    }

    /// The whole value with each of `credentials` replaced by its `${env:…}` form.
    fn render_replacing(&self, credentials: &[&Credential]) -> String {
        let mut sorted: Vec<&&Credential> = credentials.iter().collect();
        sorted.sort_by_key(|c| c.range.start);
        let mut out = String::new();
        let mut at = 0;
        for c in sorted {
            out.push_str(&self.render(at..c.range.start));
            out.push_str(&format!("${{env:{}}}", c.env));
            at = c.range.end;
        }
        out.push_str(&self.render(at..self.0.len()));
        out
    }
}

/// Read by faucet-credentials' URL rule: a reference is an opaque unit.
impl Chars for Shape<'_> {
    fn unit_count(&self) -> usize {
        self.0.len()
    }

    fn char_at(&self, i: usize) -> Option<char> {
        match self.0[i] {
            Unit::Char(c) => Some(c),
            Unit::Ref(_) => None,
        }
    }

    /// The text of `range` when it has no reference.
    fn literal(&self, range: Range<usize>) -> Option<String> {
        self.0[range]
            .iter()
            .map(|u| match u {
                Unit::Char(c) => Some(*c),
                Unit::Ref(_) => None,
            })
            .collect()
    }
}

/// A credential inside a value.
#[derive(Debug)]
struct Credential {
    /// Its units in the value's [`Shape`].
    range: Range<usize>,
    /// What it is, for messages: "`token`", "the password in `base_url`".
    what: String,
    /// The environment variable the help line suggests.
    env: String,
    /// A setting that is a credential as a whole: empty, it is still a literal.
    whole: bool,
}

impl Credential {
    /// True when a character of it is written in the config or known to
    /// anyone (`${now.…}`); an empty credential in a URL is no secret, an
    /// empty setting is a literal one.
    fn is_literal(&self, shape: &Shape<'_>) -> bool {
        let units = &shape.0[self.range.clone()];
        units.iter().any(|u| matches!(u, Unit::Char(_) | Unit::Ref(TextPart::Now(_))))
            || (units.is_empty() && self.whole)
    }
}

/// The credentials in a value at `position` (the value of `key`).
fn credentials(shape: &Shape<'_>, key: &str, position: Position<'_>) -> Vec<Credential> {
    let all = 0..shape.0.len();
    let whole = |name: &str| Credential {
        range: all.clone(),
        what: format!("`{name}`"),
        env: env_name(name),
        whole: true,
    };
    match position {
        Position::Whole => vec![whole(key)],
        Position::Named(name) if is_secret_name(name) => vec![whole(name)],
        Position::Named(_) => Vec::new(),
        Position::Header(name) if name.eq_ignore_ascii_case("cookie") => {
            let mut out = Vec::new();
            let mut start = 0;
            while start < all.end {
                let end = shape.find(start..all.end, ';').unwrap_or(all.end);
                if let Some(eq) = shape.find(start..end, '=') {
                    let cookie = shape.literal(start..eq).unwrap_or_default();
                    let cookie = cookie.trim();
                    out.push(Credential {
                        range: eq + 1..end,
                        what: format!("the value of cookie `{cookie}` in header `{name}`"),
                        env: env_name(cookie),
                        whole: false,
                    });
                }
                start = end + 1;
            }
            out
        }
        Position::Header(name) if is_secret_name(name) => {
            let mut c = whole(name);
            c.what = format!("header `{name}`");
            c.whole = false;
            if words(name).last().is_some_and(|w| w == "authorization") {
                c.range.start = auth_scheme_end(shape);
            }
            vec![c]
        }
        Position::Header(_) => Vec::new(),
        Position::Url => url_credentials(shape, key),
    }
}

/// Where the credentials of an `Authorization` value start: after a literal
/// scheme and its spaces (`Bearer `), or at 0.
fn auth_scheme_end(shape: &Shape<'_>) -> usize {
    let scheme = shape
        .0
        .iter()
        .take_while(|u| matches!(u, Unit::Char(c) if c.is_ascii_alphanumeric() || "-._~+/".contains(*c)))
        .count();
    let spaces = shape.0[scheme..].iter().take_while(|u| matches!(u, Unit::Char(' '))).count();
    if scheme > 0 && spaces > 0 { scheme + spaces } else { 0 }
}

/// A URL's userinfo password and secret-named query values (where
/// faucet-credentials finds them), with their messages and help variables.
fn url_credentials(shape: &Shape<'_>, key: &str) -> Vec<Credential> {
    faucet_credentials::url_credentials(shape)
        .into_iter()
        .map(|c| {
            let (what, env) = match c.part {
                UrlPart::Password { scheme } => {
                    let scheme = shape.literal(scheme).unwrap_or_default();
                    let env = if scheme.is_empty() {
                        "PASSWORD".to_owned()
                    } else {
                        env_name(&format!("{scheme}_password"))
                    };
                    (format!("the password in `{key}`"), env)
                }
                UrlPart::Query { name } => {
                    (format!("the `{name}` query parameter in `{key}`"), env_name(&name))
                }
            };
            Credential { range: c.value, what, env, whole: false }
        })
        .collect()
}

/// An environment variable name for a setting: `sasl.password` → `SASL_PASSWORD`.
fn env_name(key: &str) -> String {
    let name = words(key).join("_").to_ascii_uppercase();
    match name.as_str() {
        "" => "SECRET".to_owned(),
        "VALUE" => "API_KEY".to_owned(),
        _ if name.starts_with(|c: char| c.is_ascii_digit()) => format!("SECRET_{name}"),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_text;

    fn literal_credentials(s: &str, position: Position<'_>) -> Vec<String> {
        let t = parse_text(s).unwrap();
        let shape = Shape::new(&t);
        credentials(&shape, "url", position)
            .into_iter()
            .filter(|c| c.is_literal(&shape))
            .map(|c| c.what)
            .collect()
    }

    #[test]
    fn url_positions() {
        let url = Position::Url;
        assert!(literal_credentials("postgres://app:${env:PW}@host/db", url).is_empty());
        assert!(literal_credentials("postgres://app@host/db?sslmode=require", url).is_empty());
        assert!(literal_credentials("postgres://app:@host/db", url).is_empty());
        assert!(literal_credentials("${env:DATABASE_URL}", url).is_empty());
        assert!(literal_credentials("postgres://${env:USERINFO}@h/db", url).is_empty());
        assert!(literal_credentials("https://h/x?password=&a=1", url).is_empty());
        assert_eq!(literal_credentials("postgres://app:pw@${env:HOST}/db", url), ["the password in `url`"]);
        assert_eq!(literal_credentials("postgres://app:${env:A}x@h/db", url), ["the password in `url`"]);
        assert_eq!(
            literal_credentials("postgres://h/db?password=pw", url),
            ["the `password` query parameter in `url`"]
        );
        assert_eq!(
            literal_credentials("mysql://h/db?pass%77ord=pw#x", url),
            ["the `password` query parameter in `url`"]
        );
        assert_eq!(
            literal_credentials("https://u:p@h/t?a=1&client_secret=s${env:X}", url),
            ["the password in `url`", "the `client_secret` query parameter in `url`"]
        );
        // A `@` or `:` after the authority is not userinfo.
        assert!(literal_credentials("https://h/a:b@c", url).is_empty());
    }

    #[test]
    fn header_positions() {
        let auth = Position::Header("Authorization");
        assert!(literal_credentials("Bearer ${env:T}", auth).is_empty());
        assert!(literal_credentials("${env:T}", auth).is_empty());
        assert_eq!(literal_credentials("Bearer abc", auth), ["header `Authorization`"]);
        assert_eq!(literal_credentials("Bearer a${env:T}", auth), ["header `Authorization`"]);
        assert_eq!(literal_credentials("abc", Position::Header("X-Api-Key")), ["header `X-Api-Key`"]);
        assert!(literal_credentials("abc", Position::Header("Accept")).is_empty());
        let cookie = Position::Header("Cookie");
        assert!(literal_credentials("session=${env:S}; theme=${env:T}", cookie).is_empty());
        assert_eq!(
            literal_credentials("session=${env:S}; id=1", cookie),
            ["the value of cookie `id` in header `Cookie`"]
        );
        assert_eq!(literal_credentials("lit${env:X}", Position::Whole), ["`url`"]);
        assert_eq!(literal_credentials("", Position::Whole), ["`url`"]);
        assert!(literal_credentials("${env:A}${env:B}", Position::Whole).is_empty());
    }

    #[test]
    fn secret_and_file_are_credential_sources() {
        assert!(literal_credentials("${secret:T}", Position::Whole).is_empty());
        assert!(literal_credentials("${file:/run/secrets/t}", Position::Whole).is_empty());
        assert!(literal_credentials("Bearer ${file:./token}", Position::Header("Authorization")).is_empty());
        assert!(literal_credentials("postgres://app:${secret:PW}@h/db", Position::Url).is_empty());
        assert!(literal_credentials("postgres://app:${file:pw.txt}@h/db", Position::Url).is_empty());
        // The clock is no secret.
        assert_eq!(literal_credentials("${now.unix}", Position::Whole), ["`url`"]);
    }
}

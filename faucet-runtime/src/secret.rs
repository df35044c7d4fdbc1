//! Run-time values from the environment, and keeping them out of every message.
//!
//! A config string such as `"postgres://app:${env:DB_PASSWORD}@host/db"` is
//! compiled into [`Template`] parts; the environment is read only when the
//! pipeline is built at run time, so no secret is ever baked into the binary.
//! Every value read this way is registered, and [`scrub`] (called by every
//! [`FaucetError`](crate::FaucetError) constructor) replaces it with `***`.

use std::fmt;
use std::sync::{PoisonError, RwLock};

use crate::error::{FaucetError, Result};
use crate::substitute::{Encode, check_url_segments, is_url_path, substitute};

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// One piece of a config string: literal text, an environment variable, or a
/// value of a matrix parent's record.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// Text taken as written.
    Lit(&'static str),
    /// The value of this environment variable, read at run time.
    Env(&'static str),
    /// `${parent.path}`: the value at this dotted path of the parent record,
    /// substituted safely for where it lands ([`crate::substitute`]).
    Parent(&'static [&'static str], Encode),
}

/// A config string with `${env:…}` references, as the generator emits it.
#[derive(Clone, Copy)]
pub struct Template(pub &'static [Part]);

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Print the template with its references, never the resolved values.
        f.write_str("Template(\"")?;
        for part in self.0 {
            match part {
                Part::Lit(text) => f.write_str(text)?,
                Part::Env(var) => write!(f, "${{env:{var}}}")?,
                Part::Parent(path, _) => write!(f, "${{parent.{}}}", path.join("."))?,
            }
        }
        f.write_str("\")")
    }
}

impl Template {
    /// Resolves the references against the process environment.
    ///
    /// A missing variable is a `Config` error naming it (never its value).
    /// Every value read is registered as a secret.
    pub fn resolve(&self) -> Result<String> {
        self.resolve_with(None)
    }

    /// Resolves the references, taking `${parent.…}` values from `parent`
    /// (a matrix child's parent record).
    pub fn resolve_with(&self, parent: Option<&crate::Record>) -> Result<String> {
        let mut out = String::new();
        // Where parent values landed in a URL path, checked as a whole at the end.
        let mut url_spans = Vec::new();
        for part in self.0 {
            match part {
                Part::Lit(text) => out.push_str(text),
                Part::Env(var) => {
                    let value = std::env::var(var).map_err(|_| {
                        FaucetError::config(format!(
                            "environment variable `{var}` is not set (referenced as ${{env:{var}}})"
                        ))
                    })?;
                    register(&value);
                    out.push_str(&value);
                }
                Part::Parent(path, encode) => {
                    let Some(record) = parent else {
                        return Err(FaucetError::config(
                            "a `${parent…}` reference needs the parent's record",
                        ));
                    };
                    let value = crate::matrix::lookup(record, path).ok_or_else(|| {
                        FaucetError::config(format!("the parent record has no `{}`", path.join(".")))
                    })?;
                    let value = substitute(&crate::matrix::render(value), *encode, &out)?;
                    if is_url_path(*encode) {
                        url_spans.push(out.len()..out.len() + value.len());
                    }
                    out.push_str(&value);
                }
            }
        }
        if !url_spans.is_empty() {
            check_url_segments(&out, &url_spans)?;
        }
        Ok(out)
    }
}

/// Registers a value that must never appear in a message.
///
/// Values shorter than 3 characters are not registered: scrubbing them would
/// mangle ordinary text without protecting anything.
pub fn register(value: &str) {
    if value.chars().count() < 3 {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    if !secrets.iter().any(|known| known == value) {
        secrets.push(value.to_owned());
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Replaces every registered secret in `message` with `***`.
pub fn scrub(message: String) -> String {
    let secrets = SECRETS.read().unwrap_or_else(PoisonError::into_inner);
    if secrets.is_empty() || !secrets.iter().any(|s| message.contains(s.as_str())) {
        return message;
    }
    let mut out = message;
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

/// A resolved value that may hold a secret: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a value.
    pub fn new(value: String) -> Self {
        SecretString(value)
    }

    /// The value itself, for the connector that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn resolves_and_scrubs() {
        // SAFETY: the variable name is unique to this test; nothing else reads it.
        unsafe { std::env::set_var("FAUCET_TEST_SECRET_RESOLVES", "hunter2-very-secret") };
        let t = Template(&[Part::Lit("pw="), Part::Env("FAUCET_TEST_SECRET_RESOLVES")]);
        assert_eq!(t.resolve().unwrap(), "pw=hunter2-very-secret");
        let e = FaucetError::sink("login failed for pw=hunter2-very-secret");
        assert_eq!(e.message(), "login failed for pw=***");
        assert!(!format!("{e:?}").contains("hunter2"));
        assert!(!e.to_string().contains("hunter2"));
        assert!(format!("{t:?}").contains("${env:FAUCET_TEST_SECRET_RESOLVES}"));
    }

    #[test]
    fn parent_values_are_substituted_safely() {
        let parent = serde_json::json!({"id": 7, "name": "a b/c", "dir": "../etc"});
        let t =
            Template(&[Part::Lit("out/"), Part::Parent(&["id"], Encode::PathSegment), Part::Lit(".jsonl")]);
        assert_eq!(t.resolve_with(Some(&parent)).unwrap(), "out/7.jsonl");
        let hostile = Template(&[Part::Lit("out/"), Part::Parent(&["dir"], Encode::PathSegment)]);
        assert!(
            hostile.resolve_with(Some(&parent)).unwrap_err().message().contains("cannot be part of a path")
        );
        let slash = Template(&[Part::Parent(&["name"], Encode::PathSegment)]);
        assert!(slash.resolve_with(Some(&parent)).is_err());
        let url = Template(&[Part::Lit("/users/"), Part::Parent(&["name"], Encode::UrlSegment)]);
        assert_eq!(url.resolve_with(Some(&parent)).unwrap(), "/users/a%20b%2Fc");
        assert!(Template(&[Part::Parent(&["missing"], Encode::Raw)]).resolve_with(Some(&parent)).is_err());
        let dots =
            Template(&[Part::Lit("/items/"), Part::Parent(&["up"], Encode::UrlSegment), Part::Lit("/x")]);
        assert!(dots.resolve_with(Some(&serde_json::json!({"up": ".."}))).is_err());
    }

    #[test]
    fn missing_variable_is_named() {
        let t = Template(&[Part::Env("FAUCET_TEST_DEFINITELY_UNSET")]);
        let e = t.resolve().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.message().contains("FAUCET_TEST_DEFINITELY_UNSET"));
    }
}

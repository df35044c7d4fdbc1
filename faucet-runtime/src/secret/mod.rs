//! Run-time values from the environment, and keeping them out of every message.
//!
//! A config string such as `"postgres://app:${env:DB_PASSWORD}@host/db"` is
//! compiled into [`Template`] parts; the environment is read only when the
//! pipeline is built at run time, so no secret is ever baked into the binary.
//! Only values in secret positions are registered (the generator decides
//! which, with the rule that refuses literal credentials): [`scrub`] (called
//! by every [`FaucetError`] constructor) replaces them with `***`, in every
//! form a request may carry them in: as written, percent- or form-encoded,
//! JSON-escaped, and inside base64 (a basic-auth header). Paths, hosts and
//! table names from the environment print in full.
//!
//! The registry itself is the `registry` submodule, at the bottom of the
//! crate: every error message passes through it, so it uses nothing above it.

use std::fmt;

use crate::error::{FaucetError, Result};
use crate::substitute::{Encode, check_url_segments, is_url_path, lookup, render, substitute};

pub(crate) mod registry;

/// The registry's public face, at the paths it has always had.
pub use registry::{is_secret_name, register, scrub};

/// One piece of a config string: literal text, an environment variable, or a
/// value of a matrix parent's record.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// Text taken as written.
    Lit(&'static str),
    /// The value of this environment variable, read at run time; no secret
    /// (a path, a host): errors name it.
    Env(&'static str),
    /// An environment variable in a secret position (a token, a password):
    /// its value is registered, so no message carries it.
    Secret(&'static str),
    /// An environment variable inside a URL, outside its known credentials:
    /// the credentials of the resolved URL (userinfo password, secret-named
    /// query values) are registered, the rest prints in full.
    InUrl(&'static str),
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
                Part::Env(var) | Part::Secret(var) | Part::InUrl(var) => write!(f, "${{env:{var}}}")?,
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
    /// Values in secret positions are registered (see [`Part`]).
    pub fn resolve(&self) -> Result<String> {
        self.resolve_with(None)
    }

    /// Resolves the references, taking `${parent.…}` values from `parent`
    /// (a matrix child's parent record).
    pub fn resolve_with(&self, parent: Option<&crate::Record>) -> Result<String> {
        let mut out = String::new();
        // Where parent values landed in a URL path, checked as a whole at the end.
        let mut url_spans = Vec::new();
        // Values read inside a URL whose credentials are only known once resolved.
        let mut in_url = Vec::new();
        for part in self.0 {
            match part {
                Part::Lit(text) => out.push_str(text),
                Part::Env(var) | Part::Secret(var) | Part::InUrl(var) => {
                    let value = std::env::var(var).map_err(|_| {
                        FaucetError::config(format!(
                            "environment variable `{var}` is not set (referenced as ${{env:{var}}})"
                        ))
                    })?;
                    match part {
                        Part::Secret(_) => register(&value),
                        Part::InUrl(_) => in_url.push(value.clone()),
                        _ => {}
                    }
                    out.push_str(&value);
                }
                Part::Parent(path, encode) => {
                    let Some(record) = parent else {
                        return Err(FaucetError::config(
                            "a `${parent…}` reference needs the parent's record",
                        ));
                    };
                    let value = lookup(record, path).ok_or_else(|| {
                        FaucetError::config(format!("the parent record has no `{}`", path.join(".")))
                    })?;
                    let value = substitute(&render(value), *encode, &out)?;
                    if is_url_path(*encode) {
                        url_spans.push(out.len()..out.len() + value.len());
                    }
                    out.push_str(&value);
                }
            }
        }
        if !in_url.is_empty() {
            register_url_credentials(&out, &in_url);
        }
        if !url_spans.is_empty() {
            check_url_segments(&out, &url_spans)?;
        }
        Ok(out)
    }
}

/// Registers the credentials of a resolved URL: its userinfo password and the
/// values of its secret-named query parameters (see
/// [`dburl`](crate::connectors::dburl)). When `url` has no `scheme://` it
/// cannot be read as a URL (a `key=value` connection string), so the
/// environment values in it (`from_env`) are registered whole.
fn register_url_credentials(url: &str, from_env: &[String]) {
    let scheme = url.find("://").map(|at| &url[..at]);
    if scheme.is_some_and(|s| !s.is_empty() && !s.contains(['/', '?', '#', ' ', '='])) {
        crate::connectors::dburl::register_password(url);
    } else {
        from_env.iter().for_each(|value| register(value));
    }
}

/// A resolved value that may hold a secret: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a value, registering it (see [`register`]) so no message carries it.
    pub fn new(value: String) -> Self {
        register(&value);
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
        let t = Template(&[Part::Lit("pw="), Part::Secret("FAUCET_TEST_SECRET_RESOLVES")]);
        assert_eq!(t.resolve().unwrap(), "pw=hunter2-very-secret");
        let e = FaucetError::sink("login failed for pw=hunter2-very-secret");
        assert_eq!(e.message(), "login failed for pw=***");
        assert!(!format!("{e:?}").contains("hunter2"));
        assert!(!e.to_string().contains("hunter2"));
        assert!(format!("{t:?}").contains("${env:FAUCET_TEST_SECRET_RESOLVES}"));
    }

    #[test]
    #[allow(unsafe_code)]
    fn only_secret_positions_are_masked() {
        // SAFETY: the variable names are unique to this test; nothing else reads them.
        unsafe {
            std::env::set_var("FAUCET_TEST_MASK_PATH", "/data/in/orders-4411.csv");
            std::env::set_var("FAUCET_TEST_MASK_URL", "postgres://app:pw-5093@db-7120.internal/shop");
            std::env::set_var("FAUCET_TEST_MASK_QUERY", "https://api-3390.test/v1?api_key=k-8841&page=2");
            std::env::set_var("FAUCET_TEST_MASK_DSN", "host=db-6620 password=dsn-2271");
        }
        let path = Template(&[Part::Env("FAUCET_TEST_MASK_PATH")]).resolve().unwrap();
        assert_eq!(
            FaucetError::source(format!("{path}:3: invalid UTF-8")).message(),
            format!("{path}:3: invalid UTF-8")
        );
        let url = Template(&[Part::InUrl("FAUCET_TEST_MASK_URL")]).resolve().unwrap();
        assert_eq!(
            FaucetError::sink(format!("connecting to {url}")).message(),
            "connecting to postgres://app:***@db-7120.internal/shop"
        );
        let api = Template(&[Part::InUrl("FAUCET_TEST_MASK_QUERY")]).resolve().unwrap();
        assert_eq!(
            FaucetError::source(format!("GET {api}")).message(),
            "GET https://api-3390.test/v1?api_key=***&page=2"
        );
        // Not a URL: the whole value is taken as a secret.
        let dsn = Template(&[Part::InUrl("FAUCET_TEST_MASK_DSN")]).resolve().unwrap();
        assert_eq!(FaucetError::sink(format!("connecting to {dsn}")).message(), "connecting to ***");
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

//! Run-time values from the environment, files and the clock, and keeping
//! secrets out of every message.
//!
//! A config string such as `"postgres://app:${env:DB_PASSWORD}@host/db"` is
//! compiled into [`Template`] parts; the environment (and a `${file:…}`) is
//! read only when the pipeline is built at run time, so no secret is ever
//! baked into the binary. Environment values are registered only in secret
//! positions (the generator decides which, with the rule that refuses
//! literal credentials); a file's contents always are. [`scrub`] (called
//! by every [`FaucetError`] constructor) replaces them with `***`, in every
//! form a request may carry them in: as written, percent- or form-encoded,
//! JSON-escaped, and inside base64 (a basic-auth header). Paths, hosts and
//! table names from the environment print in full.
//!
//! The registry itself is the `registry` submodule, at the bottom of the
//! crate: every error message passes through it, so it uses nothing above it.

use std::fmt;

use crate::clock::Now;
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
    /// `${file:PATH}`: the file's contents (at most [`MAX_FILE_BYTES`],
    /// trailing whitespace trimmed), read at run time; always registered, as
    /// it may hold a credential. A relative path is from the working directory.
    File(&'static str),
    /// `${now.…}`: the run's clock ([`crate::clock`]).
    Now(Now),
    /// `${shard.index}` or `${shard.count}`: the shard being run ([`crate::shard`]).
    Shard(crate::shard::ShardValue),
    /// `${parent.path}`: the value at this dotted path of the parent record,
    /// substituted safely for where it lands ([`crate::substitute`]).
    Parent(&'static [&'static str], Encode),
}

/// The largest file a `${file:…}` reads: it holds a token or a certificate,
/// and a stray path (a data file, `/dev/zero`) must not exhaust memory.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The contents of the `${file:…}` at `path`, trailing whitespace trimmed.
/// Errors name the path, never the contents.
fn read_file(path: &str) -> Result<String> {
    use std::io::Read as _;
    let failed = |e: std::io::Error| FaucetError::config(format!("cannot read `${{file:{path}}}`: {e}"));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(FaucetError::config(format!(
            "`${{file:{path}}}` is larger than {} MiB: a `${{file:…}}` holds a small value such as a token",
            MAX_FILE_BYTES >> 20
        )));
    }
    let mut value = String::from_utf8_lossy(&bytes).into_owned();
    value.truncate(value.trim_end().len());
    Ok(value)
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
                Part::File(path) => write!(f, "${{file:{path}}}")?,
                Part::Now(now) => write!(f, "${{now.{now}}}")?,
                Part::Shard(value) => write!(f, "${{shard.{value}}}")?,
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
                Part::File(path) => {
                    let value = read_file(path)?;
                    register(&value);
                    out.push_str(&value);
                }
                Part::Now(now) => out.push_str(&crate::clock::current().render(*now)?),
                Part::Shard(value) => out.push_str(&crate::shard::render(*value)?),
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
    fn file_values_are_read_trimmed_and_masked() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "tok-file-6631\n\t \n").unwrap();
        let path: &'static str = Box::leak(token.display().to_string().into_boxed_str());
        let t = Template(Box::leak(Box::new([Part::Lit("Bearer "), Part::File(path)])));
        assert_eq!(t.resolve().unwrap(), "Bearer tok-file-6631");
        let e = FaucetError::source("server said: bad token tok-file-6631");
        assert_eq!(e.message(), "server said: bad token ***");
        assert!(!format!("{e:?}").contains("6631"));
        let shown = format!("{t:?}");
        assert!(shown.contains("${file:") && !shown.contains("tok-file"), "{shown}");
        // Leading whitespace stays, as faucet-stream keeps it.
        std::fs::write(&token, "  lead-7719 \r\n").unwrap();
        assert_eq!(t.resolve().unwrap(), "Bearer   lead-7719");
    }

    #[test]
    fn file_errors_name_the_path_not_the_contents() {
        let dir = tempfile::tempdir().unwrap();
        let missing: &'static str =
            Box::leak(dir.path().join("nope.txt").display().to_string().into_boxed_str());
        let e = Template(Box::leak(Box::new([Part::File(missing)]))).resolve().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.message().contains(missing) && e.message().contains("cannot read"), "{}", e.message());
        let big = dir.path().join("big.txt");
        let mut contents = "big-secret-8120 ".repeat(70_000);
        contents.truncate(MAX_FILE_BYTES as usize + 1);
        std::fs::write(&big, &contents).unwrap();
        let big: &'static str = Box::leak(big.display().to_string().into_boxed_str());
        let e = Template(Box::leak(Box::new([Part::File(big)]))).resolve().unwrap_err();
        assert!(e.message().contains("larger than 1 MiB") && e.message().contains(big), "{}", e.message());
        assert!(!e.message().contains("big-secret"), "{}", e.message());
        // Exactly the limit is read.
        std::fs::write(dir.path().join("big.txt"), &contents[..MAX_FILE_BYTES as usize]).unwrap();
        assert!(Template(Box::leak(Box::new([Part::File(big)]))).resolve().is_ok());
    }

    #[tokio::test]
    async fn now_parts_render_the_run_clock() {
        let clock = crate::clock::Clock::parse("2026-03-08T14:05:09Z").unwrap();
        let t = Template(&[
            Part::Lit("out/dt="),
            Part::Now(Now::Date),
            Part::Lit("/"),
            Part::Now(Now::Strftime("%H%M")),
            Part::Lit(".jsonl"),
        ]);
        let out = crate::clock::scope(Some(clock), async { t.resolve() }).await.unwrap();
        assert_eq!(out, "out/dt=2026-03-08/1405.jsonl");
        assert_eq!(format!("{t:?}"), "Template(\"out/dt=${now.date}/${now.strftime.%H%M}.jsonl\")");
    }

    #[test]
    fn missing_variable_is_named() {
        let t = Template(&[Part::Env("FAUCET_TEST_DEFINITELY_UNSET")]);
        let e = t.resolve().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.message().contains("FAUCET_TEST_DEFINITELY_UNSET"));
    }
}

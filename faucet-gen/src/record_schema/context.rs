//! What a build knows about its surroundings when it resolves schemas: the
//! crate's directory (where the `.faucet/` cache lives) and whether it may
//! connect to databases. Set for the duration of one validation.

use std::cell::RefCell;
use std::path::PathBuf;

/// How schemas are resolved during one validation.
#[derive(Debug, Clone, Default)]
pub struct SchemaContext {
    /// The crate's directory: the cache is `<dir>/.faucet/`. `None`: no cache
    /// (a pipeline checked outside a crate); only declared schemas are known.
    pub manifest_dir: Option<PathBuf>,
    /// `FAUCET_OFFLINE=true`: never connect, read the cache only.
    pub offline: bool,
    /// Cache files read or written, for `cargo::rerun-if-changed`.
    pub touched: RefCell<Vec<PathBuf>>,
    /// `${env:VAR}`s read to connect (URLs, table names), for `cargo::rerun-if-env-changed`.
    pub env_vars: RefCell<Vec<String>>,
    /// Set by `faucet-gen prepare`: every database must be reached.
    pub prepare: Option<Prepare>,
    /// What this validation already asked each database, so matrix rows that
    /// share a table, or a server that does not answer, cost one attempt.
    pub answers: Answers,
}

/// The databases' answers during one validation (opaque: see [`SchemaContext::answers`]).
#[derive(Debug, Clone, Default)]
pub struct Answers(pub(crate) RefCell<Vec<Introspected>>);

/// One answer of a database, keyed by a hash of the connection URL (which
/// may hold a secret, so is not kept) and of the table or query asked.
#[derive(Debug, Clone)]
pub(crate) struct Introspected {
    /// The hash of the URL and the cache file's name; of the URL alone for
    /// a server that could not be reached.
    pub(crate) key: u64,
    /// The answer.
    pub(crate) answer: Result<Option<super::TableSchema>, super::introspect::Failure>,
}

/// What `faucet-gen prepare` does with what it introspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepare {
    /// Writes the cache files (only those that changed).
    Write,
    /// Writes nothing; a cache file that is missing or differs is an error.
    Check,
}

impl SchemaContext {
    /// The context of a build: `CARGO_MANIFEST_DIR` and `FAUCET_OFFLINE` from the environment.
    pub fn from_env() -> Self {
        SchemaContext {
            manifest_dir: std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
            offline: offline_from_env(),
            ..Self::default()
        }
    }

    /// A context for the crate at `dir`.
    pub fn for_crate(dir: impl Into<PathBuf>) -> Self {
        SchemaContext { manifest_dir: Some(dir.into()), offline: offline_from_env(), ..Self::default() }
    }

    /// Records that `path` was read or written.
    pub(crate) fn touch(&self, path: PathBuf) {
        let mut touched = self.touched.borrow_mut();
        if !touched.contains(&path) {
            touched.push(path);
        }
    }

    /// Records that the environment variable `var` was read.
    pub(crate) fn read_env(&self, var: &str) {
        let mut vars = self.env_vars.borrow_mut();
        if !vars.iter().any(|v| v == var) {
            vars.push(var.to_owned());
        }
    }
}

/// Whether `FAUCET_OFFLINE` asks for cache-only builds (`true` or `1`).
fn offline_from_env() -> bool {
    matches!(std::env::var("FAUCET_OFFLINE").as_deref().map(str::trim), Ok("true" | "1"))
}

thread_local! {
    static CURRENT: RefCell<Option<SchemaContext>> = const { RefCell::new(None) };
}

/// Runs `f` with `context` as the current schema context; returns what `f`
/// returned and the context (with the cache files it touched).
pub fn with_context<R>(context: SchemaContext, f: impl FnOnce() -> R) -> (R, SchemaContext) {
    /// Puts the previous context back, also when `f` panics.
    struct Restore(Option<SchemaContext>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    let restore = Restore(CURRENT.with(|c| c.borrow_mut().replace(context)));
    let out = f();
    let context = CURRENT.with(|c| c.borrow_mut().take());
    drop(restore);
    (out, context.unwrap_or_default())
}

/// Calls `f` with the current context, if a build set one.
pub fn current<R>(f: impl FnOnce(Option<&SchemaContext>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref()))
}

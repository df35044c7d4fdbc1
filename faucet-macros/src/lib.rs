//! The `faucet!` macro: a thin shim over `faucet_gen::expand`.
//!
//! Use it through `faucet_runtime::faucet!`; see faucet-runtime's docs for the
//! grammar. All parsing, validation and code generation live in faucet-gen,
//! shared with build.rs and the command line.

use std::path::PathBuf;

use proc_macro::TokenStream;

/// Compiles a pipeline into a module with `pipeline()`, `run()` and `run_with()`.
///
/// From a file, resolved against `CARGO_MANIFEST_DIR` (or, for `./…` and
/// `../…`, against the invoking source file); cargo rebuilds when it changes:
///
/// ```ignore
/// faucet_runtime::faucet!("pipelines/orders.yaml");
/// ```
///
/// Inline, with the same grammar written as Rust tokens:
///
/// ```ignore
/// faucet_runtime::faucet! {
///     name: orders,
///     pipeline: {
///         source: { type: csv, config: { path: "data/orders.csv" } },
///         sink: { type: jsonl, config: { path: "out/orders.jsonl" } },
///     }
/// }
/// ```
///
/// PostgreSQL, MySQL and SQLite tables and queries are introspected while
/// compiling, or read from the crate's `.faucet/` schema cache (with
/// `FAUCET_OFFLINE=true` or no reachable database; `faucet-gen prepare`
/// writes it). The expansion embeds each cache file it read, so cargo expands
/// the macro again when one changes; a changed environment variable takes
/// effect at the next expansion.
///
/// A leading `crate = path,` points generated code at a renamed runtime.
/// Every invalid setting is a compile error at the offending token (inline) or
/// on the path with the file's line, column and snippet.
#[proc_macro]
pub fn faucet(input: TokenStream) -> TokenStream {
    let context = faucet_gen::MacroContext {
        manifest_dir: PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()),
        caller_file: Some(proc_macro::Span::call_site().local_file()).flatten(),
    };
    faucet_gen::expand(input.into(), &context).into()
}

/// Compiles a spec file of config tests (faucet-stream's `tests:` grammar)
/// into one `#[test]` per case, in a module named after the file
/// (`orders.test.yaml`: `orders_config_tests`):
///
/// ```ignore
/// faucet_runtime::config_tests!("pipelines/orders.test.yaml");
/// ```
///
/// Each test runs its case's pipeline (a `config` file's, or an inline
/// `pipeline`) on the case's `input` with in-memory ends, and checks
/// `expect`. The path resolves as `faucet!`'s does; a config or fixture
/// file the spec names is relative to the spec file. A mistake in any of
/// them is a compile error with its file, line and column.
#[proc_macro]
pub fn config_tests(input: TokenStream) -> TokenStream {
    let context = faucet_gen::MacroContext {
        manifest_dir: PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()),
        caller_file: Some(proc_macro::Span::call_site().local_file()).flatten(),
    };
    faucet_gen::config_tests::expand(input.into(), &context).into()
}

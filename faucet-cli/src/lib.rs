//! The `faucet-gen` command line: checks pipelines, prints the Rust generated
//! for one, and scaffolds a crate that compiles pipelines in its build.rs.
//!
//! It lives in its own crate so its dependencies (clap) never weigh on the
//! build scripts that depend on `faucet-gen`. Everything here writes to the
//! writers it is given, so it is testable without spawning the binary;
//! `main.rs` only parses the arguments and exits with [`run`]'s code.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

pub mod prepare;
pub mod scaffold;

/// `faucet-gen`: check, expand and scaffold faucet pipelines.
#[derive(Debug, Parser)]
#[command(
    name = "faucet-gen",
    version,
    about = "Checks, expands and scaffolds faucet pipelines.",
    propagate_version = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validates pipeline files and prints every diagnostic as a build would;
    /// exits 1 when any file has an error.
    Check {
        /// The YAML files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Prints the Rust code generated for a pipeline file, formatted.
    Expand {
        /// The YAML file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The path generated code uses for the runtime crate (as `Config::runtime_path` in build.rs).
        #[arg(long, value_name = "PATH")]
        runtime_path: Option<String>,
    },
    /// Prints the JSON Schema of the pipeline grammar, for editors
    /// (`faucet-gen schema > faucet.schema.json`).
    Schema,
    /// Prints the grammar reference in Markdown: every key with its values,
    /// default and doc (`faucet-gen docs > docs/grammar.md`).
    Docs,
    /// Writes the `.faucet/` schema cache of a crate's database tables and
    /// queries (`--check`: fails when it is stale, for CI).
    ///
    /// Introspects every PostgreSQL, MySQL and SQLite table and query the
    /// crate's pipelines read or write, and writes what it read to the crate's
    /// `.faucet/` directory. Commit it: builds read it with
    /// `FAUCET_OFFLINE=true` or when no database is reachable. Every database
    /// must be reachable, and every `${env:…}` a URL reads must be set. Cache
    /// files no pipeline uses are removed.
    Prepare {
        /// Write nothing; exit 1 listing each stale, missing or unused cache file (for CI).
        #[arg(long)]
        check: bool,
        /// The crate's directory, where `.faucet/` is (default: the current directory).
        #[arg(long, value_name = "DIR")]
        manifest_dir: Option<PathBuf>,
        /// The pipeline files (default: every `*.yaml`/`*.yml` under the crate
        /// with a top-level `pipeline:`, outside `target/`, `.git/` and `.faucet/`).
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Creates a crate that compiles `pipelines/example.yaml` in its build.rs and runs it.
    New {
        /// The crate's name (also its directory, unless `--dir` is given).
        name: String,
        /// Where to create the crate (default: `./NAME`).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Depend on faucet's crates by path, from this faucet checkout (default:
        /// the checkout this binary was built from while it exists, else git).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["faucet_git", "faucet_version"])]
        faucet_path: Option<PathBuf>,
        /// Depend on faucet's crates from this git repository.
        #[arg(long, value_name = "URL", conflicts_with = "faucet_version")]
        faucet_git: Option<String>,
        /// Depend on faucet's crates by this version requirement, from the registry.
        #[arg(long, value_name = "VERSION")]
        faucet_version: Option<String>,
    },
}

/// Prints the grammar's JSON Schema, pretty-printed.
pub fn schema(out: &mut dyn Write) -> Result<i32, CliError> {
    let text = serde_json::to_string_pretty(&faucet_gen::schema::json_schema()).expect("a schema serializes");
    writeln!(out, "{text}").map_err(|e| CliError::new(format!("cannot write the schema: {e}")))?;
    Ok(EXIT_OK)
}

/// Prints the grammar reference in Markdown.
pub fn docs(out: &mut dyn Write) -> Result<i32, CliError> {
    out.write_all(faucet_gen::docs::markdown().as_bytes())
        .map_err(|e| CliError::new(format!("cannot write the grammar reference: {e}")))?;
    Ok(EXIT_OK)
}

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: a pipeline has errors, or a file could not be read or written.
pub const EXIT_ERROR: i32 = 1;

/// Runs a parsed command line, writing results to `out` and diagnostics to
/// `err`; returns the process exit code.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let result = match cli.command {
        Command::Check { files } => check(&files, out, err),
        Command::Expand { file, runtime_path } => expand(&file, runtime_path.as_deref(), out, err),
        Command::Schema => schema(out),
        Command::Prepare { check, manifest_dir, files } => {
            prepare::prepare(check, manifest_dir.as_deref(), &files, out, err)
        }
        Command::Docs => docs(out),
        Command::New { name, dir, faucet_path, faucet_git, faucet_version } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            let deps = match (faucet_path, faucet_git, faucet_version) {
                (Some(path), _, _) => scaffold::Deps::Path(path),
                (None, Some(url), _) => scaffold::Deps::Git(url),
                (None, None, Some(version)) => scaffold::Deps::Version(version),
                (None, None, None) => scaffold::Deps::detect(),
            };
            scaffold::create(&name, &dir, &deps).map(|created| {
                let _ = writeln!(out, "created crate `{name}` in {} ({})", dir.display(), created.deps);
                let _ = writeln!(out, "next: cd {} && cargo run", dir.display());
                EXIT_OK
            })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            EXIT_ERROR
        }
    }
}

/// A failure that is not a pipeline diagnostic: a file that could not be read or written.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    fn io(what: impl fmt::Display, path: &Path, e: io::Error) -> Self {
        CliError(format!("{what} {}: {e}", path.display()))
    }

    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        CliError(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

/// How a file is named in diagnostics: the path as given, with `/` separators.
fn display_name(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// A pipeline file's text; `Ok(Err(_))` when it is not UTF-8 (a located diagnostic).
fn read(path: &Path) -> Result<Result<String, faucet_gen::Diagnostic>, CliError> {
    let bytes = faucet_gen::load::read_file(path).map_err(|e| CliError::io("cannot read", path, e))?;
    Ok(faucet_gen::load::decode(&display_name(path), bytes))
}

/// `faucet-gen check`: every file is checked (an unreadable one too is
/// reported and counted); diagnostics go to `err`, one `ok` line per valid
/// file to `out`.
pub fn check(files: &[PathBuf], out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    let mut failed = 0usize;
    for path in files {
        let name = display_name(path);
        let text = match read(path) {
            Ok(Ok(text)) => text,
            Ok(Err(d)) => {
                let _ = writeln!(err, "{d}\n");
                failed += 1;
                continue;
            }
            Err(e) => {
                let _ = writeln!(err, "error: {e}\n");
                failed += 1;
                continue;
            }
        };
        match checked_in_its_crate(path, &name, &text) {
            Ok(_) => {
                let _ = writeln!(out, "ok: {name}");
            }
            Err(diags) => {
                let _ = writeln!(err, "{diags}\n");
                failed += 1;
            }
        }
    }
    if failed == 0 {
        return Ok(EXIT_OK);
    }
    let _ = writeln!(err, "error: {failed} of {} file(s) have errors", files.len());
    Ok(EXIT_ERROR)
}

/// Validates a pipeline file (for `check` and `expand`) as a build of the crate holding it would: with
/// that crate's schema cache (`.faucet/`, beside the nearest `Cargo.toml`
/// above the file) and the databases its URLs reach. Outside a crate, only
/// declared schemas are known.
fn checked_in_its_crate(
    path: &Path,
    name: &str,
    text: &str,
) -> Result<faucet_gen::ir::Definition, faucet_gen::Diagnostics> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let crate_dir = absolute.ancestors().skip(1).find(|dir| dir.join("Cargo.toml").is_file());
    match crate_dir {
        Some(dir) => {
            let context = faucet_gen::record_schema::SchemaContext::for_crate(dir);
            faucet_gen::record_schema::context::with_context(context, || faucet_gen::check_yaml(name, text)).0
        }
        None => faucet_gen::check_yaml(name, text),
    }
}

/// `faucet-gen expand`: the formatted Rust for one file, or its diagnostics.
pub fn expand(
    path: &Path,
    runtime_path: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CliError> {
    let name = display_name(path);
    let text = match read(path)? {
        Ok(text) => text,
        Err(d) => {
            let _ = writeln!(err, "{d}");
            return Ok(EXIT_ERROR);
        }
    };
    let mut options = faucet_gen::CodegenOptions { origin: format!("`{name}`"), ..Default::default() };
    if let Some(runtime) = runtime_path {
        options.runtime = faucet_gen::codegen::runtime_path(runtime)
            .ok_or_else(|| CliError::new(format!("`--runtime-path {runtime}` is not a Rust path")))?;
    }
    let generated = checked_in_its_crate(path, &name, &text).map(|definition| {
        faucet_gen::format_tokens(faucet_gen::codegen::generate_definition(&definition, &options), &name)
    });
    match generated {
        Ok(code) => {
            let _ = out.write_all(code.as_bytes());
            Ok(EXIT_OK)
        }
        Err(diags) => {
            let _ = writeln!(err, "{diags}");
            Ok(EXIT_ERROR)
        }
    }
}

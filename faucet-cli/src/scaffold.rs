//! `faucet-gen new`: a crate whose build.rs compiles `pipelines/example.yaml`
//! and whose `main` runs it on a bundled data file.
//!
//! faucet is on no registry yet, so by default the new crate depends on
//! faucet's crates **by path**, from the checkout this binary was built from
//! while it still exists, and otherwise **from git** (the workspace's
//! `repository`). `--faucet-path`, `--faucet-git` and `--faucet-version`
//! choose explicitly. A crate created inside the checkout also gets an empty
//! `[workspace]` table, so cargo does not take it for a forgotten member of
//! faucet's workspace.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::CliError;

/// The git repository of faucet's crates: the workspace's `repository`.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// How the new crate depends on `faucet-runtime` and `faucet-gen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deps {
    /// By path, from the root of a faucet checkout (the directory holding
    /// `faucet-runtime/` and `faucet-gen/`).
    Path(PathBuf),
    /// From this git repository (cargo finds both crates in its workspace).
    Git(String),
    /// By version requirement, from the registry.
    Version(String),
}

impl Deps {
    /// By path from the checkout this binary was built from, while it is
    /// still there; otherwise from [`REPOSITORY`].
    pub fn detect() -> Deps {
        Deps::detect_from(&built_from())
    }

    /// By path from `checkout` when it is a faucet checkout, otherwise from [`REPOSITORY`].
    fn detect_from(checkout: &Path) -> Deps {
        match absolute(checkout) {
            Some(root) if is_checkout(&root) => Deps::Path(root),
            _ => Deps::Git(REPOSITORY.to_owned()),
        }
    }
}

impl fmt::Display for Deps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deps::Path(root) => write!(f, "faucet by path from the checkout {}", root.display()),
            Deps::Git(url) => write!(f, "faucet from git {url}"),
            Deps::Version(v) => write!(f, "faucet {v} from the registry"),
        }
    }
}

/// Whether `root` holds faucet's crates.
fn is_checkout(root: &Path) -> bool {
    root.join("faucet-runtime/Cargo.toml").is_file() && root.join("faucet-gen/Cargo.toml").is_file()
}

/// The faucet checkout this binary was built from (the parent of `faucet-cli/`).
fn built_from() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `path` made absolute and normalized, following symlinks of the part that exists.
fn absolute(path: &Path) -> Option<PathBuf> {
    let path = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().ok()?.join(path) };
    // Canonicalize the longest existing ancestor, then append the rest.
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        rest.push(existing.file_name()?.to_os_string());
        existing = existing.parent()?;
    }
}

/// What [`create`] did.
#[derive(Debug)]
pub struct Created {
    /// The dependencies written into the new Cargo.toml.
    pub deps: Deps,
    /// The files written, relative to the crate's directory.
    pub files: Vec<&'static str>,
}

/// Checks that `name` is usable as a cargo package name.
pub fn validate_name(name: &str) -> Result<(), CliError> {
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphabetic());
    if valid {
        Ok(())
    } else {
        Err(CliError::new(format!(
            "`{name}` is not a valid crate name: use ASCII letters, digits, `-` and `_`, starting with a letter"
        )))
    }
}

/// Writes the crate `name` into `dir`, which must not exist or be empty.
pub fn create(name: &str, dir: &Path, deps: &Deps) -> Result<Created, CliError> {
    validate_name(name)?;
    if dir.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(CliError::new(format!("{} already exists and is not empty", dir.display())));
    }
    let crate_dir =
        absolute(dir).ok_or_else(|| CliError::new(format!("cannot resolve {}", dir.display())))?;
    let (deps, inside_checkout) = match deps {
        Deps::Path(root) => {
            let root =
                absolute(root).ok_or_else(|| CliError::new(format!("cannot resolve {}", root.display())))?;
            if !is_checkout(&root) {
                return Err(CliError::new(format!(
                    "{} is not a faucet checkout (no faucet-runtime/Cargo.toml and faucet-gen/Cargo.toml)",
                    root.display()
                )));
            }
            let inside = crate_dir.starts_with(&root);
            (Deps::Path(root), inside)
        }
        other => (other.clone(), false),
    };
    let files = render(name, &crate_dir, &deps, inside_checkout);
    for (path, contents) in &files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CliError::io("cannot create", parent, e))?;
        }
        std::fs::write(&target, contents).map_err(|e| CliError::io("cannot write", &target, e))?;
    }
    Ok(Created { deps, files: files.iter().map(|(p, _)| *p).collect() })
}

/// A dependency line's value: `{ path = "…" }` (relative when the crate is
/// inside the checkout), `{ git = "…" }` or `"version"`.
fn dep(deps: &Deps, crate_dir: &Path, member: &str) -> String {
    match deps {
        Deps::Path(root) => {
            let path = match crate_dir.strip_prefix(root) {
                Ok(below) => {
                    let up = below.components().filter(|c| matches!(c, Component::Normal(_))).count();
                    let mut rel = "../".repeat(up);
                    rel.push_str(member);
                    rel
                }
                Err(_) => root.join(member).to_string_lossy().replace('\\', "/"),
            };
            format!("{{ path = {path:?} }}")
        }
        Deps::Git(url) => format!("{{ git = {url:?} }}"),
        Deps::Version(v) => format!("{v:?}"),
    }
}

/// Every file of the new crate: (path relative to the crate, contents).
pub fn render(
    name: &str,
    crate_dir: &Path,
    deps: &Deps,
    inside_checkout: bool,
) -> Vec<(&'static str, String)> {
    let runtime = dep(deps, crate_dir, "faucet-runtime");
    let generator = dep(deps, crate_dir, "faucet-gen");
    let workspace = if inside_checkout {
        "\n# Its own workspace: it lives inside faucet's checkout without being one of its members.\n[workspace]\n"
    } else {
        ""
    };
    let manifest = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
# Default features: `macros` and `files` (csv, jsonl). Add one per connector or
# state store the pipelines use (`sqlite`, `postgres`, `state-redis`, …) and
# `cli` for the generated `main()` helper: faucet's README, "Your own crate".
faucet-runtime = {runtime}
tokio = {{ version = "1", features = ["rt-multi-thread", "macros"] }}

[build-dependencies]
faucet-gen = {generator}
{workspace}"#
    );
    let main = format!(
        r#"//! {name}: runs the pipeline that build.rs compiled from `pipelines/example.yaml`.
//!
//! The pipeline's paths are relative to the working directory: run it from
//! this crate's directory (`cargo run`). A second run resumes from the
//! bookmark in `out/state` and writes nothing twice; delete `out/` to start over.

// Defines the module `example` (the pipeline's name): `example::run()`,
// `example::pipeline()` to add Rust-side transforms, and `example::NAME`.
faucet_runtime::include_pipeline!("example");

/// Runs the pipeline; an error is printed as its message and the exit code is 1.
#[tokio::main]
async fn main() -> std::process::ExitCode {{
    match example::run().await {{
        Ok(report) => {{
            println!("{{report}}");
            std::process::ExitCode::SUCCESS
        }}
        Err(error) => {{
            eprintln!("{name}: {{error}}");
            std::process::ExitCode::FAILURE
        }}
    }}
}}
"#
    );
    vec![
        ("Cargo.toml", manifest),
        ("build.rs", BUILD_RS.to_owned()),
        ("pipelines/example.yaml", EXAMPLE_YAML.to_owned()),
        ("src/main.rs", main),
        ("data/example.jsonl", EXAMPLE_DATA.to_owned()),
        (".gitignore", "/target\n/out\n".to_owned()),
    ]
}

const BUILD_RS: &str = r#"//! Compiles the pipelines into Rust at build time: a mistake in a YAML file
//! is a build error pointing at its line. `faucet-gen check pipelines/*.yaml`
//! reports the same errors without building.

fn main() {
    faucet_gen::compile(&["pipelines/example.yaml"]);
}
"#;

const EXAMPLE_YAML: &str = r#"# The example pipeline: JSON Lines in, reshaped JSON Lines out.
# Grammar: faucet's README ("Grammar reference"); `faucet-gen expand` shows the Rust it becomes.
version: 1
name: example
pipeline:
  source:
    type: jsonl
    config:
      path: data/example.jsonl
      on_parse_error: dlq          # malformed lines go to the dead-letter file, named by file and line
  transforms:
    - type: flatten                # {"customer": {"firstName": …}} -> customer__firstName
    - type: snake_case             # customer__firstName -> customer_first_name
  sink:
    type: jsonl
    config: { path: out/example.jsonl }
  dlq:
    sink: { type: jsonl, config: { path: out/example.dlq.jsonl } }
  state:
    type: file
    config: { path: out/state }
"#;

const EXAMPLE_DATA: &str = r#"{"orderId": 1, "customer": {"firstName": "Ada", "countryCode": "GB"}, "totalAmount": 12.5}
{"orderId": 2, "customer": {"firstName": "Bo", "countryCode": "SE"}, "totalAmount": 7}
{"orderId": 3, "customer": {"firstName": "Chen"
{"orderId": 4, "customer": {"firstName": "Dinesh", "countryCode": "IN"}, "totalAmount": 99.99}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_are_validated() {
        for ok in ["demo", "my-pipes", "a_1"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1abc", "has space", "dots.no", "-lead"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_deps_are_relative_inside_the_checkout_and_absolute_outside() {
        let root = Path::new("/src/faucet");
        let deps = Deps::Path(root.to_path_buf());
        assert_eq!(
            dep(&deps, Path::new("/src/faucet/examples/mine"), "faucet-gen"),
            r#"{ path = "../../faucet-gen" }"#
        );
        assert_eq!(
            dep(&deps, Path::new("/tmp/mine"), "faucet-runtime"),
            r#"{ path = "/src/faucet/faucet-runtime" }"#
        );
        assert_eq!(dep(&Deps::Version("0.1.0".into()), Path::new("/tmp/x"), "faucet-gen"), r#""0.1.0""#);
    }

    #[test]
    fn only_a_crate_inside_the_checkout_declares_its_own_workspace() {
        let deps = Deps::Path(PathBuf::from("/src/faucet"));
        let inside = render("demo", Path::new("/src/faucet/demo"), &deps, true);
        let outside = render("demo", Path::new("/tmp/demo"), &deps, false);
        assert!(inside[0].1.contains("\n[workspace]\n"));
        assert!(!outside[0].1.contains("[workspace]"));
    }

    #[test]
    fn the_example_pipeline_is_valid() {
        faucet_gen::check_yaml("pipelines/example.yaml", EXAMPLE_YAML)
            .expect("the scaffold's pipeline validates");
    }

    #[test]
    fn detection_uses_the_checkout_while_it_exists_and_git_after() {
        assert_eq!(Deps::detect(), Deps::Path(absolute(&built_from()).unwrap()));
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(Deps::detect_from(&tmp.path().join("gone")), Deps::Git(REPOSITORY.to_owned()));
        assert_eq!(Deps::detect_from(tmp.path()), Deps::Git(REPOSITORY.to_owned()), "not a checkout");
    }

    #[test]
    fn git_deps_name_the_repository() {
        let deps = Deps::Git("https://example.com/faucet.git".into());
        let manifest = &render("demo", Path::new("/tmp/demo"), &deps, false)[0].1;
        assert!(
            manifest.contains(r#"faucet-runtime = { git = "https://example.com/faucet.git" }"#),
            "{manifest}"
        );
        assert!(
            manifest.contains(r#"faucet-gen = { git = "https://example.com/faucet.git" }"#),
            "{manifest}"
        );
    }
}

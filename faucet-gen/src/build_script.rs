//! The build.rs entry point: YAML files in, formatted Rust in `OUT_DIR/faucet/` out.

use std::path::{Path, PathBuf};

use crate::codegen::CodegenOptions;
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::record_schema::{SchemaContext, context};

/// Compiles pipeline files from a build script, with the default [`Config`].
///
/// Paths are relative to the package's `CARGO_MANIFEST_DIR`. Each pipeline is
/// written to `OUT_DIR/faucet/<name>.rs`, to be included with
/// `faucet_runtime::include_pipeline!("<name>")`. On an invalid config or an
/// I/O failure, every diagnostic is printed as a `cargo::error=` line, which
/// fails the build; [`Config::try_compile`] returns them instead.
pub fn compile(paths: &[impl AsRef<Path>]) {
    Config::new().compile(paths);
}

/// Settings for [`compile`], builder style: `Config::new().runtime_path("my_rt").compile(&[…])`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    runtime_path: Option<String>,
    out_dir: Option<PathBuf>,
    manifest_dir: Option<PathBuf>,
    untyped: bool,
}

impl Config {
    /// The defaults: runtime at `::faucet_runtime`, directories from cargo's environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where generated code finds the runtime, when the application renamed
    /// the `faucet-runtime` dependency or re-exports it (`"::my_crate::rt"`).
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.runtime_path = Some(path.into());
        self
    }

    /// Writes into `dir` instead of `$OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Resolves pipeline paths against `dir` instead of `$CARGO_MANIFEST_DIR`.
    pub fn manifest_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.manifest_dir = Some(dir.into());
        self
    }

    /// Generates every pipeline untyped, as if nothing were known of its
    /// records (see [`CodegenOptions::untyped`]): for tests that build one
    /// config both ways (into two `out_dir`s) and compare what the runs write.
    pub fn untyped(&mut self, untyped: bool) -> &mut Self {
        self.untyped = untyped;
        self
    }

    /// Compiles the pipelines and tells cargo about them: `cargo::rerun-if-changed`
    /// for every file read (the pipelines, the `.faucet/` schema cache files
    /// and directory), `cargo::rerun-if-env-changed` for `FAUCET_OFFLINE` and
    /// each `${env:…}` a database URL read to introspect, and
    /// `cargo::error=` for every diagnostic (failing the build).
    pub fn compile(&self, paths: &[impl AsRef<Path>]) {
        for path in paths {
            println!("cargo::rerun-if-changed={}", path.as_ref().display());
        }
        let (result, schemas) = self.compile_in_context(paths);
        for file in schemas.touched.borrow().iter() {
            println!("cargo::rerun-if-changed={}", file.display());
        }
        // A missing path would rerun the build script every time: only an existing directory.
        if let Some(dir) = schemas.manifest_dir.as_ref().map(|d| d.join(crate::record_schema::cache::DIR))
            && dir.is_dir()
        {
            println!("cargo::rerun-if-changed={}", dir.display());
        }
        println!("cargo::rerun-if-env-changed=FAUCET_OFFLINE");
        for var in schemas.env_vars.borrow().iter() {
            println!("cargo::rerun-if-env-changed={var}");
        }
        if let Err(diags) = result {
            for d in diags.iter() {
                // cargo shows each `cargo::error=` line as its own error, so the
                // location and snippet follow on the same line's continuation.
                for (i, line) in d.render().lines().enumerate() {
                    let line = if i == 0 {
                        line.trim_start_matches("error: ").to_owned()
                    } else {
                        format!("  {line}")
                    };
                    println!("cargo::error={line}");
                }
            }
        }
    }

    /// Compiles the pipelines without printing cargo directives; returns the files written.
    ///
    /// Never panics on bad input or I/O: an invalid pipeline, a file that
    /// cannot be read, an output that cannot be written and an unset `OUT_DIR`
    /// all come back as diagnostics.
    ///
    /// Database sources and sink tables are introspected while compiling, or
    /// read from the manifest directory's `.faucet/` cache (see
    /// [`crate::record_schema`]).
    pub fn try_compile(&self, paths: &[impl AsRef<Path>]) -> Result<Vec<PathBuf>, Diagnostics> {
        self.compile_in_context(paths).0
    }

    /// [`Config::try_compile`], with the schema context it ran in (the cache
    /// files it read or wrote and the variables it read, for cargo).
    fn compile_in_context(
        &self,
        paths: &[impl AsRef<Path>],
    ) -> (Result<Vec<PathBuf>, Diagnostics>, SchemaContext) {
        let manifest_dir = self.crate_dir();
        context::with_context(SchemaContext::for_crate(manifest_dir.clone()), || {
            self.compile_files(&manifest_dir, paths)
        })
    }

    /// The directory pipeline paths are relative to (and the cache lives in).
    fn crate_dir(&self) -> PathBuf {
        match &self.manifest_dir {
            Some(d) => d.clone(),
            None => PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()),
        }
    }

    fn compile_files(
        &self,
        manifest_dir: &Path,
        paths: &[impl AsRef<Path>],
    ) -> Result<Vec<PathBuf>, Diagnostics> {
        let mut all = Diagnostics::new();
        let out_dir = match self.out_dir.clone().or_else(|| std::env::var_os("OUT_DIR").map(PathBuf::from)) {
            Some(d) => d.join("faucet"),
            None => {
                all.push(
                    Diagnostic::new(
                        Loc::Unknown,
                        "OUT_DIR is not set, so there is nowhere to write the code",
                    )
                    .with_help("call `faucet_gen::compile` from a build script, or set `Config::out_dir`"),
                );
                return Err(all);
            }
        };
        let runtime = match &self.runtime_path {
            Some(p) => match crate::codegen::runtime_path(p) {
                Some(path) => path,
                None => {
                    all.push(
                        Diagnostic::new(Loc::Unknown, format!("`runtime_path` {p:?} is not a Rust path"))
                            .with_help("write a path such as `::my_crate::faucet`"),
                    );
                    return Err(all);
                }
            },
            None => quote::quote!(::faucet_runtime),
        };
        let mut written = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let display = path.display().to_string();
            let text = match crate::load::read_file(&manifest_dir.join(path)) {
                Ok(bytes) => match crate::load::decode(&display, bytes) {
                    Ok(text) => text,
                    Err(d) => {
                        all.push(d);
                        continue;
                    }
                },
                Err(e) => {
                    all.push(Diagnostic::new(
                        Loc::Unknown,
                        format!("cannot read pipeline file `{display}`: {e}"),
                    ));
                    continue;
                }
            };
            let options = CodegenOptions {
                runtime: runtime.clone(),
                origin: format!("`{display}`"),
                untyped: self.untyped,
                ..Default::default()
            };
            match crate::check_yaml(&display, &text) {
                Ok(definition) => {
                    let code = crate::format_tokens(
                        crate::codegen::generate_definition(&definition, &options),
                        &display,
                    );
                    let target = out_dir.join(format!("{}.rs", definition.module()));
                    match write_if_changed(&target, &code) {
                        Ok(()) => written.push(target),
                        Err(e) => all.push(Diagnostic::new(
                            Loc::Unknown,
                            format!("cannot write the code of `{display}` to {}: {e}", target.display()),
                        )),
                    }
                }
                Err(diags) => all.extend(diags),
            }
        }
        if all.is_empty() { Ok(written) } else { Err(all) }
    }
}

/// Writes `contents` unless the file already holds exactly that, so an
/// unchanged pipeline does not bump the file's mtime and trigger rebuilds.
fn write_if_changed(path: &Path, contents: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, contents)
}

//! `faucet-gen prepare`: introspect every database the crate's pipelines
//! read or write and write the `.faucet/` schema cache that builds without a
//! database read; `--check` compares instead of writing (for CI).

use std::io::Write;
use std::path::{Path, PathBuf};

use faucet_gen::record_schema::cache::DIR;
use faucet_gen::record_schema::context::{self, Prepare, SchemaContext};

use crate::{CliError, EXIT_ERROR, EXIT_OK, display_name, read};

/// Runs `prepare` for the crate at `manifest_dir` (default: the current
/// directory) over `files` (default: every pipeline file under the crate).
/// Unused cache files are reported (`--check`) or removed only when the
/// files are found, not given: a subset of the pipelines does not know which
/// files the others use.
pub fn prepare(
    check: bool,
    manifest_dir: Option<&Path>,
    files: &[PathBuf],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CliError> {
    let dir = manifest_dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let found = files.is_empty();
    let files = if found { pipeline_files(&dir)? } else { files.to_vec() };
    let mode = if check { Prepare::Check } else { Prepare::Write };
    let schemas =
        SchemaContext { manifest_dir: Some(dir.clone()), prepare: Some(mode), ..SchemaContext::default() };
    let (mut failed, schemas) = context::with_context(schemas, || {
        let mut failed = 0usize;
        for path in &files {
            let name = display_name(path.strip_prefix(&dir).unwrap_or(path));
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
            if let Err(diags) = faucet_gen::check_yaml(&name, &text) {
                let _ = writeln!(err, "{diags}\n");
                failed += 1;
            }
        }
        failed
    });
    let touched = schemas.touched.borrow();
    let cache_dir = dir.join(DIR);
    let mut unused = Vec::new();
    if found && let Ok(entries) = std::fs::read_dir(&cache_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") && !touched.contains(&path) {
                unused.push(path);
            }
        }
    }
    unused.sort();
    for path in &unused {
        let shown = display_name(path.strip_prefix(&dir).unwrap_or(path));
        if check {
            let _ =
                writeln!(err, "error: `{shown}` is unused: no pipeline reads or writes its table or query\n");
            failed += 1;
        } else {
            std::fs::remove_file(path).map_err(|e| CliError::io("cannot remove", path, e))?;
            let _ = writeln!(out, "removed {shown} (unused)");
        }
    }
    let mut cached: Vec<String> =
        touched.iter().map(|p| display_name(p.strip_prefix(&dir).unwrap_or(p))).collect();
    cached.sort();
    if failed > 0 {
        let _ = writeln!(
            err,
            "error: {failed} problem(s) in the schema cache of {} pipeline file(s)",
            files.len()
        );
        return Ok(EXIT_ERROR);
    }
    for file in &cached {
        let _ = writeln!(out, "{}: {file}", if check { "up to date" } else { "cached" });
    }
    let _ = writeln!(
        out,
        "{} schema cache file(s) {} for {} pipeline file(s)",
        cached.len(),
        if check { "checked" } else { "written" },
        files.len()
    );
    Ok(EXIT_OK)
}

/// Every `*.yaml` / `*.yml` file under `dir` whose top level has a
/// `pipeline:` key, skipping `target/`, `.git/` and `.faucet/`; sorted.
fn pipeline_files(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| CliError::io("cannot list", &current, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if !matches!(name.to_str(), Some("target" | ".git" | DIR)) {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && std::fs::read_to_string(&path)
                    .is_ok_and(|text| text.lines().any(|l| l.starts_with("pipeline:")))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

//! Snapshot tests of rendered diagnostics: every `tests/diagnostics/<case>.yaml`
//! must fail validation with exactly the text in `<case>.txt`. The cases
//! under `tests/diagnostics/database/` need a database's schema: they are
//! validated offline, with that directory as the crate whose `.faucet/`
//! cache files describe the tables.
//!
//! Set `FAUCET_BLESS=1` to (re)write the snapshots after an intended change.

use std::path::Path;

use faucet_gen::record_schema::{SchemaContext, context::with_context};

#[test]
fn diagnostics_match_snapshots() {
    snapshots("tests/diagnostics", None);
}

#[test]
fn database_diagnostics_match_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics/database");
    let mut context = SchemaContext::for_crate(&dir);
    context.offline = true;
    snapshots("tests/diagnostics/database", Some(context));
}

/// Checks (or with `FAUCET_BLESS`, writes) the snapshot of every case in
/// `dir` (relative to the crate), validated within `context` when given.
fn snapshots(dir: &str, context: Option<SchemaContext>) {
    let shown = dir;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let bless = std::env::var_os("FAUCET_BLESS").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "expected the diagnostic cases in {}", dir.display());
    let mut failures = Vec::new();
    for case in &cases {
        let name = format!("{shown}/{}", case.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(case).unwrap();
        let checked = match &context {
            Some(context) => with_context(context.clone(), || faucet_gen::check_yaml(&name, &text)).0,
            None => faucet_gen::check_yaml(&name, &text),
        };
        let rendered = match checked {
            Ok(_) => "<valid>\n".to_owned(),
            Err(diags) => format!("{diags}\n"),
        };
        let snapshot = case.with_extension("txt");
        if bless {
            std::fs::write(&snapshot, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
        if expected != rendered {
            failures.push(format!("--- {}\n{rendered}", snapshot.display()));
        }
    }
    assert!(failures.is_empty(), "diagnostics changed (FAUCET_BLESS=1 to accept):\n{}", failures.join("\n"));
}

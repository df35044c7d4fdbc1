//! Snapshot tests of rendered diagnostics: every `tests/diagnostics/<case>.yaml`
//! must fail validation with exactly the text in `<case>.txt`.
//!
//! Set `FAUCET_BLESS=1` to (re)write the snapshots after an intended change.

use std::path::Path;

#[test]
fn diagnostics_match_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let bless = std::env::var_os("FAUCET_BLESS").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "expected the diagnostic cases in {}", dir.display());
    let mut failures = Vec::new();
    for case in &cases {
        let name = format!("tests/diagnostics/{}", case.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(case).unwrap();
        let rendered = match faucet_gen::check_yaml(&name, &text) {
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

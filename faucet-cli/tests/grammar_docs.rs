//! `faucet-gen docs`: the committed grammar reference (`docs/grammar.md`) is
//! what the declarations print, so a changed key, default or doc text fails
//! here until the page is regenerated (`FAUCET_BLESS=1` rewrites it).

use std::path::Path;
use std::process::Command;

#[test]
fn committed_grammar_reference_matches_the_declarations() {
    let output = Command::new(env!("CARGO_BIN_EXE_faucet-gen")).arg("docs").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed, faucet_gen::docs::markdown(), "the command prints the library's reference");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grammar.md");
    if std::env::var_os("FAUCET_BLESS").is_some() {
        std::fs::write(&committed, &printed).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        expected == printed,
        "docs/grammar.md differs from the declarations: run `FAUCET_BLESS=1 cargo test -p faucet-gen-cli --test grammar_docs` and review its diff"
    );
}

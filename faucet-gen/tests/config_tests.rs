//! `config_tests!`'s expansion: a valid spec file becomes one test function
//! per case; every problem in a spec, a config it names or a fixture file is
//! a compile error at its file, line and column. The errors of each
//! `tests/config_tests/<spec>.test.yaml` must match `<spec>.txt`.
//!
//! Set `FAUCET_BLESS=1` to (re)write the snapshots after an intended change.

use std::path::Path;

use faucet_gen::MacroContext;
use quote::quote;

fn expand(spec: &str) -> syn::File {
    let ctx =
        MacroContext { manifest_dir: Path::new(env!("CARGO_MANIFEST_DIR")).to_owned(), caller_file: None };
    let path = format!("tests/config_tests/{spec}");
    let out = faucet_gen::config_tests::expand(quote!(#path), &ctx);
    syn::parse2(out).expect("the expansion parses")
}

/// The messages of the expansion's `compile_error!`s.
fn errors(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "compile_error") => {
                Some(syn::parse2::<syn::LitStr>(m.mac.tokens.clone()).expect("a message").value())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_valid_spec_becomes_one_test_per_case() {
    let file = expand("valid.test.yaml");
    assert_eq!(errors(&file), Vec::<String>::new());
    let code = prettyplease::unparse(&file);
    for expected in [
        "mod valid_config_tests {",
        "pub mod pipeline_0 {",
        "pub mod pipeline_1 {",
        "#[cfg_attr(test, test)]\n    pub fn keys_in_snake_case() {",
        "pub fn keys_in_snake_case_2() {",
        "spec: \"tests/config_tests/valid.test.yaml\",\n            line: 3,",
        "line: 8,",
        r##"input: r#"[{"OrderId":1,"Amount":9.5}]"#,"##,
        "clock: Some(\"2026-02-01\"),",
        "page_size: 2,",
        "error: Some(::std::string::String::from(\"boom\")),",
        "subset: true,",
        ".run(|ends| async move { pipeline_1::pipeline(ends)?.run().await });",
    ] {
        assert!(code.contains(expected), "`{expected}` is not in\n{code}");
    }
}

#[test]
fn spec_errors_match_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config_tests");
    let bless = std::env::var_os("FAUCET_BLESS").is_some();
    let mut failures = Vec::new();
    for spec in ["keys.test.yaml", "files.test.yaml", "pipelines.test.yaml", "rows.test.yaml"] {
        let rendered = errors(&expand(spec)).join("\n\n") + "\n";
        assert!(rendered.len() > 1, "{spec} expands without errors");
        let snapshot = dir.join(spec.replace(".test.yaml", ".txt"));
        if bless {
            std::fs::write(&snapshot, &rendered).unwrap();
        } else if std::fs::read_to_string(&snapshot).unwrap_or_default() != rendered {
            failures.push(format!("--- {}\n{rendered}", snapshot.display()));
        }
    }
    assert!(failures.is_empty(), "diagnostics changed (FAUCET_BLESS=1 to accept):\n{}", failures.join("\n"));
}

//! `faucet-gen schema`: every valid pipeline in the repository validates
//! against the generated JSON Schema, configs with unknown keys, wrong types or
//! out-of-range values do not, and the schema itself is snapshotted so every
//! change to it is reviewed (`FAUCET_BLESS=1` rewrites the snapshot).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn schema() -> serde_json::Value {
    serde_json::to_value(faucet_gen::schema::json_schema()).unwrap()
}

/// A YAML file as JSON, as an editor's language server sees it.
fn yaml_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let file = Arc::new(faucet_gen::SourceFile { name: path.display().to_string(), text });
    faucet_gen::load::load_yaml(&file)
        .unwrap_or_else(|d| panic!("{}: {}", path.display(), d.render()))
        .to_json()
}

fn yaml_in(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.ends_with("target") {
            yaml_in(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn every_valid_pipeline_validates() {
    let root = root();
    let mut files = Vec::new();
    for dir in ["examples", "tests/pipelines", "bench/scenarios"] {
        yaml_in(&root.join(dir), &mut files);
    }
    files.push(root.join("faucet-cli/tests/cases/valid.yaml"));
    // Diagnostics cases that are valid pipelines (snapshot `<valid>`).
    for case in std::fs::read_dir(root.join("faucet-gen/tests/diagnostics")).unwrap().flatten() {
        let path = case.path();
        if path.extension().is_some_and(|e| e == "yaml")
            && std::fs::read_to_string(path.with_extension("txt")).is_ok_and(|s| s == "<valid>\n")
        {
            files.push(path);
        }
    }
    assert!(files.len() >= 15, "expected the repository's pipelines, found {files:?}");
    let validator =
        jsonschema::validator_for(&schema()).expect("the generated schema is a valid JSON Schema");
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if let Err(d) = faucet_gen::check_yaml(&file.display().to_string(), &text) {
            panic!("{} should be a valid pipeline:\n{d}", file.display());
        }
        let errors: Vec<String> = validator
            .iter_errors(&yaml_json(file))
            .map(|e| format!("  {} at {}", e, e.instance_path()))
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{}:\n{}", file.display(), errors.join("\n")));
        }
    }
    assert!(failures.is_empty(), "valid pipelines rejected by the schema:\n{}", failures.join("\n"));
}

#[test]
fn unknown_keys_wrong_types_and_ranges_fail() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let dir = root().join("faucet-gen/tests/diagnostics");
    for case in [
        "unknown_keys_everywhere",
        "unknown_top_key",
        "unknown_types",
        "wrong_types",
        "batch_size_range",
        "invalid_enums",
        "not_yet_supported",
        "missing_required",
        "kafka_invalid_values",
        "rest_invalid_values",
    ] {
        let path = dir.join(format!("{case}.yaml"));
        assert!(!validator.is_valid(&yaml_json(&path)), "{case}.yaml validates against the schema");
    }
    // One mistake at a time, each caught where the validator catches it.
    let valid = "version: 1\nname: t\npipeline:\n  source: {type: csv, config: {path: in.csv}}\n  sink: {type: jsonl, config: {path: out.jsonl}}\n";
    let parse = |yaml: &str| {
        let file = Arc::new(faucet_gen::SourceFile { name: "t.yaml".into(), text: yaml.into() });
        faucet_gen::load::load_yaml(&file).unwrap().to_json()
    };
    assert!(validator.is_valid(&parse(valid)));
    for (bad, why) in [
        ("path: in.csv}", "path: in.csv, pth: x}"),
        ("path: in.csv}", "path: in.csv, batch_size: -1}"),
        ("path: in.csv}", "path: in.csv, batch_size: \"${env:BS}\"}"),
        ("path: in.csv}", "path: in.csv, has_headers: yes please}"),
        ("type: csv", "type: parquet"),
        ("version: 1", "version: 2"),
        ("config: {path: out.jsonl}", "config: {}"),
    ] {
        let yaml = valid.replacen(bad, why, 1);
        assert!(faucet_gen::check_yaml("t.yaml", &yaml).is_err(), "{why} should be invalid");
        assert!(!validator.is_valid(&parse(&yaml)), "the schema accepts {why}");
    }
    // References validate wherever the validator accepts them.
    for (from, to) in [
        ("path: in.csv}", "path: \"${env:DIR}/in.csv\"}"),
        ("name: t\n", "name: t\nvars: {fmt: pretty_json, dir: out}\n"),
    ] {
        let yaml = valid.replacen(from, to, 1);
        assert!(faucet_gen::check_yaml("t.yaml", &yaml).is_ok(), "{to}");
        assert!(validator.is_valid(&parse(&yaml)), "the schema rejects {to}");
    }
    let vars = "name: t\nvars: {fmt: pretty_json}\npipeline:\n  source: {type: csv, config: {path: in.csv}}\n  sink: {type: stdout, config: {format: \"${vars.fmt}\"}}\n";
    assert!(faucet_gen::check_yaml("t.yaml", vars).is_ok());
    assert!(validator.is_valid(&parse(vars)), "a `${{vars.…}}` enum value is accepted");
}

#[test]
fn schema_command_matches_snapshot() {
    let output = Command::new(env!("CARGO_BIN_EXE_faucet-gen")).arg("schema").output().unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(parsed, schema(), "the command prints the library's schema");
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/schema.json");
    if std::env::var_os("FAUCET_BLESS").is_some() {
        std::fs::write(&snapshot, &printed).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        expected == printed,
        "the schema changed (FAUCET_BLESS=1 to accept); review the diff of {}",
        snapshot.display()
    );
}

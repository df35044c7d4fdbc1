//! build.rs mode end to end: a fixture crate whose build script compiles an
//! invalid pipeline must fail `cargo build` with every diagnostic, each with
//! file, line, column, snippet and suggestion.

use std::path::Path;
use std::process::Command;

#[test]
fn invalid_pipeline_fails_cargo_build_with_located_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/fixtures/bad-build");
    // Reuse the workspace's lock file so the fixture resolves the same versions.
    let work = tempfile::tempdir().unwrap();
    for entry in ["Cargo.toml", "build.rs", "src/main.rs", "pipelines/bad.yaml"] {
        let to = work.path().join(entry);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture.join(entry), &to).unwrap();
    }
    let manifest = std::fs::read_to_string(work.path().join("Cargo.toml"))
        .unwrap()
        .replace("path = \"../../..\"", &format!("path = {:?}", root.display().to_string()));
    std::fs::write(work.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("../Cargo.lock"), work.path().join("Cargo.lock")).unwrap();

    let target = root.join("../target/fixtures");
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--manifest-path"])
        .arg(work.path().join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the build must fail:\n{stderr}");
    for expected in [
        "unknown key `pathh` in the `csv` source config",
        "--> pipelines/bad.yaml:6:15",
        "config: { pathh: data.csv }",
        "help: did you mean `path`?",
        "missing required key `path` in the `csv` source config",
        "`batch_size` is 0, out of range",
        "--> pipelines/bad.yaml:9:44",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
}

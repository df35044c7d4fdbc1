//! Drives the `faucet-gen` binary and compares what it prints with the
//! snapshots in `tests/snapshots/` (set `FAUCET_BLESS=1` to rewrite them after
//! an intended change). `faucet-gen new` is tested by building and running
//! the crate it scaffolds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workspace_root() -> PathBuf {
    manifest_dir().parent().unwrap().to_path_buf()
}

/// Runs `faucet-gen args…` in this crate's directory.
fn faucet_gen(args: &[&str]) -> Output {
    faucet_gen_in(manifest_dir(), args)
}

fn faucet_gen_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faucet-gen")).args(args).current_dir(dir).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Exit code, stdout and stderr, in one comparable text.
fn transcript(output: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// Compares `actual` with `tests/snapshots/<name>`, or writes it under `FAUCET_BLESS`.
fn assert_snapshot(name: &str, actual: &str) {
    let path = manifest_dir().join("tests/snapshots").join(name);
    if std::env::var_os("FAUCET_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs (FAUCET_BLESS=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn check_reports_every_diagnostic_and_fails() {
    let output = faucet_gen(&["check", "tests/cases/valid.yaml", "tests/cases/invalid.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    assert_snapshot("check_invalid.txt", &transcript(&output));

    // Rendered exactly as a build renders them.
    let name = "tests/cases/invalid.yaml";
    let diags = faucet_gen::check_yaml(name, &std::fs::read_to_string(manifest_dir().join(name)).unwrap())
        .expect_err("the case is invalid");
    assert!(text(&output.stderr).starts_with(&format!("{diags}\n")));
    // `pth` is one mistake (a misspelled `path`), not "missing" plus "unknown".
    assert_eq!(diags.iter().count(), 3);
}

#[test]
fn check_passes_valid_files() {
    let output = faucet_gen(&[
        "check",
        "tests/cases/valid.yaml",
        "../examples/quickstart/pipelines/orders_to_jsonl.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    assert_snapshot("check_valid.txt", &transcript(&output));
}

/// `check` and `expand` see a pipeline as a build of its crate does: with the
/// schema cache beside the nearest `Cargo.toml` (here faucet-gen's fixture
/// crate of database diagnostics, offline).
#[test]
fn check_and_expand_read_the_crate_s_schema_cache() {
    let krate = tempfile::tempdir().unwrap();
    let fixture = workspace_root().join("faucet-gen/tests/diagnostics/database");
    std::fs::write(krate.path().join("Cargo.toml"), "[package]\nname = \"pipes\"\n").unwrap();
    std::fs::create_dir_all(krate.path().join(".faucet")).unwrap();
    std::fs::create_dir_all(krate.path().join("pipelines")).unwrap();
    for table in ["postgres-public.orders.json", "postgres-public.users.json"] {
        std::fs::copy(fixture.join(".faucet").join(table), krate.path().join(".faucet").join(table)).unwrap();
    }
    let yaml = std::fs::read_to_string(fixture.join("db_table_unmapped.yaml")).unwrap();
    std::fs::write(krate.path().join("pipelines/copy.yaml"), &yaml).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faucet-gen"))
            .args(args)
            .current_dir(krate.path())
            .env("FAUCET_OFFLINE", "true")
            .output()
            .unwrap()
    };
    let output = run(&["check", "pipelines/copy.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", transcript(&output));
    assert!(text(&output.stderr).contains("have no column in `public.users`"), "{}", transcript(&output));

    // With the table's columns matching, `expand` writes the schema the cache gives.
    let fits =
        yaml.replace("table_name: users", "table_name: orders").replace("    - type: snake_case\n", "");
    std::fs::write(krate.path().join("pipelines/copy.yaml"), fits).unwrap();
    let output = run(&["expand", "pipelines/copy.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    assert!(text(&output.stdout).contains("pub const SCHEMA"), "{}", transcript(&output));
}

#[test]
fn check_reports_unreadable_files_and_goes_on() {
    let output = faucet_gen(&["check", "tests/cases/missing.yaml", "tests/cases/valid.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: cannot read tests/cases/missing.yaml: "), "{stderr}");
    assert!(stderr.ends_with("error: 1 of 2 file(s) have errors\n"), "{stderr}");
    assert_eq!(text(&output.stdout), "ok: tests/cases/valid.yaml\n");
}

#[test]
fn non_utf8_files_and_bad_runtime_paths_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latin1.yaml"), b"name: caf\xE9\npipeline: {}\n").unwrap();
    for args in [&["check", "latin1.yaml"][..], &["expand", "latin1.yaml"]] {
        let output = faucet_gen_in(dir.path(), args);
        assert_eq!(output.status.code(), Some(1), "{}", transcript(&output));
        let stderr = text(&output.stderr);
        assert!(stderr.contains("error: the file is not valid UTF-8: byte 0xE9"), "{stderr}");
        assert!(stderr.contains("--> latin1.yaml:1:10"), "{stderr}");
    }
    let output = faucet_gen(&["expand", "--runtime-path", "my rt", "tests/cases/valid.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", transcript(&output));
    assert!(text(&output.stderr).contains("is not a Rust path"), "{}", transcript(&output));
}

#[test]
fn check_without_files_is_a_usage_error() {
    let output = faucet_gen(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("<FILE>..."), "{}", transcript(&output));
}

#[test]
fn expand_prints_the_generated_rust() {
    let output = faucet_gen(&["expand", "tests/cases/valid.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let stdout = text(&output.stdout);
    assert_snapshot("expand_valid.rs.txt", &stdout);
    // Byte for byte what a build script writes for the same file.
    let name = "tests/cases/valid.yaml";
    let options = faucet_gen::CodegenOptions { origin: format!("`{name}`"), ..Default::default() };
    let text = std::fs::read_to_string(manifest_dir().join(name)).unwrap();
    assert_eq!(stdout, faucet_gen::generate_string(name, &text, &options).unwrap());
    assert!(stdout.contains("pub mod orders {"));
    assert!(stdout.contains("::faucet_runtime::"));
}

#[test]
fn expand_honours_the_runtime_path() {
    let output = faucet_gen(&["expand", "--runtime-path", "::my_app::rt", "tests/cases/valid.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("::my_app::rt::__private"));
    assert!(!stdout.contains("::faucet_runtime::"));
}

#[test]
fn expand_of_an_invalid_file_prints_its_diagnostics() {
    let output = faucet_gen(&["expand", "tests/cases/invalid.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(text(&output.stderr).starts_with("error: unknown key `pth`"));
}

#[test]
fn help_lists_the_subcommands() {
    let output = faucet_gen(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert_snapshot("help.txt", &transcript(&output));
}

#[test]
fn new_refuses_a_bad_name_or_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let output = faucet_gen_in(tmp.path(), &["new", "1st"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("not a valid crate name"));

    std::fs::create_dir(tmp.path().join("taken")).unwrap();
    std::fs::write(tmp.path().join("taken/keep.txt"), "mine").unwrap();
    let output = faucet_gen_in(tmp.path(), &["new", "taken"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("already exists and is not empty"));
    assert_eq!(std::fs::read_to_string(tmp.path().join("taken/keep.txt")).unwrap(), "mine");
}

/// Outside any checkout, `new` still depends on the checkout this binary was
/// built from (by absolute path); `--faucet-git` and `--faucet-version` override.
#[test]
fn new_depends_on_the_checkout_by_path_or_as_told() {
    let tmp = tempfile::tempdir().unwrap();
    let root = workspace_root().canonicalize().unwrap();
    let output = faucet_gen_in(tmp.path(), &["new", "elsewhere"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    assert!(text(&output.stdout).contains(&format!("faucet by path from the checkout {}", root.display())));
    let manifest = std::fs::read_to_string(tmp.path().join("elsewhere/Cargo.toml")).unwrap();
    let runtime = root.join("faucet-runtime");
    assert!(
        manifest.contains(&format!("faucet-runtime = {{ path = {:?} }}", runtime.to_str().unwrap())),
        "{manifest}"
    );
    assert!(!manifest.contains("[workspace]"));

    let url = "https://example.com/faucet.git";
    let output = faucet_gen_in(tmp.path(), &["new", "from-git", "--faucet-git", url]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    assert!(text(&output.stdout).contains(&format!("faucet from git {url}")), "{}", transcript(&output));
    let manifest = std::fs::read_to_string(tmp.path().join("from-git/Cargo.toml")).unwrap();
    assert!(manifest.contains(&format!("faucet-gen = {{ git = \"{url}\" }}")), "{manifest}");

    let output = faucet_gen_in(tmp.path(), &["new", "from-registry", "--faucet-version", "0.1"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let manifest = std::fs::read_to_string(tmp.path().join("from-registry/Cargo.toml")).unwrap();
    assert!(manifest.contains("faucet-runtime = \"0.1\""), "{manifest}");

    let output = faucet_gen_in(tmp.path(), &["new", "both", "--faucet-git", url, "--faucet-path", "."]);
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
}

/// The scaffold, created outside the checkout with no options, builds and
/// runs with `cargo run` as generated, and resumes on a second run. It builds
/// into this test's own target directory (cargo holds no lock on it while
/// tests run), reusing the dependencies built there with the same features.
#[test]
fn new_scaffolds_a_crate_that_builds_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = workspace_root();
    let output = faucet_gen_in(tmp.path(), &["new", "demo-pipes"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let dir = tmp.path().join("demo-pipes");

    let mut files: Vec<String> =
        walk(&dir).iter().map(|p| p.strip_prefix(&dir).unwrap().display().to_string()).collect();
    files.sort();
    let root_text = root.canonicalize().unwrap().display().to_string();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap().replace(&root_text, "<FAUCET>");
    let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
    assert_snapshot(
        "new_scaffold.txt",
        &format!(
            "{}\n--- files\n{}\n--- Cargo.toml\n{manifest}--- src/main.rs\n{main}",
            transcript(&output).replace(&root_text, "<FAUCET>"),
            files.join("\n")
        ),
    );

    // The workspace's lock file: the same versions, nothing new to fetch.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    // `<target>/debug/deps/cli-…` is this test.
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let cargo_run = || {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        Command::new(cargo)
            .args(["run", "--quiet"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            // As the workspace builds dependencies (`[profile.dev.package."*"]`).
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap()
    };
    let first = cargo_run();
    assert!(first.status.success(), "`cargo run` in the scaffold failed:\n{}", text(&first.stderr));
    let report = text(&first.stdout);
    assert!(
        report.starts_with("example[row-0]: read 4 record(s) in 1 page(s), wrote 3, dead-lettered 1,"),
        "{report}"
    );
    let out = std::fs::read_to_string(dir.join("out/example.jsonl")).unwrap();
    let first_row: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first_row["customer_first_name"], "Ada");
    assert_eq!(first_row["order_id"], 1);
    assert_eq!(out.lines().count(), 3);
    let dlq = std::fs::read_to_string(dir.join("out/example.dlq.jsonl")).unwrap();
    assert_eq!(dlq.lines().count(), 1);

    let second = cargo_run();
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stdout).starts_with("example[row-0]: read 0 record(s)"), "{}", text(&second.stdout));
    assert_eq!(std::fs::read_to_string(dir.join("out/example.jsonl")).unwrap(), out, "nothing written twice");
}

/// Every file under `dir` (not `target/`).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                out.extend(walk(&path));
            }
        } else {
            out.push(path);
        }
    }
    out
}

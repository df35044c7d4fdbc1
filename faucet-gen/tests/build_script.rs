//! build.rs mode end to end: a fixture crate whose build script compiles an
//! invalid pipeline must fail `cargo build` with every diagnostic, each with
//! file, line, column, snippet and suggestion; hostile files beside it (deep
//! nesting, a long vars chain, multiplying vars, non-UTF-8, names that are
//! not identifiers) get located errors too, and the build script never crashes.
//! I/O failures and a missing `OUT_DIR` are errors too, not panics.

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
    let base = "pipeline:\n  source: { type: jsonl, config: { path: in.jsonl } }\n  sink: { type: jsonl, config: { path: out.jsonl } }\n";
    let mut chain = String::from("name: chain\nvars:\n  v0: a\n");
    for i in 1..6_500 {
        chain.push_str(&format!("  v{i}: \"${{vars.v{}}}/x\"\n", i - 1));
    }
    let mut bomb = String::from("name: bomb\nvars:\n  v0: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
    for i in 1..=10 {
        bomb.push_str(&format!("  v{i}: \"{}\"\n", format!("${{vars.v{}}}", i - 1).repeat(10)));
    }
    let hostile: [(&str, Vec<u8>); 6] = [
        ("nest.yaml", format!("name: nest\nvars:\n  x:\n    {}a\n{base}", "- ".repeat(1_400)).into_bytes()),
        ("chain.yaml", format!("{chain}{base}").into_bytes()),
        ("bomb.yaml", format!("{bomb}{}", base.replace("in.jsonl", "\"${vars.v10}\"")).into_bytes()),
        ("latin1.yaml", [b"name: caf\xE9\n".as_slice(), base.as_bytes()].concat()),
        ("2024.yaml", base.as_bytes().to_vec()),
        ("gen.yaml", format!("name: gen\n{base}").into_bytes()),
    ];
    for (name, bytes) in hostile {
        std::fs::write(work.path().join("pipelines").join(name), bytes).unwrap();
    }

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
        "`batch_size` is -1, out of range",
        "--> pipelines/bad.yaml:9:44",
        "maps and lists are nested more than 64 levels deep here",
        "--> pipelines/nest.yaml:4:129",
        "refers to vars more than 64 levels deep",
        "grows the config past 16 MiB",
        "the file is not valid UTF-8: byte 0xE9",
        "--> pipelines/latin1.yaml:1:10",
        "this file has no `name:`, and its file name \"2024\" cannot name the pipeline",
        "help: add `name: pipeline_2024`",
        "invalid pipeline name \"gen\": it is a Rust keyword",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    // `pathh` is a misspelling of the required `path`: one mistake, one error.
    assert!(!stderr.contains("missing required key `path`"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("overflow"), "{stderr}");
}

const PIPELINE: &str = "name: ok\npipeline:\n  source: { type: jsonl, config: { path: in.jsonl } }\n  sink: { type: jsonl, config: { path: out.jsonl } }\n";

#[test]
fn an_unwritable_out_dir_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.yaml"), PIPELINE).unwrap();
    // A regular file where the output directory should be: `faucet/` cannot be
    // created under it, whoever runs the test (root ignores permission bits).
    let blocked = dir.path().join("out");
    std::fs::write(&blocked, "").unwrap();
    let mut config = faucet_gen::Config::new();
    config.manifest_dir(dir.path()).out_dir(&blocked);
    let diags = config.try_compile(&["ok.yaml"]).unwrap_err();
    let rendered = diags.to_string();
    assert!(rendered.contains("cannot write the code of `ok.yaml` to"), "{rendered}");
    // The build-script form reports it as `cargo::error=` lines and returns.
    config.compile(&["ok.yaml"]);
    // The same config with a usable directory writes the file.
    let written = config.out_dir(dir.path().join("ok")).try_compile(&["ok.yaml"]).unwrap();
    assert_eq!(written, [dir.path().join("ok/faucet/ok.rs")]);
}

#[test]
fn an_unset_out_dir_is_an_error_not_a_panic() {
    const NAME: &str = "an_unset_out_dir_is_an_error_not_a_panic";
    // Removing a variable from this multi-threaded process is unsound, so the
    // test runs itself again in a child process without `OUT_DIR`.
    if std::env::var_os("FAUCET_TEST_CHILD").is_none() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env("FAUCET_TEST_CHILD", "1")
            .env_remove("OUT_DIR")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.yaml"), PIPELINE).unwrap();
    let diags = faucet_gen::Config::new().manifest_dir(dir.path()).try_compile(&["ok.yaml"]).unwrap_err();
    let rendered = diags.to_string();
    assert!(rendered.contains("OUT_DIR is not set"), "{rendered}");
    assert!(rendered.contains("help: call `faucet_gen::compile` from a build script"), "{rendered}");
}

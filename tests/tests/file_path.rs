//! faucet-stream's one-file `file` source and sink (`path`), run from configs
//! written for faucet-stream: its own `csv_to_jsonl` example unchanged, and a
//! typed JSON Lines to CSV pipeline appending to its output. Paths are
//! relative, so each run works in its own directory.

use std::path::Path;
use std::process::Command;

/// Runs pipeline `which` with `dir` as its working directory; its report.
fn run(which: &str, dir: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg(which)
        .current_dir(dir)
        .env("FAUCET_E2E_DIR", dir)
        .output()
        .expect("run e2e-runner");
    assert!(out.status.success(), "{which} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the report")
}

fn input(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data").join(name), text).unwrap();
}

/// faucet-stream's `csv_to_jsonl.yaml` example as published: every CSV value
/// a string, quoted fields (embedded delimiter, newline, doubled quote) and
/// CRLF line ends read as faucet-stream reads them, one compact line per row.
#[test]
fn faucet_streams_csv_to_jsonl_example_runs_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    input(
        dir.path(),
        "input.csv",
        "id,name,note,amount\r\n1,Ada,\"hello, world\",1.50\r\n2,Bob,\"multi\nline\",\r\n3,Zoë,\"say \"\"hi\"\"\",-0\r\n",
    );
    let report = run("faucet_stream_csv_to_jsonl", dir.path());
    assert_eq!(report["written"], 3, "{report}");
    let out = std::fs::read_to_string(dir.path().join("out/records.jsonl")).unwrap();
    assert_eq!(
        out,
        concat!(
            "{\"id\":\"1\",\"name\":\"Ada\",\"note\":\"hello, world\",\"amount\":\"1.50\"}\n",
            "{\"id\":\"2\",\"name\":\"Bob\",\"note\":\"multi\\nline\",\"amount\":\"\"}\n",
            "{\"id\":\"3\",\"name\":\"Zoë\",\"note\":\"say \\\"hi\\\"\",\"amount\":\"-0\"}\n",
        )
    );

    // A second run replaces the file (faucet-stream's default `if_exists: replace`).
    input(dir.path(), "input.csv", "id,name\n9,Ida\n");
    run("faucet_stream_csv_to_jsonl", dir.path());
    let out = std::fs::read_to_string(dir.path().join("out/records.jsonl")).unwrap();
    assert_eq!(out, "{\"id\":\"9\",\"name\":\"Ida\"}\n");

    // An input with only a header creates no output file.
    let empty = tempfile::tempdir().unwrap();
    input(empty.path(), "input.csv", "id,name\n");
    let report = run("faucet_stream_csv_to_jsonl", empty.path());
    assert_eq!(report["written"], 0, "{report}");
    assert!(!empty.path().join("out/records.jsonl").exists());
}

/// A typed JSON Lines file into a `;`-separated CSV with `if_exists: append`:
/// the header is written once, the second run's rows follow the first's.
#[test]
fn jsonl_file_to_csv_file_appends_typed_rows() {
    let dir = tempfile::tempdir().unwrap();
    input(
        dir.path(),
        "input.jsonl",
        "{\"id\":1,\"name\":\"Ada; Lovelace\",\"amount\":1.5}\n{\"id\":2,\"name\":\"Bob\",\"amount\":20.25}\n",
    );
    let report = run("file_jsonl_to_csv", dir.path());
    assert_eq!(report["written"], 2, "{report}");
    let csv = dir.path().join("out/records.csv");
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "id;name;amount\n1;\"Ada; Lovelace\";1.5\n2;Bob;20.25\n"
    );

    input(dir.path(), "input.jsonl", "{\"id\":3,\"name\":\"Cy\",\"amount\":-0.5}\n");
    run("file_jsonl_to_csv", dir.path());
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "id;name;amount\n1;\"Ada; Lovelace\";1.5\n2;Bob;20.25\n3;Cy;-0.5\n"
    );
}

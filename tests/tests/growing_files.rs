//! A CSV file that a writer appends to in parts, with a run after each part:
//! a half-written last row is held back, never committed, so every row
//! reaches the sink exactly once with its whole content.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::Value;

fn run(dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg("csv_to_jsonl")
        .env("FAUCET_E2E_DIR", dir)
        .output()
        .expect("run e2e-runner");
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn append(path: &Path, text: &str) {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

fn output(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("out.jsonl")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn row(id: u32, text: &str) -> Value {
    serde_json::json!({"id": id.to_string(), "first_name": text})
}

#[test]
fn rows_appended_in_parts_arrive_once_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let input = dir.join("input.csv");

    // The writer stops in the middle of row 3.
    append(&input, "id,firstName\n1,a\n2,b\n3,te");
    run(dir);
    assert_eq!(output(dir), [row(1, "a"), row(2, "b")]);

    // It completes row 3 and writes row 4, and stops in the middle of row 5.
    append(&input, "xttexttext\n4,d\n5,e");
    run(dir);
    assert_eq!(output(dir), [row(1, "a"), row(2, "b"), row(3, "texttexttext"), row(4, "d")]);

    // It finishes without a last newline; once the file is left alone, row 5 counts.
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().append(true).open(&input).unwrap().set_modified(an_hour_ago).unwrap();
    run(dir);
    let all = [row(1, "a"), row(2, "b"), row(3, "texttexttext"), row(4, "d"), row(5, "e")];
    assert_eq!(output(dir), all);
    run(dir);
    assert_eq!(output(dir), all, "a rerun adds nothing");
}

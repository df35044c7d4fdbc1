//! Peak memory does not grow with input size: 1M rows through the pipeline
//! cost no more than 100k rows (plus a small allowance for allocator noise).

use std::process::Command;

use serde_json::Value;

fn peak_kib(rows: u64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    faucet_e2e::write_jsonl(&dir.path().join("input.jsonl"), rows).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg("jsonl_to_jsonl")
        .env("FAUCET_E2E_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["written"], rows);
    let written = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    let first: Value = serde_json::from_str(written.lines().next().unwrap()).unwrap();
    assert_eq!(first["user__address__city"], "c1", "flatten applied");
    report["peak_rss_kib"].as_u64().expect("VmHWM readable")
}

#[test]
fn peak_memory_is_flat_from_100k_to_1m_rows() {
    let small = peak_kib(100_000);
    let large = peak_kib(1_000_000);
    eprintln!("peak RSS: 100k rows {small} KiB, 1M rows {large} KiB");
    assert!(
        large <= small + small / 2 + 4096,
        "peak RSS grew with input: {small} KiB for 100k rows, {large} KiB for 1M"
    );
}

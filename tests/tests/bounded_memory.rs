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

/// Runs `jsonl_dlq` on `input` (written by `write`) and returns its report.
fn run_jsonl_dlq(dir: &std::path::Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg("jsonl_dlq")
        .env("FAUCET_E2E_DIR", dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes `lines` to `path`, each line produced by `line(i)` chunk by chunk.
fn write_lines(path: &std::path::Path, lines: &[(&str, u64, &str)]) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let chunk = vec![b'x'; 1 << 20];
    for (head, pad, tail) in lines {
        out.write_all(head.as_bytes()).unwrap();
        let mut left = *pad;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            out.write_all(&chunk[..n]).unwrap();
            left -= n as u64;
        }
        out.write_all(tail.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

/// A 1 GiB line with `on_parse_error: dlq` is read through, not held: peak
/// memory stays near one page, and the DLQ receives a 1 KiB excerpt.
#[test]
fn a_one_gib_line_is_dead_lettered_as_an_excerpt_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let huge = 1u64 << 30;
    write_lines(
        &dir.path().join("input.jsonl"),
        &[(r#"{"id":1}"#, 0, ""), (r#"{"id":2,"pad":""#, huge, r#""}"#), (r#"{"id":3}"#, 0, "")],
    );
    let report = run_jsonl_dlq(dir.path());
    assert_eq!((report["written"].as_u64(), report["dead_lettered"].as_u64()), (Some(2), Some(1)));
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(out, "{\"id\":1}\n{\"id\":3}\n");
    let dlq = std::fs::read_to_string(dir.path().join("dlq.jsonl")).unwrap();
    let envelope: Value = serde_json::from_str(dlq.trim_end()).unwrap();
    let payload = &envelope["payload"];
    assert_eq!(payload["line"], 2);
    assert_eq!(payload["bytes"], huge + 17);
    assert_eq!(payload["truncated"], true);
    assert_eq!(payload["raw"].as_str().unwrap().len(), 1024);
    assert!(dlq.len() < 4096, "the DLQ holds an excerpt, not the line: {} bytes", dlq.len());
    let peak = report["peak_rss_kib"].as_u64().expect("VmHWM readable");
    eprintln!("1 GiB line dead-lettered: peak RSS {peak} KiB");
    assert!(peak < 96 * 1024, "peak RSS {peak} KiB for a 1 GiB line (max_record_bytes is 16 MiB)");
}

/// 60 records of 10 MB: pages end at `max_page_bytes` (64 MiB), so the run
/// holds a few records at a time, not all 60 (which took 641 MB).
#[test]
fn pages_of_ten_megabyte_records_are_bounded_in_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let pad = 10_000_000;
    let lines: Vec<(String, u64, &str)> =
        (0..60).map(|i| (format!(r#"{{"id":{i},"pad":""#), pad, r#""}"#)).collect();
    let lines: Vec<(&str, u64, &str)> = lines.iter().map(|(h, p, t)| (h.as_str(), *p, *t)).collect();
    write_lines(&dir.path().join("input.jsonl"), &lines);
    let report = run_jsonl_dlq(dir.path());
    assert_eq!(report["written"], 60);
    assert!(report["pages"].as_u64().unwrap() >= 9, "pages end at 64 MiB: {report}");
    let written = std::fs::metadata(dir.path().join("out.jsonl")).unwrap().len();
    assert_eq!(written, std::fs::metadata(dir.path().join("input.jsonl")).unwrap().len());
    let peak = report["peak_rss_kib"].as_u64().expect("VmHWM readable");
    eprintln!("60 records of 10 MB: peak RSS {peak} KiB in {} pages", report["pages"]);
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB for 60 records of 10 MB");
}

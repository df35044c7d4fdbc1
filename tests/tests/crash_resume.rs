//! A process killed with SIGKILL at random points, then rerun, must end with
//! every source row in the sink exactly once — for SQLite (commit tokens in
//! the batch's transaction) and for JSON Lines (truncate to the checkpoint).

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const ROWS: u64 = 200_000;

fn runner(pipeline: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_e2e-runner"));
    cmd.arg(pipeline).env("FAUCET_E2E_DIR", dir).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Runs `pipeline` to completion after `kills` runs killed at random points.
fn run_with_kills(pipeline: &str, dir: &Path, kills: usize) -> (Value, usize) {
    // Calibrate on a scratch copy of the input, so the kills land mid-run.
    let scratch = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("input.csv"), scratch.path().join("input.csv")).unwrap();
    let window = faucet_e2e::time_run(|| runner(pipeline, scratch.path()));
    let (out, hits) = faucet_e2e::run_with_kills(|| runner(pipeline, dir), kills, window);
    assert!(hits > 0, "no kill landed mid-run");
    assert!(out.status.success(), "final run failed: {}", String::from_utf8_lossy(&out.stderr));
    (serde_json::from_slice(&out.stdout).expect("report JSON"), hits)
}

fn rerun_writes_nothing(pipeline: &str, dir: &Path) {
    let out = runner(pipeline, dir).output().expect("rerun");
    assert!(out.status.success(), "rerun failed: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["written"], 0, "a rerun after completion must write nothing: {report}");
}

#[test]
fn killed_csv_to_jsonl_run_ends_with_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    faucet_e2e::write_csv(&dir.path().join("input.csv"), ROWS).unwrap();
    let (_, hits) = run_with_kills("csv_to_jsonl", dir.path(), 6);
    eprintln!("csv_to_jsonl: {hits} kill(s) hit a running process");

    let text = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    let mut ids = HashSet::new();
    let mut lines = 0u64;
    for line in text.lines() {
        let record: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("corrupt line {line:?}: {e}"));
        let id: u64 = record["id"].as_str().expect("csv values are strings").parse().unwrap();
        assert!(ids.insert(id), "row {id} written twice");
        assert_eq!(record["first_name"], format!("name, {}", id % 97), "snake_case applied");
        lines += 1;
    }
    assert_eq!(lines, ROWS, "every row exactly once");
    assert_eq!(ids.len() as u64, ROWS);
    rerun_writes_nothing("csv_to_jsonl", dir.path());
    assert_eq!(std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap().lines().count() as u64, ROWS);
}

#[tokio::test(flavor = "current_thread")]
async fn killed_csv_to_sqlite_run_ends_with_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    faucet_e2e::write_csv(&dir.path().join("input.csv"), ROWS).unwrap();
    let path = dir.path().to_owned();
    let (_, hits) =
        tokio::task::spawn_blocking(move || run_with_kills("csv_to_sqlite", &path, 6)).await.unwrap();
    eprintln!("csv_to_sqlite: {hits} kill(s) hit a running process");

    let url = format!("sqlite://{}", dir.path().join("out.db").display());
    let counts = || async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let row: (i64, i64, i64, i64) =
            sqlx::query_as("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM rows")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        let typed: (String, String) = sqlx::query_as("SELECT typeof(id), typeof(active) FROM rows LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        (row, typed)
    };
    let ((count, distinct, min, max), typed) = counts().await;
    assert_eq!(
        (count, distinct, min, max),
        (ROWS as i64, ROWS as i64, 1, ROWS as i64),
        "every row exactly once"
    );
    assert_eq!(
        typed,
        ("integer".to_owned(), "integer".to_owned()),
        "infer_types gives integers and booleans"
    );
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || rerun_writes_nothing("csv_to_sqlite", &path)).await.unwrap();
    assert_eq!(counts().await.0.0, ROWS as i64);
}

//! A change log upserted into SQLite by key (deletes marked by `op`, keyless
//! rows dead-lettered), killed with SIGKILL at random points and rerun: the
//! table must end equal to the log replayed in order, and the dead-letter
//! file must hold every keyless row exactly once.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const LINES: u64 = 60_000;
const KEYS: u64 = 8_000;

fn runner(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_e2e-runner"));
    cmd.arg("sqlite_upsert").env("FAUCET_E2E_DIR", dir).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Line `i` of the change log: an upsert or a delete of a key that recurs
/// many times, or (every 997th line) a record without a key.
fn change(i: u64) -> Value {
    if i.is_multiple_of(997) {
        return json!({"id": null, "v": format!("v{i}"), "n": i, "op": "upsert"});
    }
    let op = if i.is_multiple_of(11) { "delete" } else { "upsert" };
    json!({"id": (i * 7919) % KEYS + 1, "v": format!("v{i}"), "n": i, "op": op})
}

/// Writes the log and returns the table it must leave: key → (v, n).
fn write_log(path: &Path) -> BTreeMap<i64, (String, i64)> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut table = BTreeMap::new();
    for i in 1..=LINES {
        let record = change(i);
        writeln!(out, "{record}").unwrap();
        let Some(id) = record["id"].as_i64() else { continue };
        if record["op"] == "delete" {
            table.remove(&id);
        } else {
            table.insert(id, (record["v"].as_str().unwrap().to_owned(), record["n"].as_i64().unwrap()));
        }
    }
    out.flush().unwrap();
    table
}

async fn table(dir: &Path) -> BTreeMap<i64, (String, i64)> {
    use sqlx::Connection;
    let url = format!("sqlite://{}", dir.join("out.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let rows: Vec<(i64, String, i64, String)> =
        sqlx::query_as("SELECT id, v, n, op FROM kv").fetch_all(&mut conn).await.unwrap();
    rows.into_iter()
        .map(|(id, v, n, op)| {
            assert_eq!(op, "upsert", "a delete record never writes its row");
            (id, (v, n))
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn killed_sqlite_upsert_run_ends_with_the_log_replayed_once() {
    let dir = tempfile::tempdir().unwrap();
    let expected = write_log(&dir.path().join("changes.jsonl"));
    let keyless = (1..=LINES).filter(|i| i.is_multiple_of(997)).count();

    let path = dir.path().to_owned();
    let (out, hits) = tokio::task::spawn_blocking(move || {
        // Calibrate on a scratch copy, so the kills land mid-run.
        let scratch = tempfile::tempdir().unwrap();
        std::fs::copy(path.join("changes.jsonl"), scratch.path().join("changes.jsonl")).unwrap();
        let window = faucet_e2e::time_run(|| runner(scratch.path()));
        faucet_e2e::run_with_kills(|| runner(&path), 8, window)
    })
    .await
    .unwrap();
    eprintln!("sqlite_upsert: {hits} kill(s) hit a running process");
    assert!(hits > 0, "no kill landed mid-run");
    assert!(out.status.success(), "final run failed: {}", String::from_utf8_lossy(&out.stderr));

    let got = table(dir.path()).await;
    assert_eq!(got.len(), expected.len(), "rows after the kills");
    assert!(got == expected, "the table differs from the log replayed in order");
    let dlq = std::fs::read_to_string(dir.path().join("dlq.jsonl")).unwrap();
    assert_eq!(dlq.lines().count(), keyless, "every keyless row dead-lettered exactly once");
    assert!(dlq.lines().all(|l| l.contains("key field `id` is missing or null")), "{dlq}");

    // Once complete, a rerun reads and writes nothing and changes nothing.
    let out = runner(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["written"], 0, "{report}");
    assert!(table(dir.path()).await == expected);
}

//! The main job's output: what `cargo run -p quickstart` writes, and that a
//! second run writes nothing twice.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use sqlx::Connection;

fn run_quickstart(workdir: &Path) -> String {
    let out =
        Command::new(env!("CARGO_BIN_EXE_quickstart")).env("QUICKSTART_WORKDIR", workdir).output().unwrap();
    assert!(out.status.success(), "quickstart failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn sqlite_counts(db: &Path) -> (i64, i64) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query_as("SELECT count(*), count(DISTINCT order_id) FROM orders")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn quickstart_writes_sqlite_jsonl_and_dead_letters_then_resumes() {
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("data")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/orders.jsonl"),
        work.path().join("data/orders.jsonl"),
    )
    .unwrap();

    let first = run_quickstart(work.path());
    assert!(
        first.contains(
            "orders_to_sqlite[row-0]: read 2000 record(s) in 8 page(s), wrote 1997, dead-lettered 3"
        ),
        "{first}"
    );
    assert!(
        first.contains(
            "orders_to_jsonl[row-0]: read 2000 record(s) in 2 page(s), wrote 1997, dead-lettered 0, skipped 3"
        ),
        "{first}"
    );

    // SQLite: the 1,997 well-formed orders, reshaped by flatten → snake_case → rename_keys.
    let db = work.path().join("out/orders.db");
    assert_eq!(sqlite_counts(&db).await, (1997, 1997));
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let (city, paid): (String, i64) =
        sqlx::query_as("SELECT buyer_address_city, is_paid FROM orders WHERE order_id = 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((city.as_str(), paid), ("Lyon", 0));

    // Dead letters: the three malformed lines, named by file and line.
    let dlq = std::fs::read_to_string(work.path().join("out/orders.dlq.jsonl")).unwrap();
    let lines: Vec<Value> = dlq.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let named: Vec<(u64, &str)> = lines
        .iter()
        .map(|e| (e["payload"]["line"].as_u64().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(named, vec![(500, "parse"), (1201, "parse"), (1778, "parse")]);
    for e in &lines {
        assert_eq!(e["pipeline"], "orders_to_sqlite");
        assert_eq!(e["sink"], "sqlite");
        assert_eq!(e["error"]["kind"], "Parse");
        assert!(e["ts_ms"].as_i64().unwrap() > 0);
    }

    // JSON Lines: flattened with "." then snake_cased.
    let flat = std::fs::read_to_string(work.path().join("out/orders.flat.jsonl")).unwrap();
    assert_eq!(flat.lines().count(), 1997);
    let first_row: Value = serde_json::from_str(flat.lines().next().unwrap()).unwrap();
    assert_eq!(first_row["customer_address_country_code"], "FR");
    assert!(first_row.get("customer").is_none());

    // A second run resumes from the bookmarks: nothing read, nothing written twice.
    let second = run_quickstart(work.path());
    assert!(second.contains("orders_to_sqlite[row-0]: read 0 record(s)"), "{second}");
    assert_eq!(sqlite_counts(&db).await, (1997, 1997));
    assert_eq!(
        std::fs::read_to_string(work.path().join("out/orders.flat.jsonl")).unwrap().lines().count(),
        1997
    );
    assert_eq!(std::fs::read_to_string(work.path().join("out/orders.dlq.jsonl")).unwrap().lines().count(), 3);
}

/// Run where its data is missing (here, an empty directory), the quickstart
/// fails naming the input and leaves the directory as it found it: no `out/`,
/// no database, dead-letter or state file.
#[test]
fn a_missing_input_fails_before_anything_is_created() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("QUICKSTART_WORKDIR", work.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("quickstart: ") && stderr.contains("data/orders.jsonl"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(work.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the failed run created {left:?}");
}

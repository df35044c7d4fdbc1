//! The `postgres` source reads through a cursor: peak memory does not grow
//! with the result's size (20k rows cost as much as 200k).

use std::process::Command;

use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

async fn peak_kib(rows: i64) -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let schema = format!("faucet_e2e_mem_{nanos}_{}", std::process::id());
    let mut pg = PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await.unwrap();
    let setup = format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.src AS SELECT g::int8 AS id, repeat('x', 200) || g AS v, \
         jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b', g % 7)) AS doc FROM generate_series(1, {rows}) g"
    );
    sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut pg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg("pg_to_jsonl")
        .env("FAUCET_E2E_PG_SCHEMA", &schema)
        .env("FAUCET_E2E_DIR", dir.path())
        .output()
        .unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut pg).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["written"], rows);
    let text = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["id"], rows, "in order, complete");
    assert_eq!(last["doc"]["g"], rows);
    report["peak_rss_kib"].as_u64().expect("VmHWM readable")
}

#[tokio::test]
async fn peak_memory_is_flat_from_20k_to_200k_rows() {
    let small = peak_kib(20_000).await;
    let large = peak_kib(200_000).await;
    eprintln!("peak RSS: 20k rows {small} KiB, 200k rows {large} KiB (about 50 MB of rows)");
    assert!(large <= small + small / 2 + 4096, "peak RSS grew with the result: {small} KiB vs {large} KiB");
}

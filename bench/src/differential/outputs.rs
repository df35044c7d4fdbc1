//! What one side of a case left behind, normalized so that two programs
//! agree exactly when their readers would see the same data: every output
//! (a file, a table, stdout, the exit statuses) is a list of records, each
//! one line of text.
//!
//! - JSON (`.jsonl` lines, `.json` files such as state bookmarks): keys
//!   sorted, numbers exactly as written ([`parity::canonical_exact`]), so
//!   `1.0` and `1`, or `"1"` and `1`, differ. A DLQ envelope's `ts_ms` (the
//!   clock) becomes `"<ts_ms>"` and its `error.message` `"<message>"`: the
//!   wording of an error is each program's own, its `kind` is compared.
//! - Other files (CSV): their lines, byte for byte.
//! - SQLite databases: each table's rows in rowid order, every value as
//!   SQLite's `quote()` prints it (type and text: `1`, `1.0`, `'1'`, `X'00'`).
//! - PostgreSQL: each table of the side's schema, `row_to_json` of every row,
//!   sorted (row order in a table means nothing).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde_json::Value;
use sqlx::{AssertSqlSafe, PgPool, Row};

use crate::parity;

/// Each output's name (`file out.jsonl`, `table target`, `stdout`, `exit`)
/// and its records.
pub type Outputs = BTreeMap<String, Vec<String>>;

/// Outputs only one program writes by design (README, "Differences from
/// faucet-stream"), left out of the comparison: a part of the output's name,
/// and why.
pub const NOT_COMPARED: [(&str, &str); 3] = [
    ("_faucet_commit_token", "the table where faucet's postgres and sqlite sinks keep their commit tokens"),
    ("__lease__", "faucet-stream's run lease in the state store"),
    ("__status__", "faucet-stream's run status in the state store"),
];

/// Removes the outputs of [`NOT_COMPARED`] from `outputs`.
pub fn drop_not_compared(outputs: &mut Outputs) {
    outputs.retain(|name, _| !NOT_COMPARED.iter().any(|(part, _)| name.contains(part)));
}

/// Adds every file under `dir` (relative paths, recursively): SQLite
/// databases (`.db`) by table, the rest by [`file_records`].
pub async fn add_files(dir: &Path, outputs: &mut Outputs) -> io::Result<()> {
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
            // SQLite's own companions of a database: its content is read through the database.
            if ["-shm", "-wal", "-journal"].iter().any(|suffix| relative.ends_with(suffix)) {
                continue;
            }
            if path.extension().is_some_and(|e| e == "db") {
                for (table, rows) in sqlite_tables(&path).await? {
                    outputs.insert(format!("sqlite {relative} {table}"), rows);
                }
            } else {
                outputs.insert(format!("file {relative}"), file_records(&path)?);
            }
        }
    }
    Ok(())
}

/// A file's records: JSON Lines and JSON normalized, other text by line.
pub fn file_records(path: &Path) -> io::Result<Vec<String>> {
    let bytes = fs::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let records = match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl") => text.lines().filter(|l| !l.is_empty()).map(json_record).collect(),
        Some("json") => vec![json_record(&text)],
        _ => text.lines().map(str::to_owned).collect(),
    };
    Ok(records)
}

/// Lines of a program's stdout: JSON normalized where a line is JSON.
pub fn text_records(text: &str) -> Vec<String> {
    text.lines().filter(|l| !l.is_empty()).map(json_record).collect()
}

/// One JSON text, normalized (see the module doc); text that is not JSON is
/// kept, marked.
pub fn json_record(text: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return format!("(not JSON) {text}");
    };
    if let Value::Object(envelope) = &mut value
        && envelope.contains_key("payload")
        && envelope.contains_key("ts_ms")
    {
        envelope.insert("ts_ms".into(), "<ts_ms>".into());
        if let Some(Value::Object(error)) = envelope.get_mut("error")
            && error.contains_key("message")
        {
            error.insert("message".into(), "<message>".into());
        }
    }
    let mut out = String::new();
    parity::canonical_exact(&value, &mut out);
    out
}

/// Every table of a SQLite database: rows in rowid order, each an object of
/// column name to `quote(value)`.
async fn sqlite_tables(path: &Path) -> io::Result<Vec<(String, Vec<String>)>> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.map_err(io::Error::other)?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .map_err(io::Error::other)?;
    let mut out = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
            .bind(&table)
            .fetch_all(&pool)
            .await
            .map_err(io::Error::other)?;
        let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
        let pairs: Vec<String> =
            columns.iter().map(|c| format!("'{}', quote({})", c.replace('\'', "''"), quoted(c))).collect();
        let sql = format!("SELECT json_object({}) FROM {} ORDER BY rowid", pairs.join(", "), quoted(&table));
        let rows: Vec<String> =
            sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&pool).await.map_err(io::Error::other)?;
        out.push((table, rows.iter().map(|r| json_record(r)).collect()));
    }
    pool.close().await;
    Ok(out)
}

/// Adds every table of PostgreSQL schema `schema`: `row_to_json` of each
/// row, sorted.
pub async fn add_pg_tables(pool: &PgPool, schema: &str, outputs: &mut Outputs) -> io::Result<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .map_err(io::Error::other)?;
    for table in tables {
        let sql = format!(
            "SELECT row_to_json(t)::text FROM \"{}\".\"{}\" t",
            schema.replace('"', "\"\""),
            table.replace('"', "\"\"")
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(pool).await.map_err(io::Error::other)?;
        let mut records: Vec<String> = rows.iter().map(|row| json_record(&row.get::<String, _>(0))).collect();
        records.sort();
        outputs.insert(format!("table {table}"), records);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_lose_their_clock_and_wording_not_their_kind() {
        let line = r#"{"ts_ms": 1700000000000, "error": {"kind": "Sink", "message": "disk full"}, "payload": {"a": 1.0}}"#;
        assert_eq!(
            json_record(line),
            r#"{"error":{"kind":"Sink","message":"<message>"},"payload":{"a":1.0},"ts_ms":"<ts_ms>"}"#
        );
        assert_eq!(json_record(r#"{"ts_ms": 1, "b": "1"}"#), r#"{"b":"1","ts_ms":1}"#);
        assert_eq!(json_record("a,b"), "(not JSON) a,b");
    }

    #[tokio::test]
    async fn files_and_sqlite_tables_become_records() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("state")).unwrap();
        fs::write(dir.path().join("out.jsonl"), "{\"b\":1,\"a\":\"x\"}\n\n{\"a\":2.50}\n").unwrap();
        fs::write(dir.path().join("state/k.json"), "{\"line\":3}").unwrap();
        fs::write(dir.path().join("out.csv"), "a;b\n1;\"x\"\n").unwrap();
        let db = dir.path().join("out.db");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", db.display())).await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB); INSERT INTO t VALUES (1, 2.0, '3', x'04'), (NULL, NULL, NULL, NULL)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let mut outputs = Outputs::new();
        add_files(dir.path(), &mut outputs).await.unwrap();
        assert_eq!(outputs["file out.jsonl"], [r#"{"a":"x","b":1}"#, r#"{"a":2.50}"#]);
        assert_eq!(outputs["file state/k.json"], [r#"{"line":3}"#]);
        assert_eq!(outputs["file out.csv"], ["a;b", "1;\"x\""]);
        assert_eq!(
            outputs["sqlite out.db t"],
            [
                r#"{"b":"X'04'","i":"1","r":"2.0","s":"'3'"}"#,
                r#"{"b":"NULL","i":"NULL","r":"NULL","s":"NULL"}"#
            ]
        );
    }
}

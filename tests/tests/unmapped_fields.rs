//! A record key that names no column is never dropped silently (issue 16,
//! "untyped auto_map"): generated pipelines from a JSONL file whose second
//! page brings a new key into SQLite, under each `unmapped_fields` choice.
//! The sinks' own tests cover PostgreSQL and MariaDB.

use std::path::Path;

use serde_json::Value;

faucet_runtime::faucet! {
    name: late_key_default,
    pipeline: {
        source: { type: jsonl, config: { path: "${env:FAUCET_UNMAPPED_DIR}/in.jsonl", batch_size: 2 } },
        sink: {
            type: sqlite,
            config: {
                database_url: "sqlite://${env:FAUCET_UNMAPPED_DIR}/default.db",
                table_name: rows,
                column_mapping: auto_map,
            },
        },
        dlq: { sink: { type: jsonl, config: { path: "${env:FAUCET_UNMAPPED_DIR}/default.dlq.jsonl" } } },
    }
}

faucet_runtime::faucet! {
    name: late_key_created,
    pipeline: {
        source: { type: jsonl, config: { path: "${env:FAUCET_UNMAPPED_DIR}/in.jsonl", batch_size: 2 } },
        sink: {
            type: sqlite,
            config: {
                database_url: "sqlite://${env:FAUCET_UNMAPPED_DIR}/created.db",
                table_name: rows,
                column_mapping: auto_map,
                create_table: true,
            },
        },
        dlq: { sink: { type: jsonl, config: { path: "${env:FAUCET_UNMAPPED_DIR}/created.dlq.jsonl" } } },
    }
}

faucet_runtime::faucet! {
    name: late_key_dropped,
    pipeline: {
        source: { type: jsonl, config: { path: "${env:FAUCET_UNMAPPED_DIR}/in.jsonl", batch_size: 2 } },
        sink: {
            type: sqlite,
            config: {
                database_url: "sqlite://${env:FAUCET_UNMAPPED_DIR}/dropped.db",
                table_name: rows,
                column_mapping: auto_map,
                create_table: true,
                unmapped_fields: drop,
            },
        },
    }
}

/// Runs `sql` on the SQLite file `db`, each row's columns joined with `|`.
async fn query(db: &Path, sql: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    let url = format!("sqlite://{}", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(&mut conn).await.unwrap();
    rows.iter().map(|r| r.get::<String, _>(0)).collect()
}

#[tokio::test]
#[allow(unsafe_code)]
async fn a_key_first_seen_on_the_second_page_is_dead_lettered_added_or_dropped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n{\"id\":3,\"v\":\"c\",\"late\":7}\n{\"id\":4,\"v\":\"d\"}\n",
    )
    .unwrap();
    // SAFETY: set before any pipeline runs; no other thread reads the environment yet.
    unsafe { std::env::set_var("FAUCET_UNMAPPED_DIR", dir.path()) };
    // The table exists without `late`; no create_table: the record is dead-lettered, naming the key.
    let default_db = dir.path().join("default.db");
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}?mode=rwc", default_db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("CREATE TABLE rows (id INTEGER, v TEXT)").execute(&mut conn).await.unwrap();
    }

    let report = late_key_default::run().await.unwrap();
    assert_eq!((report.records_written, report.records_dead_lettered), (3, 1));
    let dlq = std::fs::read_to_string(dir.path().join("default.dlq.jsonl")).unwrap();
    assert_eq!(dlq.lines().count(), 1, "{dlq}");
    let envelope: Value = serde_json::from_str(dlq.trim()).unwrap();
    assert!(envelope.to_string().contains(r#"record key \"late\" names no column of table rows"#), "{dlq}");
    assert_eq!(query(&default_db, "SELECT group_concat(id) FROM rows").await, ["1,2,4"]);

    // create_table: the column is added on the second page and its value lands.
    let report = late_key_created::run().await.unwrap();
    assert_eq!((report.records_written, report.records_dead_lettered), (4, 0));
    let created = dir.path().join("created.db");
    let rows = query(&created, "SELECT id || '|' || coalesce(late, '-') FROM rows ORDER BY id").await;
    assert_eq!(rows, ["1|-", "2|-", "3|7", "4|-"]);
    assert_eq!(
        query(&created, "SELECT type FROM pragma_table_info('rows') WHERE name = 'late'").await,
        ["INTEGER"]
    );

    // unmapped_fields: drop, and only then, leaves the key out.
    let report = late_key_dropped::run().await.unwrap();
    assert_eq!((report.records_written, report.records_dead_lettered), (4, 0));
    let dropped = dir.path().join("dropped.db");
    assert_eq!(query(&dropped, "SELECT group_concat(name) FROM pragma_table_info('rows')").await, ["id,v"]);
}

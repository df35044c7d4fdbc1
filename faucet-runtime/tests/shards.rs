//! Sharded runs (issue 21) through the real sources: every row lands in
//! exactly one shard, whatever the keys (NULL, skewed, negative, fewer values
//! than shards); the plan is stored once and reused, so rows inserted later
//! never move between shards; and state made under another shard count, or
//! without shards, is refused.
//!
//! Servers: PostgreSQL on 127.0.0.1:5432 (each test in its own schema) and
//! MariaDB on 127.0.0.1:3306 (its own database); SQLite and JSON Lines files
//! in temporary directories.

#![cfg(all(feature = "postgres", feature = "mysql", feature = "sqlite", feature = "files"))]

use std::sync::{Arc, Mutex};

use faucet_runtime::config::files::{InputLimits, JsonlSourceConfig, OnParseError};
use faucet_runtime::config::sql::{
    MySqlSourceConfig, PostgresSourceConfig, SourceInput, SqliteInput, SqliteSourceConfig,
};
use faucet_runtime::connectors::files::JsonlSource;
use faucet_runtime::connectors::sql::mysql::MySqlSource;
use faucet_runtime::connectors::sql::postgres::PostgresSource;
use faucet_runtime::connectors::sql::sqlite::SqliteSource;
use faucet_runtime::shard::{Shardable, Shards};
use faucet_runtime::state::{FileStore, MemoryStore};
use faucet_runtime::{
    CommitToken, OpenContext, Pipeline, Record, Result, Sink, StateStore, WriteOutcome, Writes,
};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection};

const PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MARIADB: &str = "mysql://root@127.0.0.1:3306";

/// Collects the `id` of every record written, in a list shared by all shards.
#[derive(Clone, Default)]
struct Ids(Arc<Mutex<Vec<i64>>>);

impl Ids {
    fn sorted(&self) -> Vec<i64> {
        let mut ids = self.0.lock().unwrap().clone();
        ids.sort_unstable();
        ids
    }
}

impl Sink for Ids {
    fn connector_name(&self) -> &'static str {
        "ids"
    }
    fn batch_size(&self) -> usize {
        64
    }
    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        Ok(())
    }
    async fn flush(&mut self) -> Result<Option<Value>> {
        Ok(None)
    }
}

impl Writes for Ids {
    async fn write_batch(&mut self, batch: &[Record], _token: CommitToken) -> Result<WriteOutcome> {
        let mut ids = self.0.lock().unwrap();
        ids.extend(batch.iter().map(|r| r["id"].as_i64().expect("an integer id")));
        Ok(WriteOutcome { written: batch.len() as u64, ..WriteOutcome::default() })
    }
}

/// The rows every test table holds: `id` 1..=n, and a shard key `k` that is
/// NULL for every 17th row, 7 for half of the rest (skew), and otherwise
/// spread over negative and very large values.
fn key(id: i64) -> Option<i64> {
    match id {
        _ if id % 17 == 0 => None,
        _ if id % 2 == 0 => Some(7),
        _ if id % 3 == 0 => Some(-id * 1_000_003),
        _ => Some(id * 9_000_000_000_000 / 1000),
    }
}

fn rows_sql(n: i64) -> String {
    (1..=n)
        .map(|id| {
            let k = key(id).map_or("NULL".to_owned(), |k| k.to_string());
            format!("({id}, {k}, 'v{id}')")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs every shard of `count` over sources from `make`, each its own
/// pipeline as the generated code builds them, and returns the ids each read.
async fn run_all<S, F>(count: u32, make: F, store: Arc<impl StateStore>) -> Vec<Vec<i64>>
where
    S: Shardable<Record = Record>,
    F: Fn() -> S,
{
    let shards = Shards::new(count, None).unwrap();
    let mut per_shard = Vec::new();
    for shard in shards.each() {
        let ids = Ids::default();
        let pipeline = Pipeline::new(make(), ids.clone()).with_name("sharded").with_state(store.clone());
        let report = pipeline.with_shard(&shard).await.unwrap().run().await.unwrap();
        assert_eq!(report.records_written, ids.sorted().len() as u64);
        per_shard.push(ids.sorted());
    }
    per_shard
}

/// Every id of `1..=n` is in exactly one shard.
fn assert_partition(per_shard: &[Vec<i64>], n: i64, what: &str) {
    let mut all: Vec<i64> = per_shard.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=n).collect::<Vec<_>>(),
        "{what}: shards {:?}",
        per_shard.iter().map(Vec::len).collect::<Vec<_>>()
    );
}

async fn pg_schema(prefix: &str, n: i64) -> (String, sqlx::PgConnection) {
    let name = format!("faucet_{prefix}_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(PG).await.expect("PostgreSQL on 127.0.0.1:5432");
    let sql = format!(
        "CREATE SCHEMA {name}; CREATE TABLE {name}.src (id BIGINT PRIMARY KEY, k BIGINT, v TEXT); \
         INSERT INTO {name}.src VALUES {};",
        rows_sql(n)
    );
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
    (name, conn)
}

fn pg_source(schema: &str) -> PostgresSource {
    PostgresSource::new(PostgresSourceConfig {
        connection_url: PG.into(),
        input: SourceInput::Table { schema: Some(schema.into()), name: "src".into() },
        replication_key: None,
        batch_size: 50,
    })
    .with_shard_key("k")
}

#[tokio::test]
async fn postgres_mysql_and_sqlite_put_every_row_in_exactly_one_shard() {
    const N: i64 = 600;
    // PostgreSQL, a table read in primary-key order.
    let (schema, mut pg) = pg_schema("shards", N).await;
    for count in [1, 2, 5, 16] {
        let per_shard = run_all(count, || pg_source(&schema), Arc::new(MemoryStore::new())).await;
        assert_partition(&per_shard, N, &format!("postgres, {count} shards"));
        let nulls: Vec<i64> = (1..=N).filter(|id| key(*id).is_none()).collect();
        assert!(
            nulls.iter().all(|id| per_shard.last().unwrap().contains(id)),
            "NULL keys go to the last shard"
        );
    }
    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut pg).await.unwrap();

    // MariaDB, a query with a parameter, incremental by id.
    let db = format!("faucet_shards_{}", uuid::Uuid::now_v7().simple());
    let mut my = sqlx::MySqlConnection::connect(MARIADB).await.expect("MariaDB on 127.0.0.1:3306");
    let sql = format!(
        "CREATE DATABASE `{db}`; CREATE TABLE `{db}`.src (id BIGINT PRIMARY KEY, k BIGINT NULL, v TEXT); \
         INSERT INTO `{db}`.src VALUES {};",
        rows_sql(N)
    );
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut my).await.unwrap();
    let my_source = || {
        MySqlSource::new(MySqlSourceConfig {
            connection_url: format!("{MARIADB}/{db}"),
            input: SourceInput::Query {
                sql: "SELECT id, k, v FROM src WHERE id > ?".into(),
                params: vec![0.into()],
            },
            replication_key: Some("id".into()),
            batch_size: 40,
        })
        .with_shard_key("k")
    };
    for count in [3, 8] {
        let per_shard = run_all(count, my_source, Arc::new(MemoryStore::new())).await;
        assert_partition(&per_shard, N, &format!("mysql, {count} shards"));
    }
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE `{db}`"))).execute(&mut my).await.unwrap();

    // SQLite, a table read in rowid order (the shard's condition on the table itself).
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("src.db").display());
    let mut lite = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc")).await.unwrap();
    let sql = format!(
        "CREATE TABLE src (id INTEGER PRIMARY KEY, k INTEGER, v TEXT); INSERT INTO src VALUES {};",
        rows_sql(N)
    );
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut lite).await.unwrap();
    let lite_source = |input: SqliteInput| {
        let url = url.clone();
        move || {
            SqliteSource::new(SqliteSourceConfig {
                database_url: url.clone(),
                input: input.clone(),
                replication_key: None,
                batch_size: 30,
            })
            .with_shard_key("k")
        }
    };
    for count in [2, 7] {
        let table = lite_source(SqliteInput::Table { name: "src".into() });
        assert_partition(&run_all(count, table, Arc::new(MemoryStore::new())).await, N, "sqlite table");
        let query =
            lite_source(SqliteInput::Query { sql: "SELECT * FROM src ORDER BY id".into(), params: vec![] });
        assert_partition(&run_all(count, query, Arc::new(MemoryStore::new())).await, N, "sqlite query");
    }
}

#[tokio::test]
async fn more_shards_than_rows_and_an_empty_table() {
    let (schema, mut pg) = pg_schema("shards_few", 3).await;
    let per_shard = run_all(8, || pg_source(&schema), Arc::new(MemoryStore::new())).await;
    assert_eq!(per_shard.len(), 8, "every shard runs, the surplus ones empty");
    assert_partition(&per_shard, 3, "3 rows in 8 shards");
    assert!(per_shard.iter().filter(|ids| ids.is_empty()).count() >= 5);
    sqlx::raw_sql(AssertSqlSafe(format!("DELETE FROM {schema}.src"))).execute(&mut pg).await.unwrap();
    let per_shard = run_all(4, || pg_source(&schema), Arc::new(MemoryStore::new())).await;
    assert!(per_shard.iter().all(Vec::is_empty), "an empty table makes empty shards");
    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut pg).await.unwrap();
}

#[tokio::test]
async fn the_stored_plan_is_reused_and_another_count_is_refused() {
    const N: i64 = 200;
    let (schema, mut pg) = pg_schema("shards_plan", N).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let first = run_all(2, || pg_source(&schema), store.clone()).await;
    assert_partition(&first, N, "first run");
    let plan = store.get("sharded::row-0::shards").await.unwrap().expect("the plan is stored");
    assert_eq!(plan["count"], 2);
    assert_eq!(plan["by"], "range");

    // Rows inserted after the plan keep to the stored cuts: a key below every
    // cut goes to shard 0, one above them to the last shard, and each shard
    // reads only its new rows.
    let sql = format!(
        "INSERT INTO {schema}.src VALUES (1001, -9000000000000000000, 'low'), (1002, 9000000000000000000, 'high')"
    );
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut pg).await.unwrap();
    let again = run_all(2, || pg_source(&schema), store.clone()).await;
    assert_eq!(again, [vec![1001], vec![1002]]);
    assert_eq!(store.get("sharded::row-0::shards").await.unwrap(), Some(plan), "the plan is not remade");

    // Another count under the same state is refused before anything is read.
    let shards = Shards::new(3, None).unwrap();
    let shard = shards.each().next().unwrap();
    let pipeline =
        Pipeline::new(pg_source(&schema), Ids::default()).with_name("sharded").with_state(store.clone());
    let error = pipeline.with_shard(&shard).await.err().expect("refused").to_string();
    assert!(
        error.contains("plan for 2 shard(s)")
            && error.contains("asks for 3")
            && error.contains("state reset"),
        "{error}"
    );

    // So is an unsharded run over the sharded state…
    let unsharded =
        Pipeline::new(pg_source(&schema), Ids::default()).with_name("sharded").with_state(store.clone());
    let error = unsharded.run().await.unwrap_err().to_string();
    assert!(error.contains("has no `shard:`"), "{error}");

    // …and a sharded run over an unsharded one's bookmark.
    let plain = Arc::new(FileStore::new(dir.path().join("plain")));
    Pipeline::new(pg_source(&schema), Ids::default())
        .with_name("plain")
        .with_state(plain.clone())
        .run()
        .await
        .unwrap();
    let shards = Shards::new(2, None).unwrap();
    let shard = shards.each().next().unwrap();
    let pipeline = Pipeline::new(pg_source(&schema), Ids::default()).with_name("plain").with_state(plain);
    let error = pipeline.with_shard(&shard).await.err().expect("refused").to_string();
    assert!(error.contains("bookmark of an unsharded run"), "{error}");
    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut pg).await.unwrap();
}

#[tokio::test]
async fn one_shard_alone_needs_a_state_store_its_siblings_share() {
    let shards = Shards::new(2, Some(1)).unwrap();
    let shard = shards.each().next().unwrap();
    let pipeline = Pipeline::new(pg_source("unused"), Ids::default()).with_state(MemoryStore::new());
    let error = pipeline.with_shard(&shard).await.err().expect("refused").to_string();
    assert!(error.contains("runs alone here") && error.contains("state store"), "{error}");
}

#[tokio::test]
async fn files_are_divided_by_a_hash_of_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut id = 0;
    for file in 0..24 {
        let lines: String = (0..5)
            .map(|_| {
                id += 1;
                format!("{{\"id\":{id}}}\n")
            })
            .collect();
        std::fs::write(dir.path().join(format!("part-{file:02}.jsonl")), lines).unwrap();
    }
    let path = format!("{}/*.jsonl", dir.path().display());
    let source = || {
        JsonlSource::new(JsonlSourceConfig {
            path: path.clone(),
            batch_size: 7,
            on_parse_error: OnParseError::Fail,
            limits: InputLimits { max_record_bytes: 1 << 20, max_page_bytes: 1 << 24 },
        })
    };
    let per_shard = run_all(3, source, Arc::new(MemoryStore::new())).await;
    assert_partition(&per_shard, 120, "24 files in 3 shards");
    assert!(
        per_shard.iter().all(|ids| ids.len().is_multiple_of(5) && !ids.is_empty()),
        "whole files per shard"
    );
}

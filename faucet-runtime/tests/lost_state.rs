//! Losing the state store must not silently duplicate rows: when the store has
//! no bookmark but the sink holds commit tokens of an earlier run of the same
//! pipeline, the run fails before writing, unless forced to start over.
//!
//! Each test runs a pipeline with a real state store and a real sink, wipes
//! the state, reruns (it must fail and write nothing), then reruns with
//! `force_new_lineage` (it writes everything again) and once more (it resumes).

#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

#[cfg(feature = "sqlite")]
use faucet_runtime::state::FileStore;
use faucet_runtime::{ErrorKind, Page, Pipeline, Result, RunOptions, RunReport, Source, StateStore, Writes};
use serde_json::{Value, json};

const PAGES: u64 = 3;
const PER_PAGE: u64 = 10;
const ROWS: i64 = (PAGES * PER_PAGE) as i64;

/// `PAGES` pages of `PER_PAGE` records `{"id": n}`, resumable by page number.
struct Numbers {
    next: u64,
}

impl Source for Numbers {
    type Record = serde_json::Value;

    fn connector_name(&self) -> &'static str {
        "numbers"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        self.next = bookmark.and_then(|b| b["page"].as_u64()).unwrap_or(0);
        Ok(())
    }

    async fn next_page(&mut self) -> Result<Option<Page>> {
        if self.next == PAGES {
            return Ok(None);
        }
        let first = self.next * PER_PAGE;
        self.next += 1;
        Ok(Some(Page {
            records: (first..first + PER_PAGE).map(|id| json!({ "id": id })).collect(),
            rejects: Vec::new(),
            skipped: 0,
            bookmark: Some(json!({ "page": self.next })),
        }))
    }
}

async fn run<K: Writes>(name: &str, sink: K, store: impl StateStore, force: bool) -> Result<RunReport> {
    let options = RunOptions { force_new_lineage: force, ..RunOptions::default() };
    Pipeline::new(Numbers { next: 0 }, sink)
        .with_name(name)
        .with_state(store)
        .with_options(&options)
        .run()
        .await
}

/// The refusal names the token table, the way out and writes nothing.
fn assert_refused(result: Result<RunReport>, token_table: &str) {
    let err = result.expect_err("a rerun after the state was lost must fail");
    assert_eq!(err.kind(), ErrorKind::State, "{err}");
    let message = err.to_string();
    for part in ["no bookmark", token_table, "DELETE FROM", "--force-new-lineage", "Nothing was written"] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
}

/// Runs with a memory store, reruns with a fresh one (a state store that lost
/// its data: refused, nothing written), then forces a new lineage and resumes it.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn fresh_store_refused_then_forced<K: Writes>(sink: impl Fn() -> K, count: impl AsyncFn() -> i64) {
    use std::sync::Arc;

    use faucet_runtime::state::MemoryStore;

    let store = Arc::new(MemoryStore::new());
    let first = run("lost", sink(), store.clone(), false).await.unwrap();
    assert_eq!(first.records_written, ROWS as u64);

    assert_refused(run("lost", sink(), MemoryStore::new(), false).await, "_faucet_commit_token");
    assert_eq!(count().await, ROWS, "the refused run wrote nothing");

    let store = Arc::new(MemoryStore::new());
    let forced = run("lost", sink(), store.clone(), true).await.unwrap();
    assert_eq!(forced.records_written, ROWS as u64);
    assert_eq!(count().await, 2 * ROWS);
    let resumed = run("lost", sink(), store, false).await.unwrap();
    assert_eq!(resumed.records_written, 0);
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use faucet_runtime::connectors::sql::sqlite::{
        ColumnMapping, SqliteSink, SqliteSinkConfig, TableWrite, UnmappedFields, WriteMode,
    };
    use sqlx::Connection;

    use super::*;

    fn sink(url: &str) -> SqliteSink {
        SqliteSink::new(SqliteSinkConfig {
            database_url: url.into(),
            table_name: "numbers".into(),
            column_mapping: ColumnMapping::AutoMap,
            write: TableWrite {
                create_table: true,
                unmapped_fields: UnmappedFields::Dlq,
                batch_size: 4,
                write_mode: WriteMode::Append,
                key: Vec::new(),
                delete_marker: None,
                columns: None,
            },
        })
    }

    async fn count(url: &str) -> i64 {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM numbers").fetch_one(&mut conn).await.unwrap()
    }

    #[tokio::test]
    async fn a_wiped_state_file_stops_the_rerun_until_forced() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let state = dir.path().join("state");

        let first = run("lost", sink(&url), FileStore::new(&state), false).await.unwrap();
        assert_eq!(first.records_written, ROWS as u64);
        // A rerun with the state kept resumes at the end: nothing new.
        let kept = run("lost", sink(&url), FileStore::new(&state), false).await.unwrap();
        assert_eq!(kept.records_written, 0);

        std::fs::remove_dir_all(&state).unwrap();
        assert_refused(run("lost", sink(&url), FileStore::new(&state), false).await, "_faucet_commit_token");
        assert_eq!(count(&url).await, ROWS, "the refused run wrote nothing");
        // The refused run did not record a lineage either, so it refuses again.
        assert_eq!(FileStore::new(&state).get("lost::row-0").await.unwrap(), None);
        assert_refused(run("lost", sink(&url), FileStore::new(&state), false).await, "_faucet_commit_token");

        // Another pipeline writing to the same database is not affected.
        let other = run("other", sink(&url), FileStore::new(&state), false).await.unwrap();
        assert_eq!(other.records_written, ROWS as u64);

        let forced = run("lost", sink(&url), FileStore::new(&state), true).await.unwrap();
        assert_eq!(forced.records_written, ROWS as u64);
        assert_eq!(count(&url).await, 3 * ROWS);
        // The forced run started a lineage the store now knows: the next run resumes.
        let resumed = run("lost", sink(&url), FileStore::new(&state), false).await.unwrap();
        assert_eq!(resumed.records_written, 0);
        assert_eq!(count(&url).await, 3 * ROWS);
    }

    #[tokio::test]
    async fn a_pipeline_without_a_state_store_reruns_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        for _ in 0..2 {
            Pipeline::new(Numbers { next: 0 }, sink(&url)).with_name("stateless").run().await.unwrap();
        }
        assert_eq!(count(&url).await, 2 * ROWS);
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use faucet_runtime::connectors::sql::postgres::{
        ColumnMapping, PostgresSink, PostgresSinkConfig, TableWrite, UnmappedFields, WriteMethod, WriteMode,
    };

    use sqlx::Connection;

    use super::*;

    const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
    const SCHEMA: &str = "lost_state";

    fn sink() -> PostgresSink {
        PostgresSink::new(PostgresSinkConfig {
            connection_url: URL.into(),
            schema: Some(SCHEMA.into()),
            table_name: "numbers".into(),
            column_mapping: ColumnMapping::AutoMap,
            write: TableWrite {
                create_table: true,
                unmapped_fields: UnmappedFields::Dlq,
                batch_size: 4,
                write_mode: WriteMode::Append,
                key: Vec::new(),
                delete_marker: None,
                columns: None,
            },
            write_method: WriteMethod::Copy,
        })
    }

    async fn count() -> i64 {
        let mut conn = sqlx::PgConnection::connect(URL).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM lost_state.numbers").fetch_one(&mut conn).await.unwrap()
    }

    #[tokio::test]
    async fn a_fresh_memory_store_stops_the_rerun_until_forced() {
        let mut conn = sqlx::PgConnection::connect(URL).await.unwrap();
        sqlx::raw_sql("DROP SCHEMA IF EXISTS lost_state CASCADE").execute(&mut conn).await.unwrap();

        fresh_store_refused_then_forced(sink, count).await;
        sqlx::raw_sql("DROP SCHEMA lost_state CASCADE").execute(&mut conn).await.unwrap();
    }
}

#[cfg(feature = "mysql")]
mod mysql {

    use faucet_runtime::connectors::sql::mysql::{
        ColumnMapping, MySqlSink, MySqlSinkConfig, TableWrite, UnmappedFields, WriteMode,
    };
    use sqlx::Connection;

    use super::*;

    const SERVER: &str = "mysql://root@127.0.0.1:3306";

    fn sink() -> MySqlSink {
        MySqlSink::new(MySqlSinkConfig {
            connection_url: format!("{SERVER}/lost_state"),
            schema: None,
            table_name: "numbers".into(),
            column_mapping: ColumnMapping::AutoMap,
            write: TableWrite {
                create_table: true,
                unmapped_fields: UnmappedFields::Dlq,
                batch_size: 4,
                write_mode: WriteMode::Append,
                key: Vec::new(),
                delete_marker: None,
                columns: None,
            },
        })
    }

    async fn count() -> i64 {
        let mut conn = sqlx::MySqlConnection::connect(SERVER).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM lost_state.numbers").fetch_one(&mut conn).await.unwrap()
    }

    #[tokio::test]
    async fn a_fresh_memory_store_stops_the_rerun_until_forced() {
        let mut conn = sqlx::MySqlConnection::connect(SERVER).await.unwrap();
        sqlx::raw_sql("DROP DATABASE IF EXISTS lost_state").execute(&mut conn).await.unwrap();
        sqlx::raw_sql("CREATE DATABASE lost_state").execute(&mut conn).await.unwrap();

        fresh_store_refused_then_forced(sink, count).await;
        sqlx::raw_sql("DROP DATABASE lost_state").execute(&mut conn).await.unwrap();
    }
}

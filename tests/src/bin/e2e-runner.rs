//! Runs one of the end-to-end pipelines (named by the first argument) with
//! `FAUCET_E2E_DIR` as its working directory, then prints its report as one
//! JSON line: the crash tests kill this process at random points.

use faucet_e2e::{
    cdc_one, cdc_replica, csv_contract, csv_to_jsonl, csv_to_sqlite, faucet_stream, fields_untyped,
    file_jsonl_to_csv, jsonl_dlq, jsonl_to_jsonl, matrix_fanout, matrix_rest, matrix_stop, matrix_tree,
    mysql_to_pg, peak_rss_kib, pg_append, pg_introspected, pg_to_jsonl, pg_typed, pg_upsert, rows_explode,
    rows_filter, shard_files, shard_matrix, shard_pg, shard_pg_upsert, sqlite_upsert, typed_bridged,
    typed_csv_to_sqlite, typed_fields, typed_layers, typed_layers_rows, typed_misfit, typed_misfit_fail,
    typed_reshape, typed_rows, untyped, values_typed, values_untyped, vol_pg_to_pg, vol_sqlite_to_pg,
};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    if which == "cdc_replica" {
        let report = cdc_replica::run().await.expect("the matrix runs");
        println!("{}", report.to_json());
        std::process::exit(report.exit_code());
    }
    if which.starts_with("shard_") {
        // A sharded pipeline runs the shard JOB_COMPLETION_INDEX names (else
        // all of them) and prints its report, one entry per shard.
        let report = match which.as_str() {
            "shard_pg" => shard_pg::run().await,
            "shard_pg_upsert" => shard_pg_upsert::run().await,
            "shard_files" => shard_files::run().await,
            _ => shard_matrix::run().await,
        };
        match report {
            Ok(report) => {
                println!("{}", report.to_json());
                std::process::exit(report.exit_code());
            }
            Err(error) => {
                eprintln!("{error}");
                std::process::exit(1);
            }
        }
    }
    if which.starts_with("matrix_") {
        // A matrix prints its whole report and exits non-zero when any invocation failed.
        let report = match which.as_str() {
            "matrix_tree" => matrix_tree::run().await,
            "matrix_rest" => matrix_rest::run().await,
            "matrix_fanout" => {
                // Only totals: a 100k-line report would measure the report, not the run.
                let report = matrix_fanout::run().await.expect("the matrix runs");
                let peak = peak_rss_kib();
                let written: u64 = report.invocations.iter().map(|i| i.records_written).sum();
                println!(
                    "{}",
                    serde_json::json!({
                        "invocations": report.invocations.len(),
                        "succeeded": report.count(faucet_runtime::InvocationStatus::Succeeded),
                        "records_written": written,
                        "peak_rss_kib": peak,
                    })
                );
                std::process::exit(report.exit_code());
            }
            _ => matrix_stop::run().await,
        }
        .expect("the matrix runs");
        println!("{}", report.to_json());
        std::process::exit(report.exit_code());
    }
    let report = match which.as_str() {
        "csv_to_sqlite" => csv_to_sqlite::run().await,
        "csv_to_jsonl" => csv_to_jsonl::run().await,
        "jsonl_to_jsonl" => jsonl_to_jsonl::run().await,
        "jsonl_dlq" => jsonl_dlq::run().await,
        "csv_contract" => csv_contract::run().await,
        "pg_append" => pg_append::run().await,
        "pg_upsert" => pg_upsert::run().await,
        "mysql_to_pg" => mysql_to_pg::run().await,
        "pg_to_jsonl" => pg_to_jsonl::run().await,
        "pg_introspected" => pg_introspected::run().await,
        "sqlite_upsert" => sqlite_upsert::run().await,
        "vol_pg_to_pg" => vol_pg_to_pg::run().await,
        "vol_sqlite_to_pg" => vol_sqlite_to_pg::run().await,
        "typed_reshape" => typed_reshape::run().await,
        "typed_csv_to_sqlite" => typed_csv_to_sqlite::run().await,
        "pg_typed" => pg_typed::run().await,
        "typed_misfit" => typed_misfit::run().await,
        "typed_misfit_fail" => typed_misfit_fail::run().await,
        "untyped_typed_reshape" => untyped::typed_reshape::run().await,
        "untyped_typed_csv_to_sqlite" => untyped::typed_csv_to_sqlite::run().await,
        "untyped_pg_typed" => untyped::pg_typed::run().await,
        "file_jsonl_to_csv" => file_jsonl_to_csv::run().await,
        "rows_filter" => rows_filter::run().await,
        "untyped_rows_filter" => untyped::rows_filter::run().await,
        "rows_explode" => rows_explode::run().await,
        "typed_fields" => typed_fields::run().await,
        "untyped_typed_fields" => untyped::typed_fields::run().await,
        "fields_untyped" => fields_untyped::run().await,
        "values_typed" => values_typed::run().await,
        "untyped_values_typed" => untyped::values_typed::run().await,
        "values_untyped" => values_untyped::run().await,
        "typed_bridged" => typed_bridged::run().await,
        "untyped_typed_bridged" => untyped::typed_bridged::run().await,
        "typed_rows" => typed_rows::run().await,
        "untyped_typed_rows" => untyped::typed_rows::run().await,
        "typed_layers" => typed_layers::run().await,
        "untyped_typed_layers" => untyped::typed_layers::run().await,
        "typed_layers_rows" => typed_layers_rows::run().await,
        "untyped_typed_layers_rows" => untyped::typed_layers_rows::run().await,
        "faucet_stream_csv_to_jsonl" => faucet_stream::csv_to_jsonl::run().await,
        "cdc_one" => {
            // The config's file store, wrapped to abort where FAUCET_E2E_ABORT says.
            let dir = std::env::var("FAUCET_E2E_DIR").expect("FAUCET_E2E_DIR");
            let store = AbortingStore {
                inner: faucet_runtime::state::FileStore::new(format!("{dir}/state")),
                abort: std::env::var("FAUCET_E2E_ABORT").ok(),
                puts: std::sync::atomic::AtomicU64::new(0),
            };
            match cdc_one::pipeline() {
                Ok(pipeline) => pipeline.with_state(store).run().await,
                Err(e) => Err(e),
            }
        }
        other => {
            eprintln!("unknown pipeline {other:?}");
            std::process::exit(2);
        }
    };
    match report {
        Ok(report) => println!(
            "{}",
            serde_json::json!({
                "read": report.records_read,
                "written": report.records_written,
                "pages": report.pages,
                "dead_lettered": report.records_dead_lettered,
                "contract_breaches": report.contract_breaches,
                "already_committed": report.pages_already_committed,
                "peak_rss_kib": peak_rss_kib(),
            })
        ),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}

/// A test-only state store that ends the process abruptly (SIGABRT: no
/// destructor, no flush) at a chosen bookmark: `before_bookmark:N` dies after
/// the sink committed page N and before its bookmark is written,
/// `after_bookmark:N` after the bookmark is written and before the source is
/// asked for the next page (where the CDC source advances its slot).
struct AbortingStore {
    inner: faucet_runtime::state::FileStore,
    abort: Option<String>,
    puts: std::sync::atomic::AtomicU64,
}

impl faucet_runtime::StateStore for AbortingStore {
    fn store_name(&self) -> &'static str {
        "file"
    }

    async fn get(&self, key: &str) -> faucet_runtime::Result<Option<serde_json::Value>> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, value: &serde_json::Value) -> faucet_runtime::Result<()> {
        let page = value.get("source").is_some_and(|s| !s.is_null());
        let n = if page { self.puts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 } else { 0 };
        let at = |point: &str| self.abort.as_deref() == Some(format!("{point}:{n}").as_str());
        if page && at("before_bookmark") {
            std::process::abort();
        }
        self.inner.put(key, value).await?;
        if page && at("after_bookmark") {
            std::process::abort();
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> faucet_runtime::Result<()> {
        self.inner.delete(key).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &serde_json::Value,
    ) -> faucet_runtime::Result<serde_json::Value> {
        self.inner.put_if_absent(key, value).await
    }
}

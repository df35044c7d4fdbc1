//! Runs one of the end-to-end pipelines (named by the first argument) with
//! `FAUCET_E2E_DIR` as its working directory, then prints its report as one
//! JSON line: the crash tests kill this process at random points.

use faucet_e2e::{
    csv_to_jsonl, csv_to_sqlite, jsonl_to_jsonl, matrix_fanout, matrix_rest, matrix_stop, matrix_tree,
    mysql_to_pg, peak_rss_kib, pg_append, pg_to_jsonl, pg_upsert,
};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
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
        "pg_append" => pg_append::run().await,
        "pg_upsert" => pg_upsert::run().await,
        "mysql_to_pg" => mysql_to_pg::run().await,
        "pg_to_jsonl" => pg_to_jsonl::run().await,
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

//! `BENCH_IN=in.csv BENCH_OUT=out.jsonl bench-faucet <a|b|c|d>`: runs a scenario's
//! compiled pipeline (`scenarios/bench_<x>.yaml`, compiled by build.rs). The
//! pipelines read their paths from `${env:BENCH_IN}` and `${env:BENCH_OUT}`, and
//! B and C their database from `${env:BENCH_PG_URL}`.
//! It runs on tokio's multi-threaded runtime, as `#[tokio::main]` would;
//! `BENCH_RUNTIME=current_thread` picks the single-threaded one.
//! `BENCH_OBSERVE=1` first installs a Prometheus recorder and a tracing
//! subscriber at debug level (writing nowhere), to measure what observability costs.

use std::process::ExitCode;

faucet_runtime::include_pipeline!("bench_a");
faucet_runtime::include_pipeline!("bench_b");
faucet_runtime::include_pipeline!("bench_c");
faucet_runtime::include_pipeline!("bench_d");

fn main() -> ExitCode {
    if std::env::var_os("BENCH_OBSERVE").is_some_and(|v| v == "1") {
        if let Err(e) = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
            eprintln!("bench-faucet: installing the Prometheus recorder: {e}");
            return ExitCode::FAILURE;
        }
        tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .with_writer(std::io::sink)
            .init();
    }
    let mut builder = match std::env::var("BENCH_RUNTIME").as_deref() {
        Ok("current_thread") => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    match builder.enable_all().build() {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("bench-faucet: starting tokio: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let report = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["a" | "e"] => bench_a::run().await,
        ["b"] => bench_b::run().await,
        ["c"] => bench_c::run().await,
        ["d"] => bench_d::run().await,
        _ => {
            eprintln!("usage: BENCH_IN=in.csv BENCH_OUT=out.jsonl bench-faucet <a|b|c|d>");
            return ExitCode::from(2);
        }
    };
    match report {
        Ok(report) => {
            eprintln!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-faucet: {e}");
            ExitCode::FAILURE
        }
    }
}

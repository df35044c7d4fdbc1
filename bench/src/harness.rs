//! The `main` of every benchmark program: one binary per scenario and side
//! (`faucet_a`, `faucet_a_typed`, …, `reference_a`, …), so each carries
//! only its own code, as an application built for one pipeline would, and peak
//! memory compares like with like.

use std::fmt::Display;
use std::future::Future;
use std::io;
use std::process::ExitCode;

/// Runs a compiled scenario's pipeline (`bench_x::run`) and prints its report.
///
/// It runs on tokio's multi-threaded runtime, as `#[tokio::main]` would;
/// `BENCH_RUNTIME=current_thread` picks the single-threaded one.
/// `BENCH_OBSERVE=1` first installs a Prometheus recorder and a tracing
/// subscriber at debug level (writing nowhere), to measure what observability costs.
pub fn faucet<R, E, Fut>(name: &str, run: impl FnOnce() -> Fut) -> ExitCode
where
    R: Display,
    E: Display,
    Fut: Future<Output = Result<R, E>>,
{
    if std::env::var_os("BENCH_OBSERVE").is_some_and(|v| v == "1") {
        if let Err(e) = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
            eprintln!("{name}: installing the Prometheus recorder: {e}");
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
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{name}: starting tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(report) => {
            eprintln!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a hand-written reference with its two arguments (`usage` names
/// them) and prints how many records it wrote.
pub fn reference(name: &str, usage: &str, run: impl FnOnce(&str, &str) -> io::Result<u64>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [first, second] = args.as_slice() else {
        eprintln!("usage: {name} {usage}");
        return ExitCode::from(2);
    };
    match run(first, second) {
        Ok(rows) => {
            eprintln!("{name}: wrote {rows} record(s)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `future` to completion on tokio's multi-threaded runtime, which the
/// PostgreSQL references (sqlx) need.
pub fn block_on<T>(future: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(future)
}

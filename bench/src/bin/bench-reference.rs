//! The hand-written program for a scenario:
//! `bench-reference <a|d> IN.csv OUT.jsonl`, `bench-reference b PG_URL OUT.jsonl`,
//! `bench-reference c PG_URL TARGET_TABLE`.

use std::path::Path;
use std::process::ExitCode;

use faucet_bench::postgres;
use faucet_bench::reference::{self, Scenario};

const USAGE: &str = "usage: bench-reference <a|d> IN.csv OUT.jsonl | bench-reference b PG_URL OUT.jsonl | bench-reference c PG_URL TABLE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [scenario, input, output] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match scenario.to_ascii_lowercase().as_str() {
        "b" => on_tokio(postgres::to_jsonl(input, Path::new(output))),
        "c" => on_tokio(postgres::copy(input, output)),
        other => match Scenario::parse(other) {
            Some(scenario) => reference::run(scenario, Path::new(input), Path::new(output)),
            None => {
                eprintln!("bench-reference: unknown scenario {scenario:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(rows) => {
            eprintln!("reference: wrote {rows} record(s)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-reference: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `work` on tokio's multi-threaded runtime, as `#[tokio::main]` would.
fn on_tokio<T>(work: impl std::future::Future<Output = std::io::Result<T>>) -> std::io::Result<T> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(work)
}

//! `bench-reference <a|d> IN.csv OUT.jsonl`: the hand-written program for a scenario.

use std::path::Path;
use std::process::ExitCode;

use faucet_bench::reference::{self, Scenario};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [scenario, input, output] = args.as_slice() else {
        eprintln!("usage: bench-reference <a|d> IN.csv OUT.jsonl");
        return ExitCode::from(2);
    };
    let Some(scenario) = Scenario::parse(scenario) else {
        eprintln!("bench-reference: unknown scenario {scenario:?} (a, d)");
        return ExitCode::from(2);
    };
    match reference::run(scenario, Path::new(input), Path::new(output)) {
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

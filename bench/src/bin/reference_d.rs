//! `reference_d IN.csv OUT.jsonl`: scenario D written by hand.

use std::path::Path;

use faucet_bench::reference::{self, Scenario};

fn main() -> std::process::ExitCode {
    faucet_bench::harness::reference("reference_d", "IN.csv OUT.jsonl", |input, output| {
        reference::run(Scenario::D, Path::new(input), Path::new(output))
    })
}

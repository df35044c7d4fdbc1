//! `reference_a IN.csv OUT.jsonl`: scenario A (and E) written by hand.

use std::path::Path;

use faucet_bench::reference::{self, Scenario};

fn main() -> std::process::ExitCode {
    faucet_bench::harness::reference("reference_a", "IN.csv OUT.jsonl", |input, output| {
        reference::run(Scenario::A, Path::new(input), Path::new(output))
    })
}

//! `reference_j IN.jsonl OUT.jsonl`: scenario J (and J typed) written by hand with serde.

use std::path::Path;

use faucet_bench::jsonl_reference::{self, Scenario};

fn main() -> std::process::ExitCode {
    faucet_bench::harness::reference("reference_j", "IN.jsonl OUT.jsonl", |input, output| {
        jsonl_reference::run(Scenario::J, Path::new(input), Path::new(output))
    })
}

//! `reference_d_typed IN.jsonl OUT.jsonl`: scenario D typed written by hand with serde.

use std::path::Path;

use faucet_bench::jsonl_reference::{self, Scenario};

fn main() -> std::process::ExitCode {
    faucet_bench::harness::reference("reference_d_typed", "IN.jsonl OUT.jsonl", |input, output| {
        jsonl_reference::run(Scenario::DTyped, Path::new(input), Path::new(output))
    })
}

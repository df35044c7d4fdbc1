//! `reference_b PG_URL OUT.jsonl`: scenario B written by hand with sqlx.

use std::path::Path;

use faucet_bench::{harness, postgres};

fn main() -> std::process::ExitCode {
    harness::reference("reference_b", "PG_URL OUT.jsonl", |url, output| {
        harness::block_on(postgres::to_jsonl(url, Path::new(output)))
    })
}

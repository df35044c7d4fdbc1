//! `reference_c PG_URL TARGET_TABLE`: scenario C written by hand with sqlx.

use faucet_bench::{harness, postgres};

fn main() -> std::process::ExitCode {
    harness::reference("reference_c", "PG_URL TARGET_TABLE", |url, table| {
        harness::block_on(postgres::copy(url, table))
    })
}

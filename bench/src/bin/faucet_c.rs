//! `BENCH_PG_URL=… faucet_c`: Scenario C (PostgreSQL -> PostgreSQL over COPY) as a
//! compiled pipeline, `scenarios/bench_c.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_c");

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_c", bench_c::run)
}

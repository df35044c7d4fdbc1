//! `BENCH_PG_URL=… BENCH_OUT=out.jsonl faucet_b`: Scenario B (PostgreSQL -> JSON Lines) as a
//! compiled pipeline, `scenarios/bench_b.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_b");

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_b", bench_b::run)
}

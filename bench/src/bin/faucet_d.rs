//! `BENCH_IN=in.csv BENCH_OUT=out.jsonl faucet_d`: Scenario D (CSV -> JSON Lines through flatten, rename_keys and snake_case) as a
//! compiled pipeline, `scenarios/bench_d.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_d");

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_d", bench_d::run)
}

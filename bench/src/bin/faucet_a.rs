//! `BENCH_IN=in.csv BENCH_OUT=out.jsonl faucet_a`: Scenario A (CSV -> JSON Lines; E is A at other sizes) as a
//! compiled pipeline, `scenarios/bench_a.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_a");

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_a", bench_a::run)
}

//! `BENCH_IN=in.jsonl BENCH_OUT=out.jsonl faucet_v`: Scenario V as a compiled
//! pipeline, `scenarios/bench_v.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_v");

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_v", bench_v::run)
}

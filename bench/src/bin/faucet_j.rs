//! `BENCH_IN=in.jsonl BENCH_OUT=out.jsonl faucet_j`: Scenario J (JSON Lines -> JSON Lines copy) as a compiled
//! pipeline, `scenarios/bench_j.yaml` (compiled by build.rs). See [`faucet_bench::harness::faucet`] for
//! `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_j");

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_j", bench_j::run)
}

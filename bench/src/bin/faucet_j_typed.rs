//! `BENCH_IN=in.jsonl BENCH_OUT=out.jsonl faucet_j_typed`: Scenario J typed (typed JSON Lines -> JSON Lines, no transforms) as a compiled
//! pipeline, `scenarios/bench_j_typed.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_j_typed");

// The records' schema: without one this would not compile, so the scenario
// never silently measures an untyped pipeline.
const _: &faucet_runtime::schema::Schema = &bench_j_typed::SCHEMA;

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_j_typed", bench_j_typed::run)
}

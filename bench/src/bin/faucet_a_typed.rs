//! `BENCH_IN=in.csv BENCH_OUT=out.jsonl faucet_a_typed`: Scenario A typed (CSV -> JSON Lines, the columns declared) as a compiled
//! pipeline, `scenarios/bench_a_typed.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_a_typed");

// The records' schema: without one this would not compile, so the scenario
// never silently measures an untyped pipeline.
const _: &faucet_runtime::schema::Schema = &bench_a_typed::SCHEMA;

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_a_typed", bench_a_typed::run)
}

//! `BENCH_PG_URL=… BENCH_OUT=out.jsonl faucet_b_typed`: Scenario B typed (PostgreSQL -> JSON Lines, the query introspected) as a compiled
//! pipeline, `scenarios/bench_b_typed.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_b_typed");

// The records' schema: without one this would not compile, so the scenario
// never silently measures an untyped pipeline.
const _: &faucet_runtime::schema::Schema = &bench_b_typed::SCHEMA;

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_b_typed", bench_b_typed::run)
}

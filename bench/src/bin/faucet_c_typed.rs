//! `BENCH_PG_URL=… faucet_c_typed`: Scenario C typed (PostgreSQL -> PostgreSQL over COPY, introspected) as a compiled
//! pipeline, `scenarios/bench_c_typed.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_c_typed");

// The records' schema: without one this would not compile, so the scenario
// never silently measures an untyped pipeline.
const _: &faucet_runtime::schema::Schema = &bench_c_typed::SCHEMA;

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_c_typed", bench_c_typed::run)
}

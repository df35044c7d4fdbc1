//! `BENCH_IN=in.jsonl BENCH_OUT=out.jsonl faucet_d_typed`: Scenario D typed (typed JSON Lines -> JSON Lines through flatten, rename_keys and snake_case) as a compiled
//! pipeline, `scenarios/bench_d_typed.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_d_typed");

// The records' schema: without one this would not compile, so the scenario
// never silently measures an untyped pipeline.
const _: &faucet_runtime::schema::Schema = &bench_d_typed::SCHEMA;

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_d_typed", bench_d_typed::run)
}

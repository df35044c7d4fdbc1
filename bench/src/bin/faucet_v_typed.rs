//! `BENCH_IN=in.jsonl BENCH_OUT=out.jsonl faucet_v_typed`: Scenario V typed as a compiled
//! pipeline, `scenarios/bench_v_typed.yaml` (compiled by build.rs). See
//! [`faucet_bench::harness::faucet`] for `BENCH_RUNTIME` and `BENCH_OBSERVE`.

faucet_runtime::include_pipeline!("bench_v_typed");

fn main() -> std::process::ExitCode {
    faucet_bench::harness::faucet("faucet_v_typed", bench_v_typed::run)
}

// The generated transform of a typed stretch: without it this would not
// compile, so the scenario never silently measures an untyped pipeline.
const _: Option<bench_v_typed::Reshape> = None;

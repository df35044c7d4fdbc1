//! `BENCH_PG_URL=… faucet_c_shards N`: Scenario C split into N shards (1, 2
//! or 4) of `id`, all run in this process, `scenarios/bench_c_shards{N}.yaml`
//! (compiled by build.rs); `typed-1` and `typed-2` are C typed's in 1 and 2
//! shards (`bench_c_typed_shards{N}.yaml`). See [`faucet_bench::harness::faucet`].

faucet_runtime::include_pipeline!("bench_c_shards1");
faucet_runtime::include_pipeline!("bench_c_shards2");
faucet_runtime::include_pipeline!("bench_c_shards4");
faucet_runtime::include_pipeline!("bench_c_typed_shards1");
faucet_runtime::include_pipeline!("bench_c_typed_shards2");

fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("1") => faucet_bench::harness::faucet("faucet_c_shards", bench_c_shards1::run),
        Some("2") => faucet_bench::harness::faucet("faucet_c_shards", bench_c_shards2::run),
        Some("4") => faucet_bench::harness::faucet("faucet_c_shards", bench_c_shards4::run),
        Some("typed-1") => faucet_bench::harness::faucet("faucet_c_shards", bench_c_typed_shards1::run),
        Some("typed-2") => faucet_bench::harness::faucet("faucet_c_shards", bench_c_typed_shards2::run),
        _ => {
            eprintln!("usage: faucet_c_shards 1|2|4|typed-1|typed-2");
            std::process::ExitCode::from(2)
        }
    }
}

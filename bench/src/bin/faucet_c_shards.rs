//! `BENCH_PG_URL=… faucet_c_shards N`: Scenario C split into N shards (1, 2
//! or 4) of `id`, all run in this process, `scenarios/bench_c_shards{N}.yaml`
//! (compiled by build.rs). See [`faucet_bench::harness::faucet`].

faucet_runtime::include_pipeline!("bench_c_shards1");
faucet_runtime::include_pipeline!("bench_c_shards2");
faucet_runtime::include_pipeline!("bench_c_shards4");

fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("1") => faucet_bench::harness::faucet("faucet_c_shards", bench_c_shards1::run),
        Some("2") => faucet_bench::harness::faucet("faucet_c_shards", bench_c_shards2::run),
        Some("4") => faucet_bench::harness::faucet("faucet_c_shards", bench_c_shards4::run),
        _ => {
            eprintln!("usage: faucet_c_shards 1|2|4");
            std::process::ExitCode::from(2)
        }
    }
}

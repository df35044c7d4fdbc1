//! Compiles the benchmark scenarios into Rust at build time, like any faucet
//! application would.

fn main() {
    faucet_gen::compile(&[
        "scenarios/bench_a.yaml",
        "scenarios/bench_b.yaml",
        "scenarios/bench_c.yaml",
        "scenarios/bench_d.yaml",
        "scenarios/bench_j.yaml",
    ]);
}

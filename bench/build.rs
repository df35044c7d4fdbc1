//! Compiles the benchmark scenarios into Rust at build time, like any faucet
//! application would.

fn main() {
    faucet_gen::compile(&["scenarios/bench_a.yaml", "scenarios/bench_d.yaml"]);
}

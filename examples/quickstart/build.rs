//! Compiles the bundled pipelines into Rust at build time: a mistake in a YAML
//! file is a build error pointing at its line.

fn main() {
    faucet_gen::compile(&["pipelines/orders_to_sqlite.yaml", "pipelines/orders_to_jsonl.yaml"]);
}

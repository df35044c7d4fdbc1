//! Compiles the pipeline into Rust at build time: a mistake in the YAML is a
//! build error pointing at its line.

fn main() {
    faucet_gen::compile(&["pipelines/users_to_pg.yaml"]);
}

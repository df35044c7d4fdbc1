//! Compiles the benchmark scenarios into Rust at build time, like any faucet
//! application would.
//!
//! The typed scenarios (`*_typed.yaml`) have a schema: declared, or
//! introspected from PostgreSQL and cached in `.faucet/`. Their untyped twins
//! must have none, or the benchmark would silently compare typed with typed:
//! B's and C's schema would become known if `BENCH_PG_URL` were set while
//! building (faucet-gen would introspect their query and cache it). So this
//! fails the build when an untyped scenario's generated code has a `SCHEMA`.

use std::path::PathBuf;

/// The scenarios whose records stay `serde_json::Value`.
const UNTYPED: [&str; 5] = ["bench_a", "bench_b", "bench_c", "bench_d", "bench_j"];
/// The scenarios whose records are generated structs.
const TYPED: [&str; 6] = [
    "bench_a_typed",
    "bench_b_typed",
    "bench_c_typed",
    "bench_d_typed",
    "bench_d_typed_csv",
    "bench_j_typed",
];

fn main() {
    let files: Vec<String> =
        UNTYPED.iter().chain(&TYPED).map(|name| format!("scenarios/{name}.yaml")).collect();
    faucet_gen::compile(&files);
    let generated = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("faucet");
    for name in UNTYPED {
        // A pipeline that does not compile has no file: its diagnostics are reported already.
        let code = std::fs::read_to_string(generated.join(format!("{name}.rs"))).unwrap_or_default();
        if code.contains("pub const SCHEMA:") {
            println!(
                "cargo::error=scenario `scenarios/{name}.yaml` must stay untyped, but its schema is known: \
                 build without BENCH_PG_URL set and delete the `.faucet/` file of its query or table \
                 (the typed variant is `scenarios/{name}_typed.yaml`)"
            );
        }
    }
}

//! `crate = path` points generated code at a re-exported runtime, for
//! applications that wrap faucet-runtime in a crate of their own.

/// The application's own facade over the runtime.
mod rt {
    pub use faucet_runtime::*;
}

faucet_runtime::faucet! {
    crate = crate::rt,
    name: via_reexport,
    pipeline: {
        source: { type: jsonl, config: { path: "in.jsonl" } },
        sink: { type: stdout, config: { destination: stderr } },
    }
}

#[test]
fn generated_code_uses_the_given_runtime_path() {
    assert_eq!(via_reexport::NAME, "via_reexport");
    assert!(via_reexport::pipeline().is_ok());
}

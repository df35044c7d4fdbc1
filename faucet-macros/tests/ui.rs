//! Compile-fail tests of the `faucet!` macro: what rustc shows the user.
//!
//! Each `tests/ui/<case>.rs` must fail to compile with exactly `<case>.stderr`
//! (`TRYBUILD=overwrite` rewrites them). faucet-runtime is a dev-dependency
//! without its `sqlite` feature, so the feature gate can be tested too.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

//! faucet's benchmark harness.
//!
//! - [`data`]: the seeded generator of the benchmark CSV (faucet-stream's
//!   `gen_bench_data.py`, ported: Python's Mersenne Twister and its `random`
//!   helpers, so the same seed yields the same rows).
//! - [`reference`]: the hand-written programs each CSV scenario is measured against.
//! - [`jsonl_reference`]: those of the JSON Lines scenarios (J, D typed), with serde's derived structs.
//! - [`postgres`]: the hand-written programs of the PostgreSQL scenarios (B, C).
//! - [`parity`]: key-sorted normalization of JSON Lines, to compare outputs.
//! - [`harness`]: the `main` of each per-scenario binary.
//! - [`differential`]: the differential suite against faucet-cli (issue 19).
//!
//! The faucet side of each scenario is compiled from `scenarios/*.yaml` by
//! build.rs; `run.sh` builds and runs everything (see `BENCHMARKS.md`).

pub mod data;
pub mod differential;
pub mod harness;
pub mod jsonl_reference;
pub mod parity;
pub mod postgres;
pub mod reference;

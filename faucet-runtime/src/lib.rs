//! faucet's runtime: the traits, driver, state stores, dead-letter queue,
//! transforms and connectors that compiled pipelines run on.
//!
//! Pipelines are usually generated at build time from YAML (through
//! `faucet_gen::compile` in build.rs and [`include_pipeline!`]) or with the
//! [`faucet!`] macro; the same pieces also compose by hand:
//!
//! ```no_run
//! # async fn demo() -> Result<(), faucet_runtime::FaucetError> {
//! use faucet_runtime::connectors::files::{JsonlSource, JsonlSourceConfig, JsonlSink, JsonlSinkConfig};
//! let source = JsonlSource::new(JsonlSourceConfig::new("in.jsonl"));
//! let sink = JsonlSink::new(JsonlSinkConfig::new("out.jsonl"));
//! let report = faucet_runtime::Pipeline::new(source, sink).run().await?;
//! println!("{report}");
//! # Ok(()) }
//! ```

mod bookmark;
mod carried_state;
#[cfg(feature = "cli")]
pub mod cli;
pub mod clock;
pub mod config;
pub mod config_test;
pub mod connectors;
pub mod contract;
pub mod dlq;
mod error;
pub mod fan_out;
pub mod matrix;
pub mod number;
pub mod observe;
mod page;
mod pipeline;
pub mod progress;
pub mod record;
mod report;
mod reshape;
pub mod schema;
pub mod secret;
pub mod shard;
mod sink;
mod source;
pub mod state;
pub mod substitute;
pub mod transform;
pub mod typed_source;

pub use error::{ErrorKind, FaucetError, Result};
pub use fan_out::{FanOut, NoFanOut};
pub use matrix::{InvocationReport, InvocationStatus, MatrixReport};
pub use page::{CommitToken, Page, Record, Rejected};
pub use pipeline::{Pipeline, Replay, ReplayOptions, RunOptions};
pub use progress::Progress;
pub use record::{FieldValue, RecordType};
pub use report::RunReport;
pub use sink::{NoSink, OpenContext, RowFailure, Sink, WriteOutcome, Writes};
pub use source::Source;
pub use state::StateStore;
/// Cancels a run at the next page boundary (re-exported from tokio-util).
pub use tokio_util::sync::CancellationToken;
pub use transform::{Chain, FnTransform, Identity, Transform, transform_fn};
pub use typed_source::IntoTyped;

#[cfg(feature = "macros")]
pub use faucet_macros::{config_tests, faucet};

/// Without the `macros` feature, `faucet!` is an error naming the feature (at
/// the invocation) instead of "could not find `faucet`". An inline pipeline's
/// module is still declared, with the usual functions, so its uses raise no
/// second error.
#[cfg(not(feature = "macros"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_macros_off {
    ($(crate = $runtime:path,)? name: $name:ident, $($rest:tt)*) => {
        $crate::__faucet_macros_off!();
        #[allow(dead_code, missing_docs)]
        pub mod $name {
            use $crate::__private::Unavailable;
            use $crate::{FaucetError, Identity, Pipeline, RunOptions, RunReport};

            pub fn pipeline() -> Result<Pipeline<Unavailable, Identity, Unavailable>, FaucetError> {
                ::core::unreachable!()
            }
            pub async fn run() -> Result<RunReport, FaucetError> {
                ::core::unreachable!()
            }
            pub async fn run_with(_options: RunOptions) -> Result<RunReport, FaucetError> {
                ::core::unreachable!()
            }
            pub fn main() -> ::std::process::ExitCode {
                ::core::unreachable!()
            }
        }
    };
    ($($tokens:tt)*) => {
        ::core::compile_error!(
            "`faucet!` needs faucet-runtime's `macros` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"macros\"] }"
        );
    };
}

#[cfg(not(feature = "macros"))]
pub use __faucet_macros_off as faucet;

/// Includes the code that `faucet_gen::compile` wrote into `OUT_DIR` for the
/// pipeline named `name`: `include_pipeline!("orders")` defines module `orders`.
#[macro_export]
macro_rules! include_pipeline {
    ($name:literal) => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/faucet/", $name, ".rs"));
    };
}

/// What generated code reaches through absolute paths. Not a public API: it
/// may change in any release, in step with `faucet-gen`.
#[doc(hidden)]
pub mod __private {
    pub use crate::gate::*;
    pub use crate::*;
    /// Durations in generated configs: `rt::Duration::from_millis(2500)`.
    pub use core::time::Duration;
    /// The derives of generated `Record` structs: `#[serde(crate = "rt::serde")]`.
    pub use serde;
    pub use serde_json;
    pub use tokio;

    /// Pins the generator and the runtime to the same version: generated code
    /// names this constant, so a mismatch fails to compile.
    pub const VERSION_0_1: () = ();
}

mod gate;

//! Cargo-feature gates for generated code.
//!
//! The generator cannot see which features of this crate are on, so it wraps
//! every connector constructor call in `gate_<feature>!("file:line:col: ", "`csv` source", …)`
//! (the config itself is an ordinary struct literal outside the gate, its types
//! always compiled). With the feature on, the macro is the call; with it off, it
//! is a `compile_error!` naming the config's location and the feature (spanned at the config's
//! `type:` token, so rustc underlines it), plus a placeholder of type
//! [`Unavailable`] so no follow-on error piles up.

use serde_json::Value;

use crate::error::Result;
use crate::page::{CommitToken, Page};
use crate::record::RecordType;
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};
use crate::source::Source;
use crate::state::StateStore;

/// Stands in for a connector whose feature is off; it only ever exists in a
/// build that already failed with a `compile_error!`.
#[derive(Debug)]
pub enum Unavailable {}

impl Unavailable {
    /// The placeholder value; never runs, because its build fails.
    pub fn never() -> Self {
        unreachable!("a connector whose cargo feature is off was built")
    }
}

impl Source for Unavailable {
    type Record = Value;

    fn connector_name(&self) -> &'static str {
        match *self {}
    }
    async fn resume(&mut self, _bookmark: Option<Value>) -> Result<()> {
        match *self {}
    }
    async fn next_page(&mut self) -> Result<Option<Page>> {
        match *self {}
    }
}

impl Sink for Unavailable {
    fn connector_name(&self) -> &'static str {
        match *self {}
    }
    fn batch_size(&self) -> usize {
        match *self {}
    }
    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        match *self {}
    }
    async fn flush(&mut self) -> Result<Option<Value>> {
        match *self {}
    }
}

impl<R: RecordType> Writes<R> for Unavailable {
    async fn write_batch(&mut self, _batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        match *self {}
    }
}

impl crate::shard::Shardable for Unavailable {
    async fn plan(&mut self, _count: u32) -> Result<crate::shard::Plan> {
        match *self {}
    }
    fn narrow(&mut self, _shard: crate::shard::ShardId, _plan: &crate::shard::Plan) -> Result<()> {
        match *self {}
    }
}

impl StateStore for Unavailable {
    fn store_name(&self) -> &'static str {
        match *self {}
    }
    async fn get(&self, _key: &str) -> Result<Option<Value>> {
        match *self {}
    }
    async fn put(&self, _key: &str, _value: &Value) -> Result<()> {
        match *self {}
    }
    async fn delete(&self, _key: &str) -> Result<()> {
        match *self {}
    }
    async fn put_if_absent(&self, _key: &str, _value: &Value) -> Result<Value> {
        match *self {}
    }
}

#[cfg(feature = "files")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_files {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "files"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_files {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `files` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"files\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_files as gate_files;

#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_sqlite {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "sqlite"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_sqlite {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `sqlite` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"sqlite\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_sqlite as gate_sqlite;

#[cfg(feature = "rest")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_rest {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "rest"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_rest {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `rest` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"rest\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_rest as gate_rest;

#[cfg(feature = "object-store")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_object_store {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "object-store"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_object_store {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `object-store` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"object-store\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_object_store as gate_object_store;

#[cfg(feature = "s3")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_s3 {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "s3"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_s3 {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `s3` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"s3\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_s3 as gate_s3;

#[cfg(feature = "gcs")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_gcs {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "gcs"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_gcs {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `gcs` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"gcs\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_gcs as gate_gcs;

#[cfg(feature = "azure")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_azure {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "azure"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_azure {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `azure` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"azure\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_azure as gate_azure;

#[cfg(feature = "kafka-tls")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_kafka_tls {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "kafka-tls"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_kafka_tls {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `kafka-tls` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"kafka-tls\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_kafka_tls as gate_kafka_tls;

#[cfg(feature = "postgres")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_postgres {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_postgres {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `postgres` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"postgres\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_postgres as gate_postgres;

#[cfg(feature = "postgres-cdc")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_postgres_cdc {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "postgres-cdc"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_postgres_cdc {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `postgres-cdc` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"postgres-cdc\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_postgres_cdc as gate_postgres_cdc;

#[cfg(feature = "mysql")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_mysql {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "mysql"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_mysql {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `mysql` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"mysql\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_mysql as gate_mysql;

#[cfg(feature = "state-postgres")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_state_postgres {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "state-postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_state_postgres {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `state-postgres` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"state-postgres\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_state_postgres as gate_state_postgres;

#[cfg(feature = "state-redis")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_state_redis {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "state-redis"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_state_redis {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `state-redis` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"state-redis\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_state_redis as gate_state_redis;

#[cfg(feature = "kafka")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_kafka {
    ($prefix:literal, $what:literal, $call:expr) => {
        $call
    };
}

#[cfg(not(feature = "kafka"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_kafka {
    ($prefix:literal, $what:literal, $call:expr) => {{
        ::core::compile_error!(::core::concat!(
            $prefix,
            "the ",
            $what,
            " needs faucet-runtime's `kafka` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"kafka\"] }"
        ));
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_kafka as gate_kafka;

/// The generated `main()` / `main_with_args()` of a pipeline module: with the
/// `cli` feature they run it through [`crate::cli::main_with_args`] (a matrix)
/// or [`crate::cli::pipeline_main_with_args`] (a single pipeline, given its
/// `pipeline()`, which adds the `state` and `dlq replay` commands). Without it
/// they are stubs whose call fails to compile with `CliFeatureOff`'s message,
/// naming the feature at the caller's `orders::main()`; a config with
/// `observability:` (whose location, `"file:line:col: "`, comes first) fails at
/// that block instead, and its stubs then raise no second error. The module's
/// `NAME` names the pipeline in the summary.
#[cfg(feature = "cli")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_cli_main {
    (@main) => {
        /// Runs the pipeline as a program with the config's `observability:`
        /// (Prometheus exporter, tracing subscriber) and the run flags and
        /// commands from the command line (`--help` lists them); returns the
        /// exit code (1 when anything failed).
        pub fn main() -> ::std::process::ExitCode {
            main_with_args(::std::env::args().skip(1))
        }
    };
    ($written_at:literal, $observability:expr, $run:path $(, $pipeline:path)?) => {
        $crate::__private::cli_main!($observability, $run $(, $pipeline)?);
    };
    ($observability:expr, $run:path, $pipeline:path) => {
        $crate::__private::cli_main!(@main);

        /// [`main`] with explicit arguments (without the program name).
        pub fn main_with_args(
            args: impl ::core::iter::IntoIterator<Item = ::std::string::String>,
        ) -> ::std::process::ExitCode {
            $crate::__private::cli::pipeline_main_with_args(NAME, $observability, args, $run, $pipeline)
        }
    };
    ($observability:expr, $run:path) => {
        $crate::__private::cli_main!(@main);

        /// [`main`] with explicit arguments (without the program name).
        pub fn main_with_args(
            args: impl ::core::iter::IntoIterator<Item = ::std::string::String>,
        ) -> ::std::process::ExitCode {
            $crate::__private::cli::main_with_args(NAME, $observability, args, $run)
        }
    };
}

#[cfg(not(feature = "cli"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_cli_main {
    ($written_at:literal, $observability:expr, $run:path $(, $pipeline:path)?) => {
        ::core::compile_error!(::core::concat!(
            $written_at,
            "`observability:` needs faucet-runtime's `cli` cargo feature, which is off\n  = help: enable it: faucet-runtime = { version = \"…\", features = [\"cli\"] }"
        ));
        /// Stands in for the `main` helper of the `cli` feature (the build already failed).
        pub fn main() -> ::std::process::ExitCode {
            ::core::unreachable!()
        }
        /// Stands in for the `main_with_args` helper of the `cli` feature.
        pub fn main_with_args(
            _args: impl ::core::iter::IntoIterator<Item = ::std::string::String>,
        ) -> ::std::process::ExitCode {
            ::core::unreachable!()
        }
    };
    ($observability:expr, $run:path $(, $pipeline:path)?) => {
        /// The `main` helper needs faucet-runtime's `cli` cargo feature: a
        /// call fails to compile, naming it. (The bound names a lifetime
        /// parameter, so it is checked where `main` is called, not here.)
        pub fn main<'cli>() -> ::std::process::ExitCode
        where
            $crate::__private::CliHelper<'cli>: $crate::__private::CliFeatureOff,
        {
            ::core::unreachable!()
        }
        /// The `main_with_args` helper needs the `cli` feature, as [`main`].
        pub fn main_with_args<'cli>(
            _args: impl ::core::iter::IntoIterator<Item = ::std::string::String>,
        ) -> ::std::process::ExitCode
        where
            $crate::__private::CliHelper<'cli>: $crate::__private::CliFeatureOff,
        {
            ::core::unreachable!()
        }
    };
}

#[doc(hidden)]
pub use __faucet_cli_main as cli_main;

/// The type the bound of the generated `main` helpers is about without the
/// `cli` feature: it does not implement `CliFeatureOff`, so a call fails
/// with that trait's message.
#[cfg(not(feature = "cli"))]
#[doc(hidden)]
pub struct CliHelper<'a>(core::marker::PhantomData<&'a ()>);

/// The bound of the `main` helpers without the `cli` feature; its message is the error a call shows.
#[cfg(not(feature = "cli"))]
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a pipeline's `main` helper needs faucet-runtime's `cli` cargo feature, which is off",
    label = "needs faucet-runtime's `cli` feature",
    note = "enable it: faucet-runtime = {{ version = \"…\", features = [\"cli\"] }}",
    note = "or, without the helper, call the pipeline's `run().await` and print its report"
)]
pub trait CliFeatureOff {}

/// One implementation, of a type no caller names, so rustc does not suggest
/// implementing the trait.
#[cfg(not(feature = "cli"))]
impl CliFeatureOff for Unavailable {}

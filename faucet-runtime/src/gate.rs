//! Cargo-feature gates for generated code.
//!
//! The generator cannot see which features of this crate are on, so it wraps
//! every connector it constructs in `gate_<feature>!({ compile_error!(…) }, { … })`.
//! With the feature on, the macro is the constructor; with it off, it is the
//! generator's `compile_error!` naming the feature (spanned at the config's
//! `type:` token, so rustc underlines it), plus a placeholder of type
//! [`Unavailable`] so no follow-on error piles up.

use serde_json::Value;

use crate::error::Result;
use crate::page::{CommitToken, Page, Record};
use crate::sink::{OpenContext, Sink, WriteOutcome};
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
    async fn write_batch(&mut self, _batch: &[Record], _token: CommitToken) -> Result<WriteOutcome> {
        match *self {}
    }
    async fn flush(&mut self) -> Result<Option<Value>> {
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
}

#[cfg(feature = "files")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_files {
    ($error:block, $body:block) => {
        $body
    };
}

#[cfg(not(feature = "files"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_files {
    ($error:block, $body:block) => {{
        $error
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_files as gate_files;

#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_sqlite {
    ($error:block, $body:block) => {
        $body
    };
}

#[cfg(not(feature = "sqlite"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faucet_gate_sqlite {
    ($error:block, $body:block) => {{
        $error
        $crate::__private::Unavailable::never()
    }};
}

#[doc(hidden)]
pub use __faucet_gate_sqlite as gate_sqlite;

//! Local files: `csv` and `jsonl` sources read through object_store's local
//! filesystem (so object-store backends only add a store), and `csv` / `jsonl`
//! sinks that append to a local file and truncate back to their checkpoint on resume.

mod csv_plain;
mod csv_sink;
mod csv_source;
pub(crate) mod input;
pub(crate) mod json_line;
mod jsonl_sink;
mod jsonl_source;
mod text_fields;
mod writer;

pub use csv_sink::{CsvSink, CsvSinkConfig};
pub use csv_source::{CsvSource, CsvSourceConfig};
pub use jsonl_sink::{JsonlSink, JsonlSinkConfig};
pub use jsonl_source::{JsonlSource, JsonlSourceConfig};

pub use input::EXCERPT_BYTES;

pub use crate::config::files::{CsvOptions, InputLimits, OnParseError};

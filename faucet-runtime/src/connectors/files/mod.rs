//! Local files: `csv` and `jsonl` sources read through object_store's local
//! filesystem (so object-store backends only add a store), and `csv` / `jsonl`
//! sinks that append to a local file and truncate back to their checkpoint on resume.

mod csv_sink;
mod csv_source;
pub(crate) mod json_line;
mod jsonl_sink;
mod jsonl_source;
pub(crate) mod objects;
mod writer;

pub use csv_sink::{CsvSink, CsvSinkConfig};
pub use csv_source::{CsvSource, CsvSourceConfig};
pub use jsonl_sink::{JsonlSink, JsonlSinkConfig};
pub use jsonl_source::{JsonlSource, JsonlSourceConfig};

/// What a file source does with input it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnParseError {
    /// Fail the run, naming the file and line (the default).
    #[default]
    Fail,
    /// Send the input to the dead-letter queue.
    Dlq,
    /// Count it and go on.
    Skip,
}

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

/// How much input a file source holds at once, whatever the file holds.
///
/// A record (a JSON line, a CSV row) longer than `max_record_bytes` is
/// malformed: it fails the run, or goes to the DLQ (its first
/// [`EXCERPT_BYTES`] only) or is skipped per `on_parse_error`, and the source
/// never holds more of it than that limit. A page ends early once the input
/// bytes of its records reach `max_page_bytes`, so a page of large records
/// stays near that size whatever `batch_size` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// The longest record, in bytes of input (line terminator excluded).
    pub max_record_bytes: usize,
    /// The input bytes after which a page ends.
    pub max_page_bytes: usize,
}

impl InputLimits {
    /// The default `max_record_bytes`: 16 MiB.
    pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 << 20;
    /// The default `max_page_bytes`: 64 MiB.
    pub const DEFAULT_MAX_PAGE_BYTES: usize = 64 << 20;
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_record_bytes: Self::DEFAULT_MAX_RECORD_BYTES,
            max_page_bytes: Self::DEFAULT_MAX_PAGE_BYTES,
        }
    }
}

/// How many bytes of an oversized record the DLQ receives.
pub const EXCERPT_BYTES: usize = 1024;

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

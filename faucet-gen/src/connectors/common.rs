//! Settings several connectors share, declared once.

use crate::settings::values::{Byte, FilePath, Glob, Int, Segment};
use crate::settings::{choice, settings};

/// A source's file path or glob.
pub type SourcePath = FilePath<Glob>;

/// A sink's output file.
pub type SinkPath = FilePath<Segment>;

choice! {
    /// What a file source does with input it cannot parse.
    pub enum OnParseError => config::files::OnParseError {
        /// Fail the run.
        Fail = "fail",
        /// Dead-letter the input.
        Dlq = "dlq",
        /// Count and skip it.
        Skip = "skip",
    }
}

settings! {
    /// How much input a file or object-store source holds at once.
    pub struct InputLimits("input_limits") => files::InputLimits {
        /// The longest line (jsonl) or row (csv) in bytes; a longer one is
        /// malformed (see `on_parse_error`; the DLQ gets its first KiB).
        max_record_bytes: Int<64, { 1 << 30 }> = 16u64 << 20,
        /// A page ends early once its records reach this many bytes of input.
        max_page_bytes: Int<1024, { 1 << 40 }> = 64u64 << 20,
    }
}

settings! {
    /// How CSV text becomes records: the `csv` source's parser, and the object
    /// stores' with `file_format: csv`.
    pub struct CsvOptions("csv_options") => files::CsvOptions {
        /// The first line names the columns.
        has_headers: bool = true,
        /// Field delimiter: one ASCII character or its byte value.
        delimiter: Byte = b',',
        /// Quote character.
        quote: Byte = b'"',
        /// Accept rows with fewer or more fields than the header.
        flexible: bool = false,
        /// Emit numbers and booleans instead of strings.
        infer_types: bool = false,
    }
}

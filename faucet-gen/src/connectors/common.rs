//! Settings several connectors share, declared once.

use proc_macro2::TokenStream;

use crate::diag::Diagnostics;
use crate::emit::Gen;
use crate::load::Node;
use crate::read::Fields;
use crate::settings::values::{Byte, FilePath, Glob, Int, MAX_BATCH_SIZE, Segment};
use crate::settings::{Setting, choice, settings};
use crate::spec::{Field, Kind};

/// A source's file path or glob.
pub type SourcePath = FilePath<Glob>;

/// A sink's output file.
pub type SinkPath = FilePath<Segment>;

choice! {
    /// What a file source does with input it cannot parse.
    pub enum OnParseError => files::OnParseError {
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

// Shared readers of the connectors not yet declared with `settings!`.

/// `batch_size`, shared by most connectors.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const BATCH_SIZE: Field =
    Field::opt("batch_size", Kind::Int(1, MAX_BATCH_SIZE), "Records per page or write.").default("1000");
/// `on_parse_error` of the file sources.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const ON_PARSE_ERROR: Field = Field::opt(
    "on_parse_error",
    Kind::OneOf(&["fail", "dlq", "skip"]),
    "A malformed row or line fails the run, goes to the dead-letter queue, or is skipped.",
)
.default("\"fail\"");
/// `max_record_bytes` of the file and object-store sources.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const MAX_RECORD_BYTES: Field = Field::opt(
    "max_record_bytes",
    Kind::Int(64, 1 << 30),
    "The longest line (jsonl) or row (csv) in bytes; a longer one is malformed (see `on_parse_error`; the DLQ gets its first KiB).",
)
.default("16777216");
/// `max_page_bytes` of the file and object-store sources.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const MAX_PAGE_BYTES: Field = Field::opt(
    "max_page_bytes",
    Kind::Int(1024, 1 << 40),
    "A page ends early once its records reach this many bytes of input.",
)
.default("67108864");

/// An optional setting: its default when absent, the checked value when present.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) fn opt<T>(node: Option<&Node>, default: T, read: impl FnOnce(&Node) -> Option<T>) -> Option<T> {
    match node {
        Some(n) => read(n),
        None => Some(default),
    }
}

/// Reads `max_record_bytes` and `max_page_bytes`.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) fn input_limits(f: &mut Fields<'_>, diags: &mut Diagnostics) -> Option<InputLimits> {
    InputLimits::read(f, diags)
}

/// The runtime's `InputLimits` value.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) fn input_limits_tokens(limits: &InputLimits, g: &Gen) -> TokenStream {
    limits.config(g)
}

/// `on_parse_error: fail | dlq | skip`.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) fn on_parse_error(node: &Node, diags: &mut Diagnostics) -> Option<OnParseError> {
    <OnParseError as Setting>::read(node, "on_parse_error", diags)
}

/// The runtime's `OnParseError` value.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) fn on_parse_error_tokens(v: OnParseError, g: &Gen) -> TokenStream {
    v.emit(g)
}

/// `delimiter` of CSV readers and writers.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const DELIMITER: Field =
    Field::opt("delimiter", Kind::Byte, "Field delimiter: one ASCII character or its byte value.")
        .default("\",\"");
/// `has_headers` of CSV readers.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const HAS_HEADERS: Field =
    Field::opt("has_headers", Kind::Bool, "The first line names the columns.").default("true");
/// `quote` of CSV readers.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const QUOTE: Field = Field::opt("quote", Kind::Byte, "Quote character.").default("\"\\\"\"");
/// `flexible` of CSV readers.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const FLEXIBLE: Field =
    Field::opt("flexible", Kind::Bool, "Accept rows with fewer or more fields than the header.")
        .default("false");
/// `infer_types` of CSV readers.
#[allow(dead_code)] // No connector uses it any more; kept until the legacy helpers go.
pub(crate) const INFER_TYPES: Field =
    Field::opt("infer_types", Kind::Bool, "Emit numbers and booleans instead of strings.").default("false");

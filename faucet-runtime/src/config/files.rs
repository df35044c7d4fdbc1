//! Settings of the local-file connectors (`csv`, `jsonl`), and the input
//! limits and malformed-input policy the object-store sources share.

/// How much input a file source holds at once, whatever the file holds.
///
/// A record (a JSON line, a CSV row) longer than `max_record_bytes` is
/// malformed: it fails the run, or goes to the DLQ (its first
/// `EXCERPT_BYTES`, 1 KiB, only) or is skipped per `on_parse_error`, and the source
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

/// How CSV text becomes records: the `csv` source's and the object stores'
/// `file_format: csv` parser settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// Whether the first line of each file names the columns (default true).
    pub has_headers: bool,
    /// Field delimiter byte (default `b','`).
    pub delimiter: u8,
    /// Quote byte (default `b'"'`).
    pub quote: u8,
    /// Accept rows whose field count differs from the header (default false).
    pub flexible: bool,
    /// Emit numbers and booleans instead of strings (default false).
    pub infer_types: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { has_headers: true, delimiter: b',', quote: b'"', flexible: false, infer_types: false }
    }
}

/// Settings of the `csv` source, validated at build time.
#[derive(Debug, Clone)]
pub struct CsvSourceConfig {
    /// A local file path or glob (`data/*.csv`), relative to the working directory.
    pub path: String,
    /// How rows are parsed.
    pub csv: CsvOptions,
    /// Records per page (default 1000); `0`: the whole input in one page, within `max_page_bytes`.
    pub batch_size: usize,
    /// What to do with a malformed row (default fail).
    pub on_parse_error: OnParseError,
    /// The longest row and the bytes after which a page ends.
    pub limits: InputLimits,
}

impl CsvSourceConfig {
    /// The defaults for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        CsvSourceConfig {
            path: path.into(),
            csv: CsvOptions::default(),
            batch_size: 1000,
            on_parse_error: OnParseError::Fail,
            limits: InputLimits::default(),
        }
    }
}

/// Settings of the `csv` sink, validated at build time.
#[derive(Debug, Clone)]
pub struct CsvSinkConfig {
    /// The output file, relative to the working directory; parent directories are created.
    pub path: String,
    /// Field delimiter byte (default `b','`).
    pub delimiter: u8,
    /// Write a header line from the first batch's keys (default true).
    pub write_headers: bool,
    /// Keep what the file holds on a first run instead of truncating it (default false).
    pub append: bool,
    /// Rows per write (default 1000); `0`: each page in one write, as it comes.
    pub batch_size: usize,
}

impl CsvSinkConfig {
    /// The defaults for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        CsvSinkConfig {
            path: path.into(),
            delimiter: b',',
            write_headers: true,
            append: false,
            batch_size: 1000,
        }
    }
}

/// Settings of the `jsonl` source, validated at build time.
#[derive(Debug, Clone)]
pub struct JsonlSourceConfig {
    /// A local file path or glob, relative to the working directory.
    pub path: String,
    /// Records per page (default 1000); `0`: the whole input in one page, within `max_page_bytes`.
    pub batch_size: usize,
    /// What to do with a malformed line (default fail).
    pub on_parse_error: OnParseError,
    /// The longest line and the bytes after which a page ends.
    pub limits: InputLimits,
}

impl JsonlSourceConfig {
    /// The defaults for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        JsonlSourceConfig {
            path: path.into(),
            batch_size: 1000,
            on_parse_error: OnParseError::Fail,
            limits: InputLimits::default(),
        }
    }
}

/// Settings of the `jsonl` sink, validated at build time.
#[derive(Debug, Clone)]
pub struct JsonlSinkConfig {
    /// The output file, relative to the working directory; parent directories are created.
    pub path: String,
    /// Keep what the file holds on a first run instead of truncating it (default false).
    pub append: bool,
    /// Rows per write (default 1000); `0`: each page in one write, as it comes.
    pub batch_size: usize,
    /// Each record pretty-printed over several lines, as `serde_json`'s
    /// `to_string_pretty` writes it, then a newline (faucet-stream's `pretty`).
    pub pretty: bool,
}

impl JsonlSinkConfig {
    /// The defaults for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        JsonlSinkConfig { path: path.into(), append: false, batch_size: 1000, pretty: false }
    }
}

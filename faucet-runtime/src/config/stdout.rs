//! Settings of the `stdout` sink.

/// Which standard stream the `stdout` sink writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Destination {
    /// Standard output (the default).
    #[default]
    Stdout,
    /// Standard error.
    Stderr,
}

/// How the `stdout` sink prints a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StdoutFormat {
    /// One compact JSON object per line (the default).
    #[default]
    JsonLines,
    /// Indented JSON, one object after another.
    PrettyJson,
}

/// Settings of the `stdout` sink, validated at build time.
#[derive(Debug, Clone)]
pub struct StdoutSinkConfig {
    /// Where to print (default stdout).
    pub destination: Destination,
    /// How to print (default JSON lines).
    pub format: StdoutFormat,
    /// Rows per write (default 1000); `0`: each page in one write, as it comes.
    pub batch_size: usize,
    /// Flush the stream after every record instead of after each write.
    pub flush_per_record: bool,
    /// Print at most this many records in a run (`None`: all).
    pub max_records: Option<u64>,
}

impl Default for StdoutSinkConfig {
    fn default() -> Self {
        StdoutSinkConfig {
            destination: Destination::Stdout,
            format: StdoutFormat::JsonLines,
            batch_size: 1000,
            flush_per_record: false,
            max_records: None,
        }
    }
}

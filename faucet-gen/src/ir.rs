//! The validated pipeline: every value checked, normalized and typed.
//!
//! Code generation reads only this; nothing here can be invalid.

use crate::diag::Loc;

/// A validated pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline's name as written (`name:`, or the file stem).
    pub name: String,
    /// The Rust module the pipeline is generated into (the name in snake case).
    pub module: String,
    /// Where records come from.
    pub source: Source,
    /// The transform chain, in order.
    pub transforms: Vec<Transform>,
    /// Where records go.
    pub sink: Sink,
    /// Where bookmarks persist.
    pub state: State,
    /// Where failed rows go.
    pub dlq: Option<Dlq>,
}

/// A config string: literal text and `${env:VAR}` references resolved at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct Text(pub Vec<TextPart>);

/// A piece of a [`Text`].
#[derive(Debug, Clone, PartialEq)]
pub enum TextPart {
    /// Literal text.
    Lit(String),
    /// An environment variable, read at run time (never at build time).
    Env(String),
}

impl Text {
    /// A text with no references.
    pub fn literal(s: impl Into<String>) -> Self {
        Text(vec![TextPart::Lit(s.into())])
    }

    /// The text when it has no `${env:…}` reference.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                TextPart::Lit(s) => out.push_str(s),
                TextPart::Env(_) => return None,
            }
        }
        Some(out)
    }
}

/// A configured source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where `type:` was written (a feature-gate error points here).
    pub loc: Loc,
    /// The connector and its settings.
    pub kind: SourceKind,
}

/// The source connectors.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// `csv`.
    Csv(CsvSource),
    /// `jsonl`.
    Jsonl(JsonlSource),
}

/// What a file source does with input it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnParseError {
    /// Fail the run.
    Fail,
    /// Dead-letter the input.
    Dlq,
    /// Count and skip it.
    Skip,
}

/// `csv` source settings.
#[derive(Debug, Clone)]
pub struct CsvSource {
    /// File path or glob.
    pub path: Text,
    /// First line names the columns.
    pub has_headers: bool,
    /// Field delimiter.
    pub delimiter: u8,
    /// Quote character.
    pub quote: u8,
    /// Accept ragged rows.
    pub flexible: bool,
    /// Records per page.
    pub batch_size: u64,
    /// Emit numbers and booleans.
    pub infer_types: bool,
    /// Malformed-row policy.
    pub on_parse_error: OnParseError,
}

/// `jsonl` source settings.
#[derive(Debug, Clone)]
pub struct JsonlSource {
    /// File path or glob.
    pub path: Text,
    /// Records per page.
    pub batch_size: u64,
    /// Malformed-line policy.
    pub on_parse_error: OnParseError,
}

/// A configured sink.
#[derive(Debug, Clone)]
pub struct Sink {
    /// Where `type:` was written.
    pub loc: Loc,
    /// The connector and its settings.
    pub kind: SinkKind,
}

/// The sink connectors.
#[derive(Debug, Clone)]
pub enum SinkKind {
    /// `jsonl`.
    Jsonl {
        /// Output file.
        path: Text,
        /// Keep existing content on a first run.
        append: bool,
        /// Rows per write.
        batch_size: u64,
    },
    /// `csv`.
    Csv {
        /// Output file.
        path: Text,
        /// Field delimiter.
        delimiter: u8,
        /// Write a header line.
        write_headers: bool,
        /// Keep existing content on a first run.
        append: bool,
        /// Rows per write.
        batch_size: u64,
    },
    /// `stdout`.
    Stdout {
        /// Print to stderr instead of stdout.
        stderr: bool,
        /// Indented JSON instead of JSON lines.
        pretty: bool,
        /// Rows per write.
        batch_size: u64,
    },
    /// `sqlite`.
    Sqlite {
        /// `sqlite://…` URL.
        database_url: Text,
        /// Target table.
        table_name: String,
        /// `None` = auto_map; `Some(column)` = whole record as JSON in `column`.
        json_column: Option<String>,
        /// Create the table from the first batch.
        create_table: bool,
        /// Rows per transaction.
        batch_size: u64,
    },
}

impl SinkKind {
    /// The `type:` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            SinkKind::Jsonl { .. } => "jsonl",
            SinkKind::Csv { .. } => "csv",
            SinkKind::Stdout { .. } => "stdout",
            SinkKind::Sqlite { .. } => "sqlite",
        }
    }
}

/// A configured transform.
#[derive(Debug, Clone)]
pub enum Transform {
    /// `flatten`.
    Flatten {
        /// Joins parent and child keys.
        separator: String,
    },
    /// `rename_keys`.
    RenameKeys {
        /// A regex checked at build time.
        pattern: String,
        /// The replacement (`$1`, `${name}`).
        replacement: String,
    },
    /// `snake_case` or `keys_case`.
    KeysCase(CaseMode),
    /// `custom`: a Rust function `fn(Record) -> Result<Option<Record>, FaucetError>`.
    Custom {
        /// The function's path.
        function: String,
        /// Where it was written.
        loc: Loc,
    },
}

/// The key cases of `keys_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseMode {
    /// `first_name`.
    Snake,
    /// `firstName`.
    Camel,
    /// `FirstName`.
    Pascal,
    /// `first-name`.
    Kebab,
    /// `FIRST_NAME`.
    ScreamingSnake,
}

/// Where bookmarks persist.
#[derive(Debug, Clone)]
pub enum State {
    /// No `state:`: every run starts from the beginning.
    None,
    /// `memory`: within one process only.
    Memory,
    /// `file`: one JSON file per key under a directory.
    File {
        /// The directory.
        path: Text,
    },
}

/// `on_batch_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBatchError {
    /// Fail the run.
    Propagate,
    /// Dead-letter the whole batch.
    DlqAll,
}

/// The dead-letter queue.
#[derive(Debug, Clone)]
pub struct Dlq {
    /// Where envelopes go.
    pub sink: Sink,
    /// What a whole-batch failure does.
    pub on_batch_error: OnBatchError,
    /// Per-page budget.
    pub max_failures_per_page: Option<u64>,
    /// Whole-run budget.
    pub max_failures_total: Option<u64>,
}

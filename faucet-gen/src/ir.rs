//! The validated pipeline: every value checked, normalized and typed.
//!
//! Code generation reads only this; nothing here can be invalid.

use crate::connectors;
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

/// The source connectors; each one's settings live in its [`crate::connectors`] module.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// `csv`.
    Csv(connectors::csv::CsvSource),
    /// `jsonl`.
    Jsonl(connectors::jsonl::JsonlSource),
}

impl SourceKind {
    /// The source's malformed-input policy.
    pub fn on_parse_error(&self) -> OnParseError {
        match self {
            SourceKind::Csv(c) => c.on_parse_error,
            SourceKind::Jsonl(j) => j.on_parse_error,
        }
    }
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

/// A configured sink.
#[derive(Debug, Clone)]
pub struct Sink {
    /// Where `type:` was written.
    pub loc: Loc,
    /// The connector and its settings.
    pub kind: SinkKind,
}

/// The sink connectors; each one's settings live in its [`crate::connectors`] module.
#[derive(Debug, Clone)]
pub enum SinkKind {
    /// `jsonl`.
    Jsonl(connectors::jsonl::JsonlSink),
    /// `csv`.
    Csv(connectors::csv::CsvSink),
    /// `stdout`.
    Stdout(connectors::stdout::StdoutSink),
    /// `sqlite`.
    Sqlite(connectors::sqlite::SqliteSink),
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

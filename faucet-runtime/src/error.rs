//! The one error type of a pipeline run.
//!
//! An error is a kind plus a message. Messages are scrubbed of every secret
//! resolved from `${env:…}` when the error is built (see
//! [`crate::secret::registry`]), so neither `Display` nor `Debug` can leak one.

use std::fmt;

/// What part of a run failed; also the `error.kind` of a DLQ envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A configuration value was unusable at run time (a missing `${env:VAR}`, say).
    Config,
    /// The source could not read (I/O, network, server error).
    Source,
    /// An input record was malformed (bad JSON line, wrong CSV field count, invalid UTF-8).
    Parse,
    /// The sink rejected a batch or a row.
    Sink,
    /// A transform rejected a record (a `flatten` key collision, say).
    Transform,
    /// The state store could not read or persist a bookmark.
    State,
    /// The dead-letter queue could not take the failed rows.
    Dlq,
    /// A DLQ failure budget was exceeded.
    Budget,
    /// A record breached the pipeline's contract.
    ContractViolation,
    /// A record did not fit the schema its type was generated from (a string
    /// where an integer is declared, a missing required field).
    Schema,
    /// The run was cancelled.
    Cancelled,
    /// An error raised by user code (a custom transform, say).
    Custom,
}

impl ErrorKind {
    /// The kind's stable name, as written in DLQ envelopes and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "Config",
            ErrorKind::Source => "Source",
            ErrorKind::Parse => "Parse",
            ErrorKind::Sink => "Sink",
            ErrorKind::Transform => "Transform",
            ErrorKind::State => "State",
            ErrorKind::Dlq => "Dlq",
            ErrorKind::Budget => "Budget",
            ErrorKind::ContractViolation => "ContractViolation",
            ErrorKind::Schema => "Schema",
            ErrorKind::Cancelled => "Cancelled",
            ErrorKind::Custom => "Custom",
        }
    }

    /// Parses a name written by [`ErrorKind::as_str`]; unknown names become `Custom`.
    pub fn from_name(name: &str) -> ErrorKind {
        match name {
            "Config" => ErrorKind::Config,
            "Source" => ErrorKind::Source,
            "Parse" => ErrorKind::Parse,
            "Sink" => ErrorKind::Sink,
            "Transform" => ErrorKind::Transform,
            "State" => ErrorKind::State,
            "Dlq" => ErrorKind::Dlq,
            "Budget" => ErrorKind::Budget,
            "ContractViolation" => ErrorKind::ContractViolation,
            "Schema" => ErrorKind::Schema,
            "Cancelled" => ErrorKind::Cancelled,
            _ => ErrorKind::Custom,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from any part of a pipeline run: a kind and a secret-free message.
#[derive(Clone, PartialEq, Eq)]
pub struct FaucetError {
    kind: ErrorKind,
    message: String,
}

impl FaucetError {
    /// Builds an error; the message is scrubbed of every registered secret.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        FaucetError { kind, message: crate::secret::registry::scrub(message.into()) }
    }

    /// A [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// A [`ErrorKind::Source`] error.
    pub fn source(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Source, message)
    }

    /// A [`ErrorKind::Parse`] error.
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Parse, message)
    }

    /// A [`ErrorKind::Sink`] error.
    pub fn sink(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Sink, message)
    }

    /// A [`ErrorKind::Transform`] error.
    pub fn transform(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transform, message)
    }

    /// A [`ErrorKind::State`] error.
    pub fn state(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::State, message)
    }

    /// A [`ErrorKind::Custom`] error, for user code.
    pub fn custom(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Custom, message)
    }

    /// What failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The scrubbed message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context: ` put in front of its message.
    pub fn context(self, context: impl fmt::Display) -> Self {
        FaucetError {
            kind: self.kind,
            message: crate::secret::registry::scrub(format!("{context}: {}", self.message)),
        }
    }
}

impl fmt::Display for FaucetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.kind.as_str().to_lowercase(), self.message)
    }
}

impl fmt::Debug for FaucetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaucetError").field("kind", &self.kind).field("message", &self.message).finish()
    }
}

impl std::error::Error for FaucetError {}

/// `Result` with [`FaucetError`].
pub type Result<T, E = FaucetError> = std::result::Result<T, E>;

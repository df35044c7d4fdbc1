//! What flows between a source, the transforms and a sink.

use serde_json::Value;

use crate::error::FaucetError;

/// The untyped record: a JSON value, normally an object. Where a stream's
/// schema is known at build time, records are generated structs instead (see
/// [`RecordType`](crate::RecordType)).
pub type Record = Value;

/// A page of records as a source yields it, with the position to resume after it.
///
/// Memory is bounded by two pages: the driver writes one while it reads the next.
#[derive(Debug)]
pub struct Page<R = Record> {
    /// The page's well-formed records, in source order.
    pub records: Vec<R>,
    /// Input the source could not parse, when its `on_parse_error` is `dlq`.
    pub rejects: Vec<Rejected>,
    /// How many malformed inputs the source skipped (`on_parse_error: skip`).
    pub skipped: u64,
    /// Where the source resumes after this page, once the page is confirmed.
    pub bookmark: Option<Value>,
}

impl<R> Default for Page<R> {
    fn default() -> Self {
        Page { records: Vec::new(), rejects: Vec::new(), skipped: 0, bookmark: None }
    }
}

/// An input the source could not turn into a record, kept for the dead-letter queue.
#[derive(Debug)]
pub struct Rejected {
    /// What the source knows of the input (file, line, raw text).
    pub payload: Value,
    /// Why it was rejected. An [`ErrorKind::Schema`](crate::ErrorKind::Schema)
    /// error (input that does not fit a typed record) is dead-lettered with
    /// reason `schema`, any other with reason `parse`.
    pub error: FaucetError,
}

/// Identifies one sink batch within a run, so a sink that commits atomically can
/// skip a batch it already committed before a crash.
///
/// Tokens grow strictly: `(seq, part)` compares lexicographically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommitToken {
    /// The page number since the run's first page ever (persisted in the bookmark).
    pub seq: u64,
    /// The batch within the page (a page larger than the sink's `batch_size` is split).
    pub part: u32,
}

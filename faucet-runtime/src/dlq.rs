//! The dead-letter queue: where rows that cannot be written go, in a fixed envelope.
//!
//! Any sink can be a DLQ. The driver writes a page's envelopes to it, and flushes
//! it, before the page's bookmark advances, so a failed row is never lost.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::FaucetError;

/// What happens when the sink fails a whole batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBatchError {
    /// The run fails and the page's bookmark does not move (the default).
    #[default]
    Propagate,
    /// Every row of the batch goes to the DLQ and the run goes on.
    DlqAll,
}

/// Why a row is in the DLQ: the envelope's `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The sink rejected the row.
    Partial,
    /// The sink failed the whole batch, and `on_batch_error: dlq_all` sent
    /// each of its rows here.
    DlqAll,
    /// The source could not parse the input.
    Parse,
    /// A transform rejected the record.
    Transform,
    /// The record breached the pipeline's contract (`on_breach: quarantine`).
    Contract,
    /// The input did not fit the record type generated from its schema.
    Schema,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 6] =
        [Reason::Partial, Reason::DlqAll, Reason::Parse, Reason::Transform, Reason::Contract, Reason::Schema];

    /// The reason an envelope's `reason` value names.
    pub fn parse(value: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// Whether the envelope's payload is the record as the sink received it,
    /// which a replay can write again (the others hold the source's input).
    pub fn replayable(self) -> bool {
        matches!(self, Reason::Partial | Reason::DlqAll | Reason::Contract)
    }

    /// Why `dlq replay --reason` refuses this reason; `None` for a replayable one.
    pub fn not_replayable(self) -> Option<String> {
        (!self.replayable()).then(|| {
            format!(
                "--reason {}: those dead letters hold the source's input, which a replay does not transform \
                 again (fix the input and run again); a replay writes partial, dlq_all and contract dead letters",
                self.as_str()
            )
        })
    }

    /// The envelope's `reason` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Partial => "partial",
            Reason::DlqAll => "dlq_all",
            Reason::Parse => "parse",
            Reason::Transform => "transform",
            Reason::Contract => "contract",
            Reason::Schema => "schema",
        }
    }
}

/// A dead-letter queue: a sink and the rules for using it.
#[derive(Debug)]
pub struct Dlq<D> {
    /// Where envelopes are written.
    pub sink: D,
    /// What a whole-batch failure does.
    pub on_batch_error: OnBatchError,
    /// Abort (after the page is committed) when one page dead-letters more rows than this.
    pub max_failures_per_page: Option<u64>,
    /// Abort (after the page is committed) when the run dead-letters more rows than this.
    pub max_failures_total: Option<u64>,
}

impl<D> Dlq<D> {
    /// A DLQ writing to `sink`, propagating batch errors, without budgets.
    pub fn new(sink: D) -> Self {
        Dlq {
            sink,
            on_batch_error: OnBatchError::Propagate,
            max_failures_per_page: None,
            max_failures_total: None,
        }
    }
}

/// Where a failed row came from, for its envelope.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The main sink's connector name.
    pub sink: &'a str,
    /// The pipeline's name.
    pub pipeline: &'a str,
    /// The matrix row id (`row-0` for a pipeline without matrix).
    pub row: &'a str,
}

/// Builds the envelope of one failed row:
/// `{error: {kind, message}, reason, payload, ts_ms, sink, pipeline, row, record_index}`.
pub fn envelope(
    origin: Origin<'_>,
    error: &FaucetError,
    reason: Reason,
    payload: Value,
    record_index: usize,
) -> Value {
    let ts_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let mut error_obj = Map::with_capacity(2);
    error_obj.insert("kind".into(), Value::from(error.kind().as_str()));
    error_obj.insert("message".into(), Value::from(error.message()));
    let mut env = Map::with_capacity(8);
    env.insert("error".into(), Value::Object(error_obj));
    env.insert("reason".into(), Value::from(reason.as_str()));
    env.insert("payload".into(), payload);
    env.insert("ts_ms".into(), Value::from(ts_ms));
    env.insert("sink".into(), Value::from(origin.sink));
    env.insert("pipeline".into(), Value::from(origin.pipeline));
    env.insert("row".into(), Value::from(origin.row));
    env.insert("record_index".into(), Value::from(record_index as u64));
    Value::Object(env)
}

//! The [`Sink`] trait: where records go.

use std::future::Future;

use serde_json::Value;

use crate::error::{FaucetError, Result};
use crate::page::{CommitToken, Record};
use crate::record::RecordType;

/// What the driver tells a sink when it opens it.
#[derive(Debug, Clone, Copy)]
pub struct OpenContext<'a> {
    /// The run's scope (`pipeline::row`), unique per pipeline invocation; sinks
    /// that store commit tokens key them by it.
    pub scope: &'a str,
    /// The value this sink's [`Sink::flush`] returned for the last confirmed
    /// page, or `None` on a first run. A file sink truncates back to it.
    pub checkpoint: Option<&'a Value>,
}

/// The result of writing one batch.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// Rows the sink accepted.
    pub written: u64,
    /// Rows the sink rejected, by index within the batch; the driver routes them to the DLQ.
    pub failures: Vec<RowFailure>,
    /// True when the sink had already committed this batch's token before a
    /// crash and wrote nothing now (`failures` then repeats the rows it rejected then).
    pub already_committed: bool,
}

/// One row a sink rejected.
#[derive(Debug, Clone)]
pub struct RowFailure {
    /// Index of the row within the batch passed to [`Writes::write_batch`].
    pub index: usize,
    /// Why the row was rejected.
    pub error: FaucetError,
}

/// Where records go: the lifecycle every sink has. What it can write is
/// [`Writes`], implemented once per record type it encodes; most connectors
/// write any [`RecordType`] (`impl<R: RecordType> Writes<R> for JsonlSink`).
///
/// The driver calls, per page: [`write_batch`](Writes::write_batch) once per
/// `batch_size` chunk, then [`flush`](Sink::flush), and only then persists the
/// page's bookmark together with the checkpoint `flush` returned. A sink must
/// therefore make everything durable in `flush`, and return from `open` in the
/// state its checkpoint describes, so that a crash anywhere loses nothing and
/// duplicates nothing.
pub trait Sink: Send {
    /// Short snake-case name (`jsonl`, `sqlite`), used in DLQ envelopes, metrics and errors.
    fn connector_name(&self) -> &'static str;

    /// The sink's natural batch: the driver splits pages into chunks of this many rows.
    fn batch_size(&self) -> usize;

    /// Prepares the sink and restores it to `ctx.checkpoint`. Called once, before any write.
    fn open(&mut self, ctx: OpenContext<'_>) -> impl Future<Output = Result<()>> + Send;

    /// Makes every write so far durable and returns the checkpoint to store with
    /// the page's bookmark (for example a file's length), or `None`.
    fn flush(&mut self) -> impl Future<Output = Result<Option<Value>>> + Send;

    /// Called after [`open`](Sink::open) when the state store has no bookmark
    /// for `state_key`: fails, explaining how to proceed, when the sink holds
    /// commit tokens of an earlier lineage of that key (the state was lost, so
    /// this run would write those rows again). Sinks that store no tokens hold none.
    fn check_no_earlier_lineage(&mut self, state_key: &str) -> impl Future<Output = Result<()>> + Send {
        let _ = state_key;
        std::future::ready(Ok(()))
    }

    /// Makes a first [`open`](Sink::open) (no checkpoint) keep what the
    /// destination holds instead of starting it over: `dlq replay` adds its
    /// records to the sink's output. Sinks that never start over do nothing.
    fn keep_existing(&mut self) {}
}

impl<K: Sink + ?Sized> Sink for &mut K {
    fn connector_name(&self) -> &'static str {
        (**self).connector_name()
    }

    fn batch_size(&self) -> usize {
        (**self).batch_size()
    }

    fn open(&mut self, ctx: OpenContext<'_>) -> impl Future<Output = Result<()>> + Send {
        (**self).open(ctx)
    }

    fn flush(&mut self) -> impl Future<Output = Result<Option<Value>>> + Send {
        (**self).flush()
    }

    fn check_no_earlier_lineage(&mut self, state_key: &str) -> impl Future<Output = Result<()>> + Send {
        (**self).check_no_earlier_lineage(state_key)
    }

    fn keep_existing(&mut self) {
        (**self).keep_existing();
    }
}

/// Writes batches of records of type `R` (the untyped [`Record`] unless said otherwise).
pub trait Writes<R: RecordType = Record>: Sink {
    /// Writes one batch. An `Err` means the whole batch failed; per-row
    /// rejections go in [`WriteOutcome::failures`].
    fn write_batch(
        &mut self,
        batch: &[R],
        token: CommitToken,
    ) -> impl Future<Output = Result<WriteOutcome>> + Send;
}

impl<R: RecordType, K: Writes<R> + ?Sized> Writes<R> for &mut K {
    fn write_batch(
        &mut self,
        batch: &[R],
        token: CommitToken,
    ) -> impl Future<Output = Result<WriteOutcome>> + Send {
        (**self).write_batch(batch, token)
    }
}

/// A sink that cannot exist: the type of "no dead-letter queue".
#[derive(Debug, Clone, Copy)]
pub enum NoSink {}

impl Sink for NoSink {
    fn connector_name(&self) -> &'static str {
        match *self {}
    }

    fn batch_size(&self) -> usize {
        match *self {}
    }

    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        match *self {}
    }

    async fn flush(&mut self) -> Result<Option<Value>> {
        match *self {}
    }
}

impl<R: RecordType> Writes<R> for NoSink {
    async fn write_batch(&mut self, _batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        match *self {}
    }
}

//! Observability shared by every connector: the driver opens the spans and
//! records the metrics, so a connector gets them without code of its own.
//!
//! Metric names follow faucet-stream's, so existing dashboards keep working.
//! Labels are low-cardinality only: `pipeline`, `row`, `connector` (plus
//! `source` / `sink` / `status` / `kind` on run metrics, `dlq_connector` on DLQ
//! metrics, `outcome` on bookmark reads, `op` / `kind` on state errors, and
//! `field` / `rule` / `mode` on contract breaches, whose fields are the
//! contract's or `<extra>`). The run id is a field of the
//! `faucet.pipeline.run` span, never a label.
//!
//! Every handle is registered once per run in [`RunMetrics::new`] (a contract
//! breach counter at the first breach of its field and rule), so the hot path
//! only bumps an atomic (or does nothing when no recorder is installed): no
//! label set is built and nothing is allocated per page or record.
//!
//! Spans (all but the run span at `DEBUG`, `faucet.transform.apply` at `TRACE`):
//! [`SPAN_RUN`], [`SPAN_SOURCE_PAGE`], [`SPAN_TRANSFORM`], [`SPAN_SINK_WRITE`],
//! [`SPAN_SINK_FLUSH`], [`SPAN_DLQ_ROUTE`], [`SPAN_CONTRACT`], [`SPAN_STATE_GET`],
//! [`SPAN_STATE_PUT`].

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use metrics::{Counter, Gauge, Histogram, Label};

use crate::contract::{Breach, OnBreach, Rule};
use crate::error::ErrorKind;

/// Counter: pages read from a source.
pub const SOURCE_PAGES: &str = "faucet_source_pages_total";
/// Counter: records read from a source (malformed and skipped inputs included).
pub const SOURCE_RECORDS: &str = "faucet_source_records_total";
/// Counter: source errors.
pub const SOURCE_ERRORS: &str = "faucet_source_errors_total";
/// Histogram: seconds to fetch one source page.
pub const SOURCE_PAGE_DURATION: &str = "faucet_source_page_duration_seconds";
/// Counter: records a sink accepted.
pub const SINK_RECORDS: &str = "faucet_sink_records_total";
/// Counter: sink errors (failed batches, opens and flushes).
pub const SINK_ERRORS: &str = "faucet_sink_errors_total";
/// Histogram: seconds per sink batch write.
pub const SINK_WRITE_DURATION: &str = "faucet_sink_write_duration_seconds";
/// Histogram: seconds per sink flush.
pub const SINK_FLUSH_DURATION: &str = "faucet_sink_flush_duration_seconds";
/// Counter: rows sent to the dead-letter queue.
pub const SINK_DLQ_RECORDS: &str = "faucet_sink_dlq_records_total";
/// Histogram: seconds per dead-letter batch write.
pub const SINK_DLQ_WRITE_DURATION: &str = "faucet_sink_dlq_write_duration_seconds";
/// Histogram: seconds per dead-letter sink flush.
pub const SINK_DLQ_FLUSH_DURATION: &str = "faucet_sink_dlq_flush_duration_seconds";
/// Counter: records into the transform chain.
pub const TRANSFORM_IN: &str = "faucet_transform_records_in_total";
/// Counter: records out of the transform chain.
pub const TRANSFORM_OUT: &str = "faucet_transform_records_out_total";
/// Counter: contract breaches under `on_breach: warn` and `quarantine`,
/// labelled by `field` (`<extra>` for an undeclared one, `<record>` for a
/// record that is not an object), `rule` and `mode`.
pub const CONTRACT_VIOLATIONS: &str = "faucet_contract_violations_total";
/// Counter: runs an `on_breach: fail` contract stopped.
pub const CONTRACT_ABORTS: &str = "faucet_contract_aborts_total";
/// Counter: bookmark reads, labelled by `outcome` (`hit` / `miss`).
pub const STATE_GET: &str = "faucet_state_get_total";
/// Counter: bookmark writes.
pub const STATE_PUT: &str = "faucet_state_put_total";
/// Counter: failed bookmark reads and writes, labelled by `op` and `kind`.
pub const STATE_ERRORS: &str = "faucet_state_errors_total";
/// Histogram: seconds per bookmark read.
pub const STATE_GET_DURATION: &str = "faucet_state_get_duration_seconds";
/// Histogram: seconds per bookmark write.
pub const STATE_PUT_DURATION: &str = "faucet_state_put_duration_seconds";
/// Counter: finished runs, labelled by `status` (`ok` / `err`, plus `kind` on `err`).
pub const PIPELINE_RUNS: &str = "faucet_pipeline_runs_total";
/// Histogram: run duration in seconds.
pub const PIPELINE_RUN_DURATION: &str = "faucet_pipeline_run_duration_seconds";
/// Gauge: runs of this pipeline row in progress.
pub const PIPELINE_IN_FLIGHT: &str = "faucet_pipeline_in_flight";
/// Gauge: Unix time (seconds) of the last persisted bookmark.
pub const PIPELINE_LAST_BOOKMARK: &str = "faucet_pipeline_last_bookmark_unix_seconds";

/// Span around a whole run (`pipeline`, `row`, `run_id`, `source`, `sink`).
pub const SPAN_RUN: &str = "faucet.pipeline.run";
/// Span around one source page fetch (`connector`).
pub const SPAN_SOURCE_PAGE: &str = "faucet.source.page";
/// Span around the transform chain over one page (`records_in`).
pub const SPAN_TRANSFORM: &str = "faucet.transform.apply";
/// Span around one sink batch write (`connector`, `rows`).
pub const SPAN_SINK_WRITE: &str = "faucet.sink.write";
/// Span around one sink flush (`connector`).
pub const SPAN_SINK_FLUSH: &str = "faucet.sink.flush";
/// Span around one page's dead-letter write (`connector`, `rows`).
pub const SPAN_DLQ_ROUTE: &str = "faucet.dlq.route";
/// Span around the contract check of one page (`version`).
pub const SPAN_CONTRACT: &str = "faucet.contract.apply";
/// Span around a bookmark read (`key`).
pub const SPAN_STATE_GET: &str = "faucet.state.get";
/// Span around a bookmark write (`key`).
pub const SPAN_STATE_PUT: &str = "faucet.state.put";

/// Which state-store operation failed (the `op` label of [`STATE_ERRORS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateOp {
    Get,
    Put,
}

/// Every metric handle one run touches, registered once with the recorder
/// that is current when the run starts.
pub(crate) struct RunMetrics {
    pub source_pages: Counter,
    pub source_records: Counter,
    pub source_errors: Counter,
    pub source_page_duration: Histogram,
    pub sink_records: Counter,
    pub sink_errors: Counter,
    pub sink_write_duration: Histogram,
    pub sink_flush_duration: Histogram,
    pub dlq_records: Counter,
    pub dlq_write_duration: Histogram,
    pub dlq_flush_duration: Histogram,
    pub transform_in: Counter,
    pub transform_out: Counter,
    pub state_get_hit: Counter,
    pub state_get_miss: Counter,
    pub state_put: Counter,
    pub state_get_duration: Histogram,
    pub state_put_duration: Histogram,
    pub last_bookmark: Gauge,
    /// `faucet_contract_violations_total`, one per `field` and `rule`, registered at its first breach.
    contract_violations: Vec<(String, Rule, Counter)>,
    /// `pipeline`, `row`: kept for the rare labelled-at-the-end metrics (errors, run status).
    base: Vec<Label>,
    /// `pipeline`, `row`, `source`, `sink`.
    run: Vec<Label>,
}

impl RunMetrics {
    /// Registers the run's handles: `source` and `sink` are connector names,
    /// `dlq` the dead-letter sink's, when there is one. Without a DLQ or a
    /// state store (`state` false) their metrics stay unregistered no-ops, so
    /// no empty series is exported.
    pub fn new(
        pipeline: &str,
        row: &str,
        source: &'static str,
        sink: &'static str,
        dlq: Option<&'static str>,
        state: bool,
    ) -> Self {
        let base = vec![Label::new("pipeline", pipeline.to_owned()), Label::new("row", row.to_owned())];
        let with = |extra: &[(&'static str, &'static str)]| -> Vec<Label> {
            let mut labels = base.clone();
            labels.extend(extra.iter().map(|&(k, v)| Label::new(k, v)));
            labels
        };
        let src = with(&[("connector", source)]);
        let snk = with(&[("connector", sink)]);
        let dlq_labels = with(&[("connector", sink), ("dlq_connector", dlq.unwrap_or("none"))]);
        let has_dlq = dlq.is_some();
        let counter = |on: bool, name: &'static str, labels: &[Label]| {
            if on { metrics::counter!(name, labels.iter()) } else { Counter::noop() }
        };
        let histogram = |on: bool, name: &'static str, labels: &[Label]| {
            if on { metrics::histogram!(name, labels.iter()) } else { Histogram::noop() }
        };
        let hit = with(&[("outcome", "hit")]);
        let miss = with(&[("outcome", "miss")]);
        let run = with(&[("source", source), ("sink", sink)]);
        RunMetrics {
            source_pages: metrics::counter!(SOURCE_PAGES, src.iter()),
            source_records: metrics::counter!(SOURCE_RECORDS, src.iter()),
            source_errors: metrics::counter!(SOURCE_ERRORS, src.iter()),
            source_page_duration: metrics::histogram!(SOURCE_PAGE_DURATION, src.iter()),
            sink_records: metrics::counter!(SINK_RECORDS, snk.iter()),
            sink_errors: metrics::counter!(SINK_ERRORS, snk.iter()),
            sink_write_duration: metrics::histogram!(SINK_WRITE_DURATION, snk.iter()),
            sink_flush_duration: metrics::histogram!(SINK_FLUSH_DURATION, snk.iter()),
            dlq_records: counter(has_dlq, SINK_DLQ_RECORDS, &dlq_labels),
            dlq_write_duration: histogram(has_dlq, SINK_DLQ_WRITE_DURATION, &dlq_labels),
            dlq_flush_duration: histogram(has_dlq, SINK_DLQ_FLUSH_DURATION, &dlq_labels),
            transform_in: metrics::counter!(TRANSFORM_IN, base.iter()),
            transform_out: metrics::counter!(TRANSFORM_OUT, base.iter()),
            state_get_hit: counter(state, STATE_GET, &hit),
            state_get_miss: counter(state, STATE_GET, &miss),
            state_put: counter(state, STATE_PUT, &base),
            state_get_duration: histogram(state, STATE_GET_DURATION, &base),
            state_put_duration: histogram(state, STATE_PUT_DURATION, &base),
            last_bookmark: if state {
                metrics::gauge!(PIPELINE_LAST_BOOKMARK, base.iter())
            } else {
                Gauge::noop()
            },
            contract_violations: Vec::new(),
            base,
            run,
        }
    }

    /// Counts a contract breach that did not stop the run.
    pub fn contract_violation(&mut self, breach: &Breach, mode: OnBreach) {
        let field = match breach.rule {
            Rule::ExtraField => "<extra>",
            _ => breach.field.as_deref().unwrap_or("<record>"),
        };
        if let Some((_, _, counter)) =
            self.contract_violations.iter().find(|(f, r, _)| f == field && *r == breach.rule)
        {
            counter.increment(1);
            return;
        }
        let mut labels = self.base.clone();
        labels.push(Label::new("field", field.to_owned()));
        labels.push(Label::new("rule", breach.rule.as_str()));
        labels.push(Label::new("mode", mode.as_str()));
        let counter = metrics::counter!(CONTRACT_VIOLATIONS, labels);
        counter.increment(1);
        self.contract_violations.push((field.to_owned(), breach.rule, counter));
    }

    /// Counts a run stopped by an `on_breach: fail` contract.
    pub fn contract_abort(&self) {
        metrics::counter!(CONTRACT_ABORTS, self.base.iter()).increment(1);
    }

    /// Counts a failed state-store operation (rare: the labels are built here).
    pub fn state_error(&self, op: StateOp, kind: ErrorKind) {
        let op = match op {
            StateOp::Get => "get",
            StateOp::Put => "put",
        };
        let mut labels = self.base.clone();
        labels.push(Label::new("op", op));
        labels.push(Label::new("kind", kind.as_str()));
        metrics::counter!(STATE_ERRORS, labels).increment(1);
    }

    /// Records a persisted bookmark: its count, duration and wall-clock time.
    pub fn bookmark_put(&self, started: Instant) {
        self.state_put.increment(1);
        self.state_put_duration.record(started.elapsed().as_secs_f64());
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        self.last_bookmark.set(now);
    }

    /// Marks the run in flight until the returned guard drops (also on
    /// cancellation or a dropped future).
    pub fn in_flight(&self) -> InFlight {
        let gauge = metrics::gauge!(PIPELINE_IN_FLIGHT, self.base.iter());
        gauge.increment(1.0);
        InFlight(gauge)
    }

    /// Records the end of a run: `faucet_pipeline_runs_total{status}` and its duration.
    pub fn finish(&self, started: Instant, error: Option<ErrorKind>) {
        let mut labels = self.run.clone();
        match error {
            None => labels.push(Label::new("status", "ok")),
            Some(kind) => {
                labels.push(Label::new("status", "err"));
                labels.push(Label::new("kind", kind.as_str()));
            }
        }
        metrics::counter!(PIPELINE_RUNS, labels).increment(1);
        metrics::histogram!(PIPELINE_RUN_DURATION, self.run.iter()).record(started.elapsed().as_secs_f64());
    }
}

/// Holds `faucet_pipeline_in_flight` up by one while alive.
pub(crate) struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// Seconds since `started`, for a histogram.
pub(crate) fn secs(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

//! Observability hooks shared by every connector: the driver opens the spans and
//! records the metrics, so a connector gets them without code of its own.
//!
//! Metric names follow faucet-stream's, so existing dashboards keep working.

/// Counter: pages read from a source.
pub const SOURCE_PAGES: &str = "faucet_source_pages_total";
/// Counter: records read from a source.
pub const SOURCE_RECORDS: &str = "faucet_source_records_total";
/// Counter: source errors.
pub const SOURCE_ERRORS: &str = "faucet_source_errors_total";
/// Counter: records a sink accepted.
pub const SINK_RECORDS: &str = "faucet_sink_records_total";
/// Counter: sink errors.
pub const SINK_ERRORS: &str = "faucet_sink_errors_total";
/// Counter: rows sent to the dead-letter queue.
pub const SINK_DLQ_RECORDS: &str = "faucet_sink_dlq_records_total";
/// Counter: records into the transform chain.
pub const TRANSFORM_IN: &str = "faucet_transform_records_in_total";
/// Counter: records out of the transform chain.
pub const TRANSFORM_OUT: &str = "faucet_transform_records_out_total";
/// Counter: bookmark reads.
pub const STATE_GET: &str = "faucet_state_get_total";
/// Counter: bookmark writes.
pub const STATE_PUT: &str = "faucet_state_put_total";
/// Counter: finished runs, labelled by `status`.
pub const PIPELINE_RUNS: &str = "faucet_pipeline_runs_total";
/// Histogram: run duration in seconds.
pub const PIPELINE_RUN_DURATION: &str = "faucet_pipeline_run_duration_seconds";

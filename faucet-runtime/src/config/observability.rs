//! The config's `observability:` block, which the generated `main` installs
//! (with the `cli` feature).

use crate::secret::Template;

/// The `observability:` block, as generated code passes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observability {
    /// `prometheus.listen`: the scrape address (`${env:…}` resolved at start).
    pub prometheus_listen: Option<Template>,
    /// `prometheus.buckets`: histogram buckets in seconds (the exporter's default when `None`).
    pub prometheus_buckets: Option<&'static [f64]>,
    /// `tracing.level` (default `info`).
    pub tracing_level: Option<TracingLevel>,
}

/// The most verbose level the tracing subscriber prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TracingLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Progress (the default).
    Info,
    /// Problems.
    Warn,
    /// Failures only.
    Error,
}

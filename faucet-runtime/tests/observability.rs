//! The driver's metrics and spans, asserted with a recording recorder
//! (metrics-util's `DebuggingRecorder`, installed per test with
//! `metrics::with_local_recorder`) and a capturing `tracing` layer, over a
//! hand-built pipeline of test doubles: no connector emits anything itself.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use faucet_runtime::contract::{Contract, Field, OnBreach};
use faucet_runtime::dlq::Dlq;
use faucet_runtime::observe;
use faucet_runtime::state::MemoryStore;
use faucet_runtime::{
    CommitToken, ErrorKind, FaucetError, OpenContext, Page, Pipeline, Record, Rejected, RowFailure, Sink,
    Source, StateStore, WriteOutcome, Writes, transform_fn,
};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::{Value, json};
use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing::{Subscriber, field};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

// ---------------------------------------------------------------------------
// Test doubles
// ---------------------------------------------------------------------------

/// Yields `pages` pages of `per_page` records `{"id": n}` (ids from 1), one
/// malformed input per page when `rejects`, then fails when `fail_after` pages
/// have been read (if set). Resumes after the page its bookmark names.
struct PagedSource {
    pages: u64,
    per_page: u64,
    rejects: bool,
    fail_after: Option<u64>,
    next: u64,
}

impl PagedSource {
    fn new(pages: u64, per_page: u64) -> Self {
        PagedSource { pages, per_page, rejects: false, fail_after: None, next: 0 }
    }
}

impl Source for PagedSource {
    type Record = serde_json::Value;

    fn connector_name(&self) -> &'static str {
        "paged"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> faucet_runtime::Result<()> {
        self.next = bookmark.and_then(|b| b["page"].as_u64()).unwrap_or(0);
        Ok(())
    }

    async fn next_page(&mut self) -> faucet_runtime::Result<Option<Page>> {
        if self.fail_after == Some(self.next) {
            return Err(FaucetError::source("connection reset"));
        }
        if self.next == self.pages {
            return Ok(None);
        }
        let first = self.next * self.per_page + 1;
        self.next += 1;
        let rejects = if self.rejects {
            vec![Rejected { payload: json!("not json"), error: FaucetError::parse("bad line") }]
        } else {
            Vec::new()
        };
        Ok(Some(Page {
            records: (first..first + self.per_page).map(|id| json!({ "id": id })).collect(),
            rejects,
            skipped: 0,
            bookmark: Some(json!({ "page": self.next })),
        }))
    }
}

/// Accepts batches of `batch_size` rows, rejecting rows whose id is in `fail_ids`.
#[derive(Default)]
struct CollectSink {
    name: &'static str,
    batch_size: usize,
    fail_ids: BTreeSet<u64>,
    rows: Arc<Mutex<Vec<Value>>>,
}

impl CollectSink {
    fn new(name: &'static str, batch_size: usize) -> Self {
        CollectSink { name, batch_size, ..CollectSink::default() }
    }
}

impl Sink for CollectSink {
    fn connector_name(&self) -> &'static str {
        self.name
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    async fn open(&mut self, _ctx: OpenContext<'_>) -> faucet_runtime::Result<()> {
        Ok(())
    }

    async fn flush(&mut self) -> faucet_runtime::Result<Option<Value>> {
        Ok(Some(json!({ "rows": self.rows.lock().unwrap().len() })))
    }
}

impl Writes for CollectSink {
    async fn write_batch(
        &mut self,
        batch: &[Record],
        _token: CommitToken,
    ) -> faucet_runtime::Result<WriteOutcome> {
        let mut failures = Vec::new();
        let mut rows = self.rows.lock().unwrap();
        for (index, row) in batch.iter().enumerate() {
            match row["id"].as_u64() {
                Some(id) if self.fail_ids.contains(&id) => {
                    failures.push(RowFailure { index, error: FaucetError::sink(format!("row {id} refused")) })
                }
                _ => rows.push(row.clone()),
            }
        }
        Ok(WriteOutcome {
            written: (batch.len() - failures.len()) as u64,
            failures,
            already_committed: false,
        })
    }
}

// ---------------------------------------------------------------------------
// Recording metrics
// ---------------------------------------------------------------------------

/// Runs the tests one at a time: tracing caches each callsite's interest
/// globally, so a run on a thread without a subscriber can race a capturing one.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// One metric of a snapshot, found by name and (a subset of) its labels.
struct Metrics(Vec<(MetricKind, String, BTreeMap<String, String>, DebugValue)>);

impl Metrics {
    fn take(snapshotter: &Snapshotter) -> Self {
        Metrics(
            snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .map(|(key, _, _, value)| {
                    let (kind, key) = key.into_parts();
                    let labels = key
                        .labels()
                        .map(|l| (l.key().to_owned(), l.value().to_owned()))
                        .collect::<BTreeMap<_, _>>();
                    (kind, key.name().to_owned(), labels, value)
                })
                .collect(),
        )
    }

    /// The one metric named `name` whose labels include `labels`.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> &DebugValue {
        let found: Vec<_> = self
            .0
            .iter()
            .filter(|(_, n, l, _)| {
                n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {name} with {labels:?}, found {}: {:?}",
            found.len(),
            self.names()
        );
        &found[0].3
    }

    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(name, labels) {
            DebugValue::Counter(n) => *n,
            other => panic!("{name} is not a counter: {other:?}"),
        }
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.find(name, labels) {
            DebugValue::Gauge(v) => v.into_inner(),
            other => panic!("{name} is not a gauge: {other:?}"),
        }
    }

    fn samples(&self, name: &str, labels: &[(&str, &str)]) -> usize {
        match self.find(name, labels) {
            DebugValue::Histogram(v) => v.len(),
            other => panic!("{name} is not a histogram: {other:?}"),
        }
    }

    fn names(&self) -> BTreeSet<String> {
        self.0.iter().map(|(_, n, _, _)| n.clone()).collect()
    }

    fn labels_of(&self, name: &str) -> Vec<&BTreeMap<String, String>> {
        self.0.iter().filter(|(_, n, _, _)| n == name).map(|(_, _, l, _)| l).collect()
    }
}

/// Runs `f` on a current-thread runtime with a fresh recording recorder
/// installed for this thread only, and returns what it recorded.
fn recorded<F: Future>(f: impl FnOnce() -> F) -> (F::Output, Metrics) {
    let _serial = serial();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let output = metrics::with_local_recorder(&recorder, || runtime.block_on(f()));
    (output, Metrics::take(&snapshotter))
}

/// Three pages of four records; a transform drops id 2; the sink (batches of
/// 3) rejects id 7; every page carries one malformed input: all failures go
/// to the DLQ.
fn sample_pipeline(
    store: Arc<MemoryStore>,
) -> Pipeline<
    PagedSource,
    impl faucet_runtime::Transform<Out = serde_json::Value>,
    CollectSink,
    CollectSink,
    Arc<MemoryStore>,
    faucet_runtime::NoFanOut,
> {
    let mut source = PagedSource::new(3, 4);
    source.rejects = true;
    let mut sink = CollectSink::new("collect", 3);
    sink.fail_ids.insert(7);
    Pipeline::new(source, sink)
        .with_name("orders")
        .with_row("eu")
        .with_transform(transform_fn(|r: Record| Ok((r["id"] != json!(2)).then_some(r))))
        .with_dlq(Dlq::new(CollectSink::new("dead_letters", 100)))
        .with_state(store)
}

const ORDERS_EU: [(&str, &str); 2] = [("pipeline", "orders"), ("row", "eu")];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    ORDERS_EU.iter().chain(extra).copied().collect()
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

#[test]
fn a_run_records_every_driver_metric_with_low_cardinality_labels() {
    let store = Arc::new(MemoryStore::new());
    let (report, m) = recorded(|| sample_pipeline(Arc::clone(&store)).run());
    let report = report.expect("the run succeeds");
    assert_eq!(
        (report.pages, report.records_read, report.records_written, report.records_dead_lettered),
        (3, 15, 10, 4)
    );

    let src = with(&[("connector", "paged")]);
    assert_eq!(m.counter(observe::SOURCE_PAGES, &src), 3);
    assert_eq!(m.counter(observe::SOURCE_RECORDS, &src), 15);
    assert_eq!(m.counter(observe::SOURCE_ERRORS, &src), 0);
    // Three pages plus the fetch that found the end.
    assert_eq!(m.samples(observe::SOURCE_PAGE_DURATION, &src), 4);

    assert_eq!(m.counter(observe::TRANSFORM_IN, &ORDERS_EU), 12);
    assert_eq!(m.counter(observe::TRANSFORM_OUT, &ORDERS_EU), 11);

    let snk = with(&[("connector", "collect")]);
    assert_eq!(m.counter(observe::SINK_RECORDS, &snk), 10);
    assert_eq!(m.counter(observe::SINK_ERRORS, &snk), 0);
    // Pages of 3, 4 and 4 surviving records in batches of 3: 1 + 2 + 2 writes.
    assert_eq!(m.samples(observe::SINK_WRITE_DURATION, &snk), 5);
    assert_eq!(m.samples(observe::SINK_FLUSH_DURATION, &snk), 3);

    let dlq = with(&[("connector", "collect"), ("dlq_connector", "dead_letters")]);
    assert_eq!(m.counter(observe::SINK_DLQ_RECORDS, &dlq), 4);
    assert_eq!(m.samples(observe::SINK_DLQ_WRITE_DURATION, &dlq), 3);
    assert_eq!(m.samples(observe::SINK_DLQ_FLUSH_DURATION, &dlq), 3);

    assert_eq!(m.counter(observe::STATE_GET, &with(&[("outcome", "miss")])), 1);
    assert_eq!(m.counter(observe::STATE_GET, &with(&[("outcome", "hit")])), 0);
    assert_eq!(m.samples(observe::STATE_GET_DURATION, &ORDERS_EU), 1);
    // The lineage, then one bookmark per page.
    assert_eq!(m.counter(observe::STATE_PUT, &ORDERS_EU), 4);
    assert_eq!(m.samples(observe::STATE_PUT_DURATION, &ORDERS_EU), 4);
    assert!(!m.names().contains(observe::STATE_ERRORS));

    let run = with(&[("source", "paged"), ("sink", "collect")]);
    assert_eq!(m.counter(observe::PIPELINE_RUNS, &with(&[("status", "ok")])), 1);
    assert_eq!(m.samples(observe::PIPELINE_RUN_DURATION, &run), 1);
    assert_eq!(m.gauge(observe::PIPELINE_IN_FLIGHT, &ORDERS_EU), 0.0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let bookmarked = m.gauge(observe::PIPELINE_LAST_BOOKMARK, &ORDERS_EU);
    assert!((now - 60.0..=now + 1.0).contains(&bookmarked), "last bookmark at {bookmarked}, now {now}");

    // Only low-cardinality labels: never a run id, key or record value.
    let allowed: BTreeSet<&str> = [
        "pipeline",
        "row",
        "connector",
        "dlq_connector",
        "source",
        "sink",
        "status",
        "kind",
        "outcome",
        "op",
    ]
    .into();
    for name in m.names() {
        assert!(name.starts_with("faucet_"), "{name}");
        for labels in m.labels_of(&name) {
            for key in labels.keys() {
                assert!(allowed.contains(key.as_str()), "{name} has label {key}");
            }
            assert_eq!(labels["pipeline"], "orders", "{name}");
            assert_eq!(labels["row"], "eu", "{name}");
        }
    }
}

#[test]
fn a_resumed_run_counts_a_bookmark_hit() {
    let store = Arc::new(MemoryStore::new());
    let (first, _) = recorded(|| sample_pipeline(Arc::clone(&store)).run());
    first.unwrap();
    let (second, m) = recorded(|| sample_pipeline(Arc::clone(&store)).run());
    assert_eq!(second.unwrap().pages, 0);
    assert_eq!(m.counter(observe::STATE_GET, &with(&[("outcome", "hit")])), 1);
    assert_eq!(m.counter(observe::STATE_GET, &with(&[("outcome", "miss")])), 0);
    // The lineage exists already and no page was read: nothing persisted.
    assert_eq!(m.counter(observe::STATE_PUT, &ORDERS_EU), 0);
    assert_eq!(m.counter(observe::SOURCE_PAGES, &with(&[("connector", "paged")])), 0);
}

#[test]
fn a_failed_run_counts_the_error_and_its_kind() {
    let mut source = PagedSource::new(5, 2);
    source.fail_after = Some(2);
    let pipeline = Pipeline::new(source, CollectSink::new("collect", 10)).with_name("orders").with_row("eu");
    let (result, m) = recorded(|| pipeline.run());
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Source);

    let src = with(&[("connector", "paged")]);
    assert_eq!(m.counter(observe::SOURCE_ERRORS, &src), 1);
    assert_eq!(m.counter(observe::SOURCE_PAGES, &src), 2);
    assert_eq!(m.counter(observe::PIPELINE_RUNS, &with(&[("status", "err"), ("kind", "Source")])), 1);
    assert_eq!(m.labels_of(observe::PIPELINE_RUNS).len(), 1, "no `ok` series for a failed run");
    assert_eq!(m.gauge(observe::PIPELINE_IN_FLIGHT, &ORDERS_EU), 0.0);
    // No state store and no DLQ: no state or DLQ series at all.
    for name in m.names() {
        assert!(!name.starts_with("faucet_state_") && !name.starts_with("faucet_sink_dlq_"), "{name}");
    }
}

#[test]
fn a_sink_batch_error_is_counted() {
    struct Broken;
    impl Sink for Broken {
        fn connector_name(&self) -> &'static str {
            "broken"
        }
        fn batch_size(&self) -> usize {
            10
        }
        async fn open(&mut self, _ctx: OpenContext<'_>) -> faucet_runtime::Result<()> {
            Ok(())
        }
        async fn flush(&mut self) -> faucet_runtime::Result<Option<Value>> {
            Ok(None)
        }
    }

    impl Writes for Broken {
        async fn write_batch(
            &mut self,
            _b: &[Record],
            _t: CommitToken,
        ) -> faucet_runtime::Result<WriteOutcome> {
            Err(FaucetError::sink("disk full"))
        }
    }
    let pipeline = Pipeline::new(PagedSource::new(2, 2), Broken).with_name("orders").with_row("eu");
    let (result, m) = recorded(|| pipeline.run());
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Sink);
    assert_eq!(m.counter(observe::SINK_ERRORS, &with(&[("connector", "broken")])), 1);
    assert_eq!(m.counter(observe::PIPELINE_RUNS, &with(&[("status", "err"), ("kind", "Sink")])), 1);
}

/// Ids 1 to 6 in two pages; the contract allows ids up to 3 and no other field.
fn contract_run(on_breach: OnBreach) -> (faucet_runtime::Result<faucet_runtime::RunReport>, Metrics) {
    let contract =
        Contract::new("1").on_breach(on_breach).allow_extra_fields(false).field(Field::integer("id").max(3));
    let pipeline = Pipeline::new(PagedSource::new(2, 3), CollectSink::new("collect", 10))
        .with_transform(transform_fn(|mut r: Record| {
            if r["id"] == json!(2) {
                r["note"] = json!("surprise");
            }
            Ok(Some(r))
        }))
        .with_dlq(Dlq::new(CollectSink::new("dead_letters", 100)))
        .with_contract(contract)
        .with_name("orders")
        .with_row("eu");
    recorded(|| pipeline.run())
}

#[test]
fn contract_breaches_are_counted_by_field_rule_and_mode() {
    for (on_breach, mode) in [(OnBreach::Warn, "warn"), (OnBreach::Quarantine, "quarantine")] {
        let (report, m) = contract_run(on_breach);
        assert_eq!(report.unwrap().contract_breaches, 4, "{mode}");
        let range = with(&[("field", "id"), ("rule", "range"), ("mode", mode)]);
        assert_eq!(m.counter(observe::CONTRACT_VIOLATIONS, &range), 3, "{mode}");
        let extra = with(&[("field", "<extra>"), ("rule", "extra_field"), ("mode", mode)]);
        assert_eq!(m.counter(observe::CONTRACT_VIOLATIONS, &extra), 1, "{mode}");
        assert_eq!(m.labels_of(observe::CONTRACT_VIOLATIONS).len(), 2, "{mode}");
        assert!(!m.names().contains(observe::CONTRACT_ABORTS), "{mode}");
    }
}

#[test]
fn a_fail_contract_counts_an_abort() {
    let (report, m) = contract_run(OnBreach::Fail);
    assert_eq!(report.unwrap_err().kind(), ErrorKind::ContractViolation);
    assert_eq!(m.counter(observe::CONTRACT_ABORTS, &ORDERS_EU), 1);
    assert!(!m.names().contains(observe::CONTRACT_VIOLATIONS));
    assert_eq!(
        m.counter(observe::PIPELINE_RUNS, &with(&[("status", "err"), ("kind", "ContractViolation")])),
        1
    );
}

/// A state store that reads fine (nothing stored) and fails every write after `ok_puts`.
struct FlakyStore {
    ok_puts: AtomicUsize,
}

impl StateStore for FlakyStore {
    fn store_name(&self) -> &'static str {
        "flaky"
    }
    async fn get(&self, _key: &str) -> faucet_runtime::Result<Option<Value>> {
        Ok(None)
    }
    async fn put(&self, _key: &str, _value: &Value) -> faucet_runtime::Result<()> {
        let left = self.ok_puts.load(Ordering::Relaxed);
        if left == 0 {
            return Err(FaucetError::state("disk full"));
        }
        self.ok_puts.store(left - 1, Ordering::Relaxed);
        Ok(())
    }
    async fn delete(&self, _key: &str) -> faucet_runtime::Result<()> {
        Ok(())
    }
    async fn put_if_absent(&self, _key: &str, value: &Value) -> faucet_runtime::Result<Value> {
        Ok(value.clone())
    }
}

#[test]
fn a_failed_bookmark_write_is_counted_by_operation_and_kind() {
    // The lineage and page 1 persist; page 2's bookmark fails.
    let store = FlakyStore { ok_puts: AtomicUsize::new(2) };
    let pipeline = Pipeline::new(PagedSource::new(3, 2), CollectSink::new("collect", 10))
        .with_name("orders")
        .with_row("eu")
        .with_state(store);
    let (result, m) = recorded(|| pipeline.run());
    assert_eq!(result.unwrap_err().kind(), ErrorKind::State);
    assert_eq!(m.counter(observe::STATE_ERRORS, &with(&[("op", "put"), ("kind", "State")])), 1);
    assert_eq!(m.counter(observe::STATE_PUT, &ORDERS_EU), 2);
    assert_eq!(m.counter(observe::PIPELINE_RUNS, &with(&[("status", "err"), ("kind", "State")])), 1);
}

/// Never yields a page.
struct StuckSource;

impl Source for StuckSource {
    type Record = serde_json::Value;

    fn connector_name(&self) -> &'static str {
        "stuck"
    }
    async fn resume(&mut self, _bookmark: Option<Value>) -> faucet_runtime::Result<()> {
        Ok(())
    }
    async fn next_page(&mut self) -> faucet_runtime::Result<Option<Page>> {
        std::future::pending().await
    }
}

#[test]
fn in_flight_counts_a_running_run_and_drops_with_its_future() {
    let _serial = serial();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let during = metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let pipeline = Pipeline::new(StuckSource, CollectSink::new("collect", 10))
                .with_name("orders")
                .with_row("eu");
            let mut run = Box::pin(pipeline.run());
            // Poll the run until it waits on the source, then look.
            assert!(tokio::time::timeout(std::time::Duration::from_millis(20), &mut run).await.is_err());
            let during = Metrics::take(&snapshotter).gauge(observe::PIPELINE_IN_FLIGHT, &ORDERS_EU);
            drop(run);
            during
        })
    });
    assert_eq!(during, 1.0);
    // A snapshot drains what it reports, so this one holds the change since: the decrement.
    assert_eq!(Metrics::take(&snapshotter).gauge(observe::PIPELINE_IN_FLIGHT, &ORDERS_EU), -1.0);
}

/// Counts registrations (label sets built and looked up) and hands out no-op handles.
#[derive(Default)]
struct CountingRecorder {
    registrations: AtomicUsize,
}

impl Recorder for CountingRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        self.registrations.fetch_add(1, Ordering::Relaxed);
        Counter::noop()
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        self.registrations.fetch_add(1, Ordering::Relaxed);
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        self.registrations.fetch_add(1, Ordering::Relaxed);
        Histogram::noop()
    }
}

/// How many metric handles one run of `pages` pages registers.
fn registrations(pages: u64) -> usize {
    let _serial = serial();
    let recorder = CountingRecorder::default();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mut sink = CollectSink::new("collect", 2);
    sink.fail_ids.insert(3);
    let pipeline = Pipeline::new(PagedSource::new(pages, 10), sink)
        .with_dlq(Dlq::new(CollectSink::new("dead_letters", 100)))
        .with_state(MemoryStore::new());
    metrics::with_local_recorder(&recorder, || runtime.block_on(pipeline.run())).unwrap();
    recorder.registrations.load(Ordering::Relaxed)
}

#[test]
fn label_sets_are_built_once_per_run_not_per_page() {
    let one = registrations(1);
    assert!(one > 0);
    assert_eq!(registrations(200), one, "registrations must not grow with pages");
}

// ---------------------------------------------------------------------------
// Spans
// ---------------------------------------------------------------------------

/// A span as captured: its name, parent's name and fields (recorded late ones included).
#[derive(Debug, Clone)]
struct Captured {
    name: &'static str,
    parent: Option<&'static str>,
    fields: BTreeMap<&'static str, String>,
}

/// Records every span the subscriber creates, in creation order.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(Id, Captured)>>>);

struct Fields<'a>(&'a mut BTreeMap<&'static str, String>);

impl field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &field::Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let parent = ctx.span(id).and_then(|s| s.parent()).map(|p| p.name());
        self.0.lock().unwrap().push((id.clone(), Captured { name: attrs.metadata().name(), parent, fields }));
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, span)) = spans.iter_mut().rev().find(|(i, _)| i == id) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
}

impl Capture {
    fn spans(&self) -> Vec<Captured> {
        self.0.lock().unwrap().iter().map(|(_, s)| s.clone()).collect()
    }
}

fn captured<F: Future>(f: impl FnOnce() -> F) -> (F::Output, Vec<Captured>) {
    let _serial = serial();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let output = tracing::subscriber::with_default(subscriber, || {
        // A callsite first reached by a test without a subscriber caches "never": recompute.
        tracing::callsite::rebuild_interest_cache();
        runtime.block_on(f())
    });
    (output, capture.spans())
}

#[test]
fn a_run_opens_the_driver_spans_under_the_run_span() {
    let store = Arc::new(MemoryStore::new());
    let (report, spans) = captured(|| sample_pipeline(store).run());
    report.unwrap();

    let run: Vec<_> = spans.iter().filter(|s| s.name == observe::SPAN_RUN).collect();
    assert_eq!(run.len(), 1);
    let run = run[0];
    assert_eq!(run.parent, None);
    assert_eq!(run.fields["pipeline"], "orders");
    assert_eq!(run.fields["row"], "eu");
    assert_eq!(run.fields["source"], "paged");
    assert_eq!(run.fields["sink"], "collect");
    let run_id = &run.fields["run_id"];
    assert_eq!(run_id.len(), 32, "a simple uuid: {run_id}");
    assert!(run_id.chars().all(|c| c.is_ascii_hexdigit()));

    let count = |name: &str| spans.iter().filter(|s| s.name == name).count();
    assert_eq!(count(observe::SPAN_SOURCE_PAGE), 4);
    assert_eq!(count(observe::SPAN_TRANSFORM), 3);
    assert_eq!(count(observe::SPAN_SINK_WRITE), 5);
    // Sink and DLQ flush, per page.
    assert_eq!(count(observe::SPAN_SINK_FLUSH), 6);
    assert_eq!(count(observe::SPAN_DLQ_ROUTE), 3);
    assert_eq!(count(observe::SPAN_STATE_GET), 1);
    assert_eq!(count(observe::SPAN_STATE_PUT), 4);

    for span in spans.iter().filter(|s| s.name != observe::SPAN_RUN) {
        assert_eq!(span.parent, Some(observe::SPAN_RUN), "{span:?}");
    }
    let first_page = spans.iter().find(|s| s.name == observe::SPAN_SOURCE_PAGE).unwrap();
    assert_eq!(first_page.fields["connector"], "paged");
    let transform = spans.iter().find(|s| s.name == observe::SPAN_TRANSFORM).unwrap();
    assert_eq!(
        (transform.fields["records_in"].as_str(), transform.fields["records_out"].as_str()),
        ("4", "3")
    );
    let write = spans.iter().find(|s| s.name == observe::SPAN_SINK_WRITE).unwrap();
    assert_eq!((write.fields["connector"].as_str(), write.fields["rows"].as_str()), ("collect", "3"));
    let route = spans.iter().find(|s| s.name == observe::SPAN_DLQ_ROUTE).unwrap();
    assert_eq!((route.fields["connector"].as_str(), route.fields["rows"].as_str()), ("dead_letters", "1"));
    let get = spans.iter().find(|s| s.name == observe::SPAN_STATE_GET).unwrap();
    assert_eq!(get.fields["key"], "orders::eu");
}

#[test]
fn every_run_gets_its_own_run_id() {
    let (_, first) = captured(|| Pipeline::new(PagedSource::new(1, 1), CollectSink::new("c", 1)).run());
    let (_, second) = captured(|| Pipeline::new(PagedSource::new(1, 1), CollectSink::new("c", 1)).run());
    let id = |spans: &[Captured]| {
        spans.iter().find(|s| s.name == observe::SPAN_RUN).unwrap().fields["run_id"].clone()
    };
    assert_ne!(id(&first), id(&second));
}

//! Integration tests of the pipeline driver (`faucet_runtime::Pipeline`) through
//! the public API, with hand-written test doubles that record every call into
//! one shared event log, so the order of sink, DLQ and state-store calls can be
//! asserted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use faucet_runtime::contract::{Contract, Field, OnBreach};
use faucet_runtime::dlq::{Dlq, OnBatchError};
use faucet_runtime::state::{FileStore, MemoryStore};
use faucet_runtime::{
    CancellationToken, CommitToken, ErrorKind, FaucetError, OpenContext, Page, Pipeline, Record, RecordType,
    Rejected, RowFailure, RunOptions, Sink, Source, StateStore, WriteOutcome, Writes, transform_fn,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// The shared event log
// ---------------------------------------------------------------------------

/// The main sink's connector name (and the `sink` of every DLQ envelope).
const MAIN: &str = "recording";
/// The DLQ sink's connector name.
const DLQ: &str = "dead_letters";

#[derive(Debug, Clone, PartialEq)]
enum Event {
    /// `Source::resume` was called with this bookmark.
    Resume { bookmark: Option<Value> },
    /// `Sink::open` was called.
    Open { sink: &'static str, scope: String, checkpoint: Option<Value> },
    /// `Sink::write_batch` was called (logged before the sink decides anything).
    Write { sink: &'static str, token: CommitToken, rows: Vec<Value> },
    /// `Sink::flush` returned this checkpoint.
    Flush { sink: &'static str, checkpoint: Value },
    /// `StateStore::put` succeeded with this value.
    Put { value: Value },
    /// An upstream-confirming source acknowledged pages up to this one upstream.
    Ack { page: u64 },
    /// The driver handed a page's records back to the source.
    Recycle { rows: Vec<Value> },
    /// The source handed out this (1-based) page (logged only when asked).
    Fetch { page: u64 },
}

type Log = Arc<Mutex<Vec<Event>>>;

fn new_log() -> Log {
    Arc::default()
}

fn push(log: &Log, event: Event) {
    log.lock().unwrap().push(event);
}

fn events(log: &Log) -> Vec<Event> {
    log.lock().unwrap().clone()
}

/// A compact, comparable rendering of the event log.
fn trace(log: &Log) -> Vec<String> {
    events(log)
        .iter()
        .map(|e| match e {
            Event::Resume { bookmark } => match bookmark {
                Some(b) => format!("resume:{b}"),
                None => "resume:none".to_owned(),
            },
            Event::Open { sink, .. } => format!("open:{sink}"),
            Event::Write { sink, token, .. } => format!("write:{sink}:{}.{}", token.seq, token.part),
            Event::Flush { sink, .. } => format!("flush:{sink}"),
            Event::Put { value } => format!("put:{}:{}", value["seq"], value["source"]),
            Event::Ack { page } => format!("ack:{page}"),
            Event::Recycle { rows } => format!("recycle:{}", rows.len()),
            Event::Fetch { page } => format!("fetch:{page}"),
        })
        .collect()
}

/// Every `write_batch` call on `sink`, in order.
fn writes(log: &Log, sink: &str) -> Vec<(CommitToken, Vec<Value>)> {
    events(log)
        .into_iter()
        .filter_map(|e| match e {
            Event::Write { sink: s, token, rows } if s == sink => Some((token, rows)),
            _ => None,
        })
        .collect()
}

/// Every persisted bookmark, in order.
fn puts(log: &Log) -> Vec<Value> {
    events(log)
        .into_iter()
        .filter_map(|e| match e {
            Event::Put { value } => Some(value),
            _ => None,
        })
        .collect()
}

/// Every `open` call: (sink, scope, checkpoint).
fn opens(log: &Log) -> Vec<(&'static str, String, Option<Value>)> {
    events(log)
        .into_iter()
        .filter_map(|e| match e {
            Event::Open { sink, scope, checkpoint } => Some((sink, scope, checkpoint)),
            _ => None,
        })
        .collect()
}

/// Every envelope the DLQ received, in order.
fn envelopes(log: &Log) -> Vec<Value> {
    writes(log, DLQ).into_iter().flat_map(|(_, rows)| rows).collect()
}

/// Index in the log of the first event matching `pred`.
fn position(log: &Log, pred: impl Fn(&Event) -> bool) -> Option<usize> {
    events(log).iter().position(pred)
}

fn is_put_of_page(e: &Event, page: u64) -> bool {
    matches!(e, Event::Put { value } if value["source"] == json!({"page": page}))
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().expect("row without id")).collect()
}

fn token(seq: u64, part: u32) -> CommitToken {
    CommitToken { seq, part }
}

/// Record `i` (1-based) of page `page`: `{"id": page*100 + i, "page": page}`.
fn rec(page: u64, i: u64) -> Value {
    json!({"id": page * 100 + i, "page": page})
}

/// The `n` records of page `page`.
fn page_records(page: u64, n: u64) -> Vec<Value> {
    (1..=n).map(|i| rec(page, i)).collect()
}

/// `count` pages of `per_page` records each.
fn pages(count: u64, per_page: u64) -> Vec<Vec<Value>> {
    (1..=count).map(|p| page_records(p, per_page)).collect()
}

// ---------------------------------------------------------------------------
// VecSource
// ---------------------------------------------------------------------------

/// One page a [`VecSource`] yields.
#[derive(Default)]
struct PageSpec {
    records: Vec<Value>,
    rejects: Vec<(Value, FaucetError)>,
    skipped: u64,
}

/// Yields fixed pages with bookmarks `{"page": n}` (1-based) and resumes after
/// the page a bookmark names.
struct VecSource {
    pages: Vec<PageSpec>,
    next: usize,
    log: Log,
    /// Cancels this token right after yielding this (1-based) page.
    cancel_after: Option<(u64, CancellationToken)>,
    /// Logs every page it hands out.
    log_fetches: bool,
}

impl VecSource {
    fn new(log: &Log, pages: Vec<Vec<Value>>) -> Self {
        Self::from_specs(
            log,
            pages.into_iter().map(|records| PageSpec { records, ..PageSpec::default() }).collect(),
        )
    }

    fn from_specs(log: &Log, pages: Vec<PageSpec>) -> Self {
        VecSource { pages, next: 0, log: Arc::clone(log), cancel_after: None, log_fetches: false }
    }

    fn cancel_after(mut self, page: u64, token: CancellationToken) -> Self {
        self.cancel_after = Some((page, token));
        self
    }
}

impl Source for VecSource {
    type Record = serde_json::Value;

    fn connector_name(&self) -> &'static str {
        "vec"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> faucet_runtime::Result<()> {
        self.next = match &bookmark {
            Some(b) => b["page"]
                .as_u64()
                .map(|p| p as usize)
                .ok_or_else(|| FaucetError::source(format!("vec source cannot resume from bookmark {b}")))?,
            None => 0,
        };
        push(&self.log, Event::Resume { bookmark });
        Ok(())
    }

    async fn next_page(&mut self) -> faucet_runtime::Result<Option<Page>> {
        let Some(spec) = self.pages.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let number = self.next as u64;
        let page = Page {
            records: spec.records.clone(),
            rejects: spec
                .rejects
                .iter()
                .map(|(payload, error)| Rejected { payload: payload.clone(), error: error.clone() })
                .collect(),
            skipped: spec.skipped,
            bookmark: Some(json!({"page": number})),
        };
        if let Some((after, cancel)) = &self.cancel_after
            && *after == number
        {
            cancel.cancel();
        }
        if self.log_fetches {
            push(&self.log, Event::Fetch { page: number });
        }
        Ok(Some(page))
    }
}

/// A [`VecSource`] that, like Kafka's, acknowledges the pages it yielded to
/// its upstream system when it is asked for the next page, and logs the
/// records the driver hands back.
struct UpstreamSource {
    inner: VecSource,
}

impl Source for UpstreamSource {
    type Record = serde_json::Value;

    const CONFIRMS_UPSTREAM: bool = true;

    fn connector_name(&self) -> &'static str {
        "upstream"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> faucet_runtime::Result<()> {
        self.inner.resume(bookmark).await
    }

    async fn next_page(&mut self) -> faucet_runtime::Result<Option<Page>> {
        if self.inner.next > 0 {
            push(&self.inner.log, Event::Ack { page: self.inner.next as u64 });
        }
        self.inner.next_page().await
    }

    fn recycle(&mut self, spent: Vec<Record>) {
        push(&self.inner.log, Event::Recycle { rows: spent });
    }
}

// ---------------------------------------------------------------------------
// RecordingSink
// ---------------------------------------------------------------------------

/// What a transactional sink keeps across runs (think: a database).
#[derive(Debug, Default)]
struct TxnMemory {
    /// The highest committed token, per scope.
    committed: BTreeMap<String, CommitToken>,
    /// The rows each committed batch rejected, per (scope, token).
    failures: BTreeMap<(String, CommitToken), Vec<RowFailure>>,
    /// Every row durably written, over all runs, in commit order.
    rows: Vec<Value>,
}

type Txn = Arc<Mutex<TxnMemory>>;

/// A batch written but not yet flushed.
struct Pending {
    token: CommitToken,
    failures: Vec<RowFailure>,
    rows: Vec<Value>,
}

/// Records every call; can reject chosen rows or whole batches; returns
/// `{"rows": total}` from flush; optionally transactional (commits at flush
/// and reports tokens it already committed).
struct RecordingSink {
    name: &'static str,
    log: Log,
    batch_size: usize,
    fail_ids: BTreeSet<i64>,
    fail_batches: BTreeSet<CommitToken>,
    txn: Option<Txn>,
    scope: String,
    total: u64,
    pending: Vec<Pending>,
    /// Yields to the executor once before each write, as a sink waiting on I/O does.
    yielding: bool,
}

impl RecordingSink {
    fn new(log: &Log) -> Self {
        RecordingSink {
            name: MAIN,
            log: Arc::clone(log),
            batch_size: 100,
            fail_ids: BTreeSet::new(),
            fail_batches: BTreeSet::new(),
            txn: None,
            scope: String::new(),
            total: 0,
            pending: Vec::new(),
            yielding: false,
        }
    }

    /// A sink to use as the DLQ.
    fn dlq(log: &Log) -> Self {
        RecordingSink { name: DLQ, ..Self::new(log) }
    }

    fn batch(mut self, size: usize) -> Self {
        self.batch_size = size;
        self
    }

    fn yielding(mut self) -> Self {
        self.yielding = true;
        self
    }

    fn failing_ids(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        self.fail_ids.extend(ids);
        self
    }

    fn failing_batch(mut self, seq: u64, part: u32) -> Self {
        self.fail_batches.insert(token(seq, part));
        self
    }

    fn transactional(mut self, txn: &Txn) -> Self {
        self.txn = Some(Arc::clone(txn));
        self
    }
}

impl Sink for RecordingSink {
    fn connector_name(&self) -> &'static str {
        self.name
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    async fn open(&mut self, ctx: OpenContext<'_>) -> faucet_runtime::Result<()> {
        self.scope = ctx.scope.to_owned();
        self.total = ctx.checkpoint.and_then(|c| c["rows"].as_u64()).unwrap_or(0);
        push(
            &self.log,
            Event::Open { sink: self.name, scope: ctx.scope.to_owned(), checkpoint: ctx.checkpoint.cloned() },
        );
        Ok(())
    }

    async fn flush(&mut self) -> faucet_runtime::Result<Option<Value>> {
        let pending = std::mem::take(&mut self.pending);
        if let Some(txn) = &self.txn {
            let mut txn = txn.lock().unwrap();
            for p in pending {
                let high = txn.committed.entry(self.scope.clone()).or_insert(p.token);
                if p.token > *high {
                    *high = p.token;
                }
                txn.failures.insert((self.scope.clone(), p.token), p.failures);
                txn.rows.extend(p.rows);
            }
        }
        let checkpoint = json!({"rows": self.total});
        push(&self.log, Event::Flush { sink: self.name, checkpoint: checkpoint.clone() });
        Ok(Some(checkpoint))
    }
}

impl<R: RecordType> Writes<R> for RecordingSink {
    async fn write_batch(&mut self, batch: &[R], token: CommitToken) -> faucet_runtime::Result<WriteOutcome> {
        let batch = &*faucet_runtime::record::json_batch(batch);
        if self.yielding {
            tokio::task::yield_now().await;
        }
        push(&self.log, Event::Write { sink: self.name, token, rows: batch.to_vec() });
        if self.fail_batches.contains(&token) {
            return Err(FaucetError::sink(format!(
                "{} refused batch {}.{} (connection reset)",
                self.name, token.seq, token.part
            )));
        }
        if let Some(txn) = &self.txn {
            let txn = txn.lock().unwrap();
            if txn.committed.get(&self.scope).is_some_and(|high| token <= *high) {
                let failures = txn.failures.get(&(self.scope.clone(), token)).cloned().unwrap_or_default();
                return Ok(WriteOutcome { written: 0, failures, already_committed: true });
            }
        }
        let mut failures = Vec::new();
        let mut accepted = Vec::new();
        for (index, row) in batch.iter().enumerate() {
            match row.get("id").and_then(Value::as_i64) {
                Some(id) if self.fail_ids.contains(&id) => failures.push(RowFailure {
                    index,
                    error: FaucetError::sink(format!("row {id} violates a constraint")),
                }),
                _ => accepted.push(row.clone()),
            }
        }
        let written = accepted.len() as u64;
        self.total += written;
        self.pending.push(Pending { token, failures: failures.clone(), rows: accepted });
        Ok(WriteOutcome { written, failures, already_committed: false })
    }
}

// ---------------------------------------------------------------------------
// State stores
// ---------------------------------------------------------------------------

/// Logs every successful `put` into the shared log.
struct RecordingStore<S> {
    inner: S,
    log: Log,
}

impl<S: StateStore> RecordingStore<S> {
    fn new(inner: S, log: &Log) -> Self {
        RecordingStore { inner, log: Arc::clone(log) }
    }
}

impl<S: StateStore> StateStore for RecordingStore<S> {
    fn store_name(&self) -> &'static str {
        "recording"
    }

    async fn get(&self, key: &str) -> faucet_runtime::Result<Option<Value>> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, value: &Value) -> faucet_runtime::Result<()> {
        self.inner.put(key, value).await?;
        push(&self.log, Event::Put { value: value.clone() });
        Ok(())
    }

    async fn delete(&self, key: &str) -> faucet_runtime::Result<()> {
        self.inner.delete(key).await
    }

    async fn put_if_absent(&self, key: &str, value: &Value) -> faucet_runtime::Result<Value> {
        self.inner.put_if_absent(key, value).await
    }
}

/// Fails every `put` whose value matches `fail_when` (a crash before the
/// bookmark is durable), passing everything else through.
struct FailingStore<S> {
    inner: S,
    fail_when: fn(&Value) -> bool,
}

impl<S: StateStore> StateStore for FailingStore<S> {
    fn store_name(&self) -> &'static str {
        "failing"
    }

    async fn get(&self, key: &str) -> faucet_runtime::Result<Option<Value>> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, value: &Value) -> faucet_runtime::Result<()> {
        if (self.fail_when)(value) {
            return Err(FaucetError::state("disk full (simulated)"));
        }
        self.inner.put(key, value).await
    }

    async fn delete(&self, key: &str) -> faucet_runtime::Result<()> {
        self.inner.delete(key).await
    }

    async fn put_if_absent(&self, key: &str, value: &Value) -> faucet_runtime::Result<Value> {
        self.inner.put_if_absent(key, value).await
    }
}

fn shared_store() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new())
}

/// Asserts the exact key set of a DLQ envelope and its fixed fields.
fn assert_envelope(env: &Value, pipeline: &str, reason: &str, kind: &str, payload: &Value, index: u64) {
    let keys: BTreeSet<&str> =
        env.as_object().expect("envelope is an object").keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> =
        ["error", "reason", "payload", "ts_ms", "sink", "pipeline", "row", "record_index"].into();
    assert_eq!(keys, expected, "{env}");
    let error_keys: BTreeSet<&str> =
        env["error"].as_object().expect("error object").keys().map(String::as_str).collect();
    assert_eq!(error_keys, ["kind", "message"].into(), "{env}");
    assert_eq!(env["error"]["kind"], kind, "{env}");
    assert!(env["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{env}");
    assert_eq!(env["reason"], reason, "{env}");
    assert_eq!(&env["payload"], payload, "{env}");
    assert_eq!(env["sink"], MAIN, "{env}");
    assert_eq!(env["pipeline"], pipeline, "{env}");
    assert_eq!(env["row"], "row-0", "{env}");
    assert_eq!(env["record_index"], index, "{env}");
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let ts = env["ts_ms"].as_i64().expect("ts_ms is an integer");
    assert!((now_ms - 60_000..=now_ms).contains(&ts), "ts_ms {ts} is not recent (now {now_ms})");
}

// ---------------------------------------------------------------------------
// 1. Order per page
// ---------------------------------------------------------------------------

#[tokio::test]
async fn per_page_order_is_write_flush_put() {
    let log = new_log();
    let report = Pipeline::new(VecSource::new(&log, pages(3, 2)), RecordingSink::new(&log))
        .with_state(RecordingStore::new(MemoryStore::new(), &log))
        .with_name("t1")
        .run()
        .await
        .unwrap();

    assert_eq!(
        trace(&log),
        [
            "resume:none",
            "open:recording",
            "put:0:null",
            "write:recording:1.0",
            "flush:recording",
            "put:1:{\"page\":1}",
            "write:recording:2.0",
            "flush:recording",
            "put:2:{\"page\":2}",
            "write:recording:3.0",
            "flush:recording",
            "put:3:{\"page\":3}",
        ]
    );

    // Each page's Put carries that page's bookmark, the checkpoint of the
    // flush just before it, and a seq one above the previous Put.
    let all = events(&log);
    for page in 1..=3u64 {
        let put_at = all.iter().position(|e| is_put_of_page(e, page)).unwrap();
        let flush_at = all[..put_at].iter().rposition(|e| matches!(e, Event::Flush { .. })).unwrap();
        let write_at = all[..flush_at]
            .iter()
            .rposition(|e| matches!(e, Event::Write { token, .. } if token.seq == page))
            .unwrap();
        assert!(write_at < flush_at && flush_at < put_at);
        // The bookmark of this page never appears before its flush.
        assert!(!all[..flush_at].iter().any(|e| is_put_of_page(e, page)));
        let Event::Flush { checkpoint, .. } = &all[flush_at] else { unreachable!() };
        let Event::Put { value } = &all[put_at] else { unreachable!() };
        assert_eq!(value["source"], json!({"page": page}));
        assert_eq!(&value["sink"], checkpoint);
        assert_eq!(value["dlq"], Value::Null);
        assert_eq!(value["seq"].as_u64(), Some(page));
        let Event::Write { rows, .. } = &all[write_at] else { unreachable!() };
        assert_eq!(rows, &page_records(page, 2));
    }

    // seq goes up by exactly one per page, from the lineage bookmark's 0.
    let seqs: Vec<u64> = puts(&log).iter().map(|p| p["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [0, 1, 2, 3]);

    // One lineage throughout.
    let lineages: BTreeSet<String> =
        puts(&log).iter().map(|p| p["lineage"].as_str().unwrap().to_owned()).collect();
    assert_eq!(lineages.len(), 1);

    assert_eq!(report.pipeline, "t1");
    assert_eq!(report.row, "row-0");
    assert_eq!(report.pages, 3);
    assert_eq!(report.records_read, 6);
    assert_eq!(report.records_written, 6);
    assert_eq!(report.records_dead_lettered, 0);
    assert_eq!(report.pages_already_committed, 0);
    assert!(!report.cancelled);
    assert_eq!(report.last_bookmark.as_ref(), puts(&log).last());
}

// ---------------------------------------------------------------------------
// 2. Batch splitting
// ---------------------------------------------------------------------------

/// `batch_size: 0` is faucet-stream's "no batching": every page is one write.
#[tokio::test]
async fn a_batch_size_of_zero_writes_each_page_whole() {
    let log = new_log();
    let source = VecSource::new(&log, vec![page_records(1, 5), page_records(2, 3)]);
    let report = Pipeline::new(source, RecordingSink::new(&log).batch(0)).run().await.unwrap();
    let got: Vec<(CommitToken, Vec<i64>)> =
        writes(&log, MAIN).into_iter().map(|(t, rows)| (t, ids(&rows))).collect();
    assert_eq!(got, [(token(1, 0), vec![101, 102, 103, 104, 105]), (token(2, 0), vec![201, 202, 203])]);
    assert_eq!(report.records_written, 8);
}

#[tokio::test]
async fn pages_larger_than_batch_size_are_split_with_part_tokens() {
    let log = new_log();
    let source = VecSource::new(&log, vec![page_records(1, 5), page_records(2, 3), page_records(3, 2)]);
    let report = Pipeline::new(source, RecordingSink::new(&log).batch(2)).run().await.unwrap();

    let got: Vec<(CommitToken, Vec<i64>)> =
        writes(&log, MAIN).into_iter().map(|(t, rows)| (t, ids(&rows))).collect();
    assert_eq!(
        got,
        [
            (token(1, 0), vec![101, 102]),
            (token(1, 1), vec![103, 104]),
            (token(1, 2), vec![105]),
            (token(2, 0), vec![201, 202]),
            (token(2, 1), vec![203]),
            (token(3, 0), vec![301, 302]),
        ]
    );
    // No state store: nothing is persisted, so the run flushes once, at its end.
    assert_eq!(
        trace(&log)
            .into_iter()
            .filter(|t| t.starts_with("write") || t.starts_with("flush"))
            .collect::<Vec<_>>(),
        [
            "write:recording:1.0",
            "write:recording:1.1",
            "write:recording:1.2",
            "write:recording:2.0",
            "write:recording:2.1",
            "write:recording:3.0",
            "flush:recording",
        ]
    );
    assert_eq!(report.records_written, 10);
    assert_eq!(report.pages, 3);

    // With a state store, every page is flushed (after all of its chunks) before its bookmark.
    let log = new_log();
    let source = VecSource::new(&log, vec![page_records(1, 5), page_records(2, 3)]);
    Pipeline::new(source, RecordingSink::new(&log).batch(2))
        .with_state(MemoryStore::new())
        .run()
        .await
        .unwrap();
    assert_eq!(
        trace(&log)
            .into_iter()
            .filter(|t| t.starts_with("write") || t.starts_with("flush"))
            .collect::<Vec<_>>(),
        [
            "write:recording:1.0",
            "write:recording:1.1",
            "write:recording:1.2",
            "flush:recording",
            "write:recording:2.0",
            "write:recording:2.1",
            "flush:recording",
        ]
    );
}

#[tokio::test]
async fn a_source_that_confirms_upstream_has_every_page_flushed_even_without_a_state_store() {
    let log = new_log();
    let source = UpstreamSource { inner: VecSource::new(&log, vec![page_records(1, 3), page_records(2, 2)]) };
    Pipeline::new(source, RecordingSink::new(&log).batch(2)).run().await.unwrap();
    // Nothing is acknowledged upstream before the sink flushed it, and the
    // page's records come back to the source only after that flush.
    assert_eq!(
        trace(&log)
            .into_iter()
            .filter(|t| !t.starts_with("resume") && !t.starts_with("open"))
            .collect::<Vec<_>>(),
        [
            "write:recording:1.0",
            "write:recording:1.1",
            "flush:recording",
            "recycle:3",
            "ack:1",
            "write:recording:2.0",
            "flush:recording",
            "recycle:2",
            "ack:2",
        ]
    );
    let recycled: Vec<Value> = events(&log)
        .into_iter()
        .filter_map(|e| match e {
            Event::Recycle { rows } => Some(rows),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(recycled, [page_records(1, 3), page_records(2, 2)].concat());
}

#[tokio::test]
async fn the_next_page_is_read_while_this_one_is_written_but_never_two_ahead() {
    let log = new_log();
    let mut source = VecSource::new(&log, pages(3, 2));
    source.log_fetches = true;
    Pipeline::new(source, RecordingSink::new(&log).yielding())
        .with_state(MemoryStore::new())
        .run()
        .await
        .unwrap();
    let steps: Vec<String> = trace(&log)
        .into_iter()
        .filter(|t| t.starts_with("fetch") || t.starts_with("write") || t.starts_with("flush"))
        .collect();
    assert_eq!(
        steps,
        [
            "fetch:1",
            "fetch:2",
            "write:recording:1.0",
            "flush:recording",
            "fetch:3",
            "write:recording:2.0",
            "flush:recording",
            "write:recording:3.0",
            "flush:recording",
        ]
    );

    // A source that acknowledges upstream is asked only once the page is confirmed.
    let log = new_log();
    let mut inner = VecSource::new(&log, pages(2, 2));
    inner.log_fetches = true;
    Pipeline::new(UpstreamSource { inner }, RecordingSink::new(&log).yielding()).run().await.unwrap();
    let steps: Vec<String> = trace(&log)
        .into_iter()
        .filter(|t| t.starts_with("fetch") || t.starts_with("write") || t.starts_with("flush"))
        .collect();
    assert_eq!(
        steps,
        [
            "fetch:1",
            "write:recording:1.0",
            "flush:recording",
            "fetch:2",
            "write:recording:2.0",
            "flush:recording"
        ]
    );
}

// ---------------------------------------------------------------------------
// 3. Row rejected by the sink, with a DLQ
// ---------------------------------------------------------------------------

#[tokio::test]
async fn rejected_row_goes_to_dlq_in_envelope_before_bookmark() {
    let log = new_log();
    // Batches of 2: row 103 is index 0 of part 1, index 2 of the page.
    let sink = RecordingSink::new(&log).batch(2).failing_ids([103]);
    let report = Pipeline::new(VecSource::new(&log, vec![page_records(1, 4), page_records(2, 1)]), sink)
        .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
        .with_state(RecordingStore::new(MemoryStore::new(), &log))
        .with_name("t3")
        .run()
        .await
        .unwrap();

    let dlq_writes = writes(&log, DLQ);
    assert_eq!(dlq_writes.len(), 1, "{dlq_writes:?}");
    assert_eq!(dlq_writes[0].0, token(1, 0));
    assert_eq!(dlq_writes[0].1.len(), 1);
    let env = &dlq_writes[0].1[0];
    assert_envelope(env, "t3", "partial", "Sink", &rec(1, 3), 2);
    assert!(env["error"]["message"].as_str().unwrap().contains("row 103 violates a constraint"), "{env}");

    // Page 1: main writes → DLQ write → main flush → DLQ flush → Put.
    assert_eq!(
        &trace(&log)[..10],
        [
            "resume:none",
            "open:recording",
            "open:dead_letters",
            "put:0:null",
            "write:recording:1.0",
            "write:recording:1.1",
            "write:dead_letters:1.0",
            "flush:recording",
            "flush:dead_letters",
            "put:1:{\"page\":1}",
        ]
    );
    // The DLQ is opened under the run's scope plus `::dlq`.
    let opened = opens(&log);
    assert_eq!(opened[1].1, format!("{}::dlq", opened[0].1));

    // The Put records the DLQ's flush checkpoint.
    let page1 = &puts(&log)[1];
    assert_eq!(page1["dlq"], json!({"rows": 1}));
    assert_eq!(page1["sink"], json!({"rows": 3}));

    assert_eq!(report.records_read, 5);
    assert_eq!(report.records_written, 4);
    assert_eq!(report.records_dead_lettered, 1);
}

// ---------------------------------------------------------------------------
// 4. Row rejected by the sink, without a DLQ
// ---------------------------------------------------------------------------

#[tokio::test]
async fn rejected_row_without_dlq_fails_the_run_and_keeps_previous_bookmark() {
    let log = new_log();
    let store = shared_store();
    let err = Pipeline::new(VecSource::new(&log, pages(3, 3)), RecordingSink::new(&log).failing_ids([202]))
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("t4")
        .run()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Sink);
    assert!(err.message().contains("record 1 of page 2"), "{err}");
    assert!(err.message().contains("row 202 violates a constraint"), "{err}");

    assert!(position(&log, |e| is_put_of_page(e, 2)).is_none(), "{:?}", trace(&log));
    let stored = store.get("t4::row-0").await.unwrap().unwrap();
    assert_eq!(stored["source"], json!({"page": 1}));
    assert_eq!(stored["seq"], 1);
    // Page 3 was never written.
    assert!(writes(&log, MAIN).iter().all(|(t, _)| t.seq <= 2));
}

// ---------------------------------------------------------------------------
// 5. Whole-batch failures
// ---------------------------------------------------------------------------

#[tokio::test]
async fn batch_failure_propagates_by_default() {
    let log = new_log();
    let store = shared_store();
    let sink = RecordingSink::new(&log).batch(2).failing_batch(2, 1);
    let dlq = Dlq::new(RecordingSink::dlq(&log));
    assert_eq!(dlq.on_batch_error, OnBatchError::Propagate);
    let err = Pipeline::new(VecSource::new(&log, pages(3, 3)), sink)
        .with_dlq(dlq)
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("t5a")
        .run()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Sink);
    assert!(err.message().contains("page 2 rows 2..3"), "{err}");
    assert!(err.message().contains("refused batch 2.1"), "{err}");
    assert!(position(&log, |e| is_put_of_page(e, 2)).is_none(), "{:?}", trace(&log));
    assert!(writes(&log, DLQ).is_empty());
    assert!(writes(&log, MAIN).iter().all(|(t, _)| t.seq <= 2));
    let stored = store.get("t5a::row-0").await.unwrap().unwrap();
    assert_eq!(stored["source"], json!({"page": 1}));
}

#[tokio::test]
async fn batch_failure_with_dlq_all_dead_letters_every_row_and_goes_on() {
    let log = new_log();
    let store = shared_store();
    let sink = RecordingSink::new(&log).batch(2).failing_batch(2, 0);
    let mut dlq = Dlq::new(RecordingSink::dlq(&log));
    dlq.on_batch_error = OnBatchError::DlqAll;
    let report = Pipeline::new(VecSource::new(&log, pages(3, 3)), sink)
        .with_dlq(dlq)
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("t5b")
        .run()
        .await
        .unwrap();

    let envs = envelopes(&log);
    assert_eq!(envs.len(), 2, "{envs:?}");
    // Reason `dlq_all`, as faucet-stream 1.17 writes for a batch it dead-letters whole.
    assert_envelope(&envs[0], "t5b", "dlq_all", "Sink", &rec(2, 1), 0);
    assert_envelope(&envs[1], "t5b", "dlq_all", "Sink", &rec(2, 2), 1);
    assert!(envs[0]["error"]["message"].as_str().unwrap().contains("refused batch 2.0"));
    assert_eq!(writes(&log, DLQ)[0].0, token(2, 0));

    // The run went on: page 2's last row, then page 3.
    let written: Vec<CommitToken> = writes(&log, MAIN).into_iter().map(|(t, _)| t).collect();
    assert_eq!(written, [token(1, 0), token(1, 1), token(2, 0), token(2, 1), token(3, 0), token(3, 1)]);
    let dlq_write_at = position(&log, |e| matches!(e, Event::Write { sink: DLQ, .. })).unwrap();
    let put2_at = position(&log, |e| is_put_of_page(e, 2)).unwrap();
    assert!(dlq_write_at < put2_at);

    assert_eq!(report.records_written, 7);
    assert_eq!(report.records_dead_lettered, 2);
    assert_eq!(report.pages, 3);
    let stored = store.get("t5b::row-0").await.unwrap().unwrap();
    assert_eq!(stored["source"], json!({"page": 3}));
    assert_eq!(stored["seq"], 3);
}

// ---------------------------------------------------------------------------
// 6. Transform errors and filtering
// ---------------------------------------------------------------------------

/// Rejects id 102, drops id 104, tags every other record.
fn tagging_transform(record: Record) -> faucet_runtime::Result<Option<Record>> {
    match record["id"].as_i64() {
        Some(102) => Err(FaucetError::transform("id 102 cannot be reshaped")),
        Some(104) => Ok(None),
        _ => {
            let mut record = record;
            record["tagged"] = json!(true);
            Ok(Some(record))
        }
    }
}

#[tokio::test]
async fn transform_error_goes_to_dlq_and_filter_is_counted() {
    let log = new_log();
    let store = shared_store();
    let report = Pipeline::new(VecSource::new(&log, vec![page_records(1, 5)]), RecordingSink::new(&log))
        .with_transform(transform_fn(tagging_transform))
        .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("t6")
        .run()
        .await
        .unwrap();

    let envs = envelopes(&log);
    assert_eq!(envs.len(), 1, "{envs:?}");
    // The payload is the record as the source gave it.
    assert_envelope(&envs[0], "t6", "transform", "Transform", &rec(1, 2), 1);
    assert!(envs[0]["error"]["message"].as_str().unwrap().contains("id 102 cannot be reshaped"));

    let main = writes(&log, MAIN);
    assert_eq!(main.len(), 1);
    assert_eq!(ids(&main[0].1), [101, 103, 105]);
    assert!(main[0].1.iter().all(|r| r["tagged"] == true));

    assert_eq!(report.records_read, 5);
    assert_eq!(report.records_written, 3);
    assert_eq!(report.records_filtered, 1);
    assert_eq!(report.records_dead_lettered, 1);
    assert_eq!(store.get("t6::row-0").await.unwrap().unwrap()["source"], json!({"page": 1}));
}

#[tokio::test]
async fn transform_error_without_dlq_fails_naming_the_record() {
    let log = new_log();
    let store = shared_store();
    let err = Pipeline::new(VecSource::new(&log, vec![page_records(1, 5)]), RecordingSink::new(&log))
        .with_transform(transform_fn(tagging_transform))
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("t6b")
        .run()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Transform);
    assert!(err.message().contains("record 1 of page 1"), "{err}");
    assert!(err.message().contains("id 102 cannot be reshaped"), "{err}");
    assert!(writes(&log, MAIN).is_empty());
    // Only the lineage bookmark was ever stored.
    assert_eq!(puts(&log).len(), 1);
    assert_eq!(store.get("t6b::row-0").await.unwrap().unwrap()["source"], Value::Null);
}

// ---------------------------------------------------------------------------
// 7. Source rejects and skips
// ---------------------------------------------------------------------------

#[tokio::test]
async fn source_rejects_go_to_dlq_and_skips_are_counted() {
    let log = new_log();
    let bad_line = json!({"file": "in.jsonl", "line": 7, "raw": "{\"id\": 1"});
    let specs = vec![
        PageSpec {
            records: page_records(1, 2),
            rejects: vec![(bad_line.clone(), FaucetError::parse("in.jsonl:7: EOF while parsing an object"))],
            skipped: 2,
        },
        PageSpec { records: page_records(2, 1), rejects: vec![], skipped: 1 },
    ];
    let report = Pipeline::new(VecSource::from_specs(&log, specs), RecordingSink::new(&log))
        .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
        .with_name("t7")
        .run()
        .await
        .unwrap();

    let envs = envelopes(&log);
    assert_eq!(envs.len(), 1, "{envs:?}");
    assert_envelope(&envs[0], "t7", "parse", "Parse", &bad_line, 0);
    assert!(envs[0]["error"]["message"].as_str().unwrap().contains("in.jsonl:7"));
    assert_eq!(writes(&log, DLQ)[0].0, token(1, 0));

    assert_eq!(report.records_skipped, 3);
    assert_eq!(report.records_read, 2 + 1 + 2 + 1 + 1);
    assert_eq!(report.records_written, 3);
    assert_eq!(report.records_dead_lettered, 1);
}

// ---------------------------------------------------------------------------
// 8. Failure budgets
// ---------------------------------------------------------------------------

#[tokio::test]
async fn per_page_budget_aborts_after_the_page_is_committed() {
    let log = new_log();
    let store = shared_store();
    let mut dlq = Dlq::new(RecordingSink::dlq(&log));
    dlq.max_failures_per_page = Some(1);
    let err =
        Pipeline::new(VecSource::new(&log, pages(2, 3)), RecordingSink::new(&log).failing_ids([101, 103]))
            .with_dlq(dlq)
            .with_state(RecordingStore::new(Arc::clone(&store), &log))
            .with_name("t8")
            .run()
            .await
            .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Budget);
    assert!(err.message().contains("max_failures_per_page = 1"), "{err}");
    // Page 1's envelopes went to the DLQ, were flushed, and its bookmark was Put.
    assert_eq!(ids(&envelopes(&log).iter().map(|e| e["payload"].clone()).collect::<Vec<_>>()), [101, 103]);
    let flush_dlq_at = position(&log, |e| matches!(e, Event::Flush { sink: DLQ, .. })).unwrap();
    let put1_at = position(&log, |e| is_put_of_page(e, 1)).unwrap();
    assert!(flush_dlq_at < put1_at);
    let stored = store.get("t8::row-0").await.unwrap().unwrap();
    assert_eq!(stored["source"], json!({"page": 1}));
    assert_eq!(stored["dlq"], json!({"rows": 2}));
    // Page 2 was never read into the sink.
    assert!(writes(&log, MAIN).iter().all(|(t, _)| t.seq == 1));
}

#[tokio::test]
async fn budget_is_strictly_more_than_the_limit() {
    let log = new_log();
    let mut dlq = Dlq::new(RecordingSink::dlq(&log));
    dlq.max_failures_per_page = Some(2);
    let report =
        Pipeline::new(VecSource::new(&log, pages(2, 3)), RecordingSink::new(&log).failing_ids([101, 103]))
            .with_dlq(dlq)
            .run()
            .await
            .unwrap();
    assert_eq!(report.records_dead_lettered, 2);
    assert_eq!(report.pages, 2);
}

#[tokio::test]
async fn total_budget_aborts_after_the_page_that_exceeds_it() {
    let log = new_log();
    let store = shared_store();
    let mut dlq = Dlq::new(RecordingSink::dlq(&log));
    dlq.max_failures_total = Some(1);
    let err = Pipeline::new(
        VecSource::new(&log, pages(3, 2)),
        RecordingSink::new(&log).failing_ids([101, 201, 301]),
    )
    .with_dlq(dlq)
    .with_state(RecordingStore::new(Arc::clone(&store), &log))
    .with_name("t8b")
    .run()
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Budget);
    assert!(err.message().contains("max_failures_total = 1"), "{err}");
    assert_eq!(envelopes(&log).len(), 2);
    assert_eq!(store.get("t8b::row-0").await.unwrap().unwrap()["source"], json!({"page": 2}));
    assert!(writes(&log, MAIN).iter().all(|(t, _)| t.seq <= 2));
}

// ---------------------------------------------------------------------------
// 9. Resume from a file store
// ---------------------------------------------------------------------------

#[tokio::test]
async fn resume_after_failure_continues_from_the_stored_bookmark() {
    let dir = tempfile::tempdir().unwrap();

    // Run 1: pages 1 and 2 confirmed, page 3's batch fails.
    let log1 = new_log();
    let err =
        Pipeline::new(VecSource::new(&log1, pages(4, 2)), RecordingSink::new(&log1).failing_batch(3, 0))
            .with_state(RecordingStore::new(FileStore::new(dir.path()), &log1))
            .with_name("t9")
            .run()
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Sink);
    assert!(position(&log1, |e| is_put_of_page(e, 3)).is_none());
    let run1 = events(&log1);
    let put2_at = run1.iter().position(|e| is_put_of_page(e, 2)).unwrap();
    let Some(Event::Flush { checkpoint: page2_checkpoint, .. }) =
        run1[..put2_at].iter().rev().find(|e| matches!(e, Event::Flush { sink: MAIN, .. }))
    else {
        panic!("no flush before page 2's bookmark: {run1:?}");
    };
    assert_eq!(page2_checkpoint, &json!({"rows": 4}));
    let Event::Put { value: bookmark2 } = &run1[put2_at] else { unreachable!() };
    assert!(dir.path().join("t9%3A%3Arow-0.json").is_file());

    // Run 2: fresh doubles, same directory.
    let log2 = new_log();
    let report = Pipeline::new(VecSource::new(&log2, pages(4, 2)), RecordingSink::new(&log2))
        .with_state(RecordingStore::new(FileStore::new(dir.path()), &log2))
        .with_name("t9")
        .run()
        .await
        .unwrap();

    let run2 = events(&log2);
    assert!(run2.contains(&Event::Resume { bookmark: Some(json!({"page": 2})) }), "{run2:?}");
    let opened = opens(&log2);
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].2.as_ref(), Some(page2_checkpoint));
    // Same lineage, so the same scope.
    assert_eq!(opened[0].1, format!("t9::row-0::{}", bookmark2["lineage"].as_str().unwrap()));

    let written: Vec<(CommitToken, Vec<i64>)> =
        writes(&log2, MAIN).into_iter().map(|(t, rows)| (t, ids(&rows))).collect();
    assert_eq!(written, [(token(3, 0), vec![301, 302]), (token(4, 0), vec![401, 402])]);

    // No new lineage; seq continues 3, 4; the sink checkpoint keeps counting.
    let stored = puts(&log2);
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0]["seq"], 3);
    assert_eq!(stored[0]["source"], json!({"page": 3}));
    assert_eq!(stored[0]["sink"], json!({"rows": 6}));
    assert_eq!(stored[1]["seq"], 4);
    assert_eq!(stored[1]["lineage"], bookmark2["lineage"]);
    assert_eq!(FileStore::new(dir.path()).get("t9::row-0").await.unwrap().as_ref(), Some(&stored[1]));

    assert_eq!(report.pages, 2);
    assert_eq!(report.records_written, 4);
    assert_eq!(report.last_bookmark.as_ref(), Some(&stored[1]));
}

// ---------------------------------------------------------------------------
// 10. Lineage
// ---------------------------------------------------------------------------

#[tokio::test]
async fn lineage_is_persisted_before_any_write_and_scopes_the_sink() {
    let store = shared_store();

    // First run with a store.
    let log1 = new_log();
    Pipeline::new(VecSource::new(&log1, pages(2, 1)), RecordingSink::new(&log1))
        .with_state(RecordingStore::new(Arc::clone(&store), &log1))
        .with_name("t10")
        .with_row("eu")
        .run()
        .await
        .unwrap();
    let run1 = events(&log1);
    // The source is resumed first (a run that cannot read creates nothing),
    // then the sink is opened (to check it holds no earlier lineage), then
    // the lineage is persisted, before any write.
    assert!(matches!(run1[0], Event::Resume { .. }), "{run1:?}");
    assert!(matches!(run1[1], Event::Open { .. }), "{run1:?}");
    let Event::Put { value: first } = &run1[2] else {
        panic!("the third event is not the lineage Put: {run1:?}");
    };
    let lineage = first["lineage"].as_str().expect("lineage is a string").to_owned();
    assert!(!lineage.is_empty());
    assert_eq!(first["seq"], 0);
    assert_eq!(first["source"], Value::Null);
    let first_write = run1.iter().position(|e| matches!(e, Event::Write { .. })).unwrap();
    assert!(2 < first_write);
    let scope = format!("t10::eu::{lineage}");
    assert_eq!(opens(&log1)[0].1, scope);
    assert!(puts(&log1).iter().all(|p| p["lineage"] == lineage.as_str()));

    // Second run, same store: same lineage, no new lineage Put.
    let log2 = new_log();
    Pipeline::new(VecSource::new(&log2, pages(3, 1)), RecordingSink::new(&log2))
        .with_state(RecordingStore::new(Arc::clone(&store), &log2))
        .with_name("t10")
        .with_row("eu")
        .run()
        .await
        .unwrap();
    assert_eq!(opens(&log2)[0].1, scope);
    let stored = puts(&log2);
    assert_eq!(stored.len(), 1, "only page 3 is new: {stored:?}");
    assert_eq!(stored[0]["seq"], 3);
    assert_eq!(stored[0]["lineage"], lineage.as_str());

    // Without a store every run gets a fresh scope.
    let mut scopes = BTreeSet::new();
    for _ in 0..2 {
        let log = new_log();
        Pipeline::new(VecSource::new(&log, pages(1, 1)), RecordingSink::new(&log))
            .with_name("t10")
            .with_row("eu")
            .run()
            .await
            .unwrap();
        let s = opens(&log)[0].1.clone();
        assert!(s.starts_with("t10::eu::") && s.len() > "t10::eu::".len(), "{s}");
        assert!(puts(&log).is_empty());
        scopes.insert(s);
    }
    assert_eq!(scopes.len(), 2, "{scopes:?}");
    assert!(!scopes.contains(&scope));
}

// ---------------------------------------------------------------------------
// 11. Already committed (crash between the sink's commit and the Put)
// ---------------------------------------------------------------------------

#[tokio::test]
async fn batches_committed_before_a_crash_are_not_written_twice() {
    let txn: Txn = Txn::default();
    let store = shared_store();

    // Run 1: page 2 is committed by the sink (and row 202 rejected and
    // dead-lettered), then its bookmark fails to persist.
    let log1 = new_log();
    let err = Pipeline::new(
        VecSource::new(&log1, pages(3, 3)),
        RecordingSink::new(&log1).failing_ids([202]).transactional(&txn),
    )
    .with_dlq(Dlq::new(RecordingSink::dlq(&log1)))
    .with_state(FailingStore {
        inner: RecordingStore::new(Arc::clone(&store), &log1),
        fail_when: |v| v["source"] == json!({"page": 2}),
    })
    .with_name("t11")
    .run()
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::State);
    assert!(err.message().contains("disk full"), "{err}");
    assert_eq!(store.get("t11::row-0").await.unwrap().unwrap()["source"], json!({"page": 1}));
    let scope = opens(&log1)[0].1.clone();
    assert_eq!(txn.lock().unwrap().committed.get(&scope), Some(&token(2, 0)));
    assert_eq!(ids(&[envelopes(&log1)[0]["payload"].clone()]), [202]);

    // Run 2: same sink memory and store; this sink rejects nothing by itself,
    // so any failure it reports is the one it recorded in run 1.
    let log2 = new_log();
    let report =
        Pipeline::new(VecSource::new(&log2, pages(3, 3)), RecordingSink::new(&log2).transactional(&txn))
            .with_dlq(Dlq::new(RecordingSink::dlq(&log2)))
            .with_state(RecordingStore::new(Arc::clone(&store), &log2))
            .with_name("t11")
            .run()
            .await
            .unwrap();

    assert_eq!(opens(&log2)[0].1, scope);
    assert_eq!(report.pages, 2);
    assert_eq!(report.pages_already_committed, 1);
    assert_eq!(report.records_written, 3, "only page 3 is newly written");
    assert_eq!(report.records_dead_lettered, 1);

    // Every source row except the rejected one is in the sink exactly once.
    let committed = ids(&txn.lock().unwrap().rows);
    assert_eq!(committed, [101, 102, 103, 201, 203, 301, 302, 303]);

    // Row 202's failure was dead-lettered again, as in run 1.
    let envs = envelopes(&log2);
    assert_eq!(envs.len(), 1, "{envs:?}");
    assert_envelope(&envs[0], "t11", "partial", "Sink", &rec(2, 2), 1);
    assert!(envs[0]["error"]["message"].as_str().unwrap().contains("row 202 violates a constraint"));
    assert_eq!(writes(&log2, DLQ)[0].0, token(2, 0));

    let stored = store.get("t11::row-0").await.unwrap().unwrap();
    assert_eq!(stored["source"], json!({"page": 3}));
    assert_eq!(stored["seq"], 3);
}

// ---------------------------------------------------------------------------
// 12. Cancellation
// ---------------------------------------------------------------------------

#[tokio::test]
async fn cancellation_stops_at_a_page_boundary_keeping_confirmed_pages() {
    let log = new_log();
    let store = shared_store();
    let cancel = CancellationToken::new();
    let options = RunOptions { cancel: Some(cancel.clone()), ..RunOptions::default() };
    // The source cancels as it hands out page 3, which the driver reads ahead
    // while it writes page 2: page 2, in progress, still completes; page 3 is
    // not started (the rerun reads it again).
    let source = VecSource::new(&log, pages(4, 2)).cancel_after(3, cancel.clone());
    let report = Pipeline::new(source, RecordingSink::new(&log))
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("t12")
        .with_options(&options)
        .run()
        .await
        .unwrap();

    assert!(cancel.is_cancelled());
    assert!(report.cancelled);
    assert_eq!(report.pages, 2);
    assert_eq!(report.records_written, 4);
    assert!(writes(&log, MAIN).iter().all(|(t, _)| t.seq <= 2));
    assert_eq!(trace(&log).last().map(String::as_str), Some("put:2:{\"page\":2}"));
    let stored = store.get("t12::row-0").await.unwrap().unwrap();
    assert_eq!(stored["source"], json!({"page": 2}));
    assert_eq!(report.last_bookmark.as_ref(), Some(&stored));
    assert!(report.to_string().contains("(cancelled)"), "{report}");

    // A rerun picks up at page 3.
    let log2 = new_log();
    let report2 = Pipeline::new(VecSource::new(&log2, pages(4, 2)), RecordingSink::new(&log2))
        .with_state(RecordingStore::new(Arc::clone(&store), &log2))
        .with_name("t12")
        .with_options(&RunOptions::default())
        .run()
        .await
        .unwrap();
    assert!(!report2.cancelled);
    assert_eq!(writes(&log2, MAIN).into_iter().map(|(t, _)| t.seq).collect::<Vec<_>>(), [3, 4]);
}

#[tokio::test]
async fn cancelled_before_start_writes_nothing() {
    let log = new_log();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let report = Pipeline::new(VecSource::new(&log, pages(2, 2)), RecordingSink::new(&log))
        .with_options(&RunOptions { cancel: Some(cancel), ..RunOptions::default() })
        .run()
        .await
        .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.pages, 0);
    assert!(writes(&log, MAIN).is_empty());
}

// ---------------------------------------------------------------------------
// 13. Secrets
// ---------------------------------------------------------------------------

#[tokio::test]
async fn registered_secrets_never_show_in_errors() {
    let secret = "pw-driver-test-7f3a9c";
    faucet_runtime::secret::register(secret);

    let err = FaucetError::sink(format!("login failed for app:{secret}@db"));
    assert_eq!(err.message(), "login failed for app:***@db");
    for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
    let wrapped = FaucetError::custom("outer").context(format!("while using {secret}"));
    assert!(!wrapped.to_string().contains(secret) && wrapped.to_string().contains("***"), "{wrapped}");

    // An error raised during a run is scrubbed too, wherever it ends up.
    let log = new_log();
    let failing = transform_fn(move |_r: Record| -> faucet_runtime::Result<Option<Record>> {
        Err(FaucetError::custom(format!("cannot call api with token {secret}")))
    });
    let run_err = Pipeline::new(VecSource::new(&log, pages(1, 1)), RecordingSink::new(&log))
        .with_transform(failing)
        .run()
        .await
        .unwrap_err();
    assert!(!run_err.to_string().contains(secret) && !format!("{run_err:?}").contains(secret), "{run_err:?}");
    assert!(run_err.to_string().contains("***"), "{run_err}");
}

// ---------------------------------------------------------------------------
// Suspected driver bugs
// ---------------------------------------------------------------------------

/// A sink rejection's `record_index` is the row's index among the rows
/// written, as faucet-stream 1.17 writes it (its transforms run before its
/// driver sees the page): not its index in the source's page.
#[tokio::test]
async fn sink_rejection_record_index_is_the_index_among_the_rows_written() {
    let log = new_log();
    // Record 0 (id 101) is filtered out; the sink rejects id 103: page index 2, written index 1.
    let drop_first = transform_fn(|r: Record| -> faucet_runtime::Result<Option<Record>> {
        Ok(if r["id"] == 101 { None } else { Some(r) })
    });
    Pipeline::new(
        VecSource::new(&log, vec![page_records(1, 3)]),
        RecordingSink::new(&log).failing_ids([103]),
    )
    .with_transform(drop_first)
    .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
    .with_name("idx")
    .run()
    .await
    .unwrap();
    let envs = envelopes(&log);
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["payload"], rec(1, 3));
    assert_eq!(envs[0]["record_index"], 1, "{}", envs[0]);
}

/// A stored bookmark without a `lineage` (written before lineages existed, or
/// by hand) must not be overwritten with an empty position: the confirmed
/// position would go backwards if the run then fails before its first page.
#[tokio::test]
async fn bookmark_without_lineage_is_not_rewound() {
    let store = shared_store();
    let legacy = json!({"v": 1, "seq": 2, "source": {"page": 2}, "sink": {"rows": 4}, "dlq": null});
    store.put("legacy::row-0", &legacy).await.unwrap();

    let log = new_log();
    let err = Pipeline::new(VecSource::new(&log, pages(4, 2)), RecordingSink::new(&log).failing_batch(3, 0))
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("legacy")
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Sink);
    // The run itself resumed correctly...
    assert!(events(&log).contains(&Event::Resume { bookmark: Some(json!({"page": 2})) }));
    // ...but the stored position must still be page 2.
    let stored = store.get("legacy::row-0").await.unwrap().unwrap();
    assert_eq!(stored["source"], json!({"page": 2}), "{stored}");
    assert_eq!(stored["sink"], json!({"rows": 4}), "{stored}");
}

// ---------------------------------------------------------------------------
// Live progress
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_progress_registry_lists_the_run_while_it_runs() {
    let log = new_log();
    let progress = faucet_runtime::Progress::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (watch, seen_in) = (progress.clone(), Arc::clone(&seen));
    // Looks at the registry while page 3 is transformed.
    let look = transform_fn(move |r: Record| -> faucet_runtime::Result<Option<Record>> {
        if r["id"] == json!(301) {
            seen_in.lock().unwrap().extend(watch.snapshot());
        }
        Ok(Some(r))
    });
    let options = RunOptions { progress: Some(progress.clone()), ..RunOptions::default() };
    let report = Pipeline::new(VecSource::new(&log, pages(4, 2)), RecordingSink::new(&log))
        .with_transform(look)
        .with_name("t13")
        .with_options(&options)
        .run()
        .await
        .unwrap();

    assert_eq!(report.records_written, 8);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].label, "t13[row-0]");
    // Page 3 was read; pages 1 and 2 were written.
    assert_eq!((seen[0].pages, seen[0].records_read, seen[0].records_written), (3, 6, 4));
    assert!(progress.snapshot().is_empty(), "a finished run leaves the registry");
}

// ---------------------------------------------------------------------------
// Contracts
// ---------------------------------------------------------------------------

/// An order: `{"id", "status", "amount"}`.
fn order(id: i64, status: &str, amount: Value) -> Value {
    json!({"id": id, "status": status, "amount": amount})
}

/// Orders with ids above 0, an open or shipped status and an amount from 0 to 2^53 + 1.
fn orders_contract(on_breach: OnBreach) -> Contract {
    Contract::new("2.1.0")
        .on_breach(on_breach)
        .field(Field::integer("id").min(1))
        .field(Field::string("status").one_of(["open", "shipped"]))
        .field(Field::number("amount").min(0).max("9007199254740993"))
}

/// Page 1: good, bad status, good, missing amount, good; page 2: good, amount
/// one above the maximum (equal to it through a double), good.
fn mixed_pages() -> Vec<Vec<Value>> {
    vec![
        vec![
            order(1, "open", json!(10)),
            order(2, "lost-secret", json!(10)),
            order(3, "shipped", json!(0)),
            json!({"id": 4, "status": "open"}),
            order(5, "open", json!(9007199254740993u64)),
        ],
        vec![
            order(6, "open", json!(1.5)),
            order(7, "open", json!(9007199254740994u64)),
            order(8, "open", json!(2)),
        ],
    ]
}

#[tokio::test]
async fn contract_quarantine_dead_letters_breaching_records_before_sink_failures() {
    let log = new_log();
    let store = shared_store();
    // The sink rejects order 3 (index 2 of page 1), which conforms.
    let report =
        Pipeline::new(VecSource::new(&log, mixed_pages()), RecordingSink::new(&log).failing_ids([3]))
            .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
            .with_contract(orders_contract(OnBreach::Quarantine))
            .with_state(RecordingStore::new(Arc::clone(&store), &log))
            .with_name("tc1")
            .run()
            .await
            .unwrap();

    let pages = mixed_pages();
    let main = writes(&log, MAIN);
    assert_eq!(main.len(), 2);
    assert_eq!(ids(&main[0].1), [1, 3, 5]);
    assert_eq!(ids(&main[1].1), [6, 8]);
    // Records are written unchanged.
    assert_eq!(main[1].1, [pages[1][0].clone(), pages[1][2].clone()]);

    let envs = envelopes(&log);
    assert_eq!(envs.len(), 4, "{envs:?}");
    // Page 1: the contract's envelopes (in page order), then the sink's.
    assert_envelope(&envs[0], "tc1", "contract", "ContractViolation", &pages[0][1], 1);
    assert_envelope(&envs[1], "tc1", "contract", "ContractViolation", &pages[0][3], 3);
    // A sink rejection is indexed among the rows written (faucet-stream's
    // `record_index`): order 3 follows order 1 once order 2 is quarantined.
    assert_envelope(&envs[2], "tc1", "partial", "Sink", &pages[0][2], 1);
    assert_envelope(&envs[3], "tc1", "contract", "ContractViolation", &pages[1][1], 1);
    assert_eq!(
        envs[0]["error"]["message"],
        "contract 2.1.0: field `status`: the value is not one of the 2 allowed values (enum)"
    );
    assert_eq!(
        envs[1]["error"]["message"],
        "contract 2.1.0: field `amount`: the required field is missing (missing)"
    );
    assert_eq!(
        envs[3]["error"]["message"],
        "contract 2.1.0: field `amount`: the value is above the maximum 9007199254740993 (range)"
    );
    assert!(envs.iter().all(|e| !e["error"]["message"].as_str().unwrap().contains("secret")));
    // One DLQ write per page, before the page's bookmark.
    let dlq_tokens: Vec<CommitToken> = writes(&log, DLQ).into_iter().map(|(t, _)| t).collect();
    assert_eq!(dlq_tokens, [token(1, 0), token(2, 0)]);
    let dlq_at =
        position(&log, |e| matches!(e, Event::Write { sink: DLQ, token, .. } if token.seq == 1)).unwrap();
    assert!(dlq_at < position(&log, |e| is_put_of_page(e, 1)).unwrap());

    assert_eq!(report.records_read, 8);
    assert_eq!(report.records_written, 4);
    assert_eq!(report.records_dead_lettered, 4);
    assert_eq!(report.contract_breaches, 3);
    assert_eq!(store.get("tc1::row-0").await.unwrap().unwrap()["source"], json!({"page": 2}));
}

#[tokio::test]
async fn contract_breaches_count_against_the_dlq_budgets() {
    let log = new_log();
    let store = shared_store();
    let mut dlq = Dlq::new(RecordingSink::dlq(&log));
    dlq.max_failures_per_page = Some(1);
    let err = Pipeline::new(VecSource::new(&log, mixed_pages()), RecordingSink::new(&log))
        .with_dlq(dlq)
        .with_contract(orders_contract(OnBreach::Quarantine))
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("tc2")
        .run()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Budget);
    assert!(err.message().contains("page 1 dead-lettered 2 rows"), "{err}");
    // Page 1 was committed (its good records written, its breaches dead-lettered), page 2 never written.
    assert_eq!(envelopes(&log).len(), 2);
    assert!(writes(&log, MAIN).iter().all(|(t, _)| t.seq == 1));
    assert_eq!(store.get("tc2::row-0").await.unwrap().unwrap()["source"], json!({"page": 1}));
}

#[tokio::test]
async fn contract_fail_writes_nothing_of_the_page_and_keeps_the_bookmark() {
    let log = new_log();
    let store = shared_store();
    let good_page = vec![order(1, "open", json!(1)), order(2, "shipped", json!(2))];
    let bad_line = json!({"raw": "{"});
    let specs = vec![
        PageSpec { records: good_page.clone(), ..PageSpec::default() },
        // A malformed input and a good record, then the breach: nothing of it may be written.
        PageSpec {
            records: vec![
                order(3, "open", json!(3)),
                order(4, "open", json!(-0.5)),
                order(5, "open", json!(5)),
            ],
            rejects: vec![(bad_line, FaucetError::parse("bad line"))],
            skipped: 0,
        },
        PageSpec { records: vec![order(6, "open", json!(6))], ..PageSpec::default() },
    ];
    let err = Pipeline::new(VecSource::from_specs(&log, specs), RecordingSink::new(&log))
        .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
        .with_contract(orders_contract(OnBreach::Fail))
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("tc3")
        .run()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::ContractViolation);
    assert_eq!(
        err.message(),
        "record 1 of page 2 breaches contract 2.1.0: field `amount`: the value is below the minimum 0 (range)"
    );
    let main = writes(&log, MAIN);
    assert_eq!(main.len(), 1, "{main:?}");
    assert_eq!(main[0].1, good_page);
    assert!(writes(&log, DLQ).is_empty(), "nothing of page 2 reaches the DLQ either");
    assert!(position(&log, |e| is_put_of_page(e, 2)).is_none(), "{:?}", trace(&log));
    assert_eq!(store.get("tc3::row-0").await.unwrap().unwrap()["source"], json!({"page": 1}));
}

#[tokio::test]
async fn contract_warn_writes_every_record_unchanged_and_counts_breaches() {
    let log = new_log();
    let report = Pipeline::new(VecSource::new(&log, mixed_pages()), RecordingSink::new(&log))
        .with_contract(orders_contract(OnBreach::Warn))
        .with_name("tc4")
        .run()
        .await
        .unwrap();

    let written: Vec<Value> = writes(&log, MAIN).into_iter().flat_map(|(_, rows)| rows).collect();
    assert_eq!(written, mixed_pages().concat());
    assert_eq!(report.records_written, 8);
    assert_eq!(report.records_dead_lettered, 0);
    assert_eq!(report.contract_breaches, 3);
}

#[tokio::test]
async fn a_quarantine_contract_without_a_dlq_fails_before_writing() {
    let log = new_log();
    let err = Pipeline::new(VecSource::new(&log, mixed_pages()), RecordingSink::new(&log))
        .with_contract(orders_contract(OnBreach::Quarantine))
        .with_name("tc5")
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("needs a dead-letter queue"), "{err}");
    assert!(events(&log).is_empty(), "{:?}", trace(&log));
}

// ---------------------------------------------------------------------------
// Typed records
// ---------------------------------------------------------------------------

/// A record type as faucet-gen generates it for `{id: integer, page: integer}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Row {
    id: i64,
    page: i64,
}

const ROW_SCHEMA: faucet_runtime::schema::Schema = faucet_runtime::schema::Schema {
    fields: &[
        faucet_runtime::schema::Field {
            name: "id",
            ty: faucet_runtime::schema::FieldType::Integer,
            nullable: false,
            required: true,
        },
        faucet_runtime::schema::Field {
            name: "page",
            ty: faucet_runtime::schema::FieldType::Integer,
            nullable: false,
            required: true,
        },
    ],
    open: false,
    origin: "a test",
};

impl RecordType for Row {
    const SCHEMA: Option<&'static faucet_runtime::schema::Schema> = Some(&ROW_SCHEMA);

    fn field(&self, index: usize, _name: &str) -> faucet_runtime::FieldValue<'_> {
        match index {
            0 => faucet_runtime::FieldValue::Int(self.id),
            1 => faucet_runtime::FieldValue::Int(self.page),
            _ => faucet_runtime::FieldValue::Absent,
        }
    }

    fn to_json(&self) -> std::borrow::Cow<'_, Value> {
        faucet_runtime::record::json_of(self)
    }

    fn from_json(value: Value) -> faucet_runtime::Result<Self> {
        faucet_runtime::record::from_json_value(value)
    }
}

#[tokio::test]
async fn typed_records_flow_and_misfits_go_to_the_dlq_with_reason_schema() {
    let log = new_log();
    let misfit = json!({"id": "seven", "page": 1});
    let mut first = page_records(1, 2);
    first.insert(1, misfit.clone());
    let source: VecSource = VecSource::new(&log, vec![first, page_records(2, 2)]);
    let typed = faucet_runtime::typed_source::Decoded::<_, Row>::new(source);
    // A typed transform: from one struct to the next, here the same one.
    let double = faucet_runtime::FnTransform::new(|row: Row| Ok(Some(Row { id: row.id * 2, ..row })));
    let report = Pipeline::new(typed, RecordingSink::new(&log))
        .with_transform(double)
        .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
        .with_name("typed")
        .run()
        .await
        .unwrap();

    let written: Vec<Value> = writes(&log, MAIN).into_iter().flat_map(|(_, rows)| rows).collect();
    assert_eq!(ids(&written), vec![202, 204, 402, 404]);
    let envs = envelopes(&log);
    assert_eq!(envs.len(), 1, "{envs:?}");
    assert_envelope(&envs[0], "typed", "schema", "Schema", &misfit, 0);
    let message = envs[0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("field `id`"), "{message}");
    assert_eq!(report.records_written, 4);
    assert_eq!(report.records_dead_lettered, 1);
}

// ---------------------------------------------------------------------------
// Transforms that return several records per record (`explode`, `unpivot`)
// ---------------------------------------------------------------------------

/// Order `order` of page `page` with `n` lines, each `{"id": order*10 + j}`
/// (1-based `j`): `explode` with no prefix makes each line a record with that id.
fn order_with_lines(order: u64, n: u64) -> Value {
    let lines: Vec<Value> = (1..=n).map(|j| json!({"id": order * 10 + j})).collect();
    json!({"order": order, "lines": lines})
}

fn explode_lines(on_missing: faucet_runtime::transform::OnMissing) -> faucet_runtime::transform::Explode {
    faucet_runtime::transform::Explode::new(["lines"], Some(""), "_", on_missing).unwrap()
}

/// A page's outputs are that page: written in `batch_size` chunks under the
/// page's tokens, flushed, and only then is the page's bookmark persisted;
/// the next page is not read before (memory holds one page and its outputs).
#[tokio::test]
async fn an_exploded_page_is_written_as_its_page_before_its_bookmark() {
    use faucet_runtime::transform::OnMissing;
    let log = new_log();
    let pages =
        vec![vec![order_with_lines(101, 3), order_with_lines(102, 3)], vec![order_with_lines(201, 2)]];
    let report = Pipeline::new(VecSource::new(&log, pages), RecordingSink::new(&log).batch(4))
        .with_transform(explode_lines(OnMissing::Passthrough))
        .with_state(RecordingStore::new(MemoryStore::new(), &log))
        .with_name("x1")
        .run()
        .await
        .unwrap();
    assert_eq!(
        trace(&log),
        [
            "resume:none",
            "open:recording",
            "put:0:null",
            "write:recording:1.0",
            "write:recording:1.1",
            "flush:recording",
            "put:1:{\"page\":1}",
            "write:recording:2.0",
            "flush:recording",
            "put:2:{\"page\":2}",
        ]
    );
    let got: Vec<(CommitToken, Vec<i64>)> =
        writes(&log, MAIN).into_iter().map(|(t, rows)| (t, ids(&rows))).collect();
    assert_eq!(
        got,
        [
            (token(1, 0), vec![1011, 1012, 1013, 1021]),
            (token(1, 1), vec![1022, 1023]),
            (token(2, 0), vec![2011, 2012]),
        ]
    );
    assert_eq!((report.records_read, report.records_written, report.records_filtered), (3, 8, 0));
}

/// A rejected output's `record_index` is its source record's index in the
/// page (every output of one record shares it), its payload the output; a
/// record the chain rejects after `explode` made some of its outputs goes to
/// the DLQ whole, as the source gave it, and none of its outputs is written.
#[tokio::test]
async fn dead_letters_of_an_exploded_page_point_at_their_source_record() {
    use faucet_runtime::transform::OnMissing;
    let log = new_log();
    let page = vec![order_with_lines(101, 2), order_with_lines(102, 3), order_with_lines(103, 2)];
    // The third line of order 102 cannot be reshaped: order 102 is rejected whole.
    let reject_1023 = transform_fn(|r: Record| -> faucet_runtime::Result<Option<Record>> {
        if r["id"] == 1023 {
            Err(FaucetError::transform("line 1023 cannot be reshaped"))
        } else {
            Ok(Some(r))
        }
    });
    let report =
        Pipeline::new(VecSource::new(&log, vec![page.clone()]), RecordingSink::new(&log).failing_ids([1032]))
            .with_transform(explode_lines(OnMissing::Passthrough))
            .with_transform(reject_1023)
            .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
            .with_state(MemoryStore::new())
            .with_name("x2")
            .run()
            .await
            .unwrap();
    let main = writes(&log, MAIN);
    assert_eq!(ids(&main[0].1), [1011, 1012, 1031, 1032], "no line of order 102 is written");
    let envs = envelopes(&log);
    assert_eq!(envs.len(), 2, "{envs:?}");
    assert_envelope(&envs[0], "x2", "transform", "Transform", &page[1], 1);
    // Written position 3, source record 2.
    assert_envelope(&envs[1], "x2", "partial", "Sink", &json!({"order": 103, "id": 1032}), 2);
    assert_eq!((report.records_written, report.records_dead_lettered), (3, 2));

    // Without expansion, a sink rejection keeps faucet-stream's index among the rows written.
    let log = new_log();
    let flat = vec![json!({"id": 1}), json!({"id": 2}), json!({"id": 3})];
    let drop_first = transform_fn(|r: Record| -> faucet_runtime::Result<Option<Record>> {
        Ok(if r["id"] == 1 { None } else { Some(r) })
    });
    Pipeline::new(VecSource::new(&log, vec![flat]), RecordingSink::new(&log).failing_ids([3]))
        .with_transform(drop_first)
        .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
        .run()
        .await
        .unwrap();
    assert_eq!(envelopes(&log)[0]["record_index"], 1);
}

/// A record `explode` rejects (`on_missing: error`) with no DLQ fails the run
/// naming the source record; the page's other outputs are not written and
/// the bookmark stays after the last confirmed page.
#[tokio::test]
async fn a_failed_exploded_page_leaves_the_bookmark_where_it_was() {
    use faucet_runtime::transform::OnMissing;
    let log = new_log();
    let store = shared_store();
    let pages = vec![vec![order_with_lines(101, 2)], vec![order_with_lines(201, 2), json!({"order": 202})]];
    let err = Pipeline::new(VecSource::new(&log, pages), RecordingSink::new(&log))
        .with_transform(explode_lines(OnMissing::Error))
        .with_state(RecordingStore::new(Arc::clone(&store), &log))
        .with_name("x3")
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transform);
    assert!(err.message().contains("record 1 of page 2"), "{err}");
    assert!(err.message().contains("path '$.lines' did not yield a non-empty array"), "{err}");
    let got: Vec<(CommitToken, Vec<i64>)> =
        writes(&log, MAIN).into_iter().map(|(t, rows)| (t, ids(&rows))).collect();
    assert_eq!(got, [(token(1, 0), vec![1011, 1012])]);
    assert_eq!(store.get("x3::row-0").await.unwrap().unwrap()["source"], json!({"page": 1}));
}

/// `unpivot` through the driver: rows counted as written, and a record that
/// makes no row under `drop_if_empty` counted as filtered.
#[tokio::test]
async fn unpivot_rows_are_counted_and_empty_records_filtered() {
    use faucet_runtime::transform::{Columns, Unpivot};
    let log = new_log();
    let page = vec![json!({"id": 1, "a": 10, "b": 20}), json!({"id": 2}), json!({"id": 3, "b": null})];
    let unpivot = Unpivot::new(vec!["id".into()], "k", "v", Columns::Listed(vec!["a".into(), "b".into()]))
        .drop_nulls(true)
        .drop_if_empty(true);
    let report = Pipeline::new(VecSource::new(&log, vec![page]), RecordingSink::new(&log))
        .with_transform(unpivot)
        .run()
        .await
        .unwrap();
    let main = writes(&log, MAIN);
    assert_eq!(main[0].1, [json!({"id": 1, "k": "a", "v": 10}), json!({"id": 1, "k": "b", "v": 20})]);
    assert_eq!((report.records_read, report.records_written, report.records_filtered), (3, 2, 2));
}

/// After `explode`, a quarantined output and a sink rejection behind it both
/// name their source records, however many outputs the contract removed.
#[tokio::test]
async fn contract_quarantine_after_explode_keeps_each_outputs_source_index() {
    use faucet_runtime::transform::OnMissing;
    let log = new_log();
    let page = vec![order_with_lines(101, 2), order_with_lines(102, 2)];
    // Line 1011 (order 0) breaches; the sink rejects line 1021 (order 1), written second.
    Pipeline::new(VecSource::new(&log, vec![page]), RecordingSink::new(&log).failing_ids([1021]))
        .with_transform(explode_lines(OnMissing::Passthrough))
        .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
        .with_contract(
            Contract::new("1.0.0").on_breach(OnBreach::Quarantine).field(Field::integer("id").min(1012)),
        )
        .with_name("x5")
        .run()
        .await
        .unwrap();
    assert_eq!(ids(&writes(&log, MAIN)[0].1), [1012, 1021, 1022]);
    let envs = envelopes(&log);
    assert_eq!(envs.len(), 2, "{envs:?}");
    assert_envelope(&envs[0], "x5", "contract", "ContractViolation", &json!({"order": 101, "id": 1011}), 0);
    assert_envelope(&envs[1], "x5", "partial", "Sink", &json!({"order": 102, "id": 1021}), 1);
}

// ---------------------------------------------------------------------------
// --dry-run and --limit (RunOptions::dry_run, RunOptions::limit)
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_dry_run_reads_and_transforms_but_opens_writes_and_persists_nothing() {
    let log = new_log();
    let options = RunOptions { dry_run: true, ..RunOptions::default() };
    let report = Pipeline::new(VecSource::new(&log, pages(3, 2)), RecordingSink::new(&log))
        .with_transform(transform_fn(|r: Record| {
            if r["id"] == 201 { Err(FaucetError::config("rejected")) } else { Ok(Some(r)) }
        }))
        .with_dlq(Dlq::new(RecordingSink::dlq(&log)))
        .with_state(RecordingStore::new(MemoryStore::new(), &log))
        .with_name("dry")
        .with_options(&options)
        .run()
        .await
        .unwrap();
    assert_eq!(trace(&log), ["resume:none"], "only the source was touched");
    assert_eq!((report.records_read, report.records_written, report.records_dead_lettered), (6, 5, 1));
}

#[tokio::test]
async fn a_limit_cuts_the_page_that_reaches_it_stops_and_persists_no_bookmark() {
    let log = new_log();
    let options = RunOptions { limit: Some(3), ..RunOptions::default() };
    let report = Pipeline::new(VecSource::new(&log, pages(3, 2)), RecordingSink::new(&log))
        .with_state(RecordingStore::new(MemoryStore::new(), &log))
        .with_name("sample")
        .with_options(&options)
        .run()
        .await
        .unwrap();
    let written: Vec<Vec<i64>> = writes(&log, MAIN).iter().map(|(_, rows)| ids(rows)).collect();
    assert_eq!(written, [vec![101, 102], vec![201]]);
    assert_eq!(report.records_written, 3);
    assert!(puts(&log).is_empty(), "a sample moves no bookmark (nor persists a lineage)");
    let (_, scope, _) = &opens(&log)[0];
    assert_eq!(scope.matches("::").count(), 3, "a scope of its own, which no later run shares: {scope}");
}

#[tokio::test]
async fn dry_run_and_limit_refuse_a_source_that_acknowledges_upstream() {
    for options in [
        RunOptions { dry_run: true, ..RunOptions::default() },
        RunOptions { limit: Some(1), ..RunOptions::default() },
    ] {
        let log = new_log();
        let source = UpstreamSource { inner: VecSource::new(&log, pages(2, 2)) };
        let err =
            Pipeline::new(source, RecordingSink::new(&log)).with_options(&options).run().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("cannot read the `upstream` source"), "{err}");
        assert!(trace(&log).is_empty(), "{:?}", trace(&log));
    }
}

//! The driver: source → transforms → sink → DLQ → flush → bookmark, page by page.
//!
//! Per page, in this order:
//! 1. read the page from the source;
//! 2. apply the transform chain to each record, then check the survivors
//!    against the [contract](crate::contract), if there is one;
//! 3. write the survivors in `batch_size` chunks, each with a [`CommitToken`];
//! 4. send every failed row, in its envelope, to the DLQ;
//! 5. flush the sink, then the DLQ;
//! 6. persist the [bookmark](crate::bookmark) (source position, sink and DLQ checkpoints, page number).
//!
//! The bookmark is written only after step 5, so it never runs ahead of what
//! the sink confirmed. On the next run the sink is restored to its checkpoint
//! (a file is truncated to it; a database skips batches whose token it already
//! committed) and the source resumes after the bookmark: a crash anywhere
//! loses no row and duplicates none.
//!
//! Commit tokens are scoped by a *lineage*: an id created by the first run of a
//! state key and persisted before its first write. A crash and its rerun share
//! the lineage, so the sink recognizes batches it already committed; a reset
//! state (or a pipeline without a store) starts a new lineage, so old tokens
//! can never make a fresh run skip pages. A store without a bookmark whose sink
//! holds tokens of an earlier lineage means the state was lost: the run stops
//! before writing ([`Sink::check_no_earlier_lineage`]) unless
//! [`RunOptions::force_new_lineage`] says to start over.

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bookmark::Bookmark;
use crate::contract::{self, Contract, OnBreach};
use crate::dlq::{self, Dlq, OnBatchError, Origin, Reason};
use crate::error::{ErrorKind, FaucetError, Result};
use crate::fan_out::{FanOut, NoFanOut};
use crate::observe::{self, RunMetrics, StateOp};
use crate::page::{CommitToken, Page};
use crate::progress::{Progress, Tracker};
use crate::record::RecordType;
use crate::report::RunReport;
use crate::sink::{NoSink, OpenContext, Writes};
use crate::source::Source;
use crate::state::{MemoryStore, StateStore, validate_key};
use crate::transform::{Chain, Identity, Transform};

mod sharded;
mod tools;

pub use tools::{Replay, ReplayOptions};

/// A runnable pipeline: a source, a statically composed transform chain, a sink,
/// and optionally a dead-letter queue and a state store.
///
/// Generated code builds one with concrete types; by hand:
/// `Pipeline::new(source, sink).with_transform(t).run().await`.
pub struct Pipeline<S, T, K, D = NoSink, St = MemoryStore, H = NoFanOut> {
    source: S,
    transform: T,
    sink: K,
    dlq: Option<Dlq<D>>,
    state: Option<St>,
    name: String,
    row: String,
    cancel: CancellationToken,
    fan_out: H,
    key_suffix: Option<String>,
    /// The live-progress registry and, for a matrix child, its parent key.
    progress: Option<(Progress, Option<String>)>,
    /// Starts a new lineage even when the sink holds tokens of an earlier one
    /// (see [`RunOptions::force_new_lineage`]).
    force_new_lineage: bool,
    /// The promised shape of the records written, checked on every page.
    contract: Option<Contract>,
    /// `--dry-run`, `--limit` and `--state-path` of this run.
    overrides: Overrides,
}

impl<S: Source, K> Pipeline<S, Identity, K, NoSink, MemoryStore> {
    /// A pipeline from `source` to `sink` with no transform, no DLQ and no
    /// state store (every run starts from the beginning).
    pub fn new(source: S, sink: K) -> Self {
        Pipeline {
            source,
            transform: Identity,
            sink,
            dlq: None,
            state: None,
            name: "unnamed".to_owned(),
            row: "row-0".to_owned(),
            cancel: CancellationToken::new(),
            fan_out: NoFanOut,
            key_suffix: None,
            progress: None,
            force_new_lineage: false,
            contract: None,
            overrides: Overrides::default(),
        }
    }
}

impl<S, T, K, D, St, H> Pipeline<S, T, K, D, St, H>
where
    S: Source,
    T: Transform<S::Record>,
    D: Writes,
    St: StateStore,
{
    /// Appends `next` to the transform chain (the sink must take what `next` yields).
    pub fn with_transform<U: Transform<T::Out>>(self, next: U) -> Pipeline<S, Chain<T, U>, K, D, St, H> {
        Pipeline {
            source: self.source,
            transform: Chain(self.transform, next),
            sink: self.sink,
            dlq: self.dlq,
            state: self.state,
            name: self.name,
            row: self.row,
            cancel: self.cancel,
            fan_out: self.fan_out,
            key_suffix: self.key_suffix,
            progress: self.progress,
            force_new_lineage: self.force_new_lineage,
            contract: self.contract,
            overrides: self.overrides,
        }
    }

    /// Routes failed rows to `dlq` instead of failing the run.
    pub fn with_dlq<D2: Writes>(self, dlq: Dlq<D2>) -> Pipeline<S, T, K, D2, St, H> {
        Pipeline {
            source: self.source,
            transform: self.transform,
            sink: self.sink,
            dlq: Some(dlq),
            state: self.state,
            name: self.name,
            row: self.row,
            cancel: self.cancel,
            fan_out: self.fan_out,
            key_suffix: self.key_suffix,
            progress: self.progress,
            force_new_lineage: self.force_new_lineage,
            contract: self.contract,
            overrides: self.overrides,
        }
    }

    /// Checks every page against `contract` after the transforms and before
    /// the sink write; what a breach does is the contract's
    /// [`OnBreach`] (`quarantine` needs a DLQ).
    pub fn with_contract(mut self, contract: Contract) -> Self {
        self.contract = Some(contract);
        self
    }

    /// Persists bookmarks in `store`, so the next run resumes where this one stopped.
    pub fn with_state<St2: StateStore>(self, store: St2) -> Pipeline<S, T, K, D, St2, H> {
        Pipeline {
            source: self.source,
            transform: self.transform,
            sink: self.sink,
            dlq: self.dlq,
            state: Some(store),
            name: self.name,
            row: self.row,
            cancel: self.cancel,
            fan_out: self.fan_out,
            key_suffix: self.key_suffix,
            progress: self.progress,
            force_new_lineage: self.force_new_lineage,
            contract: self.contract,
            overrides: self.overrides,
        }
    }

    /// Hands every confirmed page's written records to `fan_out` after the
    /// page is flushed and before its bookmark is persisted: a matrix parent
    /// runs its children there, so its bookmark passes a page only once the
    /// page's children are done.
    pub fn with_fan_out<H2: FanOut<T::Out>>(self, fan_out: H2) -> Pipeline<S, T, K, D, St, H2> {
        Pipeline {
            source: self.source,
            transform: self.transform,
            sink: self.sink,
            dlq: self.dlq,
            state: self.state,
            name: self.name,
            row: self.row,
            cancel: self.cancel,
            fan_out,
            key_suffix: self.key_suffix,
            progress: self.progress,
            force_new_lineage: self.force_new_lineage,
            contract: self.contract,
            overrides: self.overrides,
        }
    }

    /// Appends `suffix` to the state key (`pipeline::row::suffix`): a matrix
    /// child's invocations each keep their own bookmark, keyed by the parent record.
    pub fn with_key_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.key_suffix = Some(suffix.into());
        self
    }

    /// Names the pipeline (for the state key, DLQ envelopes, metrics and spans).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Names the matrix row (default `row-0`).
    pub fn with_row(mut self, row: impl Into<String>) -> Self {
        self.row = row.into();
        self
    }

    /// Stops the run at the next page boundary when `cancel` fires; what was
    /// confirmed so far stays confirmed.
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Applies [`RunOptions`] that do not change the pipeline's types.
    pub fn with_options(mut self, options: &RunOptions) -> Self {
        if let Some(cancel) = &options.cancel {
            self.cancel = cancel.clone();
        }
        if let Some(progress) = &options.progress {
            self.progress = Some((progress.clone(), None));
        }
        self.force_new_lineage |= options.force_new_lineage;
        self.overrides = Overrides::from(options);
        self
    }

    /// Applies `--dry-run`, `--limit` and `--state-path` (a matrix invocation's).
    pub(crate) fn with_overrides(mut self, overrides: Overrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// Runs even when the state store has no bookmark but the sink holds
    /// commit tokens of an earlier lineage: everything is written again.
    pub fn with_force_new_lineage(mut self, force: bool) -> Self {
        self.force_new_lineage = force;
        self
    }

    /// Shows this run in `progress` while it runs, labelled with `parent_key`
    /// for a matrix child.
    pub(crate) fn with_progress(mut self, progress: Progress, parent_key: Option<String>) -> Self {
        self.progress = Some((progress, parent_key));
        self
    }

    /// The key this pipeline's bookmark is stored under: `pipeline::row`.
    pub fn state_key(&self) -> String {
        match &self.key_suffix {
            Some(suffix) => format!("{}::{}::{suffix}", self.name, self.row),
            None => format!("{}::{}", self.name, self.row),
        }
    }
}

impl<S, T, K, D, St, H> Pipeline<S, T, K, D, St, H>
where
    S: Source,
    T: Transform<S::Record>,
    K: Writes<T::Out>,
    D: Writes,
    St: StateStore,
    H: FanOut<T::Out>,
{
    /// Runs the pipeline to the end of its source (or to cancellation).
    ///
    /// Opens the `faucet.pipeline.run` span and records every metric of
    /// [`observe`](crate::observe) with the recorder current at this call.
    pub async fn run(mut self) -> Result<RunReport> {
        let run_id = uuid::Uuid::now_v7().simple();
        let span = tracing::info_span!(
            "faucet.pipeline.run",
            pipeline = %self.name,
            row = %self.row,
            run_id = %run_id,
            source = self.source.connector_name(),
            sink = self.sink.connector_name(),
        );
        let m = RunMetrics::new(
            &self.name,
            &self.row,
            self.source.connector_name(),
            self.sink.connector_name(),
            self.dlq.as_ref().map(|d| d.sink.connector_name()),
            self.state.is_some(),
        );
        let started = Instant::now();
        let in_flight = m.in_flight();
        let tracker = self.progress.take().map(|(progress, parent_key)| {
            let label = match parent_key {
                Some(key) => format!("{}[{} {key}]", self.name, self.row),
                None => format!("{}[{}]", self.name, self.row),
            };
            progress.start(label)
        });
        let (source, mut driver) = Driver::new(self, m);
        driver.progress = tracker;
        span.in_scope(|| tracing::info!("run started"));
        let (result, m) = driver.run(source).instrument(span.clone()).await;
        if let Ok(r) = &result {
            span.in_scope(|| {
                tracing::info!(
                    pages = r.pages,
                    records_read = r.records_read,
                    records_written = r.records_written,
                    records_dead_lettered = r.records_dead_lettered,
                    cancelled = r.cancelled,
                    "run finished"
                );
            });
        }
        drop(in_flight);
        m.finish(started, result.as_ref().err().map(FaucetError::kind));
        result
    }
}

/// What the application passes to a generated `run_with`: settings only it knows.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stops the run at the next page boundary when cancelled.
    pub cancel: Option<CancellationToken>,
    /// Lists the run (each matrix invocation) in this registry while it runs,
    /// for a live progress display; updated once per page.
    pub progress: Option<Progress>,
    /// Runs even when the state store has no bookmark for a pipeline but its
    /// sink holds commit tokens of an earlier run lineage (the state was lost):
    /// without it such a run fails before writing; with it, it starts over and
    /// writes everything again. The generated `main`'s `--force-new-lineage`.
    pub force_new_lineage: bool,
    /// The clock every `${now.…}` of the run renders (default: when the run
    /// starts, UTC), for reproducible and backfill runs. The generated
    /// `main`'s `--clock`. See [`crate::clock`].
    pub clock: Option<crate::clock::Clock>,
    /// Reads and transforms, but opens no sink or DLQ and persists no
    /// bookmark: the report counts what would have been written. The
    /// generated `main`'s `--dry-run`.
    pub dry_run: bool,
    /// Writes at most this many records, then stops; persists no bookmark, so
    /// the next run starts where this one started. The generated `main`'s `--limit`.
    pub limit: Option<u64>,
    /// Keeps a `file` state store's bookmarks in this directory instead of the
    /// configured one (any other store ignores it, with a warning). The
    /// generated `main`'s `--state-path`.
    pub state_path: Option<std::path::PathBuf>,
    /// Runs only this shard of a sharded pipeline (`0..shard.count`); `None`
    /// runs the one `JOB_COMPLETION_INDEX` names, else all of them. The
    /// generated `main`'s `--shard`. See [`crate::shard`].
    pub shard: Option<u32>,
}

/// The [`RunOptions`] a run applies beyond cancellation and progress.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    dry_run: bool,
    limit: Option<u64>,
    state_path: Option<std::path::PathBuf>,
}

impl From<&RunOptions> for Overrides {
    fn from(options: &RunOptions) -> Self {
        Overrides { dry_run: options.dry_run, limit: options.limit, state_path: options.state_path.clone() }
    }
}

impl Overrides {
    /// A preview or a sample: nothing of it may move the bookmark.
    fn persists(&self) -> bool {
        !self.dry_run && self.limit.is_none()
    }
}

/// One failed row on its way to the DLQ, its payload already JSON.
struct Failed {
    payload: Value,
    error: FaucetError,
    reason: Reason,
    index: usize,
}

/// Which source record of the page each transformed record came from, kept
/// only when the chain [expands](Transform::EXPANDS): a rejected output's
/// DLQ `record_index` then names its source record (all outputs of one
/// record share it). Otherwise an output's index is its position among the
/// page's transformed records, as faucet-stream indexes them.
struct Origins(Option<Vec<usize>>);

impl Origins {
    /// The DLQ index of the transformed record at `position`.
    fn index(&self, position: usize) -> usize {
        self.0.as_ref().and_then(|o| o.get(position).copied()).unwrap_or(position)
    }

    /// Keeps the entries at `positions` (ascending), as the records they describe were kept.
    fn keep(&mut self, positions: &[usize]) {
        if let Some(origins) = self.0.as_mut() {
            *origins = positions.iter().map(|&p| origins[p]).collect();
        }
    }
}

/// Refuses a first run of an unsharded pipeline whose state holds a shard
/// plan under `key`: the shards' bookmarks would be ignored and their rows
/// read again.
async fn refuse_sharded_state(store: Option<&impl StateStore>, key: &str) -> Result<()> {
    let Some(store) = store else { return Ok(()) };
    let plan_key = format!("{key}::shards");
    if crate::state::validate_key(&plan_key).is_err() || store.get(&plan_key).await?.is_none() {
        return Ok(());
    }
    Err(FaucetError::config(format!(
        "the state holds a shard plan under `{plan_key}` from a sharded run of this pipeline, and this \
         config has no `shard:`: an unsharded run would read again what the shards read. Put `shard:` back, \
         or start over with the program's `state reset --yes`"
    )))
}

/// Where the driver's pipeline had its source: the source is passed to the
/// driver's methods instead, and only the type of its records stays.
type NoSource<In> = PhantomData<fn(In)>;

/// The state of one run: the pipeline's parts but its source, plus counters.
///
/// The source is passed to each method that reads from it, so the next page
/// can be read while the driver writes the current one.
struct Driver<In, T, K, D, St, H> {
    /// The pipeline without its source (`In` is the type of the source's records).
    p: Pipeline<NoSource<In>, T, K, D, St, H>,
    /// The source's [`Source::CONFIRMS_UPSTREAM`].
    confirms_upstream: bool,
    key: String,
    seq: u64,
    report: RunReport,
    dlq_total: u64,
    lineage: String,
    /// Pages written but not yet flushed (runs without a state store flush at the end).
    unflushed: bool,
    m: RunMetrics,
    /// This run's live-progress entry, updated once per page.
    progress: Option<Tracker>,
    /// The pipeline's contract, compiled when the run starts.
    contract: Option<contract::Compiled>,
    /// Whether a breach under `on_breach: warn` was logged (once per run).
    contract_warned: bool,
}

impl<In, T, K, D, St, H> Driver<In, T, K, D, St, H>
where
    In: RecordType,
    T: Transform<In>,
    K: Writes<T::Out>,
    D: Writes,
    St: StateStore,
    H: FanOut<T::Out>,
{
    /// Splits `p` into its source and the driver of everything else.
    fn new<S: Source<Record = In>>(p: Pipeline<S, T, K, D, St, H>, m: RunMetrics) -> (S, Self) {
        let key = p.state_key();
        let report = RunReport { pipeline: p.name.clone(), row: p.row.clone(), ..RunReport::default() };
        let Pipeline {
            source,
            transform,
            sink,
            dlq,
            state,
            name,
            row,
            cancel,
            fan_out,
            key_suffix,
            progress,
            force_new_lineage,
            contract,
            overrides,
        } = p;
        let p = Pipeline {
            source: PhantomData,
            transform,
            sink,
            dlq,
            state,
            name,
            row,
            cancel,
            fan_out,
            key_suffix,
            progress,
            force_new_lineage,
            contract,
            overrides,
        };
        let confirms_upstream = S::CONFIRMS_UPSTREAM;
        let driver = Driver {
            p,
            confirms_upstream,
            key,
            seq: 0,
            report,
            dlq_total: 0,
            lineage: String::new(),
            unflushed: false,
            m,
            progress: None,
            contract: None,
            contract_warned: false,
        };
        (source, driver)
    }

    /// Runs, handing the metric handles back for the end-of-run metrics.
    async fn run<S: Source<Record = In>>(mut self, mut source: S) -> (Result<RunReport>, RunMetrics) {
        let result = self.run_inner(&mut source).await;
        (result.map(|()| self.report), self.m)
    }

    async fn run_inner<S: Source<Record = In>>(&mut self, source: &mut S) -> Result<()> {
        let started = Instant::now();
        self.compile_contract()?;
        self.p.apply_state_path()?;
        let persists = self.p.overrides.persists();
        let dry_run = self.p.overrides.dry_run;
        if self.confirms_upstream && !persists {
            return Err(FaucetError::config(format!(
                "--dry-run and --limit cannot read the `{}` source: it acknowledges what it reads upstream, \
                 so records this run does not write would be lost",
                source.connector_name()
            )));
        }
        let stored = self.load_bookmark().await?;
        self.report.last_bookmark = stored.clone();
        let stored = match stored {
            Some(value) => Some(crate::carried_state::read(value, source.connector_name(), &self.key)?),
            None => None,
        };
        if stored.is_none() && self.p.key_suffix.is_none() {
            refuse_sharded_state(self.p.state.as_ref(), &self.key).await?;
        }
        let prior = stored.map(Bookmark::from_value);
        self.seq = prior.as_ref().map_or(0, Bookmark::seq);
        let known = prior.as_ref().and_then(Bookmark::lineage);
        self.lineage = match known {
            Some(lineage) => lineage.to_owned(),
            None => uuid::Uuid::now_v7().simple().to_string(),
        };
        let lineage = self.lineage.clone();

        // Sinks key their commit tokens by this scope: the same across a crash
        // and its rerun, new when the state was reset (or there is no store).
        let scope = if S::REPLAYS_PAGES && persists {
            format!("{}::{lineage}", self.key)
        } else {
            // Pages are not reproducible (or a `--limit` sample truncates
            // one): no token of an earlier run may match this run's.
            format!("{}::{lineage}::{}", self.key, uuid::Uuid::now_v7().simple())
        };
        // The source first: a run that cannot read (a missing input file, an
        // unreachable server) fails before a sink, the dead-letter sink or the
        // state store creates anything (an output directory, a database file,
        // a bookmark).
        source
            .resume(prior.as_ref().and_then(Bookmark::source).cloned())
            .await
            .inspect_err(|_| self.m.source_errors.increment(1))?;
        // A dry run never opens its sinks, so it creates no file or table.
        if !dry_run {
            self.p
                .sink
                .open(OpenContext { scope: &scope, checkpoint: prior.as_ref().and_then(Bookmark::sink) })
                .await
                .map_err(|e| {
                    self.m.sink_errors.increment(1);
                    e.context(format!("opening sink `{}`", self.p.sink.connector_name()))
                })?;
        }
        // A store without a bookmark but a sink with tokens of this key: the
        // state was lost, and starting over would duplicate rows.
        if known.is_none()
            && !dry_run
            && prior.is_none()
            && self.p.state.is_some()
            && !self.p.force_new_lineage
        {
            self.p.sink.check_no_earlier_lineage(&self.key).await?;
        }
        if let Some(dlq) = self.p.dlq.as_mut().filter(|_| !dry_run) {
            let dlq_scope = format!("{scope}::dlq");
            dlq.sink
                .open(OpenContext { scope: &dlq_scope, checkpoint: prior.as_ref().and_then(Bookmark::dlq) })
                .await
                .map_err(|e| e.context("opening the dead-letter sink"))?;
        }
        if known.is_none() && persists {
            self.persist_lineage(prior.as_ref()).await?;
        }

        let outcome = self.pages(source).await;
        if outcome.is_err() && !dry_run {
            // Best effort, so buffered output is not left half-written; the
            // bookmark stays where the last confirmed page put it.
            if let Some(dlq) = self.p.dlq.as_mut() {
                let _ = dlq.sink.flush().await;
            }
            let _ = self.p.sink.flush().await;
        }
        outcome?;
        if self.unflushed {
            self.flush_all().await?;
        }
        self.report.duration = started.elapsed();
        Ok(())
    }

    /// Persists a fresh lineage for a run with no bookmark before the first
    /// write, so a crash before the first confirmed page keeps it.
    ///
    /// A bookmark written before lineages existed keeps its position: only the lineage is added.
    async fn persist_lineage(&mut self, prior: Option<&Bookmark>) -> Result<()> {
        let lineage = self.lineage.clone();
        if let Some(store) = self.p.state.as_ref() {
            let bookmark = prior.cloned().unwrap_or_else(Bookmark::empty).with_lineage(lineage);
            let bookmark = encode(&bookmark)?;
            let put_started = Instant::now();
            store
                .put(&self.key, &bookmark)
                .instrument(tracing::debug_span!("faucet.state.put", key = %self.key))
                .await
                .map_err(|e| {
                    self.m.state_error(StateOp::Put, e.kind());
                    e.context("persisting the run's lineage")
                })?;
            self.m.bookmark_put(put_started);
        }
        Ok(())
    }

    async fn load_bookmark(&mut self) -> Result<Option<Value>> {
        let Some(store) = self.p.state.as_ref() else {
            return Ok(None);
        };
        validate_key(&self.key)?;
        let span = tracing::debug_span!("faucet.state.get", key = %self.key);
        let started = Instant::now();
        let got = store.get(&self.key).instrument(span).await;
        self.m.state_get_duration.record(observe::secs(started));
        match got {
            Ok(Some(bookmark)) => {
                self.m.state_get_hit.increment(1);
                Ok(Some(bookmark))
            }
            Ok(None) => {
                self.m.state_get_miss.increment(1);
                Ok(None)
            }
            Err(e) => {
                self.m.state_error(StateOp::Get, e.kind());
                Err(e.context("reading the bookmark"))
            }
        }
    }

    /// Reads, writes and confirms pages until the source ends or the run is cancelled.
    ///
    /// While a page is written and confirmed, the next one is read, so a
    /// database source's query and a sink's writes overlap; at most two pages
    /// are held. A source that acknowledges upstream on its next read
    /// ([`Source::CONFIRMS_UPSTREAM`]), or that reads ahead itself
    /// ([`Source::prefetch`] false), is asked only after the page is confirmed.
    async fn pages<S: Source<Record = In>>(&mut self, source: &mut S) -> Result<()> {
        let cancel = self.p.cancel.clone();
        let mut ahead = None;
        loop {
            // A page whose reads and writes all complete at once (buffered
            // files) never hands control back: give other tasks and the other
            // invocations of a matrix their turn once tokio's budget is spent.
            tokio::task::coop::consume_budget().await;
            if cancel.is_cancelled() {
                self.report.cancelled = true;
                return Ok(());
            }
            if self.p.overrides.limit.is_some_and(|limit| self.report.records_written >= limit) {
                return Ok(());
            }
            let fetched = match ahead.take() {
                Some(fetched) => fetched,
                None => fetch(source, &cancel).await,
            };
            if fetched.cancelled {
                self.report.cancelled = true;
                return Ok(());
            }
            let Some(page) = self.fetched(fetched)? else {
                return Ok(());
            };
            let records = if S::CONFIRMS_UPSTREAM || !source.prefetch() {
                self.page(page).await?
            } else {
                let (written, next) =
                    futures_util::future::join(self.page(page), fetch(source, &cancel)).await;
                ahead = Some(next);
                written?
            };
            // A source reuses the allocations of records that leave the chain
            // as the type they entered (every pipeline's without a reshaping
            // transform), or that the chain hands back as that type (a
            // generated transform between two structs moves their values back).
            let spent = match same_type::<T::Out, In>(records) {
                Ok(spent) => Some(spent),
                Err(records) => self.p.transform.recycle(records),
            };
            if let Some(spent) = spent {
                source.recycle(spent);
            }
        }
    }

    /// Counts a page the source gave; `None` at its end.
    fn fetched(&mut self, fetched: Fetched<In>) -> Result<Option<Page<In>>> {
        self.m.source_page_duration.record(fetched.took.as_secs_f64());
        let page = match fetched.page {
            Ok(Some(page)) => page,
            Ok(None) => return Ok(None),
            Err(error) => {
                self.m.source_errors.increment(1);
                return Err(error);
            }
        };
        self.seq += 1;
        self.report.pages += 1;
        let read = (page.records.len() + page.rejects.len()) as u64 + page.skipped;
        self.report.records_read += read;
        self.report.records_skipped += page.skipped;
        self.m.source_pages.increment(1);
        self.m.source_records.increment(read);
        if let Some(tracker) = &self.progress {
            tracker.update(&self.report);
        }
        Ok(Some(page))
    }

    /// Transforms, writes, dead-letters and confirms one page; returns its
    /// records for the source to reuse.
    async fn page(&mut self, page: Page<In>) -> Result<Vec<T::Out>> {
        let mut failed: Vec<Failed> = page
            .rejects
            .into_iter()
            .enumerate()
            .map(|(index, r)| {
                let reason = if r.error.kind() == ErrorKind::Schema { Reason::Schema } else { Reason::Parse };
                Failed { payload: r.payload, error: r.error, reason, index }
            })
            .collect();
        let (mut records, mut origins) = self.transform(page.records, &mut failed)?;
        self.enforce_contract(&mut records, &mut origins, &mut failed)?;
        if let Some(limit) = self.p.overrides.limit {
            // `origins` maps positions, so the ones past the cut are never read.
            records.truncate(limit.saturating_sub(self.report.records_written) as usize);
        }
        let mut rejected = Vec::new();
        self.write(&records, &origins, &mut failed, &mut rejected).await?;
        let page_failures = failed.len() as u64;
        self.dead_letter(failed).await?;
        self.commit(page.bookmark, &records, &rejected).await?;
        if let Some(tracker) = &self.progress {
            tracker.update(&self.report);
        }
        self.check_budgets(page_failures)?;
        Ok(records)
    }

    /// Runs every record through the chain; rejected records join `failed`
    /// (indexed by their position in the source's page). Returns the
    /// survivors and, when the chain [expands](Transform::EXPANDS), the
    /// index of the source record each came from.
    ///
    /// A record the chain rejects leaves no output behind: the outputs it
    /// made before the error are taken back, and the DLQ gets the record
    /// as the source gave it.
    fn transform(&mut self, records: Vec<In>, failed: &mut Vec<Failed>) -> Result<(Vec<T::Out>, Origins)> {
        let span = tracing::trace_span!(
            "faucet.transform.apply",
            records_in = records.len(),
            records_out = tracing::field::Empty
        );
        let _entered = span.enter();
        let records_in = records.len();
        let mut out = Vec::with_capacity(records_in);
        let mut origins = T::EXPANDS.then(|| Vec::with_capacity(records_in));
        for (index, record) in records.into_iter().enumerate() {
            // Keep a copy only when a record can be rejected and has somewhere to go.
            let keep = (T::CAN_FAIL && self.p.dlq.is_some()).then(|| record.clone());
            let before = out.len();
            match self.p.transform.apply_into(record, &mut out) {
                Ok(()) if out.len() == before => self.report.records_filtered += 1,
                Ok(()) => {
                    if let Some(origins) = origins.as_mut() {
                        origins.resize(out.len(), index);
                    }
                }
                Err(error) => {
                    out.truncate(before);
                    match keep {
                        Some(kept) => failed.push(Failed {
                            payload: kept.into_json(),
                            error,
                            reason: Reason::Transform,
                            index,
                        }),
                        None => {
                            return Err(error.context(format!(
                                "record {index} of page {} (no dead-letter queue configured)",
                                self.seq
                            )));
                        }
                    }
                }
            }
        }
        self.m.transform_in.increment(records_in as u64);
        self.m.transform_out.increment(out.len() as u64);
        span.record("records_out", out.len());
        Ok((out, Origins(origins)))
    }

    /// Compiles the contract for this run; `quarantine` without a DLQ is a
    /// configuration error (a generated pipeline never has it: it does not build).
    fn compile_contract(&mut self) -> Result<()> {
        let Some(declared) = self.p.contract.as_ref() else {
            return Ok(());
        };
        let compiled = declared.compile()?;
        if compiled.on_breach() == OnBreach::Quarantine && self.p.dlq.is_none() {
            return Err(FaucetError::config(
                "the contract's `on_breach: quarantine` needs a dead-letter queue, and the pipeline has none",
            ));
        }
        self.contract = Some(compiled);
        Ok(())
    }

    /// Checks the transformed records of a page against the contract, before
    /// anything of the page is written. `fail`: the first breach fails the
    /// run. `quarantine`: breaching records leave `records` for `failed`, the
    /// DLQ, indexed by their position among the transformed records (as
    /// faucet-stream indexes them). `warn`: they stay, counted.
    fn enforce_contract(
        &mut self,
        records: &mut Vec<T::Out>,
        origins: &mut Origins,
        failed: &mut Vec<Failed>,
    ) -> Result<()> {
        let Some(contract) = self.contract.as_ref() else {
            return Ok(());
        };
        let span = tracing::debug_span!("faucet.contract.apply", version = contract.version());
        let _entered = span.enter();
        let mode = contract.on_breach();
        if mode == OnBreach::Quarantine {
            let n = records.len();
            let checked = std::mem::replace(records, Vec::with_capacity(n)).into_iter().enumerate();
            let mut kept = Vec::with_capacity(n);
            for (position, record) in checked {
                let index = origins.index(position);
                match contract.check(&record.to_json()) {
                    None => {
                        records.push(record);
                        kept.push(position);
                    }
                    Some(breach) => {
                        self.report.contract_breaches += 1;
                        self.m.contract_violation(&breach, mode);
                        let error = contract.error(&breach, None);
                        failed.push(Failed {
                            payload: record.into_json(),
                            error,
                            reason: Reason::Contract,
                            index,
                        });
                    }
                }
            }
            origins.keep(&kept);
            return Ok(());
        }
        for (index, record) in records.iter().enumerate() {
            let Some(breach) = contract.check(&record.to_json()) else { continue };
            let what = format!("record {index} of page {}", self.seq);
            if mode == OnBreach::Fail {
                self.m.contract_abort();
                return Err(contract.error(&breach, Some(&what)));
            }
            self.report.contract_breaches += 1;
            self.m.contract_violation(&breach, mode);
            if !self.contract_warned {
                self.contract_warned = true;
                tracing::warn!(
                    pipeline = %self.p.name,
                    row = %self.p.row,
                    "{}; written anyway (`on_breach: warn`), later breaches of this run are only counted",
                    contract.error(&breach, Some(&what)).message()
                );
            }
        }
        Ok(())
    }

    /// Writes `records` in `batch_size` chunks; rejected rows join `failed`,
    /// indexed by their position among the records written (as faucet-stream
    /// indexes them), or by their source record's (`origins`) when the chain expands.
    async fn write(
        &mut self,
        records: &[T::Out],
        origins: &Origins,
        failed: &mut Vec<Failed>,
        rejected: &mut Vec<usize>,
    ) -> Result<()> {
        if self.p.overrides.dry_run {
            self.report.records_written += records.len() as u64;
            return Ok(());
        }
        let sink_name = self.p.sink.connector_name();
        // `0` is faucet-stream's "no batching": the page is written as it came.
        let batch_size = match self.p.sink.batch_size() {
            0 => records.len().max(1),
            n => n,
        };
        let mut all_committed = !records.is_empty();
        for (part, chunk) in records.chunks(batch_size).enumerate() {
            let token = CommitToken { seq: self.seq, part: part as u32 };
            let offset = part * batch_size;
            let span = tracing::debug_span!("faucet.sink.write", connector = sink_name, rows = chunk.len());
            let write_started = Instant::now();
            let written = self.p.sink.write_batch(chunk, token).instrument(span).await;
            self.m.sink_write_duration.record(observe::secs(write_started));
            match written {
                Ok(outcome) => {
                    all_committed &= outcome.already_committed;
                    self.report.records_written += outcome.written;
                    self.m.sink_records.increment(outcome.written);
                    for f in outcome.failures {
                        let Some(payload) = chunk.get(f.index) else {
                            return Err(FaucetError::sink(format!(
                                "sink `{sink_name}` reported a failure for row {} of a {}-row batch",
                                f.index,
                                chunk.len()
                            )));
                        };
                        rejected.push(offset + f.index);
                        let index = origins.index(offset + f.index);
                        self.require_dlq(&f.error, index)?;
                        failed.push(Failed {
                            payload: payload.to_json().into_owned(),
                            error: f.error,
                            reason: Reason::Partial,
                            index,
                        });
                    }
                }
                Err(error) => {
                    self.m.sink_errors.increment(1);
                    let dlq_all =
                        self.p.dlq.as_ref().is_some_and(|d| d.on_batch_error == OnBatchError::DlqAll);
                    if !dlq_all {
                        return Err(error.context(format!(
                            "page {} rows {}..{}",
                            self.seq,
                            offset,
                            offset + chunk.len()
                        )));
                    }
                    all_committed = false;
                    for (j, payload) in chunk.iter().enumerate() {
                        rejected.push(offset + j);
                        failed.push(Failed {
                            payload: payload.to_json().into_owned(),
                            error: FaucetError::new(ErrorKind::Sink, error.message()),
                            reason: Reason::DlqAll,
                            index: origins.index(offset + j),
                        });
                    }
                }
            }
        }
        if all_committed {
            self.report.pages_already_committed += 1;
        }
        Ok(())
    }

    /// Fails the run when a row is rejected and there is no DLQ to take it.
    fn require_dlq(&self, error: &FaucetError, index: usize) -> Result<()> {
        if self.p.dlq.is_some() {
            return Ok(());
        }
        Err(error.clone().context(format!(
            "sink `{}` rejected record {index} of page {} (no dead-letter queue configured)",
            self.p.sink.connector_name(),
            self.seq
        )))
    }

    /// Writes the page's envelopes to the DLQ (or fails the run when there is none).
    async fn dead_letter(&mut self, failed: Vec<Failed>) -> Result<()> {
        if failed.is_empty() {
            return Ok(());
        }
        let sink_name = self.p.sink.connector_name();
        let Some(dlq) = self.p.dlq.as_mut() else {
            let first = &failed[0];
            return Err(first.error.clone().context(format!(
                "record {} of page {} (no dead-letter queue configured)",
                first.index, self.seq
            )));
        };
        let count = failed.len() as u64;
        if self.p.overrides.dry_run {
            self.report.records_dead_lettered += count;
            self.dlq_total += count;
            return Ok(());
        }
        let span = tracing::debug_span!(
            "faucet.dlq.route",
            connector = dlq.sink.connector_name(),
            rows = failed.len()
        );
        let origin = Origin { sink: sink_name, pipeline: &self.p.name, row: &self.p.row };
        let envelopes: Vec<Value> = failed
            .into_iter()
            .map(|f| dlq::envelope(origin, &f.error, f.reason, f.payload, f.index))
            .collect();
        let token = CommitToken { seq: self.seq, part: 0 };
        let write_started = Instant::now();
        let written = dlq.sink.write_batch(&envelopes, token).instrument(span).await;
        self.m.dlq_write_duration.record(observe::secs(write_started));
        let outcome = written.map_err(|e| FaucetError::new(ErrorKind::Dlq, e.to_string()))?;
        if let Some(f) = outcome.failures.first() {
            return Err(FaucetError::new(
                ErrorKind::Dlq,
                format!("the dead-letter sink rejected an envelope: {}", f.error),
            ));
        }
        self.report.records_dead_lettered += count;
        self.dlq_total += count;
        self.m.dlq_records.increment(count);
        Ok(())
    }

    /// Flushes the sink, then the DLQ; returns their checkpoints.
    async fn flush_all(&mut self) -> Result<(Option<Value>, Option<Value>)> {
        let sink_name = self.p.sink.connector_name();
        let flush_started = Instant::now();
        let flushed = self
            .p
            .sink
            .flush()
            .instrument(tracing::debug_span!("faucet.sink.flush", connector = sink_name))
            .await;
        self.m.sink_flush_duration.record(observe::secs(flush_started));
        let sink_checkpoint = flushed.inspect_err(|_| self.m.sink_errors.increment(1))?;
        let dlq_checkpoint = match self.p.dlq.as_mut() {
            Some(dlq) => {
                let span = tracing::debug_span!(
                    "faucet.sink.flush",
                    connector = dlq.sink.connector_name(),
                    dlq = true
                );
                let flush_started = Instant::now();
                let flushed = dlq.sink.flush().instrument(span).await;
                self.m.dlq_flush_duration.record(observe::secs(flush_started));
                flushed.map_err(|e| FaucetError::new(ErrorKind::Dlq, e.to_string()))?
            }
            None => None,
        };
        self.unflushed = false;
        Ok((sink_checkpoint, dlq_checkpoint))
    }

    /// Flushes the sink and the DLQ, hands the written records to the fan-out
    /// (a matrix parent's children), then persists the bookmark.
    async fn commit(
        &mut self,
        source_bookmark: Option<Value>,
        records: &[T::Out],
        rejected: &[usize],
    ) -> Result<()> {
        if self.p.overrides.dry_run {
            // Nothing was written, so nothing is flushed or persisted; a
            // matrix parent's children still preview the page's records.
            return self.fan_out(records, rejected).await;
        }
        if self.p.state.is_none() && !H::ACTIVE && !self.confirms_upstream {
            // Nothing is persisted, no child reads this page and the source
            // acknowledges nothing upstream: syncing every page would only cost
            // time. The run flushes once, at its end.
            self.unflushed = true;
            return Ok(());
        }
        let (sink_checkpoint, dlq_checkpoint) = self.flush_all().await?;
        self.fan_out(records, rejected).await?;
        let Some(store) = self.p.state.as_ref().filter(|_| self.p.overrides.persists()) else {
            return Ok(());
        };
        let bookmark = Bookmark::after_page(
            self.lineage.clone(),
            self.seq,
            source_bookmark,
            sink_checkpoint,
            dlq_checkpoint,
        );
        let bookmark = encode(&bookmark)?;
        let put_started = Instant::now();
        store
            .put(&self.key, &bookmark)
            .instrument(tracing::debug_span!("faucet.state.put", key = %self.key))
            .await
            .map_err(|e| {
                self.m.state_error(StateOp::Put, e.kind());
                e.context("persisting the bookmark")
            })?;
        self.m.bookmark_put(put_started);
        self.report.last_bookmark = Some(bookmark);
        Ok(())
    }

    /// Hands a page's written records (all but `rejected`) to the fan-out.
    async fn fan_out(&mut self, records: &[T::Out], rejected: &[usize]) -> Result<()> {
        if H::ACTIVE {
            let mut written: Vec<&T::Out> = Vec::with_capacity(records.len());
            let mut skip = rejected.to_vec();
            skip.sort_unstable();
            written.extend(
                records.iter().enumerate().filter(|(i, _)| skip.binary_search(i).is_err()).map(|(_, r)| r),
            );
            self.p.fan_out.confirmed(&written).await?;
        }
        Ok(())
    }

    /// Aborts after a committed page when a DLQ budget is exceeded.
    fn check_budgets(&self, page_failures: u64) -> Result<()> {
        let Some(dlq) = self.p.dlq.as_ref() else {
            return Ok(());
        };
        if let Some(max) = dlq.max_failures_per_page
            && page_failures > max
        {
            return Err(FaucetError::new(
                ErrorKind::Budget,
                format!(
                    "page {} dead-lettered {page_failures} rows, more than max_failures_per_page = {max}",
                    self.seq
                ),
            ));
        }
        if let Some(max) = dlq.max_failures_total
            && self.dlq_total > max
        {
            return Err(FaucetError::new(
                ErrorKind::Budget,
                format!(
                    "the run dead-lettered {} rows, more than max_failures_total = {max}",
                    self.dlq_total
                ),
            ));
        }
        Ok(())
    }
}

/// The JSON a state store keeps for `bookmark`.
fn encode(bookmark: &Bookmark) -> Result<Value> {
    serde_json::to_value(bookmark).map_err(|e| FaucetError::state(format!("cannot encode the bookmark: {e}")))
}

/// What one read of the source gave (`Ok(None)`: the source ended), and how long it took.
struct Fetched<R> {
    page: Result<Option<Page<R>>>,
    /// The run was cancelled before the source answered (`page` is `Ok(None)`).
    cancelled: bool,
    took: Duration,
}

/// Reads the next page, giving up at once when `cancel` fires.
async fn fetch<S: Source>(source: &mut S, cancel: &CancellationToken) -> Fetched<S::Record> {
    let span = tracing::debug_span!("faucet.source.page", connector = source.connector_name());
    let started = Instant::now();
    let (page, cancelled) = tokio::select! {
        biased;
        () = cancel.cancelled() => (Ok(None), true),
        page = source.next_page().instrument(span) => (page, false),
    };
    Fetched { page, cancelled, took: started.elapsed() }
}

/// `records` as a `Vec<B>` when `A` is `B` (the chain's output type is its
/// input type), so the source can reuse them; handed back otherwise.
fn same_type<A: 'static, B: 'static>(records: Vec<A>) -> Result<Vec<B>, Vec<A>> {
    let mut records = Some(records);
    match (&mut records as &mut dyn std::any::Any).downcast_mut::<Option<Vec<B>>>() {
        Some(same) => Ok(same.take().unwrap_or_default()),
        None => Err(records.unwrap_or_default()),
    }
}

//! Running a matrix: the compiled schedule's invocations, their concurrency
//! bound, error policy and report.
//!
//! The generator emits one async function per row and the schedule itself (which
//! rows start at once, which wait for which, which run per parent record); the
//! [`Executor`] only enforces `max_concurrent`, records what happened, and
//! answers "did this row's dependencies succeed?". No graph is built or checked
//! at run time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit, watch};
use tokio_util::sync::CancellationToken;

use crate::error::{ErrorKind, FaucetError, Result};
use crate::page::Record;
use crate::pipeline::{Overrides, Pipeline, RunOptions};
use crate::progress::Progress;
use crate::report::RunReport;

/// Reading a parent record's value, which `${parent.…}` references share
/// with parent keys; they live with the substitution rules, below the secrets.
pub use crate::state::parent_key_segment;
pub use crate::substitute::{lookup, render};

/// A boxed invocation (or root tree) future. The generated schedule boxes
/// every child invocation, so a row's future type never contains its
/// descendants' and a parent chain of any depth stays within rustc's limits.
pub type RowFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs `futures` concurrently to the end (the generated `run_with` starts
/// every root tree this way; unlike `tokio::join!`, any count compiles).
pub async fn join_all<T>(futures: Vec<RowFuture<'_, T>>) -> Vec<T> {
    futures_util::future::join_all(futures).await
}

/// One row of the compiled schedule, as the generator emits it.
#[derive(Debug, Clone, Copy)]
pub struct RowInfo {
    /// The row's id.
    pub id: &'static str,
    /// The parent row, for a child that runs once per parent record.
    pub parent: Option<usize>,
    /// The root of the row's parent chain (itself for a root row).
    pub root: usize,
    /// Rows that run once per record this row writes.
    pub children: &'static [usize],
    /// Rows whose whole tree must succeed before this (root) row starts.
    pub depends_on: &'static [usize],
    /// The dotted path of the parent record's key (`id` by default).
    pub parent_key: &'static [&'static str],
}

/// What a failed invocation does to the rest of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Other subtrees go on; the failed row's descendants and dependents are skipped (the default).
    #[default]
    Continue,
    /// Everything pending is skipped and running invocations stop at their next page.
    Stop,
}

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationStatus {
    /// It ran to the end of its source.
    Succeeded,
    /// It failed; see its error.
    Failed,
    /// It did not run (or was stopped): a dependency or parent failed, the parent wrote no records, the matrix stopped, or the run was cancelled first.
    Skipped,
    /// The run was cancelled (a signal, in the generated `main`) while it ran:
    /// it stopped at a page boundary, with what it wrote confirmed.
    Cancelled,
}

impl InvocationStatus {
    /// `succeeded`, `failed`, `skipped` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationStatus::Succeeded => "succeeded",
            InvocationStatus::Failed => "failed",
            InvocationStatus::Skipped => "skipped",
            InvocationStatus::Cancelled => "cancelled",
        }
    }
}

/// One invocation of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct InvocationReport {
    /// The row's id.
    pub row: String,
    /// The parent record's key, for a child invocation.
    pub parent_key: Option<String>,
    /// The shard, for an invocation of a sharded pipeline.
    pub shard: Option<u32>,
    /// How it ended.
    pub status: InvocationStatus,
    /// Records read.
    pub records_read: u64,
    /// Records written.
    pub records_written: u64,
    /// Rows dead-lettered.
    pub records_dead_lettered: u64,
    /// Wall time.
    pub duration: Duration,
    /// Why it failed or was skipped.
    pub error: Option<String>,
}

/// Every invocation of a matrix run.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixReport {
    /// The pipeline's name.
    pub pipeline: String,
    /// Every invocation, in the order they finished.
    pub invocations: Vec<InvocationReport>,
    /// Wall time of the whole matrix.
    pub duration: Duration,
    /// True when the run was cancelled ([`RunOptions::cancel`]) before every
    /// invocation had run: some stopped early or never started.
    pub cancelled: bool,
}

impl MatrixReport {
    /// True when no invocation failed.
    pub fn succeeded(&self) -> bool {
        self.invocations.iter().all(|i| i.status != InvocationStatus::Failed)
    }

    /// 0 when every invocation succeeded or was skipped, 1 when any failed or the run was cancelled.
    pub fn exit_code(&self) -> i32 {
        if self.succeeded() && !self.cancelled { 0 } else { 1 }
    }

    /// `failed` when any invocation failed, else `cancelled` when the run was, else `ok`.
    pub fn status(&self) -> &'static str {
        if !self.succeeded() {
            "failed"
        } else if self.cancelled {
            "cancelled"
        } else {
            "ok"
        }
    }

    /// How many invocations ended with `status`.
    pub fn count(&self, status: InvocationStatus) -> usize {
        self.invocations.iter().filter(|i| i.status == status).count()
    }

    /// The invocations of row `id`.
    pub fn row<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a InvocationReport> + 'a {
        self.invocations.iter().filter(move |i| i.row == id)
    }

    /// The report as JSON, for machines: totals plus one object per invocation.
    pub fn to_json(&self) -> Value {
        let invocations: Vec<Value> = self
            .invocations
            .iter()
            .map(|i| {
                let mut invocation = json!({
                    "row": i.row,
                    "parent_key": i.parent_key,
                    "status": i.status.as_str(),
                    "records_read": i.records_read,
                    "records_written": i.records_written,
                    "records_dead_lettered": i.records_dead_lettered,
                    "duration_ms": i.duration.as_millis() as u64,
                    "error": i.error,
                });
                if let Some(shard) = i.shard {
                    invocation["shard"] = json!(shard);
                }
                invocation
            })
            .collect();
        json!({
            "pipeline": self.pipeline,
            "status": self.status(),
            "duration_ms": self.duration.as_millis() as u64,
            "totals": {
                "invocations": self.invocations.len(),
                "succeeded": self.count(InvocationStatus::Succeeded),
                "failed": self.count(InvocationStatus::Failed),
                "skipped": self.count(InvocationStatus::Skipped),
                "cancelled": self.count(InvocationStatus::Cancelled),
                "records_written": self.invocations.iter().map(|i| i.records_written).sum::<u64>(),
            },
            "invocations": invocations,
        })
    }
}

impl fmt::Display for MatrixReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.invocations {
            write!(f, "{}[{}", self.pipeline, i.row)?;
            if let Some(key) = &i.parent_key {
                write!(f, " {key}")?;
            }
            if let Some(shard) = i.shard {
                write!(f, " shard {shard}")?;
            }
            write!(
                f,
                "]: {}, read {}, wrote {}, dead-lettered {} in {:.2}s",
                i.status.as_str(),
                i.records_read,
                i.records_written,
                i.records_dead_lettered,
                i.duration.as_secs_f64()
            )?;
            if let Some(error) = &i.error {
                write!(f, " ({error})")?;
            }
            writeln!(f)?;
        }
        write!(
            f,
            "{}: {} invocation(s), {} succeeded, {} failed, {} skipped, ",
            self.pipeline,
            self.invocations.len(),
            self.count(InvocationStatus::Succeeded),
            self.count(InvocationStatus::Failed),
            self.count(InvocationStatus::Skipped),
        )?;
        if self.cancelled {
            write!(f, "{} cancelled, ", self.count(InvocationStatus::Cancelled))?;
        }
        write!(
            f,
            "wrote {} record(s) in {:.2}s",
            self.invocations.iter().map(|i| i.records_written).sum::<u64>(),
            self.duration.as_secs_f64()
        )?;
        if self.cancelled {
            f.write_str(" (cancelled)")?;
        }
        Ok(())
    }
}

/// Runs a compiled matrix: bounds concurrency, applies `on_error`, records every invocation.
pub struct Executor {
    name: &'static str,
    rows: &'static [RowInfo],
    semaphore: Semaphore,
    /// The caller's token ([`RunOptions::cancel`]): the whole run is cancelled.
    interrupt: CancellationToken,
    /// A child of `interrupt`, also cancelled when `on_error: stop` stops the matrix.
    cancel: CancellationToken,
    /// Set when `interrupt` cut an invocation short or kept one from starting.
    interrupted: AtomicBool,
    on_error: OnError,
    started: Instant,
    trees: Vec<watch::Sender<bool>>,
    state: Mutex<ExecState>,
    progress: Option<Progress>,
    /// [`RunOptions::force_new_lineage`], handed to every invocation.
    force_new_lineage: bool,
    /// [`RunOptions::dry_run`], [`RunOptions::limit`] (each invocation's) and
    /// [`RunOptions::state_path`], handed to every invocation.
    overrides: Overrides,
}

#[derive(Default)]
struct ExecState {
    invocations: Vec<InvocationReport>,
    /// Rows with a failed or skipped invocation: their dependents are skipped.
    unhealthy: Vec<bool>,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor").field("name", &self.name).field("rows", &self.rows.len()).finish()
    }
}

/// The default bound on concurrent invocations: the machine's cores, 1 to 8.
pub fn default_max_concurrent() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8)
}

impl Executor {
    /// An executor for `rows`, running at most `max_concurrent` invocations at once
    /// (default: [`default_max_concurrent`]; `Some(0)`: no limit).
    pub fn new(
        name: &'static str,
        rows: &'static [RowInfo],
        max_concurrent: Option<usize>,
        on_error: OnError,
        options: &RunOptions,
    ) -> Self {
        let interrupt = options.cancel.clone().unwrap_or_default();
        Executor {
            name,
            rows,
            // `0` is faucet-stream's "no limit".
            semaphore: Semaphore::new(match max_concurrent {
                Some(0) => Semaphore::MAX_PERMITS,
                Some(n) => n.min(Semaphore::MAX_PERMITS),
                None => default_max_concurrent().max(1),
            }),
            cancel: interrupt.child_token(),
            interrupt,
            interrupted: AtomicBool::new(false),
            on_error,
            started: Instant::now(),
            trees: rows.iter().map(|_| watch::Sender::new(false)).collect(),
            state: Mutex::new(ExecState { invocations: Vec::new(), unhealthy: vec![false; rows.len()] }),
            progress: options.progress.clone(),
            force_new_lineage: options.force_new_lineage,
            overrides: Overrides::from(options),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ExecState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the trees of `row`'s dependencies are done; true when all of them
    /// succeeded (no failed or skipped invocation).
    pub async fn dependencies_succeeded(&self, row: usize) -> bool {
        for &dep in self.rows[row].depends_on {
            let mut done = self.trees[self.rows[dep].root].subscribe();
            let _ = done.wait_for(|d| *d).await;
        }
        let state = self.lock();
        self.rows[row].depends_on.iter().all(|&dep| !state.unhealthy[dep])
    }

    /// Marks the tree rooted at `root` done (all its invocations finished).
    pub fn tree_done(&self, root: usize) {
        self.trees[root].send_replace(true);
    }

    /// Records `row` and every row below it as skipped, with `reason`.
    pub fn skip_tree(&self, row: usize, parent_key: Option<String>, reason: &str) {
        let mut state = self.lock();
        let mut stack = vec![row];
        while let Some(r) = stack.pop() {
            state.unhealthy[r] = true;
            state.invocations.push(InvocationReport {
                row: self.rows[r].id.to_owned(),
                parent_key: if r == row { parent_key.clone() } else { None },
                shard: None,
                status: InvocationStatus::Skipped,
                records_read: 0,
                records_written: 0,
                records_dead_lettered: 0,
                duration: Duration::ZERO,
                error: Some(reason.to_owned()),
            });
            stack.extend(self.rows[r].children.iter().copied());
        }
    }

    /// Starts an invocation of `row` (for `parent`'s record when it is a child):
    /// waits for a slot under `max_concurrent`. `None` when it must not run (the
    /// matrix stopped, or the parent record has no key); that is recorded.
    pub async fn begin(&self, row: usize, parent: Option<&Record>) -> Option<Invocation<'_>> {
        let info = &self.rows[row];
        let parent_key = match parent {
            Some(record) => match lookup(record, info.parent_key) {
                Some(value) => Some((render(value), parent_key_segment(value))),
                None => {
                    let path = info.parent_key.join(".");
                    self.record(
                        row,
                        None,
                        None,
                        Instant::now(),
                        Err(FaucetError::source(format!(
                            "the parent record has no `{path}` (this row's parent_key)"
                        ))),
                    );
                    return None;
                }
            },
            None => None,
        };
        let (parent_key, key_suffix) = parent_key.unzip();
        self.start(row, parent_key, key_suffix, None).await
    }

    /// Starts shard `shard` of root `row` (a sharded pipeline's): waits for a
    /// slot under `max_concurrent`. `None` when it must not run; that is recorded.
    pub async fn begin_shard(&self, row: usize, shard: u32) -> Option<Invocation<'_>> {
        self.start(row, None, None, Some(shard)).await
    }

    async fn start(
        &self,
        row: usize,
        parent_key: Option<String>,
        key_suffix: Option<String>,
        shard: Option<u32>,
    ) -> Option<Invocation<'_>> {
        let permit = if self.cancel.is_cancelled() {
            None
        } else {
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => None,
                permit = self.semaphore.acquire() => permit.ok(),
            }
        };
        let Some(permit) = permit else {
            self.skip_tree(row, parent_key, self.stop_reason());
            return None;
        };
        Some(Invocation {
            row,
            id: self.rows[row].id,
            key_suffix,
            parent_key,
            shard,
            permit: Mutex::new(Some(permit)),
            started: Instant::now(),
            fanned: AtomicU64::new(0),
            cancel: self.cancel.child_token(),
            progress: self.progress.clone(),
            force_new_lineage: self.force_new_lineage,
            overrides: self.overrides.clone(),
        })
    }

    /// Why work stops early: the run was cancelled, or `on_error: stop` stopped the matrix.
    fn stop_reason(&self) -> &'static str {
        if self.interrupt.is_cancelled() {
            self.interrupted.store(true, Ordering::Relaxed);
            "the run was cancelled"
        } else {
            "the matrix stopped after a failure"
        }
    }

    /// Runs the children of one parent page: releases the parent's slot while they
    /// run (so a bound of 1 cannot deadlock), waits for all of them, takes the slot
    /// back. `Err` when any child failed, so the parent's bookmark stays before the page.
    pub async fn children<'a, F>(&'a self, parent: &Invocation<'a>, records: usize, children: F) -> Result<()>
    where
        F: IntoIterator,
        F::Item: Future<Output = bool>,
    {
        parent.fanned.fetch_add(records as u64, Ordering::Relaxed);
        drop(parent.permit.lock().unwrap_or_else(|e| e.into_inner()).take());
        let results = futures_util::future::join_all(children).await;
        let permit = tokio::select! {
            biased;
            () = self.cancel.cancelled() => None,
            permit = self.semaphore.acquire() => permit.ok(),
        };
        *parent.permit.lock().unwrap_or_else(|e| e.into_inner()) = permit;
        let failed = results.iter().filter(|ok| !**ok).count();
        if failed > 0 && self.cancel.is_cancelled() {
            return Err(FaucetError::new(
                ErrorKind::Cancelled,
                format!("{failed} child invocation(s) of this page were stopped; a rerun retries them"),
            ));
        }
        if failed > 0 {
            return Err(FaucetError::source(format!(
                "{failed} child invocation(s) of this page failed; the page stays unconfirmed so a rerun retries them"
            )));
        }
        Ok(())
    }

    /// Ends an invocation with the result of its run; true when it succeeded.
    pub fn end(&self, invocation: Invocation<'_>, result: Result<RunReport>) -> bool {
        let Invocation { row, parent_key, shard, started, fanned, .. } = invocation;
        let ok = self.record(row, parent_key.clone(), shard, started, result);
        let children = self.rows[row].children;
        if ok && fanned.load(Ordering::Relaxed) == 0 {
            for &child in children {
                self.skip_benign(child, parent_key.clone(), "the parent wrote no records");
            }
        } else if !ok {
            for &child in children {
                self.skip_tree(child, parent_key.clone(), "the parent invocation failed");
            }
        }
        ok
    }

    /// A skip that is not a failure (the parent wrote nothing): dependents still run.
    fn skip_benign(&self, row: usize, parent_key: Option<String>, reason: &str) {
        let mut state = self.lock();
        state.invocations.push(InvocationReport {
            row: self.rows[row].id.to_owned(),
            parent_key,
            shard: None,
            status: InvocationStatus::Skipped,
            records_read: 0,
            records_written: 0,
            records_dead_lettered: 0,
            duration: Duration::ZERO,
            error: Some(reason.to_owned()),
        });
    }

    fn record(
        &self,
        row: usize,
        parent_key: Option<String>,
        shard: Option<u32>,
        started: Instant,
        result: Result<RunReport>,
    ) -> bool {
        let stopped = |report| {
            let status = if self.interrupt.is_cancelled() {
                InvocationStatus::Cancelled
            } else {
                InvocationStatus::Skipped
            };
            (status, report, Some(format!("stopped: {}", self.stop_reason())))
        };
        let (status, report, error) = match result {
            Ok(report) if report.cancelled => stopped(report),
            Err(e) if e.kind() == ErrorKind::Cancelled && self.cancel.is_cancelled() => {
                stopped(RunReport::default())
            }
            Ok(report) => (InvocationStatus::Succeeded, report, None),
            Err(e) => (InvocationStatus::Failed, RunReport::default(), Some(e.to_string())),
        };
        let ok = status == InvocationStatus::Succeeded;
        if status == InvocationStatus::Failed && self.on_error == OnError::Stop {
            self.cancel.cancel();
        }
        let mut state = self.lock();
        if !ok {
            state.unhealthy[row] = true;
        }
        state.invocations.push(InvocationReport {
            row: self.rows[row].id.to_owned(),
            parent_key,
            shard,
            status,
            records_read: report.records_read,
            records_written: report.records_written,
            records_dead_lettered: report.records_dead_lettered,
            duration: started.elapsed(),
            error,
        });
        ok
    }

    /// The report of everything that ran.
    pub fn finish(self) -> MatrixReport {
        let duration = self.started.elapsed();
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        MatrixReport {
            pipeline: self.name.to_owned(),
            invocations: state.invocations,
            duration,
            cancelled: self.interrupted.into_inner(),
        }
    }
}

/// One running invocation: its row, parent key and concurrency slot.
pub struct Invocation<'a> {
    row: usize,
    id: &'static str,
    parent_key: Option<String>,
    key_suffix: Option<String>,
    /// The shard, for a sharded pipeline's invocation (its key suffix is set by `with_shard`).
    shard: Option<u32>,
    permit: Mutex<Option<SemaphorePermit<'a>>>,
    started: Instant,
    fanned: AtomicU64,
    cancel: CancellationToken,
    progress: Option<Progress>,
    force_new_lineage: bool,
    overrides: Overrides,
}

impl fmt::Debug for Invocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation").field("row", &self.id).field("parent_key", &self.parent_key).finish()
    }
}

impl Invocation<'_> {
    /// Names `pipeline` after this invocation's row, keys its state by the parent
    /// record (`pipeline::row::parent key`), and makes it stop when the matrix stops.
    pub fn configure<S, T, K, D, St, H>(
        &self,
        pipeline: Pipeline<S, T, K, D, St, H>,
    ) -> Pipeline<S, T, K, D, St, H>
    where
        S: crate::Source,
        T: crate::Transform<S::Record>,
        D: crate::Writes,
        St: crate::StateStore,
    {
        let mut pipeline = pipeline
            .with_row(self.id)
            .with_cancel(self.cancel.clone())
            .with_force_new_lineage(self.force_new_lineage)
            .with_overrides(self.overrides.clone());
        if let Some(progress) = &self.progress {
            // Labelled by the parent's key, or a shard's by its index.
            let label = self.parent_key.clone().or_else(|| self.shard.map(|s| format!("shard {s}")));
            pipeline = pipeline.with_progress(progress.clone(), label);
        }
        match &self.key_suffix {
            Some(suffix) => pipeline.with_key_suffix(suffix.clone()),
            None => pipeline,
        }
    }

    /// The parent record's key, for a child invocation.
    pub fn parent_key(&self) -> Option<&str> {
        self.parent_key.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ROWS: &[RowInfo] = &[
        RowInfo { id: "a", parent: None, root: 0, children: &[], depends_on: &[], parent_key: &["id"] },
        RowInfo { id: "b", parent: None, root: 1, children: &[], depends_on: &[0], parent_key: &["id"] },
    ];

    #[tokio::test]
    async fn concurrency_bound_holds() {
        static MANY: &[RowInfo] = &[RowInfo {
            id: "r",
            parent: None,
            root: 0,
            children: &[],
            depends_on: &[],
            parent_key: &["id"],
        }];
        let exec = Executor::new("t", MANY, Some(3), OnError::Continue, &RunOptions::default());
        let active = AtomicU64::new(0);
        let peak = AtomicU64::new(0);
        let work = (0..12).map(|_| async {
            let inv = exec.begin(0, None).await.unwrap();
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            active.fetch_sub(1, Ordering::SeqCst);
            exec.end(inv, Ok(RunReport::default()))
        });
        let results = futures_util::future::join_all(work).await;
        assert!(results.iter().all(|ok| *ok));
        assert_eq!(peak.load(Ordering::SeqCst), 3, "at most max_concurrent invocations run at once");
        assert_eq!(exec.finish().count(InvocationStatus::Succeeded), 12);

        // `0` is faucet-stream's "no limit": all 12 run at once.
        let exec = Executor::new("t", MANY, Some(0), OnError::Continue, &RunOptions::default());
        let (active, peak) = (AtomicU64::new(0), AtomicU64::new(0));
        let work = (0..12).map(|_| async {
            let inv = exec.begin(0, None).await.unwrap();
            peak.fetch_max(active.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            active.fetch_sub(1, Ordering::SeqCst);
            exec.end(inv, Ok(RunReport::default()))
        });
        futures_util::future::join_all(work).await;
        assert_eq!(peak.load(Ordering::SeqCst), 12);
    }

    #[tokio::test]
    async fn failed_dependency_skips_dependents_and_stop_cancels() {
        let exec = Executor::new("t", ROWS, Some(2), OnError::Stop, &RunOptions::default());
        let a = exec.begin(0, None).await.unwrap();
        assert!(!exec.end(a, Err(FaucetError::sink("boom"))));
        exec.tree_done(0);
        assert!(!exec.dependencies_succeeded(1).await);
        assert!(exec.begin(1, None).await.is_none(), "stop mode skips pending work");
        let report = exec.finish();
        assert_eq!(report.count(InvocationStatus::Failed), 1);
        assert_eq!(report.count(InvocationStatus::Skipped), 1);
        assert_eq!(report.exit_code(), 1);
        assert_eq!(report.to_json()["totals"]["failed"], 1);
        assert!(!report.cancelled, "on_error: stop is not a cancellation");
        assert_eq!(report.status(), "failed");
    }

    #[tokio::test]
    async fn cancelled_run_reports_cancelled_invocations_and_skips_the_rest() {
        let interrupt = CancellationToken::new();
        let options = RunOptions { cancel: Some(interrupt.clone()), ..RunOptions::default() };
        let exec = Executor::new("t", ROWS, Some(2), OnError::Continue, &options);
        let a = exec.begin(0, None).await.unwrap();
        interrupt.cancel();
        assert!(a.cancel.is_cancelled(), "the running invocation sees the cancellation");
        assert!(!exec.end(a, Ok(RunReport { records_written: 3, cancelled: true, ..RunReport::default() })));
        exec.tree_done(0);
        assert!(!exec.dependencies_succeeded(1).await);
        assert!(exec.begin(1, None).await.is_none(), "nothing starts after a cancellation");
        let report = exec.finish();
        assert!(report.cancelled);
        assert_eq!(
            (report.count(InvocationStatus::Cancelled), report.count(InvocationStatus::Skipped)),
            (1, 1)
        );
        assert_eq!((report.status(), report.exit_code()), ("cancelled", 1));
        let json = report.to_json();
        assert_eq!(
            (json["status"].as_str(), json["totals"]["cancelled"].as_u64()),
            (Some("cancelled"), Some(1))
        );
        assert_eq!(json["invocations"][0]["status"], "cancelled");
        assert_eq!(json["invocations"][1]["error"], "the run was cancelled");
        let text = report.to_string();
        assert!(text.contains("t[a]: cancelled, read 0, wrote 3"), "{text}");
        assert!(text.ends_with("1 skipped, 1 cancelled, wrote 3 record(s) in 0.00s (cancelled)"), "{text}");
    }
}

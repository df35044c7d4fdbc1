//! What the generated `main`'s `--state-path`, `state` and `dlq replay` need
//! of a pipeline besides running it: its state store, moved where asked, and
//! a replay of dead letters through its sink.
//!
//! A replay follows faucet-cli's `faucet dlq replay`: it reads the JSONL
//! envelopes of one dead-letter file, keeps those this pipeline and row wrote
//! whose payload is the record as the sink received it (reasons `partial`,
//! `dlq_all` and `contract`), checks them against the contract again and
//! writes them through the sink, adding to what it holds. The transforms do
//! not run again (they already ran, and not all are idempotent), no bookmark
//! is read or written, and rows that fail again go to a fresh file next to
//! the one replayed (`x.replay-failed.jsonl`), so a replay never feeds itself.
//! [`ReplayOptions`] narrow it to one reason, or make it a dry run that
//! writes nothing (the contract is still checked, and the counts say what a
//! replay would write).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Lines, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{Pipeline, RunOptions};
use crate::dlq::{Dlq, Reason};
use crate::error::{FaucetError, Result};
use crate::page::{CommitToken, Page, Rejected};
use crate::record::RecordType;
use crate::report::RunReport;
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};
use crate::source::Source;
use crate::state::StateStore;
use crate::transform::Transform;

/// Envelopes per page of a replay.
const REPLAY_PAGE: usize = 500;

impl<S, T, K, D, St, H> Pipeline<S, T, K, D, St, H> {
    /// The pipeline's name (the config's `name`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<S, T, K, D, St: StateStore, H> Pipeline<S, T, K, D, St, H> {
    /// The store the pipeline keeps its bookmarks in, if it has one.
    pub fn state_store(&self) -> Option<&St> {
        self.state.as_ref()
    }

    /// Moves a `file` state store to [`RunOptions::state_path`](super::RunOptions::state_path);
    /// another store keeps its place, with a warning (as faucet-cli does).
    pub(crate) fn apply_state_path(&mut self) -> Result<()> {
        // Taken, so a shard's early move (see `with_shard`) is not repeated by the run.
        let Some(dir) = self.overrides.state_path.take() else {
            return Ok(());
        };
        let Some(store) = self.state.as_mut() else {
            return Err(FaucetError::config(format!(
                "--state-path: pipeline `{}` has no `state:` store, so it keeps no bookmark; \
                 add `state: {{ type: file, config: {{ path: … }} }}` to its config",
                self.name
            )));
        };
        if !store.relocate(&dir) {
            tracing::warn!(
                "--state-path applies to a `file` state store only; the `{}` store keeps its bookmarks as configured",
                store.store_name()
            );
        }
        Ok(())
    }
}

/// How a replay of dead letters runs (`dlq replay FILE --reason R --dry-run`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayOptions {
    /// Only envelopes of this reason (one a replay writes: see [`Reason::replayable`]).
    pub reason: Option<Reason>,
    /// Write nothing: count what a replay would write and would fail again.
    pub dry_run: bool,
}

/// What a replay of dead letters did.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The run through the sink: `records_written` were written,
    /// `records_dead_lettered` failed again (into [`Replay::failed_path`]).
    pub report: RunReport,
    /// Envelopes read from the file.
    pub envelopes: u64,
    /// Envelopes not replayed, by why.
    pub skipped: BTreeMap<String, u64>,
    /// Where rows that failed again went (only created when one did).
    pub failed_path: PathBuf,
}

impl<S, T, K, D, St, H> Pipeline<S, T, K, D, St, H>
where
    S: Source,
    T: Transform<S::Record>,
    K: Writes<T::Out>,
{
    /// Writes the dead letters of `file` (JSONL envelopes) through this
    /// pipeline's sink: see the [module docs](self).
    pub async fn replay_dead_letters(self, file: &Path, options: ReplayOptions) -> Result<Replay> {
        if let Some(why) = options.reason.and_then(Reason::not_replayable) {
            return Err(FaucetError::config(why));
        }
        let failed_path = failed_path(file);
        let tally = Arc::new(Mutex::new(Tally::default()));
        let mut letters = DeadLetters::<T::Out>::open(file, &self.name, &self.row, tally.clone())?;
        letters.only = options.reason;
        let Pipeline { mut sink, contract, name, row, cancel, .. } = self;
        sink.keep_existing();
        let mut replay = Pipeline::new(letters, sink)
            .with_name(name)
            .with_row(row)
            .with_cancel(cancel)
            .with_dlq(Dlq::new(FailedLetters { path: failed_path.clone(), file: None }));
        replay.contract = contract;
        let run = RunOptions { dry_run: options.dry_run, ..RunOptions::default() };
        let report = replay.with_options(&run).run().await?;
        let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(Replay { report, envelopes: tally.envelopes, skipped: tally.skipped, failed_path })
    }
}

/// `x.jsonl` → `x.replay-failed.jsonl`, next to it.
fn failed_path(file: &Path) -> PathBuf {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("dlq");
    file.with_file_name(format!("{stem}.replay-failed.jsonl"))
}

/// What the reader saw, for the replay's summary.
#[derive(Debug, Default)]
struct Tally {
    envelopes: u64,
    skipped: BTreeMap<String, u64>,
}

/// The envelopes of a dead-letter file as a source of the sink's records.
struct DeadLetters<R> {
    lines: Lines<BufReader<File>>,
    path: PathBuf,
    line: u64,
    pipeline: String,
    row: String,
    tally: Arc<Mutex<Tally>>,
    /// Only envelopes of this reason.
    only: Option<Reason>,
    done: bool,
    records: PhantomData<fn() -> R>,
}

impl<R> DeadLetters<R> {
    fn open(path: &Path, pipeline: &str, row: &str, tally: Arc<Mutex<Tally>>) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| FaucetError::source(format!("cannot open {}: {e}", path.display())))?;
        Ok(DeadLetters {
            lines: BufReader::new(file).lines(),
            path: path.to_path_buf(),
            line: 0,
            pipeline: pipeline.to_owned(),
            row: row.to_owned(),
            tally,
            only: None,
            done: false,
            records: PhantomData,
        })
    }

    /// The payload of an envelope this replay writes, or why it skips it.
    fn select(&self, mut envelope: Value) -> std::result::Result<Value, String> {
        let Some(fields) = envelope.as_object_mut() else {
            return Err("not a dead-letter envelope".to_owned());
        };
        let (Some(reason), Some(payload)) =
            (fields.get("reason").and_then(Value::as_str).map(str::to_owned), fields.remove("payload"))
        else {
            return Err("not a dead-letter envelope".to_owned());
        };
        let ours = fields.get("pipeline").and_then(Value::as_str) == Some(self.pipeline.as_str())
            && fields.get("row").and_then(Value::as_str) == Some(self.row.as_str());
        if !ours {
            return Err("written by another pipeline or row".to_owned());
        }
        match Reason::parse(&reason) {
            Some(r) if self.only.is_some_and(|only| only != r) => {
                Err(format!("reason `{reason}` (not --reason)"))
            }
            Some(r) if r.replayable() => Ok(payload),
            // The payload is the source's input, before the transforms.
            Some(_) => Err(format!("reason `{reason}` (fix the input and run again)")),
            None => Err(format!("unknown reason `{reason}`")),
        }
    }
}

impl<R: RecordType> Source for DeadLetters<R> {
    type Record = R;
    const REPLAYS_PAGES: bool = false;

    fn connector_name(&self) -> &'static str {
        "dlq_replay"
    }

    fn prefetch(&self) -> bool {
        false
    }

    async fn resume(&mut self, _bookmark: Option<Value>) -> Result<()> {
        Ok(())
    }

    async fn next_page(&mut self) -> Result<Option<Page<R>>> {
        let mut page = Page::default();
        while !self.done && page.records.len() + page.rejects.len() < REPLAY_PAGE {
            let Some(line) = self.lines.next() else {
                self.done = true;
                break;
            };
            self.line += 1;
            let line =
                line.map_err(|e| FaucetError::source(format!("cannot read {}: {e}", self.path.display())))?;
            if line.trim().is_empty() {
                continue;
            }
            let envelope: Value = serde_json::from_str(&line).map_err(|e| {
                FaucetError::source(format!(
                    "{}:{}: not a JSON line ({e}); `dlq replay` reads the JSONL envelopes of a `jsonl` dead-letter sink",
                    self.path.display(),
                    self.line
                ))
            })?;
            let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
            tally.envelopes += 1;
            match self.select(envelope) {
                Ok(payload) => match R::from_json(payload.clone()) {
                    Ok(record) => page.records.push(record),
                    Err(error) => page.rejects.push(Rejected { payload, error }),
                },
                Err(why) => {
                    *tally.skipped.entry(why).or_default() += 1;
                    page.skipped += 1;
                }
            }
        }
        let empty = page.records.is_empty() && page.rejects.is_empty() && page.skipped == 0;
        Ok((!empty).then_some(page))
    }
}

/// The replay's dead-letter queue: one JSONL file, created on its first envelope.
struct FailedLetters {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl FailedLetters {
    fn error(&self, e: std::io::Error) -> FaucetError {
        FaucetError::sink(format!("cannot write {}: {e}", self.path.display()))
    }
}

impl Sink for FailedLetters {
    fn connector_name(&self) -> &'static str {
        "jsonl"
    }

    fn batch_size(&self) -> usize {
        0
    }

    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        Ok(())
    }

    async fn flush(&mut self) -> Result<Option<Value>> {
        if let Some(file) = self.file.as_mut() {
            let synced = file.flush().and_then(|()| file.get_ref().sync_data());
            synced.map_err(|e| self.error(e))?;
        }
        Ok(None)
    }
}

impl Writes for FailedLetters {
    async fn write_batch(&mut self, batch: &[Value], _token: CommitToken) -> Result<WriteOutcome> {
        if self.file.is_none() {
            let file = File::create(&self.path).map_err(|e| self.error(e))?;
            self.file = Some(BufWriter::new(file));
        }
        let mut lines = Vec::new();
        for envelope in batch {
            lines.extend(serde_json::to_vec(envelope).map_err(|e| FaucetError::sink(e.to_string()))?);
            lines.push(b'\n');
        }
        if let Some(file) = self.file.as_mut() {
            let written = file.write_all(&lines);
            written.map_err(|e| self.error(e))?;
        }
        Ok(WriteOutcome { written: batch.len() as u64, ..WriteOutcome::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_letters_go_next_to_the_file() {
        assert_eq!(failed_path(Path::new("/d/dead.jsonl")), PathBuf::from("/d/dead.replay-failed.jsonl"));
        assert_eq!(failed_path(Path::new("dead")), PathBuf::from("dead.replay-failed.jsonl"));
    }
}

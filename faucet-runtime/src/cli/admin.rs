//! The generated `main`'s commands besides a run, on a single pipeline:
//! `state` (show the bookmark, or reset it after confirmation) and `dlq
//! replay FILE` (see [`Pipeline::replay_dead_letters`]).
//!
//! A sharded pipeline's state is its shard plan (`…::shards`) and one
//! bookmark per shard (`…::shard-I`): `state` shows them all, and `state
//! reset` deletes them all, for as many shards as the stored plan has, so a
//! run with another `shard.count` can start over.
//!
//! Text goes to stdout for `state show` (it is what was asked for) and to
//! stderr otherwise, like a run's summary; `--output json` prints one JSON
//! document on stdout instead.

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

use super::{Args, Command, Output};
use crate::FaucetError;
use crate::pipeline::{Pipeline, ReplayOptions, RunOptions};
use crate::sink::Writes;
use crate::source::Source;
use crate::state::{StateStore, validate_key};
use crate::transform::Transform;

/// Runs `args.command` on the pipeline `build` makes; returns the exit code.
pub(super) async fn execute<P, S, T, K, D, St, H>(args: &Args, build: P) -> Result<u8, String>
where
    P: FnOnce() -> Result<Pipeline<S, T, K, D, St, H>, FaucetError>,
    S: Source,
    T: Transform<S::Record>,
    K: Writes<T::Out>,
    D: Writes,
    St: StateStore,
{
    let options = RunOptions { state_path: args.state_path.clone(), ..RunOptions::default() };
    let mut pipeline = build().map_err(|e| e.to_string())?.with_options(&options);
    pipeline.apply_state_path().map_err(|e| e.to_string())?;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    match &args.command {
        Command::StateShow => show(&pipeline, args.output, &mut out).await,
        Command::StateReset { row } => {
            let confirm = |question: &str| {
                if args.yes {
                    return true;
                }
                let _ = write!(std::io::stderr(), "{question} [y/N] ");
                let _ = std::io::stderr().flush();
                let mut answer = String::new();
                let read = tokio::task::block_in_place(|| std::io::stdin().lock().read_line(&mut answer));
                read.is_ok() && matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
            };
            reset(&pipeline, row.as_deref(), confirm, &mut err).await
        }
        Command::DlqReplay { file } => {
            let options = ReplayOptions { reason: args.reason, dry_run: args.dry_run };
            replay(pipeline, file, options, args.output, &mut out, &mut err).await
        }
        Command::Run | Command::Help => Ok(0),
    }
}

/// The store and key of `pipeline`'s bookmark, or why it has none.
fn store_of<S, T, K, D, St: StateStore, H>(
    pipeline: &Pipeline<S, T, K, D, St, H>,
) -> Result<(&St, String), String>
where
    S: Source,
    T: Transform<S::Record>,
    D: Writes,
{
    let key = pipeline.state_key();
    validate_key(&key).map_err(|e| e.to_string())?;
    match pipeline.state_store() {
        Some(store) => Ok((store, key)),
        None => Err(format!(
            "the pipeline has no `state:` store, so it keeps no bookmark: every run reads its source from the start (key `{key}`)"
        )),
    }
}

/// `state show`: the stored bookmark of the pipeline's row.
async fn show<S, T, K, D, St: StateStore, H>(
    pipeline: &Pipeline<S, T, K, D, St, H>,
    output: Output,
    out: &mut dyn Write,
) -> Result<u8, String>
where
    S: Source,
    T: Transform<S::Record>,
    D: Writes,
{
    let (store, key) = store_of(pipeline)?;
    let row = key.rsplit("::").next().unwrap_or_default().to_owned();
    let (plan, keys) = state_keys(store, &key).await?;
    let mut bookmarks = Vec::with_capacity(keys.len());
    for key in &keys {
        bookmarks.push(store.get(key).await.map_err(|e| e.to_string())?);
    }
    let written = match output {
        Output::Text => {
            let mut lines = String::new();
            if let Some((plan_key, plan)) = &plan {
                lines.push_str(&format!("{plan_key}: {plan}\n"));
            }
            for (key, bookmark) in keys.iter().zip(&bookmarks) {
                match bookmark {
                    Some(bookmark) => lines.push_str(&format!("{key}: {bookmark}\n")),
                    None => lines.push_str(&format!(
                        "{key}: no bookmark (the next run reads its source from the start)\n"
                    )),
                }
            }
            write!(out, "{lines}")
        }
        Output::Json | Output::Ndjson => {
            let bookmarks: Vec<Value> = keys
                .iter()
                .zip(bookmarks)
                .map(|(key, bookmark)| json!({ "row": row, "key": key, "bookmark": bookmark }))
                .collect();
            let mut doc = json!({ "store": store.store_name(), "bookmarks": bookmarks });
            if let Some((_, plan)) = plan {
                doc["shard_plan"] = plan;
            }
            writeln!(out, "{doc}")
        }
    };
    written.map_err(|e| format!("cannot print: {e}"))?;
    Ok(0)
}

/// The shard plan under `key`'s `::shards`, if there is one, and the keys of
/// the bookmarks: `key` alone, or each shard's of the stored plan.
async fn state_keys(
    store: &impl StateStore,
    key: &str,
) -> Result<(Option<(String, Value)>, Vec<String>), String> {
    let plan_key = format!("{key}::shards");
    if validate_key(&plan_key).is_err() {
        return Ok((None, vec![key.to_owned()]));
    }
    let Some(plan) = store.get(&plan_key).await.map_err(|e| e.to_string())? else {
        return Ok((None, vec![key.to_owned()]));
    };
    let count =
        plan.get("count").and_then(Value::as_u64).unwrap_or(0).min(u64::from(crate::shard::MAX_SHARDS));
    let keys = (0..count).map(|i| format!("{key}::shard-{i}")).collect();
    Ok((Some((plan_key, plan)), keys))
}

/// `state reset [ROW]`: deletes the row's bookmark once `confirm` agrees.
async fn reset<S, T, K, D, St: StateStore, H>(
    pipeline: &Pipeline<S, T, K, D, St, H>,
    row: Option<&str>,
    confirm: impl FnOnce(&str) -> bool,
    err: &mut dyn Write,
) -> Result<u8, String>
where
    S: Source,
    T: Transform<S::Record>,
    D: Writes,
{
    let (store, key) = store_of(pipeline)?;
    let own = key.rsplit("::").next().unwrap_or_default();
    if let Some(row) = row.filter(|row| *row != own) {
        return Err(format!("the pipeline has one row, `{own}`; there is no row `{row}`"));
    }
    let say =
        |err: &mut dyn Write, line: String| writeln!(err, "{line}").map_err(|e| format!("cannot print: {e}"));
    if let (Some((plan_key, plan)), shard_keys) = state_keys(store, &key).await? {
        let question = format!(
            "Reset the shard plan of `{key}` ({plan}) and the bookmarks of its {} shard(s) in the `{}` state \
             store? The next run splits the source anew and reads it from the start.",
            shard_keys.len(),
            store.store_name()
        );
        if !confirm(&question) {
            say(err, format!("{key}: not reset"))?;
            return Ok(1);
        }
        // The bookmarks first: a reset cut short leaves the plan, which still refuses another count.
        for shard_key in shard_keys.iter().chain([&key]) {
            store.delete(shard_key).await.map_err(|e| e.to_string())?;
        }
        store.delete(&plan_key).await.map_err(|e| e.to_string())?;
        say(err, format!("{key}: shard plan and {} shard bookmark(s) reset", shard_keys.len()))?;
        return Ok(0);
    }
    if store.get(&key).await.map_err(|e| e.to_string())?.is_none() {
        say(err, format!("{key}: no bookmark to reset"))?;
        return Ok(0);
    }
    let question = format!(
        "Reset the bookmark of `{key}` in the `{}` state store? The next run reads its source from the start.",
        store.store_name()
    );
    if !confirm(&question) {
        say(err, format!("{key}: not reset"))?;
        return Ok(1);
    }
    store.delete(&key).await.map_err(|e| e.to_string())?;
    say(
        err,
        format!(
            "{key}: bookmark reset; the next run reads its source from the start (a sink that keeps commit \
             tokens — sqlite, postgres, mysql — then asks for --force-new-lineage before writing again)"
        ),
    )?;
    Ok(0)
}

/// `dlq replay FILE`: the dead letters of FILE through the pipeline's sink.
async fn replay<S, T, K, D, St, H>(
    pipeline: Pipeline<S, T, K, D, St, H>,
    file: &Path,
    options: ReplayOptions,
    output: Output,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, String>
where
    S: Source,
    T: Transform<S::Record>,
    K: Writes<T::Out>,
{
    let started = Instant::now();
    let name = pipeline.name().to_owned();
    let replay = pipeline.replay_dead_letters(file, options).await.map_err(|e| e.to_string())?;
    let failed = replay.report.records_dead_lettered;
    let skipped: u64 = replay.skipped.values().sum();
    let written = match output {
        Output::Text => {
            let mut line = format!(
                "{name}: replayed {} of {} dead letter(s) from {}: wrote {}, failed again {}",
                replay.envelopes - skipped,
                replay.envelopes,
                file.display(),
                replay.report.records_written,
                failed,
            );
            if failed > 0 && !options.dry_run {
                line.push_str(&format!(" (in {})", replay.failed_path.display()));
            }
            for (why, n) in &replay.skipped {
                line.push_str(&format!("\n  skipped {n}: {why}"));
            }
            if options.dry_run {
                line.push_str("\ndry run: nothing was written; the counts are what a replay would write");
            }
            writeln!(err, "{line}")
        }
        Output::Json | Output::Ndjson => {
            let mut doc = json!({
                "pipeline": name,
                "status": if failed == 0 || options.dry_run { "ok" } else { "failed" },
                "duration_ms": started.elapsed().as_millis() as u64,
                "file": file.display().to_string(),
                "envelopes": replay.envelopes,
                "records_written": replay.report.records_written,
                "records_failed": failed,
                "failed_dlq": (failed > 0 && !options.dry_run).then(|| replay.failed_path.display().to_string()),
                "skipped": replay.skipped.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect::<serde_json::Map<_, _>>(),
            });
            if options.dry_run {
                doc["dry_run"] = Value::Bool(true);
            }
            writeln!(out, "{doc}")
        }
    };
    written.map_err(|e| format!("cannot print: {e}"))?;
    // A dry run only reports: what would fail again is in its counts.
    Ok(u8::from(failed > 0 && !options.dry_run))
}

//! The generated `main`'s commands besides a run, on a single pipeline:
//! `state` (show the bookmark, or reset it after confirmation) and `dlq
//! replay FILE` (see [`Pipeline::replay_dead_letters`]).
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
use crate::pipeline::{Pipeline, RunOptions};
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
        Command::DlqReplay { file } => replay(pipeline, file, args.output, &mut out, &mut err).await,
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
    let bookmark = store.get(&key).await.map_err(|e| e.to_string())?;
    let row = key.rsplit("::").next().unwrap_or_default();
    let written = match output {
        Output::Text => match &bookmark {
            Some(bookmark) => writeln!(out, "{key}: {bookmark}"),
            None => writeln!(out, "{key}: no bookmark (the next run reads its source from the start)"),
        },
        Output::Json | Output::Ndjson => {
            let doc = json!({
                "store": store.store_name(),
                "bookmarks": [{ "row": row, "key": key, "bookmark": bookmark }],
            });
            writeln!(out, "{doc}")
        }
    };
    written.map_err(|e| format!("cannot print: {e}"))?;
    Ok(0)
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
    let replay = pipeline.replay_dead_letters(file).await.map_err(|e| e.to_string())?;
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
            if failed > 0 {
                line.push_str(&format!(" (in {})", replay.failed_path.display()));
            }
            for (why, n) in &replay.skipped {
                line.push_str(&format!("\n  skipped {n}: {why}"));
            }
            writeln!(err, "{line}")
        }
        Output::Json | Output::Ndjson => {
            let doc = json!({
                "pipeline": name,
                "status": if failed == 0 { "ok" } else { "failed" },
                "duration_ms": started.elapsed().as_millis() as u64,
                "file": file.display().to_string(),
                "envelopes": replay.envelopes,
                "records_written": replay.report.records_written,
                "records_failed": failed,
                "failed_dlq": (failed > 0).then(|| replay.failed_path.display().to_string()),
                "skipped": replay.skipped.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect::<serde_json::Map<_, _>>(),
            });
            writeln!(out, "{doc}")
        }
    };
    written.map_err(|e| format!("cannot print: {e}"))?;
    Ok(u8::from(failed > 0))
}

//! The generated `main` helper (cargo feature `cli`): a pipeline run as a
//! program, with the YAML's `observability:` block applied.
//!
//! A pipeline module's `main()` / `main_with_args()` call [`main_with_args`],
//! which builds the tokio runtime, installs a Prometheus exporter
//! (metrics-exporter-prometheus) and a `tracing` fmt subscriber as configured,
//! parses `--output text|json|ndjson`, runs the pipeline or matrix, prints the
//! summary and returns the exit code.
//!
//! While it runs, progress goes to stderr (`--progress auto|plain|none`): on a
//! terminal, one live indicatif line per running invocation, redrawn every
//! second and cleared before the summary; otherwise (or with `plain`) the same
//! line as plain text per running invocation every `--progress-interval`
//! seconds (default 10). The driver publishes its counters once per page into
//! a [`Progress`] registry, so the per-record path does no extra work.
//!
//! SIGINT and SIGTERM stop the run at its next page boundary and a second one
//! aborts (see [`signals`]); a cancelled run reports `cancelled` and exits
//! with 128 + the signal's number. Only this helper installs a recorder or
//! a subscriber: `run()` / `run_with()` never do, so an application that calls
//! them keeps full control of both.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::matrix::MatrixReport;
use crate::pipeline::{Pipeline, RunOptions};
use crate::progress::Progress;
use crate::report::RunReport;
use crate::secret::Template;
use crate::sink::Writes;
use crate::source::Source;
use crate::state::StateStore;
use crate::transform::Transform;
use crate::{CancellationToken, FaucetError};

mod admin;
mod args;
mod signals;

pub use crate::config::observability::{Observability, TracingLevel};

pub use args::{Args, Command, LogFormat, Output, ProgressMode, parse_args, usage};

/// What the printed summary says beyond the report: the pipeline's name and
/// the run's wall time (a failed run has no report), and whether it was a dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunInfo {
    /// The config's `name`.
    pub pipeline: &'static str,
    /// From the program's start to the run's end.
    pub duration: Duration,
    /// `--dry-run`: nothing was written.
    pub dry_run: bool,
}

/// Shows `progress` on stderr until `stop` fires, then clears any live lines.
async fn show_progress(progress: Progress, live: bool, interval: Duration, stop: CancellationToken) {
    if live {
        show_live(progress, stop).await;
    } else {
        let mut ticks = tokio::time::interval(interval);
        ticks.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let lines: String = progress.snapshot().iter().map(|s| s.line() + "\n").collect();
            let _ = std::io::stderr().lock().write_all(lines.as_bytes());
        }
    }
}

/// One indicatif line per running invocation, redrawn every second.
async fn show_live(progress: Progress, stop: CancellationToken) {
    use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut bars: Vec<(u64, ProgressBar)> = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        let running = progress.snapshot();
        bars.retain(|(id, bar)| {
            let alive = running.iter().any(|s| s.id == *id);
            if !alive {
                bar.finish_and_clear();
                multi.remove(bar);
            }
            alive
        });
        for snapshot in &running {
            match bars.iter().find(|(id, _)| *id == snapshot.id) {
                Some((_, bar)) => bar.set_message(snapshot.line()),
                None => {
                    let bar = multi.add(ProgressBar::new_spinner().with_style(style.clone()));
                    bar.set_message(snapshot.line());
                    bars.push((snapshot.id, bar));
                }
            }
        }
    }
    for (_, bar) in &bars {
        bar.finish_and_clear();
    }
    let _ = multi.clear();
}

/// What a run returns: a single pipeline's or a matrix's report.
pub trait Outcome {
    /// The process exit code: 0 when nothing failed, 1 when something did.
    fn exit_code(&self) -> u8;
    /// True when the run was cancelled before it finished (and nothing failed).
    fn cancelled(&self) -> bool;
    /// The report as one JSON document (a failed run's names the pipeline and its duration).
    fn to_json(&self, info: &RunInfo) -> Value;
    /// One JSON object per invocation, then the totals.
    fn to_ndjson(&self, info: &RunInfo) -> Vec<Value> {
        ndjson(self.to_json(info))
    }
    /// Readable lines: one per invocation, then the totals.
    fn to_text(&self) -> String;
}

/// The document of a run that failed before it had a report.
fn failed_json(e: &FaucetError, info: &RunInfo) -> Value {
    json!({
        "pipeline": info.pipeline,
        "status": "failed",
        "duration_ms": info.duration.as_millis() as u64,
        "error": e.to_string(),
        "totals": {
            "invocations": 1, "succeeded": 0, "failed": 1, "skipped": 0, "cancelled": 0,
            "records_written": 0,
        },
        "invocations": [],
    })
}

fn run_json(r: &RunReport) -> Value {
    json!({
        "row": r.row,
        "status": if r.cancelled { "cancelled" } else { "succeeded" },
        "pages": r.pages,
        "records_read": r.records_read,
        "records_written": r.records_written,
        "records_dead_lettered": r.records_dead_lettered,
        "records_skipped": r.records_skipped,
        "records_filtered": r.records_filtered,
        "duration_ms": r.duration.as_millis() as u64,
    })
}

impl Outcome for Result<RunReport, FaucetError> {
    fn exit_code(&self) -> u8 {
        u8::from(self.is_err())
    }

    fn cancelled(&self) -> bool {
        self.as_ref().is_ok_and(|r| r.cancelled)
    }

    fn to_json(&self, info: &RunInfo) -> Value {
        match self {
            Ok(r) => json!({
                "pipeline": r.pipeline,
                "status": if r.cancelled { "cancelled" } else { "ok" },
                "duration_ms": r.duration.as_millis() as u64,
                "totals": {
                    "invocations": 1,
                    "succeeded": u8::from(!r.cancelled),
                    "failed": 0,
                    "skipped": 0,
                    "cancelled": u8::from(r.cancelled),
                    "records_written": r.records_written,
                },
                "invocations": [run_json(r)],
            }),
            Err(e) => failed_json(e, info),
        }
    }

    fn to_text(&self) -> String {
        match self {
            Ok(r) => {
                let status = if r.cancelled { "cancelled" } else { "succeeded" };
                format!("{r}\n{}: 1 invocation, {status}, wrote {} record(s)", r.pipeline, r.records_written)
            }
            Err(e) => format!("error: {e}"),
        }
    }
}

impl Outcome for Result<MatrixReport, FaucetError> {
    fn exit_code(&self) -> u8 {
        match self {
            Ok(m) => u8::from(!m.succeeded()),
            Err(_) => 1,
        }
    }

    fn cancelled(&self) -> bool {
        self.as_ref().is_ok_and(|m| m.cancelled)
    }

    fn to_json(&self, info: &RunInfo) -> Value {
        match self {
            Ok(m) => m.to_json(),
            Err(e) => failed_json(e, info),
        }
    }

    fn to_text(&self) -> String {
        match self {
            Ok(m) => m.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }
}

/// A report document as lines: each invocation (with its pipeline), then the rest as totals.
fn ndjson(mut doc: Value) -> Vec<Value> {
    let pipeline = doc.get("pipeline").cloned().unwrap_or(Value::Null);
    let invocations = match doc.as_object_mut().and_then(|o| o.remove("invocations")) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let mut lines: Vec<Value> = invocations
        .into_iter()
        .map(|mut i| {
            if let Some(o) = i.as_object_mut() {
                o.insert("pipeline".into(), pipeline.clone());
            }
            i
        })
        .collect();
    lines.push(doc);
    lines
}

/// What a dry run's summary adds.
const DRY_RUN_NOTE: &str =
    "dry run: nothing was written and no bookmark moved; the counts are what a run would write";

/// Prints `outcome` as asked: text on stderr, JSON on stdout; a dry run's
/// summary says so (`"dry_run": true` in JSON).
pub fn print(
    outcome: &dyn Outcome,
    info: &RunInfo,
    output: Output,
    out: &mut dyn Write,
    err: &mut dyn Write,
) {
    let mark = |doc: &mut Value| {
        if let (true, Some(fields)) = (info.dry_run, doc.as_object_mut()) {
            fields.insert("dry_run".into(), Value::Bool(true));
        }
    };
    let _ = match output {
        Output::Text if info.dry_run => writeln!(err, "{}\n{DRY_RUN_NOTE}", outcome.to_text()),
        Output::Text => writeln!(err, "{}", outcome.to_text()),
        Output::Json => {
            let mut doc = outcome.to_json(info);
            mark(&mut doc);
            writeln!(out, "{doc}")
        }
        Output::Ndjson => {
            let mut lines = outcome.to_ndjson(info);
            if let Some(totals) = lines.last_mut() {
                mark(totals);
            }
            lines.iter().try_for_each(|line| writeln!(out, "{line}"))
        }
    };
}

/// Installs the fmt subscriber (stderr) at `level` (default info), as text
/// or JSON lines; a no-op if one is already set.
fn install_tracing(level: Option<TracingLevel>, format: LogFormat) {
    let level = match level.unwrap_or(TracingLevel::Info) {
        TracingLevel::Trace => tracing::Level::TRACE,
        TracingLevel::Debug => tracing::Level::DEBUG,
        TracingLevel::Info => tracing::Level::INFO,
        TracingLevel::Warn => tracing::Level::WARN,
        TracingLevel::Error => tracing::Level::ERROR,
    };
    let fmt = tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => fmt.try_init(),
        LogFormat::Json => fmt.json().try_init(),
    };
}

/// Installs the Prometheus exporter listening on `listen` (inside the runtime, which serves it).
fn install_prometheus(listen: &Template, buckets: Option<&[f64]>) -> Result<SocketAddr, String> {
    let addr = listen.resolve().map_err(|e| format!("observability.prometheus.listen: {e}"))?;
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| format!("observability.prometheus.listen: `{addr}` is not a socket address: {e}"))?;
    let mut builder = metrics_exporter_prometheus::PrometheusBuilder::new().with_http_listener(addr);
    if let Some(buckets) = buckets {
        builder =
            builder.set_buckets(buckets).map_err(|e| format!("observability.prometheus.buckets: {e}"))?;
    }
    builder.install().map_err(|e| format!("cannot start the Prometheus exporter on {addr}: {e}"))?;
    Ok(addr)
}

/// Parses the arguments and installs the tracing subscriber; `Err` is the
/// exit code of a program that is done (`--help`: 0, a bad argument: 2).
fn start(obs: &Observability, args: impl IntoIterator<Item = String>) -> Result<Args, ExitCode> {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            return Err(ExitCode::from(2));
        }
    };
    if args.command == Command::Help {
        let program = std::env::args_os().next().map(std::path::PathBuf::from);
        let program = program.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
        print!("{}", usage(program.as_deref().unwrap_or("pipeline")));
        return Err(ExitCode::SUCCESS);
    }
    install_tracing(args.log_level.or(obs.tracing_level), args.log_format);
    Ok(args)
}

/// The multi-threaded tokio runtime the program runs on.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the tokio runtime: {e}");
        ExitCode::from(1)
    })
}

/// Runs a pipeline or a matrix as a program: see the [module docs](self).
/// `name` is the config's; `run` is the generated `run_with`; `args` are the
/// program's arguments without its name. A matrix has no `state` and `dlq
/// replay` commands (see [`pipeline_main_with_args`]).
pub fn main_with_args<T, F, Fut>(
    name: &'static str,
    obs: Observability,
    args: impl IntoIterator<Item = String>,
    run: F,
) -> ExitCode
where
    Result<T, FaucetError>: Outcome,
    F: FnOnce(RunOptions) -> Fut,
    Fut: Future<Output = Result<T, FaucetError>>,
{
    let started = Instant::now();
    let args = match start(&obs, args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.command != Command::Run {
        eprintln!(
            "error: `state` and `dlq replay` work on a pipeline without a matrix, and `{name}` has one; \
             faucet-cli's `faucet state` and `faucet dlq replay` handle its rows"
        );
        return ExitCode::from(2);
    }
    run_main(name, obs, args, run, started)
}

/// [`main_with_args`] for a single pipeline, with its `state` and `dlq
/// replay` commands: `pipeline` is the generated `pipeline()`.
pub fn pipeline_main_with_args<R, F, Fut, P, S, T, K, D, St, H>(
    name: &'static str,
    obs: Observability,
    args: impl IntoIterator<Item = String>,
    run: F,
    pipeline: P,
) -> ExitCode
where
    Result<R, FaucetError>: Outcome,
    F: FnOnce(RunOptions) -> Fut,
    Fut: Future<Output = Result<R, FaucetError>>,
    P: FnOnce() -> Result<Pipeline<S, T, K, D, St, H>, FaucetError>,
    S: Source,
    T: Transform<S::Record>,
    K: Writes<T::Out>,
    D: Writes,
    St: StateStore,
{
    let started = Instant::now();
    let args = match start(&obs, args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.command == Command::Run {
        return run_main(name, obs, args, run, started);
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = runtime.block_on(admin::execute(&args, pipeline));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// Runs the pipeline or matrix with progress, signals and the summary.
fn run_main<T, F, Fut>(
    name: &'static str,
    obs: Observability,
    args: Args,
    run: F,
    started: Instant,
) -> ExitCode
where
    Result<T, FaucetError>: Outcome,
    F: FnOnce(RunOptions) -> Fut,
    Fut: Future<Output = Result<T, FaucetError>>,
{
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let options = args.clone();
    let outcome = runtime.block_on(async move {
        if let Some(listen) = &obs.prometheus_listen {
            match install_prometheus(listen, obs.prometheus_buckets) {
                Ok(addr) => tracing::info!(%addr, "serving Prometheus metrics on /metrics"),
                Err(message) => return Err(message),
            }
        }
        let cancel = CancellationToken::new();
        let stop = CancellationToken::new();
        let cleared = CancellationToken::new();
        let noticed = CancellationToken::new();
        let received = signals::listen(signals::OnSignal {
            cancel: cancel.clone(),
            stop_progress: stop.clone(),
            progress_cleared: cleared.clone(),
            noticed: noticed.clone(),
        })
        .map_err(|e| format!("cannot listen for SIGINT and SIGTERM: {e}"))?;
        let live = std::io::stderr().is_terminal();
        let progress = (options.progress != ProgressMode::None).then(Progress::new);
        let shown = progress.clone().map(|p| {
            let live = live && options.progress == ProgressMode::Auto;
            let (stop, cleared, interval) = (stop.clone(), cleared.clone(), options.progress_interval);
            tokio::spawn(async move {
                show_progress(p, live, interval, stop).await;
                cleared.cancel();
            })
        });
        if shown.is_none() {
            cleared.cancel();
        }
        let run_options = RunOptions {
            cancel: Some(cancel),
            progress,
            force_new_lineage: options.force_new_lineage,
            clock: options.clock,
            dry_run: options.dry_run,
            limit: options.limit,
            state_path: options.state_path,
            shard: options.shard,
        };
        let outcome = run(run_options).await;
        stop.cancel();
        if let Some(shown) = shown {
            let _ = shown.await;
        }
        if received.first().is_some() {
            noticed.cancelled().await;
        }
        Ok((outcome, received.first()))
    });
    match outcome {
        Ok((outcome, signal)) => {
            let info = RunInfo { pipeline: name, duration: started.elapsed(), dry_run: args.dry_run };
            print(&outcome, &info, args.output, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
            match outcome.exit_code() {
                0 if outcome.cancelled() => ExitCode::from(signal.map_or(1, signals::Signal::exit_code)),
                code => ExitCode::from(code),
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const INFO: RunInfo = RunInfo { pipeline: "orders", duration: Duration::from_millis(7), dry_run: false };

    fn report() -> RunReport {
        RunReport {
            pipeline: "orders".into(),
            row: "row-0".into(),
            pages: 2,
            records_read: 3,
            records_written: 2,
            records_dead_lettered: 1,
            duration: Duration::from_millis(1500),
            ..RunReport::default()
        }
    }

    #[test]
    fn json_and_ndjson_shapes() {
        let ok: Result<RunReport, FaucetError> = Ok(report());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        print(&ok, &INFO, Output::Json, &mut out, &mut err);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"pipeline":"orders","status":"ok","duration_ms":1500,"totals":{"invocations":1,"succeeded":1,"failed":0,"skipped":0,"cancelled":0,"records_written":2},"#,
                r#""invocations":[{"row":"row-0","status":"succeeded","pages":2,"records_read":3,"records_written":2,"records_dead_lettered":1,"records_skipped":0,"records_filtered":0,"duration_ms":1500}]}"#,
                "\n"
            )
        );
        assert!(err.is_empty());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        print(&ok, &INFO, Output::Ndjson, &mut out, &mut err);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"row":"row-0","status":"succeeded","pages":2,"records_read":3,"records_written":2,"records_dead_lettered":1,"records_skipped":0,"records_filtered":0,"duration_ms":1500,"pipeline":"orders"}"#,
                "\n",
                r#"{"pipeline":"orders","status":"ok","duration_ms":1500,"totals":{"invocations":1,"succeeded":1,"failed":0,"skipped":0,"cancelled":0,"records_written":2}}"#,
                "\n"
            )
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        print(&ok, &INFO, Output::Text, &mut out, &mut err);
        assert!(out.is_empty());
        let text = String::from_utf8(err).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.ends_with("orders: 1 invocation, succeeded, wrote 2 record(s)\n"), "{text}");
        let failed: Result<RunReport, FaucetError> = Err(FaucetError::config("bad"));
        assert_eq!(failed.exit_code(), 1);
        let doc = failed.to_json(&INFO);
        assert_eq!(
            (&doc["pipeline"], &doc["status"], &doc["duration_ms"], &doc["error"]),
            (&json!("orders"), &json!("failed"), &json!(7), &json!("config error: bad"))
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        print(&failed, &INFO, Output::Text, &mut out, &mut err);
        assert_eq!(String::from_utf8(err).unwrap(), "error: config error: bad\n");
        let dry = RunInfo { dry_run: true, ..INFO };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        print(&ok, &dry, Output::Ndjson, &mut out, &mut err);
        let last = String::from_utf8(out).unwrap().lines().last().unwrap().to_owned();
        assert!(last.ends_with(r#","dry_run":true}"#), "{last}");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        print(&ok, &dry, Output::Text, &mut out, &mut err);
        assert!(String::from_utf8(err).unwrap().ends_with(&format!("{DRY_RUN_NOTE}\n")));
        assert_eq!(ok.exit_code(), 0);
    }

    #[test]
    fn cancelled_in_every_format() {
        let cancelled: Result<RunReport, FaucetError> = Ok(RunReport { cancelled: true, ..report() });
        assert!(cancelled.cancelled());
        let json = cancelled.to_json(&INFO);
        assert_eq!(json["status"], "cancelled");
        assert_eq!(json["invocations"][0]["status"], "cancelled");
        assert_eq!(
            (json["totals"]["succeeded"].as_u64(), json["totals"]["cancelled"].as_u64()),
            (Some(0), Some(1))
        );
        let lines = cancelled.to_ndjson(&INFO);
        assert!(lines.iter().all(|l| l["status"] == "cancelled"), "{lines:?}");
        let text = cancelled.to_text();
        assert!(text.ends_with("orders: 1 invocation, cancelled, wrote 2 record(s)"), "{text}");
        assert!(text.contains(" (cancelled)\n"), "{text}");
    }
}

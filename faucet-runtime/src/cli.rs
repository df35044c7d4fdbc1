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
use std::time::Duration;

use serde_json::{Value, json};

use crate::clock::Clock;
use crate::matrix::MatrixReport;
use crate::pipeline::RunOptions;
use crate::progress::Progress;
use crate::report::RunReport;
use crate::secret::Template;
use crate::{CancellationToken, FaucetError};

mod signals;

pub use crate::config::observability::{Observability, TracingLevel};

/// How the end-of-run summary is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One readable line per invocation and a totals line, on stderr.
    Text,
    /// One JSON document on stdout.
    Json,
    /// One JSON object per invocation, then a totals object, one per line on stdout.
    Ndjson,
}

/// How progress is shown on stderr while the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Live lines when stderr is a terminal, plain lines otherwise (the default).
    Auto,
    /// Plain lines, even on a terminal.
    Plain,
    /// Nothing until the summary.
    None,
}

/// The program's parsed arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Args {
    /// `--output`: how the summary is printed.
    pub output: Output,
    /// `--progress`: how progress is shown.
    pub progress: ProgressMode,
    /// `--progress-interval`: seconds between plain progress lines (default 10).
    pub progress_interval: Duration,
    /// `--force-new-lineage`: run even when the state was lost but the sink
    /// holds commit tokens of an earlier run ([`RunOptions::force_new_lineage`]).
    pub force_new_lineage: bool,
    /// `--clock`: the time every `${now.…}` renders ([`RunOptions::clock`]).
    pub clock: Option<Clock>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            output: Output::Text,
            progress: ProgressMode::Auto,
            progress_interval: Duration::from_secs(10),
            force_new_lineage: false,
            clock: None,
        }
    }
}

const USAGE: &str = "usage: [--output text|json|ndjson] [--progress auto|plain|none] [--progress-interval SECONDS] [--force-new-lineage] [--clock RFC3339]";

/// Parses the program's arguments: `--output FORMAT`, `--progress MODE`,
/// `--progress-interval SECONDS` and `--clock TIME` (RFC 3339 or a date),
/// each also as `--flag=value`, and the switch `--force-new-lineage`.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if matches!(arg.as_str(), "-h" | "--help") {
            return Err(USAGE.to_owned());
        }
        if arg == "--force-new-lineage" {
            parsed.force_new_lineage = true;
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
            _ => (arg.clone(), None),
        };
        let flag = match flag.as_str() {
            "-o" => "--output",
            "--output" | "--progress" | "--progress-interval" | "--clock" => flag.as_str(),
            _ => return Err(format!("unexpected argument `{arg}`\n{USAGE}")),
        };
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or_else(|| format!("`{arg}` needs a value\n{USAGE}"))?,
        };
        match flag {
            "--output" => {
                parsed.output = match value.as_str() {
                    "text" => Output::Text,
                    "json" => Output::Json,
                    "ndjson" => Output::Ndjson,
                    other => return Err(format!("unknown output `{other}`: use text, json or ndjson")),
                }
            }
            "--progress" => {
                parsed.progress = match value.as_str() {
                    "auto" => ProgressMode::Auto,
                    "plain" => ProgressMode::Plain,
                    "none" => ProgressMode::None,
                    other => return Err(format!("unknown progress `{other}`: use auto, plain or none")),
                }
            }
            "--clock" => parsed.clock = Some(Clock::parse(&value).map_err(|e| format!("--clock: {e}"))?),
            _ => {
                parsed.progress_interval = match value.parse::<u64>() {
                    Ok(secs) if secs > 0 => Duration::from_secs(secs),
                    _ => {
                        return Err(format!(
                            "--progress-interval: `{value}` is not a positive number of seconds"
                        ));
                    }
                }
            }
        }
    }
    Ok(parsed)
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
    /// The report as one JSON document.
    fn to_json(&self) -> Value;
    /// One JSON object per invocation, then the totals.
    fn to_ndjson(&self) -> Vec<Value>;
    /// Readable lines: one per invocation, then the totals.
    fn to_text(&self) -> String;
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

    fn to_json(&self) -> Value {
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
            Err(e) => json!({
                "status": "failed",
                "error": e.to_string(),
                "totals": {
                    "invocations": 1, "succeeded": 0, "failed": 1, "skipped": 0, "cancelled": 0,
                    "records_written": 0,
                },
                "invocations": [],
            }),
        }
    }

    fn to_ndjson(&self) -> Vec<Value> {
        ndjson(self.to_json())
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

    fn to_json(&self) -> Value {
        match self {
            Ok(m) => m.to_json(),
            Err(e) => json!({ "status": "failed", "error": e.to_string(), "invocations": [] }),
        }
    }

    fn to_ndjson(&self) -> Vec<Value> {
        ndjson(self.to_json())
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

/// Prints `outcome` as asked: text on stderr, JSON on stdout.
pub fn print(outcome: &dyn Outcome, output: Output, out: &mut dyn Write, err: &mut dyn Write) {
    let _ = match output {
        Output::Text => writeln!(err, "{}", outcome.to_text()),
        Output::Json => writeln!(out, "{}", outcome.to_json()),
        Output::Ndjson => outcome.to_ndjson().iter().try_for_each(|line| writeln!(out, "{line}")),
    };
}

/// Installs the fmt subscriber (stderr) at `level`; a no-op if one is already set.
fn install_tracing(level: Option<TracingLevel>) {
    let level = match level.unwrap_or(TracingLevel::Info) {
        TracingLevel::Trace => tracing::Level::TRACE,
        TracingLevel::Debug => tracing::Level::DEBUG,
        TracingLevel::Info => tracing::Level::INFO,
        TracingLevel::Warn => tracing::Level::WARN,
        TracingLevel::Error => tracing::Level::ERROR,
    };
    let _ = tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).try_init();
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

/// Runs a pipeline as a program: see the [module docs](self). `run` is the
/// generated `run_with`; `args` are the program's arguments without its name.
pub fn main_with_args<T, F, Fut>(
    obs: Observability,
    args: impl IntoIterator<Item = String>,
    run: F,
) -> ExitCode
where
    Result<T, FaucetError>: Outcome,
    F: FnOnce(RunOptions) -> Fut,
    Fut: Future<Output = Result<T, FaucetError>>,
{
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    install_tracing(obs.tracing_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::from(1);
        }
    };
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
        let progress = (args.progress != ProgressMode::None).then(Progress::new);
        let shown = progress.clone().map(|p| {
            let live = live && args.progress == ProgressMode::Auto;
            let (stop, cleared) = (stop.clone(), cleared.clone());
            tokio::spawn(async move {
                show_progress(p, live, args.progress_interval, stop).await;
                cleared.cancel();
            })
        });
        if shown.is_none() {
            cleared.cancel();
        }
        let options = RunOptions {
            cancel: Some(cancel),
            progress,
            force_new_lineage: args.force_new_lineage,
            clock: args.clock,
        };
        let outcome = run(options).await;
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
            print(&outcome, args.output, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
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
    fn arguments() {
        let args = |a: &[&str]| parse_args(a.iter().map(|s| s.to_string()));
        let output = |a: &[&str]| args(a).map(|a| a.output);
        assert_eq!(args(&[]), Ok(Args::default()));
        assert_eq!(output(&["--output", "json"]), Ok(Output::Json));
        assert_eq!(output(&["-o", "json"]), Ok(Output::Json));
        assert_eq!(output(&["--output=ndjson"]), Ok(Output::Ndjson));
        assert_eq!(
            args(&["--progress=plain", "--progress-interval", "2"]),
            Ok(Args {
                progress: ProgressMode::Plain,
                progress_interval: Duration::from_secs(2),
                ..Args::default()
            })
        );
        assert_eq!(args(&["--progress", "none"]).unwrap().progress, ProgressMode::None);
        assert!(args(&["--force-new-lineage"]).unwrap().force_new_lineage);
        assert!(!args(&[]).unwrap().force_new_lineage);
        assert!(args(&["--progress", "loud"]).unwrap_err().contains("unknown progress `loud`"));
        assert!(args(&["--progress-interval=0"]).unwrap_err().contains("not a positive number"));
        assert!(args(&["--output", "yaml"]).unwrap_err().contains("unknown output `yaml`"));
        assert!(args(&["--output"]).unwrap_err().contains("needs a value"));
        assert!(args(&["run"]).unwrap_err().contains("unexpected argument `run`"));
        let clock = args(&["--clock", "2026-01-31T12:00:00Z"]).unwrap().clock.unwrap();
        assert_eq!(clock.to_string(), "2026-01-31T12:00:00+00:00");
        assert_eq!(
            args(&["--clock=2026-01-31"]).unwrap().clock.unwrap().to_string(),
            "2026-01-31T00:00:00+00:00"
        );
        assert!(
            args(&["--clock", "soon"]).unwrap_err().starts_with("--clock: `soon` is not an RFC 3339 time")
        );
        assert_eq!(args(&[]).unwrap().clock, None);
    }

    #[test]
    fn json_and_ndjson_shapes() {
        let ok: Result<RunReport, FaucetError> = Ok(report());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        print(&ok, Output::Json, &mut out, &mut err);
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
        print(&ok, Output::Ndjson, &mut out, &mut err);
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
        print(&ok, Output::Text, &mut out, &mut err);
        assert!(out.is_empty());
        let text = String::from_utf8(err).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.ends_with("orders: 1 invocation, succeeded, wrote 2 record(s)\n"), "{text}");
        let failed: Result<RunReport, FaucetError> = Err(FaucetError::config("bad"));
        assert_eq!(failed.exit_code(), 1);
        assert_eq!(ok.exit_code(), 0);
    }

    #[test]
    fn cancelled_in_every_format() {
        let cancelled: Result<RunReport, FaucetError> = Ok(RunReport { cancelled: true, ..report() });
        assert!(cancelled.cancelled());
        let json = cancelled.to_json();
        assert_eq!(json["status"], "cancelled");
        assert_eq!(json["invocations"][0]["status"], "cancelled");
        assert_eq!(
            (json["totals"]["succeeded"].as_u64(), json["totals"]["cancelled"].as_u64()),
            (Some(0), Some(1))
        );
        let lines = cancelled.to_ndjson();
        assert!(lines.iter().all(|l| l["status"] == "cancelled"), "{lines:?}");
        let text = cancelled.to_text();
        assert!(text.ends_with("orders: 1 invocation, cancelled, wrote 2 record(s)"), "{text}");
        assert!(text.contains(" (cancelled)\n"), "{text}");
    }
}

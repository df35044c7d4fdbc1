//! SIGINT and SIGTERM sent to a generated pipeline's `main` running in a child
//! process: the first stops the run after the page in flight (flushed and
//! persisted), the program reports `cancelled` and exits with 128 + the
//! signal's number; a second signal aborts at once. Either way the rerun
//! writes every row exactly once.
//!
//! No timing is assumed: the pipeline holds at a chosen record until the test
//! has sent its signal and seen the program acknowledge it.
#![cfg(unix)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use faucet_runtime::{FaucetError, Record};
use serde_json::Value;

/// Set in the child: the test's name and the program's arguments.
const CHILD: &str = "FAUCET_SIGNALS_CHILD";
/// The record id the pipeline holds at (unset: it never holds).
const HOLD: &str = "FAUCET_SIGNALS_HOLD";
/// Only so a broken program fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(120);

/// Holds the run at the record whose id is `$FAUCET_SIGNALS_HOLD`: writes its
/// process id to `reached`, then waits until the test creates `release` (or aborts the program).
pub fn hold(record: Record) -> Result<Option<Record>, FaucetError> {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    let at = AT.get_or_init(|| std::env::var(HOLD).ok());
    if at.as_deref().is_some_and(|at| record["id"] == at) {
        let dir = PathBuf::from(std::env::var("FAUCET_SIGNALS_DIR").unwrap());
        std::fs::write(dir.join("reached.tmp"), std::process::id().to_string()).unwrap();
        std::fs::rename(dir.join("reached.tmp"), dir.join("reached")).unwrap();
        tokio::task::block_in_place(|| wait_for(|| dir.join("release").exists(), "the release"));
    }
    Ok(Some(record))
}

faucet_runtime::faucet! {
    name: signalled,
    pipeline: {
        source: { type: csv, config: { path: "${env:FAUCET_SIGNALS_DIR}/in.csv", batch_size: 10 } },
        transforms: [{ type: custom, config: { function: hold } }],
        sink: { type: jsonl, config: { path: "${env:FAUCET_SIGNALS_DIR}/out.jsonl" } },
        state: { type: file, config: { path: "${env:FAUCET_SIGNALS_DIR}/state" } },
    }
}

faucet_runtime::faucet! {
    name: signalled_matrix,
    pipeline: {
        sink: { type: jsonl, config: { path: "${env:FAUCET_SIGNALS_DIR}/unused.jsonl" } },
        state: { type: file, config: { path: "${env:FAUCET_SIGNALS_DIR}/state" } },
    },
    matrix: [
        {
            id: users,
            source: { type: jsonl, config: { path: "${env:FAUCET_SIGNALS_DIR}/users.jsonl", batch_size: 1 } },
            sink: { config: { path: "${env:FAUCET_SIGNALS_DIR}/out/users.jsonl" } },
        },
        {
            id: orders,
            parent: users,
            source: {
                type: csv,
                config: { path: "${env:FAUCET_SIGNALS_DIR}/orders/${users.id}.csv", batch_size: 10 },
            },
            transforms: [{ type: custom, config: { function: hold } }],
            sink: { config: { path: "${env:FAUCET_SIGNALS_DIR}/out/orders-${users.id}.jsonl" } },
        },
    ],
    execution: { max_concurrent: 1 },
}

/// In the child: runs the program named by `$FAUCET_SIGNALS_CHILD` and exits with its code.
fn run_child_if_asked() {
    let Ok(spec) = std::env::var(CHILD) else { return };
    let mut words = spec.split_whitespace().map(str::to_owned);
    let program = words.next().unwrap();
    let code = match program.as_str() {
        "signalled" => signalled::main_with_args(words),
        _ => signalled_matrix::main_with_args(words),
    };
    let code = (0..=u8::MAX).find(|n| ExitCode::from(*n) == code).unwrap();
    std::process::exit(i32::from(code));
}

fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The program running in a child process, its stderr read line by line.
struct Program {
    child: Child,
    lines: Receiver<String>,
    stderr: JoinHandle<String>,
    /// Every stderr line seen so far.
    seen: Vec<String>,
}

/// What the program left behind.
struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Program {
    /// Starts `test`'s child running `spec` (program and arguments) on `dir`,
    /// holding at record `hold`.
    fn start(test: &str, spec: &str, dir: &Path, hold: Option<&str>) -> Program {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", test, "--nocapture"])
            .env(CHILD, spec)
            .env("FAUCET_SIGNALS_DIR", dir)
            .env_remove(HOLD)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(hold) = hold {
            cmd.env(HOLD, hold);
        }
        let mut child = cmd.spawn().unwrap();
        let (tx, lines) = channel();
        let pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(pipe).lines() {
                let line = line.unwrap();
                all.push_str(&line);
                all.push('\n');
                let _ = tx.send(line);
            }
            all
        });
        Program { child, lines, stderr, seen: Vec::new() }
    }

    /// Waits for a stderr line containing `text`.
    fn expect_line(&mut self, text: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no `{text}` on stderr:\n{}", self.seen.join("\n")),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the program ended without `{text}` on stderr:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    fn signal(&self, name: &str) {
        let sent = Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status();
        assert!(sent.unwrap().success(), "kill -{name}");
    }

    fn wait(self) -> Ended {
        let out = self.child.wait_with_output().unwrap();
        let stderr = self.stderr.join().unwrap();
        Ended { code: out.status.code(), stdout: String::from_utf8(out.stdout).unwrap(), stderr }
    }
}

impl Ended {
    /// The JSON lines the program printed (the test harness prints other lines too).
    fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// `count` CSV rows with ids `{prefix}1` … into `path`.
fn write_csv(path: &Path, prefix: &str, count: usize) {
    let rows: String = (1..=count).map(|i| format!("{prefix}{i},name {i}\n")).collect();
    std::fs::write(path, format!("id,name\n{rows}")).unwrap();
}

/// The ids in a JSON Lines file, asserting none appears twice.
fn ids_once(path: &Path) -> HashSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut ids = HashSet::new();
    for line in text.lines() {
        let record: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("corrupt line {line:?}: {e}"));
        let id = record["id"].as_str().map_or_else(|| record["id"].to_string(), str::to_owned);
        assert!(ids.insert(id.clone()), "{id} written twice to {}", path.display());
    }
    ids
}

fn expected(prefix: &str, count: usize) -> HashSet<String> {
    (1..=count).map(|i| format!("{prefix}{i}")).collect()
}

/// One signal, then the held page completes: the run stops after it.
fn first_signal_stops_after_the_page(test: &str, signal: &str, code: i32, args: &str) -> Ended {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_csv(&dir.join("in.csv"), "", 200);
    let mut program = Program::start(test, &format!("signalled {args}"), dir, Some("45"));
    wait_for(|| dir.join("reached").exists(), "record 45");
    if args.contains("--progress plain") {
        // A progress line is on screen (stderr) before the signal.
        program.expect_line("signalled[row-0] ");
    }
    program.signal(signal);
    program.expect_line(&format!("received SIG{signal}: stopping after the current page"));
    std::fs::write(dir.join("release"), "").unwrap();
    let ended = program.wait();
    assert_eq!(ended.code, Some(code), "{}", ended.stderr);
    // Pages 1 to 5 (records 1..=50) were written and confirmed; page 6 was not started.
    assert_eq!(ids_once(&dir.join("out.jsonl")), expected("", 50), "{}", ended.stderr);

    let rerun = Program::start(test, "signalled --output json", dir, None).wait();
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    let report = &rerun.json()[0];
    assert_eq!(
        (report["status"].as_str(), report["totals"]["records_written"].as_u64()),
        (Some("ok"), Some(150))
    );
    assert_eq!(ids_once(&dir.join("out.jsonl")), expected("", 200), "every row exactly once");
    ended
}

#[test]
fn sigterm_stops_at_a_page_boundary_and_reports_cancelled_in_json() {
    run_child_if_asked();
    let test = "sigterm_stops_at_a_page_boundary_and_reports_cancelled_in_json";
    let ended = first_signal_stops_after_the_page(test, "TERM", 143, "--output json --progress none");
    let json = ended.json();
    assert_eq!(json.len(), 1, "{}", ended.stdout);
    let report = &json[0];
    assert_eq!(report["status"], "cancelled", "{report}");
    assert_eq!(report["invocations"][0]["status"], "cancelled", "{report}");
    assert_eq!(report["invocations"][0]["records_written"], 50, "{report}");
    assert_eq!(
        (report["totals"]["succeeded"].as_u64(), report["totals"]["cancelled"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn sigint_stops_at_a_page_boundary_and_reports_cancelled_in_ndjson() {
    run_child_if_asked();
    let test = "sigint_stops_at_a_page_boundary_and_reports_cancelled_in_ndjson";
    let ended = first_signal_stops_after_the_page(test, "INT", 130, "--output ndjson --progress none");
    let lines = ended.json();
    assert_eq!(lines.len(), 2, "one invocation line, then the totals: {}", ended.stdout);
    assert!(lines.iter().all(|l| l["status"] == "cancelled"), "{}", ended.stdout);
    assert_eq!(lines[0]["records_written"], 50);
}

#[test]
fn sigterm_reports_cancelled_in_text_and_leaves_no_progress_line() {
    run_child_if_asked();
    let test = "sigterm_reports_cancelled_in_text_and_leaves_no_progress_line";
    let ended =
        first_signal_stops_after_the_page(test, "TERM", 143, "--progress plain --progress-interval 1");
    let stderr = &ended.stderr;
    let notice = stderr.find("received SIGTERM").expect(stderr);
    let after = &stderr[notice..];
    assert!(!after.contains(" records · "), "no progress line after the signal:\n{stderr}");
    assert!(after.contains("(cancelled)"), "{stderr}");
    assert!(after.contains("signalled: 1 invocation, cancelled, wrote 50 record(s)"), "{stderr}");
}

#[test]
fn a_second_signal_aborts_at_once_and_the_rerun_writes_every_row_once() {
    run_child_if_asked();
    let test = "a_second_signal_aborts_at_once_and_the_rerun_writes_every_row_once";
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_csv(&dir.join("in.csv"), "", 200);
    let mut program = Program::start(test, "signalled --output json --progress none", dir, Some("45"));
    wait_for(|| dir.join("reached").exists(), "record 45");
    program.signal("INT");
    program.expect_line("received SIGINT: stopping after the current page");
    // The page in flight is still held: only an abort can end the program now.
    program.signal("INT");
    let ended = program.wait();
    assert_eq!(ended.code, Some(130), "{}", ended.stderr);
    assert!(ended.stderr.contains("received SIGINT: aborting"), "{}", ended.stderr);
    assert!(ended.json().is_empty(), "an aborted run prints no summary: {}", ended.stdout);
    assert!(!dir.join("release").exists());

    let rerun = Program::start(test, "signalled --output json", dir, None).wait();
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    assert_eq!(ids_once(&dir.join("out.jsonl")), expected("", 200), "every row exactly once");
}

#[test]
fn sigterm_cancels_a_matrix_and_the_rerun_completes_it_exactly_once() {
    run_child_if_asked();
    let test = "sigterm_cancels_a_matrix_and_the_rerun_completes_it_exactly_once";
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let users: String = (1..=3).map(|u| format!("{{\"id\":\"u{u}\"}}\n")).collect();
    std::fs::write(dir.join("users.jsonl"), users).unwrap();
    std::fs::create_dir_all(dir.join("orders")).unwrap();
    for u in 1..=3 {
        write_csv(&dir.join(format!("orders/u{u}.csv")), &format!("u{u}-"), 30);
    }
    let mut program =
        Program::start(test, "signalled_matrix --output json --progress none", dir, Some("u2-15"));
    wait_for(|| dir.join("reached").exists(), "order u2-15");
    program.signal("TERM");
    program.expect_line("received SIGTERM: stopping after the current page");
    std::fs::write(dir.join("release"), "").unwrap();
    let ended = program.wait();
    assert_eq!(ended.code, Some(143), "{}", ended.stderr);
    let report = &ended.json()[0];
    assert_eq!(report["status"], "cancelled", "{report:#}");
    let status = |row: &str, key: Option<&str>| {
        let invocations = report["invocations"].as_array().unwrap();
        let found = invocations.iter().find(|i| i["row"] == row && i["parent_key"].as_str() == key);
        found.unwrap_or_else(|| panic!("no {row} {key:?} in {report:#}"))["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status("orders", Some("u1")), "succeeded", "{report:#}");
    assert_eq!(status("orders", Some("u2")), "cancelled", "{report:#}");
    assert_eq!(status("users", None), "cancelled", "{report:#}");
    assert_eq!(report["totals"]["failed"], 0, "a cancellation is no failure: {report:#}");
    assert_eq!(ids_once(&dir.join("out/orders-u1.jsonl")), expected("u1-", 30));
    assert_eq!(ids_once(&dir.join("out/orders-u2.jsonl")), expected("u2-", 20), "pages 1 and 2 of u2");
    assert!(!dir.join("out/orders-u3.jsonl").exists(), "u3 never started");

    let rerun = Program::start(test, "signalled_matrix --output json", dir, None).wait();
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    assert_eq!(rerun.json()[0]["status"], "ok", "{}", rerun.stdout);
    assert_eq!(ids_once(&dir.join("out/users.jsonl")), expected("u", 3), "every user exactly once");
    for u in 1..=3 {
        let prefix = format!("u{u}-");
        assert_eq!(ids_once(&dir.join(format!("out/orders-u{u}.jsonl"))), expected(&prefix, 30));
    }
}

/// What a terminal shows after `bytes`: enough of VT100 for indicatif's
/// drawing (carriage return, line feed, cursor up/down/column, erase line and display).
fn screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\r' => col = 0,
            '\n' => row += 1,
            '\u{1b}' => {
                if chars.next_if_eq(&'[').is_none() {
                    continue;
                }
                let mut param = String::new();
                let command = loop {
                    match chars.next() {
                        Some(c) if c.is_ascii_digit() || c == ';' || c == '?' => param.push(c),
                        Some(c) => break c,
                        None => break ' ',
                    }
                };
                let n: usize = param.trim_start_matches('?').parse().unwrap_or(0);
                match command {
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => row += n.max(1),
                    'G' => col = n.max(1) - 1,
                    'K' | 'J' => {
                        if command == 'J' {
                            rows.truncate(row + 1);
                        }
                        if let Some(line) = rows.get_mut(row) {
                            line.truncate(if n == 2 { 0 } else { col });
                        }
                    }
                    _ => {}
                }
            }
            c => {
                while rows.len() <= row {
                    rows.push(Vec::new());
                }
                let line = &mut rows[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
        while rows.len() <= row {
            rows.push(Vec::new());
        }
    }
    rows.into_iter().map(|r| r.into_iter().collect::<String>().trim_end().to_owned()).collect()
}

#[test]
fn the_screen_model_keeps_what_a_terminal_keeps() {
    run_child_if_asked();
    let left = screen(b"running\r\nstep 1 records \xc2\xb7 2/s");
    assert_eq!(left, ["running", "step 1 records \u{b7} 2/s"]);
    let cleared = screen(b"a\r\nline one\r\nline two\r\x1b[2K\x1b[1A\r\x1b[2Kdone\r\n");
    assert_eq!(cleared, ["a", "done", ""]);
    assert_eq!(screen(b"abcdef\r\x1b[3Gx\x1b[K"), ["abx"]);
}

/// On a terminal (a pseudo-terminal from util-linux `script`), the live
/// progress line is on screen while the run is held; after SIGTERM it is gone
/// and the cancelled summary is shown.
#[test]
#[cfg(target_os = "linux")]
fn sigterm_on_a_terminal_leaves_no_progress_line_on_screen() {
    run_child_if_asked();
    let test = "sigterm_on_a_terminal_leaves_no_progress_line_on_screen";
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_csv(&dir.join("in.csv"), "", 200);
    let exe = std::env::current_exe().unwrap();
    let inner = format!("'{}' --exact {test} --nocapture", exe.display());
    let mut script = Command::new("script")
        .args(["-qfec", &inner, "/dev/null"])
        .env(CHILD, "signalled")
        .env("FAUCET_SIGNALS_DIR", dir)
        .env(HOLD, "45")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the program on a pseudo-terminal");
    let terminal = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let terminal = terminal.clone();
        let mut pipe = script.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut pipe, &mut buf) {
                if n == 0 {
                    break;
                }
                terminal.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let shown = |text: &str| String::from_utf8_lossy(&terminal.lock().unwrap()).contains(text);
    wait_for(|| dir.join("reached").exists(), "record 45");
    wait_for(|| shown(" records · "), "the live progress line");
    let pid = std::fs::read_to_string(dir.join("reached")).unwrap();
    assert!(Command::new("kill").args(["-TERM", pid.trim()]).status().unwrap().success());
    wait_for(|| shown("received SIGTERM: stopping after the current page"), "the stop notice");
    std::fs::write(dir.join("release"), "").unwrap();
    let status = script.wait().unwrap();
    reader.join().unwrap();
    let bytes = terminal.lock().unwrap().clone();
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(status.code(), Some(143), "{raw:?}");
    let screen = screen(&bytes);
    if std::env::var_os("FAUCET_SIGNALS_SHOW").is_some() {
        eprintln!("raw: {raw:?}");
    }
    let text = screen.join("\n");
    assert!(!text.contains(" records · "), "a progress line is left on screen:\n{text}\n\nraw: {raw:?}");
    assert!(text.contains("received SIGTERM: stopping after the current page"), "{text}");
    assert!(text.contains("signalled: 1 invocation, cancelled, wrote 50 record(s)"), "{text}");
    assert_eq!(ids_once(&dir.join("out.jsonl")), expected("", 50));
}

//! The generated `main`'s run flags and commands, each in a child process the
//! way a user or a scheduler runs the program: `--help`, `--dry-run`,
//! `--limit`, `--state-path`, `--log-level` / `--log-format`, `state` show and
//! reset, `dlq replay FILE`, `--shard` on a pipeline without shards, and how
//! a failed run reports itself.
//!
//! The pipeline reads six JSON Lines records in pages of two; one (`id: -3`)
//! breaches the contract and is quarantined, so a full run writes five.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use faucet_runtime::FaucetError;
use faucet_runtime::dlq::{Origin, Reason, envelope};
use serde_json::{Value, json};

/// Set in the child: the program's arguments.
const CHILD: &str = "FAUCET_RUN_FLAGS_CHILD";

faucet_runtime::faucet! {
    name: run_flags,
    pipeline: {
        source: { type: jsonl, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/in.jsonl", batch_size: 2 } },
        sink: { type: jsonl, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/out.jsonl" } },
        dlq: { sink: { type: jsonl, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/dlq.jsonl" } } },
        state: { type: file, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/state" } },
        contract: {
            version: "1.0.0",
            on_breach: quarantine,
            fields: [{ name: id, type: integer, min: 0 }],
        },
    },
    observability: { tracing: { level: info } },
}

/// In the child: runs the program with `$FAUCET_RUN_FLAGS_CHILD` and exits with its code.
fn run_child_if_asked() {
    let Ok(args) = std::env::var(CHILD) else { return };
    let code = run_flags::main_with_args(args.split_whitespace().map(str::to_owned));
    let code = (0..=u8::MAX).find(|n| ExitCode::from(*n) == code).unwrap();
    std::process::exit(i32::from(code));
}

/// What the program left behind.
struct Ended {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ended {
    /// The JSON document on stdout.
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }
}

/// Runs the program (as `test`'s child) on `dir` with `args`, `stdin` as its input.
fn program(test: &str, dir: &Path, args: &str, stdin: &str) -> Ended {
    use std::io::Write;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env(CHILD, args)
        .env("FAUCET_RUN_FLAGS_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The test harness announces the child's one test first.
    let stdout = stdout.strip_prefix("\nrunning 1 test\n").unwrap_or(&stdout).to_owned();
    Ended {
        code: out.status.code().expect("the program exits"),
        stdout,
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A directory with the input.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let input: String =
        [1, 2, -3, 4, 5, 6].iter().map(|id| format!("{{\"id\":{id},\"name\":\"n{id}\"}}\n")).collect();
    std::fs::write(dir.path().join("in.jsonl"), input).unwrap();
    dir
}

/// The ids in a JSON Lines file.
fn ids(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_i64().unwrap())
        .collect()
}

/// The file names in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const BOOKMARK: &str = "state/run_flags%3A%3Arow-0.json";

#[test]
fn help_exits_zero_and_lists_the_flags() {
    run_child_if_asked();
    let dir = setup();
    let help = program("help_exits_zero_and_lists_the_flags", dir.path(), "--help", "");
    assert_eq!(help.code, 0, "{}", help.stderr);
    for flag in [
        "--output",
        "--dry-run",
        "--limit N",
        "--clock",
        "--log-level",
        "--log-format text|json",
        "--state-path DIR",
        "--yes",
        "state reset [ROW]",
        "dlq replay FILE",
    ] {
        assert!(help.stdout.contains(flag), "{flag} missing from:\n{}", help.stdout);
    }
    assert_eq!(files(dir.path()), ["in.jsonl"], "--help runs nothing");
    let bad = program("help_exits_zero_and_lists_the_flags", dir.path(), "--limit ten", "");
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr, "error: --limit: `ten` is not a positive number of records\n");
}

#[test]
fn dry_run_reads_and_transforms_but_writes_and_persists_nothing() {
    run_child_if_asked();
    let dir = setup();
    let test = "dry_run_reads_and_transforms_but_writes_and_persists_nothing";
    let dry = program(test, dir.path(), "--dry-run --output json", "");
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let doc = dry.json();
    assert_eq!(doc["dry_run"], true, "{doc}");
    let run = &doc["invocations"][0];
    assert_eq!((run["records_read"].as_u64(), run["records_written"].as_u64()), (Some(6), Some(5)), "{doc}");
    assert_eq!(run["records_dead_lettered"], 1, "{doc}");
    assert_eq!(files(dir.path()), ["in.jsonl"], "no sink, DLQ or state file");

    let text = program(test, dir.path(), "--dry-run", "");
    assert!(text.stderr.contains("dry run: nothing was written and no bookmark moved"), "{}", text.stderr);

    // The bookmark did not move: a real run writes everything.
    let real = program(test, dir.path(), "", "");
    assert_eq!(real.code, 0, "{}", real.stderr);
    assert_eq!(ids(&dir.path().join("out.jsonl")), [1, 2, 4, 5, 6]);
    assert_eq!(payload_ids(&dir.path().join("dlq.jsonl")), [-3]);
    assert!(dir.path().join(BOOKMARK).exists());
}

#[test]
fn limit_writes_at_most_n_records_and_moves_no_bookmark() {
    run_child_if_asked();
    let dir = setup();
    let test = "limit_writes_at_most_n_records_and_moves_no_bookmark";
    let sample = program(test, dir.path(), "--limit 3 --output json", "");
    assert_eq!(sample.code, 0, "{}", sample.stderr);
    assert_eq!(sample.json()["invocations"][0]["records_written"], 3);
    assert_eq!(ids(&dir.path().join("out.jsonl")), [1, 2, 4]);
    assert!(!dir.path().join(BOOKMARK).exists(), "a sample persists no bookmark");

    let limit_one = program(test, dir.path(), "--limit=1 --output json", "");
    assert_eq!(limit_one.json()["invocations"][0]["records_written"], 1);
    assert_eq!(ids(&dir.path().join("out.jsonl")), [1]);

    let real = program(test, dir.path(), "", "");
    assert_eq!(real.code, 0, "{}", real.stderr);
    assert_eq!(
        ids(&dir.path().join("out.jsonl")),
        [1, 2, 4, 5, 6],
        "the next run starts where the sample started"
    );
}

#[test]
fn state_path_moves_the_file_store() {
    run_child_if_asked();
    let dir = setup();
    let test = "state_path_moves_the_file_store";
    let elsewhere = dir.path().join("elsewhere");
    let run = program(test, dir.path(), &format!("--state-path {}", elsewhere.display()), "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!dir.path().join("state").exists());
    assert_eq!(files(&elsewhere), ["run_flags%3A%3Arow-0.json"]);
    let shown = program(test, dir.path(), &format!("state --state-path={}", elsewhere.display()), "");
    assert!(shown.stdout.starts_with("run_flags::row-0: {"), "{}", shown.stdout);
    let default = program(test, dir.path(), "state", "");
    assert!(default.stdout.contains("no bookmark"), "{}", default.stdout);
}

#[test]
fn state_shows_the_bookmark_and_resets_it_after_confirmation() {
    run_child_if_asked();
    let dir = setup();
    let test = "state_shows_the_bookmark_and_resets_it_after_confirmation";
    let empty = program(test, dir.path(), "state show", "");
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert_eq!(
        empty.stdout,
        "run_flags::row-0: no bookmark (the next run reads its source from the start)\n"
    );
    assert_eq!(program(test, dir.path(), "", "").code, 0);
    let stored: Value = serde_json::from_slice(&std::fs::read(dir.path().join(BOOKMARK)).unwrap()).unwrap();

    let shown = program(test, dir.path(), "state", "");
    assert_eq!(shown.stdout, format!("run_flags::row-0: {stored}\n"));
    let doc = program(test, dir.path(), "state --output json", "").json();
    assert_eq!(
        doc,
        json!({"store": "file", "bookmarks": [{"row": "row-0", "key": "run_flags::row-0", "bookmark": stored}]})
    );

    let declined = program(test, dir.path(), "state reset", "n\n");
    assert_eq!(declined.code, 1, "{}", declined.stderr);
    assert!(declined.stderr.contains("Reset the bookmark of `run_flags::row-0`"), "{}", declined.stderr);
    assert!(declined.stderr.ends_with("run_flags::row-0: not reset\n"), "{}", declined.stderr);
    assert!(dir.path().join(BOOKMARK).exists());
    let no_answer = program(test, dir.path(), "state reset row-0", "");
    assert_eq!(no_answer.code, 1, "no answer is no: {}", no_answer.stderr);

    let wrong = program(test, dir.path(), "state reset row-9 --yes", "");
    assert_eq!(wrong.code, 1);
    assert!(wrong.stderr.contains("there is no row `row-9`"), "{}", wrong.stderr);

    let confirmed = program(test, dir.path(), "state reset", "y\n");
    assert_eq!(confirmed.code, 0, "{}", confirmed.stderr);
    assert!(!dir.path().join(BOOKMARK).exists());
    assert_eq!(program(test, dir.path(), "", "").code, 0);
    let yes = program(test, dir.path(), "state reset --yes", "");
    assert_eq!(yes.code, 0, "{}", yes.stderr);
    assert!(!yes.stderr.contains("[y/N]"), "--yes asks nothing: {}", yes.stderr);
    assert!(!dir.path().join(BOOKMARK).exists());
    // The reset row starts over: the file sink starts its file over too.
    assert_eq!(program(test, dir.path(), "", "").code, 0);
    assert_eq!(ids(&dir.path().join("out.jsonl")), [1, 2, 4, 5, 6]);
}

#[test]
fn dlq_replay_writes_dead_letters_through_the_sink() {
    run_child_if_asked();
    let dir = setup();
    let test = "dlq_replay_writes_dead_letters_through_the_sink";
    assert_eq!(program(test, dir.path(), "", "").code, 0);
    let bookmark = std::fs::read(dir.path().join(BOOKMARK)).unwrap();
    // The run's own contract envelope (it breaches again), rows a sink
    // rejected, a transform's reject (its payload is the input) and another
    // pipeline's envelope.
    let mut letters = std::fs::read_to_string(dir.path().join("dlq.jsonl")).unwrap();
    let ours = Origin { sink: "jsonl", pipeline: "run_flags", row: "row-0" };
    let rejected = FaucetError::sink("the server said no");
    for (origin, reason, id) in [
        (ours, Reason::Partial, 7),
        (ours, Reason::DlqAll, 8),
        (ours, Reason::Transform, 9),
        (Origin { pipeline: "other", ..ours }, Reason::Partial, 10),
    ] {
        letters.push_str(&format!("{}\n", envelope(origin, &rejected, reason, json!({"id": id}), 0)));
    }
    let file = dir.path().join("letters.jsonl");
    std::fs::write(&file, letters).unwrap();

    // A dry run writes nothing (no sink row, no failed file) and says what a replay would do.
    let dry =
        program(test, dir.path(), &format!("dlq replay {} --dry-run --output json", file.display()), "");
    assert_eq!(dry.code, 0, "a dry run only reports: {}", dry.stderr);
    let doc = dry.json();
    assert_eq!(
        (&doc["dry_run"], &doc["records_written"], &doc["records_failed"]),
        (&json!(true), &json!(2), &json!(1)),
        "{doc}"
    );
    assert_eq!(doc["failed_dlq"], Value::Null);
    assert_eq!(ids(&dir.path().join("out.jsonl")), [1, 2, 4, 5, 6], "a dry run writes nothing");
    assert!(!dir.path().join("letters.replay-failed.jsonl").exists());
    // `--reason` keeps one reason's letters; the others are skipped, saying why.
    let only = program(
        test,
        dir.path(),
        &format!("dlq replay {} --reason dlq_all --dry-run -o json", file.display()),
        "",
    );
    let doc = only.json();
    assert_eq!((&doc["records_written"], &doc["records_failed"]), (&json!(1), &json!(0)), "{doc}");
    assert_eq!(doc["skipped"]["reason `partial` (not --reason)"], 1, "{doc}");
    assert_eq!(doc["skipped"]["reason `contract` (not --reason)"], 1, "{doc}");
    let transform =
        program(test, dir.path(), &format!("dlq replay {} --reason transform", file.display()), "");
    assert_eq!(transform.code, 2, "{}", transform.stderr);
    assert!(transform.stderr.contains("hold the source's input"), "{}", transform.stderr);

    let replay = program(test, dir.path(), &format!("dlq replay {} --output json", file.display()), "");
    assert_eq!(replay.code, 1, "a letter failed again: {}", replay.stderr);
    let mut doc = replay.json();
    assert!(doc["duration_ms"].is_u64(), "{doc}");
    doc.as_object_mut().unwrap().remove("duration_ms");
    let failed = dir.path().join("letters.replay-failed.jsonl");
    assert_eq!(
        doc,
        json!({
            "pipeline": "run_flags",
            "status": "failed",
            "file": file.display().to_string(),
            "envelopes": 5,
            "records_written": 2,
            "records_failed": 1,
            "failed_dlq": failed.display().to_string(),
            "skipped": {
                "reason `transform` (fix the input and run again)": 1,
                "written by another pipeline or row": 1,
            },
        })
    );
    assert_eq!(ids(&dir.path().join("out.jsonl")), [1, 2, 4, 5, 6, 7, 8], "added to the sink's output");
    assert_eq!(payload_ids(&failed), [-3]);
    assert_eq!(std::fs::read(dir.path().join(BOOKMARK)).unwrap(), bookmark, "no bookmark moves");

    let text = program(test, dir.path(), &format!("dlq replay {} --log-level warn", failed.display()), "");
    assert_eq!(text.code, 1);
    assert!(
        text.stderr.starts_with(&format!(
            "run_flags: replayed 1 of 1 dead letter(s) from {}: wrote 0, failed again 1",
            failed.display()
        )),
        "{}",
        text.stderr
    );
    let missing = program(test, dir.path(), "dlq replay nowhere.jsonl", "");
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.starts_with("error: source error: cannot open nowhere.jsonl"),
        "{}",
        missing.stderr
    );
}

#[test]
fn log_level_and_log_format() {
    run_child_if_asked();
    let dir = setup();
    let test = "log_level_and_log_format";
    // The config's `tracing: { level: info }` shows the run's info events.
    let info = program(test, dir.path(), "--progress none", "");
    assert_eq!(info.code, 0, "{}", info.stderr);
    let finished = info.stderr.lines().find(|l| l.contains("run finished")).expect(&info.stderr);
    assert!(finished.contains("INFO"), "{finished}");
    assert!(finished.contains("pipeline=run_flags"), "{finished}");
    assert!(finished.contains("records_written=5"), "{finished}");

    let warn = program(test, dir.path(), "--log-level warn", "");
    assert_eq!(warn.code, 0);
    assert!(!warn.stderr.contains("run finished"), "{}", warn.stderr);

    let json = program(test, dir.path(), "--log-format json --log-level=info --progress none", "");
    assert_eq!(json.code, 0, "{}", json.stderr);
    let events: Vec<Value> = json
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let finished = events.iter().find(|e| e["fields"]["message"] == "run finished").expect(&json.stderr);
    assert_eq!(finished["level"], "INFO");
    assert_eq!(finished["span"]["pipeline"], "run_flags", "{finished}");
    assert_eq!(finished["fields"]["records_written"], 0, "the rerun resumes at the end: {finished}");
}

#[test]
fn a_failed_run_prints_its_message_and_a_json_document() {
    run_child_if_asked();
    let dir = tempfile::tempdir().unwrap();
    let test = "a_failed_run_prints_its_message_and_a_json_document";
    std::fs::write(dir.path().join("in.jsonl"), "{\"id\": 1}\nnot json\n").unwrap();
    let text = program(test, dir.path(), "--log-level error", "");
    assert_eq!(text.code, 1);
    let last = text.stderr.lines().last().unwrap();
    assert!(last.starts_with("error: parse error: ") && last.contains("in.jsonl:2: "), "{}", text.stderr);
    assert!(!text.stderr.contains("FaucetError {"), "no Debug struct: {}", text.stderr);

    let json = program(test, dir.path(), "--output json --log-level error", "");
    assert_eq!(json.code, 1);
    let doc = json.json();
    assert_eq!((&doc["pipeline"], &doc["status"]), (&json!("run_flags"), &json!("failed")), "{doc}");
    assert!(doc["duration_ms"].is_u64(), "{doc}");
    assert_eq!(doc["error"].as_str(), last.strip_prefix("error: "), "{doc}");
}

#[test]
fn shard_on_an_unsharded_pipeline_is_refused_before_reading() {
    run_child_if_asked();
    let dir = setup();
    let test = "shard_on_an_unsharded_pipeline_is_refused_before_reading";
    let ended = program(test, dir.path(), "--shard 1", "");
    assert_eq!(ended.code, 1, "{}", ended.stderr);
    assert!(ended.stderr.contains("pipeline `run_flags` has no `shard:`"), "{}", ended.stderr);
    assert!(!dir.path().join("out.jsonl").exists(), "nothing was written");
}

/// The payload ids of a dead-letter file's envelopes.
fn payload_ids(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["payload"]["id"].as_i64().unwrap())
        .collect()
}

/// Slow enough for the live progress line to be drawn before the test sends Ctrl-C.
pub fn slowly(record: faucet_runtime::Record) -> Result<Option<faucet_runtime::Record>, FaucetError> {
    tokio::task::block_in_place(|| std::thread::sleep(std::time::Duration::from_millis(300)));
    Ok(Some(record))
}

faucet_runtime::faucet! {
    name: run_flags_slow,
    pipeline: {
        source: { type: jsonl, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/in.jsonl", batch_size: 1 } },
        transforms: [{ type: custom, config: { function: slowly } }],
        sink: { type: jsonl, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/out.jsonl" } },
    },
}

/// What a terminal shows after `output`: enough of a VT100 for indicatif's
/// redraws (carriage return, line feed, cursor up, erase line, erase below).
fn screen(output: &str) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = output.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
                if lines.len() <= row {
                    lines.push(Vec::new());
                }
            }
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut arg = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '?' || **d == ';') {
                    arg.push(d);
                    chars.next();
                }
                let n = arg.parse::<usize>().ok();
                match chars.next() {
                    Some('A') => row = row.saturating_sub(n.unwrap_or(1)),
                    Some('K') if n == Some(2) => lines[row].clear(),
                    Some('K') => lines[row].truncate(col),
                    Some('J') => {
                        lines[row].truncate(col);
                        lines.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            c => {
                let line = &mut lines[row];
                if line.len() <= col {
                    line.resize(col, ' ');
                    line.push(c);
                } else {
                    line[col] = c;
                }
                col += 1;
            }
        }
    }
    lines.into_iter().map(|l| l.into_iter().collect::<String>().trim_end().to_owned()).collect()
}

#[test]
fn ctrl_c_leaves_no_progress_line_on_the_terminal() {
    use std::io::{Read, Write};
    if std::env::var(CHILD).is_ok() {
        let code = run_flags_slow::main_with_args(std::iter::empty());
        let code = (0..=u8::MAX).find(|n| ExitCode::from(*n) == code).unwrap();
        std::process::exit(i32::from(code));
    }
    let dir = setup();
    let exe = std::env::current_exe().unwrap();
    let command =
        format!("{} --exact ctrl_c_leaves_no_progress_line_on_the_terminal --nocapture", exe.display());
    // `script` runs the program on a pseudo-terminal: stderr is a terminal,
    // and a 0x03 written to it is the terminal's Ctrl-C (SIGINT and an echoed `^C`).
    let mut child = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env(CHILD, "")
        .env("FAUCET_RUN_FLAGS_DIR", dir.path())
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the program on a terminal");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            let _ = tx.send(String::from_utf8_lossy(&all).into_owned());
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let seen = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the program draws progress");
        if seen.contains(" records · ") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no progress line in {seen:?}");
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    let output = reader.join().unwrap();
    let shown = screen(&output);
    assert!(shown.iter().any(|l| l.starts_with("received SIGINT: stopping")), "{shown:#?}\n{output:?}");
    assert!(shown.iter().any(|l| l.contains("1 invocation, cancelled")), "{shown:#?}\n{output:?}");
    assert!(
        !shown.iter().any(|l| l.contains(" records · ")),
        "a progress line stayed: {shown:#?}\n{output:?}"
    );
    assert!(!shown.iter().any(|l| l.contains("^C")), "the echoed ^C stayed: {shown:#?}\n{output:?}");
    assert!(status.code().is_some(), "{status:?}");
}

faucet_runtime::faucet! {
    name: run_flags_matrix,
    pipeline: {
        sink: { type: jsonl, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/unused.jsonl" } },
        state: { type: file, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/state" } },
    },
    matrix: [
        {
            id: users,
            source: { type: jsonl, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/in.jsonl", batch_size: 2 } },
            sink: { config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/users.jsonl" } },
        },
        {
            id: copies,
            parent: users,
            source: { type: jsonl, config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/in.jsonl" } },
            sink: { config: { path: "${env:FAUCET_RUN_FLAGS_DIR}/copy-${users.id}.jsonl" } },
        },
    ],
    execution: { max_concurrent: 1 },
}

#[test]
fn a_matrix_passes_dry_run_and_limit_to_every_invocation() {
    if let Ok(args) = std::env::var(CHILD) {
        let code = run_flags_matrix::main_with_args(args.split_whitespace().map(str::to_owned));
        let code = (0..=u8::MAX).find(|n| ExitCode::from(*n) == code).unwrap();
        std::process::exit(i32::from(code));
    }
    let dir = setup();
    let test = "a_matrix_passes_dry_run_and_limit_to_every_invocation";
    let dry = program(test, dir.path(), "--dry-run --output json --log-level warn", "");
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let doc = dry.json();
    assert_eq!(doc["dry_run"], true, "{doc}");
    assert_eq!(
        doc["invocations"].as_array().map(Vec::len),
        Some(7),
        "the parent and one child per record: {doc}"
    );
    assert_eq!(files(dir.path()), ["in.jsonl"], "no invocation wrote or persisted anything");

    let sample = program(test, dir.path(), "--limit 2 --log-level warn", "");
    assert_eq!(sample.code, 0, "{}", sample.stderr);
    assert_eq!(ids(&dir.path().join("users.jsonl")), [1, 2]);
    assert_eq!(ids(&dir.path().join("copy-1.jsonl")), [1, 2], "each invocation writes at most N");
    assert_eq!(ids(&dir.path().join("copy-2.jsonl")), [1, 2]);
    assert!(!dir.path().join("copy--3.jsonl").exists(), "only written parents have children");
    assert!(!dir.path().join("state").exists(), "no bookmark");

    let state = program(test, dir.path(), "state", "");
    assert_eq!(state.code, 2);
    assert!(state.stderr.contains("`run_flags_matrix` has one"), "{}", state.stderr);
}

//! The generated `main` helper's progress output when stderr is not a
//! terminal: plain lines, one per running invocation per interval, before the
//! summary. The test runs itself as a child process with stderr piped, the way
//! a log collector would see the program.

use std::process::{Command, ExitCode};
use std::time::Duration;

use faucet_runtime::{FaucetError, Record};

const CHILD: &str = "FAUCET_PROGRESS_CHILD";

/// Makes the source slow enough for at least one progress tick.
pub fn slowly(record: Record) -> Result<Option<Record>, FaucetError> {
    tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(250)));
    Ok(Some(record))
}

faucet_runtime::faucet! {
    name: progress_main,
    pipeline: {
        source: { type: csv, config: { path: "${env:FAUCET_PROGRESS_IN}", batch_size: 1 } },
        transforms: [{ type: custom, config: { function: slowly } }],
        sink: { type: jsonl, config: { path: "${env:FAUCET_PROGRESS_OUT}", batch_size: 1 } },
    }
}

/// Runs the helper in a child process with `args`; returns its exit status and stderr.
fn run_child(args: &str, dir: &std::path::Path) -> (bool, String) {
    let input = dir.join("in.csv");
    let rows: String = (1..=8).map(|i| format!("{i},n{i}\n")).collect();
    std::fs::write(&input, format!("id,name\n{rows}")).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "plain_progress_lines_when_stderr_is_not_a_terminal", "--nocapture"])
        .env(CHILD, args)
        .env("FAUCET_PROGRESS_IN", &input)
        .env("FAUCET_PROGRESS_OUT", dir.join(format!("out-{}.jsonl", args.len())))
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn plain_progress_lines_when_stderr_is_not_a_terminal() {
    if let Ok(args) = std::env::var(CHILD) {
        let code = progress_main::main_with_args(args.split_whitespace().map(str::to_owned));
        std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
    }
    let dir = tempfile::tempdir().unwrap();

    let (ok, stderr) = run_child("--progress-interval 1", dir.path());
    assert!(ok, "{stderr}");
    let progress: Vec<&str> = stderr.lines().filter(|l| l.starts_with("progress_main[row-0] ")).collect();
    assert!(!progress.is_empty(), "no progress line in:\n{stderr}");
    for line in &progress {
        let rest = line.strip_prefix("progress_main[row-0] ").unwrap();
        let parts: Vec<&str> = rest.split(" · ").collect();
        assert_eq!(parts.len(), 4, "{line}");
        assert!(parts[0].ends_with(" records"), "{line}");
        assert!(parts[1].ends_with("/s"), "{line}");
        assert_eq!(parts[2].split(':').count(), 3, "{line}");
        assert_eq!(parts[3], "0 dead-lettered", "{line}");
        assert!(!line.contains('\u{1b}'), "no terminal escapes in plain lines: {line:?}");
    }
    let summary = stderr.find("progress_main: 1 invocation, succeeded, wrote 8 record(s)").expect(&stderr);
    assert!(stderr.rfind(progress[progress.len() - 1]).unwrap() < summary, "progress precedes the summary");

    let (ok, stderr) = run_child("--progress none --progress-interval 1", dir.path());
    assert!(ok, "{stderr}");
    assert!(!stderr.contains(" records · "), "--progress none prints no progress:\n{stderr}");
    assert!(stderr.contains("progress_main: 1 invocation, succeeded, wrote 8 record(s)"), "{stderr}");
}

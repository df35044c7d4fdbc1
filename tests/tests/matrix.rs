//! Matrix runs end to end: users → posts → comments (three levels, children
//! per parent record), a `depends_on` summary, vars and templates, resume per
//! invocation, and hostile parent values that must not escape the output directory.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const USERS: u64 = 5;
const POSTS_PER_USER: u64 = 2;
const COMMENTS_PER_POST: u64 = 3;

fn write_lines(path: &Path, lines: impl IntoIterator<Item = String>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = lines.into_iter().map(|l| l + "\n").collect();
    std::fs::write(path, text).unwrap();
}

/// Users 1..=USERS (plus `extra` raw user lines), each with posts and comments.
fn write_input(dir: &Path, extra: &[&str]) {
    let mut users: Vec<String> =
        (1..=USERS).map(|u| format!(r#"{{"id":{u},"userName":"user{u}"}}"#)).collect();
    users.extend(extra.iter().map(|s| s.to_string()));
    write_lines(&dir.join("users.jsonl"), users);
    for u in 1..=USERS {
        let posts = (1..=POSTS_PER_USER).map(|p| format!(r#"{{"post_id":"{u}-{p}","user":{u}}}"#));
        write_lines(&dir.join(format!("posts/{u}.jsonl")), posts);
        for p in 1..=POSTS_PER_USER {
            let comments = (1..=COMMENTS_PER_POST).map(|c| format!(r#"{{"comment":{c},"post":"{u}-{p}"}}"#));
            write_lines(&dir.join(format!("comments/{u}-{p}.jsonl")), comments);
        }
    }
}

fn run(dir: &Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg("matrix_tree")
        .env("FAUCET_E2E_DIR", dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report JSON: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map(|t| t.lines().count()).unwrap_or(0)
}

fn invocations<'a>(report: &'a Value, row: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    report["invocations"].as_array().unwrap().iter().filter(move |i| i["row"] == row)
}

#[test]
fn three_level_tree_runs_once_per_parent_record_and_resumes_per_invocation() {
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[]);
    let (code, report) = run(dir.path());
    assert_eq!(code, 0, "{report:#}");
    let out = dir.path().join("out");

    assert_eq!(lines(&out.join("users.jsonl")), USERS as usize);
    for u in 1..=USERS {
        assert_eq!(lines(&out.join(format!("posts-{u}.jsonl"))), POSTS_PER_USER as usize, "user {u}'s posts");
        for p in 1..=POSTS_PER_USER {
            assert_eq!(lines(&out.join(format!("comments-{u}-{p}.jsonl"))), COMMENTS_PER_POST as usize);
        }
    }
    // One invocation per parent record, keyed by the parent's key.
    let mut post_keys: Vec<String> =
        invocations(&report, "posts").map(|i| i["parent_key"].as_str().unwrap().to_owned()).collect();
    post_keys.sort();
    assert_eq!(post_keys, (1..=USERS).map(|u| u.to_string()).collect::<Vec<_>>());
    assert_eq!(invocations(&report, "comments").count(), (USERS * POSTS_PER_USER) as usize);
    assert!(invocations(&report, "comments").all(|i| i["status"] == "succeeded"));

    // The summary ran after the comments (depends_on), through its own transforms.
    let summary = std::fs::read_to_string(out.join("summary.jsonl")).unwrap();
    let first: Value = serde_json::from_str(summary.lines().next().unwrap()).unwrap();
    assert_eq!(first["USER_NAME"], "user1", "the row's keys_case transform ran");
    let totals = &report["totals"];
    assert_eq!(totals["invocations"], 1 + USERS + USERS * POSTS_PER_USER + 1);
    assert_eq!(totals["failed"], 0);

    // Every invocation keeps its own bookmark: a rerun reads nothing new and writes nothing.
    let (code, again) = run(dir.path());
    assert_eq!(code, 0, "{again:#}");
    assert_eq!(again["totals"]["records_written"], 0, "{again:#}");
    assert_eq!(lines(&out.join("users.jsonl")), USERS as usize);
    // Child state keyed by parent key, as faucet-stream 1.17 keys it: the
    // number 3 tagged `_n.`, the string `3-1` as it is.
    assert!(
        dir.path().join("state/matrix_tree%3A%3Aposts%3A%3A_n.3.json").exists(),
        "child state keyed by a numeric parent key"
    );
    assert!(
        dir.path().join("state/matrix_tree%3A%3Acomments%3A%3A3-1.json").exists(),
        "child state keyed by a string parent key"
    );
}

#[test]
fn hostile_parent_values_cannot_escape_the_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[r#"{"id":"../../escaped","userName":"mallory"}"#]);
    let (code, report) = run(dir.path());
    assert_eq!(code, 1, "a failed invocation makes the run fail: {report:#}");
    let hostile = invocations(&report, "posts")
        .find(|i| i["parent_key"] == "../../escaped")
        .expect("the hostile user's posts invocation is reported");
    assert_eq!(hostile["status"], "failed");
    assert!(hostile["error"].as_str().unwrap().contains("cannot be part of a path"), "{hostile}");
    // Nothing was written outside the output directory.
    assert!(!dir.path().join("escaped.jsonl").exists());
    assert!(!dir.path().parent().unwrap().join("escaped.jsonl").exists());
    // The well-behaved users' children all ran (on_error: continue).
    for u in 1..=USERS {
        assert_eq!(lines(&dir.path().join(format!("out/posts-{u}.jsonl"))), POSTS_PER_USER as usize);
    }
    // The summary depends on the failed tree, so it is skipped, not run.
    let summary: Vec<&Value> = invocations(&report, "summary").collect();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0]["status"], "skipped");
}

#[test]
fn a_parent_with_no_records_skips_its_children() {
    let dir = tempfile::tempdir().unwrap();
    write_lines(&dir.path().join("users.jsonl"), Vec::<String>::new());
    let (code, report) = run(dir.path());
    assert_eq!(code, 0, "skipping is not failing: {report:#}");
    let posts: Vec<&Value> = invocations(&report, "posts").collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["status"], "skipped");
    assert!(posts[0]["error"].as_str().unwrap().contains("no records"));
}

#[test]
fn killed_matrix_run_resumes_every_unfinished_invocation_without_duplicates() {
    let write = |dir: &Path| {
        // Enough work that kills land mid-run: 5 users × 2 posts × 2,000 comments.
        write_input(dir, &[]);
        for u in 1..=USERS {
            for p in 1..=POSTS_PER_USER {
                let comments = (1..=2000).map(|c| format!(r#"{{"comment":{c},"post":"{u}-{p}"}}"#));
                write_lines(&dir.join(format!("comments/{u}-{p}.jsonl")), comments);
            }
        }
    };
    let runner = |dir: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_e2e-runner"));
        cmd.arg("matrix_tree").env("FAUCET_E2E_DIR", dir);
        cmd
    };
    let scratch = tempfile::tempdir().unwrap();
    write(scratch.path());
    let window = faucet_e2e::time_run(|| runner(scratch.path()));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path());
    let (out, hits) = faucet_e2e::run_with_kills(|| runner(dir.path()), 6, window);
    assert!(hits > 0, "no kill landed mid-run");
    eprintln!("{hits} kill(s) hit a running matrix");
    assert!(out.status.success(), "final run: {}", String::from_utf8_lossy(&out.stdout));
    let out_dir = dir.path().join("out");
    assert_eq!(lines(&out_dir.join("users.jsonl")), USERS as usize, "each user exactly once");
    for u in 1..=USERS {
        assert_eq!(lines(&out_dir.join(format!("posts-{u}.jsonl"))), POSTS_PER_USER as usize);
        for p in 1..=POSTS_PER_USER {
            let text = std::fs::read_to_string(out_dir.join(format!("comments-{u}-{p}.jsonl"))).unwrap();
            let mut seen: Vec<u64> = text
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()["comment"].as_u64().unwrap())
                .collect();
            assert_eq!(seen.len(), 2000, "post {u}-{p}: every comment exactly once");
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), 2000, "post {u}-{p}: no duplicates");
        }
    }
    assert_eq!(lines(&out_dir.join("summary.jsonl")), USERS as usize);
}

#[test]
fn on_error_stop_stops_running_invocations_and_skips_pending_ones() {
    let dir = tempfile::tempdir().unwrap();
    // 200,000 records in pages of 10: far more pages than run before the stop lands.
    let big = (0..200_000).map(|i| format!(r#"{{"i":{i}}}"#));
    write_lines(&dir.path().join("big.jsonl"), big);
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg("matrix_stop")
        .env("FAUCET_E2E_DIR", dir.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let status = |row: &str| {
        invocations(&report, row).map(|i| i["status"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(status("broken"), ["failed"]);
    assert_eq!(status("slow"), ["skipped"], "the running invocation stopped: {report:#}");
    let slow = invocations(&report, "slow").next().unwrap();
    assert!(slow["records_written"].as_u64().unwrap() < 200_000, "it stopped early: {slow}");
    assert_eq!(status("after"), ["skipped"], "pending work never started");
    assert!(!dir.path().join("out/after.jsonl").exists());
}

/// Peak RSS of a fan-out run over `parents` records of about 2 KB each.
fn fanout_peak_kib(parents: usize) -> (u64, u64) {
    // tmpfs when there is one: 20k child invocations each fsync their sink.
    let dir =
        if Path::new("/dev/shm").is_dir() { tempfile::tempdir_in("/dev/shm") } else { tempfile::tempdir() }
            .unwrap();
    let padding = "x".repeat(2000);
    write_lines(
        &dir.path().join("parents.jsonl"),
        (0..parents).map(|i| format!(r#"{{"id":{i},"pad":"{padding}"}}"#)),
    );
    write_lines(&dir.path().join("one.jsonl"), [r#"{"x":1}"#.to_owned()]);
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg("matrix_fanout")
        .env("FAUCET_E2E_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["succeeded"], parents as u64 + 1, "one child per parent record, plus the parent");
    (report["peak_rss_kib"].as_u64().unwrap(), report["invocations"].as_u64().unwrap())
}

#[test]
fn parent_records_are_handed_to_children_page_by_page_not_held() {
    let (small, _) = fanout_peak_kib(2_000);
    let (large, invocations) = fanout_peak_kib(20_000);
    eprintln!("peak RSS: 2k parents {small} KiB, 20k parents {large} KiB ({invocations} invocations)");
    // Holding 18,000 more parent records of ~2 KB would add ~36 MB; what may grow
    // is the report (one small entry per invocation), well under 1 KiB each.
    assert!(large < small + 18_000, "peak RSS grew with the parent's records: {small} KiB → {large} KiB");
}

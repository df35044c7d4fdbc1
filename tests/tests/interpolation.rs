//! `${secret:…}`, `${file:…}` and `${now.…}` through a generated program: the
//! file is read at run time only (its contents are in no binary), the run's
//! clock comes from `--clock`, and `$${1}` reaches `rename_keys` as `${1}`.
//! The test runs the generated `main` as a child process, as a user would.

use std::path::Path;
use std::process::{Command, ExitCode};

const CHILD: &str = "FAUCET_INTERP_CHILD";

/// The file whose contents name the output: it exists while this crate
/// builds, so a generator that read it would have compiled it in.
const TENANT_FILE: &str = "pipelines/interp_tenant.txt";

faucet_runtime::faucet! {
    name: interpolated,
    pipeline: {
        source: { type: csv, config: { path: "${secret:FAUCET_INTERP_IN}" } },
        transforms: [{ type: rename_keys, config: { pattern: "^(.*)_at$", replacement: "$${1}_time" } }],
        sink: { type: jsonl, config: {
            path: "${env:FAUCET_INTERP_OUT}/dt=${now.date}/${file:pipelines/interp_tenant.txt}-${now.strftime.%H%M}.jsonl",
        } },
    }
}

faucet_runtime::faucet! {
    name: interpolated_matrix,
    pipeline: {
        sink: { type: jsonl, config: { path: "${env:FAUCET_INTERP_MATRIX_OUT}/${now.date}/users.jsonl" } },
    },
    matrix: [
        { id: users, source: { type: jsonl, config: { path: "${env:FAUCET_INTERP_MATRIX_IN}" } } },
        {
            id: copies,
            parent: users,
            source: { type: jsonl, config: { path: "${env:FAUCET_INTERP_MATRIX_IN}" } },
            sink: { config: { path: "${env:FAUCET_INTERP_MATRIX_OUT}/${now.date}/${now.strftime.%H%M%S}-${users.id}.jsonl" } },
        },
    ],
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs the generated `main` in a child with `args`, from `cwd`; its success and stderr.
fn run_child(args: &str, cwd: &Path, input: &Path, out: &Path) -> (bool, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "secret_file_and_clock_through_the_generated_main", "--nocapture"])
        .current_dir(cwd)
        .env(CHILD, args)
        .env("FAUCET_INTERP_IN", input)
        .env("FAUCET_INTERP_OUT", out)
        .output()
        .unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn secret_file_and_clock_through_the_generated_main() {
    if let Ok(args) = std::env::var(CHILD) {
        let code = interpolated::main_with_args(args.split_whitespace().map(str::to_owned));
        std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Read here, at run time: this test's code holds no copy of it either.
    let tenant = std::fs::read_to_string(crate_dir.join(TENANT_FILE)).unwrap();
    let tenant = tenant.trim_end();
    assert!(tenant.len() > 8);
    let binary = std::env::current_exe().unwrap();
    let bytes = std::fs::read(&binary).unwrap();
    assert!(holds(&bytes, TENANT_FILE.as_bytes()), "the path is compiled in: {}", binary.display());
    assert!(!holds(&bytes, tenant.as_bytes()), "{} holds the file's contents", binary.display());

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "id,created_at\n1,a\n2,b\n").unwrap();
    let out = dir.path().join("out");

    // The clock given: every `${now.…}` of the run renders it, in its offset.
    let (ok, stderr) = run_child("--clock 2030-05-06T23:08:09-04:00", crate_dir, &input, &out);
    assert!(ok, "{stderr}");
    let written = out.join("dt=2030-05-06").join(format!("{tenant}-2308.jsonl"));
    let lines =
        std::fs::read_to_string(&written).unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", written.display()));
    let records: Vec<serde_json::Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        records,
        vec![
            serde_json::json!({"id": "1", "created_time": "a"}),
            serde_json::json!({"id": "2", "created_time": "b"})
        ]
    );

    // A date is midnight UTC.
    let (ok, stderr) = run_child("--clock=2031-01-02", crate_dir, &input, &out);
    assert!(ok, "{stderr}");
    assert!(out.join("dt=2031-01-02").join(format!("{tenant}-0000.jsonl")).exists(), "{stderr}");

    let (ok, stderr) = run_child("--clock tomorrow", crate_dir, &input, &out);
    assert!(!ok && stderr.contains("--clock: `tomorrow` is not an RFC 3339 time"), "{stderr}");

    // Run from elsewhere, the relative path names no file: a run-time error naming it.
    let (ok, stderr) = run_child("--clock 2030-05-06T00:00:00Z", dir.path(), &input, &out);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("cannot read `${file:pipelines/interp_tenant.txt}`"), "{stderr}");
}

/// Every invocation of a matrix run renders the run's one clock: children
/// start after their parent's pages, yet name the same second.
#[tokio::test]
#[allow(unsafe_code)]
async fn a_matrix_run_reads_one_clock() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.jsonl");
    std::fs::write(&input, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n").unwrap();
    // SAFETY: the names are unique to this test; nothing else reads them.
    unsafe {
        std::env::set_var("FAUCET_INTERP_MATRIX_IN", &input);
        std::env::set_var("FAUCET_INTERP_MATRIX_OUT", dir.path());
    }
    let clock = faucet_runtime::clock::Clock::parse("2029-12-31T23:59:59+01:00").unwrap();
    let options = faucet_runtime::RunOptions { clock: Some(clock), ..Default::default() };
    let report = interpolated_matrix::run_with(options).await.unwrap();
    assert!(report.succeeded(), "{report}");
    let day = dir.path().join("2029-12-31");
    let mut written: Vec<String> = std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["235959-a.jsonl", "235959-b.jsonl", "users.jsonl"]);
}

//! faucet's end-to-end test support: the compiled pipelines and input generators.

faucet_runtime::include_pipeline!("csv_to_sqlite");
faucet_runtime::include_pipeline!("csv_to_jsonl");
faucet_runtime::include_pipeline!("jsonl_to_jsonl");
faucet_runtime::include_pipeline!("jsonl_dlq");
faucet_runtime::include_pipeline!("csv_contract");
faucet_runtime::include_pipeline!("matrix_tree");
faucet_runtime::include_pipeline!("matrix_stop");
faucet_runtime::include_pipeline!("matrix_rest");
faucet_runtime::include_pipeline!("matrix_fanout");
faucet_runtime::include_pipeline!("pg_append");
faucet_runtime::include_pipeline!("pg_upsert");
faucet_runtime::include_pipeline!("mysql_to_pg");
faucet_runtime::include_pipeline!("pg_to_jsonl");
faucet_runtime::include_pipeline!("pg_introspected");
faucet_runtime::include_pipeline!("cdc_replica");
faucet_runtime::include_pipeline!("cdc_one");

pub mod pg_logical;
faucet_runtime::include_pipeline!("sqlite_upsert");
faucet_runtime::include_pipeline!("vol_pg_to_pg");
faucet_runtime::include_pipeline!("shard_pg");
faucet_runtime::include_pipeline!("shard_pg_upsert");
faucet_runtime::include_pipeline!("shard_files");
faucet_runtime::include_pipeline!("shard_matrix");
faucet_runtime::include_pipeline!("vol_sqlite_to_pg");
faucet_runtime::include_pipeline!("typed_reshape");
faucet_runtime::include_pipeline!("typed_csv_to_sqlite");
faucet_runtime::include_pipeline!("pg_typed");
faucet_runtime::include_pipeline!("typed_misfit");
faucet_runtime::include_pipeline!("typed_misfit_fail");
faucet_runtime::include_pipeline!("file_jsonl_to_csv");
faucet_runtime::include_pipeline!("rows_filter");
faucet_runtime::include_pipeline!("rows_explode");
faucet_runtime::include_pipeline!("typed_fields");
faucet_runtime::include_pipeline!("fields_untyped");
faucet_runtime::include_pipeline!("values_typed");
faucet_runtime::include_pipeline!("values_untyped");
faucet_runtime::include_pipeline!("typed_bridged");
faucet_runtime::include_pipeline!("typed_rows");
faucet_runtime::include_pipeline!("typed_layers");
faucet_runtime::include_pipeline!("typed_layers_rows");

/// faucet-stream's example configs, compiled unchanged (pipelines/faucet_stream/).
pub mod faucet_stream {
    include!(concat!(env!("OUT_DIR"), "/faucet_stream/faucet/csv_to_jsonl.rs"));
}

/// The typed pipelines generated untyped (`faucet_gen::Config::untyped`): the
/// same configs, moving `serde_json::Value`s, for tests that compare the two.
pub mod untyped {
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/typed_reshape.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/typed_csv_to_sqlite.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/pg_typed.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/rows_filter.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/typed_fields.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/values_typed.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/typed_bridged.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/typed_rows.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/typed_layers.rs"));
    include!(concat!(env!("OUT_DIR"), "/untyped/faucet/typed_layers_rows.rs"));
}

use std::io::Write;
use std::path::Path;

/// Writes a CSV of `rows` rows (`id,firstName,amount,active`), ids 1..=rows.
pub fn write_csv(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "id,firstName,amount,active")?;
    for id in 1..=rows {
        writeln!(out, "{id},\"name, {}\",{}.{:02},{}", id % 97, id % 1000, id % 100, id % 3 == 0)?;
    }
    out.flush()
}

/// Writes JSON Lines of `rows` nested records, ids 1..=rows.
pub fn write_jsonl(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for id in 1..=rows {
        writeln!(
            out,
            r#"{{"id":{id},"user":{{"name":"user{}","address":{{"city":"c{}","zip":"{:05}"}}}},"tags":["a","b"],"amount":{}.5}}"#,
            id % 1000,
            id % 50,
            id % 100000,
            id % 700
        )?;
    }
    out.flush()
}

/// This process's peak resident memory in KiB (`VmHWM`), on Linux.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// How long one uninterrupted run of `make()` takes (run it on a scratch copy
/// of the input, so the real input is still untouched for the kill runs).
pub fn time_run(make: impl Fn() -> std::process::Command) -> std::time::Duration {
    let started = std::time::Instant::now();
    let out = make().output().expect("calibration run");
    assert!(out.status.success(), "calibration run failed: {}", String::from_utf8_lossy(&out.stderr));
    started.elapsed()
}

/// Runs a command to completion after `kills` runs killed with SIGKILL at
/// random points within `window` (the seed is printed, so a failure can be
/// replayed). Returns the final run's output and how many kills hit a running process.
pub fn run_with_kills(
    make: impl Fn() -> std::process::Command,
    kills: usize,
    window: std::time::Duration,
) -> (std::process::Output, usize) {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    eprintln!("kill schedule seed {seed}, window {window:?}");
    let mut state = seed;
    let mut next = |bound: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) % bound.max(1)
    };
    let window_ms = (window.as_millis() as u64).max(10);
    let mut hits = 0;
    for _ in 0..kills {
        let mut child = make()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn the run");
        // Each kill lands somewhere in the first 90% of what a whole run takes.
        std::thread::sleep(Duration::from_millis(next(window_ms * 9 / 10)));
        if child.try_wait().expect("poll the run").is_none() {
            child.kill().expect("SIGKILL");
            hits += 1;
        }
        child.wait().expect("reap");
    }
    (make().output().expect("final run"), hits)
}

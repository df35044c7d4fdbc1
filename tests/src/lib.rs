//! faucet's end-to-end test support: the compiled pipelines and input generators.

faucet_runtime::include_pipeline!("csv_to_sqlite");
faucet_runtime::include_pipeline!("csv_to_jsonl");
faucet_runtime::include_pipeline!("jsonl_to_jsonl");

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

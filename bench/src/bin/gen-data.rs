//! `gen-data --rows N --seed 42 --out FILE [--format csv|jsonl]`: writes the benchmark CSV (or, for
//! scenario J, the same rows as typed JSON Lines).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let (mut rows, mut seed, mut out, mut jsonl) = (None, 42u64, None, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--rows", Some(v)) => rows = v.replace('_', "").parse::<u64>().ok(),
            ("--seed", Some(v)) => match v.parse() {
                Ok(s) => seed = s,
                Err(_) => return usage(),
            },
            ("--out", Some(v)) => out = Some(v),
            ("--format", Some(v)) if v == "csv" || v == "jsonl" => jsonl = v == "jsonl",
            _ => return usage(),
        }
    }
    let (Some(rows), Some(out)) = (rows, out) else { return usage() };
    let result = File::create(&out).and_then(|file| {
        let mut writer = BufWriter::with_capacity(256 * 1024, file);
        if jsonl {
            faucet_bench::data::generate_jsonl(&mut writer, rows, seed)?;
        } else {
            faucet_bench::data::generate(&mut writer, rows, seed)?;
        }
        writer.flush()
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-data: writing {out}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: gen-data --rows N [--seed 42] --out FILE [--format csv|jsonl]");
    ExitCode::from(2)
}

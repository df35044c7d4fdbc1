//! `bench-parity EXPECTED.jsonl ACTUAL.jsonl`: exits 0 and prints the record
//! count when both hold the same records after key-sorted normalization.

use std::path::Path;
use std::process::ExitCode;

use faucet_bench::parity::{self, Mismatch};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [expected, actual] = args.as_slice() else {
        eprintln!("usage: bench-parity EXPECTED.jsonl ACTUAL.jsonl");
        return ExitCode::from(2);
    };
    match parity::compare(Path::new(expected), Path::new(actual)) {
        Ok(Ok(rows)) => {
            println!("{rows}");
            ExitCode::SUCCESS
        }
        Ok(Err(Mismatch::Count { expected: e, actual: a })) => {
            eprintln!("parity: {expected} has {e} record(s), {actual} has {a}");
            ExitCode::FAILURE
        }
        Ok(Err(Mismatch::Record { line, expected: e, actual: a })) => {
            eprintln!("parity: record {line} differs\n  {expected}: {e}\n  {actual}: {a}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("parity: {e}");
            ExitCode::FAILURE
        }
    }
}

//! The differential suite's runner (issue 19; see `bench/differential.sh`,
//! which installs faucet-cli and calls it).
//!
//! - `differential run CASE`: runs the case's compiled faucet pipeline (the
//!   config `differential/CASE.yaml`, compiled by build.rs) and prints its report.
//! - `differential suite [--peer FAUCET_CLI] [--work DIR] [--pg-url URL] [--record] [CASE…]`:
//!   runs every case (or those named) through faucet and faucet-cli, or
//!   without `--peer` against the outputs recorded from faucet-cli, and
//!   prints the table. `--record` writes faucet-cli's outputs to
//!   `differential/expected/`. Exits 1 when a case differs without a
//!   `# diff: known:` note, or has one but no longer differs.

use std::path::PathBuf;
use std::process::ExitCode;

use faucet_bench::differential::suite::{self, Options};

include!(concat!(env!("OUT_DIR"), "/differential_cases.rs"));

const USAGE: &str = "usage: differential run CASE\n       differential suite [--peer FAUCET_CLI] [--work DIR] [--pg-url URL] [--record] [CASE...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("differential: starting tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args.first().map(String::as_str) {
        Some("run") if args.len() == 2 => match runtime.block_on(run_case(&args[1])) {
            Some(Ok(report)) => {
                eprintln!("{report}");
                ExitCode::SUCCESS
            }
            Some(Err(e)) => {
                eprintln!("{}: {e}", args[1]);
                ExitCode::FAILURE
            }
            None => {
                eprintln!("differential: no case {}", args[1]);
                ExitCode::from(2)
            }
        },
        Some("suite") => match options(&args[1..]) {
            Ok(options) => match runtime.block_on(suite::run(&options)) {
                Ok(rows) if !rows.iter().any(|r| r.unexplained()) => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("differential: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("differential: {e}\n{USAGE}");
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The suite's options from its arguments.
fn options(args: &[String]) -> Result<Options, String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut options = Options {
        cases_dir: manifest.join("differential"),
        work: std::env::temp_dir().join("faucet-differential"),
        faucet: std::env::current_exe().map_err(|e| format!("locating myself: {e}"))?,
        peer: None,
        pg_url: "postgres://postgres@127.0.0.1:5432/faucet_diff".into(),
        record: false,
        only: vec![],
        compiled: COMPILED.iter().map(|(name, text)| (name.to_string(), text.to_string())).collect(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--peer" => options.peer = Some(value()?.into()),
            "--work" => options.work = value()?.into(),
            "--pg-url" => options.pg_url = value()?,
            "--record" => options.record = true,
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            case => options.only.push(case.to_owned()),
        }
    }
    if options.record && options.peer.is_none() {
        return Err("--record needs --peer".into());
    }
    Ok(options)
}

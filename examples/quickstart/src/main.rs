//! faucet's quickstart: two pipelines compiled from `pipelines/*.yaml` by
//! build.rs, run on the bundled `data/orders.jsonl`.
//!
//! Run it twice: the second run resumes from the stored bookmarks and writes
//! nothing twice. Delete `examples/quickstart/out/` to start over.

faucet_runtime::include_pipeline!("orders_to_sqlite");
faucet_runtime::include_pipeline!("orders_to_jsonl");

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // An error is printed as its message (not as a `Debug` struct) and the
    // process exits non-zero, as a command-line tool should.
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The pipelines' paths are relative to this example's directory (its tests
    // point it at a scratch copy instead).
    let workdir = std::env::var_os("QUICKSTART_WORKDIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    std::env::set_current_dir(workdir)?;
    for report in [orders_to_sqlite::run().await?, orders_to_jsonl::run().await?] {
        println!("{report}");
    }
    println!(
        "outputs: examples/quickstart/out/orders.db (table `orders`), out/orders.flat.jsonl, dead letters in out/orders.dlq.jsonl"
    );
    Ok(())
}

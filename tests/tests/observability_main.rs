//! The generated `main` helper with `observability.prometheus`: while the
//! pipeline runs, `/metrics` on the configured address serves the driver's
//! metrics, scraped here over real HTTP; then the run ends with exit code 0.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use faucet_runtime::{FaucetError, Record};

static SCRAPED: AtomicBool = AtomicBool::new(false);

const SINK_RECORDS_1: &str =
    r#"faucet_sink_records_total{pipeline="observed_main",row="row-0",connector="jsonl"} 1"#;

/// Holds the run at record 2 (page 1 is written, page 2 read) until the test
/// has scraped the exporter, so the scrape sees a run in progress.
pub fn hold_until_scraped(record: Record) -> Result<Option<Record>, FaucetError> {
    if record["id"] == "2" {
        tokio::task::block_in_place(|| {
            while !SCRAPED.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(10));
            }
        });
    }
    Ok(Some(record))
}

faucet_runtime::faucet! {
    name: observed_main,
    observability: {
        prometheus: { listen: "${env:FAUCET_OBS_METRICS_ADDR}", buckets: [0.001, 0.01, 0.1, 1, 10] },
        tracing: { level: warn },
    },
    pipeline: {
        source: { type: csv, config: { path: "${env:FAUCET_OBS_IN}", batch_size: 1 } },
        transforms: [{ type: custom, config: { function: hold_until_scraped } }],
        sink: { type: jsonl, config: { path: "${env:FAUCET_OBS_OUT}", batch_size: 1 } },
    }
}

/// `GET /metrics` over a plain TCP connection; `None` until the exporter listens.
fn scrape(addr: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: faucet\r\nConnection: close\r\n\r\n").ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    Some(body)
}

#[test]
#[allow(unsafe_code)]
fn main_serves_prometheus_metrics_while_the_pipeline_runs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let output = dir.path().join("out.jsonl");
    std::fs::write(&input, "id,name\n1,a\n2,b\n3,c\n").unwrap();
    let addr = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    // SAFETY: set before the run starts; this test binary has no other test.
    unsafe {
        std::env::set_var("FAUCET_OBS_METRICS_ADDR", &addr);
        std::env::set_var("FAUCET_OBS_IN", &input);
        std::env::set_var("FAUCET_OBS_OUT", &output);
    }
    let run =
        std::thread::spawn(|| observed_main::main_with_args(["--output".to_owned(), "json".to_owned()]));

    // A deadline only so a broken exporter fails the test instead of hanging it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let body = loop {
        // Page 1 written: the run is now held at record 2, in flight.
        if let Some(body) = scrape(&addr).filter(|b| b.contains(SINK_RECORDS_1)) {
            break body;
        }
        assert!(Instant::now() < deadline && !run.is_finished(), "no metrics served on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    };
    SCRAPED.store(true, Ordering::Release);
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    let value = |name: &str| -> f64 {
        let line =
            body.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no `{name}` in:\n{body}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(
        value(r#"faucet_source_records_total{pipeline="observed_main",row="row-0",connector="csv"}"#) >= 1.0
    );
    assert!(
        value(r#"faucet_source_pages_total{pipeline="observed_main",row="row-0",connector="csv"}"#) >= 1.0
    );
    assert_eq!(value(r#"faucet_pipeline_in_flight{pipeline="observed_main",row="row-0"}"#), 1.0);
    assert!(value(r#"faucet_transform_records_in_total{pipeline="observed_main",row="row-0"}"#) >= 1.0);
    // The configured buckets, not the exporter's defaults.
    assert!(
        body.contains(r#"faucet_source_page_duration_seconds_bucket{pipeline="observed_main",row="row-0",connector="csv",le="0.001"}"#),
        "{body}"
    );

    let code = run.join().unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(std::fs::read_to_string(&output).unwrap().lines().count(), 3);
}

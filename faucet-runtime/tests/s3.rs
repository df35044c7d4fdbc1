//! The `s3` connectors against a real S3-compatible server on 127.0.0.1
//! (moto's server, which `.ci/run` installs and starts). Skipped, with a
//! `SKIPPED` line, when `FAUCET_S3_ENDPOINT` is unset.
#![cfg(feature = "s3")]

use std::time::Instant;

use faucet_runtime::connectors::files::JsonlSourceConfig;
use faucet_runtime::connectors::object_store::{
    Codec, ObjectFormat, ObjectSink, ObjectSinkConfig, ObjectSource, ObjectSourceConfig, S3Config,
    StoreConfig,
};
use faucet_runtime::secret::SecretString;
use faucet_runtime::state::MemoryStore;
use faucet_runtime::{CommitToken, OpenContext, Pipeline, Sink, Source, Writes};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;

fn endpoint() -> Option<String> {
    support::server("FAUCET_S3_ENDPOINT", "`.ci/run` starts moto and sets it")
}

/// Creates `bucket` with a plain `PUT /bucket` (moto needs no signature for it).
async fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request =
        format!("PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "creating bucket {bucket}: {response}");
}

fn store(endpoint: &str, bucket: &str) -> StoreConfig {
    StoreConfig::S3(S3Config {
        bucket: bucket.into(),
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.into()),
        allow_http: true,
        access_key_id: Some("testing".into()),
        secret_access_key: Some(SecretString::new("testing".into())),
        session_token: None,
    })
}

fn source(store: StoreConfig, path: &str, batch_size: usize) -> ObjectSource {
    let mut jsonl = JsonlSourceConfig::new(path);
    jsonl.batch_size = batch_size;
    ObjectSource::new(ObjectSourceConfig { store, compression: None, format: ObjectFormat::Jsonl(jsonl) })
}

async fn read_all(source: &mut ObjectSource, bookmark: Option<Value>) -> Vec<Value> {
    source.resume(bookmark).await.unwrap();
    let mut out = Vec::new();
    while let Some(page) = source.next_page().await.unwrap() {
        out.extend(page.records);
    }
    out
}

/// Peak resident memory of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

fn record(i: u64) -> Value {
    json!({"id": i, "name": format!("customer-{i}"), "pad": "z".repeat(180)})
}

// One test, so the memory measurement is not disturbed by tests running alongside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_against_a_local_server() {
    let Some(endpoint) = endpoint() else { return };
    let bucket = format!("faucet-test-{}", std::process::id());
    create_bucket(&endpoint, &bucket).await;
    let store = store(&endpoint, &bucket);

    // gzip round trip through a pipeline with state, then a rerun that writes nothing.
    let rows: Vec<Value> = (0..2500).map(record).collect();
    let mut seed = ObjectSink::new(ObjectSinkConfig {
        prefix: "in".into(),
        name: Some("seed".into()),
        compression: Codec::Gzip,
        max_records_per_file: 1000,
        ..ObjectSinkConfig::new(store.clone())
    });
    seed.open(OpenContext { scope: "seed::row-0::a", checkpoint: None }).await.unwrap();
    seed.write_batch(&rows, CommitToken { seq: 1, part: 0 }).await.unwrap();
    assert_eq!(seed.flush().await.unwrap(), Some(json!({"next": 3})));
    assert_eq!(read_all(&mut source(store.clone(), "in/seed-a-*.jsonl.gz", 700), None).await, rows);

    let state = std::sync::Arc::new(MemoryStore::new());
    let sink = |store: &StoreConfig| {
        ObjectSink::new(ObjectSinkConfig {
            prefix: "out".into(),
            compression: Codec::Zstd,
            ..ObjectSinkConfig::new(store.clone())
        })
    };
    let report = Pipeline::new(source(store.clone(), "in/", 600), sink(&store))
        .with_name("copy")
        .with_state(state.clone())
        .run()
        .await
        .unwrap();
    assert_eq!(report.records_written, 2500);
    assert_eq!(read_all(&mut source(store.clone(), "out/copy-*", 1000), None).await, rows);
    let bookmark = report.last_bookmark.unwrap();
    assert!(bookmark["source"]["etag"].is_string(), "{bookmark}");
    let rerun = Pipeline::new(source(store.clone(), "in/", 600), sink(&store))
        .with_name("copy")
        .with_state(state.clone())
        .run()
        .await
        .unwrap();
    assert_eq!(rerun.records_written, 0);
    assert_eq!(read_all(&mut source(store.clone(), "out/copy-*", 1000), None).await.len(), 2500);

    // Resume in the middle of a compressed object: page 2 of 700 ends in the second object.
    let mut partial = source(store.clone(), "in/seed-a-", 700);
    partial.resume(None).await.unwrap();
    partial.next_page().await.unwrap();
    let page = partial.next_page().await.unwrap().unwrap();
    let at = page.bookmark.unwrap();
    assert_eq!(at["file"], json!("in/seed-a-000001.jsonl.gz"));
    assert_eq!(at["line"], json!(401));
    assert_eq!(read_all(&mut source(store.clone(), "in/seed-a-", 700), Some(at)).await, rows[1400..]);

    // A large object: ~48 MB written as a multipart upload in 5 MiB parts, then
    // streamed back page by page; peak memory must stay far below its size.
    let total: u64 = 200_000;
    let before = peak_rss();
    let started = Instant::now();
    let mut big = ObjectSink::new(ObjectSinkConfig {
        prefix: "big".into(),
        name: Some("events".into()),
        max_records_per_file: total,
        part_size: 5 << 20,
        ..ObjectSinkConfig::new(store.clone())
    });
    big.open(OpenContext { scope: "big::row-0::b", checkpoint: None }).await.unwrap();
    for chunk in 0..total / 1000 {
        let page: Vec<Value> = (chunk * 1000..(chunk + 1) * 1000).map(record).collect();
        big.write_batch(&page, CommitToken { seq: chunk + 1, part: 0 }).await.unwrap();
    }
    big.flush().await.unwrap();
    let wrote = started.elapsed();
    let started = Instant::now();
    let mut reader = source(store.clone(), "big/events-b-000000.jsonl", 1000);
    reader.resume(None).await.unwrap();
    let (mut count, mut bytes) = (0u64, 0u64);
    while let Some(page) = reader.next_page().await.unwrap() {
        for r in &page.records {
            assert_eq!(r["id"], json!(count));
            count += 1;
            bytes += r.to_string().len() as u64 + 1;
        }
    }
    let read = started.elapsed();
    assert_eq!(count, total);
    let grown = peak_rss().saturating_sub(before);
    eprintln!(
        "large object: {:.1} MB written in {wrote:.2?}, read in {read:.2?}; peak RSS grew {:.1} MB",
        bytes as f64 / 1e6,
        grown as f64 / 1e6
    );
    assert!(bytes > 45_000_000);
    assert!(grown < 30_000_000, "peak RSS grew {grown} bytes for a {bytes}-byte object");
}

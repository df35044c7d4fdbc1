//! The `file`, `azure` and `gcs` object-store connectors against real storage
//! on this machine: a temporary directory (always), Azurite (`.ci/run` installs
//! and starts it and sets `FAUCET_AZURE_ENDPOINT`) and a GCS emulator
//! (`FAUCET_GCS_ENDPOINT`). A server test is skipped, with a `SKIPPED` line in
//! `cargo test`'s output, only when its variable is unset. Each test writes into its own directory, container
//! or bucket, so tests run in parallel and rerun cleanly.
#![cfg(feature = "object-store")]

use std::sync::Arc;

use faucet_runtime::connectors::files::JsonlSourceConfig;
use faucet_runtime::connectors::object_store::object_store::ObjectStore;
use faucet_runtime::connectors::object_store::object_store::path::Path as ObjectPath;
use faucet_runtime::connectors::object_store::{
    Codec, FileConfig, ObjectFormat, ObjectSink, ObjectSinkConfig, ObjectSource, ObjectSourceConfig,
    StoreConfig,
};
use faucet_runtime::state::MemoryStore;
use faucet_runtime::{CommitToken, OpenContext, Pipeline, Sink, Source, Writes};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

#[cfg(any(feature = "azure", feature = "gcs"))]
mod support;

fn source(store: &StoreConfig, path: &str, batch_size: usize) -> ObjectSource {
    let mut jsonl = JsonlSourceConfig::new(path);
    jsonl.batch_size = batch_size;
    ObjectSource::new(ObjectSourceConfig {
        store: store.clone(),
        compression: None,
        format: ObjectFormat::Jsonl(jsonl),
    })
}

async fn read_all(source: &mut ObjectSource, bookmark: Option<Value>) -> Vec<Value> {
    source.resume(bookmark).await.unwrap();
    let mut out = Vec::new();
    while let Some(page) = source.next_page().await.unwrap() {
        out.extend(page.records);
    }
    out
}

async fn keys(store: &StoreConfig, prefix: &str) -> Vec<String> {
    let client: Arc<dyn ObjectStore> = store.build().unwrap();
    let prefix = ObjectPath::from(prefix);
    let metas: Vec<_> = client.list(Some(&prefix)).try_collect().await.unwrap();
    let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
    keys.sort();
    keys
}

fn record(i: u64) -> Value {
    json!({"id": i, "name": format!("customer-{i}"), "pad": "z".repeat(180)})
}

/// The test set every backend passes: a gzip round trip, a pipeline copy
/// with state and its rerun, resume inside a compressed object, a crash
/// between flush and bookmark, and a multipart object that appears only when
/// complete (`part_size` bytes per part).
async fn exercise(store: StoreConfig, part_size: usize) {
    // gzip round trip: 2500 records in objects of 1000.
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
    assert_eq!(
        keys(&store, "in").await,
        ["in/seed-a-000000.jsonl.gz", "in/seed-a-000001.jsonl.gz", "in/seed-a-000002.jsonl.gz"]
    );
    assert_eq!(read_all(&mut source(&store, "in/seed-a-*.jsonl.gz", 700), None).await, rows);

    // A pipeline copies them (zstd) with a state store; the rerun writes nothing.
    let state = Arc::new(MemoryStore::new());
    let copy = || {
        Pipeline::new(
            source(&store, "in/", 600),
            ObjectSink::new(ObjectSinkConfig {
                prefix: "out".into(),
                compression: Codec::Zstd,
                ..ObjectSinkConfig::new(store.clone())
            }),
        )
        .with_name("copy")
        .with_state(state.clone())
    };
    let report = copy().run().await.unwrap();
    assert_eq!(report.records_written, 2500);
    let bookmark = report.last_bookmark.unwrap();
    assert!(bookmark["source"]["etag"].is_string(), "{bookmark}");
    assert_eq!(read_all(&mut source(&store, "out/copy-*", 1000), None).await, rows);
    assert_eq!(copy().run().await.unwrap().records_written, 0);
    assert_eq!(read_all(&mut source(&store, "out/copy-*", 1000), None).await.len(), 2500);

    // Resume inside a compressed object: page 2 of 700 ends in the second object.
    let mut partial = source(&store, "in/seed-a-", 700);
    partial.resume(None).await.unwrap();
    partial.next_page().await.unwrap();
    let at = partial.next_page().await.unwrap().unwrap().bookmark.unwrap();
    assert_eq!(at["file"], json!("in/seed-a-000001.jsonl.gz"));
    assert_eq!(at["line"], json!(401));
    assert_eq!(read_all(&mut source(&store, "in/seed-a-", 700), Some(at)).await, rows[1400..]);

    // A crash after a flush but before its bookmark: the rerun removes the
    // unconfirmed object and writes it again, once.
    let crash_sink = || {
        ObjectSink::new(ObjectSinkConfig {
            prefix: "crash".into(),
            name: Some("c".into()),
            max_records_per_file: 2,
            ..ObjectSinkConfig::new(store.clone())
        })
    };
    let mut first = crash_sink();
    first.open(OpenContext { scope: "c::row-0::r", checkpoint: None }).await.unwrap();
    first.write_batch(&rows[..3], CommitToken { seq: 1, part: 0 }).await.unwrap();
    let checkpoint = first.flush().await.unwrap().unwrap();
    first.write_batch(&rows[3..6], CommitToken { seq: 2, part: 0 }).await.unwrap();
    first.flush().await.unwrap();
    drop(first);
    assert_eq!(keys(&store, "crash").await.len(), 4);
    let mut rerun = crash_sink();
    rerun.open(OpenContext { scope: "c::row-0::r", checkpoint: Some(&checkpoint) }).await.unwrap();
    assert_eq!(keys(&store, "crash").await.len(), 2);
    rerun.write_batch(&rows[3..6], CommitToken { seq: 2, part: 0 }).await.unwrap();
    rerun.flush().await.unwrap();
    assert_eq!(read_all(&mut source(&store, "crash/", 100), None).await, rows[..6]);

    // A multipart object: parts go out while records arrive, but nothing is
    // listed under the prefix until the object is complete.
    let big_rows: Vec<Value> = (0..3000).map(record).collect();
    let mut big = ObjectSink::new(ObjectSinkConfig {
        prefix: "big".into(),
        name: Some("events".into()),
        max_records_per_file: 1_000_000,
        part_size,
        ..ObjectSinkConfig::new(store.clone())
    });
    big.open(OpenContext { scope: "big::row-0::b", checkpoint: None }).await.unwrap();
    for (i, chunk) in big_rows.chunks(500).enumerate() {
        big.write_batch(chunk, CommitToken { seq: i as u64 + 1, part: 0 }).await.unwrap();
        assert!(keys(&store, "big").await.is_empty(), "an incomplete object is listed");
    }
    big.flush().await.unwrap();
    assert_eq!(keys(&store, "big").await, ["big/events-b-000000.jsonl"]);
    assert_eq!(read_all(&mut source(&store, "big/", 1000), None).await, big_rows);
}

#[tokio::test]
async fn file_backend_round_trips_resumes_and_renames_into_place() {
    let dir = tempfile::tempdir().unwrap();
    // The sink creates a missing root.
    let root = dir.path().join("lake");
    let store = StoreConfig::File(FileConfig { root: root.to_str().unwrap().to_owned() });
    exercise(store.clone(), 64 * 1024).await;
    // Only complete objects sit under their names: no staging files are left behind.
    let mut names: Vec<String> = std::fs::read_dir(root.join("big"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["events-b-000000.jsonl"]);
    assert_eq!(store.connector_name(), "file");
}

#[tokio::test]
async fn file_source_without_its_root_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let store = StoreConfig::File(FileConfig { root: missing.to_str().unwrap().to_owned() });
    let mut reader = source(&store, "x/", 10);
    let error = reader.resume(None).await.unwrap_err();
    assert!(error.message().contains("opening the `file` root"), "{}", error.message());
    assert!(error.message().contains("nope"), "{}", error.message());
}

#[cfg(feature = "azure")]
mod azure {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use faucet_runtime::connectors::object_store::AzureConfig;
    use faucet_runtime::secret::SecretString;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Azurite's well-known development account and key (public, documented by Microsoft).
    const ACCOUNT: &str = "devstoreaccount1";
    const KEY: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    fn endpoint() -> Option<String> {
        support::server("FAUCET_AZURE_ENDPOINT", "`.ci/run` starts Azurite and sets it")
    }

    /// Creates `container` with a Shared Key–signed `PUT ?restype=container`
    /// (object_store has no container API).
    async fn create_container(endpoint: &str, container: &str) {
        let host = endpoint.trim_start_matches("http://").split('/').next().unwrap().to_owned();
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let version = "2021-08-06";
        let to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
        );
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &STANDARD.decode(KEY).unwrap());
        let signature = STANDARD.encode(ring::hmac::sign(&key, to_sign.as_bytes()).as_ref());
        let request = format!(
            "PUT /{ACCOUNT}/{container}?restype=container HTTP/1.1\r\nHost: {host}\r\nx-ms-date: {date}\r\n\
             x-ms-version: {version}\r\nAuthorization: SharedKey {ACCOUNT}:{signature}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n"
        );
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 201"), "creating container {container}: {response}");
    }

    fn store(endpoint: &str, container: &str) -> StoreConfig {
        StoreConfig::Azure(AzureConfig {
            container: container.into(),
            account: Some(ACCOUNT.into()),
            access_key: Some(SecretString::new(KEY.into())),
            endpoint_url: Some(format!("{endpoint}/{ACCOUNT}")),
            allow_http: true,
            ..AzureConfig::default()
        })
    }

    #[tokio::test]
    async fn azure_against_azurite() {
        let Some(endpoint) = endpoint() else { return };
        let container = format!("faucet-test-{}-{}", std::process::id(), unique_suffix());
        create_container(&endpoint, &container).await;
        let store = store(&endpoint, &container);
        assert_eq!(store.connector_name(), "azure-blob");
        // Azure takes blocks of any size: 64 KiB parts exercise the block upload.
        exercise(store, 64 * 1024).await;
    }

    #[tokio::test]
    async fn a_missing_container_fails_and_debug_hides_the_key() {
        let Some(endpoint) = endpoint() else { return };
        let store = store(&endpoint, "faucet-never-created");
        let shown = format!("{store:?}");
        assert!(!shown.contains(KEY) && shown.contains("***"), "{shown}");
        let mut reader = source(&store, "x/", 10);
        let error = reader.resume(None).await.unwrap_err();
        assert!(!error.message().contains(KEY), "{}", error.message());
        assert!(error.message().contains("az://faucet-never-created/"), "{}", error.message());
    }

    /// A per-process-unique suffix, so reruns against a long-lived Azurite get fresh containers.
    fn unique_suffix() -> u128 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_007
    }
}

#[cfg(feature = "gcs")]
mod gcs {
    use faucet_runtime::connectors::object_store::GcsConfig;
    use faucet_runtime::secret::SecretString;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn endpoint() -> Option<String> {
        support::server(
            "FAUCET_GCS_ENDPOINT",
            "point it at a GCS emulator that serves GCS's XML API, which object_store lists through; see README",
        )
    }

    /// Creates `bucket` through the JSON API (`POST /storage/v1/b`), which GCS emulators accept unsigned.
    async fn create_bucket(endpoint: &str, bucket: &str) {
        let host = endpoint.trim_start_matches("http://").split('/').next().unwrap().to_owned();
        let body = format!("{{\"name\":\"{bucket}\"}}");
        let request = format!(
            "POST /storage/v1/b?project=faucet HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response.lines().next().unwrap_or_default();
        assert!(status.contains(" 200 "), "creating bucket {bucket}: {response}");
    }

    #[tokio::test]
    async fn gcs_against_an_emulator() {
        let Some(endpoint) = endpoint() else { return };
        let bucket = format!("faucet-test-{}", std::process::id());
        create_bucket(&endpoint, &bucket).await;
        let store = StoreConfig::Gcs(GcsConfig {
            bucket,
            endpoint_url: Some(endpoint),
            allow_http: true,
            anonymous: true,
            ..GcsConfig::default()
        });
        assert_eq!(store.connector_name(), "gcs");
        // GCS's XML multipart API takes parts of 5 MiB or more (but the last).
        exercise(store, 5 << 20).await;
    }

    #[test]
    fn debug_hides_the_service_account_key() {
        let store = StoreConfig::Gcs(GcsConfig {
            bucket: "b".into(),
            service_account_key: Some(SecretString::new("{\"private_key\": \"hunter2\"}".into())),
            ..GcsConfig::default()
        });
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2") && shown.contains("***"), "{shown}");
    }
}

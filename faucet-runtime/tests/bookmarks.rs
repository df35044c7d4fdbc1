//! The bookmarks the driver persists, byte for byte, and resuming from them.
//!
//! One pipeline (10 JSON lines, pages of 3, ids 2 and 7 dead-lettered by a
//! transform, JSON Lines sink and DLQ, a [`FileStore`]) runs from a stored
//! bookmark of each kind a store may hold: none, a lineage alone, a page's,
//! one written before lineages existed, one from a newer version with keys
//! this one does not know, and one that is not an object. Every bookmark it
//! then persists must equal, byte for byte, what the driver wrote before the
//! bookmark became a typed struct: the expected lines below were captured from
//! that driver running these same scenarios (`{new}` stands for a lineage the
//! run creates). `tests/fixtures/bookmarks/written.jsonl` holds the same
//! captured bookmarks for the round-trip unit test in `src/bookmark.rs`.
#![cfg(feature = "files")]

use std::path::Path;
use std::sync::{Arc, Mutex};

use faucet_runtime::connectors::files::{JsonlSink, JsonlSinkConfig, JsonlSource, JsonlSourceConfig};
use faucet_runtime::dlq::Dlq;
use faucet_runtime::state::FileStore;
use faucet_runtime::{FaucetError, Pipeline, RunReport, StateStore, transform_fn};
use serde_json::{Value, json};

/// The lineage of the captured run every resumed scenario continues.
const LINEAGE: &str = "01a24b0217307047aa05c362516fc90c";

/// The bookmark after page 2, as the driver wrote it.
const PAGE_2: &str = r#"{"v":1,"lineage":"01a24b0217307047aa05c362516fc90c","seq":2,"source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179}}"#;
/// The sink's file when page 2's bookmark was written (`sink.len` bytes).
const OUT_AT_PAGE_2: &str = "{\"id\":0}\n{\"id\":1}\n{\"id\":3}\n{\"id\":4}\n{\"id\":5}\n";
/// The DLQ's file then (`dlq.len` bytes): id 2's envelope.
const DLQ_AT_PAGE_2: &str = concat!(
    r#"{"error":{"kind":"Transform","message":"odd one out"},"reason":"transform","payload":{"id":2},"#,
    r#""ts_ms":1796554757938,"sink":"jsonl","pipeline":"bm","row":"row-0","record_index":2}"#,
    "\n"
);

/// Pages 3 and 4 of the captured run.
const PAGES_3_4: [&str; 2] = [
    r#"{"v":1,"lineage":"01a24b0217307047aa05c362516fc90c","seq":3,"source":{"file":"in.jsonl","offset":81,"line":10},"sink":{"len":63},"dlq":{"len":358}}"#,
    r#"{"v":1,"lineage":"01a24b0217307047aa05c362516fc90c","seq":4,"source":{"file":"in.jsonl","offset":90,"line":11},"sink":{"len":72},"dlq":{"len":358}}"#,
];

/// A run's first bookmark when the store holds none, then its four pages.
const FROM_SCRATCH: [&str; 5] = [
    r#"{"v":1,"seq":0,"source":null,"sink":null,"dlq":null,"lineage":"{new}"}"#,
    r#"{"v":1,"lineage":"{new}","seq":1,"source":{"file":"in.jsonl","offset":27,"line":4},"sink":{"len":18},"dlq":{"len":179}}"#,
    r#"{"v":1,"lineage":"{new}","seq":2,"source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179}}"#,
    r#"{"v":1,"lineage":"{new}","seq":3,"source":{"file":"in.jsonl","offset":81,"line":10},"sink":{"len":63},"dlq":{"len":358}}"#,
    r#"{"v":1,"lineage":"{new}","seq":4,"source":{"file":"in.jsonl","offset":90,"line":11},"sink":{"len":72},"dlq":{"len":358}}"#,
];

/// Where a scenario starts: the stored bookmark and the output files.
struct Start<'a> {
    stored: Option<&'a str>,
    /// The sink's and the DLQ's files as page 2's bookmark left them, each
    /// followed by a line written after it (a crash before page 3's bookmark).
    at_page_2: bool,
}

/// Records the JSON of every bookmark put, as the [`FileStore`] writes it.
struct Recording {
    inner: FileStore,
    puts: Arc<Mutex<Vec<String>>>,
}

impl StateStore for Recording {
    fn store_name(&self) -> &'static str {
        "file"
    }

    async fn get(&self, key: &str) -> faucet_runtime::Result<Option<Value>> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, value: &Value) -> faucet_runtime::Result<()> {
        self.puts.lock().unwrap().push(serde_json::to_string(value).unwrap());
        self.inner.put(key, value).await
    }

    async fn delete(&self, key: &str) -> faucet_runtime::Result<()> {
        self.inner.delete(key).await
    }

    async fn put_if_absent(&self, key: &str, value: &Value) -> faucet_runtime::Result<Value> {
        self.inner.put_if_absent(key, value).await
    }
}

/// The state file of key `bm::row-0`.
fn state_file(dir: &Path) -> std::path::PathBuf {
    dir.join("state").join("bm%3A%3Arow-0.json")
}

/// Runs the pipeline from `start`; returns its report, the bookmarks it put,
/// and the directory (for the output files).
async fn run(start: Start<'_>) -> (RunReport, Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let input: String = (0..10).map(|i| format!("{{\"id\":{i}}}\n")).collect();
    std::fs::write(path("in.jsonl"), input).unwrap();
    if let Some(stored) = start.stored {
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::fs::write(state_file(dir.path()), stored).unwrap();
    }
    if start.at_page_2 {
        std::fs::write(path("out.jsonl"), format!("{OUT_AT_PAGE_2}{{\"id\":6}}\n")).unwrap();
        std::fs::write(path("dlq.jsonl"), format!("{DLQ_AT_PAGE_2}{{\"junk\":1}}\n")).unwrap();
    }

    let puts = Arc::new(Mutex::new(Vec::new()));
    let store = Recording { inner: FileStore::new(dir.path().join("state")), puts: Arc::clone(&puts) };
    let mut source = JsonlSourceConfig::new(path("in.jsonl"));
    source.batch_size = 3;
    let report =
        Pipeline::new(JsonlSource::new(source), JsonlSink::new(JsonlSinkConfig::new(path("out.jsonl"))))
            .with_transform(transform_fn(|record| {
                if record["id"] == 2 || record["id"] == 7 {
                    Err(FaucetError::transform("odd one out"))
                } else {
                    Ok(Some(record))
                }
            }))
            .with_dlq(Dlq::new(JsonlSink::new(JsonlSinkConfig::new(path("dlq.jsonl")))))
            .with_state(store)
            .with_name("bm")
            .run()
            .await
            .unwrap();
    let puts = puts.lock().unwrap().clone();
    (report, puts, dir)
}

/// Checks the bookmarks put against `expected`, where `{new}` is one lineage
/// the run created; checks the store holds the last one and the run wrote
/// every record once and dead-lettered ids 2 and 7 once.
fn check(report: &RunReport, puts: &[String], dir: &Path, expected: &[&str]) {
    let new = puts
        .iter()
        .filter_map(|p| serde_json::from_str::<Value>(p).unwrap()["lineage"].as_str().map(str::to_owned))
        .find(|l| l != LINEAGE);
    if expected.iter().any(|e| e.contains("{new}")) {
        let new = new.as_deref().expect("the run created a lineage");
        assert!(new.len() == 32 && new.bytes().all(|b| b.is_ascii_hexdigit()), "{new}");
    }
    let expected: Vec<String> =
        expected.iter().map(|e| e.replace("{new}", new.as_deref().unwrap_or_default())).collect();
    assert_eq!(puts, expected);

    let stored = std::fs::read_to_string(state_file(dir)).unwrap();
    assert_eq!(&stored, puts.last().unwrap());
    assert_eq!(report.last_bookmark, Some(serde_json::from_str(&stored).unwrap()));

    let out: String = [0, 1, 3, 4, 5, 6, 8, 9].iter().map(|i| format!("{{\"id\":{i}}}\n")).collect();
    assert_eq!(std::fs::read_to_string(dir.join("out.jsonl")).unwrap(), out);
    let dlq = std::fs::read_to_string(dir.join("dlq.jsonl")).unwrap();
    let ids: Vec<Value> =
        dlq.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["payload"]["id"].clone()).collect();
    assert_eq!(ids, [json!(2), json!(7)]);
}

#[tokio::test]
async fn a_first_run_persists_its_lineage_then_every_page() {
    let (report, puts, dir) = run(Start { stored: None, at_page_2: false }).await;
    assert_eq!(report.pages, 4);
    check(&report, &puts, dir.path(), &FROM_SCRATCH);
}

#[tokio::test]
async fn a_run_resumes_after_a_page_bookmark() {
    let (report, puts, dir) = run(Start { stored: Some(PAGE_2), at_page_2: true }).await;
    // Pages 3 and 4 only; the line written after page 2's bookmark is truncated away.
    assert_eq!((report.pages, report.records_written, report.records_dead_lettered), (2, 3, 1));
    check(&report, &puts, dir.path(), &PAGES_3_4);
}

#[tokio::test]
async fn a_run_resumes_after_a_lineage_alone() {
    let lineage_only = r#"{"v":1,"seq":0,"source":null,"sink":null,"dlq":null,"lineage":"01a24b0217307047aa05c362516fc90c"}"#;
    let (report, puts, dir) = run(Start { stored: Some(lineage_only), at_page_2: false }).await;
    assert_eq!(report.pages, 4);
    // The lineage is kept, so it is not persisted again.
    let pages: Vec<String> = FROM_SCRATCH[1..].iter().map(|p| p.replace("{new}", LINEAGE)).collect();
    check(&report, &puts, dir.path(), &pages.iter().map(String::as_str).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_bookmark_from_before_lineages_gets_one_and_keeps_its_position() {
    let legacy = r#"{"v":1,"seq":2,"source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179}}"#;
    let (report, puts, dir) = run(Start { stored: Some(legacy), at_page_2: true }).await;
    assert_eq!(report.pages, 2);
    let upgraded = r#"{"v":1,"seq":2,"source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179},"lineage":"{new}"}"#;
    let pages: Vec<String> = PAGES_3_4.iter().map(|p| p.replace(LINEAGE, "{new}")).collect();
    check(&report, &puts, dir.path(), &[upgraded, pages[0].as_str(), pages[1].as_str()]);
}

#[tokio::test]
async fn an_unreadable_lineage_is_replaced_in_place_keeping_unknown_keys() {
    let by_hand = r#"{"v":1,"lineage":null,"seq":2,"note":"by hand","source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179}}"#;
    let (report, puts, dir) = run(Start { stored: Some(by_hand), at_page_2: true }).await;
    assert_eq!(report.pages, 2);
    let upgraded = r#"{"v":1,"lineage":"{new}","seq":2,"note":"by hand","source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179}}"#;
    let pages: Vec<String> = PAGES_3_4.iter().map(|p| p.replace(LINEAGE, "{new}")).collect();
    check(&report, &puts, dir.path(), &[upgraded, pages[0].as_str(), pages[1].as_str()]);
}

#[tokio::test]
async fn a_newer_bookmark_resumes_and_pages_are_written_in_this_version() {
    let newer = r#"{"v":2,"lineage":"01a24b0217307047aa05c362516fc90c","seq":2,"source":{"file":"in.jsonl","offset":54,"line":7},"compacted":[1,2],"sink":{"len":45},"dlq":{"len":179},"note":"newer"}"#;
    let (report, puts, dir) = run(Start { stored: Some(newer), at_page_2: true }).await;
    assert_eq!(report.pages, 2);
    check(&report, &puts, dir.path(), &PAGES_3_4);
}

#[tokio::test]
async fn a_stored_value_that_is_not_an_object_starts_over() {
    let (report, puts, dir) = run(Start { stored: Some("[]"), at_page_2: false }).await;
    assert_eq!(report.pages, 4);
    check(&report, &puts, dir.path(), &FROM_SCRATCH);
}

#[tokio::test]
async fn state_faucet_stream_left_for_another_source_fails_the_run_untouched() {
    // What faucet-cli 1.17.0 stores: its source's bookmark in an envelope.
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(path("in.jsonl"), "{\"id\":1}\n").unwrap();
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    let stored = r#"{"faucet_state":1,"owner":"file","schema":0,"data":{"offset":10}}"#;
    std::fs::write(state_file(dir.path()), stored).unwrap();
    let err = Pipeline::new(
        JsonlSource::new(JsonlSourceConfig::new(path("in.jsonl"))),
        JsonlSink::new(JsonlSinkConfig::new(path("out.jsonl"))),
    )
    .with_state(FileStore::new(dir.path().join("state")))
    .with_name("bm")
    .run()
    .await
    .unwrap_err();
    assert_eq!(err.kind(), faucet_runtime::ErrorKind::State, "{err}");
    assert!(err.message().contains("\"bm::row-0\"") && err.message().contains("faucet-stream"), "{err}");
    // Nothing read, nothing written, the state left as it was.
    assert!(!dir.path().join("out.jsonl").exists());
    assert_eq!(std::fs::read_to_string(state_file(dir.path())).unwrap(), stored);
}

#[tokio::test]
async fn a_run_whose_source_cannot_open_creates_nothing() {
    // The outputs, the dead-letter file and the state all live in directories
    // that do not exist yet, as in a fresh checkout run from elsewhere.
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let err = Pipeline::new(
        JsonlSource::new(JsonlSourceConfig::new(path("data/missing.jsonl"))),
        JsonlSink::new(JsonlSinkConfig::new(path("out/out.jsonl"))),
    )
    .with_dlq(Dlq::new(JsonlSink::new(JsonlSinkConfig::new(path("out/dlq.jsonl")))))
    .with_state(FileStore::new(dir.path().join("out/state")))
    .with_name("bm")
    .run()
    .await
    .unwrap_err();
    assert_eq!(err.kind(), faucet_runtime::ErrorKind::Source, "{err}");
    assert!(err.message().contains("missing.jsonl"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the failed run created {left:?}");
}

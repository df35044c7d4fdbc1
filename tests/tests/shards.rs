//! Sharded pipelines run as an Indexed Job's pods would: one process per
//! shard, each given its index in `JOB_COMPLETION_INDEX`, all at once. Some
//! are killed with SIGKILL at random points and their indexes rerun until each
//! succeeds; then the target must hold the source exactly: every row once.
//!
//! - PostgreSQL → PostgreSQL through COPY (4 shards of a nullable, skewed key)
//!   and through upserts read incrementally (3 shards), plan and bookmarks in
//!   a PostgreSQL state table, each test in its own schema on 127.0.0.1:5432;
//! - JSON Lines files → one file per shard (3 shards, by file name);
//! - a matrix whose root rows are divided between 2 shards.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const ROWS: i64 = 60_000;

/// A seeded generator for the kill schedule (the seed is printed).
struct Kills(u64);

impl Kills {
    fn new(what: &str) -> Kills {
        let seed =
            std::env::var("FAUCET_SHARD_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
                    | 1
            });
        eprintln!("{what}: kill schedule FAUCET_SHARD_SEED={seed}");
        Kills(seed)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

fn runner(pipeline: &str, index: u32, dir: &Path, schema: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_e2e-runner"));
    cmd.arg(pipeline)
        .current_dir(dir)
        .env("JOB_COMPLETION_INDEX", index.to_string())
        .env("FAUCET_E2E_PG_SCHEMA", schema)
        .env("FAUCET_E2E_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts every shard at once and kills pods at random points until
/// `KILLS` kills have hit a running pod (a round that hits none halves the
/// window the kill times are drawn from), rerunning the indexes that did not
/// succeed, then lets every index run to success. Returns each index's final
/// report.
fn run_pods(pipeline: &str, count: u32, dir: &Path, schema: &str, window: Duration) -> Vec<Value> {
    const KILLS: usize = 3;
    let mut kills = Kills::new(pipeline);
    let mut window = window.as_millis() as u64;
    let mut reports: Vec<Option<Value>> = vec![None; count as usize];
    let mut hits = 0;
    for _round in 0..60 {
        // Once every index succeeded before enough kills hit, start over
        // from the bookmarks: a finished shard's rerun reads nothing new.
        if reports.iter().all(Option::is_some) {
            if hits >= KILLS {
                break;
            }
            reports.iter_mut().for_each(|r| *r = None);
        }
        let pending: Vec<u32> = (0..count).filter(|i| reports[*i as usize].is_none()).collect();
        let mut pods: Vec<(u32, Child, Option<u64>)> = pending
            .iter()
            .map(|&i| {
                let kill_at = (hits < KILLS).then(|| 1 + kills.below(window));
                (i, runner(pipeline, i, dir, schema).spawn().expect("spawn a pod"), kill_at)
            })
            .collect();
        let started = std::time::Instant::now();
        let before = hits;
        pods.sort_by_key(|(_, _, at)| *at);
        for (_, child, kill_at) in &mut pods {
            if let Some(at) = kill_at {
                std::thread::sleep(Duration::from_millis(*at).saturating_sub(started.elapsed()));
                if child.try_wait().unwrap().is_none() {
                    child.kill().expect("SIGKILL");
                    hits += 1;
                }
            }
        }
        if hits == before {
            window = (window / 2).max(5);
        }
        for (i, child, _) in pods {
            let out = child.wait_with_output().unwrap();
            if out.status.success() {
                reports[i as usize] = Some(serde_json::from_slice(&out.stdout).expect("a JSON report"));
            } else if out.status.code().is_some() {
                // Exited on its own with an error (not killed): a real failure.
                panic!(
                    "{pipeline} shard {i} failed: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    eprintln!("{pipeline}: {hits} kill(s) hit a running pod");
    assert!(hits >= KILLS, "{pipeline}: only {hits} kill(s) hit a running pod");
    reports.into_iter().map(|r| r.expect("every shard finished")).collect()
}

async fn schema(prefix: &str) -> (String, PgConnection) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("faucet_e2e_{prefix}_{nanos}_{}", std::process::id());
    let mut conn = PgConnection::connect(URL).await.expect("PostgreSQL on 127.0.0.1:5432");
    // NULL keys, one value for a third of the rows (skew), the rest spread wide.
    let sql = format!(
        "CREATE SCHEMA {name}; SET search_path TO {name}; \
         CREATE TABLE src (id BIGINT PRIMARY KEY, k BIGINT, v TEXT); \
         INSERT INTO src SELECT g, CASE WHEN g % 11 = 0 THEN NULL WHEN g % 3 = 0 THEN 42 ELSE g::bigint * 1000003 - 6000000000 END, \
           'row ' || g FROM generate_series(1, {ROWS}) g; \
         CREATE TABLE dst_append (id BIGINT, k BIGINT, v TEXT); \
         CREATE TABLE dst_upsert (id BIGINT PRIMARY KEY, k BIGINT, v TEXT);"
    );
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
    (name, conn)
}

/// Rows of `table` that are not exactly the source's, both ways, and its duplicates.
async fn differences(conn: &mut PgConnection, schema: &str, table: &str) -> (i64, i64, i64) {
    let sql = format!(
        "SET search_path TO {schema}; \
         SELECT (SELECT count(*) FROM (SELECT id, k, v FROM src EXCEPT ALL SELECT id, k, v FROM {table}) a), \
                (SELECT count(*) FROM (SELECT id, k, v FROM {table} EXCEPT ALL SELECT id, k, v FROM src) b), \
                (SELECT count(*) - count(DISTINCT id) FROM {table})"
    );
    let rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut *conn).await.unwrap();
    let row = rows.last().unwrap();
    (row.get(0), row.get(1), row.get(2))
}

async fn postgres_pods(pipeline: &str, count: u32, table: &str, window: Duration) {
    let (schema, mut conn) = schema(pipeline).await;
    let dir = tempfile::tempdir().unwrap();
    let reports = run_pods(pipeline, count, dir.path(), &schema, window);
    for (i, report) in reports.iter().enumerate() {
        assert_eq!(report["invocations"][0]["shard"], i as u64, "{report}");
        assert_eq!(report["status"], "ok", "{report}");
    }
    assert_eq!(
        differences(&mut conn, &schema, table).await,
        (0, 0, 0),
        "{pipeline}: the target is the source"
    );
    // The plan was stored once; each shard has its own bookmark.
    let sql = format!("SELECT key FROM {schema}.faucet_state ORDER BY key");
    let keys: Vec<String> = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut expected: Vec<String> = (0..count).map(|i| format!("{pipeline}::row-0::shard-{i}")).collect();
    expected.push(format!("{pipeline}::row-0::shards"));
    expected.sort();
    assert_eq!(keys, expected);
    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn postgres_copy_pods_killed_and_rerun_write_every_row_once() {
    // A shard's whole run takes about 150 ms here (a debug build): the kills land within it.
    postgres_pods("shard_pg", 4, "dst_append", Duration::from_millis(100)).await;
}

#[tokio::test]
async fn postgres_upsert_pods_killed_and_rerun_write_every_row_once() {
    postgres_pods("shard_pg_upsert", 3, "dst_upsert", Duration::from_millis(250)).await;
}

#[test]
fn file_pods_killed_and_rerun_write_every_record_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("in")).unwrap();
    let mut expected = Vec::new();
    for file in 0..30 {
        let mut text = String::new();
        for line in 0..1000 {
            let id = file * 10000 + line;
            text.push_str(&format!("{{\"id\":{id},\"file\":{file}}}\n"));
            expected.push(id);
        }
        std::fs::write(dir.path().join(format!("in/f{file:02}.jsonl")), text).unwrap();
    }
    run_pods("shard_files", 3, dir.path(), "unused", Duration::from_millis(60));
    let mut ids = Vec::new();
    for i in 0..3 {
        let out = std::fs::read_to_string(dir.path().join(format!("out/part-{i}-of-3.jsonl"))).unwrap();
        let mut files = std::collections::BTreeSet::new();
        for line in out.lines() {
            let record: Value = serde_json::from_str(line).unwrap();
            ids.push(record["id"].as_i64().unwrap());
            files.insert(record["file"].as_i64().unwrap());
        }
        assert!(!files.is_empty(), "shard {i} read some files");
    }
    ids.sort_unstable();
    assert_eq!(ids, expected, "every record once, across the shards' files");
}

#[test]
fn matrix_pods_run_their_root_rows_and_dependencies_together() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("in")).unwrap();
    for part in 0..4 {
        let text: String = (0..5000).map(|i| format!("{{\"id\":{}}}\n", part * 10000 + i)).collect();
        std::fs::write(dir.path().join(format!("in/part-{part}.jsonl")), text).unwrap();
    }
    let reports = run_pods("shard_matrix", 2, dir.path(), "unused", Duration::from_millis(50));
    let rows = |report: &Value| -> Vec<String> {
        let mut rows: Vec<String> = report["invocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["row"].as_str().unwrap().to_owned())
            .collect();
        rows.sort();
        rows
    };
    // customers and orders (which depends on it) are one group: shard 0;
    // products: shard 1; refunds: shard 0 again.
    assert_eq!(rows(&reports[0]), ["customers", "orders", "refunds"]);
    assert_eq!(rows(&reports[1]), ["products"]);
    let mut counts = BTreeMap::new();
    for row in ["customers", "products", "orders", "refunds"] {
        let out = std::fs::read_to_string(dir.path().join(format!("out/{row}.jsonl"))).unwrap();
        counts.insert(row, out.lines().count());
    }
    assert!(counts.values().all(|&n| n == 5000), "{counts:?}");
}

#[test]
fn an_index_beyond_the_shard_count_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = runner("shard_files", 3, dir.path(), "unused").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JOB_COMPLETION_INDEX is 3") && stderr.contains("completions"), "{stderr}");
}

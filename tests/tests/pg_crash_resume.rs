//! PostgreSQL → PostgreSQL runs killed with SIGKILL at random points, then
//! rerun: the target must equal the source, with no row lost or duplicated —
//! for COPY appends (commit tokens in the batch's transaction) and for
//! incremental upserts (keyset bookmarks with duplicate key values, state in
//! PostgreSQL). Each test works in its own schema on 127.0.0.1:5432.

use std::process::{Command, Stdio};

use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const ROWS: i64 = 30_000;
const KILLS: usize = 10;

struct Schema {
    name: String,
    conn: PgConnection,
}

impl Schema {
    async fn new(prefix: &str) -> Schema {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("faucet_e2e_{prefix}_{nanos}_{}", std::process::id());
        let mut conn = PgConnection::connect(URL).await.expect("PostgreSQL on 127.0.0.1:5432");
        let sql = format!(
            "CREATE SCHEMA {name}; SET search_path TO {name}; \
             CREATE TABLE src (id BIGINT PRIMARY KEY, v TEXT, amount NUMERIC(12, 2), updated BIGINT, doc JSONB); \
             INSERT INTO src SELECT g, 'row ' || g, g / 7.0, g / 3, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g % 5)) \
               FROM generate_series(1, {ROWS}) g; \
             CREATE TABLE dst_append (id BIGINT, v TEXT, amount NUMERIC(12, 2), updated BIGINT, doc JSONB); \
             CREATE TABLE dst_upsert (id BIGINT PRIMARY KEY, v TEXT, amount NUMERIC(12, 2), updated BIGINT, doc JSONB);"
        );
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
        Schema { name, conn }
    }

    async fn scalar(&mut self, sql: &str) -> i64 {
        let sql = format!("SET search_path TO {}; {sql}", self.name);
        let rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut self.conn).await.unwrap();
        rows.last().unwrap().get::<i64, _>(0)
    }

    async fn drop(mut self) {
        let sql = format!("DROP SCHEMA {} CASCADE", self.name);
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.unwrap();
    }
}

fn runner(pipeline: &str, schema: &str, dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_e2e-runner"));
    cmd.arg(pipeline)
        .env("FAUCET_E2E_PG_SCHEMA", schema)
        .env("FAUCET_E2E_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Kills runs at random points until `KILLS` kills hit a running process
/// (each rerun resumes from the last bookmark), then runs to completion.
fn run_with_kills(pipeline: &str, schema: &str, dir: &std::path::Path) -> Value {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("{pipeline}: kill schedule seed {seed}");
    let mut state = seed;
    let mut hits = 0;
    for _ in 0..KILLS * 4 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // Short delays: every kill leaves less work, so later runs are shorter.
        let delay = 20 + (state >> 33) % 250;
        let mut child =
            runner(pipeline, schema, dir).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_some() {
            break; // finished before the kill
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        hits += 1;
        if hits == KILLS {
            break;
        }
    }
    eprintln!("{pipeline}: {hits} kill(s) hit a running process");
    // Aim for KILLS kills, but how many land depends on the machine's speed;
    // the equality checks after the final run are what must hold.
    assert!(hits >= 1, "no kill landed mid-run; the run is too short for the test");
    let out = runner(pipeline, schema, dir).output().unwrap();
    assert!(out.status.success(), "final run failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("report JSON")
}

/// Rows of `table` that differ from `src` (missing, extra or changed), and its row count.
async fn differences(db: &mut Schema, table: &str) -> (i64, i64) {
    let diff = db
        .scalar(&format!(
            "SELECT count(*)::int8 FROM src s FULL JOIN {table} d ON s.id = d.id \
             WHERE (s.id, s.v, s.amount, s.updated, s.doc) IS DISTINCT FROM (d.id, d.v, d.amount, d.updated, d.doc)"
        ))
        .await;
    let count = db.scalar(&format!("SELECT count(*)::int8 FROM {table}")).await;
    (diff, count)
}

#[tokio::test]
async fn killed_pg_append_run_ends_with_the_target_equal_to_the_source() {
    let mut db = Schema::new("append").await;
    let dir = tempfile::tempdir().unwrap();
    let (schema, path) = (db.name.clone(), dir.path().to_owned());
    let report =
        tokio::task::spawn_blocking(move || run_with_kills("pg_append", &schema, &path)).await.unwrap();
    eprintln!("pg_append final run: {report}");
    assert_eq!(differences(&mut db, "dst_append").await, (0, ROWS), "no row lost, none duplicated");

    let out = runner("pg_append", &db.name, dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rerun: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rerun["written"], 0, "a rerun after completion writes nothing: {rerun}");
    assert_eq!(differences(&mut db, "dst_append").await, (0, ROWS));
    db.drop().await;
}

#[tokio::test]
async fn killed_pg_upsert_run_ends_with_the_target_equal_to_the_source() {
    let mut db = Schema::new("upsert").await;
    let dir = tempfile::tempdir().unwrap();
    let (schema, path) = (db.name.clone(), dir.path().to_owned());
    let report =
        tokio::task::spawn_blocking(move || run_with_kills("pg_upsert", &schema, &path)).await.unwrap();
    eprintln!("pg_upsert final run: {report}");
    assert_eq!(differences(&mut db, "dst_upsert").await, (0, ROWS));
    let bookmarks = db.scalar("SELECT count(*)::int8 FROM faucet_state WHERE key = 'pg_upsert::row-0'").await;
    assert_eq!(bookmarks, 1, "the bookmark lives in the schema's faucet_state table");

    // New and changed source rows: the next run reads only keys above the bookmark.
    let max = db.scalar("SELECT max(updated) FROM src").await;
    db.scalar(&format!(
        "UPDATE src SET v = 'changed', updated = {max} + 1 WHERE id <= 10; \
         INSERT INTO src VALUES ({ROWS} + 1, 'new', 1.5, {max} + 2, '{{}}'); SELECT 0::int8"
    ))
    .await;
    let out = runner("pg_upsert", &db.name, dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rerun: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rerun["read"], 11, "only the changed and new rows: {rerun}");
    assert_eq!(differences(&mut db, "dst_upsert").await, (0, ROWS + 1));
    db.drop().await;
}

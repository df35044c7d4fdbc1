//! Volume runs, ignored by default so CI stays fast: PostgreSQL → PostgreSQL,
//! PostgreSQL → JSON Lines, MariaDB → PostgreSQL and SQLite → PostgreSQL moves
//! of 1M rows, each checked by row count and a checksum of every row, with the
//! peak RSS (`/usr/bin/time -v`) compared with a 100k-row run of the same
//! move; and a 2M-row PostgreSQL read. Run them on a release build:
//!
//! ```sh
//! cargo test --release -p faucet-e2e --test volume -- --ignored --nocapture --test-threads 1
//! ```
//!
//! `FAUCET_VOLUME_ROWS` sets the large size (default 1,000,000). Each run
//! prints one `measured:` line (rows, wall time, peak RSS); docs/databases.md
//! records them under "Measured".

use std::hash::{DefaultHasher, Hasher};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection, Row, SqliteConnection};

const PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const SMALL: i64 = 100_000;

fn large() -> i64 {
    std::env::var("FAUCET_VOLUME_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("faucet_vol_{prefix}_{nanos}_{}", std::process::id())
}

/// One run of the release runner under `/usr/bin/time -v`.
struct Measured {
    written: i64,
    wall: Duration,
    peak_kib: u64,
}

fn measure(what: &str, pipeline: &str, envs: &[(&str, &str)], dir: &Path) -> Measured {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v").arg(env!("CARGO_BIN_EXE_e2e-runner")).arg(pipeline).env("FAUCET_E2E_DIR", dir);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("/usr/bin/time and the runner");
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{pipeline} failed: {stderr}");
    let peak_kib = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .expect("GNU time's maximum resident set size");
    let report: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    let written = report["written"].as_i64().expect("written");
    eprintln!(
        "measured: {what}: {written} rows, {:.1} s, peak RSS {:.1} MiB",
        wall.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
    Measured { written, wall, peak_kib }
}

/// Peak memory must not grow with the input: the large run may use at most
/// half again the small run's peak, plus 8 MiB of allocator slack.
fn assert_flat(what: &str, small: &Measured, large: &Measured) {
    eprintln!(
        "measured: {what}: {} rows in {:.1} s ({:.0} rows/s); peak RSS {} KiB at {} rows, {} KiB at {} rows",
        large.written,
        large.wall.as_secs_f64(),
        large.written as f64 / large.wall.as_secs_f64(),
        small.peak_kib,
        small.written,
        large.peak_kib,
        large.written
    );
    assert!(
        large.peak_kib <= small.peak_kib + small.peak_kib / 2 + 8192,
        "{what}: peak RSS grew with the input: {} KiB vs {} KiB",
        small.peak_kib,
        large.peak_kib
    );
}

/// A hash of every row's text, in order, and the row count.
fn checksum(rows: impl IntoIterator<Item = String>) -> (u64, i64) {
    let mut hasher = DefaultHasher::new();
    let mut count = 0;
    for row in rows {
        hasher.write(row.as_bytes());
        hasher.write_u8(b'\n');
        count += 1;
    }
    (hasher.finish(), count)
}

async fn pg() -> PgConnection {
    PgConnection::connect(PG).await.expect("PostgreSQL on 127.0.0.1:5432")
}

async fn pg_exec(conn: &mut PgConnection, sql: String) {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(conn).await.unwrap();
}

async fn pg_checksum(conn: &mut PgConnection, sql: String) -> (u64, i64) {
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(conn).await.unwrap();
    checksum(rows.iter().map(|r| r.get::<String, _>(0)))
}

/// A schema with `src (id, v, amount, doc)` of `rows` rows and an empty `dst` like it.
async fn pg_source(prefix: &str, rows: i64) -> String {
    let schema = unique(prefix);
    pg_exec(
        &mut pg().await,
        format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}; \
             CREATE TABLE src (id BIGINT PRIMARY KEY, v TEXT, amount NUMERIC(12, 2), doc JSONB); \
             INSERT INTO src SELECT g, 'row ' || g || repeat('x', (g % 40)::int), g / 7.0, \
               jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g % 5)) FROM generate_series(1, {rows}) g; \
             CREATE TABLE dst (LIKE src INCLUDING ALL);"
        ),
    )
    .await;
    schema
}

async fn drop_schema(schema: &str) {
    pg_exec(&mut pg().await, format!("DROP SCHEMA {schema} CASCADE")).await;
}

async fn pg_to_pg(rows: i64) -> Measured {
    let schema = pg_source("pg", rows).await;
    let dir = tempfile::tempdir().unwrap();
    let m = measure("PG -> PG", "vol_pg_to_pg", &[("FAUCET_E2E_PG_SCHEMA", &schema)], dir.path());
    let mut conn = pg().await;
    let row =
        |t: &str| format!("SELECT concat_ws('|', id, v, amount, doc::text) FROM {schema}.{t} ORDER BY id");
    let (src, dst) = (pg_checksum(&mut conn, row("src")).await, pg_checksum(&mut conn, row("dst")).await);
    assert_eq!(src.1, rows);
    assert_eq!(dst, src, "the target equals the source, row by row");
    assert_eq!(m.written, rows);
    drop_schema(&schema).await;
    m
}

async fn pg_to_jsonl(rows: i64) -> Measured {
    let schema = pg_source("jsonl", rows).await;
    let dir = tempfile::tempdir().unwrap();
    let m = measure("PG -> JSONL", "pg_to_jsonl", &[("FAUCET_E2E_PG_SCHEMA", &schema)], dir.path());
    let mut conn = pg().await;
    let sql =
        format!("SELECT concat_ws('|', id, v, doc->>'g', doc->'tags'->>1) FROM {schema}.src ORDER BY id");
    let src = pg_checksum(&mut conn, sql).await;
    let text = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    let out = checksum(text.lines().map(|line| {
        let r: Value = serde_json::from_str(line).unwrap();
        format!("{}|{}|{}|{}", r["id"], r["v"].as_str().unwrap(), r["doc"]["g"], r["doc"]["tags"][1])
    }));
    assert_eq!(src.1, rows);
    assert_eq!(out, src, "every row in order, with its values");
    drop_schema(&schema).await;
    m
}

async fn mysql_to_pg(rows: i64) -> Measured {
    let name = unique("my");
    let mut my = MySqlConnection::connect("mysql://root@127.0.0.1:3306").await.expect("MariaDB on 3306");
    let setup = format!(
        "CREATE DATABASE `{name}`; USE `{name}`; \
         CREATE TABLE src (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(12, 2), ratio DOUBLE, flag BOOLEAN, \
           created DATETIME(6), payload VARBINARY(16)); \
         INSERT INTO src SELECT seq, CONCAT('name ', seq, IF(seq % 7 = 0, ' ü\\t\"q\"', '')), seq / 3, seq / 8, \
           seq % 2 = 0, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND + INTERVAL seq MICROSECOND, UNHEX(HEX(seq)) \
           FROM seq_1_to_{rows};"
    );
    sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut my).await.unwrap();
    let mut conn = pg().await;
    pg_exec(
        &mut conn,
        format!(
            "CREATE SCHEMA {name}; CREATE TABLE {name}.dst (id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(12, 2), \
             ratio DOUBLE PRECISION, flag BOOLEAN, created TIMESTAMP(6), payload TEXT)"
        ),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let envs = [("FAUCET_E2E_MYSQL_DB", name.as_str()), ("FAUCET_E2E_PG_SCHEMA", name.as_str())];
    let m = measure("MySQL -> PG", "mysql_to_pg", &envs, dir.path());
    // Both sides render each row the same way: decimals with two places,
    // `ratio` (a multiple of 1/8, exact in binary) as a decimal with three, booleans as 0/1,
    // microsecond timestamps, the payload in base64.
    let sql = format!(
        "SELECT CAST(CONCAT_WS('|', id, name, amount, CAST(ratio AS DECIMAL(20, 3)), flag, \
           DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f'), TO_BASE64(payload)) AS CHAR) FROM `{name}`.src ORDER BY id"
    );
    let src_rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut my).await.unwrap();
    let src = checksum(src_rows.iter().map(|r| r.get::<String, _>(0)));
    let sql = format!(
        "SELECT concat_ws('|', id, name, amount, ratio::numeric(20, 3), flag::int, \
           to_char(created, 'YYYY-MM-DD HH24:MI:SS.US'), payload) FROM {name}.dst ORDER BY id"
    );
    let dst = pg_checksum(&mut conn, sql).await;
    assert_eq!(src.1, rows);
    assert_eq!(dst, src, "the target equals the source, row by row");
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE `{name}`"))).execute(&mut my).await.unwrap();
    drop_schema(&name).await;
    m
}

async fn sqlite_to_pg(rows: i64) -> Measured {
    let schema = unique("lite");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("src.db").display());
    let mut lite = SqliteConnection::connect(&url).await.unwrap();
    let setup = format!(
        "CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT, amount REAL, n INTEGER); \
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {rows}) \
         INSERT INTO src SELECT i, 'row ' || i || substr('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 1, i % 40), \
           i / 4.0, i * 7 FROM g;"
    );
    sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut lite).await.unwrap();
    let mut conn = pg().await;
    pg_exec(
        &mut conn,
        format!(
            "CREATE SCHEMA {schema}; CREATE TABLE {schema}.dst (id BIGINT PRIMARY KEY, v TEXT, \
             amount DOUBLE PRECISION, n BIGINT)"
        ),
    )
    .await;
    let m = measure("SQLite -> PG", "vol_sqlite_to_pg", &[("FAUCET_E2E_PG_SCHEMA", &schema)], dir.path());
    let sql = "SELECT id || '|' || v || '|' || printf('%.2f', amount) || '|' || n FROM src ORDER BY id";
    let src_rows = sqlx::query(sql).fetch_all(&mut lite).await.unwrap();
    let src = checksum(src_rows.iter().map(|r| r.get::<String, _>(0)));
    let sql = format!(
        "SELECT concat_ws('|', id, v, to_char(amount, 'FM999999990.00'), n) FROM {schema}.dst ORDER BY id"
    );
    let dst = pg_checksum(&mut conn, sql).await;
    assert_eq!(src.1, rows);
    assert_eq!(dst, src, "the target equals the source, row by row");
    drop_schema(&schema).await;
    m
}

#[tokio::test]
#[ignore = "volume run: cargo test --release -p faucet-e2e --test volume -- --ignored --nocapture"]
async fn pg_to_pg_moves_a_million_rows_in_flat_memory() {
    let small = pg_to_pg(SMALL).await;
    let large = pg_to_pg(large()).await;
    assert_flat("PG -> PG", &small, &large);
}

#[tokio::test]
#[ignore = "volume run: cargo test --release -p faucet-e2e --test volume -- --ignored --nocapture"]
async fn pg_to_jsonl_moves_a_million_rows_in_flat_memory() {
    let small = pg_to_jsonl(SMALL).await;
    let large = pg_to_jsonl(large()).await;
    assert_flat("PG -> JSONL", &small, &large);
}

#[tokio::test]
#[ignore = "volume run: cargo test --release -p faucet-e2e --test volume -- --ignored --nocapture"]
async fn mysql_to_pg_moves_a_million_rows_in_flat_memory() {
    let small = mysql_to_pg(SMALL).await;
    let large = mysql_to_pg(large()).await;
    assert_flat("MySQL -> PG", &small, &large);
}

#[tokio::test]
#[ignore = "volume run: cargo test --release -p faucet-e2e --test volume -- --ignored --nocapture"]
async fn sqlite_to_pg_moves_a_million_rows_in_flat_memory() {
    let small = sqlite_to_pg(SMALL).await;
    let large = sqlite_to_pg(large()).await;
    assert_flat("SQLite -> PG", &small, &large);
}

#[tokio::test]
#[ignore = "volume run: cargo test --release -p faucet-e2e --test volume -- --ignored --nocapture"]
async fn a_two_million_row_postgres_read_stays_in_flat_memory() {
    let small = pg_to_jsonl(SMALL).await;
    let large = pg_to_jsonl(2 * large()).await;
    assert_flat("PG read (to JSONL)", &small, &large);
}

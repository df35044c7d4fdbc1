//! The `postgres_cdc` source against a private PostgreSQL with
//! `wal_level=logical` (`faucet_e2e::pg_logical`), each test in its own
//! databases: type decoding, the snapshot seam under concurrent writes, and
//! randomized changes over three tables replicated through `cdc_unwrap` and
//! the postgres sink's upserts and marked deletes.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use faucet_e2e::pg_logical::server;
use faucet_runtime::Source;
use faucet_runtime::connectors::postgres::cdc::{PostgresCdcConfig, PostgresCdcSource, TableName};
use faucet_runtime::connectors::postgres::{PostgresSource, PostgresSourceConfig, SourceInput};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.expect("the private PostgreSQL")
}

async fn exec(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn read_all(source: &mut impl Source<Record = Value>) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(page) = source.next_page().await.unwrap() {
        out.extend(page.records);
    }
    out
}

const TYPES: &str = "CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE DOMAIN posint AS int CHECK (VALUE > 0);
    CREATE TABLE types (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, num numeric, num_nan numeric,
      f4 float4, f8 float8, f_nan float8, f_inf float8, b bool, t text, vc varchar(3), ch char(3), j json, jb jsonb,
      tstz timestamptz, ts timestamp, d date, tm time, ttz timetz, u uuid, by bytea, ai int4[], at text[],
      an numeric[], af float8[], a2 int8[], ab bytea[], ats timestamptz[], iv interval, ip inet, ip_host inet,
      mo mood, dom posint, adom posint[], o oid, n_int int4, n_text text, n_json jsonb);";

const TYPE_ROW: &str = "1, 1, 2147483647, 9223372036854775807, 12345678901234567890.000123, 'NaN',
    0.1, 1.5e300, 'NaN', 'Infinity', true, 'héllo', 'v', 'c', '{\"a\": [1, {\"b\": null}]}', '{\"z\": 1, \"a\": 2.5}',
    '2024-02-29 23:59:59.123456+05', '2024-01-02 03:04:05', '2024-01-02', '13:14:15.5', '13:14:15-02',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\xdeadbeef00', ARRAY[1, NULL, 3], ARRAY['x y', NULL, 'q\"z'],
    ARRAY[1.10, 2], ARRAY[1.5, 'NaN'], ARRAY[[1, 2], [3, 4]], ARRAY['\\x01ff'::bytea], ARRAY['2024-01-01 00:00+00'::timestamptz],
    '1 day 2 hours', '192.168.0.1/24', '10.1.2.3', 'ok', 5, '{1,2}', 4000000000, NULL, NULL, NULL";

#[tokio::test]
async fn every_type_decodes_like_the_postgres_source() {
    let pg = server();
    let db = pg.database("cdc_types");
    let url = pg.url(&db);
    let mut conn = connect(&url).await;
    exec(&mut conn, TYPES).await;
    exec(&mut conn, &format!("INSERT INTO types VALUES ({TYPE_ROW})")).await;

    let mut config = PostgresCdcConfig::new(&url, format!("{db}_slot"), "pub_types");
    config.tables = vec![TableName { schema: "public".into(), name: "types".into() }];
    config.snapshot = true;
    config.idle_timeout = Some(Duration::from_millis(300));
    config.poll_interval = Duration::from_millis(20);
    let mut cdc = PostgresCdcSource::new(config.clone());
    cdc.resume(None).await.unwrap();
    // Row 2 goes through the stream (the slot exists now), row 1 through the snapshot.
    exec(&mut conn, "INSERT INTO types SELECT 2, i2, i4, i8, num, num_nan, f4, f8, f_nan, f_inf, b, t, vc, ch, j, jb, tstz, ts, d, tm, ttz, u, by, ai, at, an, af, a2, ab, ats, iv, ip, ip_host, mo, dom, adom, o, n_int, n_text, n_json FROM types").await;
    let records = read_all(&mut cdc).await;
    let ops: Vec<&str> = records.iter().map(|r| r["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["read", "insert"]);

    let input = SourceInput::Table { schema: Some("public".into()), name: "types".into() };
    let mut source = PostgresSource::new(PostgresSourceConfig {
        connection_url: url.clone(),
        input,
        replication_key: None,
        batch_size: 10,
    });
    source.resume(None).await.unwrap();
    let rows = read_all(&mut source).await;
    assert_eq!(rows.len(), 2);
    for (record, row) in records.iter().zip(&rows) {
        let after = record["after"].as_object().unwrap();
        for (column, value) in row.as_object().unwrap() {
            assert_eq!(&after[column], value, "column {column} of {}", record["op"]);
        }
        assert_eq!(after.len(), row.as_object().unwrap().len());
    }
    let streamed = &records[1];
    assert_eq!(streamed["schema"], "public");
    assert_eq!(streamed["table"], "types");
    assert!(streamed["txid"].as_u64().is_some() && streamed["ts_ms"].as_i64().is_some(), "{streamed}");
    let after = &streamed["after"];
    let want = json!({
        "tstz": "2024-02-29T18:59:59.123456+00:00", "ts": "2024-01-02T03:04:05", "ch": "c", "by": "3q2+7wA=",
        "num_nan": null, "f_inf": null, "f4": 0.1, "ai": [1, null, 3], "at": ["x y", null, "q\"z"], "an": ["1.10", "2"],
        "ab": ["Af8="], "ats": ["2024-01-01T00:00:00+00:00"], "iv": "P1DT2H", "ip_host": "10.1.2.3/32", "dom": 5,
        "adom": [1, 2], "o": 4000000000u64, "ttz": "13:14:15-02", "n_json": null, "jb": {"a": 2.5, "z": 1}
    });
    for (key, value) in want.as_object().unwrap() {
        assert_eq!(&after[key], value, "column {key}");
    }

    // Old rows: the key by default, the whole row under REPLICA IDENTITY FULL;
    // a key change is a delete of the old key and an insert of the new.
    exec(&mut conn, "UPDATE types SET t = 'changed' WHERE id = 1; UPDATE types SET id = 3 WHERE id = 2; DELETE FROM types WHERE id = 1;
        ALTER TABLE types REPLICA IDENTITY FULL; UPDATE types SET i2 = 7 WHERE id = 3;").await;
    // Without a bookmark, a run without `snapshot` starts where the slot stands.
    config.snapshot = false;
    let mut cdc = PostgresCdcSource::new(config.clone());
    cdc.resume(None).await.unwrap();
    let records = read_all(&mut cdc).await;
    let shape: Vec<(String, Value, Value)> = records
        .iter()
        .map(|r| {
            (
                r["op"].as_str().unwrap().to_owned(),
                r["before"].get("id").cloned().unwrap_or(Value::Null),
                r["after"].get("id").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("update".into(), Value::Null, json!(1)),
            ("delete".into(), json!(2), Value::Null),
            ("insert".into(), Value::Null, json!(3)),
            ("delete".into(), json!(1), Value::Null),
            ("update".into(), json!(3), json!(3)),
        ]
    );
    assert_eq!(records[3]["before"].as_object().unwrap().len(), 1, "a default identity logs the key only");
    assert_eq!(records[4]["before"]["i2"], 1, "FULL logs the old row");
    assert_eq!(records[4]["after"]["i2"], 7);
}

/// Applies change records to a map by id, failing on a duplicate (an insert
/// or read of a present key) or a gap (an update or delete of a missing key).
fn replay(rows: &mut BTreeMap<i64, Value>, records: &[Value]) {
    for r in records {
        let op = r["op"].as_str().unwrap();
        match op {
            "read" | "insert" => {
                let id = r["after"]["id"].as_i64().unwrap();
                assert!(rows.insert(id, r["after"].clone()).is_none(), "duplicate {op} of id {id}: {r}");
            }
            "update" => {
                let id = r["after"]["id"].as_i64().unwrap();
                assert!(rows.insert(id, r["after"].clone()).is_some(), "update of missing id {id}: {r}");
            }
            "delete" => {
                let id = r["before"]["id"].as_i64().unwrap();
                assert!(rows.remove(&id).is_some(), "delete of missing id {id}: {r}");
            }
            other => panic!("unexpected op {other}"),
        }
    }
}

#[tokio::test]
async fn the_snapshot_and_the_stream_meet_without_gap_or_duplicate() {
    let pg = server();
    let db = pg.database("cdc_seam");
    let url = pg.url(&db);
    let mut conn = connect(&url).await;
    exec(&mut conn, "CREATE TABLE s (id bigint PRIMARY KEY, v int); INSERT INTO s SELECT g, 0 FROM generate_series(1, 20000) g;").await;

    // Writers change the table while the snapshot is being read.
    let writer_url = url.clone();
    let writer = tokio::spawn(async move {
        let mut conn = connect(&writer_url).await;
        for i in 0..400 {
            exec(
                &mut conn,
                &format!(
                    "BEGIN; INSERT INTO s VALUES ({}, {i}); UPDATE s SET v = v + 1 WHERE id = {}; DELETE FROM s WHERE id = {}; COMMIT;",
                    100_000 + i,
                    1 + (i * 37) % 20000,
                    20000 - i * 13
                ),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let mut config = PostgresCdcConfig::new(&url, format!("{db}_slot"), "pub_seam");
    config.tables = vec![TableName { schema: "public".into(), name: "s".into() }];
    config.snapshot = true;
    config.batch_size = 500;
    config.idle_timeout = Some(Duration::from_millis(500));
    config.poll_interval = Duration::from_millis(20);
    let mut cdc = PostgresCdcSource::new(config);
    cdc.resume(None).await.unwrap();
    let mut records = Vec::new();
    let mut pages = 0;
    while let Some(page) = cdc.next_page().await.unwrap() {
        pages += 1;
        // Slow consumer: the writers overlap the snapshot.
        tokio::time::sleep(Duration::from_millis(5)).await;
        records.extend(page.records);
    }
    writer.await.unwrap();
    // Whatever the writers did after the idle end is read by a second run.
    let mut config = PostgresCdcConfig::new(&url, format!("{db}_slot"), "pub_seam");
    config.idle_timeout = Some(Duration::from_millis(300));
    config.poll_interval = Duration::from_millis(20);
    let mut rest = PostgresCdcSource::new(config);
    rest.resume(None).await.unwrap();
    records.extend(read_all(&mut rest).await);

    let reads = records.iter().filter(|r| r["op"] == "read").count();
    let streamed = records.len() - reads;
    eprintln!("{reads} snapshot rows, {streamed} streamed changes in {pages} pages");
    assert!(reads > 19_000 && streamed > 0, "{reads} {streamed}");
    let mut rows = BTreeMap::new();
    replay(&mut rows, &records);
    let table = sqlx::query("SELECT id, v FROM s ORDER BY id").fetch_all(&mut conn).await.unwrap();
    assert_eq!(rows.len(), table.len());
    for row in table {
        let id: i64 = row.get(0);
        assert_eq!(rows[&id]["v"], json!(row.get::<i32, _>(1)), "id {id}");
    }
}

/// A random transaction over `tables`: inserts (some with a large TOASTed
/// value, in `b` only), updates that leave that value alone, key changes and
/// deletes. A key change of a row whose TOASTed value it leaves alone needs
/// `REPLICA IDENTITY FULL` (as `b` has): pgoutput does not send the value.
async fn random_transaction(conn: &mut PgConnection, tables: &[&str], i: u64) {
    let mut sql = String::from("BEGIN;");
    for k in 0..(1 + i % 4) {
        let t = tables[((i + k) % tables.len() as u64) as usize];
        let pick = format!("(SELECT id FROM {t} ORDER BY random() LIMIT 1)");
        sql.push_str(&match (i * 7 + k * 3) % 10 {
            0..=3 => format!(
                "INSERT INTO {t} SELECT coalesce(max(id), 0) + 1, md5(random()::text), round((random() * 1000)::numeric, 3), \
                 jsonb_build_object('i', {i}, 'tags', jsonb_build_array('x', {k})), now(), random() < 0.5, \
                 CASE WHEN {i} % 5 = 0 AND '{t}' = 'b' THEN (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 300)) END, \
                 decode(md5(random()::text), 'hex'), ARRAY[md5(random()::text), NULL] FROM {t};"
            ),
            4..=6 => format!(
                "UPDATE {t} SET v = md5(random()::text), flag = NOT coalesce(flag, false), n = n + 1, \
                 bin = decode(md5(random()::text), 'hex'), tags = array_append(tags, 'u') WHERE id = {pick};"
            ),
            7 => format!("UPDATE {t} SET id = (SELECT max(id) + 1 FROM {t}) WHERE id = {pick};"),
            _ => format!("DELETE FROM {t} WHERE id = {pick};"),
        });
    }
    sql.push_str("COMMIT;");
    exec(conn, &sql).await;
}

const TABLE: &str = "(id bigint PRIMARY KEY, v text, n numeric(12, 3), doc jsonb, ts timestamptz, flag boolean, big text, bin bytea, tags text[])";

/// A source database with tables a, b (REPLICA IDENTITY FULL) and c holding
/// `rows` rows each, and an empty replica database with the same tables.
async fn replica_setup(prefix: &str, rows: u64) -> (String, String) {
    let pg = server();
    let (src, dst) = (pg.database(&format!("{prefix}_src")), pg.database(&format!("{prefix}_dst")));
    let (src, dst) = (pg.url(&src), pg.url(&dst));
    let mut s = connect(&src).await;
    let mut d = connect(&dst).await;
    for t in ["a", "b", "c"] {
        exec(&mut s, &format!("CREATE TABLE {t} {TABLE}; INSERT INTO {t} SELECT g, 'v' || g, g / 7.0, jsonb_build_object('g', g), now(), g % 2 = 0, NULL, decode(md5(g::text), 'hex'), ARRAY['t' || g, NULL, 'a \"q\"'] FROM generate_series(1, {rows}) g;")).await;
        exec(&mut d, &format!("CREATE TABLE {t} {TABLE};")).await;
    }
    exec(&mut s, "ALTER TABLE b REPLICA IDENTITY FULL").await;
    (src, dst)
}

/// Tables of `dst` that differ from `src`, with their row counts.
async fn differences(src: &str, dst: &str) -> Vec<String> {
    let (mut s, mut d) = (connect(src).await, connect(dst).await);
    let mut out = Vec::new();
    for t in ["a", "b", "c"] {
        let sql = format!(
            "SELECT count(*)::int8, coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') FROM {t} t"
        );
        let a = sqlx::query(AssertSqlSafe(sql.clone())).fetch_one(&mut s).await.unwrap();
        let b = sqlx::query(AssertSqlSafe(sql)).fetch_one(&mut d).await.unwrap();
        let (a, b): ((i64, String), (i64, String)) = ((a.get(0), a.get(1)), (b.get(0), b.get(1)));
        if a != b {
            let rows = format!(
                "SELECT id, (id, v, n, doc, ts, flag, length(big), md5(big), bin, tags)::text FROM {t} t ORDER BY id"
            );
            let a_rows = sqlx::query(AssertSqlSafe(rows.clone())).fetch_all(&mut s).await.unwrap();
            let b_rows = sqlx::query(AssertSqlSafe(rows)).fetch_all(&mut d).await.unwrap();
            let first = a_rows
                .iter()
                .map(|r| r.get::<String, _>(1))
                .zip(b_rows.iter().map(|r| r.get::<String, _>(1)))
                .find(|(x, y)| x != y);
            out.push(format!("{t}: source {} rows, replica {}; first difference {first:?}", a.0, b.0));
        }
    }
    out
}

fn runner(pipeline: &str, src: &str, dst: &str, slot: &str, dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_e2e-runner"));
    cmd.arg(pipeline)
        .env("FAUCET_E2E_CDC_URL", src)
        .env("FAUCET_E2E_REPLICA_URL", dst)
        .env("FAUCET_E2E_CDC_SLOT", slot)
        .env("FAUCET_E2E_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn run_ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "run failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `count` random transactions in the background.
fn workload(url: &str, count: u64, seed: u64) -> tokio::task::JoinHandle<()> {
    let url = url.to_owned();
    tokio::spawn(async move {
        let mut conn = connect(&url).await;
        for i in 0..count {
            random_transaction(&mut conn, &["a", "b", "c"], seed + i).await;
        }
    })
}

#[tokio::test]
async fn random_changes_over_three_tables_keep_the_replica_equal() {
    let (src, dst) = replica_setup("cdc_rand", 2000).await;
    let dir = tempfile::tempdir().unwrap();
    let slot = format!("rand_{}", std::process::id());
    // The first run snapshots while the workload writes; later runs stream.
    let writes = workload(&src, 600, 1);
    let (s, d, sl, p) = (src.clone(), dst.clone(), slot.clone(), dir.path().to_owned());
    let first =
        tokio::task::spawn_blocking(move || run_ok(runner("cdc_replica", &s, &d, &sl, &p))).await.unwrap();
    eprintln!("first run: {first}");
    writes.await.unwrap();
    let (s, d, sl, p) = (src.clone(), dst.clone(), slot.clone(), dir.path().to_owned());
    tokio::task::spawn_blocking(move || run_ok(runner("cdc_replica", &s, &d, &sl, &p))).await.unwrap();
    assert_eq!(differences(&src, &dst).await, Vec::<String>::new());
    // A rerun with nothing new writes nothing.
    let (s, d, sl, p) = (src.clone(), dst.clone(), slot.clone(), dir.path().to_owned());
    let idle =
        tokio::task::spawn_blocking(move || run_ok(runner("cdc_replica", &s, &d, &sl, &p))).await.unwrap();
    let report: Value = serde_json::from_str(idle.trim()).unwrap();
    eprintln!("idle rerun: {report}");
    assert!(idle.contains("\"records_written\":0"), "{idle}");
}

fn lsn(text: &str) -> u64 {
    let (hi, lo) = text.split_once('/').unwrap();
    (u64::from_str_radix(hi, 16).unwrap() << 32) | u64::from_str_radix(lo, 16).unwrap()
}

/// For each `(state key, slot)`: the slot's confirmed position is at or
/// before the stored bookmark's `last_lsn` (when a bookmark exists).
async fn assert_slots_behind_bookmarks(src: &str, dir: &std::path::Path, pairs: &[(String, String)]) {
    let mut conn = connect(src).await;
    for (key, slot) in pairs {
        let path = dir.join("state").join(format!("{}.json", key.replace(':', "%3A")));
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let bookmark: Value = serde_json::from_str(&text).unwrap();
        let Some(stored) = bookmark["source"]["last_lsn"].as_str() else { continue };
        let confirmed: Option<String> = sqlx::query_scalar(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
        )
        .bind(slot)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
        let confirmed = confirmed.unwrap_or_else(|| panic!("slot {slot} is gone"));
        assert!(
            lsn(&confirmed) <= lsn(stored),
            "slot {slot} confirmed {confirmed}, past the bookmark {stored}"
        );
    }
}

#[tokio::test]
async fn killed_and_aborted_runs_never_confirm_past_the_bookmark_and_lose_nothing() {
    let (src, dst) = replica_setup("cdc_kill", 3000).await;
    let dst_one = server().url(&server().database("cdc_kill_one"));
    exec(&mut connect(&dst_one).await, &format!("CREATE TABLE a {TABLE}")).await;
    let dir = tempfile::tempdir().unwrap();
    let slot = format!("kill_{}", std::process::id());
    let rows: Vec<(String, String)> =
        ["a", "b", "c"].iter().map(|r| (format!("cdc_replica::{r}"), format!("{slot}_{r}"))).collect();

    // SIGKILLs at random points, through the snapshot and the stream, while the workload writes.
    let writes = workload(&src, 700, 11);
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("kill schedule seed {seed}");
    let mut state = seed;
    let mut hits = 0;
    for _ in 0..10 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(150 + (state >> 33) % 1500);
        let mut child = runner("cdc_replica", &src, &dst, &slot, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            hits += 1;
        }
        child.wait().unwrap();
        assert_slots_behind_bookmarks(&src, dir.path(), &rows).await;
    }
    eprintln!("{hits} kill(s) hit a running process");
    assert!(hits >= 1, "no kill landed mid-run");
    writes.await.unwrap();

    // Deterministic aborts: after the sink wrote page N but before its bookmark,
    // and after the bookmark but before the slot moves to it.
    let one = vec![("cdc_one::row-0".to_owned(), format!("{slot}_one"))];
    let mut conn = connect(&src).await;
    // The first run creates the slot (and the publication) and snapshots `a`; what follows is streamed.
    let (s, d1, sl, p) = (src.clone(), dst_one.clone(), format!("{slot}_one"), dir.path().to_owned());
    tokio::task::spawn_blocking(move || run_ok(runner("cdc_one", &s, &d1, &sl, &p))).await.unwrap();
    for (i, point) in
        ["before_bookmark:2", "after_bookmark:2", "after_bookmark:1", "before_bookmark:3"].iter().enumerate()
    {
        for k in 0..120 {
            random_transaction(&mut conn, &["a"], 10_000 + i as u64 * 1000 + k).await;
        }
        let mut cmd = runner("cdc_one", &src, &dst_one, &format!("{slot}_one"), dir.path());
        cmd.env("FAUCET_E2E_ABORT", point);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
        assert!(
            !out.status.success(),
            "the run did not reach {point}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_slots_behind_bookmarks(&src, dir.path(), &one).await;
    }

    // Reruns deliver every change: both replicas equal the source.
    let (s, d, d1, sl, p) = (src.clone(), dst.clone(), dst_one.clone(), slot.clone(), dir.path().to_owned());
    tokio::task::spawn_blocking(move || {
        run_ok(runner("cdc_replica", &s, &d, &sl, &p));
        run_ok(runner("cdc_one", &s, &d1, &format!("{sl}_one"), &p));
    })
    .await
    .unwrap();
    assert_slots_behind_bookmarks(&src, dir.path(), &rows).await;
    assert_eq!(differences(&src, &dst).await, Vec::<String>::new());
    let (mut s, mut d) = (connect(&src).await, connect(&dst_one).await);
    let sql = "SELECT count(*)::int8, coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') FROM a t";
    let a = sqlx::query(sql).fetch_one(&mut s).await.unwrap();
    let b = sqlx::query(sql).fetch_one(&mut d).await.unwrap();
    assert_eq!(
        (a.get::<i64, _>(0), a.get::<String, _>(1)),
        (b.get::<i64, _>(0), b.get::<String, _>(1)),
        "cdc_one's replica of a"
    );
}

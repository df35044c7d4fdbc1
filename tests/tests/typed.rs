//! Typed pipelines end to end: where a stream's schema is known, the records
//! are generated structs from source to sink.
//!
//! - The same config run typed and untyped (`faucet_e2e::untyped`, generated
//!   with `faucet_gen::Config::untyped`) writes the same bytes.
//! - A typed file → SQLite run and a typed PostgreSQL → PostgreSQL run,
//!   killed with SIGKILL at random points and rerun, end with every row
//!   exactly once (and equal to what the untyped run writes).
//! - A record that does not fit the declared schema goes to the DLQ with
//!   reason `schema`, naming the field, or fails the run.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use faucet_runtime::{Pipeline, RecordType, Result, Source, Transform, Writes};
use serde_json::{Map, Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row, SqliteConnection};

fn runner(pipeline: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_e2e-runner"));
    cmd.arg(pipeline).env("FAUCET_E2E_DIR", dir).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Runs `pipeline` to completion; returns its report.
fn run(pipeline: &str, dir: &Path) -> Value {
    let out = runner(pipeline, dir).output().expect("run");
    assert!(out.status.success(), "{pipeline} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("report JSON")
}

/// Compiles only when the pipeline `build` makes reads `In` from its source
/// and hands its sink `Out`.
fn moves<In: RecordType, Out: RecordType, S, T, K, D, St>(
    build: impl Fn() -> Result<Pipeline<S, T, K, D, St>>,
) where
    S: Source<Record = In>,
    T: Transform<In, Out = Out>,
    K: Writes<Out>,
{
    let _ = build;
}

/// Record `id` of the `typed_reshape` input: nested objects (one null, one
/// without its optional key), keys absent, null and set, numbers near the
/// limits, decimals as text, and text that needs escaping.
fn reshape_record(id: i64) -> Value {
    let address = match id % 4 {
        0 => Value::Null,
        1 => json!({"city": format!("c{}", id % 50), "zip": format!("{:05}", id % 100_000)}),
        _ => json!({"city": "Zürich \"quoted\" \\ back\tslash 😀"}),
    };
    let mut record = Map::new();
    record.insert("id".into(), json!(if id % 7 == 0 { i64::MAX - id } else { -id }));
    record.insert("user".into(), json!({"name": format!("user {id}"), "address": address}));
    record.insert("tags".into(), json!((0..id % 3).map(|t| format!("t{t}")).collect::<Vec<_>>()));
    // serde_json writes each double's shortest text, as a typed record does.
    record.insert("amount".into(), json!(id as f64 * 1.1 / 3.0));
    record.insert(
        "balance".into(),
        if id % 5 == 0 { Value::Null } else { json!(format!("{}.{:02}0", id * 1_000_003, id % 100)) },
    );
    match id % 3 {
        0 => {}
        1 => {
            record.insert("Note Text".into(), Value::Null);
        }
        _ => {
            record.insert("Note Text".into(), json!(format!("note ✓ {id}")));
        }
    }
    record.insert("seenAt".into(), json!(format!("2024-05-01T10:20:{:02}.{id:06}+00:00", id % 60)));
    record.insert("active".into(), json!(id % 2 == 0));
    Value::Object(record)
}

#[test]
fn typed_and_untyped_runs_of_one_config_write_the_same_bytes() {
    // The builder's types say it: structs from source to sink, one untyped.
    moves::<faucet_e2e::typed_reshape::SourceRecord, faucet_e2e::typed_reshape::Record, _, _, _, _, _>(
        faucet_e2e::typed_reshape::pipeline,
    );
    moves::<Value, Value, _, _, _, _, _>(faucet_e2e::untyped::typed_reshape::pipeline);

    let (typed, untyped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut input = Vec::new();
    for id in 1..=5_000 {
        writeln!(input, "{}", reshape_record(id)).unwrap();
    }
    for dir in [&typed, &untyped] {
        std::fs::write(dir.path().join("input.jsonl"), &input).unwrap();
    }
    let report = run("typed_reshape", typed.path());
    assert_eq!(report["written"], 5_000, "{report}");
    run("untyped_typed_reshape", untyped.path());
    let typed_out = std::fs::read(typed.path().join("out.jsonl")).unwrap();
    let untyped_out = std::fs::read(untyped.path().join("out.jsonl")).unwrap();
    assert!(typed_out == untyped_out, "typed and untyped outputs differ");

    // What both wrote: flattened, renamed and in snake case, values intact.
    let lines: Vec<Value> = typed_out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5_000);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&lines[0]),
        [
            "id",
            "customer_name",
            "customer_address_city",
            "customer_address_zip",
            "tags",
            "amount",
            "balance",
            "note_text",
            "seen_at",
            "active"
        ]
    );
    assert_eq!(lines[3]["customer_address"], Value::Null, "a null object keeps its key");
    assert!(lines[1].get("customer_address_zip").is_none(), "an absent key stays absent");
    assert_eq!(lines[6]["id"], json!(i64::MAX - 7));
    assert_eq!(lines[1]["balance"], json!("2000006.020"), "decimals keep their digits");
    assert_eq!(lines[1]["amount"], json!(2.0 * 1.1 / 3.0), "doubles keep their bits");
}

#[tokio::test(flavor = "current_thread")]
async fn killed_typed_csv_to_sqlite_run_ends_with_every_row_once_and_as_untyped() {
    const ROWS: u64 = 200_000;
    moves::<
        faucet_e2e::typed_csv_to_sqlite::SourceRecord,
        faucet_e2e::typed_csv_to_sqlite::Record,
        _,
        _,
        _,
        _,
        _,
    >(faucet_e2e::typed_csv_to_sqlite::pipeline);
    let (dir, untyped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    faucet_e2e::write_csv(&dir.path().join("input.csv"), ROWS).unwrap();
    std::fs::copy(dir.path().join("input.csv"), untyped.path().join("input.csv")).unwrap();
    let (path, untyped_path) = (dir.path().to_owned(), untyped.path().to_owned());
    let (report, hits) = tokio::task::spawn_blocking(move || {
        run("untyped_typed_csv_to_sqlite", &untyped_path);
        // Calibrated on a scratch copy, so the kills land mid-run.
        let scratch = tempfile::tempdir().unwrap();
        std::fs::copy(path.join("input.csv"), scratch.path().join("input.csv")).unwrap();
        let window = faucet_e2e::time_run(|| runner("typed_csv_to_sqlite", scratch.path()));
        // Each kill leaves less to do: half the window lands more of them mid-run.
        let (out, hits) = faucet_e2e::run_with_kills(|| runner("typed_csv_to_sqlite", &path), 8, window / 2);
        assert!(out.status.success(), "final run failed: {}", String::from_utf8_lossy(&out.stderr));
        (serde_json::from_slice::<Value>(&out.stdout).unwrap(), hits)
    })
    .await
    .unwrap();
    eprintln!("typed_csv_to_sqlite: {hits} kill(s) hit a running process; final run {report}");
    assert!(hits > 0, "no kill landed mid-run");

    let rows = |dir: &Path| {
        let url = format!("sqlite://{}", dir.join("out.db").display());
        async move {
            let mut conn = SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("SELECT id, first_name, amount, active FROM rows ORDER BY id, rowid")
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1), r.get::<f64, _>(2), r.get::<bool, _>(3)))
                .collect::<Vec<_>>()
        }
    };
    let typed = rows(dir.path()).await;
    assert_eq!(typed.len() as u64, ROWS, "every row exactly once");
    assert!(typed.iter().enumerate().all(|(i, r)| r.0 == i as i64 + 1), "ids 1..=ROWS, each once");
    assert_eq!(typed[4], (5, "name, 5".to_owned(), 5.05, false));
    assert!(typed == rows(untyped.path()).await, "the typed table holds what the untyped run wrote");

    let rerun = run("typed_csv_to_sqlite", dir.path());
    assert_eq!(rerun["written"], 0, "a rerun after completion writes nothing: {rerun}");
}

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PG_ROWS: i64 = 30_000;

/// A schema of its own holding `src_typed` (the columns of the schema cache
/// `pg_typed` is built from) and an empty `dst_typed`.
async fn pg_schema(conn: &mut PgConnection, prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("faucet_e2e_{prefix}_{nanos}_{}", std::process::id());
    let sql = format!(
        "CREATE SCHEMA {name}; SET search_path TO {name}; \
         CREATE TABLE src_typed (id BIGINT PRIMARY KEY, v TEXT, amount NUMERIC(12, 2), updated BIGINT NOT NULL, \
           doc JSONB, seen_at TIMESTAMPTZ); \
         INSERT INTO src_typed SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'row ' || g || E' \\t\"q\"' END, \
           CASE WHEN g % 13 = 0 THEN NULL ELSE g / 7.0 END, g / 3, \
           CASE WHEN g % 11 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g % 5), 'big', 12345678901234567890.5) END, \
           CASE WHEN g % 17 = 0 THEN NULL ELSE timestamptz '2024-01-01 00:00:00+00' + g * interval '1.000001 second' END \
           FROM generate_series(1, {PG_ROWS}) g; \
         CREATE TABLE dst_typed (id BIGINT, label TEXT, amount NUMERIC(12, 2), updated BIGINT, doc JSONB, seen_at TIMESTAMPTZ); \
         SET search_path TO public;"
    );
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *conn).await.unwrap();
    name
}

async fn pg_count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(conn).await.unwrap()
}

fn pg_runner(pipeline: &str, schema: &str, dir: &Path) -> Command {
    let mut cmd = runner(pipeline, dir);
    cmd.env("FAUCET_E2E_PG_SCHEMA", schema);
    cmd
}

/// Runs `pipeline` in `schema` to completion.
fn run_pg(pipeline: &str, schema: &str, dir: &Path) {
    let out = pg_runner(pipeline, schema, dir).output().expect("run");
    assert!(out.status.success(), "{pipeline} failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn killed_typed_pg_to_pg_run_ends_with_the_target_equal_to_the_source() {
    moves::<faucet_e2e::pg_typed::SourceRecord, faucet_e2e::pg_typed::Record, _, _, _, _, _>(
        faucet_e2e::pg_typed::pipeline,
    );
    let mut conn = PgConnection::connect(PG_URL).await.expect("PostgreSQL on 127.0.0.1:5432");
    let typed = pg_schema(&mut conn, "typed").await;
    let untyped = pg_schema(&mut conn, "untyped").await;
    let scratch = pg_schema(&mut conn, "typed_scratch").await;
    let (dir, untyped_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (schema, untyped_schema, scratch_schema) = (typed.clone(), untyped.clone(), scratch.clone());
    let (path, untyped_path) = (dir.path().to_owned(), untyped_dir.path().to_owned());
    let hits = tokio::task::spawn_blocking(move || {
        run_pg("untyped_pg_typed", &untyped_schema, &untyped_path);
        // Calibrated on a scratch schema, so the kills land mid-run.
        let scratch_dir = tempfile::tempdir().unwrap();
        let window = faucet_e2e::time_run(|| pg_runner("pg_typed", &scratch_schema, scratch_dir.path()));
        let (out, hits) = faucet_e2e::run_with_kills(|| pg_runner("pg_typed", &schema, &path), 8, window / 2);
        assert!(out.status.success(), "final run failed: {}", String::from_utf8_lossy(&out.stderr));
        hits
    })
    .await
    .unwrap();
    eprintln!("pg_typed: {hits} kill(s) hit a running process");
    assert!(hits > 0, "no kill landed mid-run");

    let differences = |schema: &str| {
        format!(
            "SELECT count(*)::int8 FROM {schema}.src_typed s FULL JOIN {schema}.dst_typed d ON s.id = d.id \
             WHERE (s.id, s.v, s.amount, s.updated, s.doc, s.seen_at) IS DISTINCT FROM \
               (d.id, d.label, d.amount, d.updated, d.doc, d.seen_at)"
        )
    };
    assert_eq!(pg_count(&mut conn, &differences(&typed)).await, 0, "no row lost or changed");
    assert_eq!(pg_count(&mut conn, &format!("SELECT count(*)::int8 FROM {typed}.dst_typed")).await, PG_ROWS);
    assert_eq!(pg_count(&mut conn, &differences(&untyped)).await, 0);
    let same = format!(
        "SELECT count(*)::int8 FROM {typed}.dst_typed t FULL JOIN {untyped}.dst_typed u ON t.id = u.id \
         WHERE t IS DISTINCT FROM u"
    );
    assert_eq!(pg_count(&mut conn, &same).await, 0, "typed and untyped runs write the same rows");

    let out = pg_runner("pg_typed", &typed, dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rerun: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rerun["written"], 0, "a rerun after completion writes nothing: {rerun}");
    for schema in [typed, untyped, scratch] {
        sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Lines of `typed_misfit`'s input, and the field each misfit is rejected for.
const MISFITS: &[(&str, Option<&str>)] = &[
    (r#"{"id": 1, "name": "a", "score": 1.5}"#, None),
    (r#"{"id": "seven", "name": "b", "score": null}"#, Some("field `id`")),
    (r#"{"id": 3, "score": 2}"#, Some("missing field `name`")),
    (r#"{"id": 4, "name": "d", "score": 0.25, "extra": true}"#, Some("unknown field `extra`")),
    (r#"{"id": 5, "name": "e", "score": "high"}"#, Some("field `score`")),
    // Nullable, but required: a missing key is not a null.
    (r#"{"id": 7, "name": "g"}"#, Some("missing field `score`")),
    (r#"{"id": 6, "name": "f", "score": null}"#, None),
    // Fits the schema, breaches the contract: quarantined, reason `contract`.
    (r#"{"id": 8, "name": "h", "score": -1.5}"#, Some("contract")),
];

#[test]
fn a_record_that_does_not_fit_its_schema_is_dead_lettered_with_reason_schema() {
    let dir = tempfile::tempdir().unwrap();
    let input: String = MISFITS.iter().map(|(line, _)| format!("{line}\n")).collect();
    std::fs::write(dir.path().join("input.jsonl"), &input).unwrap();
    let report = run("typed_misfit", dir.path());
    assert_eq!(
        (report["written"].as_u64(), report["dead_lettered"].as_u64()),
        (Some(2), Some(6)),
        "{report}"
    );
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(out, "{\"id\":1,\"name\":\"a\",\"score\":1.5}\n{\"id\":6,\"name\":\"f\",\"score\":null}\n");

    let dlq = std::fs::read_to_string(dir.path().join("dlq.jsonl")).unwrap();
    let envelopes: Vec<Value> = dlq.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let misfits: Vec<(usize, &str)> =
        MISFITS.iter().enumerate().filter_map(|(i, (_, field))| field.map(|f| (i, f))).collect();
    assert_eq!(envelopes.len(), misfits.len());
    for (envelope, (index, field)) in envelopes.iter().zip(misfits) {
        let message = envelope["error"]["message"].as_str().unwrap();
        if field == "contract" {
            assert_eq!(envelope["reason"], "contract", "{envelope}");
            assert!(message.contains("score"), "{message}");
        } else {
            assert_eq!(envelope["reason"], "schema", "{envelope}");
            assert_eq!(envelope["error"]["kind"], "Schema", "{envelope}");
            assert!(message.contains(field), "{field} not in {message}");
        }
        // The payload is the record as read: a misfit's line (as the source
        // dead-letters a line it cannot read), a breach's record.
        let (line, payload) = (MISFITS[index].0, &envelope["payload"]);
        match payload.get("raw") {
            Some(raw) => {
                assert_eq!((raw.as_str(), payload["line"].as_u64()), (Some(line), Some(index as u64 + 1)))
            }
            None => assert_eq!(*payload, serde_json::from_str::<Value>(line).unwrap()),
        }
    }
}

#[test]
fn a_record_that_does_not_fit_its_schema_fails_the_run_with_on_parse_error_fail() {
    let dir = tempfile::tempdir().unwrap();
    let input: String = MISFITS.iter().take(2).map(|(line, _)| format!("{line}\n")).collect();
    std::fs::write(dir.path().join("input.jsonl"), input).unwrap();
    let out = runner("typed_misfit_fail", dir.path()).output().unwrap();
    assert!(!out.status.success(), "the run must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not fit its schema") && stderr.contains("field `id`"), "{stderr}");
    assert!(std::fs::read_to_string(dir.path().join("dlq.jsonl")).unwrap_or_default().is_empty());
}

// The README's example ("Typed records"), as written there.
faucet_runtime::faucet! {
    name: orders,
    pipeline: {
        source: {
            type: jsonl,
            config: { path: "${env:FAUCET_E2E_README_DIR}/orders.jsonl" },
            record_schema: {
                fields: {
                    orderId: integer,
                    customer: { type: object, fields: { name: string, email: { type: string, nullable: true } } },
                    amount: number,
                },
            },
        },
        transforms: [
            { type: flatten },
            { type: snake_case },
            {
                type: custom,
                config: { function: crate::tax::add_tax },
                record_schema: { fields: { order_id: integer, amount: number, tax: number } },
            },
        ],
        sink: { type: jsonl, config: { path: "${env:FAUCET_E2E_README_DIR}/out.jsonl" } },
    }
}

mod tax {
    use faucet_runtime::FaucetError;

    use crate::orders::{AddTaxInput, AddTaxOutput};

    /// Adds the tax to orders with a customer email; drops the others.
    pub fn add_tax(order: AddTaxInput) -> Result<Option<AddTaxOutput>, FaucetError> {
        if order.customer_email.is_none() {
            return Ok(None);
        }
        let tax = (order.amount * 0.2 * 100.0).round() / 100.0;
        Ok(Some(AddTaxOutput { order_id: order.order_id, amount: order.amount, tax }))
    }
}

#[tokio::test]
#[allow(unsafe_code)]
async fn the_readme_example_runs_typed() {
    moves::<orders::SourceRecord, orders::Record, _, _, _, _, _>(orders::pipeline);
    let dir = tempfile::tempdir().unwrap();
    let input = "{\"orderId\": 1, \"customer\": {\"name\": \"Ada\", \"email\": \"ada@example.com\"}, \"amount\": 10.5}\n\
                 {\"orderId\": 2, \"customer\": {\"name\": \"Bo\", \"email\": null}, \"amount\": 3.25}\n";
    std::fs::write(dir.path().join("orders.jsonl"), input).unwrap();
    // SAFETY: the variable is this test's alone; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_E2E_README_DIR", dir.path()) };
    let report = orders::run().await.unwrap();
    assert_eq!((report.records_written, report.records_filtered), (1, 1));
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(out, "{\"order_id\":1,\"amount\":10.5,\"tax\":2.1}\n");
}

//! Tests against the PostgreSQL server on 127.0.0.1:5432, each in its own schema.

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Row};

use super::testdb::{TestSchema, URL};
use super::*;
use crate::connectors::base64;
use crate::error::ErrorKind;
use crate::page::CommitToken;
use crate::sink::{OpenContext, Sink, Writes};
use crate::source::Source;

pub(super) const SCOPE: &str = "orders::row-0::lineage";

pub(super) fn sink_config(schema: &str, table: &str) -> PostgresSinkConfig {
    PostgresSinkConfig {
        connection_url: URL.to_owned(),
        schema: Some(schema.to_owned()),
        table_name: table.to_owned(),
        column_mapping: ColumnMapping::AutoMap,
        write: TableWrite {
            create_table: false,
            unmapped_fields: UnmappedFields::Dlq,
            batch_size: 1000,
            write_mode: WriteMode::Append,
            key: Vec::new(),
            delete_marker: None,
            columns: None,
        },
        write_method: WriteMethod::Copy,
    }
}

pub(super) async fn opened(config: PostgresSinkConfig, scope: &str) -> PostgresSink {
    let mut sink = PostgresSink::new(config);
    sink.open(OpenContext { scope, checkpoint: None }).await.unwrap();
    sink
}

pub(super) fn token(seq: u64, part: u32) -> CommitToken {
    CommitToken { seq, part }
}

pub(super) async fn rows(db: &mut TestSchema, sql: &str) -> Vec<sqlx::postgres::PgRow> {
    sqlx::raw_sql(AssertSqlSafe(format!("SET search_path TO \"{}\"; {sql}", db.name)))
        .fetch_all(&mut db.conn)
        .await
        .unwrap()
}

async fn count(db: &mut TestSchema, table: &str) -> i64 {
    let r = rows(db, &format!("SELECT count(*)::int8 FROM {}", quote_ident(table))).await;
    r[0].get(0)
}

pub(super) fn failed(outcome: &crate::sink::WriteOutcome) -> Vec<usize> {
    outcome.failures.iter().map(|f| f.index).collect()
}

#[tokio::test]
async fn copy_creates_the_table_and_keeps_types() {
    let mut db = TestSchema::new("pg_sink_copy").await;
    let mut cfg = sink_config(&db.name, "events");
    cfg.write.create_table = true;
    let mut sink = opened(cfg, SCOPE).await;
    let batch = vec![
        json!({"id": 1, "name": "\\tab\there\r\nnew \\ line\t", "score": 2.5, "ok": true, "meta": {"k": [1, "x"]}}),
        json!({"id": 2, "name": null, "score": null, "ok": false, "meta": null, "big": 18446744073709551615u64}),
        // Beyond u64 and beyond a double: still `numeric`, every digit kept.
        serde_json::from_str(
            r#"{"id": 3, "big": 123456789012345678901234567890, "score": 0.48806805903541084}"#,
        )
        .unwrap(),
    ];
    let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
    assert_eq!((outcome.written, outcome.failures.len()), (3, 0));
    let types = rows(
        &mut db,
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'events' ORDER BY ordinal_position",
    )
    .await;
    let types: Vec<(String, String)> = types.iter().map(|r| (r.get(0), r.get(1))).collect();
    let expected = [
        ("id", "bigint"),
        ("name", "text"),
        ("score", "double precision"),
        ("ok", "boolean"),
        ("meta", "jsonb"),
        ("big", "numeric"),
    ];
    assert_eq!(types, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    let got =
        rows(&mut db, "SELECT id, name, score, ok, meta::text, big::text FROM events ORDER BY id").await;
    assert_eq!(got[0].get::<i64, _>(0), 1);
    assert_eq!(got[0].get::<String, _>(1), "\\tab\there\r\nnew \\ line\t");
    assert_eq!(got[0].get::<f64, _>(2), 2.5);
    assert!(got[0].get::<bool, _>(3));
    assert_eq!(got[0].get::<String, _>(4), r#"{"k": [1, "x"]}"#);
    assert_eq!(got[1].get::<Option<String>, _>(1), None);
    assert_eq!(got[1].get::<Option<String>, _>(4), None);
    assert_eq!(got[1].get::<String, _>(5), "18446744073709551615");
    assert_eq!(got[2].get::<String, _>(5), "123456789012345678901234567890");
    assert_eq!(got[2].get::<f64, _>(2), 0.48806805903541084);
    db.drop_now().await;
}

fn hundred_rows_with_two_bad() -> Vec<Value> {
    (0..100)
        .map(|i| match i {
            42 => json!({"id": 7, "v": "duplicate id"}),
            60 => json!({"id": "not a number", "v": "bad type"}),
            _ => json!({"id": i, "v": format!("row {i}")}),
        })
        .collect()
}

#[tokio::test]
async fn a_bad_row_fails_alone_under_copy_and_insert() {
    let mut db = TestSchema::new("pg_sink_isolation").await;
    db.exec("CREATE TABLE t (id BIGINT UNIQUE, v TEXT); CREATE TABLE u (id BIGINT UNIQUE, v TEXT)").await;
    for (table, method) in [("t", WriteMethod::Copy), ("u", WriteMethod::Insert)] {
        let mut cfg = sink_config(&db.name, table);
        cfg.write_method = method;
        let mut sink = opened(cfg, SCOPE).await;
        let outcome = sink.write_batch(&hundred_rows_with_two_bad(), token(1, 0)).await.unwrap();
        assert_eq!(outcome.written, 98, "{method:?}");
        assert_eq!(failed(&outcome), [42, 60], "{method:?}");
        assert!(outcome.failures[0].error.message().contains("23505"), "{}", outcome.failures[0].error);
        assert!(outcome.failures[1].error.message().contains("22P02"), "{}", outcome.failures[1].error);
        assert_eq!(count(&mut db, table).await, 98);
    }
    db.drop_now().await;
}

#[tokio::test]
async fn upsert_converges_deletes_by_marker_and_rejects_missing_keys() {
    let mut db = TestSchema::new("pg_sink_upsert").await;
    db.exec("CREATE TABLE kv (tenant TEXT, id INT, v TEXT, n INT DEFAULT 5, PRIMARY KEY (tenant, id))").await;
    let mut cfg = sink_config(&db.name, "kv");
    cfg.write.write_mode = WriteMode::Upsert;
    cfg.write_method = WriteMethod::Insert;
    cfg.write.key = vec!["tenant".into(), "id".into()];
    cfg.write.delete_marker = Some(DeleteMarker { field: "__op".into(), values: vec![json!("d")] });
    let mut sink = opened(cfg, SCOPE).await;
    let batch = vec![
        json!({"tenant": "a", "id": 1, "v": "one"}),
        json!({"tenant": "a", "id": 2, "v": "two"}),
        json!({"tenant": "a", "id": 1, "v": "one again"}), // same key in one batch: last wins
        json!({"tenant": "b", "id": 1, "v": "b1"}),
        json!({"id": 3, "v": "no tenant"}),
        json!({"tenant": "a", "id": null, "v": "null id"}),
    ];
    let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
    assert_eq!(failed(&outcome), [4, 5]);
    assert!(outcome.failures[0].error.message().contains("`tenant` is missing or null"));
    assert_eq!(outcome.written, 4);
    let batch = vec![
        json!({"tenant": "a", "id": 2, "v": "two v2"}),
        json!({"tenant": "b", "id": 1, "__op": "d"}),
        json!({"tenant": "c", "id": 9, "__op": "d"}), // deleting a missing row is fine
        json!({"tenant": "a", "id": 4, "v": "four", "n": 1}),
    ];
    let outcome = sink.write_batch(&batch, token(2, 0)).await.unwrap();
    assert_eq!((outcome.written, outcome.failures.len()), (4, 0));
    let got = rows(&mut db, "SELECT tenant, id, v, n FROM kv ORDER BY tenant, id").await;
    let got: Vec<(String, i32, String, i32)> =
        got.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
    let want = [("a", 1, "one again", 5), ("a", 2, "two v2", 5), ("a", 4, "four", 1)];
    assert_eq!(got, want.map(|(t, i, v, n)| (t.to_owned(), i, v.to_owned(), n)));
    db.drop_now().await;
}

#[tokio::test]
async fn binary_and_array_columns_take_what_the_sources_emit() {
    // Binary values travel as base64 and arrays as JSON arrays (the postgres and
    // postgres_cdc sources' mapping): both write paths turn them back.
    let mut db = TestSchema::new("pg_sink_bytea_arrays").await;
    let ddl = "(id INT PRIMARY KEY, b BYTEA, ints INT[], texts TEXT[], grid INT[][], docs JSONB[])";
    db.exec(&format!("CREATE TABLE by_copy {ddl}; CREATE TABLE by_upsert {ddl}")).await;
    let batch = vec![
        json!({"id": 1, "b": base64(&[0, 1, 0xff, b'\\']), "ints": [1, null, 3],
               "texts": ["a b", "q\"uote", "back\\slash", null, "NULL", "{x,y}"],
               "grid": [[1, 2], [3, 4]], "docs": [{"k": [1, "two"]}]}),
        json!({"id": 2, "b": "", "ints": [], "texts": [], "grid": [], "docs": []}),
    ];
    let want = vec![
        (
            1,
            "0001ff5c".to_owned(),
            "{1,NULL,3}".to_owned(),
            r#"{"a b","q\"uote","back\\slash",NULL,"NULL","{x,y}"}"#.to_owned(),
            "{{1,2},{3,4}}".to_owned(),
            r#"{"{\"k\": [1, \"two\"]}"}"#.to_owned(),
        ),
        (2, String::new(), "{}".to_owned(), "{}".to_owned(), "{}".to_owned(), "{}".to_owned()),
    ];
    for (table, upsert) in [("by_copy", false), ("by_upsert", true)] {
        let mut cfg = sink_config(&db.name, table);
        if upsert {
            cfg.write.write_mode = WriteMode::Upsert;
            cfg.write_method = WriteMethod::Insert;
            cfg.write.key = vec!["id".into()];
        }
        let mut sink = opened(cfg, &format!("{SCOPE}::{table}")).await;
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!((outcome.written, outcome.failures.len()), (2, 0), "{table}");
        let got = rows(
            &mut db,
            &format!(
                "SELECT id, encode(b, 'hex'), ints::text, texts::text, grid::text, docs::text FROM {table} ORDER BY id"
            ),
        )
        .await;
        let got: Vec<(i32, String, String, String, String, String)> =
            got.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))).collect();
        assert_eq!(got, want, "{table}");
    }
    db.drop_now().await;
}

#[tokio::test]
async fn delete_mode_removes_every_key() {
    let mut db = TestSchema::new("pg_sink_delete").await;
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10) g").await;
    let mut cfg = sink_config(&db.name, "t");
    cfg.write.write_mode = WriteMode::Delete;
    cfg.write_method = WriteMethod::Insert;
    cfg.write.key = vec!["id".into()];
    let mut sink = opened(cfg, SCOPE).await;
    let batch = vec![json!({"id": 2}), json!({"id": 4, "v": "ignored"}), json!({"id": "x"}), json!({"v": 1})];
    let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
    assert_eq!(failed(&outcome), [2, 3]);
    assert_eq!(outcome.written, 2);
    assert_eq!(count(&mut db, "t").await, 8);
    db.drop_now().await;
}

#[tokio::test]
async fn a_batch_committed_before_a_crash_is_skipped_with_its_failures() {
    let mut db = TestSchema::new("pg_sink_token").await;
    db.exec("CREATE TABLE t (id BIGINT UNIQUE, v TEXT)").await;
    let cfg = sink_config(&db.name, "t");
    let batch = hundred_rows_with_two_bad();
    let mut sink = opened(cfg.clone(), SCOPE).await;
    let first = sink.write_batch(&batch, token(1, 0)).await.unwrap();
    drop(sink); // crash before the bookmark
    let mut sink = opened(cfg.clone(), SCOPE).await;
    let again = sink.write_batch(&batch, token(1, 0)).await.unwrap();
    assert!(again.already_committed);
    assert_eq!(again.written, 0);
    assert_eq!(failed(&again), failed(&first));
    assert_eq!(again.failures[1].error, first.failures[1].error);
    assert_eq!(count(&mut db, "t").await, 98);
    // The next batch is written; another scope has its own token.
    let outcome = sink.write_batch(&[json!({"id": 1000})], token(1, 1)).await.unwrap();
    assert!(!outcome.already_committed && outcome.written == 1);
    let mut other = opened(cfg, "other::row-0::x").await;
    let outcome = other.write_batch(&[json!({"id": 2000})], token(1, 0)).await.unwrap();
    assert!(!outcome.already_committed && outcome.written == 1);
    assert_eq!(count(&mut db, "t").await, 100);
    db.drop_now().await;
}

#[tokio::test]
async fn jsonb_mapping_and_odd_identifiers() {
    let mut db = TestSchema::new("pg_sink_jsonb").await;
    let mut cfg = sink_config(&db.name, "we\"ird; DROP TABLE x");
    cfg.column_mapping = ColumnMapping::Json { column: "da\"ta".into() };
    cfg.write.create_table = true;
    let mut sink = opened(cfg, SCOPE).await;
    let batch = vec![json!({"b": 1, "a": {"x": [null, true]}}), json!({"s": "q\"uote\t"})];
    let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
    assert_eq!(outcome.written, 2);
    let got = rows(
        &mut db,
        r#"SELECT "da""ta"::text FROM "we""ird; DROP TABLE x" ORDER BY "da""ta"->>'s' NULLS FIRST"#,
    )
    .await;
    let got: Vec<Value> = got.iter().map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap()).collect();
    assert_eq!(got, batch);
    db.drop_now().await;
}

#[tokio::test]
async fn a_missing_table_and_a_bad_password_are_clear_errors() {
    let db = TestSchema::new("pg_sink_errors").await;
    let mut sink = PostgresSink::new(sink_config(&db.name, "nowhere"));
    let err = sink.open(OpenContext { scope: SCOPE, checkpoint: None }).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Sink);
    assert!(err.message().contains("does not exist") && err.message().contains("create_table"), "{err}");
    let mut cfg = sink_config(&db.name, "t");
    cfg.connection_url = "postgres://nobody:Sup3rSecretPw@127.0.0.1:1/postgres".into();
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("Sup3rSecretPw") && debug.contains("nobody:***@"), "{debug}");
    let err = PostgresSink::new(cfg).open(OpenContext { scope: SCOPE, checkpoint: None }).await.unwrap_err();
    assert!(!err.to_string().contains("Sup3rSecretPw"), "{err}");
    assert!(err.message().contains("127.0.0.1:1"), "{err}");
    db.drop_now().await;
}

#[tokio::test]
async fn a_password_in_the_query_is_hidden_from_debug_and_errors() {
    let db = TestSchema::new("pg_query_password").await;
    let secret = "QueryPw-Sup3r-7712";
    // The server trusts local connections: the password is sent and ignored, so the URL works.
    let url = format!("{URL}?sslmode=disable&password={secret}");
    let mut cfg = sink_config(&db.name, "t");
    cfg.connection_url = url.clone();
    cfg.write.create_table = true;
    let debug = format!("{cfg:?}");
    assert!(!debug.contains(secret) && debug.contains("sslmode=disable&password=***"), "{debug}");
    opened(cfg, SCOPE).await;
    let source = source_config(table(&db.name, "t"), None, 10);
    let source = PostgresSourceConfig { connection_url: url, ..source };
    assert!(!format!("{source:?}").contains(secret), "{source:?}");
    // Refused: the error names the address, not the password.
    let mut cfg = sink_config(&db.name, "t");
    cfg.connection_url = format!("postgres://nobody@127.0.0.1:1/postgres?password={secret}");
    let err = PostgresSink::new(cfg).open(OpenContext { scope: SCOPE, checkpoint: None }).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(secret) && err.message().contains("127.0.0.1:1"), "{err}");
    db.drop_now().await;
}

// ---- source ----

pub(super) fn source_config(input: SourceInput, key: Option<&str>, batch: usize) -> PostgresSourceConfig {
    PostgresSourceConfig {
        connection_url: URL.to_owned(),
        input,
        replication_key: key.map(str::to_owned),
        batch_size: batch,
    }
}

pub(super) fn table(schema: &str, name: &str) -> SourceInput {
    SourceInput::Table { schema: Some(schema.to_owned()), name: name.to_owned() }
}

async fn read_all(source: &mut PostgresSource) -> Vec<crate::page::Page> {
    let mut pages = Vec::new();
    while let Some(page) = source.next_page().await.unwrap() {
        pages.push(page);
    }
    pages
}

#[tokio::test]
async fn every_type_maps_faithfully() {
    let db = TestSchema::new("pg_source_types").await;
    let sql = r#"SELECT
        1::int2 AS i2, 2147483647::int4 AS i4, 9223372036854775807::int8 AS i8,
        12345678901234567890.000123::numeric AS num, 'NaN'::numeric AS num_nan,
        0.1::float4 AS f4, 1.5e300::float8 AS f8, 'NaN'::float8 AS f_nan, 'Infinity'::float8 AS f_inf,
        true AS b, 'héllo'::text AS t, 'v'::varchar(3) AS vc, 'c'::char(3) AS ch,
        '{"a": [1, {"b": null}]}'::json AS j, '{"z": 1, "a": 2.5}'::jsonb AS jb,
        '2024-02-29 23:59:59.123456+05'::timestamptz AS tstz, '2024-01-02 03:04:05'::timestamp AS ts,
        '2024-01-02'::date AS d, '13:14:15.5'::time AS tm,
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '\xdeadbeef00'::bytea AS by,
        ARRAY[1, NULL, 3]::int4[] AS ai, ARRAY['x', NULL]::text[] AS at, ARRAY[1.10, 2]::numeric[] AS an,
        ARRAY[1.5, 'NaN']::float8[] AS af, ARRAY[[1, 2], [3, 4]]::int8[] AS a2, ARRAY['\x01ff'::bytea] AS ab,
        '1 day 2 hours'::interval AS iv, '192.168.0.1/24'::inet AS ip,
        NULL::int4 AS n_int, NULL::text AS n_text, NULL::jsonb AS n_json"#;
    let input = SourceInput::Query { sql: sql.to_owned(), params: Vec::new() };
    let mut source = PostgresSource::new(source_config(input, None, 10));
    source.resume(None).await.unwrap();
    let pages = read_all(&mut source).await;
    assert_eq!(pages.len(), 1);
    let got = &pages[0].records[0];
    let want = json!({
        "i2": 1, "i4": 2147483647, "i8": 9223372036854775807i64,
        "num": "12345678901234567890.000123", "num_nan": null,
        "f4": 0.1, "f8": 1.5e300, "f_nan": null, "f_inf": null,
        "b": true, "t": "héllo", "vc": "v", "ch": "c",
        "j": {"a": [1, {"b": null}]}, "jb": {"a": 2.5, "z": 1},
        "tstz": "2024-02-29T18:59:59.123456+00:00", "ts": "2024-01-02T03:04:05",
        "d": "2024-01-02", "tm": "13:14:15.5",
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "by": "3q2+7wA=",
        "ai": [1, null, 3], "at": ["x", null], "an": ["1.10", "2"],
        "af": [1.5, null], "a2": [[1, 2], [3, 4]], "ab": ["Af8="],
        "iv": "P1DT2H", "ip": "192.168.0.1/24",
        "n_int": null, "n_text": null, "n_json": null
    });
    for (key, value) in want.as_object().unwrap() {
        assert_eq!(&got[key], value, "column {key}");
    }
    assert_eq!(got.as_object().unwrap().len(), want.as_object().unwrap().len());
    db.drop_now().await;
}

#[tokio::test]
async fn recycled_records_are_refilled_with_the_same_result() {
    let db = TestSchema::new("pg_source_recycle").await;
    let sql = "SELECT i AS id, CASE WHEN i % 4 = 0 THEN NULL ELSE 'name ' || i END AS name, \
               (i * 1.25)::numeric AS num, CASE WHEN i % 5 = 0 THEN 'NaN'::numeric ELSE i END AS maybe_nan, \
               jsonb_build_object('k', i) AS meta, i % 2 = 0 AS even, 'x' AS c1, 'y' AS c2 \
               FROM generate_series(1, 40) AS i ORDER BY i";
    let input = SourceInput::Query { sql: sql.to_owned(), params: Vec::new() };
    let config = source_config(input, None, 6);
    let mut source = PostgresSource::new(config.clone());
    source.resume(None).await.unwrap();
    let fresh: Vec<Value> = read_all(&mut source).await.into_iter().flat_map(|p| p.records).collect();
    assert_eq!(fresh.len(), 40);

    let mut source = PostgresSource::new(config);
    source.resume(None).await.unwrap();
    let mut recycled = Vec::new();
    let mut round = 0;
    while let Some(page) = source.next_page().await.unwrap() {
        recycled.extend(page.records.iter().cloned());
        // Hand back the maps as they came, with a key renamed (as a transform
        // would), of another shape, and not maps at all, in turn.
        let spent = match round % 4 {
            0 => page.records,
            1 => page
                .records
                .into_iter()
                .map(|r| {
                    let mut map = r.as_object().unwrap().clone();
                    let name = map.shift_remove("name").unwrap();
                    map.shift_insert(1, "Name".into(), name);
                    Value::Object(map)
                })
                .collect(),
            2 => page.records.into_iter().map(|_| json!({"other": "shape"})).collect(),
            _ => page.records.into_iter().map(|_| json!("not a map")).collect(),
        };
        source.recycle(spent);
        round += 1;
    }
    assert_eq!(recycled, fresh);
    let keys: Vec<&str> = recycled[7].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "name", "num", "maybe_nan", "meta", "even", "c1", "c2"]);
    db.drop_now().await;
}

#[tokio::test]
async fn a_table_pages_in_primary_key_order_and_resumes_by_offset() {
    let mut db = TestSchema::new("pg_source_pages").await;
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t SELECT g, 'v' || g FROM generate_series(2500, 1, -1) g").await;
    let mut source = PostgresSource::new(source_config(table(&db.name, "t"), None, 1000));
    source.resume(None).await.unwrap();
    let pages = read_all(&mut source).await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.records.len()).collect();
    assert_eq!(sizes, [1000, 1000, 500]);
    let ids: Vec<i64> = pages.iter().flat_map(|p| &p.records).map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=2500).collect::<Vec<_>>());
    assert_eq!(pages[0].bookmark, Some(json!({"offset": 1000})));
    // Resume after the first page.
    let mut source = PostgresSource::new(source_config(table(&db.name, "t"), None, 1000));
    source.resume(pages[0].bookmark.clone()).await.unwrap();
    let rest = read_all(&mut source).await;
    assert_eq!(rest[0].records[0]["id"], json!(1001));
    assert_eq!(rest.iter().map(|p| p.records.len()).sum::<usize>(), 1500);
    db.drop_now().await;
}

#[tokio::test]
async fn a_query_binds_its_params() {
    let mut db = TestSchema::new("pg_source_params").await;
    db.exec("CREATE TABLE t (id INT, tag TEXT, at TIMESTAMPTZ); INSERT INTO t SELECT g, CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END, '2024-01-01'::timestamptz + g * interval '1 day' FROM generate_series(1, 20) g").await;
    let sql = format!(
        "SELECT id FROM \"{}\".t WHERE id > $1 AND tag = $2 AND at < $3::timestamptz ORDER BY id;",
        db.name
    );
    let input = SourceInput::Query { sql, params: vec![json!(4), json!("even"), json!("2024-01-15")] };
    let mut source = PostgresSource::new(source_config(input, None, 3));
    source.resume(None).await.unwrap();
    let pages = read_all(&mut source).await;
    let ids: Vec<i64> = pages.iter().flat_map(|p| &p.records).map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [6, 8, 10, 12]);
    assert_eq!(pages.len(), 2);
    db.drop_now().await;
}

/// Reads pages from `bookmark` on, returning (ids per page, bookmark per page).
async fn incremental(cfg: &PostgresSourceConfig, bookmark: Option<Value>) -> Vec<(Vec<i64>, Value)> {
    let mut source = PostgresSource::new(cfg.clone());
    source.resume(bookmark).await.unwrap();
    read_all(&mut source)
        .await
        .into_iter()
        .map(|p| (p.records.iter().map(|r| r["id"].as_i64().unwrap()).collect(), p.bookmark.unwrap()))
        .collect()
}

#[tokio::test]
async fn replication_key_pages_never_split_equal_keys() {
    let mut db = TestSchema::new("pg_source_ties").await;
    // Keys: 1..=3 once each, then 4 five times (straddling the boundary at 5),
    // then 5 twelve times (longer than a page), then 6, 7.
    db.exec(
        "CREATE TABLE t (id SERIAL PRIMARY KEY, k NUMERIC); \
         INSERT INTO t (k) SELECT unnest(ARRAY[1,2,3,4,4,4,4,4,5,5,5,5,5,5,5,5,5,5,5,5,6,7]); \
         INSERT INTO t (k) VALUES (NULL)",
    )
    .await;
    let cfg = source_config(table(&db.name, "t"), Some("k"), 5);
    let pages = incremental(&cfg, None).await;
    let keys = |ids: &[i64]| {
        ids.iter()
            .map(|&i| [1, 2, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7][i as usize - 1])
            .collect::<Vec<_>>()
    };
    let page_keys: Vec<Vec<i32>> = pages.iter().map(|(ids, _)| keys(ids)).collect();
    assert_eq!(
        page_keys,
        vec![vec![1, 2, 3], vec![4, 4, 4, 4, 4], vec![5; 12], vec![6, 7]],
        "a page is cut back to the last key change, or extended over a run longer than a page"
    );
    let mut all: Vec<i64> = pages.iter().flat_map(|(ids, _)| ids.clone()).collect();
    all.sort_unstable();
    assert_eq!(all, (1..=22).collect::<Vec<_>>(), "every non-null row once");
    assert_eq!(pages[1].1, json!({"replication_key": "k", "after": "4"}));

    // Resuming after any page reads exactly the pages that followed it.
    for i in 0..pages.len() {
        let rest = incremental(&cfg, Some(pages[i].1.clone())).await;
        assert_eq!(rest, pages[i + 1..].to_vec(), "resumed after page {i}");
    }
    // A later run reads only newer keys.
    db.exec("INSERT INTO t (k) VALUES (7.5), (8)").await;
    let later = incremental(&cfg, Some(pages.last().unwrap().1.clone())).await;
    assert_eq!(later.iter().map(|(ids, _)| ids.len()).sum::<usize>(), 2);
    assert_eq!(later.last().unwrap().1, json!({"replication_key": "k", "after": "8"}));
    // A bookmark of another key is refused.
    let mut source = PostgresSource::new(source_config(table(&db.name, "t"), Some("id"), 5));
    let err = source.resume(Some(pages[0].1.clone())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    db.drop_now().await;
}

#[tokio::test]
async fn a_timestamp_replication_key_round_trips_through_the_bookmark() {
    let mut db = TestSchema::new("pg_source_ts").await;
    db.exec("CREATE TABLE t (id INT, at TIMESTAMPTZ); INSERT INTO t SELECT g, '2024-01-01T00:00:00.000001Z'::timestamptz + g * interval '1 microsecond' FROM generate_series(1, 10) g").await;
    let cfg = source_config(table(&db.name, "t"), Some("at"), 4);
    let pages = incremental(&cfg, None).await;
    assert_eq!(pages.iter().map(|(ids, _)| ids.len()).collect::<Vec<_>>(), [4, 4, 2]);
    let rest = incremental(&cfg, Some(pages[0].1.clone())).await;
    assert_eq!(rest, pages[1..].to_vec());
    db.drop_now().await;
}

/// Small COPY batches do not wait for delayed ACKs: with Nagle's algorithm on
/// (no `TCP_NODELAY`), `CopyDone` is held back until the server's delayed ACK,
/// about 40 ms per batch on Linux. sqlx ≥ 0.9.1 sets `TCP_NODELAY` itself.
#[tokio::test]
async fn small_copy_batches_are_not_delayed_by_nagle() {
    let mut db = TestSchema::new("pg_sink_nodelay").await;
    let mut cfg = sink_config(&db.name, "ticks");
    cfg.write.create_table = true;
    let mut sink = opened(cfg, SCOPE).await;
    sink.write_batch(&[json!({"id": 0, "note": "warm-up"})], token(1, 0)).await.unwrap();
    let batches = 40;
    let started = std::time::Instant::now();
    for seq in 2..2 + batches {
        sink.write_batch(&[json!({"id": seq, "note": "x"})], token(seq, 0)).await.unwrap();
    }
    let took = started.elapsed();
    assert_eq!(count(&mut db, "ticks").await, batches as i64 + 1);
    // With Nagle on this takes at least 40 × 40 ms = 1.6 s.
    assert!(took < std::time::Duration::from_millis(800), "{batches} one-row COPY batches took {took:?}");
}

/// Keys that cannot be columns (a NUL, over 63 bytes, which PostgreSQL would
/// truncate silently) fail their row, not the run; `Name` beside `name` is fine
/// (quoted names compare exactly).
#[tokio::test]
async fn create_table_dead_letters_rows_whose_keys_cannot_be_columns() {
    let mut db = TestSchema::new("pg_sink_bad_keys").await;
    let mut cfg = sink_config(&db.name, "made");
    cfg.write.create_table = true;
    let mut sink = opened(cfg, SCOPE).await;
    let long = "k".repeat(70);
    let batch = vec![
        json!({"id": 1, "name": "a"}),
        json!({"id": 2, "a\u{0}b": 1}),
        json!({"id": 3, "Name": "c"}),
        json!({"id": 4, long.as_str(): 1}),
    ];
    let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
    let failures: Vec<(usize, String)> =
        outcome.failures.iter().map(|f| (f.index, f.error.message().to_owned())).collect();
    let table = format!("\"{}\".\"made\"", db.name);
    assert_eq!(
        failures,
        [
            (1, format!("key \"a\\0b\" cannot name a column of {table}: it contains a NUL character")),
            (
                3,
                format!(
                    "key \"{long}\" cannot name a column of {table}: it is 70 bytes long, longer than the 63 PostgreSQL allows"
                )
            ),
        ]
    );
    assert_eq!(outcome.written, 2);
    let got = rows(
        &mut db,
        "SELECT id::text || '|' || coalesce(name, '') || '|' || coalesce(\"Name\", '') FROM made ORDER BY id",
    )
    .await;
    let got: Vec<String> = got.iter().map(|r| r.get(0)).collect();
    assert_eq!(got, ["1|a|", "3||c"]);
}

/// A NUL in a key (which jsonb cannot hold) fails that row, by COPY or INSERT.
#[tokio::test]
async fn a_nul_in_a_key_fails_its_row_in_a_jsonb_column() {
    let mut db = TestSchema::new("pg_sink_nul_key").await;
    rows(&mut db, "CREATE TABLE docs (data jsonb)").await;
    for method in [WriteMethod::Copy, WriteMethod::Insert] {
        let mut cfg = sink_config(&db.name, "docs");
        cfg.column_mapping = ColumnMapping::Json { column: "data".into() };
        cfg.write_method = method;
        let mut sink = opened(cfg, &format!("{SCOPE}::{method:?}")).await;
        let batch = vec![json!({"id": 1}), json!({"a\u{0}b": 2}), json!({"id": 3})];
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!(failed(&outcome), [1], "{method:?}");
        assert_eq!(outcome.written, 2, "{method:?}");
    }
    assert_eq!(count(&mut db, "docs").await, 4);
}

/// A key that first appears in the second batch: with `create_table` its
/// column is added (typed as `create_table` types it) in the batch's
/// transaction and its values land; without, the row is dead-lettered naming
/// the key; with `unmapped_fields: drop` the key is dropped.
#[tokio::test]
async fn a_key_first_seen_in_the_second_batch_is_added_dead_lettered_or_dropped() {
    let mut db = TestSchema::new("pg_sink_late_key").await;
    let first = [json!({"id": 1, "v": "a"})];
    let second = [json!({"id": 2, "v": "b", "late": 2.5, "tags": ["x"]}), json!({"id": 3, "v": "c"})];

    let mut cfg = sink_config(&db.name, "late_add");
    cfg.write.create_table = true;
    cfg.write.unmapped_fields = UnmappedFields::AddColumn;
    let mut sink = opened(cfg.clone(), SCOPE).await;
    sink.write_batch(&first, token(1, 0)).await.unwrap();
    let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
    assert_eq!((outcome.written, outcome.failures.len()), (2, 0));
    let got = rows(
        &mut db,
        "SELECT id::text || '|' || coalesce(late::text, '-') || '|' || coalesce(tags::text, '-') || '|' \
         || pg_typeof(late)::text FROM late_add ORDER BY id",
    )
    .await;
    let got: Vec<String> = got.iter().map(|r| r.get(0)).collect();
    assert_eq!(got, ["1|-|-|double precision", "2|2.5|[\"x\"]|double precision", "3|-|-|double precision"]);
    // A rerun of the committed batch writes nothing again.
    drop(sink);
    let mut sink = opened(cfg, SCOPE).await;
    assert!(sink.write_batch(&second, token(2, 0)).await.unwrap().already_committed);
    assert_eq!(count(&mut db, "late_add").await, 3);

    // The default without create_table: the row goes to the DLQ naming the key.
    rows(&mut db, "CREATE TABLE late_dlq (id BIGINT, v TEXT)").await;
    let mut sink = opened(sink_config(&db.name, "late_dlq"), SCOPE).await;
    sink.write_batch(&first, token(1, 0)).await.unwrap();
    let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
    assert_eq!((outcome.written, failed(&outcome)), (1, vec![0]));
    let message = outcome.failures[0].error.message();
    let table = format!("\"{}\".\"late_dlq\"", db.name);
    assert!(
        message.starts_with(&format!("record key \"late\" names no column of table {table}")),
        "{message}"
    );
    assert_eq!(count(&mut db, "late_dlq").await, 2);

    // unmapped_fields: drop writes the row without the key.
    let mut cfg = sink_config(&db.name, "late_drop");
    cfg.write.create_table = true;
    cfg.write.unmapped_fields = UnmappedFields::Drop;
    let mut sink = opened(cfg, SCOPE).await;
    sink.write_batch(&first, token(1, 0)).await.unwrap();
    let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
    assert_eq!((outcome.written, outcome.failures.len()), (2, 0));
    assert_eq!(count(&mut db, "late_drop").await, 3);
    let columns = rows(
        &mut db,
        "SELECT string_agg(column_name::text, ',' ORDER BY ordinal_position) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'late_drop'",
    )
    .await;
    assert_eq!(columns[0].get::<String, _>(0), "id,v");
}

//! Tables created from a known schema (issue 17): a MariaDB table with
//! DECIMAL, DATETIME, TIMESTAMP, DATE, TIME, JSON, BLOB and BIGINT columns,
//! nullable and not, is read by the `mysql` source and written by each table
//! sink with `create_table` and the declared columns (what a generated
//! pipeline passes from its `SCHEMA`). Each created column has the field's
//! type, and every value arrives exactly: decimals digit for digit,
//! timestamps to the microsecond, JSON as JSON, bytes as bytes.
//!
//! Servers: MariaDB and PostgreSQL on 127.0.0.1; each test uses its own
//! database or schema, dropped at the end.

#![cfg(feature = "mysql")]

use faucet_runtime::connectors::sql::mysql::{MySqlSource, MySqlSourceConfig, SourceInput};
use faucet_runtime::schema::{Field, FieldType};
use faucet_runtime::{CommitToken, OpenContext, Sink, Source, Writes};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, Row};

const MARIADB: &str = "mysql://root@127.0.0.1:3306";

/// The source table's columns as the build would know them (introspected).
const FIELDS: &[Field] = &[
    field("id", FieldType::Integer, false),
    field("amount", FieldType::Decimal { precision: Some(12), scale: Some(2) }, false),
    field("wide", FieldType::Decimal { precision: Some(40), scale: Some(12) }, true),
    field("happened", FieldType::Timestamp { time_zone: false }, false),
    field("stamped", FieldType::Timestamp { time_zone: true }, true),
    field("day", FieldType::Date, true),
    field("at", FieldType::Time, true),
    field("doc", FieldType::Json, true),
    field("bytes", FieldType::Binary, true),
    field("flag", FieldType::Boolean, true),
    field("note", FieldType::String, true),
];

const fn field(name: &'static str, ty: FieldType, nullable: bool) -> Field {
    Field { name, ty, nullable, required: true }
}

const SOURCE_TABLE: &str = "CREATE TABLE src (id BIGINT NOT NULL PRIMARY KEY, amount DECIMAL(12, 2) NOT NULL, \
    wide DECIMAL(40, 12) NULL, happened DATETIME(6) NOT NULL, stamped TIMESTAMP(6) NULL, day DATE NULL, \
    at TIME(6) NULL, doc JSON NULL, bytes BLOB NULL, flag BOOLEAN NULL, note VARCHAR(40) NULL); \
    INSERT INTO src VALUES \
    (1, 1234567890.12, 1234567890123456789012345678.123456789012, '2024-05-01 10:20:30.123456', \
     '2024-05-01 10:20:30.654321', '2024-02-29', '23:59:59.999999', \
     '{\"a\": [1, null, 2.50], \"big\": 123456789012345678901234567890, \"s\": \"ü\\\\\"q\"}', \
     x'00ff10', TRUE, 'first'), \
    (2, -0.10, -0.000000000001, '1999-12-31 23:59:59.000001', '2038-01-19 03:14:07', '0001-01-01', \
     '00:00:00', '\"just a string\"', x'', FALSE, ''), \
    (3, 0.00, NULL, '2024-01-01 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
    (4, 99.99, 0, '2024-06-30 12:00:00.5', '1970-01-01 00:00:01', '9999-12-31', '12:34:56.000100', \
     '[1, {\"x\": {}}, []]', x'deadbeef', NULL, 'last');";

/// A MariaDB database holding the source table, dropped by [`MariaDb::drop`].
struct MariaDb {
    name: String,
    conn: MySqlConnection,
}

impl MariaDb {
    async fn new(prefix: &str) -> MariaDb {
        let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
        let mut conn = MySqlConnection::connect(MARIADB).await.expect("MariaDB on 3306");
        // UTC, as the source and sink sessions: TIMESTAMP values render the same.
        let setup =
            format!("SET time_zone = '+00:00'; CREATE DATABASE `{name}`; USE `{name}`; {SOURCE_TABLE}");
        sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut conn).await.unwrap();
        MariaDb { name, conn }
    }

    fn url(&self) -> String {
        format!("{MARIADB}/{}", self.name)
    }

    /// The source table's records, as the `mysql` source reads them.
    async fn records(&self) -> Vec<Value> {
        let mut source = MySqlSource::new(MySqlSourceConfig {
            connection_url: self.url(),
            input: SourceInput::Table { schema: None, name: "src".into() },
            replication_key: None,
            batch_size: 100,
        });
        source.resume(None).await.unwrap();
        let mut records = Vec::new();
        while let Some(page) = source.next_page().await.unwrap() {
            records.extend(page.records);
        }
        assert_eq!(records.len(), 4);
        records
    }

    /// Each row of `sql`'s first column, as text.
    async fn strings(&mut self, sql: &str) -> Vec<String> {
        let sql = format!("USE `{}`; {sql}", self.name);
        let rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut self.conn).await.unwrap();
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    }

    async fn drop(mut self) {
        let sql = format!("DROP DATABASE `{}`", self.name);
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.unwrap();
    }
}

async fn write(sink: &mut impl Writes, records: &[Value]) {
    sink.open(OpenContext { scope: "typed::row-0::lineage", checkpoint: None }).await.unwrap();
    let outcome = sink.write_batch(records, CommitToken { seq: 1, part: 0 }).await.unwrap();
    if let Some(failure) = outcome.failures.first() {
        panic!("row {} rejected: {}", failure.index, failure.error);
    }
    assert_eq!(outcome.written, records.len() as u64);
}

#[tokio::test]
async fn mariadb_json_columns_of_a_table_are_read_as_json() {
    let db = MariaDb::new("faucet_typed_json").await;
    let records = db.records().await;
    // Exact: `2.50` keeps its text, the big integer every digit.
    assert_eq!(records[0]["doc"]["a"].to_string(), "[1,null,2.50]");
    assert_eq!(records[0]["doc"]["big"].to_string(), "123456789012345678901234567890");
    assert_eq!(records[0]["doc"]["s"], json!("ü\"q"));
    assert_eq!(records[1]["doc"], json!("just a string"));
    assert_eq!(records[2]["doc"], Value::Null);
    assert_eq!(records[3]["doc"], json!([1, {"x": {}}, []]));
    // The other columns keep their documented forms.
    assert_eq!(records[0]["amount"], json!("1234567890.12"));
    assert_eq!(records[0]["happened"], json!("2024-05-01T10:20:30.123456"));
    assert_eq!(records[0]["stamped"], json!("2024-05-01T10:20:30.654321+00:00"));
    assert_eq!(records[0]["bytes"], json!("AP8Q"));
    db.drop().await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn mariadb_to_postgres_creates_typed_columns_and_keeps_every_value() {
    use faucet_runtime::connectors::sql::postgres::{
        ColumnMapping, PostgresSink, PostgresSinkConfig, TableWrite, UnmappedFields, WriteMethod, WriteMode,
    };
    use sqlx::PgConnection;

    let mut my = MariaDb::new("faucet_typed_pg").await;
    let records = my.records().await;
    let schema = my.name.clone();
    let mut pg = PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await.unwrap();
    // COPY (append) and INSERT (upsert) bind values differently: both must keep them.
    for (table, method, mode, key) in [
        ("by_copy", WriteMethod::Copy, WriteMode::Append, vec![]),
        ("by_insert", WriteMethod::Insert, WriteMode::Upsert, vec!["id".to_owned()]),
    ] {
        let mut sink = PostgresSink::new(PostgresSinkConfig {
            connection_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            schema: Some(schema.clone()),
            table_name: table.into(),
            column_mapping: ColumnMapping::AutoMap,
            write: TableWrite {
                create_table: true,
                unmapped_fields: UnmappedFields::AddColumn,
                batch_size: 1000,
                write_mode: mode,
                key,
                delete_marker: None,
                columns: Some(FIELDS),
            },
            write_method: method,
        });
        write(&mut sink, &records).await;

        let types: Vec<String> = sqlx::query_scalar(
            "SELECT concat_ws(' ', column_name, format_type(a.atttypid, a.atttypmod), \
               CASE WHEN a.attnotnull THEN 'not null' END) \
             FROM information_schema.columns c JOIN pg_attribute a \
               ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name \
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        )
        .bind(&schema)
        .bind(table)
        .fetch_all(&mut pg)
        .await
        .unwrap();
        assert_eq!(
            types,
            [
                "id bigint not null",
                "amount numeric(12,2) not null",
                "wide numeric(40,12)",
                "happened timestamp without time zone not null",
                "stamped timestamp with time zone",
                "day date",
                "at time without time zone",
                "doc jsonb",
                "bytes bytea",
                "flag boolean",
                "note text",
            ],
            "{table}"
        );

        // Every value, rendered the same way by both servers.
        let mariadb = my
            .strings(
                "SELECT CAST(CONCAT_WS('|', id, amount, IFNULL(wide, '-'), \
                   DATE_FORMAT(happened, '%Y-%m-%d %H:%i:%s.%f'), \
                   IFNULL(DATE_FORMAT(stamped, '%Y-%m-%d %H:%i:%s.%f'), '-'), IFNULL(day, '-'), \
                   IFNULL(TIME_FORMAT(at, '%H:%i:%s.%f'), '-'), IFNULL(HEX(bytes), '-'), IFNULL(flag, '-'), \
                   IFNULL(note, '-')) AS CHAR) FROM src ORDER BY id",
            )
            .await;
        let sql = format!(
            "SELECT concat_ws('|', id, amount, coalesce(wide::text, '-'), \
               to_char(happened, 'YYYY-MM-DD HH24:MI:SS.US'), \
               coalesce(to_char(stamped AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '-'), \
               coalesce(to_char(day, 'YYYY-MM-DD'), '-'), coalesce(to_char(at, 'HH24:MI:SS.US'), '-'), \
               coalesce(upper(encode(bytes, 'hex')), '-'), coalesce(flag::int::text, '-'), coalesce(note, '-')) \
             FROM \"{schema}\".{table} ORDER BY id"
        );
        let postgres: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&mut pg).await.unwrap();
        assert_eq!(postgres, mariadb, "{table}");

        // JSON: each document equal as jsonb to MariaDB's text.
        let docs = my.strings("SELECT IFNULL(doc, 'null') FROM src ORDER BY id").await;
        let sql =
            format!("SELECT doc IS NOT DISTINCT FROM $1::jsonb FROM \"{schema}\".{table} WHERE id = $2");
        for (id, doc) in (1..).zip(&docs) {
            let expected = if doc == "null" { None } else { Some(doc.as_str()) };
            let same: bool = sqlx::query_scalar(AssertSqlSafe(sql.clone()))
                .bind(expected)
                .bind(id as i64)
                .fetch_one(&mut pg)
                .await
                .unwrap();
            assert!(same, "{table}: doc of row {id} differs from {doc}");
        }
        // The JSON string stays a string, the big number every digit.
        let sql = format!(
            "SELECT jsonb_typeof(doc) || ' ' || coalesce(doc->>'big', '-') FROM \"{schema}\".{table} WHERE id IN (1, 2) ORDER BY id"
        );
        let kinds: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&mut pg).await.unwrap();
        assert_eq!(kinds, ["object 123456789012345678901234567890", "string -"]);
    }

    // A NOT NULL column refuses a record without its value: that row fails alone.
    let mut sink = PostgresSink::new(PostgresSinkConfig {
        connection_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
        schema: Some(schema.clone()),
        table_name: "by_copy".into(),
        column_mapping: ColumnMapping::AutoMap,
        write: TableWrite {
            create_table: true,
            unmapped_fields: UnmappedFields::AddColumn,
            batch_size: 1000,
            write_mode: WriteMode::Append,
            key: Vec::new(),
            delete_marker: None,
            columns: Some(FIELDS),
        },
        write_method: WriteMethod::Copy,
    });
    sink.open(OpenContext { scope: "typed::row-1::lineage", checkpoint: None }).await.unwrap();
    let batch = [
        json!({"id": 5, "amount": "1.00", "happened": "2024-01-01T00:00:00"}),
        json!({"id": 6, "amount": null, "happened": "2024-01-01T00:00:00"}),
    ];
    let outcome = sink.write_batch(&batch, CommitToken { seq: 1, part: 0 }).await.unwrap();
    assert_eq!(outcome.written, 1);
    assert_eq!(outcome.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [1]);
    assert!(outcome.failures[0].error.message().contains("amount"), "{}", outcome.failures[0].error);

    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).execute(&mut pg).await.unwrap();
    my.drop().await;
}

#[tokio::test]
async fn mariadb_to_mysql_creates_typed_columns_and_keeps_every_value() {
    use faucet_runtime::connectors::sql::mysql::{
        ColumnMapping, MySqlSink, MySqlSinkConfig, TableWrite, UnmappedFields, WriteMode,
    };

    let mut my = MariaDb::new("faucet_typed_my").await;
    let records = my.records().await;
    let mut sink = MySqlSink::new(MySqlSinkConfig {
        connection_url: my.url(),
        schema: None,
        table_name: "dst".into(),
        column_mapping: ColumnMapping::AutoMap,
        write: TableWrite {
            create_table: true,
            unmapped_fields: UnmappedFields::AddColumn,
            batch_size: 1000,
            write_mode: WriteMode::Upsert,
            key: vec!["id".into()],
            delete_marker: None,
            columns: Some(FIELDS),
        },
    });
    write(&mut sink, &records).await;

    let types = my
        .strings(
            "SELECT CAST(CONCAT_WS(' ', COLUMN_NAME, COLUMN_TYPE, IF(IS_NULLABLE = 'NO', 'not null', NULL)) AS CHAR) \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'dst' \
             ORDER BY ORDINAL_POSITION",
        )
        .await;
    assert_eq!(
        types,
        [
            "id bigint(20) not null",
            "amount decimal(12,2) not null",
            "wide decimal(40,12)",
            "happened datetime(6) not null",
            "stamped timestamp(6)",
            "day date",
            "at time(6)",
            "doc longtext",
            "bytes longblob",
            "flag tinyint(1)",
            "note longtext",
        ]
    );
    // MariaDB's JSON: a LONGTEXT checked by json_valid.
    let checks = my
        .strings(
            "SELECT CAST(CHECK_CLAUSE AS CHAR) FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'dst'",
        )
        .await;
    assert_eq!(checks, ["json_valid(`doc`)"]);

    // Every value equal (`<=>`: NULL equals NULL), JSON as JSON.
    let differing = my
        .strings(
            "SELECT CAST(COUNT(*) AS CHAR) FROM src JOIN dst USING (id) WHERE NOT (src.amount <=> dst.amount \
               AND src.wide <=> dst.wide AND src.happened <=> dst.happened AND src.stamped <=> dst.stamped \
               AND src.day <=> dst.day AND src.at <=> dst.at AND src.bytes <=> dst.bytes AND src.flag <=> dst.flag \
               AND src.note <=> dst.note AND IFNULL(JSON_EQUALS(src.doc, dst.doc), src.doc IS NULL AND dst.doc IS NULL))",
        )
        .await;
    assert_eq!(differing, ["0"]);
    assert_eq!(my.strings("SELECT CAST(COUNT(*) AS CHAR) FROM dst").await, ["4"]);
    my.drop().await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn mariadb_to_sqlite_creates_typed_columns_and_keeps_every_value() {
    use faucet_runtime::connectors::sql::sqlite::{
        ColumnMapping, SqliteSink, SqliteSinkConfig, TableWrite, UnmappedFields, WriteMode,
    };
    use sqlx::SqliteConnection;

    let my = MariaDb::new("faucet_typed_lite").await;
    let records = my.records().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("typed.db").display());
    let mut sink = SqliteSink::new(SqliteSinkConfig {
        database_url: url.clone(),
        table_name: "dst".into(),
        column_mapping: ColumnMapping::AutoMap,
        write: TableWrite {
            create_table: true,
            unmapped_fields: UnmappedFields::AddColumn,
            batch_size: 1000,
            write_mode: WriteMode::Append,
            key: Vec::new(),
            delete_marker: None,
            columns: Some(FIELDS),
        },
    });
    write(&mut sink, &records).await;

    let mut lite = SqliteConnection::connect(&url).await.unwrap();
    let types: Vec<String> = sqlx::query_scalar(
        "SELECT name || ' ' || type || CASE WHEN \"notnull\" THEN ' not null' ELSE '' END \
         FROM pragma_table_info('dst') ORDER BY cid",
    )
    .fetch_all(&mut lite)
    .await
    .unwrap();
    assert_eq!(
        types,
        [
            "id INTEGER not null",
            "amount NUMERIC not null",
            "wide TEXT",
            "happened TEXT not null",
            "stamped TEXT",
            "day TEXT",
            "at TEXT",
            "doc TEXT",
            "bytes BLOB",
            "flag BOOLEAN",
            "note TEXT",
        ]
    );
    let rows = sqlx::query(
        "SELECT id, CAST(amount AS REAL), typeof(amount), wide, happened, stamped, day, at, doc, bytes, flag, note FROM dst ORDER BY id",
    )
    .fetch_all(&mut lite)
    .await
    .unwrap();
    assert_eq!(rows.len(), 4);
    for (row, record) in rows.iter().zip(&records) {
        let id: i64 = row.get(0);
        assert_eq!(json!(id), record["id"]);
        // NUMERIC: the decimal's value as a number (at most 15 digits: exact).
        let amount: f64 = row.get(1);
        assert_eq!(amount, record["amount"].as_str().unwrap().parse::<f64>().unwrap(), "row {id}");
        assert_eq!(row.get::<String, _>(2), if id == 3 { "integer" } else { "real" }, "row {id}");
        // A decimal wider than 15 digits stays text, digit for digit.
        assert_eq!(row.get::<Option<String>, _>(3).map(Value::from).unwrap_or(Value::Null), record["wide"]);
        for (i, name) in [(4, "happened"), (5, "stamped"), (6, "day"), (7, "at"), (11, "note")] {
            let text: Option<String> = row.get(i);
            assert_eq!(text.map(Value::from).unwrap_or(Value::Null), record[name], "row {id} {name}");
        }
        let doc: Option<String> = row.get(8);
        assert_eq!(doc.map(|d| serde_json::from_str(&d).unwrap()).unwrap_or(Value::Null), record["doc"]);
        use base64::Engine as _;
        let bytes: Option<Vec<u8>> = row.get(9);
        let want =
            record["bytes"].as_str().map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap());
        assert_eq!(bytes, want, "row {id}");
        let flag: Option<bool> = row.get(10);
        assert_eq!(flag.map(Value::from).unwrap_or(Value::Null), record["flag"]);
    }
    my.drop().await;
}

/// From PostgreSQL: `timestamptz` values (RFC 3339 with an offset) land in a
/// MySQL TIMESTAMP as the same instant, `numeric` digit for digit, `jsonb` as
/// JSON, `bytea` as bytes.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_to_mysql_keeps_instants_decimals_json_and_bytes() {
    use faucet_runtime::connectors::sql::mysql::{
        ColumnMapping, MySqlSink, MySqlSinkConfig, TableWrite, UnmappedFields, WriteMode,
    };
    use faucet_runtime::connectors::sql::postgres::{PostgresSource, PostgresSourceConfig};
    use sqlx::PgConnection;

    const PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";
    const PG_FIELDS: &[Field] = &[
        field("id", FieldType::Integer, false),
        field("amount", FieldType::Decimal { precision: Some(20), scale: Some(6) }, false),
        field("at", FieldType::Timestamp { time_zone: true }, true),
        field("local", FieldType::Timestamp { time_zone: false }, true),
        field("doc", FieldType::Json, true),
        field("bytes", FieldType::Binary, true),
    ];
    let mut my = MariaDb::new("faucet_typed_from_pg").await;
    let schema = my.name.clone();
    let mut pg = PgConnection::connect(PG).await.unwrap();
    let setup = format!(
        "CREATE SCHEMA \"{schema}\"; SET search_path = \"{schema}\"; \
         CREATE TABLE src (id bigint PRIMARY KEY, amount numeric(20, 6) NOT NULL, at timestamptz, \
           local timestamp, doc jsonb, bytes bytea); \
         INSERT INTO src VALUES \
           (1, 12345678901234.000001, '2024-03-01 01:30:00.5+02', '2024-03-01 01:30:00.5', \
            '{{\"n\": 1.10, \"s\": \"x\"}}', '\\x00ff'), \
           (2, -0.5, '1999-12-31 23:00:00-01:30', NULL, '\"text\"', NULL), \
           (3, 0, NULL, NULL, NULL, '\\x');"
    );
    sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut pg).await.unwrap();
    let mut source = PostgresSource::new(PostgresSourceConfig {
        connection_url: PG.into(),
        input: SourceInput::Table { schema: Some(schema.clone()), name: "src".into() },
        replication_key: None,
        batch_size: 100,
    });
    source.resume(None).await.unwrap();
    let mut records = Vec::new();
    while let Some(page) = source.next_page().await.unwrap() {
        records.extend(page.records);
    }
    assert_eq!(records.len(), 3);

    let mut sink = MySqlSink::new(MySqlSinkConfig {
        connection_url: my.url(),
        schema: None,
        table_name: "from_pg".into(),
        column_mapping: ColumnMapping::AutoMap,
        write: TableWrite {
            create_table: true,
            unmapped_fields: UnmappedFields::AddColumn,
            batch_size: 1000,
            write_mode: WriteMode::Append,
            key: Vec::new(),
            delete_marker: None,
            columns: Some(PG_FIELDS),
        },
    });
    write(&mut sink, &records).await;
    let got = my
        .strings(
            "SELECT CAST(CONCAT_WS('|', id, amount, IFNULL(at, '-'), IFNULL(local, '-'), IFNULL(HEX(bytes), '-'), \
               IFNULL(JSON_TYPE(doc), '-')) AS CHAR) FROM from_pg ORDER BY id",
        )
        .await;
    assert_eq!(
        got,
        [
            "1|12345678901234.000001|2024-02-29 23:30:00.500000|2024-03-01 01:30:00.500000|00FF|OBJECT",
            "2|-0.500000|2000-01-01 00:30:00.000000|-|-|STRING",
            "3|0.000000|-|-||-",
        ]
    );
    let docs = my.strings("SELECT doc FROM from_pg WHERE id = 1").await;
    let doc: Value = serde_json::from_str(&docs[0]).unwrap();
    assert_eq!(doc["n"].to_string(), "1.10", "the number keeps its digits");

    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).execute(&mut pg).await.unwrap();
    my.drop().await;
}

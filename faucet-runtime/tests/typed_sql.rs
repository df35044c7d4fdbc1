//! Typed records through the `mysql` and `sqlite` sources and sinks (issue 18).
//!
//! Each test declares a record struct exactly as faucet-gen generates one for
//! its table (the schema constant, the struct with serde attributes) and
//! implements `RecordType` for it by hand, as the generated code does. Then:
//! - the source decodes rows straight into the struct, every value exactly
//!   (i64 extremes, doubles bit for bit, decimals digit for digit, any
//!   Unicode, JSON, dates, times and timestamps, bytes, NULL), and the
//!   struct's JSON is the untyped record's;
//! - the sink writes the structs into tables identical to the ones the
//!   untyped records make, appended to an existing table or upserted into
//!   one it creates from the schema;
//! - a row that does not fit the struct is a page reject with a schema
//!   error naming the column;
//! - a typed JSON Lines → SQLite pipeline that fails mid-run (after a batch
//!   committed, before its bookmark; on a bookmark write) and is rerun
//!   writes every row exactly once.
//!
//! Servers: MariaDB on 127.0.0.1:3306 (each test in its own database,
//! dropped at the end); SQLite files in temporary directories.
//! `FAUCET_TYPED_SEED` sets the generator's seed (default: fixed).

#![cfg(any(feature = "mysql", feature = "sqlite"))]

use faucet_runtime::{CommitToken, OpenContext, Rejected, Source, Writes};
use faucet_runtime::{ErrorKind, RecordType};

fn rng(salt: u64) -> fastrand::Rng {
    let seed = std::env::var("FAUCET_TYPED_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x18_7e5d);
    eprintln!("FAUCET_TYPED_SEED={seed}");
    fastrand::Rng::with_seed(seed ^ salt)
}

/// Every record and reject `source` yields, from the start.
async fn read<S: Source>(mut source: S) -> (Vec<S::Record>, Vec<Rejected>) {
    source.resume(None).await.unwrap();
    let (mut records, mut rejects) = (Vec::new(), Vec::new());
    while let Some(page) = source.next_page().await.unwrap() {
        records.extend(page.records);
        rejects.extend(page.rejects);
    }
    (records, rejects)
}

/// Writes `records` in batches of 100 under `scope`; every row must be written.
async fn write<R: RecordType>(sink: &mut impl Writes<R>, records: &[R], scope: &str) {
    sink.open(OpenContext { scope, checkpoint: None }).await.unwrap();
    for (seq, batch) in records.chunks(100).enumerate() {
        let outcome = sink.write_batch(batch, CommitToken { seq: seq as u64 + 1, part: 0 }).await.unwrap();
        if let Some(failure) = outcome.failures.first() {
            panic!("{scope}: row {} rejected: {}", failure.index, failure.error);
        }
        assert_eq!(outcome.written, batch.len() as u64, "{scope}");
    }
}

/// Random values of every kind, from one seeded generator.
struct Gen(fastrand::Rng);

impl Gen {
    /// None one time in `n`.
    fn maybe<T>(&mut self, n: usize, value: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.0.usize(..n) == 0 { None } else { Some(value(self)) }
    }

    fn int(&mut self) -> i64 {
        match self.0.usize(..8) {
            0 => i64::MIN,
            1 => i64::MAX,
            2 => self.0.i64(-1000..1000),
            _ => self.0.i64(..),
        }
    }

    /// A finite double from random bits, not `-0.0` (a SQL double keeps no sign of zero).
    fn double(&mut self) -> f64 {
        loop {
            let f = f64::from_bits(self.0.u64(..));
            if f.is_finite() && !(f == 0.0 && f.is_sign_negative()) {
                return f;
            }
        }
    }

    /// A decimal of up to `int` integer digits and exactly `scale` after the point.
    fn decimal(&mut self, int: usize, scale: usize) -> String {
        let digits = |g: &mut Self, n: usize| -> String { (0..n).map(|_| g.0.digit(10)).collect() };
        let whole = match self.0.usize(..=int) {
            0 => "0".to_owned(),
            n => format!("{}{}", self.0.u8(1..10), digits(self, n - 1)),
        };
        let fraction = digits(self, scale);
        let zero = whole == "0" && fraction.bytes().all(|b| b == b'0');
        let sign = if !zero && self.0.bool() { "-" } else { "" };
        if scale == 0 { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") }
    }

    /// Up to `max` characters from every part of Unicode, NUL and quotes included.
    fn text(&mut self, max: usize) -> String {
        (0..self.0.usize(..=max))
            .map(|_| match self.0.usize(..8) {
                0 => ['\0', '"', '\'', '\\', '`', '\n', ' ', '\u{2028}'][self.0.usize(..8)],
                1 => self.0.char('\u{80}'..'\u{800}'),
                2 => self.0.char('\u{800}'..'\u{d7ff}'),
                3 => self.0.char('\u{10000}'..='\u{10ffff}'),
                _ => self.0.char(' '..='~'),
            })
            .collect()
    }

    /// A JSON value nested up to `depth` levels, numbers in exact spellings.
    fn json(&mut self, depth: usize) -> serde_json::Value {
        use serde_json::Value;
        match self.0.usize(..if depth == 0 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(self.0.bool()),
            2 => self.int().into(),
            3 => {
                let scale = self.0.usize(1..25);
                let text = self.decimal(30, scale);
                serde_json::from_str(&text).unwrap()
            }
            4 => Value::String(self.text(20)),
            5 => Value::Array((0..self.0.usize(..4)).map(|_| self.json(depth - 1)).collect()),
            _ => {
                Value::Object((0..self.0.usize(..4)).map(|_| (self.text(8), self.json(depth - 1))).collect())
            }
        }
    }

    /// Up to `max` random bytes, as base64.
    fn bytes(&mut self, max: usize) -> String {
        use base64::Engine as _;
        let bytes: Vec<u8> = (0..self.0.usize(..=max)).map(|_| self.0.u8(..)).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// A date `YYYY-MM-DD` from year 1000 to 9999.
    fn date(&mut self) -> String {
        format!("{:04}-{:02}-{:02}", self.0.u32(1000..=9999), self.0.u32(1..=12), self.0.u32(1..=28))
    }

    /// A time of day `hh:mm:ss.ffffff`.
    fn clock(&mut self) -> String {
        format!(
            "{:02}:{:02}:{:02}.{:06}",
            self.0.u32(..24),
            self.0.u32(..60),
            self.0.u32(..60),
            self.0.u32(..1_000_000)
        )
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use std::borrow::Cow;

    use faucet_runtime::__private as rt;
    use faucet_runtime::connectors::sql::mysql::{
        ColumnMapping, MySqlSink, MySqlSinkConfig, MySqlSource, MySqlSourceConfig, SourceInput, TableWrite,
        UnmappedFields, WriteMode,
    };
    use faucet_runtime::{FieldValue, IntoTyped};
    use serde_json::Value;
    use sqlx::{AssertSqlSafe, Connection, MySqlConnection};

    use super::*;

    const MARIADB: &str = "mysql://root@127.0.0.1:3306";

    const TABLE: &str = "CREATE TABLE src (id BIGINT NOT NULL PRIMARY KEY, big BIGINT NULL, ratio DOUBLE NULL, \
        amount DECIMAL(65, 30) NULL, note VARCHAR(200) NULL, doc JSON NULL, happened DATETIME(6) NULL, \
        stamped TIMESTAMP(6) NULL, day DATE NULL, at TIME(6) NULL, bytes BLOB NULL, flag BOOLEAN NULL)";

    /// The fields of the records the sink receives (from MySQL table `src`).
    pub const SCHEMA: rt::schema::Schema = rt::schema::Schema {
        fields: &[
            rt::schema::Field {
                name: "id",
                ty: rt::schema::FieldType::Integer,
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "big",
                ty: rt::schema::FieldType::Integer,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "ratio",
                ty: rt::schema::FieldType::Number,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "amount",
                ty: rt::schema::FieldType::Decimal { precision: Some(65), scale: Some(30) },
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "note",
                ty: rt::schema::FieldType::String,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "doc",
                ty: rt::schema::FieldType::Json,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "happened",
                ty: rt::schema::FieldType::Timestamp { time_zone: false },
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "stamped",
                ty: rt::schema::FieldType::Timestamp { time_zone: true },
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "day",
                ty: rt::schema::FieldType::Date,
                nullable: true,
                required: true,
            },
            rt::schema::Field { name: "at", ty: rt::schema::FieldType::Time, nullable: true, required: true },
            rt::schema::Field {
                name: "bytes",
                ty: rt::schema::FieldType::Binary,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "flag",
                ty: rt::schema::FieldType::Boolean,
                nullable: true,
                required: true,
            },
        ],
        open: false,
        origin: "MySQL table `src`",
    };

    /// One of the records the sink receives, as [`SCHEMA`] describes it: it reads and writes such a record exactly.
    #[derive(Debug, Clone, PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
    #[serde(crate = "rt::serde")]
    pub struct Record {
        /// `id`: integer. From MySQL table `src`.
        pub id: i64,
        /// `big`: integer, nullable. From MySQL table `src`.
        pub big: Option<i64>,
        /// `ratio`: number, nullable. From MySQL table `src`.
        pub ratio: Option<f64>,
        /// `amount`: decimal(65,30), nullable. From MySQL table `src`.
        pub amount: Option<rt::schema::Decimal>,
        /// `note`: string, nullable. From MySQL table `src`.
        pub note: Option<String>,
        /// `doc`: json, nullable. From MySQL table `src`.
        pub doc: Option<rt::serde_json::Value>,
        /// `happened`: timestamp (ISO 8601), nullable. From MySQL table `src`.
        pub happened: Option<String>,
        /// `stamped`: timestamp with time zone (RFC 3339), nullable. From MySQL table `src`.
        pub stamped: Option<String>,
        /// `day`: date (ISO 8601), nullable. From MySQL table `src`.
        pub day: Option<String>,
        /// `at`: time (ISO 8601), nullable. From MySQL table `src`.
        pub at: Option<String>,
        /// `bytes`: binary (base64), nullable. From MySQL table `src`.
        pub bytes: Option<String>,
        /// `flag`: boolean, nullable. From MySQL table `src`.
        pub flag: Option<bool>,
    }

    fn text(value: &Option<String>) -> FieldValue<'_> {
        value.as_deref().map_or(FieldValue::Null, FieldValue::Text)
    }

    impl RecordType for Record {
        const SCHEMA: Option<&'static rt::schema::Schema> = Some(&SCHEMA);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => FieldValue::Int(self.id),
                1 => self.big.map_or(FieldValue::Null, FieldValue::Int),
                2 => self.ratio.map_or(FieldValue::Null, FieldValue::Float),
                3 => self.amount.as_ref().map_or(FieldValue::Null, |d| FieldValue::Text(&d.0)),
                4 => text(&self.note),
                5 => self.doc.as_ref().map_or(FieldValue::Null, FieldValue::Json),
                6 => text(&self.happened),
                7 => text(&self.stamped),
                8 => text(&self.day),
                9 => text(&self.at),
                10 => text(&self.bytes),
                11 => self.flag.map_or(FieldValue::Null, FieldValue::Bool),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> Cow<'_, Value> {
            rt::record::json_of(self)
        }

        fn from_json(value: Value) -> rt::Result<Self> {
            rt::record::from_json_value(value)
        }
    }

    /// The struct of a query whose `note` may not be null: rows where it is do not fit.
    #[derive(Debug, Clone, PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
    #[serde(crate = "rt::serde")]
    pub struct Narrow {
        pub id: i64,
        pub note: String,
    }

    pub const NARROW: rt::schema::Schema = rt::schema::Schema {
        fields: &[
            rt::schema::Field {
                name: "id",
                ty: rt::schema::FieldType::Integer,
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "note",
                ty: rt::schema::FieldType::String,
                nullable: false,
                required: true,
            },
        ],
        open: false,
        origin: "a MySQL query",
    };

    impl RecordType for Narrow {
        const SCHEMA: Option<&'static rt::schema::Schema> = Some(&NARROW);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => FieldValue::Int(self.id),
                1 => FieldValue::Text(&self.note),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> Cow<'_, Value> {
            rt::record::json_of(self)
        }

        fn from_json(value: Value) -> rt::Result<Self> {
            rt::record::from_json_value(value)
        }
    }

    /// Days since 1970-01-01 as a date (Howard Hinnant's algorithm).
    fn civil(days: i64) -> (i64, i64, i64) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    /// A TIMESTAMP's range in UTC, `YYYY-MM-DD hh:mm:ss.ffffff`.
    fn timestamp(g: &mut Gen) -> String {
        let seconds = g.0.i64(1..=2_147_483_647);
        let (y, m, d) = civil(seconds.div_euclid(86_400));
        let s = seconds.rem_euclid(86_400);
        let micros = g.0.u32(..1_000_000);
        format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}", s / 3600, s / 60 % 60, s % 60)
    }

    /// A TIME value, negative and beyond a day too.
    fn time(g: &mut Gen) -> String {
        let sign = if g.0.bool() { "-" } else { "" };
        let (h, m, s, us) = (g.0.u32(..=838), g.0.u32(..60), g.0.u32(..60), g.0.u32(..1_000_000));
        format!("{sign}{h:02}:{m:02}:{s:02}.{us:06}")
    }

    /// The record of row `id` as the source reads it: the generator's values.
    fn record(g: &mut Gen, id: i64) -> Record {
        Record {
            id,
            big: g.maybe(8, Gen::int),
            ratio: g.maybe(8, Gen::double),
            amount: g.maybe(8, |g| rt::schema::Decimal(g.decimal(35, 30))),
            note: g.maybe(8, |g| g.text(60)),
            // No JSON `null`: it reads back as SQL NULL's `None`.
            doc: g.maybe(8, |g| g.json(3)).filter(|d| !d.is_null()),
            happened: g.maybe(8, |g| format!("{}T{}", g.date(), g.clock())),
            stamped: g.maybe(8, |g| format!("{}+00:00", timestamp(g).replacen(' ', "T", 1))),
            day: g.maybe(8, Gen::date),
            at: g.maybe(8, time),
            bytes: g.maybe(8, |g| g.bytes(40)),
            flag: g.maybe(8, |g| g.0.bool()),
        }
    }

    /// The edges: every maximum, every minimum, every NULL.
    fn edges() -> Vec<Record> {
        use base64::Engine as _;
        let all_bytes = base64::engine::general_purpose::STANDARD.encode((0..=255).collect::<Vec<u8>>());
        let nines = |n: usize| "9".repeat(n);
        vec![
            Record {
                id: 1,
                big: Some(i64::MAX),
                ratio: Some(f64::MAX),
                amount: Some(rt::schema::Decimal(format!("{}.{}", nines(35), nines(30)))),
                note: Some("\0'\"\\`😀 ü\u{2028}\u{10ffff} ".to_owned()),
                doc: Some(
                    serde_json::from_str(
                        r#"{"big": 123456789012345678901234567890, "exact": 2.50, "s": "ü\"\\\u0000"}"#,
                    )
                    .unwrap(),
                ),
                happened: Some("9999-12-31T23:59:59.999999".into()),
                stamped: Some("2038-01-19T03:14:07.999999+00:00".into()),
                day: Some("9999-12-31".into()),
                at: Some("838:59:59.000000".into()),
                bytes: Some(all_bytes),
                flag: Some(true),
            },
            Record {
                id: 2,
                big: Some(i64::MIN),
                ratio: Some(f64::MIN_POSITIVE),
                amount: Some(rt::schema::Decimal(format!("-{}.{}", nines(35), nines(30)))),
                note: Some(String::new()),
                doc: Some(Value::String("just a string".into())),
                happened: Some("1000-01-01T00:00:00.000000".into()),
                stamped: Some("1970-01-01T00:00:01.000000+00:00".into()),
                day: Some("1000-01-01".into()),
                at: Some("-838:59:59.000000".into()),
                bytes: Some(String::new()),
                flag: Some(false),
            },
            Record {
                id: 3,
                big: None,
                ratio: None,
                amount: None,
                note: None,
                doc: None,
                happened: None,
                stamped: None,
                day: None,
                at: None,
                bytes: None,
                flag: None,
            },
        ]
    }

    /// A MariaDB database of its own, holding `src` filled with `records`.
    struct MariaDb {
        name: String,
        conn: MySqlConnection,
    }

    impl MariaDb {
        async fn new(records: &[Record]) -> MariaDb {
            let name = format!("faucet_typed_sql_{}", uuid::Uuid::now_v7().simple());
            let mut conn = MySqlConnection::connect(MARIADB).await.expect("MariaDB on 3306");
            let setup = format!(
                "SET time_zone = '+00:00'; CREATE DATABASE `{name}` CHARACTER SET utf8mb4; USE `{name}`; {TABLE}"
            );
            sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut conn).await.unwrap();
            use base64::Engine as _;
            for r in records {
                let bytes =
                    r.bytes.as_ref().map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap());
                let sql_time =
                    |t: &Option<String>| t.as_ref().map(|t| t.replacen('T', " ", 1).replace("+00:00", ""));
                sqlx::query("INSERT INTO src VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                    .bind(r.id)
                    .bind(r.big)
                    .bind(r.ratio)
                    .bind(r.amount.as_ref().map(|d| d.0.clone()))
                    .bind(r.note.clone())
                    .bind(r.doc.as_ref().map(Value::to_string))
                    .bind(sql_time(&r.happened))
                    .bind(sql_time(&r.stamped))
                    .bind(r.day.clone())
                    .bind(r.at.clone())
                    .bind(bytes)
                    .bind(r.flag)
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            MariaDb { name, conn }
        }

        fn source(&self, input: SourceInput, replication_key: Option<&str>) -> MySqlSource {
            MySqlSource::new(MySqlSourceConfig {
                connection_url: format!("{MARIADB}/{}", self.name),
                input,
                replication_key: replication_key.map(str::to_owned),
                batch_size: 64,
            })
        }

        fn table(&self, name: &str) -> MySqlSource {
            self.source(SourceInput::Table { schema: None, name: name.into() }, None)
        }

        fn sink(&self, table: &str, write: TableWrite) -> MySqlSink {
            MySqlSink::new(MySqlSinkConfig {
                connection_url: format!("{MARIADB}/{}", self.name),
                schema: None,
                table_name: table.into(),
                column_mapping: ColumnMapping::AutoMap,
                write,
            })
        }

        async fn exec(&mut self, sql: &str) {
            let sql = format!("USE `{}`; {sql}", self.name);
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.unwrap();
        }

        async fn count(&mut self, sql: &str) -> i64 {
            sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(&mut self.conn).await.unwrap()
        }

        /// The rows of `a` that equal a row of `b` in every column, byte for byte.
        async fn same_rows(&mut self, a: &str, b: &str) -> i64 {
            let columns = ["big", "ratio", "amount", "happened", "stamped", "day", "at", "bytes", "flag"];
            let mut same: Vec<String> = columns.iter().map(|c| format!("a.{c} <=> b.{c}")).collect();
            same.push("BINARY a.note <=> BINARY b.note".into());
            same.push("BINARY a.doc <=> BINARY b.doc".into());
            self.count(&format!(
                "SELECT COUNT(*) FROM `{db}`.`{a}` a JOIN `{db}`.`{b}` b ON a.id = b.id AND {}",
                same.join(" AND "),
                db = self.name
            ))
            .await
        }

        async fn drop(mut self) {
            let sql = format!("DROP DATABASE `{}`", self.name);
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.unwrap();
        }
    }

    fn table_write(create_table: bool, write_mode: WriteMode, key: &[&str]) -> TableWrite {
        TableWrite {
            create_table,
            unmapped_fields: if create_table { UnmappedFields::AddColumn } else { UnmappedFields::Dlq },
            batch_size: 100,
            write_mode,
            key: key.iter().map(|k| (*k).to_owned()).collect(),
            delete_marker: None,
            columns: create_table.then_some(SCHEMA.fields),
        }
    }

    #[tokio::test]
    async fn rows_decode_into_structs_exactly_and_structs_write_the_same_tables() {
        let mut g = Gen(rng(1));
        let mut expected = edges();
        expected.extend((4..=400).map(|id| record(&mut g, id)));
        let mut db = MariaDb::new(&expected).await;

        // Read by primary key, by replication key, and a query by offset (whose
        // MariaDB JSON stays text, as documented); typed and untyped.
        let table = || SourceInput::Table { schema: None, name: "src".into() };
        let query = SourceInput::Query { sql: "SELECT * FROM src ORDER BY id".into(), params: vec![] };
        for (input, key) in [(table(), None), (table(), Some("id")), (query, None)] {
            let is_table = matches!(input, SourceInput::Table { .. });
            let (json, _) = read(db.source(input.clone(), key)).await;
            let (typed, rejects) = read::<MySqlSource<Record>>(db.source(input, key).into_typed()).await;
            assert!(rejects.is_empty(), "{:?}", rejects[0].error);
            let typed_json: Vec<Value> = typed.iter().map(|r| r.to_json().into_owned()).collect();
            assert_eq!(typed_json, json, "the struct's JSON is the untyped record");
            if is_table {
                assert_eq!(typed.len(), expected.len());
                for (got, want) in typed.iter().zip(&expected) {
                    assert_eq!(got, want, "row {}", want.id);
                    assert_eq!(got.ratio.map(f64::to_bits), want.ratio.map(f64::to_bits), "row {}", want.id);
                }
            }
        }
        let (json, _) = read(db.table("src")).await;
        let typed: Vec<Record> = expected.clone();

        // Append into existing tables like `src`.
        db.exec("CREATE TABLE by_json LIKE src; CREATE TABLE by_struct LIKE src").await;
        write(&mut db.sink("by_json", table_write(false, WriteMode::Append, &[])), &json, "append::json")
            .await;
        write(
            &mut db.sink("by_struct", table_write(false, WriteMode::Append, &[])),
            &typed,
            "append::struct",
        )
        .await;
        let rows = expected.len() as i64;
        assert_eq!(db.same_rows("by_json", "by_struct").await, rows);
        assert_eq!(db.same_rows("src", "by_struct").await, rows, "every value arrives exactly");

        // Upsert into tables the sink creates from the schema: a first pass,
        // then every row again with its own values.
        let stale = |note: &str| -> (Vec<Value>, Vec<Record>) {
            let mut json = json.clone();
            json.iter_mut().for_each(|r| r["note"] = Value::String(note.into()));
            let mut typed = typed.clone();
            typed.iter_mut().for_each(|r| r.note = Some(note.into()));
            (json, typed)
        };
        let (first_json, first_typed) = stale("first pass");
        let upsert = || table_write(true, WriteMode::Upsert, &["id"]);
        let (mut by_json, mut by_struct) = (db.sink("made_json", upsert()), db.sink("made_struct", upsert()));
        write(&mut by_json, &first_json, "upsert::json::1").await;
        write(&mut by_struct, &first_typed, "upsert::struct::1").await;
        write(&mut db.sink("made_json", upsert()), &json, "upsert::json::2").await;
        write(&mut db.sink("made_struct", upsert()), &typed, "upsert::struct::2").await;
        assert_eq!(db.count(&format!("SELECT COUNT(*) FROM `{}`.made_struct", db.name)).await, rows);
        assert_eq!(db.same_rows("made_json", "made_struct").await, rows);
        let (back, _) = read::<MySqlSource<Record>>(db.table("made_struct").into_typed()).await;
        assert_eq!(back, expected, "every value survives a created table");
        db.drop().await;
    }

    #[tokio::test]
    async fn a_row_that_does_not_fit_is_a_schema_reject_naming_its_column() {
        let mut g = Gen(rng(2));
        let records: Vec<Record> = (1..=200).map(|id| record(&mut g, id)).collect();
        let db = MariaDb::new(&records).await;
        let query = SourceInput::Query { sql: "SELECT id, note FROM src ORDER BY id".into(), params: vec![] };
        let (fit, rejects) = read::<MySqlSource<Narrow>>(db.source(query, None).into_typed()).await;
        let nulls: Vec<i64> = records.iter().filter(|r| r.note.is_none()).map(|r| r.id).collect();
        assert!(!nulls.is_empty());
        assert_eq!(fit.len() + rejects.len(), records.len());
        assert_eq!(rejects.iter().map(|r| r.payload["id"].as_i64().unwrap()).collect::<Vec<_>>(), nulls);
        for reject in &rejects {
            assert_eq!(reject.error.kind(), ErrorKind::Schema);
            assert!(reject.error.message().contains("field `note`: invalid type"), "{}", reject.error);
            assert_eq!(reject.payload["note"], Value::Null, "the payload is the row's JSON");
        }
        let want: Vec<Narrow> =
            records.iter().filter_map(|r| Some(Narrow { id: r.id, note: r.note.clone()? })).collect();
        assert_eq!(fit, want);
        db.drop().await;
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::borrow::Cow;
    use std::path::Path;
    use std::str::FromStr;

    use faucet_runtime::__private as rt;
    use faucet_runtime::connectors::sql::sqlite::{
        ColumnMapping, SqliteInput, SqliteSink, SqliteSinkConfig, SqliteSource, SqliteSourceConfig,
        TableWrite, UnmappedFields, WriteMode,
    };
    use faucet_runtime::{FieldValue, IntoTyped};
    use serde_json::{Number, Value};
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
    use sqlx::{AssertSqlSafe, ConnectOptions};

    use super::*;

    const TABLE: &str = "(id INTEGER PRIMARY KEY, big INTEGER, ratio REAL, amount DECIMAL(10,2), note TEXT, \
        doc JSON, happened DATETIME, day DATE, at TIME, bytes BLOB, flag BOOLEAN)";
    const COLUMNS: [&str; 11] =
        ["id", "big", "ratio", "amount", "note", "doc", "happened", "day", "at", "bytes", "flag"];

    /// The fields of the records the sink receives (from SQLite table `src`).
    pub const SCHEMA: rt::schema::Schema = rt::schema::Schema {
        fields: &[
            rt::schema::Field {
                name: "id",
                ty: rt::schema::FieldType::Integer,
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "big",
                ty: rt::schema::FieldType::Integer,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "ratio",
                ty: rt::schema::FieldType::Number,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "amount",
                ty: rt::schema::FieldType::Decimal { precision: Some(10), scale: Some(2) },
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "note",
                ty: rt::schema::FieldType::String,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "doc",
                ty: rt::schema::FieldType::Json,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "happened",
                ty: rt::schema::FieldType::Timestamp { time_zone: false },
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "day",
                ty: rt::schema::FieldType::Date,
                nullable: true,
                required: true,
            },
            rt::schema::Field { name: "at", ty: rt::schema::FieldType::Time, nullable: true, required: true },
            rt::schema::Field {
                name: "bytes",
                ty: rt::schema::FieldType::Binary,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "flag",
                ty: rt::schema::FieldType::Boolean,
                nullable: true,
                required: true,
            },
        ],
        open: false,
        origin: "SQLite table `src`",
    };

    /// One of the records the sink receives, as [`SCHEMA`] describes it: it reads and writes such a record exactly.
    #[derive(Debug, Clone, PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
    #[serde(crate = "rt::serde")]
    pub struct Record {
        /// `id`: integer. From SQLite table `src`.
        pub id: i64,
        /// `big`: integer, nullable. From SQLite table `src`.
        pub big: Option<i64>,
        /// `ratio`: number, nullable. From SQLite table `src`.
        pub ratio: Option<f64>,
        /// `amount`: decimal(10,2), nullable. From SQLite table `src`.
        pub amount: Option<rt::schema::Decimal>,
        /// `note`: string, nullable. From SQLite table `src`.
        pub note: Option<String>,
        /// `doc`: json, nullable. From SQLite table `src`.
        pub doc: Option<rt::serde_json::Value>,
        /// `happened`: timestamp (ISO 8601), nullable. From SQLite table `src`.
        pub happened: Option<String>,
        /// `day`: date (ISO 8601), nullable. From SQLite table `src`.
        pub day: Option<String>,
        /// `at`: time (ISO 8601), nullable. From SQLite table `src`.
        pub at: Option<String>,
        /// `bytes`: binary (base64), nullable. From SQLite table `src`.
        pub bytes: Option<String>,
        /// `flag`: boolean, nullable. From SQLite table `src`.
        pub flag: Option<bool>,
    }

    fn text(value: &Option<String>) -> FieldValue<'_> {
        value.as_deref().map_or(FieldValue::Null, FieldValue::Text)
    }

    impl RecordType for Record {
        const SCHEMA: Option<&'static rt::schema::Schema> = Some(&SCHEMA);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => FieldValue::Int(self.id),
                1 => self.big.map_or(FieldValue::Null, FieldValue::Int),
                2 => self.ratio.map_or(FieldValue::Null, FieldValue::Float),
                3 => self.amount.as_ref().map_or(FieldValue::Null, |d| FieldValue::Text(&d.0)),
                4 => text(&self.note),
                5 => self.doc.as_ref().map_or(FieldValue::Null, FieldValue::Json),
                6 => text(&self.happened),
                7 => text(&self.day),
                8 => text(&self.at),
                9 => text(&self.bytes),
                10 => self.flag.map_or(FieldValue::Null, FieldValue::Bool),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> Cow<'_, Value> {
            rt::record::json_of(self)
        }

        fn from_json(value: Value) -> rt::Result<Self> {
            rt::record::from_json_value(value)
        }
    }

    /// A row to insert, and the record the source reads from it.
    struct Row {
        record: Record,
        /// The decimal as written, before SQLite's NUMERIC affinity made it a number.
        amount: Option<String>,
    }

    /// Row `id`: the generator's values. A decimal comes back as the number
    /// SQLite's NUMERIC affinity stores: an integer when it is whole, else the
    /// nearest double (its shortest text).
    fn row(g: &mut Gen, id: i64) -> Row {
        let amount = g.maybe(8, |g| g.decimal(8, 2));
        let stored = amount.as_ref().map(|text| {
            let (whole, fraction) = text.split_once('.').unwrap();
            let number = match fraction {
                "00" => Number::from(whole.parse::<i64>().unwrap()),
                _ => Number::from_f64(text.parse().unwrap()).unwrap(),
            };
            rt::schema::Decimal(number.as_str().to_owned())
        });
        let record = Record {
            id,
            big: g.maybe(8, Gen::int),
            ratio: g.maybe(8, Gen::double),
            amount: stored,
            note: g.maybe(8, |g| g.text(60)),
            // SQLite has no JSON type: the source reads a JSON column's text as
            // a string (an object's: NUMERIC affinity would make a number's a number).
            doc: g.maybe(8, |g| Value::String(serde_json::json!({ "v": g.json(3) }).to_string())),
            happened: g.maybe(8, |g| format!("{}T{}", g.date(), g.clock())),
            day: g.maybe(8, Gen::date),
            at: g.maybe(8, Gen::clock),
            bytes: g.maybe(8, |g| g.bytes(40)),
            flag: g.maybe(8, |g| g.0.bool()),
        };
        Row { record, amount }
    }

    async fn connect(url: &str) -> SqliteConnection {
        SqliteConnectOptions::from_str(url).unwrap().create_if_missing(true).connect().await.unwrap()
    }

    /// A database holding `src` with `rows`; returns its URL.
    async fn database(dir: &Path, rows: &[Row]) -> String {
        use base64::Engine as _;
        let url = format!("sqlite://{}", dir.join("typed.db").display());
        let mut conn = connect(&url).await;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE TABLE src {TABLE}"))).execute(&mut conn).await.unwrap();
        for Row { record: r, amount } in rows {
            let bytes =
                r.bytes.as_ref().map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap());
            sqlx::query("INSERT INTO src VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(r.id)
                .bind(r.big)
                .bind(r.ratio)
                .bind(amount.clone())
                .bind(r.note.clone())
                .bind(r.doc.as_ref().map(|d| d.as_str().unwrap().to_owned()))
                .bind(r.happened.clone())
                .bind(r.day.clone())
                .bind(r.at.clone())
                .bind(bytes)
                .bind(r.flag)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        url
    }

    fn source(url: &str, input: SqliteInput, replication_key: Option<&str>) -> SqliteSource {
        SqliteSource::new(SqliteSourceConfig {
            database_url: url.to_owned(),
            input,
            replication_key: replication_key.map(str::to_owned),
            batch_size: 64,
        })
    }

    fn table(name: &str) -> SqliteInput {
        SqliteInput::Table { name: name.into() }
    }

    fn sink(url: &str, table: &str, create_table: bool, write_mode: WriteMode) -> SqliteSink {
        SqliteSink::new(SqliteSinkConfig {
            database_url: url.to_owned(),
            table_name: table.into(),
            column_mapping: ColumnMapping::AutoMap,
            write: TableWrite {
                create_table,
                unmapped_fields: if create_table { UnmappedFields::AddColumn } else { UnmappedFields::Dlq },
                batch_size: 100,
                write_mode,
                key: if write_mode == WriteMode::Upsert { vec!["id".into()] } else { Vec::new() },
                delete_marker: None,
                columns: create_table.then_some(SCHEMA.fields),
            },
        })
    }

    /// The rows of `a` that equal a row of `b` in every column but those in
    /// `except`: value and storage class.
    async fn same_rows(url: &str, a: &str, b: &str, except: &[&str]) -> i64 {
        let same: Vec<String> = COLUMNS
            .iter()
            .filter(|c| !except.contains(c))
            .map(|c| format!("a.{c} IS b.{c} AND typeof(a.{c}) = typeof(b.{c})"))
            .collect();
        let sql = format!("SELECT COUNT(*) FROM {a} a JOIN {b} b ON a.id = b.id AND {}", same.join(" AND "));
        sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut connect(url).await).await.unwrap()
    }

    #[tokio::test]
    async fn rows_decode_into_structs_exactly_and_structs_write_the_same_tables() {
        let mut g = Gen(rng(3));
        let mut rows: Vec<Row> = (1..=400).map(|id| row(&mut g, id)).collect();
        // The edges: every maximum, every minimum, every NULL.
        let edges = [
            (i64::MAX, f64::MAX, "99999999.99", "\0'\"\\😀\u{10ffff} ", "9999-12-31T23:59:59.999999", true),
            (i64::MIN, f64::MIN_POSITIVE, "-99999999.99", "", "0001-01-01T00:00:00.000000", false),
        ];
        for (i, (big, ratio, amount, note, at, flag)) in edges.into_iter().enumerate() {
            let r = &mut rows[i];
            (r.record.big, r.record.ratio, r.record.note, r.record.flag) =
                (Some(big), Some(ratio), Some(note.into()), Some(flag));
            r.record.amount = Some(rt::schema::Decimal(amount.trim_end_matches('0').to_owned()));
            r.amount = Some(amount.into());
            r.record.happened = Some(at.into());
        }
        let nulls = Record {
            id: 3,
            big: None,
            ratio: None,
            amount: None,
            note: None,
            doc: None,
            happened: None,
            day: None,
            at: None,
            bytes: None,
            flag: None,
        };
        rows[2] = Row { record: nulls, amount: None };
        let expected: Vec<Record> = rows.iter().map(|r| r.record.clone()).collect();
        let dir = tempfile::tempdir().unwrap();
        let url = database(dir.path(), &rows).await;

        // Read by rowid, by replication key, and a query by offset; typed and untyped.
        let query = SqliteInput::Query { sql: "SELECT * FROM src ORDER BY id".into(), params: vec![] };
        for (input, key) in [(table("src"), None), (table("src"), Some("id")), (query, None)] {
            let (json, _) = read(source(&url, input.clone(), key)).await;
            let (typed, rejects) = read::<SqliteSource<Record>>(source(&url, input, key).into_typed()).await;
            assert!(rejects.is_empty(), "{:?}", rejects[0].error);
            assert_eq!(typed.len(), expected.len());
            for ((got, want), json) in typed.iter().zip(&expected).zip(&json) {
                assert_eq!(got, want, "row {}", want.id);
                assert_eq!(got.ratio.map(f64::to_bits), want.ratio.map(f64::to_bits), "row {}", want.id);
                // The struct's JSON is the untyped record's, but for the
                // decimal: a string in the struct, the stored number untyped.
                let mut struct_json = got.to_json().into_owned();
                if let (Some(amount), Some(number)) = (&got.amount, json["amount"].as_number()) {
                    assert_eq!(amount.0, number.as_str(), "row {}", want.id);
                    struct_json["amount"] = json["amount"].clone();
                }
                assert_eq!(&struct_json, json, "row {}", want.id);
            }
        }

        // Append into tables like `src`: the same rows as `src`, value for value.
        let (json, _) = read(source(&url, table("src"), None)).await;
        let mut conn = connect(&url).await;
        let create = format!("CREATE TABLE by_json {TABLE}; CREATE TABLE by_struct {TABLE}");
        sqlx::raw_sql(AssertSqlSafe(create)).execute(&mut conn).await.unwrap();
        write(&mut sink(&url, "by_json", false, WriteMode::Append), &json, "append::json").await;
        write(&mut sink(&url, "by_struct", false, WriteMode::Append), &expected, "append::struct").await;
        let count = expected.len() as i64;
        assert_eq!(same_rows(&url, "by_json", "by_struct", &[]).await, count);
        // Without declared columns a binary value's base64 is text to the sink.
        assert_eq!(
            same_rows(&url, "src", "by_struct", &["bytes"]).await,
            count,
            "every value arrives exactly"
        );

        // Upsert into tables the sink creates from the schema, twice.
        let mut stale_json = json.clone();
        stale_json.iter_mut().for_each(|r| r["note"] = Value::String("first pass".into()));
        let mut stale = expected.clone();
        stale.iter_mut().for_each(|r| r.note = Some("first pass".into()));
        write(&mut sink(&url, "made_json", true, WriteMode::Upsert), &stale_json, "upsert::json::1").await;
        write(&mut sink(&url, "made_struct", true, WriteMode::Upsert), &stale, "upsert::struct::1").await;
        write(&mut sink(&url, "made_json", true, WriteMode::Upsert), &json, "upsert::json::2").await;
        write(&mut sink(&url, "made_struct", true, WriteMode::Upsert), &expected, "upsert::struct::2").await;
        assert_eq!(same_rows(&url, "made_json", "made_struct", &[]).await, count);
        // Declared binary is bytes again. A declared JSON column gets the JSON of
        // the string the source read the text as (either way, typed or not).
        assert_eq!(
            same_rows(&url, "src", "made_struct", &["doc"]).await,
            count,
            "every value arrives exactly"
        );
        let rows: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM made_struct").fetch_one(&mut conn).await.unwrap();
        assert_eq!(rows, count);
    }

    #[tokio::test]
    async fn a_row_that_does_not_fit_is_a_schema_reject_naming_its_column() {
        let mut g = Gen(rng(4));
        let rows: Vec<Row> = (1..=100).map(|id| row(&mut g, id)).collect();
        let dir = tempfile::tempdir().unwrap();
        let url = database(dir.path(), &rows).await;
        // SQLite keeps text in an INTEGER column.
        let mut conn = connect(&url).await;
        sqlx::query("UPDATE src SET big = 'not a number' WHERE id IN (7, 50)")
            .execute(&mut conn)
            .await
            .unwrap();
        let (fit, rejects) =
            read::<SqliteSource<Record>>(source(&url, table("src"), None).into_typed()).await;
        assert_eq!(fit.len(), 98);
        assert_eq!(rejects.iter().map(|r| r.payload["id"].as_i64().unwrap()).collect::<Vec<_>>(), [7, 50]);
        for reject in &rejects {
            assert_eq!(reject.error.kind(), ErrorKind::Schema);
            let message = reject.error.message();
            assert!(
                message.contains("field `big`: invalid type: string \"not a number\", expected i64"),
                "{message}"
            );
            assert_eq!(reject.payload["big"], "not a number", "the payload is the row's JSON");
        }
    }
}

/// A typed JSON Lines → SQLite pipeline that dies mid-run, three times, at
/// different points, and is rerun: every row is written exactly once, with
/// every value, and the table equals the untyped pipeline's.
#[cfg(all(feature = "sqlite", feature = "files"))]
mod file_to_sqlite {
    use std::borrow::Cow;
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use faucet_runtime::__private as rt;
    use faucet_runtime::connectors::files::{JsonlSource, JsonlSourceConfig};
    use faucet_runtime::connectors::sql::sqlite::{
        ColumnMapping, SqliteInput, SqliteSink, SqliteSinkConfig, SqliteSource, SqliteSourceConfig,
        TableWrite, UnmappedFields, WriteMode,
    };
    use faucet_runtime::state::FileStore;
    use faucet_runtime::{
        FaucetError, FieldValue, IntoTyped, Pipeline, RunReport, Sink, StateStore, WriteOutcome,
    };
    use serde_json::Value;

    use super::*;

    const RECORDS: i64 = 5000;

    /// The fields of the records the sink receives (declared in the config).
    pub const SCHEMA: rt::schema::Schema = rt::schema::Schema {
        fields: &[
            rt::schema::Field {
                name: "id",
                ty: rt::schema::FieldType::Integer,
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "big",
                ty: rt::schema::FieldType::Integer,
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "ratio",
                ty: rt::schema::FieldType::Number,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "amount",
                ty: rt::schema::FieldType::Decimal { precision: Some(40), scale: Some(10) },
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "note",
                ty: rt::schema::FieldType::String,
                nullable: true,
                required: false,
            },
            rt::schema::Field {
                name: "doc",
                ty: rt::schema::FieldType::Json,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "at",
                ty: rt::schema::FieldType::Timestamp { time_zone: true },
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "bytes",
                ty: rt::schema::FieldType::Binary,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "flag",
                ty: rt::schema::FieldType::Boolean,
                nullable: false,
                required: true,
            },
        ],
        open: false,
        origin: "the config's declared schema",
    };

    /// One of the records the sink receives, as [`SCHEMA`] describes it: it reads and writes such a record exactly.
    #[derive(Debug, Clone, PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
    #[serde(crate = "rt::serde")]
    pub struct Record {
        /// `id`: integer. From the config's declared schema.
        pub id: i64,
        /// `big`: integer. From the config's declared schema.
        pub big: i64,
        /// `ratio`: number, nullable. From the config's declared schema.
        pub ratio: Option<f64>,
        /// `amount`: decimal(40,10). From the config's declared schema.
        pub amount: rt::schema::Decimal,
        /// `note`: string, nullable, may be absent. From the config's declared schema.
        #[serde(
            default,
            deserialize_with = "rt::schema::present",
            skip_serializing_if = "::core::option::Option::is_none"
        )]
        pub note: Option<Option<String>>,
        /// `doc`: json, nullable. From the config's declared schema.
        pub doc: Option<rt::serde_json::Value>,
        /// `at`: timestamp with time zone (RFC 3339). From the config's declared schema.
        pub at: String,
        /// `bytes`: binary (base64), nullable. From the config's declared schema.
        pub bytes: Option<String>,
        /// `flag`: boolean. From the config's declared schema.
        pub flag: bool,
    }

    impl RecordType for Record {
        const SCHEMA: Option<&'static rt::schema::Schema> = Some(&SCHEMA);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => FieldValue::Int(self.id),
                1 => FieldValue::Int(self.big),
                2 => self.ratio.map_or(FieldValue::Null, FieldValue::Float),
                3 => FieldValue::Text(&self.amount.0),
                4 => match &self.note {
                    None => FieldValue::Absent,
                    Some(note) => note.as_deref().map_or(FieldValue::Null, FieldValue::Text),
                },
                5 => self.doc.as_ref().map_or(FieldValue::Null, FieldValue::Json),
                6 => FieldValue::Text(&self.at),
                7 => self.bytes.as_deref().map_or(FieldValue::Null, FieldValue::Text),
                8 => FieldValue::Bool(self.flag),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> Cow<'_, Value> {
            rt::record::json_of(self)
        }

        fn from_json(value: Value) -> rt::Result<Self> {
            rt::record::from_json_value(value)
        }
    }

    fn record(g: &mut Gen, id: i64) -> Record {
        Record {
            id,
            big: g.int(),
            ratio: g.maybe(8, Gen::double),
            amount: rt::schema::Decimal(g.decimal(30, 10)),
            note: match g.0.usize(..4) {
                0 => None,
                1 => Some(None),
                _ => Some(Some(g.text(30))),
            },
            // (JSON's null is the field's None.)
            doc: g.maybe(8, |g| g.json(3)).filter(|d| !d.is_null()),
            at: format!("{}T{}+00:00", g.date(), g.clock()),
            bytes: g.maybe(8, |g| g.bytes(30)),
            flag: g.0.bool(),
        }
    }

    /// A sink that fails after its `fail_after`th write committed: a crash
    /// between the sink's commit and the bookmark.
    struct Flaky<K> {
        inner: K,
        fail_after: Option<usize>,
        writes: usize,
    }

    impl<K: Sink> Sink for Flaky<K> {
        fn connector_name(&self) -> &'static str {
            self.inner.connector_name()
        }

        fn batch_size(&self) -> usize {
            self.inner.batch_size()
        }

        async fn open(&mut self, ctx: OpenContext<'_>) -> faucet_runtime::Result<()> {
            self.inner.open(ctx).await
        }

        async fn flush(&mut self) -> faucet_runtime::Result<Option<Value>> {
            self.inner.flush().await
        }

        async fn check_no_earlier_lineage(&mut self, state_key: &str) -> faucet_runtime::Result<()> {
            self.inner.check_no_earlier_lineage(state_key).await
        }
    }

    impl<R: RecordType, K: Writes<R>> Writes<R> for Flaky<K> {
        async fn write_batch(
            &mut self,
            batch: &[R],
            token: CommitToken,
        ) -> faucet_runtime::Result<WriteOutcome> {
            let outcome = self.inner.write_batch(batch, token).await?;
            self.writes += 1;
            if Some(self.writes) == self.fail_after {
                return Err(FaucetError::sink("injected: the process died after the commit"));
            }
            Ok(outcome)
        }
    }

    /// A state store whose `fail_at`th write fails: a crash while saving a bookmark.
    struct FlakyStore {
        inner: FileStore,
        fail_at: Option<usize>,
        puts: AtomicUsize,
    }

    impl StateStore for FlakyStore {
        fn store_name(&self) -> &'static str {
            "file"
        }

        async fn get(&self, key: &str) -> faucet_runtime::Result<Option<Value>> {
            self.inner.get(key).await
        }

        async fn put(&self, key: &str, value: &Value) -> faucet_runtime::Result<()> {
            if Some(self.puts.fetch_add(1, Ordering::SeqCst) + 1) == self.fail_at {
                return Err(FaucetError::state("injected: the process died saving the bookmark"));
            }
            self.inner.put(key, value).await
        }

        async fn delete(&self, key: &str) -> faucet_runtime::Result<()> {
            self.inner.delete(key).await
        }

        async fn put_if_absent(&self, key: &str, value: &Value) -> faucet_runtime::Result<Value> {
            self.inner.put_if_absent(key, value).await
        }
    }

    fn sink(db: &str) -> SqliteSink {
        SqliteSink::new(SqliteSinkConfig {
            database_url: format!("sqlite://{db}"),
            table_name: "out".into(),
            column_mapping: ColumnMapping::AutoMap,
            write: TableWrite {
                create_table: true,
                unmapped_fields: UnmappedFields::AddColumn,
                batch_size: 500,
                write_mode: WriteMode::Append,
                key: Vec::new(),
                delete_marker: None,
                columns: Some(SCHEMA.fields),
            },
        })
    }

    fn input(dir: &Path) -> JsonlSource {
        let mut config = JsonlSourceConfig::new(dir.join("in.jsonl").to_str().unwrap());
        config.batch_size = 700;
        JsonlSource::new(config)
    }

    /// One typed run; the sink fails after its `fail_write`th write, the
    /// store on its `fail_put`th bookmark.
    async fn typed_run(
        dir: &Path,
        fail_write: Option<usize>,
        fail_put: Option<usize>,
    ) -> faucet_runtime::Result<RunReport> {
        let source = IntoTyped::<Record>::into_typed(input(dir));
        let sink =
            Flaky { inner: sink(dir.join("typed.db").to_str().unwrap()), fail_after: fail_write, writes: 0 };
        let store = FlakyStore {
            inner: FileStore::new(dir.join("state")),
            fail_at: fail_put,
            puts: AtomicUsize::new(0),
        };
        Pipeline::new(source, sink).with_state(store).with_name("typed_to_sqlite").run().await
    }

    /// The table's rows, in id order, as the untyped `sqlite` source reads them.
    async fn rows(db: &Path) -> Vec<Value> {
        let source = SqliteSource::new(SqliteSourceConfig {
            database_url: format!("sqlite://{}", db.display()),
            input: SqliteInput::Query { sql: "SELECT * FROM out ORDER BY id".into(), params: vec![] },
            replication_key: None,
            batch_size: 1000,
        });
        read(source).await.0
    }

    #[tokio::test]
    async fn a_typed_run_that_dies_and_reruns_writes_every_row_once() {
        let mut g = Gen(rng(5));
        let records: Vec<Record> = (1..=RECORDS).map(|id| record(&mut g, id)).collect();
        let dir = tempfile::tempdir().unwrap();
        let lines: String =
            records.iter().map(|r| format!("{}\n", serde_json::to_string(r).unwrap())).collect();
        std::fs::write(dir.path().join("in.jsonl"), lines).unwrap();

        let mut written = Vec::new();
        for (fail_write, fail_put) in [(Some(4), None), (None, Some(3)), (Some(6), None)] {
            let error = typed_run(dir.path(), fail_write, fail_put).await.unwrap_err();
            assert!(error.message().contains("injected"), "{error}");
            written.push(rows(&dir.path().join("typed.db")).await.len());
        }
        // Each run died mid-way, after writing more.
        assert!(written[0] > 0 && written.windows(2).all(|w| w[0] < w[1]), "{written:?}");
        assert!(written[2] < RECORDS as usize, "{written:?}");
        let report = typed_run(dir.path(), None, None).await.unwrap();
        assert!(report.records_written < RECORDS as u64, "the rerun resumed: {report:?}");

        let got = rows(&dir.path().join("typed.db")).await;
        assert_eq!(got.len(), RECORDS as usize, "every row once");
        for (row, want) in got.iter().zip(&records) {
            let doc: Option<Value> = row["doc"].as_str().map(|d| serde_json::from_str(d).unwrap());
            let read = Record {
                id: row["id"].as_i64().unwrap(),
                big: row["big"].as_i64().unwrap(),
                ratio: row["ratio"].as_f64(),
                amount: rt::schema::Decimal(row["amount"].as_str().unwrap().to_owned()),
                note: Some(row["note"].as_str().map(str::to_owned)),
                doc,
                at: row["at"].as_str().unwrap().to_owned(),
                bytes: row["bytes"].as_str().map(str::to_owned),
                flag: row["flag"].as_bool().unwrap(),
            };
            // An absent note is a NULL in the table.
            let want = Record { note: Some(want.note.clone().flatten()), ..want.clone() };
            assert_eq!(read, want, "row {}", want.id);
            assert_eq!(read.ratio.map(f64::to_bits), want.ratio.map(f64::to_bits), "row {}", want.id);
        }

        // The untyped pipeline makes the same table.
        let untyped = dir.path().join("untyped.db");
        Pipeline::new(input(dir.path()), sink(untyped.to_str().unwrap())).run().await.unwrap();
        assert_eq!(rows(&untyped).await, got);
    }
}

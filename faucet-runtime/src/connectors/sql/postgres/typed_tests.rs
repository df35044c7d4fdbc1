//! Typed records against the PostgreSQL server on 127.0.0.1:5432, each test
//! in its own schema. [`generated`] is the struct faucet-gen generates for
//! table `src`, with its `RecordType` written out as the generator writes it.
//! The source reads rows straight into it, the sink writes it field by field
//! (binary COPY, text COPY, bound statements): every value must arrive
//! exactly, and the typed path must give what the untyped one gives.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row as _;

use super::testdb::TestSchema;
use super::tests::{SCOPE, failed, opened, rows, sink_config, source_config, table, token};
use super::*;
use crate::error::ErrorKind;
use crate::page::Page;
use crate::pipeline::Pipeline;
use crate::record::RecordType;
use crate::sink::Writes;
use crate::source::Source;
use crate::state::MemoryStore;
use crate::typed_source::IntoTyped;

/// What faucet-gen writes for table `src`, and the `RecordType` of its
/// records: fields by index in `SCHEMA`'s order, decimals and timestamps as
/// text, JSON as JSON, a list as nested.
pub(super) mod generated {
    use std::borrow::Cow;

    use serde_json::Value;

    use crate::record::{self, FieldValue, RecordType};
    use crate::schema::{Decimal, Field, FieldType, Schema};

    const fn field(name: &'static str, ty: FieldType, nullable: bool) -> Field {
        Field { name, ty, nullable, required: true }
    }

    pub const SCHEMA: Schema = Schema {
        fields: &[
            field("id", FieldType::Integer, false),
            field("small", FieldType::Integer, false),
            field("big", FieldType::Integer, true),
            field("dbl", FieldType::Number, true),
            field("num", FieldType::Decimal { precision: None, scale: None }, true),
            field("price", FieldType::Decimal { precision: Some(12), scale: Some(2) }, true),
            field("label", FieldType::String, true),
            field("flag", FieldType::Boolean, true),
            field("doc", FieldType::Json, true),
            field("raw", FieldType::Json, true),
            field("ts", FieldType::Timestamp { time_zone: false }, true),
            field("tstz", FieldType::Timestamp { time_zone: true }, true),
            field("day", FieldType::Date, true),
            field("at", FieldType::Time, true),
            field("bytes", FieldType::Binary, true),
            field("tags", FieldType::Array { items: &FieldType::String }, true),
        ],
        open: false,
        origin: "PostgreSQL table `src`",
    };

    /// One row of `src`.
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Row {
        pub id: i64,
        pub small: i64,
        pub big: Option<i64>,
        pub dbl: Option<f64>,
        pub num: Option<Decimal>,
        pub price: Option<Decimal>,
        pub label: Option<String>,
        pub flag: Option<bool>,
        pub doc: Option<Value>,
        pub raw: Option<Value>,
        pub ts: Option<String>,
        pub tstz: Option<String>,
        pub day: Option<String>,
        pub at: Option<String>,
        pub bytes: Option<String>,
        pub tags: Option<Vec<String>>,
    }

    fn text(value: Option<&str>) -> FieldValue<'_> {
        value.map_or(FieldValue::Null, FieldValue::Text)
    }

    impl RecordType for Row {
        const SCHEMA: Option<&'static Schema> = Some(&SCHEMA);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => FieldValue::Int(self.id),
                1 => FieldValue::Int(self.small),
                2 => self.big.map_or(FieldValue::Null, FieldValue::Int),
                3 => self.dbl.map_or(FieldValue::Null, FieldValue::Float),
                4 => text(self.num.as_ref().map(|d| d.0.as_str())),
                5 => text(self.price.as_ref().map(|d| d.0.as_str())),
                6 => text(self.label.as_deref()),
                7 => self.flag.map_or(FieldValue::Null, FieldValue::Bool),
                8 => self.doc.as_ref().map_or(FieldValue::Null, FieldValue::Json),
                9 => self.raw.as_ref().map_or(FieldValue::Null, FieldValue::Json),
                10 => text(self.ts.as_deref()),
                11 => text(self.tstz.as_deref()),
                12 => text(self.day.as_deref()),
                13 => text(self.at.as_deref()),
                14 => text(self.bytes.as_deref()),
                15 => self.tags.as_ref().map_or(FieldValue::Null, |_| FieldValue::Nested),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> Cow<'_, Value> {
            record::json_of(self)
        }

        fn from_json(value: Value) -> crate::Result<Self> {
            record::from_json_value(value)
        }
    }

    pub const LABELLED: Schema = Schema {
        fields: &[field("id", FieldType::Integer, false), field("label", FieldType::String, false)],
        open: false,
        origin: "declared",
    };

    /// A declared schema that says `label` is never null.
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Labelled {
        pub id: i64,
        pub label: String,
    }

    impl RecordType for Labelled {
        const SCHEMA: Option<&'static Schema> = Some(&LABELLED);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => FieldValue::Int(self.id),
                1 => FieldValue::Text(&self.label),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> Cow<'_, Value> {
            record::json_of(self)
        }

        fn from_json(value: Value) -> crate::Result<Self> {
            record::from_json_value(value)
        }
    }
}

use generated::{Labelled, Row};

/// Every type the source maps, with the values that are hard to keep:
/// integer and double extremes, numerics of 40 digits, text with COPY's
/// special characters (tab, line breaks, backslashes, `\N`, `\.`), JSON whose
/// numbers keep their text, BC dates, infinity, bytes with a backslash.
const SOURCE_TABLE: &str = r#"
    CREATE TABLE src (id bigint PRIMARY KEY, small smallint NOT NULL, big bigint, dbl double precision,
        num numeric, price numeric(12, 2), label text, flag boolean, doc jsonb, raw json, ts timestamp,
        tstz timestamptz, day date, at time, bytes bytea, tags text[]);
    INSERT INTO src VALUES
    (1, 32767, 9223372036854775807, 0.30000000000000004, 123456789012345678901234567890.123456789012, 12345.60,
     E'tab\there\nnew line\r\n\\back\\slash \\N \\. ünï 😀', true, '{"a": [1, 2.50, null], "s": "q\"uote\\"}',
     '{"z": 1, "a": [true, 1e3, 0.1000]}', '2024-02-29 23:59:59.123456', '2024-02-29 23:59:59.123456+05',
     '2024-02-29', '13:14:15.5', '\x00ff5c0a09', '{a,"b c","q\"d","back\\slash"}'),
    (2, -32768, -9223372036854775808, -1.7976931348623157e308, -0.000000000000000000000000000000000000001, -0.01,
     '', false, '[]', '"just a string"', '0044-03-15 10:00:00.25 BC', 'infinity', '0001-01-01 BC', '24:00:00',
     '\x', '{}'),
    (3, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (4, 1, 0, 5e-324, 0, 0, E'\\.', NULL, '{"nested": {"deep": [{"x": "\\n"}]}}', 'null', NULL,
     '1970-01-01 00:00:00.000001+00', NULL, NULL, NULL, '{""}');
"#;

/// Reads every page of `source`.
async fn pages<S: Source>(mut source: S) -> Vec<Page<S::Record>> {
    source.resume(None).await.unwrap();
    let mut pages = Vec::new();
    while let Some(page) = source.next_page().await.unwrap() {
        pages.push(page);
    }
    pages
}

/// The records of table `src` (three per page), as `R`.
async fn read<R: RecordType>(db: &TestSchema) -> Vec<R> {
    let source: PostgresSource<R> =
        PostgresSource::new(source_config(table(&db.name, "src"), None, 3)).into_typed();
    let pages = pages(source).await;
    assert!(pages.iter().all(|p| p.rejects.is_empty()));
    pages.into_iter().flat_map(|p| p.records).collect()
}

/// The rows of `a` and `b` (tables or queries) that differ, joined on `id`, compared as JSON.
async fn differences(db: &mut TestSchema, a: &str, b: &str) -> i64 {
    let sql = format!(
        "SELECT count(*)::int8 FROM ({a}) a FULL JOIN ({b}) b ON a.id = b.id \
         WHERE to_jsonb(a) IS DISTINCT FROM to_jsonb(b)"
    );
    rows(db, &sql).await[0].get(0)
}

/// Each row of `table` as PostgreSQL prints it, in id order.
async fn printed(db: &mut TestSchema, table: &str) -> Vec<String> {
    let sql = format!("SELECT t::text FROM {table} t ORDER BY id");
    rows(db, &sql).await.iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn typed_rows_keep_every_value_and_read_as_the_untyped_records() {
    let mut db = TestSchema::new("pg_typed_read").await;
    db.exec(SOURCE_TABLE).await;
    let typed: Vec<Row> = read(&db).await;
    let untyped: Vec<Value> = read(&db).await;
    assert_eq!(typed.len(), 4);
    // The same JSON, to the text.
    for (typed, untyped) in typed.iter().zip(&untyped) {
        assert_eq!(&*typed.to_json(), untyped);
        assert_eq!(serde_json::to_string(typed).unwrap(), serde_json::to_string(untyped).unwrap());
    }
    let (first, second) = (&typed[0], &typed[1]);
    assert_eq!(
        (first.small, first.big, second.small, second.big),
        (32767, Some(i64::MAX), -32768, Some(i64::MIN))
    );
    assert_eq!(first.dbl, Some(0.30000000000000004));
    assert_eq!(second.dbl, Some(f64::MIN));
    assert_eq!(typed[3].dbl, Some(5e-324));
    assert_eq!(first.num.as_ref().unwrap().0, "123456789012345678901234567890.123456789012");
    assert_eq!(second.num.as_ref().unwrap().0, "-0.000000000000000000000000000000000000001");
    assert_eq!(first.price.as_ref().unwrap().0, "12345.60");
    assert_eq!(first.label.as_deref(), Some("tab\there\nnew line\r\n\\back\\slash \\N \\. ünï 😀"));
    assert_eq!(typed[3].label.as_deref(), Some("\\."));
    assert_eq!(serde_json::to_string(&first.doc).unwrap(), r#"{"a":[1,2.50,null],"s":"q\"uote\\"}"#);
    assert_eq!(serde_json::to_string(&first.raw).unwrap(), r#"{"z":1,"a":[true,1e+3,0.1000]}"#);
    assert_eq!(second.raw, Some(json!("just a string")));
    assert_eq!(typed[3].raw, None, "JSON null reads as null");
    assert_eq!(first.ts.as_deref(), Some("2024-02-29T23:59:59.123456"));
    assert_eq!(first.tstz.as_deref(), Some("2024-02-29T18:59:59.123456+00:00"));
    assert_eq!(second.ts.as_deref(), Some("0044-03-15T10:00:00.25 BC"));
    assert_eq!((second.tstz.as_deref(), second.day.as_deref()), (Some("infinity"), Some("0001-01-01 BC")));
    assert_eq!((first.day.as_deref(), first.at.as_deref()), (Some("2024-02-29"), Some("13:14:15.5")));
    assert_eq!(
        first.bytes.as_deref(),
        Some(crate::connectors::base64(&[0, 0xff, b'\\', b'\n', b'\t']).as_str())
    );
    assert_eq!(second.bytes.as_deref(), Some(""));
    assert_eq!(first.tags, Some(vec!["a".into(), "b c".into(), "q\"d".into(), "back\\slash".into()]));
    assert_eq!(typed[2].big, None);
    db.drop_now().await;
}

#[tokio::test]
async fn typed_and_untyped_writes_give_the_source_table_by_copy_and_by_upsert() {
    let mut db = TestSchema::new("pg_typed_write").await;
    db.exec(SOURCE_TABLE).await;
    let typed: Vec<Row> = read(&db).await;
    let untyped: Vec<Value> = read(&db).await;
    // numeric and timestamp columns: text COPY for both record types.
    for (name, upsert) in [("by_copy", false), ("by_upsert", true)] {
        for suffix in ["typed", "json"] {
            let table = format!("{name}_{suffix}");
            db.exec(&format!("CREATE TABLE {table} (LIKE src INCLUDING ALL)")).await;
            let mut cfg = sink_config(&db.name, &table);
            if upsert {
                cfg.write.write_mode = WriteMode::Upsert;
                cfg.write_method = WriteMethod::Insert;
                cfg.write.key = vec!["id".into()];
            }
            let mut sink = opened(cfg, &format!("{SCOPE}::{table}")).await;
            let outcome = match suffix {
                "typed" => sink.write_batch(&typed, token(1, 0)).await.unwrap(),
                _ => sink.write_batch(&untyped, token(1, 0)).await.unwrap(),
            };
            assert_eq!((outcome.written, failed(&outcome)), (4, vec![]), "{table}");
            assert_eq!(differences(&mut db, "TABLE src", &format!("TABLE {table}")).await, 0, "{table}");
        }
        let (typed_rows, json_rows) = (format!("{name}_typed"), format!("{name}_json"));
        assert_eq!(printed(&mut db, &typed_rows).await, printed(&mut db, &json_rows).await, "{name}");
    }
    // A replayed batch writes nothing.
    let mut sink = opened(sink_config(&db.name, "by_copy_typed"), &format!("{SCOPE}::by_copy_typed")).await;
    assert!(sink.write_batch(&typed, token(1, 0)).await.unwrap().already_committed);
    let count: i64 = rows(&mut db, "SELECT count(*)::int8 FROM by_copy_typed").await[0].get(0);
    assert_eq!(count, 4);
    db.drop_now().await;
}

#[tokio::test]
async fn a_table_created_from_a_typed_batch_has_each_fields_declared_type() {
    let mut db = TestSchema::new("pg_typed_create").await;
    db.exec(SOURCE_TABLE).await;
    let typed: Vec<Row> = read(&db).await;
    let mut cfg = sink_config(&db.name, "made");
    cfg.write.create_table = true;
    cfg.write.columns = Some(generated::SCHEMA.fields);
    let mut sink = opened(cfg, SCOPE).await;
    let outcome = sink.write_batch(&typed, token(1, 0)).await.unwrap();
    assert_eq!((outcome.written, failed(&outcome)), (4, vec![]));
    let types = rows(
        &mut db,
        "SELECT string_agg(column_name || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) \
         FROM information_schema.columns c JOIN pg_attribute a ON a.attrelid = 'made'::regclass AND a.attname = c.column_name \
         WHERE c.table_schema = current_schema() AND c.table_name = 'made'",
    )
    .await;
    assert_eq!(
        types[0].get::<String, _>(0),
        "id bigint, small bigint, big bigint, dbl double precision, num numeric, price numeric(12,2), label text, \
         flag boolean, doc jsonb, raw jsonb, ts timestamp without time zone, tstz timestamp with time zone, day date, \
         at time without time zone, bytes bytea, tags jsonb"
    );
    assert_eq!(differences(&mut db, "TABLE src", "TABLE made").await, 0);
    db.drop_now().await;
}

#[tokio::test]
async fn binary_copy_writes_what_text_copy_writes() {
    let mut db = TestSchema::new("pg_typed_binary").await;
    db.exec(SOURCE_TABLE).await;
    let typed: Vec<Row> = read(&db).await;
    let untyped: Vec<Value> = read(&db).await;
    // Every column's type has a binary form taking its field's type; the
    // fields without a column are dropped.
    let ddl = "(id bigint, small smallint, big bigint, dbl double precision, label text, flag boolean, \
               doc jsonb, raw json, bytes bytea, tags jsonb, tstz text, day varchar(20))";
    db.exec(&format!("CREATE TABLE bin_typed {ddl}; CREATE TABLE bin_json {ddl}")).await;
    for table in ["bin_typed", "bin_json"] {
        let mut cfg = sink_config(&db.name, table);
        cfg.write.unmapped_fields = UnmappedFields::Drop;
        let mut sink = opened(cfg, &format!("{SCOPE}::{table}")).await;
        let outcome = match table {
            "bin_typed" => sink.write_batch(&typed, token(1, 0)).await.unwrap(),
            _ => sink.write_batch(&untyped, token(1, 0)).await.unwrap(),
        };
        assert_eq!((outcome.written, failed(&outcome)), (4, vec![]), "{table}");
    }
    assert_eq!(printed(&mut db, "bin_typed").await, printed(&mut db, "bin_json").await);
    let same_as_source = "SELECT id, small, big, dbl, label, flag, doc, raw::jsonb AS raw, bytes, to_jsonb(tags) AS tags, \
                          to_json(tstz) #>> '{}' AS tstz, day::text AS day FROM src";
    let written = "SELECT id, small, big, dbl, label, flag, doc, raw::jsonb AS raw, bytes, tags, tstz, day FROM bin_typed";
    assert_eq!(differences(&mut db, same_as_source, written).await, 0);

    // A value with no binary form (beyond int4) abandons the COPY: the rows are
    // inserted one by one, and the one that does not fit fails alone, as under text COPY.
    db.exec("CREATE TABLE narrow_typed (id bigint, big int4); CREATE TABLE narrow_json (LIKE narrow_typed)")
        .await;
    for table in ["narrow_typed", "narrow_json"] {
        let mut cfg = sink_config(&db.name, table);
        cfg.write.unmapped_fields = UnmappedFields::Drop;
        let mut sink = opened(cfg, &format!("{SCOPE}::{table}")).await;
        let outcome = match table {
            "narrow_typed" => sink.write_batch(&typed, token(1, 0)).await.unwrap(),
            _ => sink.write_batch(&untyped, token(1, 0)).await.unwrap(),
        };
        assert_eq!((outcome.written, failed(&outcome)), (2, vec![0, 1]), "{table}");
        assert!(
            outcome.failures[0].error.message().contains("out of range"),
            "{table}: {:?}",
            outcome.failures
        );
    }
    assert_eq!(printed(&mut db, "narrow_typed").await, ["(3,)", "(4,0)"]);
    assert_eq!(printed(&mut db, "narrow_json").await, ["(3,)", "(4,0)"]);

    // Text PostgreSQL refuses (a NUL) fails its row alone in both formats.
    let mut with_nul = typed.clone();
    with_nul[1].label = Some("a\0b".to_owned());
    let with_nul_json: Vec<Value> = with_nul.iter().map(|r| r.to_json().into_owned()).collect();
    db.exec(&format!("CREATE TABLE nul_typed {ddl}; CREATE TABLE nul_json {ddl}")).await;
    for table in ["nul_typed", "nul_json"] {
        let mut cfg = sink_config(&db.name, table);
        cfg.write.unmapped_fields = UnmappedFields::Drop;
        let mut sink = opened(cfg, &format!("{SCOPE}::{table}")).await;
        let outcome = match table {
            "nul_typed" => sink.write_batch(&with_nul, token(1, 0)).await.unwrap(),
            _ => sink.write_batch(&with_nul_json, token(1, 0)).await.unwrap(),
        };
        assert_eq!((outcome.written, failed(&outcome)), (3, vec![1]), "{table}");
    }
    assert_eq!(printed(&mut db, "nul_typed").await, printed(&mut db, "nul_json").await);
    db.drop_now().await;
}

#[tokio::test]
async fn a_row_that_does_not_fit_is_rejected_naming_its_column_and_key() {
    let mut db = TestSchema::new("pg_typed_misfit").await;
    db.exec(SOURCE_TABLE).await;
    let source: PostgresSource<Labelled> =
        PostgresSource::new(source_config(table(&db.name, "src"), None, 10)).into_typed();
    let pages = pages(source).await;
    assert_eq!(pages.len(), 1);
    let ids: Vec<i64> = pages[0].records.iter().map(|r| r.id).collect();
    assert_eq!(ids, [1, 2, 4]);
    let [reject] = &pages[0].rejects[..] else { panic!("one reject: {:?}", pages[0].rejects) };
    assert_eq!(reject.error.kind(), ErrorKind::Schema);
    assert_eq!(
        reject.error.message(),
        "the record does not fit its schema: column `label` of the row with id = 3: invalid type: null, expected a string"
    );
    assert_eq!(reject.payload["id"], json!(3));
    assert_eq!(reject.payload["label"], Value::Null);
    // The offset still counts the rejected row.
    assert_eq!(pages[0].bookmark, Some(json!({"offset": 4})));
    db.drop_now().await;
}

/// Rows of the crash test: `id`, `v`, `amount` and `doc` of table `items`.
mod items {
    use std::borrow::Cow;

    use serde_json::Value;

    use crate::record::{self, FieldValue, RecordType};
    use crate::schema::{Decimal, Field, FieldType, Schema};

    pub const SCHEMA: Schema = Schema {
        fields: &[
            Field { name: "id", ty: FieldType::Integer, nullable: false, required: true },
            Field { name: "v", ty: FieldType::String, nullable: true, required: true },
            Field {
                name: "amount",
                ty: FieldType::Decimal { precision: Some(12), scale: Some(2) },
                nullable: true,
                required: true,
            },
            Field { name: "doc", ty: FieldType::Json, nullable: true, required: true },
        ],
        open: false,
        origin: "PostgreSQL table `items`",
    };

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        pub id: i64,
        pub v: Option<String>,
        pub amount: Option<Decimal>,
        pub doc: Option<Value>,
    }

    impl RecordType for Item {
        const SCHEMA: Option<&'static Schema> = Some(&SCHEMA);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => FieldValue::Int(self.id),
                1 => self.v.as_deref().map_or(FieldValue::Null, FieldValue::Text),
                2 => self.amount.as_ref().map_or(FieldValue::Null, |d| FieldValue::Text(&d.0)),
                3 => self.doc.as_ref().map_or(FieldValue::Null, FieldValue::Json),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> Cow<'_, Value> {
            record::json_of(self)
        }

        fn from_json(value: Value) -> crate::Result<Self> {
            record::from_json_value(value)
        }
    }
}

/// The rows of `copied` that differ from `items` (missing, extra or changed), and its row count.
async fn copied(db: &mut TestSchema) -> (i64, i64) {
    let check = "SELECT count(*)::int8 FROM items s FULL JOIN copied d ON s.id = d.id \
                 WHERE (s.id, s.v, s.amount, s.doc) IS DISTINCT FROM (d.id, d.v, d.amount, d.doc)";
    let diff: i64 = rows(db, check).await[0].get(0);
    let total: i64 = rows(db, "SELECT count(*)::int8 FROM copied").await[0].get(0);
    (diff, total)
}

/// A typed PostgreSQL → PostgreSQL run, stopped dead at random points (its
/// future dropped mid-page: connections cut, transactions left open, the
/// bookmark not saved), then run again until it completes: every row is in
/// the target exactly once.
#[tokio::test]
async fn a_typed_run_cut_off_anywhere_then_rerun_writes_every_row_once() {
    const ROWS: i64 = 20_000;
    let mut db = TestSchema::new("pg_typed_crash").await;
    db.exec(&format!(
        "CREATE TABLE items (id bigint PRIMARY KEY, v text, amount numeric(12, 2), doc jsonb); \
         INSERT INTO items SELECT g, 'row ' || g || E'\\t\\\\', g / 7.0, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g % 5)) \
         FROM generate_series(1, {ROWS}) g; \
         CREATE TABLE copied (id bigint, v text, amount numeric(12, 2), doc jsonb)"
    ))
    .await;
    let store = Arc::new(MemoryStore::new());
    let schema = db.name.clone();
    let run = |store: Arc<MemoryStore>| {
        let source: PostgresSource<items::Item> =
            PostgresSource::new(source_config(table(&schema, "items"), None, 500)).into_typed();
        let mut cfg = sink_config(&schema, "copied");
        cfg.write.batch_size = 500;
        Pipeline::new(source, PostgresSink::new(cfg)).with_name("typed_crash").with_state(store).run()
    };
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut state = seed | 1;
    let mut cuts = 0;
    for _ in 0..12 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let after = Duration::from_millis(30 + (state >> 33) % 300);
        match tokio::time::timeout(after, run(Arc::clone(&store))).await {
            Err(_) => cuts += 1,
            Ok(report) => {
                report.unwrap();
                break;
            }
        }
    }
    eprintln!("seed {seed}: {cuts} run(s) cut off");
    assert!(cuts >= 1, "no run was cut off mid-way (seed {seed})");
    let report = run(Arc::clone(&store)).await.unwrap();
    eprintln!("final run: {report}");
    assert_eq!(copied(&mut db).await, (0, ROWS), "seed {seed}: no row lost, none written twice");
    // A run after completion reads nothing new and writes nothing.
    let again = run(Arc::clone(&store)).await.unwrap();
    assert_eq!(again.records_written, 0);
    assert_eq!(copied(&mut db).await, (0, ROWS));
    db.drop_now().await;
}

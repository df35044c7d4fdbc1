//! Typed records through the file connectors (issue 18): the `csv` and
//! `jsonl` sources decode each row or line straight into a generated struct,
//! the sinks encode it straight from the struct, and the object-store
//! variants do the same.
//!
//! The structs are written by hand exactly as faucet-gen generates them (see
//! faucet-gen/tests/codegen/typed_*.rs), with the obvious `RecordType` impl.
//! A seeded generator makes records with every value that is hard to carry:
//! i64 extremes, doubles from random bit patterns, decimals with many digits,
//! strings from every part of Unicode with quotes, delimiters, line breaks and
//! control characters, nulls and absent fields, lists and JSON documents.
//! Checked: values arrive exactly; for the same input the typed and the
//! untyped paths write the same bytes; what does not fit is rejected with a
//! schema error naming the field and the line (reason `schema` in the DLQ);
//! a typed run stopped midway and rerun writes every row exactly once.
//!
//! `FAUCET_TYPED_RECORDS` sets the records per test (default 1500),
//! `FAUCET_TYPED_SEED` the seed (default: fixed; a failure prints it).
#![cfg(feature = "files")]

use std::path::Path;

use faucet_runtime::connectors::files::{
    CsvSink, CsvSinkConfig, CsvSource, CsvSourceConfig, JsonlSink, JsonlSinkConfig, JsonlSource,
    JsonlSourceConfig, OnParseError,
};
use faucet_runtime::dlq::Dlq;
use faucet_runtime::state::FileStore;
use faucet_runtime::{
    CancellationToken, CommitToken, ErrorKind, FnTransform, IntoTyped, OpenContext, Page, Pipeline,
    RecordType, RunReport, Source, Writes,
};
use serde_json::{Number, Value, json};

fn record_count() -> usize {
    std::env::var("FAUCET_TYPED_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(1500)
}

fn seed() -> u64 {
    std::env::var("FAUCET_TYPED_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0x18_7e5)
}

/// A pipeline module as faucet-gen writes it for a declared schema.
mod orders {
    use faucet_runtime::__private as rt;

    /// The fields of the records.
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
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "amount",
                ty: rt::schema::FieldType::Decimal { precision: None, scale: None },
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "Customer Name",
                ty: rt::schema::FieldType::String,
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
                name: "flag",
                ty: rt::schema::FieldType::Boolean,
                nullable: true,
                required: true,
            },
            rt::schema::Field {
                name: "tags",
                ty: rt::schema::FieldType::Array { items: &rt::schema::FieldType::String },
                nullable: false,
                required: true,
            },
            rt::schema::Field {
                name: "doc",
                ty: rt::schema::FieldType::Json,
                nullable: true,
                required: true,
            },
        ],
        open: false,
        origin: "declared in a test",
    };

    /// One record, as [`SCHEMA`] describes it.
    #[derive(Debug, Clone, PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
    #[serde(crate = "rt::serde")]
    pub struct Record {
        /// `id`: integer.
        pub id: i64,
        /// `big`: integer.
        pub big: i64,
        /// `ratio`: number.
        pub ratio: f64,
        /// `amount`: decimal, nullable.
        pub amount: Option<rt::schema::Decimal>,
        /// `Customer Name`: string.
        #[serde(rename = "Customer Name")]
        pub customer_name: String,
        /// `note`: string, nullable, may be absent.
        #[serde(
            default,
            deserialize_with = "rt::schema::present",
            skip_serializing_if = "::core::option::Option::is_none"
        )]
        pub note: Option<Option<String>>,
        /// `flag`: boolean, nullable.
        pub flag: Option<bool>,
        /// `tags`: array of string.
        pub tags: Vec<String>,
        /// `doc`: json, nullable.
        pub doc: Option<rt::serde_json::Value>,
    }

    impl rt::RecordType for Record {
        const SCHEMA: Option<&'static rt::schema::Schema> = Some(&SCHEMA);

        fn field(&self, index: usize, _name: &str) -> rt::FieldValue<'_> {
            use rt::FieldValue;
            match index {
                0 => FieldValue::Int(self.id),
                1 => FieldValue::Int(self.big),
                2 => FieldValue::Float(self.ratio),
                3 => self.amount.as_ref().map_or(FieldValue::Null, |d| FieldValue::Text(&d.0)),
                4 => FieldValue::Text(&self.customer_name),
                5 => match &self.note {
                    None => FieldValue::Absent,
                    Some(None) => FieldValue::Null,
                    Some(Some(note)) => FieldValue::Text(note),
                },
                6 => self.flag.map_or(FieldValue::Null, FieldValue::Bool),
                7 => FieldValue::Nested,
                8 => self.doc.as_ref().map_or(FieldValue::Null, FieldValue::Json),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> std::borrow::Cow<'_, rt::serde_json::Value> {
            rt::record::json_of(self)
        }

        fn from_json(value: rt::serde_json::Value) -> rt::Result<Self> {
            rt::record::from_json_value(value)
        }
    }

    /// The same fields, every one declared a string.
    pub const STRINGS: rt::schema::Schema = rt::schema::Schema {
        fields: &[
            text("id"),
            text("big"),
            text("ratio"),
            text("amount"),
            text("Customer Name"),
            text("note"),
            text("flag"),
            text("tags"),
            text("doc"),
        ],
        open: false,
        origin: "declared in a test, every field a string",
    };

    const fn text(name: &'static str) -> rt::schema::Field {
        rt::schema::Field { name, ty: rt::schema::FieldType::String, nullable: false, required: true }
    }

    /// One record of [`STRINGS`].
    #[derive(Debug, Clone, PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
    #[serde(crate = "rt::serde")]
    pub struct Strings {
        pub id: String,
        pub big: String,
        pub ratio: String,
        pub amount: String,
        #[serde(rename = "Customer Name")]
        pub customer_name: String,
        pub note: String,
        pub flag: String,
        pub tags: String,
        pub doc: String,
    }

    impl rt::RecordType for Strings {
        const SCHEMA: Option<&'static rt::schema::Schema> = Some(&STRINGS);

        fn field(&self, index: usize, _name: &str) -> rt::FieldValue<'_> {
            let text = match index {
                0 => &self.id,
                1 => &self.big,
                2 => &self.ratio,
                3 => &self.amount,
                4 => &self.customer_name,
                5 => &self.note,
                6 => &self.flag,
                7 => &self.tags,
                8 => &self.doc,
                _ => return rt::FieldValue::Absent,
            };
            rt::FieldValue::Text(text)
        }

        fn to_json(&self) -> std::borrow::Cow<'_, rt::serde_json::Value> {
            rt::record::json_of(self)
        }

        fn from_json(value: rt::serde_json::Value) -> rt::Result<Self> {
            rt::record::from_json_value(value)
        }
    }
}

use orders::{Record, Strings};

// --- the generator ------------------------------------------------------------

/// What a format can carry of a record.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    /// Everything.
    Jsonl,
    /// A CSV row has every column, and an empty field is the empty string
    /// for a string and null for the rest: `note` is always a string, and
    /// `doc` a JSON document that does not read back as another (an object,
    /// a list or a number, not a string that could spell one).
    Csv,
}

/// A seeded generator of records.
struct Gen {
    rng: fastrand::Rng,
}

impl Gen {
    fn new(salt: u64) -> Self {
        Gen { rng: fastrand::Rng::with_seed(seed() ^ salt) }
    }

    fn records(&mut self, count: usize, format: Format) -> Vec<Record> {
        (0..count as i64).map(|id| self.record(id, format)).collect()
    }

    fn record(&mut self, id: i64, format: Format) -> Record {
        const EXTREMES: [i64; 6] = [i64::MIN, i64::MAX, 0, -1, i64::MIN + 1, 9_007_199_254_740_993];
        let big = if self.rng.bool() { EXTREMES[self.rng.usize(..EXTREMES.len())] } else { self.rng.i64(..) };
        let note = match (format, self.rng.usize(..3)) {
            (Format::Jsonl, 0) => None,
            (Format::Jsonl, 1) => Some(None),
            _ => Some(Some(self.string(20))),
        };
        let doc = match (format, self.rng.usize(..4)) {
            (Format::Jsonl, 0) => None,
            (Format::Jsonl, 1) => Some(Value::String(self.string(10))),
            (_, 2) => Some(Value::Number(self.exact_number())),
            (_, 3) => Some(Value::Array(vec![Value::Null, Value::Bool(true), Value::String(self.string(8))])),
            _ => {
                Some(json!({"n": Value::Number(self.exact_number()), "s": self.string(12), "in": {"x": []}}))
            }
        };
        Record {
            id,
            big,
            ratio: self.double(),
            amount: self.rng.bool().then(|| faucet_runtime::schema::Decimal(self.decimal())),
            customer_name: self.string(30),
            note,
            flag: [None, Some(true), Some(false)][self.rng.usize(..3)],
            tags: (0..self.rng.usize(..4)).map(|_| self.string(6)).collect(),
            doc,
        }
    }

    /// A finite double from a random bit pattern, or an edge case.
    fn double(&mut self) -> f64 {
        const EDGES: [f64; 7] = [0.0, -0.0, 0.1, 5e-324, f64::MAX, f64::MIN_POSITIVE, 0.48806805903541084];
        if self.rng.usize(..4) == 0 {
            return EDGES[self.rng.usize(..EDGES.len())];
        }
        loop {
            let f = f64::from_bits(self.rng.u64(..));
            if f.is_finite() {
                return f;
            }
        }
    }

    /// A decimal's text: up to 40 digits before the point and 30 after, trailing zeros kept.
    fn decimal(&mut self) -> String {
        let digits = |rng: &mut fastrand::Rng, n: usize| (0..n).map(|_| rng.digit(10)).collect::<String>();
        let length = self.rng.usize(1..40);
        let int = digits(&mut self.rng, length);
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let sign = if self.rng.bool() { "-" } else { "" };
        match self.rng.usize(..3) {
            0 => format!("{sign}{int}"),
            _ => {
                let length = self.rng.usize(1..30);
                format!("{sign}{int}.{}", digits(&mut self.rng, length))
            }
        }
    }

    /// A JSON number beyond what a double holds, kept as its text.
    fn exact_number(&mut self) -> Number {
        let text = match self.rng.usize(..4) {
            0 => "123456789012345678901234567890".to_owned(),
            1 => format!("{}.{}00", self.rng.u64(..), self.rng.u32(..)),
            2 => "-1.7976931348623158e+308".to_owned(),
            _ => self.rng.i64(..).to_string(),
        };
        text.parse().expect("a JSON number")
    }

    /// A string of up to `max` characters from every part of Unicode,
    /// quotes, delimiters, line breaks and control characters included.
    fn string(&mut self, max: usize) -> String {
        (0..self.rng.usize(..=max))
            .map(|_| match self.rng.usize(..12) {
                0..=4 => self.rng.char('a'..='z'),
                5 => [',', '"', '\'', '\\', ';', ' '][self.rng.usize(..6)],
                6 => ['\n', '\r', '\t', '\u{0}', '\u{1f}', '\u{7f}'][self.rng.usize(..6)],
                7 => self.rng.char('\u{80}'..='\u{7ff}'),
                8 => self.rng.char('\u{800}'..='\u{d7ff}'),
                9 => ['\u{2028}', '\u{feff}', '\u{fffd}', 'é', 'e', '\u{301}'][self.rng.usize(..6)],
                10 => self.rng.char('\u{1f300}'..='\u{1faff}'),
                _ => self.rng.char('\u{10000}'..='\u{10ffff}'),
            })
            .collect()
    }
}

// --- plumbing ------------------------------------------------------------------

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn jsonl_source(path: &Path, batch_size: usize) -> JsonlSource {
    let mut config = JsonlSourceConfig::new(path_str(path));
    config.batch_size = batch_size;
    JsonlSource::new(config)
}

fn csv_source(path: &Path, batch_size: usize, on_parse_error: OnParseError) -> CsvSource {
    let mut config = CsvSourceConfig::new(path_str(path));
    config.batch_size = batch_size;
    config.on_parse_error = on_parse_error;
    CsvSource::new(config)
}

fn jsonl_sink(path: &Path) -> JsonlSink {
    JsonlSink::new(JsonlSinkConfig::new(path_str(path)))
}

fn csv_sink(path: &Path) -> CsvSink {
    CsvSink::new(CsvSinkConfig::new(path_str(path)))
}

/// Runs `source` into `sink` with no state store.
async fn copy<S: Source, K: Writes<S::Record>>(source: S, sink: K) -> RunReport {
    Pipeline::new(source, sink).with_name("typed_files").run().await.expect("the copy runs")
}

/// Every page `source` gives, from its start.
async fn pages<S: Source>(mut source: S) -> faucet_runtime::Result<Vec<Page<S::Record>>> {
    source.resume(None).await?;
    let mut pages = Vec::new();
    while let Some(page) = source.next_page().await? {
        pages.push(page);
    }
    Ok(pages)
}

/// Every record `source` gives, which must reject nothing.
async fn records<S: Source>(source: S) -> Vec<S::Record> {
    let pages = pages(source).await.expect("the source reads");
    for page in &pages {
        assert!(page.rejects.is_empty(), "rejected: {:?} (seed {})", page.rejects, seed());
    }
    pages.into_iter().flat_map(|p| p.records).collect()
}

/// Writes `records` to `sink` in batches of 97, as one run.
async fn write_all<R: RecordType, K: Writes<R>>(mut sink: K, records: &[R]) {
    sink.open(OpenContext { scope: "typed_files::row-0::a", checkpoint: None }).await.unwrap();
    for (seq, batch) in records.chunks(97).enumerate() {
        let outcome = sink.write_batch(batch, CommitToken { seq: seq as u64 + 1, part: 0 }).await.unwrap();
        assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    }
    sink.flush().await.unwrap();
}

/// Each record's exact JSON text: equal texts, equal values (a double's every
/// bit, a decimal's every digit, absent and null told apart).
fn texts<R: serde::Serialize>(records: &[R]) -> Vec<String> {
    records.iter().map(|r| serde_json::to_string(r).unwrap()).collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

// --- exact values, typed = untyped ---------------------------------------------

#[tokio::test]
async fn jsonl_records_arrive_exactly_and_typed_writes_what_untyped_writes() {
    let dir = tempfile::tempdir().unwrap();
    let want = Gen::new(1).records(record_count(), Format::Jsonl);
    let input = dir.path().join("in.jsonl");
    let text: String = texts(&want).iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(&input, &text).unwrap();

    let got: Vec<Record> = records(jsonl_source(&input, 64).into_typed()).await;
    assert_eq!(texts(&got), texts(&want), "seed {}", seed());
    assert_eq!(got, want);

    let (typed, untyped) = (dir.path().join("typed.jsonl"), dir.path().join("untyped.jsonl"));
    let report = copy(IntoTyped::<Record>::into_typed(jsonl_source(&input, 64)), jsonl_sink(&typed)).await;
    assert_eq!(report.records_written, want.len() as u64);
    copy(jsonl_source(&input, 64), jsonl_sink(&untyped)).await;
    assert_eq!(read(&typed), read(&untyped), "seed {}", seed());
    assert_eq!(read(&typed), text, "the typed copy changed a byte (seed {})", seed());
}

#[tokio::test]
async fn csv_records_arrive_exactly_and_typed_writes_what_untyped_writes() {
    let dir = tempfile::tempdir().unwrap();
    let want = Gen::new(2).records(record_count(), Format::Csv);

    // The sink writes the same file from typed records as from their JSON.
    let (input, from_json) = (dir.path().join("in.csv"), dir.path().join("from_json.csv"));
    write_all(csv_sink(&input), &want).await;
    let json: Vec<Value> = want.iter().map(|r| r.to_json().into_owned()).collect();
    write_all(csv_sink(&from_json), &json).await;
    assert_eq!(read(&input), read(&from_json), "seed {}", seed());

    // Read back typed: every value exactly (an empty nullable field is null).
    let got: Vec<Record> = records(csv_source(&input, 64, OnParseError::Fail).into_typed()).await;
    assert_eq!(texts(&got), texts(&want), "seed {}", seed());

    // CSV -> CSV, typed and untyped: the same bytes, the input's.
    let (typed, untyped) = (dir.path().join("typed.csv"), dir.path().join("untyped.csv"));
    let source = IntoTyped::<Record>::into_typed(csv_source(&input, 64, OnParseError::Fail));
    copy(source, csv_sink(&typed)).await;
    copy(csv_source(&input, 64, OnParseError::Fail), csv_sink(&untyped)).await;
    assert_eq!(read(&typed), read(&untyped), "seed {}", seed());
    assert_eq!(read(&typed), read(&input), "seed {}", seed());

    // CSV -> JSONL with every field a string: the same bytes as untyped.
    let (typed, untyped) = (dir.path().join("strings.jsonl"), dir.path().join("untyped.jsonl"));
    let source = IntoTyped::<Strings>::into_typed(csv_source(&input, 64, OnParseError::Fail));
    copy(source, jsonl_sink(&typed)).await;
    copy(csv_source(&input, 64, OnParseError::Fail), jsonl_sink(&untyped)).await;
    assert_eq!(read(&typed), read(&untyped), "seed {}", seed());
}

#[tokio::test]
async fn csv_fields_are_read_as_their_declared_types() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "doc,tags,flag,note,Customer Name,amount,ratio,big,id,extra\n\
         \"{\"\"a\"\":[1.50,2e3]}\",\"[\"\"x\"\",\"\"y, z\"\"]\",true,,\"quoted, \"\"name\"\"\",-0.000100,0.1,-9223372036854775808,1,x\n\
         not json,[],,\"multi\nline\",ü😀,,-0,9223372036854775807,2,\n",
    )
    .unwrap();
    let got: Vec<Record> = records(csv_source(&input, 10, OnParseError::Fail).into_typed()).await;
    // A JSON number keeps its text, but for the `+` serde_json gives a positive exponent.
    assert_eq!(
        texts(&got),
        [
            r#"{"id":1,"big":-9223372036854775808,"ratio":0.1,"amount":"-0.000100","Customer Name":"quoted, \"name\"","note":"","flag":true,"tags":["x","y, z"],"doc":{"a":[1.50,2e+3]}}"#,
            r#"{"id":2,"big":9223372036854775807,"ratio":-0.0,"amount":null,"Customer Name":"ü😀","note":"multi\nline","flag":null,"tags":[],"doc":"not json"}"#,
        ]
    );
}

// --- what does not fit -----------------------------------------------------------

/// A CSV file with one good row and one misfit per kind, lines 2 to 10.
const MISFITS: &str = "id,big,ratio,amount,Customer Name,note,flag,tags,doc\n\
    1,1,1.5,1,a,,true,[],1\n\
    x,1,1.5,1,b,,true,[],1\n\
    3,1,NaN,1,\"c\nc\",,true,[],1\n\
    4,1,1.5,12a,d,,true,[],1\n\
    5,1,1.5,1,e,,yes,[],1\n\
    6,1,1.5,1,f,,true,not a list,1\n\
    ,1,1.5,1,g,,true,[],1\n\
    8,1,1.5,1,h\n\
    9,9223372036854775808,1.5,1,i,,true,[],1\n";

#[tokio::test]
async fn csv_misfits_are_schema_rejects_naming_the_field_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("misfits.csv");
    std::fs::write(&input, MISFITS).unwrap();
    let file = path_str(&input);

    let read =
        pages(IntoTyped::<Record>::into_typed(csv_source(&input, 4, OnParseError::Dlq))).await.unwrap();
    let ids: Vec<i64> = read.iter().flat_map(|p| p.records.iter().map(|r| r.id)).collect();
    assert_eq!(ids, [1]);
    let rejects: Vec<_> = read.iter().flat_map(|p| &p.rejects).collect();
    let fits = "the record does not fit its schema";
    let expected = [
        (3, ErrorKind::Schema, format!("{fits}: field `id`: expected an integer, found `x`")),
        (4, ErrorKind::Schema, format!("{fits}: field `ratio`: expected a finite number, found `NaN`")),
        (6, ErrorKind::Schema, format!("{fits}: field `amount`: expected a decimal number, found `12a`")),
        (7, ErrorKind::Schema, format!("{fits}: field `flag`: expected `true` or `false`, found `yes`")),
        (
            8,
            ErrorKind::Schema,
            format!("{fits}: field `tags`: invalid JSON: expected ident at line 1 column 2"),
        ),
        (9, ErrorKind::Schema, format!("{fits}: field `id`: expected an integer, found an empty field")),
        (10, ErrorKind::Parse, "expected 9 field(s), found 5".to_owned()),
        (
            11,
            ErrorKind::Schema,
            format!("{fits}: field `big`: expected an integer, found `9223372036854775808`"),
        ),
    ];
    assert_eq!(rejects.len(), expected.len());
    for (reject, (line, kind, what)) in rejects.iter().zip(&expected) {
        assert_eq!(reject.error.kind(), *kind, "{}", reject.error);
        assert_eq!(reject.error.message(), format!("{file}:{line}: {what}"));
        assert_eq!(reject.payload["file"], json!(file));
        assert_eq!(reject.payload["line"], json!(line));
    }
    assert_eq!(rejects[1].payload["raw"], json!("3,1,NaN,1,\"c\nc\",,true,[],1"));

    // `on_parse_error` applies to schema rejects as to parse ones.
    let error =
        pages(IntoTyped::<Record>::into_typed(csv_source(&input, 4, OnParseError::Fail))).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Schema);
    assert_eq!(error.message(), format!("{file}:3: {}", expected[0].2));
    let read =
        pages(IntoTyped::<Record>::into_typed(csv_source(&input, 4, OnParseError::Skip))).await.unwrap();
    assert_eq!(read.iter().map(|p| p.skipped).sum::<u64>(), 8);
    assert_eq!(read.iter().map(|p| p.records.len()).sum::<usize>(), 1);

    // A file without a required column: every row names it.
    let lacking = dir.path().join("lacking.csv");
    std::fs::write(
        &lacking,
        "id,big,ratio,amount,note,flag,tags,doc\n1,1,1.5,1,,true,[],1\n2,1,1.5,1,,true,[],1\n",
    )
    .unwrap();
    let read =
        pages(IntoTyped::<Record>::into_typed(csv_source(&lacking, 4, OnParseError::Dlq))).await.unwrap();
    let messages: Vec<&str> = read.iter().flat_map(|p| p.rejects.iter().map(|r| r.error.message())).collect();
    let lacking = path_str(&lacking);
    assert_eq!(
        messages,
        [2, 3].map(|line| format!("{lacking}:{line}: {fits}: missing field `Customer Name`"))
    );
}

#[tokio::test]
async fn jsonl_misfits_are_schema_rejects_and_what_is_not_json_a_parse_reject() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("misfits.jsonl");
    let good = r#"{"id":1,"big":2,"ratio":0.5,"amount":"1.10","Customer Name":"a","flag":null,"tags":[],"doc":null}"#;
    let lines = [
        good.to_owned(),
        good.replace(r#""id":1"#, r#""id":"seven""#),
        "{not json".to_owned(),
        good.replace(r#""big":2,"#, ""),
        good.replace(r#""tags":[]"#, r#""tags":[1]"#),
        good.replace(r#""id":1"#, r#""id":2"#),
    ];
    std::fs::write(&input, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let mut config = JsonlSourceConfig::new(path_str(&input));
    config.on_parse_error = OnParseError::Dlq;
    let read = pages(IntoTyped::<Record>::into_typed(JsonlSource::new(config))).await.unwrap();
    let ids: Vec<i64> = read.iter().flat_map(|p| p.records.iter().map(|r| r.id)).collect();
    assert_eq!(ids, [1, 2]);
    let rejects: Vec<_> = read.iter().flat_map(|p| &p.rejects).collect();
    let file = path_str(&input);
    let fits = "the record does not fit its schema";
    let expected = [
        (2, ErrorKind::Schema, format!("{fits}: field `id`: invalid type: string \"seven\", expected i64")),
        (3, ErrorKind::Parse, "invalid JSON: key must be a string at line 1 column 2".to_owned()),
        (4, ErrorKind::Schema, format!("{fits}: missing field `big`")),
        (5, ErrorKind::Schema, format!("{fits}: field `tags[0]`: invalid type: number, expected a string")),
    ];
    assert_eq!(rejects.len(), expected.len());
    for (reject, (line, kind, what)) in rejects.iter().zip(&expected) {
        assert_eq!(reject.error.kind(), *kind, "{}", reject.error);
        assert_eq!(reject.error.message(), format!("{file}:{line}: {what}"));
        assert_eq!(reject.payload["line"], json!(line));
    }
}

#[tokio::test]
async fn a_typed_pipeline_dead_letters_misfits_with_reason_schema() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("misfits.csv");
    std::fs::write(&input, MISFITS).unwrap();
    let (output, dead) = (dir.path().join("out.jsonl"), dir.path().join("dlq.jsonl"));
    let source = IntoTyped::<Record>::into_typed(csv_source(&input, 4, OnParseError::Dlq));
    let report = Pipeline::new(source, jsonl_sink(&output))
        .with_dlq(Dlq::new(jsonl_sink(&dead)))
        .with_name("typed_dlq")
        .run()
        .await
        .unwrap();
    assert_eq!((report.records_written, report.records_dead_lettered), (1, 8));
    assert_eq!(read(&output).lines().count(), 1);
    let envelopes: Vec<Value> = read(&dead).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let reasons: Vec<(&str, &str, u64)> = envelopes
        .iter()
        .map(|e| {
            let reason = e["reason"].as_str().unwrap();
            (reason, e["error"]["kind"].as_str().unwrap(), e["payload"]["line"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("schema", "Schema", 3),
            ("schema", "Schema", 4),
            ("schema", "Schema", 6),
            ("schema", "Schema", 7),
            ("schema", "Schema", 8),
            ("schema", "Schema", 9),
            ("parse", "Parse", 10),
            ("schema", "Schema", 11),
        ]
    );
    assert_eq!(envelopes[0]["payload"]["raw"], json!("x,1,1.5,1,b,,true,[],1"));
    assert!(
        envelopes[0]["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("field `id`: expected an integer, found `x`")
    );
}

// --- crash safety ------------------------------------------------------------------

/// A typed CSV -> JSONL run with a file state store, stopped after some pages,
/// then failed midway, then rerun: every row is written exactly once.
#[tokio::test]
async fn a_stopped_typed_run_resumes_and_writes_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let want = Gen::new(3).records(2000, Format::Csv);
    let (input, output, state) =
        (dir.path().join("in.csv"), dir.path().join("out.jsonl"), dir.path().join("state"));
    write_all(csv_sink(&input), &want).await;

    let run = |stop: Option<CancellationToken>, fail_at: Option<i64>| {
        let (input, output, state) = (input.clone(), output.clone(), state.clone());
        async move {
            let source = IntoTyped::<Record>::into_typed(csv_source(&input, 150, OnParseError::Fail));
            let cancel = stop.clone().unwrap_or_default();
            let mut seen = 0;
            let watch = FnTransform::new(move |record: Record| {
                seen += 1;
                if let Some(stop) = &stop
                    && seen == 700
                {
                    stop.cancel();
                }
                if fail_at == Some(record.id) {
                    return Err(faucet_runtime::FaucetError::custom("a failure midway"));
                }
                Ok(Some(record))
            });
            Pipeline::new(source, jsonl_sink(&output))
                .with_transform(watch)
                .with_state(FileStore::new(state))
                .with_name("typed_resume")
                .with_cancel(cancel)
                .run()
                .await
        }
    };

    let first = run(Some(CancellationToken::new()), None).await.unwrap();
    assert!(first.cancelled);
    assert!((700..2000).contains(&first.records_written), "{}", first.records_written);
    let error = run(None, Some(1500)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Custom);
    let last = run(None, None).await.unwrap();
    assert!(!last.cancelled);

    let got: Vec<Record> = records(jsonl_source(&output, 500).into_typed()).await;
    assert_eq!(got.iter().map(|r| r.id).collect::<Vec<_>>(), (0..2000).collect::<Vec<_>>());
    assert_eq!(texts(&got), texts(&want), "seed {}", seed());
}

// --- object stores -------------------------------------------------------------------

#[cfg(feature = "object-store")]
mod objects {
    use faucet_runtime::connectors::object_store::object_store::path::Path as ObjectPath;
    use faucet_runtime::connectors::object_store::object_store::{ObjectStoreExt, PutPayload};
    use faucet_runtime::connectors::object_store::{
        ObjectFormat, ObjectSink, ObjectSinkConfig, ObjectSource, ObjectSourceConfig, StoreConfig,
        memory_store,
    };

    use super::*;

    fn source(store: &str, format: ObjectFormat) -> ObjectSource {
        ObjectSource::new(ObjectSourceConfig {
            store: StoreConfig::Memory { name: store.into() },
            compression: None,
            format,
        })
    }

    /// The object-store source reads typed records as the local one does;
    /// the object-store sink writes them as the `jsonl` sink does.
    #[tokio::test]
    async fn memory_objects_read_and_write_typed_records() {
        let dir = tempfile::tempdir().unwrap();
        let want = Gen::new(4).records(record_count(), Format::Csv);
        let (csv, jsonl) = (dir.path().join("in.csv"), dir.path().join("in.jsonl"));
        write_all(csv_sink(&csv), &want).await;
        write_all(jsonl_sink(&jsonl), &want).await;
        let store = memory_store("typed_files");
        for (key, path) in [("in/a.csv", &csv), ("in/a.jsonl", &jsonl)] {
            let bytes = std::fs::read(path).unwrap();
            store.put(&ObjectPath::from(key), PutPayload::from(bytes)).await.unwrap();
        }

        let mut config = CsvSourceConfig::new("in/*.csv");
        config.batch_size = 100;
        let got: Vec<Record> = records(source("typed_files", ObjectFormat::Csv(config)).into_typed()).await;
        assert_eq!(texts(&got), texts(&want), "seed {}", seed());
        let mut config = JsonlSourceConfig::new("in/*.jsonl");
        config.batch_size = 100;
        let got: Vec<Record> = records(source("typed_files", ObjectFormat::Jsonl(config)).into_typed()).await;
        assert_eq!(texts(&got), texts(&want), "seed {}", seed());

        let sink = ObjectSink::new(ObjectSinkConfig {
            prefix: "out".into(),
            name: Some("typed".into()),
            ..ObjectSinkConfig::new(StoreConfig::Memory { name: "typed_files".into() })
        });
        write_all(sink, &want).await;
        let written =
            store.get(&ObjectPath::from("out/typed-a-000000.jsonl")).await.unwrap().bytes().await.unwrap();
        let mut text = String::from_utf8(written.to_vec()).unwrap();
        for seq in 1.. {
            let key = ObjectPath::from(format!("out/typed-a-{seq:06}.jsonl"));
            match store.get(&key).await {
                Ok(object) => text.push_str(std::str::from_utf8(&object.bytes().await.unwrap()).unwrap()),
                Err(_) => break,
            }
        }
        assert_eq!(text, read(&jsonl), "seed {}", seed());
    }
}

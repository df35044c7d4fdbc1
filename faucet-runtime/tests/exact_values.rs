//! Every value survives every source → sink pair that can carry it, exactly
//! (issue 15). One seeded generator writes records as JSON text, spelling
//! numbers and strings in every way JSON allows: integers beyond u64, decimals
//! beyond a double's precision and range, doubles from random bit patterns
//! (shortest and 17-digit forms), every escape, U+2028, astral characters as
//! raw UTF-8 and as surrogate-pair escapes, nesting up to serde_json's limit.
//! The `jsonl` source reads that text, each sink writes the records, the
//! matching source reads them back, and every value is compared exactly.
//!
//! What a store cannot hold is left out of its records and documented (see
//! docs/values.md): a SQL `double` column keeps doubles (compared bit for
//! bit), PostgreSQL refuses U+0000 in text and jsonb, MariaDB's JSON nests
//! at most 32 levels, CSV has no types (flat records, `infer_types`).
//!
//! `FAUCET_EXACT_RECORDS` sets the records per pair (default 1500),
//! `FAUCET_EXACT_SEED` the seed (default: fixed; a failure prints it).
//! Servers: PostgreSQL and MariaDB on 127.0.0.1 (each pair uses its own
//! schema/database named after the test), librdkafka's mock cluster, a local
//! axum server, moto when `FAUCET_S3_ENDPOINT` is set.
#![cfg(feature = "files")]

use std::path::Path;

use faucet_runtime::connectors::files::{
    CsvSink, CsvSinkConfig, CsvSource, CsvSourceConfig, JsonlSink, JsonlSinkConfig, JsonlSource,
    JsonlSourceConfig, OnParseError,
};
use faucet_runtime::{CommitToken, OpenContext, Sink, Source, Writes};
use serde_json::{Map, Number, Value};

#[cfg(feature = "s3")]
mod support;

/// serde_json's nesting limit: a record may nest this deep (the record itself is level 1).
const MAX_DEPTH: usize = 127;

fn record_count() -> usize {
    std::env::var("FAUCET_EXACT_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(1500)
}

fn seed() -> u64 {
    std::env::var("FAUCET_EXACT_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0x15_eac7)
}

// --- the generator ------------------------------------------------------------

/// What a store can hold.
#[derive(Clone, Copy)]
struct Shape {
    /// Integers beyond i64 and decimals beyond a double's precision or range.
    exact_numbers: bool,
    /// U+0000 in strings and keys.
    nul: bool,
    /// The deepest nesting of a record (1: flat).
    max_depth: usize,
}

const ANY: Shape = Shape { exact_numbers: true, nul: true, max_depth: MAX_DEPTH };

/// A seeded generator of records, each as its expected value and its JSON text.
struct Gen {
    rng: fastrand::Rng,
    shape: Shape,
}

impl Gen {
    fn new(shape: Shape, salt: u64) -> Self {
        Gen { rng: fastrand::Rng::with_seed(seed() ^ salt), shape }
    }

    /// `count` records (objects with a sequential `id`) and the JSON Lines text spelling them.
    fn records(&mut self, count: usize) -> (Vec<Value>, String) {
        let mut values = Vec::with_capacity(count);
        let mut text = String::new();
        for id in 0..count {
            let mut fields = Map::new();
            let mut line = format!("{{\"id\":{id}");
            fields.insert("id".into(), Value::from(id));
            // One record in fifty nests as deep as the store allows.
            let deep = self.shape.max_depth > 1 && self.rng.usize(..50) == 0;
            for _ in 0..self.rng.usize(1..8) {
                let key = self.string(12);
                if fields.contains_key(&key) {
                    continue;
                }
                let depth = if deep {
                    self.shape.max_depth - 1
                } else {
                    self.rng.usize(..self.shape.max_depth.min(4))
                };
                let (value, value_text) = if deep { self.chain(depth) } else { self.value(depth) };
                line.push(',');
                self.write_string(&key, &mut line);
                line.push(':');
                line.push_str(&value_text);
                fields.insert(key, value);
            }
            line.push_str("}\n");
            text.push_str(&line);
            values.push(Value::Object(fields));
        }
        (values, text)
    }

    /// A value nesting `depth` more levels, and its text.
    fn value(&mut self, depth: usize) -> (Value, String) {
        let pick = if depth == 0 { self.rng.usize(..10) } else { self.rng.usize(..12) };
        match pick {
            0 => (Value::Null, "null".into()),
            1 => {
                let b = self.rng.bool();
                (Value::Bool(b), b.to_string())
            }
            2..=5 => {
                let text = self.number();
                (Value::Number(text.parse().unwrap()), text)
            }
            6..=9 => {
                let s = self.string(40);
                let mut text = String::new();
                self.write_string(&s, &mut text);
                (Value::String(s), text)
            }
            10 => {
                let (mut items, mut text) = (Vec::new(), String::from("["));
                for i in 0..self.rng.usize(..5) {
                    let inner = self.rng.usize(..depth);
                    let (v, t) = self.value(inner);
                    if i > 0 {
                        text.push(',');
                    }
                    text.push_str(&t);
                    items.push(v);
                }
                text.push(']');
                (Value::Array(items), text)
            }
            _ => {
                let (mut fields, mut text) = (Map::new(), String::from("{"));
                for _ in 0..self.rng.usize(..5) {
                    let key = self.string(10);
                    if fields.contains_key(&key) {
                        continue;
                    }
                    let inner = self.rng.usize(..depth);
                    let (v, t) = self.value(inner);
                    if !fields.is_empty() {
                        text.push(',');
                    }
                    self.write_string(&key, &mut text);
                    text.push(':');
                    text.push_str(&t);
                    fields.insert(key, v);
                }
                text.push('}');
                (Value::Object(fields), text)
            }
        }
    }

    /// Arrays and objects nested exactly `depth` levels around a scalar.
    fn chain(&mut self, depth: usize) -> (Value, String) {
        let (mut value, mut text) = self.value(0);
        for _ in 0..depth {
            if self.rng.bool() {
                value = Value::Array(vec![value]);
                text = format!("[{text}]");
            } else {
                let key = self.string(3);
                let mut key_text = String::new();
                self.write_string(&key, &mut key_text);
                value = Value::Object(Map::from_iter([(key, value)]));
                text = format!("{{{key_text}:{text}}}");
            }
        }
        (value, text)
    }

    /// A JSON number's text, in one of the spellings JSON allows.
    fn number(&mut self) -> String {
        const EDGES: [&str; 16] = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "9007199254740993",
            "9223372036854775807",
            "-9223372036854775808",
            "0.48806805903541084",
            "1.7976931348623157e308",
            "2.2250738585072014e-308",
            "2.2250738585072011e-308",
            "4.9e-324",
            "5e-324",
            "1E+2",
            "1e-7",
            "123.4500",
        ];
        const BEYOND: [&str; 6] = [
            "18446744073709551615",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1.7976931348623158e308",
            "1e400",
            "-2.5E-400",
        ];
        let exact = self.shape.exact_numbers;
        match self.rng.usize(..if exact { 9 } else { 6 }) {
            0 => EDGES[self.rng.usize(..EDGES.len())].to_owned(),
            1 => self.rng.i64(..).to_string(),
            2 => self.rng.i32(..).to_string(),
            3..=5 => {
                let f = loop {
                    let f = f64::from_bits(self.rng.u64(..));
                    if f.is_finite() {
                        break f;
                    }
                };
                match self.rng.usize(..4) {
                    0 => format!("{f:e}"),
                    1 => format!("{f:.16e}"),
                    2 if f.abs() > 1e-30 && f.abs() < 1e30 => format!("{f}"),
                    _ => format!("{f:?}"),
                }
            }
            6 => BEYOND[self.rng.usize(..BEYOND.len())].to_owned(),
            7 => {
                let digits: String = (0..self.rng.usize(20..70)).map(|_| self.rng.digit(10)).collect();
                let digits = digits.trim_start_matches('0');
                format!(
                    "{}{}",
                    if self.rng.bool() { "-" } else { "" },
                    if digits.is_empty() { "1" } else { digits }
                )
            }
            _ => {
                let digits: String = (0..self.rng.usize(18..50)).map(|_| self.rng.digit(10)).collect();
                format!("{}.{digits}e{}", self.rng.usize(0..10), self.rng.i32(-400..400))
            }
        }
    }

    /// A number that is not an integer (so a double column holds it), in any
    /// spelling; not `-0.0` when `no_signed_zero` (SQLite's REAL and MariaDB's DOUBLE keep no
    /// sign of zero).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")), allow(dead_code))]
    fn double(&mut self, no_signed_zero: bool) -> Number {
        loop {
            let n: Number = self.number().parse().unwrap();
            let negative_zero = n.as_str().starts_with('-') && n.as_f64() == Some(0.0);
            if faucet_runtime::number::is_integer(&n) || (no_signed_zero && negative_zero) {
                continue;
            }
            return n;
        }
    }

    /// A string of up to `max` characters from every part of Unicode.
    fn string(&mut self, max: usize) -> String {
        (0..self.rng.usize(..=max)).map(|_| self.char()).collect()
    }

    fn char(&mut self) -> char {
        loop {
            let c = match self.rng.usize(..14) {
                0..=5 => self.rng.char(' '..='~'),
                6 => self.rng.char('\0'..='\x1f'),
                7 => ['"', '\\', '/', '\x7f', '\u{2028}', '\u{2029}', '\u{feff}', '\u{fffe}', '\u{ffff}']
                    [self.rng.usize(..9)],
                8 => self.rng.char('\u{80}'..='\u{7ff}'),
                9 => self.rng.char('\u{800}'..='\u{d7ff}'),
                10 => self.rng.char('\u{e000}'..='\u{fffd}'),
                11 => self.rng.char('\u{1f300}'..='\u{1faff}'),
                12 => self.rng.char('\u{10000}'..='\u{10ffff}'),
                _ => ['é', 'e', '\u{301}', '😀', '𝄞', '\u{10ffff}'][self.rng.usize(..6)],
            };
            if c != '\0' || self.shape.nul {
                return c;
            }
        }
    }

    /// Appends `s` as a JSON string, each character raw or escaped at random.
    fn write_string(&mut self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' => Some("\\/"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            let must_escape = c == '"' || c == '\\' || c < ' ';
            let roll = self.rng.usize(..4);
            match short {
                _ if roll < 2 && !must_escape => out.push(c),
                Some(short) if roll < 3 => out.push_str(short),
                _ => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        if self.rng.bool() {
                            out.push_str(&format!("\\u{unit:04x}"));
                        } else {
                            out.push_str(&format!("\\u{unit:04X}"));
                        }
                    }
                }
            }
        }
        out.push('"');
    }
}

// --- the comparison --------------------------------------------------------------

/// How a store keeps numbers.
#[derive(Clone, Copy, PartialEq)]
enum Numbers {
    /// As the same text (serde_json's spelling: a positive exponent gains its `+`).
    Text,
    /// As the same decimal value (`1e+2` may come back as `100`).
    Decimal,
    /// Integers within i64 as the same value, everything else as the same double, bit for bit.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")), allow(dead_code))]
    Double,
}

/// A decimal's value as sign, significant digits and exponent (`0.DIGITS × 10^exp`).
fn decimal(text: &str) -> (bool, String, i64) {
    let (negative, rest) = text.strip_prefix('-').map_or((false, text), |r| (true, r));
    let (mantissa, exp) = rest.split_once(['e', 'E']).unwrap_or((rest, "0"));
    let exp: i64 = exp.trim_start_matches('+').parse().unwrap();
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let leading = digits.len() - digits.trim_start_matches('0').len();
    let significant = digits.trim_matches('0').to_owned();
    if significant.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, significant, exp + int.len() as i64 - leading as i64)
}

fn same_number(want: &Number, got: &Number, numbers: Numbers) -> bool {
    let (w, g) = (want.as_str(), got.as_str());
    let integer = |t: &str| !t.contains(['.', 'e', 'E']);
    match numbers {
        Numbers::Text => w == g,
        Numbers::Double if !(integer(w) && w.parse::<i64>().is_ok()) => {
            matches!((w.parse::<f64>(), g.parse::<f64>()), (Ok(a), Ok(b)) if a.to_bits() == b.to_bits())
        }
        _ => decimal(w) == decimal(g),
    }
}

/// Where `got` differs from `want`, if anywhere.
fn diff(want: &Value, got: &Value, numbers: Numbers, ordered: bool, at: &str) -> Option<String> {
    let differs = || Some(format!("at {at}: wanted {want}, got {got}"));
    match (want, got) {
        (Value::Number(w), Value::Number(g)) => (!same_number(w, g, numbers)).then(differs).flatten(),
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => w
            .iter()
            .zip(g)
            .enumerate()
            .find_map(|(i, (w, g))| diff(w, g, numbers, ordered, &format!("{at}[{i}]"))),
        (Value::Object(w), Value::Object(g)) if w.len() == g.len() => {
            if ordered && !w.keys().eq(g.keys()) {
                return Some(format!("at {at}: keys {:?} came back as {:?}", w.keys(), g.keys()));
            }
            w.iter().find_map(|(k, wv)| match g.get(k) {
                Some(gv) => diff(wv, gv, numbers, ordered, &format!("{at}.{k:?}")),
                None => Some(format!("at {at}: key {k:?} is missing")),
            })
        }
        (Value::Number(_) | Value::Array(_) | Value::Object(_), _) => differs(),
        _ => (want != got).then(differs).flatten(),
    }
}

/// Asserts that `got` holds exactly the records `want`, in order.
fn assert_same(pair: &str, want: &[Value], got: &[Value], numbers: Numbers, ordered: bool) {
    assert_eq!(got.len(), want.len(), "{pair}: record count (seed {})", seed());
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        if let Some(d) = diff(w, g, numbers, ordered, "") {
            panic!("{pair}: record {i} changed {d} (seed {})", seed());
        }
    }
}

// --- plumbing ------------------------------------------------------------------

async fn drain(source: &mut impl Source<Record = Value>) -> Vec<Value> {
    source.resume(None).await.unwrap();
    let mut out = Vec::new();
    while let Some(page) = source.next_page().await.unwrap() {
        assert!(page.rejects.is_empty(), "rejected: {:?}", page.rejects);
        out.extend(page.records);
    }
    out
}

async fn fill(sink: &mut impl Writes, records: &[Value], scope: &str) {
    sink.open(OpenContext { scope, checkpoint: None }).await.unwrap();
    for (seq, batch) in records.chunks(500).enumerate() {
        let outcome = sink.write_batch(batch, CommitToken { seq: seq as u64 + 1, part: 0 }).await.unwrap();
        if let Some(failure) = outcome.failures.first() {
            panic!("row {} rejected: {} ({})", failure.index, failure.error, batch[failure.index]);
        }
    }
    sink.flush().await.unwrap();
}

/// Generates the records for `shape`, writes their text to `dir/in.jsonl` and
/// reads them through the `jsonl` source, which must give them back exactly.
async fn parsed(dir: &Path, shape: Shape, salt: u64) -> Vec<Value> {
    let (want, text) = Gen::new(shape, salt).records(record_count());
    let path = dir.join("in.jsonl");
    std::fs::write(&path, text).unwrap();
    let got = drain(&mut JsonlSource::new(JsonlSourceConfig::new(path.to_str().unwrap()))).await;
    assert_same("jsonl source", &want, &got, Numbers::Text, true);
    got
}

/// Object values as JSON text (how the SQL sinks' JSON mappings read back from a TEXT/LONGTEXT column) parsed.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
fn parse_text_column(rows: Vec<Value>, column: &str) -> Vec<Value> {
    rows.into_iter()
        .map(|row| match &row[column] {
            Value::String(text) => serde_json::from_str(text).unwrap(),
            other => other.clone(),
        })
        .collect()
}

// --- the pairs -------------------------------------------------------------------

#[tokio::test]
async fn jsonl_to_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let records = parsed(dir.path(), ANY, 1).await;
    let out = dir.path().join("out.jsonl");
    fill(&mut JsonlSink::new(JsonlSinkConfig::new(out.to_str().unwrap())), &records, "exact::jsonl").await;
    let got = drain(&mut JsonlSource::new(JsonlSourceConfig::new(out.to_str().unwrap()))).await;
    assert_same("jsonl -> jsonl", &records, &got, Numbers::Text, true);
    // What the sink wrote is what serde_json prints, byte for byte.
    let expected: String =
        records.iter().map(|r| format!("{}\n", serde_json::to_string(r).unwrap())).collect();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
}

/// The issue's examples, by name: a copy changed none of them.
#[tokio::test]
async fn the_reported_numbers_survive_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("in.jsonl"), dir.path().join("out.jsonl"));
    let line = r#"{"a":0.48806805903541084,"b":1.7976931348623158e308,"c":123456789012345678901234567890,"d":-0,"e":5e-324,"f":0.1000000000000000000000000001}"#;
    std::fs::write(&input, format!("{line}\n")).unwrap();
    let records = drain(&mut JsonlSource::new(JsonlSourceConfig::new(input.to_str().unwrap()))).await;
    assert_eq!(records[0]["a"].as_f64(), Some(0.48806805903541084));
    assert_eq!(records[0]["b"].as_f64(), Some(f64::MAX));
    fill(&mut JsonlSink::new(JsonlSinkConfig::new(out.to_str().unwrap())), &records, "exact::reported").await;
    // The same text, but for the `+` serde_json gives a positive exponent.
    assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("{}\n", line.replace("e308", "e+308")));
}

#[tokio::test]
async fn jsonl_to_csv() {
    // CSV has no types: flat records whose strings cannot be read as numbers
    // or booleans, read back with `infer_types`, numbers compared by value.
    let dir = tempfile::tempdir().unwrap();
    let mut generator = Gen::new(Shape { max_depth: 1, ..ANY }, 2);
    let mut want = Vec::new();
    for id in 0..record_count() {
        let text = format!("s{}", generator.string(30));
        let number = generator.number();
        let record = serde_json::json!({
            "id": id,
            "num, \"quoted\"\nkey": Value::Number(number.parse().unwrap()),
            "text": text,
            "flag": generator.rng.bool(),
        });
        want.push(record);
    }
    let out = dir.path().join("out.csv");
    fill(&mut CsvSink::new(CsvSinkConfig::new(out.to_str().unwrap())), &want, "exact::csv").await;
    let mut config = CsvSourceConfig::new(out.to_str().unwrap());
    config.csv.infer_types = true;
    let got = drain(&mut CsvSource::new(config)).await;
    assert_same("jsonl -> csv", &want, &got, Numbers::Decimal, true);
}

#[cfg(feature = "object-store")]
mod objects {
    use faucet_runtime::connectors::object_store::{
        ObjectFormat, ObjectSink, ObjectSinkConfig, ObjectSource, ObjectSourceConfig, StoreConfig,
    };

    use super::*;

    async fn round_trip(store: StoreConfig, pair: &str, salt: u64) {
        let dir = tempfile::tempdir().unwrap();
        let records = parsed(dir.path(), ANY, salt).await;
        let sink_config = ObjectSinkConfig {
            prefix: "exact".into(),
            name: Some("values".into()),
            ..ObjectSinkConfig::new(store.clone())
        };
        fill(&mut ObjectSink::new(sink_config), &records, "exact::objects::row-0::a").await;
        let mut source = ObjectSource::new(ObjectSourceConfig {
            store,
            compression: None,
            format: ObjectFormat::Jsonl(JsonlSourceConfig::new("exact/values-*")),
        });
        let got = drain(&mut source).await;
        assert_same(pair, &records, &got, Numbers::Text, true);
    }

    #[tokio::test]
    async fn jsonl_to_memory_store() {
        round_trip(StoreConfig::Memory { name: "exact_values".into() }, "jsonl -> memory", 3).await;
    }

    #[tokio::test]
    async fn jsonl_to_file_store() {
        let root = tempfile::tempdir().unwrap();
        let store = StoreConfig::File(faucet_runtime::connectors::object_store::FileConfig {
            root: root.path().to_str().unwrap().into(),
        });
        round_trip(store, "jsonl -> file store", 4).await;
    }

    #[cfg(feature = "s3")]
    #[tokio::test]
    async fn jsonl_to_s3() {
        let Some(endpoint) = support::server("FAUCET_S3_ENDPOINT", "`.ci/run` starts moto and sets it")
        else {
            return;
        };
        let bucket = "exact-values";
        let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        use std::io::{Read, Write};
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let store = StoreConfig::S3(faucet_runtime::connectors::object_store::S3Config {
            bucket: bucket.into(),
            region: Some("us-east-1".into()),
            endpoint_url: Some(endpoint.clone()),
            allow_http: true,
            access_key_id: Some("testing".into()),
            secret_access_key: Some(faucet_runtime::secret::SecretString::new("testing".into())),
            session_token: None,
        });
        round_trip(store, "jsonl -> s3", 5).await;
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use faucet_runtime::connectors::sql::sqlite::{
        ColumnMapping, SqliteInput, SqliteSink, SqliteSinkConfig, SqliteSource, SqliteSourceConfig,
        TableWrite, UnmappedFields, WriteMode,
    };
    use sqlx::Connection;

    use super::*;

    fn sink(url: &str, table: &str, column_mapping: ColumnMapping) -> SqliteSink {
        SqliteSink::new(SqliteSinkConfig {
            database_url: url.into(),
            table_name: table.into(),
            column_mapping,
            write: TableWrite {
                create_table: false,
                unmapped_fields: UnmappedFields::Dlq,
                batch_size: 500,
                write_mode: WriteMode::Append,
                key: Vec::new(),
                delete_marker: None,
                columns: None,
            },
        })
    }

    fn source(url: &str, sql: &str) -> SqliteSource {
        SqliteSource::new(SqliteSourceConfig {
            database_url: url.into(),
            input: SqliteInput::Query { sql: sql.into(), params: Vec::new() },
            replication_key: None,
            batch_size: 500,
        })
    }

    #[tokio::test]
    async fn jsonl_to_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc")).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE docs (data TEXT); CREATE TABLE typed (id INTEGER, i INTEGER, f REAL, s TEXT, b BOOLEAN)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();

        // Whole records as JSON text: exact.
        let records = parsed(dir.path(), ANY, 6).await;
        fill(
            &mut sink(&url, "docs", ColumnMapping::Json { column: "data".into() }),
            &records,
            "exact::sqlite",
        )
        .await;
        let got =
            parse_text_column(drain(&mut source(&url, "SELECT data FROM docs ORDER BY rowid")).await, "data");
        assert_same("jsonl -> sqlite (json)", &records, &got, Numbers::Text, true);

        // Typed columns: INTEGER keeps i64, REAL keeps doubles bit for bit, TEXT keeps strings.
        let mut generator = Gen::new(Shape { exact_numbers: false, ..ANY }, 7);
        let typed: Vec<Value> = (0..record_count())
            .map(|id| {
                let f = generator.double(true);
                serde_json::json!({"id": id, "i": generator.rng.i64(..), "f": f, "s": generator.string(40), "b": generator.rng.bool()})
            })
            .collect();
        fill(&mut sink(&url, "typed", ColumnMapping::AutoMap), &typed, "exact::sqlite-typed").await;
        let got = drain(&mut source(&url, "SELECT id, i, f, s, b FROM typed ORDER BY id")).await;
        assert_same("jsonl -> sqlite (typed)", &typed, &got, Numbers::Double, true);
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use faucet_runtime::connectors::sql::postgres::{
        ColumnMapping, PostgresSink, PostgresSinkConfig, PostgresSource, PostgresSourceConfig, SourceInput,
        TableWrite, UnmappedFields, WriteMethod, WriteMode,
    };
    use sqlx::Connection;

    use super::*;

    const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
    const SCHEMA: &str = "exact_values";

    fn sink(table: &str, column_mapping: ColumnMapping) -> PostgresSink {
        PostgresSink::new(PostgresSinkConfig {
            connection_url: URL.into(),
            schema: Some(SCHEMA.into()),
            table_name: table.into(),
            column_mapping,
            write: TableWrite {
                create_table: false,
                unmapped_fields: UnmappedFields::Dlq,
                batch_size: 500,
                write_mode: WriteMode::Append,
                key: Vec::new(),
                delete_marker: None,
                columns: None,
            },
            write_method: WriteMethod::Copy,
        })
    }

    fn source(sql: &str) -> PostgresSource {
        PostgresSource::new(PostgresSourceConfig {
            connection_url: URL.into(),
            input: SourceInput::Query { sql: sql.into(), params: Vec::new() },
            replication_key: None,
            batch_size: 500,
        })
    }

    #[tokio::test]
    async fn jsonl_to_postgres() {
        let mut conn = sqlx::PgConnection::connect(URL).await.unwrap();
        sqlx::raw_sql(
            "DROP SCHEMA IF EXISTS exact_values CASCADE; CREATE SCHEMA exact_values;
             CREATE TABLE exact_values.docs (n bigserial PRIMARY KEY, data jsonb);
             CREATE TABLE exact_values.typed (id bigint, i bigint, f double precision, s text, b boolean)",
        )
        .execute(&mut conn)
        .await
        .unwrap();

        // jsonb keeps every number as numeric (exact), reorders keys and holds no U+0000.
        let dir = tempfile::tempdir().unwrap();
        let records = parsed(dir.path(), Shape { nul: false, ..ANY }, 8).await;
        fill(&mut sink("docs", ColumnMapping::Json { column: "data".into() }), &records, "exact::pg").await;
        let got: Vec<Value> = drain(&mut source("SELECT data FROM exact_values.docs ORDER BY n"))
            .await
            .into_iter()
            .map(|r| r["data"].clone())
            .collect();
        assert_same("jsonl -> postgres (jsonb)", &records, &got, Numbers::Decimal, false);

        // The value that once failed the source: jsonb prints the largest double as 309 digits.
        let largest: Value = serde_json::from_str(r#"{"x":1.7976931348623157e308}"#).unwrap();
        fill(
            &mut sink("docs", ColumnMapping::Json { column: "data".into() }),
            &[largest],
            "exact::pg-largest",
        )
        .await;
        let last = drain(&mut source("SELECT data FROM exact_values.docs ORDER BY n DESC LIMIT 1")).await;
        assert_eq!(last[0]["data"]["x"].to_string().len(), 309);
        assert_eq!(last[0]["data"]["x"].as_f64(), Some(f64::MAX));

        // Typed columns: bigint keeps i64, double precision keeps doubles bit for bit.
        let mut generator = Gen::new(Shape { exact_numbers: false, nul: false, max_depth: 1 }, 9);
        let typed: Vec<Value> = (0..record_count())
            .map(|id| {
                let f = generator.double(false);
                serde_json::json!({"id": id, "i": generator.rng.i64(..), "f": f, "s": generator.string(40), "b": generator.rng.bool()})
            })
            .collect();
        fill(&mut sink("typed", ColumnMapping::AutoMap), &typed, "exact::pg-typed").await;
        let got = drain(&mut source("SELECT id, i, f, s, b FROM exact_values.typed ORDER BY id")).await;
        assert_same("jsonl -> postgres (typed)", &typed, &got, Numbers::Double, true);

        // U+0000, which neither text nor jsonb holds, dead-letters its row alone.
        for (table, mapping) in
            [("docs", ColumnMapping::Json { column: "data".into() }), ("typed", ColumnMapping::AutoMap)]
        {
            let mut sink = sink(table, mapping);
            sink.open(OpenContext { scope: "exact::pg-nul", checkpoint: None }).await.unwrap();
            let batch = [serde_json::json!({"s": "ok"}), serde_json::json!({"s": "a\u{0}b"})];
            let outcome = sink.write_batch(&batch, CommitToken { seq: 1, part: 0 }).await.unwrap();
            assert_eq!(outcome.written, 1, "{table}");
            assert_eq!(outcome.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [1], "{table}");
        }
        sqlx::raw_sql("DROP SCHEMA exact_values CASCADE").execute(&mut conn).await.unwrap();
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use faucet_runtime::connectors::sql::mysql::{
        ColumnMapping, MySqlSink, MySqlSinkConfig, MySqlSource, MySqlSourceConfig, SourceInput, TableWrite,
        UnmappedFields, WriteMode,
    };
    use sqlx::Connection;

    use super::*;

    const URL: &str = "mysql://root@127.0.0.1:3306/exact_values";

    fn sink(table: &str, column_mapping: ColumnMapping) -> MySqlSink {
        MySqlSink::new(MySqlSinkConfig {
            connection_url: URL.into(),
            schema: None,
            table_name: table.into(),
            column_mapping,
            write: TableWrite {
                create_table: false,
                unmapped_fields: UnmappedFields::Dlq,
                batch_size: 500,
                write_mode: WriteMode::Append,
                key: Vec::new(),
                delete_marker: None,
                columns: None,
            },
        })
    }

    fn source(sql: &str) -> MySqlSource {
        MySqlSource::new(MySqlSourceConfig {
            connection_url: URL.into(),
            input: SourceInput::Query { sql: sql.into(), params: Vec::new() },
            replication_key: None,
            batch_size: 500,
        })
    }

    #[tokio::test]
    async fn jsonl_to_mysql() {
        let mut conn = sqlx::MySqlConnection::connect("mysql://root@127.0.0.1:3306").await.unwrap();
        sqlx::raw_sql(
            "DROP DATABASE IF EXISTS exact_values; CREATE DATABASE exact_values CHARACTER SET utf8mb4;
             CREATE TABLE exact_values.docs (n BIGINT AUTO_INCREMENT PRIMARY KEY, data JSON);
             CREATE TABLE exact_values.typed (id BIGINT, i BIGINT, f DOUBLE, s LONGTEXT, b BOOLEAN)",
        )
        .execute(&mut conn)
        .await
        .unwrap();

        // MariaDB's JSON is checked text (exact): JSON_VALID allows 31 levels of nesting.
        let dir = tempfile::tempdir().unwrap();
        let records = parsed(dir.path(), Shape { max_depth: 31, ..ANY }, 10).await;
        fill(&mut sink("docs", ColumnMapping::Json { column: "data".into() }), &records, "exact::mysql")
            .await;
        let got = parse_text_column(drain(&mut source("SELECT data FROM docs ORDER BY n")).await, "data");
        assert_same("jsonl -> mysql (json)", &records, &got, Numbers::Decimal, false);

        let mut generator = Gen::new(Shape { exact_numbers: false, max_depth: 1, ..ANY }, 11);
        let typed: Vec<Value> = (0..record_count())
            .map(|id| {
                let f = generator.double(true);
                serde_json::json!({"id": id, "i": generator.rng.i64(..), "f": f, "s": generator.string(40), "b": generator.rng.bool()})
            })
            .collect();
        fill(&mut sink("typed", ColumnMapping::AutoMap), &typed, "exact::mysql-typed").await;
        let got = drain(&mut source("SELECT id, i, f, s, b FROM typed ORDER BY id")).await;
        assert_same("jsonl -> mysql (typed)", &typed, &got, Numbers::Double, true);
        sqlx::raw_sql("DROP DATABASE exact_values").execute(&mut conn).await.unwrap();
    }
}

#[cfg(feature = "kafka")]
mod kafka {
    use std::time::Duration;

    use faucet_runtime::connectors::kafka::{
        KafkaSink, KafkaSinkConfig, KafkaSource, KafkaSourceConfig, KafkaTopic, OffsetReset,
    };
    use rdkafka::mocking::MockCluster;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jsonl_to_kafka() {
        let cluster = MockCluster::new(1).unwrap();
        // A mock partition keeps its last 5 MB: enough partitions to hold every record.
        let partitions = 1 + record_count() as i32 / 4000;
        cluster.create_topic("exact", partitions, 1).unwrap();
        let brokers = cluster.bootstrap_servers();
        let dir = tempfile::tempdir().unwrap();
        let records = parsed(dir.path(), ANY, 12).await;
        fill(
            &mut KafkaSink::new(KafkaSinkConfig::new(&brokers, KafkaTopic::Fixed("exact".into()))),
            &records,
            "exact::kafka",
        )
        .await;
        let mut config = KafkaSourceConfig::new(&brokers, vec!["exact".into()], "exact-values");
        config.auto_offset_reset = OffsetReset::Earliest;
        config.poll_timeout = Duration::from_millis(300);
        config.idle_timeout = Some(Duration::from_secs(6));
        config.extra_client_config = vec![
            ("session.timeout.ms".into(), "6000".into()),
            ("heartbeat.interval.ms".into(), "500".into()),
        ];
        let mut got: Vec<Value> =
            drain(&mut KafkaSource::new(config)).await.into_iter().map(|r| r["value"].clone()).collect();
        got.sort_by_key(|r| r["id"].as_u64());
        assert_same("jsonl -> kafka", &records, &got, Numbers::Text, true);
    }
}

#[cfg(feature = "rest")]
mod rest {
    use faucet_runtime::connectors::rest::{RestSource, RestSourceConfig};

    use super::*;

    #[tokio::test]
    async fn rest_to_jsonl() {
        // A local server answers with the generated text; the rest source
        // parses it, the jsonl sink writes it, the jsonl source reads it back.
        // The response's object and array count against serde_json's nesting limit.
        let (want, text) = Gen::new(Shape { max_depth: MAX_DEPTH - 2, ..ANY }, 13).records(record_count());
        let body = format!("{{\"items\":[{}]}}", text.trim_end().replace('\n', ","));
        let app = axum::Router::new().route("/items", axum::routing::get(move || async move { body }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let mut config = RestSourceConfig::new(format!("http://{addr}"));
        config.path = "/items".into();
        config.records_path = Some("$.items[*]".into());
        let records = drain(&mut RestSource::new(config).unwrap()).await;
        assert_same("rest source", &want, &records, Numbers::Text, true);

        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        fill(&mut JsonlSink::new(JsonlSinkConfig::new(out.to_str().unwrap())), &records, "exact::rest").await;
        let got = drain(&mut JsonlSource::new(JsonlSourceConfig::new(out.to_str().unwrap()))).await;
        assert_same("rest -> jsonl", &want, &got, Numbers::Text, true);
    }
}

// --- what is refused ---------------------------------------------------------

/// Invalid input is dead-lettered whole and unchanged, never altered into a record.
#[tokio::test]
async fn invalid_input_is_dead_lettered_unchanged() {
    let nest = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let mut lines: Vec<Vec<u8>> = [
        r#"{"s":"\ud800"}"#.to_owned(),
        r#"{"s":"\udc00"}"#.to_owned(),
        r#"{"s":"\ud800\u0041"}"#.to_owned(),
        r#"{"s":"\ud83d"}"#.to_owned(),
        "{\"s\":\"tab\there\"}".to_owned(),
        r#"{"n":NaN}"#.to_owned(),
        r#"{"n":Infinity}"#.to_owned(),
        r#"{"n":01}"#.to_owned(),
        r#"{"n":+1}"#.to_owned(),
        r#"{"n":.5}"#.to_owned(),
        r#"{"n":1.}"#.to_owned(),
        r#"{"n":1e}"#.to_owned(),
        r#"{"a":1} x"#.to_owned(),
        r#"{"s":"\x"}"#.to_owned(),
        format!("{{\"deep\":{}}}", nest(MAX_DEPTH)),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    // Invalid UTF-8: a stray continuation byte, an overlong NUL, an encoded surrogate, a truncated sequence.
    for bad in [&b"\x80"[..], b"\xc0\x80", b"\xed\xa0\x80", b"\xf0\x9f\x98"] {
        let mut line = b"{\"s\":\"".to_vec();
        line.extend_from_slice(bad);
        line.extend_from_slice(b"\"}");
        lines.push(line);
    }
    let valid = [format!("{{\"deep\":{}}}", nest(MAX_DEPTH - 1)), r#"{"s":"\ud83d\ude00\u2028"}"#.to_owned()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let mut input = Vec::new();
    for line in lines.iter().chain(valid.iter().map(|v| v.as_bytes().to_vec()).collect::<Vec<_>>().iter()) {
        input.extend_from_slice(line);
        input.push(b'\n');
    }
    std::fs::write(&path, &input).unwrap();

    let mut config = JsonlSourceConfig::new(path.to_str().unwrap());
    config.on_parse_error = OnParseError::Dlq;
    let mut source = JsonlSource::new(config.clone());
    source.resume(None).await.unwrap();
    let (mut records, mut rejects) = (Vec::new(), Vec::new());
    while let Some(page) = source.next_page().await.unwrap() {
        records.extend(page.records);
        rejects.extend(page.rejects);
    }
    assert_eq!(rejects.len(), lines.len(), "{rejects:?}");
    for (line, reject) in lines.iter().zip(&rejects) {
        let message = reject.error.to_string();
        assert!(message.contains("invalid JSON") || message.contains("invalid UTF-8"), "{message}");
        // The payload carries the raw line: as text when it is UTF-8.
        if let Ok(text) = std::str::from_utf8(line) {
            assert!(
                reject
                    .payload
                    .to_string()
                    .contains(&serde_json::to_string(text).unwrap()[1..20.min(text.len())]),
                "{}",
                reject.payload
            );
        }
    }
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["s"], Value::String("😀\u{2028}".into()));

    // With `fail`, the first one stops the run with its line number.
    config.on_parse_error = OnParseError::Fail;
    let mut source = JsonlSource::new(config);
    source.resume(None).await.unwrap();
    let error = source.next_page().await.unwrap_err().to_string();
    assert!(error.contains("bad.jsonl:1: invalid JSON"), "{error}");
}

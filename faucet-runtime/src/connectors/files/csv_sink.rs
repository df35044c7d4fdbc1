//! The `csv` sink: records as RFC 4180 rows under a header fixed by the first batch.
//!
//! The header is the union of the first batch's keys in first-seen order and
//! stays frozen for the file: a later key outside it is dropped, with one
//! warning per key. Values: null is an empty field, a string is written as is,
//! numbers and booleans as their JSON text, objects and arrays as compact JSON.
//! A field holding the delimiter, `"`, CR or LF is quoted, with embedded quotes
//! doubled. Lines end with `\n`.
//!
//! Typed records (a generated struct) are written without JSON in between:
//! the header is the schema's field names in order, and each row its
//! members in column order, as the same text the equivalent JSON record
//! would give (a double as serde_json prints it, a decimal as its digits), so
//! typed and untyped output match for the same records.
//!
//! Crash safety: [`Sink::flush`] syncs the file and returns
//! `{"len": N, "header": [...]}`; a resumed run truncates the file back to `N`
//! and keeps that header (without writing it again).
//!
//! With `append: true`, a first run on a non-empty file writes no header: the
//! header already in the file is assumed to match the records' keys.

use serde_json::Value;

use std::collections::HashSet;
use std::io::Write;

use serde_json::json;

use super::jsonl_sink::checkpoint_len;
use super::writer::FileWriter;
pub use crate::config::files::CsvSinkConfig;
use crate::error::{FaucetError, Result};
use crate::page::{CommitToken, Record};
use crate::record::{self, FieldValue, RecordType};
use crate::schema::Schema;
use crate::sink::RowFailure;
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};

/// Writes records as CSV rows under a header fixed by the first batch.
#[derive(Debug)]
pub struct CsvSink {
    config: CsvSinkConfig,
    writer: Option<FileWriter>,
    /// The frozen column list, once known.
    header: Option<Vec<String>>,
    /// `header` as a set, for the unknown-key check.
    columns: HashSet<String>,
    /// Keys outside the header that were already warned about.
    warned: HashSet<String>,
    /// For typed records: each header column's index in the record's schema
    /// (`None` for a column the schema lacks), once known.
    members: Option<Vec<Option<usize>>>,
    /// One row being rendered (reused across rows).
    line: Vec<u8>,
    /// One field being rendered (reused across fields).
    field: Vec<u8>,
}

impl CsvSink {
    /// A sink for `config`; the file is opened by [`Sink::open`].
    pub fn new(config: CsvSinkConfig) -> Self {
        CsvSink {
            config,
            writer: None,
            header: None,
            columns: HashSet::new(),
            warned: HashSet::new(),
            members: None,
            line: Vec::new(),
            field: Vec::new(),
        }
    }
}

impl CsvSink {
    /// Freezes the header from `batch` (the union of its keys, first-seen order)
    /// and writes the header line when the file is still empty.
    fn freeze_header(&mut self, batch: &[Record]) -> Result<()> {
        let mut header: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for key in batch.iter().filter_map(Value::as_object).flat_map(|o| o.keys()) {
            if seen.insert(key) {
                header.push(key.clone());
            }
        }
        if header.is_empty() {
            return Ok(());
        }
        self.start_file(header)
    }

    /// Fixes `header` as the file's columns, writing the header line when the
    /// file is still empty.
    fn start_file(&mut self, header: Vec<String>) -> Result<()> {
        let writer = self.writer.as_mut().expect("checked by write_batch");
        if self.config.write_headers && writer.len() == 0 {
            self.line.clear();
            for (i, name) in header.iter().enumerate() {
                if i > 0 {
                    self.line.push(self.config.delimiter);
                }
                push_field(&mut self.line, name.as_bytes(), self.config.delimiter, header.len() == 1);
            }
            self.line.push(b'\n');
            writer
                .write_all(&self.line)
                .map_err(|e| FaucetError::sink(format!("writing {}: {e}", writer.path().display())))?;
        }
        self.set_header(header);
        Ok(())
    }

    fn set_header(&mut self, header: Vec<String>) {
        self.columns = header.iter().cloned().collect();
        self.header = Some(header);
    }

    /// Renders one record as a line into `self.line`, or says why it cannot be.
    fn render(&mut self, record: &Record) -> std::result::Result<(), String> {
        let header = self.header.as_ref().expect("checked by the caller");
        let object = match record {
            Value::Object(o) => o,
            other => return Err(format!("the csv sink needs a JSON object, got {}", kind_of(other))),
        };
        for key in object.keys() {
            if !self.columns.contains(key) && self.warned.insert(key.clone()) {
                tracing::warn!(
                    key = %key,
                    path = %self.config.path,
                    "key is not in the csv header (fixed by the first batch); its values are dropped"
                );
            }
        }
        self.line.clear();
        let single = header.len() == 1;
        for (i, name) in header.iter().enumerate() {
            if i > 0 {
                self.line.push(self.config.delimiter);
            }
            self.field.clear();
            if let Some(value) = object.get(name) {
                json_field(&mut self.field, value)?;
            }
            push_field(&mut self.line, &self.field, self.config.delimiter, single);
        }
        self.line.push(b'\n');
        Ok(())
    }

    /// Renders one typed record as a line into `self.line`: each column's
    /// member (`members`: its index in the schema), as [`json_field`] renders
    /// the member's JSON.
    fn render_typed<R: RecordType>(
        &mut self,
        record: &R,
        members: &[Option<usize>],
    ) -> std::result::Result<(), String> {
        let header = self.header.as_ref().expect("checked by the caller");
        self.line.clear();
        let single = header.len() == 1;
        // A nested member is read from the record's JSON, made once per record.
        let mut json = None;
        for (i, (name, member)) in header.iter().zip(members).enumerate() {
            if i > 0 {
                self.line.push(self.config.delimiter);
            }
            self.field.clear();
            let value = member.map_or(FieldValue::Absent, |index| record.field(index, name));
            match value {
                FieldValue::Absent | FieldValue::Null => {}
                FieldValue::Bool(b) => self.field.extend_from_slice(if b { b"true" } else { b"false" }),
                FieldValue::Int(int) => {
                    serde_json::to_writer(&mut self.field, &int).map_err(|e| e.to_string())?
                }
                // serde_json's text of a double (and none for a non-finite one: its JSON is null).
                FieldValue::Float(float) if float.is_finite() => {
                    serde_json::to_writer(&mut self.field, &float).map_err(|e| e.to_string())?;
                }
                FieldValue::Float(_) => {}
                FieldValue::Text(text) => self.field.extend_from_slice(text.as_bytes()),
                FieldValue::Json(value) => json_field(&mut self.field, value)?,
                FieldValue::Nested => {
                    if let Some(value) = json.get_or_insert_with(|| record.to_json()).get(name.as_str()) {
                        json_field(&mut self.field, value)?;
                    }
                }
            }
            push_field(&mut self.line, &self.field, self.config.delimiter, single);
        }
        self.line.push(b'\n');
        Ok(())
    }

    /// Writes JSON records (see the module documentation).
    fn write_json(&mut self, batch: &[Record]) -> Result<WriteOutcome> {
        if self.header.is_none() {
            self.freeze_header(batch)?;
        }
        let mut outcome = WriteOutcome::default();
        for (index, record) in batch.iter().enumerate() {
            let rendered = if self.header.is_some() {
                self.render(record)
            } else if record.is_object() {
                Err("the record has no field, and the csv header is not known yet".to_owned())
            } else {
                Err(format!("the csv sink needs a JSON object, got {}", kind_of(record)))
            };
            self.finish_row(rendered, index, &mut outcome)?;
        }
        Ok(outcome)
    }

    /// Writes typed records under `schema`'s field names (or the header a
    /// resumed run's checkpoint fixed).
    fn write_typed<R: RecordType>(&mut self, batch: &[R], schema: &Schema) -> Result<WriteOutcome> {
        if self.header.is_none() && !schema.fields.is_empty() {
            self.start_file(schema.fields.iter().map(|f| f.name.to_owned()).collect())?;
        }
        let mut outcome = WriteOutcome::default();
        let Some(header) = &self.header else {
            for index in 0..batch.len() {
                let error = FaucetError::sink("the record type has no field, so the csv file has no column");
                outcome.failures.push(RowFailure { index, error });
            }
            return Ok(outcome);
        };
        let members = match self.members.take() {
            Some(members) => members,
            None => self.map_members(header, schema),
        };
        for (index, record) in batch.iter().enumerate() {
            let rendered = self.render_typed(record, &members);
            self.finish_row(rendered, index, &mut outcome)?;
        }
        self.members = Some(members);
        Ok(outcome)
    }

    /// Each header column's index in `schema`; warns once about each field
    /// outside the header (a resumed run's header fixed without it), whose values are dropped.
    fn map_members(&self, header: &[String], schema: &Schema) -> Vec<Option<usize>> {
        for field in schema.fields.iter().filter(|f| !header.iter().any(|name| name == f.name)) {
            tracing::warn!(
                key = field.name,
                path = %self.config.path,
                "field is not in the csv header (fixed by the first run); its values are dropped"
            );
        }
        header.iter().map(|name| schema.fields.iter().position(|f| f.name == name)).collect()
    }

    /// Writes the line `rendered` into `self.line`, or records why it could not be.
    fn finish_row(
        &mut self,
        rendered: std::result::Result<(), String>,
        index: usize,
        outcome: &mut WriteOutcome,
    ) -> Result<()> {
        match rendered {
            Ok(()) => {
                let writer = self.writer.as_mut().expect("checked by write_batch");
                writer
                    .write_all(&self.line)
                    .map_err(|e| FaucetError::sink(format!("writing {}: {e}", writer.path().display())))?;
                outcome.written += 1;
            }
            Err(message) => outcome.failures.push(RowFailure { index, error: FaucetError::sink(message) }),
        }
        Ok(())
    }
}

/// Appends the text of one JSON value as a field: a string as it is, a
/// number or a boolean as its JSON text, an object or an array as compact
/// JSON, null as nothing.
fn json_field(out: &mut Vec<u8>, value: &Value) -> std::result::Result<(), String> {
    match value {
        Value::Null => {}
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        nested => serde_json::to_writer(out, nested).map_err(|e| e.to_string())?,
    }
    Ok(())
}

/// Appends `field` to `out`, quoted when it holds the delimiter, `"`, CR or LF
/// (or when it is the empty only field of a row, which would otherwise be a blank line).
fn push_field(out: &mut Vec<u8>, field: &[u8], delimiter: u8, single: bool) {
    let quote = (single && field.is_empty())
        || field.iter().any(|&b| b == delimiter || b == b'"' || b == b'\r' || b == b'\n');
    if !quote {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Sink for CsvSink {
    fn connector_name(&self) -> &'static str {
        "csv"
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    fn keep_existing(&mut self) {
        self.config.append = true;
    }

    async fn open(&mut self, ctx: OpenContext<'_>) -> Result<()> {
        let mut len = None;
        if let Some(checkpoint) = ctx.checkpoint {
            len = Some(checkpoint_len(checkpoint, "csv")?);
            match checkpoint.get("header") {
                None | Some(Value::Null) => {}
                Some(Value::Array(names)) => {
                    let header = names
                        .iter()
                        .map(|n| n.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            FaucetError::sink(format!(
                                "the `csv` sink's checkpoint has a malformed header: {checkpoint}"
                            ))
                        })?;
                    self.set_header(header);
                }
                Some(_) => {
                    return Err(FaucetError::sink(format!(
                        "the `csv` sink's checkpoint has a malformed header: {checkpoint}"
                    )));
                }
            }
        }
        self.writer = Some(FileWriter::open(&self.config.path, len, self.config.append)?);
        Ok(())
    }

    async fn flush(&mut self) -> Result<Option<Value>> {
        match self.writer.as_mut() {
            Some(writer) => Ok(Some(json!({ "len": writer.flush()?, "header": self.header }))),
            None => Ok(None),
        }
    }
}

impl<R: RecordType> Writes<R> for CsvSink {
    async fn write_batch(&mut self, batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        if self.writer.is_none() {
            return Err(FaucetError::sink("the `csv` sink was written to before it was opened"));
        }
        match (R::as_json_slice(batch), R::SCHEMA) {
            (Some(json), _) => self.write_json(json),
            (None, Some(schema)) => self.write_typed(batch, schema),
            (None, None) => self.write_json(&record::json_batch(batch)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn token(seq: u64) -> CommitToken {
        CommitToken { seq, part: 0 }
    }

    fn config(path: &Path) -> CsvSinkConfig {
        CsvSinkConfig::new(path.to_str().unwrap())
    }

    async fn opened(config: CsvSinkConfig, checkpoint: Option<&Value>) -> CsvSink {
        let mut sink = CsvSink::new(config);
        sink.open(OpenContext { scope: "p::row-0", checkpoint }).await.unwrap();
        sink
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    #[tokio::test]
    async fn header_is_the_union_of_the_first_batch_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut sink = opened(config(&path), None).await;
        let batch = vec![json!({"id": 1, "name": "a"}), json!({"id": 2, "score": 1.5, "ok": true})];
        let outcome = sink.write_batch(&batch, token(1)).await.unwrap();
        assert_eq!(outcome.written, 2);
        let checkpoint = sink.flush().await.unwrap().unwrap();
        let text = read(&path);
        assert_eq!(text, "id,name,score,ok\n1,a,,\n2,,1.5,true\n");
        assert_eq!(checkpoint, json!({"len": text.len(), "header": ["id", "name", "score", "ok"]}));
    }

    #[tokio::test]
    async fn quotes_per_rfc_4180_and_writes_nested_values_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut sink = opened(config(&path), None).await;
        let batch = vec![
            json!({"a": "x,y", "b": "say \"hi\"", "c": "line1\nline2", "d": null}),
            json!({"a": {"k": [1, 2]}, "b": [true, null], "c": "cr\r", "d": "plain"}),
        ];
        sink.write_batch(&batch, token(1)).await.unwrap();
        sink.flush().await.unwrap();
        assert_eq!(
            read(&path),
            "a,b,c,d\n\"x,y\",\"say \"\"hi\"\"\",\"line1\nline2\",\n\
             \"{\"\"k\"\":[1,2]}\",\"[true,null]\",\"cr\r\",plain\n"
        );
    }

    #[tokio::test]
    async fn custom_delimiter_and_no_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.tsv");
        let mut cfg = config(&path);
        cfg.delimiter = b'\t';
        cfg.write_headers = false;
        let mut sink = opened(cfg, None).await;
        sink.write_batch(&[json!({"a": "x,y", "b": "t\tab"})], token(1)).await.unwrap();
        let checkpoint = sink.flush().await.unwrap().unwrap();
        assert_eq!(read(&path), "x,y\t\"t\tab\"\n");
        assert_eq!(checkpoint["header"], json!(["a", "b"]));
    }

    #[tokio::test]
    async fn later_unknown_keys_are_dropped_and_non_objects_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut sink = opened(config(&path), None).await;
        sink.write_batch(&[json!({"id": 1})], token(1)).await.unwrap();
        let outcome = sink
            .write_batch(&[json!({"id": 2, "extra": "x"}), json!([1, 2]), json!({"extra": 3})], token(2))
            .await
            .unwrap();
        assert_eq!(outcome.written, 2);
        assert_eq!(outcome.failures.len(), 1);
        assert_eq!(outcome.failures[0].index, 1);
        assert!(outcome.failures[0].error.message().contains("an array"));
        assert_eq!(sink.warned.len(), 1, "one warning per unknown key");
        sink.flush().await.unwrap();
        assert_eq!(read(&path), "id\n1\n2\n\"\"\n");
    }

    #[tokio::test]
    async fn resume_truncates_and_reuses_the_checkpoint_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut sink = opened(config(&path), None).await;
        sink.write_batch(&[json!({"b": 1, "a": 2})], token(1)).await.unwrap();
        let checkpoint = sink.flush().await.unwrap().unwrap();
        sink.write_batch(&[json!({"b": 3, "a": 4})], token(2)).await.unwrap();
        drop(sink);
        assert_eq!(read(&path), "b,a\n1,2\n3,4\n");

        let mut sink = opened(config(&path), Some(&checkpoint)).await;
        assert_eq!(read(&path), "b,a\n1,2\n");
        // Different key order and a new key: the frozen header wins, no second header line.
        sink.write_batch(&[json!({"a": 4, "b": 3, "c": 5})], token(2)).await.unwrap();
        let again = sink.flush().await.unwrap().unwrap();
        assert_eq!(read(&path), "b,a\n1,2\n3,4\n");
        assert_eq!(again["header"], json!(["b", "a"]));
    }

    #[tokio::test]
    async fn append_to_a_non_empty_file_writes_no_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "id,name\n1,a\n").unwrap();
        let mut cfg = config(&path);
        cfg.append = true;
        let mut sink = opened(cfg.clone(), None).await;
        sink.write_batch(&[json!({"id": 2, "name": "b"})], token(1)).await.unwrap();
        sink.flush().await.unwrap();
        assert_eq!(read(&path), "id,name\n1,a\n2,b\n");

        // Append to a file that does not exist yet: the header is written.
        let fresh = dir.path().join("fresh.csv");
        cfg.path = fresh.to_str().unwrap().to_owned();
        let mut sink = opened(cfg, None).await;
        sink.write_batch(&[json!({"id": 1})], token(1)).await.unwrap();
        sink.flush().await.unwrap();
        assert_eq!(read(&fresh), "id\n1\n");
    }

    /// A typed record: `id`, `note` (may be absent) and `ratio`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
    struct Row {
        id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        ratio: f64,
    }

    const ROW: Schema = Schema {
        fields: &[
            crate::schema::Field {
                name: "id",
                ty: crate::schema::FieldType::Integer,
                nullable: false,
                required: true,
            },
            crate::schema::Field {
                name: "note",
                ty: crate::schema::FieldType::String,
                nullable: false,
                required: false,
            },
            crate::schema::Field {
                name: "ratio",
                ty: crate::schema::FieldType::Number,
                nullable: false,
                required: true,
            },
        ],
        open: false,
        origin: "a test",
    };

    impl RecordType for Row {
        const SCHEMA: Option<&'static Schema> = Some(&ROW);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => FieldValue::Int(self.id),
                1 => self.note.as_deref().map_or(FieldValue::Absent, FieldValue::Text),
                2 => FieldValue::Float(self.ratio),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> std::borrow::Cow<'_, Value> {
            record::json_of(self)
        }

        fn from_json(value: Value) -> Result<Self> {
            record::from_json_value(value)
        }
    }

    #[tokio::test]
    async fn typed_records_have_the_schema_as_header_and_resume_under_the_checkpoint_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut sink = opened(config(&path), None).await;
        // No record of the first batch has a `note`: the column is there all the same.
        let first = [Row { id: 1, note: None, ratio: 0.1 }, Row { id: -2, note: None, ratio: f64::NAN }];
        sink.write_batch(&first, token(1)).await.unwrap();
        let checkpoint = sink.flush().await.unwrap().unwrap();
        assert_eq!(read(&path), "id,note,ratio\n1,,0.1\n-2,,\n");
        assert_eq!(checkpoint["header"], json!(["id", "note", "ratio"]));

        // A file whose header a run fixed otherwise (the checkpoint's): its columns, in its order.
        std::fs::write(&path, "ratio,id,other\n").unwrap();
        let checkpoint = json!({"len": 15, "header": ["ratio", "id", "other"]});
        let mut sink = opened(config(&path), Some(&checkpoint)).await;
        let rows = [Row { id: 3, note: Some("a,b".into()), ratio: 1e300 }];
        sink.write_batch(&rows, token(2)).await.unwrap();
        sink.flush().await.unwrap();
        // A double as serde_json writes it (and its JSON holds it).
        assert_eq!(read(&path), "ratio,id,other\n1e+300,3,\n");
        assert_eq!(rows[0].to_json()["ratio"].to_string(), "1e+300");
    }

    #[tokio::test]
    async fn no_write_creates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.csv");
        let mut sink = opened(config(&path), None).await;
        assert_eq!(sink.flush().await.unwrap(), Some(json!({"len": 0, "header": null})));
        drop(sink);
        assert!(!path.exists());
    }
}

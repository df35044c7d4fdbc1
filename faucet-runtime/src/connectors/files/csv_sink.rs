//! The `csv` sink: records as RFC 4180 rows under a header fixed by the first batch.
//!
//! The header is the union of the first batch's keys in first-seen order and
//! stays frozen for the file: a later key outside it is dropped, with one
//! warning per key. Values: null is an empty field, a string is written as is,
//! numbers and booleans as their JSON text, objects and arrays as compact JSON.
//! A field holding the delimiter, `"`, CR or LF is quoted, with embedded quotes
//! doubled. Lines end with `\n`.
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
            match object.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => self.field.extend_from_slice(s.as_bytes()),
                Some(Value::Bool(b)) => self.field.extend_from_slice(if *b { b"true" } else { b"false" }),
                Some(Value::Number(n)) => {
                    let _ = write!(self.field, "{n}");
                }
                Some(nested) => {
                    serde_json::to_writer(&mut self.field, nested).map_err(|e| e.to_string())?;
                }
            }
            push_field(&mut self.line, &self.field, self.config.delimiter, single);
        }
        self.line.push(b'\n');
        Ok(())
    }
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

impl<R: crate::RecordType> Writes<R> for CsvSink {
    async fn write_batch(&mut self, batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        let batch = &*crate::record::json_batch(batch);
        if self.writer.is_none() {
            return Err(FaucetError::sink("the `csv` sink was written to before it was opened"));
        }
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
            match rendered {
                Ok(()) => {
                    let writer = self.writer.as_mut().expect("checked above");
                    writer.write_all(&self.line).map_err(|e| {
                        FaucetError::sink(format!("writing {}: {e}", writer.path().display()))
                    })?;
                    outcome.written += 1;
                }
                Err(message) => {
                    outcome.failures.push(RowFailure { index, error: FaucetError::sink(message) })
                }
            }
        }
        Ok(outcome)
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

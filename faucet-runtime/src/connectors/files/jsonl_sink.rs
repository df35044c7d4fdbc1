//! The `jsonl` sink: one compact JSON object per line (or pretty-printed over
//! several, with `pretty`), appended to a local file.
//!
//! Crash safety: [`Sink::flush`] syncs the file and returns `{"len": N}`; a
//! resumed run's [`Sink::open`] truncates the file back to `N`, so lines written
//! after the last confirmed page are dropped and written again by the resumed run.

use serde_json::Value;

use std::io::Write;

use serde_json::json;

use super::json_line;
use super::writer::FileWriter;
pub use crate::config::files::JsonlSinkConfig;
use crate::error::{FaucetError, Result};
use crate::page::CommitToken;
use crate::record::RecordType;
use crate::sink::{OpenContext, RowFailure, Sink, WriteOutcome, Writes};

/// Writes one compact JSON object per line.
#[derive(Debug)]
pub struct JsonlSink {
    config: JsonlSinkConfig,
    writer: Option<FileWriter>,
    /// Lines serialized but not yet handed to the writer, reused from batch to
    /// batch: serde_json's many small writes land in a `Vec`, and the file sees
    /// one large write instead.
    lines: Vec<u8>,
    /// The encodings of the records' keys, reused from record to record.
    keys: json_line::KeyCache,
    /// The encodings of a typed record's member names.
    members: json_line::MemberKeys,
}

/// Bytes of serialized lines gathered before they are handed to the file.
const LINES_CHUNK: usize = 256 * 1024;

impl JsonlSink {
    /// A sink for `config`; the file is opened by [`Sink::open`].
    pub fn new(config: JsonlSinkConfig) -> Self {
        JsonlSink {
            config,
            writer: None,
            lines: Vec::new(),
            keys: json_line::KeyCache::default(),
            members: json_line::MemberKeys::default(),
        }
    }
}

/// Reads the `len` of a file sink's checkpoint.
pub(super) fn checkpoint_len(checkpoint: &Value, sink: &str) -> Result<u64> {
    checkpoint.get("len").and_then(Value::as_u64).ok_or_else(|| {
        FaucetError::sink(format!("the `{sink}` sink's checkpoint has no `len`: {checkpoint}"))
    })
}

impl Sink for JsonlSink {
    fn connector_name(&self) -> &'static str {
        "jsonl"
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    fn keep_existing(&mut self) {
        self.config.append = true;
    }

    async fn open(&mut self, ctx: OpenContext<'_>) -> Result<()> {
        let len = ctx.checkpoint.map(|c| checkpoint_len(c, "jsonl")).transpose()?;
        self.writer = Some(FileWriter::open(&self.config.path, len, self.config.append)?);
        Ok(())
    }

    async fn flush(&mut self) -> Result<Option<Value>> {
        match self.writer.as_mut() {
            Some(writer) => Ok(Some(json!({ "len": writer.flush()? }))),
            None => Ok(None),
        }
    }
}

impl<R: RecordType> Writes<R> for JsonlSink {
    async fn write_batch(&mut self, batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| FaucetError::sink("the `jsonl` sink was written to before it was opened"))?;
        let (keys, members) = (&mut self.keys, &mut self.members);
        let (written, failures) = match R::as_json_slice(batch) {
            _ if self.config.pretty => write_lines(writer, &mut self.lines, batch, |line, record| {
                serde_json::to_writer_pretty(line, record)
            }),
            Some(json) => write_lines(writer, &mut self.lines, json, |line, record| {
                json_line::write_record(line, record, keys);
                Ok(())
            }),
            // A typed record serializes itself: its members in order, no map in between.
            None => write_lines(writer, &mut self.lines, batch, |line, record| {
                json_line::write_serialized(line, record, members)
            }),
        };
        let written =
            written.map_err(|e| FaucetError::sink(format!("writing {}: {e}", writer.path().display())))?;
        Ok(WriteOutcome { written, failures, ..WriteOutcome::default() })
    }
}

/// Writes `records` to `writer`, one line each as `encode` writes it, in
/// chunks of [`LINES_CHUNK`] bytes gathered in `lines`. Returns how many were
/// written, and the records `encode` failed on (left out).
fn write_lines<T>(
    writer: &mut FileWriter,
    lines: &mut Vec<u8>,
    records: &[T],
    mut encode: impl FnMut(&mut Vec<u8>, &T) -> serde_json::Result<()>,
) -> (std::io::Result<u64>, Vec<RowFailure>) {
    let mut failures = Vec::new();
    lines.clear();
    let written = records.iter().enumerate().try_for_each(|(i, record)| {
        let start = lines.len();
        match encode(lines, record) {
            Ok(()) => lines.push(b'\n'),
            Err(e) => {
                lines.truncate(start);
                failures.push(RowFailure {
                    index: i,
                    error: FaucetError::sink(format!("encoding a record: {e}")),
                });
            }
        }
        if lines.len() >= LINES_CHUNK || i + 1 == records.len() {
            writer.write_all(lines)?;
            lines.clear();
        }
        Ok::<(), std::io::Error>(())
    });
    if lines.capacity() > 4 * LINES_CHUNK {
        // One huge record must not pin its size for the rest of the run.
        *lines = Vec::new();
    }
    (written.map(|()| (records.len() - failures.len()) as u64), failures)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const TOKEN: CommitToken = CommitToken { seq: 1, part: 0 };

    async fn opened(path: &Path, append: bool, checkpoint: Option<&Value>) -> JsonlSink {
        let mut config = JsonlSinkConfig::new(path.to_str().unwrap());
        config.append = append;
        let mut sink = JsonlSink::new(config);
        sink.open(OpenContext { scope: "p::row-0", checkpoint }).await.unwrap();
        sink
    }

    #[tokio::test]
    async fn writes_one_compact_object_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/data.jsonl");
        let mut sink = opened(&path, false, None).await;
        let batch =
            vec![json!({"id": 1, "name": "a b", "tags": ["x"]}), json!({"id": 2, "nested": {"k": null}})];
        let outcome = sink.write_batch(&batch, TOKEN).await.unwrap();
        assert_eq!(outcome.written, 2);
        assert!(outcome.failures.is_empty() && !outcome.already_committed);
        let checkpoint = sink.flush().await.unwrap().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"id\":1,\"name\":\"a b\",\"tags\":[\"x\"]}\n{\"id\":2,\"nested\":{\"k\":null}}\n"
        );
        assert_eq!(checkpoint, json!({"len": text.len()}));
        assert_eq!(checkpoint["len"].as_u64(), Some(std::fs::metadata(&path).unwrap().len()));
    }

    #[tokio::test]
    async fn pretty_writes_each_record_indented_then_a_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pretty.jsonl");
        let mut config = JsonlSinkConfig::new(path.to_str().unwrap());
        config.pretty = true;
        let mut sink = JsonlSink::new(config);
        sink.open(OpenContext { scope: "p::row-0", checkpoint: None }).await.unwrap();
        let batch = vec![json!({"id": 1, "tags": ["x"]}), json!({"id": 2})];
        sink.write_batch(&batch, TOKEN).await.unwrap();
        sink.flush().await.unwrap();
        let expected: String =
            batch.iter().map(|r| format!("{}\n", serde_json::to_string_pretty(r).unwrap())).collect();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
        assert!(expected.starts_with("{\n  \"id\": 1,\n  \"tags\": [\n    \"x\"\n  ]\n}\n{"));
    }

    #[tokio::test]
    async fn resume_truncates_rows_written_after_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.jsonl");
        let mut sink = opened(&path, false, None).await;
        sink.write_batch(&[json!({"page": 1})], TOKEN).await.unwrap();
        let checkpoint = sink.flush().await.unwrap().unwrap();
        sink.write_batch(&[json!({"page": 2})], CommitToken { seq: 2, part: 0 }).await.unwrap();
        drop(sink); // a crash before the page-2 bookmark; dropping still pushes the buffer out
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"page\":1}\n{\"page\":2}\n");

        let mut sink = opened(&path, false, Some(&checkpoint)).await;
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"page\":1}\n");
        sink.write_batch(&[json!({"page": 2})], CommitToken { seq: 2, part: 0 }).await.unwrap();
        sink.flush().await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"page\":1}\n{\"page\":2}\n");
    }

    #[tokio::test]
    async fn a_file_shorter_than_the_checkpoint_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.jsonl");
        std::fs::write(&path, "{}\n").unwrap();
        let mut sink = JsonlSink::new(JsonlSinkConfig::new(path.to_str().unwrap()));
        let checkpoint = json!({"len": 100});
        let err = sink.open(OpenContext { scope: "s", checkpoint: Some(&checkpoint) }).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Sink);
        assert!(err.message().contains("changed behind faucet's back"), "{err}");
    }

    #[tokio::test]
    async fn append_mode_keeps_existing_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.jsonl");
        std::fs::write(&path, "{\"old\":true}\n").unwrap();
        let mut sink = opened(&path, true, None).await;
        sink.write_batch(&[json!({"new": true})], TOKEN).await.unwrap();
        let checkpoint = sink.flush().await.unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"old\":true}\n{\"new\":true}\n");
        assert_eq!(checkpoint, json!({"len": 26}));

        // Without append, a first run starts the file over.
        let mut sink = opened(&path, false, None).await;
        sink.write_batch(&[json!({"n": 1})], TOKEN).await.unwrap();
        sink.flush().await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"n\":1}\n");
    }

    #[tokio::test]
    async fn no_write_creates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.jsonl");
        let mut sink = opened(&path, false, None).await;
        assert_eq!(sink.flush().await.unwrap(), Some(json!({"len": 0})));
        drop(sink);
        assert!(!path.exists());
    }
}

//! The `stdout` sink: prints records to standard output or standard error.
//!
//! Each batch is rendered into a reusable buffer and written under a single
//! lock of the stream, so concurrent log lines cannot split a record.
//! A terminal has no checkpoint: [`Sink::flush`] returns `None`, and a run
//! resumed after a crash may print the last page again.

use serde_json::Value;

use std::io::Write;

pub use crate::config::stdout::{Destination, StdoutFormat, StdoutSinkConfig};
use crate::error::{FaucetError, Result};
use crate::page::{CommitToken, Record};
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};

/// Prints records; a terminal has no checkpoint, so a resumed run may reprint the last page.
#[derive(Debug)]
pub struct StdoutSink {
    config: StdoutSinkConfig,
    /// The batch being rendered (reused across batches).
    buf: Vec<u8>,
    /// Records printed so far, against `max_records`.
    printed: u64,
}

impl StdoutSink {
    /// A sink for `config`.
    pub fn new(config: StdoutSinkConfig) -> Self {
        StdoutSink { config, buf: Vec::new(), printed: 0 }
    }
}

/// Appends `records` to `out` in `format`, one record per line (or per block).
fn render(format: StdoutFormat, records: &[Record], out: &mut Vec<u8>) -> serde_json::Result<()> {
    for record in records {
        match format {
            StdoutFormat::JsonLines => serde_json::to_writer(&mut *out, record)?,
            StdoutFormat::PrettyJson => serde_json::to_writer_pretty(&mut *out, record)?,
        }
        out.push(b'\n');
    }
    Ok(())
}

impl StdoutSink {
    /// Runs `f` on the locked destination stream, so no other line can split a write.
    fn with_stream<T>(&self, f: impl FnOnce(&mut dyn Write) -> std::io::Result<T>) -> std::io::Result<T> {
        match self.config.destination {
            Destination::Stdout => f(&mut std::io::stdout().lock()),
            Destination::Stderr => f(&mut std::io::stderr().lock()),
        }
    }

    /// Renders and prints `records`: in one write, or record by record, each
    /// flushed, with `flush_per_record`.
    fn print(&self, records: &[Record], buf: &mut Vec<u8>) -> std::io::Result<()> {
        if !self.config.flush_per_record {
            buf.clear();
            render(self.config.format, records, buf).map_err(std::io::Error::from)?;
            return self.with_stream(|out| out.write_all(buf));
        }
        for record in records {
            buf.clear();
            render(self.config.format, std::slice::from_ref(record), buf).map_err(std::io::Error::from)?;
            self.with_stream(|out| {
                out.write_all(buf)?;
                out.flush()
            })?;
        }
        Ok(())
    }

    fn stream(&self) -> &'static str {
        match self.config.destination {
            Destination::Stdout => "stdout",
            Destination::Stderr => "stderr",
        }
    }
}

impl Sink for StdoutSink {
    fn connector_name(&self) -> &'static str {
        "stdout"
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        Ok(())
    }

    async fn flush(&mut self) -> Result<Option<Value>> {
        self.with_stream(|out| out.flush())
            .map_err(|e| FaucetError::sink(format!("flushing {}: {e}", self.stream())))?;
        Ok(None)
    }
}

impl<R: crate::RecordType> Writes<R> for StdoutSink {
    async fn write_batch(&mut self, batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        let batch = &*crate::record::json_batch(batch);
        // Past `max_records`, records are passed over: the run goes on, prints nothing more.
        let room = self.config.max_records.map_or(u64::MAX, |max| max.saturating_sub(self.printed));
        let shown = &batch[..batch.len().min(usize::try_from(room).unwrap_or(usize::MAX))];
        let mut buf = std::mem::take(&mut self.buf);
        let printed = if shown.is_empty() { Ok(()) } else { self.print(shown, &mut buf) };
        self.buf = buf;
        printed.map_err(|e| FaucetError::sink(format!("writing to {}: {e}", self.stream())))?;
        self.printed += shown.len() as u64;
        Ok(WriteOutcome { written: batch.len() as u64, ..WriteOutcome::default() })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn renders_json_lines_and_pretty_json() {
        let records = vec![json!({"a": 1, "b": [true]}), json!("x")];
        let mut out = Vec::new();
        render(StdoutFormat::JsonLines, &records, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"a\":1,\"b\":[true]}\n\"x\"\n");

        let mut out = Vec::new();
        render(StdoutFormat::PrettyJson, &records[..1], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}\n");
    }

    #[tokio::test]
    async fn writes_a_batch_and_has_no_checkpoint() {
        let config = StdoutSinkConfig { destination: Destination::Stderr, ..StdoutSinkConfig::default() };
        let mut sink = StdoutSink::new(config);
        sink.open(OpenContext { scope: "p::row-0", checkpoint: None }).await.unwrap();
        let outcome = sink
            .write_batch(&[json!({"stdout_sink_test": 1})], CommitToken { seq: 1, part: 0 })
            .await
            .unwrap();
        assert_eq!(outcome.written, 1);
        assert!(outcome.failures.is_empty() && !outcome.already_committed);
        assert_eq!(sink.flush().await.unwrap(), None);
        assert_eq!(sink.batch_size(), 1000);
    }

    #[tokio::test]
    async fn stops_printing_at_max_records_and_flushes_per_record() {
        let config = StdoutSinkConfig {
            destination: Destination::Stderr,
            flush_per_record: true,
            max_records: Some(3),
            ..StdoutSinkConfig::default()
        };
        let mut sink = StdoutSink::new(config);
        let batch = [json!({"stdout_max": 1}), json!({"stdout_max": 2})];
        for seq in 1..=3 {
            let outcome = sink.write_batch(&batch, CommitToken { seq, part: 0 }).await.unwrap();
            assert_eq!(outcome.written, 2, "passed-over records still count as handled");
        }
        assert_eq!(sink.printed, 3);
    }
}

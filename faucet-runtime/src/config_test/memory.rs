//! In-memory ends for a config test: a source that pages through fixture
//! records and a sink that keeps what it is given, so a test touches nothing
//! outside the process.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::error::Result;
use crate::page::{CommitToken, Page};
use crate::record::RecordType;
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};
use crate::source::Source;

/// A source that yields fixture records, `page_size` to a page (all in one page when 0).
#[derive(Debug)]
pub struct MemorySource {
    records: std::vec::IntoIter<Value>,
    page_size: usize,
}

impl MemorySource {
    /// A source yielding `records` in order.
    pub fn new(records: Vec<Value>, page_size: usize) -> Self {
        MemorySource { records: records.into_iter(), page_size }
    }
}

impl Source for MemorySource {
    type Record = Value;

    fn connector_name(&self) -> &'static str {
        "fixture"
    }

    fn prefetch(&self) -> bool {
        false
    }

    async fn resume(&mut self, _bookmark: Option<Value>) -> Result<()> {
        Ok(())
    }

    async fn next_page(&mut self) -> Result<Option<Page>> {
        let size = if self.page_size == 0 { usize::MAX } else { self.page_size };
        let records: Vec<Value> = self.records.by_ref().take(size).collect();
        Ok((!records.is_empty()).then(|| Page { records, ..Page::default() }))
    }
}

crate::typed_source::decoded_into_typed!(MemorySource);

/// A sink that appends every record it writes, as JSON, to a shared list.
///
/// Clones share the list: the test keeps one and hands the other to the pipeline.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    records: Arc<Mutex<Vec<Value>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the records written so far.
    pub fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Sink for MemorySink {
    fn connector_name(&self) -> &'static str {
        "memory"
    }

    fn batch_size(&self) -> usize {
        1000
    }

    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        Ok(())
    }

    async fn flush(&mut self) -> Result<Option<Value>> {
        Ok(None)
    }
}

impl<R: RecordType> Writes<R> for MemorySink {
    async fn write_batch(&mut self, batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.extend(batch.iter().map(|r| r.to_json().into_owned()));
        Ok(WriteOutcome { written: batch.len() as u64, ..WriteOutcome::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn pages_by_size_and_keeps_what_is_written() {
        let mut source = MemorySource::new(vec![json!({"a": 1}), json!({"a": 2}), json!({"a": 3})], 2);
        assert_eq!(source.next_page().await.unwrap().unwrap().records.len(), 2);
        assert_eq!(source.next_page().await.unwrap().unwrap().records, vec![json!({"a": 3})]);
        assert!(source.next_page().await.unwrap().is_none());

        let sink = MemorySink::new();
        let mut writer = sink.clone();
        let token = CommitToken { seq: 0, part: 0 };
        let outcome = writer.write_batch(&[json!({"a": 1})], token).await.unwrap();
        assert_eq!(outcome.written, 1);
        assert_eq!(sink.take(), vec![json!({"a": 1})]);
        assert!(sink.take().is_empty());
    }
}

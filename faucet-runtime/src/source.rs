//! The [`Source`] trait: where records come from.

use std::future::Future;

use futures_util::Stream;
use serde_json::Value;

use crate::error::Result;
use crate::page::Page;
use crate::record::RecordType;

/// Fetches records and yields them in pages.
///
/// A source is pull-based: the driver asks for page N+1 while it writes page N
/// (never further ahead), so memory stays bounded by two pages; a source that
/// sets [`Source::CONFIRMS_UPSTREAM`], or whose [`Source::prefetch`] is false,
/// is asked only after page N is confirmed.
pub trait Source: Send {
    /// The records it yields: [`serde_json::Value`], or a struct generated
    /// from the stream's schema.
    type Record: RecordType;

    /// True for a source that acknowledges consumed input to its upstream system
    /// (Kafka offsets, a replication slot) when it is asked for the next page.
    ///
    /// The driver then flushes the sink after every page, even in a run with no
    /// state store, so nothing is acknowledged upstream before the sink holds it.
    const CONFIRMS_UPSTREAM: bool = false;

    /// True when a resumed source yields exactly the pages the interrupted run
    /// yielded after the same bookmark (files, keyed queries), so a sink may skip
    /// a batch whose commit token it stored before a crash.
    ///
    /// A source whose page boundaries depend on what had arrived (a replication
    /// slot) says false: the driver then gives each run its own commit-token
    /// scope, so a page written but not confirmed before a crash is written
    /// again, never skipped because a different page had the same token.
    const REPLAYS_PAGES: bool = true;

    /// Short snake-case name (`csv`, `jsonl`), used in metrics, spans and errors.
    fn connector_name(&self) -> &'static str;

    /// Whether the driver reads the next page while it writes the current one.
    ///
    /// Worth a second page in memory for a source that waits on a server (a
    /// query, an API, a remote object), whose wait then overlaps the sink's
    /// work. A source whose reads are already buffered ahead (local files)
    /// says false, and the run holds one page of records fewer.
    fn prefetch(&self) -> bool {
        true
    }

    /// Positions the source just after `bookmark`, the last confirmed page's
    /// bookmark, or at the start when there is none. Called once, before the first page.
    fn resume(&mut self, bookmark: Option<Value>) -> impl Future<Output = Result<()>> + Send;

    /// The next page, or `None` when the source is exhausted.
    fn next_page(&mut self) -> impl Future<Output = Result<Option<Page<Self::Record>>>> + Send;

    /// Takes back the records of a page the sink has confirmed, so the source
    /// can reuse their allocations for the next page (a tabular source refills
    /// maps that have its columns instead of building new ones). The default drops them.
    fn recycle(&mut self, spent: Vec<Self::Record>) {
        drop(spent);
    }

    /// The pages as a stream, for callers that prefer stream combinators.
    fn stream_pages(&mut self) -> impl Stream<Item = Result<Page<Self::Record>>> + Send + '_
    where
        Self: Sized,
    {
        futures_util::stream::unfold(self, |source| async move {
            match source.next_page().await {
                Ok(Some(page)) => Some((Ok(page), source)),
                Ok(None) => None,
                Err(error) => Some((Err(error), source)),
            }
        })
    }
}

impl<S: Source + ?Sized> Source for &mut S {
    type Record = S::Record;
    const CONFIRMS_UPSTREAM: bool = S::CONFIRMS_UPSTREAM;
    const REPLAYS_PAGES: bool = S::REPLAYS_PAGES;

    fn connector_name(&self) -> &'static str {
        (**self).connector_name()
    }

    fn prefetch(&self) -> bool {
        (**self).prefetch()
    }

    fn resume(&mut self, bookmark: Option<Value>) -> impl Future<Output = Result<()>> + Send {
        (**self).resume(bookmark)
    }

    fn next_page(&mut self) -> impl Future<Output = Result<Option<Page<S::Record>>>> + Send {
        (**self).next_page()
    }

    fn recycle(&mut self, spent: Vec<Self::Record>) {
        (**self).recycle(spent)
    }
}

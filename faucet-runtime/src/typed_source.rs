//! Typed sources: how a connector that reads JSON records yields the struct
//! faucet-gen generated from the stream's schema.
//!
//! Generated code asks every source the same way, `source.into_typed()`, so
//! it does not care how a connector does it. A connector that decodes its
//! input straight into the struct returns itself with another record type; one
//! that reads JSON first returns [`Decoded`], which decodes each JSON record.

use std::marker::PhantomData;

use serde_json::Value;

use crate::error::Result;
use crate::page::{Page, Rejected};
use crate::record::RecordType;
use crate::source::Source;

/// A source of JSON records that can yield records of type `R` instead.
pub trait IntoTyped<R: RecordType>: Source<Record = Value> + Sized {
    /// The source that yields `R`.
    type Typed: Source<Record = R>;

    /// The same source, yielding `R`.
    fn into_typed(self) -> Self::Typed;
}

/// A source of JSON records whose records are decoded as `R`, one by one. A
/// record that does not fit `R`'s schema is rejected with a schema error
/// naming the field (it goes to the DLQ with reason `schema`, or fails the run).
pub struct Decoded<S, R> {
    source: S,
    records: PhantomData<fn() -> R>,
}

impl<S, R> Decoded<S, R> {
    /// Decodes `source`'s records as `R`.
    pub fn new(source: S) -> Self {
        Decoded { source, records: PhantomData }
    }
}

impl<S: std::fmt::Debug, R> std::fmt::Debug for Decoded<S, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Decoded").field(&self.source).finish()
    }
}

impl<S: Source<Record = Value>, R: RecordType> Source for Decoded<S, R> {
    type Record = R;
    const CONFIRMS_UPSTREAM: bool = S::CONFIRMS_UPSTREAM;
    const REPLAYS_PAGES: bool = S::REPLAYS_PAGES;

    fn connector_name(&self) -> &'static str {
        self.source.connector_name()
    }

    fn prefetch(&self) -> bool {
        self.source.prefetch()
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        self.source.resume(bookmark).await
    }

    async fn next_page(&mut self) -> Result<Option<Page<R>>> {
        Ok(self.source.next_page().await?.map(decode_page))
    }

    fn recycle(&mut self, spent: Vec<R>) {
        if let Ok(json) = R::into_json_vec(spent) {
            self.source.recycle(json);
        }
    }
}

impl<S: crate::shard::Shardable<Record = Value>, R: RecordType> crate::shard::Shardable for Decoded<S, R> {
    fn plan(&mut self, count: u32) -> impl Future<Output = Result<crate::shard::Plan>> + Send {
        self.source.plan(count)
    }

    fn narrow(&mut self, shard: crate::shard::ShardId, plan: &crate::shard::Plan) -> Result<()> {
        self.source.narrow(shard, plan)
    }
}

/// `page` with its records decoded as `R`; a record that does not fit joins
/// the page's rejects, its JSON as the payload.
pub fn decode_page<R: RecordType>(page: Page<Value>) -> Page<R> {
    let Page { records, mut rejects, skipped, bookmark } = page;
    let records = match R::from_json_vec(records) {
        Ok(records) => records,
        Err(json) => {
            let mut decoded = Vec::with_capacity(json.len());
            for value in json {
                match crate::record::decode_json::<R>(&value) {
                    Ok(record) => decoded.push(record),
                    Err(error) => rejects.push(Rejected { payload: value, error }),
                }
            }
            decoded
        }
    };
    Page { records, rejects, skipped, bookmark }
}

/// Implements [`IntoTyped`] with [`Decoded`] for connectors that read JSON.
#[allow(unused_macros)]
macro_rules! decoded_into_typed {
    ($($source:ty),* $(,)?) => {$(
        impl<R: $crate::record::RecordType> $crate::typed_source::IntoTyped<R> for $source {
            type Typed = $crate::typed_source::Decoded<$source, R>;

            fn into_typed(self) -> Self::Typed {
                $crate::typed_source::Decoded::new(self)
            }
        }
    )*};
}
#[allow(unused_imports)]
pub(crate) use decoded_into_typed;

impl<R: RecordType> IntoTyped<R> for crate::gate::Unavailable {
    type Typed = Decoded<Self, R>;

    fn into_typed(self) -> Self::Typed {
        Decoded::new(self)
    }
}

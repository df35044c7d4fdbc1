//! The fan-out hook: what a matrix parent does with each page it wrote.

use std::future::Future;

use crate::error::Result;
use crate::page::Record;
use crate::record::RecordType;

/// Receives the records a page wrote, after the sink and DLQ flushed it and
/// before its bookmark is persisted.
///
/// A matrix parent runs its child invocations here. Because the bookmark
/// waits for this call, a crash while children run leaves the parent's
/// bookmark before the page, so the rerun hands the same records again and
/// every unfinished child resumes (finished ones find nothing left to do).
/// An `Err` fails the run and keeps the bookmark where it was.
pub trait FanOut<R: RecordType = Record>: Send {
    /// False for [`NoFanOut`], so the driver skips collecting records.
    const ACTIVE: bool = true;

    /// Handles the records of one confirmed page (those the sink accepted).
    fn confirmed(&mut self, records: &[&R]) -> impl Future<Output = Result<()>> + Send;
}

/// No fan-out: the pipeline has no children.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFanOut;

impl<R: RecordType> FanOut<R> for NoFanOut {
    const ACTIVE: bool = false;

    async fn confirmed(&mut self, _records: &[&R]) -> Result<()> {
        Ok(())
    }
}

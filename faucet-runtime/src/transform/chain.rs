//! The [`Transform`] trait and its static composition ([`Identity`],
//! [`Chain`], [`FnTransform`]); the transforms in the sibling modules
//! implement it.

use crate::error::Result;
use crate::page::Record;

/// Reshapes one record at a time.
///
/// `Ok(None)` drops the record; `Err` rejects it (it goes to the DLQ when the
/// pipeline has one, otherwise the run fails naming the record).
pub trait Transform: Send {
    /// False only for a transform that never returns `Err`: the driver then
    /// keeps no copy of a record for the dead-letter queue while it is transformed.
    const CAN_FAIL: bool = true;

    /// Transforms one record.
    fn apply(&mut self, record: Record) -> Result<Option<Record>>;
}

/// The transform that changes nothing: the start of every chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl Transform for Identity {
    const CAN_FAIL: bool = false;

    #[inline]
    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        Ok(Some(record))
    }
}

/// Two transforms applied one after the other.
#[derive(Debug, Clone, Default)]
pub struct Chain<A, B>(pub A, pub B);

impl<A: Transform, B: Transform> Transform for Chain<A, B> {
    const CAN_FAIL: bool = A::CAN_FAIL || B::CAN_FAIL;

    #[inline]
    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        match self.0.apply(record)? {
            Some(record) => self.1.apply(record),
            None => Ok(None),
        }
    }
}

/// Adapts a closure or function `FnMut(Record) -> Result<Option<Record>>` into a transform.
#[derive(Debug, Clone)]
pub struct FnTransform<F>(pub F);

impl<F> Transform for FnTransform<F>
where
    F: FnMut(Record) -> Result<Option<Record>> + Send,
{
    #[inline]
    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        (self.0)(record)
    }
}

/// Wraps a closure as a transform: `transform_fn(|r| Ok(Some(r)))`.
pub fn transform_fn<F>(f: F) -> FnTransform<F>
where
    F: FnMut(Record) -> Result<Option<Record>> + Send,
{
    FnTransform(f)
}

//! The [`Transform`] trait and its static composition ([`Identity`],
//! [`Chain`], [`FnTransform`]); the transforms in the sibling modules
//! implement it.

use std::marker::PhantomData;

use crate::error::Result;
use crate::page::Record;
use crate::record::RecordType;

/// Reshapes one record at a time, from `In` to [`Transform::Out`].
///
/// The config transforms work on the untyped [`Record`]; on a typed stream
/// faucet-gen resolves them at build time into a generated function from one
/// struct to the next. `Ok(None)` drops the record; `Err` rejects it (it goes
/// to the DLQ when the pipeline has one, otherwise the run fails naming the record).
///
/// A transform that turns one record into several (`explode`, `unpivot`)
/// sets [`EXPANDS`](Transform::EXPANDS) and implements
/// [`apply_into`](Transform::apply_into); the driver always calls
/// `apply_into`, so every other transform implements `apply` alone.
pub trait Transform<In: RecordType = Record>: Send {
    /// What it yields.
    type Out: RecordType;

    /// False only for a transform that never returns `Err`: the driver then
    /// keeps no copy of a record for the dead-letter queue while it is transformed.
    const CAN_FAIL: bool = true;

    /// True for a transform that may return more than one record per record
    /// it takes: the driver then remembers which record each output came from.
    const EXPANDS: bool = false;

    /// Transforms one record. A transform that [`EXPANDS`](Transform::EXPANDS)
    /// returns its only record here, and an error when it makes several:
    /// call [`apply_into`](Transform::apply_into) for those.
    fn apply(&mut self, record: In) -> Result<Option<Self::Out>>;

    /// Transforms one record into any number of records, appended to `out`.
    /// On `Err`, `out` may hold some of this record's outputs: the caller
    /// discards them with the record. The default is [`apply`](Transform::apply).
    #[inline]
    fn apply_into(&mut self, record: In, out: &mut Vec<Self::Out>) -> Result<()> {
        if let Some(record) = self.apply(record)? {
            out.push(record);
        }
        Ok(())
    }

    /// Hands back records this transform returned as records it takes, so
    /// the source can refill their allocations rather than make new ones. A
    /// transform faucet-gen generates between two structs moves the values
    /// back (what they hold does not matter: the source overwrites them).
    /// `None`, the default: it cannot, and they are dropped.
    fn recycle(&mut self, spent: Vec<Self::Out>) -> Option<Vec<In>> {
        let _ = spent;
        None
    }
}

/// The transform that changes nothing: the start of every chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl<R: RecordType> Transform<R> for Identity {
    type Out = R;
    const CAN_FAIL: bool = false;

    #[inline]
    fn apply(&mut self, record: R) -> Result<Option<R>> {
        Ok(Some(record))
    }

    fn recycle(&mut self, spent: Vec<R>) -> Option<Vec<R>> {
        Some(spent)
    }
}

/// Two transforms applied one after the other.
#[derive(Debug, Clone, Default)]
pub struct Chain<A, B>(pub A, pub B);

impl<In: RecordType, A: Transform<In>, B: Transform<A::Out>> Transform<In> for Chain<A, B> {
    type Out = B::Out;
    const CAN_FAIL: bool = A::CAN_FAIL || B::CAN_FAIL;
    const EXPANDS: bool = A::EXPANDS || B::EXPANDS;

    #[inline]
    fn apply(&mut self, record: In) -> Result<Option<B::Out>> {
        match self.0.apply(record)? {
            Some(record) => self.1.apply(record),
            None => Ok(None),
        }
    }

    #[inline]
    fn apply_into(&mut self, record: In, out: &mut Vec<B::Out>) -> Result<()> {
        if !A::EXPANDS {
            return match self.0.apply(record)? {
                Some(record) => self.1.apply_into(record, out),
                None => Ok(()),
            };
        }
        let mut between = Vec::new();
        self.0.apply_into(record, &mut between)?;
        between.into_iter().try_for_each(|record| self.1.apply_into(record, out))
    }

    fn recycle(&mut self, spent: Vec<B::Out>) -> Option<Vec<In>> {
        let spent = self.1.recycle(spent)?;
        self.0.recycle(spent)
    }
}

/// Adapts a function or closure `FnMut(In) -> Result<Option<Out>>` into a transform.
pub struct FnTransform<F, In = Record, Out = Record> {
    f: F,
    records: PhantomData<fn(In) -> Out>,
}

impl<F: Clone, In, Out> Clone for FnTransform<F, In, Out> {
    fn clone(&self) -> Self {
        FnTransform { f: self.f.clone(), records: PhantomData }
    }
}

impl<F, In, Out> std::fmt::Debug for FnTransform<F, In, Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnTransform").finish_non_exhaustive()
    }
}

impl<F, In, Out> Transform<In> for FnTransform<F, In, Out>
where
    In: RecordType,
    Out: RecordType,
    F: FnMut(In) -> Result<Option<Out>> + Send,
{
    type Out = Out;

    #[inline]
    fn apply(&mut self, record: In) -> Result<Option<Out>> {
        (self.f)(record)
    }
}

impl<F, In, Out> FnTransform<F, In, Out>
where
    F: FnMut(In) -> Result<Option<Out>> + Send,
{
    /// Wraps a function between any two record types: a typed custom
    /// transform, `FnTransform::new(orders::enrich)`.
    pub fn new(f: F) -> Self {
        FnTransform { f, records: PhantomData }
    }
}

/// Wraps a closure over untyped records as a transform: `transform_fn(|r| Ok(Some(r)))`.
pub fn transform_fn<F>(f: F) -> FnTransform<F>
where
    F: FnMut(Record) -> Result<Option<Record>> + Send,
{
    FnTransform::new(f)
}

/// [`Transform::apply`] of a transform that expands: its one record, none,
/// or an error naming `what` when it makes several.
pub fn at_most_one<R>(what: &str, mut records: Vec<R>) -> Result<Option<R>> {
    match records.len() {
        0 | 1 => Ok(records.pop()),
        n => Err(crate::error::FaucetError::transform(format!(
            "{what} made {n} records of one where one was expected: run it with `apply_into`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_chain_hands_spent_records_back_only_when_every_step_can() {
        let spent = vec![json!({"a": 1})];
        assert_eq!(Chain(Identity, Identity).recycle(spent.clone()), Some(spent.clone()));
        let mut custom = Chain(Identity, transform_fn(|r| Ok(Some(r))));
        assert_eq!(custom.recycle(spent), None, "a function cannot be undone");
    }

    #[test]
    fn a_chain_expands_when_a_step_does_and_feeds_each_output_on() {
        use crate::transform::{Explode, Filter, OnMissing, Predicate};
        let explode = || Explode::new(["n"], None, "_", OnMissing::Drop).unwrap();
        let odd = || Filter::new(["n"], Predicate::NotIn(vec![json!(2), json!(4)]));
        const { assert!(<Chain<Explode, Filter> as Transform>::EXPANDS) };
        const { assert!(<Chain<Filter, Explode> as Transform>::EXPANDS) };
        const { assert!(!<Chain<Identity, Filter> as Transform>::EXPANDS) };
        let mut out = Vec::new();
        let mut chain = Chain(Chain(Identity, explode()), odd());
        chain.apply_into(json!({"n": [1, 2, 3, 4]}), &mut out).unwrap();
        assert_eq!(out, [json!({"n": 1}), json!({"n": 3})]);
        // A filter first: only what it keeps is exploded.
        let mut chain = Chain(Filter::new(["k"], Predicate::Exists), explode());
        chain.apply_into(json!({"n": [5, 6]}), &mut out).unwrap();
        chain.apply_into(json!({"k": 1, "n": [7, 8]}), &mut out).unwrap();
        assert_eq!(out[2..], [json!({"k": 1, "n": 7}), json!({"k": 1, "n": 8})]);
        // `apply` of a chain that expands: one record, or an error for several.
        let mut chain = Chain(Identity, explode());
        assert_eq!(chain.apply(json!({"n": [9]})).unwrap(), Some(json!({"n": 9})));
        assert!(chain.apply(json!({"n": [9, 10]})).is_err());
    }
}

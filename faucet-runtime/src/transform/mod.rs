//! Transforms: reshape each record between source and sink.
//!
//! A pipeline's transforms are composed statically: the generated code builds
//! `Chain<Chain<Flatten, RenameKeys>, KeysCase>`, so the record path is plain
//! monomorphized calls, with no boxing and no dynamic dispatch.

pub mod bridge;
pub mod cast;
mod cdc_unwrap;
mod chain;
mod coalesce;
mod explode;
mod fields;
mod filter;
mod flatten;
mod hash;
mod json_fields;
pub mod json_text;
mod keys_case;
mod lookup;
mod redact;
mod rename_keys;
mod split_join;
mod unpivot;
mod value_case;

pub use cast::{Cast, CastOnError, CastType, cast, number_text};
pub use cdc_unwrap::{CdcUnwrap, CdcUnwrapConfig, Change};
pub use chain::{Chain, FnTransform, Identity, Transform, at_most_one, transform_fn};
pub use coalesce::{Coalesce, Fill};
pub use explode::{Explode, OnMissing};
pub use fields::{DropFields, RenameField, Select, Set};
pub use filter::{Filter, Predicate, json_eq};
pub use flatten::Flatten;
pub use hash::{Hash, HashAlgorithm, HashEncoding};
pub use json_fields::{JsonEncode, JsonParse, JsonParseOnError};
pub use keys_case::{CaseMode, KeysCase};
pub use lookup::{Lookup, LookupConfig, LookupOnMissing};
pub use redact::Redact;
pub use rename_keys::RenameKeys;
pub use split_join::{Join, Split};
pub use unpivot::{Columns, Unpivot};
pub use value_case::{ValueCase, ValueCaseMode};

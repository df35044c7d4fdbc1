//! Record schemas known at build time: which fields a stream's records carry,
//! of which types, and where that knowledge came from.
//!
//! A schema comes from a database (introspected while compiling, or read from
//! the offline cache under `.faucet/`), from a declaration in the config
//! (`record_schema:` on a source), or from a `contract:`. Each config transform
//! maps its input schema to its output schema ([`flow`]); the checks then
//! compare every field the pipeline names with the fields the flow produces.
//! Where no schema is known the stream is untyped and those checks are skipped.

pub mod cache;
pub(crate) mod check;
pub mod context;
pub(crate) mod contract;
mod decimal;
pub(crate) mod declared;
pub(crate) mod flow;
pub(crate) mod introspect;
mod json_schema;
mod model;
pub(crate) mod resolve;

pub use context::{Prepare, SchemaContext};
pub use model::{Column, Database, FieldDef, FieldType, Origin, RecordSchema, TableSchema};

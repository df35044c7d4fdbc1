//! The settings of every connector: plain data, compiled whatever cargo
//! features are on. Generated code builds these as ordinary struct literals
//! and hands them to a connector's constructor, which alone sits behind the
//! connector's feature gate. Each connector module re-exports its own.

pub mod files;
pub mod kafka;
pub mod objects;
pub mod observability;
pub mod postgres_cdc;
pub mod rest;
pub mod sql;
pub mod state;
pub mod stdout;

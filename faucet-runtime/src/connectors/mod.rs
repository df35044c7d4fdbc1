//! Built-in connectors. Each family sits behind its cargo feature, except
//! `stdout`, which needs nothing.

#[cfg(feature = "files")]
pub mod files;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod stdout;

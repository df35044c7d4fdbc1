//! Built-in connectors. Each family sits behind its cargo feature, except
//! `stdout`, which needs nothing.

#[cfg(any(feature = "postgres", feature = "mysql", feature = "state-postgres", feature = "state-redis"))]
pub mod dburl;
#[cfg(feature = "files")]
pub mod files;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "mysql")]
pub mod mysql_sink;
#[cfg(feature = "object-store")]
pub mod objects;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "rest")]
pub mod rest;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "sqlite")]
pub mod sqlite_source;
pub mod stdout;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub mod write_mode;

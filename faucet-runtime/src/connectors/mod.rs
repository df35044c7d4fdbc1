//! Built-in connectors. Each family sits behind its cargo feature, except
//! `stdout`, which needs nothing.

// Always built: `secret` reads the credentials of URLs from the environment with it.
pub mod dburl;
#[cfg(feature = "files")]
pub mod files;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "object-store")]
pub mod object_store;
// `connectors::postgres` is `sql::postgres`: `postgres_cdc`'s path (`connectors::postgres::cdc`).
#[cfg(feature = "postgres")]
pub use sql::postgres;
#[cfg(feature = "rest")]
pub mod rest;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod sql;
pub mod stdout;

#[cfg(any(feature = "files", feature = "sqlite", feature = "postgres-cdc", all(test, feature = "postgres")))]
/// Standard base64 with padding: how binary columns travel in records, and
/// how the DLQ keeps input bytes that are not UTF-8.
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

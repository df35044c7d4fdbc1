//! Built-in connectors. Each family sits behind its cargo feature, except
//! `stdout`, which needs nothing.

#[cfg(any(feature = "postgres", feature = "mysql", feature = "state-postgres", feature = "state-redis"))]
pub mod dburl;
#[cfg(feature = "files")]
pub mod files;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(any(feature = "mysql", feature = "sqlite"))]
mod keyset;
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
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod sql_sink;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "sqlite")]
pub mod sqlite_source;
pub mod stdout;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod write_mode;

#[cfg(any(feature = "sqlite", feature = "postgres-cdc"))]
/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

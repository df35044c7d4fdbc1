//! The offline cache: what introspection read, kept beside the crate's
//! Cargo.toml in `.faucet/` (small JSON files meant to be committed), so a
//! build without a database (`FAUCET_OFFLINE=true`, CI, a laptop) still knows
//! its tables.
//!
//! One file per table or query: `.faucet/<database>-<what>.json`, where
//! `<what>` is the table as the config names it (`public.users`, each
//! character outside `[A-Za-z0-9_.-]` written `_`) or `query-<16 hex digits>`,
//! the 64-bit FNV-1a hash of the query's text. The content is pretty JSON,
//! keys in a fixed order, ending in a newline:
//! `{ "version": 1, "query": <the SQL, for queries only>, "table": <TableSchema> }`.
//! It never holds a URL, a host, a user or a password: only what the
//! config itself says (the table, the query) and what the database said of it.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::introspect::What;
use super::{Database, TableSchema};

/// The cache directory, relative to the crate.
pub const DIR: &str = ".faucet";

/// The format's version; a file of another version is not read.
const VERSION: u32 = 1;

/// One cache file's content (the field order is the file's key order).
#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    table: TableSchema,
}

/// The cache file's name for `what` in `database`: `postgres-public.users.json`,
/// `mysql-query-0123456789abcdef.json`.
pub(crate) fn file_name(database: Database, what: &What<'_>) -> String {
    let what = match what {
        What::Query(sql) => format!("query-{:016x}", fnv1a(sql)),
        table => table
            .display()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '_' })
            .collect(),
    };
    format!("{}-{what}.json", database.key())
}

/// The 64-bit FNV-1a hash of `text`: stable across Rust versions and
/// platforms, unlike `std`'s hasher.
pub fn fnv1a(text: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    text.bytes().fold(OFFSET, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

/// The text of the cache file of `table`, introspected from `query` when it is one.
pub(crate) fn render(table: &TableSchema, query: Option<&str>) -> String {
    let file = CacheFile { version: VERSION, query: query.map(str::to_owned), table: table.clone() };
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes `text` to `path` unless it already holds exactly that (so an
/// unchanged schema does not touch the file and trigger rebuilds); returns
/// whether it wrote.
pub(crate) fn write(path: &Path, text: &str) -> io::Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    Ok(true)
}

/// What a cache file holds.
#[derive(Debug)]
pub(crate) enum Cached {
    /// No file.
    Missing,
    /// A file that is not a cache of this table or query; why.
    Invalid(String),
    /// The schema.
    Found(TableSchema),
}

/// Reads the cache file at `path`, which must be of `database` and, for a
/// query, of exactly `query`'s text.
pub(crate) fn read(path: &Path, database: Database, query: Option<&str>) -> Cached {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Cached::Missing,
        Err(e) => return Cached::Invalid(e.to_string()),
    };
    let file: CacheFile = match serde_json::from_str(&text) {
        Ok(file) => file,
        Err(e) => return Cached::Invalid(format!("it is not a schema cache file: {e}")),
    };
    if file.version != VERSION {
        return Cached::Invalid(format!(
            "it has version {}, this faucet-gen reads version {VERSION}",
            file.version
        ));
    }
    if file.table.database != database {
        return Cached::Invalid(format!("it describes a {} table", file.table.database.name()));
    }
    if file.query.as_deref() != query {
        return Cached::Invalid("it describes another query".into());
    }
    Cached::Found(file.table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_by_table_or_query_hash() {
        let table = What::Table { schema: Some("public"), name: "order items" };
        assert_eq!(file_name(Database::Postgres, &table), "postgres-public.order_items.json");
        assert_eq!(file_name(Database::MySql, &What::Table { schema: None, name: "t" }), "mysql-t.json");
        // FNV-1a's published test vectors.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(file_name(Database::Sqlite, &What::Query("a")), "sqlite-query-af63dc4c8601ec8c.json");
    }
}

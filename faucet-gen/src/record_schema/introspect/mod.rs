//! Build-time introspection, the way sqlx's macros do it: connect while
//! compiling and read a table's columns and keys, or a query's result columns
//! as the server describes them, into a [`TableSchema`].
//!
//! Each introspection opens one connection, on a current-thread tokio runtime
//! in a thread of its own (so it also works when the caller runs inside a
//! runtime), and bounds every step by [`TIMEOUT`]: a build never hangs on a
//! database. Behind the `introspect` cargo feature; without it every attempt
//! reports the server as unreachable and builds read the `.faucet/` cache.
//!
//! The type mappings (one pure function per database, unit-tested below each):
//! - PostgreSQL: `smallint`/`integer`/`bigint` → integer, `numeric(p,s)` →
//!   decimal, `real`/`double precision` → number, `boolean`, text types and
//!   `uuid` → string, `date`, `time[tz]` → time, `timestamp` / `timestamptz`,
//!   `json`/`jsonb` → json, `bytea` → binary, `T[]` → array of T, others →
//!   [`FieldType::Other`].
//! - MySQL/MariaDB: `TINYINT(1)` (MySQL's `BOOLEAN`) → boolean, as the `mysql`
//!   source reads it; other integer types, `YEAR` and `BIT` → integer;
//!   `DECIMAL(p,s)`; `FLOAT`/`DOUBLE` → number; `DATETIME` → timestamp without
//!   zone, `TIMESTAMP` → with zone (MySQL stores it in UTC); `DATE`, `TIME`;
//!   character types, `ENUM`, `SET` → string; `BINARY`/`VARBINARY`/`BLOB`s →
//!   binary; `JSON` → json, and MariaDB's `JSON` (a `LONGTEXT` with a
//!   `json_valid` check) → json too.
//! - SQLite: the declared type's affinity (SQLite's own rules), refined by
//!   the names that say more: `BOOLEAN`, `DATE`, `TIME`, `DATETIME`/`TIMESTAMP`,
//!   `JSON`, `DECIMAL(p,s)`.

#[cfg(feature = "introspect")]
mod mysql;
#[cfg(feature = "introspect")]
mod postgres;
#[cfg(feature = "introspect")]
mod sqlite;

use std::path::Path;
#[cfg(feature = "introspect")]
use std::time::Duration;

use super::{Database, TableSchema};

/// The longest any one step (connecting, one catalog query) may take.
#[cfg(feature = "introspect")]
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// What to introspect.
#[derive(Debug, Clone, Copy)]
pub(crate) enum What<'a> {
    /// A table (or view), in `schema` (MySQL: database) or the connection's default.
    Table {
        /// The schema, when the config names one.
        schema: Option<&'a str>,
        /// The table.
        name: &'a str,
    },
    /// A query's result columns.
    Query(&'a str),
}

impl What<'_> {
    /// How the table or query is named in messages and in the cache:
    /// `schema.table`, `table`, or the query's first line.
    pub(crate) fn display(&self) -> String {
        match self {
            What::Table { schema: Some(schema), name } => format!("{schema}.{name}"),
            What::Table { schema: None, name } => (*name).to_owned(),
            What::Query(sql) => sql.trim().lines().next().unwrap_or_default().trim().to_owned(),
        }
    }
}

/// Why introspection produced no schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No answer: the server is down or refused the connection or the
    /// credentials, a step timed out, the SQLite file is missing. A build
    /// then reads the cache.
    Unreachable(String),
    /// The server answered and refused the query (its message): a syntax
    /// error, an unknown table or column.
    #[cfg_attr(not(feature = "introspect"), allow(dead_code))]
    Refused(String),
}

/// Introspects `what` in the database at `url` (the resolved URL: it may hold
/// a secret, which is used for the connection only). Relative SQLite paths
/// are resolved against `base_dir`. `Ok(None)`: the server answered and the
/// table does not exist.
pub(crate) fn introspect(
    database: Database,
    url: &str,
    base_dir: Option<&Path>,
    what: What<'_>,
) -> Result<Option<TableSchema>, Failure> {
    #[cfg(feature = "introspect")]
    {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| Failure::Unreachable(format!("cannot start a runtime: {e}")))?;
                    runtime.block_on(async {
                        match database {
                            Database::Postgres => postgres::introspect(url, what).await,
                            Database::MySql => mysql::introspect(url, what).await,
                            Database::Sqlite => sqlite::introspect(url, base_dir, what).await,
                        }
                    })
                })
                .join()
                .unwrap_or_else(|_| Err(Failure::Unreachable("the introspection thread failed".into())))
        })
    }
    #[cfg(not(feature = "introspect"))]
    {
        let _ = (database, url, base_dir, what);
        Err(Failure::Unreachable("faucet-gen was built without its `introspect` feature".into()))
    }
}

/// Connects within [`TIMEOUT`]; any failure means the server is unreachable.
#[cfg(feature = "introspect")]
async fn connect<C>(connecting: impl Future<Output = Result<C, sqlx::Error>>) -> Result<C, Failure> {
    match tokio::time::timeout(TIMEOUT, connecting).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => Err(Failure::Unreachable(e.to_string())),
        Err(_) => Err(Failure::Unreachable(format!("no connection within {} seconds", TIMEOUT.as_secs()))),
    }
}

/// Runs one catalog query or description within [`TIMEOUT`]: an error the
/// database reports refuses the table or query; any other means the
/// connection failed.
#[cfg(feature = "introspect")]
async fn read<T>(reading: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, Failure> {
    match tokio::time::timeout(TIMEOUT, reading).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(sqlx::Error::Database(e))) => Err(Failure::Refused(e.message().to_owned())),
        Ok(Err(e)) => Err(Failure::Unreachable(e.to_string())),
        Err(_) => Err(Failure::Unreachable(format!("no answer within {} seconds", TIMEOUT.as_secs()))),
    }
}

/// Whether `sql` has an outer join (`LEFT`, `RIGHT` or `FULL` before `JOIN`
/// or `OUTER`), outside quotes and comments. A column of such a query may be
/// null whatever its table says, and the drivers' own analysis of which side
/// is nullable is not reliable (PostgreSQL may run a `LEFT JOIN` as a right
/// join): every column of such a query is taken as nullable.
#[cfg(feature = "introspect")]
pub(crate) fn has_outer_join(sql: &str) -> bool {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut chars = sql.chars().peekable();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word).to_ascii_lowercase());
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                flush(&mut word, &mut words);
                chars.by_ref().find(|d| *d == c);
            }
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut word, &mut words);
                chars.by_ref().find(|d| *d == '\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                flush(&mut word, &mut words);
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
            }
            c if c.is_alphanumeric() || c == '_' => word.push(c),
            _ => flush(&mut word, &mut words),
        }
    }
    flush(&mut word, &mut words);
    words.windows(2).any(|w| {
        matches!(w[0].as_str(), "left" | "right" | "full") && matches!(w[1].as_str(), "join" | "outer")
    })
}

#[cfg(feature = "introspect")]
/// Parses `(p,s)` or `(p)` after a type name: the precision and scale of a decimal.
pub(crate) fn precision_scale(args: &str) -> (Option<u32>, Option<u32>) {
    let inner = args.trim().trim_start_matches('(').trim_end_matches(')');
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u32>().ok());
    let precision = parts.next().flatten();
    let scale = parts.next().flatten().or(precision.map(|_| 0));
    (precision, scale)
}

#[cfg(all(test, feature = "introspect"))]
mod tests {
    use super::*;

    #[test]
    fn finds_outer_joins_outside_quotes_and_comments() {
        assert!(has_outer_join("SELECT * FROM a LEFT JOIN b ON true"));
        assert!(has_outer_join("select * from a full outer join b using (id)"));
        assert!(!has_outer_join("SELECT 'left join' AS x FROM a JOIN b ON true -- right join"));
        assert!(!has_outer_join("SELECT a.right FROM a /* left join */ INNER JOIN b ON true"));
    }
}

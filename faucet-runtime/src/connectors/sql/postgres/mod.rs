//! The `postgres` source and sink through sqlx.
//!
//! Both open one connection each. Identifiers are always double-quoted and
//! values always bound: nothing from a record is spliced into SQL. The
//! password of a connection URL is registered as a secret, so no error
//! message can carry it, and configs print their URL redacted.

mod binary_copy;
#[cfg(feature = "postgres-cdc")]
pub mod cdc;
mod sink;
mod source;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod typed_tests;
mod values;

pub use sink::PostgresSink;
pub use source::PostgresSource;

pub use crate::config::sql::{
    ColumnMapping, DeleteMarker, PostgresSinkConfig, PostgresSourceConfig, SourceInput, TableWrite,
    UnmappedFields, WriteMethod, WriteMode,
};

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use crate::connectors::dburl;
use crate::error::FaucetError;

/// `name` as a double-quoted SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"schema"."table"`, or `"table"` without a schema.
pub(crate) fn qualified(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(table)),
        None => quote_ident(table),
    }
}

/// The SQLSTATE of a database error.
pub(crate) fn sqlstate(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// A message for `error` while `doing` something: the server's message and SQLSTATE.
pub(crate) fn describe(error: &sqlx::Error, doing: &str) -> String {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default();
            format!("postgres: {doing}: {}{code}", db.message())
        }
        other => format!("postgres: {doing}: {other}"),
    }
}

/// Opens one connection to `url`, whose password is registered as a secret first.
pub(crate) async fn connect(
    url: &str,
    error: fn(String) -> FaucetError,
) -> Result<PgConnection, FaucetError> {
    dburl::register_password(url);
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| error(format!("postgres: invalid connection_url {}: {e}", dburl::redact(url))))?;
    // sqlx (0.9.1 on) sets TCP_NODELAY on its TCP sockets: small writes such
    // as COPY's `CopyDone` are not held back by Nagle's algorithm.
    options.connect().await.map_err(|e| error(describe(&e, &format!("connecting to {}", dburl::redact(url)))))
}

/// Closes a connection politely (best effort).
pub(crate) async fn close(conn: PgConnection) {
    let _ = conn.close().await;
}

#[cfg(test)]
pub(crate) mod testdb {
    //! A schema per test on the local server, dropped at the end.

    use sqlx::{AssertSqlSafe, Connection, postgres::PgConnection};

    /// The server the tests use.
    pub const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    /// A fresh schema with a random name; dropped by [`TestSchema::drop_now`].
    pub struct TestSchema {
        pub name: String,
        pub conn: PgConnection,
    }

    impl TestSchema {
        pub async fn new(prefix: &str) -> TestSchema {
            let name = format!("faucet_{prefix}_{}", uuid::Uuid::now_v7().simple());
            let mut conn = PgConnection::connect(URL).await.expect("PostgreSQL on 127.0.0.1:5432");
            sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
                .execute(&mut conn)
                .await
                .unwrap();
            TestSchema { name, conn }
        }

        pub async fn exec(&mut self, sql: &str) {
            let sql = format!("SET search_path TO \"{}\"; {sql}", self.name);
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.unwrap();
        }

        pub async fn drop_now(mut self) {
            let sql = format!("DROP SCHEMA \"{}\" CASCADE", self.name);
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.unwrap();
        }
    }
}

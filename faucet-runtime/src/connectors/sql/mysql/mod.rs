//! The `mysql` source and sink (MySQL and MariaDB) through sqlx.
//!
//! Each opens one connection. The password of a connection URL is registered
//! as a secret, so no error message can carry it, and configs print their URL
//! redacted.

mod sink;
mod source;

pub use sink::MySqlSink;
pub use source::MySqlSource;

pub use crate::config::sql::{
    ColumnMapping, DeleteMarker, MySqlSinkConfig, MySqlSourceConfig, SourceInput, TableWrite, UnmappedFields,
    WriteMode,
};

/// The JSON columns of table `name` (in `schema`, the connection's database
/// when `None`): MySQL's JSON type, and MariaDB's, which is a LONGTEXT with a
/// `json_valid` check (its type in the result set does not say JSON). Read
/// once when a source or sink opens.
pub(crate) async fn json_columns(
    conn: &mut sqlx::mysql::MySqlConnection,
    schema: Option<&str>,
    name: &str,
) -> Result<Vec<String>, sqlx::Error> {
    // MariaDB names each column's check after the column, with its table.
    const MARIADB: &str = "SELECT c.COLUMN_NAME FROM information_schema.COLUMNS c \
        WHERE c.TABLE_SCHEMA = COALESCE(?, DATABASE()) AND c.TABLE_NAME = ? AND (c.DATA_TYPE = 'json' OR EXISTS ( \
          SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA \
          AND k.TABLE_NAME = c.TABLE_NAME \
          AND k.CHECK_CLAUSE = CONCAT('json_valid(`', REPLACE(c.COLUMN_NAME, '`', '``'), '`)')))";
    // MySQL's CHECK_CONSTRAINTS has no TABLE_NAME (and 5.7 has no such view): its JSON is a type.
    const MYSQL: &str = "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND DATA_TYPE = 'json'";
    let read = |sql: &'static str| sqlx::query_scalar::<_, String>(sql).bind(schema).bind(name);
    match read(MARIADB).fetch_all(&mut *conn).await {
        Ok(columns) => Ok(columns),
        Err(sqlx::Error::Database(_)) => read(MYSQL).fetch_all(conn).await,
        Err(e) => Err(e),
    }
}

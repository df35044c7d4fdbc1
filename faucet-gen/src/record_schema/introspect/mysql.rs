//! MySQL and MariaDB: tables from `information_schema`, queries through the
//! server's description of a prepared statement.

use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{AssertSqlSafe, Column as _, ConnectOptions, Connection, Executor, Row, SqlSafeStr, TypeInfo};

use super::{Failure, What, connect, read};
use crate::record_schema::{Column, Database, FieldDef, FieldType, TableSchema};

/// Introspects `what` at `url`.
pub(super) async fn introspect(url: &str, what: What<'_>) -> Result<Option<TableSchema>, Failure> {
    let options = MySqlConnectOptions::from_str(url).map_err(|e| Failure::Unreachable(e.to_string()))?;
    let mut conn = connect(options.connect()).await?;
    let result = match what {
        What::Table { schema, name } => table(&mut conn, schema, name, &what.display()).await,
        What::Query(sql) => query(&mut conn, sql, &what.display()).await.map(Some),
    };
    let _ = tokio::time::timeout(super::TIMEOUT, conn.close()).await;
    result
}

/// The table's columns and unique keys (`schema` is the database; without
/// one, the connection's); `None` when there is no such table.
async fn table(
    conn: &mut MySqlConnection,
    schema: Option<&str>,
    name: &str,
    display: &str,
) -> Result<Option<TableSchema>, Failure> {
    // Every text as CHAR: information_schema's collations differ between servers.
    let rows = read(
        sqlx::query(
            "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
                    CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR), \
                    CAST(NUMERIC_PRECISION AS SIGNED), CAST(NUMERIC_SCALE AS SIGNED) \
             FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
        )
        .bind(schema)
        .bind(name)
        .fetch_all(&mut *conn),
    )
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let json_checked = mariadb_json_columns(conn, schema, name).await?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = get(&row, 0)?;
        let (data_type, column_type): (String, String) = (get(&row, 1)?, get(&row, 2)?);
        let nullable = get::<String>(&row, 3)? == "YES";
        let (default, extra): (Option<String>, String) = (get(&row, 4)?, get(&row, 5)?);
        let (precision, scale): (Option<i64>, Option<i64>) = (get(&row, 6)?, get(&row, 7)?);
        let digits = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok());
        let ty = if json_checked.iter().any(|c| c.eq_ignore_ascii_case(&name)) {
            FieldType::Json
        } else {
            field_type(&data_type, &column_type, digits(precision), digits(scale))
        };
        // MariaDB writes a default of NULL as `NULL` (a string default is quoted).
        let explicit_default = default.is_some_and(|d| d != "NULL");
        let extra = extra.to_ascii_lowercase();
        let has_default = explicit_default
            || ["auto_increment", "generated", "virtual", "stored", "persistent"]
                .iter()
                .any(|w| extra.contains(w));
        columns.push(Column {
            field: FieldDef { name, ty, nullable, required: true },
            db_type: column_type,
            has_default,
        });
    }
    let keys = read(
        sqlx::query(
            "SELECT CAST(INDEX_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR) \
             FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? \
               AND NON_UNIQUE = 0 AND COLUMN_NAME IS NOT NULL \
             ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
        )
        .bind(schema)
        .bind(name)
        .fetch_all(&mut *conn),
    )
    .await?;
    let (mut primary_key, mut unique_keys): (Vec<String>, Vec<Vec<String>>) = (Vec::new(), Vec::new());
    let mut current: Option<String> = None;
    for row in keys {
        let (index, column): (String, String) = (get(&row, 0)?, get(&row, 1)?);
        if index == "PRIMARY" {
            primary_key.push(column);
        } else if current.as_deref() == Some(index.as_str()) {
            if let Some(key) = unique_keys.last_mut() {
                key.push(column);
            }
        } else {
            unique_keys.push(vec![column]);
            current = Some(index);
        }
    }
    Ok(Some(TableSchema {
        database: Database::MySql,
        name: display.to_owned(),
        columns,
        primary_key,
        unique_keys,
    }))
}

/// MariaDB's `JSON` columns: it stores them as `LONGTEXT` with a
/// `CHECK (json_valid(column))` constraint, which names the column. Empty on MySQL,
/// whose `JSON` is a type of its own.
async fn mariadb_json_columns(
    conn: &mut MySqlConnection,
    schema: Option<&str>,
    name: &str,
) -> Result<Vec<String>, Failure> {
    let version: String =
        read(sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)").fetch_one(&mut *conn)).await?;
    if !version.contains("MariaDB") {
        return Ok(Vec::new());
    }
    let clauses: Vec<String> = read(
        sqlx::query_scalar(
            "SELECT CAST(CHECK_CLAUSE AS CHAR) FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
        )
        .bind(schema)
        .bind(name)
        .fetch_all(&mut *conn),
    )
    .await?;
    Ok(clauses.iter().filter_map(|clause| json_valid_column(clause)).collect())
}

/// The column of a `json_valid(`column`)` check clause, if that is all it says.
fn json_valid_column(clause: &str) -> Option<String> {
    let inner = clause.trim().strip_prefix("json_valid(")?.strip_suffix(')')?.trim();
    let column = inner.strip_prefix('`')?.strip_suffix('`')?;
    (!column.contains('`')).then(|| column.to_owned())
}

/// The query's result columns as the server describes its prepared
/// statement; a column read straight from a table has that column's exact
/// type (`decimal(12,2)`, MariaDB's JSON). Nullable unless the server marks
/// the result column `NOT NULL` and the query has no outer join.
async fn query(conn: &mut MySqlConnection, sql: &str, display: &str) -> Result<TableSchema, Failure> {
    let outer_join = super::has_outer_join(sql);
    let description = read((&mut *conn).describe(AssertSqlSafe(sql.to_owned()).into_sql_str())).await?;
    let mut tables: Vec<(String, Option<TableSchema>)> = Vec::new();
    let mut columns = Vec::with_capacity(description.columns.len());
    for (i, column) in description.columns.iter().enumerate() {
        let nullable = outer_join || description.nullable.get(i).copied().flatten().unwrap_or(true);
        let mut from_table = None;
        if let Some(origin) = column.origin().table_column() {
            let qualified = origin.table.to_string();
            if !tables.iter().any(|(t, _)| *t == qualified) {
                let (schema, name) = match qualified.split_once('.') {
                    Some((schema, name)) => (Some(schema), name),
                    None => (None, qualified.as_str()),
                };
                let read = table(conn, schema, name, &qualified).await?;
                tables.push((qualified.clone(), read));
            }
            from_table = tables
                .iter()
                .find(|(t, _)| *t == qualified)
                .and_then(|(_, t)| t.as_ref())
                .and_then(|t| t.column(&origin.name))
                .map(|c| (c.field.ty.clone(), c.db_type.clone()));
        }
        let (ty, db_type) = from_table.unwrap_or_else(|| {
            let name = column.type_info().name().to_ascii_lowercase();
            (field_type(&name, &name, None, None), name)
        });
        columns.push(Column {
            field: FieldDef { name: column.name().to_owned(), ty, nullable, required: true },
            db_type,
            has_default: false,
        });
    }
    Ok(TableSchema {
        database: Database::MySql,
        name: display.to_owned(),
        columns,
        primary_key: Vec::new(),
        unique_keys: Vec::new(),
    })
}

/// Column `i` of a catalog row.
fn get<'r, T: sqlx::Decode<'r, sqlx::MySql> + sqlx::Type<sqlx::MySql>>(
    row: &'r MySqlRow,
    i: usize,
) -> Result<T, Failure> {
    row.try_get(i).map_err(|e| Failure::Unreachable(format!("unexpected catalog row: {e}")))
}

/// The field type of a MySQL type: `data_type` is its bare name (`decimal`,
/// `tinyint`; also the driver's names such as `bigint unsigned`, `boolean`),
/// `column_type` the full one (`tinyint(1)`, `decimal(12,2)`).
pub(super) fn field_type(
    data_type: &str,
    column_type: &str,
    precision: Option<u32>,
    scale: Option<u32>,
) -> FieldType {
    let base = data_type.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
    match base.as_str() {
        // MySQL's BOOLEAN is TINYINT(1), and the `mysql` source reads it as a boolean.
        "tinyint" if column_type.to_ascii_lowercase().starts_with("tinyint(1)") => FieldType::Boolean,
        "boolean" | "bool" => FieldType::Boolean,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" | "bit" => {
            FieldType::Integer
        }
        "decimal" | "numeric" | "dec" | "fixed" => FieldType::Decimal { precision, scale },
        "float" | "double" | "real" => FieldType::Number,
        "date" => FieldType::Date,
        "time" => FieldType::Time,
        "datetime" => FieldType::Timestamp { time_zone: false },
        "timestamp" => FieldType::Timestamp { time_zone: true },
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => {
            FieldType::String
        }
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => FieldType::Binary,
        "json" => FieldType::Json,
        _ => FieldType::Other { name: column_type.to_owned() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_mysql_types() {
        assert_eq!(field_type("tinyint", "tinyint(1)", None, None), FieldType::Boolean);
        assert_eq!(field_type("tinyint", "tinyint(4)", None, None), FieldType::Integer);
        assert_eq!(field_type("bigint unsigned", "bigint unsigned", None, None), FieldType::Integer);
        assert_eq!(
            field_type("decimal", "decimal(12,2)", Some(12), Some(2)),
            FieldType::Decimal { precision: Some(12), scale: Some(2) }
        );
        assert_eq!(
            field_type("datetime", "datetime(3)", None, None),
            FieldType::Timestamp { time_zone: false }
        );
        assert_eq!(
            field_type("timestamp", "timestamp", None, None),
            FieldType::Timestamp { time_zone: true }
        );
        assert_eq!(field_type("longblob", "longblob", None, None), FieldType::Binary);
        assert_eq!(field_type("json", "json", None, None), FieldType::Json);
        assert_eq!(
            field_type("geometry", "geometry", None, None),
            FieldType::Other { name: "geometry".into() }
        );
    }

    #[test]
    fn finds_mariadb_json_checks() {
        assert_eq!(json_valid_column("json_valid(`payload`)").as_deref(), Some("payload"));
        assert_eq!(json_valid_column("json_valid(`a`) and `b` > 0"), None);
        assert_eq!(json_valid_column("`qty` > 0"), None);
    }
}

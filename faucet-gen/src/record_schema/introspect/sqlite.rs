//! SQLite: tables through the `table_xinfo`, `index_list` and `index_info`
//! pragmas, queries through sqlx's description of a prepared statement. The
//! database file is opened read-only and never created.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Column as _, ConnectOptions, Connection, Executor, Row, SqlSafeStr, TypeInfo};

use super::{Failure, What, connect, precision_scale, read};
use crate::record_schema::{Column, Database, FieldDef, FieldType, TableSchema};

/// Introspects `what` in the database file of `url`; a relative path is
/// taken from `base_dir` (the crate's directory). An in-memory database has no tables.
pub(super) async fn introspect(
    url: &str,
    base_dir: Option<&Path>,
    what: What<'_>,
) -> Result<Option<TableSchema>, Failure> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return match what {
            What::Table { .. } => Ok(None),
            What::Query(_) => {
                Err(Failure::Unreachable("an in-memory database is empty at build time".into()))
            }
        };
    }
    let mut options = SqliteConnectOptions::from_str(url).map_err(|e| Failure::Unreachable(e.to_string()))?;
    let file = options.get_filename().to_path_buf();
    if let Some(base) = base_dir.filter(|_| file.is_relative()) {
        options = options.filename(base.join(&file));
    }
    let options = options.read_only(true).create_if_missing(false);
    let mut conn = connect(options.connect()).await?;
    let result = match what {
        What::Table { name, .. } => table(&mut conn, name, &what.display()).await,
        What::Query(sql) => query(&mut conn, sql, &what.display()).await.map(Some),
    };
    let _ = tokio::time::timeout(super::TIMEOUT, conn.close()).await;
    result
}

/// The table's columns and unique keys; `None` when there is no such table or view.
async fn table(
    conn: &mut SqliteConnection,
    name: &str,
    display: &str,
) -> Result<Option<TableSchema>, Failure> {
    let exists: i64 = read(
        sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1",
        )
        .bind(name)
        .fetch_one(&mut *conn),
    )
    .await?;
    if exists == 0 {
        return Ok(None);
    }
    // `hidden`: 1 a virtual table's hidden column (left out), 2 and 3 generated columns.
    let rows = read(
        sqlx::query(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) \
             WHERE hidden <> 1 ORDER BY cid",
        )
        .bind(name)
        .fetch_all(&mut *conn),
    )
    .await?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::with_capacity(rows.len());
    for row in &rows {
        let (column, declared): (String, String) = (get(row, 0)?, get(row, 1)?);
        let (not_null, default, key, hidden): (bool, Option<String>, i64, i64) =
            (get(row, 2)?, get(row, 3)?, get(row, 4)?, get(row, 5)?);
        if key > 0 {
            pk.push((key, column.clone()));
        }
        columns.push(Column {
            field: FieldDef { name: column, ty: field_type(&declared), nullable: !not_null, required: true },
            db_type: declared,
            has_default: default.is_some() || hidden >= 2,
        });
    }
    pk.sort();
    let primary_key: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
    // An `INTEGER PRIMARY KEY` is the rowid: never null, and given a value when left out.
    if let [only] = primary_key.as_slice()
        && let Some(column) = columns.iter_mut().find(|c| &c.field.name == only)
        && column.db_type.eq_ignore_ascii_case("integer")
    {
        column.field.nullable = false;
        column.has_default = true;
    }
    let indexes: Vec<String> = read(
        sqlx::query_scalar(
            "SELECT name FROM pragma_index_list(?1) WHERE \"unique\" = 1 AND partial = 0 AND origin <> 'pk' \
             ORDER BY name",
        )
        .bind(name)
        .fetch_all(&mut *conn),
    )
    .await?;
    let mut unique_keys = Vec::new();
    for index in indexes {
        let key: Vec<Option<String>> = read(
            sqlx::query_scalar("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                .bind(&index)
                .fetch_all(&mut *conn),
        )
        .await?;
        // An expression's part has no name: such an index is no key of columns.
        if let Some(key) = key.into_iter().collect::<Option<Vec<_>>>() {
            unique_keys.push(key);
        }
    }
    Ok(Some(TableSchema {
        database: Database::Sqlite,
        name: display.to_owned(),
        columns,
        primary_key,
        unique_keys,
    }))
}

/// The query's result columns as SQLite describes its prepared statement; a
/// column read straight from a table has that column's declared type.
/// Nullable unless sqlx's analysis of the statement finds it cannot be null
/// and the query has no outer join.
async fn query(conn: &mut SqliteConnection, sql: &str, display: &str) -> Result<TableSchema, Failure> {
    let outer_join = super::has_outer_join(sql);
    let description = read((&mut *conn).describe(AssertSqlSafe(sql.to_owned()).into_sql_str())).await?;
    let mut tables: Vec<(String, Option<TableSchema>)> = Vec::new();
    let mut columns = Vec::with_capacity(description.columns.len());
    for (i, column) in description.columns.iter().enumerate() {
        let nullable = outer_join || description.nullable.get(i).copied().flatten().unwrap_or(true);
        let mut from_table = None;
        if let Some(origin) = column.origin().table_column() {
            let name = origin.table.to_string();
            if !tables.iter().any(|(t, _)| *t == name) {
                let read = table(conn, &name, &name).await?;
                tables.push((name.clone(), read));
            }
            from_table = tables
                .iter()
                .find(|(t, _)| *t == name)
                .and_then(|(_, t)| t.as_ref())
                .and_then(|t| t.column(&origin.name))
                .map(|c| c.db_type.clone());
        }
        let db_type = from_table.unwrap_or_else(|| column.type_info().name().to_owned());
        columns.push(Column {
            field: FieldDef {
                name: column.name().to_owned(),
                ty: field_type(&db_type),
                nullable,
                required: true,
            },
            db_type,
            has_default: false,
        });
    }
    Ok(TableSchema {
        database: Database::Sqlite,
        name: display.to_owned(),
        columns,
        primary_key: Vec::new(),
        unique_keys: Vec::new(),
    })
}

/// Column `i` of a pragma row.
fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    i: usize,
) -> Result<T, Failure> {
    row.try_get(i).map_err(|e| Failure::Unreachable(format!("unexpected pragma row: {e}")))
}

/// The field type of a declared SQLite column type, by SQLite's affinity
/// rules (in their order: `INT` → integer; `CHAR`, `CLOB`, `TEXT` → string;
/// `BLOB` → binary; `REAL`, `FLOA`, `DOUB` → number), with the NUMERIC-affinity
/// names refined by what they say: `BOOLEAN`, `DATE`, `TIME`, `DATETIME` and
/// `TIMESTAMP` (no zone), `JSON`, `DECIMAL(p,s)`/`NUMERIC(p,s)`. No declared
/// type: any value, [`FieldType::Other`] named `any`.
pub(super) fn field_type(declared: &str) -> FieldType {
    let upper = declared.trim().to_ascii_uppercase();
    if upper.is_empty() {
        return FieldType::Other { name: "any".into() };
    }
    if upper.contains("INT") {
        return FieldType::Integer;
    }
    if ["CHAR", "CLOB", "TEXT"].iter().any(|w| upper.contains(w)) {
        return FieldType::String;
    }
    if upper.contains("BLOB") {
        return FieldType::Binary;
    }
    if ["REAL", "FLOA", "DOUB"].iter().any(|w| upper.contains(w)) {
        return FieldType::Number;
    }
    let (name, args) = match upper.find('(') {
        Some(open) => (upper[..open].trim(), &upper[open..]),
        None => (upper.as_str(), ""),
    };
    match name {
        "BOOLEAN" | "BOOL" => FieldType::Boolean,
        "DATE" => FieldType::Date,
        "TIME" => FieldType::Time,
        "DATETIME" | "TIMESTAMP" => FieldType::Timestamp { time_zone: false },
        "JSON" | "JSONB" => FieldType::Json,
        "DECIMAL" | "NUMERIC" => {
            let (precision, scale) = if args.is_empty() { (None, None) } else { precision_scale(args) };
            FieldType::Decimal { precision, scale }
        }
        _ => FieldType::Decimal { precision: None, scale: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_affinity_rules() {
        assert_eq!(field_type("INTEGER"), FieldType::Integer);
        assert_eq!(field_type("BIGINT"), FieldType::Integer);
        assert_eq!(field_type("VARCHAR(20)"), FieldType::String);
        assert_eq!(field_type("blob"), FieldType::Binary);
        assert_eq!(field_type("DOUBLE PRECISION"), FieldType::Number);
        assert_eq!(field_type("BOOLEAN"), FieldType::Boolean);
        assert_eq!(field_type("DATETIME"), FieldType::Timestamp { time_zone: false });
        assert_eq!(field_type("DECIMAL(10,2)"), FieldType::Decimal { precision: Some(10), scale: Some(2) });
        assert_eq!(field_type("MONEY"), FieldType::Decimal { precision: None, scale: None });
        assert_eq!(field_type(""), FieldType::Other { name: "any".into() });
    }
}

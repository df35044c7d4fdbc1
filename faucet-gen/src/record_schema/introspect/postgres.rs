//! PostgreSQL: tables from `pg_catalog`, queries through the server's own
//! description of a prepared statement.

use std::str::FromStr;

use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Column as _, ConnectOptions, Connection, Executor, Row, SqlSafeStr};

use super::{Failure, What, connect, precision_scale, read};
use crate::record_schema::{Column, Database, FieldDef, FieldType, TableSchema};

/// Introspects `what` at `url`.
pub(super) async fn introspect(url: &str, what: What<'_>) -> Result<Option<TableSchema>, Failure> {
    let options = PgConnectOptions::from_str(url).map_err(|e| Failure::Unreachable(e.to_string()))?;
    let mut conn = connect(options.connect()).await?;
    let result = match what {
        What::Table { schema, name } => table(&mut conn, schema, name, &what.display()).await,
        What::Query(sql) => query(&mut conn, sql, &what.display()).await.map(Some),
    };
    let _ = tokio::time::timeout(super::TIMEOUT, conn.close()).await;
    result
}

/// The table's columns and unique keys; `None` when there is no such table.
async fn table(
    conn: &mut PgConnection,
    schema: Option<&str>,
    name: &str,
    display: &str,
) -> Result<Option<TableSchema>, Failure> {
    // `to_regclass` resolves an unqualified name through the search path, as the connectors do.
    let oid: Option<Oid> = read(
        sqlx::query_scalar(
            "SELECT to_regclass(CASE WHEN $1::text IS NULL THEN quote_ident($2) \
             ELSE quote_ident($1) || '.' || quote_ident($2) END)::oid",
        )
        .bind(schema)
        .bind(name)
        .fetch_one(&mut *conn),
    )
    .await?;
    let Some(oid) = oid else { return Ok(None) };
    let rows = read(
        sqlx::query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                    a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' \
             FROM pg_attribute a \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
        )
        .bind(oid)
        .fetch_all(&mut *conn),
    )
    .await?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let (name, db_type, not_null, has_default): (String, String, bool, bool) =
            (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?, get(&row, 3)?);
        columns.push(Column {
            field: FieldDef { name, ty: field_type(&db_type), nullable: !not_null, required: true },
            db_type,
            has_default,
        });
    }
    // Unique indexes without a predicate or expression, key columns only
    // (not `INCLUDE`d ones); the primary key first, then by index name.
    let keys = read(
        sqlx::query(
            "SELECT i.indisprimary, array_agg(a.attname::text ORDER BY k.ord) \
             FROM pg_index i \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL \
               AND k.ord <= i.indnkeyatts \
             GROUP BY i.indexrelid, ic.relname, i.indisprimary \
             ORDER BY i.indisprimary DESC, ic.relname",
        )
        .bind(oid)
        .fetch_all(&mut *conn),
    )
    .await?;
    let (mut primary_key, mut unique_keys) = (Vec::new(), Vec::new());
    for row in keys {
        let (primary, key): (bool, Vec<String>) = (get(&row, 0)?, get(&row, 1)?);
        if primary {
            primary_key = key;
        } else {
            unique_keys.push(key);
        }
    }
    Ok(Some(TableSchema {
        database: Database::Postgres,
        name: display.to_owned(),
        columns,
        primary_key,
        unique_keys,
    }))
}

/// The query's result columns as the server describes its prepared statement:
/// a column read straight from a table has that column's exact type
/// (`numeric(12,2)`, not `numeric`); nullability is the server's where it
/// can tell (a `NOT NULL` column of a query without outer joins), else nullable.
async fn query(conn: &mut PgConnection, sql: &str, display: &str) -> Result<TableSchema, Failure> {
    let outer_join = super::has_outer_join(sql);
    let description = read((&mut *conn).describe(AssertSqlSafe(sql.to_owned()).into_sql_str())).await?;
    let mut columns = Vec::with_capacity(description.columns.len());
    for (i, column) in description.columns.iter().enumerate() {
        let from_table = match (column.relation_id(), column.relation_attribute_no()) {
            (Some(table), Some(attribute)) => {
                read(
                    sqlx::query_scalar(
                        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
                         WHERE attrelid = $1 AND attnum = $2",
                    )
                    .bind(table)
                    .bind(attribute)
                    .fetch_optional(&mut *conn),
                )
                .await?
            }
            _ => None,
        };
        let db_type: String = match from_table {
            Some(db_type) => db_type,
            None => {
                let oid = column.type_info().oid();
                read(sqlx::query_scalar("SELECT format_type($1, NULL)").bind(oid).fetch_one(&mut *conn))
                    .await?
            }
        };
        let nullable = outer_join || description.nullable.get(i).copied().flatten().unwrap_or(true);
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
        database: Database::Postgres,
        name: display.to_owned(),
        columns,
        primary_key: Vec::new(),
        unique_keys: Vec::new(),
    })
}

/// Column `i` of a catalog row.
fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r sqlx::postgres::PgRow,
    i: usize,
) -> Result<T, Failure> {
    row.try_get(i).map_err(|e| Failure::Unreachable(format!("unexpected catalog row: {e}")))
}

/// The field type of a PostgreSQL type as `format_type` writes it
/// (`numeric(10,2)`, `timestamp(3) with time zone`, `integer[]`).
pub(super) fn field_type(db_type: &str) -> FieldType {
    if let Some(items) = db_type.strip_suffix("[]") {
        return FieldType::Array { items: Box::new(field_type(items)) };
    }
    // The type modifier (`(10,2)`) apart from the name around it.
    let (name, args) = match (db_type.find('('), db_type.find(')')) {
        (Some(open), Some(close)) if open < close => {
            (format!("{}{}", &db_type[..open], &db_type[close + 1..]), &db_type[open..=close])
        }
        _ => (db_type.to_owned(), ""),
    };
    match name.trim() {
        "smallint" | "integer" | "bigint" => FieldType::Integer,
        "numeric" => {
            let (precision, scale) = precision_scale(args);
            FieldType::Decimal { precision, scale }
        }
        "real" | "double precision" => FieldType::Number,
        "boolean" => FieldType::Boolean,
        "text" | "character varying" | "character" | "\"char\"" | "name" | "citext" | "uuid" => {
            FieldType::String
        }
        "date" => FieldType::Date,
        "time without time zone" | "time with time zone" => FieldType::Time,
        "timestamp without time zone" => FieldType::Timestamp { time_zone: false },
        "timestamp with time zone" => FieldType::Timestamp { time_zone: true },
        "json" | "jsonb" => FieldType::Json,
        "bytea" => FieldType::Binary,
        _ => FieldType::Other { name: db_type.to_owned() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_format_type_names() {
        let decimal = |p, s| FieldType::Decimal { precision: p, scale: s };
        for (db_type, expected) in [
            ("smallint", FieldType::Integer),
            ("bigint", FieldType::Integer),
            ("numeric(12,2)", decimal(Some(12), Some(2))),
            ("numeric(7)", decimal(Some(7), Some(0))),
            ("numeric", decimal(None, None)),
            ("double precision", FieldType::Number),
            ("character varying(40)", FieldType::String),
            ("uuid", FieldType::String),
            ("time(3) without time zone", FieldType::Time),
            ("timestamp(6) with time zone", FieldType::Timestamp { time_zone: true }),
            ("timestamp without time zone", FieldType::Timestamp { time_zone: false }),
            ("jsonb", FieldType::Json),
            ("bytea", FieldType::Binary),
            ("integer[]", FieldType::Array { items: Box::new(FieldType::Integer) }),
            ("inet", FieldType::Other { name: "inet".into() }),
        ] {
            assert_eq!(field_type(db_type), expected, "{db_type}");
        }
    }
}

//! The `mysql` sink (MySQL and MariaDB): append, upsert or delete by key, one
//! transaction per batch with its commit token.
//!
//! Multi-row `INSERT`s (`ON DUPLICATE KEY UPDATE` for upserts) and
//! `DELETE … WHERE (key) IN (…)`, at most 65,535 placeholders each. The session
//! runs with `STRICT_ALL_TABLES`, so a bad value is an error, never a silent
//! truncation. InnoDB undoes a failed statement alone, so when a statement
//! fails on a row-level error (SQLSTATE class 22 or 23, or a conversion error)
//! its rows are retried one at a time and only the bad ones are dead-lettered.
//! The batch's [`CommitToken`] is upserted into `_faucet_commit_token` (in the
//! target's database) in the same transaction. DDL (`create_table`, and the
//! columns `unmapped_fields: add_column` adds) runs before the transaction,
//! since MySQL commits implicitly around it; a rerun after a crash between the
//! two finds the columns there and writes the batch once.
//!
//! Typed records are bound field by field in column order, each value as
//! its JSON would be bound, so a table holds the same either way.

use std::collections::HashMap;
use std::str::FromStr;

use serde_json::{Number, Value};
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlConnection, MySqlDatabaseError};
use sqlx::{Arguments, AssertSqlSafe, ConnectOptions, Row};

use super::json_columns;
use crate::config::sql::{ColumnMapping, MySqlSinkConfig, UnmappedFields, WriteMode};
use crate::connectors::dburl;
use crate::connectors::sql::sink::{
    ColumnNames, Committed, Keying, NewColumns, StoredFailure, TOKEN_TABLE, added_type, check_identifier,
    create_columns, infer_columns, new_columns, outcome, page_failures, refuse_earlier_lineage,
    unnameable_rows,
};
use crate::connectors::sql::table_rows::{JsonRows, TableRows, TypedRows, field_json};
use crate::error::{FaucetError, Result};
use crate::number;
use crate::page::{CommitToken, Record};
use crate::record::{FieldValue, RecordType};
use crate::schema::{Field, FieldType};
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};

const MAX_PARAMS: usize = 65535;

/// MySQL's and MariaDB's column names: at most 64 characters, no NUL, not
/// empty, no trailing space; they compare ignoring case.
const COLUMN_NAMES: ColumnNames = ColumnNames {
    dialect: "MySQL",
    max_bytes: None,
    max_chars: Some(64),
    refuses_empty: true,
    refuses_trailing_space: true,
    fold: str::to_lowercase,
};

fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn describe(e: &sqlx::Error, doing: &str) -> String {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default();
            format!("mysql: {doing}: {}{code}", db.message())
        }
        other => format!("mysql: {doing}: {other}"),
    }
}

/// True for an error that concerns the rows: SQLSTATE class 22 or 23, or a
/// value MySQL could not convert (1366, 1265, 1292, 3140).
fn row_level(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    let class = db.code().is_some_and(|c| c.starts_with("22") || c.starts_with("23"));
    let number = db.try_downcast_ref::<MySqlDatabaseError>().map(MySqlDatabaseError::number);
    class || matches!(number, Some(1366 | 1265 | 1292 | 3140))
}

async fn exec(conn: &mut MySqlConnection, sql: String, doing: &str) -> Result<()> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|e| FaucetError::sink(describe(&e, doing)))
}

/// The column type `create_table` gives a JSON value.
fn column_type(value: &Value) -> &'static str {
    match value {
        Value::Number(n) if n.is_i64() => "BIGINT",
        Value::Number(n) if n.is_u64() => "BIGINT UNSIGNED",
        Value::Number(n) if number::is_integer(n) => "DECIMAL(65, 0)",
        Value::Number(_) => "DOUBLE",
        Value::Bool(_) => "BOOLEAN",
        Value::String(_) => "LONGTEXT",
        _ => "JSON",
    }
}

/// The column type `create_table` gives a declared field (`key`: it is part
/// of the primary key, so it must be indexable): DECIMAL keeps its precision
/// and scale within MySQL's limits (65 digits, 30 after the point; beyond,
/// LONGTEXT keeps every digit), timestamps are DATETIME(6) or, with a time
/// zone, TIMESTAMP(6) (stored in UTC); `NOT NULL` when every record has a value.
fn declared_type(field: &Field, key: bool) -> String {
    let ty = match field.ty {
        FieldType::String | FieldType::Other { .. } if key => "VARCHAR(255)".to_owned(),
        FieldType::String | FieldType::Other { .. } => "LONGTEXT".to_owned(),
        FieldType::Integer => "BIGINT".to_owned(),
        FieldType::Number => "DOUBLE".to_owned(),
        FieldType::Decimal { precision: Some(p), scale } => {
            let s = scale.unwrap_or(0);
            if (1..=65).contains(&p) && s <= 30 && s <= p {
                format!("DECIMAL({p}, {s})")
            } else {
                "LONGTEXT".to_owned()
            }
        }
        FieldType::Decimal { precision: None, .. } => "DECIMAL(65, 30)".to_owned(),
        FieldType::Boolean => "BOOLEAN".to_owned(),
        FieldType::Date => "DATE".to_owned(),
        FieldType::Time => "TIME(6)".to_owned(),
        FieldType::Timestamp { time_zone: false } => "DATETIME(6)".to_owned(),
        FieldType::Timestamp { time_zone: true } => "TIMESTAMP(6)".to_owned(),
        FieldType::Json | FieldType::Object { .. } | FieldType::Array { .. } => "JSON".to_owned(),
        FieldType::Binary if key => "VARBINARY(255)".to_owned(),
        FieldType::Binary => "LONGBLOB".to_owned(),
    };
    // Explicit NULL: a TIMESTAMP column without it may be made NOT NULL with
    // an automatic default (`explicit_defaults_for_timestamp` off).
    if field.always_set() { format!("{ty} NOT NULL") } else { format!("{ty} NULL") }
}

/// How a record's value is bound for a column, by the column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    /// Strings, numbers and booleans as they are.
    Plain,
    /// JSON (MySQL's type, or MariaDB's LONGTEXT checked by `json_valid`):
    /// the value's JSON text, so a string stays a JSON string.
    Json,
    /// BLOB, BINARY, VARBINARY: a base64 string (how faucet's sources carry
    /// binary values) as its bytes.
    Binary,
    /// DATETIME, TIMESTAMP: ISO 8601 text with a `T` or an offset as MySQL's
    /// `YYYY-MM-DD hh:mm:ss.ffffff` (in UTC when it had an offset).
    DateTime,
}

impl ValueKind {
    /// The kind of a column of `data_type` (information_schema's `DATA_TYPE`).
    fn of(data_type: &str, json: bool) -> ValueKind {
        match data_type {
            _ if json => ValueKind::Json,
            "json" => ValueKind::Json,
            "blob" | "tinyblob" | "mediumblob" | "longblob" | "binary" | "varbinary" => ValueKind::Binary,
            "datetime" | "timestamp" => ValueKind::DateTime,
            _ => ValueKind::Plain,
        }
    }
}

fn add(args: &mut MySqlArguments, value: Option<&Value>, kind: ValueKind) -> Result<()> {
    let added = match value {
        None | Some(Value::Null) => args.add(None::<String>),
        Some(v) if kind == ValueKind::Json => args.add(v.to_string()),
        Some(Value::String(s)) => return add_text(args, s, kind),
        Some(Value::Bool(b)) => args.add(*b),
        // Other numbers go as their exact text, which MySQL converts to the
        // column's type (a DECIMAL keeps every digit, a DOUBLE takes the nearest).
        Some(Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => args.add(i),
            (None, Some(u)) => args.add(u),
            _ => args.add(n.as_str()),
        },
        Some(nested) => args.add(nested.to_string()),
    };
    added.map_err(|e| FaucetError::sink(format!("binding a value: {e}")))
}

/// Binds text for a column that is not JSON: base64 as its bytes for a
/// binary column (as it is when it is not base64), an ISO date-time as
/// MySQL's for a DATETIME or TIMESTAMP column.
fn add_text(args: &mut MySqlArguments, text: &str, kind: ValueKind) -> Result<()> {
    use base64::Engine as _;
    let added = match kind {
        ValueKind::Binary => match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(bytes) => args.add(bytes),
            Err(_) => args.add(text),
        },
        ValueKind::DateTime => args.add(datetime_text(text)),
        ValueKind::Plain | ValueKind::Json => args.add(text),
    };
    added.map_err(|e| FaucetError::sink(format!("binding a value: {e}")))
}

/// Binds field `name` of `record` (its `value`) as [`add`] binds the field's
/// JSON: scalars directly, JSON columns and nested values through their JSON.
fn add_field<R: RecordType>(
    args: &mut MySqlArguments,
    record: &R,
    value: FieldValue<'_>,
    name: &str,
    kind: ValueKind,
) -> Result<()> {
    let added = match value {
        FieldValue::Json(json) => return add(args, Some(json), kind),
        _ if kind == ValueKind::Json => return add(args, field_json(record, value, name).as_deref(), kind),
        FieldValue::Absent | FieldValue::Null => args.add(None::<String>),
        FieldValue::Bool(b) => args.add(b),
        FieldValue::Int(i) => args.add(i),
        // The double's shortest text, as its JSON number holds it.
        FieldValue::Float(f) => match Number::from_f64(f) {
            Some(n) => args.add(n.as_str()),
            None => args.add(None::<String>),
        },
        FieldValue::Text(text) => return add_text(args, text, kind),
        FieldValue::Nested => return add(args, field_json(record, value, name).as_deref(), kind),
    };
    added.map_err(|e| FaucetError::sink(format!("binding a value: {e}")))
}

/// An ISO 8601 date-time as MySQL reads it: `2024-05-01T10:20:30.5+02:00` →
/// `2024-05-01 08:20:30.5` (the sink's session runs in UTC, so a TIMESTAMP
/// column stores that instant). Text of another shape is passed as it is,
/// for the server to accept or refuse.
fn datetime_text(text: &str) -> String {
    let Some((date, time)) = text.split_once(['T', ' ']) else {
        return text.to_owned();
    };
    let (clock, offset_minutes) = match time.strip_suffix('Z') {
        Some(clock) => (clock, 0),
        None => match time.rfind(['+', '-']) {
            Some(at) => match offset(&time[at..]) {
                Some(minutes) => (&time[..at], minutes),
                None => return text.to_owned(),
            },
            None => return format!("{date} {time}"),
        },
    };
    if offset_minutes == 0 {
        return format!("{date} {clock}");
    }
    let parse = |s: &str| s.parse::<i64>().ok();
    let mut d = date.splitn(3, '-');
    let (Some(y), Some(m), Some(day)) =
        (d.next().and_then(parse), d.next().and_then(parse), d.next().and_then(parse))
    else {
        return text.to_owned();
    };
    let (Some(h), Some(min), rest) =
        (clock.get(0..2).and_then(parse), clock.get(3..5).and_then(parse), clock.get(5..).unwrap_or(""))
    else {
        return text.to_owned();
    };
    let minutes = (days_from_civil(y, m, day) * 24 + h) * 60 + min - offset_minutes;
    let (days, minute_of_day) = (minutes.div_euclid(1440), minutes.rem_euclid(1440));
    let (y, m, day) = civil_from_days(days);
    format!("{y:04}-{m:02}-{day:02} {:02}:{:02}{rest}", minute_of_day / 60, minute_of_day % 60)
}

/// The minutes east of UTC of an offset `+hh:mm`, `+hhmm` or `+hh`.
fn offset(text: &str) -> Option<i64> {
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    Some(sign * (hours * 60 + minutes))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Writes records into a MySQL or MariaDB table, one transaction per batch.
#[derive(Debug)]
pub struct MySqlSink {
    config: MySqlSinkConfig,
    conn: Option<MySqlConnection>,
    scope: String,
    columns: Option<Vec<String>>,
    /// How values are bound for the columns that are not plain.
    kinds: HashMap<String, ValueKind>,
    committed: Option<Committed>,
}

/// One statement shape: the columns it fills (`None` = the whole record).
struct Statement {
    table: String,
    columns: Vec<Option<String>>,
    /// How each of `columns` binds its value.
    kinds: Vec<ValueKind>,
    /// Where each of `columns` is in a record ([`TableRows::field_index`]).
    fields: Vec<Option<usize>>,
    names: Vec<String>,
    delete: bool,
    tail: String,
    part: u32,
}

impl Statement {
    fn sql(&self, rows: usize) -> String {
        let row = format!("({})", vec!["?"; self.columns.len()].join(", "));
        let values = vec![row; rows].join(", ");
        let list: Vec<String> = self.names.iter().map(|c| quote_ident(c)).collect();
        if self.delete {
            format!("DELETE FROM {} WHERE ({}) IN ({values})", self.table, list.join(", "))
        } else {
            format!("INSERT INTO {} ({}) VALUES {values}{}", self.table, list.join(", "), self.tail)
        }
    }

    fn args<T: TableRows>(&self, batch: &T, rows: &[usize]) -> Result<MySqlArguments> {
        let mut args = MySqlArguments::default();
        let records = batch.records();
        for &r in rows {
            for ((c, kind), index) in self.columns.iter().zip(&self.kinds).zip(&self.fields) {
                match c {
                    None => add(&mut args, Some(&records[r].to_json()), ValueKind::Json)?,
                    Some(c) => add_field(&mut args, &records[r], batch.value(r, *index, c), c, *kind)?,
                }
            }
        }
        Ok(args)
    }

    async fn run<T: TableRows + Sync>(
        &self,
        conn: &mut MySqlConnection,
        batch: &T,
        rows: &[usize],
        failures: &mut Vec<StoredFailure>,
    ) -> Result<u64> {
        let mut done = 0;
        for chunk in rows.chunks((MAX_PARAMS / self.columns.len().max(1)).max(1)) {
            let args = self.args(batch, chunk)?;
            match sqlx::query_with(AssertSqlSafe(self.sql(chunk.len())), args).execute(&mut *conn).await {
                Ok(_) => {
                    done += chunk.len() as u64;
                    continue;
                }
                Err(e) if row_level(&e) => {}
                Err(e) => return Err(FaucetError::sink(describe(&e, "writing rows"))),
            }
            for &row in chunk {
                let args = self.args(batch, &[row])?;
                match sqlx::query_with(AssertSqlSafe(self.sql(1)), args).execute(&mut *conn).await {
                    Ok(_) => done += 1,
                    Err(e) if row_level(&e) => {
                        failures.push(StoredFailure::sink(self.part, row, describe(&e, "writing a row")))
                    }
                    Err(e) => return Err(FaucetError::sink(describe(&e, "writing a row"))),
                }
            }
        }
        Ok(done)
    }
}

impl MySqlSink {
    /// A sink for `config`; the connection is opened by [`Sink::open`].
    pub fn new(config: MySqlSinkConfig) -> Self {
        MySqlSink {
            config,
            conn: None,
            scope: String::new(),
            columns: None,
            kinds: HashMap::new(),
            committed: None,
        }
    }

    fn qualified(&self, table: &str) -> String {
        match &self.config.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(table)),
            None => quote_ident(table),
        }
    }

    async fn read_columns(&mut self) -> Result<()> {
        let conn = self.conn.as_mut().expect("opened");
        let rows = sqlx::query(
            "SELECT COLUMN_NAME, CAST(DATA_TYPE AS CHAR) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) \
             AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION",
        )
        .bind(self.config.schema.clone())
        .bind(self.config.table_name.clone())
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| FaucetError::sink(describe(&e, "reading the table's columns")))?;
        let columns: Vec<(String, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(|e| FaucetError::sink(describe(&e, "reading the table's columns")))?;
        let json = json_columns(conn, self.config.schema.as_deref(), &self.config.table_name)
            .await
            .map_err(|e| FaucetError::sink(describe(&e, "reading the table's JSON columns")))?;
        self.kinds = columns
            .iter()
            .map(|(name, ty)| (name.clone(), ValueKind::of(&ty.to_ascii_lowercase(), json.contains(name))))
            .filter(|(_, kind)| *kind != ValueKind::Plain)
            .collect();
        let columns: Vec<String> = columns.into_iter().map(|(name, _)| name).collect();
        self.columns = (!columns.is_empty()).then_some(columns);
        Ok(())
    }

    /// Creates the table from `batch` (before the transaction: DDL commits
    /// implicitly), leaving out the rows listed in `unnameable`.
    async fn create(&mut self, batch: &[Record], unnameable: &[(usize, String)]) -> Result<()> {
        let mut columns: Vec<(String, String)> = Vec::new();
        match &self.config.column_mapping {
            ColumnMapping::Json { column } => columns.push((column.clone(), "JSON".to_owned())),
            ColumnMapping::AutoMap => {
                let rows = batch.iter().enumerate().filter(|(i, _)| !unnameable.iter().any(|(u, _)| u == i));
                let mut inferred = infer_columns(rows.map(|(_, r)| r), column_type, "LONGTEXT");
                for (name, ty) in &mut inferred {
                    // A key column must be indexable: text keys get a bounded VARCHAR.
                    if *ty == "LONGTEXT" && self.config.write.key.contains(name) {
                        *ty = "VARCHAR(255)";
                    }
                }
                let key = &self.config.write.key;
                let declared = |f: &Field| declared_type(f, key.iter().any(|k| k == f.name));
                columns = create_columns(self.config.write.columns, inferred, COLUMN_NAMES, declared);
            }
        }
        for key in &self.config.write.key {
            if !columns.iter().any(|(c, _)| c == key) {
                columns.push((key.clone(), "VARCHAR(255)".to_owned()));
            }
        }
        if columns.is_empty() {
            return Ok(());
        }
        let mut list: Vec<String> = columns.iter().map(|(c, t)| format!("{} {t}", quote_ident(c))).collect();
        if !self.config.write.key.is_empty() {
            let key: Vec<String> = self.config.write.key.iter().map(|k| quote_ident(k)).collect();
            list.push(format!("PRIMARY KEY ({})", key.join(", ")));
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} ({}) ENGINE=InnoDB",
            self.qualified(&self.config.table_name),
            list.join(", ")
        );
        exec(self.conn.as_mut().expect("opened"), sql, "creating the table").await?;
        self.read_columns().await
    }

    fn keying(&self) -> Keying<'_> {
        Keying {
            mode: self.config.write.write_mode,
            key: &self.config.write.key,
            delete_marker: self.config.write.delete_marker.as_ref(),
            unmapped: self.config.write.unmapped_fields,
        }
    }

    /// Adds a column for each key of `batch` that names none of the table's
    /// (`unmapped_fields: add_column`), before the transaction: DDL commits
    /// implicitly. Returns the rows whose keys cannot name a column.
    async fn add_columns(&mut self, batch: &[Record]) -> Result<Vec<(usize, String)>> {
        let table = self.qualified(&self.config.table_name);
        let columns = self.columns.clone().unwrap_or_default();
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let NewColumns { added, refused: bad } =
            new_columns(&self.keying(), batch, &names, COLUMN_NAMES, column_type, "LONGTEXT", &table);
        if !added.is_empty() {
            let declared = self.config.write.columns;
            let list: Vec<String> = added
                .iter()
                .map(|(n, ty)| {
                    let ty = added_type(declared, n, ty, |f| declared_type(f, false));
                    format!("ADD COLUMN {} {ty}", quote_ident(n))
                })
                .collect();
            let sql = format!("ALTER TABLE {table} {}", list.join(", "));
            exec(self.conn.as_mut().expect("opened"), sql, "adding columns").await?;
            self.read_columns().await?;
        }
        Ok(bad)
    }

    /// Writes `batch`; the rows in `unnameable` fail with their reason.
    async fn transaction<T: TableRows + Sync>(
        &mut self,
        batch: &T,
        token: CommitToken,
        unnameable: Vec<(usize, String)>,
    ) -> Result<(WriteOutcome, Vec<StoredFailure>)> {
        let table = self.qualified(&self.config.table_name);
        let token_table = self.qualified(TOKEN_TABLE);
        let columns = self.columns.clone().unwrap_or_default();
        let mut failures: Vec<StoredFailure> = unnameable
            .into_iter()
            .map(|(index, message)| StoredFailure::sink(token.part, index, message))
            .collect();
        let keyed = self.config.write.write_mode != WriteMode::Append;
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let auto_map = self.config.column_mapping == ColumnMapping::AutoMap;
        let plan =
            batch.plan(&self.keying(), auto_map.then_some(&names[..]), &table, token.part, &mut failures);
        let mut written = plan.superseded;
        let kinds = &self.kinds;
        let kind = |column: &str| kinds.get(column).copied().unwrap_or(ValueKind::Plain);
        let conn = self.conn.as_mut().expect("opened");
        if !plan.deletes.is_empty() {
            let statement = Statement {
                table: table.clone(),
                columns: self.config.write.key.iter().cloned().map(Some).collect(),
                kinds: self.config.write.key.iter().map(|k| kind(k)).collect(),
                fields: self.config.write.key.iter().map(|k| batch.field_index(k)).collect(),
                names: self.config.write.key.clone(),
                delete: true,
                tail: String::new(),
                part: token.part,
            };
            written += statement.run(conn, batch, &plan.deletes, &mut failures).await?;
        }
        let groups: Vec<(Vec<Option<String>>, Vec<usize>)> = match &self.config.column_mapping {
            ColumnMapping::Json { column } if !plan.writes.is_empty() => {
                vec![(vec![None, Some(column.clone())], plan.writes)]
            }
            ColumnMapping::Json { .. } => Vec::new(),
            ColumnMapping::AutoMap => batch
                .shapes(plan.writes, &names)
                .into_iter()
                .map(|(shape, rows)| (shape.iter().map(|&c| Some(columns[c].clone())).collect(), rows))
                .collect(),
        };
        for (shape, rows) in groups {
            // `[None, Some(column)]` is the jsonb mapping: the record into `column`.
            let (columns, names): (Vec<Option<String>>, Vec<String>) = if shape.first() == Some(&None) {
                (vec![None], vec![shape[1].clone().expect("the json column")])
            } else {
                (shape.clone(), shape.iter().flatten().cloned().collect())
            };
            let tail = if keyed {
                let set: Vec<String> = names
                    .iter()
                    .filter(|c| !self.config.write.key.contains(c))
                    .map(|c| format!("{0} = VALUES({0})", quote_ident(c)))
                    .collect();
                let set = if set.is_empty() {
                    let k = quote_ident(&self.config.write.key[0]);
                    format!("{k} = {k}")
                } else {
                    set.join(", ")
                };
                format!(" ON DUPLICATE KEY UPDATE {set}")
            } else {
                String::new()
            };
            let kinds = columns.iter().map(|c| c.as_deref().map_or(ValueKind::Json, kind)).collect();
            let fields = columns.iter().map(|c| c.as_deref().and_then(|c| batch.field_index(c))).collect();
            let statement = Statement {
                table: table.clone(),
                columns,
                kinds,
                fields,
                names,
                delete: false,
                tail,
                part: token.part,
            };
            written += statement.run(conn, batch, &rows, &mut failures).await?;
        }

        let (stored, stored_json) = page_failures(self.committed.as_ref(), token, &mut failures);
        let sql = format!(
            "INSERT INTO {} (scope, target, seq, part, failures) VALUES (?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE seq = VALUES(seq), part = VALUES(part), failures = VALUES(failures)",
            token_table
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(self.scope.clone())
            .bind(table.clone())
            .bind(i64::try_from(token.seq).unwrap_or(i64::MAX))
            .bind(i64::from(token.part))
            .bind(stored_json)
            .execute(&mut *conn)
            .await
            .map_err(|e| FaucetError::sink(describe(&e, "recording the commit token")))?;
        Ok((outcome(written, &failures), stored))
    }
}

impl Sink for MySqlSink {
    fn connector_name(&self) -> &'static str {
        "mysql"
    }

    fn batch_size(&self) -> usize {
        self.config.write.batch_size
    }

    async fn open(&mut self, ctx: OpenContext<'_>) -> Result<()> {
        // Names from `${env:…}` are checked only now; written ones passed at build time.
        check_identifier("table_name", &self.config.table_name)?;
        if let Some(schema) = &self.config.schema {
            check_identifier("schema", schema)?;
        }
        dburl::register_password(&self.config.connection_url);
        let redacted = dburl::redact(&self.config.connection_url);
        let options = MySqlConnectOptions::from_str(&self.config.connection_url)
            .map_err(|e| FaucetError::sink(format!("mysql: invalid connection_url {redacted}: {e}")))?;
        let mut conn = options
            .connect()
            .await
            .map_err(|e| FaucetError::sink(describe(&e, &format!("connecting to {redacted}"))))?;
        // UTC: a TIMESTAMP column stores the instant a value with an offset names.
        exec(
            &mut conn,
            "SET SESSION sql_mode = CONCAT_WS(',', @@SESSION.sql_mode, 'STRICT_ALL_TABLES'), time_zone = '+00:00'"
                .into(),
            "setting sql_mode",
        )
        .await?;
        if let (Some(schema), true) = (&self.config.schema, self.config.write.create_table) {
            exec(
                &mut conn,
                format!("CREATE DATABASE IF NOT EXISTS {}", quote_ident(schema)),
                "creating the database",
            )
            .await?;
        }
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {} (scope VARCHAR(255) NOT NULL, target VARCHAR(255) NOT NULL, \
             seq BIGINT NOT NULL, part INT NOT NULL, failures LONGTEXT NOT NULL, \
             updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), \
             PRIMARY KEY (scope, target)) ENGINE=InnoDB",
            self.qualified(TOKEN_TABLE)
        );
        exec(&mut conn, create, "creating the commit-token table").await?;
        let select = format!(
            "SELECT seq, part, failures FROM {} WHERE scope = ? AND target = ?",
            self.qualified(TOKEN_TABLE)
        );
        let row = sqlx::query(AssertSqlSafe(select))
            .bind(ctx.scope.to_owned())
            .bind(self.qualified(&self.config.table_name))
            .fetch_optional(&mut conn)
            .await
            .map_err(|e| FaucetError::sink(describe(&e, "reading the commit token")))?;
        self.committed = match row {
            None => None,
            Some(row) => {
                let read = |_| {
                    FaucetError::sink(format!(
                        "mysql: the commit token of scope `{}` is unreadable",
                        ctx.scope
                    ))
                };
                let seq: i64 = row.try_get(0).map_err(read)?;
                let part: i32 = row.try_get(1).map_err(read)?;
                let text: String = row.try_get(2).map_err(read)?;
                Some(Committed::parse("mysql", ctx.scope, seq, i64::from(part), &text)?)
            }
        };
        self.conn = Some(conn);
        self.scope = ctx.scope.to_owned();
        self.read_columns().await?;
        let table = self.qualified(&self.config.table_name);
        match &self.columns {
            None if !self.config.write.create_table => Err(FaucetError::sink(format!(
                "table {table} does not exist; create it first, or set `create_table: true`"
            ))),
            Some(columns) => {
                let missing = match &self.config.column_mapping {
                    ColumnMapping::Json { column } => (!columns.contains(column)).then(|| column.clone()),
                    ColumnMapping::AutoMap => {
                        self.config.write.key.iter().find(|k| !columns.contains(k)).cloned()
                    }
                };
                match missing {
                    Some(c) => {
                        Err(FaucetError::sink(format!("table {table} has no column {}", quote_ident(&c))))
                    }
                    None => Ok(()),
                }
            }
            None => Ok(()),
        }
    }

    /// Returns `None`: each batch was committed by [`Writes::write_batch`](crate::Writes::write_batch).
    async fn flush(&mut self) -> Result<Option<Value>> {
        Ok(None)
    }

    async fn check_no_earlier_lineage(&mut self, state_key: &str) -> Result<()> {
        let (table, tokens) = (self.qualified(&self.config.table_name), self.qualified(TOKEN_TABLE));
        let Some(conn) = self.conn.as_mut() else {
            return Err(FaucetError::sink("the `mysql` sink was checked before it was opened"));
        };
        let select = format!("SELECT scope FROM {tokens} WHERE target = ?");
        let scopes: Vec<String> = sqlx::query_scalar(AssertSqlSafe(select))
            .bind(table.as_str())
            .fetch_all(conn)
            .await
            .map_err(|e| FaucetError::sink(describe(&e, "reading the commit tokens")))?;
        refuse_earlier_lineage("mysql", state_key, &tokens, &table, Some(&table), scopes)
    }
}

impl<R: RecordType> Writes<R> for MySqlSink {
    async fn write_batch(&mut self, batch: &[R], token: CommitToken) -> Result<WriteOutcome> {
        match (R::as_json_slice(batch), R::SCHEMA) {
            (Some(json), _) => self.write(&JsonRows(json), token).await,
            (None, Some(schema)) => self.write(&TypedRows::new(batch, schema), token).await,
            (None, None) => self.write(&JsonRows(&crate::record::json_batch(batch)), token).await,
        }
    }
}

impl MySqlSink {
    /// Writes `batch` in one transaction with `token`.
    async fn write<T: TableRows + Sync>(&mut self, batch: &T, token: CommitToken) -> Result<WriteOutcome> {
        if self.conn.is_none() {
            return Err(FaucetError::sink("the `mysql` sink was written to before it was opened"));
        }
        if let Some(replayed) = self.committed.as_ref().and_then(|c| c.replay(token)) {
            return Ok(replayed);
        }
        let mut unnameable = Vec::new();
        if self.columns.is_none() {
            let json = batch.json();
            if self.config.column_mapping == ColumnMapping::AutoMap {
                unnameable = unnameable_rows(&json, COLUMN_NAMES, &self.qualified(&self.config.table_name));
            }
            self.create(&json, &unnameable).await?;
        } else if self.config.column_mapping == ColumnMapping::AutoMap
            && self.config.write.unmapped_fields == UnmappedFields::AddColumn
            && batch.may_need_columns(self.columns.as_deref().unwrap_or_default(), &self.keying())
        {
            // (A table just created from this batch has a column for each of its keys.)
            unnameable = self.add_columns(&batch.json()).await?;
        }
        let conn = self.conn.as_mut().expect("opened");
        let _ = exec(conn, "ROLLBACK".into(), "rolling back").await; // a cancelled write's leftovers
        exec(conn, "START TRANSACTION".into(), "starting the transaction").await?;
        let result = self.transaction(batch, token, unnameable).await;
        let conn = self.conn.as_mut().expect("opened");
        let result = match result {
            Ok(done) => exec(conn, "COMMIT".into(), "committing").await.map(|()| done),
            Err(e) => Err(e),
        };
        match result {
            Ok((outcome, stored)) => {
                self.committed = Some(Committed { token, failures: stored });
                Ok(outcome)
            }
            Err(e) => {
                let _ = exec(self.conn.as_mut().expect("opened"), "ROLLBACK".into(), "rolling back").await;
                Err(e.context(format!("table {}", self.qualified(&self.config.table_name))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::sql::{DeleteMarker, TableWrite};

    const ROOT: &str = "mysql://root@127.0.0.1:3306";
    const SCOPE: &str = "orders::row-0::lineage";

    struct TestDb {
        name: String,
        conn: MySqlConnection,
    }

    impl TestDb {
        async fn new(sql: &str) -> TestDb {
            let name = format!("faucet_sink_{}", uuid::Uuid::now_v7().simple());
            let mut conn =
                MySqlConnectOptions::from_str(ROOT).unwrap().connect().await.expect("MariaDB on 3306");
            let setup = format!("CREATE DATABASE `{name}`; USE `{name}`; {sql}");
            sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut conn).await.unwrap();
            TestDb { name, conn }
        }

        fn config(&self, table: &str) -> MySqlSinkConfig {
            MySqlSinkConfig {
                connection_url: format!("{ROOT}/{}", self.name),
                schema: None,
                table_name: table.to_owned(),
                column_mapping: ColumnMapping::AutoMap,
                write: TableWrite {
                    create_table: false,
                    unmapped_fields: UnmappedFields::Dlq,
                    batch_size: 1000,
                    write_mode: WriteMode::Append,
                    key: Vec::new(),
                    delete_marker: None,
                    columns: None,
                },
            }
        }

        /// `SELECT cols rest`, each row's columns joined with `|`.
        async fn strings(&mut self, cols: &str, rest: &str) -> Vec<String> {
            let sql = format!("USE `{}`; SELECT CAST(CONCAT_WS('|', {cols}) AS CHAR) {rest}", self.name);
            let rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut self.conn).await.unwrap();
            rows.iter().map(|r| r.get::<String, _>(0)).collect()
        }

        async fn drop(mut self) {
            let sql = format!("DROP DATABASE `{}`", self.name);
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.unwrap();
        }
    }

    async fn opened(config: MySqlSinkConfig) -> MySqlSink {
        let mut sink = MySqlSink::new(config);
        sink.open(OpenContext { scope: SCOPE, checkpoint: None }).await.unwrap();
        sink
    }

    fn token(seq: u64, part: u32) -> CommitToken {
        CommitToken { seq, part }
    }

    #[test]
    fn iso_date_times_become_mysql_text_in_utc() {
        let cases = [
            ("2024-05-01T10:20:30.123456", "2024-05-01 10:20:30.123456"),
            ("2024-05-01T10:20:30.5+00:00", "2024-05-01 10:20:30.5"),
            ("2024-05-01 10:20:30Z", "2024-05-01 10:20:30"),
            // Offsets move the instant to UTC, across days, months and leap days.
            ("2024-03-01T01:30:00+02:00", "2024-02-29 23:30:00"),
            ("2023-12-31T23:00:00.000001-01:30", "2024-01-01 00:30:00.000001"),
            ("2024-05-01T10:20:30+0530", "2024-05-01 04:50:30"),
            // Anything else is left for the server to judge.
            ("2024-05-01", "2024-05-01"),
            ("yesterday", "yesterday"),
            ("2024-05-01T10:20:30+5", "2024-05-01T10:20:30+5"),
        ];
        for (text, want) in cases {
            assert_eq!(datetime_text(text), want, "{text}");
        }
        for days in [-719_468, -1, 0, 19_843, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[tokio::test]
    async fn append_isolates_bad_rows_and_skips_committed_batches() {
        let mut db = TestDb::new("CREATE TABLE t (id BIGINT UNIQUE, v VARCHAR(5), n INT DEFAULT 7)").await;
        let batch: Vec<Value> = (0..100)
            .map(|i| match i {
                42 => json!({"id": 7, "v": "dup"}),
                60 => json!({"id": 60, "v": "too long"}),
                70 => json!({"id": "x70", "v": "bad"}),
                _ => json!({"id": i, "v": format!("r{i}")}),
            })
            .collect();
        let mut sink = opened(db.config("t")).await;
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!(outcome.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [42, 60, 70]);
        assert_eq!(outcome.written, 97);
        drop(sink); // a crash before the bookmark
        let mut sink = opened(db.config("t")).await;
        let again = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert!(again.already_committed);
        assert_eq!(again.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [42, 60, 70]);
        assert_eq!(db.strings("count(*), sum(n)", "FROM t").await, ["97|679"]);
        db.drop().await;
    }

    /// A key that first appears in the second batch: with `create_table` its
    /// column is added and its values land, also when a crash came between the
    /// ALTER (committed at once) and the batch; without, the row is
    /// dead-lettered naming the key; with `unmapped_fields: drop` it is dropped.
    #[tokio::test]
    async fn a_key_first_seen_in_the_second_batch_is_added_dead_lettered_or_dropped() {
        let mut db = TestDb::new("CREATE TABLE late_dlq (id BIGINT, v LONGTEXT)").await;
        let first = [json!({"id": 1, "v": "a"})];
        let second = [json!({"id": 2, "v": "b", "late": 2.5}), json!({"id": 3, "v": "c"})];

        let mut cfg = db.config("late_add");
        cfg.write.create_table = true;
        cfg.write.unmapped_fields = UnmappedFields::AddColumn;
        let mut sink = opened(cfg.clone()).await;
        sink.write_batch(&first, token(1, 0)).await.unwrap();
        let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
        assert_eq!((outcome.written, outcome.failures.len()), (2, 0));
        let got = db.strings("id, COALESCE(late, '-')", "FROM late_add ORDER BY id").await;
        assert_eq!(got, ["1|-", "2|2.5", "3|-"]);
        let ty = db.strings("DATA_TYPE", "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'late_add' AND COLUMN_NAME = 'late'").await;
        assert_eq!(ty, ["double"]);
        // A crash after the ALTER, before the batch committed: the rerun finds
        // the column there and writes the batch once.
        let third = [json!({"id": 4, "later": "x"})];
        sqlx::raw_sql(AssertSqlSafe(format!("ALTER TABLE `{}`.late_add ADD COLUMN later LONGTEXT", db.name)))
            .execute(&mut db.conn)
            .await
            .unwrap();
        drop(sink);
        let mut sink = opened(cfg).await;
        assert!(sink.write_batch(&second, token(2, 0)).await.unwrap().already_committed);
        assert_eq!(sink.write_batch(&third, token(3, 0)).await.unwrap().written, 1);
        assert_eq!(db.strings("count(*), count(later)", "FROM late_add").await, ["4|1"]);

        // The default without create_table: the row goes to the DLQ naming the key.
        let mut sink = opened(db.config("late_dlq")).await;
        sink.write_batch(&first, token(1, 0)).await.unwrap();
        let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
        assert_eq!(outcome.written, 1);
        assert_eq!(outcome.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [0]);
        let message = outcome.failures[0].error.message();
        assert!(message.starts_with("record key \"late\" names no column of table `late_dlq`"), "{message}");
        assert_eq!(db.strings("count(*)", "FROM late_dlq").await, ["2"]);

        // unmapped_fields: drop writes the row without the key.
        let mut cfg = db.config("late_drop");
        cfg.write.create_table = true;
        cfg.write.unmapped_fields = UnmappedFields::Drop;
        let mut sink = opened(cfg).await;
        sink.write_batch(&first, token(1, 0)).await.unwrap();
        let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
        assert_eq!((outcome.written, outcome.failures.len()), (2, 0));
        let columns = db.strings("GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION)", "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'late_drop'").await;
        assert_eq!(columns, ["id,v"]);
        db.drop().await;
    }

    /// Keys that cannot be columns (a NUL, over 64 characters, `Name` beside
    /// `name`: MySQL ignores case) fail their row, not the run.
    #[tokio::test]
    async fn create_table_dead_letters_rows_whose_keys_cannot_be_columns() {
        let mut db = TestDb::new("SELECT 1").await;
        let mut cfg = db.config("made");
        cfg.write.create_table = true;
        let mut sink = opened(cfg).await;
        let long = "k".repeat(70);
        let batch = vec![
            json!({"id": 1, "name": "a"}),
            json!({"id": 2, "a\u{0}b": 1}),
            json!({"id": 3, "Name": "c"}),
            json!({"id": 4, long.as_str(): 1}),
            json!({"id": 5, "name": "e"}),
        ];
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        let failures: Vec<(usize, String)> =
            outcome.failures.iter().map(|f| (f.index, f.error.message().to_owned())).collect();
        let table = "`made`";
        assert_eq!(
            failures,
            [
                (1, format!("key \"a\\0b\" cannot name a column of {table}: it contains a NUL character")),
                (
                    2,
                    format!(
                        "keys \"name\" and \"Name\" would name the same column of {table} (MySQL compares column names ignoring case)"
                    )
                ),
                (
                    3,
                    format!(
                        "key \"{long}\" cannot name a column of {table}: it is longer than the 64 characters MySQL allows"
                    )
                ),
            ]
        );
        assert_eq!(outcome.written, 2);
        assert_eq!(db.strings("id, name", "FROM made ORDER BY id").await, ["1|a", "5|e"]);
        db.drop().await;
    }

    #[tokio::test]
    async fn upsert_and_delete_converge() {
        let mut db = TestDb::new("CREATE TABLE kv (id INT PRIMARY KEY, v TEXT, n INT DEFAULT 5)").await;
        let mut cfg = db.config("kv");
        cfg.write.write_mode = WriteMode::Upsert;
        cfg.write.key = vec!["id".into()];
        cfg.write.delete_marker = Some(DeleteMarker { field: "op".into(), values: vec![json!("d")] });
        let mut sink = opened(cfg.clone()).await;
        let batch = vec![
            json!({"id": 1, "v": "one"}),
            json!({"id": 2, "v": "two", "n": 1}),
            json!({"id": 1, "v": "one again"}),
            json!({"v": "no key"}),
        ];
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!((outcome.written, outcome.failures.len()), (3, 1));
        let batch = vec![
            json!({"id": 2, "v": "two v2"}),
            json!({"id": 1, "op": "d"}),
            json!({"id": 3, "v": "three"}),
        ];
        sink.write_batch(&batch, token(2, 0)).await.unwrap();
        assert_eq!(db.strings("id, v, n", "FROM kv ORDER BY id").await, ["2|two v2|1", "3|three|5"]);
        cfg.write.write_mode = WriteMode::Delete;
        cfg.write.delete_marker = None;
        let mut sink = MySqlSink::new(cfg);
        sink.open(OpenContext { scope: "other", checkpoint: None }).await.unwrap();
        sink.write_batch(&[json!({"id": 3})], token(1, 0)).await.unwrap();
        assert_eq!(db.strings("id", "FROM kv").await, ["2"]);
        db.drop().await;
    }

    #[tokio::test]
    async fn create_table_and_json_mapping() {
        let mut db = TestDb::new("SELECT 1").await;
        let mut cfg = db.config("docs");
        cfg.column_mapping = ColumnMapping::Json { column: "doc".into() };
        cfg.write.create_table = true;
        let mut sink = opened(cfg).await;
        sink.write_batch(&[json!({"a": {"b": [1, null]}, "s": "x`y"})], token(1, 0)).await.unwrap();
        let mut cfg = db.config("we`ird");
        cfg.write.create_table = true;
        let mut sink = opened(cfg).await;
        let outcome = sink
            .write_batch(&[json!({"id": 1, "ok": true, "f": 1.5, "tags": ["a"]})], token(1, 0))
            .await
            .unwrap();
        assert_eq!(outcome.written, 1);
        assert_eq!(db.strings("JSON_EXTRACT(doc, '$.a.b[0]')", "FROM docs").await, ["1"]);
        assert_eq!(db.strings("id, ok, f, tags", "FROM `we``ird`").await, ["1|1|1.5|[\"a\"]"]);

        // Beyond u64: DECIMAL(65, 0), every digit kept; a double beyond its
        // shortest form goes in as text and MySQL takes the nearest double.
        let mut cfg = db.config("big");
        cfg.write.create_table = true;
        let mut sink = opened(cfg).await;
        let record: Value = serde_json::from_str(
            r#"{"n": 123456789012345678901234567890, "u": 18446744073709551615, "f": 0.48806805903541084}"#,
        )
        .unwrap();
        assert_eq!(sink.write_batch(&[record], token(1, 0)).await.unwrap().written, 1);
        assert_eq!(
            db.strings("DATA_TYPE, COLUMN_TYPE", "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'big' ORDER BY ORDINAL_POSITION").await,
            ["decimal|decimal(65,0)", "bigint|bigint(20) unsigned", "double|double"]
        );
        assert_eq!(
            db.strings("n, u, f = 0.48806805903541084e0", "FROM big").await,
            ["123456789012345678901234567890|18446744073709551615|1"]
        );
        db.drop().await;
    }
}

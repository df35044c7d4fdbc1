//! The `sqlite` sink through sqlx (bundled SQLite): append, upsert or delete
//! by key, one transaction per batch.
//!
//! Exactly-once: every batch is committed in one transaction that also upserts
//! the batch's [`CommitToken`] into `_faucet_commit_token`, keyed by the run's
//! scope. After a crash, the resumed run replays the pages after its last
//! bookmark; a batch whose token is not newer than the stored one is skipped
//! and reported as already committed, with the rows it rejected back then
//! (kept in the token row's `failures` for the token's page).
//!
//! Writes use multi-row `INSERT`s (`INSERT … ON CONFLICT (key) DO UPDATE` for
//! upserts) and `DELETE … WHERE (key) IN (VALUES …)`, kept under SQLite's
//! 32766 bound parameters, inside the batch's transaction. When one fails on a
//! row-level error (a constraint, a datatype mismatch, a value too big), the
//! statement is rolled back to a savepoint and its rows are retried one at a
//! time, so a bad row is reported on its own and the others are still
//! written. Any other error (database locked, I/O, schema changed) fails the
//! whole batch.
//!
//! An upsert needs a PRIMARY KEY or UNIQUE index on exactly the key columns
//! (`ON CONFLICT` names it): a table the sink creates declares the key as its
//! primary key; an existing table without one is refused at open.
//!
//! Identifiers are always double-quoted; values are always bound. Typed
//! records are bound field by field in column order, each value as its JSON
//! would be bound, so a table holds the same either way.

use std::str::FromStr;

use serde_json::Value;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use sqlx::{Arguments, AssertSqlSafe, ConnectOptions, Row, SqlSafeStr, SqlStr};

use crate::config::sql::{ColumnMapping, SqliteSinkConfig, UnmappedFields, WriteMode};
use crate::connectors::sql::sink::{
    ColumnNames, Committed, Keying, NewColumns, StoredFailure, TOKEN_TABLE, added_type, create_columns,
    infer_columns, new_columns, outcome, page_failures, refuse_earlier_lineage, unnameable_rows,
};
use crate::connectors::sql::table_rows::{JsonRows, TableRows, TypedRows, field_json};
use crate::error::{FaucetError, Result};
use crate::number;
use crate::page::{CommitToken, Record};
use crate::record::{FieldValue, RecordType};
use crate::schema::{Field, FieldType};
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};

/// SQLite's default limit on bound parameters per statement.
const MAX_PARAMS: usize = 32766;

/// Writes records into a SQLite table, one transaction per batch.
#[derive(Debug)]
pub struct SqliteSink {
    config: SqliteSinkConfig,
    conn: Option<SqliteConnection>,
    scope: String,
    /// The target table's columns in table order, or `None` while it does not exist.
    columns: Option<Vec<String>>,
    /// The scope's last committed token and the failures recorded for its page.
    committed: Option<Committed>,
    /// A transaction was begun and neither committed nor rolled back (a
    /// cancelled write); the next write rolls it back first.
    in_transaction: bool,
}

/// What a batch's transaction did, applied to the sink once it commits.
struct Done {
    outcome: WriteOutcome,
    failures: Vec<StoredFailure>,
    /// The table's columns when the batch created or altered it.
    created: Option<Vec<String>>,
}

impl SqliteSink {
    /// A sink for `config`; the database is opened by [`Sink::open`].
    pub fn new(config: SqliteSinkConfig) -> Self {
        SqliteSink {
            config,
            conn: None,
            scope: String::new(),
            columns: None,
            committed: None,
            in_transaction: false,
        }
    }

    fn keying(&self) -> Keying<'_> {
        Keying {
            mode: self.config.write.write_mode,
            key: &self.config.write.key,
            delete_marker: self.config.write.delete_marker.as_ref(),
            unmapped: self.config.write.unmapped_fields,
        }
    }

    /// Adds a column for each key of `batch` that names none of `columns`
    /// (`unmapped_fields: add_column`), in the batch's transaction; rows whose
    /// keys cannot name a column join `failures`. Returns the new columns, if any.
    async fn add_columns(
        &self,
        conn: &mut SqliteConnection,
        batch: &[Record],
        columns: &[String],
        part: u32,
        failures: &mut Vec<StoredFailure>,
    ) -> Result<Option<Vec<String>>> {
        let table = &self.config.table_name;
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let NewColumns { added, refused: bad } =
            new_columns(&self.keying(), batch, &names, COLUMN_NAMES, column_type, "TEXT", table);
        failures.extend(bad.into_iter().map(|(index, message)| StoredFailure::sink(part, index, message)));
        if added.is_empty() {
            return Ok(None);
        }
        for (name, ty) in &added {
            let ty = added_type(self.config.write.columns, name, ty, declared_type);
            let sql = format!("ALTER TABLE {} ADD COLUMN {} {ty}", quote_ident(table), quote_ident(name));
            sqlx::query(AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await
                .map_err(|e| db_error(e, &format!("adding column {} to table {table}", quote_ident(name))))?;
        }
        table_columns(conn, table).await
    }

    /// Creates the table from `batch`'s shape (the key as its primary key),
    /// leaving out the rows listed in `unnameable`; returns its columns, or
    /// `None` when the batch has no field to make one of.
    async fn create(
        &self,
        conn: &mut SqliteConnection,
        batch: &[Record],
        unnameable: &[(usize, String)],
    ) -> Result<Option<Vec<String>>> {
        let table = &self.config.table_name;
        let rows = batch.iter().enumerate().filter(|(i, _)| !unnameable.iter().any(|(u, _)| u == i));
        let mut definition = match &self.config.column_mapping {
            ColumnMapping::AutoMap => {
                let inferred = infer_columns(rows.map(|(_, r)| r), column_type, "TEXT");
                create_columns(self.config.write.columns, inferred, COLUMN_NAMES, declared_type)
            }
            ColumnMapping::Json { column } => vec![(column.clone(), "TEXT".to_owned())],
        };
        if definition.is_empty() {
            return Ok(None);
        }
        for key in &self.config.write.key {
            if !definition.iter().any(|(name, _)| name == key) {
                definition.push((key.clone(), "TEXT".to_owned()));
            }
        }
        let mut list: Vec<String> =
            definition.iter().map(|(name, ty)| format!("{} {ty}", quote_ident(name))).collect();
        if !self.config.write.key.is_empty() {
            let key: Vec<String> = self.config.write.key.iter().map(|k| quote_ident(k)).collect();
            list.push(format!("PRIMARY KEY ({})", key.join(", ")));
        }
        let sql = format!("CREATE TABLE IF NOT EXISTS {} ({})", quote_ident(table), list.join(", "));
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await
            .map_err(|e| db_error(e, &format!("creating table {table}")))?;
        let columns = table_columns(conn, table).await?;
        if let Some(columns) = &columns {
            check_key(conn, table, columns, &self.config).await?;
        }
        Ok(columns)
    }

    /// Everything of a batch between `BEGIN` and `COMMIT`.
    async fn transaction<T: TableRows + Sync>(&mut self, batch: &T, token: CommitToken) -> Result<Done> {
        let mut conn = self.conn.take().expect("checked by write_batch");
        let result = self.transaction_on(&mut conn, batch, token).await;
        self.conn = Some(conn);
        result
    }

    async fn transaction_on<T: TableRows + Sync>(
        &self,
        conn: &mut SqliteConnection,
        batch: &T,
        token: CommitToken,
    ) -> Result<Done> {
        let table = &self.config.table_name;
        let mut failures: Vec<StoredFailure> = Vec::new();
        let mut created = None;
        let columns = match &self.columns {
            Some(columns) => Some(columns.clone()),
            None if !self.config.write.create_table => return Err(missing_table(table)),
            None => {
                let json = batch.json();
                let unnameable = match self.config.column_mapping {
                    ColumnMapping::AutoMap => unnameable_rows(&json, COLUMN_NAMES, table),
                    ColumnMapping::Json { .. } => Vec::new(),
                };
                created = self.create(conn, &json, &unnameable).await?;
                for (index, message) in unnameable {
                    failures.push(StoredFailure::sink(token.part, index, message));
                }
                created.clone()
            }
        };

        let mut written = 0;
        match columns {
            None => {
                let failed: Vec<usize> = failures.iter().map(|f| f.index).collect();
                for index in (0..batch.records().len()).filter(|i| !failed.contains(i)) {
                    let message = format!("record has no key to create a column of table {table} from");
                    failures.push(StoredFailure::sink(token.part, index, message));
                }
            }
            Some(mut columns) => {
                let auto_map = self.config.column_mapping == ColumnMapping::AutoMap;
                // A table just created from this batch has a column for each of its keys.
                if auto_map
                    && created.is_none()
                    && self.config.write.unmapped_fields == UnmappedFields::AddColumn
                    && batch.may_need_columns(&columns, &self.keying())
                {
                    let altered =
                        self.add_columns(conn, &batch.json(), &columns, token.part, &mut failures).await?;
                    if let Some(altered) = altered {
                        columns = altered.clone();
                        created = Some(altered);
                    }
                }
                let names: Vec<&str> = columns.iter().map(String::as_str).collect();
                let plan = batch.plan(
                    &self.keying(),
                    auto_map.then_some(&names[..]),
                    table,
                    token.part,
                    &mut failures,
                );
                written = plan.superseded;
                if !plan.deletes.is_empty() {
                    let mut delete = Statement::delete(table, &self.config.write.key, token.part)
                        .declared(self.config.write.columns)
                        .located(batch);
                    written += delete.run(conn, batch, &plan.deletes, &mut failures).await?;
                }
                let groups: Vec<(Vec<Fill>, Vec<usize>)> = match &self.config.column_mapping {
                    ColumnMapping::Json { column } if !plan.writes.is_empty() => {
                        vec![(vec![Fill::Whole(column.clone())], plan.writes)]
                    }
                    ColumnMapping::Json { .. } => Vec::new(),
                    ColumnMapping::AutoMap => batch
                        .shapes(plan.writes, &names)
                        .into_iter()
                        .map(|(shape, rows)| {
                            (shape.iter().map(|&c| Fill::Field(columns[c].clone())).collect(), rows)
                        })
                        .collect(),
                };
                for (fills, rows) in groups {
                    let conflict = match self.config.write.write_mode {
                        WriteMode::Append => String::new(),
                        WriteMode::Upsert | WriteMode::Delete => on_conflict(&self.config.write.key, &fills),
                    };
                    let mut insert = Statement::insert(table, fills, &conflict, token.part)
                        .declared(self.config.write.columns)
                        .located(batch);
                    written += insert.run(conn, batch, &rows, &mut failures).await?;
                }
            }
        }

        // The token row: this batch's failures join those of earlier parts of the same page.
        let (stored, stored_json) = page_failures(self.committed.as_ref(), token, &mut failures);
        let seq = i64::try_from(token.seq).map_err(|_| FaucetError::sink("page number out of range"))?;
        let sql = format!(
            "INSERT INTO {} (scope, seq, part, failures) VALUES (?, ?, ?, ?) \
             ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq, part = excluded.part, failures = excluded.failures",
            quote_ident(TOKEN_TABLE)
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(self.scope.as_str())
            .bind(seq)
            .bind(i64::from(token.part))
            .bind(stored_json)
            .execute(&mut *conn)
            .await
            .map_err(|e| db_error(e, "recording the commit token"))?;
        Ok(Done { outcome: outcome(written, &failures), failures: stored, created })
    }
}

/// ` ON CONFLICT (key) DO UPDATE SET` the non-key columns `fills` writes (`DO NOTHING` when none).
fn on_conflict(key: &[String], fills: &[Fill]) -> String {
    let key: Vec<String> = key.iter().map(|k| quote_ident(k)).collect();
    let set: Vec<String> = fills
        .iter()
        .map(Fill::column)
        .filter(|c| !key.contains(&quote_ident(c)))
        .map(|c| format!("{0} = excluded.{0}", quote_ident(c)))
        .collect();
    if set.is_empty() {
        format!(" ON CONFLICT ({}) DO NOTHING", key.join(", "))
    } else {
        format!(" ON CONFLICT ({}) DO UPDATE SET {}", key.join(", "), set.join(", "))
    }
}

/// What a statement binds for one column.
enum Fill {
    /// The record field of the column's name.
    Field(String),
    /// The whole record as JSON text, into the named column.
    Whole(String),
}

impl Fill {
    fn column(&self) -> &str {
        match self {
            Fill::Field(c) | Fill::Whole(c) => c,
        }
    }
}

/// Builds and runs one statement shape (`head`, a row of placeholders per
/// record, `tail`) over a batch's rows, isolating row-level failures.
struct Statement {
    head: String,
    placeholders: String,
    tail: String,
    fills: Vec<Fill>,
    /// Rows per multi-row statement.
    per_statement: usize,
    /// The full-size statement, built once.
    full: Option<SqlStr>,
    /// The batch's part, for the failures it records.
    part: u32,
    /// Each fill's declared type, which says how its values are bound (JSON
    /// text, bytes); `None` where the field is not declared.
    declared: Vec<Option<FieldType>>,
    /// Where each fill's field is in a record ([`TableRows::field_index`]).
    fields: Vec<Option<usize>>,
}

impl Statement {
    fn new(head: String, tail: String, fills: Vec<Fill>, part: u32) -> Statement {
        Statement {
            head,
            placeholders: format!("({})", vec!["?"; fills.len()].join(", ")),
            tail,
            per_statement: (MAX_PARAMS / fills.len().max(1)).max(1),
            fills,
            full: None,
            part,
            declared: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Looks up each fill's declared type once, not per row.
    fn declared(mut self, fields: Option<&[Field]>) -> Statement {
        let type_of = |fill: &Fill| match fill {
            Fill::Field(column) => fields.unwrap_or_default().iter().find(|f| f.name == column).map(|f| f.ty),
            Fill::Whole(_) => None,
        };
        self.declared = self.fills.iter().map(type_of).collect();
        self
    }

    /// Finds each fill's field in `batch`'s records once, not per row.
    fn located<T: TableRows>(mut self, batch: &T) -> Statement {
        let index = |fill: &Fill| match fill {
            Fill::Field(column) => batch.field_index(column),
            Fill::Whole(_) => None,
        };
        self.fields = self.fills.iter().map(index).collect();
        self
    }

    /// `INSERT INTO table (columns) VALUES …` followed by `conflict`.
    fn insert(table: &str, fills: Vec<Fill>, conflict: &str, part: u32) -> Statement {
        let list: Vec<String> = fills.iter().map(|f| quote_ident(f.column())).collect();
        let head = format!("INSERT INTO {} ({}) VALUES ", quote_ident(table), list.join(", "));
        Statement::new(head, conflict.to_owned(), fills, part)
    }

    /// `DELETE FROM table WHERE (key) IN (VALUES …)`.
    fn delete(table: &str, key: &[String], part: u32) -> Statement {
        let list: Vec<String> = key.iter().map(|k| quote_ident(k)).collect();
        let head = format!("DELETE FROM {} WHERE ({}) IN (VALUES ", quote_ident(table), list.join(", "));
        Statement::new(head, ")".to_owned(), key.iter().cloned().map(Fill::Field).collect(), part)
    }

    fn sql(&self, rows: usize) -> SqlStr {
        let mut sql =
            String::with_capacity(self.head.len() + rows * (self.placeholders.len() + 1) + self.tail.len());
        sql.push_str(&self.head);
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&self.placeholders);
        }
        sql.push_str(&self.tail);
        AssertSqlSafe(sql).into_sql_str()
    }

    fn statement(&mut self, rows: usize) -> SqlStr {
        if rows == self.per_statement && rows > 1 {
            if self.full.is_none() {
                self.full = Some(self.sql(rows));
            }
            return self.full.clone().expect("just built");
        }
        self.sql(rows)
    }

    fn arguments<T: TableRows>(&self, batch: &T, rows: &[usize]) -> Result<SqliteArguments> {
        let mut args = SqliteArguments::default();
        args.reserve(rows.len() * self.fills.len(), 0);
        let records = batch.records();
        for &row in rows {
            let record = &records[row];
            for (i, fill) in self.fills.iter().enumerate() {
                match fill {
                    Fill::Whole(_) => add(&mut args, Some(&Value::String(record.to_json().to_string())))?,
                    Fill::Field(column) => {
                        let value = batch.value(row, self.fields[i], column);
                        add_field(&mut args, record, value, column, self.declared.get(i).copied().flatten())?
                    }
                }
            }
        }
        Ok(args)
    }

    /// Runs the statement over `rows` of `batch`, recording row-level failures; returns the rows done.
    async fn run<T: TableRows + Sync>(
        &mut self,
        conn: &mut SqliteConnection,
        batch: &T,
        rows: &[usize],
        failures: &mut Vec<StoredFailure>,
    ) -> Result<u64> {
        let mut done = 0;
        for chunk in rows.chunks(self.per_statement) {
            let sql = self.statement(chunk.len());
            let args = self.arguments(batch, chunk)?;
            exec(conn, "SAVEPOINT faucet_chunk").await?;
            match sqlx::query_with(sql, args).execute(&mut *conn).await {
                Ok(_) => {
                    exec(conn, "RELEASE faucet_chunk").await?;
                    done += chunk.len() as u64;
                    continue;
                }
                Err(e) if row_level(&e).is_some() => {
                    exec(conn, "ROLLBACK TO faucet_chunk").await?;
                    exec(conn, "RELEASE faucet_chunk").await?;
                }
                Err(e) => return Err(db_error(e, "writing rows")),
            }
            // One row at a time, each under its own savepoint, so a failing row
            // undoes only itself (and a conflict clause that aborts the whole
            // transaction is noticed instead of writing outside it).
            let sql = self.statement(1);
            for &row in chunk {
                let args = self.arguments(batch, &[row])?;
                exec(conn, "SAVEPOINT faucet_row").await?;
                match sqlx::query_with(sql.clone(), args).execute(&mut *conn).await {
                    Ok(_) => {
                        exec(conn, "RELEASE faucet_row").await?;
                        done += 1;
                    }
                    Err(e) => {
                        let Some(message) = row_level(&e) else {
                            return Err(db_error(e, "writing a row"));
                        };
                        exec(conn, "ROLLBACK TO faucet_row").await?;
                        exec(conn, "RELEASE faucet_row").await?;
                        failures.push(StoredFailure::sink(self.part, row, message));
                    }
                }
            }
        }
        Ok(done)
    }
}

/// Binds one JSON value: strings as TEXT, integers as INTEGER (beyond `i64` as
/// exact decimal TEXT), other numbers as REAL (the nearest double; as their
/// TEXT when beyond a double's range), booleans as 0/1, null or a missing key
/// as NULL, objects and arrays as compact JSON text.
fn add(args: &mut SqliteArguments, value: Option<&Value>) -> Result<()> {
    let added = match value {
        None | Some(Value::Null) => args.add(None::<i64>),
        Some(Value::Bool(b)) => args.add(i64::from(*b)),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => args.add(i),
            (None, Some(f)) if !number::is_integer(n) => args.add(f),
            _ => args.add(n.as_str()),
        },
        Some(Value::String(s)) => args.add(s.as_str()),
        Some(nested) => args.add(nested.to_string()),
    };
    added.map_err(|e| FaucetError::sink(format!("binding a value: {e}")))
}

/// Binds a field's JSON `value` (`None`: absent) by its `declared` type.
fn add_json(args: &mut SqliteArguments, declared: Option<FieldType>, value: Option<&Value>) -> Result<()> {
    match (declared, value) {
        (Some(ty), Some(value)) if !value.is_null() => add_declared(args, ty, value),
        (_, value) => add(args, value),
    }
}

/// Binds field `name` of `record` (its `value`) as [`add_json`] binds the
/// field's JSON: scalars directly, JSON, binary and nested values through their JSON.
fn add_field<R: RecordType>(
    args: &mut SqliteArguments,
    record: &R,
    value: FieldValue<'_>,
    name: &str,
    declared: Option<FieldType>,
) -> Result<()> {
    let by_json = matches!(
        declared,
        Some(FieldType::Json | FieldType::Object { .. } | FieldType::Array { .. } | FieldType::Binary)
    );
    let added = match value {
        FieldValue::Json(json) => return add_json(args, declared, Some(json)),
        FieldValue::Nested => return add_json(args, declared, field_json(record, value, name).as_deref()),
        _ if by_json => return add_json(args, declared, field_json(record, value, name).as_deref()),
        FieldValue::Absent | FieldValue::Null => args.add(None::<i64>),
        FieldValue::Bool(b) => args.add(i64::from(b)),
        FieldValue::Int(i) => args.add(i),
        // JSON holds a double that is not finite as null.
        FieldValue::Float(f) if f.is_finite() => args.add(f),
        FieldValue::Float(_) => args.add(None::<i64>),
        FieldValue::Text(text) => args.add(text),
    };
    added.map_err(|e| FaucetError::sink(format!("binding a value: {e}")))
}

/// Binds a non-null value of a declared field: JSON as its JSON text (a
/// string stays a JSON string), binary as the bytes of its base64 text;
/// other types as [`add`] binds them.
fn add_declared(args: &mut SqliteArguments, ty: FieldType, value: &Value) -> Result<()> {
    use base64::Engine as _;
    let added = match (ty, value) {
        (FieldType::Json | FieldType::Object { .. } | FieldType::Array { .. }, _) => {
            args.add(value.to_string())
        }
        (FieldType::Binary, Value::String(text)) => {
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => args.add(bytes),
                Err(_) => args.add(text.as_str()),
            }
        }
        _ => return add(args, Some(value)),
    };
    added.map_err(|e| FaucetError::sink(format!("binding a value: {e}")))
}

/// Runs a statement that binds nothing.
async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<()> {
    sqlx::query(sql).execute(conn).await.map(|_| ()).map_err(|e| db_error(e, sql))
}

/// The message of an error that concerns one row (a constraint, a datatype
/// mismatch, a value too big), or `None` for anything else.
fn row_level(error: &sqlx::Error) -> Option<String> {
    const TOOBIG: i32 = 18;
    const CONSTRAINT: i32 = 19;
    const MISMATCH: i32 = 20;
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    let code: i32 = db.code()?.parse().ok()?;
    matches!(code & 0xff, TOOBIG | CONSTRAINT | MISMATCH).then(|| db.message().to_owned())
}

fn db_error(error: sqlx::Error, doing: &str) -> FaucetError {
    match &error {
        sqlx::Error::Database(db) => FaucetError::sink(format!("sqlite: {doing}: {}", db.message())),
        _ => FaucetError::sink(format!("sqlite: {doing}: {error}")),
    }
}

fn missing_table(table: &str) -> FaucetError {
    FaucetError::sink(format!(
        "table {} does not exist; create it first, or set `create_table: true` to create it from the first batch",
        quote_ident(table)
    ))
}

/// `name` as a double-quoted SQL identifier.
/// SQLite's column names: no NUL; they compare ignoring ASCII case.
const COLUMN_NAMES: ColumnNames = ColumnNames {
    dialect: "SQLite",
    max_bytes: None,
    max_chars: None,
    refuses_empty: false,
    refuses_trailing_space: false,
    fold: str::to_ascii_lowercase,
};

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The column type `create_table` gives a JSON value.
fn column_type(value: &Value) -> &'static str {
    match value {
        Value::Number(n) if number::is_integer(n) => "INTEGER",
        Value::Number(_) => "REAL",
        Value::Bool(_) => "INTEGER",
        _ => "TEXT",
    }
}

/// The column type `create_table` gives a declared field: SQLite's storage
/// classes, with exact decimals of up to 15 digits as NUMERIC (SQLite keeps
/// 15 significant digits of a number; a wider decimal stays TEXT, digit for
/// digit), timestamps, dates, times and JSON as TEXT, binary as BLOB;
/// `NOT NULL` when every record has a value.
fn declared_type(field: &Field) -> String {
    let ty = match field.ty {
        FieldType::Integer => "INTEGER",
        FieldType::Number => "REAL",
        FieldType::Decimal { precision: Some(p), .. } if p <= 15 => "NUMERIC",
        FieldType::Boolean => "BOOLEAN",
        FieldType::Binary => "BLOB",
        _ => "TEXT",
    };
    if field.always_set() { format!("{ty} NOT NULL") } else { ty.to_owned() }
}

/// The table's columns in table order, or `None` when it does not exist.
async fn table_columns(conn: &mut SqliteConnection, table: &str) -> Result<Option<Vec<String>>> {
    let rows = sqlx::query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error(e, &format!("reading the columns of table {table}")))?;
    let columns = rows
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| db_error(e, &format!("reading the columns of table {table}")))?;
    Ok((!columns.is_empty()).then_some(columns))
}

/// Checks that the existing `table` can take `config`'s writes: it has the
/// json mapping's column, the key columns, and — for upserts — a PRIMARY KEY
/// or a (non-partial) UNIQUE index on exactly the key columns, which
/// `ON CONFLICT (key)` needs.
async fn check_key(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
    config: &SqliteSinkConfig,
) -> Result<()> {
    let quoted = quote_ident(table);
    if let ColumnMapping::Json { column } = &config.column_mapping
        && !columns.contains(column)
    {
        return Err(FaucetError::sink(format!(
            "table {quoted} has no column {} to hold the records (column_mapping json)",
            quote_ident(column)
        )));
    }
    if let Some(key) = config.write.key.iter().find(|k| !columns.contains(k)) {
        return Err(FaucetError::sink(format!("table {quoted} has no key column {}", quote_ident(key))));
    }
    if config.write.write_mode != WriteMode::Upsert {
        return Ok(());
    }
    // Column names as one pragma lists them, sorted (an expression's is NULL).
    let names = async |conn: &mut SqliteConnection, sql: &'static str, of: &str| {
        let rows = sqlx::query(sql)
            .bind(of)
            .fetch_all(conn)
            .await
            .map_err(|e| db_error(e, &format!("reading the indexes of table {table}")))?;
        let mut names: Vec<Option<String>> = rows.iter().map(|r| r.get(0)).collect();
        names.sort_unstable();
        Ok::<_, FaucetError>(names)
    };
    let mut wanted: Vec<Option<String>> = config.write.key.iter().cloned().map(Some).collect();
    wanted.sort_unstable();
    // The primary key (which an INTEGER PRIMARY KEY has without an index).
    if names(conn, "SELECT name FROM pragma_table_info(?) WHERE pk > 0", table).await? == wanted {
        return Ok(());
    }
    let unique = "SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1 AND partial = 0";
    for index in names(conn, unique, table).await?.into_iter().flatten() {
        if names(conn, "SELECT name FROM pragma_index_info(?)", &index).await? == wanted {
            return Ok(());
        }
    }
    let key: Vec<String> = config.write.key.iter().map(|k| quote_ident(k)).collect();
    Err(FaucetError::sink(format!(
        "table {quoted} has no PRIMARY KEY or UNIQUE index on exactly ({key}), which `write_mode: upsert` \
         needs for ON CONFLICT; create one (CREATE UNIQUE INDEX … ON {quoted} ({key})) or let the sink \
         create the table",
        key = key.join(", ")
    )))
}

impl Sink for SqliteSink {
    fn connector_name(&self) -> &'static str {
        "sqlite"
    }

    fn batch_size(&self) -> usize {
        self.config.write.batch_size
    }

    async fn open(&mut self, ctx: OpenContext<'_>) -> Result<()> {
        let options = SqliteConnectOptions::from_str(&self.config.database_url)
            .map_err(|e| FaucetError::sink(format!("sqlite: invalid database_url: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        // Like the file sinks, create the database's directory when missing.
        if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                FaucetError::sink(format!("sqlite: creating directory {}: {e}", dir.display()))
            })?;
        }
        let mut conn = options.connect().await.map_err(|e| db_error(e, "opening the database"))?;
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {} (scope TEXT PRIMARY KEY, seq INTEGER NOT NULL, \
             part INTEGER NOT NULL, failures TEXT NOT NULL)",
            quote_ident(TOKEN_TABLE)
        );
        sqlx::query(AssertSqlSafe(create))
            .execute(&mut conn)
            .await
            .map_err(|e| db_error(e, "creating the commit-token table"))?;

        let select = format!("SELECT seq, part, failures FROM {} WHERE scope = ?", quote_ident(TOKEN_TABLE));
        let row = sqlx::query(AssertSqlSafe(select))
            .bind(ctx.scope)
            .fetch_optional(&mut conn)
            .await
            .map_err(|e| db_error(e, "reading the commit token"))?;
        self.committed = match row {
            None => None,
            Some(row) => {
                let read = |e| db_error(e, "reading the commit token");
                let (seq, part, text): (i64, i64, String) = (
                    row.try_get(0).map_err(read)?,
                    row.try_get(1).map_err(read)?,
                    row.try_get(2).map_err(read)?,
                );
                Some(Committed::parse("sqlite", ctx.scope, seq, part, &text)?)
            }
        };

        let table = self.config.table_name.clone();
        self.columns = table_columns(&mut conn, &table).await?;
        match &self.columns {
            None if !self.config.write.create_table => return Err(missing_table(&table)),
            None => {}
            Some(columns) => check_key(&mut conn, &table, columns, &self.config).await?,
        }
        self.scope = ctx.scope.to_owned();
        self.conn = Some(conn);
        self.in_transaction = false;
        Ok(())
    }

    /// Returns `None`: each batch was committed by [`Writes::write_batch`](crate::Writes::write_batch).
    async fn flush(&mut self) -> Result<Option<Value>> {
        Ok(None)
    }

    async fn check_no_earlier_lineage(&mut self, state_key: &str) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(FaucetError::sink("the `sqlite` sink was checked before it was opened"));
        };
        let select = format!("SELECT scope FROM {}", quote_ident(TOKEN_TABLE));
        let scopes: Vec<String> = sqlx::query_scalar(AssertSqlSafe(select))
            .fetch_all(conn)
            .await
            .map_err(|e| db_error(e, "reading the commit tokens"))?;
        let tokens = quote_ident(TOKEN_TABLE);
        refuse_earlier_lineage(
            "sqlite",
            state_key,
            &tokens,
            &quote_ident(&self.config.table_name),
            None,
            scopes,
        )
    }
}

impl<R: RecordType> Writes<R> for SqliteSink {
    async fn write_batch(&mut self, batch: &[R], token: CommitToken) -> Result<WriteOutcome> {
        match (R::as_json_slice(batch), R::SCHEMA) {
            (Some(json), _) => self.write(&JsonRows(json), token).await,
            (None, Some(schema)) => self.write(&TypedRows::new(batch, schema), token).await,
            (None, None) => self.write(&JsonRows(&crate::record::json_batch(batch)), token).await,
        }
    }
}

impl SqliteSink {
    /// Writes `batch` in one transaction with `token`.
    async fn write<T: TableRows + Sync>(&mut self, batch: &T, token: CommitToken) -> Result<WriteOutcome> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(FaucetError::sink("the `sqlite` sink was written to before it was opened"));
        };
        if self.in_transaction {
            // A write was cancelled mid-transaction: undo what it left.
            let _ = exec(conn, "ROLLBACK").await;
            self.in_transaction = false;
        }
        if let Some(replayed) = self.committed.as_ref().and_then(|c| c.replay(token)) {
            return Ok(replayed);
        }
        exec(conn, "BEGIN IMMEDIATE").await?;
        self.in_transaction = true;
        let result = match self.transaction(batch, token).await {
            Ok(done) => {
                let conn = self.conn.as_mut().expect("opened");
                exec(conn, "COMMIT").await.map(|()| done)
            }
            Err(e) => Err(e),
        };
        let conn = self.conn.as_mut().expect("opened");
        match result {
            Ok(done) => {
                self.in_transaction = false;
                self.committed = Some(Committed { token, failures: done.failures });
                if done.created.is_some() {
                    self.columns = done.created;
                }
                Ok(done.outcome)
            }
            Err(error) => {
                let _ = exec(conn, "ROLLBACK").await;
                self.in_transaction = false;
                Err(error.context(format!("table {}", quote_ident(&self.config.table_name))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Map, json};
    use sqlx::Connection;

    use super::*;
    use crate::config::sql::{DeleteMarker, TableWrite};
    use crate::error::ErrorKind;

    const SCOPE: &str = "orders::row-0";

    fn url(dir: &Path) -> String {
        format!("sqlite://{}", dir.join("out.db").display())
    }

    fn config(dir: &Path, table: &str, mapping: ColumnMapping, create_table: bool) -> SqliteSinkConfig {
        SqliteSinkConfig {
            database_url: url(dir),
            table_name: table.to_owned(),
            column_mapping: mapping,
            write: TableWrite {
                create_table,
                unmapped_fields: if create_table { UnmappedFields::AddColumn } else { UnmappedFields::Dlq },
                batch_size: 1000,
                write_mode: WriteMode::Append,
                key: Vec::new(),
                delete_marker: None,
                columns: None,
            },
        }
    }

    async fn opened(config: SqliteSinkConfig, scope: &str) -> SqliteSink {
        let mut sink = SqliteSink::new(config);
        sink.open(OpenContext { scope, checkpoint: None }).await.unwrap();
        sink
    }

    async fn connect(dir: &Path) -> SqliteConnection {
        SqliteConnectOptions::from_str(&url(dir)).unwrap().create_if_missing(true).connect().await.unwrap()
    }

    async fn run(dir: &Path, sql: &'static str) {
        sqlx::raw_sql(sql).execute(&mut connect(dir).await).await.unwrap();
    }

    async fn count(dir: &Path, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {}", quote_ident(table));
        let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(&mut connect(dir).await).await.unwrap();
        row.get(0)
    }

    fn token(seq: u64, part: u32) -> CommitToken {
        CommitToken { seq, part }
    }

    #[tokio::test]
    async fn create_table_then_rows_keep_their_types() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = opened(config(dir.path(), "events", ColumnMapping::AutoMap, true), SCOPE).await;
        let batch = vec![
            json!({"id": 1, "name": "a", "score": null, "ok": true, "tags": ["x", 1], "meta": {"k": "v"}}),
            json!({"id": 2, "name": "b", "score": 2.5, "ok": false, "tags": [], "meta": null, "late": 7}),
        ];
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!(outcome.written, 2);
        assert!(outcome.failures.is_empty() && !outcome.already_committed);
        assert_eq!(sink.flush().await.unwrap(), None);

        let mut conn = connect(dir.path()).await;
        let declared: Vec<(String, String)> =
            sqlx::query("SELECT name, type FROM pragma_table_info('events') ORDER BY cid")
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
        let expected = [
            ("id", "INTEGER"),
            ("name", "TEXT"),
            ("score", "REAL"),
            ("ok", "INTEGER"),
            ("tags", "TEXT"),
            ("meta", "TEXT"),
            ("late", "INTEGER"),
        ];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect();
        assert_eq!(declared, expected);

        let rows = sqlx::query(
            "SELECT id, typeof(id), name, score, typeof(score), ok, tags, meta, late FROM events ORDER BY id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get::<i64, _>(0), 1);
        assert_eq!(rows[0].get::<String, _>(1), "integer");
        assert_eq!(rows[0].get::<String, _>(2), "a");
        assert_eq!(rows[0].get::<Option<f64>, _>(3), None);
        assert_eq!(rows[0].get::<i64, _>(5), 1);
        assert_eq!(rows[0].get::<String, _>(6), r#"["x",1]"#);
        assert_eq!(rows[0].get::<String, _>(7), r#"{"k":"v"}"#);
        assert_eq!(rows[0].get::<Option<i64>, _>(8), None);
        assert_eq!(rows[1].get::<f64, _>(3), 2.5);
        assert_eq!(rows[1].get::<String, _>(4), "real");
        assert_eq!(rows[1].get::<i64, _>(5), 0);
        assert_eq!(rows[1].get::<Option<String>, _>(7), None);
        assert_eq!(rows[1].get::<i64, _>(8), 7);
    }

    #[tokio::test]
    async fn unmapped_fields_drop_ignores_extra_keys_and_leaves_missing_ones_to_their_default() {
        let dir = tempfile::tempdir().unwrap();
        run(
            dir.path(),
            "CREATE TABLE people (id INTEGER, name TEXT DEFAULT 'anon', unused TEXT DEFAULT 'd')",
        )
        .await;
        let mut cfg = config(dir.path(), "people", ColumnMapping::AutoMap, false);
        cfg.write.unmapped_fields = UnmappedFields::Drop;
        let mut sink = opened(cfg, SCOPE).await;
        let batch = vec![
            json!({"name": "ann", "id": 1, "extra": "ignored"}),
            json!({"id": 2}),
            json!({"nothing": "matches"}),
            json!(42),
        ];
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!(outcome.written, 2);
        let failed: Vec<usize> = outcome.failures.iter().map(|f| f.index).collect();
        assert_eq!(failed, [2, 3]);
        assert!(
            outcome.failures[0]
                .error
                .message()
                .contains("record has no key matching a column of table people"),
            "{}",
            outcome.failures[0].error
        );
        let rows = sqlx::query("SELECT id, name, unused FROM people ORDER BY id")
            .fetch_all(&mut connect(dir.path()).await)
            .await
            .unwrap();
        let rows: Vec<(i64, Option<String>, String)> =
            rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        // A column a record does not carry is not in its INSERT: it keeps its default.
        assert_eq!(
            rows,
            [(1, Some("ann".to_owned()), "d".to_owned()), (2, Some("anon".to_owned()), "d".to_owned())]
        );
    }

    #[tokio::test]
    async fn json_mapping_stores_the_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let mapping = ColumnMapping::Json { column: "doc".to_owned() };
        let mut sink = opened(config(dir.path(), "docs", mapping, true), SCOPE).await;
        let batch = vec![json!({"b": 1, "a": {"x": [null, true]}}), json!({"s": "q\"uote"})];
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!(outcome.written, 2);
        let docs: Vec<String> = sqlx::query("SELECT doc FROM docs ORDER BY rowid")
            .fetch_all(&mut connect(dir.path()).await)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(docs, [r#"{"b":1,"a":{"x":[null,true]}}"#, r#"{"s":"q\"uote"}"#]);

        // An existing table without the json column is refused at open.
        let mapping = ColumnMapping::Json { column: "body".to_owned() };
        let mut sink = SqliteSink::new(config(dir.path(), "docs", mapping, true));
        let err = sink.open(OpenContext { scope: SCOPE, checkpoint: None }).await.unwrap_err();
        assert!(err.message().contains("no column \"body\""), "{err}");
    }

    fn hundred_rows_with_a_duplicate() -> Vec<Value> {
        (0..100).map(|i| json!({"id": if i == 42 { 7 } else { i }, "v": format!("row {i}")})).collect()
    }

    #[tokio::test]
    async fn a_unique_violation_fails_only_its_row() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), "CREATE TABLE t (id INTEGER UNIQUE, v TEXT)").await;
        let mut sink = opened(config(dir.path(), "t", ColumnMapping::AutoMap, false), SCOPE).await;
        let outcome = sink.write_batch(&hundred_rows_with_a_duplicate(), token(1, 0)).await.unwrap();
        assert_eq!(outcome.written, 99);
        assert_eq!(outcome.failures.len(), 1);
        assert_eq!(outcome.failures[0].index, 42);
        assert_eq!(outcome.failures[0].error.kind(), ErrorKind::Sink);
        assert!(outcome.failures[0].error.message().contains("UNIQUE constraint failed"));
        assert_eq!(count(dir.path(), "t").await, 99);
        let v: String = sqlx::query("SELECT v FROM t WHERE id = 7")
            .fetch_one(&mut connect(dir.path()).await)
            .await
            .unwrap()
            .get(0);
        assert_eq!(v, "row 7");
    }

    #[tokio::test]
    async fn wide_batches_split_into_statements_and_still_isolate_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        // 200 columns: 163 rows per statement, so 400 rows take three statements.
        let columns: Vec<String> = (0..200).map(|c| format!("c{c} INTEGER")).collect();
        let create = format!("CREATE TABLE wide (id INTEGER PRIMARY KEY, {})", columns.join(", "));
        sqlx::query(AssertSqlSafe(create)).execute(&mut connect(dir.path()).await).await.unwrap();
        let mut sink = opened(config(dir.path(), "wide", ColumnMapping::AutoMap, false), SCOPE).await;
        let batch: Vec<Value> = (0..400)
            .map(|i| {
                let mut row = Map::new();
                row.insert("id".into(), json!(if i == 300 { 5 } else { i }));
                for c in 0..199 {
                    row.insert(format!("c{c}"), json!(i * c));
                }
                Value::Object(row)
            })
            .collect();
        let outcome = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!(outcome.written, 399);
        assert_eq!(outcome.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [300]);
        assert_eq!(count(dir.path(), "wide").await, 399);
    }

    #[tokio::test]
    async fn a_batch_committed_before_a_crash_is_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), "CREATE TABLE t (id INTEGER UNIQUE, v TEXT)").await;
        let cfg = config(dir.path(), "t", ColumnMapping::AutoMap, false);
        let batch = hundred_rows_with_a_duplicate();

        let mut sink = opened(cfg.clone(), SCOPE).await;
        let first = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        drop(sink); // crash before the bookmark

        let mut sink = opened(cfg.clone(), SCOPE).await;
        let again = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert!(again.already_committed);
        assert_eq!(again.written, 0);
        assert_eq!(again.failures.len(), 1);
        assert_eq!(again.failures[0].index, first.failures[0].index);
        assert_eq!(again.failures[0].error, first.failures[0].error);
        assert_eq!(count(dir.path(), "t").await, 99);

        // The next part of the same page is written; its failures join the page's.
        let part1 = vec![json!({"id": 1000}), json!({"id": 1})];
        let outcome = sink.write_batch(&part1, token(1, 1)).await.unwrap();
        assert!(!outcome.already_committed);
        assert_eq!((outcome.written, outcome.failures[0].index), (1, 1));
        drop(sink);
        let mut sink = opened(cfg.clone(), SCOPE).await;
        let replayed = sink.write_batch(&batch, token(1, 0)).await.unwrap();
        assert_eq!(replayed.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [42]);
        let replayed = sink.write_batch(&part1, token(1, 1)).await.unwrap();
        assert!(replayed.already_committed);
        assert_eq!(replayed.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [1]);

        // A new page resets the stored failures.
        let outcome = sink.write_batch(&[json!({"id": 2000})], token(2, 0)).await.unwrap();
        assert_eq!(outcome.written, 1);
        let row = sqlx::query("SELECT seq, part, failures FROM _faucet_commit_token WHERE scope = ?")
            .bind(SCOPE)
            .fetch_one(&mut connect(dir.path()).await)
            .await
            .unwrap();
        assert_eq!(
            (row.get::<i64, _>(0), row.get::<i64, _>(1), row.get::<String, _>(2)),
            (2, 0, "[]".into())
        );

        // Another scope has its own token.
        let mut other = opened(cfg, "other::row-0").await;
        let outcome = other.write_batch(&[json!({"id": 3000})], token(1, 0)).await.unwrap();
        assert!(!outcome.already_committed);
        assert_eq!(outcome.written, 1);
        assert_eq!(count(dir.path(), "t").await, 102);
    }

    fn keyed(dir: &Path, table: &str, mode: WriteMode, key: &[&str], create_table: bool) -> SqliteSinkConfig {
        let mut cfg = config(dir, table, ColumnMapping::AutoMap, create_table);
        cfg.write.write_mode = mode;
        cfg.write.key = key.iter().map(|k| (*k).to_owned()).collect();
        cfg
    }

    async fn rows(dir: &Path, sql: &str) -> Vec<String> {
        let sql = format!("SELECT {sql}");
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut connect(dir).await)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect()
    }

    #[tokio::test]
    async fn upsert_converges_deletes_by_marker_and_dead_letters_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = keyed(dir.path(), "kv", WriteMode::Upsert, &["id", "region"], true);
        cfg.write.delete_marker =
            Some(DeleteMarker { field: "op".into(), values: vec![json!("d"), json!(true)] });
        let pages = [
            vec![
                json!({"id": 1, "region": "eu", "v": "one", "n": 1}),
                json!({"id": 2, "region": "eu", "v": "two", "n": 2}),
                json!({"id": 1, "region": "us", "v": "one-us", "n": 3}),
                json!({"id": 1, "region": "eu", "v": "one again"}),
                json!({"id": null, "region": "eu", "v": "null key"}),
                json!({"region": "eu", "v": "no id"}),
            ],
            vec![
                json!({"id": 2, "region": "eu", "op": "d"}),
                json!({"id": 3, "region": "eu", "v": "three", "op": "keep"}),
                json!({"id": 1, "region": "us", "op": true}),
                json!({"id": 9, "region": "eu", "op": "d"}),
            ],
        ];
        // Row 0 is superseded by row 3 (same key), which has no `n`: last wins.
        let expected = ["1|eu|one again|", "3|eu|three|"];
        let mut sink = opened(cfg.clone(), SCOPE).await;
        let first = sink.write_batch(&pages[0], token(1, 0)).await.unwrap();
        // Row 0 is superseded by row 3 (same key): it counts as written.
        assert_eq!(first.written, 4);
        assert_eq!(first.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [4, 5]);
        assert!(first.failures[0].error.message().contains("key field `id` is missing or null"));
        let second = sink.write_batch(&pages[1], token(2, 0)).await.unwrap();
        assert_eq!((second.written, second.failures.len()), (4, 0));
        let table = "id || '|' || region || '|' || v || '|' || coalesce(n, '') FROM kv ORDER BY id, region";
        assert_eq!(rows(dir.path(), table).await, expected);
        // The key became the primary key of the created table.
        let pk =
            "group_concat(name) FROM (SELECT name FROM pragma_table_info('kv') WHERE pk > 0 ORDER BY pk)";
        assert_eq!(rows(dir.path(), pk).await, ["id,region"]);

        // A rerun of the same pages in a new scope (nothing committed for it) changes nothing.
        let mut again = opened(cfg, "rerun").await;
        for (seq, page) in (1..).zip(&pages) {
            let outcome = again.write_batch(page, token(seq, 0)).await.unwrap();
            assert!(!outcome.already_committed);
        }
        assert_eq!(rows(dir.path(), table).await, expected);
        assert_eq!(count(dir.path(), "kv").await, 2);
    }

    #[tokio::test]
    async fn upsert_keeps_columns_a_record_does_not_carry() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), "CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b TEXT DEFAULT 'B')").await;
        let mut sink = opened(keyed(dir.path(), "t", WriteMode::Upsert, &["id"], false), SCOPE).await;
        sink.write_batch(
            &[json!({"id": "x", "a": "a1", "b": "b1"}), json!({"id": "y", "a": "a1"})],
            token(1, 0),
        )
        .await
        .unwrap();
        sink.write_batch(
            &[json!({"id": "x", "a": "a2"}), json!({"id": "y", "b": "b2"}), json!({"id": "z"})],
            token(2, 0),
        )
        .await
        .unwrap();
        // `z` carries only its key: DO NOTHING for an existing row, a plain insert otherwise.
        assert_eq!(
            rows(dir.path(), "id || coalesce(a, '-') || b FROM t ORDER BY id").await,
            ["xa2b1", "ya1b2", "z-B"]
        );
    }

    #[tokio::test]
    async fn upsert_needs_a_unique_index_on_exactly_the_key() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), "CREATE TABLE plain (id INTEGER, other INTEGER, v TEXT)").await;
        let cfg = keyed(dir.path(), "plain", WriteMode::Upsert, &["id"], false);
        let err = SqliteSink::new(cfg.clone())
            .open(OpenContext { scope: SCOPE, checkpoint: None })
            .await
            .unwrap_err();
        assert!(err.message().contains("no PRIMARY KEY or UNIQUE index on exactly (\"id\")"), "{err}");
        assert!(err.message().contains("CREATE UNIQUE INDEX"), "{err}");

        // An index on more columns, or a partial one, does not serve ON CONFLICT (id).
        run(dir.path(), "CREATE UNIQUE INDEX wide ON plain (id, other)").await;
        run(dir.path(), "CREATE UNIQUE INDEX part ON plain (id) WHERE id > 0").await;
        assert!(
            SqliteSink::new(cfg.clone()).open(OpenContext { scope: SCOPE, checkpoint: None }).await.is_err()
        );
        // Deleting needs no index.
        let delete = keyed(dir.path(), "plain", WriteMode::Delete, &["id"], false);
        opened(delete, SCOPE).await;
        // A key column the table does not have is refused.
        let missing = keyed(dir.path(), "plain", WriteMode::Delete, &["nope"], false);
        let err =
            SqliteSink::new(missing).open(OpenContext { scope: SCOPE, checkpoint: None }).await.unwrap_err();
        assert!(err.message().contains("no key column \"nope\""), "{err}");

        run(dir.path(), "CREATE UNIQUE INDEX by_id ON plain (id)").await;
        let mut sink = opened(cfg, SCOPE).await;
        sink.write_batch(&[json!({"id": 1, "v": "a"}), json!({"id": 1, "v": "b"})], token(1, 0))
            .await
            .unwrap();
        sink.write_batch(&[json!({"id": 1, "v": "c"})], token(2, 0)).await.unwrap();
        assert_eq!(rows(dir.path(), "v FROM plain").await, ["c"]);

        // An INTEGER PRIMARY KEY (the rowid, without an index of its own) serves too.
        run(dir.path(), "CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT)").await;
        let mut sink = opened(keyed(dir.path(), "r", WriteMode::Upsert, &["id"], false), "r::row-0").await;
        sink.write_batch(&[json!({"id": 5, "v": "a"})], token(1, 0)).await.unwrap();
        sink.write_batch(&[json!({"id": 5, "v": "b"})], token(2, 0)).await.unwrap();
        assert_eq!(rows(dir.path(), "id || v FROM r").await, ["5b"]);
    }

    #[tokio::test]
    async fn delete_mode_removes_every_records_key_and_isolates_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        run(
            dir.path(),
            "CREATE TABLE d (a INTEGER, b TEXT NOT NULL, v TEXT); \
                         INSERT INTO d VALUES (1, 'x', 'k'), (1, 'y', 'k'), (2, 'x', 'k'), (3, 'x', 'k')",
        )
        .await;
        let mut sink = opened(keyed(dir.path(), "d", WriteMode::Delete, &["a", "b"], false), SCOPE).await;
        let outcome = sink
            .write_batch(
                &[json!({"a": 1, "b": "x"}), json!({"a": 2}), json!({"a": 3, "b": "x", "v": "ignored"})],
                token(1, 0),
            )
            .await
            .unwrap();
        assert_eq!(
            (outcome.written, outcome.failures.iter().map(|f| f.index).collect::<Vec<_>>()),
            (2, vec![1])
        );
        assert_eq!(rows(dir.path(), "a || b FROM d ORDER BY a, b").await, ["1y", "2x"]);
    }

    #[tokio::test]
    async fn a_table_name_with_a_double_quote_works() {
        let dir = tempfile::tempdir().unwrap();
        let table = "odd \"name\"; DROP TABLE x";
        let mut sink = opened(config(dir.path(), table, ColumnMapping::AutoMap, true), SCOPE).await;
        let outcome = sink.write_batch(&[json!({"we\"ird": 1, "b": "x"})], token(1, 0)).await.unwrap();
        assert_eq!(outcome.written, 1);
        drop(sink);
        // Reopening finds the existing table (and its quoted column).
        let mut sink = opened(config(dir.path(), table, ColumnMapping::AutoMap, false), SCOPE).await;
        let outcome = sink.write_batch(&[json!({"we\"ird": 2})], token(2, 0)).await.unwrap();
        assert_eq!(outcome.written, 1);
        assert_eq!(count(dir.path(), table).await, 2);
        let sum: i64 = sqlx::query(r#"SELECT sum("we""ird") FROM "odd ""name""; DROP TABLE x""#)
            .fetch_one(&mut connect(dir.path()).await)
            .await
            .unwrap()
            .get(0);
        assert_eq!(sum, 3);
    }

    /// A key that first appears in the second batch: with `create_table` its
    /// column is added and its values land; by default the row is dead-lettered
    /// naming the key; with `unmapped_fields: drop` the key is dropped.
    #[tokio::test]
    async fn a_key_first_seen_in_the_second_batch_is_added_dead_lettered_or_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = [json!({"id": 1, "v": "a"})];
        let second = [json!({"id": 2, "v": "b", "late": 2.5}), json!({"id": 3, "v": "c"})];
        // create_table: the column is added (REAL, as create_table types it).
        let mut sink = opened(config(dir.path(), "late_add", ColumnMapping::AutoMap, true), SCOPE).await;
        sink.write_batch(&first, token(1, 0)).await.unwrap();
        let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
        assert_eq!((outcome.written, outcome.failures.len()), (2, 0));
        let rows = sqlx::query("SELECT id, late FROM late_add ORDER BY id")
            .fetch_all(&mut connect(dir.path()).await)
            .await
            .unwrap();
        let rows: Vec<(i64, Option<f64>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(rows, [(1, None), (2, Some(2.5)), (3, None)]);
        // Rerunning the batch after it committed writes nothing again.
        drop(sink);
        let mut sink = opened(config(dir.path(), "late_add", ColumnMapping::AutoMap, true), SCOPE).await;
        assert!(sink.write_batch(&second, token(2, 0)).await.unwrap().already_committed);
        assert_eq!(count(dir.path(), "late_add").await, 3);

        // The default without create_table: the row goes to the DLQ naming the key.
        run(dir.path(), "CREATE TABLE late_dlq (id INTEGER, v TEXT)").await;
        let mut sink = opened(config(dir.path(), "late_dlq", ColumnMapping::AutoMap, false), "dlq").await;
        sink.write_batch(&first, token(1, 0)).await.unwrap();
        let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
        assert_eq!(outcome.written, 1);
        assert_eq!(outcome.failures.len(), 1);
        assert_eq!(outcome.failures[0].index, 0);
        let message = outcome.failures[0].error.message();
        assert!(message.contains("record key \"late\" names no column of table late_dlq"), "{message}");
        assert_eq!(count(dir.path(), "late_dlq").await, 2);

        // unmapped_fields: drop writes the row without the key.
        let mut cfg = config(dir.path(), "late_drop", ColumnMapping::AutoMap, true);
        cfg.write.unmapped_fields = UnmappedFields::Drop;
        let mut sink = opened(cfg, "drop").await;
        sink.write_batch(&first, token(1, 0)).await.unwrap();
        let outcome = sink.write_batch(&second, token(2, 0)).await.unwrap();
        assert_eq!((outcome.written, outcome.failures.len()), (2, 0));
        assert_eq!(count(dir.path(), "late_drop").await, 3);
        let columns = table_columns(&mut connect(dir.path()).await, "late_drop").await.unwrap();
        assert_eq!(columns.unwrap(), ["id", "v"]);
    }

    #[tokio::test]
    async fn an_in_memory_database_works() {
        let mut sink = opened(
            SqliteSinkConfig {
                database_url: "sqlite::memory:".to_owned(),
                table_name: "t".to_owned(),
                column_mapping: ColumnMapping::AutoMap,
                write: TableWrite {
                    create_table: true,
                    unmapped_fields: UnmappedFields::AddColumn,
                    batch_size: 10,
                    write_mode: WriteMode::Append,
                    key: Vec::new(),
                    delete_marker: None,
                    columns: None,
                },
            },
            SCOPE,
        )
        .await;
        let outcome = sink.write_batch(&[json!({"a": 1}), json!({"a": 2})], token(1, 0)).await.unwrap();
        assert_eq!(outcome.written, 2);
        let conn = sink.conn.as_mut().unwrap();
        let sum: i64 = sqlx::query("SELECT sum(a) FROM t").fetch_one(conn).await.unwrap().get(0);
        assert_eq!(sum, 3);
    }

    /// Keys that cannot be columns (a NUL, `Name` beside `name`: SQLite
    /// ignores ASCII case) fail their row, not the run.
    #[tokio::test]
    async fn create_table_dead_letters_rows_whose_keys_cannot_be_columns() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = opened(config(dir.path(), "made", ColumnMapping::AutoMap, true), SCOPE).await;
        let long = "k".repeat(70);
        let batch = vec![
            json!({"id": 1, "name": "a"}),
            json!({"id": 2, "a\u{0}b": 1}),
            json!({"id": 3, "Name": "c"}),
            json!({"id": 4, long.as_str(): 1}),
        ];
        let outcome = sink.write_batch(&batch, CommitToken { seq: 1, part: 0 }).await.unwrap();
        let failures: Vec<(usize, String)> =
            outcome.failures.iter().map(|f| (f.index, f.error.message().to_owned())).collect();
        assert_eq!(
            failures,
            [
                (1, "key \"a\\0b\" cannot name a column of made: it contains a NUL character".to_owned()),
                (2, "keys \"name\" and \"Name\" would name the same column of made (SQLite compares column names ignoring case)".to_owned()),
            ]
        );
        assert_eq!(outcome.written, 2);
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as("SELECT id, name FROM made ORDER BY id")
            .fetch_all(&mut connect(dir.path()).await)
            .await
            .unwrap();
        assert_eq!(rows, [(1, Some("a".to_owned())), (4, None)]);
    }

    #[tokio::test]
    async fn a_missing_table_without_create_table_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = SqliteSink::new(config(dir.path(), "nowhere", ColumnMapping::AutoMap, false));
        let err = sink.open(OpenContext { scope: SCOPE, checkpoint: None }).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Sink);
        assert!(err.message().contains("table \"nowhere\" does not exist"), "{err}");
        assert!(err.message().contains("create_table: true"), "{err}");
    }

    #[tokio::test]
    async fn a_connection_level_error_fails_the_batch_and_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), "CREATE TABLE t (id INTEGER)").await;
        let mut sink = opened(config(dir.path(), "t", ColumnMapping::AutoMap, false), SCOPE).await;
        // Another connection holds the write lock: BEGIN IMMEDIATE cannot start.
        let mut other = SqliteConnection::connect_with(
            &SqliteConnectOptions::from_str(&url(dir.path()))
                .unwrap()
                .busy_timeout(std::time::Duration::from_millis(10)),
        )
        .await
        .unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
        sink.conn = Some(
            SqliteConnectOptions::from_str(&url(dir.path()))
                .unwrap()
                .busy_timeout(std::time::Duration::from_millis(50))
                .connect()
                .await
                .unwrap(),
        );
        let err = sink.write_batch(&[json!({"id": 1})], token(1, 0)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Sink);
        assert!(err.message().contains("locked"), "{err}");
        sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();

        // Once the lock is gone the same batch goes through: nothing was recorded as committed.
        let outcome = sink.write_batch(&[json!({"id": 1})], token(1, 0)).await.unwrap();
        assert!(!outcome.already_committed);
        assert_eq!(count(dir.path(), "t").await, 1);
    }
}

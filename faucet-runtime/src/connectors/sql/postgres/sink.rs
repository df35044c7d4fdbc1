//! The `postgres` sink: append, upsert or delete by key, one transaction per batch.
//!
//! Exactly-once: each batch's transaction also upserts the batch's
//! [`CommitToken`] into `_faucet_commit_token` (in the target's schema), keyed
//! by the run's scope and the target table; after a crash a batch whose token is not newer than
//! the stored one is skipped and reported as already committed, with the rows
//! it rejected back then.
//!
//! Appends go through `COPY … FROM STDIN` (text format) by default. When a
//! COPY fails on a row-level error (SQLSTATE class 22, data exception, or 23,
//! integrity constraint), it is rolled back to a savepoint and the batch is
//! written with multi-row `INSERT`s instead; a failing `INSERT` is retried
//! row by row under savepoints, so only the bad rows are dead-lettered. Any
//! other error (connection lost, table gone) fails the whole batch.
//!
//! Values are bound as text and cast to each column's type (`$1::bigint`), so
//! PostgreSQL parses them exactly as COPY does; json/jsonb columns get the
//! value's JSON text. Identifiers are always quoted.

use serde_json::Value;
use sqlx::postgres::{PgArguments, PgConnection};
use sqlx::{Arguments, AssertSqlSafe, Row, SqlSafeStr, SqlStr};

use super::binary_copy::{self, BinaryType};
use super::{close, connect, describe, qualified, quote_ident, sqlstate};
use crate::config::sql::{ColumnMapping, PostgresSinkConfig, UnmappedFields, WriteMethod, WriteMode};
use crate::connectors::sql::sink::{
    ColumnNames, Committed, FieldsInOrder, Keying, NewColumns, StoredFailure, TOKEN_TABLE, added_type,
    check_identifier, create_columns, infer_columns, new_columns, outcome, page_failures,
    refuse_earlier_lineage, unnameable_rows,
};
use crate::connectors::sql::typed::{self, FieldIndex, field_json, scalar_json};
use crate::error::{FaucetError, Result};
use crate::number;
use crate::page::{CommitToken, Record};
use crate::record::{FieldValue, RecordType, json_batch};
use crate::schema::{Field, FieldType};
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};

/// PostgreSQL's limit on bound parameters per statement.
const MAX_PARAMS: usize = 65535;

/// The bytes of COPY data sent at a time.
const COPY_CHUNK: usize = 128 * 1024;

/// One column of the target table.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    /// Its type without modifier (`character varying`), for the `$n::type` cast.
    ty: String,
    /// How a record's value becomes this column's input text.
    kind: ColumnKind,
    /// Its type's form in binary COPY, when typed records can be written in it.
    binary: Option<BinaryType>,
}

/// Column types whose input text is not simply the JSON value's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    /// Everything else: strings as they are, numbers and booleans as JSON prints them.
    Plain,
    /// json or jsonb: the value as JSON text.
    Json,
    /// bytea: a base64 string (how faucet's sources carry binary values) as `\x` hex.
    Bytea,
    /// An array type: a JSON array as an array literal (`{1,2}`, `{"a b",NULL}`).
    Array,
}

impl ColumnKind {
    /// The kind of a column of type `typname` in type category `category`.
    fn of(typname: &str, category: &str) -> ColumnKind {
        match (typname, category) {
            ("json" | "jsonb", _) => ColumnKind::Json,
            ("bytea", _) => ColumnKind::Bytea,
            (_, "A") => ColumnKind::Array,
            _ => ColumnKind::Plain,
        }
    }
}

/// Writes records into a PostgreSQL table, one transaction per batch.
#[derive(Debug)]
pub struct PostgresSink {
    config: PostgresSinkConfig,
    conn: Option<PgConnection>,
    scope: String,
    /// The target's columns in table order, or `None` while it does not exist.
    columns: Option<Vec<Column>>,
    committed: Option<Committed>,
    in_transaction: bool,
    /// The COPY data being sent, kept from batch to batch.
    copy_buffer: Vec<u8>,
}

/// Where a statement's value for one column comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The record's field named as the column.
    Field(FieldIndex),
    /// The whole record (jsonb mapping).
    Whole,
}

/// One column a statement fills.
#[derive(Debug, Clone)]
struct Target {
    column: String,
    ty: String,
    kind: ColumnKind,
    binary: Option<BinaryType>,
    source: Source,
}

impl Target {
    /// Calls `encode` with this column's value in `record`.
    #[inline]
    fn with_value<R: RecordType, T>(&self, record: &R, encode: impl FnOnce(FieldValue<'_>) -> T) -> T {
        match self.source {
            Source::Whole => encode(FieldValue::Json(&record.to_json())),
            Source::Field(field) => match field.get(record, &self.column) {
                FieldValue::Nested => {
                    encode(FieldValue::Json(&field_json(record, &self.column, FieldValue::Nested)))
                }
                value => encode(value),
            },
        }
    }

    /// Appends `value` in COPY's text format (`\\N` for NULL). Strings,
    /// numbers and booleans are written straight from the record, as their
    /// JSON would be (see [`Target::copy_json`]).
    fn copy_text(&self, value: FieldValue<'_>, out: &mut Vec<u8>) {
        let plain_or_json = matches!(self.kind, ColumnKind::Plain | ColumnKind::Json);
        match value {
            FieldValue::Absent | FieldValue::Null => out.extend_from_slice(b"\\N"),
            FieldValue::Json(value) => self.copy_json(value, out),
            FieldValue::Text(text) if matches!(self.kind, ColumnKind::Plain | ColumnKind::Array) => {
                copy_escape(text.as_bytes(), out)
            }
            FieldValue::Bool(b) if plain_or_json => out.extend_from_slice(if b { b"true" } else { b"false" }),
            // Digits and JSON's shortest round-trip text of a double: nothing to escape.
            FieldValue::Int(i) if plain_or_json => write_json(&i, out),
            FieldValue::Float(f) if plain_or_json && f.is_finite() => write_json(&f, out),
            other => self.copy_json(&scalar_json(other), out),
        }
    }

    /// Appends a JSON value in COPY's text format.
    fn copy_json(&self, value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Null => out.extend_from_slice(b"\\N"),
            Value::String(s) if self.kind == ColumnKind::Plain => copy_escape(s.as_bytes(), out),
            Value::Bool(b) if self.kind == ColumnKind::Plain => {
                out.extend_from_slice(if *b { b"true" } else { b"false" })
            }
            Value::Number(_) | Value::Object(_) | Value::Array(_)
                if self.kind == ColumnKind::Plain || self.kind == ColumnKind::Json =>
            {
                let start = out.len();
                write_json(value, out);
                // Compact JSON holds no tab or line break; its backslashes are doubled.
                if out[start..].contains(&b'\\') {
                    let json = out.split_off(start);
                    copy_escape(&json, out);
                }
            }
            value => match self.value_text(value) {
                Some(text) => copy_escape(text.as_bytes(), out),
                None => out.extend_from_slice(b"\\N"),
            },
        }
    }

    /// The value's text for the server, or `None` for NULL.
    fn text<R: RecordType>(&self, record: &R) -> Option<String> {
        match self.source {
            Source::Whole => Some(record.to_json().to_string()),
            Source::Field(_) => self.with_value(record, |value| match value {
                FieldValue::Json(value) => self.value_text(value),
                FieldValue::Text(text) if matches!(self.kind, ColumnKind::Plain | ColumnKind::Array) => {
                    Some(text.to_owned())
                }
                value => self.value_text(&scalar_json(value)),
            }),
        }
    }

    /// The text of a column's value for the server, or `None` for NULL.
    fn value_text(&self, value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            _ if self.kind == ColumnKind::Json => Some(value.to_string()),
            Value::String(s) if self.kind == ColumnKind::Bytea => Some(bytea_text(s)),
            Value::Array(items) if self.kind == ColumnKind::Array => {
                let mut text = String::new();
                array_literal(items, &mut text);
                Some(text)
            }
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            nested => Some(nested.to_string()),
        }
    }
}

/// Appends `value`'s JSON text.
fn write_json(value: &impl serde::Serialize, out: &mut Vec<u8>) {
    // Writing to memory does not fail.
    let _ = serde_json::to_writer(out, value);
}

/// What one statement does to its rows.
enum Kind {
    /// `INSERT`, with the conflict clause of an upsert.
    Insert { conflict: String },
    /// `DELETE … USING (VALUES …)`, matching every target column.
    Delete,
}

/// A statement over a set of rows, built for any row count.
struct Statement {
    table: String,
    targets: Vec<Target>,
    kind: Kind,
    per_statement: usize,
    part: u32,
}

impl Statement {
    fn sql(&self, rows: usize) -> SqlStr {
        let n = self.targets.len();
        let mut values = String::with_capacity(rows * n * 16);
        let mut p = 1;
        for r in 0..rows {
            values.push_str(if r == 0 { "(" } else { ",(" });
            for (i, t) in self.targets.iter().enumerate() {
                if i > 0 {
                    values.push(',');
                }
                values.push_str(&format!("${p}::{}", t.ty));
                p += 1;
            }
            values.push(')');
        }
        let sql = match &self.kind {
            Kind::Insert { conflict } => {
                let list: Vec<String> = self.targets.iter().map(|t| quote_ident(&t.column)).collect();
                format!("INSERT INTO {} ({}) VALUES {values}{conflict}", self.table, list.join(", "))
            }
            Kind::Delete => {
                let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
                let matches: Vec<String> = self
                    .targets
                    .iter()
                    .enumerate()
                    .map(|(i, t)| format!("_faucet_d.{} = _faucet_v.c{i}", quote_ident(&t.column)))
                    .collect();
                format!(
                    "DELETE FROM {} AS _faucet_d USING (VALUES {values}) AS _faucet_v({}) WHERE {}",
                    self.table,
                    names.join(", "),
                    matches.join(" AND ")
                )
            }
        };
        AssertSqlSafe(sql).into_sql_str()
    }

    fn arguments<R: RecordType>(&self, batch: &[R], rows: &[usize]) -> Result<PgArguments> {
        let mut args = PgArguments::default();
        args.reserve(rows.len() * self.targets.len(), 0);
        for &row in rows {
            for t in &self.targets {
                args.add(t.text(&batch[row]))
                    .map_err(|e| FaucetError::sink(format!("binding a value: {e}")))?;
            }
        }
        Ok(args)
    }

    /// Runs the statement over `rows`, isolating row-level failures; returns the rows done.
    async fn run<R: RecordType>(
        &self,
        conn: &mut PgConnection,
        batch: &[R],
        rows: &[usize],
        failures: &mut Vec<StoredFailure>,
    ) -> Result<u64> {
        let mut done = 0;
        for chunk in rows.chunks(self.per_statement) {
            exec(conn, "SAVEPOINT faucet_chunk").await?;
            let args = self.arguments(batch, chunk)?;
            match sqlx::query_with(self.sql(chunk.len()), args).persistent(false).execute(&mut *conn).await {
                Ok(_) => {
                    exec(conn, "RELEASE faucet_chunk").await?;
                    done += chunk.len() as u64;
                    continue;
                }
                Err(e) if row_level(&e) => exec(conn, "ROLLBACK TO faucet_chunk").await?,
                Err(e) => return Err(FaucetError::sink(describe(&e, "writing rows"))),
            }
            done += self.one_by_one(conn, batch, chunk, failures).await?;
        }
        Ok(done)
    }

    /// Each row under its own savepoint, so a failing row undoes only itself.
    async fn one_by_one<R: RecordType>(
        &self,
        conn: &mut PgConnection,
        batch: &[R],
        rows: &[usize],
        failures: &mut Vec<StoredFailure>,
    ) -> Result<u64> {
        let sql = self.sql(1);
        let mut done = 0;
        for &row in rows {
            exec(conn, "SAVEPOINT faucet_row").await?;
            let args = self.arguments(batch, &[row])?;
            match sqlx::query_with(sql.clone(), args).execute(&mut *conn).await {
                Ok(_) => {
                    exec(conn, "RELEASE faucet_row").await?;
                    done += 1;
                }
                Err(e) if row_level(&e) => {
                    exec(conn, "ROLLBACK TO faucet_row").await?;
                    failures.push(StoredFailure::sink(self.part, row, describe(&e, "writing a row")));
                }
                Err(e) => return Err(FaucetError::sink(describe(&e, "writing a row"))),
            }
        }
        Ok(done)
    }

    /// Appends `rows` through one COPY; `Ok(false)` when it failed on a
    /// row-level error, or a value had no binary form, and was rolled back
    /// (the caller then inserts instead). `first`: the COPY is the
    /// transaction's first statement, so it needs no savepoint (a round trip
    /// less): after a failure the transaction is begun again, as empty as a
    /// savepoint would have left it.
    ///
    /// Rows go in chunks of [`COPY_CHUNK`] bytes, `buffer` holding one: the
    /// server parses the first while the next is encoded. Typed records go
    /// in COPY's binary format where their schema allows
    /// ([`Statement::binary`]), otherwise (and JSON records) in its text format.
    async fn copy<R: RecordType>(
        &self,
        conn: &mut PgConnection,
        batch: &[R],
        rows: &[usize],
        buffer: &mut Vec<u8>,
        first: bool,
    ) -> Result<bool> {
        let binary = self.binary::<R>();
        let list: Vec<String> = self.targets.iter().map(|t| quote_ident(&t.column)).collect();
        let format = if binary { " (FORMAT binary)" } else { "" };
        let sql = format!("COPY {} ({}) FROM STDIN{format}", self.table, list.join(", "));
        if !first {
            exec(conn, "SAVEPOINT faucet_copy").await?;
        }
        let undo = if first { "ROLLBACK; BEGIN" } else { "ROLLBACK TO faucet_copy" };
        let json = R::as_json_slice(batch);
        let result = async {
            let mut copy = conn.copy_in_raw(&sql).await?;
            buffer.clear();
            if binary {
                buffer.extend_from_slice(binary_copy::HEADER);
            }
            for &row in rows {
                let encoded = match json {
                    Some(records) => {
                        self.text_row_of_json(&records[row], buffer);
                        true
                    }
                    None if binary => self.binary_row(&batch[row], buffer),
                    None => {
                        self.text_row(&batch[row], buffer);
                        true
                    }
                };
                if !encoded {
                    copy.abort("a value has no binary form; the rows are inserted instead").await?;
                    return Ok(false);
                }
                if buffer.len() >= COPY_CHUNK {
                    copy.send(buffer.as_slice()).await?;
                    buffer.clear();
                }
            }
            if binary {
                buffer.extend_from_slice(binary_copy::TRAILER);
            }
            copy.send(buffer.as_slice()).await?;
            copy.finish().await.map(|_| true)
        }
        .await;
        match result {
            // The savepoint is left in place (a round trip less): the commit
            // releases it, and a later `ROLLBACK TO` names the latest of its name.
            Ok(true) => Ok(true),
            Ok(false) => {
                exec(conn, undo).await?;
                tracing::debug!(table = %self.table, "a value has no binary form; inserting the batch row by row");
                Ok(false)
            }
            Err(e) if row_level(&e) => {
                exec(conn, undo).await?;
                tracing::debug!(table = %self.table, error = %describe(&e, "COPY"), "COPY failed; inserting the batch row by row");
                Ok(false)
            }
            Err(e) => Err(FaucetError::sink(describe(&e, "COPY"))),
        }
    }

    /// Whether a batch of `R` goes in COPY's binary format: typed records,
    /// whose every column's type has a binary form that takes its field's type.
    fn binary<R: RecordType>(&self) -> bool {
        R::SCHEMA.is_some()
            && self.targets.iter().all(|t| match (t.binary, t.source) {
                (Some(binary), Source::Field(field)) => {
                    field.schema_field::<R>().is_some_and(|f| binary.takes(&f.ty))
                }
                _ => false,
            })
    }

    /// Appends a JSON record as a line of COPY's text format.
    fn text_row_of_json(&self, record: &Value, out: &mut Vec<u8>) {
        let mut fields = FieldsInOrder::new(record);
        for (i, t) in self.targets.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            let value = match t.source {
                Source::Field(_) => fields.get(&t.column),
                Source::Whole => Some(record),
            };
            t.copy_text(value.map_or(FieldValue::Absent, FieldValue::Json), out);
        }
        out.push(b'\n');
    }

    /// Appends a typed record as a line of COPY's text format: its fields in
    /// column order, each found by its index.
    fn text_row<R: RecordType>(&self, record: &R, out: &mut Vec<u8>) {
        for (i, t) in self.targets.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            t.with_value(record, |value| t.copy_text(value, out));
        }
        out.push(b'\n');
    }

    /// Appends a typed record as a tuple of COPY's binary format; false when
    /// a value has no binary form (see [`binary_copy`]).
    fn binary_row<R: RecordType>(&self, record: &R, out: &mut Vec<u8>) -> bool {
        let count = i16::try_from(self.targets.len()).unwrap_or(i16::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        self.targets.iter().all(|t| match t.binary {
            Some(binary) => t.with_value(record, |value| binary.write(value, out)),
            None => false,
        })
    }
}

/// A bytea column's input for a base64 string: `\x` and hex. A string that is
/// not base64 is passed as it is, for PostgreSQL to read (`\x0102` already is bytea input).
fn bytea_text(text: &str) -> String {
    use base64::Engine as _;
    match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(bytes) => {
            let mut hex = String::with_capacity(2 + bytes.len() * 2);
            hex.push_str("\\x");
            for b in bytes {
                hex.push_str(&format!("{b:02x}"));
            }
            hex
        }
        Err(_) => text.to_owned(),
    }
}

/// Appends a JSON array as a PostgreSQL array literal: nested arrays as nested
/// braces, `null` as `NULL`, strings (and objects, as JSON text) double-quoted.
fn array_literal(items: &[Value], out: &mut String) {
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            Value::Null => out.push_str("NULL"),
            Value::Array(inner) => array_literal(inner, out),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::String(s) => quoted_element(s, out),
            object => quoted_element(&object.to_string(), out),
        }
    }
    out.push('}');
}

/// One double-quoted array element, with `"` and `\` escaped.
fn quoted_element(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Escapes one value for COPY's text format: runs without a special byte
/// are copied whole.
fn copy_escape(bytes: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// True for an error that concerns the rows (data exception, integrity constraint).
fn row_level(error: &sqlx::Error) -> bool {
    sqlstate(error).is_some_and(|c| c.starts_with("22") || c.starts_with("23"))
}

/// Runs a statement that binds nothing.
async fn exec(conn: &mut PgConnection, sql: &'static str) -> Result<()> {
    sqlx::raw_sql(sql).execute(conn).await.map(|_| ()).map_err(|e| FaucetError::sink(describe(&e, sql)))
}

/// What a batch's transaction did, applied to the sink once it commits.
struct Done {
    outcome: WriteOutcome,
    failures: Vec<StoredFailure>,
    /// The table's columns when the batch created or altered it.
    created: Option<Vec<Column>>,
}

impl PostgresSink {
    /// A sink for `config`; the connection is opened by [`Sink::open`].
    pub fn new(config: PostgresSinkConfig) -> Self {
        PostgresSink {
            config,
            conn: None,
            scope: String::new(),
            columns: None,
            committed: None,
            in_transaction: false,
            copy_buffer: Vec::new(),
        }
    }

    fn table(&self) -> String {
        qualified(self.config.schema.as_deref(), &self.config.table_name)
    }

    fn token_table(&self) -> String {
        qualified(self.config.schema.as_deref(), TOKEN_TABLE)
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
        conn: &mut PgConnection,
        table: &str,
        batch: &[Record],
        columns: &[Column],
        part: u32,
        failures: &mut Vec<StoredFailure>,
    ) -> Result<Option<Vec<Column>>> {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let NewColumns { added, refused: bad } =
            new_columns(&self.keying(), batch, &names, COLUMN_NAMES, column_type, "TEXT", table);
        failures.extend(bad.into_iter().map(|(index, message)| StoredFailure::sink(part, index, message)));
        if added.is_empty() {
            return Ok(None);
        }
        let declared = self.config.write.columns;
        let list: Vec<String> = added
            .iter()
            .map(|(n, ty)| {
                let ty = added_type(declared, n, ty, declared_type);
                format!("ADD COLUMN IF NOT EXISTS {} {ty}", quote_ident(n))
            })
            .collect();
        run(conn, format!("ALTER TABLE {table} {}", list.join(", ")), "adding columns").await?;
        table_columns(conn, table).await
    }

    /// Creates the table from `batch`'s shape, leaving out the rows listed in
    /// `unnameable` (keys that cannot name its columns).
    async fn create(
        &self,
        conn: &mut PgConnection,
        batch: &[Record],
        unnameable: &[(usize, String)],
    ) -> Result<Option<Vec<Column>>> {
        let rows = batch.iter().enumerate().filter(|(i, _)| !unnameable.iter().any(|(u, _)| u == i));
        let mut definition = match &self.config.column_mapping {
            ColumnMapping::AutoMap => {
                let inferred = infer_columns(rows.map(|(_, r)| r), column_type, "TEXT");
                create_columns(self.config.write.columns, inferred, COLUMN_NAMES, declared_type)
            }
            ColumnMapping::Json { column } => vec![(column.clone(), "JSONB".to_owned())],
        };
        for key in &self.config.write.key {
            if !definition.iter().any(|(name, _)| name == key) {
                definition.push((key.clone(), "TEXT".to_owned()));
            }
        }
        if definition.is_empty() {
            return Ok(None);
        }
        let mut list: Vec<String> =
            definition.iter().map(|(n, ty)| format!("{} {ty}", quote_ident(n))).collect();
        if !self.config.write.key.is_empty() {
            let key: Vec<String> = self.config.write.key.iter().map(|k| quote_ident(k)).collect();
            list.push(format!("PRIMARY KEY ({})", key.join(", ")));
        }
        if let Some(schema) = &self.config.schema {
            let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
            run(conn, sql, "creating the schema").await?;
        }
        let sql = format!("CREATE TABLE IF NOT EXISTS {} ({})", self.table(), list.join(", "));
        run(conn, sql, "creating the table").await?;
        table_columns(conn, &self.table()).await
    }

    /// Everything of a batch between `BEGIN` and `COMMIT`.
    async fn transaction<R: RecordType>(&mut self, batch: &[R], token: CommitToken) -> Result<Done> {
        let table = self.table();
        let mut conn = self.conn.take().expect("checked by write_batch");
        let mut buffer = std::mem::take(&mut self.copy_buffer);
        let result = self.transaction_on(&mut conn, &mut buffer, &table, batch, token).await;
        self.conn = Some(conn);
        self.copy_buffer = buffer;
        result
    }

    async fn transaction_on<R: RecordType>(
        &self,
        conn: &mut PgConnection,
        buffer: &mut Vec<u8>,
        table: &str,
        batch: &[R],
        token: CommitToken,
    ) -> Result<Done> {
        let mut failures: Vec<StoredFailure> = Vec::new();
        let mut created = None;
        let columns = match &self.columns {
            Some(columns) => Some(columns.clone()),
            None if !self.config.write.create_table => return Err(missing_table(table)),
            None => {
                // The first batch only: the table is made from the records' JSON.
                let batch = &*json_batch(batch);
                let unnameable = match self.config.column_mapping {
                    ColumnMapping::AutoMap => unnameable_rows(batch, COLUMN_NAMES, table),
                    ColumnMapping::Json { .. } => Vec::new(),
                };
                created = self.create(conn, batch, &unnameable).await?;
                for (index, message) in unnameable {
                    failures.push(StoredFailure::sink(token.part, index, message));
                }
                created.clone()
            }
        };
        let Some(columns) = columns else {
            let failed: Vec<usize> = failures.iter().map(|f| f.index).collect();
            for index in (0..batch.len()).filter(|i| !failed.contains(i)) {
                let message = format!("record has no key to create a column of table {table} from");
                failures.push(StoredFailure::sink(token.part, index, message));
            }
            return self.finish(conn, token, failures, 0, created).await;
        };
        let auto_map = self.config.column_mapping == ColumnMapping::AutoMap;
        // A table just created from this batch has a column for each of its keys.
        let mut columns = columns;
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let marker = self.config.write.delete_marker.as_ref().map(|m| m.field.as_str());
        if auto_map
            && created.is_none()
            && self.config.write.unmapped_fields == UnmappedFields::AddColumn
            && typed::may_hold_unmapped::<R>(&names, marker)
        {
            let batch = &*json_batch(batch);
            let altered = self.add_columns(conn, table, batch, &columns, token.part, &mut failures).await?;
            if let Some(altered) = altered {
                columns = altered.clone();
                created = Some(altered);
            }
        }

        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let plan = typed::plan(
            &self.keying(),
            batch,
            auto_map.then_some(&names[..]),
            table,
            token.part,
            &mut failures,
        );
        let mut written = plan.superseded;
        if !plan.deletes.is_empty() {
            let targets: Vec<Target> = self
                .config
                .write
                .key
                .iter()
                .map(|k| target(&columns, k, Source::Field(FieldIndex::of::<R>(k))))
                .collect::<Result<_>>()?;
            let statement = self.statement(table, targets, Kind::Delete, token.part);
            written += statement.run(conn, batch, &plan.deletes, &mut failures).await?;
        }
        // Rows are written in groups of the same shape (the columns they carry),
        // so a column a record does not mention keeps its default on insert and
        // its value on update, instead of becoming NULL.
        let groups: Vec<(Vec<Target>, Vec<usize>)> = match &self.config.column_mapping {
            ColumnMapping::Json { column } if !plan.writes.is_empty() => {
                vec![(vec![target(&columns, column, Source::Whole)?], plan.writes)]
            }
            ColumnMapping::Json { .. } => Vec::new(),
            ColumnMapping::AutoMap => typed::shapes(batch, plan.writes, &names)
                .into_iter()
                .map(|(shape, rows)| {
                    let targets = shape
                        .iter()
                        .map(|&c| Target {
                            column: columns[c].name.clone(),
                            ty: columns[c].ty.clone(),
                            kind: columns[c].kind,
                            binary: columns[c].binary,
                            source: Source::Field(FieldIndex::of::<R>(&columns[c].name)),
                        })
                        .collect();
                    (targets, rows)
                })
                .collect(),
        };
        // Nothing was written in the transaction yet (no table made or
        // altered, no row deleted): its first COPY needs no savepoint.
        let mut untouched = created.is_none() && plan.deletes.is_empty();
        for (targets, writes) in groups {
            let conflict = match self.config.write.write_mode {
                WriteMode::Append => String::new(),
                _ => {
                    let key: Vec<String> = self.config.write.key.iter().map(|k| quote_ident(k)).collect();
                    let set: Vec<String> = targets
                        .iter()
                        .filter(|t| !self.config.write.key.contains(&t.column))
                        .map(|t| format!("{0} = EXCLUDED.{0}", quote_ident(&t.column)))
                        .collect();
                    if set.is_empty() {
                        format!(" ON CONFLICT ({}) DO NOTHING", key.join(", "))
                    } else {
                        format!(" ON CONFLICT ({}) DO UPDATE SET {}", key.join(", "), set.join(", "))
                    }
                }
            };
            let statement = self.statement(table, targets, Kind::Insert { conflict }, token.part);
            let copied = self.config.write_method == WriteMethod::Copy
                && self.config.write.write_mode == WriteMode::Append
                && statement.copy(conn, batch, &writes, buffer, untouched).await?;
            untouched = false;
            if copied {
                written += writes.len() as u64;
            } else {
                written += statement.run(conn, batch, &writes, &mut failures).await?;
            }
        }
        self.finish(conn, token, failures, written, created).await
    }

    fn statement(&self, table: &str, targets: Vec<Target>, kind: Kind, part: u32) -> Statement {
        // A `batch_size` of 0 (no batching) leaves only the parameter limit.
        let batch = match self.config.write.batch_size {
            0 => usize::MAX,
            n => n,
        };
        let per_statement = (MAX_PARAMS / targets.len().max(1)).clamp(1, batch);
        Statement { table: table.to_owned(), targets, kind, per_statement, part }
    }

    /// Records the token (with the page's failures so far) and builds the outcome.
    async fn finish(
        &self,
        conn: &mut PgConnection,
        token: CommitToken,
        mut failures: Vec<StoredFailure>,
        written: u64,
        created: Option<Vec<Column>>,
    ) -> Result<Done> {
        let (stored, stored_json) = page_failures(self.committed.as_ref(), token, &mut failures);
        let seq = i64::try_from(token.seq).map_err(|_| FaucetError::sink("page number out of range"))?;
        let sql = format!(
            "INSERT INTO {} (scope, target, seq, part, failures, updated_at) \
             VALUES ($1, $5, $2, $3, $4::jsonb, now()) ON CONFLICT (scope, target) DO UPDATE SET seq = EXCLUDED.seq, part = EXCLUDED.part, \
             failures = EXCLUDED.failures, updated_at = EXCLUDED.updated_at",
            self.token_table()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(self.scope.as_str())
            .bind(seq)
            .bind(i32::try_from(token.part).unwrap_or(i32::MAX))
            .bind(stored_json)
            .bind(self.table())
            .execute(&mut *conn)
            .await
            .map_err(|e| FaucetError::sink(describe(&e, "recording the commit token")))?;
        Ok(Done { outcome: outcome(written, &failures), failures: stored, created })
    }
}

/// The statement target for `column`, which must exist.
fn target(columns: &[Column], column: &str, source: Source) -> Result<Target> {
    let c = columns
        .iter()
        .find(|c| c.name == column)
        .ok_or_else(|| FaucetError::sink(format!("the table has no column {}", quote_ident(column))))?;
    Ok(Target { column: c.name.clone(), ty: c.ty.clone(), kind: c.kind, binary: c.binary, source })
}

async fn run(conn: &mut PgConnection, sql: String, doing: &str) -> Result<()> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|e| FaucetError::sink(describe(&e, doing)))
}

fn missing_table(table: &str) -> FaucetError {
    FaucetError::sink(format!(
        "table {table} does not exist; create it first, or set `create_table: true` to create it from the first batch"
    ))
}

/// The columns of `table` (qualified and quoted) in table order, or `None` when it does not exist.
async fn table_columns(conn: &mut PgConnection, table: &str) -> Result<Option<Vec<Column>>> {
    let rows = sqlx::query(
        "SELECT a.attname::text, format_type(a.atttypid, NULL), t.typname::text, t.typcategory::text \
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' \
         ORDER BY a.attnum",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| FaucetError::sink(describe(&e, &format!("reading the columns of {table}"))))?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let read =
            |i| row.try_get::<String, _>(i).map_err(|e| FaucetError::sink(describe(&e, "reading columns")));
        let (name, ty, typname, category) = (read(0)?, read(1)?, read(2)?, read(3)?);
        let (kind, binary) = (ColumnKind::of(&typname, &category), BinaryType::of(&typname));
        columns.push(Column { name, ty, kind, binary });
    }
    Ok((!columns.is_empty()).then_some(columns))
}

/// PostgreSQL's column names: at most 63 bytes (longer ones are truncated,
/// silently), no NUL, not empty; quoted, they compare exactly.
const COLUMN_NAMES: ColumnNames = ColumnNames {
    dialect: "PostgreSQL",
    max_bytes: Some(63),
    max_chars: None,
    refuses_empty: true,
    refuses_trailing_space: false,
    fold: str::to_owned,
};

/// The column type `create_table` gives a JSON value.
fn column_type(value: &Value) -> &'static str {
    match value {
        Value::Number(n) if n.is_i64() => "BIGINT",
        Value::Number(n) if number::is_integer(n) => "NUMERIC",
        Value::Number(_) => "DOUBLE PRECISION",
        Value::Bool(_) => "BOOLEAN",
        Value::Array(_) | Value::Object(_) => "JSONB",
        _ => "TEXT",
    }
}

/// The column type `create_table` gives a declared field: numeric keeps its
/// precision and scale, timestamps and JSON keep their kind; `NOT NULL`
/// when every record has a value.
fn declared_type(field: &Field) -> String {
    let ty = match field.ty {
        FieldType::String | FieldType::Other { .. } => "TEXT".to_owned(),
        FieldType::Integer => "BIGINT".to_owned(),
        FieldType::Number => "DOUBLE PRECISION".to_owned(),
        // PostgreSQL takes 1 to 1000 digits; beyond, an unconstrained numeric keeps every digit.
        FieldType::Decimal { precision: Some(p), scale } if (1..=1000).contains(&p) => {
            format!("NUMERIC({p}, {})", scale.unwrap_or(0))
        }
        FieldType::Decimal { .. } => "NUMERIC".to_owned(),
        FieldType::Boolean => "BOOLEAN".to_owned(),
        FieldType::Date => "DATE".to_owned(),
        FieldType::Time => "TIME".to_owned(),
        FieldType::Timestamp { time_zone: true } => "TIMESTAMPTZ".to_owned(),
        FieldType::Timestamp { time_zone: false } => "TIMESTAMP".to_owned(),
        FieldType::Json | FieldType::Object { .. } | FieldType::Array { .. } => "JSONB".to_owned(),
        FieldType::Binary => "BYTEA".to_owned(),
    };
    if field.always_set() { format!("{ty} NOT NULL") } else { ty }
}

impl Sink for PostgresSink {
    fn connector_name(&self) -> &'static str {
        "postgres"
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
        if let Some(conn) = self.conn.take() {
            close(conn).await;
        }
        let mut conn = connect(&self.config.connection_url, FaucetError::sink).await?;
        if let (Some(schema), true) = (&self.config.schema, self.config.write.create_table) {
            let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
            run(&mut conn, sql, "creating the schema").await?;
        }
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {} (scope TEXT NOT NULL, target TEXT NOT NULL, seq BIGINT NOT NULL, \
             part INTEGER NOT NULL, failures JSONB NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), \
             PRIMARY KEY (scope, target))",
            self.token_table()
        );
        if let Err(e) = run(&mut conn, create.clone(), "creating the commit-token table").await {
            // Sinks opening at once (matrix rows into one schema) race on the catalog's
            // unique indexes (the table's, or its row type's: 42710): the loser's
            // retry finds the table there.
            if !["(SQLSTATE 23505)", "(SQLSTATE 42P07)", "(SQLSTATE 42710)"]
                .iter()
                .any(|code| e.message().contains(code))
            {
                return Err(e);
            }
            run(&mut conn, create, "creating the commit-token table").await?;
        }
        let select = format!(
            "SELECT seq, part, failures::text FROM {} WHERE scope = $1 AND target = $2",
            self.token_table()
        );
        let row = sqlx::query(AssertSqlSafe(select))
            .bind(ctx.scope)
            .bind(self.table())
            .fetch_optional(&mut conn)
            .await
            .map_err(|e| FaucetError::sink(describe(&e, "reading the commit token")))?;
        self.committed = match row {
            None => None,
            Some(row) => {
                let read = |_| {
                    FaucetError::sink(format!(
                        "postgres: the commit token of scope `{}` is unreadable",
                        ctx.scope
                    ))
                };
                let seq: i64 = row.try_get(0).map_err(read)?;
                let part: i32 = row.try_get(1).map_err(read)?;
                let text: String = row.try_get(2).map_err(read)?;
                Some(Committed::parse("postgres", ctx.scope, seq, i64::from(part), &text)?)
            }
        };
        let table = self.table();
        self.columns = table_columns(&mut conn, &table).await?;
        if let Some(columns) = &self.columns {
            let has = |name: &str| columns.iter().any(|c| c.name == name);
            if let ColumnMapping::Json { column } = &self.config.column_mapping
                && !has(column)
            {
                return Err(FaucetError::sink(format!(
                    "table {table} has no column {} to hold the records (column_mapping jsonb)",
                    quote_ident(column)
                )));
            }
            if let Some(key) = self.config.write.key.iter().find(|k| !has(k)) {
                return Err(FaucetError::sink(format!(
                    "table {table} has no key column {}",
                    quote_ident(key)
                )));
            }
        } else if !self.config.write.create_table {
            return Err(missing_table(&table));
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
        let (table, tokens) = (self.table(), self.token_table());
        let Some(conn) = self.conn.as_mut() else {
            return Err(FaucetError::sink("the `postgres` sink was checked before it was opened"));
        };
        let select = format!("SELECT scope FROM {tokens} WHERE target = $1");
        let scopes: Vec<String> = sqlx::query_scalar(AssertSqlSafe(select))
            .bind(table.as_str())
            .fetch_all(conn)
            .await
            .map_err(|e| FaucetError::sink(describe(&e, "reading the commit tokens")))?;
        refuse_earlier_lineage("postgres", state_key, &tokens, &table, Some(&table), scopes)
    }
}

impl<R: RecordType> Writes<R> for PostgresSink {
    async fn write_batch(&mut self, batch: &[R], token: CommitToken) -> Result<WriteOutcome> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(FaucetError::sink("the `postgres` sink was written to before it was opened"));
        };
        if self.in_transaction {
            // A write was cancelled mid-transaction: undo what it left.
            let _ = exec(conn, "ROLLBACK").await;
            self.in_transaction = false;
        }
        if let Some(replayed) = self.committed.as_ref().and_then(|c| c.replay(token)) {
            return Ok(replayed);
        }
        exec(conn, "BEGIN").await?;
        self.in_transaction = true;
        let result = match self.transaction(batch, token).await {
            Ok(done) => exec(self.conn.as_mut().expect("opened"), "COMMIT").await.map(|()| done),
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
                Err(error.context(format!("table {}", self.table())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::postgres::typed_tests::generated::Row;

    fn statement(columns: &[(&str, &str)]) -> Statement {
        let targets = columns
            .iter()
            .map(|&(name, typname)| Target {
                column: name.to_owned(),
                ty: typname.to_owned(),
                kind: ColumnKind::of(typname, ""),
                binary: BinaryType::of(typname),
                source: Source::Field(FieldIndex::of::<Row>(name)),
            })
            .collect();
        let kind = Kind::Insert { conflict: String::new() };
        Statement { table: "t".to_owned(), targets, kind, per_statement: 1, part: 0 }
    }

    #[test]
    fn typed_batches_go_binary_where_every_column_takes_its_field() {
        let all =
            [("id", "int8"), ("small", "int2"), ("label", "varchar"), ("doc", "jsonb"), ("tags", "json")];
        assert!(statement(&all).binary::<Row>());
        assert!(!statement(&all).binary::<Value>(), "JSON records go as text");
        assert!(!statement(&[("id", "int8"), ("num", "numeric")]).binary::<Row>(), "no binary numeric");
        assert!(!statement(&[("label", "int8")]).binary::<Row>(), "a string for the server to parse");
        assert!(!statement(&[("id", "int8"), ("other", "int8")]).binary::<Row>(), "a column of no field");
    }
}

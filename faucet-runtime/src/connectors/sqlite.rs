//! The `sqlite` sink through sqlx (bundled SQLite).
//!
//! Exactly-once: every batch is committed in one transaction that also upserts
//! the batch's [`CommitToken`] into `_faucet_commit_token`, keyed by the run's
//! scope. After a crash, the resumed run replays the pages after its last
//! bookmark; a batch whose token is not newer than the stored one is skipped
//! and reported as already committed, with the rows it rejected back then
//! (kept in the token row's `failures` for the token's page).
//!
//! Writes use multi-row `INSERT`s (kept under SQLite's 32766 bound parameters)
//! inside the batch's transaction. When one fails on a row-level error (a
//! constraint, a datatype mismatch, a value too big), the statement is rolled
//! back to a savepoint and its rows are retried one at a time, so a bad row is
//! reported on its own and the others are still written. Any other error
//! (database locked, I/O, schema changed) fails the whole batch.
//!
//! Identifiers are always double-quoted; values are always bound.

use serde_json::Value;

use std::collections::HashMap;
use std::str::FromStr;

use serde_json::{Map, json};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use sqlx::{Arguments, AssertSqlSafe, ConnectOptions, Row, SqlSafeStr, SqlStr};

use crate::error::{ErrorKind, FaucetError, Result};
use crate::page::{CommitToken, Record};
use crate::sink::{OpenContext, RowFailure, Sink, WriteOutcome};

/// How records map onto the table's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnMapping {
    /// Insert the record's keys that match the table's columns.
    AutoMap,
    /// Store the whole record as JSON text in one column.
    Json {
        /// The column that holds the record.
        column: String,
    },
}

/// Settings of the `sqlite` sink, validated at build time.
#[derive(Debug, Clone)]
pub struct SqliteSinkConfig {
    /// `sqlite://path/to.db` (created if missing) or `sqlite::memory:`.
    pub database_url: String,
    /// The target table.
    pub table_name: String,
    /// How records map onto columns.
    pub column_mapping: ColumnMapping,
    /// Create the table from the first batch's shape when it does not exist (default false).
    pub create_table: bool,
    /// Rows per transaction (default 1000).
    pub batch_size: usize,
}

/// The table that holds each scope's last committed token.
const TOKEN_TABLE: &str = "_faucet_commit_token";

/// SQLite's default limit on bound parameters per statement.
const MAX_PARAMS: usize = 32766;

/// Inserts records into a SQLite table, one transaction per batch.
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

#[derive(Debug)]
struct Committed {
    token: CommitToken,
    failures: Vec<StoredFailure>,
}

/// A row failure as kept in the token row, to repeat it after a crash.
#[derive(Debug, Clone)]
struct StoredFailure {
    part: u32,
    index: usize,
    kind: String,
    message: String,
}

impl StoredFailure {
    fn to_json(&self) -> Value {
        json!({ "part": self.part, "index": self.index, "kind": self.kind, "message": self.message })
    }

    fn from_json(value: &Value) -> Option<StoredFailure> {
        Some(StoredFailure {
            part: u32::try_from(value.get("part")?.as_u64()?).ok()?,
            index: usize::try_from(value.get("index")?.as_u64()?).ok()?,
            kind: value.get("kind")?.as_str()?.to_owned(),
            message: value.get("message")?.as_str()?.to_owned(),
        })
    }

    fn to_row_failure(&self) -> RowFailure {
        RowFailure {
            index: self.index,
            error: FaucetError::new(ErrorKind::from_name(&self.kind), &self.message),
        }
    }
}

/// What a batch's transaction did, applied to the sink once it commits.
struct Done {
    outcome: WriteOutcome,
    failures: Vec<StoredFailure>,
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

    fn table(&self) -> &str {
        &self.config.table_name
    }

    /// The outcome of a batch committed before: its failures from back then.
    fn replay(&self, committed: &Committed, token: CommitToken) -> WriteOutcome {
        let failures = if committed.token.seq == token.seq {
            committed
                .failures
                .iter()
                .filter(|f| f.part == token.part)
                .map(StoredFailure::to_row_failure)
                .collect()
        } else {
            tracing::warn!(
                table = %self.config.table_name,
                seq = token.seq,
                committed_seq = committed.token.seq,
                "batch committed on an earlier page than the last committed one; its rejected rows are not known any more"
            );
            Vec::new()
        };
        WriteOutcome { written: 0, failures, already_committed: true }
    }

    /// Everything of a batch between `BEGIN` and `COMMIT`.
    async fn transaction(&mut self, batch: &[Record], token: CommitToken) -> Result<Done> {
        let table = self.config.table_name.clone();
        let conn = self.conn.as_mut().expect("checked by write_batch");
        let mut created = None;
        let mut failures: Vec<StoredFailure> = Vec::new();
        let fail = |failures: &mut Vec<StoredFailure>, index: usize, message: String| {
            failures.push(StoredFailure { part: token.part, index, kind: "Sink".to_owned(), message });
        };

        let columns = match &self.columns {
            Some(columns) => Some(columns.clone()),
            None if !self.config.create_table => return Err(missing_table(&table)),
            None => {
                let definition = match &self.config.column_mapping {
                    ColumnMapping::AutoMap => infer_columns(batch),
                    ColumnMapping::Json { column } => vec![(column.clone(), "TEXT")],
                };
                if definition.is_empty() {
                    None
                } else {
                    let list: Vec<String> =
                        definition.iter().map(|(name, ty)| format!("{} {ty}", quote_ident(name))).collect();
                    let sql =
                        format!("CREATE TABLE IF NOT EXISTS {} ({})", quote_ident(&table), list.join(", "));
                    sqlx::query(AssertSqlSafe(sql))
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| db_error(e, &format!("creating table {table}")))?;
                    let columns = table_columns(conn, &table).await?;
                    created.clone_from(&columns);
                    columns
                }
            }
        };

        let mut written = 0;
        match columns {
            None => {
                for index in 0..batch.len() {
                    fail(
                        &mut failures,
                        index,
                        format!("record has no key to create a column of table {table} from"),
                    );
                }
            }
            Some(columns) => {
                // Which columns the batch fills, and which rows can be inserted at all.
                let mut rows = Vec::with_capacity(batch.len());
                let insert: Vec<String> = match &self.config.column_mapping {
                    ColumnMapping::Json { column } => {
                        rows.extend(0..batch.len());
                        vec![column.clone()]
                    }
                    ColumnMapping::AutoMap => {
                        let mut used = vec![false; columns.len()];
                        for (index, record) in batch.iter().enumerate() {
                            let mut matched = false;
                            if let Some(object) = record.as_object() {
                                for (i, column) in columns.iter().enumerate() {
                                    if object.contains_key(column) {
                                        used[i] = true;
                                        matched = true;
                                    }
                                }
                            }
                            if matched {
                                rows.push(index);
                            } else {
                                fail(
                                    &mut failures,
                                    index,
                                    format!("record has no key matching a column of table {table}"),
                                );
                            }
                        }
                        columns.iter().zip(used).filter(|(_, used)| *used).map(|(c, _)| c.clone()).collect()
                    }
                };
                if !rows.is_empty() {
                    let mapping = &self.config.column_mapping;
                    let mut inserter = Inserter::new(&table, &insert, mapping, token.part);
                    written = inserter.insert(conn, batch, &rows, &mut failures).await?;
                }
            }
        }

        // The token row: this batch's failures join those of earlier parts of the same page.
        let mut stored: Vec<StoredFailure> = match &self.committed {
            Some(c) if c.token.seq == token.seq => c.failures.clone(),
            _ => Vec::new(),
        };
        failures.sort_by_key(|f| f.index);
        stored.extend(failures.iter().cloned());
        let stored_json = Value::Array(stored.iter().map(StoredFailure::to_json).collect()).to_string();
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

        let outcome = WriteOutcome {
            written,
            failures: failures.iter().map(StoredFailure::to_row_failure).collect(),
            already_committed: false,
        };
        Ok(Done { outcome, failures: stored, created })
    }
}

/// Builds and runs the multi-row `INSERT`s of one batch.
struct Inserter<'a> {
    head: String,
    placeholders: String,
    columns: &'a [String],
    json: bool,
    /// Rows per multi-row statement.
    per_statement: usize,
    /// The full-size statement, built once.
    full: Option<SqlStr>,
    /// The one-row statement, for retries.
    single: SqlStr,
    /// The batch's part, for the failures it records.
    part: u32,
}

impl<'a> Inserter<'a> {
    fn new(table: &str, columns: &'a [String], mapping: &ColumnMapping, part: u32) -> Self {
        let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        let head = format!("INSERT INTO {} ({}) VALUES ", quote_ident(table), list.join(", "));
        let placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
        let mut inserter = Inserter {
            head,
            placeholders,
            columns,
            json: matches!(mapping, ColumnMapping::Json { .. }),
            per_statement: (MAX_PARAMS / columns.len().max(1)).max(1),
            full: None,
            single: AssertSqlSafe(String::new()).into_sql_str(),
            part,
        };
        inserter.single = inserter.sql(1);
        inserter
    }

    fn sql(&self, rows: usize) -> SqlStr {
        let mut sql = String::with_capacity(self.head.len() + rows * (self.placeholders.len() + 1));
        sql.push_str(&self.head);
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&self.placeholders);
        }
        AssertSqlSafe(sql).into_sql_str()
    }

    fn statement(&mut self, rows: usize) -> SqlStr {
        if rows == 1 {
            return self.single.clone();
        }
        if rows == self.per_statement {
            if self.full.is_none() {
                self.full = Some(self.sql(rows));
            }
            return self.full.clone().expect("just built");
        }
        self.sql(rows)
    }

    fn arguments(&self, batch: &[Record], rows: &[usize]) -> Result<SqliteArguments> {
        let mut args = SqliteArguments::default();
        args.reserve(rows.len() * self.columns.len(), 0);
        for &row in rows {
            let record = &batch[row];
            if self.json {
                add(&mut args, Some(&Value::String(record.to_string())))?;
            } else {
                for column in self.columns {
                    add(&mut args, record.get(column.as_str()))?;
                }
            }
        }
        Ok(args)
    }

    /// Inserts `rows` of `batch`, recording row-level failures; returns the rows written.
    async fn insert(
        &mut self,
        conn: &mut SqliteConnection,
        batch: &[Record],
        rows: &[usize],
        failures: &mut Vec<StoredFailure>,
    ) -> Result<u64> {
        let mut written = 0;
        for chunk in rows.chunks(self.per_statement) {
            let sql = self.statement(chunk.len());
            let args = self.arguments(batch, chunk)?;
            exec(conn, "SAVEPOINT faucet_chunk").await?;
            match sqlx::query_with(sql, args).execute(&mut *conn).await {
                Ok(_) => {
                    exec(conn, "RELEASE faucet_chunk").await?;
                    written += chunk.len() as u64;
                    continue;
                }
                Err(e) if row_level(&e).is_some() => {
                    exec(conn, "ROLLBACK TO faucet_chunk").await?;
                    exec(conn, "RELEASE faucet_chunk").await?;
                }
                Err(e) => return Err(db_error(e, "inserting rows")),
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
                        written += 1;
                    }
                    Err(e) => {
                        let Some(message) = row_level(&e) else {
                            return Err(db_error(e, "inserting a row"));
                        };
                        exec(conn, "ROLLBACK TO faucet_row").await?;
                        exec(conn, "RELEASE faucet_row").await?;
                        failures.push(StoredFailure {
                            part: self.part,
                            index: row,
                            kind: "Sink".to_owned(),
                            message,
                        });
                    }
                }
            }
        }
        Ok(written)
    }
}

/// Binds one JSON value: strings as TEXT, integers as INTEGER (beyond `i64` as
/// exact decimal TEXT), floats as REAL, booleans as 0/1, null or a missing key
/// as NULL, objects and arrays as compact JSON text.
fn add(args: &mut SqliteArguments, value: Option<&Value>) -> Result<()> {
    let added = match value {
        None | Some(Value::Null) => args.add(None::<i64>),
        Some(Value::Bool(b)) => args.add(i64::from(*b)),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => args.add(i),
            (None, Some(u)) => args.add(u.to_string()),
            (None, None) => args.add(n.as_f64().unwrap_or(f64::NAN)),
        },
        Some(Value::String(s)) => args.add(s.as_str()),
        Some(nested) => args.add(nested.to_string()),
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
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
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

/// One column per key of `batch` (first-seen order), typed by its first non-null value.
fn infer_columns(batch: &[Record]) -> Vec<(String, &'static str)> {
    let mut columns: Vec<(String, Option<&'static str>)> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for (key, value) in batch.iter().filter_map(Value::as_object).flat_map(Map::iter) {
        let i = *position.entry(key.as_str()).or_insert_with(|| {
            columns.push((key.clone(), None));
            columns.len() - 1
        });
        if columns[i].1.is_none() {
            columns[i].1 = match value {
                Value::Null => None,
                Value::Number(n) if n.is_i64() || n.is_u64() => Some("INTEGER"),
                Value::Number(_) => Some("REAL"),
                Value::Bool(_) => Some("INTEGER"),
                Value::String(_) | Value::Array(_) | Value::Object(_) => Some("TEXT"),
            };
        }
    }
    columns.into_iter().map(|(name, ty)| (name, ty.unwrap_or("TEXT"))).collect()
}

impl Sink for SqliteSink {
    fn connector_name(&self) -> &'static str {
        "sqlite"
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    async fn open(&mut self, ctx: OpenContext<'_>) -> Result<()> {
        let options = SqliteConnectOptions::from_str(&self.config.database_url)
            .map_err(|e| FaucetError::sink(format!("sqlite: invalid database_url: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
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
                let corrupt = |what: &str| {
                    FaucetError::sink(format!(
                        "sqlite: the commit token of scope `{}` in {TOKEN_TABLE} is corrupt ({what})",
                        ctx.scope
                    ))
                };
                let seq: i64 = row.try_get(0).map_err(|e| db_error(e, "reading the commit token"))?;
                let part: i64 = row.try_get(1).map_err(|e| db_error(e, "reading the commit token"))?;
                let text: String = row.try_get(2).map_err(|e| db_error(e, "reading the commit token"))?;
                let token = CommitToken {
                    seq: u64::try_from(seq).map_err(|_| corrupt("seq"))?,
                    part: u32::try_from(part).map_err(|_| corrupt("part"))?,
                };
                let parsed: Value = serde_json::from_str(&text).map_err(|_| corrupt("failures"))?;
                let failures = parsed
                    .as_array()
                    .and_then(|a| a.iter().map(StoredFailure::from_json).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| corrupt("failures"))?;
                Some(Committed { token, failures })
            }
        };

        let table = self.table().to_owned();
        self.columns = table_columns(&mut conn, &table).await?;
        match (&self.columns, &self.config.column_mapping) {
            (None, _) if !self.config.create_table => return Err(missing_table(&table)),
            (Some(columns), ColumnMapping::Json { column }) if !columns.contains(column) => {
                return Err(FaucetError::sink(format!(
                    "table {} has no column {} to hold the records (column_mapping json)",
                    quote_ident(&table),
                    quote_ident(column)
                )));
            }
            _ => {}
        }
        self.scope = ctx.scope.to_owned();
        self.conn = Some(conn);
        self.in_transaction = false;
        Ok(())
    }

    async fn write_batch(&mut self, batch: &[Record], token: CommitToken) -> Result<WriteOutcome> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(FaucetError::sink("the `sqlite` sink was written to before it was opened"));
        };
        if self.in_transaction {
            // A write was cancelled mid-transaction: undo what it left.
            let _ = exec(conn, "ROLLBACK").await;
            self.in_transaction = false;
        }
        if let Some(committed) = &self.committed
            && token <= committed.token
        {
            return Ok(self.replay(committed, token));
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

    /// Returns `None`: each batch was committed by [`Sink::write_batch`].
    async fn flush(&mut self) -> Result<Option<Value>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use sqlx::Connection;

    use super::*;

    const SCOPE: &str = "orders::row-0";

    fn url(dir: &Path) -> String {
        format!("sqlite://{}", dir.join("out.db").display())
    }

    fn config(dir: &Path, table: &str, mapping: ColumnMapping, create_table: bool) -> SqliteSinkConfig {
        SqliteSinkConfig {
            database_url: url(dir),
            table_name: table.to_owned(),
            column_mapping: mapping,
            create_table,
            batch_size: 1000,
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
        sqlx::query(sql).execute(&mut connect(dir).await).await.unwrap();
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
    async fn auto_map_ignores_extra_keys_and_binds_null_for_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), "CREATE TABLE people (id INTEGER, name TEXT, unused TEXT DEFAULT 'd')").await;
        let mut sink = opened(config(dir.path(), "people", ColumnMapping::AutoMap, false), SCOPE).await;
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
        // `unused` was filled by no record, so it is not in the INSERT and keeps its default.
        assert_eq!(rows, [(1, Some("ann".to_owned()), "d".to_owned()), (2, None, "d".to_owned())]);
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

    #[tokio::test]
    async fn an_in_memory_database_works() {
        let mut sink = opened(
            SqliteSinkConfig {
                database_url: "sqlite::memory:".to_owned(),
                table_name: "t".to_owned(),
                column_mapping: ColumnMapping::AutoMap,
                create_table: true,
                batch_size: 10,
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

//! The `sqlite` source: a query or table read in pages of `batch_size` rows.
//!
//! The database is opened read-only. Each page is its own `LIMIT` query, so
//! memory holds one page:
//! - a `table` is read in `rowid` order with keyset paging (`rowid > last`);
//! - a `query` without `replication_key` pages with `LIMIT … OFFSET …` (give it
//!   an `ORDER BY` over a unique key for an exact resume);
//! - with `replication_key: k`, pages are `WHERE k > last ORDER BY k`, and a
//!   page never ends inside a run of equal keys (it is cut back to the last key
//!   change, or, when one key fills the page, extended to the whole run), so
//!   resuming with `>` loses and repeats nothing. Rows whose key is NULL are not read.
//!
//! Values follow their storage class: INTEGER → number, REAL → number (NaN and
//! ±Infinity null), TEXT → string (JSON text stays a string: SQLite has no JSON
//! type), BLOB → base64, NULL → null; a column declared BOOLEAN holding 0/1
//! becomes a boolean.
//!
//! Typed ([`IntoTyped`]): each row is decoded straight into the record, its
//! values the same as the JSON record's; a row that does not fit is rejected
//! with a schema error naming the column (the DLQ gets its JSON).

use std::borrow::Cow;
use std::marker::PhantomData;
use std::str::FromStr;

use serde_json::{Value, json};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, Column, ConnectOptions, Row, TypeInfo, ValueRef};

use crate::config::sql::{SqliteInput, SqliteSourceConfig};
use crate::connectors::sql::ShardFilter;
use crate::connectors::sql::keyset::cut_at_key_change;
use crate::connectors::sql::row_cells::{Cell, Cells, decode};
use crate::error::{FaucetError, Result};
use crate::page::{Page, Rejected};
use crate::record::RecordType;
use crate::shard::{Plan, ShardId, Shardable};
use crate::source::Source;
use crate::typed_source::{IntoTyped, decode_page};

/// Reads a SQLite query or table in pages, as JSON records or, made
/// [typed](IntoTyped), as records of type `R`.
#[derive(Debug)]
pub struct SqliteSource<R = Value> {
    config: SqliteSourceConfig,
    conn: Option<SqliteConnection>,
    /// Rows read so far (query without a key).
    offset: u64,
    /// The last rowid read (table without a key).
    rowid: Option<i64>,
    /// The largest key read (with a key).
    after: Option<Value>,
    done: bool,
    /// `shard: {key}`, and the range of a sharded run.
    shard: ShardFilter,
    records: PhantomData<fn() -> R>,
}

const KEY: &str = "_faucet_key";
const ROWID: &str = "_faucet_rowid";

/// Reads one row as a record of the page.
type ReadRow<T> = for<'r> fn(&SqliteCells<'r>) -> Result<T>;

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn err(e: sqlx::Error, doing: &str) -> FaucetError {
    match &e {
        sqlx::Error::Database(db) => FaucetError::source(format!("sqlite: {doing}: {}", db.message())),
        _ => FaucetError::source(format!("sqlite: {doing}: {e}")),
    }
}

fn bind(args: &mut SqliteArguments, value: &Value) -> Result<()> {
    let added = match value {
        Value::Null => args.add(None::<i64>),
        Value::Bool(b) => args.add(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => args.add(i),
            None => args.add(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => args.add(s.clone()),
        nested => args.add(nested.to_string()),
    };
    added.map_err(|e| FaucetError::source(format!("sqlite: binding a parameter: {e}")))
}

impl SqliteSource {
    /// A source for `config`; the database is opened by [`Source::resume`].
    pub fn new(config: SqliteSourceConfig) -> Self {
        SqliteSource {
            config,
            conn: None,
            offset: 0,
            rowid: None,
            after: None,
            done: false,
            shard: ShardFilter::default(),
            records: PhantomData,
        }
    }

    /// Splits a sharded run by the integer column `key` (`shard: {key}`).
    pub fn with_shard_key(mut self, key: impl Into<String>) -> Self {
        self.shard = ShardFilter::by(key);
        self
    }
}

impl<R: RecordType> IntoTyped<R> for SqliteSource {
    type Typed = SqliteSource<R>;

    fn into_typed(self) -> SqliteSource<R> {
        let SqliteSource { config, conn, offset, rowid, after, done, shard, records: _ } = self;
        SqliteSource { config, conn, offset, rowid, after, done, shard, records: PhantomData }
    }
}

impl<R: RecordType> SqliteSource<R> {
    /// The query read (narrowed to the shard's range) and its parameters.
    fn inner(&self) -> (String, Vec<Value>) {
        let (sql, params) = self.base_query();
        (self.shard.wrap(sql, quote_ident), params)
    }

    /// The configured query, or the whole table, and its parameters.
    fn base_query(&self) -> (String, Vec<Value>) {
        match &self.config.input {
            SqliteInput::Query { sql, params } => {
                (sql.trim().trim_end_matches(';').to_owned(), params.clone())
            }
            SqliteInput::Table { name } => (format!("SELECT * FROM {}", quote_ident(name)), Vec::new()),
        }
    }

    /// The database, opened read-only.
    async fn connect(&self) -> Result<SqliteConnection> {
        let options = SqliteConnectOptions::from_str(&self.config.database_url)
            .map_err(|e| FaucetError::source(format!("sqlite: invalid database_url: {e}")))?
            .read_only(true)
            .create_if_missing(false);
        options.connect().await.map_err(|e| err(e, "opening the database"))
    }

    /// Runs one page query.
    async fn rows(&mut self, sql: String, extra: &[Value]) -> Result<Vec<SqliteRow>> {
        let (_, params) = self.inner();
        let mut args = SqliteArguments::default();
        for p in params.iter().chain(extra) {
            bind(&mut args, p)?;
        }
        let conn = self.conn.as_mut().expect("opened");
        sqlx::query_with(AssertSqlSafe(sql), args).fetch_all(conn).await.map_err(|e| err(e, "reading rows"))
    }

    async fn keyed_page<T>(&mut self, key: &str, read: ReadRow<T>) -> Result<Vec<(T, Value)>> {
        let (inner, _) = self.inner();
        let k = quote_ident(key);
        let size = self.config.batch_size.max(1);
        let filter = if self.after.is_some() { format!(" AND q.{k} > ?") } else { String::new() };
        let sql = format!(
            "SELECT q.*, q.{k} AS {KEY} FROM ({inner}) AS q WHERE q.{k} IS NOT NULL{filter} ORDER BY q.{k} LIMIT {}",
            size + 1
        );
        let extra: Vec<Value> = self.after.iter().cloned().collect();
        let rows = self.rows(sql, &extra).await?;
        let mut page = Vec::with_capacity(rows.len());
        read_rows(&rows, Some(KEY), read, |record, key| page.push((record, key)))?;
        if let Some(run) = cut_at_key_change(&mut page, size) {
            // One key fills the page: the page is that key's whole run.
            let sql = format!("SELECT q.*, q.{k} AS {KEY} FROM ({inner}) AS q WHERE q.{k} = ?");
            let rows = self.rows(sql, std::slice::from_ref(&run)).await?;
            page = Vec::with_capacity(rows.len());
            read_rows(&rows, Some(KEY), read, |record, key| page.push((record, key)))?;
        }
        Ok(page)
    }

    /// The next page's rows, read with `read`, and its bookmark; `None` at the end.
    async fn page<T>(&mut self, read: ReadRow<T>) -> Result<Option<(Vec<T>, Value)>> {
        if self.done {
            return Ok(None);
        }
        if self.conn.is_none() {
            self.resume(None).await?;
        }
        let size = self.config.batch_size.max(1);
        let (records, bookmark) = match (self.config.replication_key.clone(), &self.config.input) {
            (Some(key), _) => {
                let page = self.keyed_page(&key, read).await?;
                if let Some((_, last)) = page.last() {
                    self.after = Some(last.clone());
                }
                let records: Vec<T> = page.into_iter().map(|(r, _)| r).collect();
                (records, json!({ "replication_key": key, "after": self.after }))
            }
            (None, SqliteInput::Table { name }) => {
                let mut conditions = Vec::new();
                if self.rowid.is_some() {
                    conditions.push("rowid > ?".to_owned());
                }
                if let Some(shard) = self.shard.condition(quote_ident) {
                    conditions.push(shard);
                }
                let filter = if conditions.is_empty() {
                    String::new()
                } else {
                    format!(" WHERE {}", conditions.join(" AND "))
                };
                let sql = format!(
                    "SELECT rowid AS {ROWID}, * FROM {}{filter} ORDER BY rowid LIMIT {size}",
                    quote_ident(name)
                );
                let extra: Vec<Value> = self.rowid.iter().map(|r| json!(r)).collect();
                let rows = self.rows(sql, &extra).await?;
                let mut records = Vec::with_capacity(rows.len());
                read_rows(&rows, Some(ROWID), read, |record, rowid| {
                    self.rowid = rowid.as_i64().or(self.rowid);
                    records.push(record);
                })?;
                (records, json!({ "rowid": self.rowid }))
            }
            (None, SqliteInput::Query { .. }) => {
                let (inner, _) = self.inner();
                let sql = format!("SELECT * FROM ({inner}) LIMIT {size} OFFSET {}", self.offset);
                let rows = self.rows(sql, &[]).await?;
                let mut records = Vec::with_capacity(rows.len());
                read_rows(&rows, None, read, |record, _| records.push(record))?;
                self.offset += records.len() as u64;
                (records, json!({ "offset": self.offset }))
            }
        };
        if records.len() < size && self.config.replication_key.is_none() {
            self.done = true;
        }
        if records.is_empty() {
            self.done = true;
            return Ok(None);
        }
        Ok(Some((records, bookmark)))
    }
}

/// Reads `rows` (of one query) with `read`, handing each record to `each`
/// with the value of its helper column `hidden` (null without one). The
/// caller collects them into a vector sized up front: a page grown by
/// doubling costs the allocator more than its rows.
fn read_rows<T>(
    rows: &[SqliteRow],
    hidden: Option<&str>,
    read: ReadRow<T>,
    mut each: impl FnMut(T, Value),
) -> Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let layout = Layout::of(first, hidden);
    for row in rows {
        let cells = SqliteCells { row, layout: &layout };
        each(read(&cells)?, cells.hidden()?);
    }
    Ok(())
}

/// A row as a JSON record.
fn json_row(cells: &SqliteCells<'_>) -> Result<Value> {
    cells.record()
}

/// A row as an `R`, or the reject it makes when it does not fit.
fn typed_row<R: RecordType>(cells: &SqliteCells<'_>) -> Result<Result<R, Rejected>> {
    Ok(match decode::<R>(cells)? {
        Ok(record) => Ok(record),
        Err(error) => Err(Rejected { payload: cells.record()?, error }),
    })
}

/// Which columns of a query's rows make the record, found once per page.
struct Layout {
    /// The record's columns in order, each as the row's index of its value
    /// (a name the row repeats keeps its first place and its last value) and
    /// whether it is declared BOOLEAN (0 and 1 read as booleans).
    columns: Vec<(usize, bool)>,
    /// The helper column (rowid or key), if the query adds one.
    hidden: Option<(usize, bool)>,
}

impl Layout {
    fn of(row: &SqliteRow, hidden: Option<&str>) -> Layout {
        let mut layout = Layout { columns: Vec::new(), hidden: None };
        let columns = row.columns();
        for (i, column) in columns.iter().enumerate() {
            let boolean = column.type_info().name().to_ascii_uppercase().contains("BOOL");
            if Some(column.name()) == hidden {
                layout.hidden = Some((i, boolean));
            } else if let Some(first) =
                layout.columns.iter_mut().find(|(at, _)| columns[*at].name() == column.name())
            {
                *first = (i, boolean);
            } else {
                layout.columns.push((i, boolean));
            }
        }
        layout
    }
}

/// A row's cells, by storage class.
struct SqliteCells<'r> {
    row: &'r SqliteRow,
    layout: &'r Layout,
}

impl<'r> SqliteCells<'r> {
    /// The cell at the row's index `i`.
    fn at(&self, i: usize, boolean: bool) -> Result<Cell<'r>> {
        let row = self.row;
        let raw = row.try_get_raw(i).map_err(|e| err(e, "reading a value"))?;
        if raw.is_null() {
            return Ok(Cell::Null);
        }
        Ok(match raw.type_info().name() {
            "INTEGER" => {
                let i: i64 = row.try_get_unchecked(i).map_err(|e| err(e, "reading an integer"))?;
                if boolean && (i == 0 || i == 1) { Cell::Bool(i == 1) } else { Cell::Int(i) }
            }
            "REAL" => Cell::float(row.try_get_unchecked(i).map_err(|e| err(e, "reading a float"))?),
            "BLOB" => {
                let bytes: &[u8] = row.try_get_unchecked(i).map_err(|e| err(e, "reading a blob"))?;
                Cell::Text(Cow::Owned(crate::connectors::base64(bytes)))
            }
            _ => Cell::Text(Cow::Borrowed(row.try_get_unchecked(i).map_err(|e| err(e, "reading text"))?)),
        })
    }

    /// The helper column's value (null without one).
    fn hidden(&self) -> Result<Value> {
        match self.layout.hidden {
            Some((i, boolean)) => Ok(self.at(i, boolean)?.into_json().expect("no JSON cells in SQLite")),
            None => Ok(Value::Null),
        }
    }
}

impl<'r> Cells<'r> for SqliteCells<'r> {
    fn len(&self) -> usize {
        self.layout.columns.len()
    }

    fn name(&self, i: usize) -> &'r str {
        self.row.columns()[self.layout.columns[i].0].name()
    }

    fn cell(&self, i: usize) -> Result<Cell<'r>> {
        let (at, boolean) = self.layout.columns[i];
        self.at(at, boolean)
    }

    fn unreadable(&self, i: usize, what: &str, text: &str) -> FaucetError {
        FaucetError::source(format!("sqlite: column {}: cannot read {what} {text:?}", self.name(i)))
    }
}

impl<R: RecordType> Shardable for SqliteSource<R> {
    /// Probes the shard key's bounds over the query.
    async fn plan(&mut self, count: u32) -> Result<Plan> {
        let key = self.shard.key("sqlite")?.to_owned();
        let (inner, params) = self.base_query();
        let sql = self.shard.bounds_query("sqlite", &inner, quote_ident, "INTEGER")?;
        let mut conn = self.connect().await?;
        let mut args = SqliteArguments::default();
        for p in &params {
            bind(&mut args, p)?;
        }
        let probed = sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_one(&mut conn)
            .await
            .and_then(|row| Ok(row.try_get::<Option<i64>, _>(0)?.zip(row.try_get::<Option<i64>, _>(1)?)))
            .map_err(|e| err(e, &format!("finding the bounds of the shard key {key:?}")));
        let _ = sqlx::Connection::close(conn).await;
        Ok(Plan::ranges(&key, probed?, count))
    }

    fn narrow(&mut self, shard: ShardId, plan: &Plan) -> Result<()> {
        self.shard.narrow("sqlite", shard, plan)
    }
}

impl<R: RecordType> Source for SqliteSource<R> {
    type Record = R;

    fn connector_name(&self) -> &'static str {
        "sqlite"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        self.conn = Some(self.connect().await?);
        (self.offset, self.rowid, self.after, self.done) = (0, None, None, false);
        let Some(b) = bookmark.filter(|b| !b.is_null()) else {
            return Ok(());
        };
        let bad =
            || FaucetError::config(format!("sqlite: the bookmark {b} does not fit this source's settings"));
        match (&self.config.replication_key, &self.config.input) {
            (Some(key), _) => {
                if b.get("replication_key").and_then(Value::as_str) != Some(key.as_str()) {
                    return Err(bad());
                }
                self.after = b.get("after").cloned().filter(|v| !v.is_null());
            }
            (None, SqliteInput::Table { .. }) => {
                self.rowid = Some(b.get("rowid").and_then(Value::as_i64).ok_or_else(bad)?)
            }
            (None, SqliteInput::Query { .. }) => {
                self.offset = b.get("offset").and_then(Value::as_u64).ok_or_else(bad)?
            }
        }
        Ok(())
    }

    async fn next_page(&mut self) -> Result<Option<Page<R>>> {
        if R::SCHEMA.is_none() {
            // JSON records (a record type without a schema is decoded from them).
            let Some((records, bookmark)) = self.page(json_row).await? else {
                return Ok(None);
            };
            return Ok(Some(decode_page(Page { records, bookmark: Some(bookmark), ..Page::default() })));
        }
        let Some((rows, bookmark)) = self.page(typed_row::<R>).await? else {
            return Ok(None);
        };
        let mut page =
            Page { records: Vec::with_capacity(rows.len()), bookmark: Some(bookmark), ..Page::default() };
        for row in rows {
            match row {
                Ok(record) => page.records.push(record),
                Err(reject) => page.rejects.push(reject),
            }
        }
        Ok(Some(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db(dir: &std::path::Path, sql: &str) -> String {
        let url = format!("sqlite://{}", dir.join("in.db").display());
        let mut conn =
            SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true).connect().await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.unwrap();
        url
    }

    fn config(url: &str, input: SqliteInput, key: Option<&str>, batch: usize) -> SqliteSourceConfig {
        SqliteSourceConfig {
            database_url: url.to_owned(),
            input,
            replication_key: key.map(str::to_owned),
            batch_size: batch,
        }
    }

    async fn pages(cfg: &SqliteSourceConfig, bookmark: Option<Value>) -> Vec<Page> {
        let mut source = SqliteSource::new(cfg.clone());
        source.resume(bookmark).await.unwrap();
        let mut out = Vec::new();
        while let Some(page) = source.next_page().await.unwrap() {
            out.push(page);
        }
        out
    }

    #[tokio::test]
    async fn types_follow_storage_classes() {
        let dir = tempfile::tempdir().unwrap();
        let url = db(
            dir.path(),
            "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, flag BOOLEAN, doc JSON, n TEXT, big INTEGER); \
             INSERT INTO t VALUES (9223372036854775807, 2.5, 'héllo', x'deadbeef00', 1, '{\"a\":[1,null]}', NULL, -1); \
             INSERT INTO t VALUES (1, 1e999, 'x', x'', 0, 'not json', NULL, 2);",
        )
        .await;
        let got = pages(&config(&url, SqliteInput::Table { name: "t".into() }, None, 10), None).await;
        let records = &got[0].records;
        assert_eq!(
            records[0],
            json!({"i": 9223372036854775807i64, "r": 2.5, "s": "héllo", "b": "3q2+7wA=", "flag": true,
                   "doc": "{\"a\":[1,null]}", "n": null, "big": -1})
        );
        assert_eq!(records[1]["r"], Value::Null, "infinity is null");
        assert_eq!(records[1]["b"], json!(""));
        assert_eq!(records[1]["flag"], json!(false));
        assert_eq!(records[1]["doc"], json!("not json"));
        assert_eq!(got[0].bookmark, Some(json!({"rowid": 2})));
        assert_eq!(crate::connectors::base64(b"ab"), "YWI=");
        assert_eq!(crate::connectors::base64(b"a"), "YQ==");
    }

    #[tokio::test]
    async fn tables_page_by_rowid_and_queries_by_offset() {
        let dir = tempfile::tempdir().unwrap();
        let url = db(
            dir.path(),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); \
             WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 2500) INSERT INTO t SELECT x, 'v' || x FROM g;",
        )
        .await;
        let cfg = config(&url, SqliteInput::Table { name: "t".into() }, None, 1000);
        let all = pages(&cfg, None).await;
        assert_eq!(all.iter().map(|p| p.records.len()).collect::<Vec<_>>(), [1000, 1000, 500]);
        let rest = pages(&cfg, all[0].bookmark.clone()).await;
        assert_eq!(rest[0].records[0]["id"], json!(1001));
        let q = SqliteInput::Query {
            sql: "SELECT id FROM t WHERE id > ? ORDER BY id;".into(),
            params: vec![json!(2000)],
        };
        let cfg = config(&url, q, None, 200);
        let all = pages(&cfg, None).await;
        assert_eq!(all.iter().map(|p| p.records.len()).collect::<Vec<_>>(), [200, 200, 100]);
        let rest = pages(&cfg, all[1].bookmark.clone()).await;
        assert_eq!(rest[0].records[0], json!({"id": 2401}));
    }

    #[tokio::test]
    async fn replication_key_pages_never_split_equal_keys() {
        let dir = tempfile::tempdir().unwrap();
        let url = db(
            dir.path(),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER); \
             INSERT INTO t (k) VALUES (1),(2),(3),(4),(4),(4),(4),(4),(5),(5),(5),(5),(5),(5),(5),(5),(5),(5),(5),(5),(6),(7),(NULL);",
        )
        .await;
        let cfg = config(&url, SqliteInput::Table { name: "t".into() }, Some("k"), 5);
        let all = pages(&cfg, None).await;
        let keys: Vec<Vec<i64>> =
            all.iter().map(|p| p.records.iter().map(|r| r["k"].as_i64().unwrap()).collect()).collect();
        assert_eq!(keys, vec![vec![1, 2, 3], vec![4; 5], vec![5; 12], vec![6, 7]]);
        for i in 0..all.len() {
            let rest = pages(&cfg, all[i].bookmark.clone()).await;
            let rest: Vec<&Vec<Value>> = rest.iter().map(|p| &p.records).collect();
            let want: Vec<&Vec<Value>> = all[i + 1..].iter().map(|p| &p.records).collect();
            assert_eq!(rest, want, "resumed after page {i}");
        }
        assert_eq!(all[3].bookmark, Some(json!({"replication_key": "k", "after": 7})));
    }
}

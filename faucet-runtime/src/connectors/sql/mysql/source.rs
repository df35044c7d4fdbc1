//! The `mysql` source (MySQL and MariaDB) through sqlx.
//!
//! The run holds one `REPEATABLE READ` transaction started `WITH CONSISTENT
//! SNAPSHOT, READ ONLY`, so every page sees the same data, and reads one
//! `LIMIT` query per page, so memory holds one page:
//! - a `table` with a one-column primary key is paged by that key
//!   (`WHERE pk > last ORDER BY pk`); other tables and queries by
//!   `LIMIT … OFFSET …` (give a query an `ORDER BY` over a unique key);
//! - with `replication_key: k`, pages are `WHERE k > last ORDER BY k`, and a page
//!   never ends inside a run of equal keys (the PostgreSQL source's rule).
//!
//! Types (session `time_zone` `+00:00`): integers → numbers, DECIMAL → exact
//! string, FLOAT/DOUBLE → numbers, BOOLEAN (`TINYINT(1)`) → boolean, JSON →
//! nested JSON (MySQL's type; and MariaDB's, a LONGTEXT with a `json_valid`
//! check, which the result set does not mark: for a `table` the source asks
//! information_schema once per run which columns are JSON, while a `query`'s
//! MariaDB JSON columns stay strings), TIMESTAMP → RFC 3339 in UTC, DATETIME/DATE/TIME
//! → ISO 8601, binary strings and BLOBs → base64, BIT/YEAR → numbers, others
//! (text, ENUM, SET) → strings, NULL → null.
//!
//! Typed ([`IntoTyped`]): each row is decoded straight into the record, its
//! values the same as the JSON record's; a row that does not fit is rejected
//! with a schema error naming the column (the DLQ gets its JSON).

use std::borrow::Cow;
use std::marker::PhantomData;
use std::str::FromStr;

use serde_json::{Value, json};
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{
    Arguments, AssertSqlSafe, Column, ConnectOptions, Executor, Row, SqlSafeStr, Statement, TypeInfo,
};

use super::json_columns;
use crate::config::sql::{MySqlSourceConfig, SourceInput};
use crate::connectors::dburl;
use crate::connectors::sql::ShardFilter;
use crate::connectors::sql::keyset::cut_at_key_change;
use crate::connectors::sql::row_cells::{Cell, Cells, decode};
use crate::error::{FaucetError, Result};
use crate::page::{Page, Rejected};
use crate::record::RecordType;
use crate::shard::{Plan, ShardId, Shardable};
use crate::source::Source;
use crate::typed_source::{IntoTyped, decode_page};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
    Json,
    /// TIMESTAMP: UTC, written with `+00:00`.
    Timestamp,
    /// DATETIME: no zone.
    Datetime,
    Base64,
    /// `b` + base64 for binary data, `t` + the text for a binary-collated text.
    MaybeBinary,
    Text,
}

const KEY: &str = "_faucet_key";

fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn err(e: sqlx::Error, doing: &str) -> FaucetError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default();
            FaucetError::source(format!("mysql: {doing}: {}{code}", db.message()))
        }
        _ => FaucetError::source(format!("mysql: {doing}: {e}")),
    }
}

fn bind(args: &mut MySqlArguments, value: &Value) -> Result<()> {
    let added = match value {
        Value::Null => args.add(None::<String>),
        Value::Bool(b) => args.add(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => args.add(i),
            None => args.add(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => args.add(s.clone()),
        nested => args.add(nested.to_string()),
    };
    added.map_err(|e| FaucetError::source(format!("mysql: binding a parameter: {e}")))
}

/// Reads a MySQL or MariaDB query or table in pages, as JSON records or, made
/// [typed](IntoTyped), as records of type `R`.
#[derive(Debug)]
pub struct MySqlSource<R = Value> {
    config: MySqlSourceConfig,
    conn: Option<MySqlConnection>,
    /// `SELECT <conversions> FROM (<inner>) AS q`.
    select: String,
    kinds: Vec<(String, Kind)>,
    /// The single-column primary key of a table, when paged by it.
    pk: Option<String>,
    offset: u64,
    /// The last key read (replication key or primary key), as text.
    after: Option<String>,
    done: bool,
    /// `shard: {key}`, and the range of a sharded run.
    shard: ShardFilter,
    records: PhantomData<fn() -> R>,
}

/// Reads one row as a record of the page, and the row's key.
type ReadRow<S, T> = fn(&S, &MySqlRow) -> Result<(T, Option<String>)>;

impl MySqlSource {
    /// A source for `config`; the connection is opened by [`Source::resume`].
    pub fn new(config: MySqlSourceConfig) -> Self {
        MySqlSource {
            config,
            conn: None,
            select: String::new(),
            kinds: Vec::new(),
            pk: None,
            offset: 0,
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

impl<R: RecordType> IntoTyped<R> for MySqlSource {
    type Typed = MySqlSource<R>;

    fn into_typed(self) -> MySqlSource<R> {
        let MySqlSource { config, conn, select, kinds, pk, offset, after, done, shard, records: _ } = self;
        MySqlSource { config, conn, select, kinds, pk, offset, after, done, shard, records: PhantomData }
    }
}

impl<R: RecordType> MySqlSource<R> {
    fn params(&self) -> Vec<Value> {
        match &self.config.input {
            SourceInput::Query { params, .. } => params.clone(),
            SourceInput::Table { .. } => Vec::new(),
        }
    }

    /// The query read: the configured one, or the whole table.
    fn base_query(&self) -> String {
        match &self.config.input {
            SourceInput::Query { sql, .. } => sql.trim().trim_end_matches(';').to_owned(),
            SourceInput::Table { schema, name } => match schema {
                Some(s) => format!("SELECT * FROM {}.{}", quote_ident(s), quote_ident(name)),
                None => format!("SELECT * FROM {}", quote_ident(name)),
            },
        }
    }

    /// A connection in UTC, for reading.
    async fn connect(&self) -> Result<MySqlConnection> {
        dburl::register_password(&self.config.connection_url);
        let redacted = dburl::redact(&self.config.connection_url);
        let options = MySqlConnectOptions::from_str(&self.config.connection_url)
            .map_err(|e| FaucetError::source(format!("mysql: invalid connection_url {redacted}: {e}")))?;
        let mut conn = options.connect().await.map_err(|e| err(e, &format!("connecting to {redacted}")))?;
        sqlx::raw_sql("SET time_zone = '+00:00'")
            .execute(&mut conn)
            .await
            .map_err(|e| err(e, "setting the session's time zone"))?;
        Ok(conn)
    }

    async fn open(&mut self) -> Result<()> {
        if let SourceInput::Table { schema, name } = &self.config.input {
            // Names from `${env:…}` are checked only now; written ones passed at build time.
            crate::connectors::sql::sink::check_identifier("table", name)?;
            if let Some(schema) = schema {
                crate::connectors::sql::sink::check_identifier("schema", schema)?;
            }
        }
        let mut conn = self.connect().await?;
        sqlx::raw_sql(
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
             START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        )
        .execute(&mut conn)
        .await
        .map_err(|e| err(e, "starting the read transaction"))?;
        let mut json = Vec::new();
        match &self.config.input {
            SourceInput::Query { .. } => {}
            SourceInput::Table { schema, name } => {
                json = json_columns(&mut conn, schema.as_deref(), name)
                    .await
                    .map_err(|e| err(e, "reading the table's JSON columns"))?;
                if self.config.replication_key.is_none() {
                    let rows = sqlx::query(
                        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
                         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'",
                    )
                    .bind(schema.clone())
                    .bind(name.clone())
                    .fetch_all(&mut conn)
                    .await
                    .map_err(|e| err(e, "reading the primary key"))?;
                    if rows.len() == 1 {
                        self.pk = Some(
                            rows[0].try_get::<String, _>(0).map_err(|e| err(e, "reading the primary key"))?,
                        );
                    }
                }
            }
        }
        let inner = self.shard.wrap(self.base_query(), quote_ident);
        let statement = (&mut conn)
            .prepare(AssertSqlSafe(inner.clone()).into_sql_str())
            .await
            .map_err(|e| err(e, "preparing the query"))?;
        let mut kinds = Vec::new();
        let mut exprs = Vec::new();
        for column in statement.columns() {
            let name = column.name().to_owned();
            if kinds.iter().any(|(n, _)| *n == name) {
                return Err(FaucetError::source(format!(
                    "mysql: the query returns two columns named {name:?}; give them distinct names (AS …)"
                )));
            }
            let col = format!("q.{}", quote_ident(&name));
            let ty = column.type_info().name().to_owned();
            let (kind, expr) = match ty.as_str() {
                _ if json.contains(&name) => (Kind::Json, format!("CAST({col} AS CHAR)")),
                "BOOLEAN" => (Kind::Bool, format!("CAST({col} AS CHAR)")),
                t if t.contains("INT") || t == "YEAR" => (Kind::Int, format!("CAST({col} AS CHAR)")),
                "BIT" => (Kind::Int, format!("CAST({col} + 0 AS CHAR)")),
                "FLOAT" | "DOUBLE" => (Kind::Float, format!("CAST({col} AS CHAR)")),
                "JSON" => (Kind::Json, format!("CAST({col} AS CHAR)")),
                "TIMESTAMP" => (Kind::Timestamp, format!("CAST({col} AS CHAR)")),
                "DATETIME" => (Kind::Datetime, format!("CAST({col} AS CHAR)")),
                "GEOMETRY" => (Kind::Base64, format!("TO_BASE64({col})")),
                // The protocol flags a binary collation (MariaDB's JSON is
                // utf8mb4_bin text) like binary data: ask the server which it is.
                "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => (
                    Kind::MaybeBinary,
                    format!(
                        "CONVERT(IF(CHARSET({col}) = 'binary', CONCAT('b', TO_BASE64({col})), CONCAT('t', {col})) \
                         USING utf8mb4)"
                    ),
                ),
                _ => (Kind::Text, format!("CAST({col} AS CHAR)")),
            };
            kinds.push((name, kind));
            exprs.push(expr);
        }
        if let Some(key) = self.config.replication_key.as_ref().or(self.pk.as_ref()) {
            if !kinds.iter().any(|(n, _)| n == key) {
                return Err(FaucetError::source(format!(
                    "mysql: replication_key {key:?} is not a column of the query"
                )));
            }
            exprs.push(format!("CAST(q.{} AS CHAR) AS {KEY}", quote_ident(key)));
        }
        self.select = format!("SELECT {} FROM ({inner}) AS q", exprs.join(", "));
        self.kinds = kinds;
        self.conn = Some(conn);
        Ok(())
    }

    /// Runs one page query, reading each row with `read`.
    async fn query<T>(
        &mut self,
        sql: String,
        extra: &[Value],
        read: ReadRow<Self, T>,
    ) -> Result<Vec<(T, Option<String>)>> {
        let mut args = MySqlArguments::default();
        for p in self.params().iter().chain(extra) {
            bind(&mut args, p)?;
        }
        let conn = self.conn.as_mut().expect("opened");
        let rows = sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(conn)
            .await
            .map_err(|e| err(e, "reading rows"))?;
        // Sized up front: a page grown by doubling costs the allocator more than its rows.
        let mut page = Vec::with_capacity(rows.len());
        for row in &rows {
            page.push(read(self, row)?);
        }
        Ok(page)
    }

    /// A row as a JSON record.
    fn json_row(&self, row: &MySqlRow) -> Result<(Value, Option<String>)> {
        let cells = MySqlCells { row, kinds: &self.kinds };
        Ok((cells.record()?, self.key(row)?))
    }

    /// A row as an `R`, or the reject it makes when it does not fit.
    fn typed_row(&self, row: &MySqlRow) -> Result<(Result<R, Rejected>, Option<String>)> {
        let cells = MySqlCells { row, kinds: &self.kinds };
        let record = match decode::<R>(&cells)? {
            Ok(record) => Ok(record),
            Err(error) => Err(Rejected { payload: cells.record()?, error }),
        };
        Ok((record, self.key(row)?))
    }

    /// The row's key (replication key or primary key), as text, when the page is keyed.
    fn key(&self, row: &MySqlRow) -> Result<Option<String>> {
        if row.columns().len() > self.kinds.len() {
            row.try_get(self.kinds.len()).map_err(|e| err(e, "reading the key"))
        } else {
            Ok(None)
        }
    }

    /// The next page's rows, read with `read`, and its bookmark; `None` at the end.
    async fn page<T>(&mut self, read: ReadRow<Self, T>) -> Result<Option<(Vec<T>, Value)>> {
        if self.done {
            return Ok(None);
        }
        if self.conn.is_none() {
            self.resume(None).await?;
        }
        let size = self.config.batch_size.max(1);
        let extra: Vec<Value> = self.after.iter().map(|a| json!(a)).collect();
        let (page, bookmark_key) = match (self.config.replication_key.clone(), self.pk.clone()) {
            (Some(key), _) => {
                let k = format!("q.{}", quote_ident(&key));
                let filter = if self.after.is_some() { format!(" AND {k} > ?") } else { String::new() };
                let sql =
                    format!("{} WHERE {k} IS NOT NULL{filter} ORDER BY {k} LIMIT {}", self.select, size + 1);
                let mut page = self.query(sql, &extra, read).await?;
                if let Some(run) = cut_at_key_change(&mut page, size) {
                    // One key fills the page: the page is that key's whole run.
                    let sql = format!("{} WHERE {k} = ?", self.select);
                    page = self.query(sql, &[json!(run)], read).await?;
                }
                (page, Some(key))
            }
            (None, Some(pk)) => {
                let k = format!("q.{}", quote_ident(&pk));
                let filter = if self.after.is_some() { format!(" WHERE {k} > ?") } else { String::new() };
                let sql = format!("{}{filter} ORDER BY {k} LIMIT {size}", self.select);
                (self.query(sql, &extra, read).await?, None)
            }
            (None, None) => {
                let sql = format!("{} LIMIT {size} OFFSET {}", self.select, self.offset);
                (self.query(sql, &[], read).await?, None)
            }
        };
        if page.is_empty() {
            self.done = true;
            if let Some(mut conn) = self.conn.take() {
                let _ = sqlx::raw_sql("COMMIT").execute(&mut conn).await;
            }
            return Ok(None);
        }
        if page.len() < size && self.config.replication_key.is_none() {
            self.done = true;
        }
        self.offset += page.len() as u64;
        if let Some((_, Some(last))) = page.last() {
            self.after = Some(last.clone());
        }
        let bookmark = match (bookmark_key, &self.pk) {
            (Some(key), _) => json!({ "replication_key": key, "after": self.after }),
            (None, Some(_)) => json!({ "after_pk": self.after }),
            (None, None) => json!({ "offset": self.offset }),
        };
        Ok(Some((page.into_iter().map(|(r, _)| r).collect(), bookmark)))
    }
}

/// A row's columns (without the key column a keyed page adds), each
/// read as text by the page query and made a cell by its [`Kind`].
struct MySqlCells<'r> {
    row: &'r MySqlRow,
    kinds: &'r [(String, Kind)],
}

impl<'r> Cells<'r> for MySqlCells<'r> {
    fn len(&self) -> usize {
        self.kinds.len()
    }

    fn name(&self, i: usize) -> &'r str {
        &self.kinds[i].0
    }

    fn cell(&self, i: usize) -> Result<Cell<'r>> {
        let (name, kind) = &self.kinds[i];
        let text: Option<&'r str> =
            self.row.try_get(i).map_err(|e| err(e, &format!("reading column {name}")))?;
        let Some(text) = text else {
            return Ok(Cell::Null);
        };
        let bad = |what: &str| self.unreadable(i, what, text);
        let base64 = |b64: &str| Cow::Owned(b64.chars().filter(|c| !c.is_ascii_whitespace()).collect());
        Ok(match kind {
            Kind::Int => match text.parse::<i64>() {
                Ok(i) => Cell::Int(i),
                Err(_) => Cell::UInt(text.parse::<u64>().map_err(|_| bad("integer"))?),
            },
            Kind::Float => text.parse::<f64>().map_or(Cell::Null, Cell::float),
            Kind::Bool => Cell::Bool(text != "0"),
            Kind::Json => Cell::Json(text),
            Kind::Timestamp => Cell::Text(Cow::Owned(format!("{}+00:00", text.replacen(' ', "T", 1)))),
            Kind::Datetime => Cell::Text(Cow::Owned(text.replacen(' ', "T", 1))),
            Kind::Base64 => Cell::Text(base64(text)),
            Kind::MaybeBinary => match text.split_at_checked(1) {
                Some(("b", b64)) => Cell::Text(base64(b64)),
                Some(("t", text)) => Cell::Text(Cow::Borrowed(text)),
                _ => return Err(bad("binary or text")),
            },
            Kind::Text => Cell::Text(Cow::Borrowed(text)),
        })
    }

    fn unreadable(&self, i: usize, what: &str, text: &str) -> FaucetError {
        FaucetError::source(format!("mysql: column {}: cannot read {what} {text:?}", self.kinds[i].0))
    }
}

impl<R: RecordType> Shardable for MySqlSource<R> {
    /// Probes the shard key's bounds over the query, on a connection of its own.
    async fn plan(&mut self, count: u32) -> Result<Plan> {
        let key = self.shard.key("mysql")?.to_owned();
        let sql = self.shard.bounds_query("mysql", &self.base_query(), quote_ident, "SIGNED")?;
        let mut conn = self.connect().await?;
        let mut args = MySqlArguments::default();
        for p in &self.params() {
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
        self.shard.narrow("mysql", shard, plan)
    }
}

impl<R: RecordType> Source for MySqlSource<R> {
    type Record = R;

    fn connector_name(&self) -> &'static str {
        "mysql"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        (self.offset, self.after, self.done, self.pk) = (0, None, false, None);
        self.open().await?;
        let Some(b) = bookmark.filter(|b| !b.is_null()) else {
            return Ok(());
        };
        let bad =
            || FaucetError::config(format!("mysql: the bookmark {b} does not fit this source's settings"));
        match (&self.config.replication_key, &self.pk) {
            (Some(key), _) => {
                if b.get("replication_key").and_then(Value::as_str) != Some(key.as_str()) {
                    return Err(bad());
                }
                self.after = b.get("after").and_then(Value::as_str).map(str::to_owned);
            }
            (None, Some(_)) => {
                self.after = Some(b.get("after_pk").and_then(Value::as_str).ok_or_else(bad)?.to_owned())
            }
            (None, None) => self.offset = b.get("offset").and_then(Value::as_u64).ok_or_else(bad)?,
        }
        Ok(())
    }

    async fn next_page(&mut self) -> Result<Option<Page<R>>> {
        if R::SCHEMA.is_none() {
            // JSON records (a record type without a schema is decoded from them).
            let Some((records, bookmark)) = self.page(Self::json_row).await? else {
                return Ok(None);
            };
            return Ok(Some(decode_page(Page { records, bookmark: Some(bookmark), ..Page::default() })));
        }
        let Some((rows, bookmark)) = self.page(Self::typed_row).await? else {
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

    const ROOT: &str = "mysql://root@127.0.0.1:3306";

    struct TestDb {
        name: String,
        conn: MySqlConnection,
    }

    impl TestDb {
        async fn new(sql: &str) -> TestDb {
            let name = format!("faucet_{}", uuid::Uuid::now_v7().simple());
            let mut conn =
                MySqlConnectOptions::from_str(ROOT).unwrap().connect().await.expect("MariaDB on 3306");
            let setup = format!("CREATE DATABASE `{name}`; USE `{name}`; {sql}");
            sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut conn).await.unwrap();
            TestDb { name, conn }
        }

        fn url(&self) -> String {
            format!("{ROOT}/{}", self.name)
        }

        async fn drop(mut self) {
            let sql = format!("DROP DATABASE `{}`", self.name);
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.unwrap();
        }
    }

    async fn pages(cfg: &MySqlSourceConfig, bookmark: Option<Value>) -> Vec<Page> {
        let mut source = MySqlSource::new(cfg.clone());
        source.resume(bookmark).await.unwrap();
        let mut out = Vec::new();
        while let Some(page) = source.next_page().await.unwrap() {
            out.push(page);
        }
        out
    }

    fn config(url: String, input: SourceInput, key: Option<&str>, batch: usize) -> MySqlSourceConfig {
        MySqlSourceConfig {
            connection_url: url,
            input,
            replication_key: key.map(str::to_owned),
            batch_size: batch,
        }
    }

    fn table(name: &str) -> SourceInput {
        SourceInput::Table { schema: None, name: name.to_owned() }
    }

    #[tokio::test]
    async fn every_type_maps_faithfully() {
        let db = TestDb::new(
            "CREATE TABLE t (ti TINYINT, si SMALLINT, i INT, bi BIGINT, ubi BIGINT UNSIGNED, flag BOOLEAN, \
               dec_ DECIMAL(30, 6), f FLOAT, d DOUBLE, s VARCHAR(20), tx TEXT, e ENUM('a', 'b'), \
               ts TIMESTAMP(6) NULL, dt DATETIME, dd DATE, tm TIME(3), y YEAR, bits BIT(8), \
               bin VARBINARY(8), bl BLOB, j JSON, n INT); \
             INSERT INTO t VALUES (-128, 32767, 2147483647, 9223372036854775807, 18446744073709551615, TRUE, \
               '12345678901234567890.000123', 0.5, 1.5e300, 'héllo', 'long text', 'b', \
               '2024-02-29 23:59:59.123456', '2024-01-02 03:04:05', '2024-01-02', '13:14:15.500', 2024, b'101', \
               x'deadbeef00', x'01ff', '{\"a\": [1, null]}', NULL);",
        )
        .await;
        let got = pages(&config(db.url(), table("t"), None, 10), None).await;
        let want = json!({
            "ti": -128, "si": 32767, "i": 2147483647, "bi": 9223372036854775807i64, "ubi": 18446744073709551615u64,
            "flag": true, "dec_": "12345678901234567890.000123", "f": 0.5, "d": 1.5e300, "s": "héllo",
            "tx": "long text", "e": "b", "ts": "2024-02-29T23:59:59.123456+00:00", "dt": "2024-01-02T03:04:05",
            "dd": "2024-01-02", "tm": "13:14:15.500", "y": 2024, "bits": 5, "bin": "3q2+7wA=", "bl": "Af8=",
            "n": null
        });
        let record = &got[0].records[0];
        for (key, value) in want.as_object().unwrap() {
            assert_eq!(&record[key], value, "column {key}");
        }
        // MySQL's JSON type, and MariaDB's (a LONGTEXT checked by json_valid), are nested JSON.
        assert_eq!(record["j"], json!({"a": [1, null]}));
        db.drop().await;
    }

    #[tokio::test]
    async fn tables_page_by_primary_key_and_resume() {
        let db = TestDb::new(
            "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); \
             INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_2500;",
        )
        .await;
        let cfg = config(db.url(), table("t"), None, 1000);
        let all = pages(&cfg, None).await;
        assert_eq!(all.iter().map(|p| p.records.len()).collect::<Vec<_>>(), [1000, 1000, 500]);
        assert_eq!(all[0].bookmark, Some(json!({"after_pk": "1000"})));
        let rest = pages(&cfg, all[0].bookmark.clone()).await;
        assert_eq!(rest[0].records[0]["id"], json!(1001));
        let q = SourceInput::Query {
            sql: "SELECT id FROM t WHERE id > ? ORDER BY id".into(),
            params: vec![json!(2000)],
        };
        let all = pages(&config(db.url(), q.clone(), None, 200), None).await;
        assert_eq!(all.iter().map(|p| p.records.len()).collect::<Vec<_>>(), [200, 200, 100]);
        let rest = pages(&config(db.url(), q, None, 200), all[1].bookmark.clone()).await;
        assert_eq!(rest[0].records[0], json!({"id": 2401}));
        db.drop().await;
    }

    #[tokio::test]
    async fn replication_key_pages_never_split_equal_keys() {
        let db = TestDb::new(
            "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, k DECIMAL(5, 1)); \
             INSERT INTO t (k) VALUES (1),(2),(3),(4),(4),(4),(4),(4),(5),(5),(5),(5),(5),(5),(5),(5),(5),(5),(5),(5),(6),(7),(NULL);",
        )
        .await;
        let cfg = config(db.url(), table("t"), Some("k"), 5);
        let all = pages(&cfg, None).await;
        let keys: Vec<Vec<String>> = all
            .iter()
            .map(|p| p.records.iter().map(|r| r["k"].as_str().unwrap().to_owned()).collect())
            .collect();
        let runs: Vec<(String, usize)> = keys.iter().map(|k| (k.join(","), k.len())).collect();
        assert_eq!(runs.iter().map(|r| r.1).collect::<Vec<_>>(), [3, 5, 12, 2], "{runs:?}");
        for i in 0..all.len() {
            let rest = pages(&cfg, all[i].bookmark.clone()).await;
            let rest: Vec<&Vec<Value>> = rest.iter().map(|p| &p.records).collect();
            let want: Vec<&Vec<Value>> = all[i + 1..].iter().map(|p| &p.records).collect();
            assert_eq!(rest, want, "resumed after page {i}");
        }
        assert_eq!(all[3].bookmark, Some(json!({"replication_key": "k", "after": "7.0"})));
        db.drop().await;
    }
}

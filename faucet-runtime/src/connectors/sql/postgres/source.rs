//! The `postgres` source: a query or a table, read through a server-side cursor.
//!
//! The run opens one `REPEATABLE READ READ ONLY` transaction, declares a
//! cursor over the query and `FETCH`es `batch_size` rows per page, so memory
//! holds one page whatever the result's size. Every column is converted on
//! the server to a text form chosen by its type and turned into a value here
//! (see [`super::values`], and `docs/databases.md` for the table): integers
//! become numbers, numeric exact strings, floats numbers (NaN and ±Infinity
//! null), json nested JSON, timestamps RFC 3339 in UTC, bytea base64, arrays
//! arrays.
//!
//! The records are JSON maps, or, through [`IntoTyped`], a struct generated
//! from the query's schema: each row is then deserialized straight into it,
//! column by column, and a row that does not fit (a NULL where the struct has
//! no `Option`, a declared type the column's values are not) is rejected with
//! a schema error naming the column and the row.
//!
//! Positions:
//! - with `replication_key`, rows are read `WHERE key > $bookmark ORDER BY key`
//!   and the bookmark is the page's largest key. A page never ends inside a
//!   run of equal keys: it is cut back to the last key change (or, when the
//!   whole page holds one key, extended to the end of that run), so resuming
//!   with `>` neither loses nor repeats a row. Rows whose key is NULL are never read.
//! - without it, the bookmark counts the rows read and a resumed run skips
//!   that many (`MOVE`): exact when the order is deterministic. A `table` is
//!   read in primary-key order; give a `query` an `ORDER BY` over a unique key.

use std::collections::VecDeque;

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::{Arguments, AssertSqlSafe, Column, Executor, Row, SqlSafeStr, Statement};

use super::values::{Kind, Misfit, RowDeserializer, convert, is_special_numeric, push_timestamp, to_json};
use super::{close, connect, describe, qualified, quote_ident};
use crate::config::sql::{PostgresSourceConfig, SourceInput};
use crate::connectors::sql::ShardFilter;
use crate::error::{FaucetError, Result};
use crate::page::{Page, Rejected};
use crate::record::{self, RecordType};
use crate::reshape;
use crate::shard::{Plan, ShardId, Shardable};
use crate::source::Source;
use crate::typed_source::IntoTyped;

/// The name of the cursor.
const CURSOR: &str = "faucet_cursor";

/// Reads a query or table in pages through a cursor, as records of type `R`:
/// JSON maps, or the struct generated from the query's schema (see [`IntoTyped`]).
#[derive(Debug)]
pub struct PostgresSource<R = Value> {
    config: PostgresSourceConfig,
    conn: Option<PgConnection>,
    kinds: Vec<(String, Kind)>,
    /// The positions of the table's primary-key columns among `kinds`: they
    /// name a row that does not fit the record type.
    key_columns: Vec<usize>,
    /// Rows fetched but not yet paged (the look-ahead of replication mode),
    /// each with its replication key.
    carry: VecDeque<(Read<R>, Option<String>)>,
    /// Rows read so far (the position without a replication key).
    offset: u64,
    /// The largest replication key value confirmed so far.
    after: Option<String>,
    exhausted: bool,
    /// Records of confirmed pages handed back by the driver, refilled in place.
    spare: Vec<Value>,
    /// `shard: {key}`, and the range of a sharded run.
    shard: ShardFilter,
}

/// A row read: its record, or why it does not fit the record type.
type Read<R> = std::result::Result<R, Box<Rejected>>;

impl PostgresSource {
    /// A source for `config`; nothing is read before [`Source::resume`].
    pub fn new(config: PostgresSourceConfig) -> Self {
        PostgresSource::at(config, 0, None, ShardFilter::default())
    }

    /// Splits a sharded run by the integer column `key` (`shard: {key}`).
    pub fn with_shard_key(mut self, key: impl Into<String>) -> Self {
        self.shard = ShardFilter::by(key);
        self
    }
}

impl<R: RecordType> IntoTyped<R> for PostgresSource {
    type Typed = PostgresSource<R>;

    /// The same source, yielding `R`. Rows fetched already are fetched again
    /// (the cursor reopens at the position of the last page yielded).
    fn into_typed(self) -> PostgresSource<R> {
        PostgresSource::at(self.config, self.offset, self.after, self.shard)
    }
}

impl<R: RecordType> PostgresSource<R> {
    /// A source for `config` positioned after `offset` rows, or after the
    /// replication key value `after`; the cursor opens on the first page.
    fn at(config: PostgresSourceConfig, offset: u64, after: Option<String>, shard: ShardFilter) -> Self {
        PostgresSource {
            config,
            conn: None,
            kinds: Vec::new(),
            key_columns: Vec::new(),
            carry: VecDeque::new(),
            offset,
            after,
            exhausted: false,
            spare: Vec::new(),
            shard,
        }
    }

    /// The inner query, its arguments, and the order a table is read in.
    async fn inner(&self, conn: &mut PgConnection) -> Result<(String, Vec<Value>, Vec<String>)> {
        match &self.config.input {
            SourceInput::Query { sql, params } => {
                let sql = sql.trim().trim_end_matches(';').to_owned();
                Ok((sql, params.clone(), Vec::new()))
            }
            SourceInput::Table { schema, name } => {
                let table = qualified(schema.as_deref(), name);
                let rows = sqlx::query(
                    "SELECT a.attname::text FROM pg_index i \
                     JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true \
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                     WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY k.n",
                )
                .bind(&table)
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| {
                    FaucetError::source(describe(&e, &format!("reading the primary key of {table}")))
                })?;
                let order = rows.iter().map(|r| r.get::<String, _>(0)).collect();
                Ok((format!("SELECT * FROM {table}"), Vec::new(), order))
            }
        }
    }

    /// Opens the transaction and the cursor, positioned after the bookmark.
    async fn open(&mut self) -> Result<()> {
        if let SourceInput::Table { schema, name } = &self.config.input {
            // Names from `${env:…}` are checked only now; written ones passed at build time.
            crate::connectors::sql::sink::check_identifier("table", name)?;
            if let Some(schema) = schema {
                crate::connectors::sql::sink::check_identifier("schema", schema)?;
            }
        }
        let mut conn = connect(&self.config.connection_url, FaucetError::source).await?;
        let err = |e: sqlx::Error, doing: &str| FaucetError::source(describe(&e, doing));
        sqlx::raw_sql(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL TIME ZONE 'UTC'; \
             SET LOCAL DateStyle = 'ISO, MDY'; SET LOCAL extra_float_digits = 1; \
             SET LOCAL IntervalStyle = 'iso_8601'; \
             SET LOCAL synchronize_seqscans = off",
        )
        .execute(&mut conn)
        .await
        .map_err(|e| err(e, "starting the read transaction"))?;
        let (inner, params, pk) = self.inner(&mut conn).await?;
        let inner = self.shard.wrap(inner, quote_ident);

        // The inner query's columns and their types decide each column's conversion.
        let statement = (&mut conn)
            .prepare(AssertSqlSafe(inner.clone()).into_sql_str())
            .await
            .map_err(|e| err(e, "preparing the query"))?;
        let mut names: Vec<String> = Vec::new();
        let mut oids: Vec<i64> = Vec::new();
        for column in statement.columns() {
            let name = column.name().to_owned();
            if names.contains(&name) {
                return Err(FaucetError::source(format!(
                    "postgres: the query returns two columns named {name:?}; give them distinct names (AS …)"
                )));
            }
            names.push(name);
            oids.push(i64::from(column.type_info().oid().map(|o| o.0).unwrap_or(25)));
        }
        let types = sqlx::query(
            "SELECT t.oid::int8, t.typname::text, t.typcategory::text, coalesce(e.typname::text, ''), \
             format_type(t.oid, NULL) FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A' \
             WHERE t.oid = ANY($1)",
        )
        .bind(&oids)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| err(e, "reading column types"))?;
        let type_of = |oid: i64| types.iter().find(|r| r.get::<i64, _>(0) == oid);
        let mut kinds = Vec::with_capacity(names.len());
        let mut exprs = Vec::with_capacity(names.len() + 1);
        let mut key_type = None;
        for (name, oid) in names.iter().zip(&oids) {
            let (typname, category, elem, formatted) = match type_of(*oid) {
                Some(r) => (
                    r.get::<String, _>(1),
                    r.get::<String, _>(2),
                    r.get::<String, _>(3),
                    r.get::<String, _>(4),
                ),
                None => ("text".into(), "S".into(), String::new(), "text".into()),
            };
            let col = format!("q.{}", quote_ident(name));
            let (kind, expr) = convert(&typname, &category, &elem, &col);
            if self.config.replication_key.as_deref() == Some(name.as_str()) {
                key_type = Some(formatted);
            }
            kinds.push((name.clone(), kind));
            exprs.push(expr);
        }

        let mut args = PgArguments::default();
        for p in &params {
            bind_param(&mut args, p)?;
        }
        let mut filter = String::new();
        let order: Vec<String> = match &self.config.replication_key {
            Some(key) => {
                let Some(ty) = key_type else {
                    return Err(FaucetError::source(format!(
                        "postgres: replication_key {key:?} is not a column of the query (columns: {})",
                        names.join(", ")
                    )));
                };
                exprs.push(format!("q.{}::text", quote_ident(key)));
                filter = format!(" WHERE q.{} IS NOT NULL", quote_ident(key));
                if let Some(after) = &self.after {
                    args.add(after.as_str())
                        .map_err(|e| FaucetError::source(format!("binding the bookmark: {e}")))?;
                    filter.push_str(&format!(
                        " AND q.{} > ${}::text::{ty}",
                        quote_ident(key),
                        params.len() + 1
                    ));
                }
                vec![format!("q.{}", quote_ident(key))]
            }
            None => pk.iter().map(|c| format!("q.{}", quote_ident(c))).collect(),
        };
        let order = if order.is_empty() { String::new() } else { format!(" ORDER BY {}", order.join(", ")) };
        let declare = format!(
            "DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT {} FROM ({inner}) AS q{filter}{order}",
            exprs.join(", ")
        );
        sqlx::query_with(AssertSqlSafe(declare), args)
            .execute(&mut conn)
            .await
            .map_err(|e| err(e, "declaring the cursor"))?;
        if self.config.replication_key.is_none() && self.offset > 0 {
            let sql = format!("MOVE FORWARD {} IN {CURSOR}", self.offset);
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .map_err(|e| err(e, "skipping read rows"))?;
        }
        self.key_columns = pk.iter().filter_map(|c| names.iter().position(|n| n == c)).collect();
        self.kinds = kinds;
        self.conn = Some(conn);
        Ok(())
    }

    /// Fetches up to `n` rows into `carry`; false when the cursor is exhausted.
    ///
    /// Typed records are decoded as the rows arrive, so no row is held longer
    /// than it takes to decode it.
    async fn fetch(&mut self, n: usize) -> Result<bool> {
        let mut conn = self.conn.take().expect("opened");
        let result = self.fetch_on(&mut conn, n).await;
        self.conn = Some(conn);
        result
    }

    async fn fetch_on(&mut self, conn: &mut PgConnection, n: usize) -> Result<bool> {
        let sql = format!("FETCH FORWARD {n} FROM {CURSOR}");
        let failed = |e: sqlx::Error| FaucetError::source(describe(&e, "fetching rows"));
        let keyed = self.config.replication_key.is_some();
        if R::SCHEMA.is_some() {
            let mut rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch(conn);
            // The rows before these: the position of a row that does not fit.
            let before = self.offset + self.carry.len() as u64;
            let mut got = 0;
            while let Some(row) = rows.try_next().await.map_err(failed)? {
                let key = if keyed { self.replication_key(&row)? } else { None };
                let read = R::deserialize(RowDeserializer::new(&row, &self.kinds))
                    .map_err(|misfit| Box::new(self.misfit(&row, before + got, misfit)));
                self.carry.push_back((read, key));
                got += 1;
            }
            return Ok(got == n as u64);
        }
        let rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(conn).await.map_err(failed)?;
        let got = rows.len();
        let mut records = Vec::with_capacity(got);
        let mut keys = Vec::with_capacity(got);
        for row in &rows {
            let spare = self.spare.pop();
            let (record, key) = self.record(row, keyed, spare)?;
            records.push(record);
            keys.push(key);
        }
        match R::from_json_vec(records) {
            Ok(records) => self.carry.extend(records.into_iter().map(Ok).zip(keys)),
            // A record type without a schema that is not JSON: decoded from the JSON.
            Err(json) => self.carry.extend(json.into_iter().map(decode).zip(keys)),
        }
        Ok(got == n)
    }

    /// The record of one row, and its replication key.
    ///
    /// `spare` is a record of an earlier, confirmed page, whose map is reused
    /// (see [`reshape::map_with_keys`]): a row then costs no key clone, no map
    /// and (mostly) no string. Column names are distinct (checked when opening).
    fn record(&self, row: &PgRow, keyed: bool, spare: Option<Value>) -> Result<(Value, Option<String>)> {
        let text = |i: usize, name: &str| -> Result<Option<&str>> {
            // Every column is converted to text by the query itself (see `convert`),
            // so the per-value type check of `try_get` has nothing to catch.
            row.try_get_unchecked(i)
                .map_err(|e| FaucetError::source(describe(&e, &format!("reading column {name}"))))
        };
        let mut object = reshape::map_with_keys(spare, self.kinds.iter().map(|(name, _)| name));
        for (i, ((name, kind), value)) in self.kinds.iter().zip(object.values_mut()).enumerate() {
            set_json(value, *kind, text(i, name)?, name)?;
        }
        let key = if keyed { self.replication_key(row)? } else { None };
        Ok((Value::Object(object), key))
    }

    /// The row's replication key, as text (the column after the query's).
    fn replication_key(&self, row: &PgRow) -> Result<Option<String>> {
        row.try_get::<Option<String>, _>(self.kinds.len())
            .map_err(|e| FaucetError::source(describe(&e, "reading the replication key")))
    }

    /// The reject of a row that does not fit the record type: its JSON as
    /// the payload, and a schema error naming the column and the row, by its
    /// primary key, its replication key, or its position (`before` rows
    /// precede it).
    fn misfit(&self, row: &PgRow, before: u64, misfit: Misfit) -> Rejected {
        let text = |i: usize| match row.try_get_unchecked::<Option<&str>, _>(i) {
            Ok(Some(text)) => text.to_owned(),
            _ => "NULL".to_owned(),
        };
        let named = |pairs: Vec<(&str, String)>| {
            let pairs: Vec<String> = pairs.iter().map(|(name, value)| format!("{name} = {value}")).collect();
            format!("the row with {}", pairs.join(", "))
        };
        let row_name = match &self.config.replication_key {
            _ if !self.key_columns.is_empty() => {
                named(self.key_columns.iter().map(|&i| (self.kinds[i].0.as_str(), text(i))).collect())
            }
            Some(key) => named(vec![(key.as_str(), text(self.kinds.len()))]),
            None => format!("row {} of the result", before + 1),
        };
        let error = match &misfit.column {
            Some(column) => {
                record::schema_error(format_args!("column `{column}` of {row_name}: {}", misfit.message))
            }
            None => record::schema_error(format_args!("{row_name}: {}", misfit.message)),
        };
        let payload = self.record(row, false, None).map_or(Value::Null, |(record, _)| record);
        Rejected { payload, error }
    }
}

/// A JSON record decoded as `R`, or rejected with a schema error.
fn decode<R: RecordType>(json: Value) -> Read<R> {
    record::decode_json(&json).map_err(|error| Box::new(Rejected { payload: json, error }))
}

/// Binds a query parameter by its JSON type.
fn bind_param(args: &mut PgArguments, value: &Value) -> Result<()> {
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
    added.map_err(|e| FaucetError::source(format!("binding a parameter: {e}")))
}

/// Stores a column's JSON value in `value`, reusing the string it holds for
/// the kinds that are strings.
fn set_json(value: &mut Value, kind: Kind, text: Option<&str>, name: &str) -> Result<()> {
    match (kind, text, &mut *value) {
        (Kind::Text, Some(text), Value::String(held)) => {
            held.clear();
            held.push_str(text);
        }
        (Kind::Timestamp | Kind::TimestampTz, Some(text), Value::String(held)) => {
            held.clear();
            push_timestamp(text, kind == Kind::TimestampTz, held);
        }
        (Kind::Numeric, Some(text), Value::String(held)) if !is_special_numeric(text) => {
            held.clear();
            held.push_str(text);
        }
        _ => *value = to_json(kind, text, name)?,
    }
    Ok(())
}

impl<R: RecordType> Shardable for PostgresSource<R> {
    /// Probes the shard key's bounds over the query, on a connection of its own.
    async fn plan(&mut self, count: u32) -> Result<Plan> {
        let key = self.shard.key("postgres")?.to_owned();
        let mut conn = connect(&self.config.connection_url, FaucetError::source).await?;
        let probed = async {
            let (inner, params, _) = self.inner(&mut conn).await?;
            let sql = self.shard.bounds_query("postgres", &inner, quote_ident, "int8")?;
            let mut args = PgArguments::default();
            for p in &params {
                bind_param(&mut args, p)?;
            }
            let row = sqlx::query_with(AssertSqlSafe(sql), args).fetch_one(&mut conn).await.map_err(|e| {
                FaucetError::source(describe(&e, &format!("finding the bounds of the shard key {key:?}")))
            })?;
            let bound = |i: usize| {
                row.try_get::<Option<i64>, _>(i).map_err(|e| {
                    FaucetError::source(describe(&e, &format!("reading the bounds of the shard key {key:?}")))
                })
            };
            Ok::<_, FaucetError>(bound(0)?.zip(bound(1)?))
        }
        .await;
        close(conn).await;
        Ok(Plan::ranges(&key, probed?, count))
    }

    fn narrow(&mut self, shard: ShardId, plan: &Plan) -> Result<()> {
        self.shard.narrow("postgres", shard, plan)
    }
}

impl<R: RecordType> Source for PostgresSource<R> {
    type Record = R;

    fn connector_name(&self) -> &'static str {
        "postgres"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        if let Some(conn) = self.conn.take() {
            close(conn).await;
        }
        self.carry.clear();
        self.exhausted = false;
        self.offset = 0;
        self.after = None;
        if let Some(b) = bookmark.filter(|b| !b.is_null()) {
            match &self.config.replication_key {
                Some(key) => {
                    if b.get("replication_key").and_then(Value::as_str) != Some(key.as_str()) {
                        return Err(FaucetError::config(format!(
                            "postgres: the bookmark {b} was not written for replication_key {key:?}; reset the state to read from the start"
                        )));
                    }
                    self.after = b.get("after").and_then(Value::as_str).map(str::to_owned);
                }
                None => {
                    self.offset = b.get("offset").and_then(Value::as_u64).ok_or_else(|| {
                        FaucetError::config(format!(
                            "postgres: the bookmark {b} has no row offset (was it written with a replication_key?)"
                        ))
                    })?;
                }
            }
        }
        self.open().await
    }

    fn recycle(&mut self, spent: Vec<R>) {
        if let Ok(json) = R::into_json_vec(spent) {
            self.spare = json;
        }
    }

    async fn next_page(&mut self) -> Result<Option<Page<R>>> {
        if self.conn.is_none() {
            // Rows fetched before (a fetch cut short) are read again from the position.
            self.carry.clear();
            self.exhausted = false;
            self.open().await?;
        }
        let size = self.config.batch_size.max(1);
        let keyed = self.config.replication_key.is_some();
        // Fill to one page plus, with a key, one row of look-ahead.
        let want = if keyed { size + 1 } else { size };
        if !self.exhausted && self.carry.len() < want {
            let n = want - self.carry.len();
            self.exhausted = !self.fetch(n).await?;
        }
        if self.carry.is_empty() {
            if let Some(mut conn) = self.conn.take() {
                let _ = sqlx::raw_sql("COMMIT").execute(&mut conn).await;
                close(conn).await;
            }
            return Ok(None);
        }
        let mut take = self.carry.len().min(size);
        if keyed && self.carry.len() > size {
            let last = self.carry[size - 1].1.clone();
            if self.carry[size].1 == last {
                // The page would split a run of equal keys: cut back to the last change…
                match (0..size - 1).rev().find(|&i| self.carry[i].1 != last) {
                    Some(i) => take = i + 1,
                    None => {
                        // …or, when the page is one run, extend it to the run's end.
                        take = size;
                        loop {
                            while take < self.carry.len() && self.carry[take].1 == last {
                                take += 1;
                            }
                            if take < self.carry.len() || self.exhausted {
                                break;
                            }
                            self.exhausted = !self.fetch(size).await?;
                        }
                    }
                }
            }
        }
        let mut records = Vec::with_capacity(take);
        let mut rejects = Vec::new();
        let mut last_key = None;
        for (read, key) in self.carry.drain(..take) {
            match read {
                Ok(record) => records.push(record),
                Err(rejected) => rejects.push(*rejected),
            }
            last_key = key;
        }
        self.offset += take as u64;
        let bookmark = match &self.config.replication_key {
            Some(key) => {
                if last_key.is_some() {
                    self.after = last_key;
                }
                json!({ "replication_key": key, "after": self.after })
            }
            None => json!({ "offset": self.offset }),
        };
        Ok(Some(Page { records, rejects, bookmark: Some(bookmark), ..Page::default() }))
    }
}

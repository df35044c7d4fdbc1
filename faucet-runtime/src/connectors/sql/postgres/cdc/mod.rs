//! The `postgres_cdc` source: row changes through logical replication.
//!
//! **Decoding path.** The source reads a `pgoutput` replication slot with the
//! SQL slot functions over an ordinary sqlx connection (sqlx does not speak
//! the streaming replication protocol): each read is a cursor over
//! `pg_logical_slot_peek_binary_changes(slot, NULL, n, 'proto_version', '1',
//! 'publication_names', pub)`, whose messages [`pgoutput`] decodes. A peek
//! never consumes anything; `n` is honoured at transaction granularity, so a
//! peek always ends on a commit. Values arrive as text and are mapped to JSON
//! like the `postgres` source maps them (see [`text`]).
//!
//! **Records.** `{op, schema, table, lsn, ts_ms, txid, before, after}`, with
//! `op` one of `insert`, `update`, `delete`, `truncate` and `read` (snapshot
//! rows). `lsn` is the transaction's commit LSN, `ts_ms` its commit time,
//! `txid` its transaction id. `before` is the old key (or, under `REPLICA
//! IDENTITY FULL`, the old row) when PostgreSQL logs one; an update that
//! changes the key is delivered as a `delete` of the old key then an `insert`.
//! A TOASTed value an update left unchanged is not sent by PostgreSQL: it is
//! missing from `after`, whose `__unchanged_toast__` lists such columns.
//!
//! **Slot safety.** The bookmark is `{"last_lsn": <end LSN of the last
//! transaction delivered whole>}`, plus `{"txn": {lsn, done}}` when a page
//! ended inside a transaction larger than `batch_size`. The slot is advanced
//! (`pg_replication_slot_advance`) only to a bookmark the driver already
//! persisted — when it asks for the next page, at the end of the run, and on
//! resume — never to what was merely decoded. An advance may be lost in a
//! server crash, so the slot can lag the bookmark: on resume every
//! transaction that committed before `last_lsn` (and the `done` first changes
//! of `txn`) is skipped, so a change is delivered exactly once.
//!
//! **Snapshot seam.** With `snapshot: true` the slot is created first, then a
//! `REPEATABLE READ` transaction reads `pg_current_snapshot()` and pages
//! through every published table (`op: "read"`). The stream that follows skips
//! every transaction that committed before the snapshot's WAL position and is
//! visible in the snapshot (xid below its xmin, or below its xmax and not in
//! its running list), so a change is in the snapshot or in the stream, never
//! in both, never in neither. See docs/cdc.md.

mod pgoutput;
mod snapshot;
mod text;

pub use crate::config::postgres_cdc::{PostgresCdcConfig, TableName};
pub use pgoutput::Lsn;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Row};

use super::{close, connect, describe, quote_ident, sqlstate};
use crate::error::{FaucetError, Result};
use crate::page::{Page, Record};
use crate::source::Source;
use pgoutput::{Datum, Message, Old};
use text::Decode;

/// Which transactions a snapshot already holds: those that committed before
/// `lsn` and are visible in `snapshot` (`xmin:xmax:xip,…`, 64-bit xids).
#[derive(Debug, Clone, PartialEq)]
struct Seam {
    lsn: Lsn,
    xmin: u64,
    xmax: u64,
    xip: Vec<u64>,
}

impl Seam {
    fn parse(snapshot: &str, lsn: Lsn) -> Option<Seam> {
        let mut parts = snapshot.split(':');
        let xmin = parts.next()?.parse().ok()?;
        let xmax = parts.next()?.parse().ok()?;
        let xip = match parts.next()? {
            "" => Vec::new(),
            list => list.split(',').map(|x| x.parse().ok()).collect::<Option<Vec<u64>>>()?,
        };
        Some(Seam { lsn, xmin, xmax, xip })
    }

    fn snapshot_text(&self) -> String {
        let xip: Vec<String> = self.xip.iter().map(u64::to_string).collect();
        format!("{}:{}:{}", self.xmin, self.xmax, xip.join(","))
    }

    /// Whether transaction `xid` (pgoutput's 32-bit id) committed inside the snapshot.
    ///
    /// The 32-bit id is widened next to `xmax` (ids in use are within 2^31 of
    /// each other, which PostgreSQL's wraparound protection guarantees).
    fn holds(&self, commit_lsn: Lsn, xid: u32) -> bool {
        let full = widen(xid, self.xmax);
        commit_lsn < self.lsn && (full < self.xmin || (full < self.xmax && !self.xip.contains(&full)))
    }
}

/// The 64-bit transaction id nearest `near` whose low 32 bits are `xid`.
fn widen(xid: u32, near: u64) -> u64 {
    let delta = xid.wrapping_sub(near as u32) as i32;
    near.wrapping_add_signed(i64::from(delta))
}

/// Where the stream stands: the source's bookmark.
#[derive(Debug, Clone, Default, PartialEq)]
struct Position {
    /// End LSN of the last transaction delivered whole: the slot may advance here.
    last_lsn: Lsn,
    /// A transaction delivered in part: its commit LSN and how many of its changes.
    partial: Option<(Lsn, u64)>,
    /// The snapshot's seam, until the stream passes it.
    seam: Option<Seam>,
    /// The snapshot still being read.
    snapshot: Option<snapshot::Progress>,
}

impl Position {
    fn to_json(&self) -> Value {
        let mut b = Map::new();
        b.insert("last_lsn".into(), json!(self.last_lsn.to_string()));
        if let Some((lsn, done)) = self.partial {
            b.insert("txn".into(), json!({"lsn": lsn.to_string(), "done": done}));
        }
        if let Some(seam) = &self.seam {
            b.insert("seam".into(), json!({"lsn": seam.lsn.to_string(), "snapshot": seam.snapshot_text()}));
        }
        if let Some(progress) = &self.snapshot {
            b.insert("snapshot".into(), progress.to_json());
        }
        Value::Object(b)
    }

    fn from_json(b: &Value) -> Result<Position> {
        let invalid = || FaucetError::state(format!("invalid postgres_cdc bookmark {b}"));
        let lsn = |v: Option<&Value>| v.and_then(Value::as_str).and_then(Lsn::parse);
        let last_lsn = lsn(b.get("last_lsn")).ok_or_else(invalid)?;
        let partial = match b.get("txn") {
            None | Some(Value::Null) => None,
            Some(t) => Some((
                lsn(t.get("lsn")).ok_or_else(invalid)?,
                t.get("done").and_then(Value::as_u64).ok_or_else(invalid)?,
            )),
        };
        let seam = match b.get("seam") {
            None | Some(Value::Null) => None,
            Some(s) => {
                let at = lsn(s.get("lsn")).ok_or_else(invalid)?;
                Some(
                    s.get("snapshot")
                        .and_then(Value::as_str)
                        .and_then(|t| Seam::parse(t, at))
                        .ok_or_else(invalid)?,
                )
            }
        };
        let snapshot = match b.get("snapshot") {
            None | Some(Value::Null) => None,
            Some(p) => Some(snapshot::Progress::from_json(p).ok_or_else(invalid)?),
        };
        Ok(Position { last_lsn, partial, seam, snapshot })
    }
}

/// A column of a relation and how its values decode.
#[derive(Debug)]
struct Col {
    name: String,
    key: bool,
    decode: Decode,
}

/// A relation as the stream last described it.
#[derive(Debug)]
struct Rel {
    schema: String,
    name: String,
    columns: Vec<Col>,
    /// The columns that identify a row: the replica identity's, or the
    /// primary key's under `REPLICA IDENTITY FULL` (empty: none).
    key: Vec<usize>,
    /// Selected by `tables`.
    wanted: bool,
}

/// The transaction being decoded.
#[derive(Debug)]
struct Txn {
    lsn: Lsn,
    xid: u32,
    ts_ms: i64,
    /// Already delivered, or held by the snapshot.
    skip: bool,
    /// Changes already delivered before a crash (the bookmark's `txn.done`).
    skip_changes: u64,
    /// Changes seen so far.
    seen: u64,
}

/// The name of the peek cursor.
const PEEK: &str = "faucet_cdc_peek";

/// Streams a publication's row changes from a logical replication slot.
pub struct PostgresCdcSource {
    config: PostgresCdcConfig,
    conn: Option<PgConnection>,
    pos: Position,
    /// The slot's confirmed position as this run left it.
    slot_at: Lsn,
    /// `last_lsn` of the last page handed out: persisted once the next page is asked for.
    handed: Option<Lsn>,
    snapshot: Option<snapshot::Reader>,
    relations: HashMap<u32, Rel>,
    types: HashMap<u32, Decode>,
    cursor_open: bool,
    rows: VecDeque<Vec<u8>>,
    txn: Option<Txn>,
    /// Records of the current transaction held back for the next page.
    carry: Vec<Record>,
    delivered: u64,
    last_activity: Instant,
    last_bump: Instant,
    done: bool,
}

impl fmt::Debug for PostgresCdcSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresCdcSource").field("config", &self.config).field("pos", &self.pos).finish()
    }
}

fn err(e: sqlx::Error, doing: &str) -> FaucetError {
    FaucetError::source(describe(&e, doing))
}

/// SQLSTATE 55006: the slot is held by another session.
fn slot_busy(e: &sqlx::Error) -> bool {
    sqlstate(e).as_deref() == Some("55006")
}

impl PostgresCdcSource {
    /// A source for `config`; nothing is read before [`Source::resume`].
    pub fn new(config: PostgresCdcConfig) -> Self {
        PostgresCdcSource {
            config,
            conn: None,
            pos: Position::default(),
            slot_at: Lsn(0),
            handed: None,
            snapshot: None,
            relations: HashMap::new(),
            types: HashMap::new(),
            cursor_open: false,
            rows: VecDeque::new(),
            txn: None,
            carry: Vec::new(),
            delivered: 0,
            last_activity: Instant::now(),
            last_bump: Instant::now(),
            done: false,
        }
    }

    fn conn(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("connected by resume")
    }

    fn slot_error(&self, message: impl fmt::Display) -> FaucetError {
        FaucetError::source(format!("postgres_cdc: slot {:?}: {message}", self.config.slot_name))
    }

    /// The slot's plugin, database and confirmed position, if it exists.
    async fn slot(&mut self) -> Result<Option<(String, String, Option<Lsn>)>> {
        let slot = self.config.slot_name.clone();
        let row = sqlx::query(
            "SELECT plugin::text, coalesce(database::text, ''), confirmed_flush_lsn::text \
             FROM pg_replication_slots WHERE slot_name = $1",
        )
        .bind(&slot)
        .fetch_optional(self.conn())
        .await
        .map_err(|e| err(e, "reading the replication slot"))?;
        Ok(row.map(|r| {
            (
                r.get::<Option<String>, _>(0).unwrap_or_default(),
                r.get(1),
                r.get::<Option<String>, _>(2).and_then(|l| Lsn::parse(&l)),
            )
        }))
    }

    /// Checks the publication, creating it for `tables` when allowed.
    async fn publication(&mut self) -> Result<()> {
        let publication = self.config.publication_name.clone();
        let exists = sqlx::query("SELECT 1 FROM pg_publication WHERE pubname = $1")
            .bind(&publication)
            .fetch_optional(self.conn())
            .await
            .map_err(|e| err(e, "reading the publication"))?
            .is_some();
        if !exists {
            if self.config.tables.is_empty() || !self.config.create_slot_if_missing {
                return Err(FaucetError::source(format!(
                    "postgres_cdc: publication {publication:?} does not exist; create it (`CREATE PUBLICATION {} FOR TABLE …` or `FOR ALL TABLES`), or list `tables` to have faucet create it",
                    quote_ident(&publication)
                )));
            }
            let tables: Vec<String> = self
                .config
                .tables
                .iter()
                .map(|t| format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.name)))
                .collect();
            let sql =
                format!("CREATE PUBLICATION {} FOR TABLE {}", quote_ident(&publication), tables.join(", "));
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(self.conn())
                .await
                .map_err(|e| err(e, &format!("creating publication {publication:?}")))?;
        }
        if !self.config.tables.is_empty() {
            let published = self.published().await?;
            if let Some(missing) = self.config.tables.iter().find(|t| !published.contains(t)) {
                return Err(FaucetError::source(format!(
                    "postgres_cdc: table {}.{} is not in publication {publication:?}; add it (`ALTER PUBLICATION {} ADD TABLE …`)",
                    missing.schema,
                    missing.name,
                    quote_ident(&publication)
                )));
            }
        }
        Ok(())
    }

    /// The publication's tables, in (schema, name) order.
    async fn published(&mut self) -> Result<Vec<TableName>> {
        let publication = self.config.publication_name.clone();
        let rows = sqlx::query(
            "SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2",
        )
        .bind(&publication)
        .fetch_all(self.conn())
        .await
        .map_err(|e| err(e, "listing the publication's tables"))?;
        Ok(rows.iter().map(|r| TableName { schema: r.get(0), name: r.get(1) }).collect())
    }

    fn wanted(&self, schema: &str, name: &str) -> bool {
        self.config.tables.is_empty()
            || self.config.tables.iter().any(|t| t.schema == schema && t.name == name)
    }

    /// Moves the slot's confirmed position to `to` (a persisted bookmark's `last_lsn`).
    async fn advance(&mut self, to: Lsn) -> Result<()> {
        if to <= self.slot_at {
            return Ok(());
        }
        let (slot, target) = (self.config.slot_name.clone(), to.to_string());
        let mut attempt = 0;
        loop {
            let done =
                sqlx::query("SELECT end_lsn::text FROM pg_replication_slot_advance($1, $2::text::pg_lsn)")
                    .bind(&slot)
                    .bind(&target)
                    .fetch_one(self.conn())
                    .await;
            match done {
                Ok(_) => break,
                Err(e) if slot_busy(&e) && attempt < self.config.slot_acquire_retries => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(err(e, &format!("advancing slot {slot:?} to {target}"))),
            }
        }
        self.slot_at = to;
        Ok(())
    }

    /// Confirms the last page handed out (the driver persisted it before asking again).
    async fn confirm(&mut self) -> Result<()> {
        if let Some(to) = self.handed.take() {
            self.advance(to).await?;
        }
        Ok(())
    }

    /// Starts the initial snapshot: waits until every transaction running now
    /// has ended, so that each one that committed before the slot's start is
    /// visible in the snapshot, then takes it.
    async fn start_snapshot(&mut self) -> Result<()> {
        let xmax: i64 = sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::int8")
            .fetch_one(self.conn())
            .await
            .map_err(|e| err(e, "reading the running transactions"))?;
        let mut next_note = Instant::now() + Duration::from_secs(10);
        loop {
            let xmin: i64 = sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8")
                .fetch_one(self.conn())
                .await
                .map_err(|e| err(e, "reading the running transactions"))?;
            if xmin >= xmax {
                break;
            }
            if Instant::now() >= next_note {
                next_note += Duration::from_secs(10);
                tracing::info!(slot = %self.config.slot_name, "the snapshot waits for transactions older than the slot to end");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let taken = snapshot::begin(self.conn()).await?;
        let at = Lsn::parse(&taken.insert_lsn).ok_or_else(|| self.slot_error("unreadable WAL position"))?;
        let seam = Seam::parse(&taken.snapshot, at)
            .ok_or_else(|| self.slot_error(format!("unreadable snapshot {:?}", taken.snapshot)))?;
        let tables: VecDeque<TableName> =
            self.published().await?.into_iter().filter(|t| self.wanted(&t.schema, &t.name)).collect();
        self.pos.seam = Some(seam);
        self.pos.snapshot = Some(snapshot::Progress { tables, after: None });
        self.snapshot = Some(snapshot::Reader::new(at.to_string(), taken.ts_ms));
        Ok(())
    }

    /// Resumes a snapshot a crash interrupted, in a new transaction: the rest
    /// is read as of now, and the seam stays the first snapshot's (docs/cdc.md).
    async fn resume_snapshot(&mut self) -> Result<()> {
        let taken = snapshot::begin(self.conn()).await?;
        let lsn = self.pos.seam.as_ref().map_or_else(|| taken.insert_lsn.clone(), |s| s.lsn.to_string());
        self.snapshot = Some(snapshot::Reader::new(lsn, taken.ts_ms));
        Ok(())
    }

    /// Reads a relation message: column decodings (types looked up once) and key.
    async fn relation(&mut self, r: pgoutput::Relation) -> Result<()> {
        let missing: Vec<i64> = r
            .columns
            .iter()
            .map(|c| c.type_oid)
            .filter(|oid| !self.types.contains_key(oid))
            .map(i64::from)
            .collect();
        if !missing.is_empty() {
            let rows = sqlx::query(
                // A domain decodes as its base type, as the `postgres` source's row
                // description reports it (and an array's element the same way).
                "SELECT d.oid::int8, t.typname::text, t.typcategory::text, coalesce(e.typname::text, ''), \
                 coalesce(e.typdelim::text, ',') FROM pg_type d \
                 JOIN pg_type t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END \
                 LEFT JOIN pg_type e0 ON e0.oid = t.typelem AND t.typcategory = 'A' \
                 LEFT JOIN pg_type e ON e.oid = CASE WHEN e0.typtype = 'd' THEN e0.typbasetype ELSE e0.oid END \
                 WHERE d.oid = ANY($1)",
            )
            .bind(&missing)
            .fetch_all(self.conn())
            .await
            .map_err(|e| err(e, "reading column types"))?;
            for row in rows {
                let delim = row.get::<String, _>(4).chars().next().unwrap_or(',');
                let decode = Decode::of(
                    &row.get::<String, _>(1),
                    &row.get::<String, _>(2),
                    &row.get::<String, _>(3),
                    delim,
                );
                self.types.insert(row.get::<i64, _>(0) as u32, decode);
            }
        }
        let mut key: Vec<usize> = Vec::new();
        if r.identity == b'f' {
            // Every column is flagged: the primary key identifies the row.
            let pk: Vec<String> = sqlx::query_scalar(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
                 AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::int8::oid AND i.indisprimary",
            )
            .bind(i64::from(r.oid))
            .fetch_all(self.conn())
            .await
            .map_err(|e| err(e, "reading a primary key"))?;
            key.extend(r.columns.iter().enumerate().filter(|(_, c)| pk.contains(&c.name)).map(|(i, _)| i));
        } else {
            key.extend(r.columns.iter().enumerate().filter(|(_, c)| c.key).map(|(i, _)| i));
        }
        let columns = r
            .columns
            .into_iter()
            .map(|c| Col {
                decode: self.types.get(&c.type_oid).cloned().unwrap_or(Decode::Text),
                name: c.name,
                key: c.key,
            })
            .collect();
        let wanted = self.wanted(&r.schema, &r.name);
        self.relations.insert(r.oid, Rel { schema: r.schema, name: r.name, columns, key, wanted });
        Ok(())
    }

    /// Opens a peek cursor from the slot's position; returns the WAL flush
    /// position read just before (everything before it is in the peek).
    async fn open_peek(&mut self) -> Result<Lsn> {
        let (slot, publication) = (self.config.slot_name.clone(), quote_ident(&self.config.publication_name));
        let upto = (self.config.batch_size.saturating_mul(3)).clamp(16, i32::MAX as usize) as i32;
        let mut attempt = 0;
        loop {
            let flushed: String = sqlx::query_scalar("SELECT pg_current_wal_flush_lsn()::text")
                .fetch_one(self.conn())
                .await
                .map_err(|e| err(e, "reading the WAL position"))?;
            sqlx::raw_sql("BEGIN").execute(self.conn()).await.map_err(|e| err(e, "starting a peek"))?;
            let declared = sqlx::query(AssertSqlSafe(format!(
                "DECLARE {PEEK} NO SCROLL CURSOR FOR SELECT data FROM pg_logical_slot_peek_binary_changes(\
                 $1::text::name, NULL, $2::int4, 'proto_version', '1', 'publication_names', $3::text)"
            )))
            .bind(&slot)
            .bind(upto)
            .bind(&publication)
            .execute(self.conn())
            .await;
            let fetched = match declared {
                Ok(_) => self.fetch().await,
                Err(e) => Err(e),
            };
            match fetched {
                Ok(()) => {
                    self.cursor_open = true;
                    return Lsn::parse(&flushed).ok_or_else(|| self.slot_error("unreadable WAL position"));
                }
                Err(e) => {
                    let _ = sqlx::raw_sql("ROLLBACK").execute(self.conn()).await;
                    if slot_busy(&e) && attempt < self.config.slot_acquire_retries {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    return Err(err(e, &format!("reading slot {slot:?}")));
                }
            }
        }
    }

    /// Fetches the next messages of the peek cursor into `rows`.
    async fn fetch(&mut self) -> std::result::Result<(), sqlx::Error> {
        let n = self.config.batch_size.clamp(1, 10_000);
        let rows = sqlx::raw_sql(AssertSqlSafe(format!("FETCH FORWARD {n} FROM {PEEK}")))
            .fetch_all(self.conn())
            .await?;
        for row in rows {
            self.rows.push_back(row.try_get::<Vec<u8>, _>(0)?);
        }
        Ok(())
    }

    async fn close_peek(&mut self) -> Result<()> {
        self.cursor_open = false;
        self.txn = None;
        sqlx::raw_sql("COMMIT").execute(self.conn()).await.map_err(|e| err(e, "ending a peek"))?;
        Ok(())
    }

    /// The next page of changes: `Some` with records or a moved position,
    /// `None` when there is nothing new.
    async fn stream_page(&mut self, limit: usize) -> Result<Option<Vec<Record>>> {
        let start = (self.pos.last_lsn, self.pos.partial);
        let mut page = std::mem::take(&mut self.carry);
        let mut txn_start = 0;
        let mut peeked: Option<(Lsn, bool)> = None;
        loop {
            let Some(data) = self.rows.pop_front() else {
                if self.cursor_open {
                    self.fetch().await.map_err(|e| err(e, "reading the peek cursor"))?;
                    if !self.rows.is_empty() {
                        continue;
                    }
                    self.close_peek().await?;
                }
                if !page.is_empty() || (self.pos.last_lsn, self.pos.partial) != start {
                    return Ok(Some(page));
                }
                match peeked {
                    None => {
                        let flushed = self.open_peek().await?;
                        peeked = Some((flushed, self.rows.is_empty()));
                        continue;
                    }
                    Some((flushed, true)) if self.pos.partial.is_none() && flushed > self.pos.last_lsn => {
                        // An empty peek read the WAL to at least `flushed`: nothing before
                        // it concerns the publication, so the slot may move there (and
                        // release that WAL), at most once per poll interval.
                        if self.last_bump.elapsed() >= self.config.poll_interval {
                            self.last_bump = Instant::now();
                            self.pos.last_lsn = flushed;
                            self.pass_seam();
                            return Ok(Some(page));
                        }
                        return Ok(None);
                    }
                    Some(_) => return Ok(None),
                }
            };
            if let Some((_, empty)) = peeked.as_mut() {
                *empty = false;
            }
            let message = pgoutput::parse(&data).map_err(|e| {
                FaucetError::source(format!("postgres_cdc: undecodable pgoutput message: {e}"))
            })?;
            match message {
                Message::Begin { final_lsn, commit_ts, xid } => {
                    let held = self.pos.seam.as_ref().is_some_and(|s| s.holds(final_lsn, xid));
                    let skip_changes = match self.pos.partial {
                        Some((lsn, done)) if lsn == final_lsn => done,
                        _ => 0,
                    };
                    self.txn = Some(Txn {
                        lsn: final_lsn,
                        xid,
                        ts_ms: pgoutput::unix_ms(commit_ts),
                        skip: final_lsn < self.pos.last_lsn || held,
                        skip_changes,
                        seen: 0,
                    });
                    txn_start = page.len();
                }
                Message::Commit { end_lsn, .. } => {
                    self.txn = None;
                    if end_lsn > self.pos.last_lsn {
                        self.pos.last_lsn = end_lsn;
                        self.pos.partial = None;
                    }
                    self.pass_seam();
                    txn_start = page.len();
                    if page.len() >= limit {
                        return Ok(Some(page));
                    }
                }
                Message::Relation(r) => self.relation(r).await?,
                Message::Other => {}
                change => {
                    let Some(txn) = self.txn.as_mut() else {
                        return Err(FaucetError::source("postgres_cdc: a change outside a transaction"));
                    };
                    txn.seen += 1;
                    if txn.skip || txn.seen <= txn.skip_changes {
                        continue;
                    }
                    let txn = self.txn.as_ref().expect("checked above");
                    records(&self.relations, txn, change, &mut page)?;
                    if page.len() >= limit {
                        if txn_start > 0 {
                            // Keep small transactions whole: this one starts the next page.
                            self.carry = page.split_off(txn_start);
                        } else {
                            self.pos.partial = Some((txn.lsn, txn.seen));
                        }
                        return Ok(Some(page));
                    }
                }
            }
        }
    }

    /// Drops the seam once the stream is past the snapshot's WAL position.
    fn pass_seam(&mut self) {
        if self.pos.seam.as_ref().is_some_and(|s| s.lsn <= self.pos.last_lsn) && self.pos.snapshot.is_none() {
            self.pos.seam = None;
        }
    }

    fn hand_out(&mut self, records: Vec<Record>) -> Page {
        self.delivered += records.len() as u64;
        if !records.is_empty() {
            self.last_activity = Instant::now();
        }
        self.handed = Some(self.pos.last_lsn);
        Page { records, bookmark: Some(self.pos.to_json()), ..Page::default() }
    }

    /// Ends the run: the last page is persisted, so the slot may move to it.
    async fn finish(&mut self) -> Result<Option<Page>> {
        self.done = true;
        if self.cursor_open {
            let _ = self.close_peek().await;
        }
        self.confirm().await?;
        if let Some(conn) = self.conn.take() {
            close(conn).await;
        }
        Ok(None)
    }
}

/// The record(s) of one change.
fn records(
    relations: &HashMap<u32, Rel>,
    txn: &Txn,
    change: Message<'_>,
    out: &mut Vec<Record>,
) -> Result<()> {
    let rel_of = |oid: u32| {
        relations.get(&oid).ok_or_else(|| {
            FaucetError::source(format!("postgres_cdc: a change to relation {oid} before its description"))
        })
    };
    let record = |op: &str, rel: &Rel, before: Value, after: Value| {
        json!({
            "op": op, "schema": rel.schema, "table": rel.name, "lsn": txn.lsn.to_string(),
            "ts_ms": txn.ts_ms, "txid": txn.xid, "before": before, "after": after,
        })
    };
    match change {
        Message::Insert { rel, new } => {
            let rel = rel_of(rel)?;
            if rel.wanted {
                out.push(record("insert", rel, Value::Null, row(rel, &new, false)?));
            }
        }
        Message::Update { rel, old, new } => {
            let rel = rel_of(rel)?;
            if rel.wanted {
                let mut after = row(rel, &new, false)?;
                let before = match old {
                    Some((kind, tuple)) => row(rel, &tuple, kind == Old::Key)?,
                    None => Value::Null,
                };
                fill_unchanged(&mut after, &before);
                let moved = !before.is_null()
                    && !rel.key.is_empty()
                    && rel.key.iter().any(|&i| {
                        let name = rel.columns[i].name.as_str();
                        matches!((before.get(name), after.get(name)), (Some(b), Some(a)) if a != b)
                    });
                if moved {
                    // The key changed: the old row goes, a new one comes.
                    out.push(record("delete", rel, before, Value::Null));
                    out.push(record("insert", rel, Value::Null, after));
                } else {
                    out.push(record("update", rel, before, after));
                }
            }
        }
        Message::Delete { rel, old: (kind, tuple) } => {
            let rel = rel_of(rel)?;
            if rel.wanted {
                out.push(record("delete", rel, row(rel, &tuple, kind == Old::Key)?, Value::Null));
            }
        }
        Message::Truncate { rels } => {
            for oid in rels {
                let rel = rel_of(oid)?;
                if rel.wanted {
                    out.push(record("truncate", rel, Value::Null, Value::Null));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Completes an update's `after` with the unchanged TOASTed values that the
/// old row (`REPLICA IDENTITY FULL`) carries; those still missing stay listed.
fn fill_unchanged(after: &mut Value, before: &Value) {
    let (Some(after), Some(before)) = (after.as_object_mut(), before.as_object()) else { return };
    let Some(Value::Array(unchanged)) = after.remove("__unchanged_toast__") else { return };
    let mut missing = Vec::new();
    for column in unchanged {
        match column.as_str().and_then(|c| before.get(c).map(|v| (c, v))) {
            Some((c, v)) => {
                after.insert(c.to_owned(), v.clone());
            }
            None => missing.push(column),
        }
    }
    if !missing.is_empty() {
        after.insert("__unchanged_toast__".into(), Value::Array(missing));
    }
}

/// A tuple as a JSON object (`keys_only`: the replica identity's columns).
fn row(rel: &Rel, tuple: &[Datum<'_>], keys_only: bool) -> Result<Value> {
    let mut object = Map::with_capacity(tuple.len());
    let mut unchanged = Vec::new();
    for (col, datum) in rel.columns.iter().zip(tuple) {
        if keys_only && !col.key {
            continue;
        }
        match datum {
            Datum::Null => {
                object.insert(col.name.clone(), Value::Null);
            }
            Datum::Unchanged => unchanged.push(Value::String(col.name.clone())),
            Datum::Text(text) => {
                let value = col.decode.decode(text).map_err(|e| {
                    FaucetError::source(format!(
                        "postgres_cdc: {}.{} column {}: {e}",
                        rel.schema, rel.name, col.name
                    ))
                })?;
                object.insert(col.name.clone(), value);
            }
        }
    }
    if !unchanged.is_empty() {
        object.insert("__unchanged_toast__".into(), Value::Array(unchanged));
    }
    Ok(Value::Object(object))
}

crate::typed_source::decoded_into_typed!(PostgresCdcSource);

impl Source for PostgresCdcSource {
    type Record = serde_json::Value;

    const CONFIRMS_UPSTREAM: bool = true;
    // A page holds what the slot had when it was read: a rerun's page may be larger.
    const REPLAYS_PAGES: bool = false;

    fn connector_name(&self) -> &'static str {
        // faucet-stream's name, as metrics and carried-over state name the source.
        "postgres-cdc"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        if let Some(conn) = self.conn.take() {
            close(conn).await;
        }
        let fresh = PostgresCdcSource::new(self.config.clone());
        *self = fresh;
        let mut conn = connect(&self.config.connection_url, FaucetError::source).await?;
        sqlx::raw_sql(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'iso_8601'; \
             SET extra_float_digits = 1; SET bytea_output = 'hex'",
        )
        .execute(&mut conn)
        .await
        .map_err(|e| err(e, "setting up the session"))?;
        self.conn = Some(conn);
        self.publication().await?;
        let database: String = sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(self.conn())
            .await
            .map_err(|e| err(e, "reading the database name"))?;
        let bookmark = bookmark.filter(|b| !b.is_null()).map(|b| Position::from_json(&b)).transpose()?;
        let confirmed = match self.slot().await? {
            Some((plugin, db, confirmed)) => {
                if plugin != "pgoutput" || db != database {
                    return Err(self.slot_error(format!(
                        "it is a {} slot of database {db:?}, but this source needs a pgoutput slot of {database:?}",
                        if plugin.is_empty() { "physical".to_owned() } else { format!("{plugin:?}") }
                    )));
                }
                confirmed.ok_or_else(|| self.slot_error("it has no confirmed position"))?
            }
            None if bookmark.is_some() => {
                return Err(self.slot_error(
                    "it does not exist, but the bookmark says changes were read from it: the changes since are gone; \
                     reset the pipeline's state (and use `snapshot: true`) to start over",
                ));
            }
            None if self.config.create_slot_if_missing => {
                let slot = self.config.slot_name.clone();
                let lsn: String = sqlx::query_scalar(
                    "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')",
                )
                .bind(&slot)
                .fetch_one(self.conn())
                .await
                .map_err(|e| err(e, &format!("creating replication slot {slot:?}")))?;
                Lsn::parse(&lsn).ok_or_else(|| self.slot_error("unreadable creation position"))?
            }
            None => return Err(self.slot_error("it does not exist (and `create_slot_if_missing` is false)")),
        };
        self.slot_at = confirmed;
        match bookmark {
            Some(pos) => {
                if confirmed > pos.last_lsn {
                    return Err(self.slot_error(format!(
                        "its confirmed position {confirmed} is past the bookmark {}: changes in between were consumed \
                         by something else; reset the pipeline's state to start over",
                        pos.last_lsn
                    )));
                }
                self.pos = pos;
                // A crash may have come between persisting the bookmark and advancing the slot.
                let to = self.pos.last_lsn;
                self.advance(to).await?;
                if self.pos.snapshot.is_some() {
                    self.resume_snapshot().await?;
                }
            }
            None => {
                self.pos = Position { last_lsn: confirmed, ..Position::default() };
                if self.config.snapshot {
                    self.start_snapshot().await?;
                }
            }
        }
        Ok(())
    }

    async fn next_page(&mut self) -> Result<Option<Page>> {
        if self.done {
            return Ok(None);
        }
        if self.conn.is_none() {
            self.resume(None).await?;
        }
        // The previous page's bookmark is persisted now: the slot may move to it.
        self.confirm().await?;
        loop {
            let limit = match self.config.max_messages {
                Some(max) if self.delivered >= max => return self.finish().await,
                Some(max) => self.config.batch_size.min((max - self.delivered) as usize),
                None => self.config.batch_size,
            }
            .max(1);
            if let Some(progress) = self.pos.snapshot.as_mut() {
                let mut page = Vec::new();
                let conn = self.conn.as_mut().expect("connected by resume");
                let reader = self.snapshot.as_mut().expect("opened with the progress");
                let finished = reader.fill(conn, progress, limit, &mut page).await?;
                if finished {
                    self.pos.snapshot = None;
                    self.snapshot = None;
                    self.pass_seam();
                }
                if !page.is_empty() || !finished {
                    return Ok(Some(self.hand_out(page)));
                }
            }
            if let Some(page) = self.stream_page(limit).await? {
                return Ok(Some(self.hand_out(page)));
            }
            if self.config.idle_timeout.is_some_and(|idle| self.last_activity.elapsed() >= idle) {
                return self.finish().await;
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seam_holds_what_the_snapshot_saw() {
        let seam = Seam::parse("100:105:101,103", Lsn(1000)).unwrap();
        assert_eq!(seam.snapshot_text(), "100:105:101,103");
        assert!(seam.holds(Lsn(10), 99), "below xmin");
        assert!(seam.holds(Lsn(10), 102), "below xmax, not running");
        assert!(!seam.holds(Lsn(10), 101), "running at the snapshot");
        assert!(!seam.holds(Lsn(10), 105), "at xmax");
        assert!(!seam.holds(Lsn(1000), 99), "committed after the snapshot's WAL position");
    }

    #[test]
    fn xids_widen_across_an_epoch() {
        let near = (3u64 << 32) | 5;
        assert_eq!(widen(5, near), near);
        assert_eq!(widen(0xFFFF_FFF0, near), (2u64 << 32) | 0xFFFF_FFF0);
        assert_eq!(widen(20, (2u64 << 32) | 0xFFFF_FFF0), (3u64 << 32) | 20);
        let seam = Seam::parse(&format!("{}:{}:", (2u64 << 32) | 0xFFFF_FFF0, (3u64 << 32) | 10), Lsn(1000))
            .unwrap();
        assert!(seam.holds(Lsn(1), 5), "epoch 3 xid 5 is below xmax");
        assert!(!seam.holds(Lsn(1), 11));
        assert!(seam.holds(Lsn(1), 0xFFFF_FFF5));
    }

    #[test]
    fn bookmarks_round_trip() {
        let pos = Position {
            last_lsn: Lsn(0x1_0000_0010),
            partial: Some((Lsn(0x1_0000_0020), 7)),
            seam: Seam::parse("5:9:6", Lsn(0x30)),
            snapshot: Some(snapshot::Progress {
                tables: [TableName { schema: "public".into(), name: "a".into() }].into(),
                after: Some(vec!["41".into()]),
            }),
        };
        let json = pos.to_json();
        assert_eq!(json["last_lsn"], "1/10");
        assert_eq!(Position::from_json(&json).unwrap(), pos);
        assert!(Position::from_json(&json!({"last_lsn": "x"})).is_err());
    }
}

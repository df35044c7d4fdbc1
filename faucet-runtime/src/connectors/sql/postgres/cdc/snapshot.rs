//! The initial snapshot of the published tables: each table read in
//! primary-key order through a cursor in one `REPEATABLE READ` transaction,
//! `batch_size` rows per page, converted exactly like the `postgres` source.

use std::collections::VecDeque;

use serde_json::{Map, Value, json};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Row};

use crate::config::postgres_cdc::TableName;
use crate::connectors::postgres::values::{Kind, convert, to_json};
use crate::connectors::postgres::{describe, quote_ident};
use crate::error::{FaucetError, Result};
use crate::page::Record;

const CURSOR: &str = "faucet_cdc_snapshot";

fn err(e: sqlx::Error, doing: &str) -> FaucetError {
    FaucetError::source(describe(&e, doing))
}

/// How far the snapshot got: the tables still to read (the first is being
/// read) and the key of the last row read from it (as text).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Progress {
    pub tables: VecDeque<TableName>,
    pub after: Option<Vec<String>>,
}

impl Progress {
    pub(super) fn to_json(&self) -> Value {
        let tables: Vec<Value> = self.tables.iter().map(|t| json!([t.schema, t.name])).collect();
        json!({ "tables": tables, "after": self.after })
    }

    pub(super) fn from_json(v: &Value) -> Option<Progress> {
        let tables = v
            .get("tables")?
            .as_array()?
            .iter()
            .map(|t| {
                Some(TableName {
                    schema: t.get(0)?.as_str()?.to_owned(),
                    name: t.get(1)?.as_str()?.to_owned(),
                })
            })
            .collect::<Option<VecDeque<_>>>()?;
        let after = match v.get("after") {
            None | Some(Value::Null) => None,
            Some(a) => Some(
                a.as_array()?.iter().map(|k| k.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()?,
            ),
        };
        Some(Progress { tables, after })
    }
}

/// One table being read.
struct Plan {
    table: TableName,
    columns: Vec<(String, Kind)>,
    /// Primary-key columns (empty: the table is read in no order and restarts after a crash).
    key: usize,
}

/// Reads the snapshot in the connection's open `REPEATABLE READ` transaction.
pub(super) struct Reader {
    plan: Option<Plan>,
    /// `lsn` and `ts_ms` of the records: the seam's LSN and the snapshot's time.
    lsn: String,
    ts_ms: i64,
}

/// The snapshot a `REPEATABLE READ` transaction sees, with the WAL insert position and time after it.
pub(super) struct Taken {
    pub snapshot: String,
    pub insert_lsn: String,
    pub ts_ms: i64,
}

/// Opens the `REPEATABLE READ READ ONLY` transaction and takes its snapshot.
pub(super) async fn begin(conn: &mut PgConnection) -> Result<Taken> {
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL synchronize_seqscans = off")
        .execute(&mut *conn)
        .await
        .map_err(|e| err(e, "starting the snapshot transaction"))?;
    let row = sqlx::query(
        "SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text, \
         (extract(epoch FROM clock_timestamp()) * 1000)::int8",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| err(e, "taking the snapshot"))?;
    Ok(Taken { snapshot: row.get(0), insert_lsn: row.get(1), ts_ms: row.get(2) })
}

impl Reader {
    pub(super) fn new(lsn: String, ts_ms: i64) -> Reader {
        Reader { plan: None, lsn, ts_ms }
    }

    /// Appends up to `limit - out.len()` rows to `out`; true when every table is read
    /// (the transaction is then committed).
    pub(super) async fn fill(
        &mut self,
        conn: &mut PgConnection,
        progress: &mut Progress,
        limit: usize,
        out: &mut Vec<Record>,
    ) -> Result<bool> {
        while out.len() < limit {
            if self.plan.is_none() {
                let Some(table) = progress.tables.front().cloned() else {
                    sqlx::raw_sql("COMMIT")
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| err(e, "ending the snapshot transaction"))?;
                    return Ok(true);
                };
                self.plan = Some(open(conn, table, progress.after.as_deref()).await?);
            }
            let plan = self.plan.as_ref().expect("opened above");
            let want = limit - out.len();
            let rows = sqlx::raw_sql(AssertSqlSafe(format!("FETCH FORWARD {want} FROM {CURSOR}")))
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| err(e, "reading the snapshot"))?;
            let got = rows.len();
            for row in rows {
                let mut after = Map::with_capacity(plan.columns.len());
                for (i, (name, kind)) in plan.columns.iter().enumerate() {
                    // Sent as text, converted by the query itself (see `convert`).
                    let text: Option<&str> =
                        row.try_get_unchecked(i).map_err(|e| err(e, "reading a snapshot row"))?;
                    after.insert(name.clone(), to_json(*kind, text, name)?);
                }
                if plan.key > 0 {
                    let n = plan.columns.len();
                    let key = (n..n + plan.key)
                        .map(|i| row.try_get::<String, _>(i).map_err(|e| err(e, "reading a snapshot key")))
                        .collect::<Result<Vec<_>>>()?;
                    progress.after = Some(key);
                }
                out.push(json!({
                    "op": "read",
                    "schema": plan.table.schema,
                    "table": plan.table.name,
                    "lsn": self.lsn,
                    "ts_ms": self.ts_ms,
                    "txid": null,
                    "before": null,
                    "after": after,
                }));
            }
            if got < want {
                sqlx::raw_sql(AssertSqlSafe(format!("CLOSE {CURSOR}")))
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| err(e, "closing a snapshot cursor"))?;
                progress.tables.pop_front();
                progress.after = None;
                self.plan = None;
            }
        }
        Ok(false)
    }
}

/// Plans `table` and declares its cursor, after the key `after` when resuming.
async fn open(conn: &mut PgConnection, table: TableName, after: Option<&[String]>) -> Result<Plan> {
    let qualified = format!("{}.{}", quote_ident(&table.schema), quote_ident(&table.name));
    let what = format!("reading the columns of {qualified}");
    let columns = sqlx::query(
        "SELECT a.attname::text, a.atttypid::int8, t.typname::text, t.typcategory::text, coalesce(e.typname::text, '') \
         FROM pg_attribute a JOIN pg_type d ON d.oid = a.atttypid \
         JOIN pg_type t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END \
         LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A' \
         WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' \
         ORDER BY a.attnum",
    )
    .bind(&qualified)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| err(e, &what))?;
    let key = sqlx::query(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_index i \
         JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
         WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.n",
    )
    .bind(&qualified)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| err(e, &format!("reading the primary key of {qualified}")))?;
    let mut plan = Plan { table, columns: Vec::with_capacity(columns.len()), key: key.len() };
    let mut exprs = Vec::with_capacity(columns.len() + key.len());
    for c in &columns {
        let name: String = c.get(0);
        let (kind, expr) = convert(
            &c.get::<String, _>(2),
            &c.get::<String, _>(3),
            &c.get::<String, _>(4),
            &format!("q.{}", quote_ident(&name)),
        );
        plan.columns.push((name, kind));
        exprs.push(expr);
    }
    let key_cols: Vec<String> =
        key.iter().map(|k| format!("q.{}", quote_ident(&k.get::<String, _>(0)))).collect();
    exprs.extend(key_cols.iter().map(|k| format!("{k}::text")));
    let mut sql =
        format!("DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT {} FROM {qualified} AS q", exprs.join(", "));
    let mut query_args: Vec<&str> = Vec::new();
    if let Some(after) = after.filter(|a| !key.is_empty() && a.len() == key.len()) {
        let params: Vec<String> = key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("${}::text::{}", i + 1, k.get::<String, _>(1)))
            .collect();
        sql.push_str(&format!(" WHERE ({}) > ({})", key_cols.join(", "), params.join(", ")));
        query_args.extend(after.iter().map(String::as_str));
    }
    if !key_cols.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", key_cols.join(", ")));
    }
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for a in query_args {
        query = query.bind(a);
    }
    query
        .execute(&mut *conn)
        .await
        .map_err(|e| err(e, &format!("declaring the snapshot cursor of {qualified}")))?;
    Ok(plan)
}

//! The hand-written references for the PostgreSQL scenarios: what a careful
//! engineer writes with sqlx and no framework.
//!
//! - **B** (PostgreSQL → JSON Lines) lets the server build each row's JSON
//!   (`json_build_object`, the same value mapping faucet's source produces for
//!   these column types) and streams the rows to a buffered file, synced once.
//! - **C** (PostgreSQL → PostgreSQL) streams `COPY … TO STDOUT` of the source
//!   query straight into `COPY … FROM STDIN` of the target, in one transaction:
//!   no decoding at all, the fastest move there is.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};

/// The benchmark's source query (faucet-stream's), as in `scenarios/bench_{b,c}.yaml`.
pub const SOURCE_QUERY: &str =
    "SELECT id, first_name, country, amount, created_at, active, attributes FROM bench ORDER BY id";

fn db(e: sqlx::Error) -> io::Error {
    io::Error::other(e)
}

/// Scenario B: writes every row of [`SOURCE_QUERY`] to `output` as JSON Lines;
/// returns the number of rows.
pub async fn to_jsonl(url: &str, output: &Path) -> io::Result<u64> {
    let mut conn = PgConnection::connect(url).await.map_err(db)?;
    let mut out = BufWriter::with_capacity(64 * 1024, File::create(output)?);
    let sql = "SELECT json_build_object('id', id, 'first_name', first_name, 'country', country, \
               'amount', amount, 'created_at', created_at, 'active', active, 'attributes', attributes)::text \
               FROM bench ORDER BY id";
    let mut rows = sqlx::query_scalar::<_, String>(sql).fetch(&mut conn);
    let mut count = 0;
    while let Some(line) = rows.try_next().await.map_err(db)? {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        count += 1;
    }
    out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_data()?;
    Ok(count)
}

/// Scenario C: copies [`SOURCE_QUERY`] into `target` (emptied first) with
/// COPY out and COPY in; returns the number of rows.
pub async fn copy(url: &str, target: &str) -> io::Result<u64> {
    let mut source = PgConnection::connect(url).await.map_err(db)?;
    let mut sink = PgConnection::connect(url).await.map_err(db)?;
    let mut tx = sink.begin().await.map_err(db)?;
    tx.execute(sqlx::AssertSqlSafe(format!("TRUNCATE {target}"))).await.map_err(db)?;
    let select = "SELECT id, first_name, country, amount, to_json(created_at) #>> '{}', active, attributes \
                  FROM bench ORDER BY id";
    let mut copy_in = tx.copy_in_raw(&format!("COPY {target} FROM STDIN")).await.map_err(db)?;
    let mut copy_out = source.copy_out_raw(&format!("COPY ({select}) TO STDOUT")).await.map_err(db)?;
    while let Some(chunk) = copy_out.try_next().await.map_err(db)? {
        copy_in.send(chunk).await.map_err(db)?;
    }
    drop(copy_out);
    let rows = copy_in.finish().await.map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(rows)
}

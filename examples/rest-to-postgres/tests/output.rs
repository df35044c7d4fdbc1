//! The REST → PostgreSQL example end to end, in a database of its own: all 25
//! users upserted; a second run sends its bookmark and writes nothing.

use std::process::Command;

use sqlx::Connection;

const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

fn run(workdir: &std::path::Path, database: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rest-to-postgres"))
        .env("REST_EXAMPLE_WORKDIR", workdir)
        .env("DATABASE_URL", database)
        .output()
        .unwrap();
    assert!(out.status.success(), "example failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn rest_users_land_in_postgres_and_a_rerun_writes_nothing() {
    let name = format!("faucet_example_test_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&format!("{SERVER}/postgres")).await.unwrap();
    // Two statements: DROP/CREATE DATABASE cannot share a (multi-statement) transaction.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let database = format!("{SERVER}/{name}");
    let work = tempfile::tempdir().unwrap();

    let first = run(work.path(), &database);
    assert!(first.contains("read 25 record(s)") && first.contains("wrote 25"), "{first}");
    let mut db = sqlx::PgConnection::connect(&database).await.unwrap();
    let (count, last): (i64, String) =
        sqlx::query_as("SELECT count(*), max(name) FILTER (WHERE id = 25) FROM faucet_example.users")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!((count, last.as_str()), (25, "user 25"));

    let second = run(work.path(), &database);
    assert!(second.contains("read 0 record(s)"), "the bookmark was sent: {second}");
    db.close().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .unwrap();
}

//! A MariaDB table moved into PostgreSQL by a generated pipeline: every row
//! arrives with its values intact, and a rerun writes nothing.

use std::process::{Command, Stdio};

use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection, Row};

const ROWS: i64 = 20_000;

#[tokio::test]
async fn a_mariadb_table_arrives_in_postgres_intact() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("faucet_e2e_my_{nanos}_{}", std::process::id());
    let mut my = MySqlConnection::connect("mysql://root@127.0.0.1:3306").await.expect("MariaDB on 3306");
    let setup = format!(
        "CREATE DATABASE `{name}`; USE `{name}`; \
         CREATE TABLE src (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(12, 2), ratio DOUBLE, flag BOOLEAN, \
           created DATETIME(6), payload VARBINARY(16)); \
         INSERT INTO src SELECT seq, CONCAT('name ', seq, IF(seq % 7 = 0, ' ü\\t\"q\"', '')), seq / 3, seq / 7, seq % 2 = 0, \
           TIMESTAMP('2024-01-01') + INTERVAL seq SECOND + INTERVAL seq MICROSECOND, UNHEX(HEX(seq)) \
           FROM seq_1_to_{ROWS};"
    );
    sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut my).await.unwrap();
    let mut pg = PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await.unwrap();
    let setup = format!(
        "CREATE SCHEMA {name}; CREATE TABLE {name}.dst (id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(12, 2), \
         ratio DOUBLE PRECISION, flag BOOLEAN, created TIMESTAMP(6), payload TEXT)"
    );
    sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut pg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
            .arg("mysql_to_pg")
            .env("FAUCET_E2E_MYSQL_DB", &name)
            .env("FAUCET_E2E_PG_SCHEMA", &name)
            .env("FAUCET_E2E_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let report = run();
    assert_eq!(report["written"], ROWS, "{report}");

    let my_sql = format!(
        "SET SESSION group_concat_max_len = 100000000; \
         SELECT CAST(CONCAT_WS('|', COUNT(*), SUM(id), SUM(amount), SUM(flag), \
           MD5(GROUP_CONCAT(name ORDER BY id SEPARATOR ',')), \
           MD5(GROUP_CONCAT(DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f') ORDER BY id SEPARATOR ',')), \
           MD5(GROUP_CONCAT(TO_BASE64(payload) ORDER BY id SEPARATOR ',')), ROUND(SUM(ratio), 6)) AS CHAR) FROM `{name}`.src"
    );
    let rows = sqlx::raw_sql(AssertSqlSafe(my_sql)).fetch_all(&mut my).await.unwrap();
    let mysql: String = rows.last().unwrap().get(0);
    let pg_sql = format!(
        "SELECT concat_ws('|', count(*), sum(id), sum(amount), count(*) FILTER (WHERE flag), \
           md5(string_agg(name, ',' ORDER BY id)), \
           md5(string_agg(to_char(created, 'YYYY-MM-DD HH24:MI:SS.US'), ',' ORDER BY id)), \
           md5(string_agg(payload, ',' ORDER BY id)), round(sum(ratio)::numeric, 6)) FROM {name}.dst"
    );
    let postgres: String = sqlx::query(AssertSqlSafe(pg_sql)).fetch_one(&mut pg).await.unwrap().get(0);
    assert_eq!(postgres, mysql, "PostgreSQL holds exactly MariaDB's rows");

    let rerun = run();
    assert_eq!(rerun["written"], 0, "a rerun writes nothing: {rerun}");

    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE `{name}`"))).execute(&mut my).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE"))).execute(&mut pg).await.unwrap();
}

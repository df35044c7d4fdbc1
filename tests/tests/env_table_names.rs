//! PostgreSQL and MySQL connectors whose schema and table names come from
//! `${env:…}`: they are read at run time and checked there as the generator
//! checks a written name, never taken literally (issue 16: `TABLE=orders_prod`
//! once created a table named `${env:TABLE}`). Each test works in its own
//! schema on 127.0.0.1:5432 or database on 127.0.0.1:3306.

use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

faucet_runtime::faucet! {
    name: env_named_table,
    pipeline: {
        source: { type: jsonl, config: { path: "${env:FAUCET_ENV_NAMES_DIR}/in.jsonl" } },
        sink: { type: postgres, config: {
            connection_url: "postgres://postgres@127.0.0.1:5432/postgres",
            schema: "${env:FAUCET_ENV_NAMES_SCHEMA}",
            table_name: "${env:FAUCET_ENV_NAMES_TABLE}_prod",
            create_table: true,
        } },
    }
}

faucet_runtime::faucet! {
    name: env_named_source,
    pipeline: {
        source: { type: postgres, config: {
            connection_url: "postgres://postgres@127.0.0.1:5432/postgres",
            schema: "${env:FAUCET_ENV_NAMES_SCHEMA}",
            table: "${env:FAUCET_ENV_NAMES_TABLE}_prod",
        } },
        sink: { type: jsonl, config: { path: "${env:FAUCET_ENV_NAMES_DIR}/out.jsonl" } },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_named_schema_and_table_are_resolved_and_checked() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let schema = format!("faucet_e2e_env_names_{nanos}_{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (1..=5).map(|i| format!("{{\"id\": {i}}}\n")).collect();
    std::fs::write(dir.path().join("in.jsonl"), lines).unwrap();
    // SAFETY: this is the only test of this binary; nothing else reads these variables.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("FAUCET_ENV_NAMES_DIR", dir.path());
        std::env::set_var("FAUCET_ENV_NAMES_SCHEMA", &schema);
        std::env::set_var("FAUCET_ENV_NAMES_TABLE", "Orders");
    }
    env_named_table::run().await.expect("the run succeeds");

    let mut conn = PgConnection::connect(URL).await.expect("PostgreSQL on 127.0.0.1:5432");
    let tables: Vec<String> =
        sqlx::query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1")
            .bind(&schema)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    let sql = format!("SELECT count(*) FROM \"{schema}\".\"Orders_prod\"");
    let rows: i64 = sqlx::query(AssertSqlSafe(sql)).fetch_one(&mut conn).await.unwrap().get(0);
    env_named_source::run().await.expect("the table is read back");
    let read_back = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();

    // A name that passes no check is refused at run time, naming the setting.
    #[allow(unsafe_code)]
    // SAFETY: as above.
    unsafe {
        std::env::set_var("FAUCET_ENV_NAMES_TABLE", "x".repeat(60));
    }
    let error = env_named_table::run().await.expect_err("a 65-byte table name");
    let source_error = env_named_source::run().await.expect_err("a 65-byte table name");

    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(tables.contains(&"Orders_prod".to_owned()), "{tables:?}");
    assert!(!tables.iter().any(|t| t.contains("${")), "{tables:?}");
    assert_eq!(rows, 5);
    assert_eq!(read_back.lines().count(), 5, "{read_back}");
    assert!(source_error.to_string().contains("`table` must be a name of 1 to 63 bytes"), "{source_error}");
    assert!(error.to_string().contains("`table_name` must be a name of 1 to 63 bytes"), "{error}");
    assert!(error.to_string().contains(&"x".repeat(60)), "the name is no secret: {error}");
}

faucet_runtime::faucet! {
    name: env_named_mysql,
    pipeline: {
        source: { type: jsonl, config: { path: "${env:FAUCET_ENV_NAMES_MYSQL_DIR}/in.jsonl" } },
        sink: { type: mysql, config: {
            connection_url: "mysql://root@127.0.0.1:3306",
            schema: "${env:FAUCET_ENV_NAMES_MYSQL_DB}",
            table_name: "orders_${env:FAUCET_ENV_NAMES_MYSQL_ENV}",
            create_table: true,
        } },
    }
}

/// The same through the `mysql` sink, against MariaDB on 127.0.0.1:3306.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_named_mysql_table_is_resolved() {
    use sqlx::MySqlConnection;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let db = format!("faucet_e2e_env_names_{nanos}_{}", std::process::id());
    let mut my = MySqlConnection::connect("mysql://root@127.0.0.1:3306").await.expect("MariaDB on 3306");
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE `{db}`"))).execute(&mut my).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "{\"id\": 1}\n{\"id\": 2}\n").unwrap();
    // SAFETY: only this test reads these variables.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("FAUCET_ENV_NAMES_MYSQL_DIR", dir.path());
        std::env::set_var("FAUCET_ENV_NAMES_MYSQL_DB", &db);
        std::env::set_var("FAUCET_ENV_NAMES_MYSQL_ENV", "prod");
    }
    let result = env_named_mysql::run().await;
    let tables: Vec<String> =
        sqlx::query("SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?")
            .bind(&db)
            .fetch_all(&mut my)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    let sql = format!("SELECT COUNT(*) FROM `{db}`.`orders_prod`");
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_one(&mut my).await.map(|r| r.get::<i64, _>(0));
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE `{db}`"))).execute(&mut my).await.unwrap();
    result.expect("the run succeeds");
    assert!(tables.contains(&"orders_prod".to_owned()), "{tables:?}");
    assert_eq!(rows.unwrap(), 2);
}

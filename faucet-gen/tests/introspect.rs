//! Build-time introspection against the live servers: a table per database
//! covering every type mapping, nullability, defaults and keys; queries; the
//! `.faucet/` cache (written, stable, read offline and when the server is
//! unreachable); located errors for a missing source table or a query the
//! server refuses; a build whose URL reads a password from `${env:…}` keeps
//! it out of the cache, the generated code and the diagnostics; and the
//! fixture cache under `tests/fixtures/schema_cache/` regenerates identically.
//!
//! Each test uses its own PostgreSQL schema / MariaDB database
//! (`faucet_introspect*`) or a temporary SQLite file, so they rerun cleanly
//! and in parallel. The schema context is set directly, never through the
//! environment.
#![cfg(feature = "introspect")]

use std::path::{Path, PathBuf};
use std::process::Command;

use faucet_gen::diag::Diagnostics;
use faucet_gen::ir::{Definition, Pipeline};
use faucet_gen::record_schema::context::with_context;
use faucet_gen::record_schema::{SchemaContext, TableSchema};
use sqlx::{AssertSqlSafe, Connection};

const PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MYSQL: &str = "mysql://root@127.0.0.1:3306/mysql";

/// Runs `sql` (several statements) on the server at `url`.
fn execute(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let script = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()));
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            script.execute(&mut c).await.unwrap();
        } else if url.starts_with("mysql") {
            let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
            script.execute(&mut c).await.unwrap();
        } else {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            script.execute(&mut c).await.unwrap();
        }
    });
}

/// A schema context for a crate at `dir`.
fn context(dir: &Path, offline: bool) -> SchemaContext {
    SchemaContext { offline, ..SchemaContext::for_crate(dir) }
}

/// Checks `yaml` in `ctx`: the pipeline, or the diagnostics; and the context after.
fn check(ctx: SchemaContext, yaml: &str) -> (Result<Pipeline, Diagnostics>, SchemaContext) {
    let (result, ctx) = with_context(ctx, || faucet_gen::check_yaml("p.yaml", yaml));
    let pipeline = result.map(|d| match d {
        Definition::Single(p) => *p,
        Definition::Matrix(_) => panic!("not a matrix"),
    });
    (pipeline, ctx)
}

/// The cache file `name` under `dir/.faucet/`, as a table.
fn cached(dir: &Path, name: &str) -> TableSchema {
    let text = std::fs::read_to_string(dir.join(".faucet").join(name)).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(file["table"].clone()).unwrap()
}

/// A table's columns in one line each: `name type null|not-null [default] db_type`.
fn summary(table: &TableSchema) -> Vec<String> {
    table
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {} {}{} {}",
                c.field.name,
                c.field.ty.describe(),
                if c.field.nullable { "null" } else { "not-null" },
                if c.has_default { " default" } else { "" },
                c.db_type
            )
        })
        .collect()
}

fn source_table(url: &str, kind: &str, table_keys: &str) -> String {
    format!(
        "pipeline:\n  source:\n    type: {kind}\n    config:\n      {url_key}: {url}\n{table_keys}  sink: {{ type: jsonl, config: {{ path: out.jsonl }} }}\n",
        url_key = if kind == "sqlite" { "database_url" } else { "connection_url" },
    )
}

#[test]
fn postgres_table_types_nullability_defaults_and_keys() {
    execute(
        PG,
        "DROP SCHEMA IF EXISTS faucet_introspect CASCADE; CREATE SCHEMA faucet_introspect;
         CREATE TABLE faucet_introspect.everything (
             id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             small smallint NOT NULL,
             whole integer,
             amount numeric(12,2) NOT NULL DEFAULT 0,
             loose numeric,
             ratio real,
             precise double precision,
             flag boolean NOT NULL,
             name text NOT NULL,
             code varchar(8),
             letter char(1),
             day date,
             at_time time,
             at_local timestamp(3),
             at_zone timestamptz NOT NULL DEFAULT now(),
             doc json,
             docb jsonb,
             bytes bytea,
             uid uuid NOT NULL,
             tags text[],
             scores integer[],
             addr inet,
             doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
             UNIQUE (code),
             UNIQUE (uid, day)
         );",
    );
    let dir = tempfile::tempdir().unwrap();
    let keys = "      schema: faucet_introspect\n      table: everything\n";
    let (pipeline, ctx) = check(context(dir.path(), false), &source_table(PG, "postgres", keys));
    let pipeline = pipeline.unwrap();
    let table = cached(dir.path(), "postgres-faucet_introspect.everything.json");
    assert_eq!(
        summary(&table),
        [
            "id integer not-null default bigint",
            "small integer not-null smallint",
            "whole integer null integer",
            "amount decimal(12,2) not-null default numeric(12,2)",
            "loose decimal null numeric",
            "ratio number null real",
            "precise number null double precision",
            "flag boolean not-null boolean",
            "name string not-null text",
            "code string null character varying(8)",
            "letter string null character(1)",
            "day date null date",
            "at_time time null time without time zone",
            "at_local timestamp null timestamp(3) without time zone",
            "at_zone timestamp with time zone not-null default timestamp with time zone",
            "doc json null json",
            "docb json null jsonb",
            "bytes binary null bytea",
            "uid string not-null uuid",
            "tags array of string null text[]",
            "scores array of integer null integer[]",
            "addr inet null inet",
            "doubled decimal null default numeric",
        ]
    );
    assert_eq!(table.primary_key, ["id"]);
    // Unique keys in the order of their index names.
    assert_eq!(table.unique_keys, [vec!["code".to_owned()], vec!["uid".to_owned(), "day".to_owned()]]);
    assert_eq!(table.name, "faucet_introspect.everything");
    // The source's records are the table's columns, and their origin names the cache.
    let source = pipeline.schemas.source.expect("the source's schema is known");
    assert_eq!(source.names().len(), 23);
    assert_eq!(
        source.origin.note(),
        "the fields come from PostgreSQL table `faucet_introspect.everything` (cached in `.faucet/postgres-faucet_introspect.everything.json`)"
    );
    assert_eq!(
        *ctx.touched.borrow(),
        [dir.path().join(".faucet/postgres-faucet_introspect.everything.json")]
    );
}

#[test]
fn mariadb_table_types_nullability_defaults_keys_and_json() {
    execute(
        MYSQL,
        "DROP DATABASE IF EXISTS faucet_introspect; CREATE DATABASE faucet_introspect;
         CREATE TABLE faucet_introspect.everything (
             id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
             tiny TINYINT NOT NULL,
             flag BOOLEAN NOT NULL DEFAULT 1,
             small SMALLINT UNSIGNED,
             whole INT,
             big BIGINT UNSIGNED,
             year_made YEAR,
             bits BIT(8),
             amount DECIMAL(12,2) NOT NULL,
             ratio FLOAT,
             precise DOUBLE,
             name VARCHAR(40) NOT NULL,
             code CHAR(3),
             body TEXT,
             size ENUM('s','m','l'),
             day DATE,
             at_time TIME(3),
             at_local DATETIME(6),
             at_zone TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
             raw BINARY(4),
             blob_data BLOB,
             doc JSON,
             note LONGTEXT,
             doubled DECIMAL(13,2) AS (amount * 2) VIRTUAL,
             UNIQUE KEY by_code (code),
             UNIQUE KEY by_name_day (name, day)
         );",
    );
    let dir = tempfile::tempdir().unwrap();
    let url = "mysql://root@127.0.0.1:3306/faucet_introspect";
    let (pipeline, _) =
        check(context(dir.path(), false), &source_table(url, "mysql", "      table: everything\n"));
    pipeline.unwrap();
    let table = cached(dir.path(), "mysql-everything.json");
    assert_eq!(
        summary(&table),
        [
            "id integer not-null default bigint(20)",
            "tiny integer not-null tinyint(4)",
            "flag boolean not-null default tinyint(1)",
            "small integer null smallint(5) unsigned",
            "whole integer null int(11)",
            "big integer null bigint(20) unsigned",
            "year_made integer null year(4)",
            "bits integer null bit(8)",
            "amount decimal(12,2) not-null decimal(12,2)",
            "ratio number null float",
            "precise number null double",
            "name string not-null varchar(40)",
            "code string null char(3)",
            "body string null text",
            "size string null enum('s','m','l')",
            "day date null date",
            "at_time time null time(3)",
            "at_local timestamp null datetime(6)",
            "at_zone timestamp with time zone not-null default timestamp",
            "raw binary null binary(4)",
            "blob_data binary null blob",
            // MariaDB's JSON is a LONGTEXT with a json_valid check; a plain LONGTEXT stays text.
            "doc json null longtext",
            "note string null longtext",
            "doubled decimal(13,2) null default decimal(13,2)",
        ]
    );
    assert_eq!(table.primary_key, ["id"]);
    assert_eq!(table.unique_keys, [vec!["code".to_owned()], vec!["name".to_owned(), "day".to_owned()]]);
}

#[test]
fn sqlite_table_types_by_affinity_defaults_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    execute(
        &format!("sqlite://{}?mode=rwc", dir.path().join("data.db").display()),
        "CREATE TABLE everything (
             id INTEGER PRIMARY KEY,
             count BIGINT NOT NULL DEFAULT 0,
             name VARCHAR(40) NOT NULL,
             body CLOB,
             data BLOB,
             ratio DOUBLE,
             amount DECIMAL(10,2),
             flag BOOLEAN,
             day DATE,
             at_time TIME,
             at DATETIME,
             doc JSON,
             anything,
             doubled REAL GENERATED ALWAYS AS (ratio * 2) VIRTUAL,
             UNIQUE (name),
             UNIQUE (day, at_time)
         );",
    );
    // A relative path: from the crate's directory.
    let (pipeline, _) = check(
        context(dir.path(), false),
        &source_table("sqlite://data.db", "sqlite", "      table: everything\n"),
    );
    pipeline.unwrap();
    let table = cached(dir.path(), "sqlite-everything.json");
    assert_eq!(
        summary(&table),
        [
            "id integer not-null default INTEGER",
            "count integer not-null default BIGINT",
            "name string not-null VARCHAR(40)",
            "body string null CLOB",
            "data binary null BLOB",
            "ratio number null DOUBLE",
            "amount decimal(10,2) null DECIMAL(10,2)",
            "flag boolean null BOOLEAN",
            "day date null DATE",
            "at_time time null TIME",
            "at timestamp null DATETIME",
            "doc json null JSON",
            "anything any null ",
            "doubled number null default REAL",
        ]
    );
    assert_eq!(table.primary_key, ["id"]);
    assert_eq!(table.unique_keys.len(), 2);
    assert!(table.unique_keys.contains(&vec!["name".to_owned()]));
    assert!(table.unique_keys.contains(&vec!["day".to_owned(), "at_time".to_owned()]));
}

#[test]
fn queries_are_described_by_the_server() {
    execute(
        PG,
        "DROP SCHEMA IF EXISTS faucet_introspect_q CASCADE; CREATE SCHEMA faucet_introspect_q;
         CREATE TABLE faucet_introspect_q.a (id int PRIMARY KEY, amount numeric(8,3) NOT NULL);
         CREATE TABLE faucet_introspect_q.b (a_id int NOT NULL, label text NOT NULL);",
    );
    let dir = tempfile::tempdir().unwrap();
    let sql = "SELECT a.id, a.amount, a.amount * 2 AS twice FROM faucet_introspect_q.a a";
    let (pipeline, _) = check(
        context(dir.path(), false),
        &source_table(PG, "postgres", &format!("      query: \"{sql}\"\n")),
    );
    pipeline.unwrap();
    let name = format!("postgres-query-{:016x}.json", faucet_gen::record_schema::cache::fnv1a(sql));
    let text = std::fs::read_to_string(dir.path().join(".faucet").join(&name)).unwrap();
    assert!(text.starts_with(&format!(
        "{{\n  \"version\": 1,\n  \"query\": {},\n  \"table\": {{",
        serde_json::to_string(sql).unwrap()
    )));
    assert_eq!(
        summary(&cached(dir.path(), &name)),
        [
            // Straight from a table: its exact type and NOT NULL.
            "id integer not-null integer",
            "amount decimal(8,3) not-null numeric(8,3)",
            // An expression: the type the server gives, nullable.
            "twice decimal null numeric",
        ]
    );
    // With an outer join, every column may be null (PostgreSQL runs this
    // LEFT JOIN as a right join, which the driver's own analysis gets backwards).
    let sql = "SELECT a.id, b.label FROM faucet_introspect_q.a a LEFT JOIN faucet_introspect_q.b b ON b.a_id = a.id";
    let (pipeline, _) = check(
        context(dir.path(), false),
        &source_table(PG, "postgres", &format!("      query: \"{sql}\"\n")),
    );
    pipeline.unwrap();
    let name = format!("postgres-query-{:016x}.json", faucet_gen::record_schema::cache::fnv1a(sql));
    assert_eq!(summary(&cached(dir.path(), &name)), ["id integer null integer", "label string null text"]);

    execute(
        MYSQL,
        "DROP DATABASE IF EXISTS faucet_introspect_q; CREATE DATABASE faucet_introspect_q;
         CREATE TABLE faucet_introspect_q.a (id INT NOT NULL PRIMARY KEY, amount DECIMAL(8,3) NOT NULL, doc JSON);",
    );
    let sql = "SELECT id, amount, doc, COUNT(*) AS n FROM a GROUP BY id, amount, doc";
    let url = "mysql://root@127.0.0.1:3306/faucet_introspect_q";
    let (pipeline, _) =
        check(context(dir.path(), false), &source_table(url, "mysql", &format!("      query: \"{sql}\"\n")));
    pipeline.unwrap();
    let name = format!("mysql-query-{:016x}.json", faucet_gen::record_schema::cache::fnv1a(sql));
    assert_eq!(
        summary(&cached(dir.path(), &name)),
        [
            "id integer not-null int(11)",
            "amount decimal(8,3) not-null decimal(8,3)",
            "doc json null longtext",
            "n integer not-null bigint"
        ]
    );

    execute(
        &format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display()),
        "CREATE TABLE a (id INTEGER PRIMARY KEY, amount DECIMAL(8,3) NOT NULL, at DATETIME);",
    );
    let sql = "SELECT id, amount, at, amount * 2 AS twice FROM a";
    let (pipeline, _) = check(
        context(dir.path(), false),
        &source_table("sqlite://q.db", "sqlite", &format!("      query: \"{sql}\"\n")),
    );
    pipeline.unwrap();
    let name = format!("sqlite-query-{:016x}.json", faucet_gen::record_schema::cache::fnv1a(sql));
    let table = cached(dir.path(), &name);
    assert_eq!(
        table
            .columns
            .iter()
            .map(|c| (c.field.name.as_str(), c.field.ty.describe(), c.db_type.as_str()))
            .collect::<Vec<_>>()[..3],
        [
            ("id", "integer".to_owned(), "INTEGER"),
            ("amount", "decimal(8,3)".to_owned(), "DECIMAL(8,3)"),
            ("at", "timestamp".to_owned(), "DATETIME"),
        ]
    );
    assert!(table.columns[2].field.nullable, "a nullable column stays nullable");
}

#[test]
fn the_cache_is_stable_and_read_offline_or_when_the_server_is_unreachable() {
    execute(
        PG,
        "DROP SCHEMA IF EXISTS faucet_introspect_c CASCADE; CREATE SCHEMA faucet_introspect_c;
         CREATE TABLE faucet_introspect_c.t (id int PRIMARY KEY, name text NOT NULL);",
    );
    let dir = tempfile::tempdir().unwrap();
    let keys = "      schema: faucet_introspect_c\n      table: t\n";
    let yaml = source_table(PG, "postgres", keys);
    let file = dir.path().join(".faucet/postgres-faucet_introspect_c.t.json");
    check(context(dir.path(), false), &yaml).0.unwrap();
    let (first, written) =
        (std::fs::read_to_string(&file).unwrap(), std::fs::metadata(&file).unwrap().modified().unwrap());
    assert!(first.ends_with("}\n"));
    // Introspected again: the same bytes, and the file is not rewritten.
    std::thread::sleep(std::time::Duration::from_millis(20));
    check(context(dir.path(), false), &yaml).0.unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), written);

    // Offline, the table changed on the server is not seen: the cache is read.
    execute(PG, "ALTER TABLE faucet_introspect_c.t ADD COLUMN added int");
    let (pipeline, ctx) = check(context(dir.path(), true), &yaml);
    let source = pipeline.unwrap().schemas.source.expect("read from the cache");
    assert_eq!(source.names(), ["id", "name"]);
    assert_eq!(*ctx.touched.borrow(), std::slice::from_ref(&file));

    // A server that cannot be reached: the cache too.
    let unreachable = source_table("postgres://postgres@127.0.0.1:1/postgres", "postgres", keys);
    let (pipeline, _) = check(context(dir.path(), false), &unreachable);
    assert_eq!(pipeline.unwrap().schemas.source.unwrap().names(), ["id", "name"]);

    // Online again: the new column is seen and the file rewritten.
    check(context(dir.path(), false), &yaml).0.unwrap();
    assert!(std::fs::read_to_string(&file).unwrap().contains("\"added\""));

    // Neither server nor cache: untyped, no error.
    let empty = tempfile::tempdir().unwrap();
    let (pipeline, ctx) = check(context(empty.path(), false), &unreachable);
    assert!(pipeline.unwrap().schemas.source.is_none());
    assert!(ctx.touched.borrow().is_empty());
    // No context (a plain check): nothing is introspected.
    let definition = faucet_gen::check_yaml("p.yaml", &yaml).unwrap();
    let Definition::Single(p) = definition else { panic!() };
    assert!(p.schemas.source.is_none());
}

#[test]
fn a_missing_source_table_or_refused_query_is_a_located_error() {
    execute(PG, "DROP SCHEMA IF EXISTS faucet_introspect_e CASCADE; CREATE SCHEMA faucet_introspect_e;");
    let dir = tempfile::tempdir().unwrap();
    let yaml = source_table(PG, "postgres", "      schema: faucet_introspect_e\n      table: nope\n");
    let diags = check(context(dir.path(), false), &yaml).0.unwrap_err().to_string();
    assert!(diags.contains("error: PostgreSQL table `faucet_introspect_e.nope` does not exist"), "{diags}");
    assert!(diags.contains("--> p.yaml:7:14"), "{diags}");
    assert!(
        diags.contains("note: faucet-gen connected to the `postgres` source's database while compiling"),
        "{diags}"
    );

    let yaml = source_table(PG, "postgres", "      query: SELECT idd FROM faucet_introspect_e.missing\n");
    let diags = check(context(dir.path(), false), &yaml).0.unwrap_err().to_string();
    assert!(
        diags.contains("the `postgres` source's query does not run: relation \"faucet_introspect_e.missing\" does not exist"),
        "{diags}"
    );
    assert!(diags.contains("--> p.yaml:6:14"), "{diags}");

    let yaml = source_table(MYSQL, "mysql", "      query: SELECT nope FROM user\n");
    let diags = check(context(dir.path(), false), &yaml).0.unwrap_err().to_string();
    assert!(diags.contains("the `mysql` source's query does not run: Unknown column 'nope'"), "{diags}");

    // Offline, nothing is asked of the server: no error, nothing known.
    let (pipeline, _) = check(context(dir.path(), true), &yaml);
    assert!(pipeline.unwrap().schemas.source.is_none());
    assert!(!dir.path().join(".faucet").exists());
}

#[test]
fn a_sink_table_is_known_when_it_exists() {
    execute(
        PG,
        "DROP SCHEMA IF EXISTS faucet_introspect_s CASCADE; CREATE SCHEMA faucet_introspect_s;
         CREATE TABLE faucet_introspect_s.present (id int PRIMARY KEY, v text);",
    );
    let dir = tempfile::tempdir().unwrap();
    let sink = |table: &str| {
        format!(
            "pipeline:\n  source: {{ type: jsonl, config: {{ path: in.jsonl }} }}\n  sink:\n    type: postgres\n    config:\n      connection_url: {PG}\n      schema: faucet_introspect_s\n      table_name: {table}\n      column_mapping: auto_map\n"
        )
    };
    let (pipeline, _) = check(context(dir.path(), false), &sink("present"));
    let table = pipeline.unwrap().schemas.table.expect("the table exists");
    assert_eq!(table.primary_key, ["id"]);
    assert!(dir.path().join(".faucet/postgres-faucet_introspect_s.present.json").is_file());
    // A table the run creates: unknown, no error, no cache file.
    let (pipeline, _) = check(context(dir.path(), false), &sink("later"));
    assert!(pipeline.unwrap().schemas.table.is_none());
    assert!(!dir.path().join(".faucet/postgres-faucet_introspect_s.later.json").exists());
    // A table name read from an unset `${env:…}`: skipped.
    let (pipeline, ctx) =
        check(context(dir.path(), false), &sink("\"${env:FAUCET_INTROSPECT_UNSET_TABLE}\""));
    assert!(pipeline.unwrap().schemas.table.is_none());
    assert_eq!(*ctx.env_vars.borrow(), ["FAUCET_INTROSPECT_UNSET_TABLE"]);
    // A table the sink creates (an earlier run made it): checked while it can
    // be read, never cached, since it is the pipeline's own output.
    let creates = dir.path().join("creates");
    let (pipeline, _) = check(
        context(&creates, false),
        &sink("present").replace("auto_map\n", "auto_map\n      create_table: true\n"),
    );
    assert_eq!(pipeline.unwrap().schemas.table.expect("the table exists").primary_key, ["id"]);
    assert!(!creates.join(".faucet").exists());
}

/// The fixture cache (`tests/fixtures/schema_cache/.faucet/`, for the schema
/// checks' diagnostics tests) is what the live servers give for the tables in
/// its `*.sql` files and the pipelines in its `pipelines/`: regenerated here,
/// it must be identical, so it can never drift (`FAUCET_BLESS=1` rewrites it
/// after an intended change).
#[test]
fn the_fixture_cache_regenerates_identically() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema_cache");
    execute(PG, &std::fs::read_to_string(fixture.join("postgres.sql")).unwrap());
    execute(MYSQL, &std::fs::read_to_string(fixture.join("mysql.sql")).unwrap());
    let dir = tempfile::tempdir().unwrap();
    execute(
        &format!("sqlite://{}?mode=rwc", dir.path().join("fixture.db").display()),
        &std::fs::read_to_string(fixture.join("sqlite.sql")).unwrap(),
    );
    let mut pipelines: Vec<PathBuf> =
        std::fs::read_dir(fixture.join("pipelines")).unwrap().map(|e| e.unwrap().path()).collect();
    pipelines.sort();
    for path in &pipelines {
        let yaml = std::fs::read_to_string(path).unwrap();
        let (pipeline, _) = check(context(dir.path(), false), &yaml);
        pipeline.unwrap_or_else(|d| panic!("{}: {d}", path.display()));
    }
    let list = |dir: &Path| {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir.join(".faucet"))
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&path).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    if std::env::var_os("FAUCET_BLESS").is_some() {
        let cache = fixture.join(".faucet");
        let _ = std::fs::remove_dir_all(&cache);
        std::fs::create_dir_all(&cache).unwrap();
        for (name, text) in list(dir.path()) {
            std::fs::write(cache.join(name), text).unwrap();
        }
    }
    let (expected, actual) = (list(&fixture), list(dir.path()));
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&actual), names(&expected));
    for ((name, expected), (_, actual)) in expected.iter().zip(&actual) {
        assert!(expected == actual, "{name} drifted (FAUCET_BLESS=1 to rewrite it):\n{actual}");
    }
}

/// The MariaDB password of the build below: it must appear nowhere.
const PASSWORD: &str = "faucet-introspect-s3cret";

/// A build (`Config::try_compile`) whose MySQL URL reads its password from
/// `${env:…}` connects with it (a user that needs it) and writes the cache
/// and the code; a second pipeline names a missing table. The password is in
/// none of the cache, the generated code and the diagnostics. The build runs
/// in a child process ([`child_build_with_a_password`]), so the variable is
/// set for it alone.
#[test]
fn a_password_reaches_neither_cache_nor_code_nor_diagnostics() {
    execute(
        MYSQL,
        &format!(
            "DROP DATABASE IF EXISTS faucet_introspect_pw; CREATE DATABASE faucet_introspect_pw;
             CREATE TABLE faucet_introspect_pw.t (id INT PRIMARY KEY, secret_note TEXT);
             CREATE OR REPLACE USER 'faucet_introspect'@'localhost' IDENTIFIED BY '{PASSWORD}';
             CREATE OR REPLACE USER 'faucet_introspect'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';
             GRANT ALL ON faucet_introspect_pw.* TO 'faucet_introspect'@'localhost';
             GRANT ALL ON faucet_introspect_pw.* TO 'faucet_introspect'@'127.0.0.1';"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let url = "\"mysql://faucet_introspect:${env:FAUCET_INTROSPECT_PW}@127.0.0.1:3306/faucet_introspect_pw\"";
    std::fs::write(dir.path().join("good.yaml"), source_table(url, "mysql", "      table: t\n")).unwrap();
    std::fs::write(dir.path().join("bad.yaml"), source_table(url, "mysql", "      table: missing\n"))
        .unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["child_build_with_a_password", "--exact", "--ignored", "--nocapture"])
        .env("FAUCET_INTROSPECT_PW", PASSWORD)
        .env("FAUCET_INTROSPECT_CRATE", dir.path())
        .env_remove("FAUCET_OFFLINE")
        .output()
        .unwrap();
    let output =
        format!("{}{}", String::from_utf8_lossy(&child.stdout), String::from_utf8_lossy(&child.stderr));
    assert!(child.status.success(), "{output}");
    let diags = std::fs::read_to_string(dir.path().join("diagnostics.txt")).unwrap();
    assert!(diags.contains("MySQL table `missing` does not exist"), "{diags}");
    let cache = std::fs::read_to_string(dir.path().join(".faucet/mysql-t.json")).unwrap();
    assert!(cache.contains("\"secret_note\""), "the build connected with the password:\n{cache}");
    let code = std::fs::read_to_string(dir.path().join("out/faucet/good.rs")).unwrap();
    assert!(code.contains("FAUCET_INTROSPECT_PW"), "the code reads the variable at run time");
    for (what, text) in
        [("the cache", &cache), ("the code", &code), ("the diagnostics", &diags), ("the output", &output)]
    {
        assert!(!text.contains(PASSWORD), "the password is in {what}:\n{text}");
    }
    // The build script tells cargo to rerun when the cache or a variable it read changes.
    for line in [
        format!("cargo::rerun-if-changed={}", dir.path().join(".faucet/mysql-t.json").display()),
        format!("cargo::rerun-if-changed={}", dir.path().join(".faucet").display()),
        "cargo::rerun-if-env-changed=FAUCET_OFFLINE".to_owned(),
        "cargo::rerun-if-env-changed=FAUCET_INTROSPECT_PW".to_owned(),
    ] {
        assert!(output.lines().any(|l| l == line), "no `{line}` in:\n{output}");
    }
    // The cache holds neither the URL's host nor its user either (the code has the URL as written).
    assert!(!cache.contains("127.0.0.1") && !cache.contains("faucet_introspect:"), "{cache}");
}

/// The child of [`a_password_reaches_neither_cache_nor_code_nor_diagnostics`]:
/// compiles `good.yaml` and `bad.yaml` in `$FAUCET_INTROSPECT_CRATE`.
#[test]
#[ignore = "run by a_password_reaches_neither_cache_nor_code_nor_diagnostics"]
fn child_build_with_a_password() {
    let dir = PathBuf::from(std::env::var_os("FAUCET_INTROSPECT_CRATE").expect("run by its parent test"));
    let mut config = faucet_gen::Config::new();
    config.manifest_dir(&dir).out_dir(dir.join("out"));
    config.try_compile(&["good.yaml"]).expect("good.yaml compiles");
    let diags = config.try_compile(&["bad.yaml"]).expect_err("bad.yaml names a missing table");
    std::fs::write(dir.join("diagnostics.txt"), diags.to_string()).unwrap();
    // What a build script tells cargo, on stdout for the parent.
    config.compile(&["good.yaml"]);
}

/// The macro reads the cache like a build, and embeds each cache file it read
/// (`include_bytes!`) so cargo expands it again when the file changes.
#[test]
fn the_macro_reads_the_cache_and_tracks_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema_cache/.faucet");
    std::fs::create_dir(dir.path().join(".faucet")).unwrap();
    let name = "postgres-faucet_fixture.orders.json";
    std::fs::copy(fixture.join(name), dir.path().join(".faucet").join(name)).unwrap();
    // No server answers on port 1: the cache is read.
    let url = "postgres://postgres@127.0.0.1:1/postgres";
    let keys = "      schema: faucet_fixture\n      table: orders\n";
    std::fs::write(dir.path().join("p.yaml"), source_table(url, "postgres", keys)).unwrap();
    let ctx = faucet_gen::MacroContext { manifest_dir: dir.path().to_path_buf(), caller_file: None };
    let out = faucet_gen::expand(quote::quote!("p.yaml"), &ctx).to_string();
    let tracked = dir.path().join(".faucet").join(name).display().to_string();
    assert!(out.contains(&format!("include_bytes ! ({tracked:?})")), "{out}");
}

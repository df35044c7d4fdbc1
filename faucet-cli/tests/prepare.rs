//! `faucet-gen prepare [--check]` against the live PostgreSQL and MariaDB:
//! it finds a crate's pipelines, writes the `.faucet/` cache (stable on a
//! rerun), `--check` passes on a fresh cache and lists each stale, missing or
//! unused file, and a database it cannot reach is an error naming the
//! connector, never the password. Objects: PostgreSQL schema `faucet_prepare`,
//! MariaDB database and user `faucet_prepare`.

use std::path::Path;
use std::process::{Command, Output};

use sqlx::{AssertSqlSafe, Connection};

const PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MYSQL: &str = "mysql://root@127.0.0.1:3306/mysql";
const PASSWORD: &str = "faucet-prepare-pa55";

fn execute(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let script = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()));
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            script.execute(&mut c).await.unwrap();
        } else {
            let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
            script.execute(&mut c).await.unwrap();
        }
    });
}

/// Runs `faucet-gen prepare args…` in `dir`, with the MariaDB password in `FAUCET_PREPARE_PW`.
fn prepare(dir: &Path, args: &[&str], password: &str) -> (i32, String, String) {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_faucet-gen"))
        .arg("prepare")
        .args(args)
        .current_dir(dir)
        .env("FAUCET_PREPARE_USER", "faucet_prepare")
        .env("FAUCET_PREPARE_PW", password)
        .env_remove("FAUCET_OFFLINE")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    (output.status.code().unwrap(), text(&output.stdout), text(&output.stderr))
}

fn cache_files(dir: &Path) -> Vec<(String, String)> {
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
}

#[test]
fn prepare_writes_the_cache_and_check_finds_it_stale_missing_or_unused() {
    execute(
        PG,
        "DROP SCHEMA IF EXISTS faucet_prepare CASCADE; CREATE SCHEMA faucet_prepare;
         CREATE TABLE faucet_prepare.items (id int PRIMARY KEY, name text NOT NULL);",
    );
    execute(
        MYSQL,
        &format!(
            "DROP DATABASE IF EXISTS faucet_prepare; CREATE DATABASE faucet_prepare;
             CREATE TABLE faucet_prepare.stock (sku VARCHAR(20) PRIMARY KEY, qty INT NOT NULL, meta JSON);
             CREATE OR REPLACE USER 'faucet_prepare'@'localhost' IDENTIFIED BY '{PASSWORD}';
             CREATE OR REPLACE USER 'faucet_prepare'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';
             GRANT ALL ON faucet_prepare.* TO 'faucet_prepare'@'localhost';
             GRANT ALL ON faucet_prepare.* TO 'faucet_prepare'@'127.0.0.1';"
        ),
    );
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::create_dir_all(dir.join("pipelines")).unwrap();
    std::fs::write(
        dir.join("pipelines/items.yaml"),
        format!(
            "pipeline:\n  source:\n    type: postgres\n    config:\n      connection_url: {PG}\n      schema: faucet_prepare\n      table: items\n  sink: {{ type: jsonl, config: {{ path: out.jsonl }} }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("pipelines/stock.yml"),
        "pipeline:\n  source: { type: jsonl, config: { path: in.jsonl } }\n  sink:\n    type: mysql\n    config:\n      connection_url: \"mysql://${env:FAUCET_PREPARE_USER}:${env:FAUCET_PREPARE_PW}@127.0.0.1:3306/faucet_prepare\"\n      table_name: stock\n      column_mapping: auto_map\n",
    )
    .unwrap();
    // Not pipelines: no top-level `pipeline:`, or under target/.
    std::fs::write(dir.join("other.yaml"), "name: x\n").unwrap();
    std::fs::create_dir_all(dir.join("target")).unwrap();
    std::fs::write(dir.join("target/p.yaml"), "pipeline:\n  nonsense: true\n").unwrap();

    let (code, out, err) = prepare(dir, &[], PASSWORD);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "cached: .faucet/mysql-stock.json\ncached: .faucet/postgres-faucet_prepare.items.json\n2 schema cache file(s) written for 2 pipeline file(s)\n"
    );
    let first = cache_files(dir);
    assert_eq!(first.len(), 2);
    assert!(first[0].1.contains("\"qty\"") && first[1].1.contains("\"name\""));
    for (name, text) in &first {
        assert!(
            !text.contains(PASSWORD) && !text.contains("127.0.0.1") && !text.contains("faucet_prepare:"),
            "{name}: {text}"
        );
    }
    // A rerun writes the same bytes; `--check` agrees.
    assert_eq!(prepare(dir, &[], PASSWORD).0, 0);
    assert_eq!(cache_files(dir), first);
    let (code, out, err) = prepare(dir, &["--check"], PASSWORD);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("2 schema cache file(s) checked for 2 pipeline file(s)\n"), "{out}");

    // The table changes, a file goes missing, another is no pipeline's.
    execute(PG, "ALTER TABLE faucet_prepare.items ADD COLUMN price numeric(8,2)");
    std::fs::remove_file(dir.join(".faucet/mysql-stock.json")).unwrap();
    std::fs::write(dir.join(".faucet/postgres-old.json"), "{}").unwrap();
    let (code, out, err) = prepare(dir, &["--check"], PASSWORD);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("error: the schema cache `.faucet/postgres-faucet_prepare.items.json` of the `postgres` source is stale"),
        "{err}"
    );
    assert!(err.contains("--> pipelines/items.yaml:7:14"), "{err}");
    assert!(
        err.contains("error: the schema cache `.faucet/mysql-stock.json` of the `mysql` sink is missing"),
        "{err}"
    );
    assert!(err.contains("error: `.faucet/postgres-old.json` is unused"), "{err}");
    assert!(err.contains("error: 3 problem(s) in the schema cache of 2 pipeline file(s)"), "{err}");
    // `--check` wrote nothing.
    assert!(!dir.join(".faucet/mysql-stock.json").exists());
    assert!(
        !std::fs::read_to_string(dir.join(".faucet/postgres-faucet_prepare.items.json"))
            .unwrap()
            .contains("price")
    );

    // `prepare` brings it up to date and removes the unused file.
    let (code, out, err) = prepare(dir, &[], PASSWORD);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("removed .faucet/postgres-old.json (unused)\n"), "{out}");
    assert!(
        std::fs::read_to_string(dir.join(".faucet/postgres-faucet_prepare.items.json"))
            .unwrap()
            .contains("\"price\"")
    );
    assert_eq!(prepare(dir, &["--check"], PASSWORD).0, 0);

    // Given files: only those, and no file counts as unused.
    let (code, out, err) = prepare(dir, &["--check", "pipelines/items.yaml"], PASSWORD);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("1 schema cache file(s) checked for 1 pipeline file(s)\n"), "{out}");

    // A database prepare cannot reach (here: a wrong password) is an error
    // naming the connector; no value the URL read from `${env:…}` is in any
    // message (MariaDB's own message names the user: masked).
    let (code, out, err) = prepare(dir, &[], "wrong-pa55word");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("error: cannot introspect the `mysql` sink: "), "{err}");
    assert!(err.contains("Access denied for user '***'@"), "{err}");
    assert!(!err.contains("wrong-pa55word") && !out.contains("wrong-pa55word"), "{err}");
    assert!(!err.contains("faucet_prepare'@"), "{err}");
    // An unset variable too.
    let output = Command::new(env!("CARGO_BIN_EXE_faucet-gen"))
        .args(["prepare", "--manifest-dir"])
        .arg(dir)
        .env("FAUCET_PREPARE_USER", "faucet_prepare")
        .env_remove("FAUCET_PREPARE_PW")
        .output()
        .unwrap();
    let err = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        err.contains("cannot introspect the `mysql` sink: `${env:FAUCET_PREPARE_PW}` is not set"),
        "{err}"
    );
}

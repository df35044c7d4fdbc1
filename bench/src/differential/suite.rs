//! Running the suite: for each case, a fresh work directory with the inputs
//! (`$DIFF_IN`), then each side in its own output directory (`$DIFF_OUT`)
//! and its own PostgreSQL schema (`$DIFF_SCHEMA`; `$DIFF_PG_URL` sets
//! `search_path` to it),
//! and the sides' [`Outputs`] compared. Without the peer, faucet's outputs are
//! compared with the ones recorded from faucet-cli (`differential/expected/`).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sqlx::{AssertSqlSafe, PgPool};

use super::case::Case;
use super::compare::{Verdict, compare};
use super::outputs::{self, Outputs};

/// What [`run`] needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// `differential/`: the cases, `data/` (their inputs) and `expected/`.
    pub cases_dir: PathBuf,
    /// Where each case's directories go (outside the repository).
    pub work: PathBuf,
    /// The `differential` binary itself, which runs faucet's side (`run CASE`).
    pub faucet: PathBuf,
    /// faucet-cli, when installed.
    pub peer: Option<PathBuf>,
    /// The PostgreSQL database the cases use (created if missing).
    pub pg_url: String,
    /// Write the peer's outputs into `expected/` (needs `peer`).
    pub record: bool,
    /// Only these cases (all when empty).
    pub only: Vec<String>,
    /// Each case compiled into `faucet`, with the config text it was compiled from.
    pub compiled: Vec<(String, String)>,
}

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct Row {
    /// The case.
    pub case: String,
    /// Against what faucet was compared: `faucet-cli`, `recorded` or `nothing`.
    pub reference: &'static str,
    /// The comparison.
    pub verdict: Verdict,
    /// Why a run failed, faucet's runs first (`faucet run 1: …`).
    pub failures: Vec<String>,
    /// The case's `known` note.
    pub known: Option<String>,
}

impl Row {
    /// The case differs and nothing explains it, or a known difference is gone
    /// (its note is stale).
    pub fn unexplained(&self) -> bool {
        self.reference != "nothing" && (self.verdict.differences > 0) != self.known.is_some()
    }
}

/// Runs the suite and prints the table; returns the rows.
pub async fn run(options: &Options) -> io::Result<Vec<Row>> {
    let mut cases = Case::all(&options.cases_dir)?;
    if !options.only.is_empty() {
        cases.retain(|c| options.only.contains(&c.name));
    }
    for case in &cases {
        let text = fs::read_to_string(&case.path)?;
        if !options.compiled.iter().any(|(name, compiled)| *name == case.name && *compiled == text) {
            return Err(io::Error::other(format!(
                "{} changed since the binary was built (or is new): rebuild it (`cargo build -p faucet-bench --bin differential`)",
                case.path.display()
            )));
        }
    }
    let pool = connect(&options.pg_url).await?;
    let mut rows = Vec::new();
    for case in &cases {
        eprintln!("==> {}", case.name);
        let dir = options.work.join(&case.name);
        prepare_inputs(&options.cases_dir.join("data"), &dir, case).await?;
        let mut failures = Vec::new();
        let ours = side(
            options,
            &pool,
            case,
            "faucet",
            &mut failures,
            Command::new(&options.faucet).arg("run").arg(&case.name),
        )
        .await?;
        let expected_file = options.cases_dir.join("expected").join(format!("{}.txt", case.name));
        let (reference, theirs) = if let Some(peer) = &options.peer {
            let path = fs::canonicalize(&case.path)?;
            let theirs = side(
                options,
                &pool,
                case,
                "faucet-cli",
                &mut failures,
                Command::new(peer).args(["run", "--no-env-file", "--output", "json"]).arg(path),
            )
            .await?;
            if options.record {
                fs::create_dir_all(expected_file.parent().unwrap_or(Path::new(".")))?;
                fs::write(&expected_file, serialize(&theirs))?;
            }
            ("faucet-cli", Some(theirs))
        } else if expected_file.exists() {
            ("recorded", Some(deserialize(&fs::read_to_string(&expected_file)?)))
        } else {
            ("nothing", None)
        };
        let verdict = match &theirs {
            Some(theirs) => compare(&ours, theirs),
            None => Verdict { records: compare(&ours, &ours).records, ..Verdict::default() },
        };
        rows.push(Row { case: case.name.clone(), reference, verdict, failures, known: case.known.clone() });
    }
    pool.close().await;
    print!("{}", table(&rows));
    Ok(rows)
}

/// Connects to `url`'s database, creating it first if it is missing.
async fn connect(url: &str) -> io::Result<PgPool> {
    let (base, db) =
        url.rsplit_once('/').ok_or_else(|| io::Error::other(format!("not a database URL: {url}")))?;
    let db = db.split('?').next().unwrap_or(db);
    let admin = PgPool::connect(&format!("{base}/postgres")).await.map_err(io::Error::other)?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(db)
        .fetch_optional(&admin)
        .await
        .map_err(io::Error::other)?;
    if exists.is_none() {
        let sql = format!("CREATE DATABASE \"{}\"", db.replace('"', "\"\""));
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&admin).await.map_err(io::Error::other)?;
    }
    admin.close().await;
    PgPool::connect(url).await.map_err(io::Error::other)
}

/// A fresh `dir` whose `in/` holds a copy of every input and the case's `in.db`.
async fn prepare_inputs(data: &Path, dir: &Path, case: &Case) -> io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    let input = dir.join("in");
    fs::create_dir_all(&input)?;
    for entry in fs::read_dir(data)? {
        let path = entry?.path();
        if path.is_file() {
            fs::copy(&path, input.join(path.file_name().unwrap_or_default()))?;
        }
    }
    if !case.sqlite_in.is_empty() {
        sqlite_exec(&input.join("in.db"), &case.sqlite_in).await?;
    }
    Ok(())
}

/// Runs `statements` in the SQLite database `path` (created if missing).
async fn sqlite_exec(path: &Path, statements: &[String]) -> io::Result<()> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .map_err(io::Error::other)?;
    for sql in statements {
        sqlx::raw_sql(AssertSqlSafe(sql.clone())).execute(&pool).await.map_err(io::Error::other)?;
    }
    pool.close().await;
    Ok(())
}

/// Runs one side of `case` (`label`: `faucet` or `faucet-cli`) with
/// `command` and collects its outputs; adds why a run failed to `failures`.
async fn side(
    options: &Options,
    pool: &PgPool,
    case: &Case,
    label: &str,
    failures: &mut Vec<String>,
    command: &mut Command,
) -> io::Result<Outputs> {
    let dir = options.work.join(&case.name);
    let out = dir.join(label);
    fs::create_dir_all(&out)?;
    let schema = format!("diff_{}_{}", case.name, label.replace('-', "_"));
    let mut sql = format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE; CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\";"
    );
    for statement in &case.sql {
        let _ = write!(sql, " {statement};");
    }
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(pool)
        .await
        .map_err(|e| io::Error::other(format!("{}: setup: {e}", case.name)))?;
    if !case.sqlite_out.is_empty() {
        sqlite_exec(&out.join("out.db"), &case.sqlite_out).await?;
    }
    let separator = if options.pg_url.contains('?') { '&' } else { '?' };
    let pg_url = format!("{}{separator}options=-c%20search_path%3D{schema}", options.pg_url);
    command
        .current_dir(&dir)
        .env("DIFF_IN", dir.join("in"))
        .env("DIFF_OUT", &out)
        .env("DIFF_PG_URL", pg_url)
        .env("DIFF_SCHEMA", &schema)
        .stdin(Stdio::null());
    let mut outputs = Outputs::new();
    let (mut stdout, mut log, mut exits) = (String::new(), String::new(), Vec::new());
    for run in 1..=case.runs {
        let result = command.output()?;
        let (records, summary) = split_summary(&String::from_utf8_lossy(&result.stdout));
        stdout.push_str(&records);
        let stderr = String::from_utf8_lossy(&result.stderr);
        let _ = writeln!(log, "--- run {run}: {}\n{stderr}{summary}", result.status);
        if !result.status.success() {
            let why = summary
                .lines()
                .chain(stderr.lines())
                .find(|l| !l.trim().is_empty())
                .unwrap_or("(no message)");
            failures.push(format!("{label} run {run}: {why}"));
        }
        exits.push(format!("run {run}: {}", if result.status.success() { "ok" } else { "failed" }));
    }
    fs::write(dir.join(format!("{label}.log")), log)?;
    outputs::add_files(&out, &mut outputs).await?;
    outputs::add_pg_tables(pool, &schema, &mut outputs).await?;
    let stdout = outputs::text_records(&stdout);
    if !stdout.is_empty() {
        outputs.insert("stdout".into(), stdout);
    }
    outputs.insert("exit".into(), exits);
    outputs::drop_not_compared(&mut outputs);
    Ok(outputs)
}

/// Splits faucet-cli's stdout (`--output json`) into what the pipeline
/// printed (a `stdout` sink's compact lines) and the run's errors, from the
/// pretty-printed summary after them (its first line is a lone `{`).
fn split_summary(stdout: &str) -> (String, String) {
    let Some(start) = stdout.find("\n{\n").map(|i| i + 1).or_else(|| stdout.starts_with("{\n").then_some(0))
    else {
        return (stdout.to_owned(), String::new());
    };
    let errors = match serde_json::from_str::<serde_json::Value>(&stdout[start..]) {
        Ok(summary) => summary["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| row["error"].as_str())
            .map(|e| format!("error: {e}\n"))
            .collect(),
        Err(_) => stdout[start..].to_owned(),
    };
    (stdout[..start].to_owned(), errors)
}

/// `outputs` as text: `== <output>` and then its records, one a line.
pub fn serialize(outputs: &Outputs) -> String {
    let mut text = String::new();
    for (name, records) in outputs {
        let _ = writeln!(text, "== {name}");
        for record in records {
            let _ = writeln!(text, "{record}");
        }
    }
    text
}

/// The reverse of [`serialize`].
pub fn deserialize(text: &str) -> Outputs {
    let mut outputs = Outputs::new();
    let mut current: Option<&mut Vec<String>> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            current = Some(outputs.entry(name.to_owned()).or_default());
        } else if let Some(records) = current.as_mut() {
            records.push(line.to_owned());
        }
    }
    outputs
}

/// The Markdown table of `rows`, then each case's first difference in full.
pub fn table(rows: &[Row]) -> String {
    let cell = |s: &str| {
        let s = s.replace('|', "\\|");
        if s.chars().count() > 150 { format!("{}…", s.chars().take(150).collect::<String>()) } else { s }
    };
    let mut out = String::from(
        "\n| case | compared with | records | differences | first difference (faucet / reference) | known difference |\n\
         |---|---|---:|---:|---|---|\n",
    );
    for row in rows {
        let first = row.verdict.first.as_ref().map_or(String::from("–"), |d| cell(&d.to_string()));
        let known = match (&row.known, row.verdict.differences) {
            (Some(note), 0) => format!("gone: remove the note ({note})"),
            (Some(note), _) => note.replace('|', "\\|"),
            (None, 0) => String::from("–"),
            (None, _) => String::from("**none: unexplained**"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.case, row.reference, row.verdict.records, row.verdict.differences, first, known
        );
    }
    let differing: Vec<&Row> = rows.iter().filter(|r| r.verdict.first.is_some()).collect();
    let _ = writeln!(
        out,
        "\n{} case(s), {} with differences ({} unexplained), {} record(s) differing. Not compared: {}.",
        rows.len(),
        differing.len(),
        rows.iter().filter(|r| r.unexplained()).count(),
        rows.iter().map(|r| r.verdict.differences).sum::<usize>(),
        outputs::NOT_COMPARED
            .iter()
            .map(|(part, why)| format!("`{part}` ({why})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for row in differing {
        if let Some(d) = &row.verdict.first {
            let side = |r: &Option<String>| r.clone().unwrap_or_else(|| "(none)".into());
            let _ = writeln!(
                out,
                "\n{} — {} #{}\n  faucet:    {}\n  reference: {}",
                row.case,
                d.output,
                d.record,
                side(&d.left),
                side(&d.right)
            );
            for failure in &row.failures {
                let _ = writeln!(out, "  {failure}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_summary_is_not_output() {
        let (records, errors) = split_summary("{\"a\":1}\n{\n  \"rows\": [{\"error\": \"boom\"}]\n}\n");
        assert_eq!((records.as_str(), errors.as_str()), ("{\"a\":1}\n", "error: boom\n"));
        assert_eq!(split_summary("{\n  \"rows\": []\n}\n"), (String::new(), String::new()));
    }

    #[test]
    fn recorded_outputs_read_back() {
        let mut outputs = Outputs::new();
        outputs.insert("exit".into(), vec!["run 1: ok".into()]);
        outputs.insert("file out.csv".into(), vec!["a,b".into(), "".into(), "1,2".into()]);
        outputs.insert("table empty".into(), vec![]);
        assert_eq!(deserialize(&serialize(&outputs)), outputs);
    }
}

//! A differential case: one faucet-stream config, `differential/<name>.yaml`,
//! whose comment lines `# diff: <what>: <value>` say what to prepare:
//!
//! - `sql: <statements>`: run in the case's PostgreSQL schema of each side
//!   before its run (the tables a sink writes: faucet-stream never creates one);
//! - `sqlite: <statements>`: run in `$DIFF_OUT/out.db` of each side;
//! - `sqlite-in: <statements>`: run once in `$DIFF_IN/in.db`, the input both read;
//! - `runs: <n>`: run each side n times in a row (state, appends);
//! - `known: <note>`: the case differs from faucet-cli for a reason on record
//!   (README, "Differences from faucet-stream", or an open bug), named in the
//!   table; the suite fails only on differences without one.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One case of the suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The file stem: the case's name in the table and its subcommand.
    pub name: String,
    /// The config file.
    pub path: PathBuf,
    /// PostgreSQL statements run in each side's schema first.
    pub sql: Vec<String>,
    /// SQLite statements run in each side's `out.db` first.
    pub sqlite_out: Vec<String>,
    /// SQLite statements that build the shared input `in.db`.
    pub sqlite_in: Vec<String>,
    /// How many times each side runs.
    pub runs: u32,
    /// Why the case differs from faucet-cli, when it is known.
    pub known: Option<String>,
}

impl Case {
    /// Reads the case in `path`.
    pub fn load(path: &Path) -> io::Result<Case> {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let text = fs::read_to_string(path)?;
        let mut case = Case {
            name,
            path: path.to_owned(),
            sql: vec![],
            sqlite_out: vec![],
            sqlite_in: vec![],
            runs: 1,
            known: None,
        };
        for line in text.lines() {
            let Some(directive) = line.strip_prefix("# diff:") else { continue };
            let invalid =
                |why: &str| io::Error::other(format!("{}: `{}`: {why}", path.display(), line.trim()));
            let (what, value) =
                directive.split_once(':').ok_or_else(|| invalid("expected `# diff: <what>: <value>`"))?;
            let value = value.trim().to_owned();
            match what.trim() {
                "sql" => case.sql.push(value),
                "sqlite" => case.sqlite_out.push(value),
                "sqlite-in" => case.sqlite_in.push(value),
                "runs" => case.runs = value.parse().map_err(|_| invalid("runs must be a number"))?,
                "known" => case.known = Some(value),
                _ => return Err(invalid("unknown directive (sql, sqlite, sqlite-in, runs, known)")),
            }
        }
        Ok(case)
    }

    /// Every case in `dir`, by name.
    pub fn all(dir: &Path) -> io::Result<Vec<Case>> {
        let mut paths: Vec<PathBuf> = fs::read_dir(dir)?
            .map(|entry| entry.map(|e| e.path()))
            .filter(|path| path.as_ref().map_or(true, |p| p.extension().is_some_and(|e| e == "yaml")))
            .collect::<io::Result<_>>()?;
        paths.sort();
        paths.iter().map(|p| Case::load(p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_and_unknown_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.yaml");
        fs::write(&path, "# a comment\n# diff: sql: CREATE TABLE t (a int)\n# diff: runs: 2\nversion: 1\n")
            .unwrap();
        let case = Case::load(&path).unwrap();
        assert_eq!(
            (case.name.as_str(), case.sql.as_slice(), case.runs),
            ("x", &["CREATE TABLE t (a int)".to_owned()][..], 2)
        );
        fs::write(&path, "# diff: sqll: x\n").unwrap();
        assert!(Case::load(&path).unwrap_err().to_string().contains("unknown directive"));
    }
}

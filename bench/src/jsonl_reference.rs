//! The hand-written references of the JSON Lines scenarios (J and D typed),
//! whose input is `gen-data --format jsonl`: what a careful engineer writes
//! with serde's derived structs and no framework.
//!
//! Each line is decoded into [`Row`] (strings borrowed from the line where
//! they need no unescaping) and encoded back, through a 256 KiB read buffer
//! and a 64 KiB write buffer, with one `sync_data` at the end. D's transforms
//! are decided by hand, once, in [`Flat`]'s field names.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A JSON Lines scenario with a hand-written reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// JSON Lines → JSON Lines, every record as it is.
    J,
    /// JSON Lines → JSON Lines through flatten, `rename_keys` (`^(.*)_at$` →
    /// `${1}Time`) and `snake_case`.
    DTyped,
}

/// One record of the input.
#[derive(Debug, Serialize, Deserialize)]
struct Row<'a> {
    id: i64,
    #[serde(borrow)]
    first_name: Cow<'a, str>,
    #[serde(borrow)]
    country: Cow<'a, str>,
    amount: f64,
    ratio: f64,
    #[serde(borrow)]
    created_at: Cow<'a, str>,
    active: bool,
    #[serde(borrow)]
    attributes: Attributes<'a>,
}

/// A record's nested `attributes`.
#[derive(Debug, Serialize, Deserialize)]
struct Attributes<'a> {
    #[serde(borrow)]
    tier: Cow<'a, str>,
    score: f64,
    tags: Vec<Cow<'a, str>>,
}

/// A [`Row`] as D's transforms leave it: `attributes` flattened (its keys
/// joined with `__`, which `snake_case` makes `_`), `created_at` renamed
/// `createdTime`, then snake-cased.
#[derive(Debug, Serialize)]
struct Flat<'r> {
    id: i64,
    first_name: &'r str,
    country: &'r str,
    amount: f64,
    ratio: f64,
    created_time: &'r str,
    active: bool,
    attributes_tier: &'r str,
    attributes_score: f64,
    attributes_tags: &'r [Cow<'r, str>],
}

impl<'r> Flat<'r> {
    fn of(row: &'r Row<'r>) -> Self {
        Flat {
            id: row.id,
            first_name: &row.first_name,
            country: &row.country,
            amount: row.amount,
            ratio: row.ratio,
            created_time: &row.created_at,
            active: row.active,
            attributes_tier: &row.attributes.tier,
            attributes_score: row.attributes.score,
            attributes_tags: &row.attributes.tags,
        }
    }
}

/// Runs `scenario` from `input` to `output` (both JSON Lines); returns the
/// number of records written.
pub fn run(scenario: Scenario, input: &Path, output: &Path) -> io::Result<u64> {
    let mut input = BufReader::with_capacity(256 * 1024, File::open(input)?);
    let mut out = BufWriter::with_capacity(64 * 1024, File::create(output)?);
    let mut line = String::new();
    let mut rows = 0u64;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim_end();
        if text.is_empty() {
            continue;
        }
        let row: Row<'_> = serde_json::from_str(text)?;
        match scenario {
            Scenario::J => serde_json::to_writer(&mut out, &row)?,
            Scenario::DTyped => serde_json::to_writer(&mut out, &Flat::of(&row))?,
        }
        out.write_all(b"\n")?;
        rows += 1;
    }
    out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_data()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_flattens_the_generated_rows() {
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("in.jsonl"), dir.path().join("out.jsonl"));
        let mut rows = Vec::new();
        crate::data::generate_jsonl(&mut rows, 3, 42).unwrap();
        std::fs::write(&input, &rows).unwrap();
        let records = |path: &Path| -> Vec<serde_json::Value> {
            std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
        };

        assert_eq!(run(Scenario::J, &input, &output).unwrap(), 3);
        let (copied, original) = (records(&output), records(&input));
        assert_eq!(copied.len(), 3);
        for (copy, row) in copied.iter().zip(&original) {
            for key in ["id", "first_name", "country", "created_at", "active", "attributes"] {
                assert_eq!(copy[key], row[key], "{key}");
            }
            for key in ["amount", "ratio"] {
                assert_eq!(copy[key].as_f64(), row[key].as_f64(), "{key}");
            }
        }

        assert_eq!(run(Scenario::DTyped, &input, &output).unwrap(), 3);
        let flat = records(&output);
        let keys: Vec<&str> = flat[0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "first_name",
                "country",
                "amount",
                "ratio",
                "created_time",
                "active",
                "attributes_tier",
                "attributes_score",
                "attributes_tags"
            ]
        );
        assert_eq!(flat[1]["created_time"], original[1]["created_at"]);
        assert_eq!(flat[1]["attributes_tags"], original[1]["attributes"]["tags"]);
        assert_eq!(flat[2]["attributes_tier"], original[2]["attributes"]["tier"]);
    }
}

//! The hand-written reference programs: what a careful engineer writes for
//! each scenario with `csv-core` and `serde_json` and no framework.
//!
//! They read the CSV in 256 KiB chunks, write through a 64 KiB buffer, keep
//! values as strings (like faucet's `csv` source without `infer_types`) and
//! sync the output once at the end. Scenario D renames the header's keys once
//! (a hand-written program knows every row has the same columns); `flatten`
//! has nothing to do on string values.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use csv_core::{ReadRecordResult, Reader};
use heck::ToSnakeCase;
use regex::Regex;

/// A benchmark scenario with a hand-written reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// CSV → JSON Lines, values as strings.
    A,
    /// CSV → JSON Lines through flatten, `rename_keys` (`^(.*)_at$` → `${1}Time`) and `snake_case`.
    D,
}

impl Scenario {
    /// `a` / `d` (case-insensitive); E runs A.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "a" | "e" => Some(Scenario::A),
            "d" => Some(Scenario::D),
            _ => None,
        }
    }
}

/// The output key for a CSV column under `scenario`.
pub fn output_key(scenario: Scenario, column: &str) -> String {
    match scenario {
        Scenario::A => column.to_owned(),
        Scenario::D => {
            let renamed =
                Regex::new("^(.*)_at$").expect("valid regex").replace(column, "${1}Time").into_owned();
            renamed.to_snake_case()
        }
    }
}

/// Calls `row` with the fields of every CSV record of `input` (header included).
fn for_each_record(input: &Path, mut row: impl FnMut(&[u8], &[usize]) -> io::Result<()>) -> io::Result<()> {
    let mut file = File::open(input)?;
    let mut reader = Reader::new();
    let mut buf = vec![0u8; 256 * 1024];
    let (mut start, mut end, mut eof) = (0, 0, false);
    let mut fields = vec![0u8; 4096];
    let mut ends = vec![0usize; 32];
    let (mut out_len, mut ends_len) = (0, 0);
    loop {
        if start == end && !eof {
            end = file.read(&mut buf)?;
            start = 0;
            eof = end == 0;
        }
        let (result, read, written, ended) =
            reader.read_record(&buf[start..end], &mut fields[out_len..], &mut ends[ends_len..]);
        start += read;
        out_len += written;
        ends_len += ended;
        match result {
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::OutputFull => fields.resize(fields.len() * 2, 0),
            ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            ReadRecordResult::Record => {
                row(&fields[..out_len], &ends[..ends_len])?;
                out_len = 0;
                ends_len = 0;
            }
            ReadRecordResult::End => return Ok(()),
        }
    }
}

fn utf8(bytes: &[u8]) -> io::Result<&str> {
    std::str::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Runs `scenario` from `input` (CSV with a header) to `output` (JSON Lines);
/// returns the number of records written.
pub fn run(scenario: Scenario, input: &Path, output: &Path) -> io::Result<u64> {
    let file = File::create(output)?;
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    // Each key, JSON-encoded with its colon, once; None until the header was read.
    let mut keys: Option<Vec<Vec<u8>>> = None;
    let mut rows = 0u64;
    for_each_record(input, |fields, ends| {
        let mut start = 0;
        let values = ends.iter().map(|&end| {
            let field = &fields[start..end];
            start = end;
            field
        });
        let Some(keys) = &keys else {
            let mut encoded = Vec::with_capacity(ends.len());
            for value in values {
                let mut key = serde_json::to_vec(&output_key(scenario, utf8(value)?))?;
                key.push(b':');
                encoded.push(key);
            }
            keys = Some(encoded);
            return Ok(());
        };
        if ends.len() != keys.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("record {} has {} fields, the header {}", rows + 1, ends.len(), keys.len()),
            ));
        }
        out.write_all(b"{")?;
        for (i, (key, value)) in keys.iter().zip(values).enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(key)?;
            serde_json::to_writer(&mut out, utf8(value)?)?;
        }
        out.write_all(b"}\n")?;
        rows += 1;
        Ok(())
    })?;
    out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_data()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d_renames_then_snake_cases() {
        assert_eq!(output_key(Scenario::D, "created_at"), "created_time");
        assert_eq!(output_key(Scenario::D, "first_name"), "first_name");
        assert_eq!(output_key(Scenario::A, "created_at"), "created_at");
    }

    #[test]
    fn csv_to_jsonl_keeps_strings_and_quoted_fields() {
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("in.csv"), dir.path().join("out.jsonl"));
        std::fs::write(
            &input,
            "id,created_at,attributes\r\n1,2020,\"{\"\"a\"\":1}\"\r\n2,x,\"multi\nline\"\r\n",
        )
        .unwrap();
        assert_eq!(run(Scenario::D, &input, &output).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&output).unwrap(),
            "{\"id\":\"1\",\"created_time\":\"2020\",\"attributes\":\"{\\\"a\\\":1}\"}\n\
             {\"id\":\"2\",\"created_time\":\"x\",\"attributes\":\"multi\\nline\"}\n"
        );
    }
}

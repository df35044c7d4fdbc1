//! `copy_records untyped|strings|typed IN OUT.jsonl`: copies the benchmark's
//! data (`bench/`'s `gen-data`) to JSON Lines through the `csv` (IN.csv:
//! `id,first_name,country,amount,created_at,active,attributes`) or `jsonl`
//! source (IN.jsonl, `--format jsonl`: the same rows typed, with a `ratio`)
//! and the `jsonl` sink, to compare the record paths on the same input (with
//! callgrind, say):
//!
//! - `untyped`: JSON values, as a pipeline without a schema moves them;
//! - `strings` (CSV only): a typed record whose fields are all strings (the
//!   same output as `untyped`);
//! - `typed`: a typed record with an integer `id`, doubles `amount` (and
//!   `ratio`), a boolean `active` and a JSON `attributes`.
//!
//! The records are written by hand the way faucet-gen writes them.

use faucet_runtime::connectors::files::{
    CsvSource, CsvSourceConfig, JsonlSink, JsonlSinkConfig, JsonlSource, JsonlSourceConfig,
};
use faucet_runtime::schema::{Field, FieldType, Schema};
use faucet_runtime::{FieldValue, IntoTyped, Pipeline, RecordType, Source, Writes, record};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const fn field(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty, nullable: false, required: true }
}

const STRINGS: Schema = Schema {
    fields: &[
        field("id", FieldType::String),
        field("first_name", FieldType::String),
        field("country", FieldType::String),
        field("amount", FieldType::String),
        field("created_at", FieldType::String),
        field("active", FieldType::String),
        field("attributes", FieldType::String),
    ],
    open: false,
    origin: "the benchmark CSV, every field a string",
};

/// A row with every field a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Strings {
    id: String,
    first_name: String,
    country: String,
    amount: String,
    created_at: String,
    active: String,
    attributes: String,
}

impl RecordType for Strings {
    const SCHEMA: Option<&'static Schema> = Some(&STRINGS);

    fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
        match index {
            0 => FieldValue::Text(&self.id),
            1 => FieldValue::Text(&self.first_name),
            2 => FieldValue::Text(&self.country),
            3 => FieldValue::Text(&self.amount),
            4 => FieldValue::Text(&self.created_at),
            5 => FieldValue::Text(&self.active),
            6 => FieldValue::Text(&self.attributes),
            _ => FieldValue::Absent,
        }
    }

    fn to_json(&self) -> std::borrow::Cow<'_, Value> {
        record::json_of(self)
    }

    fn from_json(value: Value) -> faucet_runtime::Result<Self> {
        record::from_json_value(value)
    }
}

const TYPED: Schema = Schema {
    fields: &[
        field("id", FieldType::Integer),
        field("first_name", FieldType::String),
        field("country", FieldType::String),
        field("amount", FieldType::Number),
        field("created_at", FieldType::Timestamp { time_zone: true }),
        field("active", FieldType::Boolean),
        field("attributes", FieldType::Json),
    ],
    open: false,
    origin: "the benchmark CSV, declared",
};

/// A row with its fields' own types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Typed {
    id: i64,
    first_name: String,
    country: String,
    amount: f64,
    created_at: String,
    active: bool,
    attributes: Value,
}

impl RecordType for Typed {
    const SCHEMA: Option<&'static Schema> = Some(&TYPED);

    fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
        match index {
            0 => FieldValue::Int(self.id),
            1 => FieldValue::Text(&self.first_name),
            2 => FieldValue::Text(&self.country),
            3 => FieldValue::Float(self.amount),
            4 => FieldValue::Text(&self.created_at),
            5 => FieldValue::Bool(self.active),
            6 => FieldValue::Json(&self.attributes),
            _ => FieldValue::Absent,
        }
    }

    fn to_json(&self) -> std::borrow::Cow<'_, Value> {
        record::json_of(self)
    }

    fn from_json(value: Value) -> faucet_runtime::Result<Self> {
        record::from_json_value(value)
    }
}

const LINES: Schema = Schema {
    fields: &[
        field("id", FieldType::Integer),
        field("first_name", FieldType::String),
        field("country", FieldType::String),
        field("amount", FieldType::Number),
        field("ratio", FieldType::Number),
        field("created_at", FieldType::Timestamp { time_zone: true }),
        field("active", FieldType::Boolean),
        field("attributes", FieldType::Json),
    ],
    open: false,
    origin: "the benchmark JSON Lines, declared",
};

/// A line of the JSON Lines data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Line {
    id: i64,
    first_name: String,
    country: String,
    amount: f64,
    ratio: f64,
    created_at: String,
    active: bool,
    attributes: Value,
}

impl RecordType for Line {
    const SCHEMA: Option<&'static Schema> = Some(&LINES);

    fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
        match index {
            0 => FieldValue::Int(self.id),
            1 => FieldValue::Text(&self.first_name),
            2 => FieldValue::Text(&self.country),
            3 => FieldValue::Float(self.amount),
            4 => FieldValue::Float(self.ratio),
            5 => FieldValue::Text(&self.created_at),
            6 => FieldValue::Bool(self.active),
            7 => FieldValue::Json(&self.attributes),
            _ => FieldValue::Absent,
        }
    }

    fn to_json(&self) -> std::borrow::Cow<'_, Value> {
        record::json_of(self)
    }

    fn from_json(value: Value) -> faucet_runtime::Result<Self> {
        record::from_json_value(value)
    }
}

async fn copy<S: Source>(source: S, output: &str) -> faucet_runtime::Result<u64>
where
    JsonlSink: Writes<S::Record>,
{
    let sink = JsonlSink::new(JsonlSinkConfig::new(output));
    let report = Pipeline::new(source, sink).with_name("copy_records").run().await?;
    Ok(report.records_written)
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, input, output] = args.as_slice() else {
        eprintln!("usage: copy_records untyped|strings|typed IN.csv|IN.jsonl OUT.jsonl");
        return std::process::ExitCode::from(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio starts");
    let written = runtime.block_on(async {
        if input.ends_with(".jsonl") {
            let source = JsonlSource::new(JsonlSourceConfig::new(input.as_str()));
            return match mode.as_str() {
                "untyped" => copy(source, output).await,
                "typed" => copy(IntoTyped::<Line>::into_typed(source), output).await,
                other => {
                    Err(faucet_runtime::FaucetError::config(format!("unknown mode `{other}` for JSON Lines")))
                }
            };
        }
        let source = CsvSource::new(CsvSourceConfig::new(input.as_str()));
        match mode.as_str() {
            "untyped" => copy(source, output).await,
            "strings" => copy(IntoTyped::<Strings>::into_typed(source), output).await,
            "typed" => copy(IntoTyped::<Typed>::into_typed(source), output).await,
            other => Err(faucet_runtime::FaucetError::config(format!("unknown mode `{other}`"))),
        }
    });
    match written {
        Ok(rows) => {
            eprintln!("copy_records {mode}: wrote {rows} record(s)");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("copy_records {mode}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! The `lookup` transform: records enriched from a small reference table,
//! matched on one field.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::chain::Transform;
use super::json_text::{Numbers, canonical, double_text};
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// What `lookup` does when no reference row matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupOnMissing {
    /// Write each added column as null.
    Null,
    /// Leave the record as it is.
    Keep,
    /// Reject the record.
    Error,
}

/// How a `lookup` matches and what it adds.
#[derive(Debug, Clone)]
pub struct LookupConfig {
    /// The record's field matched.
    pub on_record: String,
    /// The reference rows' field it is matched against.
    pub on_ref: String,
    /// `(column written on the record, column of the reference row)`, in order.
    pub add: Vec<(String, String)>,
    /// On a miss.
    pub on_missing: LookupOnMissing,
}

/// Matches each record's `on_record` value against the reference rows'
/// `on_ref` values, compared as text (so `42`, `42.0` and `"42"` match, as
/// in faucet-stream; null never matches), and writes the `add` columns of
/// the first row with that key (null for a column the row lacks).
#[derive(Debug, Clone)]
pub struct Lookup {
    config: LookupConfig,
    /// The `add` columns of each key's first row, in `add` order.
    index: HashMap<String, Vec<Value>>,
}

impl Lookup {
    /// A lookup over `rows`, one JSON object per line (blank lines skipped):
    /// the table faucet-gen read at build time, or a file read at start.
    pub fn new(config: LookupConfig, rows: &str) -> Result<Self> {
        let mut index = HashMap::new();
        for (i, line) in rows.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row: Map<String, Value> = serde_json::from_str(line).map_err(|e| {
                FaucetError::config(format!("lookup: reference row {} is not a JSON object: {e}", i + 1))
            })?;
            if let Some(key) = row.get(&config.on_ref).and_then(key) {
                index.entry(key).or_insert_with(|| {
                    config
                        .add
                        .iter()
                        .map(|(_, column)| row.get(column).cloned().unwrap_or(Value::Null))
                        .collect()
                });
            }
        }
        Ok(Lookup { config, index })
    }

    /// A lookup over the JSON Lines file at `path`, read now.
    pub fn from_file(config: LookupConfig, path: &str) -> Result<Self> {
        let rows = std::fs::read_to_string(path)
            .map_err(|e| FaucetError::config(format!("lookup: cannot read reference file {path:?}: {e}")))?;
        Self::new(config, &rows).map_err(|e| FaucetError::config(format!("{} (in {path:?})", e.message())))
    }

    /// How many distinct keys the table holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// A value as the text keys are compared by; `None` for null.
fn key(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => {
            let text = double_text(n);
            // A whole double within 2^53 is written as an integer: `42.0` is `42`.
            match text.parse::<f64>() {
                Ok(f)
                    if text.contains(['.', 'e', 'E'])
                        && f.fract() == 0.0
                        && f.abs() < 9_007_199_254_740_992.0 =>
                {
                    Some(format!("{}", f as i64))
                }
                _ => Some(text),
            }
        }
        other => Some(canonical(other, Numbers::Double)),
    }
}

impl Transform for Lookup {
    type Out = Record;
    const CAN_FAIL: bool = true;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        let Value::Object(map) = &mut record else { return Ok(Some(record)) };
        let key = map.get(&self.config.on_record).and_then(key);
        match key.as_ref().and_then(|k| self.index.get(k)) {
            Some(values) => {
                for ((column, _), value) in self.config.add.iter().zip(values) {
                    map.insert(column.clone(), value.clone());
                }
            }
            None => match self.config.on_missing {
                LookupOnMissing::Null => {
                    for (column, _) in &self.config.add {
                        map.insert(column.clone(), Value::Null);
                    }
                }
                LookupOnMissing::Keep => {}
                LookupOnMissing::Error => {
                    let on_record = &self.config.on_record;
                    return Err(FaucetError::transform(match key {
                        Some(key) => format!("lookup: no reference row for {on_record} = {key:?}"),
                        None => {
                            format!("lookup: the record has no {on_record:?} to look up (absent or null)")
                        }
                    }));
                }
            },
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    const ROWS: &str = r#"{"code": "DE", "name": "Germany", "eu": true}
{"code": 42, "name": "Answer"}

{"code": "DE", "name": "shadowed"}
{"code": null, "name": "never"}
{"name": "no key"}
"#;

    fn lookup(on_missing: LookupOnMissing) -> Lookup {
        let config = LookupConfig {
            on_record: "c".into(),
            on_ref: "code".into(),
            add: vec![("country".into(), "name".into()), ("in_eu".into(), "eu".into())],
            on_missing,
        };
        Lookup::new(config, ROWS).unwrap()
    }

    #[test]
    fn first_row_of_a_key_wins_and_absent_columns_are_null() {
        let mut l = lookup(LookupOnMissing::Null);
        assert_eq!(l.len(), 2);
        let out = l.apply(json!({"c": "DE", "x": 1})).unwrap().unwrap();
        assert_eq!(out, json!({"c": "DE", "x": 1, "country": "Germany", "in_eu": true}));
        for c in [json!(42), json!("42"), serde_json::from_str::<Value>("42.0").unwrap()] {
            let out = l.apply(json!({"c": c.clone()})).unwrap().unwrap();
            assert_eq!(out["country"], json!("Answer"), "{c}");
            assert_eq!(out["in_eu"], Value::Null);
        }
    }

    #[test]
    fn misses_null_keep_or_error() {
        let out = lookup(LookupOnMissing::Null).apply(json!({"c": "FR"})).unwrap().unwrap();
        assert_eq!(out, json!({"c": "FR", "country": null, "in_eu": null}));
        let out = lookup(LookupOnMissing::Keep).apply(json!({"c": null})).unwrap().unwrap();
        assert_eq!(out, json!({"c": null}));
        let err = lookup(LookupOnMissing::Error).apply(json!({"c": "FR"})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert_eq!(err.message(), "lookup: no reference row for c = \"FR\"");
        let err = lookup(LookupOnMissing::Error).apply(json!({})).unwrap_err();
        assert!(err.message().contains("absent or null"), "{err}");
    }

    #[test]
    fn a_bad_row_or_file_is_a_config_error() {
        let config = lookup(LookupOnMissing::Null).config;
        let err = Lookup::new(config.clone(), "{\"a\": 1}\n[1]\n").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("row 2"), "{err}");
        let err = Lookup::from_file(config, "/nonexistent/faucet-lookup.jsonl").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
    }
}

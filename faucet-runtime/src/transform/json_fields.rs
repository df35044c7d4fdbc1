//! The `json_parse` and `json_encode` transforms: embedded JSON text into
//! values and back.

use serde_json::Value;

use super::chain::Transform;
use super::json_text::{Numbers, canonical};
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// What `json_parse` does with a string that is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonParseOnError {
    /// Leave the string as it is.
    Keep,
    /// Write null instead.
    Null,
    /// Reject the record.
    Error,
}

/// Parses the string value of each listed top-level field as JSON, in place
/// or (one field only) into `into`. A value that is not a string (already
/// parsed) and a field the record lacks stay as they are. Numbers keep every
/// digit of their text.
#[derive(Debug, Clone)]
pub struct JsonParse {
    fields: Vec<String>,
    on_error: JsonParseOnError,
    into: Option<String>,
}

impl JsonParse {
    /// Parses `fields` (exactly one when `into` is set: faucet-gen checks it).
    pub fn new(fields: Vec<String>, on_error: JsonParseOnError, into: Option<String>) -> Self {
        JsonParse { fields, on_error, into }
    }
}

impl Transform for JsonParse {
    type Out = Record;
    const CAN_FAIL: bool = true;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        let Value::Object(map) = &mut record else { return Ok(Some(record)) };
        for field in &self.fields {
            let Some(Value::String(text)) = map.get(field) else { continue };
            let parsed = match serde_json::from_str::<Value>(text) {
                Ok(value) => value,
                Err(e) => match self.on_error {
                    JsonParseOnError::Keep => continue,
                    JsonParseOnError::Null => Value::Null,
                    // serde_json's message says where, never what: the text may be personal data.
                    JsonParseOnError::Error => {
                        return Err(FaucetError::transform(format!(
                            "json_parse: field {field:?} is not valid JSON: {e}"
                        )));
                    }
                },
            };
            match &self.into {
                Some(into) => {
                    map.insert(into.clone(), parsed);
                }
                None => {
                    if let Some(v) = map.get_mut(field) {
                        *v = parsed;
                    }
                }
            }
        }
        Ok(Some(record))
    }
}

/// Writes each listed top-level object or array field as its compact JSON
/// text (keys sorted, as faucet-stream writes it; numbers keep their
/// digits). Scalars and fields the record lacks stay as they are.
#[derive(Debug, Clone)]
pub struct JsonEncode {
    fields: Vec<String>,
}

impl JsonEncode {
    /// Encodes `fields`.
    pub fn new(fields: Vec<String>) -> Self {
        JsonEncode { fields }
    }

    /// The text `json_encode` writes for an object or array value.
    pub fn encode(value: &Value) -> String {
        canonical(value, Numbers::Exact)
    }
}

impl Transform for JsonEncode {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        if let Value::Object(map) = &mut record {
            for field in &self.fields {
                if let Some(v) = map.get_mut(field)
                    && matches!(v, Value::Object(_) | Value::Array(_))
                {
                    *v = Value::String(JsonEncode::encode(v));
                }
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    fn parse(on_error: JsonParseOnError, into: Option<&str>, record: Value) -> Result<Value> {
        JsonParse::new(vec!["j".into()], on_error, into.map(Into::into)).apply(record).map(Option::unwrap)
    }

    #[test]
    fn parses_strings_in_place_or_into_and_keeps_numbers_exact() {
        let out = parse(JsonParseOnError::Keep, None, json!({"j": "{\"a\": [1, 2.50]}", "k": 1})).unwrap();
        assert_eq!(out, json!({"j": {"a": [1, serde_json::from_str::<Value>("2.50").unwrap()]}, "k": 1}));
        assert_eq!(out["j"]["a"][1].to_string(), "2.50");
        let out = parse(JsonParseOnError::Keep, Some("p"), json!({"j": "[true]"})).unwrap();
        assert_eq!(out, json!({"j": "[true]", "p": [true]}));
        // Scalars are JSON too.
        assert_eq!(parse(JsonParseOnError::Keep, None, json!({"j": "12"})).unwrap(), json!({"j": 12}));
    }

    #[test]
    fn already_parsed_and_missing_values_stay() {
        for record in [json!({"j": {"a": 1}}), json!({"j": null}), json!({"x": "1"})] {
            assert_eq!(parse(JsonParseOnError::Error, None, record.clone()).unwrap(), record);
        }
    }

    #[test]
    fn invalid_json_kept_nulled_or_rejected_without_its_text() {
        let bad = json!({"j": "{not json: s3cret"});
        assert_eq!(parse(JsonParseOnError::Keep, None, bad.clone()).unwrap(), bad);
        assert_eq!(parse(JsonParseOnError::Null, None, bad.clone()).unwrap(), json!({"j": null}));
        assert_eq!(
            parse(JsonParseOnError::Null, Some("p"), bad.clone()).unwrap(),
            json!({"j": "{not json: s3cret", "p": null})
        );
        let err = parse(JsonParseOnError::Error, None, bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().starts_with("json_parse: field \"j\" is not valid JSON"), "{err}");
        assert!(!err.message().contains("s3cret"), "{err}");
    }

    #[test]
    fn encode_objects_and_arrays_only() {
        let mut t = JsonEncode::new(vec!["o".into(), "a".into(), "s".into(), "n".into()]);
        let out = t
            .apply(json!({"o": {"z": 1, "a": "x"}, "a": [1, null], "s": "text", "n": null, "k": {"q": 1}}))
            .unwrap()
            .unwrap();
        assert_eq!(
            out,
            json!({"o": "{\"a\":\"x\",\"z\":1}", "a": "[1,null]", "s": "text", "n": null, "k": {"q": 1}})
        );
    }

    #[test]
    fn encode_then_parse_round_trips() {
        let record = json!({"o": {"a": [1, {"b": "c"}]}});
        let encoded = JsonEncode::new(vec!["o".into()]).apply(record.clone()).unwrap().unwrap();
        let back = JsonParse::new(vec!["o".into()], JsonParseOnError::Error, None).apply(encoded).unwrap();
        assert_eq!(back.unwrap(), record);
    }
}

//! The `coalesce` transform: a field that is absent or null filled from a
//! constant, or from the first of other fields that has a value.

use serde_json::Value;

use super::chain::Transform;
use crate::error::Result;
use crate::page::Record;

/// What fills the field.
#[derive(Debug, Clone)]
pub enum Fill {
    /// A constant.
    Default(Value),
    /// The first of these fields that is present and not null (nor empty,
    /// with `treat_empty_string_as_null`); none: the field stays as it is.
    From(Vec<String>),
}

/// Fills `field` when it is absent or null (or, with
/// `treat_empty_string_as_null`, the empty string); a field with a value is
/// left alone. A new field is added after the others.
#[derive(Debug, Clone)]
pub struct Coalesce {
    field: String,
    fill: Fill,
    empty_is_null: bool,
}

impl Coalesce {
    /// A coalesce of `field` from `fill`.
    pub fn new(field: &str, fill: Fill, treat_empty_string_as_null: bool) -> Self {
        Coalesce { field: field.to_owned(), fill, empty_is_null: treat_empty_string_as_null }
    }

    fn nullish(&self, value: Option<&Value>) -> bool {
        match value {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => self.empty_is_null && s.is_empty(),
            Some(_) => false,
        }
    }
}

impl Transform for Coalesce {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        let Value::Object(map) = &mut record else { return Ok(Some(record)) };
        if !self.nullish(map.get(self.field.as_str())) {
            return Ok(Some(record));
        }
        let value = match &self.fill {
            Fill::Default(value) => value.clone(),
            Fill::From(fields) => {
                match fields.iter().map(|f| map.get(f.as_str())).find(|v| !self.nullish(*v)) {
                    Some(Some(value)) => value.clone(),
                    _ => return Ok(Some(record)),
                }
            }
        };
        match map.get_mut(self.field.as_str()) {
            Some(slot) => *slot = value,
            None => {
                map.insert(self.field.clone(), value);
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(t: &mut Coalesce, v: Value) -> Value {
        t.apply(v).unwrap().unwrap()
    }

    #[test]
    fn a_default_fills_absent_and_null_fields_only() {
        let mut t = Coalesce::new("status", Fill::Default(json!("unknown")), false);
        assert_eq!(run(&mut t, json!({"status": null, "a": 1})), json!({"status": "unknown", "a": 1}));
        let out = run(&mut t, json!({"a": 1}));
        assert_eq!(out, json!({"a": 1, "status": "unknown"}));
        assert_eq!(out.as_object().unwrap().keys().next_back().unwrap(), "status");
        assert_eq!(run(&mut t, json!({"status": "on"})), json!({"status": "on"}));
        assert_eq!(run(&mut t, json!({"status": ""})), json!({"status": ""}));
        assert_eq!(run(&mut t, json!({"status": 0})), json!({"status": 0}));
        assert_eq!(run(&mut t, json!([1])), json!([1]));
    }

    #[test]
    fn from_takes_the_first_field_with_a_value() {
        let mut t =
            Coalesce::new("status", Fill::From(vec!["status".into(), "state".into(), "phase".into()]), false);
        let out = run(&mut t, json!({"status": null, "state": null, "phase": "running"}));
        assert_eq!(out["status"], "running");
        // None has one: the field stays as it was (null, or absent).
        assert_eq!(run(&mut t, json!({"status": null})), json!({"status": null}));
        assert_eq!(run(&mut t, json!({"x": 1})), json!({"x": 1}));
        // A copy: the field it came from keeps its value.
        assert_eq!(run(&mut t, json!({"state": [1]})), json!({"state": [1], "status": [1]}));
    }

    #[test]
    fn empty_strings_count_as_null_when_asked() {
        let mut t = Coalesce::new("a", Fill::From(vec!["b".into(), "c".into()]), true);
        assert_eq!(run(&mut t, json!({"a": "", "b": "", "c": "z"}))["a"], "z");
        let mut t = Coalesce::new("a", Fill::Default(json!(9)), true);
        assert_eq!(run(&mut t, json!({"a": ""})), json!({"a": 9}));
    }
}

//! The `redact` transform: listed fields overwritten with a mask.

use serde_json::Value;

use super::chain::Transform;
use crate::error::Result;
use crate::page::Record;

/// Overwrites each listed top-level field with `mask` (faucet-stream's
/// default is the string `"***"`). A field the record lacks stays absent: no
/// mask is added. The original value is dropped, never copied anywhere.
#[derive(Debug, Clone)]
pub struct Redact {
    fields: Vec<String>,
    mask: Value,
}

impl Redact {
    /// Masks `fields` with `mask`.
    pub fn new(fields: Vec<String>, mask: Value) -> Self {
        Redact { fields, mask }
    }
}

impl Transform for Redact {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        if let Value::Object(map) = &mut record {
            for field in &self.fields {
                if let Some(value) = map.get_mut(field) {
                    // In place: the key keeps its position.
                    value.clone_from(&self.mask);
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

    fn run(fields: &[&str], mask: Value, record: Value) -> Value {
        let fields = fields.iter().map(|f| (*f).to_owned()).collect();
        Redact::new(fields, mask).apply(record).unwrap().unwrap()
    }

    #[test]
    fn masks_present_fields_in_place_and_skips_missing_ones() {
        let out = run(
            &["ssn", "card", "absent"],
            json!("***"),
            json!({"id": 1, "ssn": "123-45-6789", "card": {"no": "4111"}, "name": "Ada"}),
        );
        assert_eq!(out, json!({"id": 1, "ssn": "***", "card": "***", "name": "Ada"}));
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "ssn", "card", "name"]);
        let text = out.to_string();
        assert!(!text.contains("123-45-6789") && !text.contains("4111"), "{text}");
    }

    #[test]
    fn masks_null_and_takes_any_json_mask() {
        let out = run(&["a", "b"], json!({"masked": true}), json!({"a": null, "b": [1, 2]}));
        assert_eq!(out, json!({"a": {"masked": true}, "b": {"masked": true}}));
        let out = run(&["a"], Value::Null, json!({"a": "secret"}));
        assert_eq!(out, json!({"a": null}));
    }

    #[test]
    fn non_objects_pass_through() {
        assert_eq!(run(&["a"], json!("***"), json!("a")), json!("a"));
    }
}

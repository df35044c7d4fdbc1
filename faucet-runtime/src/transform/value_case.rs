//! The `value_case` transform: the text of listed string fields re-cased.

use serde_json::Value;

use super::chain::Transform;
use crate::error::Result;
use crate::page::Record;

/// How `value_case` rewrites a string, as faucet-stream 1.17 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueCaseMode {
    /// Unicode lowercase.
    Lower,
    /// Unicode uppercase.
    Upper,
    /// Leading and trailing whitespace removed.
    Trim,
    /// The first letter of each whitespace-delimited word upper, the rest lower.
    Title,
    /// The first character of the whole string upper, the rest lower.
    Capitalize,
}

impl ValueCaseMode {
    /// `s` rewritten in this mode.
    pub fn apply(self, s: &str) -> String {
        match self {
            ValueCaseMode::Lower => s.to_lowercase(),
            ValueCaseMode::Upper => s.to_uppercase(),
            ValueCaseMode::Trim => s.trim().to_owned(),
            ValueCaseMode::Title => title(s),
            ValueCaseMode::Capitalize => capitalize(s),
        }
    }
}

/// Words start after whitespace only: `o'brien` is `O'brien`.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word_start = true;
    for c in s.chars() {
        if c.is_whitespace() {
            word_start = true;
            out.push(c);
        } else if word_start {
            out.extend(c.to_uppercase());
            word_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(&chars.as_str().to_lowercase());
            out
        }
    }
}

/// Re-cases the string value of each listed top-level field. A value that
/// is not a string (null, a number, an object) and a field the record lacks
/// stay as they are, as in faucet-stream.
#[derive(Debug, Clone)]
pub struct ValueCase {
    fields: Vec<String>,
    mode: ValueCaseMode,
}

impl ValueCase {
    /// Re-cases `fields` in `mode`.
    pub fn new(fields: Vec<String>, mode: ValueCaseMode) -> Self {
        ValueCase { fields, mode }
    }
}

impl Transform for ValueCase {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        if let Value::Object(map) = &mut record {
            for field in &self.fields {
                if let Some(Value::String(s)) = map.get_mut(field) {
                    *s = self.mode.apply(s);
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

    fn run(mode: ValueCaseMode, record: Value) -> Value {
        ValueCase::new(vec!["s".into(), "missing".into()], mode).apply(record).unwrap().unwrap()
    }

    #[test]
    fn each_mode_as_faucet_stream() {
        use ValueCaseMode::*;
        let cases = [
            (Lower, "ÀDA Lovelace", "àda lovelace"),
            (Upper, "straße", "STRASSE"),
            (Trim, " \t both ends \n", "both ends"),
            (Title, "o'brien mc-donald  ÉCOLE", "O'brien Mc-donald  École"),
            (Capitalize, "hELLO World", "Hello world"),
            (Capitalize, "", ""),
            (Title, "", ""),
        ];
        for (mode, input, want) in cases {
            assert_eq!(run(mode, json!({"s": input})), json!({"s": want}), "{mode:?} {input:?}");
        }
    }

    #[test]
    fn non_strings_and_missing_fields_stay() {
        for v in [json!(null), json!(12), json!(["a"]), json!({"a": "B"})] {
            assert_eq!(run(ValueCaseMode::Upper, json!({"s": v.clone()})), json!({"s": v}));
        }
        assert_eq!(run(ValueCaseMode::Upper, json!({"t": "x"})), json!({"t": "x"}));
    }
}

//! The `snake_case` and `keys_case` transforms.
//!
//! What becomes of each key is [`faucet_keys::CaseMode::convert`], shared with
//! faucet-gen's build-time schema flow: `keys_case` splits words as
//! faucet-stream 1.17 does (`userID` is `user_id`, `HTTPServer` is
//! `httpserver`); faucet's own `snake_case` as the `heck` crate does
//! (`HTTPServer` is `http_server`).

use serde_json::Value;

use super::chain::Transform;
use super::rename_keys::{KeyMemo, rekey};
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// The case `keys_case` converts keys to, and what it makes of a key: one
/// implementation with faucet-gen, which maps schemas through it at build time.
pub use faucet_keys::CaseMode;

/// Converts every key, recursively, to one case.
///
/// Keys of nested objects, and of objects inside arrays, are converted too.
/// Two keys of one object that convert to the same name (`firstName` and
/// `first_name`, say) are an error naming both, rather than one silently
/// overwriting the other.
#[derive(Debug, Clone)]
pub struct KeysCase {
    mode: CaseMode,
    memo: KeyMemo,
}

impl KeysCase {
    /// A conversion to `mode`; `snake_case` is `KeysCase::new(CaseMode::SnakeCase)`.
    pub fn new(mode: CaseMode) -> Self {
        KeysCase { mode, memo: KeyMemo::default() }
    }
}

impl KeysCase {
    /// Converts every key of `value`, recursively: the whole record, or (on a
    /// typed stream, whose own keys were converted at build time) a `json` field's value.
    pub fn rekey(&mut self, value: &mut Value) -> Result<()> {
        let KeysCase { mode, memo } = self;
        let mode = *mode;
        rekey(value, &mut |key: &str| memo.get(key, |key| mode.convert(key))).map_err(|c| {
            FaucetError::transform(format!(
                "{}: keys {:?} and {:?} of the same object both become {:?}",
                mode.transform_name(),
                c.first,
                c.second,
                c.key
            ))
        })
    }
}

impl Transform for KeysCase {
    type Out = Record;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        self.rekey(&mut record)?;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    const ALL: [CaseMode; 7] = CaseMode::ALL;

    fn run(mode: CaseMode, record: Value) -> Result<Value> {
        KeysCase::new(mode).apply(record).map(|r| r.expect("never drops"))
    }

    fn key(mode: CaseMode, key: &str) -> String {
        let out = run(mode, json!({ key: 0 })).unwrap();
        out.as_object().unwrap().keys().next().unwrap().clone()
    }

    #[test]
    fn snake_examples() {
        assert_eq!(key(CaseMode::Snake, "firstName"), "first_name");
        assert_eq!(key(CaseMode::Snake, "HTTPServer"), "httpserver");
        assert_eq!(key(CaseMode::Snake, "getHTTPResponseCode"), "get_httpresponse_code");
        assert_eq!(key(CaseMode::Snake, "a1B2c3"), "a1b2c3");
        assert_eq!(key(CaseMode::Snake, "userID"), "user_id");
        assert_eq!(key(CaseMode::Snake, "first_name"), "first_name");
        assert_eq!(key(CaseMode::Snake, "First Name"), "first_name");
        assert_eq!(key(CaseMode::Snake, "kebab-key"), "kebab_key");
    }

    #[test]
    fn faucets_own_snake_case_splits_acronyms() {
        assert_eq!(key(CaseMode::SnakeCase, "HTTPServer"), "http_server");
        assert_eq!(key(CaseMode::SnakeCase, "getHTTPResponseCode"), "get_http_response_code");
        let err = run(CaseMode::SnakeCase, json!({"a_b": 1, "aB": 2})).unwrap_err();
        assert!(err.message().starts_with("snake_case: "), "{err}");
    }

    #[test]
    fn dot_mode() {
        assert_eq!(key(CaseMode::Dot, "firstName"), "first.name");
        assert_eq!(key(CaseMode::Dot, "First_Name"), "first.name");
        let err = run(CaseMode::Dot, json!({"a.b": 1, "a_b": 2})).unwrap_err();
        assert!(err.message().starts_with("keys_case: "), "{err}");
    }

    #[test]
    fn camel_mode() {
        assert_eq!(key(CaseMode::Camel, "first_name"), "firstName");
        assert_eq!(key(CaseMode::Camel, "FirstName"), "firstName");
        assert_eq!(key(CaseMode::Camel, "firstName"), "firstName");
        assert_eq!(key(CaseMode::Camel, "user_ID"), "userId");
    }

    #[test]
    fn pascal_mode() {
        assert_eq!(key(CaseMode::Pascal, "first_name"), "FirstName");
        assert_eq!(key(CaseMode::Pascal, "firstName"), "FirstName");
        assert_eq!(key(CaseMode::Pascal, "FirstName"), "FirstName");
        assert_eq!(key(CaseMode::Pascal, "HTTPServer"), "Httpserver");
    }

    #[test]
    fn kebab_mode() {
        assert_eq!(key(CaseMode::Kebab, "firstName"), "first-name");
        assert_eq!(key(CaseMode::Kebab, "first_name"), "first-name");
        assert_eq!(key(CaseMode::Kebab, "first-name"), "first-name");
    }

    #[test]
    fn screaming_snake_mode() {
        assert_eq!(key(CaseMode::ScreamingSnake, "firstName"), "FIRST_NAME");
        assert_eq!(key(CaseMode::ScreamingSnake, "first-name"), "FIRST_NAME");
        assert_eq!(key(CaseMode::ScreamingSnake, "FIRST_NAME"), "FIRST_NAME");
    }

    #[test]
    fn key_with_empty_conversion_is_kept() {
        for mode in ALL {
            assert_eq!(key(mode, "__"), "__", "{mode:?}");
            assert_eq!(key(mode, ""), "", "{mode:?}");
        }
    }

    #[test]
    fn recurses_into_objects_and_arrays() {
        let record = json!({
            "userInfo": {"firstName": "a", "Addresses": [ {"zipCode": 1}, "notAKey", [ {"lineOne": 2} ] ]},
            "tagList": [ {"tagName": {"innerKey": null}} ]
        });
        let out = run(CaseMode::Snake, record).unwrap();
        assert_eq!(
            out,
            json!({
                "user_info": {"first_name": "a", "addresses": [ {"zip_code": 1}, "notAKey", [ {"line_one": 2} ] ]},
                "tag_list": [ {"tag_name": {"inner_key": null}} ]
            })
        );
    }

    #[test]
    fn keeps_key_order() {
        let out = run(CaseMode::Snake, json!({"zKey": 1, "a": 2, "mKey": 3})).unwrap();
        let keys: Vec<&str> = out.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["z_key", "a", "m_key"]);
    }

    #[test]
    fn non_objects_pass_through() {
        assert_eq!(run(CaseMode::Snake, json!("fooBar")).unwrap(), json!("fooBar"));
        assert_eq!(run(CaseMode::Snake, json!(3)).unwrap(), json!(3));
    }

    #[test]
    fn collision_names_both_keys() {
        let err = run(CaseMode::Snake, json!({"first_name": 1, "firstName": 2})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        let message = err.message();
        assert!(message.contains("\"first_name\""), "{message}");
        assert!(message.contains("\"firstName\""), "{message}");

        let err = run(CaseMode::Snake, json!({"firstName": 1, "first_name": 2})).unwrap_err();
        let message = err.message();
        assert!(message.contains("\"first_name\""), "{message}");
        assert!(message.contains("\"firstName\""), "{message}");

        let err = run(CaseMode::Camel, json!({"x": {"FirstName": 1, "first-name": 2}})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        let message = err.message();
        assert!(message.contains("\"FirstName\""), "{message}");
        assert!(message.contains("\"first-name\""), "{message}");
        assert!(message.contains("\"firstName\""), "{message}");
    }
}

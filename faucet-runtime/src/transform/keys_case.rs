//! The `snake_case` and `keys_case` transforms.
//!
//! Word splitting and case conversion come from the `heck` crate, so
//! `HTTPServer` is `http_server` and `userID` is `user_id`. A key that is
//! already in the target case is recognised by a cheap ASCII check and kept as
//! it is, without allocating.

use heck::{ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

use super::chain::Transform;
use super::rename_keys::{KeyMemo, rekey};
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// The case `keys_case` converts keys to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseMode {
    /// `first_name`
    Snake,
    /// `firstName`
    Camel,
    /// `FirstName`
    Pascal,
    /// `first-name`
    Kebab,
    /// `FIRST_NAME`
    ScreamingSnake,
}

impl CaseMode {
    /// The transform's name in error messages.
    fn transform_name(self) -> &'static str {
        match self {
            CaseMode::Snake => "snake_case",
            _ => "keys_case",
        }
    }

    /// `key` converted to this case, or `None` when it stays as it is: already
    /// in this case, or made only of separators (its conversion is empty).
    fn convert(self, key: &str) -> Option<String> {
        if self.is_fixed_point(key) {
            return None;
        }
        let converted = match self {
            CaseMode::Snake => key.to_snake_case(),
            CaseMode::Camel => key.to_lower_camel_case(),
            CaseMode::Pascal => key.to_upper_camel_case(),
            CaseMode::Kebab => key.to_kebab_case(),
            CaseMode::ScreamingSnake => key.to_shouty_snake_case(),
        };
        (!converted.is_empty() && converted != key).then_some(converted)
    }

    /// A conservative ASCII check that `key` converts to itself: `true` only
    /// when it does; `false` may still be a fixed point (heck then decides).
    fn is_fixed_point(self, key: &str) -> bool {
        match self {
            CaseMode::Snake => separated_words(key, '_', |b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            CaseMode::Kebab => separated_words(key, '-', |b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            CaseMode::ScreamingSnake => {
                separated_words(key, '_', |b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }
            CaseMode::Camel => camel_words(key, false),
            CaseMode::Pascal => camel_words(key, true),
        }
    }
}

/// Non-empty runs of `word` bytes joined by single `separator`s, nothing else.
fn separated_words(key: &str, separator: char, word: impl Fn(u8) -> bool) -> bool {
    !key.is_empty() && key.split(separator).all(|w| !w.is_empty() && w.bytes().all(&word))
}

/// ASCII letters and digits, starting with an upper (Pascal) or lower (camel)
/// case letter, where every later uppercase letter follows a lowercase one, so
/// that each starts a word of its own.
fn camel_words(key: &str, upper_first: bool) -> bool {
    let bytes = key.as_bytes();
    let Some(&first) = bytes.first() else { return false };
    let first_ok = if upper_first { first.is_ascii_uppercase() } else { first.is_ascii_lowercase() };
    first_ok
        && bytes.iter().all(u8::is_ascii_alphanumeric)
        && bytes.windows(2).all(|pair| !pair[1].is_ascii_uppercase() || pair[0].is_ascii_lowercase())
}

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
    /// A conversion to `mode`; `snake_case` is `KeysCase::new(CaseMode::Snake)`.
    pub fn new(mode: CaseMode) -> Self {
        KeysCase { mode, memo: KeyMemo::default() }
    }
}

impl Transform for KeysCase {
    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        let KeysCase { mode, memo } = self;
        let mode = *mode;
        rekey(&mut record, &mut |key: &str| memo.get(key, |key| mode.convert(key))).map_err(|c| {
            FaucetError::transform(format!(
                "{}: keys {:?} and {:?} of the same object both become {:?}",
                mode.transform_name(),
                c.first,
                c.second,
                c.key
            ))
        })?;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::error::ErrorKind;

    const ALL: [CaseMode; 5] =
        [CaseMode::Snake, CaseMode::Camel, CaseMode::Pascal, CaseMode::Kebab, CaseMode::ScreamingSnake];

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
        assert_eq!(key(CaseMode::Snake, "HTTPServer"), "http_server");
        assert_eq!(key(CaseMode::Snake, "userID"), "user_id");
        assert_eq!(key(CaseMode::Snake, "first_name"), "first_name");
        assert_eq!(key(CaseMode::Snake, "First Name"), "first_name");
        assert_eq!(key(CaseMode::Snake, "kebab-key"), "kebab_key");
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
        assert_eq!(key(CaseMode::Pascal, "HTTPServer"), "HttpServer");
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

    #[test]
    fn fast_path_agrees_with_heck() {
        let samples = [
            "a", "ab", "a1", "1a", "a_b", "a__b", "_a", "a_", "A", "AB", "A_B", "a-b", "a--b", "-a", "aB",
            "aBC", "aBc", "Ab", "AbC", "ABc", "a1B", "a1b", "userId", "UserId", "user_id", "USER_ID",
            "user-id", "x9y", "X9Y", "field_1", "FIELD_1", "field-1", "A1", "a1A",
        ];
        for mode in ALL {
            for sample in samples {
                if mode.is_fixed_point(sample) {
                    let converted = match mode {
                        CaseMode::Snake => sample.to_snake_case(),
                        CaseMode::Camel => sample.to_lower_camel_case(),
                        CaseMode::Pascal => sample.to_upper_camel_case(),
                        CaseMode::Kebab => sample.to_kebab_case(),
                        CaseMode::ScreamingSnake => sample.to_shouty_snake_case(),
                    };
                    assert_eq!(converted, sample, "{mode:?} fast path wrong for {sample:?}");
                }
            }
        }
        assert!(CaseMode::Snake.is_fixed_point("first_name"));
        assert!(CaseMode::Camel.is_fixed_point("firstName"));
        assert!(CaseMode::Pascal.is_fixed_point("FirstName"));
        assert!(CaseMode::Kebab.is_fixed_point("first-name"));
        assert!(CaseMode::ScreamingSnake.is_fixed_point("FIRST_NAME"));
    }

    #[test]
    fn unchanged_keys_report_no_conversion() {
        assert_eq!(CaseMode::Snake.convert("first_name"), None);
        // Not caught by the ASCII check, but still a fixed point.
        assert_eq!(CaseMode::Snake.convert("émile"), None);
        assert_eq!(CaseMode::Snake.convert("firstName").as_deref(), Some("first_name"));
    }
}

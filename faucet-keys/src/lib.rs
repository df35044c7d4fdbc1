//! The one implementation of what faucet's key-rewriting transforms make of
//! a key, shared by build time (faucet-gen maps a pipeline's record schema
//! through `snake_case`, `keys_case` and `rename_keys` to check the fields
//! its config names) and run time (faucet-runtime rewrites each record's
//! keys), so the schema a build checks is exactly the records a run writes.
//!
//! - [`CaseMode::convert`]: a key in one case style (`snake_case`, `keys_case`);
//! - [`rename`]: a key rewritten by a regex replacement (`rename_keys`).
//!
//! Both return `None` for a key that keeps its name.

use std::borrow::Cow;

use heck::{ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

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
    /// The transform's name in messages: `snake_case` or `keys_case`.
    pub fn transform_name(self) -> &'static str {
        match self {
            CaseMode::Snake => "snake_case",
            _ => "keys_case",
        }
    }

    /// `key` converted to this case, or `None` when it stays as it is: already
    /// in this case, or made only of separators (its conversion is empty).
    ///
    /// Word splitting and case conversion come from the `heck` crate, so
    /// `HTTPServer` is `http_server` and `userID` is `user_id`. A key already
    /// in the target case is recognised by a cheap ASCII check, without allocating.
    pub fn convert(self, key: &str) -> Option<String> {
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

/// The new name of `key` under `rename_keys`, or `None` when `pattern` does
/// not match it: [`regex::Regex::replace_all`], so the replacement may use
/// `$1`, `$name` and `${name}` for capture groups.
pub fn rename(pattern: &regex::Regex, replacement: &str, key: &str) -> Option<String> {
    match pattern.replace_all(key, replacement) {
        Cow::Borrowed(_) => None,
        Cow::Owned(renamed) => Some(renamed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CaseMode; 5] =
        [CaseMode::Snake, CaseMode::Camel, CaseMode::Pascal, CaseMode::Kebab, CaseMode::ScreamingSnake];

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
        for mode in ALL {
            assert_eq!(mode.convert("__"), None, "{mode:?}");
        }
    }

    #[test]
    fn renames_only_matching_keys() {
        let pattern = regex::Regex::new(r"^(\w+)_id$").unwrap();
        assert_eq!(rename(&pattern, "${1}Id", "user_id").as_deref(), Some("userId"));
        assert_eq!(rename(&pattern, "${1}Id", "name"), None);
    }
}

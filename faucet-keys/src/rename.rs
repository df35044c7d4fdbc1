//! `rename_keys`: a key rewritten by a regex replacement, and the check of
//! the replacement's group references.
//!
//! The replacement is the `regex` crate's syntax: `$1` or `${1}` a group by
//! number, `$name` or `${name}` a group by name, `$$` a literal `$`. An unbraced
//! reference takes every letter, digit and `_` after the `$`, so `$1_id` names
//! a group `1_id`, not group 1 followed by `_id`; the crate silently expands a
//! group the pattern lacks to nothing. [`check_replacement`] turns that into
//! an error a build (or a hand-built pipeline) reports.

use std::borrow::Cow;
use std::fmt;

/// The new name of `key` under `rename_keys`, or `None` when `pattern` does
/// not match it: [`regex::Regex::replace_all`], so the replacement may use
/// `$1`, `$name` and `${name}` for capture groups. The new name may be empty;
/// callers refuse it.
pub fn rename(pattern: &regex::Regex, replacement: &str, key: &str) -> Option<String> {
    match pattern.replace_all(key, replacement) {
        Cow::Borrowed(_) => None,
        Cow::Owned(renamed) => Some(renamed),
    }
}

/// A group reference in a replacement that names no group of the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadReference {
    /// The reference as written: `$2`, `$1_id`, `${name}`.
    pub written: String,
    /// Whether it names a group by number (`$2`) rather than by name.
    pub numbered: bool,
    /// The number of capture groups the pattern has (not counting the whole match).
    pub groups: usize,
    /// The pattern's named groups.
    pub names: Vec<String>,
    /// The whole replacement with this reference braced so that it names a
    /// group the pattern has (`$1_id` → `${1}_id`), when one reads as meant.
    pub suggestion: Option<String>,
}

impl BadReference {
    /// What to write instead, for a help line.
    pub fn help(&self) -> String {
        if let Some(fixed) = &self.suggestion {
            return format!(
                "write `{fixed}`: without braces the group's name runs to the first character that is not a letter, digit or `_`"
            );
        }
        let mut refs: Vec<String> = (1..=self.groups).map(|i| format!("${i}")).collect();
        refs.extend(self.names.iter().map(|n| format!("${{{n}}}")));
        if refs.is_empty() {
            "the pattern has no capture groups: add one with `(…)`, or write `$$` for a literal `$`"
                .to_owned()
        } else {
            format!("the pattern's groups are {}; write `$$` for a literal `$`", refs.join(", "))
        }
    }
}

impl fmt::Display for BadReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let BadReference { written, groups, .. } = self;
        if self.numbered {
            let has = match groups {
                0 => "no capture groups".to_owned(),
                1 => "only 1 capture group".to_owned(),
                n => format!("only {n} capture groups"),
            };
            write!(f, "`{written}` refers to capture group {}, but the pattern has {has}", name(written))
        } else {
            write!(
                f,
                "`{written}` refers to a capture group named `{}`, which the pattern does not have",
                name(written)
            )
        }
    }
}

impl std::error::Error for BadReference {}

/// The group name inside a reference as written (`$x`, `${x}`).
fn name(written: &str) -> &str {
    let inner = &written[1..];
    inner.strip_prefix('{').and_then(|s| s.strip_suffix('}')).unwrap_or(inner)
}

/// Checks that every group reference of `replacement` names a group of
/// `pattern`: the first that does not, otherwise `Ok`. Reads the replacement
/// as the `regex` crate does (`$$` is a literal `$`; a `$` that starts no
/// reference is literal too).
pub fn check_replacement(pattern: &regex::Regex, replacement: &str) -> Result<(), BadReference> {
    let names: Vec<String> = pattern.capture_names().flatten().map(str::to_owned).collect();
    let exists = |name: &str| match name.parse::<usize>() {
        Ok(i) => i < pattern.captures_len(),
        Err(_) => names.iter().any(|n| n == name),
    };
    let bytes = replacement.as_bytes();
    let mut i = 0;
    while let Some(offset) = replacement[i..].find('$') {
        let at = i + offset;
        let rest = &replacement[at + 1..];
        if rest.starts_with('$') {
            i = at + 2;
            continue;
        }
        let (name, braced, end) = if let Some(inner) = rest.strip_prefix('{') {
            match inner.find('}') {
                Some(close) => (&inner[..close], true, at + 2 + close + 1),
                // No closing brace: a literal `$`.
                None => {
                    i = at + 1;
                    continue;
                }
            }
        } else {
            let len = bytes[at + 1..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            (&rest[..len], false, at + 1 + len)
        };
        if name.is_empty() && !braced {
            // `$` followed by no name: literal.
            i = at + 1;
            continue;
        }
        if !exists(name) {
            // Unbraced: the longest leading part that names a group, braced.
            let suggestion = (!braced)
                .then(|| {
                    (1..name.len()).rev().find(|&cut| name.is_char_boundary(cut) && exists(&name[..cut])).map(
                        |cut| {
                            format!(
                                "{}${{{}}}{}",
                                &replacement[..at],
                                &name[..cut],
                                &replacement[at + 1 + cut..]
                            )
                        },
                    )
                })
                .flatten();
            return Err(BadReference {
                written: replacement[at..end].to_owned(),
                numbered: name.parse::<usize>().is_ok(),
                groups: pattern.captures_len() - 1,
                names,
                suggestion,
            });
        }
        i = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, replacement: &str) -> Result<(), BadReference> {
        check_replacement(&regex::Regex::new(pattern).unwrap(), replacement)
    }

    #[test]
    fn renames_only_matching_keys() {
        let pattern = regex::Regex::new(r"^(\w+)_id$").unwrap();
        assert_eq!(rename(&pattern, "${1}Id", "user_id").as_deref(), Some("userId"));
        assert_eq!(rename(&pattern, "${1}Id", "name"), None);
    }

    #[test]
    fn faucet_stream_escaped_group_gives_its_key() {
        // faucet-stream 1.17 turns `$${1}_id` into `${1}_id` before the regex
        // sees it (faucet's config reading does the same): group 1, then `_id`.
        let pattern = regex::Regex::new(r"^(.+)Id$").unwrap();
        assert_eq!(rename(&pattern, "${1}_id", "userId").as_deref(), Some("user_id"));
        // Unescaped, the regex crate reads `$$` as a literal `$`.
        assert_eq!(rename(&pattern, "$${1}_id", "userId").as_deref(), Some("${1}_id"));
        assert_eq!(check(r"^(.+)Id$", "$${1}_id"), Ok(()));
    }

    #[test]
    fn references_to_existing_groups_pass() {
        assert_eq!(check(r"^(\w+)_id$", "${1}Id"), Ok(()));
        assert_eq!(check(r"^(\w+)_id$", "$1"), Ok(()));
        assert_eq!(check(r"^(\w+)_id$", "$0-x"), Ok(()));
        assert_eq!(check(r"^(?P<head>\w+)_(?<tail>\w+)$", "$tail.${head}"), Ok(()));
        // Literal dollars: `$$`, a trailing `$`, `$` before a non-name, an unclosed brace.
        assert_eq!(check("a", "$$2"), Ok(()));
        assert_eq!(check("a", "x$"), Ok(()));
        assert_eq!(check("a", "$-x$ $."), Ok(()));
        assert_eq!(check("a", "${1"), Ok(()));
        assert_eq!(check("a", ""), Ok(()));
    }

    #[test]
    fn unbraced_group_running_into_the_text_is_caught_with_its_braced_spelling() {
        let bad = check(r"^(\w+)Id$", "$1_id").unwrap_err();
        assert_eq!(bad.written, "$1_id");
        assert!(!bad.numbered);
        assert_eq!(bad.suggestion.as_deref(), Some("${1}_id"));
        assert_eq!(
            bad.to_string(),
            "`$1_id` refers to a capture group named `1_id`, which the pattern does not have"
        );
        assert!(bad.help().contains("`${1}_id`"), "{}", bad.help());
        // Inside a longer replacement, and with a named group.
        let bad = check(r"^(?P<base>[a-z]+)Id$", "x_$base_id").unwrap_err();
        assert_eq!(bad.suggestion.as_deref(), Some("x_${base}_id"));
    }

    #[test]
    fn missing_numbered_group_is_caught() {
        let bad = check(r"^(\w+)_id$", "$2").unwrap_err();
        assert!(bad.numbered);
        assert_eq!(bad.suggestion, None);
        assert_eq!(
            bad.to_string(),
            "`$2` refers to capture group 2, but the pattern has only 1 capture group"
        );
        assert_eq!(bad.help(), "the pattern's groups are $1; write `$$` for a literal `$`");
        let bad = check("^user_", "${1}").unwrap_err();
        assert_eq!(bad.written, "${1}");
        assert!(bad.to_string().ends_with("but the pattern has no capture groups"), "{bad}");
        assert!(bad.help().starts_with("the pattern has no capture groups"), "{}", bad.help());
    }

    #[test]
    fn missing_named_group_is_caught() {
        let bad = check(r"^(?P<head>\w+)_(\d)$", "${tail}").unwrap_err();
        assert_eq!(bad.written, "${tail}");
        assert_eq!(
            bad.to_string(),
            "`${tail}` refers to a capture group named `tail`, which the pattern does not have"
        );
        assert_eq!(bad.help(), "the pattern's groups are $1, $2, ${head}; write `$$` for a literal `$`");
        // A later bad reference after good ones and escapes.
        let bad = check(r"^(a)$", "$1$$${x}").unwrap_err();
        assert_eq!(bad.written, "${x}");
    }

    #[test]
    fn non_ascii_replacements_do_not_panic() {
        assert_eq!(check("(é)", "ü$1é$"), Ok(()));
        let bad = check("(é)", "$1é_$ü${ñ}").unwrap_err();
        assert_eq!(bad.written, "${ñ}");
    }
}

//! faucet-stream's `keys_case` word splitting and joining, the rules a
//! migrating pipeline relies on (faucet-cli 1.17.0).
//!
//! A key splits into words at every character that is not alphanumeric
//! (Unicode: spaces, `_`, `-`, `.`, punctuation), which is dropped, and before
//! an uppercase letter that follows a lowercase one. Nothing else splits:
//! uppercase runs stay one word (`XMLParser` is one word) and a digit ends the
//! lowercase run (`a1B2c3` is one word).

use crate::CaseMode;

/// The words of `key`, in order: slices of it, never empty.
pub(crate) fn words(key: &str) -> Vec<&str> {
    let mut words = Vec::new();
    // Start of the current word (a byte index), if one is open.
    let mut start: Option<usize> = None;
    let mut after_lowercase = false;
    for (i, ch) in key.char_indices() {
        if !ch.is_alphanumeric() {
            if let Some(s) = start.take() {
                words.push(&key[s..i]);
            }
            after_lowercase = false;
            continue;
        }
        if after_lowercase
            && ch.is_uppercase()
            && let Some(s) = start.replace(i)
        {
            words.push(&key[s..i]);
        }
        start.get_or_insert(i);
        after_lowercase = ch.is_lowercase();
    }
    if let Some(s) = start {
        words.push(&key[s..]);
    }
    words
}

/// `words` joined in the style of `mode` (a `keys_case` mode).
pub(crate) fn join(words: &[&str], mode: CaseMode) -> String {
    let separated = |separator: &str, upper: bool| {
        let cased: Vec<String> =
            words.iter().map(|w| if upper { w.to_uppercase() } else { w.to_lowercase() }).collect();
        cased.join(separator)
    };
    match mode {
        // `snake_case` splits its words otherwise (`heck`) and never gets here.
        CaseMode::Snake | CaseMode::SnakeCase => separated("_", false),
        CaseMode::Kebab => separated("-", false),
        CaseMode::Dot => separated(".", false),
        CaseMode::ScreamingSnake => separated("_", true),
        CaseMode::Camel => {
            let mut out = String::new();
            for (i, w) in words.iter().enumerate() {
                if i == 0 {
                    out.push_str(&w.to_lowercase());
                } else {
                    capitalized(w, &mut out);
                }
            }
            out
        }
        CaseMode::Pascal => {
            let mut out = String::new();
            for w in words {
                capitalized(w, &mut out);
            }
            out
        }
    }
}

/// Appends `word` lowercased, then its first character uppercased.
fn capitalized(word: &str, out: &mut String) {
    let lower = word.to_lowercase();
    let mut chars = lower.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

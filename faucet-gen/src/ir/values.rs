//! The value transforms' settings (`redact`, `value_case`, `hash`,
//! `json_parse`, `json_encode`, `split`, `join`, `lookup`), as validated.

use serde_json::{Map, Value};

use super::Named;
use crate::text::Text;

crate::settings::choice! {
    /// `value_case`'s `mode`.
    pub enum ValueCaseMode => transform::ValueCaseMode {
        /// Every letter in lower case.
        Lower = "lower",
        /// Every letter in upper case.
        Upper = "upper",
        /// Whitespace trimmed at both ends.
        Trim = "trim",
        /// Each word's first letter in upper case, the rest lower.
        Title = "title",
        /// The first letter in upper case, the rest lower.
        Capitalize = "capitalize",
    }
}

crate::settings::choice! {
    /// `hash`'s `algorithm`.
    pub enum HashAlgorithm => transform::HashAlgorithm {
        /// SHA-256.
        Sha256 = "sha256",
        /// BLAKE3.
        Blake3 = "blake3",
    }
}

crate::settings::choice! {
    /// `hash`'s `encoding`.
    pub enum HashEncoding => transform::HashEncoding {
        /// Lowercase hexadecimal.
        Hex = "hex",
        /// Standard base64, padded.
        Base64 = "base64",
    }
}

/// `hash`.
#[derive(Debug, Clone)]
pub struct Hash {
    /// The fields hashed.
    pub fields: Vec<Named>,
    /// The digest.
    pub algorithm: HashAlgorithm,
    /// How it is written.
    pub encoding: HashEncoding,
    /// Prepended before hashing; a secret, read at run time.
    pub salt: Option<Text>,
    /// Where the digest goes (one field only); `None`: in place.
    pub into: Option<Named>,
}

crate::settings::choice! {
    /// `json_parse`'s `on_error`.
    pub enum JsonParseOnError => transform::JsonParseOnError {
        /// The string stays.
        Keep = "keep",
        /// The value becomes null.
        Null = "null",
        /// The record is rejected.
        Error = "error",
    }
}

/// `json_parse`.
#[derive(Debug, Clone)]
pub struct JsonParse {
    /// The fields parsed.
    pub fields: Vec<Named>,
    /// On text that is not JSON.
    pub on_error: JsonParseOnError,
    /// Where the value goes (one field only); `None`: in place.
    pub into: Option<Named>,
}

/// `split` and `join`.
#[derive(Debug, Clone)]
pub struct SplitJoin {
    /// The field split or joined.
    pub field: Named,
    /// Between the parts.
    pub delimiter: String,
    /// `split` only: trim each part.
    pub trim: bool,
    /// Where the result goes; `None`: in place.
    pub into: Option<Named>,
}

crate::settings::choice! {
    /// `lookup`'s `on_missing`.
    pub enum LookupOnMissing => transform::LookupOnMissing {
        /// Each added column null.
        Null = "null",
        /// Nothing added.
        Keep = "keep",
        /// The record is rejected.
        Error = "error",
    }
}

/// Where a `lookup`'s reference rows come from.
#[derive(Debug, Clone)]
pub enum Reference {
    /// Known at build time (inline `values`, or a `jsonl` file read then): compiled in.
    Rows(Vec<Map<String, Value>>),
    /// A `jsonl` path read at run time (it holds a `${…}` reference).
    File(Text),
}

/// `lookup`.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The reference rows.
    pub reference: Reference,
    /// `on.record`: the record's field matched.
    pub on_record: Named,
    /// `on.ref`: the rows' field it is matched against, and where it is written.
    pub on_ref: Named,
    /// `add`: each column written on the record, and the row's column it is taken from.
    pub add: Vec<(String, Named)>,
    /// On a miss.
    pub on_missing: LookupOnMissing,
}

//! The value transforms' settings (`redact`, `value_case`, `hash`,
//! `json_parse`, `json_encode`, `split`, `join`, `lookup`), as validated.

use serde_json::{Map, Value};

use super::Named;
use crate::text::Text;

/// `value_case`'s `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueCaseMode {
    /// `lower`.
    Lower,
    /// `upper`.
    Upper,
    /// `trim`.
    Trim,
    /// `title`.
    Title,
    /// `capitalize`.
    Capitalize,
}

/// `hash`'s `algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// `sha256`.
    Sha256,
    /// `blake3`.
    Blake3,
}

/// `hash`'s `encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashEncoding {
    /// `hex`.
    Hex,
    /// `base64`.
    Base64,
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

/// `json_parse`'s `on_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonParseOnError {
    /// `keep`: the string stays.
    Keep,
    /// `null`.
    Null,
    /// `error`: the record is rejected.
    Error,
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

/// `lookup`'s `on_missing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupOnMissing {
    /// `null`: each added column null.
    Null,
    /// `keep`: nothing added.
    Keep,
    /// `error`: the record is rejected.
    Error,
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

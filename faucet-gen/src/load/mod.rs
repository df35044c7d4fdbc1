//! Loading: YAML text or `faucet!` tokens into one located tree.
//!
//! Both front ends produce the same [`Node`] model, where every value and
//! every key keeps its [`Loc`], so validation is written once and every
//! config valid in YAML is valid inline and the reverse. The YAML parser
//! (saphyr, whose marked tree gives a position for every node) stays behind
//! this module and can be swapped without touching validation.

mod tokens;
mod yaml;

pub use tokens::{MacroBody, MacroInput, parse_macro_input};
pub use yaml::load_yaml;

use std::sync::Arc;

use crate::diag::{Diagnostic, Loc, SourceFile};

/// The largest pipeline file read: far above any real config, it keeps a
/// path to `/dev/zero` or a huge file from exhausting the build's memory.
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// Reads a pipeline file, refusing one larger than [`MAX_FILE_BYTES`].
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the file is larger than {} MiB, far more than a pipeline needs", MAX_FILE_BYTES >> 20),
        ));
    }
    Ok(bytes)
}

/// A pipeline file's bytes as text; bytes that are not UTF-8 are an error at
/// the line and column of the first bad byte (`name` is the file as shown).
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    let error = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let at = error.utf8_error().valid_up_to();
    let bytes = error.as_bytes();
    let before = String::from_utf8_lossy(&bytes[..at]);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let file =
        Arc::new(SourceFile { name: name.to_owned(), text: String::from_utf8_lossy(bytes).into_owned() });
    Err(Diagnostic::new(
        Loc::File { file, line, col, len: 1 },
        format!(
            "the file is not valid UTF-8: byte 0x{:02X} here is not part of a UTF-8 character",
            bytes[at]
        ),
    )
    .with_help("save the pipeline file as UTF-8"))
}

/// The deepest nesting of maps and lists a config may have.
///
/// Real pipelines nest a dozen levels at most (a REST `body` a few more);
/// the bound keeps every recursive walk over the tree (loading, `vars`,
/// validation, code generation, dropping it) far from the end of the stack
/// whatever the input, so a hostile file gets an error instead of a crash.
pub const MAX_DEPTH: usize = 64;

/// The error for a map or list nested deeper than [`MAX_DEPTH`], at its start.
fn too_deep(loc: Loc) -> Diagnostic {
    Diagnostic::new(loc, format!("maps and lists are nested more than {MAX_DEPTH} levels deep here"))
        .with_help("a pipeline config never needs this much nesting: flatten the value")
}

/// A config value with its location.
#[derive(Debug, Clone)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it was written.
    pub loc: Loc,
}

/// The shape of a config value.
#[derive(Debug, Clone)]
pub enum Value {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (YAML scalar, Rust string literal, bare identifier or path).
    Str(String),
    /// A list.
    Seq(Vec<Node>),
    /// A map, keys in the order written.
    Map(Vec<Entry>),
}

/// One key of a map.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// Where the key was written.
    pub key_loc: Loc,
    /// The value.
    pub value: Node,
}

impl Node {
    /// The value as JSON, locations dropped (to check a file against the JSON Schema).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                J::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect())
            }
        }
    }
}

impl Value {
    /// The name of this kind of value, for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

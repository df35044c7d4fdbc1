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

use crate::diag::Loc;

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

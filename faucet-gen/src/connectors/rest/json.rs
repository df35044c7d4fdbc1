//! JSON values written in a config (a request body, a replication start
//! value): strings may read `${env:…}` or a parent value at run time, and
//! numbers reach the runtime exactly as written.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::diag::Diagnostics;
use crate::emit::{Gen, vec};
use crate::load::{Node, Value};
use crate::read::text_in;
use crate::settings::Setting;
use crate::spec::Kind;
use crate::text::{Encode, Text};

/// A JSON value whose strings may hold `${env:…}` (a request body, a start value).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// A string, resolved at run time.
    Str(Text),
    /// An array.
    Seq(Vec<Json>),
    /// An object, keys in the order written.
    Map(Vec<(String, Json)>),
}

impl Setting for Json {
    const KIND: Kind = Kind::Json;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        json(node, key, diags)
    }

    /// A `serde_json::Value` built with its constructors (no macro: a long
    /// body stays within rustc's macro recursion limit).
    fn emit(&self, g: &Gen) -> TokenStream {
        let mut parts = Vec::new();
        let value = self.tokens(g, 0, &mut parts);
        if parts.is_empty() {
            return value;
        }
        quote!({
            #(#parts)*
            #value
        })
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// How deep one expression of a generated JSON value nests: a deeper part is
/// built first, in a `let`, so that parsing the generated code (syn, on a
/// build script's or a test's thread) never recurses too deep.
const MAX_NESTING: usize = 12;

impl Json {
    /// The value as an expression `depth` levels into its enclosing one; parts
    /// nested deeper than [`MAX_NESTING`] go to `parts` as `let` statements.
    fn tokens(&self, g: &Gen, depth: usize, parts: &mut Vec<TokenStream>) -> TokenStream {
        let rt = g.rt();
        let value = quote!(#rt::serde_json::Value);
        match self {
            Json::Seq(_) | Json::Map(_) if depth == MAX_NESTING => {
                let built = self.tokens(g, 0, parts);
                let name = format_ident!("part{}", parts.len());
                parts.push(quote!(let #name = #built;));
                quote!(#name)
            }
            Json::Null => quote!(#value::Null),
            Json::Bool(b) => quote!(#value::Bool(#b)),
            // Suffixed: `Value::from` takes every integer and float type.
            Json::Int(i) => {
                let i = Literal::i64_suffixed(*i);
                quote!(#value::from(#i))
            }
            Json::Float(x) => {
                let x = Literal::f64_suffixed(*x);
                quote!(#value::from(#x))
            }
            Json::Str(t) => {
                let t = g.text(t);
                quote!(#value::String(#t))
            }
            Json::Seq(items) => {
                let items = vec(items.iter().map(|i| i.tokens(g, depth + 1, parts)));
                quote!(#value::Array(#items))
            }
            Json::Map(entries) => {
                let entries = entries.iter().map(|(k, v)| {
                    let v = v.tokens(g, depth + 1, parts);
                    quote!((String::from(#k), #v))
                });
                quote!(#value::Object(#rt::serde_json::Map::from_iter([#(#entries),*])))
            }
        }
    }
}

/// Any YAML value as a JSON template.
fn json(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Json> {
    Some(match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Int(*i),
        Value::Float(x) if x.is_finite() => Json::Float(*x),
        Value::Float(_) => {
            diags.error(&node.loc, format!("`{key}` holds a number JSON cannot represent"));
            return None;
        }
        Value::Str(_) => Json::Str(text_in(node, key, Encode::Raw, diags)?),
        Value::Seq(items) => {
            let items: Vec<Option<Json>> = items.iter().map(|n| json(n, key, diags)).collect();
            Json::Seq(items.into_iter().collect::<Option<_>>()?)
        }
        Value::Map(entries) => {
            let items: Vec<Option<(String, Json)>> =
                entries.iter().map(|e| json(&e.value, key, diags).map(|v| (e.key.clone(), v))).collect();
            Json::Map(items.into_iter().collect::<Option<_>>()?)
        }
    })
}

/// `start_replication_value`: a number or a string.
#[derive(Debug, Clone, PartialEq)]
pub struct StartValue(pub Json);

impl Setting for StartValue {
    const KIND: Kind = Kind::AnyOf(&[Kind::Number(f64::NEG_INFINITY, f64::INFINITY), Kind::Text]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match node.value {
            Value::Int(_) | Value::Float(_) | Value::Str(_) => json(node, key, diags).map(StartValue),
            _ => {
                diags.error(&node.loc, format!("`{key}` must be a number or a string"));
                None
            }
        }
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.0.emit(g)
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

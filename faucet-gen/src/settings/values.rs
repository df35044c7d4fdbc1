//! The value types settings are declared with: each knows how it is read
//! from a config, described in the schema and written into generated code.

use proc_macro2::TokenStream;
use quote::quote;

use super::Setting;
use crate::diag::Diagnostics;
use crate::emit::{Gen, byte_lit, int_lit, option, string};
use crate::load::{Node, Value};
use crate::read::{boolean, byte, int_in, plain_string, text, text_in};
use crate::spec::Kind;
use crate::text::{Encode, Text};

impl Setting for bool {
    const KIND: Kind = Kind::Bool;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        boolean(node, key, diags)
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        quote!(#self)
    }

    fn to_json(&self) -> serde_json::Value {
        (*self).into()
    }
}

/// An integer from `MIN` to `MAX`, the range being part of the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int<const MIN: i64, const MAX: i64>(pub u64);

impl<const MIN: i64, const MAX: i64> Int<MIN, MAX> {
    /// The value.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64> From<u64> for Int<MIN, MAX> {
    fn from(v: u64) -> Self {
        Int(v)
    }
}

impl<const MIN: i64, const MAX: i64> Setting for Int<MIN, MAX> {
    const KIND: Kind = Kind::Int(MIN, MAX);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        // Every range declared starts at 0 or above.
        int_in(node, key, MIN, MAX, diags).map(|v| Int(v as u64))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        let v = int_lit(self.0);
        quote!(#v)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.into()
    }
}

/// The largest `batch_size` accepted: a page this large already costs real memory.
pub(crate) const MAX_BATCH_SIZE: i64 = 1_000_000;

/// `batch_size` of a sink or a file source: records per write or page, or
/// `0`, faucet-stream's "no batching": a sink writes each page as it comes, a
/// file source reads its whole input into one page (within `max_page_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSize(pub u64);

impl From<u64> for BatchSize {
    fn from(v: u64) -> Self {
        BatchSize(v)
    }
}

impl Setting for BatchSize {
    const KIND: Kind = Kind::Int(0, MAX_BATCH_SIZE);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        int_in(node, key, 0, MAX_BATCH_SIZE, diags).map(|v| BatchSize(v as u64))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        let v = int_lit(self.0);
        quote!(#v)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.into()
    }
}

/// `batch_size` of a database or stream source: records per page. Its `0`
/// (the whole result set in one page) is not supported yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(pub u64);

impl From<u64> for PageSize {
    fn from(v: u64) -> Self {
        PageSize(v)
    }
}

impl Setting for PageSize {
    const KIND: Kind = Kind::Int(1, MAX_BATCH_SIZE);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        if matches!(node.value, Value::Int(0)) {
            diags.error_help(
                &node.loc,
                format!("`{key}: 0` (the whole result set in one page) is not supported by faucet yet for this source"),
                format!("use a page size from 1 to {MAX_BATCH_SIZE}"),
            );
            return None;
        }
        int_in(node, key, 1, MAX_BATCH_SIZE, diags).map(|v| PageSize(v as u64))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        let v = int_lit(self.0);
        quote!(#v)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.into()
    }
}

/// A duration written in seconds (an integer or a decimal), from `MIN_MS`
/// milliseconds to `MAX_S` seconds, kept in milliseconds (`rt::Duration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds<const MIN_MS: u64, const MAX_S: u64>(pub u64);

impl<const MIN_MS: u64, const MAX_S: u64> Seconds<MIN_MS, MAX_S> {
    /// A default of whole seconds.
    pub const fn secs(s: u64) -> Self {
        Seconds(s * 1000)
    }

    /// A default in milliseconds.
    pub const fn millis(ms: u64) -> Self {
        Seconds(ms)
    }
}

impl<const MIN_MS: u64, const MAX_S: u64> Setting for Seconds<MIN_MS, MAX_S> {
    const KIND: Kind = Kind::Number(MIN_MS as f64 / 1000.0, MAX_S as f64);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        // A negative value becomes u64::MAX, out of every range.
        let ms = match &node.value {
            Value::Int(i) => (*i).max(-1).saturating_mul(1000).max(-1) as u64,
            Value::Float(f) if f.is_finite() => (f * 1000.0).round().max(-1.0) as i64 as u64,
            other => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` must be a number of seconds, found {}", other.kind_name()),
                    format!("write e.g. `{key}: 5` or `{key}: 0.5`"),
                );
                return None;
            }
        };
        if ms < MIN_MS || ms > MAX_S * 1000 {
            diags.error_help(
                &node.loc,
                format!("`{key}` is out of range"),
                format!("use {} to {MAX_S} seconds", MIN_MS as f64 / 1000.0),
            );
            return None;
        }
        Some(Seconds(ms))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let ms = int_lit(self.0);
        quote!(#rt::Duration::from_millis(#ms))
    }

    fn to_json(&self) -> serde_json::Value {
        if self.0.is_multiple_of(1000) { (self.0 / 1000).into() } else { (self.0 as f64 / 1000.0).into() }
    }
}

/// One byte: one ASCII character, or its value (faucet-stream's form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Byte(pub u8);

impl From<u8> for Byte {
    fn from(v: u8) -> Self {
        Byte(v)
    }
}

impl Setting for Byte {
    const KIND: Kind = Kind::Byte;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        byte(node, key, diags).map(Byte)
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        let b = byte_lit(self.0);
        quote!(#b)
    }

    fn to_json(&self) -> serde_json::Value {
        char::from(self.0).to_string().into()
    }
}

/// A string fixed at build time (a name, a query, a pattern): `${…}` is refused.
impl Setting for String {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        plain_string(node, key, diags)
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(self)
    }

    fn to_json(&self) -> serde_json::Value {
        self.as_str().into()
    }
}

/// A string that may read `${env:VAR}` at run time, but takes no value from
/// a parent record (hosts, URLs' authorities, credentials, names).
impl Setting for Text {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        text(node, key, diags)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(self)
    }

    fn to_json(&self) -> serde_json::Value {
        self.as_literal().map_or(serde_json::Value::Null, Into::into)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::literal(s)
    }
}

/// A file path or glob that may take values from a matrix parent's record,
/// each substituted as `E` says so it stays one path segment.
#[derive(Debug, Clone, PartialEq)]
pub struct FilePath<E: Encoding>(pub Text, std::marker::PhantomData<E>);

/// How a parent value is made safe in a [`FilePath`].
pub trait Encoding: std::fmt::Debug + Clone + PartialEq {
    /// The encoding.
    const ENCODE: Encode;
}

/// A source's path is a glob: parent values are path segments with glob characters escaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob;

impl Encoding for Glob {
    const ENCODE: Encode = Encode::GlobSegment;
}

/// A sink's path: parent values are single path segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment;

impl Encoding for Segment {
    const ENCODE: Encode = Encode::PathSegment;
}

impl<E: Encoding> FilePath<E> {
    /// The path's text.
    pub fn text(&self) -> &Text {
        &self.0
    }
}

impl<E: Encoding> Setting for FilePath<E> {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text_in(node, key, E::ENCODE, diags)?;
        if let Some(lit) = t.as_literal() {
            let problem = if lit.trim().is_empty() {
                Some((format!("`{key}` is empty"), None))
            } else if lit.contains('\0') {
                Some((format!("`{key}` contains a NUL byte"), None))
            } else if lit.ends_with('/') {
                Some((
                    format!("`{key}` {lit:?} names a directory"),
                    Some("name a file, or a glob such as `dir/*.csv`"),
                ))
            } else {
                None
            };
            if let Some((message, help)) = problem {
                match help {
                    Some(help) => diags.error_help(&node.loc, message, help),
                    None => diags.error(&node.loc, message),
                }
                return None;
            }
        }
        Some(FilePath(t, std::marker::PhantomData))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// A credential: it must come from `${env:VAR}` (the one secret rule,
/// [`crate::secrets`]), and its value is masked wherever it could appear.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret(pub Text);

impl Setting for Secret {
    const KIND: Kind = Kind::Secret;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        crate::secrets::secret(node, key, diags).map(Secret)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let text = g.text(&self.0);
        quote!(#rt::secret::SecretString::new(#text))
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

impl<T: Setting> Setting for Option<T> {
    const KIND: Kind = T::KIND;
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        T::read(node, key, diags).map(Some)
    }

    fn absent() -> Option<Self> {
        Some(None)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        option(self.as_ref().map(|v| v.emit(g)))
    }

    fn to_json(&self) -> serde_json::Value {
        self.as_ref().map_or(serde_json::Value::Null, T::to_json)
    }
}

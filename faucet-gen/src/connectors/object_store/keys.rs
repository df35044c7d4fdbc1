//! How objects are named: the key prefix (or glob) a source lists and a sink
//! writes under, and a sink's name stem.

use std::marker::PhantomData;

use proc_macro2::TokenStream;

use crate::diag::Diagnostics;
use crate::emit::{Gen, string};
use crate::load::Node;
use crate::read::{plain_string, text_in};
use crate::settings::Setting;
use crate::settings::values::Encoding;
use crate::spec::Kind;
use crate::text::Text;

/// A key prefix or glob: no NUL, no leading `/`. A parent record's values
/// are single path segments, encoded as `E` says (a source's is a glob).
#[derive(Debug, Clone, PartialEq)]
pub struct Prefix<E: Encoding>(pub Text, PhantomData<E>);

impl<E: Encoding> From<&str> for Prefix<E> {
    fn from(s: &str) -> Self {
        Prefix(Text::literal(s), PhantomData)
    }
}

impl<E: Encoding> Setting for Prefix<E> {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text_in(node, key, E::ENCODE, diags)?;
        if let Some(p) = t.as_literal() {
            if p.contains('\0') {
                diags.error(&node.loc, format!("`{key}` contains a NUL byte"));
                return None;
            }
            if p.starts_with('/') {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` {p:?} starts with `/`"),
                    "object keys have no leading `/`: drop it",
                );
                return None;
            }
        }
        Some(Prefix(t, PhantomData))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// A sink's object name stem: no `/`, NUL or glob character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameStem(pub String);

impl Setting for NameStem {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let s = plain_string(node, key, diags)?;
        if s.is_empty() || s.contains(['/', '\0', '*', '?']) {
            diags.error_help(
                &node.loc,
                format!("invalid object name stem {s:?}"),
                "use letters, digits, `-`, `_` or `.`, without `/`",
            );
            return None;
        }
        Some(NameStem(s))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}

/// A sink's `file_extension`: the end of every object's name, as written
/// (`.jsonl`, `.jsonl.gz`), so it cannot hold `/` or glob characters.
#[derive(Debug, Clone, PartialEq)]
pub struct FileExtension(pub String);

impl Setting for FileExtension {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let s = plain_string(node, key, diags)?;
        if s.is_empty() || s.contains(['/', '\\', '\0', '*', '?']) {
            diags.error_help(
                &node.loc,
                format!("invalid `{key}` {s:?}"),
                "write the end of the object names, such as `.jsonl` or `.jsonl.gz`, without `/`",
            );
            return None;
        }
        Some(FileExtension(s))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}

//! Incremental replication: four keys of the `rest` source config that
//! together say whether, and from where, a run reads past the last bookmark.

use proc_macro2::TokenStream;
use quote::quote;

use super::json::{Json, StartValue};
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, option, string};
use crate::load::{Node, Value};
use crate::read::{Fields, one_of};
use crate::settings::{Part, Setting, settings};
use crate::spec::{Field, Kind, Spec};

/// `replication_method`: full or incremental reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Every run reads everything.
    FullTable,
    /// A run reads past the last bookmark.
    Incremental,
}

const METHODS: &[&str] = &["FullTable", "Incremental"];

/// `replication_method` written as a map (faucet-stream's form).
const METHOD_MAP: Spec = Spec {
    name: "rest.replication_method",
    doc: "Full or incremental reads.",
    fields: &[Field::req("type", Kind::OneOf(METHODS), "The method.")],
    variants: &[],
};

impl Setting for Method {
    const KIND: Kind = Kind::AnyOf(&[Kind::OneOf(METHODS), Kind::Object(&METHOD_MAP)]);

    /// `Incremental`, or `{type: Incremental}`.
    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let kind = match &node.value {
            Value::Map(_) => {
                let mut m = Fields::with_spec(node, &METHOD_MAP, format!("`{key}`"), diags)?;
                let t = m.require("type", diags);
                m.finish(diags);
                t?
            }
            _ => node,
        };
        match one_of(kind, key, METHODS, diags)? {
            "Incremental" => Some(Method::Incremental),
            _ => Some(Method::FullTable),
        }
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&format!("{self:?}"))
    }

    fn to_json(&self) -> serde_json::Value {
        format!("{self:?}").into()
    }
}

settings! {
    /// The replication keys as written.
    pub struct Keys("rest.replication") {
        /// `Incremental` reads past the last bookmark.
        replication_method: Option<Method>,
        /// The record field that grows (incremental).
        replication_key: Option<String>,
        /// The first run's lower bound.
        start_replication_value: Option<StartValue>,
        /// The query parameter carrying the bookmark.
        replication_param: Option<String>,
    }
}

/// Incremental replication settings, when on.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    /// The record field that grows.
    pub key: String,
    /// The first run's lower bound.
    pub start_value: Option<Json>,
    /// The query parameter carrying the bookmark.
    pub param: Option<String>,
}

/// The replication keys read together: `None` for full reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Incremental(pub Option<Replication>);

impl Part for Incremental {
    const KIND: Kind = Kind::Flatten(&Keys::SPEC);
    const REQUIRED: bool = false;

    fn read_part(f: &mut Fields<'_>, _: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let keys = Keys::read(f, diags)?;
        let incremental = match keys.replication_method {
            Some(Method::Incremental) => true,
            Some(Method::FullTable) => false,
            // Without `replication_method`, a `replication_key` means incremental.
            None => keys.replication_key.is_some(),
        };
        if !incremental {
            let stray = f.get("replication_param").or(f.get("start_replication_value"));
            if let Some(n) = stray.filter(|_| keys.replication_method.is_some()) {
                diags.error_help(
                    &n.loc,
                    "incremental settings with `replication_method: FullTable`",
                    "use `replication_method: {type: Incremental}`, or remove them",
                );
                return None;
            }
            return Some(Incremental(None));
        }
        let Some(key) = keys.replication_key else {
            let loc = f.get("replication_method").map_or(Loc::Unknown, |n| n.loc.clone());
            diags.error_help(
                &loc,
                "incremental replication needs `replication_key`",
                "add `replication_key: <field>`",
            );
            return None;
        };
        Some(Incremental(Some(Replication {
            key,
            start_value: keys.start_replication_value.map(|v| v.0),
            param: keys.replication_param,
        })))
    }

    fn emit_part(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        option(self.0.as_ref().map(|r| {
            let key = string(&r.key);
            let start_value = option(r.start_value.as_ref().map(|v| v.emit(g)));
            let param = option(r.param.as_deref().map(string));
            quote!(#rt::config::rest::Replication { key: #key, start_value: #start_value, param: #param })
        }))
    }
}

//! `write_mode`, `key` and `delete_marker`: what a database sink's batch does
//! to its table, shared by the `postgres`, `mysql` and `sqlite` sinks (the
//! runtime's `connectors::write_mode`).

use proc_macro2::TokenStream;
use quote::quote;

use super::common::opt;
use super::postgres::{DELETE_MARKER, Scalar, scalar_tokens, scalars};
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::{Node, Value};
use crate::read::{Fields, one_of, plain_string};
use crate::spec::{Field, Kind};

/// How a connector checks a column name.
pub(crate) type Identifier = fn(&Node, &str, &mut Diagnostics) -> Option<String>;

/// The three settings as read, before they are checked against each other.
pub(crate) struct Read<'a> {
    mode_node: Option<&'a Node>,
    key_node: Option<&'a Node>,
    marker_node: Option<&'a Node>,
    mode: Option<&'static str>,
    key: Option<Vec<String>>,
    marker: Option<Option<(String, Vec<Scalar>)>>,
}

/// Valid settings: the mode, its key columns and the delete marker.
#[derive(Debug, Clone)]
pub(crate) struct Keyed {
    /// `append`, `upsert` or `delete`.
    pub(crate) mode: &'static str,
    /// Key columns (empty for `append`).
    pub(crate) key: Vec<String>,
    /// `delete_marker`: field and values (`upsert` only).
    pub(crate) delete_marker: Option<(String, Vec<Scalar>)>,
    /// Where `write_mode` was written (the config block when absent).
    pub(crate) mode_loc: Loc,
}

/// Reads `write_mode` (default `append`), `key` and `delete_marker` from `f`;
/// `identifier` checks each key column's name.
pub(crate) fn read<'a>(f: &mut Fields<'a>, identifier: Identifier, diags: &mut Diagnostics) -> Read<'a> {
    let mode_node = f.get("write_mode");
    let mode = opt(mode_node, "append", |n| {
        if matches!(&n.value, Value::Str(s) if s == "overwrite") {
            diags.error(&n.loc, "`write_mode: overwrite` is not supported by faucet's database sinks yet");
            return None;
        }
        one_of(n, "write_mode", &["append", "upsert", "delete"], diags)
    });
    let key_node = f.get("key");
    let key = match key_node {
        Some(n) => match &n.value {
            Value::Seq(items) if !items.is_empty() => {
                let keys: Vec<Option<String>> = items.iter().map(|k| identifier(k, "key", diags)).collect();
                keys.into_iter().collect::<Option<Vec<_>>>()
            }
            Value::Str(_) => identifier(n, "key", diags).map(|k| vec![k]),
            _ => {
                diags.error_help(&n.loc, "`key` must be a non-empty list of columns", "write `key: [id]`");
                None
            }
        },
        None => Some(Vec::new()),
    };
    let marker_node = f.get("delete_marker");
    let marker = match marker_node {
        Some(n) => delete_marker(n, diags).map(Some),
        None => Some(None),
    };
    Read { mode_node, key_node, marker_node, mode, key, marker }
}

impl Read<'_> {
    /// Checks that the settings agree (`upsert`/`delete` need a `key`, `append`
    /// takes none, `delete_marker` needs `upsert`), reporting each mismatch at
    /// its key (`block`: the config, for a missing `write_mode`). `None` when a
    /// setting was invalid; otherwise the settings and whether they agree.
    pub(crate) fn check(self, block: &Loc, diags: &mut Diagnostics) -> Option<(Keyed, bool)> {
        let (mode, key, marker) = (self.mode?, self.key?, self.marker?);
        let mode_loc = self.mode_node.map_or(block, |n| &n.loc).clone();
        let mut ok = true;
        if mode != "append" && key.is_empty() {
            diags.error_help(
                &mode_loc,
                format!("`write_mode: {mode}` needs a `key`"),
                "add `key: [id]`: the columns that identify a row (a primary key or unique index)",
            );
            ok = false;
        }
        if let Some(n) = self.key_node
            && mode == "append"
        {
            diags.error_help(
                &n.loc,
                "`key` has no effect with `write_mode: append`",
                "use `write_mode: upsert` (or `delete`), or remove `key`",
            );
            ok = false;
        }
        if let Some(n) = self.marker_node
            && mode != "upsert"
        {
            diags.error_help(
                &n.loc,
                format!("`delete_marker` needs `write_mode: upsert`, but the mode is `{mode}`"),
                "with `upsert`, marked records delete their row and the others are upserted",
            );
            ok = false;
        }
        Some((Keyed { mode, key, delete_marker: marker, mode_loc }, ok))
    }
}

/// `unmapped_fields`: what `auto_map` does with a record key that names no column.
pub(crate) const UNMAPPED_FIELDS: Field = Field::opt(
    "unmapped_fields",
    Kind::OneOf(&["dlq", "add_column", "drop"]),
    "A record key with no column (auto_map): `dlq` the record (default), `add_column` (default with \
     `create_table`), or `drop` the key.",
);

/// Reads `unmapped_fields` (`dlq`, `add_column` or `drop`); absent, it is
/// `add_column` with `create_table` and `dlq` without. With a JSON column
/// mapping (`json_mapping`) no key needs a column, so setting it is an error.
pub(crate) fn unmapped_fields(
    node: Option<&Node>,
    create_table: bool,
    json_mapping: bool,
    diags: &mut Diagnostics,
) -> Option<&'static str> {
    let Some(node) = node else {
        return Some(if create_table { "add_column" } else { "dlq" });
    };
    let value = one_of(node, "unmapped_fields", &["dlq", "add_column", "drop"], diags)?;
    if json_mapping {
        diags.error_help(
            &node.loc,
            "`unmapped_fields` needs `column_mapping: auto_map`",
            "a JSON column mapping stores the whole record in one column, so no key lacks a column; remove `unmapped_fields`",
        );
        return None;
    }
    Some(value)
}

/// `unmapped_fields` as the runtime's `connectors::write_mode::UnmappedFields`.
pub(crate) fn unmapped_tokens(value: &str, g: &Gen) -> TokenStream {
    let rt = g.rt();
    let wm = quote!(#rt::connectors::write_mode);
    match value {
        "add_column" => quote!(#wm::UnmappedFields::AddColumn),
        "drop" => quote!(#wm::UnmappedFields::Drop),
        _ => quote!(#wm::UnmappedFields::Dlq),
    }
}

fn delete_marker(node: &Node, diags: &mut Diagnostics) -> Option<(String, Vec<Scalar>)> {
    let mut f = Fields::with_spec(node, &DELETE_MARKER, "`delete_marker`", diags)?;
    let field = f.require("field", diags).and_then(|n| plain_string(n, "field", diags));
    let values = f.require("values", diags).and_then(|n| scalars(n, "values", diags));
    f.finish(diags);
    let values = values?;
    if values.is_empty() {
        diags.error(&node.loc, "`delete_marker.values` is empty, so no record would ever delete");
        return None;
    }
    Some((field?, values))
}

/// The write mode, key columns and delete marker as the runtime's
/// `connectors::write_mode` values, for a sink config's `write_mode`, `key`
/// and `delete_marker` fields.
pub(crate) fn tokens(
    mode: &str,
    key: &[String],
    marker: Option<&(String, Vec<Scalar>)>,
    g: &Gen,
) -> (TokenStream, TokenStream, TokenStream) {
    let rt = g.rt();
    let wm = quote!(#rt::connectors::write_mode);
    let mode = match mode {
        "upsert" => quote!(#wm::WriteMode::Upsert),
        "delete" => quote!(#wm::WriteMode::Delete),
        _ => quote!(#wm::WriteMode::Append),
    };
    let key = key.iter().map(|k| quote!(::std::string::String::from(#k)));
    let key = quote!(::std::vec![#(#key),*]);
    let marker = match marker {
        Some((field, values)) => {
            let values = values.iter().map(|v| scalar_tokens(v, g));
            quote!(::core::option::Option::Some(#wm::DeleteMarker {
                field: ::std::string::String::from(#field),
                values: ::std::vec![#(#values),*],
            }))
        }
        None => quote!(::core::option::Option::None),
    };
    (mode, key, marker)
}

//! The transforms that name top-level fields: `select`, `drop`, `set`,
//! `rename_field`, `cast` and `coalesce`, with faucet-stream's keys.
//!
//! What the config alone shows wrong is reported here (two fields renamed to
//! one name, a type `cast` lacks, both or neither of `default` and `from`);
//! fields the records lack are reported by the schema flow, which knows them.

use super::{Fields, plain_string};
use crate::diag::{Diagnostics, help_for, list};
use crate::ir::{CastOnError, CastType, Fill, Named, Transform};
use crate::load::{Node, Value};
use crate::read::{boolean, build_time_string};
use crate::settings::Setting;
use crate::spec::{Field, Kind, Spec};

pub(super) static SELECT: Spec = Spec {
    name: "transform.select",
    doc: "Only the listed top-level fields, in the listed order; a field a record lacks is skipped.",
    fields: &[Field::req("fields", Kind::List(&Kind::Str), "The fields kept.")],
    variants: &[],
};
pub(super) static DROP: Spec = Spec {
    name: "transform.drop",
    doc: "The listed top-level fields removed.",
    fields: &[Field::req("fields", Kind::List(&Kind::Str), "The fields removed.")],
    variants: &[],
};
pub(super) static SET: Spec = Spec {
    name: "transform.set",
    doc: "Top-level fields set to constants on every record: overwritten where present, added after the others where not.",
    fields: &[Field::req("values", Kind::Map(&Kind::Json), "Each field and its value.")],
    variants: &[],
};
pub(super) static RENAME_FIELD: Spec = Spec {
    name: "transform.rename_field",
    doc: "Top-level fields renamed by exact name, in place. Every rename reads the record as it came, so chains and swaps work; a new name taken by a field that stays is an error.",
    fields: &[Field::req("fields", Kind::Map(&Kind::Str), "Each field and its new name.")],
    variants: &[],
};
pub(super) static CAST: Spec = Spec {
    name: "transform.cast",
    doc: "Top-level fields converted to another type, with faucet-stream's rules (`\" 42 \"` → 42, `2.0` → 2, `yes` → true, a number → its text, RFC 3339 text normalised); null, objects and arrays never convert.",
    fields: &[
        Field::req("fields", Kind::Map(&Kind::OneOf(CastType::VALUES)), "Each field and its type."),
        Field::opt(
            "on_error",
            Kind::OneOf(CastOnError::VALUES),
            "A value that does not convert: `error` rejects the record, `null` makes it null, `skip` leaves it as it was.",
        )
        .default("\"error\""),
    ],
    variants: &[],
};
pub(super) static COALESCE: Spec = Spec {
    name: "transform.coalesce",
    doc: "A field that is absent or null filled from a constant (`default`) or from the first of other fields that has a value (`from`); exactly one of the two.",
    fields: &[
        Field::req("field", Kind::Str, "The field filled."),
        Field::opt("default", Kind::Json, "The constant it is filled with."),
        Field::opt(
            "from",
            Kind::List(&Kind::Str),
            "The fields it is filled from, the first with a value winning.",
        ),
        Field::opt(
            "treat_empty_string_as_null",
            Kind::Bool,
            "An empty string counts as null, in `field` and in `from`.",
        )
        .default("false"),
    ],
    variants: &[],
};

/// `select`: at least one field, each kept once.
pub(super) fn select(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &SELECT, what, diags)?;
    let fields = c.require("fields", diags).and_then(|n| names(n, "fields", diags));
    c.finish(diags);
    let fields = fields?;
    if fields.is_empty() {
        diags.error_help(
            &config.loc,
            "`select` with no `fields` makes every record empty",
            "list the fields to keep: `fields: [id, name]`",
        );
        return None;
    }
    Some(Transform::Select { fields })
}

/// `drop`: each field once.
pub(super) fn drop(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &DROP, what, diags)?;
    let fields = c.require("fields", diags).and_then(|n| names(n, "fields", diags));
    c.finish(diags);
    Some(Transform::Drop { fields: fields? })
}

/// `set`: constants, fixed at build time.
pub(super) fn set(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &SET, what, diags)?;
    let values = c.require("values", diags).and_then(|n| {
        let Value::Map(entries) = &n.value else {
            diags.error_help(
                &n.loc,
                format!("`values` must be a map of fields to values, found {}", n.value.kind_name()),
                "write e.g. `values: { source: crm, version: 2 }`",
            );
            return None;
        };
        let mut ok = true;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let field = Named { name: e.key.clone(), loc: e.key_loc.clone() };
            ok &= not_empty(&field, "`set` writes a field whose name", diags);
            match constant(&e.value, &e.key, diags) {
                Some(v) => out.push((field, v)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    });
    c.finish(diags);
    Some(Transform::Set { values: values? })
}

/// `rename_field`: each new name once, none empty; a field renamed to itself is no rename.
pub(super) fn rename_field(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &RENAME_FIELD, what, diags)?;
    let renames = c.require("fields", diags).and_then(|n| {
        let Value::Map(entries) = &n.value else {
            diags.error_help(
                &n.loc,
                format!("`fields` must be a map of fields to new names, found {}", n.value.kind_name()),
                "write e.g. `fields: { user_id: id }`",
            );
            return None;
        };
        let mut ok = true;
        let mut out: Vec<(Named, Named)> = Vec::with_capacity(entries.len());
        for e in entries {
            let Some(to) = plain_string(&e.value, &e.key, diags) else {
                ok = false;
                continue;
            };
            let to = Named { name: to, loc: e.value.loc.clone() };
            if !not_empty(&to, &format!("the new name of `{}`", e.key), diags) {
                ok = false;
                continue;
            }
            if let Some((other, _)) = out.iter().find(|(_, t)| t.name == to.name) {
                diags.error_help(
                    &to.loc,
                    format!("`{}` and `{}` are both renamed to `{}`", other.name, e.key, to.name),
                    "a record with both would be rejected: give each field its own name",
                );
                ok = false;
                continue;
            }
            if e.key != to.name {
                out.push((Named { name: e.key.clone(), loc: e.key_loc.clone() }, to));
            }
        }
        // faucet-stream applies them ordered by field.
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        ok.then_some(out)
    });
    c.finish(diags);
    Some(Transform::RenameField { renames: renames? })
}

/// `cast`: a known type per field.
pub(super) fn cast(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &CAST, what, diags)?;
    let fields = c.require("fields", diags).and_then(|n| {
        let Value::Map(entries) = &n.value else {
            diags.error_help(
                &n.loc,
                format!("`fields` must be a map of fields to types, found {}", n.value.kind_name()),
                "write e.g. `fields: { id: int, amount: float }`",
            );
            return None;
        };
        let mut ok = true;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let named = match &e.value.value {
                Value::Str(s) => CastType::from_value(s),
                _ => None,
            };
            let ty = match named {
                Some(ty) => ty,
                None => {
                    let other = &e.value.value;
                    let shown = match other {
                        Value::Str(s) => format!("`{s}`"),
                        other => other.kind_name().to_owned(),
                    };
                    let near = match other {
                        Value::Str(s) => help_for(s, CastType::VALUES),
                        _ => format!("expected one of {}", list(CastType::VALUES)),
                    };
                    diags.error_help(
                        &e.value.loc,
                        format!("`cast` has no type {shown} (for field `{}`)", e.key),
                        near,
                    );
                    ok = false;
                    continue;
                }
            };
            out.push((Named { name: e.key.clone(), loc: e.key_loc.clone() }, ty));
        }
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        ok.then_some(out)
    });
    let on_error = match c.get("on_error") {
        Some(n) => CastOnError::read(n, "on_error", diags),
        None => Some(CastOnError::Error),
    };
    c.finish(diags);
    Some(Transform::Cast { fields: fields?, on_error: on_error? })
}

/// `coalesce`: a field, and exactly one of `default` and `from`.
pub(super) fn coalesce(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &COALESCE, what, diags)?;
    let field = c.require("field", diags).and_then(|n| {
        let field = Named { name: plain_string(n, "field", diags)?, loc: n.loc.clone() };
        not_empty(&field, "the name of the field `coalesce` fills", diags).then_some(field)
    });
    let default = c.get("default").map(|n| (constant(n, "default", diags), n.loc.clone()));
    let from = c.get("from").map(|n| (names(n, "from", diags), n.loc.clone()));
    let empty = match c.get("treat_empty_string_as_null") {
        Some(n) => boolean(n, "treat_empty_string_as_null", diags),
        None => Some(false),
    };
    c.finish(diags);
    // An empty `from` is no `from`, as in faucet-stream.
    let from = from.filter(|(f, _)| f.as_ref().is_none_or(|f| !f.is_empty()));
    let fill = match (default, from) {
        (Some((default, _)), None) => Fill::Default(default?),
        (None, Some((from, _))) => Fill::From(from?),
        (Some(_), Some((_, loc))) => {
            diags.error_help(
                &loc,
                "`coalesce` takes `default` or `from`, not both",
                "keep `from` to fill the field from other fields, or `default` for a constant",
            );
            return None;
        }
        (None, None) => {
            diags.error_help(
                &config.loc,
                "`coalesce` needs `default` or `from`",
                "add `default: <value>` for a constant (not null), or `from: [other_field]`",
            );
            return None;
        }
    };
    Some(Transform::Coalesce { field: field?, fill, treat_empty_string_as_null: empty? })
}

/// A list of field names, each kept once at its first place.
fn names(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Vec<Named>> {
    let Value::Seq(items) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`{key}` must be a list of field names, found {}", node.value.kind_name()),
            format!("write e.g. `{key}: [id, name]`"),
        );
        return None;
    };
    let mut out: Vec<Named> = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match plain_string(item, key, diags) {
            Some(name) if !out.iter().any(|n| n.name == name) => {
                out.push(Named { name, loc: item.loc.clone() })
            }
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Whether `field` (its name described as `what`) is not empty; reports it when it is.
fn not_empty(field: &Named, what: &str, diags: &mut Diagnostics) -> bool {
    if field.name.is_empty() {
        diags.error_help(
            &field.loc,
            format!("{what} is empty"),
            "a field needs a name of at least one character",
        );
    }
    !field.name.is_empty()
}

/// A constant: the value as JSON, every string fixed at build time (a
/// `${env:…}` read at run time is refused; `$${` is a literal `${`).
fn constant(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match &node.value {
        Value::Str(s) => {
            J::String(build_time_string(s, key).map_err(|(m, h)| diags.error_help(&node.loc, m, h)).ok()?)
        }
        Value::Seq(items) => J::Array(
            items
                .iter()
                .map(|i| constant(i, key, diags))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Option<_>>()?,
        ),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|e| Some((e.key.clone(), constant(&e.value, key, diags)?)))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Option<_>>()?,
        ),
        Value::Float(x) if !x.is_finite() => {
            diags.error_help(
                &node.loc,
                format!("`{key}` is {x}, which JSON cannot hold"),
                "write a finite number",
            );
            return None;
        }
        _ => node.to_json(),
    })
}

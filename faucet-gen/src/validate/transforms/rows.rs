//! The row transforms' configs: `filter` (1→0|1), `explode` and `unpivot`
//! (1→N), with faucet-stream 1.17's keys and defaults. What can be checked
//! without the records' schema is checked here (paths parse, `op` and
//! `value` agree, names are not empty); what needs the schema (the path
//! exists, the value can equal the field) is checked in the schema flow.

use crate::diag::{Diagnostics, Loc};
use crate::ir::{
    Explode, FieldPath, Filter, FilterOp, OnMissing, Transform, Unpivot, UnpivotColumns, UnpivotLocs,
};
use crate::load::{Node, Value};
use crate::read::{Fields, boolean, one_of, plain_string};
use crate::settings::Setting;
use crate::spec::{Field, Kind, Spec};

const FILTER_OPS: &[&str] = &["eq", "ne", "exists", "in", "not_in"];

pub(super) static FILTER: Spec = Spec {
    name: "transform.filter",
    doc: "Keeps the records whose value at `path` satisfies `op`; drops the others. The path is checked against the records' schema at build time, and so is the value.",
    fields: &[
        Field::req(
            "path",
            Kind::Str,
            "The value tested: a key, a dotted path (`user.age`), or bracketed keys (`$['a.b']`).",
        ),
        Field::req(
            "op",
            Kind::OneOf(FILTER_OPS),
            "`eq`, `ne` (a missing field is not equal), `exists` (present and not null), `in`, `not_in` (a missing field is in none).",
        ),
        Field::opt(
            "value",
            Kind::Json,
            "What the value is compared with: one value for `eq`/`ne`, a list for `in`/`not_in`, none for `exists`. Numbers equal whatever their form (`1` is `1.0`); a string never equals a number.",
        ),
    ],
    variants: &[],
};

pub(super) static EXPLODE: Spec = Spec {
    name: "transform.explode",
    doc: "One record per element of the array at `path`. An object element's fields replace the array field, prefixed; any other element takes its place.",
    fields: &[
        Field::req("path", Kind::Str, "The array field: a key, a dotted path, or bracketed keys (`$['a.b']`)."),
        Field::opt(
            "prefix",
            Kind::Str,
            "Prefixes an object element's keys (`items_sku`); default the array field's name, `\"\"` for none.",
        ),
        Field::opt("separator", Kind::Str, "Between the prefix and the key.").default("\"_\""),
        Field::opt(
            "on_missing",
            Kind::OneOf(OnMissing::VALUES),
            "A record whose path holds no non-empty array: `passthrough` (unchanged), `drop`, or `error` (rejected).",
        )
        .default("\"passthrough\""),
        Field::opt(
            "carry",
            Kind::Map(&Kind::Str),
            "Fields set on every record made, each to the value at a dotted path of the original record (`order_id: id`).",
        ),
    ],
    variants: &[],
};

pub(super) static UNPIVOT: Spec = Spec {
    name: "transform.unpivot",
    doc: "Wide columns (or the entries of a map field) into long rows: one per column, holding the `id_fields`, the column's name and its value. A record making no row passes through unchanged unless `drop_if_empty`.",
    fields: &[
        Field::opt("id_fields", Kind::List(&Kind::Str), "Fields copied onto every row.").default("[]"),
        Field::req("key_name", Kind::Str, "The field holding the column's name (or the entry's key)."),
        Field::req("value_name", Kind::Str, "The field holding its value."),
        Field::opt(
            "columns",
            Kind::List(&Kind::Str),
            "The columns, in order; none (the default): every field but the `id_fields`.",
        )
        .default("[]"),
        Field::opt("from", Kind::Str, "An object field whose entries become the rows, instead of columns."),
        Field::opt("drop_nulls", Kind::Bool, "Skip null values.").default("false"),
        Field::opt(
            "drop_if_empty",
            Kind::Bool,
            "Drop a record that makes no row, rather than pass it through.",
        )
        .default("false"),
    ],
    variants: &[],
};

/// `filter`.
pub(super) fn filter(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &FILTER, what, diags)?;
    let path = c.require("path", diags).and_then(|n| field_path(n, "path", diags));
    let op = c.require("op", diags).and_then(|n| one_of(n, "op", FILTER_OPS, diags));
    let value = c.get("value");
    c.finish(diags);
    let (path, op) = (path?, op?);
    let op = match op {
        "eq" => FilterOp::Eq,
        "ne" => FilterOp::Ne,
        "exists" => FilterOp::Exists,
        "in" => FilterOp::In,
        _ => FilterOp::NotIn,
    };
    let value_loc = value.map_or_else(|| config.loc.clone(), |v| v.loc.clone());
    let value = match (op, value) {
        (FilterOp::Exists, None) => None,
        (FilterOp::Exists, Some(v)) => {
            diags.error_help(
                &v.loc,
                "`op: exists` takes no `value`",
                "remove `value`: `exists` keeps the records whose field is present and not null",
            );
            return None;
        }
        (FilterOp::Eq | FilterOp::Ne, Some(v)) => Some(v.to_json()),
        (FilterOp::In | FilterOp::NotIn, Some(v)) if matches!(v.value, Value::Seq(_)) => Some(v.to_json()),
        (FilterOp::In | FilterOp::NotIn, Some(v)) => {
            diags.error_help(
                &v.loc,
                format!("`op: {}` needs a list `value`, found {}", op.name(), v.value.kind_name()),
                format!("write the values it may be as a list: `value: [{}]`", scalar_text(v)),
            );
            return None;
        }
        (_, None) => {
            let example = if matches!(op, FilterOp::In | FilterOp::NotIn) { "[a, b]" } else { "active" };
            diags.error_help(
                &config.loc,
                format!("`op: {}` needs a `value` to compare with", op.name()),
                format!("add `value: {example}`"),
            );
            return None;
        }
    };
    Some(Transform::Filter(Filter { path, op, value, value_loc }))
}

/// A scalar as YAML text, for a suggestion.
fn scalar_text(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "…".to_owned(),
    }
}

/// `explode`.
pub(super) fn explode(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &EXPLODE, what, diags)?;
    let path = c.require("path", diags).and_then(|n| field_path(n, "path", diags));
    let prefix = match c.get("prefix") {
        Some(n) => plain_string(n, "prefix", diags).map(Some),
        None => Some(None),
    };
    let separator = match c.get("separator") {
        Some(n) => plain_string(n, "separator", diags),
        None => Some("_".to_owned()),
    };
    let on_missing = match c.get("on_missing") {
        Some(n) => OnMissing::read(n, "on_missing", diags),
        None => Some(OnMissing::Passthrough),
    };
    let carry = match c.get("carry") {
        Some(n) => carry(n, diags),
        None => Some(Vec::new()),
    };
    c.finish(diags);
    Some(Transform::Explode(Explode {
        path: path?,
        prefix: prefix?,
        separator: separator?,
        on_missing: on_missing?,
        carry: carry?,
    }))
}

/// `carry`: `{field: dotted.path}`, the path as faucet-stream reads it (a
/// leading `$` or `$.` ignored, empty segments skipped).
fn carry(node: &Node, diags: &mut Diagnostics) -> Option<Vec<(String, FieldPath)>> {
    let Value::Map(entries) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`carry` must be a map of fields to paths, found {}", node.value.kind_name()),
            "write e.g. `carry: { order_id: id }`",
        );
        return None;
    };
    let mut out = Vec::with_capacity(entries.len());
    let mut ok = true;
    for e in entries {
        let Some(text) = plain_string(&e.value, &e.key, diags) else {
            ok = false;
            continue;
        };
        let keys: Vec<String> = text
            .trim()
            .trim_start_matches('$')
            .trim_start_matches('.')
            .split('.')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if e.key.is_empty() || keys.is_empty() {
            diags.error_help(
                if e.key.is_empty() { &e.key_loc } else { &e.value.loc },
                "a `carry` entry needs a field name and a path",
                "write e.g. `carry: { order_id: id }`",
            );
            ok = false;
            continue;
        }
        out.push((e.key.clone(), FieldPath { keys, text, loc: e.value.loc.clone() }));
    }
    ok.then_some(out)
}

/// `unpivot`.
pub(super) fn unpivot(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &UNPIVOT, what, diags)?;
    let mut locs = UnpivotLocs::default();
    let id_fields = match c.get("id_fields") {
        Some(n) => names(n, "id_fields", &mut locs.id_fields, diags),
        None => Some(Vec::new()),
    };
    let key_name = c.require("key_name", diags).and_then(|n| name(n, "key_name", diags));
    let value_name = c.require("value_name", diags).and_then(|n| name(n, "value_name", diags));
    let columns = match c.get("columns") {
        Some(n) => names(n, "columns", &mut locs.columns, diags).map(|listed| (listed, Some(n.loc.clone()))),
        None => Some((Vec::new(), None)),
    };
    let from = c.get("from").map(|n| (name(n, "from", diags), n.loc.clone()));
    let flag = |c: &mut Fields<'_>, key: &'static str, diags: &mut Diagnostics| match c.get(key) {
        Some(n) => boolean(n, key, diags),
        None => Some(false),
    };
    let drop_nulls = flag(&mut c, "drop_nulls", diags);
    let drop_if_empty = flag(&mut c, "drop_if_empty", diags);
    c.finish(diags);
    let (id_fields, key_name, value_name) = (id_fields?, key_name?, value_name?);
    let ((listed, listed_loc), drop_nulls, drop_if_empty) = (columns?, drop_nulls?, drop_if_empty?);
    let columns = match from {
        Some((from, loc)) => {
            let from = from?;
            if let Some(listed_loc) = listed_loc.filter(|_| !listed.is_empty()) {
                diags.error_help(
                    &listed_loc,
                    "`unpivot` takes `columns` or `from`, not both",
                    "keep `from` to unpivot the entries of that object field, or `columns` to unpivot those fields",
                );
                return None;
            }
            locs.columns = vec![loc];
            UnpivotColumns::From(from)
        }
        None if listed.is_empty() => UnpivotColumns::AllButIds,
        None => UnpivotColumns::Listed(listed),
    };
    if key_name == value_name {
        diags.error_help(
            &config.loc,
            format!(
                "`key_name` and `value_name` are both `{key_name}`: each row's value would overwrite its key"
            ),
            "give them different names, e.g. `key_name: metric` and `value_name: value`",
        );
        return None;
    }
    for (i, id) in id_fields.iter().enumerate() {
        if *id == key_name || *id == value_name {
            let which = if *id == key_name { "key_name" } else { "value_name" };
            diags.error_help(
                &locs.id_fields[i],
                format!("id field `{id}` is also the `{which}`: every row would overwrite it"),
                format!("rename the `{which}`, or drop `{id}` from `id_fields`"),
            );
            return None;
        }
    }
    Some(Transform::Unpivot(Unpivot {
        id_fields,
        key_name,
        value_name,
        columns,
        drop_nulls,
        drop_if_empty,
        locs,
    }))
}

/// A non-empty field name.
fn name(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    let s = plain_string(node, key, diags)?;
    if s.trim().is_empty() {
        diags.error_help(&node.loc, format!("`{key}` is empty"), "name a field");
        return None;
    }
    Some(s)
}

/// A list of non-empty field names, each loc pushed to `locs`.
fn names(node: &Node, key: &str, locs: &mut Vec<Loc>, diags: &mut Diagnostics) -> Option<Vec<String>> {
    let Value::Seq(items) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`{key}` must be a list of field names, found {}", node.value.kind_name()),
            format!("write e.g. `{key}: [id]`"),
        );
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let n = name(item, key, diags)?;
        if out.contains(&n) {
            diags.error_help(&item.loc, format!("`{n}` is listed twice in `{key}`"), "list each field once");
            return None;
        }
        locs.push(item.loc.clone());
        out.push(n);
    }
    Some(out)
}

/// A faucet-stream path (`a`, `a.b`, `$.a`, `$['a.b']`), parsed as
/// faucet-stream parses it, each mistake an error at the path.
pub(super) fn field_path(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<FieldPath> {
    let text = plain_string(node, key, diags)?;
    match parse_path(&text) {
        Ok(keys) => Some(FieldPath { keys, text, loc: node.loc.clone() }),
        Err(problem) => {
            diags.error_help(
                &node.loc,
                format!("invalid `{key}` {text:?}: {problem}"),
                "write a key (`status`), a dotted path (`user.age`), or bracketed keys for names with dots (`$['a.b']`)",
            );
            None
        }
    }
}

/// The keys of a faucet-stream path: `$` then `.key` or `['key']` segments
/// (a path without `$` is read after `$.`). Wildcards, recursive descent and
/// filter expressions address several values and are refused.
pub(crate) fn parse_path(raw: &str) -> Result<Vec<String>, String> {
    let several =
        || "it may address several values (`[*]`, `..` and `[?…]` are not supported here)".to_owned();
    let normalised = if raw.starts_with('$') { raw.to_owned() } else { format!("$.{raw}") };
    let mut rest = &normalised[1..];
    let mut keys = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            if after.starts_with('.') {
                return Err(several());
            }
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err("a `.` is followed by no key".to_owned());
            }
            keys.push(after[..end].to_owned());
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let quote = match after.chars().next() {
                None => return Err("a `[` is not closed".to_owned()),
                Some('*' | '?') => return Err(several()),
                Some(q @ ('\'' | '"')) => q,
                Some(_) => return Err("a bracket must hold a quoted key (`['a.b']`)".to_owned()),
            };
            let inner = &after[1..];
            let close = inner.find(quote).ok_or_else(|| "a quoted key is not closed".to_owned())?;
            let key = &inner[..close];
            rest = inner[close + 1..]
                .strip_prefix(']')
                .ok_or_else(|| "a quoted key is not followed by `]`".to_owned())?;
            keys.push(key.to_owned());
        } else {
            return Err(format!("unexpected {rest:?}"));
        }
    }
    if keys.is_empty() {
        return Err("it names no field".to_owned());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::parse_path;

    #[test]
    fn paths_parse_as_faucet_stream_parses_them() {
        assert_eq!(parse_path("a").unwrap(), ["a"]);
        assert_eq!(parse_path("user.age").unwrap(), ["user", "age"]);
        assert_eq!(parse_path("$.user.age").unwrap(), ["user", "age"]);
        assert_eq!(parse_path("$['a.b'].c").unwrap(), ["a.b", "c"]);
        assert_eq!(parse_path("$[\"x[*]y\"]").unwrap(), ["x[*]y"]);
        for bad in
            ["$", "a..b", "a[*]", "$[?(@.x)]", "a.", "$[a]", "$['a'", "$['a'x", "['a']", "$x", "$.a[0]"]
        {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }
}

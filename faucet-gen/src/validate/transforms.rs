//! The `transforms` list: each `{type, config}` checked, regexes compiled at build time.

use super::fields::{Fields, one_of, plain_string};
use crate::diag::{Diagnostics, help_for};
use crate::ir::{CaseMode, Transform};
use crate::load::{Node, Value};

const TRANSFORMS: &[&str] = &["flatten", "rename_keys", "snake_case", "keys_case", "custom"];
/// faucet-stream transforms faucet will support later.
const LATER: &[&str] = &[
    "select",
    "drop",
    "set",
    "rename_field",
    "cast",
    "redact",
    "value_case",
    "spell_symbols",
    "hash",
    "json_parse",
    "json_encode",
    "coalesce",
    "split",
    "join",
    "lookup",
    "filter",
    "explode",
    "unpivot",
    "tree_flatten",
    "cross_join",
    "cdc_unwrap",
    "sql",
    "wasm",
];

/// Validates the `transforms` list.
pub(crate) fn transforms(node: &Node, diags: &mut Diagnostics) -> Option<Vec<Transform>> {
    let Value::Seq(items) = &node.value else {
        diags.error(&node.loc, format!("`transforms` must be a list, found {}", node.value.kind_name()));
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match transform(item, diags) {
            Some(t) => out.push(t),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn transform(node: &Node, diags: &mut Diagnostics) -> Option<Transform> {
    let mut f = Fields::new(node, "a transform", diags)?;
    let kind_node = f.require("type", diags);
    let config = f.get("config");
    f.finish(diags);
    let kind_node = kind_node?;
    let kind = plain_string(kind_node, "type", diags)?;
    let empty = Node { value: Value::Map(Vec::new()), loc: node.loc.clone() };
    let config = config.unwrap_or(&empty);
    let what = format!("the `{kind}` transform config");
    match kind.as_str() {
        "flatten" => {
            let mut c = Fields::new(config, what, diags)?;
            let separator = match c.get("separator") {
                Some(n) => {
                    let s = plain_string(n, "separator", diags)?;
                    if s.is_empty() {
                        diags.error(&n.loc, "`separator` must not be empty");
                        return None;
                    }
                    s
                }
                None => "__".to_owned(),
            };
            c.finish(diags);
            Some(Transform::Flatten { separator })
        }
        "rename_keys" => {
            let mut c = Fields::new(config, what, diags)?;
            let pattern = c.require("pattern", diags).and_then(|n| {
                let p = plain_string(n, "pattern", diags)?;
                match regex::Regex::new(&p) {
                    Ok(_) => Some(p),
                    Err(e) => {
                        let detail = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
                        diags.error_help(
                            &n.loc,
                            format!("invalid regex {p:?}: {detail}"),
                            "the pattern uses Rust regex syntax",
                        );
                        None
                    }
                }
            });
            let replacement =
                c.require("replacement", diags).and_then(|n| plain_string(n, "replacement", diags));
            c.finish(diags);
            Some(Transform::RenameKeys { pattern: pattern?, replacement: replacement? })
        }
        "snake_case" => {
            Fields::new(config, what, diags)?.finish(diags);
            Some(Transform::KeysCase(CaseMode::Snake))
        }
        "keys_case" => {
            let mut c = Fields::new(config, what, diags)?;
            let mode = c.require("mode", diags).and_then(|n| {
                if matches!(&n.value, Value::Str(s) if s == "dot") {
                    diags.error(&n.loc, "`mode: dot` is not supported by faucet yet");
                    return None;
                }
                one_of(n, "mode", &["snake", "camel", "pascal", "kebab", "screaming_snake"], diags)
            });
            c.finish(diags);
            Some(Transform::KeysCase(match mode? {
                "camel" => CaseMode::Camel,
                "pascal" => CaseMode::Pascal,
                "kebab" => CaseMode::Kebab,
                "screaming_snake" => CaseMode::ScreamingSnake,
                _ => CaseMode::Snake,
            }))
        }
        "custom" => {
            let mut c = Fields::new(config, what, diags)?;
            let function = c.require("function", diags).and_then(|n| {
                let p = plain_string(n, "function", diags)?;
                match syn::parse_str::<syn::Path>(&p) {
                    Ok(_) => Some((p, n.loc.clone())),
                    Err(_) => {
                        diags.error_help(
                            &n.loc,
                            format!("`function` {p:?} is not a Rust path"),
                            "name a function such as `my_crate::transforms::clean`",
                        );
                        None
                    }
                }
            });
            c.finish(diags);
            let (function, loc) = function?;
            Some(Transform::Custom { function, loc })
        }
        other if LATER.contains(&other) => {
            diags.error_help(
                &kind_node.loc,
                format!("faucet does not support the `{other}` transform yet"),
                "write it in Rust and plug it in with `type: custom, config: { function: path::to::fn }`",
            );
            None
        }
        other => {
            diags.error_help(
                &kind_node.loc,
                format!("unknown transform type `{other}`"),
                help_for(other, TRANSFORMS),
            );
            None
        }
    }
}

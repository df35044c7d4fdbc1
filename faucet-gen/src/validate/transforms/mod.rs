//! The `transforms` list: each `{type, config}` checked, regexes compiled at build time.

mod fields;
mod lookup;
mod rows;
mod values;

use crate::read::{Fields, one_of, plain_string};
use crate::spec::{Field, Kind, Spec, Variant};

static FLATTEN: Spec = Spec {
    name: "transform.flatten",
    doc: "Nested objects become top-level keys joined by `separator`; arrays and empty objects stay values.",
    fields: &[Field::opt("separator", Kind::Str, "Joins the key path.").default("\"__\"")],
    variants: &[],
};
static RENAME_KEYS: Spec = Spec {
    name: "transform.rename_keys",
    doc: "Keys matching `pattern` are rewritten with `replacement` (`$1` groups).",
    fields: &[
        Field::req("pattern", Kind::Str, "A Rust regex."),
        Field::req(
            "replacement",
            Kind::Str,
            "The new key: `$1` or `${name}` for a group (`${1}_id` when a letter, digit or `_` follows), `$$` for `$`. Groups are checked at build time; a key it would make empty is an error.",
        ),
    ],
    variants: &[],
};
static SNAKE_CASE: Spec = Spec {
    name: "transform.snake_case",
    doc: "Keys in snake_case, split into words faucet's own way (`HTTPServer` → `http_server`); not a faucet-stream transform: for faucet-stream's rules use `keys_case` with `mode: snake`.",
    fields: &[],
    variants: &[],
};
static KEYS_CASE: Spec = Spec {
    name: "transform.keys_case",
    doc: "Keys in one case style.",
    fields: &[Field::req(
        "mode",
        Kind::OneOf(KEYS_CASE_MODES),
        "The style; words split as faucet-stream splits them (`userID` → `user_id`, `XMLParser` → `xmlparser`).",
    )],
    variants: &[],
};
static CUSTOM: Spec = Spec {
    name: "transform.custom",
    doc: "A Rust function of yours applied to each record.",
    fields: &[Field::req("function", Kind::Str, "Its path, e.g. `my_crate::transforms::clean`.")],
    variants: &[],
};

/// One entry of `transforms:`.
pub(crate) static TRANSFORM: Spec = Spec {
    name: "transform",
    doc: "A transform: a `type` and its `config`.",
    fields: &[
        Field::req("type", Kind::Str, "The transform."),
        Field::opt("config", Kind::Json, "Its settings."),
        Field::opt(
            "record_schema",
            Kind::Object(&crate::record_schema::declared::RECORD_SCHEMA),
            "`custom` only: the fields of the records it returns. Without it the records are untyped after a `custom` transform (their fields are not checked); the other transforms' output follows from their input.",
        ),
    ],
    variants: &[
        Variant { tag: "flatten", nested: true, spec: Some(&FLATTEN) },
        Variant { tag: "rename_keys", nested: true, spec: Some(&RENAME_KEYS) },
        Variant { tag: "snake_case", nested: true, spec: Some(&SNAKE_CASE) },
        Variant { tag: "keys_case", nested: true, spec: Some(&KEYS_CASE) },
        Variant { tag: "custom", nested: true, spec: Some(&CUSTOM) },
        Variant { tag: "cdc_unwrap", nested: true, spec: Some(&CDC_UNWRAP) },
        Variant { tag: "filter", nested: true, spec: Some(&rows::FILTER) },
        Variant { tag: "explode", nested: true, spec: Some(&rows::EXPLODE) },
        Variant { tag: "unpivot", nested: true, spec: Some(&rows::UNPIVOT) },
        Variant { tag: "select", nested: true, spec: Some(&fields::SELECT) },
        Variant { tag: "drop", nested: true, spec: Some(&fields::DROP) },
        Variant { tag: "set", nested: true, spec: Some(&fields::SET) },
        Variant { tag: "rename_field", nested: true, spec: Some(&fields::RENAME_FIELD) },
        Variant { tag: "cast", nested: true, spec: Some(&fields::CAST) },
        Variant { tag: "coalesce", nested: true, spec: Some(&fields::COALESCE) },
        Variant { tag: "redact", nested: true, spec: Some(&values::REDACT) },
        Variant { tag: "value_case", nested: true, spec: Some(&values::VALUE_CASE) },
        Variant { tag: "hash", nested: true, spec: Some(&values::HASH) },
        Variant { tag: "json_parse", nested: true, spec: Some(&values::JSON_PARSE) },
        Variant { tag: "json_encode", nested: true, spec: Some(&values::JSON_ENCODE) },
        Variant { tag: "split", nested: true, spec: Some(&values::SPLIT) },
        Variant { tag: "join", nested: true, spec: Some(&values::JOIN) },
        Variant { tag: "lookup", nested: true, spec: Some(&lookup::LOOKUP) },
    ],
};
use crate::diag::{Diagnostics, Loc, help_for};
use crate::ir::{CaseMode, Transform};
use crate::load::{Node, Value};

/// The `mode`s of `keys_case`.
const KEYS_CASE_MODES: &[&str] = &["snake", "camel", "pascal", "kebab", "screaming_snake", "dot"];
const TRANSFORMS: &[&str] = &[
    "flatten",
    "rename_keys",
    "snake_case",
    "keys_case",
    "custom",
    "cdc_unwrap",
    "filter",
    "explode",
    "unpivot",
    "select",
    "drop",
    "set",
    "rename_field",
    "cast",
    "coalesce",
    "redact",
    "value_case",
    "hash",
    "json_parse",
    "json_encode",
    "split",
    "join",
    "lookup",
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
    let mut f = Fields::with_spec(node, &TRANSFORM, "a transform", diags)?;
    let kind_node = f.require("type", diags);
    let config = f.get("config");
    let record_schema = f.entry("record_schema").filter(|e| !matches!(e.value.value, Value::Null));
    f.finish(diags);
    let kind_node = kind_node?;
    let kind = plain_string(kind_node, "type", diags)?;
    let output = match record_schema {
        Some(e) if kind == "custom" => {
            Some(crate::record_schema::declared::read(&e.value, &e.key_loc, diags))
        }
        Some(e) => {
            diags.error_help(
                &e.key_loc,
                format!("`record_schema` only applies to `custom` transforms, not to `{kind}`"),
                format!("remove it: the fields after `{kind}` follow from the fields before it"),
            );
            return None;
        }
        None => None,
    };
    let empty = Node { value: Value::Map(Vec::new()), loc: node.loc.clone() };
    let config = config.unwrap_or(&empty);
    let what = format!("the `{kind}` transform config");
    match kind.as_str() {
        "flatten" => {
            let mut c = Fields::with_spec(config, &FLATTEN, what, diags)?;
            let separator = match c.get("separator") {
                // Empty joins the keys as they are (`a` and `b` give `ab`), as in faucet-stream.
                Some(n) => plain_string(n, "separator", diags)?,
                None => "__".to_owned(),
            };
            c.finish(diags);
            Some(Transform::Flatten { separator })
        }
        "rename_keys" => {
            let mut c = Fields::with_spec(config, &RENAME_KEYS, what, diags)?;
            let pattern = c.require("pattern", diags).and_then(|n| {
                let p = plain_string(n, "pattern", diags)?;
                match regex::Regex::new(&p) {
                    Ok(compiled) => Some((p, compiled)),
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
            let replacement = c
                .require("replacement", diags)
                .and_then(|n| Some((plain_string(n, "replacement", diags)?, n.loc.clone())));
            c.finish(diags);
            let ((pattern, compiled), (replacement, loc)) = (pattern?, replacement?);
            replacement_ok(&compiled, &replacement, &loc, diags)?;
            Some(Transform::RenameKeys { pattern, replacement })
        }
        "snake_case" => {
            Fields::with_spec(config, &SNAKE_CASE, what, diags)?.finish(diags);
            Some(Transform::KeysCase(CaseMode::SnakeCase))
        }
        "keys_case" => {
            let mut c = Fields::with_spec(config, &KEYS_CASE, what, diags)?;
            let mode = c.require("mode", diags).and_then(|n| one_of(n, "mode", KEYS_CASE_MODES, diags));
            c.finish(diags);
            Some(Transform::KeysCase(match mode? {
                "camel" => CaseMode::Camel,
                "pascal" => CaseMode::Pascal,
                "kebab" => CaseMode::Kebab,
                "screaming_snake" => CaseMode::ScreamingSnake,
                "dot" => CaseMode::Dot,
                _ => CaseMode::Snake,
            }))
        }
        "custom" => {
            let mut c = Fields::with_spec(config, &CUSTOM, what, diags)?;
            let function = c.require("function", diags).and_then(|n| {
                let p = plain_string(n, "function", diags)?;
                match function_path(&p) {
                    Ok(path) => Some((path, n.loc.clone())),
                    Err(problem) => {
                        diags.error_help(
                            &n.loc,
                            format!("`function` {p:?} {problem}"),
                            "name a function such as `my_crate::transforms::clean`",
                        );
                        None
                    }
                }
            });
            c.finish(diags);
            let (function, loc) = function?;
            let output = match output {
                Some(declared) => Some(declared?),
                None => None,
            };
            Some(Transform::Custom { function, loc, output })
        }
        "cdc_unwrap" => cdc_unwrap(config, what, diags),
        "filter" => rows::filter(config, what, diags),
        "explode" => rows::explode(config, what, diags),
        "unpivot" => rows::unpivot(config, what, diags),
        "select" => fields::select(config, what, diags),
        "drop" => fields::drop(config, what, diags),
        "set" => fields::set(config, what, diags),
        "rename_field" => fields::rename_field(config, what, diags),
        "cast" => fields::cast(config, what, diags),
        "coalesce" => fields::coalesce(config, what, diags),
        "redact" => values::redact(config, what, diags),
        "value_case" => values::value_case(config, what, diags),
        "hash" => values::hash(config, what, diags),
        "json_parse" => values::json_parse(config, what, diags),
        "json_encode" => values::json_encode(config, what, diags),
        "split" => values::split(config, what, diags),
        "join" => values::join(config, what, diags),
        "lookup" => lookup::lookup(config, what, diags),
        other if crate::upstream::TRANSFORMS.contains(&other) => {
            diags.error_help(
                &kind_node.loc,
                format!("the `{other}` transform is not supported by faucet yet"),
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

/// Checks a `rename_keys` replacement against its pattern: every group it
/// refers to exists (`$1_id` names a group `1_id`, which the regex crate would
/// silently expand to nothing), and it does not make keys empty where that
/// is known without seeing them (an empty replacement with a pattern that
/// matches whole keys). Keys the schema names are checked in the schema flow;
/// any other key that becomes empty is an error at run time.
fn replacement_ok(
    pattern: &regex::Regex,
    replacement: &str,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Option<()> {
    if let Err(bad) = faucet_keys::check_replacement(pattern, replacement) {
        diags.error_help(loc, format!("`replacement`: {bad}"), bad.help());
        return None;
    }
    if replacement.is_empty() {
        let emptied = if matches_whole_keys(pattern.as_str()) {
            Some(
                "every key it matches empty: the pattern is anchored at both ends, so it matches whole keys"
                    .to_owned(),
            )
        } else {
            // Keys of letters, digits and `_`: if the pattern erases each, it erases most keys.
            const PROBES: [&str; 4] = ["id", "Name", "user_id", "col2"];
            PROBES
                .iter()
                .all(|k| faucet_keys::rename(pattern, "", k).as_deref() == Some(""))
                .then(|| format!("keys such as `{}` and `{}` empty", PROBES[0], PROBES[2]))
        };
        if let Some(which) = emptied {
            diags.error_help(
                loc,
                format!("`rename_keys` with an empty `replacement` would make {which}"),
                "a key cannot be empty: write the new name in `replacement`, or narrow the pattern to the part of the key to remove (`^user_`)",
            );
            return None;
        }
    }
    Some(())
}

/// Whether every match of `pattern` is a whole key: it is anchored at both
/// the start (`^`, `\A`) and the end (`$`, `\z`) of the text.
fn matches_whole_keys(pattern: &str) -> bool {
    use regex_syntax::hir::Look;
    regex_syntax::parse(pattern).is_ok_and(|hir| {
        let props = hir.properties();
        props.look_set_prefix().contains(Look::Start) && props.look_set_suffix().contains(Look::End)
    })
}

/// A custom transform's function as the path generated code writes in an
/// expression: generic arguments take the turbofish (`f<T>` → `f::<T>`), and
/// `gen`, a keyword since edition 2024, is written raw (`r#gen`) so the code
/// compiles in every edition. Anything that is not a plain path is refused,
/// and so is deep nesting, before syn's recursive parser sees it.
pub(crate) fn function_path(text: &str) -> Result<String, &'static str> {
    if crate::read::bracket_depth(text) > crate::read::MAX_BRACKET_DEPTH {
        return Err("nests its generic arguments too deeply");
    }
    let mut path = syn::parse_str::<syn::Path>(text).map_err(|_| "is not a Rust path")?;
    for segment in &mut path.segments {
        match &mut segment.arguments {
            syn::PathArguments::None => {}
            syn::PathArguments::AngleBracketed(args) => {
                let plain = args.args.iter().all(|a| {
                    matches!(
                        a,
                        syn::GenericArgument::Type(_)
                            | syn::GenericArgument::Lifetime(_)
                            | syn::GenericArgument::Const(_)
                    )
                });
                if !plain {
                    return Err("has generic arguments a function path cannot take");
                }
                args.colon2_token = Some(Default::default());
            }
            syn::PathArguments::Parenthesized(_) => return Err("is a `Fn(…)` bound, not a function path"),
        }
    }
    Ok(raw_gen(quote::quote!(#path)).to_string())
}

/// `tokens` with every identifier `gen` written `r#gen`.
fn raw_gen(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, Ident, TokenTree};
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Ident(i) if i == "gen" => TokenTree::Ident(Ident::new_raw("gen", i.span())),
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), raw_gen(g.stream()));
                inner.set_span(g.span());
                TokenTree::Group(inner)
            }
            other => other,
        })
        .collect()
}

static CDC_UNWRAP: Spec = Spec {
    name: "transform.cdc_unwrap",
    doc: "Change records into rows: `after` for inserts, updates and snapshot reads; `before` plus a marker for deletes.",
    fields: &[
        Field::opt("op_field", Kind::Str, "The field holding the operation.").default("\"op\""),
        Field::opt("after_field", Kind::Str, "The field holding the new row.").default("\"after\""),
        Field::opt("before_field", Kind::Str, "The field holding the old key or row.").default("\"before\""),
        Field::opt("key_field", Kind::Str, "A field holding the key, for deletes without `before`."),
        Field::opt(
            "marker_field",
            Kind::Str,
            "Set to true on delete rows (the sink's `delete_marker.field`).",
        )
        .default("\"_deleted\""),
        Field::opt("delete_ops", Kind::List(&Kind::Str), "Ops that delete.").default("[\"delete\"]"),
        Field::opt("drop_ops", Kind::List(&Kind::Str), "Ops whose records are dropped (e.g. `truncate`).")
            .default("[]"),
        Field::not_yet("on_missing_image"),
        Field::not_yet("key"),
        Field::not_yet("on_partial_row"),
    ],
    variants: &[],
};

/// `cdc_unwrap`: field names and op lists, each a non-empty name.
fn cdc_unwrap(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &CDC_UNWRAP, what, diags)?;
    let name =
        |c: &mut Fields<'_>, key: &'static str, default: &str, diags: &mut Diagnostics| match c.get(key) {
            Some(n) => plain_string(n, key, diags).filter(|s| {
                if s.is_empty() {
                    diags.error(&n.loc, format!("`{key}` is empty"));
                }
                !s.is_empty()
            }),
            None => Some(default.to_owned()),
        };
    let op_field = name(&mut c, "op_field", "op", diags);
    let after_field = name(&mut c, "after_field", "after", diags);
    let before_field = name(&mut c, "before_field", "before", diags);
    let key_field = match c.get("key_field") {
        Some(n) => plain_string(n, "key_field", diags).map(Some),
        None => Some(None),
    };
    let marker_field = name(&mut c, "marker_field", "_deleted", diags);
    let ops =
        |c: &mut Fields<'_>, key: &'static str, default: &[&str], diags: &mut Diagnostics| match c.get(key) {
            Some(n) => match &n.value {
                Value::Seq(items) => {
                    items.iter().map(|i| plain_string(i, key, diags)).collect::<Option<Vec<String>>>()
                }
                _ => {
                    diags.error_help(
                        &n.loc,
                        format!("`{key}` must be a list of ops"),
                        format!("write e.g. `{key}: [truncate]`"),
                    );
                    None
                }
            },
            None => Some(default.iter().map(|s| (*s).to_owned()).collect()),
        };
    let delete_ops = ops(&mut c, "delete_ops", &["delete"], diags);
    let drop_ops = ops(&mut c, "drop_ops", &[], diags);
    c.finish(diags);
    let (delete_ops, drop_ops) = (delete_ops?, drop_ops?);
    if let Some(op) = delete_ops.iter().find(|op| drop_ops.contains(op)) {
        diags.error_help(
            &config.loc,
            format!("op `{op}` is in both `delete_ops` and `drop_ops`"),
            "a record is either turned into a delete or dropped: keep it in one list",
        );
        return None;
    }
    Some(Transform::CdcUnwrap {
        op_field: op_field?,
        after_field: after_field?,
        before_field: before_field?,
        key_field: key_field?,
        marker_field: marker_field?,
        delete_ops,
        drop_ops,
    })
}

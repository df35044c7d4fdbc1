//! Validation: a located [`Node`] tree into the typed [`ir::Pipeline`],
//! collecting every diagnostic rather than stopping at the first.

mod connectors;
pub(crate) mod fields;
mod matrix;
mod transforms;
mod vars;

use crate::diag::Diagnostics;
use crate::ir::{self, OnParseError};
use crate::load::{Node, Value};
use fields::{Fields, int_in, one_of, plain_string, text};

/// Top-level keys of faucet-stream's grammar that faucet does not support yet.
const NOT_YET_TOP: &[&str] = &[
    "params",
    "auth",
    "selection",
    "observability",
    "delivery",
    "resilience",
    "sla",
    "shard",
    "replication",
    "backfill",
    "partition",
    "reconcile",
    "metadata_columns",
];

/// Validates a whole pipeline definition. `default_name` (a file's stem) is
/// used when the definition has no `name:`.
pub fn validate(root: &Node, default_name: Option<&str>) -> Result<ir::Definition, Diagnostics> {
    let mut diags = Diagnostics::new();
    let pipeline = validate_root(root, default_name, &mut diags);
    match pipeline {
        Some(p) if diags.is_empty() => Ok(p),
        _ => Err(diags),
    }
}

fn validate_root(root: &Node, default_name: Option<&str>, diags: &mut Diagnostics) -> Option<ir::Definition> {
    let root = vars::apply(root, diags)?;
    let mut top = Fields::new(&root, "the pipeline definition", diags)?;
    if let Some(v) = top.get("version") {
        int_in(v, "version", 1, 1, diags);
    }
    let name = match top.get("name") {
        Some(node) => pipeline_name(node, diags),
        None => match default_name {
            Some(stem) => Some(stem.to_owned()),
            None => {
                diags.error_help(
                    &root.loc,
                    "an inline pipeline needs a `name`",
                    "add `name: orders` (it names the generated module)",
                );
                None
            }
        },
    };
    top.entry("vars");
    let rows = top.get("matrix").filter(|n| !matches!(&n.value, Value::Seq(items) if items.is_empty()));
    let execution = top.entry("execution");
    top.not_yet(NOT_YET_TOP, diags);
    let pipeline_node = top.require("pipeline", diags);
    top.finish(diags);
    let base = matrix::read_base(pipeline_node?, diags)?;
    let name = name?;
    let module = module_name(&name);
    match rows {
        Some(rows) => {
            let execution = execution.map(|e| &e.value).filter(|n| !matches!(n.value, Value::Null));
            matrix::validate(rows, execution, &base, &name, &module, diags).map(ir::Definition::Matrix)
        }
        None => {
            if let Some(e) = execution {
                diags.error_help(
                    &e.key_loc,
                    "`execution` only applies to a `matrix`",
                    "remove it, or add `matrix:` rows",
                );
            }
            let merged = matrix::single(&base, diags)?;
            let (source, transforms, sink, state, dlq) = validate_pipeline(&merged, diags)?;
            Some(ir::Definition::Single(Box::new(ir::Pipeline {
                name,
                module,
                source,
                transforms,
                sink,
                state,
                dlq,
            })))
        }
    }
}

type Body = (ir::Source, Vec<ir::Transform>, ir::Sink, ir::State, Option<ir::Dlq>);

/// Validates one pipeline's parts (`source`, `transforms`, `sink`, `state`, `dlq`).
/// Parent references are accepted only in source and sink configs.
pub(crate) fn validate_pipeline(node: &Node, diags: &mut Diagnostics) -> Option<Body> {
    let mut p = Fields::new(node, "`pipeline`", diags)?;
    let source = p.require("source", diags).and_then(|n| connectors::source(n, diags));
    let transforms = match p.get("transforms") {
        Some(n) => fields::without_tokens(|| transforms::transforms(n, diags)),
        None => Some(Vec::new()),
    };
    let sink = p.require("sink", diags).and_then(|n| connectors::sink(n, "the sink", diags));
    let state = match p.get("state") {
        Some(n) => fields::without_tokens(|| state(n, diags)),
        None => Some(ir::State::None),
    };
    let dlq_entry = p.entry("dlq");
    let dlq = match dlq_entry.filter(|e| !matches!(e.value.value, Value::Null)) {
        Some(e) => fields::without_tokens(|| dlq(&e.value, diags)).map(Some),
        None => Some(None),
    };
    p.finish(diags);
    let source = source?;
    let dlq = dlq?;
    if dlq.is_none() && source.kind.on_parse_error() == OnParseError::Dlq {
        diags.error_help(
            &source.loc,
            format!("`{key}: dlq` needs a dead-letter queue, but this pipeline has no `dlq:`", key = source.kind.on_parse_error_key()),
            format!(
                "add `dlq: {{ sink: {{ type: jsonl, config: {{ path: … }} }} }}` to `pipeline`, or use `{key}: skip`",
                key = source.kind.on_parse_error_key()
            ),
        );
    }
    Some((source, transforms?, sink?, state?, dlq))
}

fn state(node: &Node, diags: &mut Diagnostics) -> Option<ir::State> {
    let mut f = Fields::new(node, "`state`", diags)?;
    let kind = f.require("type", diags).and_then(|n| one_of_or_later(n, diags));
    let config = f.get("config");
    f.finish(diags);
    match kind? {
        "memory" => {
            if let Some(c) = config {
                Fields::new(c, "the `memory` state config", diags)?.finish(diags);
            }
            Some(ir::State::Memory)
        }
        "file" => {
            let Some(c) = config else {
                diags.error_help(
                    &node.loc,
                    "the `file` state store needs a `config` with `path`",
                    "add `config: { path: .faucet/state }`",
                );
                return None;
            };
            let mut c = Fields::new(c, "the `file` state config", diags)?;
            let path = c.require("path", diags).and_then(|n| text(n, "path", diags));
            c.not_yet(&["encryption"], diags);
            c.finish(diags);
            Some(ir::State::File { path: path? })
        }
        "postgres" => crate::connectors::postgres::state(node, config, diags).map(ir::State::Postgres),
        "redis" => crate::connectors::redis::state(node, config, diags).map(ir::State::Redis),
        _ => None,
    }
}

fn one_of_or_later(node: &Node, diags: &mut Diagnostics) -> Option<&'static str> {
    one_of(node, "type", &["memory", "file", "postgres", "redis"], diags)
}

fn dlq(node: &Node, diags: &mut Diagnostics) -> Option<ir::Dlq> {
    let mut f = Fields::new(node, "`dlq`", diags)?;
    let sink = f.require("sink", diags).and_then(|n| connectors::sink(n, "the dead-letter sink", diags));
    let on_batch_error = match f.get("on_batch_error") {
        Some(n) => one_of(n, "on_batch_error", &["propagate", "dlq_all"], diags).map(|v| match v {
            "dlq_all" => ir::OnBatchError::DlqAll,
            _ => ir::OnBatchError::Propagate,
        }),
        None => Some(ir::OnBatchError::Propagate),
    };
    let per_page =
        f.get("max_failures_per_page").map(|n| int_in(n, "max_failures_per_page", 0, i64::MAX, diags));
    let total = f.get("max_failures_total").map(|n| int_in(n, "max_failures_total", 0, i64::MAX, diags));
    if let Some(n) = f.get("include_original_payload") {
        match &n.value {
            Value::Bool(true) => {}
            _ => diags.error_help(
                &n.loc,
                "`include_original_payload` can only be `true`",
                "every envelope carries the failed record as `payload`",
            ),
        }
    }
    f.finish(diags);
    Some(ir::Dlq {
        sink: sink?,
        on_batch_error: on_batch_error?,
        max_failures_per_page: flatten_opt(per_page)?,
        max_failures_total: flatten_opt(total)?,
    })
}

/// `None` → `Some(None)`; `Some(Some(v))` → `Some(Some(v))`; `Some(None)` (invalid) → `None`.
fn flatten_opt(v: Option<Option<i64>>) -> Option<Option<u64>> {
    match v {
        None => Some(None),
        Some(Some(v)) => Some(Some(v as u64)),
        Some(None) => None,
    }
}

fn pipeline_name(node: &Node, diags: &mut Diagnostics) -> Option<String> {
    let name = plain_string(node, "name", diags)?;
    let valid = !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        diags.error_help(
            &node.loc,
            format!("invalid pipeline name {name:?}"),
            "use letters, digits, `_` and `-`, starting with a letter: it names the generated module",
        );
        return None;
    }
    if syn::parse_str::<syn::Ident>(&module_name(&name)).is_err() {
        diags.error_help(
            &node.loc,
            format!("the pipeline name {name:?} is a Rust keyword"),
            "pick another name",
        );
        return None;
    }
    Some(name)
}

/// The module a pipeline is generated into: its name with `-` as `_`.
pub(crate) fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

//! One pipeline's parts: `source`, `transforms`, `sink`, `state` and `dlq`.

use super::{connectors, transforms};
use crate::connectors::common::OnParseError;
use crate::connectors::{SINK_BLOCK, SOURCE_BLOCK};
use crate::diag::Diagnostics;
use crate::ir;
use crate::load::{Node, Value};
use crate::read::{Fields, boolean, int_in, one_of, text};
use crate::spec::{Field, Kind, Spec, Variant};

/// `pipeline:` (with `matrix:`, the template every row merges onto).
pub(crate) static PIPELINE: Spec = Spec {
    name: "pipeline",
    doc: "The pipeline: with `matrix:`, the base every row merges onto.",
    fields: &[
        Field::opt(
            "source",
            Kind::Object(&SOURCE_BLOCK),
            "Where records come from (the `default` source template).",
        ),
        Field::opt("sink", Kind::Object(&SINK_BLOCK), "Where records go (the `default` sink template)."),
        Field::opt(
            "sources",
            Kind::Map(&Kind::Object(&SOURCE_BLOCK)),
            "Named source templates for matrix rows' `ref`.",
        ),
        Field::opt(
            "sinks",
            Kind::Map(&Kind::Object(&SINK_BLOCK)),
            "Named sink templates for matrix rows' `ref`.",
        ),
        Field::opt(
            "transforms",
            Kind::List(&Kind::Object(&transforms::TRANSFORM)),
            "Applied to every record, in order.",
        ),
        Field::opt("state", Kind::Object(&STATE), "Where bookmarks are kept between runs."),
        Field::opt("dlq", Kind::Object(&DLQ), "The dead-letter queue for records the sink rejects."),
        Field::not_yet("quality"),
        Field::opt(
            "contract",
            Kind::Object(&crate::record_schema::contract::CONTRACT),
            "The promised shape of the records written, checked on every page before the sink write.",
        ),
        Field::not_yet("masking"),
        Field::not_yet("schema"),
        Field::not_yet("nodes"),
        Field::not_yet("edges"),
    ],
    variants: &[],
};

static MEMORY_STATE: Spec =
    Spec { name: "state.memory", doc: "In-process bookmarks, lost at exit.", fields: &[], variants: &[] };

static FILE_STATE: Spec = Spec {
    name: "state.file",
    doc: "One JSON file per key in a directory.",
    fields: &[
        Field::req("path", Kind::Text, "The directory (created if missing)."),
        Field::not_yet("encryption"),
    ],
    variants: &[],
};

/// `state:`.
pub(crate) static STATE: Spec = Spec {
    name: "state",
    doc: "A state store: a `type` and its `config`.",
    fields: &[
        Field::req("type", Kind::OneOf(&["memory", "file", "postgres", "redis"]), "The store."),
        Field::opt("config", Kind::Json, "The store's settings."),
    ],
    variants: &[
        Variant { tag: "memory", nested: true, spec: Some(&MEMORY_STATE) },
        Variant { tag: "file", nested: true, spec: Some(&FILE_STATE) },
        Variant {
            tag: "postgres",
            nested: true,
            spec: Some(&crate::connectors::state_stores::PostgresState::SPEC),
        },
        Variant {
            tag: "redis",
            nested: true,
            spec: Some(&crate::connectors::state_stores::RedisState::SPEC),
        },
    ],
};

/// `dlq:`.
pub(crate) static DLQ: Spec = Spec {
    name: "dlq",
    doc: "The dead-letter queue: records the sink rejects, wrapped in envelopes.",
    fields: &[
        Field::req("sink", Kind::Object(&SINK_BLOCK), "Any sink."),
        Field::opt(
            "on_batch_error",
            Kind::OneOf(&["propagate", "dlq_all"]),
            "A whole-batch failure fails the run, or sends every record of the batch to the queue.",
        )
        .default("\"propagate\""),
        Field::opt(
            "max_failures_per_page",
            Kind::Int(0, i64::MAX),
            "Fail the run when a page has more failures.",
        ),
        Field::opt("max_failures_total", Kind::Int(0, i64::MAX), "Fail the run when it has more failures."),
        Field::opt("include_original_payload", Kind::Bool, "Only `true`: every envelope carries the record.")
            .default("true"),
        Field::opt(
            "allow_duplicates_on_dlq_all",
            Kind::Bool,
            "faucet-stream's consent to duplicates under `dlq_all`. Accepted and not needed: faucet dead-letters only the batch the sink failed, never rows it wrote.",
        )
        .default("false"),
    ],
    variants: &[],
};

/// Validates one pipeline's parts (`source`, `transforms`, `sink`, `state`,
/// `dlq`, `contract`), then the fields they name against the schemas known
/// at build time. Parent references are accepted only in source and sink configs.
pub(crate) fn validate_pipeline(
    node: &Node,
    name: &str,
    module: &str,
    diags: &mut Diagnostics,
) -> Option<ir::Pipeline> {
    let mut p = Fields::new(node, "`pipeline`", diags)?;
    let source = p.require("source", diags).and_then(|n| connectors::source_block(n, diags));
    let transforms = match p.get("transforms") {
        Some(n) => crate::read::without_tokens(|| transforms::transforms(n, diags)),
        None => Some(Vec::new()),
    };
    let sink = p.require("sink", diags).and_then(|n| connectors::sink_block(n, "the sink", diags));
    let state = match p.get("state") {
        Some(n) => crate::read::without_tokens(|| state(n, diags)),
        None => Some(ir::State::None),
    };
    let dlq_entry = p.entry("dlq");
    let dlq = match dlq_entry.filter(|e| !matches!(e.value.value, Value::Null)) {
        Some(e) => crate::read::without_tokens(|| dlq(&e.value, diags)).map(Some),
        None => Some(None),
    };
    let contract_node = p.get("contract");
    p.finish(diags);
    let source = source?;
    let dlq = dlq?;
    let contract = match contract_node {
        Some(n) => Some(crate::read::without_tokens(|| {
            crate::record_schema::contract::read(n, dlq.is_some(), diags)
        })?),
        None => None,
    };
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
    let mut pipeline = ir::Pipeline {
        name: name.to_owned(),
        module: module.to_owned(),
        source,
        transforms: transforms?,
        sink: sink?,
        state: state?,
        dlq,
        contract,
        schemas: ir::Schemas::default(),
        observability: ir::Observability::default(),
        secret_env: Box::default(),
        sharding: None,
    };
    pipeline.schemas = crate::record_schema::check::pipeline(node, &pipeline, diags);
    Some(pipeline)
}

fn state(node: &Node, diags: &mut Diagnostics) -> Option<ir::State> {
    let mut f = Fields::with_spec(node, &STATE, "`state`", diags)?;
    let kind = f.require("type", diags).and_then(|n| one_of_or_later(n, diags));
    let config = f.get("config");
    f.finish(diags);
    match kind? {
        "memory" => {
            if let Some(c) = config {
                Fields::with_spec(c, &MEMORY_STATE, "the `memory` state config", diags)?.finish(diags);
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
            let mut c = Fields::with_spec(c, &FILE_STATE, "the `file` state config", diags)?;
            let path = c.require("path", diags).and_then(|n| text(n, "path", diags));
            c.finish(diags);
            Some(ir::State::File { path: path? })
        }
        "postgres" => crate::connectors::state_stores::postgres(node, config, diags).map(ir::State::Postgres),
        "redis" => crate::connectors::state_stores::redis(node, config, diags).map(ir::State::Redis),
        _ => None,
    }
}

fn one_of_or_later(node: &Node, diags: &mut Diagnostics) -> Option<&'static str> {
    one_of(node, "type", &["memory", "file", "postgres", "redis"], diags)
}

fn dlq(node: &Node, diags: &mut Diagnostics) -> Option<ir::Dlq> {
    let mut f = Fields::with_spec(node, &DLQ, "`dlq`", diags)?;
    let sink =
        f.require("sink", diags).and_then(|n| connectors::sink_block(n, "the dead-letter sink", diags));
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
    if let Some(n) = f.get("allow_duplicates_on_dlq_all") {
        boolean(n, "allow_duplicates_on_dlq_all", diags);
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

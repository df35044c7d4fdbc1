//! Validation: a located [`Node`] tree into the typed [`ir::Pipeline`],
//! collecting every diagnostic rather than stopping at the first.

mod connectors;
mod matrix;
mod transforms;
mod vars;

use crate::connectors::common::OnParseError;
use crate::connectors::{SINK_BLOCK, SOURCE_BLOCK};
use crate::diag::Diagnostics;
use crate::ir::{self};
use crate::load::{Node, Value};
use crate::read::{Fields, int_in, one_of, plain_string, text};
use crate::spec::{Field, Kind, Spec, Variant};

/// The whole pipeline definition: the root of the JSON Schema.
pub(crate) static TOP: Spec = Spec {
    name: "definition",
    doc: "A faucet pipeline definition (faucet-stream's grammar).",
    fields: &[
        Field::opt("version", Kind::Int(1, 1), "The grammar version.").default("1"),
        Field::opt(
            "name",
            Kind::Str,
            "The pipeline's name (letters, digits, `_`, `-`, not a Rust keyword); it names the generated module. Default: the file's stem.",
        ),
        Field::opt(
            "vars",
            Kind::Map(&Kind::Scalar),
            "Values substituted as `${vars.name}` into every string.",
        ),
        Field::opt(
            "matrix",
            Kind::List(&Kind::Object(&matrix::ROW)),
            "Rows: one pipeline invocation each, merged onto `pipeline`.",
        ),
        Field::opt("execution", Kind::Object(&matrix::EXECUTION), "How matrix rows run."),
        Field::opt(
            "observability",
            Kind::Object(&OBSERVABILITY),
            "What the generated `main()` installs: a Prometheus exporter and a tracing subscriber.",
        ),
        Field::not_yet("params"),
        Field::not_yet("auth"),
        Field::not_yet("selection"),
        Field::not_yet("delivery"),
        Field::not_yet("resilience"),
        Field::not_yet("sla"),
        Field::not_yet("shard"),
        Field::not_yet("replication"),
        Field::not_yet("backfill"),
        Field::not_yet("partition"),
        Field::not_yet("reconcile"),
        Field::not_yet("metadata_columns"),
        Field::req(
            "pipeline",
            Kind::Object(&PIPELINE),
            "The source, transforms, sink, state and dead-letter queue.",
        ),
    ],
    variants: &[],
};

/// The tracing levels `observability.tracing.level` accepts.
const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];

static PROMETHEUS: Spec = Spec {
    name: "observability.prometheus",
    doc: "A Prometheus scrape endpoint (`/metrics`), served while the generated `main()` runs.",
    fields: &[
        Field::req(
            "listen",
            Kind::Text,
            "The socket address to listen on, e.g. `127.0.0.1:9000` (`${env:…}` is read at start).",
        ),
        Field::opt(
            "buckets",
            Kind::List(&Kind::Number(0.0, f64::INFINITY)),
            "Histogram buckets in seconds, increasing (default: the exporter's).",
        ),
    ],
    variants: &[],
};

static TRACING: Spec = Spec {
    name: "observability.tracing",
    doc: "A `tracing` subscriber printing to stderr.",
    fields: &[Field::opt("level", Kind::OneOf(LEVELS), "The most verbose level printed.").default("\"info\"")],
    variants: &[],
};

/// `observability:`.
pub(crate) static OBSERVABILITY: Spec = Spec {
    name: "observability",
    doc: "What the generated `main()` installs; `run()` / `run_with()` install nothing, so a library user keeps control.",
    fields: &[
        Field::opt("prometheus", Kind::Object(&PROMETHEUS), "A Prometheus scrape endpoint."),
        Field::opt("tracing", Kind::Object(&TRACING), "A tracing subscriber on stderr."),
        Field::not_yet("otel"),
    ],
    variants: &[],
};

/// Validates `observability:`.
fn observability(
    node: &Node,
    key_loc: &crate::diag::Loc,
    diags: &mut Diagnostics,
) -> Option<ir::Observability> {
    let mut f = Fields::with_spec(node, &OBSERVABILITY, "`observability`", diags)?;
    let prometheus = f.get("prometheus").map(|n| {
        let mut p = Fields::with_spec(n, &PROMETHEUS, "`observability.prometheus`", diags)?;
        let listen = p.require("listen", diags).and_then(|n| {
            let t = text(n, "listen", diags)?;
            if let Some(lit) = t.as_literal()
                && let Err(e) = lit.parse::<std::net::SocketAddr>()
            {
                diags.error_help(
                    &n.loc,
                    format!("`listen` {lit:?} is not a socket address: {e}"),
                    "write an IP address and a port, e.g. `127.0.0.1:9000` (or `0.0.0.0:9000` for every interface)",
                );
                return None;
            }
            Some(t)
        });
        let buckets = p.get("buckets").map(|n| buckets(n, diags));
        p.finish(diags);
        Some((listen?, flatten_opt_vec(buckets)?))
    });
    let level = f.get("tracing").map(|n| {
        let mut t = Fields::with_spec(n, &TRACING, "`observability.tracing`", diags)?;
        let level = t.get("level").map(|n| one_of(n, "level", LEVELS, diags));
        t.finish(diags);
        match level {
            Some(l) => l.map(Some),
            None => Some(None),
        }
    });
    f.finish(diags);
    let (listen, buckets) = match prometheus {
        Some(p) => {
            let (listen, buckets) = p?;
            (Some(listen), buckets)
        }
        None => (None, None),
    };
    let level = match level {
        Some(l) => l?,
        None => None,
    };
    Some(ir::Observability {
        loc: Some(key_loc.clone()),
        prometheus_listen: listen,
        prometheus_buckets: buckets,
        tracing_level: level,
    })
}

fn flatten_opt_vec(v: Option<Option<Vec<f64>>>) -> Option<Option<Vec<f64>>> {
    match v {
        None => Some(None),
        Some(Some(v)) => Some(Some(v)),
        Some(None) => None,
    }
}

/// Histogram buckets: a non-empty, increasing list of non-negative seconds.
fn buckets(node: &Node, diags: &mut Diagnostics) -> Option<Vec<f64>> {
    let help = "write increasing numbers of seconds, e.g. `[0.005, 0.05, 0.5, 5]`";
    let Value::Seq(items) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`buckets` must be a list, found {}", node.value.kind_name()),
            help,
        );
        return None;
    };
    let mut out: Vec<f64> = Vec::with_capacity(items.len());
    for item in items {
        let v = match item.value {
            Value::Int(i) if i >= 0 => i as f64,
            Value::Float(x) if x.is_finite() && x >= 0.0 => x,
            _ => {
                diags.error_help(&item.loc, "a bucket must be a non-negative number of seconds", help);
                return None;
            }
        };
        if out.last().is_some_and(|last| *last >= v) {
            diags.error_help(&item.loc, "`buckets` must be increasing", help);
            return None;
        }
        out.push(v);
    }
    if out.is_empty() {
        diags.error_help(&node.loc, "`buckets` is empty", help);
        return None;
    }
    Some(out)
}

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
        Field::not_yet("contract"),
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
        Variant { tag: "postgres", nested: true, spec: Some(&crate::connectors::postgres::STATE) },
        Variant { tag: "redis", nested: true, spec: Some(&crate::connectors::redis::STATE) },
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
    ],
    variants: &[],
};

/// Validates a whole pipeline definition. `default_name` (a file's stem) is
/// used when the definition has no `name:`.
pub fn validate(root: &Node, default_name: Option<&str>) -> Result<ir::Definition, Diagnostics> {
    let mut diags = Diagnostics::new();
    let (mut pipeline, secret_env) =
        crate::secrets::collecting(|| validate_root(root, default_name, &mut diags));
    match &mut pipeline {
        Some(ir::Definition::Single(p)) => *p.secret_env = secret_env,
        Some(ir::Definition::Matrix(m)) => *m.secret_env = secret_env,
        None => {}
    }
    match pipeline {
        Some(p) if diags.is_empty() => Ok(p),
        _ => Err(diags),
    }
}

fn validate_root(root: &Node, default_name: Option<&str>, diags: &mut Diagnostics) -> Option<ir::Definition> {
    let root = vars::apply(root, diags)?;
    let mut top = Fields::with_spec(&root, &TOP, "the pipeline definition", diags)?;
    if let Some(v) = top.get("version") {
        int_in(v, "version", 1, 1, diags);
    }
    let name = match top.get("name") {
        Some(node) => pipeline_name(node, diags),
        None => match default_name {
            Some(stem) => name_from_stem(stem, &root, diags),
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
    let observability = match top.entry("observability").filter(|e| !matches!(e.value.value, Value::Null)) {
        Some(e) => observability(&e.value, &e.key_loc, diags),
        None => Some(ir::Observability::default()),
    };
    top.report_not_yet(diags);
    let pipeline_node = top.require("pipeline", diags);
    top.finish(diags);
    let base = matrix::read_base(pipeline_node?, diags)?;
    let name = name?;
    let module = module_name(&name);
    let definition = match rows {
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
                observability: ir::Observability::default(),
                secret_env: Box::default(),
            })))
        }
    };
    let (mut definition, observability) = (definition?, observability?);
    match &mut definition {
        ir::Definition::Single(p) => p.observability = observability,
        ir::Definition::Matrix(m) => m.observability = observability,
    }
    Some(definition)
}

type Body = (ir::Source, Vec<ir::Transform>, ir::Sink, ir::State, Option<ir::Dlq>);

/// Validates one pipeline's parts (`source`, `transforms`, `sink`, `state`, `dlq`).
/// Parent references are accepted only in source and sink configs.
pub(crate) fn validate_pipeline(node: &Node, diags: &mut Diagnostics) -> Option<Body> {
    let mut p = Fields::new(node, "`pipeline`", diags)?;
    let source = p.require("source", diags).and_then(|n| connectors::source(n, diags));
    let transforms = match p.get("transforms") {
        Some(n) => crate::read::without_tokens(|| transforms::transforms(n, diags)),
        None => Some(Vec::new()),
    };
    let sink = p.require("sink", diags).and_then(|n| connectors::sink(n, "the sink", diags));
    let state = match p.get("state") {
        Some(n) => crate::read::without_tokens(|| state(n, diags)),
        None => Some(ir::State::None),
    };
    let dlq_entry = p.entry("dlq");
    let dlq = match dlq_entry.filter(|e| !matches!(e.value.value, Value::Null)) {
        Some(e) => crate::read::without_tokens(|| dlq(&e.value, diags)).map(Some),
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
        "postgres" => crate::connectors::postgres::state(node, config, diags).map(ir::State::Postgres),
        "redis" => crate::connectors::redis::state(node, config, diags).map(ir::State::Redis),
        _ => None,
    }
}

fn one_of_or_later(node: &Node, diags: &mut Diagnostics) -> Option<&'static str> {
    one_of(node, "type", &["memory", "file", "postgres", "redis"], diags)
}

fn dlq(node: &Node, diags: &mut Diagnostics) -> Option<ir::Dlq> {
    let mut f = Fields::with_spec(node, &DLQ, "`dlq`", diags)?;
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
    if let Err(problem) = name_problem(&name) {
        diags.error_help(
            &node.loc,
            format!("invalid pipeline name {name:?}: {problem}"),
            "use letters, digits, `_` and `-`, starting with a letter: it names the generated module",
        );
        return None;
    }
    Some(name)
}

/// A file's stem as the pipeline's name when it has no `name:`; a stem that
/// cannot name a module (`2024.yaml`, `orders.v2.yaml`, `fn.yaml`) is an
/// error at the top of the file, suggesting a `name:` that can.
fn name_from_stem(stem: &str, root: &Node, diags: &mut Diagnostics) -> Option<String> {
    let Err(problem) = name_problem(stem) else { return Some(stem.to_owned()) };
    let mut suggestion: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if !suggestion.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        suggestion.insert_str(0, "pipeline_");
    }
    if name_problem(&suggestion).is_err() {
        suggestion.push_str("_pipeline");
    }
    let loc = match &root.loc {
        crate::diag::Loc::File { file, .. } => {
            crate::diag::Loc::File { file: file.clone(), line: 1, col: 1, len: 1 }
        }
        other => other.clone(),
    };
    diags.error_help(
        &loc,
        format!("this file has no `name:`, and its file name {stem:?} cannot name the pipeline: {problem}"),
        format!("add `name: {suggestion}` (it names the generated module)"),
    );
    None
}

/// Why `name` cannot name a pipeline (and its generated module), if it cannot.
fn name_problem(name: &str) -> Result<(), &'static str> {
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err("it must start with a letter");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err("it may only hold letters, digits, `_` and `-`");
    }
    if !is_identifier(&module_name(name)) {
        return Err("it is a Rust keyword");
    }
    Ok(())
}

/// Whether `word` is a plain Rust identifier in every edition: not a keyword,
/// strict or reserved, so it can name an item in whatever crate includes the code.
pub(crate) fn is_identifier(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        // syn knows every keyword up to edition 2021; `gen` is reserved since 2024.
        && word != "gen"
        && syn::parse_str::<syn::Ident>(word).is_ok()
}

/// The module a pipeline is generated into: its name with `-` as `_`.
pub(crate) fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

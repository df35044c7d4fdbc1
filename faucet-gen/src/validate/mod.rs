//! Validation: a located [`Node`] tree into the typed [`ir::Pipeline`],
//! collecting every diagnostic rather than stopping at the first.

mod connectors;
mod matrix;
mod names;
mod observability;
mod pipeline;
mod shard;
mod transforms;
mod vars;

pub(crate) use names::{is_identifier, module_name};
use names::{name_from_stem, pipeline_name};
use observability::OBSERVABILITY;
pub(crate) use pipeline::PIPELINE;
use pipeline::validate_pipeline;
pub(crate) use transforms::TRANSFORM;

use crate::diag::Diagnostics;
use crate::ir::{self};
use crate::load::{Node, Value};
use crate::read::{Fields, TextScope, int_in, with_scope};
use crate::spec::{Field, Kind, Spec};

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
        Field::opt(
            "execution",
            Kind::Object(&matrix::EXECUTION),
            "How matrix rows run (a pipeline without `matrix:` is one invocation, which it changes nothing for).",
        ),
        Field::opt(
            "shard",
            Kind::Object(&shard::SHARD),
            "Split the source into shards run side by side, in one process or many.",
        ),
        Field::opt(
            "observability",
            Kind::Object(&OBSERVABILITY),
            "What the generated `main()` installs: a Prometheus exporter and a tracing subscriber.",
        ),
        Field::not_yet("kind"),
        Field::not_yet("requires_faucet"),
        Field::not_yet("extends"),
        Field::not_yet("profiles"),
        Field::not_yet("params"),
        Field::not_yet("tests"),
        Field::not_yet("auth"),
        Field::not_yet("selection"),
        Field::not_yet("delivery"),
        Field::not_yet("resilience"),
        Field::not_yet("sla"),
        Field::not_yet("profiling"),
        Field::not_yet("policy"),
        Field::not_yet("usage"),
        Field::not_yet("budget"),
        Field::not_yet("reconcile"),
        Field::not_yet("verify"),
        Field::not_yet("rollback"),
        Field::not_yet("pool"),
        Field::not_yet("mirror"),
        Field::not_yet("replication"),
        Field::not_yet("backfill"),
        Field::not_yet("partition"),
        Field::not_yet("schedule"),
        Field::not_yet("lineage"),
        Field::not_yet("catalog"),
        Field::not_yet("notifications"),
        Field::not_yet("metadata_columns"),
        Field::not_yet("local_outputs"),
        Field::req(
            "pipeline",
            Kind::Object(&PIPELINE),
            "The source, transforms, sink, state and dead-letter queue.",
        ),
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
        _ => {
            diags.sort_by_place();
            Err(diags)
        }
    }
}

fn validate_root(root: &Node, default_name: Option<&str>, diags: &mut Diagnostics) -> Option<ir::Definition> {
    let mut root = vars::apply(root, diags)?;
    crate::read::unescape_keys(&mut root, diags);
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
    let shard_node = top.get("shard").filter(|n| !matches!(n.value, Value::Null));
    let observability = match top.entry("observability").filter(|e| !matches!(e.value.value, Value::Null)) {
        Some(e) => observability::observability(&e.value, &e.key_loc, diags),
        None => Some(ir::Observability::default()),
    };
    top.report_not_yet(diags);
    let supplied = crate::upstream::PIPELINE_SUPPLIERS.iter().any(|k| top.present(k));
    let pipeline_node = match supplied {
        true => top.get("pipeline"),
        false => top.require("pipeline", diags),
    };
    top.finish(diags);
    let base = matrix::read_base(pipeline_node?, diags)?;
    if supplied || base.topology {
        return None;
    }
    let name = name?;
    let module = module_name(&name);
    let execution = execution.map(|e| &e.value).filter(|n| !matches!(n.value, Value::Null));
    let definition = match rows {
        Some(rows) => {
            let sharding = match shard_node {
                Some(node) => Some(shard::read(node, matrix::read_execution(execution, diags), diags)?),
                None => None,
            };
            let matrix = matrix::validate(rows, execution, &base, &name, &module, diags);
            matrix.map(|m| ir::Definition::Matrix(Box::new(ir::Matrix { sharding, ..m })))
        }
        None => {
            // One unsharded pipeline is one invocation: `max_concurrent` and
            // `on_error` change nothing for it (as in faucet-stream), but are
            // checked; its shards run as invocations.
            let execution = matrix::read_execution(execution, diags);
            let sharding = match shard_node {
                Some(node) => Some(shard::read(node, execution, diags)?),
                None => None,
            };
            let merged = matrix::single(&base, diags)?;
            let scope = TextScope { sharded: sharding.is_some(), ..TextScope::default() };
            let pipeline = with_scope(scope, || validate_pipeline(&merged, &name, &module, diags))?;
            if let Some(sharding) = &sharding {
                shard::check_pipeline(&pipeline, sharding, diags);
            }
            Some(ir::Definition::Single(Box::new(ir::Pipeline { sharding, ..pipeline })))
        }
    };
    let (mut definition, observability) = (definition?, observability?);
    match &mut definition {
        ir::Definition::Single(p) => p.observability = observability,
        ir::Definition::Matrix(m) => m.observability = observability,
    }
    Some(definition)
}

//! Source and sink blocks: `{type, config}`, with the config checked by the
//! connector's own module in [`crate::connectors`].

use crate::connectors::{self, SINK_BLOCK, SINKS, SOURCE_BLOCK, SOURCES};
use crate::diag::{Diagnostics, help_for, list};
use crate::ir;
use crate::load::{Node, Value};
use crate::read::{Fields, plain_string};
use crate::record_schema::{RecordSchema, declared};
use crate::spec::Spec;

/// A block as read: the type node, its name, the config (an empty map when
/// absent), and the `record_schema` declared (sources only): `Some(None)`
/// when absent, `None` when invalid (reported).
type Block = (Node, String, Node, Option<Option<RecordSchema>>);

/// Reads `{type, config}` (and a source's `record_schema`).
fn spec(node: &Node, block: &'static Spec, what: &str, diags: &mut Diagnostics) -> Option<Block> {
    let mut f = Fields::with_spec(node, block, what.to_owned(), diags)?;
    let kind = f.require("type", diags);
    let config = f.get("config").cloned();
    let declared = match block.declares("record_schema").then(|| f.entry("record_schema")).flatten() {
        Some(e) if !matches!(e.value.value, Value::Null) => {
            declared::read(&e.value, &e.key_loc, diags).map(Some)
        }
        _ => Some(None),
    };
    f.finish(diags);
    let kind = kind?;
    let name = plain_string(kind, "type", diags)?;
    let config = config.unwrap_or_else(|| Node { value: Value::Map(Vec::new()), loc: node.loc.clone() });
    Some((kind.clone(), name, config, declared))
}

/// Validates the `source` block.
pub(crate) fn source_block(node: &Node, diags: &mut Diagnostics) -> Option<ir::Source> {
    let (kind_node, kind, config, declared) = spec(node, &SOURCE_BLOCK, "`source`", diags)?;
    match connectors::read_source(&kind, &config, diags) {
        Some(valid) => Some(ir::Source { loc: kind_node.loc, kind: valid?, declared: declared? }),
        None => {
            unknown_type(&kind_node, &kind, "source", SOURCES, crate::upstream::SOURCES, diags);
            None
        }
    }
}

/// Validates a sink block (the main sink or the DLQ's), described as `what`.
pub(crate) fn sink_block(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<ir::Sink> {
    let (kind_node, kind, config, _) =
        spec(node, &SINK_BLOCK, &format!("`{}`", what.trim_start_matches("the ")), diags)?;
    match connectors::read_sink(&kind, &config, diags) {
        Some(valid) => Some(ir::Sink { loc: kind_node.loc, kind: valid? }),
        None => {
            unknown_type(&kind_node, &kind, "sink", SINKS, crate::upstream::SINKS, diags);
            None
        }
    }
}

fn unknown_type(
    node: &Node,
    kind: &str,
    role: &str,
    known: &[&str],
    later: &[&str],
    diags: &mut Diagnostics,
) {
    if later.contains(&kind) {
        diags.error_help(
            &node.loc,
            format!("the `{kind}` {role} is not supported by faucet yet"),
            format!("supported {role} types: {}", list(known)),
        );
    } else {
        diags.error_help(&node.loc, format!("unknown {role} type `{kind}`"), help_for(kind, known));
    }
}

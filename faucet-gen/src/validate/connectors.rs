//! Source and sink blocks: `{type, config}`, with the config checked by the
//! connector's own module in [`crate::connectors`].

use crate::connectors::{self, LATER_SINKS, LATER_SOURCES, SINK_BLOCK, SINKS, SOURCE_BLOCK, SOURCES};
use crate::diag::{Diagnostics, help_for, list};
use crate::ir;
use crate::load::{Node, Value};
use crate::read::{Fields, plain_string};
use crate::spec::Spec;

/// Reads `{type, config}`: the type node, its name, and the config (an empty map when absent).
fn spec(
    node: &Node,
    block: &'static Spec,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<(Node, String, Node)> {
    let mut f = Fields::with_spec(node, block, what.to_owned(), diags)?;
    let kind = f.require("type", diags);
    let config = f.get("config").cloned();
    f.finish(diags);
    let kind = kind?;
    let name = plain_string(kind, "type", diags)?;
    let config = config.unwrap_or_else(|| Node { value: Value::Map(Vec::new()), loc: node.loc.clone() });
    Some((kind.clone(), name, config))
}

/// Validates the `source` block.
pub(crate) fn source_block(node: &Node, diags: &mut Diagnostics) -> Option<ir::Source> {
    let (kind_node, kind, config) = spec(node, &SOURCE_BLOCK, "`source`", diags)?;
    match connectors::SourceKind::read(&kind, &config, diags) {
        Some(valid) => Some(ir::Source { loc: kind_node.loc, kind: valid? }),
        None => {
            unknown_type(&kind_node, &kind, "source", SOURCES, LATER_SOURCES, diags);
            None
        }
    }
}

/// Validates a sink block (the main sink or the DLQ's), described as `what`.
pub(crate) fn sink_block(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<ir::Sink> {
    let (kind_node, kind, config) =
        spec(node, &SINK_BLOCK, &format!("`{}`", what.trim_start_matches("the ")), diags)?;
    match connectors::SinkKind::read(&kind, &config, diags) {
        Some(valid) => Some(ir::Sink { loc: kind_node.loc, kind: valid? }),
        None => {
            unknown_type(&kind_node, &kind, "sink", SINKS, LATER_SINKS, diags);
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
            format!("faucet does not support the `{kind}` {role} yet"),
            format!("supported {role} types: {}", list(known)),
        );
    } else {
        diags.error_help(&node.loc, format!("unknown {role} type `{kind}`"), help_for(kind, known));
    }
}

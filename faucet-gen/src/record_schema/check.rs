//! The schema pass of one pipeline: resolve what is known of its records,
//! follow them through the transforms, and check every field the config names.

use super::resolve;
use crate::diag::Diagnostics;
use crate::ir;
use crate::load::Node;

/// Resolves `pipeline`'s schemas and reports every field its config (`node`,
/// the merged `pipeline:` map) names that the flow does not produce.
///
/// For now only the database schemas are resolved (introspected, or read from
/// the cache); the flow and the field checks come with the declared schemas.
pub(crate) fn pipeline(node: &Node, pipeline: &ir::Pipeline, diags: &mut Diagnostics) -> ir::Schemas {
    let _ = node;
    let source = resolve::source_table(&pipeline.source, diags);
    let table = resolve::sink_table(&pipeline.sink, diags);
    ir::Schemas {
        source: source.map(|(table, origin)| table.records(origin)),
        output: None,
        table: table.map(|(table, _)| table),
    }
}

//! `shard: {count}` (faucet-stream's top-level key): the source split into
//! `count` shards, each an invocation of its own. What can be split, and
//! what a sharded pipeline's sink must do, is checked here; the runtime's
//! `shard` module says how the rows are divided.

use crate::diag::{Diagnostics, Loc, suggest};
use crate::ir::{self, SinkKind, SourceKind};
use crate::load::Node;
use crate::read::{Fields, int_in};
use crate::record_schema::{FieldType, RecordSchema};
use crate::spec::{Field, Kind, Spec};
use crate::text::{ShardValue, Text, TextPart};

/// The most shards (faucet-stream's bound).
const MAX_SHARDS: i64 = 4096;

/// The `shard:` block.
pub(crate) static SHARD: Spec = Spec {
    name: "shard",
    doc: "The source split into `count` shards, each run as its own invocation with its own bookmark: \
          in one process (at most `execution.max_concurrent` at once), or one per process with `--shard I` \
          or Kubernetes' `JOB_COMPLETION_INDEX` (see docs/scale-out.md).",
    fields: &[Field::req(
        "count",
        Kind::Int(1, MAX_SHARDS),
        "How many shards: SQL sources split ranges of their `shard.key` column, file and object-store \
         sources a hash of each object's key; a matrix assigns its root rows.",
    )],
    variants: &[],
};

/// Reads `shard:`: the count and where it was written.
/// `execution` gives how many run at once and what a failure does.
pub(super) fn read(
    node: &Node,
    execution: (Option<u64>, ir::OnError),
    diags: &mut Diagnostics,
) -> Option<ir::Sharding> {
    let mut f = Fields::with_spec(node, &SHARD, "`shard`", diags)?;
    let count = f.require("count", diags).and_then(|n| int_in(n, "count", 1, MAX_SHARDS, diags));
    f.finish(diags);
    Some(ir::Sharding {
        count: u32::try_from(count?).ok()?,
        max_concurrent: execution.0,
        on_error: execution.1,
    })
}

/// Checks that `p`'s source can be split and that its sink can take
/// shards writing at once, each a located error.
pub(super) fn check_pipeline(p: &ir::Pipeline, sharding: &ir::Sharding, diags: &mut Diagnostics) {
    check_source(&p.source, sharding, diags);
    if let (Some(key), Some(schema)) = (shard_key(&p.source.kind), p.schemas.source.as_ref()) {
        check_key(key, schema, &p.source.loc, diags);
    }
    check_sink(&p.sink, sharding, diags);
}

/// The `shard.key` of a SQL source.
fn shard_key(kind: &SourceKind) -> Option<&str> {
    let key = match kind {
        SourceKind::Postgres(p) => &p.shard.as_ref()?.0.key.0,
        SourceKind::MySql(m) => &m.shard.as_ref()?.0.key.0,
        SourceKind::Sqlite(s) => &s.shard.as_ref()?.0.key.0,
        _ => return None,
    };
    Some(key)
}

/// With the source's columns known at build time (introspected or
/// declared), the key must be one of them, and an integer.
fn check_key(key: &str, schema: &RecordSchema, loc: &Loc, diags: &mut Diagnostics) {
    match schema.field(key) {
        None => {
            let help = match suggest(key, schema.names()) {
                Some(near) => format!("did you mean `{near}`? the columns are {}", schema.names().join(", ")),
                None => format!("the columns are {}", schema.names().join(", ")),
            };
            diags.error_help(loc, format!("the shard key `{key}` is not a column of the source"), help);
        }
        Some(field) if field.ty != FieldType::Integer => diags.error_help(
            loc,
            format!("the shard key `{key}` is not an integer column (it is {})", field.ty.describe()),
            "shards read ranges of an integer key: name an integer column (the primary key, or another indexed one)",
        ),
        Some(_) => {}
    }
}

fn check_source(source: &ir::Source, sharding: &ir::Sharding, diags: &mut Diagnostics) {
    let cannot = |why: &str, help: &str, diags: &mut Diagnostics| {
        diags.error_help(
            &source.loc,
            format!(
                "this source cannot be split into shards (`shard: {{count: {}}}`): {why}",
                sharding.count
            ),
            help,
        );
    };
    let key_help = "add `shard: { key: id }` to the source's config, naming an integer column \
                    (the primary key, or another indexed one)";
    match &source.kind {
        SourceKind::Postgres(p) if p.shard.is_none() => {
            cannot("it has no `shard.key` to split by", key_help, diags)
        }
        SourceKind::MySql(m) if m.shard.is_none() => {
            cannot("it has no `shard.key` to split by", key_help, diags)
        }
        SourceKind::Sqlite(s) if s.shard.is_none() => {
            cannot("it has no `shard.key` to split by", key_help, diags)
        }
        SourceKind::Postgres(_) | SourceKind::MySql(_) | SourceKind::Sqlite(_) => {}
        SourceKind::Jsonl(j) => one_file(&j.path.0, &source.loc, diags),
        SourceKind::Csv(c) => one_file(&c.path.0, &source.loc, diags),
        SourceKind::Object(_) => {}
        SourceKind::Kafka(_) => cannot(
            "Kafka spreads a topic's partitions over the consumers of one group",
            "remove `shard:` and run several copies of the program with the same `group_id` \
             (at most one per partition)",
            diags,
        ),
        SourceKind::Rest(_) => cannot(
            "an API's pages come one after another (each from the link or cursor of the one before)",
            "remove `shard:`; to split the work, give each copy its own request (a matrix row per \
             partition of the API, with `execution.max_concurrent`)",
            diags,
        ),
        SourceKind::PostgresCdc(_) => cannot(
            "a replication slot has one reader, which receives changes in commit order",
            "remove `shard:`; one process reads the slot",
            diags,
        ),
    }
}

/// A file source that reads one named file cannot be split: there is one object to hash.
fn one_file(path: &Text, loc: &Loc, diags: &mut Diagnostics) {
    let Some(path) = path.as_literal() else { return };
    if !path.contains(['*', '?', '[', '{']) {
        diags.error_help(
            loc,
            format!("this source reads one file, `{path}`, which cannot be split into shards"),
            "shards split a glob's files among them: read `dir/*.jsonl` (or `**/*.jsonl`), or remove `shard:`",
        );
    }
}

/// A file sink written by every shard at once would be one file overwritten
/// by all of them: its path must hold `${shard.index}`.
fn check_sink(sink: &ir::Sink, sharding: &ir::Sharding, diags: &mut Diagnostics) {
    let path = match &sink.kind {
        SinkKind::Jsonl(j) => &j.path.0,
        SinkKind::Csv(c) => &c.path.0,
        _ => return,
    };
    if !path.0.iter().any(|p| matches!(p, TextPart::Shard(ShardValue::Index))) {
        let example =
            path.as_literal().map_or_else(|| "out/part-${shard.index}.jsonl".to_owned(), |p| per_shard(&p));
        diags.error_help(
            &sink.loc,
            format!(
                "with `shard: {{count: {}}}` every shard writes this sink's file at once; give each shard its own file",
                sharding.count
            ),
            format!("put `${{shard.index}}` in the path: `{example}`"),
        );
    }
}

/// `path` with `-${shard.index}` before its file's extension.
fn per_shard(path: &str) -> String {
    let name_at = path.rfind('/').map_or(0, |i| i + 1);
    match path[name_at..].find('.') {
        Some(dot) if dot > 0 => {
            format!("{}-${{shard.index}}{}", &path[..name_at + dot], &path[name_at + dot..])
        }
        _ => format!("{path}-${{shard.index}}"),
    }
}

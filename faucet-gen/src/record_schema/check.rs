//! The schema pass of one pipeline: resolve what is known of its records,
//! follow them through the transforms, and check every field the config names.
//!
//! Each error points at the key that names the field, found in the merged
//! `pipeline:` node; it says which field, suggests one the records do have,
//! and notes where the schema came from. Fields of an open schema are never
//! missing, and a check whose schema is unknown is skipped.

use super::{Database, FieldDef, FieldType, Origin, RecordSchema, TableSchema, contract, flow, resolve};
use crate::connectors::sql::{ColumnMapping, UnmappedFields, WriteMode};
use crate::connectors::{SinkKind, SourceKind};
use crate::diag::{Diagnostic, Diagnostics, Loc, suggest};
use crate::ir::{self, Transform};
use crate::load::{Node, Value};

/// Resolves `pipeline`'s schemas and reports every field its config (`node`,
/// the merged `pipeline:` map) names that the flow does not produce.
pub(crate) fn pipeline(node: &Node, pipeline: &ir::Pipeline, diags: &mut Diagnostics) -> ir::Schemas {
    let source = match &pipeline.source.declared {
        Some(declared) => Some(declared.clone()),
        None => resolve::source_table(&pipeline.source, diags).map(|(table, origin)| table.records(origin)),
    };
    if let Some(source) = &source {
        replication_key(node, &pipeline.source.kind, source, diags);
    }
    let locs = transform_locs(node, pipeline.transforms.len());
    let flowed = flow::through(source.clone(), &pipeline.transforms, &locs, diags);
    let output = match (&pipeline.contract, flowed) {
        (Some(contract), Some(flowed)) => {
            contract::check_flow(contract, &flowed, diags);
            Some(flowed)
        }
        // Where the flow is unknown, an enforcing contract says what reaches the sink.
        (Some(contract), None) if contract.on_breach != ir::OnBreach::Warn => Some(contract.schema()),
        (_, flowed) => flowed,
    };
    let table = resolve::sink_table(&pipeline.sink, diags);
    if let Some(output) = &output {
        sink_fields(node, &pipeline.sink.kind, output, diags);
    }
    let writes = TableWrites::of(&pipeline.sink.kind);
    // A delete marker reported as unhandled is not reported again as a field without a column.
    let unhandled_marker = writes.as_ref().and_then(|writes| {
        cdc_deletes(node, &pipeline.transforms, &locs, writes, table.as_ref().map(|t| &t.0), diags)
    });
    if let (Some(writes), Some((table, table_origin))) = (&writes, &table)
        && writes.auto_map
    {
        let table = Table { schema: table, origin: table_origin };
        keys_are_unique(node, writes, &table, diags);
        if let Some(output) = &output {
            columns(node, writes, output, &table, unhandled_marker.as_deref(), diags);
        }
    }
    ir::Schemas { source, output, table: table.map(|(t, _)| t) }
}

// ---- Finding fields ----

/// What a schema says of a dotted path.
enum Lookup<'a> {
    /// The field.
    Found(&'a FieldDef),
    /// Nothing can be said (an open schema, a `json` value on the way).
    Unknown,
    /// The field is not there; the names that are, at the level where it is missing.
    Missing(Vec<&'a str>),
}

fn lookup<'a>(schema: &'a RecordSchema, path: &[String]) -> Lookup<'a> {
    let Some((first, rest)) = path.split_first() else { return Lookup::Unknown };
    let Some(mut field) = schema.field(first) else {
        return if schema.open { Lookup::Unknown } else { Lookup::Missing(schema.names()) };
    };
    for name in rest {
        match &field.ty {
            FieldType::Object { fields } => match fields.iter().find(|f| &f.name == name) {
                Some(f) => field = f,
                None => return Lookup::Missing(fields.iter().map(|f| f.name.as_str()).collect()),
            },
            FieldType::Json | FieldType::Other { .. } => return Lookup::Unknown,
            _ => return Lookup::Missing(Vec::new()),
        }
    }
    Lookup::Found(field)
}

/// "did you mean" over `available`, or the list of them.
fn field_help(field: &str, available: &[&str]) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    match suggest(last, available.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None if available.is_empty() => "the value there is not an object".to_owned(),
        None => {
            const SHOWN: usize = 12;
            let mut names: Vec<String> = available.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
            if available.len() > SHOWN {
                names.push(format!("and {} more", available.len() - SHOWN));
            }
            format!("the records have {}", names.join(", "))
        }
    }
}

/// Reports `path` (named by `what` at `loc`) when `schema` says the records lack it.
fn require_field(loc: &Loc, what: &str, path: &[String], schema: &RecordSchema, diags: &mut Diagnostics) {
    if let Lookup::Missing(available) = lookup(schema, path) {
        let field = path.join(".");
        let mut d = Diagnostic::new(
            loc.clone(),
            format!("{what} names field `{field}`, which the records do not have"),
        )
        .with_help(field_help(&field, &available));
        d.notes.push(schema.origin.note());
        diags.push(d);
    }
}

// ---- Finding keys in the config ----

/// The value at `path` of map keys under `node`.
fn at<'a>(node: &'a Node, path: &[&str]) -> Option<&'a Node> {
    let mut n = node;
    for key in path {
        let Value::Map(entries) = &n.value else { return None };
        n = &entries.iter().find(|e| e.key == *key)?.value;
    }
    Some(n)
}

/// The location of the value at `path`, else of the nearest map on the way.
fn loc_of(node: &Node, path: &[&str]) -> Loc {
    (0..=path.len()).rev().find_map(|n| at(node, &path[..n])).map_or(Loc::Unknown, |n| n.loc.clone())
}

/// Where each transform is written: its `type`.
fn transform_locs(node: &Node, count: usize) -> Vec<Loc> {
    let items = match at(node, &["transforms"]).map(|n| &n.value) {
        Some(Value::Seq(items)) => items.as_slice(),
        _ => &[],
    };
    (0..count).map(|i| items.get(i).map_or(Loc::Unknown, |t| loc_of(t, &["type"]))).collect()
}

/// A dotted path's names.
fn dotted(path: &str) -> Vec<String> {
    path.split('.').map(str::to_owned).collect()
}

// ---- Source ----

/// A source's `replication_key` must be a field of what it reads: a SQL
/// source's column, or a top-level field of a `rest` source's records (which
/// drops every record without it).
fn replication_key(node: &Node, kind: &SourceKind, source: &RecordSchema, diags: &mut Diagnostics) {
    let key = match kind {
        SourceKind::Postgres(p) => p.source.0.replication_key.as_ref().map(|k| &k.0),
        SourceKind::MySql(m) => m.source.0.replication_key.as_ref().map(|k| &k.0),
        SourceKind::Sqlite(s) => s.source.0.replication_key.as_ref().map(|k| &k.0),
        SourceKind::Rest(r) => r.runtime.0.replication.0.as_ref().map(|r| &r.key),
        _ => None,
    };
    if let Some(key) = key {
        let loc = loc_of(node, &["source", "config", "replication_key"]);
        require_field(&loc, "`replication_key`", std::slice::from_ref(key), source, diags);
    }
}

// ---- Sink keys ----

/// The fields a sink's config names: key columns, the delete marker, Kafka paths.
fn sink_fields(node: &Node, kind: &SinkKind, output: &RecordSchema, diags: &mut Diagnostics) {
    if let Some(writes) = TableWrites::of(kind) {
        let key_node = at(node, &["sink", "config", "key"]);
        for (i, column) in writes.key.iter().enumerate() {
            let loc = match key_node.map(|n| &n.value) {
                Some(Value::Seq(items)) => items.get(i).map_or(Loc::Unknown, |n| n.loc.clone()),
                _ => key_node.map_or(Loc::Unknown, |n| n.loc.clone()),
            };
            require_field(&loc, "`key`", std::slice::from_ref(column), output, diags);
        }
        if let Some(marker) = &writes.marker {
            let loc = loc_of(node, &["sink", "config", "delete_marker", "field"]);
            require_field(&loc, "`delete_marker.field`", std::slice::from_ref(marker), output, diags);
        }
    }
    if let SinkKind::Kafka(k) = kind {
        if let Some(path) = &k.key_path {
            let loc = loc_of(node, &["sink", "config", "key_path"]);
            require_field(&loc, "`key_path`", &path.0, output, diags);
        }
        if let crate::connectors::kafka::Topic::FromPath(path) = &k.topic {
            let loc = loc_of(node, &["sink", "config", "topic", "path"]);
            require_field(&loc, "`topic.path`", &path.0, output, diags);
            // Each record's topic is the string there.
            if let Lookup::Found(field) = lookup(output, &path.0)
                && !matches!(field.ty, FieldType::String | FieldType::Json | FieldType::Other { .. })
            {
                let mut d = Diagnostic::new(
                    loc,
                    format!(
                        "`topic.path` names field `{}`, which holds {} values, but a topic is a string",
                        path.0.join("."),
                        field.ty.describe()
                    ),
                )
                .with_help("name a string field: every record without a topic string is rejected");
                d.notes.push(output.origin.note());
                diags.push(d);
            }
        }
    }
}

/// What a table sink does, whichever SQL connector it is.
struct TableWrites {
    auto_map: bool,
    create_table: bool,
    unmapped: Option<UnmappedFields>,
    mode: WriteMode,
    key: Vec<String>,
    marker: Option<String>,
}

impl TableWrites {
    fn of(kind: &SinkKind) -> Option<Self> {
        macro_rules! writes {
            ($mapping:expr, $write:expr) => {{
                let w = $write;
                TableWrites {
                    auto_map: *$mapping == ColumnMapping::AutoMap,
                    create_table: w.create_table,
                    unmapped: w.unmapped_fields.get().copied(),
                    mode: w.write_mode.0,
                    key: w.key.0.clone(),
                    marker: w.delete_marker.as_ref().map(|m| m.field.clone()),
                }
            }};
        }
        Some(match kind {
            SinkKind::Postgres(p) => writes!(&p.sink.0.column_mapping, &p.sink.0.write.0),
            SinkKind::MySql(m) => writes!(&m.sink.0.column_mapping, &m.sink.0.write.0),
            SinkKind::Sqlite(s) => writes!(&s.sink.0.column_mapping.0, &s.sink.0.write.0),
            _ => return None,
        })
    }
}

// ---- Table ----

/// A sink's table and where it was read.
struct Table<'a> {
    schema: &'a TableSchema,
    origin: &'a Origin,
}

/// Upsert and delete keys must be columns, and together the primary key or a unique key.
fn keys_are_unique(node: &Node, writes: &TableWrites, table: &Table<'_>, diags: &mut Diagnostics) {
    if writes.mode == WriteMode::Append || writes.key.is_empty() {
        return;
    }
    let key_node = at(node, &["sink", "config", "key"]);
    let key_loc = key_node.map_or(Loc::Unknown, |n| n.loc.clone());
    let columns: Vec<&str> = table.schema.columns.iter().map(|c| c.field.name.as_str()).collect();
    let mut all_columns = true;
    for (i, column) in writes.key.iter().enumerate() {
        if table.schema.column(column).is_some() {
            continue;
        }
        all_columns = false;
        let loc = match key_node.map(|n| &n.value) {
            Some(Value::Seq(items)) => items.get(i).map_or(key_loc.clone(), |n| n.loc.clone()),
            _ => key_loc.clone(),
        };
        let mut d = Diagnostic::new(
            loc,
            format!("`key` names `{column}`, which is not a column of `{}`", table.schema.name),
        )
        .with_help(match suggest(column, columns.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("the table's keys: {}", unique_keys(table.schema)),
        });
        d.notes.push(columns_note(table.origin));
        diags.push(d);
    }
    if all_columns && !table.schema.is_unique_key(&writes.key) {
        let mut d = Diagnostic::new(
            key_loc,
            format!(
                "`key` ({}) is not the primary key or a unique key of `{}`, so `write_mode: {}` cannot find one row per record",
                writes.key.join(", "),
                table.schema.name,
                writes.mode.as_str()
            ),
        )
        .with_help(format!("use the table's keys: {}", unique_keys(table.schema)));
        d.notes.push(columns_note(table.origin));
        diags.push(d);
    }
}

/// The note naming where a table's columns were read.
fn columns_note(origin: &Origin) -> String {
    origin.note().replacen("the fields come from", "the columns come from", 1)
}

/// The table's primary and unique keys, for a help line.
fn unique_keys(table: &TableSchema) -> String {
    let mut keys = Vec::new();
    if !table.primary_key.is_empty() {
        keys.push(format!("primary key ({})", table.primary_key.join(", ")));
    }
    for k in &table.unique_keys {
        keys.push(format!("unique ({})", k.join(", ")));
    }
    if keys.is_empty() {
        "it has none: add a primary key or a unique index".to_owned()
    } else {
        keys.join("; ")
    }
}

/// `auto_map` into a known table: every field has a column (unless unmapped
/// fields are dropped or added), every NOT NULL column without a default is
/// produced, and every value fits its column's type.
/// `unhandled_marker`: a `cdc_unwrap` delete marker already reported.
fn columns(
    node: &Node,
    writes: &TableWrites,
    output: &RecordSchema,
    table: &Table<'_>,
    unhandled_marker: Option<&str>,
    diags: &mut Diagnostics,
) {
    let mapping_loc = loc_of(node, &["sink", "config", "column_mapping"]);
    let table_loc = loc_of(node, &["sink", "config", "table_name"]);
    let notes = |d: &mut Diagnostic| {
        d.notes.push(output.origin.note());
        d.notes.push(columns_note(table.origin));
    };
    if writes.mode == WriteMode::Delete {
        // Deletes write no column: only the key matters.
        return;
    }
    let columns: Vec<&str> = table.schema.columns.iter().map(|c| c.field.name.as_str()).collect();
    let unmapped_ok = writes.create_table
        || matches!(writes.unmapped, Some(UnmappedFields::Drop | UnmappedFields::AddColumn));
    // Fields with no column and no near column name: one error for them all.
    let mut without_column = Vec::new();
    for field in &output.fields {
        if writes.marker.as_deref() == Some(field.name.as_str())
            || unhandled_marker == Some(field.name.as_str())
        {
            // The delete marker's field needs no column.
            continue;
        }
        match table.schema.column(&field.name) {
            None if !unmapped_ok => match suggest(&field.name, columns.iter().copied()) {
                Some(near) => {
                    let mut d = Diagnostic::new(
                        mapping_loc.clone(),
                        format!(
                            "field `{}` has no column in `{}`: `auto_map` would dead-letter every record that carries it",
                            field.name, table.schema.name
                        ),
                    )
                    .with_help(format!(
                        "did you mean `{near}`? rename the field to the column (`rename_keys`), or set `unmapped_fields: drop` to write records without it"
                    ));
                    notes(&mut d);
                    diags.push(d);
                }
                None => without_column.push(field.name.as_str()),
            },
            None => {}
            Some(column) if !fits(&field.ty, &column.field.ty, table.schema.database) => {
                let mut d = Diagnostic::new(
                    mapping_loc.clone(),
                    format!(
                        "field `{}` holds {} values, which cannot go into column `{}` of type `{}`",
                        field.name,
                        field.ty.describe(),
                        column.field.name,
                        column.db_type
                    ),
                )
                .with_help("convert the value in a `custom` transform, or change the column's type");
                notes(&mut d);
                diags.push(d);
            }
            Some(_) => {}
        }
    }
    let unmapped = match without_column.as_slice() {
        [] => None,
        [one] => Some((
            format!(
                "field `{one}` has no column in `{}`: `auto_map` would dead-letter every record that carries it",
                table.schema.name
            ),
            "add the column to the table, or set `unmapped_fields: drop` to write records without it (`add_column` adds the column)",
        )),
        [first @ .., last] => Some((
            format!(
                "fields {} and `{last}` have no column in `{}`: `auto_map` would dead-letter every record that carries one",
                first.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
                table.schema.name
            ),
            "add the columns to the table, or set `unmapped_fields: drop` to write records without them (`add_column` adds the columns)",
        )),
    };
    if let Some((message, help)) = unmapped {
        let mut d = Diagnostic::new(mapping_loc.clone(), message).with_help(help);
        notes(&mut d);
        diags.push(d);
    }
    if output.open {
        return;
    }
    for column in &table.schema.columns {
        if column.field.nullable || column.has_default || output.field(&column.field.name).is_some() {
            continue;
        }
        let name = &column.field.name;
        let mut d = Diagnostic::new(
            table_loc.clone(),
            format!(
                "column `{name}` of `{}` is NOT NULL without a default, and the records never carry `{name}`: every insert would fail",
                table.schema.name
            ),
        )
        .with_help(match suggest(name, output.names()) {
            Some(near) => format!("the records have `{near}`: rename it to `{name}` (`rename_keys`)"),
            None => format!("produce `{name}` (a `custom` transform), or give the column a default"),
        });
        notes(&mut d);
        diags.push(d);
    }
}

/// Whether a value of type `value` can be written into a column of type
/// `column`. Permissive where the runtime or the server converts: values are
/// sent as text and cast by the server (PostgreSQL, MySQL), so text goes
/// anywhere the server parses it, and SQLite stores any value in any column.
pub(crate) fn fits(value: &FieldType, column: &FieldType, database: Database) -> bool {
    use FieldType as T;
    if database == Database::Sqlite {
        return true;
    }
    match (value, column) {
        // Unknown on one side: nothing to say.
        (T::Json, _) | (_, T::Json | T::Other { .. }) => true,
        (T::Other { .. }, _) => true,
        // Text columns take any value's text; text is parsed by the server.
        (_, T::String) | (T::String, _) => !matches!(column, T::Object { .. }),
        (T::Integer, T::Integer | T::Number | T::Decimal { .. }) => true,
        (T::Decimal { scale: Some(0), .. }, T::Integer) => true,
        (T::Number | T::Decimal { .. }, T::Number | T::Decimal { .. }) => true,
        (T::Boolean, T::Boolean) => true,
        // 0 and 1 are booleans to both servers; MySQL's BOOLEAN is TINYINT(1).
        (T::Integer, T::Boolean) => true,
        (T::Boolean, T::Integer) => database == Database::MySql,
        (T::Date, T::Date | T::Timestamp { .. }) => true,
        (T::Timestamp { .. }, T::Timestamp { .. } | T::Date) => true,
        // The server reads the time of day of a timestamp.
        (T::Time | T::Timestamp { .. }, T::Time) => true,
        (T::Binary, T::Binary) => true,
        (T::Array { items }, T::Array { items: column }) => fits(items, column, database),
        _ => false,
    }
}

// ---- cdc_unwrap's deletes ----

/// A `cdc_unwrap` marks deletes with a field; an upserting sink without a
/// `delete_marker` deletes no row: it upserts the marked rows (or, with no
/// column for the marker, dead-letters them), so every row deleted at the
/// source stays. A table with a column for the marker keeps deletes as
/// marked rows, on purpose. Needs no schema. Returns the marker reported.
fn cdc_deletes(
    node: &Node,
    transforms: &[Transform],
    locs: &[Loc],
    writes: &TableWrites,
    table: Option<&TableSchema>,
    diags: &mut Diagnostics,
) -> Option<String> {
    if writes.mode != WriteMode::Upsert || writes.marker.is_some() {
        return None;
    }
    let last = transforms.iter().rposition(|t| matches!(t, Transform::CdcUnwrap { .. }))?;
    let Transform::CdcUnwrap { marker_field, .. } = &transforms[last] else { return None };
    // The marker's name after the transforms that follow.
    let mut marker = marker_field.clone();
    for t in &transforms[last + 1..] {
        marker = match t {
            Transform::RenameKeys { pattern, replacement } => match regex::Regex::new(pattern) {
                Ok(p) => faucet_keys::rename(&p, replacement, &marker).unwrap_or(marker),
                Err(_) => return None,
            },
            Transform::KeysCase(mode) => mode.convert(&marker).unwrap_or(marker),
            Transform::Flatten { .. } | Transform::Filter(_) | Transform::Explode(_) => marker,
            // Its output is the function's: the marker may be gone.
            Transform::Custom { .. } | Transform::CdcUnwrap { .. } | Transform::Unpivot(_) => return None,
            Transform::RenameField { renames } => {
                renames.iter().find(|(from, _)| from.name == marker).map_or(marker, |(_, to)| to.name.clone())
            }
            // They may drop the marker or write over it.
            Transform::Select { .. }
            | Transform::Drop { .. }
            | Transform::Set { .. }
            | Transform::Cast { .. }
            | Transform::Coalesce { .. } => return None,
            // Values change; keys are not renamed.
            Transform::Redact { .. }
            | Transform::ValueCase { .. }
            | Transform::Hash(_)
            | Transform::JsonParse(_)
            | Transform::JsonEncode { .. }
            | Transform::Split(_)
            | Transform::Join(_)
            | Transform::Lookup(_) => marker,
        };
    }
    if table.is_some_and(|t| t.column(&marker).is_some()) {
        return None;
    }
    let mode_loc = loc_of(node, &["sink", "config", "write_mode"]);
    let mut d = Diagnostic::new(
        mode_loc,
        format!(
            "`cdc_unwrap` marks deleted rows with `{marker}: true`, but this sink has no `delete_marker`: no row deleted at the source would be deleted here"
        ),
    )
    .with_help(format!(
        "add `delete_marker: {{ field: {marker}, values: [true] }}` to the sink's config, so marked records delete their row"
    ));
    d.notes.push(format!(
        "the `cdc_unwrap` is at {}",
        locs.get(last).map_or_else(|| "its transform".into(), Loc::short)
    ));
    diags.push(d);
    Some(marker)
}

// ---- Matrix children ----

/// A matrix child's `${parent.field}` tokens (in its source and sink configs,
/// `child` the child row's merged `pipeline:` node) against the parent row's
/// output schema.
pub(crate) fn parent_tokens(child: &Node, parent: &str, schema: &RecordSchema, diags: &mut Diagnostics) {
    for block in ["source", "sink"] {
        if let Some(config) = at(child, &[block, "config"]) {
            strings(config, &mut |node, s| {
                for path in parent_paths(s, parent) {
                    let token = format!("${{{parent}.{}}}", path.join("."));
                    let loc = crate::read::token_loc(&node.loc, &token);
                    require_field(&loc, &format!("`{token}`"), &path, schema, diags);
                }
            });
        }
    }
}

/// A matrix child's `parent_key` (written at `loc`, or the default `id`)
/// against the parent row's output schema: a parent record without it
/// starts no child invocation.
/// `written`: the row sets it (else `loc` is its `parent`).
pub(crate) fn parent_key(
    loc: &Loc,
    path: &[String],
    written: bool,
    schema: &RecordSchema,
    diags: &mut Diagnostics,
) {
    let what = if written { "`parent_key`" } else { "the default `parent_key: id`" };
    require_field(loc, what, path, schema, diags);
}

/// Calls `f` with every string under `node`.
fn strings(node: &Node, f: &mut dyn FnMut(&Node, &str)) {
    match &node.value {
        Value::Str(s) => f(node, s),
        Value::Seq(items) => items.iter().for_each(|n| strings(n, f)),
        Value::Map(entries) => entries.iter().for_each(|e| strings(&e.value, f)),
        _ => {}
    }
}

/// The paths of the `${parent.a.b}` references in `s` (`$${` is a literal).
fn parent_paths(s: &str, parent: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else { break };
            if let Some(path) = tail[..end].strip_prefix(parent).and_then(|p| p.strip_prefix('.')) {
                out.push(dotted(path));
            }
            rest = &tail[end + 1..];
        } else {
            rest = &after[1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::diag::SourceFile;
    use crate::record_schema::{Column, FieldDef};

    /// The merged `pipeline:` node of `yaml` (a pipeline definition).
    fn pipeline_node(yaml: &str) -> Node {
        let file = Arc::new(SourceFile { name: "p.yaml".into(), text: yaml.into() });
        let root = crate::load::load_yaml(&file).unwrap();
        at(&root, &["pipeline"]).unwrap().clone()
    }

    fn field(name: &str, ty: FieldType, nullable: bool) -> FieldDef {
        FieldDef { name: name.into(), ty, nullable, required: true }
    }

    fn column(name: &str, ty: FieldType, db_type: &str, nullable: bool, has_default: bool) -> Column {
        Column { field: field(name, ty, nullable), db_type: db_type.into(), has_default }
    }

    fn users() -> TableSchema {
        TableSchema {
            database: Database::Postgres,
            name: "public.users".into(),
            columns: vec![
                column("id", FieldType::Integer, "bigint", false, true),
                column("email", FieldType::String, "text", false, false),
                column("created_at", FieldType::Timestamp { time_zone: true }, "timestamptz", false, false),
                column("active", FieldType::Boolean, "boolean", true, false),
                column("note", FieldType::String, "text", true, false),
            ],
            primary_key: vec!["id".into()],
            unique_keys: vec![vec!["email".into()]],
        }
    }

    fn table_origin() -> Origin {
        Origin::Table {
            database: Database::Postgres,
            name: Some("public.users".into()),
            cache: Some(".faucet/postgres-public.users.json".into()),
        }
    }

    const SINK: &str = "pipeline:\n  sink:\n    type: postgres\n    config:\n      connection_url: \"postgres://app@db/shop\"\n      table_name: users\n      column_mapping: auto_map\n      write_mode: upsert\n      key: [id, note]\n";

    fn run(output: &RecordSchema, writes: &TableWrites) -> Vec<Diagnostic> {
        run_with(output, writes, None)
    }

    fn run_with(output: &RecordSchema, writes: &TableWrites, cdc_marker: Option<&str>) -> Vec<Diagnostic> {
        let node = pipeline_node(SINK);
        let (table, origin) = (users(), table_origin());
        let table = Table { schema: &table, origin: &origin };
        let mut diags = Diagnostics::new();
        keys_are_unique(&node, writes, &table, &mut diags);
        columns(&node, writes, output, &table, cdc_marker, &mut diags);
        diags.into_iter().collect()
    }

    fn upsert(key: &[&str]) -> TableWrites {
        TableWrites {
            auto_map: true,
            create_table: false,
            unmapped: Some(UnmappedFields::Dlq),
            mode: WriteMode::Upsert,
            key: key.iter().map(|k| (*k).to_owned()).collect(),
            marker: None,
        }
    }

    fn declared(fields: Vec<FieldDef>) -> RecordSchema {
        RecordSchema { fields, open: false, origin: Origin::Declared { loc: Loc::Unknown } }
    }

    #[test]
    fn table_checks_report_each_class_at_its_key() {
        let output = declared(vec![
            field("id", FieldType::Integer, false),
            field("emial", FieldType::String, false),
            field("active", FieldType::Date, false),
            // Any value's text goes into a text column.
            field("note", FieldType::Object { fields: vec![] }, true),
        ]);
        let found = run(&output, &upsert(&["id", "note"]));
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(found.len(), 5, "{messages:#?}");
        // The key is two columns, but not a unique key.
        assert!(
            messages[0]
                .starts_with("`key` (id, note) is not the primary key or a unique key of `public.users`")
        );
        assert_eq!(found[0].help.as_deref(), Some("use the table's keys: primary key (id); unique (email)"));
        assert!(matches!(found[0].loc, Loc::File { line: 9, col: 12, .. }), "{:?}", found[0].loc);
        // A field without a column: at `column_mapping`, with the nearest column.
        assert!(messages[1].starts_with("field `emial` has no column in `public.users`"));
        assert!(found[1].help.as_deref().unwrap().starts_with("did you mean `email`?"));
        assert!(matches!(found[1].loc, Loc::File { line: 7, .. }));
        assert_eq!(found[1].notes.len(), 2);
        assert!(
            found[1].notes[1].contains("the columns come from PostgreSQL table `public.users`"),
            "{:?}",
            found[1].notes
        );
        // A type that does not fit.
        assert!(messages[2].contains(
            "field `active` holds date values, which cannot go into column `active` of type `boolean`"
        ));
        // NOT NULL columns without a default that nothing produces, at `table_name`.
        assert!(messages[3].starts_with("column `email` of `public.users` is NOT NULL without a default"));
        assert_eq!(
            found[3].help.as_deref(),
            Some("the records have `emial`: rename it to `email` (`rename_keys`)")
        );
        assert!(
            messages[4].starts_with("column `created_at` of `public.users` is NOT NULL without a default")
        );
        assert!(matches!(found[4].loc, Loc::File { line: 6, .. }));
        // Dropping unmapped fields: `emial` is no error, `email` still never arrives.
        let output = declared(vec![
            field("id", FieldType::Integer, false),
            field("emial", FieldType::String, false),
            field("created_at", FieldType::Date, false),
        ]);
        let found = run(&output, &TableWrites { unmapped: Some(UnmappedFields::Drop), ..upsert(&["email"]) });
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.starts_with("column `email` of `public.users` is NOT NULL"));
    }

    #[test]
    fn table_checks_pass_a_fitting_flow_and_skip_what_they_cannot_know() {
        let output = declared(vec![
            field("id", FieldType::Integer, false),
            field("email", FieldType::String, false),
            field("created_at", FieldType::String, false),
            field("_deleted", FieldType::Boolean, false),
        ]);
        // The delete marker's field needs no column; `email` is a unique key.
        let writes = TableWrites { marker: Some("_deleted".into()), ..upsert(&["email"]) };
        assert!(run(&output, &writes).is_empty());
        // Without the marker, `_deleted` has no column; `create_table` or `add_column` adds it.
        assert_eq!(run(&output, &upsert(&["id"])).len(), 1);
        // Unless it is a `cdc_unwrap` marker already reported as unhandled.
        assert!(run_with(&output, &upsert(&["id"]), Some("_deleted")).is_empty());
        assert!(run(&output, &TableWrites { create_table: true, ..upsert(&["id"]) }).is_empty());
        assert!(
            run(&output, &TableWrites { unmapped: Some(UnmappedFields::AddColumn), ..upsert(&["id"]) })
                .is_empty()
        );
        // An open schema never lacks a field: the NOT NULL check is skipped.
        let open = RecordSchema { open: true, ..declared(vec![field("id", FieldType::Integer, false)]) };
        assert!(run(&open, &upsert(&["id"])).is_empty());
        // Deletes write no column: only their key is checked.
        let delete = TableWrites { mode: WriteMode::Delete, ..upsert(&["id"]) };
        assert!(run(&declared(vec![field("idx", FieldType::Boolean, false)]), &delete).is_empty());
        // A key that is no column.
        let found = run(&open, &upsert(&["idd"]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "`key` names `idd`, which is not a column of `public.users`");
        assert_eq!(found[0].help.as_deref(), Some("did you mean `id`?"));
    }

    #[test]
    fn parent_paths_skip_literals_and_other_references() {
        assert_eq!(
            parent_paths("a/${users.id}/${env:X}/$${users.no}/${users.a.b}", "users"),
            [vec!["id".to_owned()], vec!["a".to_owned(), "b".to_owned()]]
        );
        assert!(parent_paths("${usersx.id}", "users").is_empty());
    }

    #[test]
    fn type_fit_is_permissive_where_the_server_casts() {
        use FieldType as T;
        let pg = Database::Postgres;
        assert!(fits(&T::Integer, &T::Decimal { precision: None, scale: None }, pg));
        assert!(fits(&T::String, &T::Integer, pg));
        assert!(fits(&T::Object { fields: vec![] }, &T::Json, pg));
        assert!(!fits(&T::Boolean, &T::Integer, pg));
        assert!(fits(&T::Integer, &T::Boolean, pg));
        assert!(fits(&T::Boolean, &T::Integer, Database::MySql));
        assert!(!fits(&T::Number, &T::Integer, pg));
        assert!(!fits(&T::Date, &T::Time, pg));
        assert!(fits(&T::Date, &T::Time, Database::Sqlite));
    }
}

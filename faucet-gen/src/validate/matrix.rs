//! `matrix:` rows: merged onto the base pipeline, each validated as if written
//! alone, and checked as a graph (ids, parents, dependencies, cycles) so a
//! broken DAG does not compile.

use crate::connectors::{SINK_BLOCK, SOURCE_BLOCK};
use crate::read::{Fields, TextScope, int_in, one_of, plain_string, with_scope};
use crate::spec::{Field, Kind, Spec};

/// One `matrix:` row.
pub(crate) static ROW: Spec = Spec {
    name: "matrix.row",
    doc: "One matrix row: its parts merge onto `pipeline` (maps deep-merge; `ref` picks a named template).",
    fields: &[
        Field::opt("id", Kind::Str, "The row's id (letters, digits, `_`, `-`). Default: `row-<index>`."),
        Field::opt(
            "source",
            Kind::Object(&SOURCE_BLOCK),
            "Merged onto the `ref`ed (or `default`) source template.",
        ),
        Field::opt(
            "sink",
            Kind::Object(&SINK_BLOCK),
            "Merged onto the `ref`ed (or `default`) sink template.",
        ),
        Field::opt(
            "transforms",
            Kind::List(&Kind::Object(&super::transforms::TRANSFORM)),
            "Appended to the base transforms.",
        ),
        Field::opt("inherit_transforms", Kind::Bool, "Run the base transforms first.").default("true"),
        Field::opt("state", Kind::Object(&super::pipeline::STATE), "Replaces the base `state`."),
        Field::opt("dlq", Kind::Object(&super::pipeline::DLQ), "Replaces the base `dlq`."),
        Field::opt(
            "parent",
            Kind::Str,
            "Run once per record the parent row writes; `${parent.field}` reads it.",
        ),
        Field::opt("parent_key", Kind::Str, "The parent record's key field (dotted path).").default("\"id\""),
        Field::opt("depends_on", Kind::List(&Kind::Str), "Rows that must finish first."),
        Field::not_yet("weight"),
        Field::not_yet("delivery"),
        Field::not_yet("sla"),
        Field::not_yet("profiling"),
        Field::not_yet("tags"),
        Field::not_yet("legacy_state_ids"),
        Field::not_yet("partition"),
        Field::not_yet("fan_out"),
        Field::not_yet("discover"),
        Field::not_yet("for_each"),
    ],
    variants: &[],
};

/// `execution:`.
pub(crate) static EXECUTION: Spec = Spec {
    name: "execution",
    doc: "How matrix rows run.",
    fields: &[
        Field::opt("max_concurrent", Kind::Int(0, 1024), "Invocations running at once; `0`: no limit."),
        Field::opt(
            "on_error",
            Kind::OneOf(&["continue", "stop"]),
            "After a failed invocation: go on, or start no more.",
        )
        .default("\"continue\""),
        Field::not_yet("adaptive_batch_size"),
        Field::not_yet("schedule"),
    ],
    variants: &[],
};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use crate::diag::{Diagnostics, Loc, help_for};
use crate::ir::{self, OnError};
use crate::load::{Entry, Node, Value};

/// Row ids that name something else in `${…}` references.
const RESERVED_IDS: &[&str] = &[
    "env",
    "file",
    "secret",
    "matrix",
    "pipeline",
    "now",
    "backfill",
    "param",
    "partition",
    "bookmark",
    "job_id",
    "window",
    "vars",
];

/// The `pipeline:` block: the base every row merges onto, with its named templates.
pub(crate) struct Base<'a> {
    sources: Vec<(String, &'a Node)>,
    sinks: Vec<(String, &'a Node)>,
    transforms: Option<&'a Node>,
    state: Option<&'a Node>,
    dlq: Option<&'a Node>,
    /// `contract:`, the same for every row.
    contract: Option<&'a Node>,
    loc: Loc,
    /// `nodes:`/`edges:` (faucet-stream's topology, reported not supported
    /// yet) stand in for `source`/`sink`: the pipeline is not validated further.
    pub(crate) topology: bool,
}

/// Reads `pipeline:`; `source`/`sink` register as the `default` templates.
pub(crate) fn read_base<'a>(node: &'a Node, diags: &mut Diagnostics) -> Option<Base<'a>> {
    let mut p = Fields::with_spec(node, &super::pipeline::PIPELINE, "`pipeline`", diags)?;
    let source = p.entry("source");
    let sink = p.entry("sink");
    let sources = p.get("sources").and_then(|n| templates(n, "sources", diags));
    let sinks = p.get("sinks").and_then(|n| templates(n, "sinks", diags));
    let transforms = p.get("transforms");
    let state = p.get("state");
    let dlq = p.entry("dlq").map(|e| &e.value);
    let contract = p.get("contract");
    let topology = p.present("nodes") || p.present("edges");
    p.finish(diags);
    let mut sources = sources.unwrap_or_default();
    let mut sinks = sinks.unwrap_or_default();
    for (entry, named, what) in [(source, &mut sources, "source"), (sink, &mut sinks, "sink")] {
        if let Some(e) = entry {
            if named.iter().any(|(n, _)| n == "default") {
                diags.error_help(
                    &e.key_loc,
                    format!("both `{what}` and `{what}s.default` are defined"),
                    format!("`{what}:` is the `default` template; keep one of them"),
                );
            }
            named.insert(0, ("default".to_owned(), &e.value));
        }
    }
    Some(Base { sources, sinks, transforms, state, dlq, contract, loc: node.loc.clone(), topology })
}

fn templates<'a>(node: &'a Node, key: &str, diags: &mut Diagnostics) -> Option<Vec<(String, &'a Node)>> {
    let Value::Map(entries) = &node.value else {
        diags.error(
            &node.loc,
            format!("`{key}` must be a map of named templates, found {}", node.value.kind_name()),
        );
        return None;
    };
    Some(entries.iter().map(|e| (e.key.clone(), &e.value)).collect())
}

/// The base pipeline alone (no matrix): its default templates composed.
pub(crate) fn single(base: &Base<'_>, diags: &mut Diagnostics) -> Option<Node> {
    let source = pick(&base.sources, None, "source", &base.loc, diags);
    let sink = pick(&base.sinks, None, "sink", &base.loc, diags);
    Some(compose(
        &base.loc,
        source?.clone(),
        base.transforms.cloned(),
        sink?.clone(),
        base.state,
        base.dlq,
        base.contract,
    ))
}

/// A template by name (`default` when `name` is `None`).
fn pick<'a>(
    templates: &[(String, &'a Node)],
    name: Option<&Node>,
    what: &str,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Option<&'a Node> {
    let wanted = match name {
        Some(n) => plain_string(n, "ref", diags)?,
        None => "default".to_owned(),
    };
    if let Some((_, node)) = templates.iter().find(|(n, _)| *n == wanted) {
        return Some(node);
    }
    let names: Vec<&str> = templates.iter().map(|(n, _)| n.as_str()).collect();
    match name {
        Some(n) => {
            diags.error_help(&n.loc, format!("unknown {what} template `{wanted}`"), help_for(&wanted, &names))
        }
        None => diags.error_help(
            loc,
            format!("missing required key `{what}` in `pipeline`"),
            format!("add `{what}: {{ type: …, config: … }}` to `pipeline`, or to every matrix row"),
        ),
    }
    None
}

/// A synthetic `pipeline` map of the parts, for [`super::pipeline::validate_pipeline`].
fn compose(
    loc: &Loc,
    source: Node,
    transforms: Option<Node>,
    sink: Node,
    state: Option<&Node>,
    dlq: Option<&Node>,
    contract: Option<&Node>,
) -> Node {
    let mut entries = vec![entry("source", source)];
    if let Some(t) = transforms {
        entries.push(entry("transforms", t));
    }
    entries.push(entry("sink", sink));
    if let Some(s) = state {
        entries.push(entry("state", s.clone()));
    }
    if let Some(d) = dlq {
        entries.push(entry("dlq", d.clone()));
    }
    if let Some(c) = contract {
        entries.push(entry("contract", c.clone()));
    }
    Node { value: Value::Map(entries), loc: loc.clone() }
}

fn entry(key: &str, value: Node) -> Entry {
    Entry { key: key.to_owned(), key_loc: value.loc.clone(), value }
}

/// Objects merge recursively (the overlay's keys win); scalars, lists and null replace.
fn deep_merge(base: &Node, overlay: &Node) -> Node {
    match (&base.value, &overlay.value) {
        (Value::Map(b), Value::Map(o)) => {
            let mut merged: Vec<Entry> = b
                .iter()
                .map(|be| match o.iter().find(|oe| oe.key == be.key) {
                    Some(oe) => Entry {
                        key: be.key.clone(),
                        key_loc: oe.key_loc.clone(),
                        value: deep_merge(&be.value, &oe.value),
                    },
                    None => be.clone(),
                })
                .collect();
            merged.extend(o.iter().filter(|oe| !b.iter().any(|be| be.key == oe.key)).cloned());
            Node { value: Value::Map(merged), loc: overlay.loc.clone() }
        }
        _ => overlay.clone(),
    }
}

/// One row as read, before graph checks.
struct RawRow {
    id: String,
    loc: Loc,
    parent: Option<(String, Loc)>,
    parent_key: Vec<String>,
    /// Where `parent_key` is written (absent: the default `id` applies).
    parent_key_loc: Option<Loc>,
    depends_on: Vec<(String, Loc)>,
    merged: Option<Node>,
}

/// Validates the matrix: every row merged and validated, the graph checked.
pub(crate) fn validate(
    rows_node: &Node,
    execution: Option<&Node>,
    base: &Base<'_>,
    name: &str,
    module: &str,
    diags: &mut Diagnostics,
) -> Option<ir::Matrix> {
    let Value::Seq(items) = &rows_node.value else {
        diags.error(
            &rows_node.loc,
            format!("`matrix` must be a list of rows, found {}", rows_node.value.kind_name()),
        );
        return None;
    };
    let (max_concurrent, on_error) = read_execution(execution, diags);
    let mut rows: Vec<RawRow> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        rows.push(read_row(index, item, base, diags)?);
    }
    check_ids(&rows, diags);
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    // The first row of each id (a duplicate is already an error).
    let mut positions: HashMap<&str, usize> = HashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        positions.entry(id.as_str()).or_insert(i);
    }
    let index_of = |id: &str| positions.get(id).copied();
    let mut parents = vec![None; rows.len()];
    let mut depends = vec![Vec::new(); rows.len()];
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    for (i, row) in rows.iter().enumerate() {
        if let Some((parent, loc)) = &row.parent {
            match index_of(parent) {
                Some(p) if p == i => diags.error(loc, format!("row `{}` cannot be its own parent", row.id)),
                Some(p) => parents[i] = Some(p),
                None => diags.error_help(
                    loc,
                    format!("unknown parent row `{parent}`"),
                    help_for(parent, &id_refs),
                ),
            }
        }
        for (dep, loc) in &row.depends_on {
            match index_of(dep) {
                Some(d) if d == i => diags.error(loc, format!("row `{}` cannot depend on itself", row.id)),
                Some(d) => depends[i].push(d),
                None => diags.error_help(
                    loc,
                    format!("unknown row `{dep}` in depends_on"),
                    help_for(dep, &id_refs),
                ),
            }
        }
        if row.parent.is_some() && !row.depends_on.is_empty() {
            diags.error_help(
                &row.depends_on[0].1,
                format!("row `{}` has both `parent` and `depends_on`", row.id),
                "a child runs inside its parent's invocations; put `depends_on` on the root row of its tree",
            );
        }
    }
    let graph_ok = diags.is_empty();
    if graph_ok && let Some(cycle) = find_cycle(&parents, &depends) {
        let path: Vec<&str> = cycle.iter().map(|&i| ids[i].as_str()).collect();
        diags.error_help(
            &rows[cycle[0]].loc,
            format!("the matrix has a cycle: {}", path.join(" -> ")),
            "`parent` and `depends_on` must form a DAG: each row waits for the rows it points at",
        );
    }
    // Rows are validated even when the graph is broken, so one build shows every problem.
    let graph_ok = graph_ok && diags.is_empty();
    let mut out_rows = Vec::with_capacity(rows.len());
    let mut ok = true;
    let row_ids = Rc::new(ids.iter().cloned().collect::<BTreeSet<_>>());
    let mut children = vec![Vec::new(); rows.len()];
    for (c, parent) in parents.iter().enumerate() {
        if let Some(p) = parent {
            children[*p].push(c);
        }
    }
    let roots = roots_of(&parents);
    // Each row's output schema, for its children's `${parent.field}` tokens.
    let mut outputs = vec![None; rows.len()];
    for (i, row) in rows.iter().enumerate() {
        let scope = TextScope {
            rows: row_ids.clone(),
            parent: parents[i].map(|p| ids[p].clone()),
            tokens_allowed: true,
            // A sharded matrix divides its rows, not their sources.
            sharded: false,
        };
        let mut row_diags = Diagnostics::new();
        let Some(merged) = row.merged.as_ref() else {
            ok = false;
            continue;
        };
        let pipeline =
            with_scope(scope, || super::pipeline::validate_pipeline(merged, name, module, &mut row_diags));
        diags.extend_noted(row_diags, &format!("in matrix row `{}`", row.id));
        let Some(pipeline) = pipeline else {
            ok = false;
            continue;
        };
        outputs[i] = pipeline.schemas.output.clone();
        if !graph_ok {
            continue;
        }
        out_rows.push(ir::Row {
            id: row.id.clone(),
            ident: ident_of(&row.id),
            pipeline,
            parent: parents[i],
            parent_key: row.parent_key.clone(),
            depends_on: depends[i].clone(),
            children: std::mem::take(&mut children[i]),
            root: roots[i],
        });
    }
    for (i, row) in rows.iter().enumerate() {
        if let (Some(p), Some(merged)) = (parents[i], &row.merged)
            && let Some(schema) = &outputs[p]
        {
            let mut row_diags = Diagnostics::new();
            crate::record_schema::check::parent_tokens(merged, &ids[p], schema, &mut row_diags);
            let (key_loc, written) = match (&row.parent_key_loc, &row.parent) {
                (Some(loc), _) => (loc.clone(), true),
                (None, Some((_, parent_loc))) => (parent_loc.clone(), false),
                (None, None) => (Loc::Unknown, false),
            };
            crate::record_schema::check::parent_key(
                &key_loc,
                &row.parent_key,
                written,
                schema,
                &mut row_diags,
            );
            diags.extend_noted(row_diags, &format!("in matrix row `{}`", row.id));
        }
    }
    (ok && diags.is_empty()).then(|| ir::Matrix {
        name: name.to_owned(),
        module: module.to_owned(),
        rows: out_rows,
        max_concurrent,
        on_error,
        sharding: None,
        observability: ir::Observability::default(),
        secret_env: Box::default(),
    })
}

pub(super) fn read_execution(node: Option<&Node>, diags: &mut Diagnostics) -> (Option<u64>, OnError) {
    let Some(node) = node else { return (None, OnError::Continue) };
    let Some(mut f) = Fields::with_spec(node, &EXECUTION, "`execution`", diags) else {
        return (None, OnError::Continue);
    };
    let max =
        f.get("max_concurrent").and_then(|n| int_in(n, "max_concurrent", 0, 1024, diags)).map(|v| v as u64);
    let on_error = f
        .get("on_error")
        .and_then(|n| one_of(n, "on_error", &["continue", "stop"], diags))
        .map_or(OnError::Continue, |v| if v == "stop" { OnError::Stop } else { OnError::Continue });
    f.finish(diags);
    (max, on_error)
}

fn read_row(index: usize, node: &Node, base: &Base<'_>, diags: &mut Diagnostics) -> Option<RawRow> {
    let mut f = Fields::with_spec(node, &ROW, format!("matrix row {index}"), diags)?;
    let id_node = f.get("id");
    let id = match id_node {
        Some(n) => plain_string(n, "id", diags)?,
        None => format!("row-{index}"),
    };
    let loc = id_node.map_or_else(|| node.loc.clone(), |n| n.loc.clone());
    let source = f.get("source");
    let sink = f.get("sink");
    let transforms = f.get("transforms");
    let inherit = f.get("inherit_transforms");
    let state = f.entry("state").map(|e| &e.value);
    let dlq = f.entry("dlq").map(|e| &e.value);
    let parent = f.get("parent").and_then(|n| plain_string(n, "parent", diags).map(|p| (p, n.loc.clone())));
    let parent_key_loc = f.get("parent_key").map(|n| n.loc.clone());
    let parent_key = match f.get("parent_key") {
        Some(n) => {
            let key = plain_string(n, "parent_key", diags)?;
            if key.is_empty() || key.split('.').any(str::is_empty) {
                diags.error_help(
                    &n.loc,
                    format!("invalid parent_key {key:?}"),
                    "write a dotted path such as `id` or `user.id`",
                );
                return None;
            }
            key.split('.').map(str::to_owned).collect()
        }
        None => vec!["id".to_owned()],
    };
    let depends_on = match f.get("depends_on") {
        Some(Node { value: Value::Seq(items), .. }) => items
            .iter()
            .filter_map(|n| plain_string(n, "depends_on", diags).map(|d| (d, n.loc.clone())))
            .collect(),
        Some(n) => {
            diags.error(
                &n.loc,
                format!("`depends_on` must be a list of row ids, found {}", n.value.kind_name()),
            );
            Vec::new()
        }
        None => Vec::new(),
    };
    // A row using a feature faucet lacks (`fan_out`, `for_each`, …) is
    // reported once, as not supported yet: it is not merged or validated, so
    // nothing it leaves out is reported as a second mistake.
    let gap = ROW.not_yet_keys().iter().any(|k| f.present(k));
    f.finish(diags);
    if gap {
        return Some(RawRow { id, loc, parent, parent_key, parent_key_loc, depends_on, merged: None });
    }

    let what = format!("matrix row `{id}`");
    let source = merge_connector(source, &base.sources, "source", &node.loc, &what, diags);
    let sink = merge_connector(sink, &base.sinks, "sink", &node.loc, &what, diags);
    let inherit = match inherit {
        Some(n) => crate::read::boolean(n, "inherit_transforms", diags),
        None => Some(true),
    };
    let transforms = inherit.and_then(|inherit| {
        combine_transforms(if inherit { base.transforms } else { None }, transforms, diags)
    });
    let state = state.or(base.state);
    let dlq = dlq.or(base.dlq);
    let merged = match (source, transforms, sink) {
        (Some(source), Some(transforms), Some(sink)) => {
            Some(compose(&node.loc, source, transforms, sink, state, dlq, base.contract))
        }
        _ => None,
    };
    Some(RawRow { id, loc, parent, parent_key, parent_key_loc, depends_on, merged })
}

/// A row's `source`/`sink`: deep-merged onto its `ref:` template (or `default`).
fn merge_connector(
    row: Option<&Node>,
    templates: &[(String, &Node)],
    what: &str,
    loc: &Loc,
    row_what: &str,
    diags: &mut Diagnostics,
) -> Option<Node> {
    let Some(row) = row else {
        if templates.iter().any(|(n, _)| n == "default") {
            return pick(templates, None, what, loc, diags).cloned();
        }
        diags.error_help(
            loc,
            format!("{row_what} has no `{what}` and `pipeline` has no default `{what}`"),
            format!("add `{what}: {{ type: …, config: … }}` to the row or to `pipeline`"),
        );
        return None;
    };
    let Value::Map(entries) = &row.value else {
        diags.error(&row.loc, format!("`{what}` must be a map, found {}", row.value.kind_name()));
        return None;
    };
    let reference = entries.iter().find(|e| e.key == "ref").map(|e| &e.value);
    let overlay = Node {
        value: Value::Map(entries.iter().filter(|e| e.key != "ref").cloned().collect()),
        loc: row.loc.clone(),
    };
    let template = match reference {
        Some(r) => Some(pick(templates, Some(r), what, loc, diags)?),
        None => templates.iter().find(|(n, _)| n == "default").map(|(_, n)| *n),
    };
    // A row that names another `type` brings its own connector: the template's
    // config belongs to a different connector, so nothing is merged.
    let type_of = |n: &Node| match &n.value {
        Value::Map(entries) => {
            entries.iter().find(|e| e.key == "type").map(|e| format!("{:?}", e.value.value))
        }
        _ => None,
    };
    Some(match template {
        Some(t) if type_of(&overlay).is_none() || type_of(&overlay) == type_of(t) => deep_merge(t, &overlay),
        _ => overlay,
    })
}

/// The base transforms followed by the row's (a row appends; it never replaces).
fn combine_transforms(
    base: Option<&Node>,
    row: Option<&Node>,
    diags: &mut Diagnostics,
) -> Option<Option<Node>> {
    let mut items = Vec::new();
    let mut loc = None;
    for part in [base, row].into_iter().flatten() {
        match &part.value {
            Value::Seq(list) => items.extend(list.iter().cloned()),
            other => {
                diags.error(&part.loc, format!("`transforms` must be a list, found {}", other.kind_name()));
                return None;
            }
        }
        loc = Some(part.loc.clone());
    }
    Some(loc.map(|loc| Node { value: Value::Seq(items), loc }))
}

fn check_ids(rows: &[RawRow], diags: &mut Diagnostics) {
    // The first row of each id and of each Rust name, so each row is checked in constant time.
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    let mut by_ident: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let valid = row.id.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && row.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            diags.error_help(
                &row.loc,
                format!("invalid row id {:?}", row.id),
                "use letters, digits, `_` and `-`, starting with a letter",
            );
        } else if RESERVED_IDS.contains(&row.id.as_str()) {
            diags.error_help(
                &row.loc,
                format!("`{}` is reserved and cannot be a row id", row.id),
                "`${…}` references use it for something else; pick another id",
            );
        }
        let first_id = *by_id.entry(&row.id).or_insert(i);
        let first_ident = *by_ident.entry(ident_of(&row.id)).or_insert(i);
        if first_id != i {
            diags.error_help(
                &row.loc,
                format!("duplicate row id `{}`", row.id),
                format!("ids must be unique; `{}` is already used", rows[first_id].id),
            );
        } else if first_ident != i {
            let first = &rows[first_ident];
            diags.error_help(
                &row.loc,
                format!("row ids `{}` and `{}` name the same Rust function", first.id, row.id),
                "`-` and `_` are the same in generated names; rename one of them",
            );
        }
    }
}

/// A row id as a Rust identifier fragment.
fn ident_of(id: &str) -> String {
    id.replace('-', "_")
}

/// The root of every row's parent chain, each chain walked once. Rows are
/// still validated when the graph has a cycle (already reported), so a walk
/// that outgrows the row count stops there instead of looping forever.
fn roots_of(parents: &[Option<usize>]) -> Vec<usize> {
    let mut roots: Vec<Option<usize>> = vec![None; parents.len()];
    let mut chain = Vec::new();
    for start in 0..parents.len() {
        let mut row = start;
        let root = loop {
            if let Some(root) = roots[row] {
                break root;
            }
            chain.push(row);
            match parents[row] {
                Some(p) if chain.len() <= parents.len() => row = p,
                _ => break row,
            }
        };
        for r in chain.drain(..) {
            roots[r] = Some(root);
        }
    }
    roots.into_iter().map(|r| r.unwrap_or_default()).collect()
}

/// A cycle through `parent` and `depends_on` edges, as the rows in order with the first repeated.
///
/// An iterative depth-first search: a chain of any length cannot overflow the stack.
fn find_cycle(parents: &[Option<usize>], depends: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let edge = |row: usize, k: usize| -> Option<usize> {
        match parents[row] {
            Some(p) if k == 0 => Some(p),
            Some(_) => depends[row].get(k - 1).copied(),
            None => depends[row].get(k).copied(),
        }
    };
    let mut marks = vec![Mark::New; parents.len()];
    // The active path: each row with the index of its next edge to follow.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..parents.len() {
        if marks[start] != Mark::New {
            continue;
        }
        marks[start] = Mark::Active;
        stack.push((start, 0));
        while let Some((row, k)) = stack.last_mut() {
            let row = *row;
            let Some(next) = edge(row, *k) else {
                marks[row] = Mark::Done;
                stack.pop();
                continue;
            };
            *k += 1;
            match marks[next] {
                Mark::Active => {
                    let from = stack.iter().position(|&(r, _)| r == next).unwrap_or(0);
                    let mut cycle: Vec<usize> = stack[from..].iter().map(|&(r, _)| r).collect();
                    cycle.push(next);
                    return Some(cycle);
                }
                Mark::New => {
                    marks[next] = Mark::Active;
                    stack.push((next, 0));
                }
                Mark::Done => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    /// A long parent chain and a wide matrix validate without deep recursion
    /// (test threads have small stacks) and in near-linear time.
    #[test]
    fn long_chains_and_many_rows_validate() {
        let mut yaml = String::from(
            "version: 1\nname: chain\npipeline:\n  source: { type: jsonl, config: { path: in.jsonl } }\n  sink: { type: jsonl, config: { path: out.jsonl } }\nmatrix:\n  - id: r0\n",
        );
        for i in 1..20_000 {
            yaml.push_str(&format!(
                "  - id: r{i}\n    parent: r{}\n    sink: {{ config: {{ path: \"out/${{r{}.id}}.jsonl\" }} }}\n",
                i - 1,
                i - 1
            ));
        }
        let started = std::time::Instant::now();
        let crate::ir::Definition::Matrix(m) = crate::check_yaml("chain.yaml", &yaml).unwrap() else {
            panic!("a matrix")
        };
        assert_eq!(m.rows.len(), 20_000);
        assert!(m.rows.iter().all(|r| r.root == 0));
        assert_eq!(m.rows[19_998].children, [19_999]);
        // Quadratic validation took minutes here; near-linear takes about a second even unoptimized.
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "{:?}", started.elapsed());
    }
}

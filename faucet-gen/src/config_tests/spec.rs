//! The spec file of config tests, faucet-stream's `tests:` grammar: its
//! keys declared once, and the reader that checks a file against them.

use std::collections::HashSet;

use crate::diag::{Diagnostics, Loc};
use crate::load::{Node, Value};
use crate::read::{Fields, boolean, int_in, one_of};
use crate::spec::{Field, Kind, Spec};

/// A spec file: `version` and its `tests`.
pub(crate) static SPEC_FILE: Spec = Spec {
    name: "config_tests",
    doc: "Config tests: fixture records run through a pipeline's transforms, contract and dead-letter routing, each case a `#[test]`.",
    fields: &[
        Field::req("version", Kind::Int(1, 1), "The spec grammar's version: 1."),
        Field::req("tests", Kind::List(&Kind::Object(&CASE)), "The cases, one `#[test]` each."),
    ],
    variants: &[],
};

/// One case of `tests:`.
pub(crate) static CASE: Spec = Spec {
    name: "config_tests.case",
    doc: "One test case: a pipeline, its input and what it must produce.",
    fields: &[
        Field::req("name", Kind::Str, "Unique in the file; names the `#[test]` function."),
        Field::opt(
            "config",
            Kind::Str,
            "The pipeline config under test, relative to the spec file: its transforms, contract and dead-letter queue run; its source, sink and state store are replaced by in-memory ones.",
        ),
        Field::opt(
            "pipeline",
            Kind::Object(&INLINE_PIPELINE),
            "The pipeline logic under test written here instead of `config` (it always has a dead-letter queue).",
        ),
        Field::opt(
            "row",
            Kind::Str,
            "The row of `config`'s `matrix:` to test, by its `id` (`row-N` for the N-th row without one; a config without a matrix is `row-0`). Needed when the matrix has several rows.",
        ),
        Field::req(
            "input",
            Kind::AnyOf(&[Kind::List(&Kind::Json), Kind::Str]),
            "The records the source yields: a list, or a `.jsonl`, `.ndjson`, `.json` or `.yaml` file relative to the spec file (read at build time).",
        ),
        Field::opt(
            "page_size",
            Kind::Int(0, 1_000_000),
            "Records per source page; 0 puts them all in one page.",
        )
        .default("0"),
        Field::opt(
            "clock",
            Kind::Str,
            "What `${now.…}` renders: an RFC 3339 time (`2026-02-01T00:00:00Z`) or a date. Default: when the test runs.",
        ),
        Field::req("expect", Kind::Object(&EXPECT), "What the run must produce."),
    ],
    variants: &[],
};

/// A case's inline `pipeline:`.
pub(crate) static INLINE_PIPELINE: Spec = Spec {
    name: "config_tests.pipeline",
    doc: "Pipeline logic without a config file.",
    fields: &[
        Field::opt(
            "transforms",
            Kind::List(&Kind::Object(&crate::validate::TRANSFORM)),
            "Applied to every record, in order.",
        ),
        Field::opt(
            "contract",
            Kind::Object(&crate::record_schema::contract::CONTRACT),
            "The promised shape of the records written.",
        ),
        Field::not_yet("quality"),
        Field::not_yet("masking"),
    ],
    variants: &[],
};

/// A case's `expect:`.
pub(crate) static EXPECT: Spec = Spec {
    name: "config_tests.expect",
    doc: "What a case's run must produce; at least one of `records`, `dlq`, `records_written`, `dlq_count` and `error`.",
    fields: &[
        Field::opt("records", Kind::List(&Kind::Json), "The records the sink receives, in order."),
        Field::opt("dlq", Kind::List(&Kind::Json), "The records dead-lettered (their payloads), in order."),
        Field::opt("records_written", Kind::Int(0, i64::MAX), "How many records the sink receives."),
        Field::opt("dlq_count", Kind::Int(0, i64::MAX), "How many records are dead-lettered."),
        Field::opt("error", Kind::Str, "The run must fail with a message containing this text."),
        Field::opt("unordered", Kind::Bool, "Compare `records` and `dlq` as multisets.").default("false"),
        Field::opt(
            "match",
            Kind::OneOf(MATCH_MODES),
            "`exact`: records are equal; `subset`: an expected record names only the fields it checks.",
        )
        .default("\"exact\""),
    ],
    variants: &[],
};

const MATCH_MODES: &[&str] = &["exact", "subset"];

/// A checked spec file.
#[derive(Debug)]
pub(crate) struct SpecFile {
    pub cases: Vec<Case>,
}

/// A checked case.
#[derive(Debug)]
pub(crate) struct Case {
    pub name: String,
    /// Where `name` is: the case's line in failures.
    pub name_loc: Loc,
    pub pipeline: PipelineRef,
    pub input: Input,
    pub page_size: u64,
    pub clock: Option<String>,
    pub expect: Expect,
}

/// The pipeline a case runs.
#[derive(Debug)]
pub(crate) enum PipelineRef {
    /// `config:`, a path relative to the spec file, and `row:`, the matrix row tested.
    Config { path: String, loc: Loc, row: Option<(String, Loc)> },
    /// `pipeline:`, the map written in the case.
    Inline(Node),
}

/// A case's `input:`.
#[derive(Debug)]
pub(crate) enum Input {
    /// The records written in the case.
    Inline(Vec<serde_json::Value>),
    /// A fixture file, relative to the spec file.
    File { path: String, loc: Loc },
}

/// A case's `expect:`.
#[derive(Debug, Default)]
pub(crate) struct Expect {
    pub records: Option<Vec<serde_json::Value>>,
    pub dlq: Option<Vec<serde_json::Value>>,
    pub records_written: Option<u64>,
    pub dlq_count: Option<u64>,
    pub error: Option<String>,
    pub unordered: bool,
    pub subset: bool,
}

/// Reads a spec file's tree, reporting every problem.
pub(crate) fn read(root: &Node, diags: &mut Diagnostics) -> Option<SpecFile> {
    let mut top = Fields::with_spec(root, &SPEC_FILE, "the test spec", diags)?;
    // A wrong version is reported; the cases are still checked, for every error at once.
    if let Some(v) = top.require("version", diags) {
        int_in(v, "version", 1, 1, diags);
    }
    let tests = top.require("tests", diags);
    top.finish(diags);
    let tests = tests?;
    let Value::Seq(items) = &tests.value else {
        diags
            .error(&tests.loc, format!("`tests` must be a list of cases, found {}", tests.value.kind_name()));
        return None;
    };
    if items.is_empty() {
        diags.error_help(
            &tests.loc,
            "`tests` has no cases",
            "add a case: `- { name: …, config: …, input: […], expect: {…} }`",
        );
    }
    let mut names = HashSet::new();
    let cases: Vec<Option<Case>> = items.iter().map(|item| case(item, &mut names, diags)).collect();
    cases.into_iter().collect::<Option<Vec<_>>>().map(|cases| SpecFile { cases })
}

fn case(node: &Node, names: &mut HashSet<String>, diags: &mut Diagnostics) -> Option<Case> {
    let mut f = Fields::with_spec(node, &CASE, "a test case", diags)?;
    let name_node = f.require("name", diags);
    let config = f.get("config");
    let pipeline = f.get("pipeline");
    let row = f.get("row");
    let input = f.require("input", diags);
    let page_size = f.get("page_size").map(|n| int_in(n, "page_size", 0, 1_000_000, diags));
    let clock = f.get("clock").map(|n| clock(n, diags));
    let expect = f.require("expect", diags).map(|n| read_expect(n, diags));
    f.finish(diags);
    let name = name_node.and_then(|n| string(n, "name", diags));
    if let (Some(name), Some(n)) = (&name, name_node) {
        if name.trim().is_empty() {
            diags.error_help(
                &n.loc,
                "a test case's `name` is empty",
                "name the case: it names the `#[test]`",
            );
        } else if !names.insert(name.clone()) {
            diags.error_help(
                &n.loc,
                format!("a second test case named {name:?}"),
                "give each case of the file its own name",
            );
        }
    }
    let pipeline = match (config, pipeline) {
        (Some(_), Some(p)) => {
            diags.error_help(
                &p.loc,
                "a case has either `config` or `pipeline`, not both",
                "remove one of them",
            );
            None
        }
        (Some(c), None) => {
            let row = match row {
                Some(r) => string(r, "row", diags).map(|id| Some((id, r.loc.clone()))),
                None => Some(None),
            };
            let path = string(c, "config", diags);
            path.zip(row).map(|(path, row)| PipelineRef::Config { path, loc: c.loc.clone(), row })
        }
        (None, Some(p)) => {
            if let Some(r) = row {
                diags.error_help(
                    &r.loc,
                    "`row` selects a row of a `config`'s matrix; an inline `pipeline` has none",
                    "remove `row`, or test the config file: `config: pipeline.yaml`",
                );
            }
            inline_pipeline(p, diags).map(|()| PipelineRef::Inline(p.clone()))
        }
        (None, None) => {
            diags.error_help(
                &node.loc,
                "a test case needs the pipeline it tests",
                "add `config: pipeline.yaml` (a config file, relative to this spec) or `pipeline: { transforms: […] }`",
            );
            None
        }
    };
    let input = match input.map(|n| (n, &n.value)) {
        Some((_, Value::Seq(items))) => Some(Input::Inline(items.iter().map(Node::to_json).collect())),
        Some((n, Value::Str(path))) => Some(Input::File { path: path.clone(), loc: n.loc.clone() }),
        Some((n, other)) => {
            diags.error_help(
                &n.loc,
                format!(
                    "`input` must be a list of records or a fixture file's path, found {}",
                    other.kind_name()
                ),
                "write `input: [ { id: 1 } ]` or `input: fixtures/orders.jsonl`",
            );
            None
        }
        None => None,
    };
    Some(Case {
        name: name?,
        name_loc: name_node?.loc.clone(),
        pipeline: pipeline?,
        input: input?,
        page_size: match page_size {
            Some(size) => size? as u64,
            None => 0,
        },
        clock: match clock {
            Some(clock) => Some(clock?),
            None => None,
        },
        expect: expect??,
    })
}

/// Checks the keys of an inline `pipeline:` (its transforms and contract are
/// checked with the rest of the pipeline it becomes).
fn inline_pipeline(node: &Node, diags: &mut Diagnostics) -> Option<()> {
    let mut f = Fields::with_spec(node, &INLINE_PIPELINE, "the case's `pipeline`", diags)?;
    f.entry("transforms");
    f.entry("contract");
    let before = diags.len();
    f.finish(diags);
    (diags.len() == before).then_some(())
}

fn read_expect(node: &Node, diags: &mut Diagnostics) -> Option<Expect> {
    let mut f = Fields::with_spec(node, &EXPECT, "`expect`", diags)?;
    let list = |n: Option<&Node>, key: &str, diags: &mut Diagnostics| match n.map(|n| (n, &n.value)) {
        Some((_, Value::Seq(items))) => Some(Some(items.iter().map(Node::to_json).collect::<Vec<_>>())),
        Some((n, other)) => {
            diags.error(&n.loc, format!("`{key}` must be a list of records, found {}", other.kind_name()));
            None
        }
        None => Some(None),
    };
    let count = |n: Option<&Node>, key: &str, diags: &mut Diagnostics| match n {
        Some(n) => int_in(n, key, 0, i64::MAX, diags).map(|c| Some(c as u64)),
        None => Some(None),
    };
    let records = list(f.get("records"), "records", diags);
    let dlq = list(f.get("dlq"), "dlq", diags);
    let records_written = count(f.get("records_written"), "records_written", diags);
    let dlq_count = count(f.get("dlq_count"), "dlq_count", diags);
    let error = match f.get("error") {
        Some(n) => string(n, "error", diags).map(Some),
        None => Some(None),
    };
    let unordered = f.get("unordered").map(|n| boolean(n, "unordered", diags));
    let mode = f.get("match").map(|n| one_of(n, "match", MATCH_MODES, diags));
    f.finish(diags);
    let expect = Expect {
        records: records?,
        dlq: dlq?,
        records_written: records_written?,
        dlq_count: dlq_count?,
        error: error?,
        unordered: unordered.unwrap_or(Some(false))?,
        subset: mode.unwrap_or(Some("exact"))? == "subset",
    };
    let checks = [
        expect.records.is_some(),
        expect.dlq.is_some(),
        expect.records_written.is_some(),
        expect.dlq_count.is_some(),
        expect.error.is_some(),
    ];
    if !checks.contains(&true) {
        diags.error_help(
            &node.loc,
            "`expect` checks nothing",
            "set at least one of `records`, `dlq`, `records_written`, `dlq_count` and `error`",
        );
        return None;
    }
    Some(expect)
}

/// `clock:` as written, checked as the runtime will read it.
fn clock(node: &Node, diags: &mut Diagnostics) -> Option<String> {
    let text = string(node, "clock", diags)?;
    let date = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_ok();
    if date || chrono::DateTime::parse_from_rfc3339(&text).is_ok() {
        return Some(text);
    }
    diags.error_help(
        &node.loc,
        format!("`clock` {text:?} is not an RFC 3339 time or a date"),
        "write `clock: 2026-02-01T00:00:00Z` or `clock: 2026-02-01`",
    );
    None
}

/// A string value (any text: names and messages are not references).
fn string(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        other => {
            diags.error(&node.loc, format!("`{key}` must be a string, found {}", other.kind_name()));
            None
        }
    }
}

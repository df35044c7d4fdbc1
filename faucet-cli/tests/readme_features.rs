//! README's feature table ("Your own crate") against what the generator
//! emits: for a pipeline using each source, sink and state store type the
//! grammar knows, the `faucet-runtime` features that gate its generated code
//! are exactly the features whose row names it; every feature of
//! faucet-runtime's Cargo.toml has a row, and the rows marked `(default)`
//! are its default features. Also: `faucet-gen new` writes the dependencies
//! of README's build.rs `Cargo.toml`.

use std::collections::BTreeSet;
use std::path::Path;

/// A URL the generator cannot introspect (its variable is never set), so no test needs a server.
const URL: &str = r#""${env:FAUCET_README_TEST_URL}""#;

/// The row of what needs no feature.
const NONE: &str = "(none)";

/// The table's columns, and the suffix of a gate's description (`"`jsonl` sink"`) in each.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Column {
    Sources,
    Sinks,
    StateStores,
}

impl Column {
    fn cell(self) -> usize {
        match self {
            Column::Sources => 1,
            Column::Sinks => 2,
            Column::StateStores => 3,
        }
    }

    fn gate_suffix(self) -> &'static str {
        match self {
            Column::Sources => " source",
            Column::Sinks => " sink",
            Column::StateStores => " state store",
        }
    }
}

/// One connector or store in a minimal pipeline: its `type`, how the table
/// names it (a qualifier when the type's feature depends on its config), and its block.
struct Case {
    column: Column,
    ty: &'static str,
    named: &'static str,
    block: String,
}

fn case(column: Column, ty: &'static str, named: &'static str, block: &str) -> Case {
    Case { column, ty, named, block: block.replace("URL", URL) }
}

fn cases() -> Vec<Case> {
    use Column::*;
    let kafka_tls = r#"auth: { type: ssl, config: { ca_path: ca.pem } }"#;
    vec![
        case(Sources, "csv", "`csv`", "{ type: csv, config: { path: in.csv } }"),
        case(Sources, "jsonl", "`jsonl`", "{ type: jsonl, config: { path: in.jsonl } }"),
        case(
            Sources,
            "file",
            "`file` with a `path`",
            "{ type: file, config: { path: in.jsonl, format: json_lines } }",
        ),
        case(
            Sources,
            "file",
            "`file` with a `root`",
            r#"{ type: file, config: { root: data, prefix: "*.jsonl", file_format: jsonl } }"#,
        ),
        case(
            Sources,
            "memory",
            "`memory`",
            r#"{ type: memory, config: { store: input, prefix: "*.jsonl", file_format: jsonl } }"#,
        ),
        case(
            Sources,
            "s3",
            "`s3`",
            r#"{ type: s3, config: { bucket: input, prefix: "*.jsonl", file_format: jsonl, region: eu-west-1 } }"#,
        ),
        case(
            Sources,
            "gcs",
            "`gcs`",
            r#"{ type: gcs, config: { bucket: input, prefix: "*.jsonl", file_format: jsonl, anonymous: true } }"#,
        ),
        case(
            Sources,
            "azure",
            "`azure`",
            r#"{ type: azure, config: { container: input, account: acct, prefix: "*.jsonl", file_format: jsonl } }"#,
        ),
        case(
            Sources,
            "azure-blob",
            "`azure-blob`",
            r#"{ type: azure-blob, config: { container: input, account: acct, prefix: "*.jsonl", file_format: jsonl } }"#,
        ),
        case(
            Sources,
            "rest",
            "`rest`",
            r#"{ type: rest, config: { base_url: "http://127.0.0.1:9/api", path: /users, records_path: "$.data[*]" } }"#,
        ),
        case(
            Sources,
            "postgres",
            "`postgres`",
            "{ type: postgres, config: { connection_url: URL, table: orders } }",
        ),
        case(
            Sources,
            "postgres_cdc",
            "`postgres_cdc`",
            "{ type: postgres_cdc, config: { connection_url: URL, slot_name: s, publication_name: p, tables: [orders] } }",
        ),
        case(
            Sources,
            "postgres-cdc",
            "`postgres-cdc`",
            "{ type: postgres-cdc, config: { connection_url: URL, slot_name: s, publication_name: p, tables: [orders] } }",
        ),
        case(
            Sources,
            "kafka",
            "`kafka`",
            r#"{ type: kafka, config: { brokers: "127.0.0.1:9092", topics: [orders], group_id: g } }"#,
        ),
        case(
            Sources,
            "kafka",
            "`kafka` with `auth` `ssl`",
            &format!(
                r#"{{ type: kafka, config: {{ brokers: "127.0.0.1:9092", topics: [orders], group_id: g, {kafka_tls} }} }}"#
            ),
        ),
        case(Sources, "sqlite", "`sqlite`", "{ type: sqlite, config: { database_url: URL, table: orders } }"),
        case(Sources, "mysql", "`mysql`", "{ type: mysql, config: { connection_url: URL, table: orders } }"),
        case(Sinks, "jsonl", "`jsonl`", "{ type: jsonl, config: { path: out.jsonl } }"),
        case(Sinks, "csv", "`csv`", "{ type: csv, config: { path: out.csv } }"),
        case(Sinks, "stdout", "`stdout`", "{ type: stdout }"),
        case(
            Sinks,
            "file",
            "`file` with a `path`",
            "{ type: file, config: { path: out.jsonl, format: json_lines } }",
        ),
        case(Sinks, "file", "`file` with a `root`", "{ type: file, config: { root: out, prefix: daily } }"),
        case(Sinks, "memory", "`memory`", "{ type: memory, config: { store: output } }"),
        case(Sinks, "s3", "`s3`", "{ type: s3, config: { bucket: output, region: eu-west-1 } }"),
        case(Sinks, "gcs", "`gcs`", "{ type: gcs, config: { bucket: output, anonymous: true } }"),
        case(Sinks, "azure", "`azure`", "{ type: azure, config: { container: output, account: acct } }"),
        case(
            Sinks,
            "azure-blob",
            "`azure-blob`",
            "{ type: azure-blob, config: { container: output, account: acct } }",
        ),
        case(
            Sinks,
            "postgres",
            "`postgres`",
            "{ type: postgres, config: { connection_url: URL, table_name: orders } }",
        ),
        case(
            Sinks,
            "mysql",
            "`mysql`",
            "{ type: mysql, config: { connection_url: URL, table_name: orders } }",
        ),
        case(
            Sinks,
            "sqlite",
            "`sqlite`",
            "{ type: sqlite, config: { database_url: URL, table_name: orders, column_mapping: auto_map } }",
        ),
        case(
            Sinks,
            "kafka",
            "`kafka`",
            r#"{ type: kafka, config: { brokers: "127.0.0.1:9092", topic: orders } }"#,
        ),
        case(
            Sinks,
            "kafka",
            "`kafka` with `auth` `ssl`",
            &format!(
                r#"{{ type: kafka, config: {{ brokers: "127.0.0.1:9092", topic: orders, {kafka_tls} }} }}"#
            ),
        ),
        case(StateStores, "memory", "`memory`", "{ type: memory }"),
        case(StateStores, "file", "`file`", "{ type: file, config: { path: out/state } }"),
        case(StateStores, "postgres", "`postgres`", "{ type: postgres, config: { url: URL } }"),
        case(StateStores, "redis", "`redis`", "{ type: redis, config: { url: URL } }"),
    ]
}

/// The pipeline around a case: a `jsonl` source and a `stdout` sink unless the case replaces one.
fn pipeline(case: &Case) -> String {
    let (mut source, mut sink, mut state) = (
        "{ type: jsonl, config: { path: in.jsonl } }".to_owned(),
        "{ type: stdout }".to_owned(),
        String::new(),
    );
    match case.column {
        Column::Sources => source = case.block.clone(),
        Column::Sinks => sink = case.block.clone(),
        Column::StateStores => state = format!("\n  state: {}", case.block),
    }
    format!("version: 1\nname: t\npipeline:\n  source: {source}\n  sink: {sink}{state}\n")
}

/// The features gating the generated code's connectors of `column`:
/// `rt::gate_state_postgres!("…", "`postgres` state store", …)` gives `state-postgres`.
fn gated_features(code: &str, column: Column) -> BTreeSet<String> {
    let mut features = BTreeSet::new();
    for (at, _) in code.match_indices("gate_") {
        let rest = &code[at + "gate_".len()..];
        let Some(bang) = rest.find("!(") else { continue };
        let feature = rest[..bang].replace('_', "-");
        // The gate's arguments: the location prefix, then the description.
        let strings: Vec<&str> = rest[bang..].split('"').skip(1).step_by(2).take(2).collect();
        if strings.get(1).is_some_and(|what| what.ends_with(column.gate_suffix())) {
            features.insert(feature);
        }
    }
    features
}

struct Row {
    /// `None` for the row of what needs no feature.
    feature: Option<String>,
    default: bool,
    cells: Vec<String>,
}

fn readme_table() -> Vec<Row> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let header = "| Feature | Sources | Sinks | Also |";
    let start = readme.find(header).expect("README's feature table (its header changed?)");
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<String> = line.trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect();
            assert_eq!(cells.len(), 4, "a row of four cells: {line}");
            let feature = cells[0].split('`').nth(1).map(str::to_owned);
            assert!(feature.is_some() || cells[0] == "(none)", "a feature in backticks, or (none): {line}");
            Row { feature, default: cells[0].contains("(default)"), cells }
        })
        .collect()
}

/// Whether `cell` names the case: `named` appears, and an unqualified name
/// (`` `kafka` ``) does not count where the cell qualifies it (`` `kafka` with … ``).
fn names(cell: &str, named: &str) -> bool {
    let qualified = named.contains(" with ");
    cell.match_indices(named).any(|(at, _)| qualified || !cell[at + named.len()..].starts_with(" with"))
}

/// The `type` values the grammar's JSON Schema allows in a `$defs` union.
fn schema_types(def: &str) -> BTreeSet<String> {
    let schema = serde_json::to_value(faucet_gen::schema::json_schema()).unwrap();
    let union = schema["$defs"][def]["anyOf"].as_array().unwrap_or_else(|| panic!("no $defs.{def}.anyOf"));
    union.iter().map(|v| v["properties"]["type"]["const"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn every_connector_and_store_has_the_feature_readme_names() {
    let rows = readme_table();
    let mut wrong = Vec::new();
    for case in cases() {
        let yaml = pipeline(&case);
        let code = faucet_gen::generate_string("t.yaml", &yaml, &faucet_gen::CodegenOptions::default())
            .unwrap_or_else(|d| panic!("{yaml}\n{d:?}"));
        let gated = gated_features(&code, case.column);
        let listed: BTreeSet<String> = rows
            .iter()
            .filter(|row| names(&row.cells[case.column.cell()], case.named))
            .map(|row| row.feature.clone().unwrap_or_else(|| NONE.to_owned()))
            .collect();
        let needed: BTreeSet<String> =
            if gated.is_empty() { BTreeSet::from([NONE.to_owned()]) } else { gated };
        if needed != listed {
            wrong.push(format!(
                "{:?} {}: the code needs {needed:?}, README lists {listed:?}",
                case.column, case.named
            ));
        }
    }
    assert!(wrong.is_empty(), "README's feature table is wrong:\n{}", wrong.join("\n"));
}

#[test]
fn the_cases_cover_every_type_of_the_grammar() {
    let cases = cases();
    for (def, column) in
        [("source~row", Column::Sources), ("sink~row", Column::Sinks), ("state", Column::StateStores)]
    {
        let covered: BTreeSet<String> =
            cases.iter().filter(|c| c.column == column).map(|c| c.ty.to_owned()).collect();
        assert_eq!(covered, schema_types(def), "add a case (and a README row) for each new {column:?} type");
    }
}

#[test]
fn every_runtime_feature_has_a_row() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../faucet-runtime/Cargo.toml"))
            .unwrap();
    let section = manifest.split("[features]").nth(1).unwrap().split("\n[").next().unwrap();
    let declared: BTreeSet<String> = section
        .lines()
        .filter_map(|line| line.split_once(" = ").map(|(name, _)| name.trim().to_owned()))
        .filter(|name| !name.starts_with('#'))
        .collect();
    let default_line = section.lines().find(|l| l.starts_with("default = ")).expect("default features");
    let defaults: BTreeSet<String> = default_line.split('"').skip(1).step_by(2).map(str::to_owned).collect();

    let rows = readme_table();
    let listed: BTreeSet<String> = rows.iter().filter_map(|r| r.feature.clone()).collect();
    let mut expected = declared;
    expected.remove("default");
    assert_eq!(listed, expected, "README's feature table against faucet-runtime's [features]");
    let marked: BTreeSet<String> =
        rows.iter().filter(|r| r.default).filter_map(|r| r.feature.clone()).collect();
    assert_eq!(marked, defaults, "the rows marked (default)");
}

/// Each dependency of a manifest as `section key`, with its value for
/// those not from faucet (whose source, path or git, differs by design).
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let mut section = "";
    let mut out = BTreeSet::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section.ends_with("dependencies]")
            && let Some((key, value)) = line.split_once(" = ")
            && !key.starts_with('#')
        {
            let value = if key.starts_with("faucet-") { "…" } else { value };
            out.insert(format!("{section} {key} = {value}"));
        }
    }
    out
}

#[test]
fn the_scaffold_has_the_dependencies_readme_recommends() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let way = readme.find("**build.rs + YAML**").expect("README's build.rs way in \"Your own crate\"");
    let block = readme[way..].split("```toml\n").nth(1).unwrap().split("```").next().unwrap();
    let deps = faucet_gen_cli::scaffold::Deps::Path("/src/faucet".into());
    let files = faucet_gen_cli::scaffold::render("my-pipes", Path::new("/src/my-pipes"), &deps, false);
    let scaffold = &files.iter().find(|(path, _)| *path == "Cargo.toml").unwrap().1;
    assert_eq!(dependencies(scaffold), dependencies(block), "the scaffold's Cargo.toml against README's");
}

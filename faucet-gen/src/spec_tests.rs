//! The specs and the validators agree: every key a spec declares is read by
//! its validator (the reverse, reading an undeclared key, panics in debug
//! builds). Connectors declared with `settings!` read every key by
//! construction; this holds the hand-written specs to the same.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::read::TOUCHED;
use crate::spec::{Kind, Spec};
use crate::validate::TOP;

/// Specs that describe a map the validator reads by hand (to keep a message
/// that predates specs), so only their shape is declared.
const SHAPE_ONLY: &[&str] = &["column_mapping.jsonb", "kafka.value_format"];

/// Configs that reach variants no example or diagnostics case uses.
const EXTRA: &[&str] = &[
    r#"
pipeline:
  source:
    type: gcs
    config: { bucket: raw-events, file_format: jsonl, auth: { type: service_account_json_file, config: { path: /sa.json } } }
  sink: { type: stdout }
"#,
    r#"
pipeline:
  source:
    type: rest
    config:
      base_url: https://api.example.com
      auth: { type: api_key_query, config: { param: key, value: "${env:K}" } }
      pagination: { type: CursorInBody, next_token_path: "$.next", body_cursor_field: cursor }
      rate_limit: { requests_per_second: 2 }
      replication_method: { type: Incremental }
      replication_key: updated_at
  sink: { type: kafka, config: { brokers: "k:9092", topic: { type: fixed, name: t } } }
"#,
    r#"
pipeline:
  source:
    type: rest
    config:
      base_url: https://api.example.com
      auth: { type: basic, config: { username: u, password: "${env:P}" } }
      pagination: { type: Offset, offset_param: o, limit_param: l, limit: 10, total_path: "$.total" }
  sink: { type: kafka, config: { brokers: "k:9092", topic: { type: from_path, path: meta.topic } } }
"#,
    r#"
pipeline:
  source:
    type: rest
    config:
      base_url: https://api.example.com
      auth: { type: oauth2, config: { token_url: "https://a.example.com/t", client_id: c, client_secret: "${env:S}", scopes: a, expiry_ratio: 0.5 } }
      pagination: { type: NextLinkInBody, next_link_path: "$.next" }
  sink: { type: stdout }
"#,
    r#"
pipeline:
  source:
    type: rest
    config:
      base_url: https://api.example.com
      auth: { type: api_key, config: { header: X-Key, value: "${env:K}" } }
      pagination: { type: Cursor, next_token_path: "$.next", param_name: c }
  sink: { type: stdout }
"#,
    r#"
pipeline:
  source:
    type: rest
    config:
      base_url: https://api.example.com
      auth: { type: bearer, config: { token: "${env:T}" } }
      pagination: { type: PageNumber, param_name: p, page_size: 10, page_size_param: n }
  sink: { type: stdout }
"#,
    r#"
pipeline:
  source: { type: memory, config: { file_format: csv } }
  transforms:
    - { type: flatten }
    - { type: rename_keys, config: { pattern: a, replacement: b } }
    - { type: snake_case }
    - { type: keys_case, config: { mode: camel } }
  sink: { type: memory }
  state: { type: memory }
"#,
];

/// Every YAML file under `dir`, recursively (skipping build output).
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("target") {
                yaml_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Every spec reachable from the root, each once.
fn reachable(spec: &'static Spec, seen: &mut Vec<&'static Spec>) {
    if seen.iter().any(|s| s.name == spec.name) {
        return;
    }
    seen.push(spec);
    fn kind(k: &'static Kind, seen: &mut Vec<&'static Spec>) {
        match k {
            Kind::Object(s) => reachable(s, seen),
            Kind::List(k) | Kind::Map(k) => kind(k, seen),
            Kind::AnyOf(ks) => ks.iter().for_each(|k| kind(k, seen)),
            // A group's keys are its parent's; the maps they hold are reachable.
            Kind::Flatten(group) => group.fields.iter().for_each(|f| kind(&f.kind, seen)),
            _ => {}
        }
    }
    for f in spec.fields {
        kind(&f.kind, seen);
    }
    for v in spec.variants {
        if let Some(s) = v.spec {
            if v.nested {
                reachable(s, seen);
            } else {
                s.fields.iter().for_each(|f| kind(&f.kind, seen));
            }
        }
    }
}

#[test]
fn every_declared_key_is_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["examples", "tests", "bench", "faucet-gen/tests", "faucet-cli/tests"] {
        yaml_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "expected the repository's YAML files, found {}", files.len());
    TOUCHED.with(|t| t.borrow_mut().clear());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let _ = crate::check_yaml(&file.display().to_string(), &text);
    }
    for (i, text) in EXTRA.iter().enumerate() {
        if let Err(d) = crate::check_yaml(&format!("extra_{i}.yaml"), text) {
            panic!("extra config {i} must be valid:\n{d}");
        }
    }
    let touched = TOUCHED.with(|t| t.borrow().clone());
    let mut specs = Vec::new();
    reachable(&TOP, &mut specs);
    let mut unread = BTreeSet::new();
    for spec in specs.iter().filter(|s| !SHAPE_ONLY.contains(&s.name)) {
        let flattened = spec.variants.iter().filter(|v| !v.nested).filter_map(|v| v.spec);
        let fields = spec.keys().into_iter().chain(flattened.flat_map(|s| s.keys()));
        for f in fields.filter(|f| !f.not_yet) {
            if !touched.contains(&(spec.name, f.key)) {
                unread.insert(format!("{}.{}", spec.name, f.key));
            }
        }
    }
    assert!(unread.is_empty(), "declared but never read by a validator: {unread:?}");
}

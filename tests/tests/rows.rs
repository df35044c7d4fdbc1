//! The row transforms end to end: `filter` typed (generated comparisons)
//! and untyped (the runtime's predicate) keeping the same records, and
//! `explode` then `unpivot` (1→N twice) with a rejected record's DLQ
//! envelope pointing at its source record and the bookmark confirming the
//! pages, so a rerun writes nothing twice.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use faucet_runtime::{Pipeline, RecordType, Result, Source, Transform, Writes};
use serde_json::{Value, json};

/// Runs `pipeline` with `dir` as its directory; returns its report.
fn run(pipeline: &str, dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg(pipeline)
        .env("FAUCET_E2E_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    assert!(out.status.success(), "{pipeline} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("report JSON")
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Compiles only when the pipeline `build` makes reads `In` from its source and hands its sink `Out`.
fn moves<In: RecordType, Out: RecordType, S, T, K, D, St>(
    build: impl Fn() -> Result<Pipeline<S, T, K, D, St>>,
) where
    S: Source<Record = In>,
    T: Transform<In, Out = Out>,
    K: Writes<Out>,
{
    let _ = build;
}

/// Record `id` of the `rows_filter` input.
fn filter_record(id: i64) -> Value {
    let status = ["active", "trial", "gone", "Active"][(id % 4) as usize];
    let score = match id % 7 {
        0 => json!(0),
        3 => json!(0.0),
        5 => Value::Null,
        _ => json!(id as f64 / 8.0),
    };
    // In the schema's order, which a typed record writes.
    let mut r = serde_json::Map::new();
    r.insert("id".into(), json!(id));
    r.insert("status".into(), json!(status));
    r.insert("score".into(), score);
    if id % 3 != 0 {
        r.insert("note".into(), json!(format!("note {id}")));
    }
    r.insert("vip".into(), json!(id % 5 == 0));
    Value::Object(r)
}

#[test]
fn typed_and_untyped_filters_keep_the_same_records() {
    // Typed: structs from source to sink; the untyped build moves JSON.
    moves::<faucet_e2e::rows_filter::SourceRecord, faucet_e2e::rows_filter::Record, _, _, _, _, _>(
        faucet_e2e::rows_filter::pipeline,
    );
    moves::<Value, Value, _, _, _, _, _>(faucet_e2e::untyped::rows_filter::pipeline);
    let input: Vec<Value> = (1..=3_000).map(filter_record).collect();
    let (typed, untyped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&typed, &untyped] {
        let mut f = std::fs::File::create(dir.path().join("input.jsonl")).unwrap();
        for r in &input {
            writeln!(f, "{r}").unwrap();
        }
    }
    let report = run("rows_filter", typed.path());
    run("untyped_rows_filter", untyped.path());
    let typed_out = std::fs::read(typed.path().join("out.jsonl")).unwrap();
    assert!(
        typed_out == std::fs::read(untyped.path().join("out.jsonl")).unwrap(),
        "typed and untyped differ"
    );
    // faucet-stream's rules, written out: `in` is exact text, a null score is
    // not 0 (kept by `ne`), 0.0 is 0, `exists` needs the key, `eq false`.
    let expected: Vec<&Value> = input
        .iter()
        .filter(|r| r["status"] == "active" || r["status"] == "trial")
        .filter(|r| r["score"].as_f64() != Some(0.0))
        .filter(|r| r.get("note").is_some())
        .filter(|r| r["vip"] == false)
        .collect();
    let got = lines(&typed.path().join("out.jsonl"));
    assert!(!expected.is_empty() && expected.len() < input.len() / 2);
    assert_eq!(got.iter().collect::<Vec<_>>(), expected);
    assert_eq!(report["written"], expected.len(), "{report}");
}

/// Order `id` of the `rows_explode` input: `id % 4` lines (none for every fourth order).
fn order(id: u64) -> Value {
    let lines: Vec<Value> = (1..=id % 4)
        .map(|j| json!({"sku": format!("s{id}-{j}"), "qty": j, "price": j as f64 * 1.5}))
        .collect();
    json!({"id": id, "lines": lines, "placed": "2024-01-01"})
}

#[test]
fn explode_then_unpivot_dead_letters_by_source_record_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let orders: Vec<Value> = (1..=41).map(order).collect();
    let mut f = std::fs::File::create(dir.path().join("input.jsonl")).unwrap();
    for o in &orders {
        writeln!(f, "{o}").unwrap();
    }
    let report = run("rows_explode", dir.path());

    let mut expected = Vec::new();
    for o in &orders {
        for line in o["lines"].as_array().unwrap() {
            let (id, sku) = (&o["id"], &line["sku"]);
            expected.push(
                json!({"order_ref": id, "lines_sku": sku, "measure": "lines_qty", "amount": line["qty"]}),
            );
            expected.push(
                json!({"order_ref": id, "lines_sku": sku, "measure": "lines_price", "amount": line["price"]}),
            );
        }
    }
    let out = lines(&dir.path().join("out.jsonl"));
    assert_eq!(out, expected);
    let keys: Vec<&String> = out[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["order_ref", "lines_sku", "measure", "amount"]);

    // Every fourth order has no lines: rejected whole, indexed in its page of 4.
    let dlq = lines(&dir.path().join("dlq.jsonl"));
    let rejected: Vec<&Value> = orders.iter().filter(|o| o["id"].as_u64().unwrap() % 4 == 0).collect();
    assert_eq!(dlq.len(), rejected.len());
    for (env, o) in dlq.iter().zip(rejected) {
        assert_eq!(&env["payload"], o);
        assert_eq!(env["reason"], "transform");
        assert_eq!(env["record_index"], 3, "{env}");
        assert_eq!(env["error"]["message"], "explode: path '$.lines' did not yield a non-empty array");
    }
    assert_eq!(report["written"], expected.len(), "{report}");
    assert_eq!(report["dead_lettered"], dlq.len(), "{report}");

    // The bookmark passed every page: a rerun reads nothing and writes nothing twice.
    let again = run("rows_explode", dir.path());
    assert_eq!(again["written"], 0, "{again}");
    assert_eq!(lines(&dir.path().join("out.jsonl")).len(), expected.len());
}

#[test]
fn typed_explode_and_unpivot_write_what_the_untyped_build_writes() {
    let (typed, untyped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let orders: Vec<Value> = (1..=41).map(order).collect();
    let input: String = orders.iter().map(|o| format!("{o}\n")).collect();
    for dir in [&typed, &untyped] {
        std::fs::write(dir.path().join("input.jsonl"), &input).unwrap();
    }
    let report = run("typed_rows", typed.path());
    let untyped_report = run("untyped_typed_rows", untyped.path());
    assert_eq!(report["written"], untyped_report["written"], "{report} {untyped_report}");
    let (typed_out, untyped_out) = (
        std::fs::read(typed.path().join("out.jsonl")).unwrap(),
        std::fs::read(untyped.path().join("out.jsonl")).unwrap(),
    );
    assert!(typed_out == untyped_out, "typed and untyped outputs differ");

    // Every line but `s5-1` (filtered between the two), two measures each.
    let out = lines(&typed.path().join("out.jsonl"));
    let lines_kept: usize = orders.iter().map(|o| o["lines"].as_array().unwrap().len()).sum::<usize>() - 1;
    assert_eq!(out.len(), lines_kept * 2);
    assert_eq!(out[0], json!({"order_ref": 1, "lines_sku": "s1-1", "measure": "lines_qty", "amount": 1}));
    assert_eq!(out[1], json!({"order_ref": 1, "lines_sku": "s1-1", "measure": "lines_price", "amount": 1.5}));
    assert!(out.iter().all(|r| r["lines_sku"] != "s5-1"));

    // An order without lines is rejected whole, indexed in its page of 4, as untyped.
    let (dlq, untyped_dlq) =
        (lines(&typed.path().join("dlq.jsonl")), lines(&untyped.path().join("dlq.jsonl")));
    assert_eq!(dlq.len(), 10);
    for (env, other) in dlq.iter().zip(&untyped_dlq) {
        assert_eq!(
            (&env["payload"], &env["record_index"], &env["error"]),
            (&other["payload"], &other["record_index"], &other["error"])
        );
        assert_eq!(env["record_index"], 3, "{env}");
    }
}

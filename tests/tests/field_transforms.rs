//! The field transforms (`select`, `drop`, `set`, `rename_field`, `cast`,
//! `coalesce`) end to end:
//! - on a typed stream (`typed_fields`), moves and constants between
//!   generated structs, writing the same bytes as the same config run untyped;
//! - on records of unknown shape (`fields_untyped`), all six with faucet-stream's
//!   rules, a record whose `cast` fails dead-lettered naming the field.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use faucet_runtime::{Pipeline, RecordType, Result, Source, Transform, Writes};
use serde_json::{Map, Value, json};

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

/// The JSON lines of `file` in `dir`.
fn lines(dir: &Path, file: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
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

/// Record `id` of the `typed_fields` input: a null, an absent and a set
/// optional field; a null object; numbers whose text must survive.
fn typed_record(id: i64) -> Value {
    let mut r = Map::new();
    r.insert("id".into(), json!(if id % 5 == 0 { i64::MIN + id } else { id }));
    r.insert("first_name".into(), json!(format!("first \"{id}\" ✓")));
    r.insert("last_name".into(), if id % 3 == 0 { Value::Null } else { json!(format!("last {id}")) });
    r.insert("internal".into(), json!("secret"));
    match id % 4 {
        0 => {}
        1 => {
            r.insert("nick".into(), Value::Null);
        }
        _ => {
            r.insert("nick".into(), json!(format!("n{id}")));
        }
    }
    r.insert("address".into(), if id % 2 == 0 { Value::Null } else { json!({"city": format!("c{id}")}) });
    r.insert("score".into(), json!(id as f64 / 7.0));
    Value::Object(r)
}

#[test]
fn typed_field_transforms_move_values_and_write_what_the_untyped_run_writes() {
    moves::<faucet_e2e::typed_fields::SourceRecord, faucet_e2e::typed_fields::Record, _, _, _, _, _>(
        faucet_e2e::typed_fields::pipeline,
    );
    moves::<Value, Value, _, _, _, _, _>(faucet_e2e::untyped::typed_fields::pipeline);
    let (typed, untyped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut input = Vec::new();
    for id in 1..=2_000 {
        writeln!(input, "{}", typed_record(id)).unwrap();
    }
    for dir in [&typed, &untyped] {
        std::fs::write(dir.path().join("input.jsonl"), &input).unwrap();
    }
    assert_eq!(run("typed_fields", typed.path())["written"], 2_000);
    assert_eq!(run("untyped_typed_fields", untyped.path())["written"], 2_000);
    let typed_out = std::fs::read(typed.path().join("out.jsonl")).unwrap();
    let untyped_out = std::fs::read(untyped.path().join("out.jsonl")).unwrap();
    assert!(typed_out == untyped_out, "typed and untyped outputs differ");

    let out = lines(typed.path(), "out.jsonl");
    let constants = json!({"source": "crm", "version": 2, "ratio": 0.5, "whole": 2.0, "on": true, "tags": ["a", 1], "none": null});
    // Record 1: every field present; the swap of the two names, the object renamed.
    let mut expected = json!({
        "id": 1, "home": {"city": "c1"}, "first_name": "last 1", "last_name": "first \"1\" ✓", "nick": null, "score": -1,
    });
    expected.as_object_mut().unwrap().extend(constants.as_object().unwrap().clone());
    assert_eq!(out[0], expected);
    assert_eq!(
        keys(&out[0]),
        [
            "id",
            "home",
            "first_name",
            "last_name",
            "nick",
            "score",
            "source",
            "version",
            "ratio",
            "whole",
            "on",
            "tags",
            "none"
        ]
    );
    // Record 4: no nick (it stays absent), a null object, a null name.
    assert!(out[3].get("nick").is_none());
    assert_eq!(out[3]["home"], Value::Null);
    assert_eq!(out[2]["first_name"], Value::Null);
    assert_eq!(out[4]["id"], json!(i64::MIN + 5));
    // A double constant keeps its text: `2.0`, not `2`.
    let text = String::from_utf8(typed_out).unwrap();
    assert!(text.lines().next().unwrap().contains("\"whole\":2.0,"), "{}", text.lines().next().unwrap());
    assert!(!text.contains("internal") && !text.contains("secret"));
}

#[test]
fn untyped_field_transforms_follow_faucet_streams_rules() {
    let dir = tempfile::tempdir().unwrap();
    let input = [
        json!({"id": "1", "state": "", "phase": "run", "amount": 2, "active": "YES", "code": 1.50, "at": "2026-05-28T01:00:00+00:00", "internal": 1}),
        json!({"id": 2.0, "status": "done", "phase": "x", "amount": "1.25", "active": 0, "code": true, "country": null}),
        json!({"id": "two", "amount": 1}),
        json!({"id": 3, "state": "s", "country": "fr", "amount": null}),
        json!(["not", "an", "object"]),
    ];
    let text: String = input.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(dir.path().join("input.jsonl"), text).unwrap();
    let report = run("fields_untyped", dir.path());
    assert_eq!(
        (report["written"].as_u64(), report["dead_lettered"].as_u64()),
        (Some(3), Some(2)),
        "{report}"
    );
    let out = lines(dir.path(), "out.jsonl");
    assert_eq!(
        out[0],
        json!({"id": 1, "status": "run", "stage": "run", "amount": 2.0, "active": true, "code": "1.5", "at": "2026-05-28T01:00:00Z", "country": "unknown", "source": "crm"})
    );
    assert_eq!(
        keys(&out[0]),
        ["id", "status", "stage", "amount", "active", "code", "at", "country", "source"]
    );
    assert_eq!(
        out[1],
        json!({"id": 2, "status": "done", "stage": "x", "amount": 1.25, "active": false, "code": "true", "country": "unknown", "source": "crm"})
    );
    assert_eq!(out[2], json!(["not", "an", "object"]));
    let dlq = lines(dir.path(), "dlq.jsonl");
    let message = |i: usize| dlq[i]["error"]["message"].as_str().unwrap().to_owned();
    assert!(message(0).contains("cast: field \"id\" to int: \"two\" is not an integer"), "{}", message(0));
    assert!(message(1).contains("cast: field \"amount\" to float: null is not a number"), "{}", message(1));
    assert_eq!(dlq[0]["record_index"], 2);
}

//! The value transforms end to end (`redact`, `value_case`, `hash`,
//! `json_parse`, `json_encode`, `split`, `join`, `lookup`):
//!
//! - typed: `values_typed` (a declared schema; its three transforms are one
//!   generated transform) writes the same bytes as its untyped build, with
//!   the digests of published test vectors and no redacted value left;
//! - untyped: `values_untyped` runs every value transform, with a `lookup`
//!   table compiled in at build time, and dead-letters the record whose
//!   embedded JSON is invalid, naming the field.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn run(pipeline: &str, dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg(pipeline)
        .env("FAUCET_E2E_DIR", dir)
        .env("FAUCET_E2E_SALT", "ab")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    assert!(out.status.success(), "{pipeline} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("report JSON")
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

/// Record `id` of the `values_typed` input.
fn typed_record(id: u64) -> Value {
    let mut record = json!({
        "id": id,
        "email": if id == 1 { "c".to_owned() } else { format!("user{id}@example.com") },
        "name": if id.is_multiple_of(4) { Value::Null } else { json!(format!("ada  LOVELACE o'brien {id}")) },
    });
    if !id.is_multiple_of(3) {
        record["ssn"] = json!(format!("123-45-{id:04}"));
    }
    match id % 5 {
        0 => {}
        1 => record["pin"] = Value::Null,
        _ => record["pin"] = json!(987_654_000 + id),
    }
    record
}

#[test]
fn typed_redact_value_case_and_hash_write_what_the_untyped_build_writes() {
    let (typed, untyped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let input: String = (1..=3_000).map(|id| format!("{}\n", typed_record(id))).collect();
    for dir in [&typed, &untyped] {
        std::fs::write(dir.path().join("input.jsonl"), &input).unwrap();
    }
    let report = run("values_typed", typed.path());
    assert_eq!(report["written"], 3_000, "{report}");
    run("untyped_values_typed", untyped.path());
    let typed_out = std::fs::read(typed.path().join("out.jsonl")).unwrap();
    let untyped_out = std::fs::read(untyped.path().join("out.jsonl")).unwrap();
    assert!(typed_out == untyped_out, "typed and untyped outputs differ");

    let out = lines(&typed_out);
    // SHA-256 of the salt `ab` then `c`: the published digest of "abc".
    assert_eq!(out[0]["email"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(out[0]["name"], "Ada  Lovelace O'brien 1");
    assert_eq!(out[0]["ssn"], "***");
    assert_eq!(out[0]["pin"], "***", "a null that is present is masked too");
    assert_eq!(out[2].get("ssn"), None, "an absent field stays absent");
    assert_eq!(out[3]["name"], Value::Null);
    assert_eq!(out[4].get("pin"), None);
    let text = String::from_utf8(typed_out).unwrap();
    assert!(!text.contains("123-45-") && !text.contains("@example.com"), "a redacted or hashed value leaked");
    // No value of any record is its pin (a digest may hold the digits by chance, so whole values).
    for (record, id) in out.iter().zip(1..) {
        let pin = json!(987_654_000 + id);
        assert!(record.as_object().unwrap().values().all(|v| *v != pin), "{record}");
    }
}

#[test]
fn untyped_value_transforms_and_a_compiled_in_lookup_table() {
    let dir = tempfile::tempdir().unwrap();
    let input = [
        json!({"id": 1, "payload": "{\"a\": [1, 2.50]}", "meta": {"z": 1, "a": "x"}, "tags": " a, b ,c",
               "parts": ["x", null, 3], "city": "zürich", "email": "", "card": "4111 1111", "country": "DE"}),
        json!({"id": 2, "payload": "{not json", "email": "bad@example.com", "country": "DE"}),
        json!({"id": 3, "payload": {"already": "parsed"}, "meta": "text", "tags": 5, "country": "FR"}),
        json!({"id": 4, "country": 7.0}),
    ];
    let text: String = input.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(dir.path().join("input.jsonl"), text).unwrap();
    let report = run("values_untyped", dir.path());
    assert_eq!(
        (report["written"].as_u64(), report["dead_lettered"].as_u64()),
        (Some(3), Some(1)),
        "{report}"
    );

    let out = lines(&std::fs::read(dir.path().join("out.jsonl")).unwrap());
    let first = &out[0];
    assert_eq!(first["payload"]["a"][1].to_string(), "2.50", "parsed numbers keep their digits");
    assert_eq!(first["meta"], "{\"a\":\"x\",\"z\":1}");
    assert_eq!(first["tags"], json!(["a", "b", "c"]));
    assert_eq!(first["parts_text"], "x |  | 3");
    assert_eq!(first["city"], "ZÜRICH");
    // BLAKE3 of the empty string, base64: the published digest.
    assert_eq!(first["email_hash"], "rxNJufX5oaagQE3qNtzJSZvLJcmtwRK3zJqTyuQfMmI=");
    assert_eq!((&first["email"], &first["card"]), (&Value::Null, &Value::Null));
    assert_eq!((&first["country_name"], &first["in_eu"]), (&json!("Germany"), &json!(true)));
    // Values of other types pass through; a miss writes nulls.
    assert_eq!(out[1]["payload"], json!({"already": "parsed"}));
    assert_eq!((&out[1]["meta"], &out[1]["tags"]), (&json!("text"), &json!(5)));
    assert_eq!((&out[1]["country_name"], &out[1]["in_eu"]), (&Value::Null, &Value::Null));
    // `7.0` matches the table's `7`, as in faucet-stream.
    assert_eq!(out[2]["country_name"], "Seven");

    let dlq = std::fs::read_to_string(dir.path().join("dlq.jsonl")).unwrap();
    let envelope: Value = serde_json::from_str(dlq.lines().next().unwrap()).unwrap();
    let message = envelope["error"]["message"].as_str().unwrap();
    assert!(message.contains("json_parse") && message.contains("\"payload\""), "{message}");
    assert_eq!(envelope["payload"]["id"], 2, "the DLQ holds the source record");
}

/// Record `i` of the `typed_bridged` input: every transform meets values it
/// converts, values it does not, nulls and absent fields; some records are
/// filtered out and some rejected.
fn bridged_record(i: u64) -> Value {
    let active = ["yes", "no", "maybe"][(i % 3) as usize];
    let country = ["DE", "CH", "FR"][(i % 3) as usize];
    let mut record = json!({
        "id": if i.is_multiple_of(97) { format!("x{i}") } else { format!(" {i} ") },
        "amount": match i % 5 { 0 => Value::Null, 1 => json!("abc"), _ => json!(format!("{i}.25")) },
        "active": active,
        "state": match i % 3 { 0 => Value::Null, 1 => json!(""), _ => json!("open") },
    });
    if !i.is_multiple_of(2) {
        record["phase"] = json!(format!("p{i}"));
    }
    record["payload"] = if i.is_multiple_of(89) {
        json!("{not json")
    } else {
        json!(format!("{{\"a\":[1,2.50],\"n\":{i}}}"))
    };
    record["meta"] = json!({"z": i, "a": ["x", "y"]});
    record["tags"] = json!(format!(" a, b ,c{i}"));
    record["parts"] = json!(["x", "", format!("p{i}")]);
    record["email"] = json!(format!("u{i}@example.com"));
    record["country"] = json!(country);
    record["address"] = if i.is_multiple_of(7) {
        Value::Null
    } else if i.is_multiple_of(11) {
        json!({"city": "Nowhere"})
    } else if i.is_multiple_of(2) {
        json!({"city": "Bern"})
    } else {
        json!({"city": "Bern", "zip": format!("30{i}")})
    };
    record
}

#[test]
fn typed_bridged_transforms_write_what_the_untyped_build_writes() {
    let (typed, untyped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let input: String = (1..=1_200).map(|i| format!("{}\n", bridged_record(i))).collect();
    for dir in [&typed, &untyped] {
        std::fs::write(dir.path().join("input.jsonl"), &input).unwrap();
    }
    let typed_report = run("typed_bridged", typed.path());
    let untyped_report = run("untyped_typed_bridged", untyped.path());
    // The filter runs first; then ids that are not integers and payloads that are not JSON are rejected.
    let filtered = |i: &u64| (i.is_multiple_of(11) && !i.is_multiple_of(7)) || *i == 13;
    let kept: Vec<u64> = (1..=1_200).filter(|i| !filtered(i)).collect();
    let rejected = kept.iter().filter(|&&i| i.is_multiple_of(97) || i.is_multiple_of(89)).count();
    assert_eq!(typed_report["dead_lettered"], rejected, "{typed_report}");
    assert_eq!(
        (&typed_report["written"], &typed_report["dead_lettered"]),
        (&untyped_report["written"], &untyped_report["dead_lettered"])
    );
    let typed_out = std::fs::read(typed.path().join("out.jsonl")).unwrap();
    let untyped_out = std::fs::read(untyped.path().join("out.jsonl")).unwrap();
    assert!(typed_out == untyped_out, "typed and untyped outputs differ");

    let out = lines(&typed_out);
    assert_eq!(out.len() + rejected, kept.len());
    let first = &out[0];
    assert_eq!(first["id"], 1);
    assert_eq!((&first["amount"], &first["active"]), (&Value::Null, &json!(false)), "{first}");
    // `""` counts as null for the first `coalesce` only (`treat_empty_string_as_null`).
    assert_eq!((&first["status"], &first["state"]), (&json!("p1"), &json!("")));
    assert_eq!(out[2]["state"], "none", "{}", out[2]);
    assert_eq!(first["payload"]["a"][1].to_string(), "2.50", "parsed numbers keep their digits");
    assert_eq!(first["meta"], "{\"a\":[\"x\",\"y\"],\"z\":1}");
    assert_eq!(first["tags"], json!(["a", "b", "c1"]));
    assert_eq!(first["parts_text"], "x |  | p1");
    assert_eq!((&first["country_name"], &first["in_eu"]), (&json!("Switzerland"), &json!(false)));
    let second = &out[1];
    assert_eq!(
        (&second["amount"], &second["active"], second.get("phase")),
        (&json!(2.25), &Value::Null, None)
    );
    assert_eq!((&second["status"], &second["country_name"]), (&json!("open"), &Value::Null));

    let envelopes = |dir: &Path| -> Vec<(Value, Value)> {
        lines(&std::fs::read(dir.join("dlq.jsonl")).unwrap())
            .into_iter()
            .map(|e| (e["error"].clone(), e["payload"].clone()))
            .collect()
    };
    let (typed_dlq, untyped_dlq) = (envelopes(typed.path()), envelopes(untyped.path()));
    assert_eq!(typed_dlq, untyped_dlq, "the same records rejected, with the same errors");
    let messages: Vec<&str> = typed_dlq.iter().filter_map(|(e, _)| e["message"].as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("cast") && m.contains("\"id\"")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("json_parse") && m.contains("\"payload\"")), "{messages:?}");
}

/// Record `i` of the `typed_layers` inputs: each field of every `Option`
/// layer present, null or absent in turn, arrays empty or not.
fn layered_record(i: u64) -> Value {
    let mut record = json!({
        "id": i % 3,
        "name": if i.is_multiple_of(4) { Value::Null } else { json!(format!("n-{i}")) },
    });
    if !i.is_multiple_of(3) {
        record["tag"] = json!(format!("a-b-{i}"));
    }
    match i % 5 {
        0 => {}
        1 => record["note"] = Value::Null,
        2 => record["note"] = json!(format!("note {i}")),
        _ => record["note"] = json!(format!(" {i}.5")),
    }
    // Whole amounts written as doubles (`6.0`), as a typed `number` member writes them back.
    record["amount"] = if i.is_multiple_of(2) { json!((i * 3) as f64) } else { json!(i as f64 + 0.5) };
    record["flag"] = json!(i.is_multiple_of(2));
    record["code"] = match i % 3 {
        0 => json!(format!("{{\"k\":{i}}}")),
        1 => json!("not json"),
        _ => json!("[1,2]"),
    };
    record["count"] = match i % 4 {
        0 => Value::Null,
        1 => json!(1),
        _ => json!(i),
    };
    let mut meta = json!({"a": i});
    if i.is_multiple_of(2) {
        meta["b"] = json!("b");
    }
    record["meta"] = meta;
    record["maybe"] =
        if i.is_multiple_of(3) { Value::Null } else { json!({"c": if i % 3 == 1 { "y" } else { "z" }}) };
    let items: Vec<Value> = (0..i % 3).map(|j| json!({"sku": format!("s{i}-{j}"), "qty": j})).collect();
    record["items"] = json!(items);
    let nums: Vec<u64> = (0..i % 4).collect();
    record["nums"] = json!(nums);
    record["words"] = json!(["w", format!("{i}")]);
    record["blob"] = if i.is_multiple_of(2) { json!({"any": [i]}) } else { json!(i) };
    record
}

#[test]
fn typed_transforms_on_every_option_layer_write_what_the_untyped_build_writes() {
    for pipeline in ["typed_layers", "typed_layers_rows"] {
        let (typed, untyped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let input: String = (1..=240).map(|i| format!("{}\n", layered_record(i))).collect();
        for dir in [&typed, &untyped] {
            std::fs::write(dir.path().join("input.jsonl"), &input).unwrap();
        }
        let report = run(pipeline, typed.path());
        if pipeline == "typed_layers" {
            // `note` that is not a number fails the `cast` (the filter before it keeps only present notes).
            let rejected = (1..=240u64).filter(|i| i % 5 == 2).count();
            assert_eq!(report["dead_lettered"], rejected, "{report}");
        }
        let untyped_report = run(&format!("untyped_{pipeline}"), untyped.path());
        assert_eq!(
            (&report["written"], &report["dead_lettered"]),
            (&untyped_report["written"], &untyped_report["dead_lettered"]),
            "{pipeline}: {report} {untyped_report}"
        );
        assert!(report["written"].as_u64().unwrap() > 100, "{pipeline}: {report}");
        let typed_out = std::fs::read_to_string(typed.path().join("out.jsonl")).unwrap();
        let untyped_out = std::fs::read_to_string(untyped.path().join("out.jsonl")).unwrap();
        if let Some((t, u)) = typed_out.lines().zip(untyped_out.lines()).find(|(t, u)| t != u) {
            panic!("{pipeline}: typed and untyped outputs differ:\n typed   {t}\n untyped {u}");
        }
        assert_eq!(typed_out, untyped_out, "{pipeline}");
        let envelopes = |dir: &Path| -> Vec<(Value, Value)> {
            let Ok(text) = std::fs::read(dir.join("dlq.jsonl")) else { return Vec::new() };
            lines(&text).into_iter().map(|e| (e["error"].clone(), e["payload"].clone())).collect()
        };
        assert_eq!(envelopes(typed.path()), envelopes(untyped.path()), "{pipeline}: the same dead letters");
    }
}

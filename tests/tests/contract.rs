//! A CSV into JSON Lines under a data contract (`pipelines/csv_contract.yaml`):
//! conforming rows reach the output exactly as read, every breaching row
//! reaches the dead-letter file in its envelope with the rule it broke, and
//! nothing else is written.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

/// One row per rule, between conforming rows.
const ORDERS: &str = "\
order_id,status,amount,quantity,customer_email
ORD-0001,open,19.99,2,ann@example.com
ORD-0002,shipped,0,1
ORD-0003,lost,5.00,1,bob@example.com
ORD-0004,open,-0.01,1,cy@example.com
ORD-7,open,3,1,dee@example.com
ORDER-12,open,3,1,dee@example.com
ORD-0006,cancelled,12.50,1001,eve@example.com
ORD-0007,open,7,2.5,fay@example.com
ORD-0008,open,7,3,not-an-email
ORD-0009,open,8,3,gus@example.com,surprise
ORD-0010,shipped,100000000000000000000.01,1000,hal@example.com
ORD-0011,open,2
ORD-0012,cancelled,1e2,4.0
";

fn run(dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
        .arg("csv_contract")
        .env("FAUCET_E2E_DIR", dir)
        .output()
        .expect("run e2e-runner");
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the runner prints its report")
}

/// The dead-letter file's envelopes, each checked for a recent `ts_ms` and returned without it.
fn envelopes(path: &Path) -> Vec<Value> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| {
            let mut env: Value = serde_json::from_str(line).unwrap();
            let ts = env.as_object_mut().unwrap().remove("ts_ms").and_then(|t| t.as_u64()).expect("ts_ms");
            assert!((now - 60_000..=now + 1_000).contains(&ts), "ts_ms {ts}, now {now}");
            env
        })
        .collect()
}

/// The envelope of the record at `index` of the page, breaching `message`.
fn breach(index: u64, payload: Value, message: &str) -> Value {
    json!({
        "error": {"kind": "ContractViolation", "message": format!("contract 1.0.0: {message}")},
        "reason": "contract",
        "payload": payload,
        "sink": "jsonl",
        "pipeline": "csv_contract",
        "row": "row-0",
        "record_index": index,
    })
}

#[test]
fn conforming_rows_are_written_and_breaching_rows_quarantined_with_their_rule() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("orders.csv"), ORDERS).unwrap();
    let report = run(dir);
    assert_eq!(report["read"], 13, "{report}");
    assert_eq!(report["written"], 4, "{report}");
    assert_eq!(report["dead_lettered"], 9, "{report}");
    assert_eq!(report["contract_breaches"], 9, "{report}");

    // Written as read: numbers keep their exact text, absent fields stay absent.
    let written = std::fs::read_to_string(dir.join("orders_out.jsonl")).unwrap();
    assert_eq!(
        written,
        concat!(
            r#"{"order_id":"ORD-0001","status":"open","amount":19.99,"quantity":2,"customer_email":"ann@example.com"}"#,
            "\n",
            r#"{"order_id":"ORD-0002","status":"shipped","amount":0,"quantity":1}"#,
            "\n",
            r#"{"order_id":"ORD-0010","status":"shipped","amount":100000000000000000000.01,"quantity":1000,"customer_email":"hal@example.com"}"#,
            "\n",
            r#"{"order_id":"ORD-0012","status":"cancelled","amount":1e+2,"quantity":4.0}"#,
            "\n",
        )
    );

    // Payloads as JSON text: a number compares by its exact text (`5.00` is not `5.0`).
    let expected: Vec<Value> = [
        (
            2,
            r#"{"order_id":"ORD-0003","status":"lost","amount":5.00,"quantity":1,"customer_email":"bob@example.com"}"#,
            "field `status`: the value is not one of the 3 allowed values (enum)",
        ),
        (
            3,
            r#"{"order_id":"ORD-0004","status":"open","amount":-0.01,"quantity":1,"customer_email":"cy@example.com"}"#,
            "field `amount`: the value is below the minimum 0 (range)",
        ),
        (
            4,
            r#"{"order_id":"ORD-7","status":"open","amount":3,"quantity":1,"customer_email":"dee@example.com"}"#,
            "field `order_id`: the string is shorter than the minimum length 8 (length)",
        ),
        (
            5,
            r#"{"order_id":"ORDER-12","status":"open","amount":3,"quantity":1,"customer_email":"dee@example.com"}"#,
            "field `order_id`: the value does not match the pattern `^ORD-[0-9]+$` (pattern)",
        ),
        (
            6,
            r#"{"order_id":"ORD-0006","status":"cancelled","amount":12.50,"quantity":1001,"customer_email":"eve@example.com"}"#,
            "field `quantity`: the value is above the maximum 1000 (range)",
        ),
        (
            7,
            r#"{"order_id":"ORD-0007","status":"open","amount":7,"quantity":2.5,"customer_email":"fay@example.com"}"#,
            "field `quantity`: expected integer, found a number (type)",
        ),
        (
            8,
            r#"{"order_id":"ORD-0008","status":"open","amount":7,"quantity":3,"customer_email":"not-an-email"}"#,
            r"field `customer_email`: the value does not match the pattern `^[^@\s]+@[^@\s]+\.[^@\s]+$` (pattern)",
        ),
        (
            9,
            r#"{"order_id":"ORD-0009","status":"open","amount":8,"quantity":3,"customer_email":"gus@example.com","column_5":"surprise"}"#,
            "field `column_5`: the contract does not declare this field and allows no extra fields (extra_field)",
        ),
        (
            11,
            r#"{"order_id":"ORD-0011","status":"open","amount":2}"#,
            "field `quantity`: the required field is missing (missing)",
        ),
    ]
    .into_iter()
    .map(|(index, payload, message)| breach(index, serde_json::from_str(payload).unwrap(), message))
    .collect();
    assert_eq!(envelopes(&dir.join("contract_breaches.jsonl")), expected);

    // A second run starts over (no state store) and writes the same files.
    let again = run(dir);
    for key in ["read", "written", "dead_lettered", "contract_breaches"] {
        assert_eq!(again[key], report[key], "{key}");
    }
    assert_eq!(std::fs::read_to_string(dir.join("orders_out.jsonl")).unwrap(), written);
    assert_eq!(envelopes(&dir.join("contract_breaches.jsonl")).len(), 9);
}

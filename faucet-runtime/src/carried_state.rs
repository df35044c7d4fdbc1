//! State a faucet-stream run left under a pipeline's key, read by a faucet
//! run of the same config (both key a pipeline `name::row`).
//!
//! faucet-stream 1.17 stores each bookmark in an envelope,
//! `{"faucet_state": 1, "owner": <connector>, "schema": <n>, "data": <bookmark>}`
//! (the bookmark itself inside `data`, or inside `data`'s exactly-once wrapper
//! `{"__faucet_eo": 1, "bookmark": …, "seq": …}`); older releases stored the
//! bookmark bare. faucet's own bookmark is always an object of its driver's
//! keys (see [`crate::bookmark`]), never an envelope and never a scalar.
//!
//! Read as faucet's, such a value would hold no position, and the run would
//! start over without a word: a full re-sync, or for a CDC slot a skipped
//! range. So it is translated where the shapes carry the same meaning, and
//! refused otherwise:
//!
//! - `rest` (incremental): faucet-stream's bookmark is the largest
//!   `replication_key` value it saw; it becomes the `rest` source's
//!   `replication.max`, what the next request sends and filters by;
//! - any other owner: a state error naming the key, rather than a silent restart.

use serde_json::{Value, json};

use crate::error::{FaucetError, Result};

/// `stored` as faucet reads it: unchanged when faucet wrote it, translated
/// when faucet-stream wrote it for a `source` (its connector name) whose
/// bookmark means the same (an envelope, or a bare `rest` replication value);
/// an error for an envelope it cannot translate.
pub(crate) fn read(stored: Value, source: &str, key: &str) -> Result<Value> {
    let (owner, bookmark) = match stored {
        Value::Object(ref map) if map.contains_key("faucet_state") && map.contains_key("data") => {
            let owner = map.get("owner").and_then(Value::as_str).unwrap_or(source).to_owned();
            let Value::Object(mut map) = stored else { unreachable!("matched an object") };
            (owner, unwrap_exactly_once(map.remove("data").unwrap_or(Value::Null)))
        }
        // A bare replication value: an older faucet-stream's `rest` bookmark.
        Value::String(_) | Value::Number(_) if source == "rest" => (source.to_owned(), stored),
        // faucet's own, or nothing faucet-stream wrote (read as no position, as ever).
        other => return Ok(other),
    };
    if owner != source {
        return Err(FaucetError::state(format!(
            "the state under key {key:?} was written by faucet-stream for a `{owner}` source, but this pipeline's source is `{source}`: delete the key to start over"
        )));
    }
    match owner.as_str() {
        "rest" if bookmark.is_null() => {
            Ok(json!({"v": 1, "seq": 0, "source": null, "sink": null, "dlq": null}))
        }
        "rest" => Ok(json!({
            "v": 1,
            "seq": 0,
            "source": {"next": null, "replication": {"sent": bookmark.clone(), "max": bookmark}},
            "sink": null,
            "dlq": null,
        })),
        _ => Err(FaucetError::state(format!(
            "the state under key {key:?} was written by faucet-stream (its `{owner}` source's bookmark); faucet cannot resume from it yet: delete the key to start over"
        ))),
    }
}

/// The bookmark inside faucet-stream's exactly-once wrapper, or `data` itself.
fn unwrap_exactly_once(data: Value) -> Value {
    match data {
        Value::Object(mut map) if map.contains_key("__faucet_eo") => {
            map.remove("bookmark").unwrap_or(Value::Null)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faucets_own_bookmarks_pass_unchanged() {
        let own =
            json!({"v": 1, "lineage": "L", "seq": 3, "source": {"next": null}, "sink": null, "dlq": null});
        assert_eq!(read(own.clone(), "rest", "p::row-0").unwrap(), own);
        assert_eq!(read(json!({}), "jsonl", "p::row-0").unwrap(), json!({}));
    }

    #[test]
    fn a_faucet_stream_rest_bookmark_becomes_the_replication_start() {
        let expected = |v: Value| json!({"v": 1, "seq": 0, "source": {"next": null, "replication": {"sent": v.clone(), "max": v}}, "sink": null, "dlq": null});
        let enveloped =
            json!({"faucet_state": 1, "owner": "rest", "schema": 0, "data": "2024-05-01T00:00:00Z"});
        assert_eq!(read(enveloped, "rest", "p::row-0").unwrap(), expected(json!("2024-05-01T00:00:00Z")));
        // Inside the exactly-once wrapper.
        let eo = json!({"faucet_state": 1, "owner": "rest", "schema": 0, "data": {"__faucet_eo": 1, "bookmark": 42, "seq": 7}});
        assert_eq!(read(eo, "rest", "p::row-0").unwrap(), expected(json!(42)));
        // Stored bare by an older faucet-stream.
        assert_eq!(read(json!(17), "rest", "p::row-0").unwrap(), expected(json!(17)));
        // No bookmark yet.
        let none = json!({"faucet_state": 1, "owner": "rest", "schema": 0, "data": null});
        assert_eq!(read(none, "rest", "p::row-0").unwrap()["source"], Value::Null);
    }

    #[test]
    fn other_faucet_stream_state_is_refused_not_ignored() {
        let cdc = json!({"faucet_state": 1, "owner": "postgres-cdc", "schema": 0, "data": {"last_lsn": "0/16B3748"}});
        let err = read(cdc, "postgres-cdc", "p::row-0").unwrap_err();
        assert!(err.message().contains("\"p::row-0\""), "{err}");
        assert!(err.message().contains("faucet-stream"), "{err}");
        let err = read(json!({"faucet_state": 1, "owner": "kafka", "data": {}}), "rest", "k").unwrap_err();
        assert!(err.message().contains("`kafka`"), "{err}");
        // A value that is not an object, for another source: no position, as before.
        assert_eq!(read(json!([]), "jsonl", "k").unwrap(), json!([]));
        assert_eq!(read(json!("x"), "jsonl", "k").unwrap(), json!("x"));
    }
}

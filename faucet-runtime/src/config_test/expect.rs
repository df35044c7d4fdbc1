//! What a config test case expects, and how a run is held to it: the
//! failure messages name the path of each difference and show the first
//! differing record as a line diff.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// What a case expects of its run (faucet-stream's `expect:`). Every field
/// that is set is checked; `None` checks nothing.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The records the sink receives, in order unless `unordered`.
    pub records: Option<Vec<Value>>,
    /// The payloads of the records dead-lettered, in order unless `unordered`.
    pub dlq: Option<Vec<Value>>,
    /// How many records the sink receives.
    pub records_written: Option<u64>,
    /// How many records are dead-lettered.
    pub dlq_count: Option<u64>,
    /// The run fails, with a message containing this text.
    pub error: Option<String>,
    /// `match: subset`: an expected record names only the fields it checks.
    pub subset: bool,
    /// `unordered: true`: records and dead letters compare as multisets.
    pub unordered: bool,
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The records the sink received, in order.
    pub written: Vec<Value>,
    /// The payloads of the dead-lettered records, in order.
    pub dlq: Vec<Value>,
    /// The run's error, when it failed.
    pub error: Option<String>,
}

/// The most difference paths listed for one record.
const MAX_PATHS: usize = 8;

impl Expect {
    /// Every way `outcome` falls short of the expectation, one message each
    /// (the first differing record of `records` or `dlq` with its diff); empty when it passes.
    pub fn check(&self, outcome: &Outcome) -> Vec<String> {
        let mut failures = Vec::new();
        match (&self.error, &outcome.error) {
            (Some(want), Some(got)) if !got.contains(want.as_str()) => {
                failures.push(format!("error: expected a message containing {want:?}, got: {got}"));
            }
            (Some(want), None) => {
                failures.push(format!("error: expected the run to fail with {want:?}, but it succeeded"));
            }
            (None, Some(got)) => failures.push(format!("the run failed: {got}")),
            _ => {}
        }
        let lists = [("records", &self.records, &outcome.written), ("dlq", &self.dlq, &outcome.dlq)];
        for (label, expected, actual) in lists {
            if let Some(expected) = expected {
                failures.extend(self.compare(label, expected, actual));
            }
        }
        let counts = [
            ("records_written", self.records_written, outcome.written.len()),
            ("dlq_count", self.dlq_count, outcome.dlq.len()),
        ];
        for (label, want, got) in counts {
            if let Some(want) = want
                && want != got as u64
            {
                failures.push(format!("{label}: expected {want}, got {got}"));
            }
        }
        failures
    }

    /// The failure of one list, if it differs: its counts, the paths that
    /// differ in its first differing record, and that record's diff.
    fn compare(&self, label: &str, expected: &[Value], actual: &[Value]) -> Option<String> {
        let mut message = String::new();
        if expected.len() != actual.len() {
            let _ = writeln!(message, "{label}: expected {} record(s), got {}", expected.len(), actual.len());
        }
        let first = if self.unordered {
            self.first_unmatched(expected, actual)
        } else {
            let pairs = expected.iter().zip(actual).position(|(e, a)| !matches(e, a, self.subset));
            pairs
                .map(|i| (i, Some(&expected[i]), Some(&actual[i])))
                .or_else(|| {
                    let i = expected.len().min(actual.len());
                    (expected.len() != actual.len()).then(|| (i, expected.get(i), actual.get(i)))
                })
                .map(|(i, e, a)| (format!("{label}[{i}]"), e, a))
        };
        let (at, expected, actual) = first?;
        if let (Some(e), Some(a)) = (expected, actual) {
            let mut paths = Vec::new();
            differences(e, a, self.subset, &at, &mut paths);
            for path in paths {
                let _ = writeln!(message, "{path}");
            }
        }
        let (shown_e, shown_a) = match (expected, actual) {
            (Some(e), Some(a)) if self.subset => (Some(e.clone()), Some(project(a, e))),
            (e, a) => (e.cloned(), a.cloned()),
        };
        let _ = write!(
            message,
            "first differing record, {at} (- expected, + actual):\n{}",
            line_diff(&pretty(shown_e.as_ref()), &pretty(shown_a.as_ref()),)
        );
        Some(message.trim_end().to_owned())
    }

    /// Under `unordered`, the first expected record left without an actual
    /// one after a maximum matching, beside the unclaimed actual record
    /// closest to it (or the first unclaimed actual record, when every expected one matched).
    fn first_unmatched<'v>(
        &self,
        expected: &'v [Value],
        actual: &'v [Value],
    ) -> Option<(String, Option<&'v Value>, Option<&'v Value>)> {
        let edges: Vec<Vec<usize>> = expected
            .iter()
            .map(|e| (0..actual.len()).filter(|&j| matches(e, &actual[j], self.subset)).collect())
            .collect();
        let mut owner: Vec<Option<usize>> = vec![None; actual.len()];
        let mut unmatched = None;
        for i in 0..expected.len() {
            let mut seen = vec![false; actual.len()];
            if !augment(i, &edges, &mut owner, &mut seen) && unmatched.is_none() {
                unmatched = Some(i);
            }
        }
        let free: Vec<usize> = (0..actual.len()).filter(|&j| owner[j].is_none()).collect();
        match unmatched {
            Some(i) => {
                let nearest = free.iter().copied().min_by_key(|&j| {
                    let mut paths = Vec::new();
                    differences(&expected[i], &actual[j], self.subset, "", &mut paths);
                    paths.len()
                });
                Some((
                    format!("expected record {i} (unordered)"),
                    Some(&expected[i]),
                    nearest.map(|j| &actual[j]),
                ))
            }
            None => free.first().map(|&j| (format!("actual record {j} (unordered)"), None, Some(&actual[j]))),
        }
    }
}

/// Kuhn's augmenting path: gives expected record `i` an actual one, moving
/// an earlier expected record to another of its matches when needed.
fn augment(i: usize, edges: &[Vec<usize>], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for &j in &edges[i] {
        if seen[j] {
            continue;
        }
        seen[j] = true;
        if owner[j].is_none_or(|k| augment(k, edges, owner, seen)) {
            owner[j] = Some(i);
            return true;
        }
    }
    false
}

/// Whether `actual` is `expected`; under `subset`, objects may carry more
/// fields at any depth (arrays still match element by element). Numbers are
/// equal by value, an integer never equal to a decimal (`1` is not `1.0`), as in faucet-stream.
pub fn matches(expected: &Value, actual: &Value, subset: bool) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            (subset || e.len() == a.len())
                && e.iter().all(|(k, ev)| a.get(k).is_some_and(|av| matches(ev, av, subset)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(ev, av)| matches(ev, av, subset))
        }
        (Value::Number(e), Value::Number(a)) => numbers_equal(e, a),
        _ => expected == actual,
    }
}

/// Two JSON numbers are equal when both are integers of the same value, or
/// both are decimals of the same `f64` value.
fn numbers_equal(e: &serde_json::Number, a: &serde_json::Number) -> bool {
    let integer = |n: &serde_json::Number| n.is_i64() || n.is_u64();
    match (integer(e), integer(a)) {
        (true, true) => e.as_i64() == a.as_i64() && e.as_u64() == a.as_u64(),
        (false, false) => e.as_f64() == a.as_f64(),
        _ => false,
    }
}

/// `path: expected X, got Y` for each leaf where the values differ, at most [`MAX_PATHS`].
fn differences(expected: &Value, actual: &Value, subset: bool, path: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_PATHS {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let at = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => differences(ev, av, subset, &at, out),
                    None if out.len() < MAX_PATHS => {
                        out.push(format!("{at}: expected {}, field missing", compact(ev)))
                    }
                    None => {}
                }
            }
            if !subset {
                for (k, av) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                    if out.len() < MAX_PATHS {
                        out.push(format!("{path}.{k}: unexpected field {}", compact(av)));
                    }
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                differences(ev, av, subset, &format!("{path}[{i}]"), out);
            }
        }
        _ if !matches(expected, actual, subset) => {
            out.push(format!("{path}: expected {}, got {}", compact(expected), compact(actual)));
        }
        _ => {}
    }
}

/// `actual` with only the fields `expected` names (recursively), in
/// `expected`'s order: what a subset match compares, so its diff shows no
/// extra field as a difference.
fn project(actual: &Value, expected: &Value) -> Value {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            let mut out = Map::new();
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    out.insert(k.clone(), project(av, ev));
                }
            }
            Value::Object(out)
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            Value::Array(a.iter().zip(e).map(|(av, ev)| project(av, ev)).collect())
        }
        _ => actual.clone(),
    }
}

/// One line of JSON, cut at 120 characters so one large value cannot flood a message.
fn compact(v: &Value) -> String {
    const MAX: usize = 120;
    let s = v.to_string();
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

/// A record as indented JSON lines, or `(none)`.
fn pretty(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(v) => serde_json::to_string_pretty(v)
            .unwrap_or_else(|_| v.to_string())
            .lines()
            .map(str::to_owned)
            .collect(),
        None => vec!["(none)".to_owned()],
    }
}

/// A unified line diff of two short texts (longest common subsequence):
/// `  ` for a line in both, `- ` only expected, `+ ` only actual.
fn line_diff(expected: &[String], actual: &[String]) -> String {
    let (n, m) = (expected.len(), actual.len());
    // lcs[i][j]: the longest common subsequence of expected[i..] and actual[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            let _ = writeln!(out, "    {}", expected[i]);
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || lcs[i][j + 1] > lcs[i + 1][j]) {
            let _ = writeln!(out, "  + {}", actual[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "  - {}", expected[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(written: Vec<Value>, dlq: Vec<Value>, error: Option<&str>) -> Outcome {
        Outcome { written, dlq, error: error.map(str::to_owned) }
    }

    #[test]
    fn a_differing_record_is_named_by_path_and_shown_as_a_diff() {
        let expect = Expect {
            records: Some(vec![json!({"id": 1}), json!({"id": 2, "amount": 12.0})]),
            ..Default::default()
        };
        let failures =
            expect.check(&outcome(vec![json!({"id": 1}), json!({"id": 2, "amount": 3.0})], vec![], None));
        assert_eq!(
            failures,
            vec![
                "records[1].amount: expected 12.0, got 3.0\n\
                 first differing record, records[1] (- expected, + actual):\n    \
                 {\n      \"id\": 2,\n  -   \"amount\": 12.0\n  +   \"amount\": 3.0\n    }"
            ]
        );
    }

    #[test]
    fn numbers_compare_by_value_and_kind() {
        assert!(matches(&json!(1.50), &serde_json::from_str("1.5").unwrap(), false));
        assert!(!matches(&json!(1), &json!(1.0), false));
        assert!(matches(&json!(u64::MAX), &json!(u64::MAX), false));
    }

    #[test]
    fn subset_ignores_extra_fields_and_its_diff_shows_only_named_ones() {
        let expect = Expect { records: Some(vec![json!({"id": 1})]), subset: true, ..Default::default() };
        assert!(expect.check(&outcome(vec![json!({"id": 1, "extra": true})], vec![], None)).is_empty());
        let failures = expect.check(&outcome(vec![json!({"id": 2, "extra": true})], vec![], None));
        assert_eq!(failures.len(), 1);
        assert!(!failures[0].contains("extra"), "{}", failures[0]);
        assert!(failures[0].contains("records[0].id: expected 1, got 2"), "{}", failures[0]);
    }

    #[test]
    fn unordered_matches_a_multiset_with_a_maximum_matching() {
        let expect = Expect {
            records: Some(vec![json!({"a": 1}), json!({"a": 1, "b": 2})]),
            subset: true,
            unordered: true,
            ..Default::default()
        };
        assert!(
            expect
                .check(&outcome(vec![json!({"a": 1, "b": 2}), json!({"a": 1, "b": 3})], vec![], None))
                .is_empty()
        );
        let failures =
            expect.check(&outcome(vec![json!({"a": 1, "b": 3}), json!({"a": 1, "b": 4})], vec![], None));
        assert_eq!(failures.len(), 1);
        assert!(failures[0].contains("expected record 1 (unordered)"), "{}", failures[0]);
    }

    #[test]
    fn missing_records_counts_and_errors_are_reported() {
        let expect = Expect {
            records: Some(vec![json!({"a": 1})]),
            records_written: Some(1),
            dlq_count: Some(1),
            ..Default::default()
        };
        let failures = expect.check(&outcome(vec![], vec![], None));
        assert!(failures[0].starts_with("records: expected 1 record(s), got 0\n"), "{}", failures[0]);
        assert!(failures[0].contains("  - {"), "{}", failures[0]);
        assert_eq!(failures[1..], ["records_written: expected 1, got 0", "dlq_count: expected 1, got 0"]);

        let expect = Expect { error: Some("breach".into()), ..Default::default() };
        assert!(expect.check(&outcome(vec![], vec![], Some("contract breach"))).is_empty());
        assert!(expect.check(&outcome(vec![], vec![], None))[0].contains("but it succeeded"));
        assert!(expect.check(&outcome(vec![], vec![], Some("boom")))[0].contains("got: boom"));
        let unexpected = Expect { records_written: Some(0), ..Default::default() };
        assert_eq!(unexpected.check(&outcome(vec![], vec![], Some("boom"))), ["the run failed: boom"]);
    }
}

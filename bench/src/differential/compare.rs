//! Where two sides' [`Outputs`] differ: record by record, output by output.

use std::fmt;

use super::outputs::Outputs;

/// How two sides of a case compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Records of the larger side, over every output but the exit statuses.
    pub records: usize,
    /// Records that differ (by position), plus one per output only one side has.
    pub differences: usize,
    /// The first of them, in output-name order.
    pub first: Option<Difference>,
}

/// One differing record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The output (`file out.jsonl`, `table target`, …).
    pub output: String,
    /// The record's position, from 1 (0: the output itself is missing on one side).
    pub record: usize,
    /// The left side's record, if it has one.
    pub left: Option<String>,
    /// The right side's.
    pub right: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |r: &Option<String>| r.clone().unwrap_or_else(|| "(none)".into());
        if self.record == 0 {
            write!(f, "{}: {} / {}", self.output, side(&self.left), side(&self.right))
        } else {
            write!(f, "{} #{}: {} / {}", self.output, self.record, side(&self.left), side(&self.right))
        }
    }
}

/// Compares `left` with `right`.
pub fn compare(left: &Outputs, right: &Outputs) -> Verdict {
    let mut verdict = Verdict::default();
    let mut names: Vec<&String> = left.keys().chain(right.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (l, r) = (left.get(name), right.get(name));
        if name != "exit" {
            verdict.records += l.map_or(0, Vec::len).max(r.map_or(0, Vec::len));
        }
        let mut note = |record: usize, left: Option<String>, right: Option<String>| {
            verdict.differences += 1;
            verdict.first.get_or_insert(Difference { output: name.clone(), record, left, right });
        };
        if l.is_none() || r.is_none() {
            let present = |o: Option<&Vec<String>>| o.map(|v| format!("({} record(s))", v.len()));
            note(0, present(l).or(Some("(absent)".into())), present(r).or(Some("(absent)".into())));
        }
        let (l, r) = (l.map_or(&[][..], Vec::as_slice), r.map_or(&[][..], Vec::as_slice));
        for i in 0..l.len().max(r.len()) {
            if l.get(i) != r.get(i) {
                note(i + 1, l.get(i).cloned(), r.get(i).cloned());
            }
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(items: &[(&str, &[&str])]) -> Outputs {
        items.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn counts_differing_records_and_missing_outputs() {
        let a = outputs(&[("exit", &["run 1: ok"]), ("file out.jsonl", &["1", "2", "3"])]);
        assert_eq!(compare(&a, &a), Verdict { records: 3, differences: 0, first: None });
        let b = outputs(&[("exit", &["run 1: ok"]), ("file out.jsonl", &["1", "x"])]);
        let v = compare(&a, &b);
        assert_eq!((v.records, v.differences), (3, 2));
        assert_eq!(v.first.unwrap().to_string(), "file out.jsonl #2: 2 / x");
        let c = outputs(&[("exit", &["run 1: ok"])]);
        let v = compare(&a, &c);
        assert_eq!((v.records, v.differences), (3, 4));
        assert_eq!(v.first.unwrap().to_string(), "file out.jsonl: (3 record(s)) / (absent)");
    }
}

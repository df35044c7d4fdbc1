//! Config tests: a pipeline's compiled transforms, contract and dead-letter
//! routing run on fixture records, with in-memory ends, as an ordinary `#[test]`.
//!
//! `faucet_runtime::config_tests!("pipelines/orders.test.yaml")` reads a spec
//! file in faucet-stream's `tests:` grammar at build time and generates one
//! test per case. Each builds the pipeline of the case's `config` (or its
//! inline `pipeline`) with a [`MemorySource`] in place of its source, a
//! [`MemorySink`] in place of its sink and of its dead-letter queue's sink,
//! and no state store, runs it with the case's clock, and holds the
//! [`Outcome`] to the case's [`Expect`]. Nothing outside the process is touched.

mod expect;
mod memory;

use std::future::Future;

use serde_json::Value;

pub use expect::{Expect, Outcome, matches};
pub use memory::{MemorySink, MemorySource};

use crate::clock::Clock;
use crate::error::Result;
use crate::report::RunReport;

/// The in-memory ends a test pipeline is built with.
#[derive(Debug)]
pub struct Ends {
    /// Yields the case's input.
    pub source: MemorySource,
    /// Keeps what the pipeline writes.
    pub sink: MemorySink,
    /// Keeps what the pipeline dead-letters (used when the pipeline has a `dlq:`).
    pub dlq: MemorySink,
}

/// One case of a spec file, as the generated test states it.
#[derive(Debug, Clone)]
pub struct Case {
    /// The spec file, as shown in failures.
    pub spec: &'static str,
    /// The line of the case (its `name`) in the spec file.
    pub line: u32,
    /// The case's `name`.
    pub name: &'static str,
    /// `clock`: what `${now.…}` renders (RFC 3339 or a date, checked at build time);
    /// without it, the time the run starts.
    pub clock: Option<&'static str>,
    /// `page_size`: records per source page (0: all in one).
    pub page_size: usize,
    /// `input`: the fixture records, as JSON text.
    pub input: &'static str,
    /// `expect`.
    pub expect: Expect,
}

impl Case {
    /// Runs the case: `run` builds and runs the pipeline on the [`Ends`] it
    /// is given. Panics with the failure message when the outcome falls
    /// short of the expectation, which is how a `#[test]` fails.
    pub fn run<F, Fut>(&self, run: F)
    where
        F: FnOnce(Ends) -> Fut,
        Fut: Future<Output = Result<RunReport>>,
    {
        if let Err(message) = self.outcome(run).and_then(|outcome| self.verdict(&outcome)) {
            panic!("{message}");
        }
    }

    /// What the run produced, or why it could not be run.
    pub fn outcome<F, Fut>(&self, run: F) -> std::result::Result<Outcome, String>
    where
        F: FnOnce(Ends) -> Fut,
        Fut: Future<Output = Result<RunReport>>,
    {
        let input = records(self.input).map_err(|e| self.failed(&format!("the input is not JSON: {e}")))?;
        let clock =
            self.clock.map(Clock::parse).transpose().map_err(|e| self.failed(&format!("clock: {e}")))?;
        let (sink, dlq) = (MemorySink::new(), MemorySink::new());
        let ends =
            Ends { source: MemorySource::new(input, self.page_size), sink: sink.clone(), dlq: dlq.clone() };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| self.failed(&format!("cannot start a Tokio runtime: {e}")))?;
        let result = runtime.block_on(crate::clock::scope(clock, run(ends)));
        let dlq = dlq.take().into_iter().map(payload).collect();
        Ok(Outcome { written: sink.take(), dlq, error: result.err().map(|e| e.to_string()) })
    }

    /// `Ok` when `outcome` meets the expectation; otherwise the message a
    /// failing test prints: the case and where it is, then each failure.
    pub fn verdict(&self, outcome: &Outcome) -> std::result::Result<(), String> {
        let failures = self.expect.check(outcome);
        if failures.is_empty() {
            return Ok(());
        }
        Err(self.failed(&failures.join("\n")))
    }

    fn failed(&self, body: &str) -> String {
        let body = body.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n");
        format!("config test `{}` failed ({}:{})\n{body}", self.name, self.spec, self.line)
    }
}

/// A list of records from JSON text: what generated tests hold their
/// fixtures and expectations as, so every value keeps its exact text.
pub fn records(json: &str) -> serde_json::Result<Vec<Value>> {
    serde_json::from_str(json)
}

/// The record a dead-letter envelope carries.
fn payload(mut envelope: Value) -> Value {
    match envelope.get_mut("payload") {
        Some(payload) => payload.take(),
        None => envelope,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pipeline;
    use serde_json::json;

    fn case(expect: Expect) -> Case {
        Case {
            spec: "tests/orders.test.yaml",
            line: 7,
            name: "keeps the orders",
            clock: Some("2026-02-01"),
            page_size: 1,
            input: r#"[{"id": 1}, {"id": 2}]"#,
            expect,
        }
    }

    #[test]
    fn runs_the_pipeline_on_the_fixture_with_the_pinned_clock() {
        let stamp = crate::transform_fn(|mut r: Value| {
            r["day"] = json!(crate::clock::current().render(crate::clock::Now::Date)?);
            Ok(Some(r))
        });
        let case = case(Expect {
            records: Some(vec![json!({"id": 1, "day": "2026-02-01"}), json!({"id": 2, "day": "2026-02-01"})]),
            ..Default::default()
        });
        case.run(|ends| Pipeline::new(ends.source, ends.sink).with_transform(stamp).run());
    }

    #[test]
    fn a_failure_names_the_case_and_its_line() {
        let case = case(Expect { records_written: Some(3), ..Default::default() });
        let outcome = case.outcome(|ends| Pipeline::new(ends.source, ends.sink).run()).unwrap();
        assert_eq!(
            case.verdict(&outcome).unwrap_err(),
            "config test `keeps the orders` failed (tests/orders.test.yaml:7)\n  records_written: expected 3, got 2"
        );
    }
}

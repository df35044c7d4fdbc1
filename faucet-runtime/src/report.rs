//! What a run did: [`RunReport`], which the driver fills, the live progress
//! display reads and a matrix collects; below all three, so none of them
//! imports another for it.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    /// The pipeline's name.
    pub pipeline: String,
    /// The matrix row id.
    pub row: String,
    /// Pages read from the source.
    pub pages: u64,
    /// Pages the sink had already committed before a crash, skipped on resume.
    pub pages_already_committed: u64,
    /// Records read from the source (malformed input included).
    pub records_read: u64,
    /// Records the sink accepted.
    pub records_written: u64,
    /// Rows sent to the dead-letter queue.
    pub records_dead_lettered: u64,
    /// Records a transform dropped on purpose.
    pub records_filtered: u64,
    /// Malformed inputs skipped (`on_parse_error: skip`).
    pub records_skipped: u64,
    /// Records that breached the contract: dead-lettered (`quarantine`) or
    /// written anyway (`warn`).
    pub contract_breaches: u64,
    /// Wall time of the run.
    pub duration: Duration,
    /// The bookmark persisted last, if any.
    pub last_bookmark: Option<Value>,
    /// True when the run stopped early because it was cancelled.
    pub cancelled: bool,
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: read {} record(s) in {} page(s), wrote {}, dead-lettered {}, skipped {}, filtered {} in {:.2}s",
            self.pipeline,
            self.row,
            self.records_read,
            self.pages,
            self.records_written,
            self.records_dead_lettered,
            self.records_skipped,
            self.records_filtered,
            self.duration.as_secs_f64(),
        )?;
        if self.contract_breaches > 0 {
            write!(f, " ({} contract breach(es))", self.contract_breaches)?;
        }
        if self.pages_already_committed > 0 {
            write!(f, " ({} page(s) already committed before a restart)", self.pages_already_committed)?;
        }
        if self.cancelled {
            f.write_str(" (cancelled)")?;
        }
        Ok(())
    }
}

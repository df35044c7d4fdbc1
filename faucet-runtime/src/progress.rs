//! Live progress of running invocations, for people watching a run.
//!
//! A [`Progress`] registry is attached through
//! [`RunOptions::progress`](crate::RunOptions::progress); every run started with
//! it registers one entry, which the driver updates once per page (never per
//! record) with relaxed atomic stores, and which disappears when the run ends.
//! Without a registry the driver pays one `None` check per page. The generated
//! `main` helper (feature `cli`) polls [`Progress::snapshot`] to draw a live
//! line per invocation.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::report::RunReport;

/// The shared registry of running invocations; cheap to clone.
#[derive(Clone, Default)]
pub struct Progress {
    inner: Arc<Registry>,
}

#[derive(Default)]
struct Registry {
    next_id: AtomicU64,
    running: Mutex<Vec<Arc<Entry>>>,
}

struct Entry {
    id: u64,
    label: String,
    started: Instant,
    pages: AtomicU64,
    records_read: AtomicU64,
    records_written: AtomicU64,
    records_dead_lettered: AtomicU64,
}

/// What one running invocation has done so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Unique among the registry's invocations, in the order they started.
    pub id: u64,
    /// `pipeline[row]`, or `pipeline[row parent-key]` for a matrix child.
    pub label: String,
    /// Pages read.
    pub pages: u64,
    /// Records read.
    pub records_read: u64,
    /// Records written.
    pub records_written: u64,
    /// Rows sent to the dead-letter queue.
    pub records_dead_lettered: u64,
    /// Time since the invocation started.
    pub elapsed: Duration,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress").field("running", &self.lock().len()).finish()
    }
}

impl Progress {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Entry>>> {
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every running invocation, oldest first.
    pub fn snapshot(&self) -> Vec<Snapshot> {
        self.lock()
            .iter()
            .map(|e| Snapshot {
                id: e.id,
                label: e.label.clone(),
                pages: e.pages.load(Ordering::Relaxed),
                records_read: e.records_read.load(Ordering::Relaxed),
                records_written: e.records_written.load(Ordering::Relaxed),
                records_dead_lettered: e.records_dead_lettered.load(Ordering::Relaxed),
                elapsed: e.started.elapsed(),
            })
            .collect()
    }

    /// Registers a run; it stays listed until the returned tracker drops.
    pub(crate) fn start(&self, label: String) -> Tracker {
        let entry = Arc::new(Entry {
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed),
            label,
            started: Instant::now(),
            pages: AtomicU64::new(0),
            records_read: AtomicU64::new(0),
            records_written: AtomicU64::new(0),
            records_dead_lettered: AtomicU64::new(0),
        });
        self.lock().push(entry.clone());
        Tracker { registry: self.clone(), entry }
    }
}

/// One run's entry in a [`Progress`] registry; removes it on drop.
pub(crate) struct Tracker {
    registry: Progress,
    entry: Arc<Entry>,
}

impl Tracker {
    /// Publishes the run's counters (once per page).
    pub fn update(&self, report: &RunReport) {
        let e = &self.entry;
        e.pages.store(report.pages, Ordering::Relaxed);
        e.records_read.store(report.records_read, Ordering::Relaxed);
        e.records_written.store(report.records_written, Ordering::Relaxed);
        e.records_dead_lettered.store(report.records_dead_lettered, Ordering::Relaxed);
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        let id = self.entry.id;
        self.registry.lock().retain(|e| e.id != id);
    }
}

impl Snapshot {
    /// Records read per second since the start (0 in the first instant).
    pub fn rate(&self) -> u64 {
        let secs = self.elapsed.as_secs_f64();
        if secs < 0.001 { 0 } else { (self.records_read as f64 / secs) as u64 }
    }

    /// One readable line:
    /// `orders[row-0] 123,456 records · 45,678/s · 00:02:41 · 3 dead-lettered`.
    pub fn line(&self) -> String {
        let secs = self.elapsed.as_secs();
        format!(
            "{} {} records · {}/s · {:02}:{:02}:{:02} · {} dead-lettered",
            self.label,
            thousands(self.records_read),
            thousands(self.rate()),
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            thousands(self.records_dead_lettered),
        )
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        let s = Snapshot {
            id: 0,
            label: "orders[row-0]".into(),
            pages: 12,
            records_read: 123_456,
            records_written: 123_000,
            records_dead_lettered: 3,
            elapsed: Duration::from_secs(161),
        };
        assert_eq!(s.line(), "orders[row-0] 123,456 records · 766/s · 00:02:41 · 3 dead-lettered");
        let long = Snapshot { records_read: 1_000_000, elapsed: Duration::from_secs(3 * 3600 + 5), ..s };
        assert_eq!(long.line(), "orders[row-0] 1,000,000 records · 92/s · 03:00:05 · 3 dead-lettered");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn registry_lists_running_invocations_only() {
        let progress = Progress::new();
        let a = progress.start("p[a]".into());
        let b = progress.start("p[b]".into());
        a.update(&RunReport { pages: 1, records_read: 5, records_dead_lettered: 2, ..RunReport::default() });
        let snap = progress.snapshot();
        assert_eq!(snap.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(), ["p[a]", "p[b]"]);
        assert_eq!((snap[0].records_read, snap[0].records_dead_lettered), (5, 2));
        drop(a);
        assert_eq!(progress.snapshot().len(), 1);
        drop(b);
        assert!(progress.snapshot().is_empty());
    }
}

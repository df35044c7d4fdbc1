//! The `rename_keys` transform. (stub: to be implemented)

use super::Transform;
use crate::error::Result;
use crate::page::Record;

/// Rewrites every key, recursively, with a regex replacement.
#[derive(Debug, Clone)]
pub struct RenameKeys {
    pattern: regex::Regex,
    replacement: String,
}

impl RenameKeys {
    /// A rename with a pattern already checked at build time.
    ///
    /// # Panics
    /// If `pattern` is not a valid regex (the generator rejects those at build time).
    pub fn new(pattern: &str, replacement: impl Into<String>) -> Self {
        RenameKeys {
            pattern: regex::Regex::new(pattern).expect("pattern checked at build time"),
            replacement: replacement.into(),
        }
    }
}

impl Transform for RenameKeys {
    fn apply(&mut self, _record: Record) -> Result<Option<Record>> {
        let _ = (&self.pattern, &self.replacement);
        todo!()
    }
}

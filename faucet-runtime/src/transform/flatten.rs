//! The `flatten` transform. (stub: to be implemented)

use super::Transform;
use crate::error::Result;
use crate::page::Record;

/// Lifts nested objects into top-level `parent{sep}child` keys.
#[derive(Debug, Clone)]
pub struct Flatten {
    separator: String,
}

impl Flatten {
    /// A flatten joining key segments with `separator` (faucet-stream's default is `"__"`).
    pub fn new(separator: impl Into<String>) -> Self {
        Flatten { separator: separator.into() }
    }
}

impl Transform for Flatten {
    fn apply(&mut self, _record: Record) -> Result<Option<Record>> {
        let _ = &self.separator;
        todo!()
    }
}

//! The `snake_case` and `keys_case` transforms. (stub: to be implemented)

use super::Transform;
use crate::error::Result;
use crate::page::Record;

/// The case `keys_case` converts keys to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseMode {
    /// `first_name`
    Snake,
    /// `firstName`
    Camel,
    /// `FirstName`
    Pascal,
    /// `first-name`
    Kebab,
    /// `FIRST_NAME`
    ScreamingSnake,
}

/// Converts every key, recursively, to one case.
#[derive(Debug, Clone)]
pub struct KeysCase {
    mode: CaseMode,
}

impl KeysCase {
    /// A conversion to `mode`; `snake_case` is `KeysCase::new(CaseMode::Snake)`.
    pub fn new(mode: CaseMode) -> Self {
        KeysCase { mode }
    }
}

impl Transform for KeysCase {
    fn apply(&mut self, _record: Record) -> Result<Option<Record>> {
        let _ = self.mode;
        todo!()
    }
}

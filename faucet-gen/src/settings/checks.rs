//! Checks across keys. A declared group's checks can run as soon as its keys
//! are read ([`Checked`]), so their messages come out in the order the keys
//! are declared; a check reads the keys it compares on their own ([`peek`],
//! [`alone`]), reporting nothing, so it still runs when an unrelated key is
//! invalid.

use proc_macro2::TokenStream;

use crate::diag::Diagnostics;
use crate::emit::Gen;
use crate::load::{Node, Value};
use crate::read::Fields;
use crate::settings::{Declared, Part, Setting};
use crate::spec::Kind;

/// A declared group of keys with checks across them.
pub(crate) trait Checks: Declared {
    /// Checks the group's keys in `f`, whichever of them are invalid (see
    /// [`peek`]); false when a check leaves the group without a value.
    fn check(f: &mut Fields<'_>, diags: &mut Diagnostics) -> bool;
}

/// A [`Checks`] group laid out in its parent's map, as one member: its keys
/// are read, then checked.
#[derive(Debug, Clone)]
pub struct Checked<T>(pub T);

impl<T: Checks> Part for Checked<T> {
    const KIND: Kind = Kind::Flatten(T::SPEC_REF);
    const REQUIRED: bool = false;

    fn read_part(f: &mut Fields<'_>, _key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let read = T::read(f, diags);
        let valid = T::check(f, diags);
        read.filter(|_| valid).map(Checked)
    }

    fn emit_part(&self, g: &Gen) -> TokenStream {
        self.0.config(g)
    }
}

/// The node and value of `key` when it is present and valid, for a check
/// that runs even when other keys of the group are not. Its mistakes were
/// reported when the group was read, so they are not reported again.
pub(crate) fn peek<'a, T: Setting>(f: &mut Fields<'a>, key: &'static str) -> Option<(&'a Node, T)> {
    let node = f.get(key)?;
    T::read(node, key, &mut Diagnostics::new()).map(|value| (node, value))
}

/// The value of `key` when valid, `default` when absent, `None` when invalid.
pub(crate) fn peek_or<T: Setting>(f: &mut Fields<'_>, key: &'static str, default: T) -> Option<T> {
    match f.get(key) {
        Some(node) => T::read(node, key, &mut Diagnostics::new()),
        None => Some(default),
    }
}

/// The value of `key` in the map `config` as `T` reads it on its own:
/// `Some(None)` when absent or null, `None` when invalid.
pub(crate) fn alone<T: Setting>(config: &Node, key: &'static str) -> Option<Option<T>> {
    let Value::Map(entries) = &config.value else { return Some(None) };
    match entries.iter().find(|e| e.key == key).filter(|e| !matches!(e.value.value, Value::Null)) {
        Some(e) => T::read(&e.value, key, &mut Diagnostics::new()).map(Some),
        None => Some(None),
    }
}

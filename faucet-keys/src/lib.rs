//! The one implementation of what faucet's key-rewriting transforms make of
//! a key, shared by build time (faucet-gen maps a pipeline's record schema
//! through `snake_case`, `keys_case` and `rename_keys` to check the fields
//! its config names) and run time (faucet-runtime rewrites each record's
//! keys), so the schema a build checks is exactly the records a run writes.
//!
//! - [`CaseMode::convert`]: a key in one case style (`snake_case`, `keys_case`);
//! - [`rename`]: a key rewritten by a regex replacement (`rename_keys`), and
//!   [`check_replacement`]: the replacement's group references, checked
//!   before any key meets it.
//!
//! Both rewrites return `None` for a key that keeps its name.

mod case;
mod rename;
mod words;

pub use case::CaseMode;
pub use rename::{BadReference, check_replacement, rename};

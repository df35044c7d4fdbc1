//! State stores: where bookmarks persist between runs.
//!
//! A store maps a key (`pipeline::row`) to an opaque JSON bookmark. `put` must
//! be durable before it returns: the driver relies on it to never lose a
//! confirmed page. Redis and PostgreSQL stores implement the same trait.

mod child_key;
mod file;
mod memory;
#[cfg(feature = "state-postgres")]
mod postgres_store;
#[cfg(all(test, any(feature = "state-postgres", feature = "state-redis")))]
mod proxy;
#[cfg(feature = "state-redis")]
mod redis_store;
mod store;
#[cfg(all(test, any(feature = "state-postgres", feature = "state-redis")))]
mod store_tests;

pub use crate::config::state::{PostgresStoreConfig, RedisStoreConfig};
pub use child_key::parent_key_segment;
pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "state-postgres")]
pub use postgres_store::PostgresStore;
#[cfg(feature = "state-redis")]
pub use redis_store::RedisStore;
pub use store::{StateStore, validate_key};

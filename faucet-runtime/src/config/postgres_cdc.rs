//! Settings of the `postgres_cdc` source.

use std::fmt;
use std::time::Duration;

use crate::connectors::dburl;

/// A table, by schema and name (as written: identifiers are quoted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
}

/// Settings of the `postgres_cdc` source, validated at build time.
#[derive(Clone)]
pub struct PostgresCdcConfig {
    /// `postgres://user:password@host:port/db` (a user with REPLICATION or superuser).
    pub connection_url: String,
    /// The logical replication slot (lowercase letters, digits, `_`; ≤ 63).
    pub slot_name: String,
    /// The publication whose tables are streamed.
    pub publication_name: String,
    /// Create the slot when it does not exist (and the publication, for `tables`).
    pub create_slot_if_missing: bool,
    /// Only these tables (empty: every table of the publication).
    pub tables: Vec<TableName>,
    /// Read the published tables first, then stream from the slot.
    pub snapshot: bool,
    /// Records per page.
    pub batch_size: usize,
    /// End the run when no change arrived for this long.
    pub idle_timeout: Option<Duration>,
    /// End the run after this many records.
    pub max_messages: Option<u64>,
    /// How often to look for new changes when caught up.
    pub poll_interval: Duration,
    /// How many times to retry, a second apart, while another session holds the slot.
    pub slot_acquire_retries: u32,
}

impl fmt::Debug for PostgresCdcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresCdcConfig")
            .field("connection_url", &dburl::redact(&self.connection_url))
            .field("slot_name", &self.slot_name)
            .field("publication_name", &self.publication_name)
            .field("create_slot_if_missing", &self.create_slot_if_missing)
            .field("tables", &self.tables)
            .field("snapshot", &self.snapshot)
            .field("batch_size", &self.batch_size)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_messages", &self.max_messages)
            .field("poll_interval", &self.poll_interval)
            .field("slot_acquire_retries", &self.slot_acquire_retries)
            .finish()
    }
}

impl PostgresCdcConfig {
    /// The defaults for a URL, slot and publication.
    pub fn new(
        connection_url: impl Into<String>,
        slot_name: impl Into<String>,
        publication_name: impl Into<String>,
    ) -> Self {
        PostgresCdcConfig {
            connection_url: connection_url.into(),
            slot_name: slot_name.into(),
            publication_name: publication_name.into(),
            create_slot_if_missing: true,
            tables: Vec::new(),
            snapshot: false,
            batch_size: 1000,
            idle_timeout: None,
            max_messages: None,
            poll_interval: Duration::from_secs(1),
            slot_acquire_retries: 10,
        }
    }
}

//! `mysql`: a query or table of MySQL or MariaDB, read in pages; a sink that
//! appends, upserts or deletes by key, one transaction per batch. The same
//! keys as `postgres`, but no `write_method` (there is no COPY).

use proc_macro2::TokenStream;
use quote::quote;

use super::{
    ColumnMapping, EnvName, Input, MaxConnections, Name, PgNames, ShardKey, TableWrite, check_input,
    finish_server_sink,
};
use crate::connectors::registry::Connector;
use crate::connectors::urls::MySqlUrl;
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::Node;
use crate::read::Fields;
use crate::settings::values::PageSize;
use crate::settings::{Flatten, Nested, settings};
use crate::spec::Spec;

settings! {
    /// A MySQL or MariaDB query or table, read in pages in one snapshot.
    pub struct MySqlSource("source.mysql") {
        /// What the runtime reads.
        source: Flatten<MySqlSourceConfig>,
        /// Accepted for faucet-stream compatibility; one connection is used.
        max_connections: MaxConnections,
        /// The integer column a sharded run splits the rows by (`shard: {key: id}`).
        shard: Option<Nested<ShardKey<PgNames>>>,
    }
    not_yet: ["read_timeout_secs", "json_big_numbers", "net_write_timeout_secs", "replication", "state_key"]
}

settings! {
    /// The `mysql` source's settings the runtime takes.
    pub struct MySqlSourceConfig("source.mysql.config") => sql::MySqlSourceConfig {
        /// The database URL; read the password from `${env:…}`.
        connection_url: MySqlUrl,
        /// A query (with `params`) or a table (with `schema`).
        input: Input,
        /// A growing column: each run reads rows past the last bookmark.
        replication_key: Option<Name<PgNames>>,
        /// Records per page or write.
        batch_size: PageSize = 1000,
    }
}

settings! {
    /// A MySQL or MariaDB table: appends, upserts or deletes by key, one transaction per batch.
    pub struct MySqlSink("sink.mysql") {
        /// What the runtime writes.
        sink: Flatten<MySqlSinkConfig>,
        /// Accepted for faucet-stream compatibility; one connection is used.
        max_connections: MaxConnections,
    }
    not_yet: ["scope", "rollback", "write_timeout_secs", "binary_encoding"]
}

settings! {
    /// The `mysql` sink's settings the runtime takes.
    pub struct MySqlSinkConfig("sink.mysql.config") => sql::MySqlSinkConfig {
        /// The database URL; read the password from `${env:…}`.
        connection_url: MySqlUrl,
        /// The target table.
        table_name: EnvName<PgNames>,
        /// The target schema (MySQL: database).
        schema: Option<EnvName<PgNames>>,
        /// `auto_map` (record keys are columns) or `{jsonb: {column: data}}`.
        column_mapping: ColumnMapping = ColumnMapping::jsonb_data(),
        /// What batches do to the table.
        write: Flatten<TableWrite<PgNames>>,
    }
}

impl Connector for MySqlSource {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let source = Self::from_config(config, what, diags);
        let input = check_input(config, "mysql", diags);
        source.filter(|_| input)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "mysql",
            "`mysql` source",
            loc,
            self.source.0.config(g),
            ShardKey::emit_on(&self.shard, quote!(#rt::connectors::sql::mysql::MySqlSource::new(config))),
        )
    }
}

impl Connector for MySqlSink {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(config, &Self::SPEC, what, diags)?;
        let sink = Self::read(&mut f, diags);
        let agree = finish_server_sink(f, config, false, diags);
        let mut sink = sink.filter(|_| agree)?;
        let s = &mut sink.sink.0;
        s.write.0.settle(s.column_mapping == ColumnMapping::AutoMap);
        Some(sink)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "mysql",
            "`mysql` sink",
            loc,
            self.sink.0.config(g),
            quote!(#rt::connectors::sql::mysql::MySqlSink::new(config)),
        )
    }
}

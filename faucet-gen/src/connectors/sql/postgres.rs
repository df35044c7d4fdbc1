//! `postgres`: a query or table read through a cursor; a sink that appends
//! (COPY), upserts or deletes by key, one transaction per batch.

use proc_macro2::TokenStream;
use quote::quote;

use super::{
    ColumnMapping, Dependent, EnvName, Input, MaxConnections, Name, PgNames, ShardKey, TableWrite,
    WriteMethod, WriteMode, check_input, finish_server_sink,
};
use crate::connectors::registry::Connector;
use crate::connectors::urls::PostgresUrl;
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::Node;
use crate::read::Fields;
use crate::settings::values::PageSize;
use crate::settings::{Flatten, Nested, settings};
use crate::spec::Spec;

settings! {
    /// A PostgreSQL query or table, read through a cursor in one snapshot.
    pub struct PostgresSource("source.postgres") {
        /// What the runtime reads.
        source: Flatten<PostgresSourceConfig>,
        /// Accepted for faucet-stream compatibility; one connection is used.
        max_connections: MaxConnections,
        /// The integer column a sharded run splits the rows by (`shard: {key: id}`).
        shard: Option<Nested<ShardKey<PgNames>>>,
    }
    not_yet: ["read_timeout_secs", "json_big_numbers", "replication", "state_key"]
}

settings! {
    /// The `postgres` source's settings the runtime takes.
    pub struct PostgresSourceConfig("source.postgres.config") => sql::PostgresSourceConfig {
        /// The database URL; read the password from `${env:…}`.
        connection_url: PostgresUrl,
        /// A query (with `params`) or a table (with `schema`).
        input: Input,
        /// A growing column: each run reads rows past the last bookmark.
        replication_key: Option<Name<PgNames>>,
        /// Records per page or write.
        batch_size: PageSize = 1000,
    }
}

settings! {
    /// A PostgreSQL table: COPY appends, upserts or deletes by key, one transaction per batch.
    pub struct PostgresSink("sink.postgres") {
        /// What the runtime writes.
        sink: Flatten<PostgresSinkConfig>,
        /// Accepted for faucet-stream compatibility; one connection is used.
        max_connections: MaxConnections,
    }
    not_yet: ["scope", "rollback", "write_timeout_secs", "binary_encoding"]
}

settings! {
    /// The `postgres` sink's settings the runtime takes.
    pub struct PostgresSinkConfig("sink.postgres.config") => sql::PostgresSinkConfig {
        /// The database URL; read the password from `${env:…}`.
        connection_url: PostgresUrl,
        /// The target table.
        table_name: EnvName<PgNames>,
        /// The target schema (MySQL: database).
        schema: Option<EnvName<PgNames>>,
        /// `auto_map` (record keys are columns) or `{jsonb: {column: data}}`.
        column_mapping: ColumnMapping = ColumnMapping::jsonb_data(),
        /// What batches do to the table.
        write: Flatten<TableWrite<PgNames>>,
        /// `copy` (append only, the default there) or multi-row `insert`.
        write_method: Dependent<WriteMethod>,
    }
}

impl Connector for PostgresSource {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let source = Self::from_config(config, what, diags);
        let input = check_input(config, "postgres", diags);
        source.filter(|_| input)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "postgres",
            "`postgres` source",
            loc,
            self.source.0.config(g),
            ShardKey::emit_on(
                &self.shard,
                quote!(#rt::connectors::sql::postgres::PostgresSource::new(config)),
            ),
        )
    }
}

impl Connector for PostgresSink {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(config, &Self::SPEC, what, diags)?;
        let sink = Self::read(&mut f, diags);
        let agree = finish_server_sink(f, config, true, diags);
        let mut sink = sink.filter(|_| agree)?;
        let s = &mut sink.sink.0;
        s.write.0.settle(s.column_mapping == ColumnMapping::AutoMap);
        // COPY only appends: upserts and deletes use INSERT and DELETE statements.
        let append = s.write.0.write_mode.0 == WriteMode::Append;
        s.write_method.settle(if append { WriteMethod::Copy } else { WriteMethod::Insert });
        Some(sink)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "postgres",
            "`postgres` sink",
            loc,
            self.sink.0.config(g),
            quote!(#rt::connectors::sql::postgres::PostgresSink::new(config)),
        )
    }
}

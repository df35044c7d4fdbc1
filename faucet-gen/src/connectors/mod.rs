//! The connectors faucet generates: one module per connector, holding its
//! settings (declared once with `settings!`), their checks and their code
//! generation. Adding a connector means adding its module and one line below.

pub mod common;
pub mod csv;
pub mod jsonl;
pub mod kafka;
pub mod object_store;
pub mod postgres_cdc;
pub(crate) mod registry;
pub mod rest;
pub mod single_file;
pub mod sql;
pub mod state_stores;
pub mod stdout;
pub mod urls;

use registry::register;

use crate::diag::Diagnostics;
use crate::load::Node;
use crate::spec::{Field, Kind, Spec};

register! {
    /// The source connectors.
    pub enum SourceKind("source") {
        /// `csv`.
        Csv(csv::CsvSource): "csv";
        /// `jsonl`.
        Jsonl(jsonl::JsonlSource): "jsonl";
        /// Object stores.
        Object(object_store::ObjectSource):
            "s3" = object_store::S3Source::SPEC,
            "gcs" = object_store::GcsSource::SPEC,
            "azure" = object_store::AzureSource::SPEC,
            "azure-blob" = object_store::AzureSource::SPEC,
            "file" = object_store::FileSource::SPEC | single_file::FileSource::SPEC,
            "memory" = object_store::MemorySource::SPEC;
        /// `rest` (boxed: its settings are much larger than the other sources').
        Rest(Box<rest::RestSource>): "rest";
        /// `postgres`.
        Postgres(Box<sql::postgres::PostgresSource>): "postgres";
        /// `postgres_cdc` (also spelled `postgres-cdc`).
        PostgresCdc(Box<postgres_cdc::PostgresCdcSource>): "postgres_cdc", "postgres-cdc";
        /// `kafka`.
        Kafka(kafka::KafkaSource): "kafka";
        /// `sqlite`.
        Sqlite(sql::sqlite::SqliteSource): "sqlite";
        /// `mysql`.
        MySql(Box<sql::mysql::MySqlSource>): "mysql";
    }
    types: SOURCES,
    specs: SOURCE_SPECS,
}

register! {
    /// The sink connectors.
    pub enum SinkKind("sink") {
        /// `jsonl`.
        Jsonl(jsonl::JsonlSink): "jsonl";
        /// `csv`.
        Csv(csv::CsvSink): "csv";
        /// `stdout`.
        Stdout(stdout::StdoutSink): "stdout";
        /// `sqlite`.
        Sqlite(sql::sqlite::SqliteSink): "sqlite";
        /// Object stores.
        Object(object_store::ObjectSink):
            "s3" = object_store::S3Sink::SPEC,
            "gcs" = object_store::GcsSink::SPEC,
            "azure" = object_store::AzureSink::SPEC,
            "azure-blob" = object_store::AzureSink::SPEC,
            "file" = object_store::FileSink::SPEC | single_file::FileSink::SPEC,
            "memory" = object_store::MemorySink::SPEC;
        /// `postgres`.
        Postgres(Box<sql::postgres::PostgresSink>): "postgres";
        /// `kafka`.
        Kafka(kafka::KafkaSink): "kafka";
        /// `mysql`.
        MySql(Box<sql::mysql::MySqlSink>): "mysql";
    }
    types: SINKS,
    specs: SINK_SPECS,
}

/// Reads a source's connector config: `file` with `path` (faucet-stream's
/// one-file source) becomes the `csv` or `jsonl` source it reads as; every
/// other type reads as registered. See [`SourceKind::read`] for the result.
pub(crate) fn read_source(tag: &str, config: &Node, diags: &mut Diagnostics) -> Option<Option<SourceKind>> {
    if tag != "file"
        || !single_file::names_one_file(
            config,
            &object_store::FileSource::SPEC,
            &single_file::FileSource::SPEC,
        )
    {
        return SourceKind::read(tag, config, diags);
    }
    Some(single_file::read_source(config, "the `file` source config".to_owned(), diags).map(|s| match s {
        single_file::OneFileSource::Csv(c) => SourceKind::Csv(c),
        single_file::OneFileSource::Jsonl(j) => SourceKind::Jsonl(j),
    }))
}

/// Reads a sink's connector config, as [`read_source`] does a source's.
pub(crate) fn read_sink(tag: &str, config: &Node, diags: &mut Diagnostics) -> Option<Option<SinkKind>> {
    if tag != "file"
        || !single_file::names_one_file(config, &object_store::FileSink::SPEC, &single_file::FileSink::SPEC)
    {
        return SinkKind::read(tag, config, diags);
    }
    Some(single_file::read_sink(config, "the `file` sink config".to_owned(), diags).map(|s| match s {
        single_file::OneFileSink::Csv(c) => SinkKind::Csv(c),
        single_file::OneFileSink::Jsonl(j) => SinkKind::Jsonl(j),
    }))
}

/// A `source` block: `{type, config, record_schema}` (the type picks the config's spec).
pub(crate) const SOURCE_BLOCK: Spec = Spec {
    name: "source",
    doc: "Where records come from: a connector `type`, its `config`, and optionally the `record_schema` of its records.",
    fields: &SOURCE_BLOCK_FIELDS,
    variants: SOURCE_SPECS,
};

/// A sink block (the main sink or the dead-letter queue's).
pub(crate) const SINK_BLOCK: Spec = Spec {
    name: "sink",
    doc: "Where records go: a connector `type` and its `config`.",
    fields: &BLOCK_FIELDS,
    variants: SINK_SPECS,
};

const SOURCE_BLOCK_FIELDS: [Field; 10] = [
    TYPE_FIELD,
    CONFIG_FIELD,
    Field::opt(
        "record_schema",
        Kind::Object(&crate::record_schema::declared::RECORD_SCHEMA),
        "The fields of the records, for sources that cannot be introspected (files, REST, Kafka, object stores); a database source's schema is read from the database.",
    ),
    Field::not_yet("transforms"),
    Field::not_yet("inherit_transforms"),
    Field::not_yet("status"),
    Field::not_yet("tags"),
    Field::not_yet("ref"),
    Field::not_yet("complete_for"),
    Field::not_yet("attributes"),
];

const TYPE_FIELD: Field = Field::req("type", Kind::Str, "The connector.");
const CONFIG_FIELD: Field = Field::opt("config", Kind::Json, "The connector's settings.");

const BLOCK_FIELDS: [Field; 9] = [
    TYPE_FIELD,
    CONFIG_FIELD,
    Field::not_yet("transforms"),
    Field::not_yet("inherit_transforms"),
    Field::not_yet("status"),
    Field::not_yet("tags"),
    Field::not_yet("ref"),
    Field::not_yet("complete_for"),
    Field::not_yet("attributes"),
];

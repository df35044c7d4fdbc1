//! The faucet-stream 1.17 names faucet does not support yet, where no [`Spec`]
//! holds them: connector types, transform types and `${…}` secret-manager
//! forms. A config naming one gets one "not supported by faucet yet" error
//! (not "unknown", which stays for names faucet-stream does not know either).
//!
//! The not-yet *keys* of a map (top-level blocks such as `schedule`, pipeline
//! keys, matrix-row keys, connector keys) are declared in that map's own
//! [`Spec`] with [`Field::not_yet`] (or a `settings!` `not_yet: […]` list),
//! beside the keys faucet accepts, so each faucet-stream name is listed once,
//! in the one place a reader, `faucet-gen schema` and `faucet-gen docs` look.
//!
//! Source of truth: faucet-registry 1.0.1 `FIRST_PARTY_SOURCES` /
//! `FIRST_PARTY_SINKS` (equal to faucet-cli 1.17.0's `connectors/registry.json`)
//! and faucet-cli 1.17.0's `src/transforms.rs`.
//!
//! [`Spec`]: crate::spec::Spec
//! [`Field::not_yet`]: crate::spec::Field::not_yet

/// faucet-stream source types faucet has no connector for.
pub(crate) const SOURCES: &[&str] = &[
    "bigquery",
    "clickhouse",
    "databricks",
    "delta",
    "duckdb",
    "dynamodb",
    "elasticsearch",
    "graphql",
    "grpc",
    "iceberg",
    "kinesis",
    "mongodb",
    "mongodb-cdc",
    "mssql",
    "mssql-cdc",
    "mysql-cdc",
    "nats",
    "oracle",
    "oracle-cdc",
    "parquet",
    "pubsub",
    "rabbitmq",
    "redis",
    "redshift",
    "sftp",
    "singer",
    "snowflake",
    "spanner",
    "sqs",
    "webhook",
    "websocket",
    "xml",
];

/// faucet-stream sink types faucet has no connector for.
pub(crate) const SINKS: &[&str] = &[
    "bigquery",
    "clickhouse",
    "databricks",
    "delta",
    "duckdb",
    "dynamodb",
    "elasticsearch",
    "http",
    "iceberg",
    "kinesis",
    "mongodb",
    "mssql",
    "nats",
    "oracle",
    "parquet",
    "pubsub",
    "rabbitmq",
    "redis",
    "redshift",
    "sftp",
    "singer",
    "snowflake",
    "spanner",
    "sqs",
];

/// faucet-stream transform types faucet does not implement.
pub(crate) const TRANSFORMS: &[&str] =
    &["spell_symbols", "tree_flatten", "cross_join", "zip_columns", "make_uppercase", "sql", "wasm"];

/// faucet-stream's secret-manager references (`${vault:path#key}`, …), which
/// faucet does not resolve yet. Only the names live here; reading `${…}` forms
/// is the interpolation code's (`validate/vars.rs`, `text.rs`), which reports them.
#[allow(dead_code)]
pub(crate) const SECRET_MANAGERS: &[&str] = &["vault", "aws-sm", "gcp-sm", "azure-kv"];

/// Top-level blocks that supply parts of `pipeline` or values its strings
/// name (`extends` a base file, `params` for `${param.…}`, `partition` for
/// `${partition.…}`, `mirror` the tables a sink writes, `auth` providers
/// connectors `ref`): with one of them, the pipeline as written is not the
/// one faucet-stream runs, so it is not validated further, and what it leaves
/// out is not reported as more mistakes.
pub(crate) const PIPELINE_SUPPLIERS: &[&str] =
    &["extends", "profiles", "params", "auth", "mirror", "replication", "partition", "backfill"];

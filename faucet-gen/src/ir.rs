//! The validated pipeline: every value checked, normalized and typed.
//!
//! Code generation reads only this; nothing here can be invalid.

use crate::connectors;
pub use crate::connectors::common::OnParseError;
pub use crate::connectors::{SinkKind, SourceKind};
use crate::diag::Loc;
use crate::record_schema::{RecordSchema, TableSchema};
pub use crate::text::{Encode, SecretEnv, Text, TextPart};

/// A validated definition: one pipeline, or a matrix of rows.
#[derive(Debug, Clone)]
pub enum Definition {
    /// A pipeline without `matrix:`.
    Single(Box<Pipeline>),
    /// A pipeline with `matrix:` rows.
    Matrix(Box<Matrix>),
}

impl Definition {
    /// The module the definition is generated into.
    pub fn module(&self) -> &str {
        match self {
            Definition::Single(p) => &p.module,
            Definition::Matrix(m) => &m.module,
        }
    }

    /// The pipeline's name.
    pub fn name(&self) -> &str {
        match self {
            Definition::Single(p) => &p.name,
            Definition::Matrix(m) => &m.name,
        }
    }
}

/// A matrix: rows fanned out from one config, with a schedule fixed at build time.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The pipeline's name.
    pub name: String,
    /// The Rust module it is generated into.
    pub module: String,
    /// The rows, in the order written.
    pub rows: Vec<Row>,
    /// `execution.max_concurrent` (default: the machine's cores, 1 to 8).
    pub max_concurrent: Option<u64>,
    /// `execution.on_error`.
    pub on_error: OnError,
    /// `shard:`: the root rows divided among shards.
    pub sharding: Option<Sharding>,
    /// `observability:`, applied by the generated `main` helper.
    pub observability: Observability,
    /// Which `${env:…}` values are masked at run time.
    pub secret_env: Box<SecretEnv>,
}

/// One matrix row: a merged, validated pipeline and its place in the schedule.
#[derive(Debug, Clone)]
pub struct Row {
    /// The row's id (`row-<index>` when anonymous).
    pub id: String,
    /// The id as a Rust identifier fragment.
    pub ident: String,
    /// The row's merged pipeline.
    pub pipeline: Pipeline,
    /// The parent row: this row runs once per record it writes.
    pub parent: Option<usize>,
    /// The dotted path of the parent record's key.
    pub parent_key: Vec<String>,
    /// Rows whose trees must succeed before this row starts.
    pub depends_on: Vec<usize>,
    /// Rows that run once per record this row writes.
    pub children: Vec<usize>,
    /// The root of the row's parent chain.
    pub root: usize,
}

/// `execution.on_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Siblings go on; descendants and dependents of a failure are skipped.
    Continue,
    /// Everything stops at the first failure.
    Stop,
}

/// A validated pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline's name as written (`name:`, or the file stem).
    pub name: String,
    /// The Rust module the pipeline is generated into (the name in snake case).
    pub module: String,
    /// Where records come from.
    pub source: Source,
    /// The transform chain, in order.
    pub transforms: Vec<Transform>,
    /// Where records go.
    pub sink: Sink,
    /// Where bookmarks persist.
    pub state: State,
    /// Where failed rows go.
    pub dlq: Option<Dlq>,
    /// `contract:`: the promised shape of the records reaching the sink,
    /// checked on every page before it is written.
    pub contract: Option<Contract>,
    /// What is known at build time of the records at each end.
    pub schemas: Schemas,
    /// `observability:`, applied by the generated `main` helper (none in matrix rows).
    pub observability: Observability,
    /// Which `${env:…}` values are masked at run time (the matrix's, in matrix rows).
    pub secret_env: Box<SecretEnv>,
    /// `shard:`: the source split into shards (never in a matrix row).
    pub sharding: Option<Sharding>,
}

/// `shard: {count}`, and how the shards of one process run.
#[derive(Debug, Clone)]
pub struct Sharding {
    /// How many shards.
    pub count: u32,
    /// `execution.max_concurrent`: shards running at once in one process.
    pub max_concurrent: Option<u64>,
    /// `execution.on_error`: whether a failed shard stops the others.
    pub on_error: OnError,
}

/// The record schemas known at build time (see [`crate::record_schema`]);
/// each is `None` where nothing is known, and the stream is untyped there.
#[derive(Debug, Clone, Default)]
pub struct Schemas {
    /// The source's records: introspected from its table or query, or declared.
    pub source: Option<RecordSchema>,
    /// The records reaching the sink, after every transform.
    pub output: Option<RecordSchema>,
    /// The sink's table, when it exists and was introspected.
    pub table: Option<TableSchema>,
}

/// `observability:`: what the generated `main` helper installs.
#[derive(Debug, Clone, Default)]
pub struct Observability {
    /// Where the block was written (for the `cli` feature's error), when it was.
    pub loc: Option<Loc>,
    /// `prometheus.listen`: a socket address (checked at build time when literal).
    pub prometheus_listen: Option<Text>,
    /// `prometheus.buckets`: histogram buckets in seconds.
    pub prometheus_buckets: Option<Vec<f64>>,
    /// `tracing.level`.
    pub tracing_level: Option<TracingLevel>,
}

crate::settings::choice! {
    /// `observability.tracing.level`: the most verbose level printed.
    pub enum TracingLevel => config::observability::TracingLevel {
        /// Everything.
        Trace = "trace",
        /// Debugging detail.
        Debug = "debug",
        /// Progress.
        Info = "info",
        /// Problems.
        Warn = "warn",
        /// Failures only.
        Error = "error",
    }
}

/// A configured source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where `type:` was written (a feature-gate error points here).
    pub loc: Loc,
    /// The connector and its settings.
    pub kind: SourceKind,
    /// `record_schema:`: the fields its records carry, as declared in the config.
    pub declared: Option<RecordSchema>,
}

impl SourceKind {
    /// The source's malformed-input policy.
    pub fn on_parse_error(&self) -> OnParseError {
        match self {
            SourceKind::Csv(c) => c.on_parse_error,
            SourceKind::Jsonl(j) => j.on_parse_error,
            SourceKind::Object(o) => o.objects.on_parse_error,
            SourceKind::Kafka(k) => k.on_decode_error.into(),
            // A malformed response fails the run.
            SourceKind::Rest(_) => OnParseError::Fail,
            // A row that cannot be read fails the run.
            SourceKind::Postgres(_)
            | SourceKind::PostgresCdc(_)
            | SourceKind::Sqlite(_)
            | SourceKind::MySql(_) => OnParseError::Fail,
        }
    }

    /// The name of the source's malformed-input setting, for messages.
    pub fn on_parse_error_key(&self) -> &'static str {
        match self {
            SourceKind::Kafka(_) => "on_decode_error",
            _ => "on_parse_error",
        }
    }
}

/// A configured sink.
#[derive(Debug, Clone)]
pub struct Sink {
    /// Where `type:` was written.
    pub loc: Loc,
    /// The connector and its settings.
    pub kind: SinkKind,
}

/// A configured transform.
#[derive(Debug, Clone)]
pub enum Transform {
    /// `flatten`.
    Flatten {
        /// Joins parent and child keys.
        separator: String,
    },
    /// `rename_keys`.
    RenameKeys {
        /// A regex checked at build time.
        pattern: String,
        /// The replacement (`$1`, `${name}`).
        replacement: String,
    },
    /// `snake_case` or `keys_case`.
    KeysCase(CaseMode),
    /// `cdc_unwrap`: change records into rows plus a delete marker.
    CdcUnwrap {
        /// The op field.
        op_field: String,
        /// The new row's field.
        after_field: String,
        /// The old row's field.
        before_field: String,
        /// A key field for deletes without `before`.
        key_field: Option<String>,
        /// Set to true on deletes.
        marker_field: String,
        /// Ops that delete.
        delete_ops: Vec<String>,
        /// Ops that are dropped.
        drop_ops: Vec<String>,
    },
    /// `custom`: a Rust function `fn(Record) -> Result<Option<Record>, FaucetError>`.
    Custom {
        /// The function's path.
        function: String,
        /// Where it was written.
        loc: Loc,
        /// `record_schema:`: the records it returns, as declared (`None`: untyped after it).
        output: Option<RecordSchema>,
    },
    /// `filter`: keeps the records whose value at a path satisfies a condition.
    Filter(Filter),
    /// `explode`: one record per element of an array field.
    Explode(Explode),
    /// `unpivot`: wide columns or a map field into key/value rows.
    Unpivot(Unpivot),
    /// `select`: only the listed top-level fields, in the listed order.
    Select {
        /// The fields kept (each once).
        fields: Vec<Named>,
    },
    /// `drop`: the listed top-level fields removed.
    Drop {
        /// The fields removed.
        fields: Vec<Named>,
    },
    /// `set`: top-level fields set to constants (overwritten where present).
    Set {
        /// Each field and its value, in the order written.
        values: Vec<(Named, serde_json::Value)>,
    },
    /// `rename_field`: exact top-level renames, all read from the record as it came.
    RenameField {
        /// Each field and its new name, ordered by field (as faucet-stream applies them).
        renames: Vec<(Named, Named)>,
    },
    /// `cast`: top-level fields converted to another type.
    Cast {
        /// Each field and its target type, ordered by field.
        fields: Vec<(Named, CastType)>,
        /// What a value that does not convert becomes.
        on_error: CastOnError,
    },
    /// `coalesce`: a field that is absent or null filled from a constant or other fields.
    Coalesce {
        /// The field filled.
        field: Named,
        /// What fills it.
        fill: Fill,
        /// An empty string counts as null (in the field and in `from`).
        treat_empty_string_as_null: bool,
    },
    /// `redact`: fields overwritten with `mask`.
    Redact {
        /// The fields.
        fields: Vec<Named>,
        /// What replaces them.
        mask: serde_json::Value,
    },
    /// `value_case`: string fields re-cased.
    ValueCase {
        /// The fields.
        fields: Vec<Named>,
        /// How.
        mode: values::ValueCaseMode,
    },
    /// `hash`: fields replaced (or copied) by their digest.
    Hash(values::Hash),
    /// `json_parse`: JSON text fields parsed.
    JsonParse(values::JsonParse),
    /// `json_encode`: object and array fields written as JSON text.
    JsonEncode {
        /// The fields.
        fields: Vec<Named>,
    },
    /// `split`: a string field into an array of strings.
    Split(values::SplitJoin),
    /// `join`: an array field into a string.
    Join(values::SplitJoin),
    /// `lookup`: columns added from a reference table.
    Lookup(Box<values::Lookup>),
}

/// A field path of `filter` or `explode`, as faucet-stream writes it
/// (`a`, `a.b`, `$['a.b']`), parsed at build time.
#[derive(Debug, Clone)]
pub struct FieldPath {
    /// The keys, from the record down through objects.
    pub keys: Vec<String>,
    /// As written.
    pub text: String,
    /// Where it was written.
    pub loc: Loc,
}

/// `filter`'s condition.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The value tested.
    pub path: FieldPath,
    /// The test.
    pub op: FilterOp,
    /// `value`: one value for `eq`/`ne`, the list for `in`/`not_in`, none for `exists`.
    pub value: Option<serde_json::Value>,
    /// Where `value` was written.
    pub value_loc: Loc,
}

/// `filter`'s `op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// Equal (a missing field is not).
    Eq,
    /// Not equal (a missing field is not equal).
    Ne,
    /// Present and not null.
    Exists,
    /// Equal to one of a list.
    In,
    /// Equal to none of a list.
    NotIn,
}

impl FilterOp {
    /// The op as written.
    pub fn name(self) -> &'static str {
        match self {
            FilterOp::Eq => "eq",
            FilterOp::Ne => "ne",
            FilterOp::Exists => "exists",
            FilterOp::In => "in",
            FilterOp::NotIn => "not_in",
        }
    }
}

/// `explode`'s settings.
#[derive(Debug, Clone)]
pub struct Explode {
    /// The array field.
    pub path: FieldPath,
    /// The prefix of an object element's keys (`None`: the array field's name).
    pub prefix: Option<String>,
    /// Between the prefix and the key.
    pub separator: String,
    /// What a record without a non-empty array becomes.
    pub on_missing: OnMissing,
    /// `carry`: `(field, path in the parent record)` set on every record made.
    pub carry: Vec<(String, FieldPath)>,
}

crate::settings::choice! {
    /// `explode`'s `on_missing`.
    pub enum OnMissing => transform::OnMissing {
        /// The record, unchanged.
        Passthrough = "passthrough",
        /// No record.
        Drop = "drop",
        /// A rejected record.
        Error = "error",
    }
}

/// `unpivot`'s settings.
#[derive(Debug, Clone)]
pub struct Unpivot {
    /// Copied onto every row.
    pub id_fields: Vec<String>,
    /// The field holding each column's name (or entry's key).
    pub key_name: String,
    /// The field holding its value.
    pub value_name: String,
    /// `columns` (empty: every field but the ids), or `from`'s map field.
    pub columns: UnpivotColumns,
    /// Skip null values.
    pub drop_nulls: bool,
    /// A record making no row is dropped rather than passed through.
    pub drop_if_empty: bool,
    /// Where each of `id_fields`, `columns` (or `from`) was written, for the schema checks.
    pub locs: UnpivotLocs,
}

/// Where `unpivot`'s rows come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpivotColumns {
    /// These columns.
    Listed(Vec<String>),
    /// Every field but the ids.
    AllButIds,
    /// The entries of this object field.
    From(String),
}

/// Where `unpivot`'s field names were written.
#[derive(Debug, Clone, Default)]
pub struct UnpivotLocs {
    /// Each id field.
    pub id_fields: Vec<Loc>,
    /// Each listed column, or `from`.
    pub columns: Vec<Loc>,
}

/// A field name a transform's config writes, and where.
#[derive(Debug, Clone)]
pub struct Named {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub loc: Loc,
}

crate::settings::choice! {
    /// The types `cast` converts to: faucet-stream's.
    pub enum CastType => transform::CastType {
        /// A 64-bit integer.
        Int = "int",
        /// A binary floating-point number.
        Float = "float",
        /// `true` or `false`.
        Bool = "bool",
        /// Text.
        String = "string",
        /// An RFC 3339 timestamp, as normalised text.
        Timestamp = "timestamp",
    }
}

crate::settings::choice! {
    /// What `cast` makes of a value that does not convert: faucet-stream's `on_error`.
    pub enum CastOnError => transform::CastOnError {
        /// The record is rejected.
        Error = "error",
        /// The value becomes null.
        Null = "null",
        /// The value stays as it was.
        Skip = "skip",
    }
}

/// What `coalesce` fills its field with.
#[derive(Debug, Clone)]
pub enum Fill {
    /// A constant.
    Default(serde_json::Value),
    /// The first of these fields that is present and not null.
    From(Vec<Named>),
}

pub mod values;

/// The key cases of `keys_case`: the runtime's own, from the crate both share.
pub use faucet_keys::CaseMode;

/// Where bookmarks persist.
#[derive(Debug, Clone)]
pub enum State {
    /// No `state:`: every run starts from the beginning.
    None,
    /// `memory`: within one process only.
    Memory,
    /// `file`: one JSON file per key under a directory.
    File {
        /// The directory.
        path: Text,
    },
    /// `postgres`: a table of JSONB bookmarks.
    Postgres(connectors::state_stores::Store<connectors::state_stores::PostgresState>),
    /// `redis`: one string key per bookmark.
    Redis(connectors::state_stores::Store<connectors::state_stores::RedisState>),
}

/// `on_batch_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBatchError {
    /// Fail the run.
    Propagate,
    /// Dead-letter the whole batch.
    DlqAll,
}

/// The dead-letter queue.
#[derive(Debug, Clone)]
pub struct Dlq {
    /// Where envelopes go.
    pub sink: Sink,
    /// What a whole-batch failure does.
    pub on_batch_error: OnBatchError,
    /// Per-page budget.
    pub max_failures_per_page: Option<u64>,
    /// Whole-run budget.
    pub max_failures_total: Option<u64>,
}

/// `contract:`: a versioned promise about the records the pipeline writes
/// (faucet-stream's data contract), checked per page before the sink write.
#[derive(Debug, Clone)]
pub struct Contract {
    /// Where the block is.
    pub loc: Loc,
    /// `version`: carried into every breach message and envelope.
    pub version: String,
    /// `description`.
    pub description: Option<String>,
    /// `owner`.
    pub owner: Option<String>,
    /// `on_breach`.
    pub on_breach: OnBreach,
    /// `allow_extra_fields`: false makes an undeclared field a breach.
    pub allow_extra_fields: bool,
    /// Where `allow_extra_fields` was written, when it was.
    pub allow_extra_fields_loc: Option<Loc>,
    /// The fields, in the order they are checked.
    pub fields: Vec<ContractField>,
}

/// What a page does with a record that breaches the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBreach {
    /// The run fails and nothing of the page is written.
    Fail,
    /// The record goes to the dead-letter queue; the rest of the page is written.
    Quarantine,
    /// The record is written anyway; the breach is counted and logged.
    Warn,
}

impl OnBreach {
    /// The values of `on_breach`, as written in a config.
    pub const VALUES: &'static [&'static str] = &["fail", "quarantine", "warn"];

    /// The value as written in a config.
    pub fn as_str(self) -> &'static str {
        match self {
            OnBreach::Fail => "fail",
            OnBreach::Quarantine => "quarantine",
            OnBreach::Warn => "warn",
        }
    }
}

/// One field of a contract.
#[derive(Debug, Clone)]
pub struct ContractField {
    /// The top-level key.
    pub name: String,
    /// Where `name` was written (schema errors about the field point here).
    pub name_loc: Loc,
    /// `type`.
    pub ty: ContractType,
    /// `required`: every record has the key.
    pub required: bool,
    /// `nullable`: the value may be `null`.
    pub nullable: bool,
    /// `enum`: the allowed values, each of `ty`.
    pub allowed: Option<Vec<serde_json::Value>>,
    /// `pattern`: a regex (checked at build time) a string value must match.
    pub pattern: Option<String>,
    /// `min`: the inclusive lower bound of a number, as its exact JSON text.
    pub min: Option<String>,
    /// `max`: the inclusive upper bound of a number, as its exact JSON text.
    pub max: Option<String>,
    /// `min_length`: the fewest characters of a string.
    pub min_length: Option<u64>,
    /// `max_length`: the most characters of a string.
    pub max_length: Option<u64>,
    /// `description`.
    pub description: Option<String>,
}

/// The JSON type a contract field promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractType {
    /// A string.
    String,
    /// A number with no fractional part.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
}

impl ContractType {
    /// The values of `type`, as written in a config.
    pub const VALUES: &'static [&'static str] =
        &["string", "integer", "number", "boolean", "object", "array"];

    /// The type as written in a config.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractType::String => "string",
            ContractType::Integer => "integer",
            ContractType::Number => "number",
            ContractType::Boolean => "boolean",
            ContractType::Object => "object",
            ContractType::Array => "array",
        }
    }
}

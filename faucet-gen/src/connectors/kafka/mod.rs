//! `kafka`: a consumer-group source and a producer sink through rdkafka.

mod auth;
mod values;

use proc_macro2::TokenStream;
use quote::quote;

pub use auth::{Auth, Sasl, SaslMechanism, SaslPlain, SaslScram, SaslSsl, ScramMechanism, Ssl};
pub use values::{Brokers, ClientConfig, Compression, RecordPath, Topic, TopicName, Topics, ValueFormat};

use super::common::OnParseError;
use super::registry::Connector;
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::{Node, Value};
use crate::read::Fields;
use crate::settings::values::{BatchSize, Int, PageSize, Seconds};
use crate::settings::{Declared, Setting, choice, settings};
use crate::spec::Spec;
use crate::text::Text;

choice! {
    /// Where a new consumer group starts reading.
    pub enum OffsetReset => config::kafka::OffsetReset {
        /// At the oldest retained message.
        Earliest = "earliest",
        /// At the next message produced.
        Latest = "latest",
    }
}

choice! {
    /// What the source does with a message value it cannot decode.
    pub enum OnDecodeError => config::kafka::OnDecodeError {
        /// Fail the run.
        Fail = "fail",
        /// Count and skip it.
        Skip = "skip",
        /// Dead-letter it.
        Dlq = "dlq",
    }
}

/// The policy as the pipeline checks it (`dlq` needs a dead-letter queue).
impl From<OnDecodeError> for OnParseError {
    fn from(v: OnDecodeError) -> Self {
        match v {
            OnDecodeError::Fail => OnParseError::Fail,
            OnDecodeError::Skip => OnParseError::Skip,
            OnDecodeError::Dlq => OnParseError::Dlq,
        }
    }
}

choice! {
    /// The acknowledgements the producer waits for.
    pub enum Acks => config::kafka::Acks {
        /// None (fire and forget).
        None = "none",
        /// The partition leader's.
        Leader = "leader",
        /// Every in-sync replica's.
        All = "all",
    }
}

settings! {
    /// Kafka topics read by a consumer group; offsets are committed after each page is written.
    pub struct KafkaSource("source.kafka") => kafka::KafkaSourceConfig {
        /// `host:port`, several separated by commas.
        brokers: Brokers,
        /// Topic names.
        topics: Topics,
        /// The consumer group.
        group_id: Text,
        /// Where a new group starts.
        auto_offset_reset: OffsetReset = OffsetReset::Latest,
        /// Messages per page.
        batch_size: PageSize = 1000,
        /// Seconds to wait for a page to fill.
        poll_timeout: Seconds<1, 3600> = Seconds::secs(1),
        /// Stop after this many messages.
        max_messages: Option<Int<1, { i64::MAX }>>,
        /// Stop after this many seconds without messages.
        idle_timeout: Option<Seconds<1, 86_400>>,
        /// `json` (an object per message) or `raw_string`.
        value_format: ValueFormat = ValueFormat::Json,
        /// A message that does not decode.
        on_decode_error: OnDecodeError = OnDecodeError::Fail,
        /// More librdkafka settings (not `group.id`, `bootstrap.servers` or the commit settings).
        extra_client_config: ClientConfig,
        /// Authentication (SASL, TLS); default none.
        auth: Auth,
    }
    not_yet: ["key_format", "session_timeout"]
}

/// `acks` when not set.
const DEFAULT_ACKS: Acks = Acks::All;
/// `idempotent` when not set.
const DEFAULT_IDEMPOTENT: bool = true;

settings! {
    /// Records produced to Kafka as JSON; a page is confirmed before its bookmark is saved.
    pub struct KafkaSink("sink.kafka") => kafka::KafkaSinkConfig {
        /// `host:port`, several separated by commas.
        brokers: Brokers,
        /// A topic name, or `{type, …}`.
        topic: Topic,
        /// A dotted record path whose value is the message key.
        key_path: Option<RecordPath>,
        /// Acknowledgements awaited.
        acks: Acks = DEFAULT_ACKS,
        /// Idempotent producer (needs `acks: all`).
        idempotent: bool = DEFAULT_IDEMPOTENT,
        /// Seconds to wait to fill a batch.
        linger: Seconds<0, 900> = Seconds::millis(5),
        /// Records per write. `0`: each page in one write, as it comes.
        batch_size: BatchSize = 1000,
        /// Batch compression.
        compression: Compression = Compression::None,
        /// Seconds before a send fails.
        message_timeout: Seconds<1, 86_400> = Seconds::secs(30),
        /// More librdkafka settings (not `group.id`, `bootstrap.servers` or the commit settings).
        extra_client_config: ClientConfig,
        /// Authentication (SASL, TLS); default none.
        auth: Auth,
    }
    not_yet: [
        "value_format",
        "key_format",
        "value_schema",
        "key_schema",
        "partition_path",
        "headers_path",
        "on_key_error",
        "max_in_flight",
        "queue_full_backoff",
        "queue_full_max_retries",
        "exactly_once",
        "commit_token_topic_partitions",
        "commit_token_topic_replication",
        "transactional_id_prefix",
        "commit_token_topic",
    ]
}

/// The value of `key` when present and valid (`default` when absent), read
/// again without reporting its mistakes (the declared read did): a check
/// across settings runs even when another setting failed to read.
fn peek<T: Setting>(f: &mut Fields<'_>, key: &'static str, default: T) -> Option<T> {
    match f.get(key) {
        Some(node) => T::read(node, key, &mut Diagnostics::new()),
        None => Some(default),
    }
}

/// Security settings are set in one place: a valid `auth` other than `none`
/// refuses `security.protocol`, `sasl.*` and `ssl.*` in `extra_client_config`
/// (the first one found is reported). False when one is there.
fn auth_in_one_place(f: &mut Fields<'_>, diags: &mut Diagnostics) -> bool {
    if !peek(f, "auth", Auth::None).is_some_and(|a| a.sets_security()) {
        return true;
    }
    let Some(entry) = f.entry("extra_client_config") else { return true };
    let Value::Map(entries) = &entry.value.value else { return true };
    let conflict = entries
        .iter()
        .find(|e| e.key == "security.protocol" || e.key.starts_with("sasl.") || e.key.starts_with("ssl."));
    if let Some(e) = conflict {
        diags.error_help(
            &e.key_loc,
            format!("`{}` in `extra_client_config` conflicts with `auth`", e.key),
            "set authentication in one place: `auth`, or `extra_client_config` alone",
        );
    }
    conflict.is_none()
}

/// The cargo feature a client with `auth` needs.
fn feature(auth: &Auth) -> &'static str {
    if auth.needs_tls() { "kafka-tls" } else { "kafka" }
}

impl Connector for KafkaSource {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(config, <Self as Declared>::spec(), what, diags)?;
        let read = Self::read(&mut f, diags);
        let auth_ok = auth_in_one_place(&mut f, diags);
        f.finish(diags);
        read.filter(|_| auth_ok)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            feature(&self.auth),
            "`kafka` source",
            loc,
            self.config(g),
            quote!(#rt::connectors::kafka::KafkaSource::new(config)),
        )
    }
}

impl Connector for KafkaSink {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(config, <Self as Declared>::spec(), what, diags)?;
        let read = Self::read(&mut f, diags);
        let auth_ok = auth_in_one_place(&mut f, diags);
        // An idempotent producer needs every replica's acknowledgement.
        let idempotent = peek(&mut f, "idempotent", DEFAULT_IDEMPOTENT);
        if let (Some(true), Some(acks)) = (idempotent, peek(&mut f, "acks", DEFAULT_ACKS))
            && acks != Acks::All
        {
            let at = f.get("idempotent").or(f.get("acks")).map_or(&config.loc, |n| &n.loc);
            diags.error_help(
                at,
                format!("an idempotent producer needs `acks: all`, but `acks` is `{}`", acks.as_str()),
                "set `acks: all`, or `idempotent: false`",
            );
        }
        f.finish(diags);
        read.filter(|_| auth_ok)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            feature(&self.auth),
            "`kafka` sink",
            loc,
            self.config(g),
            quote!(#rt::connectors::kafka::KafkaSink::new(config)),
        )
    }
}

//! Settings of the `kafka` source and sink, and of their `auth` block.

use std::fmt;
use std::time::Duration;

use crate::secret::SecretString;

/// Where a new consumer group starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    /// At the oldest retained message.
    Earliest,
    /// At the next message produced (faucet-stream's default).
    Latest,
}

/// How message values are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// JSON (an empty or null payload is `null`).
    Json,
    /// A UTF-8 string (invalid UTF-8 is a decode error).
    RawString,
}

/// What the source does with a value it cannot decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDecodeError {
    /// Fail the run, naming topic, partition and offset.
    Fail,
    /// Count it and go on.
    Skip,
    /// Send it to the dead-letter queue.
    Dlq,
}

/// Settings of the `kafka` source, validated at build time.
#[derive(Clone)]
pub struct KafkaSourceConfig {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// Topics to subscribe to.
    pub topics: Vec<String>,
    /// The consumer group.
    pub group_id: String,
    /// Where a group without committed offsets starts (default latest).
    pub auto_offset_reset: OffsetReset,
    /// Messages per page (default 1000).
    pub batch_size: usize,
    /// How long a page waits for more messages once it has one (default 1 s).
    pub poll_timeout: Duration,
    /// Stop after this many messages.
    pub max_messages: Option<u64>,
    /// Stop when no message arrived for this long.
    pub idle_timeout: Option<Duration>,
    /// How values are decoded (default json).
    pub value_format: ValueFormat,
    /// What to do with a value that does not decode (default fail).
    pub on_decode_error: OnDecodeError,
    /// More librdkafka settings (`security.protocol`, `sasl.*`, …); values may be secrets.
    pub extra_client_config: Vec<(String, String)>,
    /// How the consumer authenticates (default none); set after `extra_client_config`.
    pub auth: KafkaAuth,
}

impl fmt::Debug for KafkaSourceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSourceConfig")
            .field("brokers", &self.brokers)
            .field("topics", &self.topics)
            .field("group_id", &self.group_id)
            .field("auto_offset_reset", &self.auto_offset_reset)
            .field("batch_size", &self.batch_size)
            .field("poll_timeout", &self.poll_timeout)
            .field("max_messages", &self.max_messages)
            .field("idle_timeout", &self.idle_timeout)
            .field("value_format", &self.value_format)
            .field("on_decode_error", &self.on_decode_error)
            .field("extra_client_config", &keys_only(&self.extra_client_config))
            .field("auth", &self.auth)
            .finish()
    }
}

/// Shows settings by name only: their values may be passwords.
fn keys_only(settings: &[(String, String)]) -> Vec<String> {
    settings.iter().map(|(k, _)| format!("{k}=***")).collect()
}

impl KafkaSourceConfig {
    /// The defaults for `brokers`, `topics` and `group_id`.
    pub fn new(brokers: impl Into<String>, topics: Vec<String>, group_id: impl Into<String>) -> Self {
        KafkaSourceConfig {
            brokers: brokers.into(),
            topics,
            group_id: group_id.into(),
            auto_offset_reset: OffsetReset::Latest,
            batch_size: 1000,
            poll_timeout: Duration::from_secs(1),
            max_messages: None,
            idle_timeout: None,
            value_format: ValueFormat::Json,
            on_decode_error: OnDecodeError::Fail,
            extra_client_config: Vec::new(),
            auth: KafkaAuth::None,
        }
    }
}

/// The producer's `acks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// Fire and forget (`acks=0`).
    None,
    /// The partition leader wrote it (`acks=1`).
    Leader,
    /// Every in-sync replica wrote it (`acks=all`, the default).
    All,
}

/// How the producer compresses its batches (faucet's librdkafka has no zstd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed (the default).
    None,
    /// gzip.
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4.
    Lz4,
}

/// The topic each record goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaTopic {
    /// One topic for every record.
    Fixed(String),
    /// The string at this path of each record (a record without one is a per-row failure).
    FromPath(Vec<String>),
}

/// Settings of the `kafka` sink, validated at build time.
#[derive(Clone)]
pub struct KafkaSinkConfig {
    /// Bootstrap servers.
    pub brokers: String,
    /// Where records go.
    pub topic: KafkaTopic,
    /// The path of the message key in each record (a string as is, anything else as JSON).
    pub key_path: Option<Vec<String>>,
    /// Acknowledgements (default all).
    pub acks: Acks,
    /// Idempotent producer (default true).
    pub idempotent: bool,
    /// How long the producer waits to fill a batch (`linger.ms`, default 5 ms).
    pub linger: Duration,
    /// Records per write (default 1000); `0`: each page in one write, as it comes.
    pub batch_size: usize,
    /// Batch compression (default none).
    pub compression: Compression,
    /// How long a message may wait for delivery before it fails (default 30 s).
    pub message_timeout: Duration,
    /// More librdkafka settings; values may be secrets.
    pub extra_client_config: Vec<(String, String)>,
    /// How the producer authenticates (default none); set after `extra_client_config`.
    pub auth: KafkaAuth,
}

impl fmt::Debug for KafkaSinkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSinkConfig")
            .field("brokers", &self.brokers)
            .field("topic", &self.topic)
            .field("key_path", &self.key_path)
            .field("acks", &self.acks)
            .field("idempotent", &self.idempotent)
            .field("linger", &self.linger)
            .field("batch_size", &self.batch_size)
            .field("compression", &self.compression)
            .field("message_timeout", &self.message_timeout)
            .field("extra_client_config", &keys_only(&self.extra_client_config))
            .field("auth", &self.auth)
            .finish()
    }
}

impl KafkaSinkConfig {
    /// The defaults for `brokers` and `topic`.
    pub fn new(brokers: impl Into<String>, topic: KafkaTopic) -> Self {
        KafkaSinkConfig {
            brokers: brokers.into(),
            topic,
            key_path: None,
            acks: Acks::All,
            idempotent: true,
            linger: Duration::from_millis(5),
            batch_size: 1000,
            compression: Compression::None,
            message_timeout: Duration::from_secs(30),
            extra_client_config: Vec::new(),
            auth: KafkaAuth::None,
        }
    }
}

/// How a client authenticates: faucet-stream's `auth: {type, config}`,
/// mapped to librdkafka's `security.protocol`, `sasl.*` and `ssl.*`.
/// Passwords are [`SecretString`]s: `Debug` shows `***`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KafkaAuth {
    /// No authentication (the default).
    #[default]
    None,
    /// SASL/PLAIN over plaintext.
    SaslPlain(SaslPlain),
    /// SASL/SCRAM over plaintext (librdkafka built with OpenSSL).
    SaslScram(Sasl),
    /// TLS, optionally with a client certificate (librdkafka built with OpenSSL).
    Ssl(Ssl),
    /// SASL over TLS (librdkafka built with OpenSSL).
    SaslSsl(SaslSsl),
}

/// A SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN`.
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
}

/// `auth: sasl_plain`: a user and password, mechanism `PLAIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslPlain {
    /// The SASL user.
    pub username: String,
    /// The SASL password.
    pub password: SecretString,
}

/// SASL with a mechanism (`auth: sasl_scram`, and `sasl_ssl`'s `sasl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sasl {
    /// The mechanism.
    pub mechanism: SaslMechanism,
    /// The SASL user.
    pub username: String,
    /// The SASL password.
    pub password: SecretString,
}

/// TLS settings (`auth: ssl`, and `sasl_ssl`'s `ssl`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ssl {
    /// CA certificate(s) to verify the brokers (PEM); none: the system's.
    pub ca_path: Option<String>,
    /// Client certificate (PEM), with `key_path`.
    pub cert_path: Option<String>,
    /// Client private key (PEM), with `cert_path`.
    pub key_path: Option<String>,
    /// The private key's password.
    pub key_password: Option<SecretString>,
}

/// `auth: sasl_ssl`: SASL over TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslSsl {
    /// The SASL settings.
    pub sasl: Sasl,
    /// The TLS settings (none: the system's CAs, no client certificate).
    pub ssl: Option<Ssl>,
}

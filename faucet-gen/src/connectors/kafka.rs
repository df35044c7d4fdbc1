//! `kafka`: a consumer-group source and a producer sink through rdkafka.

use proc_macro2::TokenStream;
use quote::quote;

use super::common::{BATCH_SIZE, opt};
use crate::connectors::common::OnParseError;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, int_lit as usize_lit};
use crate::load::{Node, Value};
use crate::read::{Fields, batch_size, boolean, int_in, one_of, plain_string, text};
use crate::secrets::{self, Position, secret};
use crate::spec::{Field, Kind, Spec, Variant};
use crate::text::Text;

const BROKERS: Field = Field::req("brokers", Kind::Text, "`host:port`, several separated by commas.");
const EXTRA: Field = Field::opt(
    "extra_client_config",
    Kind::Map(&Kind::Scalar),
    "More librdkafka settings (not `group.id`, `bootstrap.servers` or the commit settings).",
);

const USERNAME: Field = Field::req("username", Kind::Text, "The SASL user.");
const PASSWORD: Field = Field::req("password", Kind::Text, "The SASL password; must be `${env:…}`.");
const MECHANISM: Field =
    Field::opt("mechanism", Kind::OneOf(&["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]), "The SASL mechanism.");

const SASL_PLAIN: Spec = Spec {
    name: "kafka.auth.sasl_plain",
    doc: "SASL/PLAIN over plaintext.",
    fields: &[USERNAME, PASSWORD],
    variants: &[],
};

const SASL_SCRAM: Spec = Spec {
    name: "kafka.auth.sasl_scram",
    doc: "SASL/SCRAM over plaintext (needs faucet-runtime's `kafka-tls` feature).",
    fields: &[MECHANISM, USERNAME, PASSWORD],
    variants: &[],
};

const SSL: Spec = Spec {
    name: "kafka.auth.ssl",
    doc: "TLS, optionally with a client certificate (needs faucet-runtime's `kafka-tls` feature).",
    fields: &[
        Field::opt(
            "ca_path",
            Kind::Text,
            "CA certificate(s) to verify the brokers (PEM); default the system's.",
        ),
        Field::opt("cert_path", Kind::Text, "Client certificate (PEM), with `key_path`."),
        Field::opt("key_path", Kind::Text, "Client private key (PEM), with `cert_path`."),
        Field::opt("key_password", Kind::Text, "The private key's password; must be `${env:…}`."),
    ],
    variants: &[],
};

const SASL_SSL: Spec = Spec {
    name: "kafka.auth.sasl_ssl",
    doc: "SASL over TLS (needs faucet-runtime's `kafka-tls` feature).",
    fields: &[
        Field::req("sasl", Kind::Object(&SASL_SCRAM), "`{mechanism (PLAIN), username, password}`."),
        Field::opt("ssl", Kind::Object(&SSL), "TLS settings, as for `type: ssl`."),
    ],
    variants: &[],
};

const NO_AUTH: Spec = Spec { name: "kafka.auth.none", doc: "No authentication.", fields: &[], variants: &[] };

/// `auth`: faucet-stream's `{type, config}` authentication block.
const AUTH: Spec = Spec {
    name: "kafka.auth",
    doc: "How clients authenticate; mapped to librdkafka's `security.protocol`, `sasl.*` and `ssl.*`.",
    fields: &[
        Field::req(
            "type",
            Kind::OneOf(&["none", "sasl_plain", "sasl_scram", "ssl", "sasl_ssl"]),
            "The mechanism.",
        ),
        Field::opt("config", Kind::Json, "The mechanism's settings."),
    ],
    variants: &[
        Variant { tag: "none", nested: true, spec: Some(&NO_AUTH) },
        Variant { tag: "sasl_plain", nested: true, spec: Some(&SASL_PLAIN) },
        Variant { tag: "sasl_scram", nested: true, spec: Some(&SASL_SCRAM) },
        Variant { tag: "ssl", nested: true, spec: Some(&SSL) },
        Variant { tag: "sasl_ssl", nested: true, spec: Some(&SASL_SSL) },
    ],
};

const AUTH_FIELD: Field =
    Field::opt("auth", Kind::Object(&AUTH), "Authentication (SASL, TLS); default none.");

/// `value_format` as a map (read by hand, so only its shape is declared).
const VALUE_FORMAT: Spec = Spec {
    name: "kafka.value_format",
    doc: "How message values are decoded.",
    fields: &[Field::req("type", Kind::OneOf(&["json", "raw_string"]), "The format.")],
    variants: &[],
};

/// The `kafka` source config.
pub(crate) const SOURCE: Spec = Spec {
    name: "source.kafka",
    doc: "Kafka topics read by a consumer group; offsets are committed after each page is written.",
    fields: &[
        BROKERS,
        Field::req("topics", Kind::AnyOf(&[Kind::Str, Kind::List(&Kind::Str)]), "Topic names."),
        Field::req("group_id", Kind::Text, "The consumer group."),
        Field::opt("auto_offset_reset", Kind::OneOf(&["earliest", "latest"]), "Where a new group starts.")
            .default("\"latest\""),
        BATCH_SIZE,
        Field::opt("poll_timeout", Kind::Number(0.001, 3600.0), "Seconds to wait for a page to fill.")
            .default("1"),
        Field::opt("max_messages", Kind::Int(1, i64::MAX), "Stop after this many messages."),
        Field::opt(
            "idle_timeout",
            Kind::Number(0.001, 86400.0),
            "Stop after this many seconds without messages.",
        ),
        Field::opt(
            "value_format",
            Kind::AnyOf(&[Kind::OneOf(&["json", "raw_string"]), Kind::Object(&VALUE_FORMAT)]),
            "`json` (an object per message) or `raw_string`.",
        )
        .default("\"json\""),
        Field::opt(
            "on_decode_error",
            Kind::OneOf(&["fail", "skip", "dlq"]),
            "A message that does not decode.",
        )
        .default("\"fail\""),
        EXTRA,
        AUTH_FIELD,
        Field::not_yet("key_format"),
        Field::not_yet("session_timeout"),
    ],
    variants: &[],
};

const FIXED_TOPIC: Spec = Spec {
    name: "kafka.topic.fixed",
    doc: "One topic for every record.",
    fields: &[Field::req("name", Kind::Str, "The topic.")],
    variants: &[],
};

const PATH_TOPIC: Spec = Spec {
    name: "kafka.topic.from_path",
    doc: "The topic named by a record field.",
    fields: &[Field::req("path", Kind::Str, "A dotted record path, e.g. `meta.topic`.")],
    variants: &[],
};

const TOPIC: Spec = Spec {
    name: "kafka.topic",
    doc: "The topic: fixed, or read from each record.",
    fields: &[Field::req("type", Kind::OneOf(&["fixed", "from_path"]), "How the topic is chosen.")],
    variants: &[
        Variant { tag: "fixed", nested: false, spec: Some(&FIXED_TOPIC) },
        Variant { tag: "from_path", nested: false, spec: Some(&PATH_TOPIC) },
    ],
};

/// The `kafka` sink config.
pub(crate) const SINK: Spec = Spec {
    name: "sink.kafka",
    doc: "Records produced to Kafka as JSON; a page is confirmed before its bookmark is saved.",
    fields: &[
        BROKERS,
        Field::req("topic", Kind::AnyOf(&[Kind::Str, Kind::Object(&TOPIC)]), "A topic name, or `{type, …}`."),
        Field::opt("key_path", Kind::Str, "A dotted record path whose value is the message key."),
        Field::opt("acks", Kind::OneOf(&["none", "leader", "all"]), "Acknowledgements awaited.")
            .default("\"all\""),
        Field::opt("idempotent", Kind::Bool, "Idempotent producer (needs `acks: all`).").default("true"),
        Field::opt("linger", Kind::Number(0.0, 900.0), "Seconds to wait to fill a batch.").default("0.005"),
        BATCH_SIZE,
        Field::opt("compression", Kind::OneOf(&["none", "gzip", "snappy", "lz4"]), "Batch compression.")
            .default("\"none\""),
        Field::opt("message_timeout", Kind::Number(0.001, 86400.0), "Seconds before a send fails.")
            .default("30"),
        EXTRA,
        AUTH_FIELD,
        Field::not_yet("value_format"),
        Field::not_yet("key_format"),
        Field::not_yet("value_schema"),
        Field::not_yet("key_schema"),
        Field::not_yet("partition_path"),
        Field::not_yet("headers_path"),
        Field::not_yet("on_key_error"),
        Field::not_yet("max_in_flight"),
        Field::not_yet("queue_full_backoff"),
        Field::not_yet("queue_full_max_retries"),
        Field::not_yet("transactional_id_prefix"),
        Field::not_yet("commit_token_topic"),
    ],
    variants: &[],
};

/// `kafka` source settings.
#[derive(Debug, Clone)]
pub struct KafkaSource {
    /// Bootstrap servers.
    pub brokers: Text,
    /// Topics.
    pub topics: Vec<String>,
    /// Consumer group.
    pub group_id: Text,
    /// `earliest` (true) or `latest`.
    pub earliest: bool,
    /// Messages per page.
    pub batch_size: u64,
    /// Page poll window, in milliseconds.
    pub poll_timeout_ms: u64,
    /// Stop after this many messages.
    pub max_messages: Option<u64>,
    /// Stop after this long without a message, in milliseconds.
    pub idle_timeout_ms: Option<u64>,
    /// `raw_string` (true) or `json`.
    pub raw_string: bool,
    /// Undecodable-value policy.
    pub on_decode_error: OnParseError,
    /// Extra librdkafka settings, then those `auth` maps to.
    pub extra_client_config: Vec<(String, Text)>,
    /// `auth` needs librdkafka with TLS (faucet-runtime's `kafka-tls` feature).
    pub needs_tls: bool,
}

/// Where the sink's records go.
#[derive(Debug, Clone)]
pub enum Topic {
    /// One topic.
    Fixed(String),
    /// The string at a record path.
    FromPath(Vec<String>),
}

/// `kafka` sink settings.
#[derive(Debug, Clone)]
pub struct KafkaSink {
    /// Bootstrap servers.
    pub brokers: Text,
    /// Target topic.
    pub topic: Topic,
    /// Message key path.
    pub key_path: Option<Vec<String>>,
    /// `none`, `leader` or `all`.
    pub acks: &'static str,
    /// Idempotent producer.
    pub idempotent: bool,
    /// `linger.ms`.
    pub linger_ms: u64,
    /// Rows per write.
    pub batch_size: u64,
    /// `compression.type`.
    pub compression: &'static str,
    /// `message.timeout.ms`.
    pub message_timeout_ms: u64,
    /// Extra librdkafka settings, then those `auth` maps to.
    pub extra_client_config: Vec<(String, Text)>,
    /// `auth` needs librdkafka with TLS (faucet-runtime's `kafka-tls` feature).
    pub needs_tls: bool,
}

/// `auth` read: the librdkafka settings it maps to, and whether they need TLS support.
struct Auth {
    settings: Vec<(String, Text)>,
    needs_tls: bool,
}

/// SASL settings (`sasl_plain`, `sasl_scram`, or `sasl_ssl`'s `sasl`), appended to
/// `out`. `mechanisms` are those allowed (the first is the default, unless
/// `mechanism_required`); `sasl_plain` declares no `mechanism` key and means PLAIN.
fn sasl(
    node: &Node,
    spec: &'static Spec,
    what: &str,
    mechanisms: &[&'static str],
    mechanism_required: bool,
    out: &mut Vec<(String, Text)>,
    diags: &mut Diagnostics,
) -> Option<()> {
    let mut f = Fields::with_spec(node, spec, what, diags)?;
    let mechanism = if std::ptr::eq(spec, &SASL_PLAIN) {
        Some("PLAIN")
    } else if mechanism_required {
        f.require("mechanism", diags).and_then(|n| one_of(n, "mechanism", mechanisms, diags))
    } else {
        opt(f.get("mechanism"), mechanisms[0], |n| one_of(n, "mechanism", mechanisms, diags))
    };
    let username = f.require("username", diags).and_then(|n| text(n, "username", diags));
    let password = f.require("password", diags).and_then(|n| secret(n, "password", diags));
    f.finish(diags);
    out.push(("sasl.mechanisms".to_owned(), Text::literal(mechanism?)));
    out.push(("sasl.username".to_owned(), username?));
    out.push(("sasl.password".to_owned(), password?));
    Some(())
}

/// TLS settings (`ssl`, or `sasl_ssl`'s `ssl`), appended to `out`.
fn ssl(node: &Node, what: &str, out: &mut Vec<(String, Text)>, diags: &mut Diagnostics) -> Option<()> {
    let mut f = Fields::with_spec(node, &SSL, what, diags)?;
    let ca = f.get("ca_path").map(|n| text(n, "ca_path", diags));
    let cert_node = f.get("cert_path");
    let key_node = f.get("key_path");
    let cert = cert_node.map(|n| text(n, "cert_path", diags));
    let key = key_node.map(|n| text(n, "key_path", diags));
    let password = f.get("key_password").map(|n| secret(n, "key_password", diags));
    if let Some(alone) = match (cert_node, key_node) {
        (Some(n), None) | (None, Some(n)) => Some(n),
        _ => None,
    } {
        diags.error_help(
            &alone.loc,
            "`cert_path` and `key_path` go together",
            "set both for a client certificate, or neither",
        );
    }
    f.finish(diags);
    for (name, value) in [
        ("ssl.ca.location", ca),
        ("ssl.certificate.location", cert),
        ("ssl.key.location", key),
        ("ssl.key.password", password),
    ] {
        if let Some(v) = value {
            out.push((name.to_owned(), v?));
        }
    }
    Some(())
}

/// `auth: {type, config}` (faucet-stream's grammar) as librdkafka settings.
fn auth(node: &Node, diags: &mut Diagnostics) -> Option<Auth> {
    let mut f = Fields::with_spec(node, &AUTH, "`auth`", diags)?;
    let kind = f
        .require("type", diags)
        .and_then(|n| one_of(n, "type", &["none", "sasl_plain", "sasl_scram", "ssl", "sasl_ssl"], diags));
    let config = f.get("config");
    f.finish(diags);
    let kind = kind?;
    let empty = Node { value: Value::Null, loc: node.loc.clone() };
    let config = config.unwrap_or(&empty);
    let what = format!("the `auth: {kind}` config");
    let mut settings = Vec::new();
    let protocol = match kind {
        "none" => {
            Fields::with_spec(config, &NO_AUTH, what, diags)?.finish(diags);
            return Some(Auth { settings, needs_tls: false });
        }
        "sasl_plain" => {
            sasl(config, &SASL_PLAIN, &what, &["PLAIN"], false, &mut settings, diags)?;
            "sasl_plaintext"
        }
        "sasl_scram" => {
            let scram = ["SCRAM-SHA-256", "SCRAM-SHA-512"];
            sasl(config, &SASL_SCRAM, &what, &scram, true, &mut settings, diags)?;
            "sasl_plaintext"
        }
        "ssl" => {
            ssl(config, &what, &mut settings, diags)?;
            "ssl"
        }
        _ => {
            let mut f = Fields::with_spec(config, &SASL_SSL, what.clone(), diags)?;
            let sasl_node = f.require("sasl", diags);
            let ssl_node = f.get("ssl");
            f.finish(diags);
            let all = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
            let done =
                sasl_node.and_then(|n| sasl(n, &SASL_SCRAM, "`sasl`", &all, false, &mut settings, diags));
            let tls = ssl_node.map_or(Some(()), |n| ssl(n, "`ssl`", &mut settings, diags));
            done?;
            tls?;
            "sasl_ssl"
        }
    };
    settings.insert(0, ("security.protocol".to_owned(), Text::literal(protocol)));
    // librdkafka implements SCRAM and TLS with OpenSSL; PLAIN is built in.
    let needs_tls = protocol != "sasl_plaintext"
        || settings
            .iter()
            .any(|(k, v)| k == "sasl.mechanisms" && v.as_literal().is_some_and(|m| m != "PLAIN"));
    Some(Auth { settings, needs_tls })
}

/// Adds `auth`'s settings to `extra`, refusing a security setting set in both.
fn merge_auth(
    f: &mut Fields<'_>,
    extra: Option<Vec<(String, Text)>>,
    auth_node: Option<&Node>,
    diags: &mut Diagnostics,
) -> (Option<Vec<(String, Text)>>, Option<bool>) {
    let Some(auth_node) = auth_node else { return (extra, Some(false)) };
    let Some(auth) = auth(auth_node, diags) else { return (extra, None) };
    if !auth.settings.is_empty()
        && let Some(entry) = f.entry("extra_client_config")
        && let Value::Map(entries) = &entry.value.value
    {
        for e in entries {
            if e.key == "security.protocol" || e.key.starts_with("sasl.") || e.key.starts_with("ssl.") {
                diags.error_help(
                    &e.key_loc,
                    format!("`{}` in `extra_client_config` conflicts with `auth`", e.key),
                    "set authentication in one place: `auth`, or `extra_client_config` alone",
                );
                return (None, None);
            }
        }
    }
    (
        extra.map(|mut extra| {
            extra.extend(auth.settings);
            extra
        }),
        Some(auth.needs_tls),
    )
}

/// A duration in seconds (an integer or a decimal), returned in milliseconds.
pub(crate) fn seconds(
    node: &Node,
    key: &str,
    min_ms: u64,
    max_s: u64,
    diags: &mut Diagnostics,
) -> Option<u64> {
    let ms = match &node.value {
        Value::Int(i) => (*i).max(-1).saturating_mul(1000).max(-1) as u64,
        Value::Float(f) if f.is_finite() => (f * 1000.0).round().max(-1.0) as i64 as u64,
        other => {
            diags.error_help(
                &node.loc,
                format!("`{key}` must be a number of seconds, found {}", other.kind_name()),
                format!("write e.g. `{key}: 5` or `{key}: 0.5`"),
            );
            return None;
        }
    };
    if ms < min_ms || ms > max_s * 1000 {
        diags.error_help(
            &node.loc,
            format!("`{key}` is out of range"),
            format!("use {} to {max_s} seconds", min_ms as f64 / 1000.0),
        );
        return None;
    }
    Some(ms)
}

/// A Kafka topic name: 1–249 characters of `[A-Za-z0-9._-]`, not `.` or `..`.
fn topic_name(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    let name = plain_string(node, key, diags)?;
    let problem = if name.is_empty() || name.len() > 249 {
        Some(format!("has {} characters; topic names have 1 to 249", name.len()))
    } else if name == "." || name == ".." {
        Some("is reserved".to_owned())
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .map(|c| format!("contains {c:?}; topic names use letters, digits, `.`, `_` and `-`"))
    };
    if let Some(problem) = problem {
        diags.error(&node.loc, format!("invalid topic name `{name}`: it {problem}"));
        return None;
    }
    Some(name)
}

/// `host:port[,host:port…]`, checked when literal.
fn brokers(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "brokers", diags)?;
    let Some(list) = t.as_literal() else { return Some(t) };
    for broker in list.split(',').map(str::trim) {
        let ok = broker
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
        if !ok {
            diags.error_help(
                &node.loc,
                format!("invalid broker address `{broker}` in `brokers`"),
                "write `host:port`, several separated by commas (`k1:9092,k2:9092`)",
            );
            return None;
        }
    }
    Some(t)
}

/// A dotted record path (`meta.topic`).
fn path(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Vec<String>> {
    let s = plain_string(node, key, diags)?;
    let parts: Vec<String> = s.split('.').map(str::to_owned).collect();
    if parts.iter().any(String::is_empty) {
        diags.error_help(
            &node.loc,
            format!("`{key}` {s:?} is not a record path"),
            "write field names separated by dots, e.g. `meta.topic`",
        );
        return None;
    }
    Some(parts)
}

/// `extra_client_config`: a map of librdkafka settings to strings (which may be `${env:…}`).
fn extra(node: &Node, diags: &mut Diagnostics) -> Option<Vec<(String, Text)>> {
    let Value::Map(entries) = &node.value else {
        diags.error(
            &node.loc,
            format!("`extra_client_config` must be a map, found {}", node.value.kind_name()),
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for entry in entries {
        let value = match &entry.value.value {
            Value::Int(i) => Some(Text::literal(i.to_string())),
            Value::Bool(b) => Some(Text::literal(b.to_string())),
            Value::Float(f) => Some(Text::literal(f.to_string())),
            _ => text(&entry.value, &entry.key, diags),
        }
        .filter(|t| secrets::check(&entry.value, t, &entry.key, Position::Named(&entry.key), diags));
        if ["enable.auto.commit", "group.id", "bootstrap.servers", "enable.auto.offset.store"]
            .contains(&entry.key.as_str())
        {
            diags.error_help(
                &entry.key_loc,
                format!("`{}` cannot be set in `extra_client_config`", entry.key),
                "faucet sets it: offsets are committed only after a page is confirmed",
            );
            ok = false;
        }
        match value {
            Some(v) => out.push((entry.key.clone(), v)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

pub(crate) fn source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<KafkaSource> {
    let mut f = Fields::with_spec(config, &SOURCE, what, diags)?;
    let brokers = f.require("brokers", diags).and_then(|n| brokers(n, diags));
    let topics = f.require("topics", diags).and_then(|n| match &n.value {
        Value::Seq(items) if !items.is_empty() => {
            let names: Vec<Option<String>> = items.iter().map(|t| topic_name(t, "topics", diags)).collect();
            names.into_iter().collect()
        }
        Value::Str(_) => topic_name(n, "topics", diags).map(|t| vec![t]),
        _ => {
            diags.error_help(
                &n.loc,
                "`topics` must be a non-empty list of topic names",
                "write e.g. `topics: [orders]`",
            );
            None
        }
    });
    let group_id = f.require("group_id", diags).and_then(|n| text(n, "group_id", diags));
    let earliest = opt(f.get("auto_offset_reset"), false, |n| {
        one_of(n, "auto_offset_reset", &["earliest", "latest"], diags).map(|v| v == "earliest")
    });
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let poll = opt(f.get("poll_timeout"), 1000, |n| seconds(n, "poll_timeout", 1, 3600, diags));
    let max_messages =
        f.get("max_messages").map(|n| int_in(n, "max_messages", 1, i64::MAX, diags).map(|v| v as u64));
    let idle = f.get("idle_timeout").map(|n| seconds(n, "idle_timeout", 1, 86_400, diags));
    let raw_string = opt(f.get("value_format"), false, |n| {
        let node = match &n.value {
            Value::Map(entries) => match entries.iter().find(|e| e.key == "type") {
                Some(e) => &e.value,
                None => {
                    diags.error_help(
                        &n.loc,
                        "`value_format` has no `type`",
                        "write `value_format: json` or `{type: raw_string}`",
                    );
                    return None;
                }
            },
            _ => n,
        };
        let choices =
            ["json", "raw_string", "bytes", "confluent_avro", "confluent_protobuf", "confluent_json_schema"];
        let v = one_of(node, "value_format", &choices, diags)?;
        if !matches!(v, "json" | "raw_string") {
            diags.error_help(
                &node.loc,
                format!("`value_format: {v}` is not supported yet"),
                "use `json` or `raw_string`",
            );
            return None;
        }
        Some(v == "raw_string")
    });
    let on_decode_error = opt(f.get("on_decode_error"), OnParseError::Fail, |n| {
        one_of(n, "on_decode_error", &["fail", "skip", "dlq"], diags).map(|v| match v {
            "skip" => OnParseError::Skip,
            "dlq" => OnParseError::Dlq,
            _ => OnParseError::Fail,
        })
    });
    let extra = opt(f.get("extra_client_config"), Vec::new(), |n| extra(n, diags));
    let auth_node = f.get("auth");
    let (extra, needs_tls) = merge_auth(&mut f, extra, auth_node, diags);
    f.finish(diags);
    Some(KafkaSource {
        brokers: brokers?,
        topics: topics?,
        group_id: group_id?,
        earliest: earliest?,
        batch_size: batch?,
        poll_timeout_ms: poll?,
        max_messages: max_messages.map_or(Some(None), |m| m.map(Some))?,
        idle_timeout_ms: idle.map_or(Some(None), |m| m.map(Some))?,
        raw_string: raw_string?,
        on_decode_error: on_decode_error?,
        extra_client_config: extra?,
        needs_tls: needs_tls?,
    })
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<KafkaSink> {
    let mut f = Fields::with_spec(config, &SINK, what, diags)?;
    let brokers = f.require("brokers", diags).and_then(|n| brokers(n, diags));
    let topic = f.require("topic", diags).and_then(|n| match &n.value {
        Value::Str(_) => topic_name(n, "topic", diags).map(Topic::Fixed),
        Value::Map(_) => {
            let mut t = Fields::with_spec(n, &TOPIC, "`topic`", diags)?;
            let kind =
                t.require("type", diags).and_then(|k| one_of(k, "type", &["fixed", "from_path"], diags));
            let topic = match kind {
                Some("fixed") => {
                    t.require("name", diags).and_then(|k| topic_name(k, "name", diags)).map(Topic::Fixed)
                }
                Some(_) => t.require("path", diags).and_then(|k| path(k, "path", diags)).map(Topic::FromPath),
                None => None,
            };
            t.finish(diags);
            topic
        }
        other => {
            diags.error_help(
                &n.loc,
                format!("`topic` must be a topic name or a map, found {}", other.kind_name()),
                "write `topic: orders` or `topic: {type: from_path, path: meta.topic}`",
            );
            None
        }
    });
    let key_path = f.get("key_path").map(|n| path(n, "key_path", diags));
    let acks_node = f.get("acks");
    let acks = opt(acks_node, "all", |n| one_of(n, "acks", &["none", "leader", "all"], diags));
    let idempotent_node = f.get("idempotent");
    let idempotent = opt(idempotent_node, true, |n| boolean(n, "idempotent", diags));
    let linger = opt(f.get("linger"), 5, |n| seconds(n, "linger", 0, 900, diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let compression = opt(f.get("compression"), "none", |n| {
        let v = one_of(n, "compression", &["none", "gzip", "snappy", "lz4", "zstd"], diags)?;
        if v == "zstd" {
            diags.error_help(
                &n.loc,
                "`compression: zstd` is not built into faucet's librdkafka",
                "use `gzip`, `snappy` or `lz4`",
            );
            return None;
        }
        Some(v)
    });
    let timeout = opt(f.get("message_timeout"), 30_000, |n| seconds(n, "message_timeout", 1, 86_400, diags));
    let extra = opt(f.get("extra_client_config"), Vec::new(), |n| extra(n, diags));
    let auth_node = f.get("auth");
    let (extra, needs_tls) = merge_auth(&mut f, extra, auth_node, diags);
    if let (Some(true), Some(a)) = (idempotent, acks)
        && a != "all"
    {
        let loc = idempotent_node.or(acks_node).map_or(&config.loc, |n| &n.loc);
        diags.error_help(
            loc,
            format!("an idempotent producer needs `acks: all`, but `acks` is `{a}`"),
            "set `acks: all`, or `idempotent: false`",
        );
    }
    f.finish(diags);
    Some(KafkaSink {
        brokers: brokers?,
        topic: topic?,
        key_path: key_path.map_or(Some(None), |p| p.map(Some))?,
        acks: acks?,
        idempotent: idempotent?,
        linger_ms: linger?,
        batch_size: batch?,
        compression: compression?,
        message_timeout_ms: timeout?,
        extra_client_config: extra?,
        needs_tls: needs_tls?,
    })
}

fn extra_tokens(g: &Gen, extra: &[(String, Text)]) -> TokenStream {
    let items = extra.iter().map(|(k, v)| {
        let v = g.text(v);
        quote!((::std::string::String::from(#k), #v))
    });
    quote!(::std::vec![#(#items),*])
}

fn millis(ms: u64) -> TokenStream {
    quote!(::core::time::Duration::from_millis(#ms))
}

fn strings(items: &[String]) -> TokenStream {
    quote!(::std::vec![#(::std::string::String::from(#items)),*])
}

impl KafkaSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let k = quote!(#rt::connectors::kafka);
        let brokers = g.text(&self.brokers);
        let topics = strings(&self.topics);
        let group = g.text(&self.group_id);
        let reset =
            if self.earliest { quote!(#k::OffsetReset::Earliest) } else { quote!(#k::OffsetReset::Latest) };
        let batch = usize_lit(self.batch_size);
        let poll = millis(self.poll_timeout_ms);
        let max = match self.max_messages {
            Some(m) => quote!(::core::option::Option::Some(#m)),
            None => quote!(::core::option::Option::None),
        };
        let idle = match self.idle_timeout_ms {
            Some(ms) => {
                let d = millis(ms);
                quote!(::core::option::Option::Some(#d))
            }
            None => quote!(::core::option::Option::None),
        };
        let format =
            if self.raw_string { quote!(#k::ValueFormat::RawString) } else { quote!(#k::ValueFormat::Json) };
        let on_error = match self.on_decode_error {
            OnParseError::Fail => quote!(#k::OnDecodeError::Fail),
            OnParseError::Skip => quote!(#k::OnDecodeError::Skip),
            OnParseError::Dlq => quote!(#k::OnDecodeError::Dlq),
        };
        let extra = extra_tokens(g, &self.extra_client_config);
        g.gated_whole(
            if self.needs_tls { "kafka-tls" } else { "kafka" },
            "`kafka` source",
            loc,
            quote! {
                #k::KafkaSource::new(#k::KafkaSourceConfig {
                    brokers: #brokers,
                    topics: #topics,
                    group_id: #group,
                    auto_offset_reset: #reset,
                    batch_size: #batch,
                    poll_timeout: #poll,
                    max_messages: #max,
                    idle_timeout: #idle,
                    value_format: #format,
                    on_decode_error: #on_error,
                    extra_client_config: #extra,
                })
            },
        )
    }
}

impl KafkaSink {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let k = quote!(#rt::connectors::kafka);
        let brokers = g.text(&self.brokers);
        let topic = match &self.topic {
            Topic::Fixed(name) => quote!(#k::KafkaTopic::Fixed(::std::string::String::from(#name))),
            Topic::FromPath(path) => {
                let path = strings(path);
                quote!(#k::KafkaTopic::FromPath(#path))
            }
        };
        let key_path = match &self.key_path {
            Some(p) => {
                let p = strings(p);
                quote!(::core::option::Option::Some(#p))
            }
            None => quote!(::core::option::Option::None),
        };
        let acks = match self.acks {
            "none" => quote!(#k::Acks::None),
            "leader" => quote!(#k::Acks::Leader),
            _ => quote!(#k::Acks::All),
        };
        let idempotent = self.idempotent;
        let linger = millis(self.linger_ms);
        let batch = usize_lit(self.batch_size);
        let compression = self.compression;
        let timeout = millis(self.message_timeout_ms);
        let extra = extra_tokens(g, &self.extra_client_config);
        g.gated_whole(
            if self.needs_tls { "kafka-tls" } else { "kafka" },
            "`kafka` sink",
            loc,
            quote! {
                #k::KafkaSink::new(#k::KafkaSinkConfig {
                    brokers: #brokers,
                    topic: #topic,
                    key_path: #key_path,
                    acks: #acks,
                    idempotent: #idempotent,
                    linger: #linger,
                    batch_size: #batch,
                    compression: ::std::string::String::from(#compression),
                    message_timeout: #timeout,
                    extra_client_config: #extra,
                })
            },
        )
    }
}

// Transitional: this connector's settings are not declared with `settings!` yet.

impl super::registry::Connector for KafkaSource {
    const SPEC: Spec = SOURCE;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        source(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}

impl super::registry::Connector for KafkaSink {
    const SPEC: Spec = SINK;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        sink(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}

//! `kafka`: a consumer-group source and a producer sink through rdkafka.

use proc_macro2::TokenStream;
use quote::quote;

use super::opt;
use crate::codegen::{Gen, usize_lit};
use crate::diag::{Diagnostics, Loc};
use crate::ir::{OnParseError, Text};
use crate::load::{Node, Value};
use crate::validate::fields::{Fields, batch_size, boolean, int_in, one_of, plain_string, text};

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
    /// Extra librdkafka settings.
    pub extra_client_config: Vec<(String, Text)>,
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
    /// Extra librdkafka settings.
    pub extra_client_config: Vec<(String, Text)>,
}

/// A duration in seconds (an integer or a decimal), returned in milliseconds.
fn seconds(node: &Node, key: &str, min_ms: u64, max_s: u64, diags: &mut Diagnostics) -> Option<u64> {
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
        };
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
    let mut f = Fields::new(config, what, diags)?;
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
    f.not_yet(&["auth", "key_format", "session_timeout"], diags);
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
    })
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<KafkaSink> {
    let mut f = Fields::new(config, what, diags)?;
    let brokers = f.require("brokers", diags).and_then(|n| brokers(n, diags));
    let topic = f.require("topic", diags).and_then(|n| match &n.value {
        Value::Str(_) => topic_name(n, "topic", diags).map(Topic::Fixed),
        Value::Map(_) => {
            let mut t = Fields::new(n, "`topic`", diags)?;
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
    f.not_yet(
        &[
            "auth",
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
            "transactional_id_prefix",
            "commit_token_topic",
        ],
        diags,
    );
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
        let k = quote!(#rt::__private::connectors::kafka);
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
        g.gated(
            "kafka",
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
        let k = quote!(#rt::__private::connectors::kafka);
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
        g.gated(
            "kafka",
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

//! The value types of the `kafka` settings that need a reader of their own:
//! broker lists, topic names and paths, the value format, the compression,
//! and librdkafka's extra settings.

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::Diagnostics;
use crate::emit::{Gen, string, vec};
use crate::load::{Node, Value};
use crate::read::{Fields, one_of, plain_string, text};
use crate::secrets::{self, Position};
use crate::settings::{Setting, settings};
use crate::spec::{Field, Kind, Spec, Variant};
use crate::text::Text;

/// `brokers`: `host:port[,host:port…]`, checked when literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Brokers(pub Text);

impl Setting for Brokers {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text(node, key, diags)?;
        let Some(list) = t.as_literal() else { return Some(Brokers(t)) };
        for broker in list.split(',').map(str::trim) {
            let ok = broker
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                diags.error_help(
                    &node.loc,
                    format!("invalid broker address `{broker}` in `{key}`"),
                    "write `host:port`, several separated by commas (`k1:9092,k2:9092`)",
                );
                return None;
            }
        }
        Some(Brokers(t))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// A Kafka topic name: 1–249 characters of `[A-Za-z0-9._-]`, not `.` or `..`.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicName(pub String);

impl Setting for TopicName {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        topic_name(node, key, diags).map(TopicName)
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}

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

/// The source's `topics`: a non-empty list of topic names, or one name.
#[derive(Debug, Clone, PartialEq)]
pub struct Topics(pub Vec<String>);

impl Setting for Topics {
    const KIND: Kind = Kind::AnyOf(&[Kind::Str, Kind::List(&Kind::Str)]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match &node.value {
            Value::Seq(items) if !items.is_empty() => {
                let names: Vec<Option<String>> = items.iter().map(|t| topic_name(t, key, diags)).collect();
                names.into_iter().collect::<Option<_>>().map(Topics)
            }
            Value::Str(_) => topic_name(node, key, diags).map(|t| Topics(vec![t])),
            _ => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` must be a non-empty list of topic names"),
                    format!("write e.g. `{key}: [orders]`"),
                );
                None
            }
        }
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        vec(self.0.iter().map(|t| string(t)))
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.clone().into()
    }
}

/// A dotted record path (`meta.topic`), as its field names.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPath(pub Vec<String>);

impl Setting for RecordPath {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
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
        Some(RecordPath(parts))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        vec(self.0.iter().map(|p| string(p)))
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.join(".").into()
    }
}

settings! {
    /// One topic for every record.
    pub struct FixedTopic("kafka.topic.fixed") {
        /// The topic.
        name: TopicName,
    }
}

settings! {
    /// The topic named by a record field.
    pub struct PathTopic("kafka.topic.from_path") {
        /// A dotted record path, e.g. `meta.topic`.
        path: RecordPath,
    }
}

/// The sink's `topic` as a map: `{type: fixed, name}` or `{type: from_path, path}`.
const TOPIC: Spec = Spec {
    name: "kafka.topic",
    doc: "The topic: fixed, or read from each record.",
    fields: &[Field::req("type", Kind::OneOf(TOPIC_TYPES), "How the topic is chosen.")],
    variants: &[
        Variant { tag: "fixed", nested: false, spec: Some(&FixedTopic::SPEC) },
        Variant { tag: "from_path", nested: false, spec: Some(&PathTopic::SPEC) },
    ],
};

const TOPIC_TYPES: &[&str] = &["fixed", "from_path"];

/// The sink's `topic`: a name, or a map choosing a fixed topic or a record path.
#[derive(Debug, Clone, PartialEq)]
pub enum Topic {
    /// One topic.
    Fixed(TopicName),
    /// The string at a record path.
    FromPath(RecordPath),
}

impl Setting for Topic {
    const KIND: Kind = Kind::AnyOf(&[Kind::Str, Kind::Object(&TOPIC)]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match &node.value {
            Value::Str(_) => TopicName::read(node, key, diags).map(Topic::Fixed),
            Value::Map(_) => {
                let mut t = Fields::with_spec(node, &TOPIC, format!("`{key}`"), diags)?;
                let kind = t.require("type", diags).and_then(|k| one_of(k, "type", TOPIC_TYPES, diags));
                let topic = match kind {
                    Some("fixed") => FixedTopic::read(&mut t, diags).map(|f| Topic::Fixed(f.name)),
                    Some(_) => PathTopic::read(&mut t, diags).map(|p| Topic::FromPath(p.path)),
                    None => None,
                };
                t.finish(diags);
                topic
            }
            other => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` must be a topic name or a map, found {}", other.kind_name()),
                    format!("write `{key}: orders` or `{key}: {{type: from_path, path: meta.topic}}`"),
                );
                None
            }
        }
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        match self {
            Topic::Fixed(name) => {
                let name = name.emit(g);
                quote!(#rt::config::kafka::KafkaTopic::Fixed(#name))
            }
            Topic::FromPath(path) => {
                let path = path.emit(g);
                quote!(#rt::config::kafka::KafkaTopic::FromPath(#path))
            }
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Topic::Fixed(name) => name.to_json(),
            Topic::FromPath(path) => serde_json::json!({"type": "from_path", "path": path.to_json()}),
        }
    }
}

/// `value_format` as a map (only its `type` is read), for the schema.
const VALUE_FORMAT: Spec = Spec {
    name: "kafka.value_format",
    doc: "How message values are decoded.",
    fields: &[Field::req("type", Kind::OneOf(ValueFormat::VALUES), "The format.")],
    variants: &[],
};

/// How the source decodes message values: `json` or `raw_string`, also
/// written `{type: …}`; faucet-stream's other formats are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// An object per message.
    Json,
    /// The value as a UTF-8 string.
    RawString,
}

impl ValueFormat {
    /// The values faucet supports.
    const VALUES: &'static [&'static str] = &["json", "raw_string"];
    /// faucet-stream's formats, supported or not.
    const ALL: &'static [&'static str] =
        &["json", "raw_string", "bytes", "confluent_avro", "confluent_protobuf", "confluent_json_schema"];

    fn as_str(self) -> &'static str {
        match self {
            ValueFormat::Json => "json",
            ValueFormat::RawString => "raw_string",
        }
    }
}

impl Setting for ValueFormat {
    const KIND: Kind = Kind::AnyOf(&[Kind::OneOf(ValueFormat::VALUES), Kind::Object(&VALUE_FORMAT)]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let node = match &node.value {
            Value::Map(entries) => match entries.iter().find(|e| e.key == "type") {
                Some(e) => &e.value,
                None => {
                    diags.error_help(
                        &node.loc,
                        format!("`{key}` has no `type`"),
                        format!("write `{key}: json` or `{{type: raw_string}}`"),
                    );
                    return None;
                }
            },
            _ => node,
        };
        match one_of(node, key, Self::ALL, diags)? {
            "json" => Some(ValueFormat::Json),
            "raw_string" => Some(ValueFormat::RawString),
            v => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}: {v}` is not supported yet"),
                    "use `json` or `raw_string`",
                );
                None
            }
        }
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        match self {
            ValueFormat::Json => quote!(#rt::config::kafka::ValueFormat::Json),
            ValueFormat::RawString => quote!(#rt::config::kafka::ValueFormat::RawString),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        self.as_str().into()
    }
}

/// The sink's batch compression (faucet's librdkafka is built without zstd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed.
    None,
    /// gzip.
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4.
    Lz4,
}

impl Compression {
    /// The values faucet supports.
    const VALUES: &'static [&'static str] = &["none", "gzip", "snappy", "lz4"];

    fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
        }
    }
}

impl Setting for Compression {
    const KIND: Kind = Kind::OneOf(Compression::VALUES);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match one_of(node, key, &["none", "gzip", "snappy", "lz4", "zstd"], diags)? {
            "none" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            "snappy" => Some(Compression::Snappy),
            "lz4" => Some(Compression::Lz4),
            _ => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}: zstd` is not built into faucet's librdkafka"),
                    "use `gzip`, `snappy` or `lz4`",
                );
                None
            }
        }
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let ty = quote!(#rt::config::kafka::Compression);
        match self {
            Compression::None => quote!(#ty::None),
            Compression::Gzip => quote!(#ty::Gzip),
            Compression::Snappy => quote!(#ty::Snappy),
            Compression::Lz4 => quote!(#ty::Lz4),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        self.as_str().into()
    }
}

/// librdkafka settings faucet sets itself: offsets are committed only after
/// a page is confirmed, and the brokers and group come from their own keys.
const SET_BY_FAUCET: &[&str] =
    &["enable.auto.commit", "group.id", "bootstrap.servers", "enable.auto.offset.store"];

/// `extra_client_config`: more librdkafka settings, each a string (which may
/// be `${env:…}`; a secret-named one must be), a number or a boolean.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientConfig(pub Vec<(String, Text)>);

impl Setting for ClientConfig {
    const KIND: Kind = Kind::Map(&Kind::Scalar);
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let Value::Map(entries) = &node.value else {
            diags.error(&node.loc, format!("`{key}` must be a map, found {}", node.value.kind_name()));
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
            if SET_BY_FAUCET.contains(&entry.key.as_str()) {
                diags.error_help(
                    &entry.key_loc,
                    format!("`{}` cannot be set in `{key}`", entry.key),
                    "faucet sets it: offsets are committed only after a page is confirmed",
                );
                ok = false;
            }
            match value {
                Some(v) => out.push((entry.key.clone(), v)),
                None => ok = false,
            }
        }
        ok.then_some(ClientConfig(out))
    }

    /// Absent, there are no extra settings.
    fn absent() -> Option<Self> {
        Some(ClientConfig::default())
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        vec(self.0.iter().map(|(name, value)| {
            let name = string(name);
            let value = g.text(value);
            quote!((#name, #value))
        }))
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.iter().map(|(name, value)| (name.clone(), value.to_json())).collect()
    }
}

//! The `kafka` connectors' `auth` block: faucet-stream's `{type, config}`,
//! which the runtime maps to librdkafka's `security.protocol`, `sasl.*` and
//! `ssl.*` settings.

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::Diagnostics;
use crate::emit::Gen;
use crate::load::{Node, Value};
use crate::read::{Fields, one_of};
use crate::settings::values::Secret;
use crate::settings::{Nested, Setting, choice, settings};
use crate::spec::{Field, Kind, Spec, Variant};
use crate::text::Text;

choice! {
    /// The mechanisms of `auth: sasl_scram`.
    pub enum ScramMechanism => config::kafka::SaslMechanism {
        /// SCRAM with SHA-256.
        ScramSha256 = "SCRAM-SHA-256",
        /// SCRAM with SHA-512.
        ScramSha512 = "SCRAM-SHA-512",
    }
}

choice! {
    /// The SASL mechanisms of `auth: sasl_ssl`.
    pub enum SaslMechanism => config::kafka::SaslMechanism {
        /// A user and password in the clear (inside TLS).
        Plain = "PLAIN",
        /// SCRAM with SHA-256.
        ScramSha256 = "SCRAM-SHA-256",
        /// SCRAM with SHA-512.
        ScramSha512 = "SCRAM-SHA-512",
    }
}

settings! {
    /// SASL/PLAIN over plaintext.
    pub struct SaslPlain("kafka.auth.sasl_plain") => kafka::SaslPlain {
        /// The SASL user.
        username: Text,
        /// The SASL password; must be `${env:…}`.
        password: Secret,
    }
}

settings! {
    /// SASL/SCRAM over plaintext (needs faucet-runtime's `kafka-tls` feature).
    pub struct SaslScram("kafka.auth.sasl_scram") => kafka::Sasl {
        /// The SASL mechanism.
        mechanism: ScramMechanism,
        /// The SASL user.
        username: Text,
        /// The SASL password; must be `${env:…}`.
        password: Secret,
    }
}

settings! {
    /// SASL inside TLS: a mechanism and credentials.
    pub struct Sasl("kafka.auth.sasl_ssl.sasl") => kafka::Sasl {
        /// The SASL mechanism.
        mechanism: SaslMechanism = SaslMechanism::Plain,
        /// The SASL user.
        username: Text,
        /// The SASL password; must be `${env:…}`.
        password: Secret,
    }
}

settings! {
    /// TLS, optionally with a client certificate (needs faucet-runtime's `kafka-tls` feature).
    pub struct Ssl("kafka.auth.ssl") => kafka::Ssl {
        /// CA certificate(s) to verify the brokers (PEM); default the system's.
        ca_path: Option<Text>,
        /// Client certificate (PEM), with `key_path`.
        cert_path: Option<Text>,
        /// Client private key (PEM), with `cert_path`.
        key_path: Option<Text>,
        /// The private key's password; must be `${env:…}`.
        key_password: Option<Secret>,
    }
}

impl Ssl {
    /// Reads a TLS map described as `what`: `cert_path` and `key_path` go together.
    fn read_map(node: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(node, &Self::SPEC, what, diags)?;
        let read = Self::read(&mut f, diags);
        if let (Some(alone), None) | (None, Some(alone)) = (f.get("cert_path"), f.get("key_path")) {
            diags.error_help(
                &alone.loc,
                "`cert_path` and `key_path` go together",
                "set both for a client certificate, or neither",
            );
        }
        f.finish(diags);
        read
    }
}

/// `sasl_ssl`'s `ssl`.
impl Setting for Ssl {
    const KIND: Kind = Kind::Object(&Ssl::SPEC);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        Ssl::read_map(node, format!("`{key}`"), diags)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.config(g)
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

settings! {
    /// SASL over TLS (needs faucet-runtime's `kafka-tls` feature).
    pub struct SaslSsl("kafka.auth.sasl_ssl") => kafka::SaslSsl {
        /// `{mechanism (PLAIN), username, password}`.
        sasl: Nested<Sasl>,
        /// TLS settings, as for `type: ssl`.
        ssl: Option<Ssl>,
    }
}

/// `auth: none` takes no settings.
const NO_AUTH: Spec = Spec { name: "kafka.auth.none", doc: "No authentication.", fields: &[], variants: &[] };

/// The `auth` types.
const AUTH_TYPES: &[&str] = &["none", "sasl_plain", "sasl_scram", "ssl", "sasl_ssl"];

/// `auth`: a `type` and its `config`.
const AUTH: Spec = Spec {
    name: "kafka.auth",
    doc: "How clients authenticate; mapped to librdkafka's `security.protocol`, `sasl.*` and `ssl.*`.",
    fields: &[
        Field::req("type", Kind::OneOf(AUTH_TYPES), "The mechanism."),
        Field::opt("config", Kind::Json, "The mechanism's settings."),
    ],
    variants: &[
        Variant { tag: "none", nested: true, spec: Some(&NO_AUTH) },
        Variant { tag: "sasl_plain", nested: true, spec: Some(&SaslPlain::SPEC) },
        Variant { tag: "sasl_scram", nested: true, spec: Some(&SaslScram::SPEC) },
        Variant { tag: "ssl", nested: true, spec: Some(&Ssl::SPEC) },
        Variant { tag: "sasl_ssl", nested: true, spec: Some(&SaslSsl::SPEC) },
    ],
};

/// How a `kafka` client authenticates (absent: not at all).
#[derive(Debug, Clone)]
pub enum Auth {
    /// `none`.
    None,
    /// `sasl_plain`.
    SaslPlain(SaslPlain),
    /// `sasl_scram`.
    SaslScram(SaslScram),
    /// `ssl`.
    Ssl(Ssl),
    /// `sasl_ssl`.
    SaslSsl(SaslSsl),
}

impl Auth {
    /// Whether librdkafka needs OpenSSL (faucet-runtime's `kafka-tls`
    /// feature): for TLS and SCRAM; PLAIN is built in.
    pub fn needs_tls(&self) -> bool {
        matches!(self, Auth::SaslScram(_) | Auth::Ssl(_) | Auth::SaslSsl(_))
    }

    /// Whether it sets librdkafka's security settings (every type but `none`).
    pub fn sets_security(&self) -> bool {
        !matches!(self, Auth::None)
    }
}

impl Setting for Auth {
    const KIND: Kind = Kind::Object(&AUTH);
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(node, &AUTH, format!("`{key}`"), diags)?;
        let kind = f.require("type", diags).and_then(|n| one_of(n, "type", AUTH_TYPES, diags));
        let config = f.get("config");
        f.finish(diags);
        let kind = kind?;
        // No `config` reads as an empty one (whose required keys are then missing).
        let empty = Node { value: Value::Null, loc: node.loc.clone() };
        let config = config.unwrap_or(&empty);
        let what = format!("the `{key}: {kind}` config");
        Some(match kind {
            "none" => {
                Fields::with_spec(config, &NO_AUTH, what, diags)?.finish(diags);
                Auth::None
            }
            "sasl_plain" => Auth::SaslPlain(SaslPlain::from_config(config, what, diags)?),
            "sasl_scram" => Auth::SaslScram(SaslScram::from_config(config, what, diags)?),
            "ssl" => Auth::Ssl(Ssl::read_map(config, what, diags)?),
            _ => Auth::SaslSsl(SaslSsl::from_config(config, what, diags)?),
        })
    }

    fn absent() -> Option<Self> {
        Some(Auth::None)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let auth = quote!(#rt::config::kafka::KafkaAuth);
        match self {
            Auth::None => quote!(#auth::None),
            Auth::SaslPlain(c) => {
                let c = c.config(g);
                quote!(#auth::SaslPlain(#c))
            }
            Auth::SaslScram(c) => {
                let c = c.config(g);
                quote!(#auth::SaslScram(#c))
            }
            Auth::Ssl(c) => {
                let c = c.config(g);
                quote!(#auth::Ssl(#c))
            }
            Auth::SaslSsl(c) => {
                let c = c.config(g);
                quote!(#auth::SaslSsl(#c))
            }
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

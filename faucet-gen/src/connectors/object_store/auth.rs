//! faucet-stream's `auth: { type, config }` of the `gcs` and `azure-blob`
//! connectors, read onto the keys faucet's stores already have
//! (`service_account_path`, `access_key`, …): each form object_store's
//! builders take is accepted, the others are reported as not supported yet.

use proc_macro2::TokenStream;

use crate::diag::Diagnostics;
use crate::emit::Gen;
use crate::load::{Node, Value};
use crate::read::{Fields, one_of, text};
use crate::settings::Setting;
use crate::settings::values::Secret;
use crate::spec::{Field, Kind, Spec, Variant};
use crate::text::Text;

/// A `gcs` connector's `auth`.
#[derive(Debug, Clone, PartialEq)]
pub enum GcsAuth {
    /// `service_account_json_file`: `service_account_path`.
    File(Text),
    /// `service_account_json_inline`: `service_account_key`.
    Inline(Secret),
    /// `application_default`: the GOOGLE_* environment and application-default credentials.
    ApplicationDefault,
    /// `anonymous`: `anonymous: true`.
    Anonymous,
}

/// An `azure-blob` connector's `auth`.
#[derive(Debug, Clone, PartialEq)]
pub enum AzureAuth {
    /// `account_key`: `access_key`.
    AccountKey(Secret),
    /// `sas_token`: `sas_token`.
    SasToken(Secret),
    /// `default`: object_store's credential chain from the AZURE_* environment.
    Default,
}

const NONE: Spec = Spec { name: "auth.none", doc: "No settings.", fields: &[], variants: &[] };

static GCS_FILE: Spec = Spec {
    name: "gcs.auth.service_account_json_file",
    doc: "A service-account JSON key file (faucet's `service_account_path`).",
    fields: &[Field::req("path", Kind::Text, "The key file's path.")],
    variants: &[],
};

static GCS_INLINE: Spec = Spec {
    name: "gcs.auth.service_account_json_inline",
    doc: "A service-account JSON key (faucet's `service_account_key`).",
    fields: &[Field::req("json", Kind::Secret, "The key; must be `${env:…}`.")],
    variants: &[],
};

/// `auth:` of a `gcs` connector.
pub(crate) static GCS_AUTH: Spec = Spec {
    name: "gcs.auth",
    doc: "faucet-stream's credentials of a `gcs` connector: `{ type, config }`.",
    fields: &[
        Field::req("type", Kind::OneOf(GCS_TYPES), "How requests are authenticated."),
        Field::opt("config", Kind::Json, "The type's settings."),
    ],
    variants: &[
        Variant { tag: "service_account_json_file", nested: true, spec: Some(&GCS_FILE) },
        Variant { tag: "service_account_json_inline", nested: true, spec: Some(&GCS_INLINE) },
        Variant { tag: "application_default", nested: true, spec: Some(&NONE) },
        Variant { tag: "anonymous", nested: true, spec: Some(&NONE) },
    ],
};

const GCS_TYPES: &[&str] =
    &["service_account_json_file", "service_account_json_inline", "application_default", "anonymous"];

static AZURE_ACCOUNT_KEY: Spec = Spec {
    name: "azure.auth.account_key",
    doc: "The storage account's key (faucet's `access_key`).",
    fields: &[Field::req("account_key", Kind::Secret, "The key; must be `${env:…}`.")],
    variants: &[],
};

static AZURE_SAS_TOKEN: Spec = Spec {
    name: "azure.auth.sas_token",
    doc: "A shared access signature (faucet's `sas_token`).",
    fields: &[Field::req("sas_token", Kind::Secret, "The token; must be `${env:…}`.")],
    variants: &[],
};

/// `auth:` of an `azure-blob` connector.
pub(crate) static AZURE_AUTH: Spec = Spec {
    name: "azure.auth",
    doc: "faucet-stream's credentials of an `azure-blob` connector: `{ type, config }`.",
    fields: &[
        Field::req("type", Kind::OneOf(AZURE_TYPES), "How requests are authenticated."),
        Field::opt("config", Kind::Json, "The type's settings."),
    ],
    variants: &[
        Variant { tag: "account_key", nested: true, spec: Some(&AZURE_ACCOUNT_KEY) },
        Variant { tag: "sas_token", nested: true, spec: Some(&AZURE_SAS_TOKEN) },
        Variant { tag: "default", nested: true, spec: Some(&NONE) },
    ],
};

const AZURE_TYPES: &[&str] = &["account_key", "sas_token", "default"];
/// faucet-stream's Azure credential types object_store's builder is not given yet.
const AZURE_LATER: &[&str] = &["connection_string", "managed_identity", "service_principal"];

/// Reads `{ type, config }`: the type (one of `types`, or of `later`, which is
/// reported as not supported yet) and the config map (empty when absent).
fn tagged(
    node: &Node,
    spec: &'static Spec,
    key: &str,
    types: &'static [&'static str],
    later: &[&str],
    diags: &mut Diagnostics,
) -> Option<(&'static str, Node)> {
    let mut f = Fields::with_spec(node, spec, format!("`{key}`"), diags)?;
    let kind = f.require("type", diags);
    let config = f.get("config").cloned();
    f.finish(diags);
    let kind = kind?;
    if let Value::Str(s) = &kind.value
        && later.contains(&s.as_str())
    {
        diags.error_help(
            &kind.loc,
            format!("`{key}: {{ type: {s} }}` is not supported by faucet yet"),
            format!("use one of {}", crate::diag::list(types)),
        );
        return None;
    }
    let kind = one_of(kind, "type", types, diags)?;
    let config = config.unwrap_or_else(|| Node { value: Value::Map(Vec::new()), loc: node.loc.clone() });
    Some((kind, config))
}

/// The one key of a type's config, read with `read`.
fn only<T>(
    config: &Node,
    spec: &'static Spec,
    kind: &str,
    key: &'static str,
    read: impl FnOnce(&Node, &mut Diagnostics) -> Option<T>,
    diags: &mut Diagnostics,
) -> Option<T> {
    let mut c = Fields::with_spec(config, spec, format!("the `{kind}` auth config"), diags)?;
    let value = c.require(key, diags).and_then(|n| read(n, diags));
    c.finish(diags);
    value
}

/// A type without settings: its config must be empty.
fn none(config: &Node, kind: &str, diags: &mut Diagnostics) -> Option<()> {
    Fields::with_spec(config, &NONE, format!("the `{kind}` auth config"), diags)?.finish(diags);
    Some(())
}

impl Setting for GcsAuth {
    const KIND: Kind = Kind::Object(&GCS_AUTH);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let (kind, config) = tagged(node, &GCS_AUTH, key, GCS_TYPES, &[], diags)?;
        match kind {
            "service_account_json_file" => {
                only(&config, &GCS_FILE, kind, "path", |n, d| text(n, "path", d), diags).map(GcsAuth::File)
            }
            "service_account_json_inline" => {
                only(&config, &GCS_INLINE, kind, "json", |n, d| Secret::read(n, "json", d), diags)
                    .map(GcsAuth::Inline)
            }
            "anonymous" => none(&config, kind, diags).map(|()| GcsAuth::Anonymous),
            _ => none(&config, kind, diags).map(|()| GcsAuth::ApplicationDefault),
        }
    }

    /// Not written out itself: the store's config takes its parts.
    fn emit(&self, _: &Gen) -> TokenStream {
        TokenStream::new()
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

impl Setting for AzureAuth {
    const KIND: Kind = Kind::Object(&AZURE_AUTH);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let (kind, config) = tagged(node, &AZURE_AUTH, key, AZURE_TYPES, AZURE_LATER, diags)?;
        match kind {
            "account_key" => only(
                &config,
                &AZURE_ACCOUNT_KEY,
                kind,
                "account_key",
                |n, d| Secret::read(n, "account_key", d),
                diags,
            )
            .map(AzureAuth::AccountKey),
            "sas_token" => only(
                &config,
                &AZURE_SAS_TOKEN,
                kind,
                "sas_token",
                |n, d| Secret::read(n, "sas_token", d),
                diags,
            )
            .map(AzureAuth::SasToken),
            _ => none(&config, kind, diags).map(|()| AzureAuth::Default),
        }
    }

    /// Not written out itself: the store's config takes its parts.
    fn emit(&self, _: &Gen) -> TokenStream {
        TokenStream::new()
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

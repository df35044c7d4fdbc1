//! Where objects live: each store's keys (`memory`, `file`, `s3`, `gcs`,
//! `azure`), the checks across them, the rules of the stores' names, and the
//! multipart part sizes the stores accept.

use std::marker::PhantomData;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::Diagnostics;
use crate::emit::Gen;
use crate::load::Node;
use crate::read::{Fields, text, text_in};
use crate::secrets::{self, Position};
use crate::settings::checks::{Checks, peek, peek_or};
use crate::settings::values::{Int, Secret};

use super::auth::{AzureAuth, GcsAuth};
use crate::settings::{Setting, settings};
use crate::spec::Kind;
use crate::text::{Encode, Text};

settings! {
    /// A named in-process store.
    pub struct Memory("store.memory") {
        /// The in-process store's name (shared by sources and sinks).
        store as name: String = "default",
    }
}

settings! {
    /// A local directory read and written like a bucket.
    pub struct File("store.file") => objects::FileConfig {
        /// The directory that plays the bucket (a sink creates it).
        root: Root,
    }
}

settings! {
    /// An S3 bucket, on AWS or an S3-compatible server.
    pub struct S3("store.s3") => objects::S3Config {
        /// The bucket.
        bucket: Name<S3Bucket>,
        /// An S3-compatible server's URL (e.g. `http://127.0.0.1:9000`).
        endpoint_url: Option<Endpoint>,
        /// Allow a plain-http `endpoint_url`.
        allow_http: bool = false,
        /// The AWS region (any name with `endpoint_url`).
        region: Option<Text>,
        /// With `secret_access_key`; otherwise the AWS_* environment is used.
        access_key_id: Option<Text>,
        /// Use `${env:…}`.
        secret_access_key: Option<Secret>,
        /// Temporary credentials' token.
        session_token: Option<Secret>,
    }
}

settings! {
    /// A Google Cloud Storage bucket.
    pub struct Gcs("store.gcs") {
        /// The GCS bucket.
        bucket: Name<GcsBucket>,
        /// A service-account JSON file; otherwise the GOOGLE_* environment and application-default credentials.
        service_account_path: Option<Text>,
        /// A service-account JSON key; must be `${env:…}`.
        service_account_key: Option<Secret>,
        /// The storage API's base URL, for an emulator (`http://127.0.0.1:4443`).
        endpoint_url: Option<Endpoint>,
        /// Allow a plain-http `endpoint_url`.
        allow_http: bool = false,
        /// Unsigned requests (public buckets, emulators).
        anonymous: bool = false,
        /// faucet-stream's credentials, onto the keys above:
        /// `service_account_json_file` (`service_account_path`),
        /// `service_account_json_inline` (`service_account_key`),
        /// `application_default` or `anonymous`.
        auth: Option<GcsAuth>,
        /// faucet-stream's name of `endpoint_url`; a plain-http host is an
        /// emulator's, as there (no `allow_http` needed).
        storage_host: Option<Endpoint>,
    }
}

settings! {
    /// An Azure Blob Storage container.
    pub struct Azure("store.azure") {
        /// The Azure Blob Storage container.
        container: Name<AzureContainer>,
        /// The storage account; otherwise `AZURE_STORAGE_ACCOUNT_NAME`.
        account: Option<Name<AzureAccount>>,
        /// The account key; must be `${env:…}`.
        access_key: Option<Secret>,
        /// A shared access signature; must be `${env:…}`.
        sas_token: Option<Secret>,
        /// The blob service URL (Azurite: `http://127.0.0.1:<port>/devstoreaccount1`).
        endpoint_url: Option<Endpoint>,
        /// Allow a plain-http `endpoint_url`.
        allow_http: bool = false,
        /// Azurite's well-known account and key, at `AZURITE_BLOB_STORAGE_URL` (default `http://127.0.0.1:10000`).
        use_emulator: bool = false,
        /// faucet-stream's credentials, onto the keys above: `account_key`
        /// (`access_key`), `sas_token` or `default` (the AZURE_* environment).
        auth: Option<AzureAuth>,
        /// faucet-stream's name of `endpoint_url`.
        endpoint: Option<Endpoint>,
    }
    not_yet: ["timeout_secs", "connect_timeout_secs", "max_retries", "retry_timeout_secs"]
}

impl Gcs {
    /// The runtime's `GcsConfig`, with `auth` and `storage_host` in the keys they name.
    pub(crate) fn config(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let (mut path, mut key, mut anonymous) =
            (self.service_account_path.clone(), self.service_account_key.clone(), self.anonymous);
        match &self.auth {
            Some(GcsAuth::File(p)) => path = Some(p.clone()),
            Some(GcsAuth::Inline(k)) => key = Some(k.clone()),
            Some(GcsAuth::Anonymous) => anonymous = true,
            Some(GcsAuth::ApplicationDefault) | None => {}
        }
        let plain = self
            .storage_host
            .as_ref()
            .is_some_and(|h| h.0.as_literal().is_some_and(|u| u.starts_with("http://")));
        let endpoint = self.storage_host.as_ref().or(self.endpoint_url.as_ref()).cloned().emit(g);
        let (bucket, path, key) = (self.bucket.emit(g), path.emit(g), key.emit(g));
        let allow_http = self.allow_http || plain;
        quote!(#rt::config::objects::GcsConfig {
            bucket: #bucket,
            service_account_path: #path,
            service_account_key: #key,
            endpoint_url: #endpoint,
            allow_http: #allow_http,
            anonymous: #anonymous,
        })
    }
}

impl Azure {
    /// The runtime's `AzureConfig`, with `auth` and `endpoint` in the keys they name.
    pub(crate) fn config(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let (mut access_key, mut sas_token) = (self.access_key.clone(), self.sas_token.clone());
        match &self.auth {
            Some(AzureAuth::AccountKey(k)) => access_key = Some(k.clone()),
            Some(AzureAuth::SasToken(t)) => sas_token = Some(t.clone()),
            Some(AzureAuth::Default) | None => {}
        }
        let endpoint = self.endpoint.as_ref().or(self.endpoint_url.as_ref()).cloned().emit(g);
        let (container, account) = (self.container.emit(g), self.account.emit(g));
        let (access_key, sas_token) = (access_key.emit(g), sas_token.emit(g));
        let (allow_http, use_emulator) = (self.allow_http, self.use_emulator);
        quote!(#rt::config::objects::AzureConfig {
            container: #container,
            account: #account,
            access_key: #access_key,
            sas_token: #sas_token,
            endpoint_url: #endpoint,
            allow_http: #allow_http,
            use_emulator: #use_emulator,
        })
    }
}

settings! {
    /// The part size of S3 and GCS, which reject parts under 5 MiB (but the last).
    pub struct LargeParts("parts.large") {
        /// Multipart part size in bytes.
        part_size: Int<{ 5 << 20 }, { 5 << 30 }> = 8u64 << 20,
    }
}

settings! {
    /// The part size of Azure and of the local stores.
    pub struct SmallParts("parts.small") {
        /// Multipart part size in bytes.
        part_size: Int<1024, { 5 << 30 }> = 8u64 << 20,
    }
}

/// Which store a connector talks to.
#[derive(Debug, Clone)]
pub enum Store {
    /// `memory`: a named process-wide in-memory store.
    Memory(Memory),
    /// `file`: a local directory used as a bucket.
    File(File),
    /// `s3`: a bucket.
    S3(S3),
    /// `gcs`: a Google Cloud Storage bucket.
    Gcs(Gcs),
    /// `azure` / `azure-blob`: an Azure Blob Storage container.
    Azure(Azure),
}

impl Store {
    /// The runtime's `StoreConfig` value.
    pub(crate) fn config(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let store = quote!(#rt::config::objects::StoreConfig);
        match self {
            Store::Memory(memory) => {
                let members = memory.members(g);
                quote!(#store::Memory { #(#members,)* })
            }
            Store::File(file) => {
                let config = file.config(g);
                quote!(#store::File(#config))
            }
            Store::S3(s3) => {
                let config = s3.config(g);
                quote!(#store::S3(#config))
            }
            Store::Gcs(gcs) => {
                let config = gcs.config(g);
                quote!(#store::Gcs(#config))
            }
            Store::Azure(azure) => {
                let config = azure.config(g);
                quote!(#store::Azure(#config))
            }
        }
    }

    /// The runtime's cargo feature for the store, and the connector's name in messages.
    pub(crate) fn feature(&self) -> (&'static str, &'static str) {
        match self {
            Store::Memory(_) => ("object-store", "memory"),
            Store::File(_) => ("object-store", "file"),
            Store::S3(_) => ("s3", "s3"),
            Store::Gcs(_) => ("gcs", "gcs"),
            Store::Azure(_) => ("azure", "azure"),
        }
    }
}

impl Checks for S3 {
    /// The region against the endpoint (an invalid one leaves no value),
    /// plain http, and the access key's two halves.
    fn check(f: &mut Fields<'_>, diags: &mut Diagnostics) -> bool {
        let region = region(f, diags);
        plain_http(f, "a local S3-compatible server", diags);
        if let (Some(alone), None) | (None, Some(alone)) =
            (f.get("access_key_id"), f.get("secret_access_key"))
        {
            diags.error_help(
                &alone.loc,
                "`access_key_id` and `secret_access_key` go together",
                "set both, or neither to take credentials from the AWS_* environment",
            );
        }
        region
    }
}

impl Checks for Gcs {
    /// One kind of credentials, one endpoint, and plain http.
    fn check(f: &mut Fields<'_>, diags: &mut Diagnostics) -> bool {
        let path = f.get("service_account_path").is_some();
        let key = f.get("service_account_key").is_some();
        if path && let Some(key) = f.get("service_account_key") {
            diags.error_help(
                &key.loc,
                "`service_account_path` and `service_account_key` are both set",
                "keep one of them",
            );
        }
        let anonymous = peek_or(f, "anonymous", false) == Some(true);
        if (path || key || anonymous)
            && let Some(auth) = f.entry("auth")
        {
            diags.error_help(
                &auth.key_loc,
                "`auth` and faucet's own credential keys are both set",
                "keep `auth`, or `service_account_path` / `service_account_key` / `anonymous`",
            );
        }
        one_endpoint(f, "storage_host", diags);
        plain_http(f, "a local emulator", diags);
        true
    }
}

/// `endpoint_url` and faucet-stream's name of it (`alias`) are not both set.
fn one_endpoint(f: &mut Fields<'_>, alias: &'static str, diags: &mut Diagnostics) {
    if f.get("endpoint_url").is_some()
        && let Some(other) = f.entry(alias)
    {
        diags.error_help(
            &other.key_loc,
            format!("`endpoint_url` and `{alias}` are both set"),
            format!("`{alias}` is faucet-stream's name of `endpoint_url`: keep one of them"),
        );
    }
}

impl Checks for Azure {
    /// One kind of credentials, plain http, and an endpoint the emulator ignores.
    fn check(f: &mut Fields<'_>, diags: &mut Diagnostics) -> bool {
        let access_key = f.get("access_key").is_some();
        if access_key && let Some(sas) = f.get("sas_token") {
            diags.error_help(&sas.loc, "`access_key` and `sas_token` are both set", "keep one of them");
        }
        if (access_key || f.get("sas_token").is_some())
            && let Some(auth) = f.entry("auth")
        {
            diags.error_help(
                &auth.key_loc,
                "`auth` and faucet's own credential keys are both set",
                "keep `auth`, or `access_key` / `sas_token`",
            );
        }
        one_endpoint(f, "endpoint", diags);
        plain_http(f, "a local emulator", diags);
        if peek_or(f, "use_emulator", false) == Some(true)
            && let Some(endpoint) = f.get("endpoint_url")
        {
            diags.error_help(
                &endpoint.loc,
                "`endpoint_url` is ignored with `use_emulator: true`",
                "Azurite's address comes from `AZURITE_BLOB_STORAGE_URL`; or drop `use_emulator` and set \
                 `endpoint_url: http://127.0.0.1:<port>/devstoreaccount1` with `account` and `access_key`",
            );
        }
        true
    }
}

/// Reports a valid plain-http `endpoint_url` without `allow_http: true`
/// (`server` says what plain http is for).
fn plain_http(f: &mut Fields<'_>, server: &str, diags: &mut Diagnostics) {
    let Some((node, endpoint)) = peek::<Endpoint>(f, "endpoint_url") else { return };
    if peek_or(f, "allow_http", false) == Some(false)
        && endpoint.0.as_literal().is_some_and(|u| u.starts_with("http://"))
    {
        diags.error_help(
            &node.loc,
            "`endpoint_url` is plain http, but `allow_http` is not set",
            format!("add `allow_http: true` (for {server}), or use https"),
        );
    }
}

/// Checks `region`: an AWS region such as `eu-west-1`, or with an
/// `endpoint_url` any `[A-Za-z0-9_-]+`. False when it is neither.
fn region(f: &mut Fields<'_>, diags: &mut Diagnostics) -> bool {
    let custom_endpoint = f.get("endpoint_url").is_some();
    let Some((node, region)) = peek::<Text>(f, "region") else { return true };
    let Some(r) = region.as_literal() else { return true };
    let aws = {
        let parts: Vec<&str> = r.split('-').collect();
        parts.len() >= 3
            && parts[0].len() == 2
            && parts
                .iter()
                .take(parts.len() - 1)
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
            && parts.last().is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    let custom = !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if aws || (custom_endpoint && custom) {
        return true;
    }
    diags.error_help(
        &node.loc,
        format!("invalid region `{r}`"),
        "write an AWS region such as `us-east-1` or `eu-central-1` (any name is accepted with `endpoint_url`)",
    );
    false
}

/// An `endpoint_url`: an `http://` or `https://` URL with a host, whose
/// userinfo password (if any) comes from `${env:…}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint(pub Text);

impl Setting for Endpoint {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text(node, key, diags)?;
        if !secrets::check(node, &t, key, Position::Url, diags) {
            return None;
        }
        let Some(u) = t.as_literal() else { return Some(Endpoint(t)) };
        match url::Url::parse(&u) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(Endpoint(t)),
            Ok(_) => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` {u:?} is not an http(s) URL"),
                    "write e.g. `http://127.0.0.1:9000`",
                );
                None
            }
            Err(e) => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` {u:?} is not a URL: {e}"),
                    "write e.g. `https://s3.example.com`",
                );
                None
            }
        }
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// A `file` store's root directory; a parent record's values are single path segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Root(pub Text);

impl Setting for Root {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text_in(node, key, Encode::PathSegment, diags)?;
        if t.as_literal().is_some_and(|r| r.is_empty() || r.contains('\0')) {
            diags.error_help(
                &node.loc,
                format!("`{key}` must be a directory path"),
                "write e.g. `root: data/lake`",
            );
            return None;
        }
        Some(Root(t))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// The rules of a store's names (a bucket's, a container's), checked when the name is literal.
pub trait NameRules: std::fmt::Debug + Clone + PartialEq {
    /// What the name names, in messages (`bucket name`).
    const WHAT: &'static str;
    /// The help line after a broken rule, with an example.
    const HELP: &'static str;
    /// The rule `name` breaks, as "it …" would end.
    fn problem(name: &str) -> Option<String>;
}

/// A store's name, checked against `R` when literal; `${env:…}` is read at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct Name<R: NameRules>(pub Text, PhantomData<R>);

impl<R: NameRules> Setting for Name<R> {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text(node, key, diags)?;
        if let Some(name) = t.as_literal()
            && let Some(problem) = R::problem(&name)
        {
            diags.error_help(&node.loc, format!("invalid {} `{name}`: it {problem}", R::WHAT), R::HELP);
            return None;
        }
        Some(Name(t, PhantomData))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// An S3 bucket name: 3–63 lowercase letters, digits, dots and hyphens,
/// starting and ending with a letter or digit, no `..`, not an IP address.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Bucket;

impl NameRules for S3Bucket {
    const WHAT: &'static str = "bucket name";
    const HELP: &'static str = "bucket names follow S3's rules, e.g. `my-data-2024`";

    fn problem(name: &str) -> Option<String> {
        if !(3..=63).contains(&name.len()) {
            Some(format!("is {} characters long; bucket names have 3 to 63", name.len()))
        } else if let Some(c) =
            name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
        {
            Some(format!("contains {c:?}; bucket names use lowercase letters, digits, `.` and `-`"))
        } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            Some("must start and end with a letter or digit".to_owned())
        } else if name.contains("..") {
            Some("contains `..`".to_owned())
        } else if name.parse::<std::net::Ipv4Addr>().is_ok() {
            Some("looks like an IP address".to_owned())
        } else {
            None
        }
    }
}

/// A GCS bucket name: 3–63 characters (up to 222 with dots, each dot-separated
/// part at most 63) of lowercase letters, digits, `-`, `_` and `.`, starting and
/// ending with a letter or digit; not an IP address; no `goog` prefix, no `google`.
#[derive(Debug, Clone, PartialEq)]
pub struct GcsBucket;

impl NameRules for GcsBucket {
    const WHAT: &'static str = "bucket name";
    const HELP: &'static str = "GCS bucket names look like `my-data_2024`";

    fn problem(name: &str) -> Option<String> {
        let max = if name.contains('.') { 222 } else { 63 };
        if !(3..=max).contains(&name.len()) {
            Some(format!("is {} characters long; GCS bucket names have 3 to {max}", name.len()))
        } else if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')))
        {
            Some(format!("contains {c:?}; GCS bucket names use lowercase letters, digits, `-`, `_` and `.`"))
        } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            Some("must start and end with a letter or digit".to_owned())
        } else if name.split('.').any(|part| part.is_empty() || part.len() > 63) {
            Some("has an empty or longer than 63 characters dot-separated part".to_owned())
        } else if name.parse::<std::net::Ipv4Addr>().is_ok() {
            Some("looks like an IP address".to_owned())
        } else if name.starts_with("goog") || name.contains("google") || name.contains("g00gle") {
            Some("starts with `goog` or contains `google`, which GCS reserves".to_owned())
        } else {
            None
        }
    }
}

/// An Azure container name: 3–63 lowercase letters, digits and single `-`
/// between them, starting with a letter or digit (or `$root` / `$web`).
#[derive(Debug, Clone, PartialEq)]
pub struct AzureContainer;

impl NameRules for AzureContainer {
    const WHAT: &'static str = "container name";
    const HELP: &'static str = "container names look like `raw-events-2024`";

    fn problem(name: &str) -> Option<String> {
        if matches!(name, "$root" | "$web") {
            None
        } else if !(3..=63).contains(&name.len()) {
            Some(format!("is {} characters long; container names have 3 to 63", name.len()))
        } else if let Some(c) =
            name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            Some(format!("contains {c:?}; container names use lowercase letters, digits and `-`"))
        } else if name.starts_with('-') || name.ends_with('-') {
            Some("must start and end with a letter or digit".to_owned())
        } else if name.contains("--") {
            Some("contains `--`; each `-` must sit between letters or digits".to_owned())
        } else {
            None
        }
    }
}

/// An Azure storage account name: 3–24 lowercase letters and digits.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureAccount;

impl NameRules for AzureAccount {
    const WHAT: &'static str = "storage account name";
    const HELP: &'static str = "account names look like `faucetdata01`";

    fn problem(name: &str) -> Option<String> {
        if !(3..=24).contains(&name.len()) {
            Some(format!("is {} characters long; storage account names have 3 to 24", name.len()))
        } else {
            name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit())).map(|c| {
                format!("contains {c:?}; storage account names use lowercase letters and digits only")
            })
        }
    }
}

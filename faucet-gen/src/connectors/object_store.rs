//! `s3`, `gcs`, `azure` (`azure-blob`), `file` and `memory`: object stores
//! through object_store. Sources read JSON Lines or CSV objects under a key
//! prefix or glob; sinks write JSON Lines objects.

use proc_macro2::TokenStream;
use quote::quote;

use super::common::{
    BATCH_SIZE, InputLimits, MAX_PAGE_BYTES, MAX_RECORD_BYTES, ON_PARSE_ERROR, input_limits,
    input_limits_tokens, on_parse_error, on_parse_error_tokens, opt,
};
use super::common::{DELIMITER, FLEXIBLE, HAS_HEADERS, INFER_TYPES, QUOTE};
use crate::connectors::common::OnParseError;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, byte_lit, int_lit as usize_lit};
use crate::load::Node;
use crate::read::{Fields, batch_size, boolean, byte, int_in, one_of, plain_string, text, text_in};
use crate::secrets::{self, Position, secret};
use crate::spec::{Field, Kind, Spec};
use crate::text::{Encode, Text};

const MEMORY_STORE: Field =
    Field::opt("store", Kind::Str, "The in-process store's name (shared by sources and sinks).")
        .default("\"default\"");
const BUCKET: Field = Field::req("bucket", Kind::Text, "The bucket.");
const ENDPOINT_URL: Field =
    Field::opt("endpoint_url", Kind::Text, "An S3-compatible server's URL (e.g. `http://127.0.0.1:9000`).");
const ALLOW_HTTP: Field =
    Field::opt("allow_http", Kind::Bool, "Allow a plain-http `endpoint_url`.").default("false");
const REGION: Field = Field::opt("region", Kind::Text, "The AWS region (any name with `endpoint_url`).");
const ACCESS_KEY_ID: Field = Field::opt(
    "access_key_id",
    Kind::Text,
    "With `secret_access_key`; otherwise the AWS_* environment is used.",
);
const SECRET_ACCESS_KEY: Field = Field::opt("secret_access_key", Kind::Text, "Use `${env:…}`.");
const SESSION_TOKEN: Field = Field::opt("session_token", Kind::Text, "Temporary credentials' token.");
const PREFIX: Field = Field::opt("prefix", Kind::Text, "Key prefix or glob of the objects.").default("\"\"");
const FILE_FORMAT: Field =
    Field::req("file_format", Kind::OneOf(&["json_lines", "jsonl", "csv"]), "How objects are decoded.");
const SOURCE_COMPRESSION: Field = Field::opt(
    "compression",
    Kind::OneOf(&["auto", "none", "gzip", "zstd"]),
    "`auto` picks by extension (`.gz`, `.zst`).",
)
.default("\"auto\"");
const CONCURRENCY: Field = Field::opt(
    "concurrency",
    Kind::Int(1, 1024),
    "Accepted for faucet-stream compatibility; objects are handled one at a time.",
);
const NAME: Field = Field::opt("name", Kind::Str, "Object name stem (files are `<prefix><name>-<n>.jsonl`).");
const FORMAT: Field =
    Field::opt("format", Kind::OneOf(&["json_lines", "jsonl"]), "Written format.").default("\"json_lines\"");
const SINK_COMPRESSION: Field =
    Field::opt("compression", Kind::OneOf(&["none", "gzip", "zstd"]), "Object compression.")
        .default("\"none\"");
const MAX_RECORDS: Field =
    Field::opt("max_records_per_file", Kind::Int(1, 1_000_000_000), "Records per object.").default("100000");
const MAX_BYTES: Field =
    Field::opt("max_bytes_per_file", Kind::Int(1024, 5 << 40), "Bytes per object.").default("134217728");

/// The `s3` source config.
pub(crate) const S3_SOURCE: Spec = Spec {
    name: "source.s3",
    doc: "JSON Lines or CSV objects of an S3 bucket, read in key order.",
    fields: &[
        BUCKET,
        ENDPOINT_URL,
        ALLOW_HTTP,
        REGION,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
        PREFIX,
        FILE_FORMAT,
        HAS_HEADERS,
        DELIMITER,
        QUOTE,
        FLEXIBLE,
        INFER_TYPES,
        SOURCE_COMPRESSION,
        BATCH_SIZE,
        ON_PARSE_ERROR,
        MAX_RECORD_BYTES,
        MAX_PAGE_BYTES,
        CONCURRENCY,
        Field::not_yet("max_objects"),
        Field::not_yet("verify_length"),
        Field::not_yet("verify_checksum"),
    ],
    variants: &[],
};

/// The `memory` source config.
pub(crate) const MEMORY_SOURCE: Spec = Spec {
    name: "source.memory",
    doc: "JSON Lines or CSV objects of an in-process object store.",
    fields: &[
        MEMORY_STORE,
        PREFIX,
        FILE_FORMAT,
        HAS_HEADERS,
        DELIMITER,
        QUOTE,
        FLEXIBLE,
        INFER_TYPES,
        SOURCE_COMPRESSION,
        BATCH_SIZE,
        ON_PARSE_ERROR,
        MAX_RECORD_BYTES,
        MAX_PAGE_BYTES,
        CONCURRENCY,
        Field::not_yet("max_objects"),
        Field::not_yet("verify_length"),
        Field::not_yet("verify_checksum"),
    ],
    variants: &[],
};

/// The `s3` sink config.
pub(crate) const S3_SINK: Spec = Spec {
    name: "sink.s3",
    doc: "JSON Lines objects written to an S3 bucket (multipart uploads).",
    fields: &[
        BUCKET,
        ENDPOINT_URL,
        ALLOW_HTTP,
        REGION,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
        PREFIX,
        NAME,
        FORMAT,
        SINK_COMPRESSION,
        MAX_RECORDS,
        MAX_BYTES,
        Field::opt("part_size", Kind::Int(5 << 20, 5 << 30), "Multipart part size in bytes.")
            .default("8388608"),
        BATCH_SIZE,
        CONCURRENCY,
        Field::not_yet("file_extension"),
    ],
    variants: &[],
};

/// The `memory` sink config.
pub(crate) const MEMORY_SINK: Spec = Spec {
    name: "sink.memory",
    doc: "JSON Lines objects written to an in-process object store.",
    fields: &[
        MEMORY_STORE,
        PREFIX,
        NAME,
        FORMAT,
        SINK_COMPRESSION,
        MAX_RECORDS,
        MAX_BYTES,
        Field::opt("part_size", Kind::Int(1024, 5 << 30), "Multipart part size in bytes.").default("8388608"),
        BATCH_SIZE,
        CONCURRENCY,
        Field::not_yet("file_extension"),
    ],
    variants: &[],
};

const ROOT: Field =
    Field::req("root", Kind::Text, "The directory that plays the bucket (a sink creates it).");
const GCS_BUCKET: Field = Field::req("bucket", Kind::Text, "The GCS bucket.");
const SERVICE_ACCOUNT_PATH: Field = Field::opt(
    "service_account_path",
    Kind::Text,
    "A service-account JSON file; otherwise the GOOGLE_* environment and application-default credentials.",
);
const SERVICE_ACCOUNT_KEY: Field =
    Field::opt("service_account_key", Kind::Text, "A service-account JSON key; must be `${env:…}`.");
const GCS_ENDPOINT_URL: Field = Field::opt(
    "endpoint_url",
    Kind::Text,
    "The storage API's base URL, for an emulator (`http://127.0.0.1:4443`).",
);
const ANONYMOUS: Field =
    Field::opt("anonymous", Kind::Bool, "Unsigned requests (public buckets, emulators).").default("false");
const CONTAINER: Field = Field::req("container", Kind::Text, "The Azure Blob Storage container.");
const ACCOUNT: Field =
    Field::opt("account", Kind::Text, "The storage account; otherwise `AZURE_STORAGE_ACCOUNT_NAME`.");
const ACCESS_KEY: Field = Field::opt("access_key", Kind::Text, "The account key; must be `${env:…}`.");
const SAS_TOKEN: Field =
    Field::opt("sas_token", Kind::Text, "A shared access signature; must be `${env:…}`.");
const AZURE_ENDPOINT_URL: Field = Field::opt(
    "endpoint_url",
    Kind::Text,
    "The blob service URL (Azurite: `http://127.0.0.1:<port>/devstoreaccount1`).",
);
const USE_EMULATOR: Field = Field::opt(
    "use_emulator",
    Kind::Bool,
    "Azurite's well-known account and key, at `AZURITE_BLOB_STORAGE_URL` (default `http://127.0.0.1:10000`).",
)
.default("false");
const SMALL_PART_SIZE: Field =
    Field::opt("part_size", Kind::Int(1024, 5 << 30), "Multipart part size in bytes.").default("8388608");
const BIG_PART_SIZE: Field =
    Field::opt("part_size", Kind::Int(5 << 20, 5 << 30), "Multipart part size in bytes.").default("8388608");

/// The `file` source config.
pub(crate) const FILE_SOURCE: Spec = Spec {
    name: "source.file",
    doc: "JSON Lines or CSV files under a local directory, read like objects in key order.",
    fields: &[
        ROOT,
        PREFIX,
        FILE_FORMAT,
        HAS_HEADERS,
        DELIMITER,
        QUOTE,
        FLEXIBLE,
        INFER_TYPES,
        SOURCE_COMPRESSION,
        BATCH_SIZE,
        ON_PARSE_ERROR,
        MAX_RECORD_BYTES,
        MAX_PAGE_BYTES,
        CONCURRENCY,
        Field::not_yet("max_objects"),
        Field::not_yet("verify_length"),
        Field::not_yet("verify_checksum"),
    ],
    variants: &[],
};

/// The `file` sink config.
pub(crate) const FILE_SINK: Spec = Spec {
    name: "sink.file",
    doc: "JSON Lines objects written under a local directory, each renamed into place when complete.",
    fields: &[
        ROOT,
        PREFIX,
        NAME,
        FORMAT,
        SINK_COMPRESSION,
        MAX_RECORDS,
        MAX_BYTES,
        SMALL_PART_SIZE,
        BATCH_SIZE,
        CONCURRENCY,
        Field::not_yet("file_extension"),
    ],
    variants: &[],
};

/// The `gcs` source config.
pub(crate) const GCS_SOURCE: Spec = Spec {
    name: "source.gcs",
    doc: "JSON Lines or CSV objects of a Google Cloud Storage bucket, read in key order.",
    fields: &[
        GCS_BUCKET,
        SERVICE_ACCOUNT_PATH,
        SERVICE_ACCOUNT_KEY,
        GCS_ENDPOINT_URL,
        ALLOW_HTTP,
        ANONYMOUS,
        PREFIX,
        FILE_FORMAT,
        HAS_HEADERS,
        DELIMITER,
        QUOTE,
        FLEXIBLE,
        INFER_TYPES,
        SOURCE_COMPRESSION,
        BATCH_SIZE,
        ON_PARSE_ERROR,
        MAX_RECORD_BYTES,
        MAX_PAGE_BYTES,
        CONCURRENCY,
        Field::not_yet("max_objects"),
        Field::not_yet("verify_length"),
        Field::not_yet("verify_checksum"),
    ],
    variants: &[],
};

/// The `gcs` sink config.
pub(crate) const GCS_SINK: Spec = Spec {
    name: "sink.gcs",
    doc: "JSON Lines objects written to a Google Cloud Storage bucket (multipart uploads).",
    fields: &[
        GCS_BUCKET,
        SERVICE_ACCOUNT_PATH,
        SERVICE_ACCOUNT_KEY,
        GCS_ENDPOINT_URL,
        ALLOW_HTTP,
        ANONYMOUS,
        PREFIX,
        NAME,
        FORMAT,
        SINK_COMPRESSION,
        MAX_RECORDS,
        MAX_BYTES,
        BIG_PART_SIZE,
        BATCH_SIZE,
        CONCURRENCY,
        Field::not_yet("file_extension"),
    ],
    variants: &[],
};

/// The `azure` (`azure-blob`) source config.
pub(crate) const AZURE_SOURCE: Spec = Spec {
    name: "source.azure",
    doc: "JSON Lines or CSV blobs of an Azure Blob Storage container, read in name order.",
    fields: &[
        CONTAINER,
        ACCOUNT,
        ACCESS_KEY,
        SAS_TOKEN,
        AZURE_ENDPOINT_URL,
        ALLOW_HTTP,
        USE_EMULATOR,
        PREFIX,
        FILE_FORMAT,
        HAS_HEADERS,
        DELIMITER,
        QUOTE,
        FLEXIBLE,
        INFER_TYPES,
        SOURCE_COMPRESSION,
        BATCH_SIZE,
        ON_PARSE_ERROR,
        MAX_RECORD_BYTES,
        MAX_PAGE_BYTES,
        CONCURRENCY,
        Field::not_yet("max_objects"),
        Field::not_yet("verify_length"),
        Field::not_yet("verify_checksum"),
    ],
    variants: &[],
};

/// The `azure` (`azure-blob`) sink config.
pub(crate) const AZURE_SINK: Spec = Spec {
    name: "sink.azure",
    doc: "JSON Lines blobs written to an Azure Blob Storage container (block uploads).",
    fields: &[
        CONTAINER,
        ACCOUNT,
        ACCESS_KEY,
        SAS_TOKEN,
        AZURE_ENDPOINT_URL,
        ALLOW_HTTP,
        USE_EMULATOR,
        PREFIX,
        NAME,
        FORMAT,
        SINK_COMPRESSION,
        MAX_RECORDS,
        MAX_BYTES,
        SMALL_PART_SIZE,
        BATCH_SIZE,
        CONCURRENCY,
        Field::not_yet("file_extension"),
    ],
    variants: &[],
};

/// The spec of an object-store source or sink config for store `kind`.
fn spec_of(kind: &str, source: bool) -> &'static Spec {
    match (kind, source) {
        ("memory", true) => &MEMORY_SOURCE,
        ("memory", false) => &MEMORY_SINK,
        ("file", true) => &FILE_SOURCE,
        ("file", false) => &FILE_SINK,
        ("gcs", true) => &GCS_SOURCE,
        ("gcs", false) => &GCS_SINK,
        ("azure" | "azure-blob", true) => &AZURE_SOURCE,
        ("azure" | "azure-blob", false) => &AZURE_SINK,
        (_, true) => &S3_SOURCE,
        (_, false) => &S3_SINK,
    }
}

/// Which store a connector talks to.
#[derive(Debug, Clone)]
pub enum Store {
    /// `memory`: a named process-wide in-memory store.
    Memory {
        /// The store's name.
        name: String,
    },
    /// `file`: a local directory used as a bucket.
    File {
        /// The root directory.
        root: Text,
    },
    /// `s3`: a bucket.
    S3(S3),
    /// `gcs`: a Google Cloud Storage bucket.
    Gcs(Gcs),
    /// `azure` / `azure-blob`: an Azure Blob Storage container.
    Azure(Azure),
}

/// `gcs` connection settings.
#[derive(Debug, Clone)]
pub struct Gcs {
    /// Bucket name (checked when literal).
    pub bucket: Text,
    /// Service-account JSON file.
    pub service_account_path: Option<Text>,
    /// Service-account JSON key (always `${env:…}`).
    pub service_account_key: Option<Text>,
    /// Emulator or private endpoint.
    pub endpoint_url: Option<Text>,
    /// Allow `http://` endpoints.
    pub allow_http: bool,
    /// Unsigned requests.
    pub anonymous: bool,
}

/// `azure` connection settings.
#[derive(Debug, Clone)]
pub struct Azure {
    /// Container name (checked when literal).
    pub container: Text,
    /// Storage account (checked when literal).
    pub account: Option<Text>,
    /// Account key (always `${env:…}`).
    pub access_key: Option<Text>,
    /// Shared access signature (always `${env:…}`).
    pub sas_token: Option<Text>,
    /// Blob service URL.
    pub endpoint_url: Option<Text>,
    /// Allow `http://` endpoints.
    pub allow_http: bool,
    /// Azurite's well-known account.
    pub use_emulator: bool,
}

/// `s3` connection settings.
#[derive(Debug, Clone)]
pub struct S3 {
    /// Bucket name (checked when literal).
    pub bucket: Text,
    /// Region.
    pub region: Option<Text>,
    /// S3-compatible endpoint.
    pub endpoint_url: Option<Text>,
    /// Allow `http://` endpoints.
    pub allow_http: bool,
    /// Access key id.
    pub access_key_id: Option<Text>,
    /// Secret access key.
    pub secret_access_key: Option<Text>,
    /// Session token.
    pub session_token: Option<Text>,
}

/// Object compression: `None` in a source means "by extension".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Plain.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// Object source record format.
#[derive(Debug, Clone)]
pub enum Format {
    /// JSON Lines.
    Jsonl,
    /// CSV with its parser settings.
    Csv {
        /// First line names the columns.
        has_headers: bool,
        /// Field delimiter.
        delimiter: u8,
        /// Quote character.
        quote: u8,
        /// Accept ragged rows.
        flexible: bool,
        /// Emit numbers and booleans.
        infer_types: bool,
    },
}

/// `s3` / `memory` source settings.
#[derive(Debug, Clone)]
pub struct ObjectSource {
    /// The store.
    pub store: Store,
    /// Key prefix or glob.
    pub prefix: Text,
    /// Record format.
    pub format: Format,
    /// Forced compression, or by extension.
    pub compression: Option<Codec>,
    /// Records per page.
    pub batch_size: u64,
    /// Malformed-input policy.
    pub on_parse_error: OnParseError,
    /// Longest record, page size in bytes.
    pub limits: InputLimits,
}

/// `s3` / `memory` sink settings.
#[derive(Debug, Clone)]
pub struct ObjectSink {
    /// The store.
    pub store: Store,
    /// Key prefix.
    pub prefix: Text,
    /// Object name stem (default: the pipeline's name).
    pub name: Option<String>,
    /// Output compression.
    pub compression: Codec,
    /// Records per object.
    pub max_records_per_file: u64,
    /// Uncompressed bytes per object.
    pub max_bytes_per_file: u64,
    /// Multipart part size.
    pub part_size: u64,
    /// Rows per write.
    pub batch_size: u64,
}

const MIB: i64 = 1 << 20;

/// Reads the store settings of `kind` (`s3`, `gcs`, `azure`, `file` or `memory`).
fn store(kind: &str, f: &mut Fields<'_>, diags: &mut Diagnostics) -> Option<Store> {
    match kind {
        "memory" => {
            let name = opt(f.get("store"), "default".to_owned(), |n| plain_string(n, "store", diags))?;
            return Some(Store::Memory { name });
        }
        "file" => {
            let root = f.require("root", diags).and_then(|n| {
                let t = text_in(n, "root", Encode::PathSegment, diags)?;
                if t.as_literal().is_some_and(|r| r.is_empty() || r.contains('\0')) {
                    diags.error_help(
                        &n.loc,
                        "`root` must be a directory path",
                        "write e.g. `root: data/lake`",
                    );
                    return None;
                }
                Some(t)
            });
            return Some(Store::File { root: root? });
        }
        "gcs" => return gcs(f, diags).map(Store::Gcs),
        "azure" | "azure-blob" => return azure(f, diags).map(Store::Azure),
        _ => {}
    }
    let bucket = f.require("bucket", diags).and_then(|n| bucket(n, diags));
    let endpoint = f.get("endpoint_url").map(|n| (n, endpoint(n, diags)));
    let allow_http = opt(f.get("allow_http"), false, |n| boolean(n, "allow_http", diags));
    let region = f.get("region").map(|n| region(n, endpoint.is_some(), diags));
    let key_node = f.get("access_key_id");
    let secret_node = f.get("secret_access_key");
    let key = key_node.map(|n| text(n, "access_key_id", diags));
    let secret_key = secret_node.map(|n| secret(n, "secret_access_key", diags));
    let token = f.get("session_token").map(|n| secret(n, "session_token", diags));
    if let (Some((node, Some(url))), Some(false)) = (&endpoint, allow_http)
        && url.as_literal().is_some_and(|u| u.starts_with("http://"))
    {
        diags.error_help(
            &node.loc,
            "`endpoint_url` is plain http, but `allow_http` is not set",
            "add `allow_http: true` (for a local S3-compatible server), or use https",
        );
    }
    if let Some(alone) = match (key_node, secret_node) {
        (Some(n), None) | (None, Some(n)) => Some(n),
        _ => None,
    } {
        diags.error_help(
            &alone.loc,
            "`access_key_id` and `secret_access_key` go together",
            "set both, or neither to take credentials from the AWS_* environment",
        );
    }
    Some(Store::S3(S3 {
        bucket: bucket?,
        region: region.transpose_opt()?,
        endpoint_url: endpoint.map(|(_, u)| u).transpose_opt()?,
        allow_http: allow_http?,
        access_key_id: key.transpose_opt()?,
        secret_access_key: secret_key.transpose_opt()?,
        session_token: token.transpose_opt()?,
    }))
}

/// An `endpoint_url`, checked against `allow_http` (default false).
fn endpoint_with_http(f: &mut Fields<'_>, diags: &mut Diagnostics) -> (Option<Option<Text>>, Option<bool>) {
    let endpoint = f.get("endpoint_url").map(|n| (n, endpoint(n, diags)));
    let allow_http = opt(f.get("allow_http"), false, |n| boolean(n, "allow_http", diags));
    if let (Some((node, Some(url))), Some(false)) = (&endpoint, allow_http)
        && url.as_literal().is_some_and(|u| u.starts_with("http://"))
    {
        diags.error_help(
            &node.loc,
            "`endpoint_url` is plain http, but `allow_http` is not set",
            "add `allow_http: true` (for a local emulator), or use https",
        );
    }
    (endpoint.map(|(_, u)| u), allow_http)
}

fn gcs(f: &mut Fields<'_>, diags: &mut Diagnostics) -> Option<Gcs> {
    let bucket = f.require("bucket", diags).and_then(|n| gcs_bucket(n, diags));
    let path = f.get("service_account_path").map(|n| text(n, "service_account_path", diags));
    let key = f.get("service_account_key").map(|n| secret(n, "service_account_key", diags));
    if let (Some(_), Some(n)) = (&path, f.get("service_account_key")) {
        diags.error_help(
            &n.loc,
            "`service_account_path` and `service_account_key` are both set",
            "keep one of them",
        );
    }
    let (endpoint, allow_http) = endpoint_with_http(f, diags);
    let anonymous = opt(f.get("anonymous"), false, |n| boolean(n, "anonymous", diags));
    Some(Gcs {
        bucket: bucket?,
        service_account_path: path.transpose_opt()?,
        service_account_key: key.transpose_opt()?,
        endpoint_url: endpoint.transpose_opt()?,
        allow_http: allow_http?,
        anonymous: anonymous?,
    })
}

fn azure(f: &mut Fields<'_>, diags: &mut Diagnostics) -> Option<Azure> {
    let container = f.require("container", diags).and_then(|n| azure_container(n, diags));
    let account = f.get("account").map(|n| azure_account(n, diags));
    let key = f.get("access_key").map(|n| secret(n, "access_key", diags));
    let sas = f.get("sas_token").map(|n| secret(n, "sas_token", diags));
    if let (Some(_), Some(n)) = (&key, f.get("sas_token")) {
        diags.error_help(&n.loc, "`access_key` and `sas_token` are both set", "keep one of them");
    }
    let (endpoint, allow_http) = endpoint_with_http(f, diags);
    let use_emulator = opt(f.get("use_emulator"), false, |n| boolean(n, "use_emulator", diags));
    if use_emulator == Some(true)
        && let Some(n) = f.get("endpoint_url")
    {
        diags.error_help(
            &n.loc,
            "`endpoint_url` is ignored with `use_emulator: true`",
            "Azurite's address comes from `AZURITE_BLOB_STORAGE_URL`; or drop `use_emulator` and set \
             `endpoint_url: http://127.0.0.1:<port>/devstoreaccount1` with `account` and `access_key`",
        );
    }
    Some(Azure {
        container: container?,
        account: account.transpose_opt()?,
        access_key: key.transpose_opt()?,
        sas_token: sas.transpose_opt()?,
        endpoint_url: endpoint.transpose_opt()?,
        allow_http: allow_http?,
        use_emulator: use_emulator?,
    })
}

/// Reports `problem` with a literal name at `node`.
fn bad_name(node: &Node, what: &str, name: &str, problem: &str, help: &str, diags: &mut Diagnostics) {
    diags.error_help(&node.loc, format!("invalid {what} `{name}`: it {problem}"), help);
}

/// A GCS bucket name: 3–63 characters (up to 222 with dots, each dot-separated
/// part at most 63) of lowercase letters, digits, `-`, `_` and `.`, starting and
/// ending with a letter or digit; not an IP address; no `goog` prefix, no `google`.
fn gcs_bucket(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "bucket", diags)?;
    let Some(name) = t.as_literal() else { return Some(t) };
    let max = if name.contains('.') { 222 } else { 63 };
    let problem = if !(3..=max).contains(&name.len()) {
        Some(format!("is {} characters long; GCS bucket names have 3 to {max}", name.len()))
    } else if let Some(c) =
        name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')))
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
    };
    match problem {
        Some(problem) => {
            bad_name(
                node,
                "bucket name",
                &name,
                &problem,
                "GCS bucket names look like `my-data_2024`",
                diags,
            );
            None
        }
        None => Some(t),
    }
}

/// An Azure container name: 3–63 lowercase letters, digits and single `-`
/// between them, starting with a letter or digit (or `$root` / `$web`).
fn azure_container(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "container", diags)?;
    let Some(name) = t.as_literal() else { return Some(t) };
    if matches!(name.as_str(), "$root" | "$web") {
        return Some(t);
    }
    let problem = if !(3..=63).contains(&name.len()) {
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
    };
    match problem {
        Some(problem) => {
            bad_name(
                node,
                "container name",
                &name,
                &problem,
                "container names look like `raw-events-2024`",
                diags,
            );
            None
        }
        None => Some(t),
    }
}

/// An Azure storage account name: 3–24 lowercase letters and digits.
fn azure_account(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "account", diags)?;
    let Some(name) = t.as_literal() else { return Some(t) };
    let problem = if !(3..=24).contains(&name.len()) {
        Some(format!("is {} characters long; storage account names have 3 to 24", name.len()))
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
            .map(|c| format!("contains {c:?}; storage account names use lowercase letters and digits only"))
    };
    match problem {
        Some(problem) => {
            bad_name(
                node,
                "storage account name",
                &name,
                &problem,
                "account names look like `faucetdata01`",
                diags,
            );
            None
        }
        None => Some(t),
    }
}

/// `Option<Option<T>>` (absent / invalid / valid) to `Option<Option<T>>` (invalid / absent-or-valid).
trait TransposeOpt<T> {
    fn transpose_opt(self) -> Option<Option<T>>;
}

impl<T> TransposeOpt<T> for Option<Option<T>> {
    fn transpose_opt(self) -> Option<Option<T>> {
        match self {
            None => Some(None),
            Some(Some(v)) => Some(Some(v)),
            Some(None) => None,
        }
    }
}

/// An S3 bucket name: 3–63 lowercase letters, digits, dots and hyphens,
/// starting and ending with a letter or digit, no `..`, not an IP address.
fn bucket(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "bucket", diags)?;
    let Some(name) = t.as_literal() else { return Some(t) };
    let problem = if !(3..=63).contains(&name.len()) {
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
    };
    match problem {
        Some(problem) => {
            diags.error_help(
                &node.loc,
                format!("invalid bucket name `{name}`: it {problem}"),
                "bucket names follow S3's rules, e.g. `my-data-2024`",
            );
            None
        }
        None => Some(t),
    }
}

/// An AWS region such as `eu-west-1`; any `[A-Za-z0-9_-]+` with a custom endpoint.
fn region(node: &Node, custom_endpoint: bool, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "region", diags)?;
    let Some(r) = t.as_literal() else { return Some(t) };
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
        return Some(t);
    }
    diags.error_help(
        &node.loc,
        format!("invalid region `{r}`"),
        "write an AWS region such as `us-east-1` or `eu-central-1` (any name is accepted with `endpoint_url`)",
    );
    None
}

/// An `http://` or `https://` URL with a host.
fn endpoint(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "endpoint_url", diags)?;
    if !secrets::check(node, &t, "endpoint_url", Position::Url, diags) {
        return None;
    }
    let Some(u) = t.as_literal() else { return Some(t) };
    match url::Url::parse(&u) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(t),
        Ok(_) => {
            diags.error_help(
                &node.loc,
                format!("`endpoint_url` {u:?} is not an http(s) URL"),
                "write e.g. `http://127.0.0.1:9000`",
            );
            None
        }
        Err(e) => {
            diags.error_help(
                &node.loc,
                format!("`endpoint_url` {u:?} is not a URL: {e}"),
                "write e.g. `https://s3.example.com`",
            );
            None
        }
    }
}

/// A key prefix or glob: no NUL, no leading `/`. Values from a parent record
/// are single path segments (`encode`: [`Encode::GlobSegment`] in a source's glob).
fn prefix(node: &Node, encode: Encode, diags: &mut Diagnostics) -> Option<Text> {
    let t = text_in(node, "prefix", encode, diags)?;
    if let Some(p) = t.as_literal() {
        if p.contains('\0') {
            diags.error(&node.loc, "`prefix` contains a NUL byte");
            return None;
        }
        if p.starts_with('/') {
            diags.error_help(
                &node.loc,
                format!("`prefix` {p:?} starts with `/`"),
                "object keys have no leading `/`: drop it",
            );
            return None;
        }
    }
    Some(t)
}

fn codec(node: &Node, choices: &[&'static str], diags: &mut Diagnostics) -> Option<Option<Codec>> {
    one_of(node, "compression", choices, diags).map(|c| match c {
        "gzip" => Some(Codec::Gzip),
        "zstd" => Some(Codec::Zstd),
        "none" => Some(Codec::None),
        _ => None,
    })
}

pub(crate) fn source(
    kind: &str,
    config: &Node,
    what: String,
    diags: &mut Diagnostics,
) -> Option<ObjectSource> {
    let mut f = Fields::with_spec(config, spec_of(kind, true), what, diags)?;
    let store = store(kind, &mut f, diags);
    let prefix = opt(f.get("prefix"), Text::literal(""), |n| prefix(n, Encode::GlobSegment, diags));
    let format = f.require("file_format", diags).and_then(|n| {
        let v = one_of(
            n,
            "file_format",
            &["json_lines", "jsonl", "csv", "json_array", "raw_text", "parquet"],
            diags,
        )?;
        if matches!(v, "json_array" | "raw_text" | "parquet") {
            diags.error_help(
                &n.loc,
                format!("`file_format: {v}` is not supported yet"),
                "use `json_lines` or `csv`",
            );
            return None;
        }
        Some(v == "csv")
    });
    let csv_keys = ["has_headers", "delimiter", "quote", "flexible", "infer_types"];
    let has_headers = opt(f.get("has_headers"), true, |n| boolean(n, "has_headers", diags));
    let delimiter = opt(f.get("delimiter"), b',', |n| byte(n, "delimiter", diags));
    let quote = opt(f.get("quote"), b'"', |n| byte(n, "quote", diags));
    let flexible = opt(f.get("flexible"), false, |n| boolean(n, "flexible", diags));
    let infer_types = opt(f.get("infer_types"), false, |n| boolean(n, "infer_types", diags));
    if format == Some(false) {
        for key in csv_keys {
            if let Some(entry) = f.entry(key) {
                diags.error_help(
                    &entry.key_loc,
                    format!("`{key}` applies to `file_format: csv` only"),
                    "remove it",
                );
            }
        }
    }
    let compression = opt(f.get("compression"), None, |n| codec(n, &["auto", "none", "gzip", "zstd"], diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let on_parse_error = opt(f.get("on_parse_error"), OnParseError::Fail, |n| on_parse_error(n, diags));
    let limits = input_limits(&mut f, diags);
    // faucet-stream's parallel download setting: objects are read one at a
    // time here (the bookmark is a position in key order), so it is accepted and unused.
    let _ = f.get("concurrency").map(|n| int_in(n, "concurrency", 1, 1024, diags));
    f.finish(diags);
    let format = if format? {
        Format::Csv {
            has_headers: has_headers?,
            delimiter: delimiter?,
            quote: quote?,
            flexible: flexible?,
            infer_types: infer_types?,
        }
    } else {
        Format::Jsonl
    };
    Some(ObjectSource {
        store: store?,
        prefix: prefix?,
        format,
        compression: compression?,
        batch_size: batch?,
        on_parse_error: on_parse_error?,
        limits: limits?,
    })
}

pub(crate) fn sink(kind: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<ObjectSink> {
    let mut f = Fields::with_spec(config, spec_of(kind, false), what, diags)?;
    let store = store(kind, &mut f, diags);
    let prefix = opt(f.get("prefix"), Text::literal(""), |n| prefix(n, Encode::PathSegment, diags));
    let name = f.get("name").map(|n| {
        let s = plain_string(n, "name", diags)?;
        if s.is_empty() || s.contains(['/', '\0', '*', '?']) {
            diags.error_help(
                &n.loc,
                format!("invalid object name stem {s:?}"),
                "use letters, digits, `-`, `_` or `.`, without `/`",
            );
            return None;
        }
        Some(s)
    });
    let format = opt(f.get("format"), "json_lines", |n| {
        let v = one_of(n, "format", &["json_lines", "jsonl", "parquet"], diags)?;
        if v == "parquet" {
            diags.error_help(&n.loc, "`format: parquet` is not supported yet", "use `json_lines`");
            return None;
        }
        Some(v)
    });
    let compression =
        opt(f.get("compression"), Some(Codec::None), |n| codec(n, &["none", "gzip", "zstd"], diags));
    let max_records = opt(f.get("max_records_per_file"), 100_000, |n| {
        int_in(n, "max_records_per_file", 1, 1_000_000_000, diags).map(|v| v as u64)
    });
    let max_bytes = opt(f.get("max_bytes_per_file"), 128 << 20, |n| {
        int_in(n, "max_bytes_per_file", 1024, 5 << 40, diags).map(|v| v as u64)
    });
    // S3 and GCS reject multipart parts under 5 MiB (but the last).
    let min_part = if matches!(kind, "s3" | "gcs") { 5 * MIB } else { 1024 };
    let part_size = opt(f.get("part_size"), 8 << 20, |n| {
        int_in(n, "part_size", min_part, 5 << 30, diags).map(|v| v as u64)
    });
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let _ = f.get("concurrency").map(|n| int_in(n, "concurrency", 1, 1024, diags));
    f.finish(diags);
    format?;
    Some(ObjectSink {
        store: store?,
        prefix: prefix?,
        name: name.transpose_opt()?,
        compression: compression?.unwrap_or(Codec::None),
        max_records_per_file: max_records?,
        max_bytes_per_file: max_bytes?,
        part_size: part_size?,
        batch_size: batch?,
    })
}

fn opt_text(g: &Gen, t: &Option<Text>) -> TokenStream {
    match t {
        Some(t) => {
            let t = g.text(t);
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn codec_tokens(c: Codec, g: &Gen) -> TokenStream {
    let rt = g.rt();
    match c {
        Codec::None => quote!(#rt::connectors::objects::Codec::None),
        Codec::Gzip => quote!(#rt::connectors::objects::Codec::Gzip),
        Codec::Zstd => quote!(#rt::connectors::objects::Codec::Zstd),
    }
}

impl Store {
    fn tokens(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let objects = quote!(#rt::connectors::objects);
        match self {
            Store::Memory { name } => {
                quote!(#objects::StoreConfig::Memory { name: ::std::string::String::from(#name) })
            }
            Store::File { root } => {
                let root = g.text(root);
                quote!(#objects::StoreConfig::File(#objects::FileConfig { root: #root }))
            }
            Store::Gcs(s) => {
                let bucket = g.text(&s.bucket);
                let path = opt_text(g, &s.service_account_path);
                let key = opt_text(g, &s.service_account_key);
                let endpoint = opt_text(g, &s.endpoint_url);
                let (allow_http, anonymous) = (s.allow_http, s.anonymous);
                quote!(#objects::StoreConfig::Gcs(#objects::GcsConfig {
                    bucket: #bucket,
                    service_account_path: #path,
                    service_account_key: #key,
                    endpoint_url: #endpoint,
                    allow_http: #allow_http,
                    anonymous: #anonymous,
                }))
            }
            Store::Azure(s) => {
                let container = g.text(&s.container);
                let account = opt_text(g, &s.account);
                let key = opt_text(g, &s.access_key);
                let sas = opt_text(g, &s.sas_token);
                let endpoint = opt_text(g, &s.endpoint_url);
                let (allow_http, use_emulator) = (s.allow_http, s.use_emulator);
                quote!(#objects::StoreConfig::Azure(#objects::AzureConfig {
                    container: #container,
                    account: #account,
                    access_key: #key,
                    sas_token: #sas,
                    endpoint_url: #endpoint,
                    allow_http: #allow_http,
                    use_emulator: #use_emulator,
                }))
            }
            Store::S3(s) => {
                let bucket = g.text(&s.bucket);
                let region = opt_text(g, &s.region);
                let endpoint = opt_text(g, &s.endpoint_url);
                let allow_http = s.allow_http;
                let key = opt_text(g, &s.access_key_id);
                let secret = opt_text(g, &s.secret_access_key);
                let token = opt_text(g, &s.session_token);
                quote!(#objects::StoreConfig::S3(#objects::S3Config {
                    bucket: #bucket,
                    region: #region,
                    endpoint_url: #endpoint,
                    allow_http: #allow_http,
                    access_key_id: #key,
                    secret_access_key: #secret,
                    session_token: #token,
                }))
            }
        }
    }

    fn feature(&self) -> (&'static str, &'static str) {
        match self {
            Store::Memory { .. } => ("object-store", "memory"),
            Store::File { .. } => ("object-store", "file"),
            Store::S3(_) => ("s3", "s3"),
            Store::Gcs(_) => ("gcs", "gcs"),
            Store::Azure(_) => ("azure", "azure"),
        }
    }
}

impl ObjectSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let objects = quote!(#rt::connectors::objects);
        let files = quote!(#rt::connectors::files);
        let store = self.store.tokens(g);
        let path = g.text(&self.prefix);
        let batch = usize_lit(self.batch_size);
        let on_parse_error = on_parse_error_tokens(self.on_parse_error, g);
        let limits = input_limits_tokens(&self.limits, g);
        let format = match &self.format {
            Format::Jsonl => quote! {
                #objects::ObjectFormat::Jsonl(#files::JsonlSourceConfig {
                    path: #path,
                    batch_size: #batch,
                    on_parse_error: #on_parse_error,
                    limits: #limits,
                })
            },
            Format::Csv { has_headers, delimiter, quote: q, flexible, infer_types } => {
                let (delimiter, q) = (byte_lit(*delimiter), byte_lit(*q));
                quote! {
                    #objects::ObjectFormat::Csv(#files::CsvSourceConfig {
                        path: #path,
                        has_headers: #has_headers,
                        delimiter: #delimiter,
                        quote: #q,
                        flexible: #flexible,
                        batch_size: #batch,
                        infer_types: #infer_types,
                        on_parse_error: #on_parse_error,
                        limits: #limits,
                    })
                }
            }
        };
        let compression = match self.compression {
            Some(c) => {
                let c = codec_tokens(c, g);
                quote!(::core::option::Option::Some(#c))
            }
            None => quote!(::core::option::Option::None),
        };
        let (feature, name) = self.store.feature();
        g.gated_whole(
            feature,
            &format!("`{name}` source"),
            loc,
            quote! {
                #objects::ObjectSource::new(#objects::ObjectSourceConfig {
                    store: #store,
                    compression: #compression,
                    format: #format,
                })
            },
        )
    }
}

impl ObjectSink {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let objects = quote!(#rt::connectors::objects);
        let store = self.store.tokens(g);
        let prefix = g.text(&self.prefix);
        let name = match &self.name {
            Some(n) => quote!(::core::option::Option::Some(::std::string::String::from(#n))),
            None => quote!(::core::option::Option::None),
        };
        let compression = codec_tokens(self.compression, g);
        let (max_records, max_bytes) = (self.max_records_per_file, self.max_bytes_per_file);
        let part_size = usize_lit(self.part_size);
        let batch = usize_lit(self.batch_size);
        let (feature, kind) = self.store.feature();
        g.gated_whole(
            feature,
            &format!("`{kind}` sink"),
            loc,
            quote! {
                #objects::ObjectSink::new(#objects::ObjectSinkConfig {
                    store: #store,
                    prefix: #prefix,
                    name: #name,
                    compression: #compression,
                    max_records_per_file: #max_records,
                    max_bytes_per_file: #max_bytes,
                    part_size: #part_size,
                    batch_size: #batch,
                })
            },
        )
    }
}

// Transitional: this connector's settings are not declared with `settings!` yet.

impl super::registry::Connector for ObjectSource {
    const SPEC: Spec = S3_SOURCE;

    fn read(tag: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        source(tag, config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}

impl super::registry::Connector for ObjectSink {
    const SPEC: Spec = S3_SINK;

    fn read(tag: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        sink(tag, config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}

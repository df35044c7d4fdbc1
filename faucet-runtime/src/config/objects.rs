//! Settings of the object-store connectors (`s3`, `gcs`, `azure`, `file`,
//! `memory`): where the objects live, how they are encoded, and what a source
//! reads or a sink writes. Every store's settings exist whatever cargo
//! features are on; building a store that needs a feature that is off is an error.

use std::fmt;

use super::files::{CsvSourceConfig, JsonlSourceConfig};
use crate::secret::SecretString;

/// Where objects live.
#[derive(Clone)]
pub enum StoreConfig {
    /// A process-wide in-memory store, shared by every connector that names it
    /// (see `connectors::object_store::memory_store`); for tests and in-process hand-offs.
    Memory {
        /// The store's name.
        name: String,
    },
    /// A directory of the local filesystem, read and written like a bucket:
    /// an object is written to a staging file and renamed into place, so it
    /// never appears under its final name half-written.
    File(FileConfig),
    /// An S3 bucket (AWS or an S3-compatible server); needs the `s3` feature.
    S3(S3Config),
    /// A Google Cloud Storage bucket (or a GCS emulator's); needs the `gcs` feature.
    Gcs(GcsConfig),
    /// An Azure Blob Storage container (or Azurite's); needs the `azure` feature.
    Azure(AzureConfig),
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreConfig::Memory { name } => f.debug_struct("Memory").field("name", name).finish(),
            StoreConfig::File(file) => file.fmt(f),
            StoreConfig::S3(s3) => s3.fmt(f),
            StoreConfig::Gcs(gcs) => gcs.fmt(f),
            StoreConfig::Azure(azure) => azure.fmt(f),
        }
    }
}

/// `file` settings: the directory that plays the bucket.
#[derive(Debug, Clone, Default)]
pub struct FileConfig {
    /// The root directory; keys are paths below it. A sink creates it when missing.
    pub root: String,
}

/// S3 settings. Unset credentials and region come from the standard `AWS_*`
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_REGION` / `AWS_DEFAULT_REGION`, …) and, failing that, from the instance
/// or container credential providers.
#[derive(Clone, Default)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// An S3-compatible server's URL (`http://127.0.0.1:9000`); requests then use path-style URLs.
    pub endpoint_url: Option<String>,
    /// Allow plain-HTTP endpoints (default false).
    pub allow_http: bool,
    /// The region (default: the environment's, else `us-east-1`).
    pub region: Option<String>,
    /// Access key id (default: the environment's); not printed.
    pub access_key_id: Option<String>,
    /// Secret access key (default: the environment's).
    pub secret_access_key: Option<SecretString>,
    /// Session token (default: the environment's).
    pub session_token: Option<SecretString>,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key id is no secret, but it names the account: not printed either.
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint_url", &self.endpoint_url)
            .field("allow_http", &self.allow_http)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "***"))
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}

/// GCS settings. Unset credentials come from the standard `GOOGLE_*`
/// environment (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_SERVICE_ACCOUNT_KEY`,
/// `GOOGLE_APPLICATION_CREDENTIALS`, …), then application-default
/// credentials, then the instance metadata server.
#[derive(Debug, Clone, Default)]
pub struct GcsConfig {
    /// The bucket.
    pub bucket: String,
    /// Path of a service-account JSON file.
    pub service_account_path: Option<String>,
    /// A service-account JSON key itself.
    pub service_account_key: Option<SecretString>,
    /// The storage API's base URL, for an emulator (`http://127.0.0.1:4443`).
    pub endpoint_url: Option<String>,
    /// Allow plain-HTTP endpoints (default false).
    pub allow_http: bool,
    /// Send unsigned requests (public buckets, emulators).
    pub anonymous: bool,
}

/// Azure Blob Storage settings. Unset values come from the standard
/// `AZURE_*` environment (`AZURE_STORAGE_ACCOUNT_NAME`,
/// `AZURE_STORAGE_ACCOUNT_KEY`, `AZURE_STORAGE_SAS_KEY`, `AZURE_CLIENT_ID`,
/// `AZURE_CLIENT_SECRET`, `AZURE_TENANT_ID`, …), then managed identity.
#[derive(Debug, Clone, Default)]
pub struct AzureConfig {
    /// The container.
    pub container: String,
    /// The storage account (with `use_emulator`: default `devstoreaccount1`).
    pub account: Option<String>,
    /// The account's access key.
    pub access_key: Option<SecretString>,
    /// A shared access signature (`sv=…&sig=…`).
    pub sas_token: Option<SecretString>,
    /// The blob service URL (`https://<account>.blob.core.windows.net` by
    /// default; for Azurite on another port `http://127.0.0.1:<port>/devstoreaccount1`).
    pub endpoint_url: Option<String>,
    /// Allow plain-HTTP endpoints (default false).
    pub allow_http: bool,
    /// Talk to Azurite with its well-known account and key (at
    /// `AZURITE_BLOB_STORAGE_URL`, default `http://127.0.0.1:10000`).
    pub use_emulator: bool,
}

/// The compression of an object, decoded while streaming and encoded while writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Codec {
    /// Plain bytes.
    #[default]
    None,
    /// gzip (multi-member streams included).
    Gzip,
    /// Zstandard.
    Zstd,
}

/// The record format of an object source, with its parser settings. The
/// inner config's `path` is the key, key prefix or glob to read.
#[derive(Debug, Clone)]
pub enum ObjectFormat {
    /// JSON Lines, as the `jsonl` file source reads them.
    Jsonl(JsonlSourceConfig),
    /// CSV, as the `csv` file source reads it.
    Csv(CsvSourceConfig),
}

/// Settings of an object-store source, validated at build time.
#[derive(Debug, Clone)]
pub struct ObjectSourceConfig {
    /// The store.
    pub store: StoreConfig,
    /// The compression of every object, or `None` to pick it per object by
    /// extension (`.gz`, `.zst`).
    pub compression: Option<Codec>,
    /// What the objects hold, and which objects to read.
    pub format: ObjectFormat,
}

/// Settings of an object-store sink, validated at build time.
#[derive(Debug, Clone)]
pub struct ObjectSinkConfig {
    /// The store.
    pub store: StoreConfig,
    /// The key prefix objects are written under (`exports/orders`; may be empty).
    pub prefix: String,
    /// The objects' name stem (default: the pipeline's name).
    pub name: Option<String>,
    /// Compression of the written objects (default none).
    pub compression: Codec,
    /// The objects' name ending, as written (`.jsonl.gz`); default `.jsonl`
    /// with the codec's suffix (`.jsonl`, `.jsonl.gz`, `.jsonl.zst`).
    pub file_extension: Option<String>,
    /// Records per object at most (default 100,000).
    pub max_records_per_file: u64,
    /// Uncompressed bytes per object at most, checked after each record (default 128 MiB).
    pub max_bytes_per_file: u64,
    /// Encoded bytes buffered before an object switches to a multipart
    /// upload and sends them as a part (default 8 MiB; S3 needs at least 5 MiB).
    pub part_size: usize,
    /// Rows per write (default 1000); `0`: each page in one write, as it comes.
    pub batch_size: usize,
}

impl ObjectSinkConfig {
    /// The defaults for `store`.
    pub fn new(store: StoreConfig) -> Self {
        ObjectSinkConfig {
            store,
            prefix: String::new(),
            name: None,
            compression: Codec::None,
            file_extension: None,
            max_records_per_file: 100_000,
            max_bytes_per_file: 128 << 20,
            part_size: 8 << 20,
            batch_size: 1000,
        }
    }
}

//! Object stores through object_store: the `s3`, `gcs`, `azure`, `file` and
//! `memory` sources and sinks.
//!
//! **Sources** list the objects under a key prefix or matching a glob over
//! whole keys, and read them in key order with the `jsonl` or `csv` parser of
//! the local-file sources, streamed in chunks (memory stays bounded by one
//! page plus one chunk, whatever the object's size). gzip and zstd objects
//! are decoded while streaming (by extension, or for every object with
//! `compression`). A page's bookmark is `{"file": <key>, "offset": <byte>,
//! "line": <n>, "etag": <version>}`: a rerun skips the objects that sort before
//! `file`, resumes `file` at `offset` (for a compressed object: decodes it
//! again from the start and skips `offset` decompressed bytes), and reads a
//! bookmarked object whose etag changed from its start, since it is a new object.
//!
//! **Sinks** write JSON Lines objects named
//! `<prefix>/<name>-<run>-<seq>.jsonl[.gz|.zst]` (or `<seq>` then the `file_extension` given): `name` defaults to the
//! pipeline's name, `run` is the run's lineage (the same for a crash and its
//! rerun), `seq` counts objects from 000000. An object is closed when it holds
//! `max_records_per_file` records or `max_bytes_per_file` uncompressed bytes,
//! and at every page's flush, since a flush must make the page durable and an
//! object store has no append. An object is uploaded in one PUT, or, once its
//! encoded bytes pass `part_size`, as a multipart upload whose parts go out as
//! they fill (memory stays bounded by one part): either way it appears under
//! its name only when complete. The checkpoint is `{"next": <seq>}`; `open`
//! deletes this run's objects numbered `next` or higher — written after the
//! last confirmed page — so the rerun writes them again, exactly once.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use serde_json::{Value, json};

use super::files::input::StoreOrigin;
use super::files::json_line::{MemberKeys, write_serialized};
use super::files::{CsvSource, JsonlSource};
pub use crate::config::objects::{
    AzureConfig, Codec, FileConfig, GcsConfig, ObjectFormat, ObjectSinkConfig, ObjectSourceConfig, S3Config,
    StoreConfig,
};
use crate::error::{FaucetError, Result};
use crate::page::{CommitToken, Page};
use crate::record::RecordType;
use crate::shard::{Plan, ShardId, Shardable};
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};
use crate::source::Source;
use crate::typed_source::IntoTyped;

/// The object_store crate, for working with a store directly (filling a `memory` store in a test, say).
pub use object_store;

impl StoreConfig {
    /// The connector name: `memory`, `file`, `s3`, `gcs` or `azure-blob`
    /// (faucet-stream's names, as DLQ envelopes write the sink's).
    pub fn connector_name(&self) -> &'static str {
        match self {
            StoreConfig::Memory { .. } => "memory",
            StoreConfig::File(_) => "file",
            StoreConfig::S3(_) => "s3",
            StoreConfig::Gcs(_) => "gcs",
            StoreConfig::Azure(_) => "azure-blob",
        }
    }

    /// How errors name the store: `memory://name/`, `s3://bucket/`, `gs://bucket/`,
    /// `az://container/`, or the `file` root directory.
    fn display(&self) -> String {
        match self {
            StoreConfig::Memory { name } => format!("memory://{name}/"),
            StoreConfig::File(file) => format!("{}/", file.root.trim_end_matches('/')),
            StoreConfig::S3(s3) => format!("s3://{}/", s3.bucket),
            StoreConfig::Gcs(gcs) => format!("gs://{}/", gcs.bucket),
            StoreConfig::Azure(azure) => format!("az://{}/", azure.container),
        }
    }

    /// Builds the store client (no request is made). A `file` root must exist;
    /// a store whose cargo feature is off is a configuration error.
    pub fn build(&self) -> Result<Arc<dyn ObjectStore>> {
        match self {
            StoreConfig::Memory { name } => Ok(memory_store(name)),
            StoreConfig::File(file) => {
                let store = object_store::local::LocalFileSystem::new_with_prefix(&file.root)
                    .map_err(|e| {
                        FaucetError::config(format!("opening the `file` root `{}`: {e}", file.root))
                    })?
                    .with_fsync(true);
                Ok(Arc::new(store))
            }
            #[cfg(feature = "gcs")]
            StoreConfig::Gcs(gcs) => {
                use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
                let mut builder = GoogleCloudStorageBuilder::from_env().with_bucket_name(&gcs.bucket);
                if let Some(path) = &gcs.service_account_path {
                    builder = builder.with_service_account_path(path);
                }
                if let Some(key) = &gcs.service_account_key {
                    builder = builder.with_service_account_key(key.expose());
                }
                if let Some(endpoint) = &gcs.endpoint_url {
                    builder = builder.with_base_url(endpoint.trim_end_matches('/'));
                }
                if gcs.allow_http {
                    builder = builder.with_config(
                        GoogleConfigKey::Client(object_store::ClientConfigKey::AllowHttp),
                        "true",
                    );
                }
                if gcs.anonymous {
                    builder = builder.with_skip_signature(true);
                }
                let store = builder
                    .build()
                    .map_err(|e| FaucetError::config(format!("configuring `gs://{}`: {e}", gcs.bucket)))?;
                Ok(Arc::new(store))
            }
            #[cfg(feature = "azure")]
            StoreConfig::Azure(azure) => {
                use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
                let mut builder = MicrosoftAzureBuilder::from_env().with_container_name(&azure.container);
                if azure.use_emulator {
                    builder = builder.with_use_emulator(true);
                }
                if let Some(account) = &azure.account {
                    builder = builder.with_account(account);
                }
                if let Some(key) = &azure.access_key {
                    builder = builder.with_access_key(key.expose());
                }
                if let Some(sas) = &azure.sas_token {
                    builder =
                        builder.with_config(AzureConfigKey::SasKey, sas.expose().trim_start_matches('?'));
                }
                if let Some(endpoint) = &azure.endpoint_url {
                    builder = builder.with_endpoint(endpoint.trim_end_matches('/').to_owned());
                }
                if azure.allow_http {
                    builder = builder.with_allow_http(true);
                }
                let store = builder.build().map_err(|e| {
                    FaucetError::config(format!("configuring `az://{}`: {e}", azure.container))
                })?;
                Ok(Arc::new(store))
            }
            #[cfg(feature = "s3")]
            StoreConfig::S3(s3) => {
                let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(&s3.bucket);
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                if let Some(endpoint) = &s3.endpoint_url {
                    builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
                }
                if s3.allow_http {
                    builder = builder.with_allow_http(true);
                }
                if let Some(key) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose());
                }
                if let Some(token) = &s3.session_token {
                    builder = builder.with_token(token.expose());
                }
                let store = builder
                    .build()
                    .map_err(|e| FaucetError::config(format!("configuring `s3://{}`: {e}", s3.bucket)))?;
                Ok(Arc::new(store))
            }
            #[allow(unreachable_patterns)]
            other => Err(FaucetError::config(format!(
                "the `{0}` store needs faucet-runtime's `{0}` cargo feature",
                other.connector_name()
            ))),
        }
    }

    fn origin(&self, codec: Option<Codec>) -> Result<StoreOrigin> {
        Ok(StoreOrigin { store: self.build()?, display: self.display(), codec })
    }
}

/// The process-wide in-memory store named `name`, created empty on first use.
pub fn memory_store(name: &str) -> Arc<dyn ObjectStore> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemory>>>> = OnceLock::new();
    let mut stores = STORES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    stores.entry(name.to_owned()).or_insert_with(|| Arc::new(InMemory::new())).clone()
}

/// Reads JSON Lines or CSV objects from an object store, as JSON values or,
/// typed, as records of type `R` (decoded as the `jsonl` and `csv` sources decode them).
pub struct ObjectSource<R = Value> {
    config: ObjectSourceConfig,
    inner: Option<Inner<R>>,
    /// The shard of a sharded run: only the objects whose key hashes to it are read.
    shard: Option<ShardId>,
}

enum Inner<R> {
    Jsonl(Box<JsonlSource<R>>),
    Csv(Box<CsvSource<R>>),
}

impl<R> fmt::Debug for ObjectSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectSource").field("config", &self.config).finish_non_exhaustive()
    }
}

impl ObjectSource {
    /// A source for `config`; the store is contacted on the first page.
    pub fn new(config: ObjectSourceConfig) -> Self {
        ObjectSource { config, inner: None, shard: None }
    }
}

impl<R: RecordType> IntoTyped<R> for ObjectSource {
    type Typed = ObjectSource<R>;

    fn into_typed(self) -> ObjectSource<R> {
        let inner = self.inner.map(|inner| match inner {
            Inner::Jsonl(s) => Inner::Jsonl(Box::new(s.into_typed())),
            Inner::Csv(s) => Inner::Csv(Box::new(s.into_typed())),
        });
        ObjectSource { config: self.config, inner, shard: self.shard }
    }
}

impl<R: RecordType> ObjectSource<R> {
    fn inner(&mut self) -> Result<&mut Inner<R>> {
        if self.inner.is_none() {
            let origin = self.config.store.origin(self.config.compression)?;
            self.inner = Some(match &self.config.format {
                ObjectFormat::Jsonl(c) => {
                    let mut source = JsonlSource::in_store(c.clone(), origin).into_typed();
                    if let Some(shard) = self.shard {
                        source.narrow(shard, &Plan::Hash)?;
                    }
                    Inner::Jsonl(Box::new(source))
                }
                ObjectFormat::Csv(c) => {
                    let mut source = CsvSource::in_store(c.clone(), origin).into_typed();
                    if let Some(shard) = self.shard {
                        source.narrow(shard, &Plan::Hash)?;
                    }
                    Inner::Csv(Box::new(source))
                }
            });
        }
        Ok(self.inner.as_mut().expect("just set"))
    }
}

impl<R: RecordType> Shardable for ObjectSource<R> {
    async fn plan(&mut self, _count: u32) -> Result<Plan> {
        Ok(Plan::Hash)
    }

    /// Narrows the reader made on the first page (or made already, by `into_typed`).
    fn narrow(&mut self, shard: ShardId, plan: &Plan) -> Result<()> {
        self.shard = Some(crate::shard::hashed(self.connector_name(), shard, plan)?);
        match self.inner.as_mut() {
            Some(Inner::Jsonl(s)) => s.narrow(shard, plan),
            Some(Inner::Csv(s)) => s.narrow(shard, plan),
            None => Ok(()),
        }
    }
}

impl<R: RecordType> Source for ObjectSource<R> {
    type Record = R;

    fn connector_name(&self) -> &'static str {
        self.config.store.connector_name()
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        match self.inner()? {
            Inner::Jsonl(s) => s.resume(bookmark).await,
            Inner::Csv(s) => s.resume(bookmark).await,
        }
    }

    async fn next_page(&mut self) -> Result<Option<Page<R>>> {
        match self.inner()? {
            Inner::Jsonl(s) => s.next_page().await,
            Inner::Csv(s) => s.next_page().await,
        }
    }

    fn recycle(&mut self, spent: Vec<R>) {
        match self.inner.as_mut() {
            Some(Inner::Jsonl(s)) => s.recycle(spent),
            Some(Inner::Csv(s)) => s.recycle(spent),
            None => {}
        }
    }
}

/// Writes JSON Lines objects, one per `max_records_per_file` / bytes / page.
pub struct ObjectSink {
    config: ObjectSinkConfig,
    store: Option<Arc<dyn ObjectStore>>,
    /// `<prefix>/<name>-<run>-`, set by `open`.
    stem: String,
    next: u64,
    current: Option<OpenObject>,
    line: Vec<u8>,
    /// The encodings of a typed record's member names.
    members: MemberKeys,
}

impl fmt::Debug for ObjectSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectSink")
            .field("config", &self.config)
            .field("stem", &self.stem)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The object being written.
struct OpenObject {
    key: ObjectPath,
    encoder: Encoder,
    records: u64,
    bytes: u64,
    upload: Option<Box<dyn MultipartUpload>>,
}

/// Encodes into a growing buffer that parts are taken from.
enum Encoder {
    Plain(Vec<u8>),
    Gzip(async_compression::tokio::write::GzipEncoder<Vec<u8>>),
    Zstd(async_compression::tokio::write::ZstdEncoder<Vec<u8>>),
}

impl Encoder {
    fn new(codec: Codec) -> Encoder {
        use async_compression::tokio::write::{GzipEncoder, ZstdEncoder};
        match codec {
            Codec::None => Encoder::Plain(Vec::new()),
            Codec::Gzip => Encoder::Gzip(GzipEncoder::new(Vec::new())),
            Codec::Zstd => Encoder::Zstd(ZstdEncoder::new(Vec::new())),
        }
    }

    async fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        match self {
            Encoder::Plain(out) => {
                out.extend_from_slice(data);
                Ok(())
            }
            Encoder::Gzip(e) => e.write_all(data).await,
            Encoder::Zstd(e) => e.write_all(data).await,
        }
    }

    /// The encoded bytes produced so far.
    fn output(&mut self) -> &mut Vec<u8> {
        match self {
            Encoder::Plain(out) => out,
            Encoder::Gzip(e) => e.get_mut(),
            Encoder::Zstd(e) => e.get_mut(),
        }
    }

    /// Ends the stream and returns the rest of the encoded bytes.
    async fn finish(self) -> std::io::Result<Vec<u8>> {
        use tokio::io::AsyncWriteExt;
        match self {
            Encoder::Plain(out) => Ok(out),
            Encoder::Gzip(mut e) => {
                e.shutdown().await?;
                Ok(e.into_inner())
            }
            Encoder::Zstd(mut e) => {
                e.shutdown().await?;
                Ok(e.into_inner())
            }
        }
    }
}

impl ObjectSink {
    /// A sink for `config`; the store is contacted by [`Sink::open`].
    pub fn new(config: ObjectSinkConfig) -> Self {
        ObjectSink {
            config,
            store: None,
            stem: String::new(),
            next: 0,
            current: None,
            line: Vec::new(),
            members: MemberKeys::default(),
        }
    }

    /// The objects' name ending: `file_extension` as written, else `.jsonl`
    /// with the codec's suffix.
    fn extension(&self) -> &str {
        match (&self.config.file_extension, self.config.compression) {
            (Some(extension), _) => extension,
            (None, Codec::None) => ".jsonl",
            (None, Codec::Gzip) => ".jsonl.gz",
            (None, Codec::Zstd) => ".jsonl.zst",
        }
    }

    fn key(&self, seq: u64) -> ObjectPath {
        ObjectPath::from(format!("{}{seq:06}{}", self.stem, self.extension()))
    }

    fn store(&self) -> Result<&Arc<dyn ObjectStore>> {
        self.store.as_ref().ok_or_else(|| FaucetError::sink("the object sink was used before it was opened"))
    }

    fn failed(&self, key: &ObjectPath, e: impl fmt::Display) -> FaucetError {
        FaucetError::sink(format!("writing `{}{key}`: {e}", self.config.store.display()))
    }

    /// Sends the encoded bytes buffered so far as a multipart part.
    async fn upload_part(&mut self) -> Result<()> {
        let store = self.store()?.clone();
        let Some(object) = self.current.as_mut() else {
            return Ok(());
        };
        let part = std::mem::take(object.encoder.output());
        let upload = match &mut object.upload {
            Some(upload) => upload,
            None => {
                let started = store.put_multipart(&object.key).await;
                object.upload.insert(started.map_err(|e| {
                    FaucetError::sink(format!("starting a multipart upload of `{}`: {e}", object.key))
                })?)
            }
        };
        if let Err(e) = upload.put_part(PutPayload::from(part)).await {
            let key = object.key.clone();
            let _ = upload.abort().await;
            self.current = None;
            return Err(self.failed(&key, e));
        }
        Ok(())
    }

    /// Completes the open object (PUT, or the multipart upload's last part and completion).
    async fn close(&mut self) -> Result<()> {
        let Some(object) = self.current.take() else {
            return Ok(());
        };
        let OpenObject { key, encoder, upload, .. } = object;
        let rest = encoder.finish().await.map_err(|e| self.failed(&key, e))?;
        let outcome = match upload {
            None => self.store()?.put(&key, PutPayload::from(rest)).await.map(drop),
            Some(mut upload) => {
                let done = async {
                    if !rest.is_empty() {
                        upload.put_part(PutPayload::from(rest)).await?;
                    }
                    upload.complete().await.map(drop)
                }
                .await;
                if done.is_err() {
                    let _ = upload.abort().await;
                }
                done
            }
        };
        outcome.map_err(|e| self.failed(&key, e))?;
        self.next += 1;
        Ok(())
    }
}

/// The part of a scope that names a run: the lineage (plus any suffix such as
/// `dlq`), or a hash of the scope when it has no lineage.
fn run_id(scope: &str) -> String {
    let parts: Vec<&str> = scope.split("::").collect();
    let raw = if parts.len() >= 3 {
        parts[2..].join("-")
    } else {
        // FNV-1a: stable across processes and releases.
        let hash = scope
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        format!("{hash:016x}")
    };
    raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

impl Sink for ObjectSink {
    fn connector_name(&self) -> &'static str {
        self.config.store.connector_name()
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    async fn open(&mut self, ctx: OpenContext<'_>) -> Result<()> {
        if let StoreConfig::File(file) = &self.config.store {
            std::fs::create_dir_all(&file.root)
                .map_err(|e| FaucetError::sink(format!("creating the `file` root `{}`: {e}", file.root)))?;
        }
        let store = self.config.store.build()?;
        let name = match &self.config.name {
            Some(name) => name.clone(),
            None => ctx.scope.split("::").next().unwrap_or("part").to_owned(),
        };
        let prefix = self.config.prefix.trim_matches('/');
        let dir = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        self.stem = format!("{dir}{name}-{}-", run_id(ctx.scope));
        self.next = match ctx.checkpoint {
            Some(c) => c.get("next").and_then(Value::as_u64).ok_or_else(|| {
                FaucetError::sink(format!("the object sink's checkpoint has no `next`: {c}"))
            })?,
            None => 0,
        };
        // Objects of this run numbered `next` or more were written after the
        // last confirmed page: remove them, the rerun writes them again.
        let listing_prefix = (!prefix.is_empty()).then(|| ObjectPath::from(prefix));
        let listed: Vec<_> =
            store.list(listing_prefix.as_ref()).try_collect().await.map_err(|e| {
                FaucetError::sink(format!("listing `{}{dir}`: {e}", self.config.store.display()))
            })?;
        for meta in listed {
            let key = meta.location.as_ref();
            let Some(rest) = key.strip_prefix(&self.stem) else { continue };
            // The sequence number is the digits before the extension, which may not start with `.`.
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let seq = rest[..digits].parse::<u64>().ok();
            if seq.is_some_and(|seq| seq >= self.next) {
                tracing::info!(object = key, "removing an object written after the last confirmed page");
                store.delete(&meta.location).await.map_err(|e| self.failed(&meta.location, e))?;
            }
        }
        self.store = Some(store);
        Ok(())
    }

    async fn flush(&mut self) -> Result<Option<Value>> {
        if self.store.is_none() {
            return Ok(None);
        }
        self.close().await?;
        Ok(Some(json!({ "next": self.next })))
    }
}

impl<R: RecordType> Writes<R> for ObjectSink {
    /// Each record is serialized as it is: a JSON value by serde_json, a
    /// typed record's members in order, with no JSON value in between (the
    /// same text).
    async fn write_batch(&mut self, batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        self.store()?;
        let typed = R::as_json_slice(batch).is_none();
        for record in batch {
            self.line.clear();
            let encoded = if typed {
                write_serialized(&mut self.line, record, &mut self.members)
            } else {
                serde_json::to_writer(&mut self.line, record)
            };
            encoded.map_err(|e| FaucetError::sink(format!("encoding a record: {e}")))?;
            self.line.push(b'\n');
            if self.current.is_none() {
                let key = self.key(self.next);
                self.current = Some(OpenObject {
                    key,
                    encoder: Encoder::new(self.config.compression),
                    records: 0,
                    bytes: 0,
                    upload: None,
                });
            }
            let object = self.current.as_mut().expect("just opened");
            if let Err(e) = object.encoder.write(&self.line).await {
                let key = object.key.clone();
                return Err(self.failed(&key, e));
            }
            object.records += 1;
            object.bytes += self.line.len() as u64;
            let full = object.records >= self.config.max_records_per_file
                || object.bytes >= self.config.max_bytes_per_file;
            if object.encoder.output().len() >= self.config.part_size {
                self.upload_part().await?;
            }
            if full {
                self.close().await?;
            }
        }
        Ok(WriteOutcome { written: batch.len() as u64, ..WriteOutcome::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::connectors::files::{CsvSourceConfig, JsonlSourceConfig};

    fn memory(name: &str) -> StoreConfig {
        StoreConfig::Memory { name: name.to_owned() }
    }

    fn jsonl_source(store: &str, path: &str, batch_size: usize, compression: Option<Codec>) -> ObjectSource {
        let mut jsonl = JsonlSourceConfig::new(path);
        jsonl.batch_size = batch_size;
        ObjectSource::new(ObjectSourceConfig {
            store: memory(store),
            compression,
            format: ObjectFormat::Jsonl(jsonl),
        })
    }

    async fn read_all(source: &mut ObjectSource, bookmark: Option<Value>) -> Result<Vec<Page>> {
        source.resume(bookmark).await?;
        let mut pages = Vec::new();
        while let Some(page) = source.next_page().await? {
            pages.push(page);
        }
        Ok(pages)
    }

    fn records(pages: &[Page]) -> Vec<Value> {
        pages.iter().flat_map(|p| p.records.iter().cloned()).collect()
    }

    async fn keys(store: &str, prefix: &str) -> Vec<String> {
        let store = memory_store(store);
        let prefix = ObjectPath::from(prefix);
        let metas: Vec<_> = store.list(Some(&prefix)).try_collect().await.unwrap();
        let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        keys
    }

    async fn sink(
        store: &str,
        compression: Codec,
        max_records: u64,
        checkpoint: Option<&Value>,
    ) -> ObjectSink {
        let mut config = ObjectSinkConfig::new(memory(store));
        config.prefix = "out/".into();
        config.compression = compression;
        config.max_records_per_file = max_records;
        let mut sink = ObjectSink::new(config);
        sink.open(OpenContext { scope: "orders::row-0::lin1", checkpoint }).await.unwrap();
        sink
    }

    const TOKEN: CommitToken = CommitToken { seq: 1, part: 0 };

    #[tokio::test]
    async fn shards_divide_the_objects_by_a_hash_of_their_keys() {
        let store = "shards-by-key";
        let mut all = Vec::new();
        for object in 0..12 {
            let lines: String = (0..3).map(|i| format!("{{\"id\":{}}}\n", object * 10 + i)).collect();
            all.extend((0..3).map(|i| object * 10 + i));
            let key = ObjectPath::from(format!("in/part-{object:02}.jsonl"));
            memory_store(store).put(&key, PutPayload::from(lines.into_bytes())).await.unwrap();
        }
        let mut read = Vec::new();
        for index in 0..3 {
            let mut source = jsonl_source(store, "in/*.jsonl", 2, None);
            source.narrow(ShardId { index, count: 3 }, &Plan::Hash).unwrap();
            let ids: Vec<i64> = records(&read_all(&mut source, None).await.unwrap())
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            assert!(
                !ids.is_empty() && ids.len().is_multiple_of(3),
                "shard {index}: whole objects, some of them: {ids:?}"
            );
            read.extend(ids);
        }
        read.sort_unstable();
        assert_eq!(read, all, "every record in exactly one shard");
        let plan = Plan::Range { key: "id".into(), cuts: vec![1] };
        let error = jsonl_source(store, "in/*.jsonl", 2, None).narrow(ShardId { index: 0, count: 2 }, &plan);
        assert!(error.unwrap_err().to_string().contains("stored shard plan splits by ranges of `id`"));
    }

    #[tokio::test]
    async fn sink_names_objects_and_source_reads_them_back_for_every_codec() {
        for (codec, ext) in [(Codec::None, "jsonl"), (Codec::Gzip, "jsonl.gz"), (Codec::Zstd, "jsonl.zst")] {
            let store = format!("roundtrip-{ext}");
            let rows: Vec<Value> = (0..25).map(|i| json!({"id": i, "pad": "x".repeat(i)})).collect();
            let mut sink = sink(&store, codec, 10, None).await;
            sink.write_batch(&rows[..12], TOKEN).await.unwrap();
            assert_eq!(sink.flush().await.unwrap(), Some(json!({"next": 2})));
            sink.write_batch(&rows[12..], TOKEN).await.unwrap();
            assert_eq!(sink.flush().await.unwrap(), Some(json!({"next": 4})));
            let expected: Vec<String> = (0..4).map(|i| format!("out/orders-lin1-{i:06}.{ext}")).collect();
            assert_eq!(keys(&store, "out").await, expected);

            // By extension, and with the codec forced.
            for compression in [None, Some(codec)] {
                let pages =
                    read_all(&mut jsonl_source(&store, "out/*.jsonl*", 7, compression), None).await.unwrap();
                assert_eq!(records(&pages), rows, "{ext}");
            }
        }
    }

    #[tokio::test]
    async fn resumes_a_partial_compressed_object_and_skips_finished_ones() {
        let store = "resume";
        let mut sink = sink(store, Codec::Gzip, 1000, None).await;
        for part in 0..3 {
            let rows: Vec<Value> = (0..10).map(|i| json!({"part": part, "i": i})).collect();
            sink.write_batch(&rows, TOKEN).await.unwrap();
            sink.flush().await.unwrap();
        }
        let all = read_all(&mut jsonl_source(store, "out", 4, None), None).await.unwrap();
        let all_records = records(&all);
        assert_eq!(all_records.len(), 30);
        let mut seen = 0;
        for (i, page) in all.iter().enumerate() {
            seen += page.records.len();
            let bookmark = page.bookmark.clone().unwrap();
            assert!(bookmark["etag"].is_string(), "{bookmark}");
            let rest = read_all(&mut jsonl_source(store, "out", 4, None), Some(bookmark)).await.unwrap();
            assert_eq!(records(&rest), all_records[seen..], "resuming after page {i}");
        }
        // Page 2 (records 4..8) ends inside the first object, before its line 9.
        let first = all[1].bookmark.clone().unwrap();
        assert_eq!(first["file"], json!("out/orders-lin1-000000.jsonl.gz"));
        assert_eq!(first["line"], json!(9));

        // A replaced object (new etag) is read again from its start.
        let key = ObjectPath::from("out/orders-lin1-000000.jsonl.gz");
        let bytes = memory_store(store).get(&key).await.unwrap().bytes().await.unwrap();
        memory_store(store).put(&key, PutPayload::from(bytes)).await.unwrap();
        let rest = read_all(&mut jsonl_source(store, "out", 4, None), Some(first)).await.unwrap();
        assert_eq!(records(&rest), all_records);
    }

    #[tokio::test]
    async fn reopening_at_a_checkpoint_removes_unconfirmed_objects() {
        let store = "crash";
        let mut first = sink(store, Codec::None, 2, None).await;
        first.write_batch(&[json!(1), json!(2), json!(3)], TOKEN).await.unwrap();
        let checkpoint = first.flush().await.unwrap().unwrap();
        assert_eq!(checkpoint, json!({"next": 2}));
        // Page 2 is written and flushed, but the crash comes before its bookmark.
        first.write_batch(&[json!(4), json!(5), json!(6)], TOKEN).await.unwrap();
        first.flush().await.unwrap();
        drop(first);
        assert_eq!(keys(store, "out").await.len(), 4);

        let mut rerun = sink(store, Codec::None, 2, Some(&checkpoint)).await;
        assert_eq!(keys(store, "out").await.len(), 2);
        rerun.write_batch(&[json!(4), json!(5), json!(6)], TOKEN).await.unwrap();
        rerun.flush().await.unwrap();
        let pages = read_all(&mut jsonl_source(store, "out/", 100, None), None).await.unwrap();
        assert_eq!(records(&pages), (1..=6).map(|i| json!(i)).collect::<Vec<_>>());

        // Another run (lineage) of the same pipeline leaves these objects alone.
        let mut config = ObjectSinkConfig::new(memory(store));
        config.prefix = "out".into();
        let mut other = ObjectSink::new(config);
        other.open(OpenContext { scope: "orders::row-0::lin2", checkpoint: None }).await.unwrap();
        assert_eq!(keys(store, "out").await.len(), 4);
    }

    /// `file_extension` names the objects as written (faucet-stream's), and a
    /// rerun still finds its objects' numbers under it.
    #[tokio::test]
    async fn objects_end_with_the_file_extension_given() {
        let store = "extension";
        let open = |checkpoint: Option<Value>| async move {
            let mut config = ObjectSinkConfig::new(memory(store));
            config.prefix = "out".into();
            config.max_records_per_file = 1;
            config.compression = Codec::Gzip;
            config.file_extension = Some("_part.json.gz".into());
            let mut sink = ObjectSink::new(config);
            sink.open(OpenContext { scope: "orders::row-0::lin", checkpoint: checkpoint.as_ref() })
                .await
                .unwrap();
            sink
        };
        let mut first = open(None).await;
        first.write_batch(&[json!(1)], TOKEN).await.unwrap();
        let checkpoint = first.flush().await.unwrap();
        first.write_batch(&[json!(2), json!(3)], TOKEN).await.unwrap();
        drop(first);
        assert_eq!(
            keys(store, "out").await,
            [
                "out/orders-lin-000000_part.json.gz",
                "out/orders-lin-000001_part.json.gz",
                "out/orders-lin-000002_part.json.gz"
            ]
        );
        // The rerun removes the objects written after its checkpoint.
        let _rerun = open(checkpoint).await;
        assert_eq!(keys(store, "out").await, ["out/orders-lin-000000_part.json.gz"]);
        let pages = read_all(&mut jsonl_source(store, "out/*", 100, Some(Codec::Gzip)), None).await.unwrap();
        assert_eq!(records(&pages), [json!(1)]);
    }

    #[tokio::test]
    async fn large_objects_go_out_in_parts_and_appear_only_when_complete() {
        let store = "multipart";
        let mut config = ObjectSinkConfig::new(memory(store));
        config.prefix = "big".into();
        config.name = Some("events".into());
        config.part_size = 64 * 1024;
        let mut sink = ObjectSink::new(config);
        sink.open(OpenContext { scope: "p::row-0::run", checkpoint: None }).await.unwrap();
        let rows: Vec<Value> = (0..5000).map(|i| json!({"i": i, "pad": "y".repeat(100)})).collect();
        sink.write_batch(&rows, TOKEN).await.unwrap();
        // Parts were uploaded, but nothing is visible under the final name yet.
        assert!(sink.current.as_ref().is_some_and(|o| o.upload.is_some()));
        assert!(keys(store, "big").await.is_empty());
        assert!(sink.current.as_mut().unwrap().encoder.output().len() < 64 * 1024 + 200);
        sink.flush().await.unwrap();
        assert_eq!(keys(store, "big").await, ["big/events-run-000000.jsonl"]);
        let pages = read_all(&mut jsonl_source(store, "big/events-*", 1000, None), None).await.unwrap();
        assert_eq!(records(&pages), rows);
    }

    /// The file sources' limits apply to objects too, gzip-compressed ones
    /// included (offsets and lengths count decompressed bytes).
    #[tokio::test]
    async fn object_lines_over_max_record_bytes_are_dead_lettered_as_excerpts() {
        let store = "limits";
        let long = format!("{{\"pad\":\"{}\"}}", "y".repeat(300_000));
        let text = format!("{{\"id\":1}}\n{long}\n{{\"id\":3}}\n");
        let mut gz = async_compression::tokio::write::GzipEncoder::new(Vec::new());
        tokio::io::AsyncWriteExt::write_all(&mut gz, text.as_bytes()).await.unwrap();
        tokio::io::AsyncWriteExt::shutdown(&mut gz).await.unwrap();
        memory_store(store)
            .put(&ObjectPath::from("in/a.jsonl.gz"), PutPayload::from(gz.into_inner()))
            .await
            .unwrap();
        let mut jsonl = JsonlSourceConfig::new("in/");
        jsonl.on_parse_error = crate::connectors::files::OnParseError::Dlq;
        jsonl.limits.max_record_bytes = 64 * 1024;
        let config = ObjectSourceConfig {
            store: memory(store),
            compression: None,
            format: ObjectFormat::Jsonl(jsonl),
        };
        let pages = read_all(&mut ObjectSource::new(config), None).await.unwrap();
        assert_eq!(records(&pages), [json!({"id": 1}), json!({"id": 3})]);
        let payload = &pages[0].rejects[0].payload;
        assert_eq!(payload["file"], json!("memory://limits/in/a.jsonl.gz"));
        assert_eq!(payload["bytes"], json!(long.len()));
        assert_eq!(payload["raw"].as_str().unwrap(), &long[..1024]);
    }

    #[tokio::test]
    async fn csv_objects_and_errors_name_the_store() {
        let store = "csv";
        let text = "id,name\n1,a\n2,b\n3,\"c,d\"\n";
        memory_store(store)
            .put(&ObjectPath::from("in/x.csv"), PutPayload::from(text.as_bytes().to_vec()))
            .await
            .unwrap();
        let mut csv = CsvSourceConfig::new("in/*.csv");
        csv.batch_size = 2;
        csv.csv.infer_types = true;
        let config =
            ObjectSourceConfig { store: memory(store), compression: None, format: ObjectFormat::Csv(csv) };
        let pages = read_all(&mut ObjectSource::new(config.clone()), None).await.unwrap();
        assert_eq!(
            records(&pages),
            [json!({"id": 1, "name": "a"}), json!({"id": 2, "name": "b"}), json!({"id": 3, "name": "c,d"})]
        );
        let rest = read_all(&mut ObjectSource::new(config), pages[0].bookmark.clone()).await.unwrap();
        assert_eq!(records(&rest), [json!({"id": 3, "name": "c,d"})]);

        let error = read_all(&mut jsonl_source(store, "nothing/*.jsonl", 5, None), None).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Source);
        assert_eq!(error.message(), "no object matches `memory://csv/nothing/*.jsonl`");

        memory_store(store)
            .put(&ObjectPath::from("bad/x.jsonl"), PutPayload::from_static(b"{}\nnope\n"))
            .await
            .unwrap();
        let error = read_all(&mut jsonl_source(store, "bad", 5, None), None).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse);
        assert!(
            error.message().starts_with("memory://csv/bad/x.jsonl:2: invalid JSON"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn run_ids_are_stable_and_safe() {
        assert_eq!(run_id("p::row-0::0190abcd"), "0190abcd");
        assert_eq!(run_id("p::row-0::0190abcd::dlq"), "0190abcd-dlq");
        assert_eq!(run_id("p::row-0"), run_id("p::row-0"));
        assert_eq!(run_id("p::row-0").len(), 16);
        assert_eq!(run_id("a::b::c/d e"), "c_d_e");
    }

    #[test]
    fn s3_debug_hides_credentials() {
        let config = StoreConfig::S3(S3Config {
            bucket: "b".into(),
            access_key_id: Some("AKIDSECRET".into()),
            secret_access_key: Some(crate::secret::SecretString::new("hunter2".into())),
            ..S3Config::default()
        });
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("AKIDSECRET"), "{shown}");
        assert!(shown.contains("***"));
    }
}

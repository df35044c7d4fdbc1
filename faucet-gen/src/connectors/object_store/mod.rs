//! `s3`, `gcs`, `azure` (`azure-blob`), `file` and `memory`: object stores
//! through object_store. Sources read JSON Lines or CSV objects under a key
//! prefix or glob; sinks write JSON Lines objects.
//!
//! Each connector type's config is its store's keys ([`backends`]) followed by
//! the keys every source shares ([`SourceObjects`]), or for a sink the keys
//! every sink shares ([`SinkObjects`], [`SinkWrites`]) around the store's
//! multipart part size; each key is declared once, and each type's spec is
//! laid out from these groups below.

pub mod auth;
pub mod backends;
pub mod formats;
pub mod keys;

use proc_macro2::TokenStream;
use quote::quote;

use self::backends::{Azure, File, Gcs, LargeParts, Memory, S3, SmallParts, Store};
use self::formats::{FileFormat, ObjectCompression, SinkFormat, SourceFormat};
use self::keys::{FileExtension, NameStem, Prefix};
use super::common::{InputLimits, OnParseError};
use super::registry::Connector;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, int_lit};
use crate::load::Node;
use crate::settings::checks::Checked;
use crate::settings::values::{BatchSize, Glob, Int, Segment};
use crate::settings::{Flatten, Part, Setting, settings};
use crate::spec::Spec;

/// `concurrency`: faucet-stream's parallel transfers. Objects are handled one
/// at a time here (a source's bookmark is a position in key order), so it is
/// accepted and unused.
pub type Concurrency = Int<1, 1024>;

settings! {
    /// The objects a source reads, and how it decodes them.
    pub struct SourceObjects("objects.source") {
        /// Key prefix or glob of the objects.
        prefix: Prefix<Glob> = "",
        /// How objects are decoded.
        format: Checked<SourceFormat>,
        /// `auto` picks by extension (`.gz`, `.zst`).
        compression: ObjectCompression = ObjectCompression::Auto,
        /// Records per page. `0`: the whole input in one page (within `max_page_bytes`).
        batch_size: BatchSize = 1000,
        /// A malformed row or line fails the run, goes to the dead-letter queue, or is skipped.
        on_parse_error: OnParseError = OnParseError::Fail,
        /// Input limits.
        limits: Flatten<InputLimits>,
        /// Accepted for faucet-stream compatibility; objects are handled one at a time.
        concurrency: Option<Concurrency>,
    }
    not_yet: [
        "max_objects", "verify_length", "verify_checksum", "include", "object_keys", "max_object_bytes",
        "csv", "excel", "xml", "avro", "orc", "parquet",
    ]
}

settings! {
    /// The objects a sink writes.
    pub struct SinkObjects("objects.sink") {
        /// Key prefix the objects are written under.
        prefix: Prefix<Segment> = "",
        /// Object name stem (files are `<prefix><name>-<n>.jsonl`).
        name: Option<NameStem>,
        /// Written format.
        format: SinkFormat = SinkFormat::JsonLines,
        /// Object compression.
        compression: ObjectCompression = ObjectCompression::Auto,
        /// The objects' name ending, as written (`.jsonl.gz`); default `.jsonl`
        /// with the codec's suffix (`.jsonl.gz`, `.jsonl.zst`).
        file_extension: Option<FileExtension>,
        /// Records per object.
        max_records_per_file: Int<1, 1_000_000_000> = 100_000,
        /// Bytes per object.
        max_bytes_per_file: Int<1024, { 5 << 40 }> = 128u64 << 20,
    }
    not_yet: [
        "path", "if_exists", "mode", "write_mode", "csv", "excel", "xml", "avro",
        "parquet", "json_lines", "encryption", "scratch_dir",
    ]
}

settings! {
    /// How records are handed to a sink.
    pub struct SinkWrites("objects.sink_writes") {
        /// Rows per write. `0`: each page in one write, as it comes.
        batch_size: BatchSize = 1000,
        /// Accepted for faucet-stream compatibility; objects are handled one at a time.
        concurrency: Option<Concurrency>,
    }
}

// Each connector type's config: its store, then the shared keys.

settings! {
    /// JSON Lines or CSV objects of an S3 bucket, read in key order.
    pub struct S3Source("source.s3") {
        /// The bucket.
        store: Checked<S3>,
        /// The objects.
        objects: Flatten<SourceObjects>,
    }
}

settings! {
    /// JSON Lines or CSV objects of a Google Cloud Storage bucket, read in key order.
    pub struct GcsSource("source.gcs") {
        /// The bucket.
        store: Checked<Gcs>,
        /// The objects.
        objects: Flatten<SourceObjects>,
    }
}

settings! {
    /// JSON Lines or CSV blobs of an Azure Blob Storage container, read in name order.
    pub struct AzureSource("source.azure") {
        /// The container.
        store: Checked<Azure>,
        /// The blobs.
        objects: Flatten<SourceObjects>,
    }
}

settings! {
    /// JSON Lines or CSV files under a local directory, read like objects in key order.
    pub struct FileSource("source.file") {
        /// The directory.
        store: Flatten<File>,
        /// The files.
        objects: Flatten<SourceObjects>,
    }
}

settings! {
    /// JSON Lines or CSV objects of an in-process object store.
    pub struct MemorySource("source.memory") {
        /// The store.
        store: Flatten<Memory>,
        /// The objects.
        objects: Flatten<SourceObjects>,
    }
}

settings! {
    /// JSON Lines objects written to an S3 bucket (multipart uploads).
    pub struct S3Sink("sink.s3") {
        /// The bucket.
        store: Checked<S3>,
        /// The objects.
        objects: Flatten<SinkObjects>,
        /// Their parts.
        parts: Flatten<LargeParts>,
        /// How records reach it.
        writes: Flatten<SinkWrites>,
    }
}

settings! {
    /// JSON Lines objects written to a Google Cloud Storage bucket (multipart uploads).
    pub struct GcsSink("sink.gcs") {
        /// The bucket.
        store: Checked<Gcs>,
        /// The objects.
        objects: Flatten<SinkObjects>,
        /// Their parts.
        parts: Flatten<LargeParts>,
        /// How records reach it.
        writes: Flatten<SinkWrites>,
    }
}

settings! {
    /// JSON Lines blobs written to an Azure Blob Storage container (block uploads).
    pub struct AzureSink("sink.azure") {
        /// The container.
        store: Checked<Azure>,
        /// The blobs.
        objects: Flatten<SinkObjects>,
        /// Their blocks.
        parts: Flatten<SmallParts>,
        /// How records reach it.
        writes: Flatten<SinkWrites>,
    }
}

settings! {
    /// JSON Lines objects written under a local directory, each renamed into place when complete.
    pub struct FileSink("sink.file") {
        /// The directory.
        store: Flatten<File>,
        /// The files.
        objects: Flatten<SinkObjects>,
        /// Their parts.
        parts: Flatten<SmallParts>,
        /// How records reach it.
        writes: Flatten<SinkWrites>,
    }
}

settings! {
    /// JSON Lines objects written to an in-process object store.
    pub struct MemorySink("sink.memory") {
        /// The store.
        store: Flatten<Memory>,
        /// The objects.
        objects: Flatten<SinkObjects>,
        /// Their parts.
        parts: Flatten<SmallParts>,
        /// How records reach it.
        writes: Flatten<SinkWrites>,
    }
}

/// An object-store source: its store, and the objects it reads.
#[derive(Debug, Clone)]
pub struct ObjectSource {
    /// The store.
    pub store: Store,
    /// The objects.
    pub objects: SourceObjects,
}

/// An object-store sink: its store, and the objects it writes.
#[derive(Debug, Clone)]
pub struct ObjectSink {
    /// The store.
    pub store: Store,
    /// The objects.
    pub objects: SinkObjects,
    /// Multipart part size in bytes (the store decides the smallest).
    pub part_size: u64,
    /// How records reach it.
    pub writes: SinkWrites,
}

impl Connector for ObjectSource {
    // The registration names each type's spec.
    const SPEC: Spec = S3Source::SPEC;

    fn read(tag: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let (store, objects) = match tag {
            "memory" => {
                MemorySource::from_config(config, what, diags).map(|c| (Store::Memory(c.store.0), c.objects))
            }
            "file" => {
                FileSource::from_config(config, what, diags).map(|c| (Store::File(c.store.0), c.objects))
            }
            "gcs" => GcsSource::from_config(config, what, diags).map(|c| (Store::Gcs(c.store.0), c.objects)),
            "azure" | "azure-blob" => {
                AzureSource::from_config(config, what, diags).map(|c| (Store::Azure(c.store.0), c.objects))
            }
            _ => S3Source::from_config(config, what, diags).map(|c| (Store::S3(c.store.0), c.objects)),
        }?;
        Some(ObjectSource { store, objects: objects.0 })
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let (feature, name) = self.store.feature();
        g.gated(
            feature,
            &format!("`{name}` source"),
            loc,
            self.config(g),
            quote!(#rt::connectors::object_store::ObjectSource::new(config)),
        )
    }
}

impl ObjectSource {
    /// The runtime's `ObjectSourceConfig`: the objects' format holds the
    /// `jsonl` or `csv` source config that reads them.
    fn config(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let objects = &self.objects;
        let format = &objects.format.0;
        let store = self.store.config(g);
        let compression = objects.compression.emit(g);
        let variant = format.file_format.emit(g);
        let path = objects.prefix.emit(g);
        let batch_size = objects.batch_size.emit(g);
        let on_parse_error = objects.on_parse_error.emit(g);
        let limits = objects.limits.emit_part(g);
        let source = match format.file_format {
            FileFormat::JsonLines => quote! {
                #rt::config::files::JsonlSourceConfig {
                    path: #path,
                    batch_size: #batch_size,
                    on_parse_error: #on_parse_error,
                    limits: #limits,
                }
            },
            FileFormat::Csv => {
                let csv = format.csv.emit_part(g);
                quote! {
                    #rt::config::files::CsvSourceConfig {
                        path: #path,
                        csv: #csv,
                        batch_size: #batch_size,
                        on_parse_error: #on_parse_error,
                        limits: #limits,
                    }
                }
            }
        };
        quote! {
            #rt::config::objects::ObjectSourceConfig {
                store: #store,
                compression: #compression,
                format: #variant(#source),
            }
        }
    }
}

impl Connector for ObjectSink {
    // The registration names each type's spec.
    const SPEC: Spec = S3Sink::SPEC;

    fn read(tag: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let (store, objects, part_size, writes) = match tag {
            "memory" => MemorySink::from_config(config, what, diags)
                .map(|c| (Store::Memory(c.store.0), c.objects, c.parts.0.part_size.get(), c.writes)),
            "file" => FileSink::from_config(config, what, diags)
                .map(|c| (Store::File(c.store.0), c.objects, c.parts.0.part_size.get(), c.writes)),
            "gcs" => GcsSink::from_config(config, what, diags)
                .map(|c| (Store::Gcs(c.store.0), c.objects, c.parts.0.part_size.get(), c.writes)),
            "azure" | "azure-blob" => AzureSink::from_config(config, what, diags)
                .map(|c| (Store::Azure(c.store.0), c.objects, c.parts.0.part_size.get(), c.writes)),
            _ => S3Sink::from_config(config, what, diags)
                .map(|c| (Store::S3(c.store.0), c.objects, c.parts.0.part_size.get(), c.writes)),
        }?;
        Some(ObjectSink { store, objects: objects.0, part_size, writes: writes.0 })
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let (feature, name) = self.store.feature();
        g.gated(
            feature,
            &format!("`{name}` sink"),
            loc,
            self.config(g),
            quote!(#rt::connectors::object_store::ObjectSink::new(config)),
        )
    }
}

impl ObjectSink {
    /// The runtime's `ObjectSinkConfig`.
    fn config(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let objects = &self.objects;
        let store = self.store.config(g);
        let prefix = objects.prefix.emit(g);
        let name = objects.name.emit(g);
        let extension = objects.file_extension.as_ref().map(|e| e.0.as_str());
        let compression = objects.compression.for_extension(extension).emit(g);
        let file_extension = objects.file_extension.emit(g);
        let max_records = objects.max_records_per_file.emit(g);
        let max_bytes = objects.max_bytes_per_file.emit(g);
        let part_size = int_lit(self.part_size);
        let batch_size = self.writes.batch_size.emit(g);
        quote! {
            #rt::config::objects::ObjectSinkConfig {
                store: #store,
                prefix: #prefix,
                name: #name,
                compression: #compression,
                file_extension: #file_extension,
                max_records_per_file: #max_records,
                max_bytes_per_file: #max_bytes,
                part_size: #part_size,
                batch_size: #batch_size,
            }
        }
    }
}

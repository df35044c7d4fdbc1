//! The input of the `csv` and `jsonl` sources: the local files a path
//! matches (or an object store's objects, for the object-store sources),
//! listed and read in chunks through object_store, with the positions,
//! bookmarks and rejects both parsers share.
//!
//! A configured path is either a plain file (`data/orders.csv`) or a glob
//! (`data/*.csv`, `logs/**/*.jsonl`), relative to the working directory or
//! absolute. The longest directory prefix without glob characters (`*?[]{}`)
//! becomes the root of a [`LocalFileSystem`]; the rest is matched with
//! `globset` against each listed path (relative to that root, `/`-separated;
//! `*` does not cross `/`, `**` does), and the matches are read in byte order of
//! that relative path.
//!
//! Positions are `{"file": <relative path as listed>, "offset": <byte>, "line": <1-based>}`:
//! [`Files::start`] skips the files that sort before `file`, resumes `file` at
//! `offset`, and reads every later file from its start.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, GetResultPayload, ObjectMeta, ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};

use crate::config::files::OnParseError;
use crate::config::objects::Codec;
use crate::error::{ErrorKind, FaucetError, Result};
use crate::page::{Page, Rejected};
use crate::shard::ShardId;

/// How long a local file must have been left unmodified for a last line
/// without a line terminator to count as complete (see [`Files::settled`]).
pub(crate) const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// How many bytes of an oversized record the DLQ receives.
pub const EXCERPT_BYTES: usize = 1024;

/// Bytes read from a local file per chunk.
const CHUNK_SIZE: usize = 128 * 1024;

/// The UTF-8 byte order mark, stripped at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A stream of byte chunks of one object.
pub(crate) type ByteStream = BoxStream<'static, Result<Bytes>>;

/// One listed file.
#[derive(Debug, Clone)]
pub(crate) struct ListedFile {
    location: ObjectPath,
    size: u64,
    display: String,
    /// The object's version tag, recorded in bookmarks (remote stores only).
    etag: Option<String>,
    /// How the object is compressed; offsets then count decompressed bytes.
    codec: Codec,
}

impl ListedFile {
    /// The path relative to the listing root, as listed (what bookmarks name).
    pub(crate) fn name(&self) -> &str {
        self.location.as_ref()
    }

    /// The path as the user would write it: the configured directory prefix
    /// joined with [`ListedFile::name`] (what errors and DLQ payloads name).
    pub(crate) fn display(&self) -> &str {
        &self.display
    }

    /// The size in bytes when the file was listed; for a compressed object,
    /// unknown until it is read (`u64::MAX`), since offsets count decompressed bytes.
    pub(crate) fn size(&self) -> u64 {
        if self.codec == Codec::None { self.size } else { u64::MAX }
    }
}

/// The files a configured path matches, sorted by [`ListedFile::name`].
#[derive(Debug)]
pub(crate) struct Listing {
    store: Arc<dyn ObjectStore>,
    files: Vec<ListedFile>,
    /// Whether the files are local (and so may still be written while read).
    local: bool,
}

/// A remote (or in-memory) object store to list and read instead of the local filesystem.
#[derive(Debug, Clone)]
pub(crate) struct StoreOrigin {
    /// The store.
    pub(crate) store: Arc<dyn ObjectStore>,
    /// How errors and DLQ payloads name the store (`s3://bucket/`, `memory://name/`).
    pub(crate) display: String,
    /// Compression of every object, or `None` to pick it by extension (`.gz`, `.zst`).
    pub(crate) codec: Option<Codec>,
}

impl Listing {
    /// Lists the files `path` (a plain path or a glob) matches; none is an error.
    pub(crate) async fn list(path: &str) -> Result<Listing> {
        let no_match = || FaucetError::source(format!("no file matches `{path}`"));
        let split = split_glob(path);
        let root = if split.prefix.is_empty() { "." } else { split.prefix };
        if split.rest.is_empty() || !std::path::Path::new(root).is_dir() {
            return Err(no_match());
        }
        let store = LocalFileSystem::new_with_prefix(root)
            .map_err(|e| FaucetError::source(format!("opening directory `{root}`: {e}")))?;

        let mut metas: Vec<ObjectMeta> = Vec::new();
        if split.glob {
            let matcher = globset::GlobBuilder::new(split.rest)
                .literal_separator(true)
                .build()
                .map_err(|e| FaucetError::config(format!("invalid glob `{path}`: {e}")))?
                .compile_matcher();
            let listed = |e: object_store::Error| FaucetError::source(format!("listing `{root}`: {e}"));
            if split.rest.contains("**") || split.rest.contains('/') {
                let mut stream = store.list(None);
                while let Some(meta) = stream.try_next().await.map_err(listed)? {
                    if matcher.is_match(meta.location.as_ref()) {
                        metas.push(meta);
                    }
                }
            } else {
                // One directory level: no need to walk the subdirectories.
                let result = store.list_with_delimiter(None).await.map_err(listed)?;
                metas.extend(result.objects.into_iter().filter(|m| matcher.is_match(m.location.as_ref())));
            }
        } else {
            let location = ObjectPath::parse(split.rest).map_err(|_| no_match())?;
            match store.head(&location).await {
                Ok(meta) => metas.push(meta),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(FaucetError::source(format!("reading `{path}`: {e}"))),
            }
        }
        if metas.is_empty() {
            return Err(no_match());
        }

        let mut files: Vec<ListedFile> = metas
            .into_iter()
            .map(|meta| {
                let display = format!("{}{}", split.prefix, meta.location.as_ref());
                ListedFile {
                    location: meta.location,
                    size: meta.size,
                    display,
                    etag: None,
                    codec: Codec::None,
                }
            })
            .collect();
        files.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(Listing { store: Arc::new(store), files, local: true })
    }

    /// Lists the objects of `origin` that `pattern` matches: a glob over whole
    /// keys (`logs/**/*.jsonl`; `*` stays within a `/` segment), else a key
    /// prefix as S3 means it (`logs/2024-` lists every key starting so; empty
    /// lists the whole bucket). None is an error.
    pub(crate) async fn list_store(origin: &StoreOrigin, pattern: &str) -> Result<Listing> {
        let shown = format!("{}{pattern}", origin.display);
        let listed = |e: object_store::Error| FaucetError::source(format!("listing `{shown}`: {e}"));
        let split = split_glob(pattern);
        let mut metas: Vec<ObjectMeta> = Vec::new();
        if split.glob {
            let matcher = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| FaucetError::config(format!("invalid glob `{shown}`: {e}")))?
                .compile_matcher();
            let root = split.prefix.trim_end_matches('/');
            let prefix = (!root.is_empty()).then(|| ObjectPath::from(root));
            let mut stream = origin.store.list(prefix.as_ref());
            while let Some(meta) = stream.try_next().await.map_err(listed)? {
                if matcher.is_match(meta.location.as_ref()) {
                    metas.push(meta);
                }
            }
        } else {
            // A string prefix, as S3 means it: list its directory, keep the keys it starts.
            let dir = pattern.rfind('/').map_or("", |slash| &pattern[..slash]);
            let prefix = (!dir.is_empty()).then(|| ObjectPath::from(dir));
            let mut stream = origin.store.list(prefix.as_ref());
            while let Some(meta) = stream.try_next().await.map_err(listed)? {
                if meta.location.as_ref().starts_with(pattern) {
                    metas.push(meta);
                }
            }
        }
        if metas.is_empty() {
            return Err(FaucetError::source(format!("no object matches `{shown}`")));
        }
        let mut files: Vec<ListedFile> = metas
            .into_iter()
            .map(|meta| {
                let name = meta.location.as_ref();
                let codec = origin.codec.unwrap_or_else(|| Codec::from_extension(name));
                let display = format!("{}{name}", origin.display);
                let etag = meta.e_tag.clone().or_else(|| Some(meta.last_modified.to_rfc3339()));
                ListedFile { location: meta.location, size: meta.size, display, etag, codec }
            })
            .collect();
        files.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(Listing { store: origin.store.clone(), files, local: false })
    }

    /// The listed files, in reading order.
    pub(crate) fn files(&self) -> &[ListedFile] {
        &self.files
    }

    /// Streams `file` from byte `offset` to its end, in chunks.
    ///
    /// `offset` must be below the file's size (a finished file is skipped,
    /// not opened).
    pub(crate) async fn read_from(&self, file: &ListedFile, offset: u64) -> Result<ByteStream> {
        if file.codec != Codec::None {
            #[cfg(feature = "object-store")]
            return self.read_decoded(file, offset).await;
            #[cfg(not(feature = "object-store"))]
            return Err(FaucetError::source(format!(
                "`{}` is compressed: decoding needs faucet-runtime's `object-store` feature",
                file.display
            )));
        }
        let options = GetOptions { range: Some(GetRange::Offset(offset)), ..Default::default() };
        let display = file.display.clone();
        let result = self
            .store
            .get_opts(&file.location, options)
            .await
            .map_err(|e| FaucetError::source(format!("reading `{display}` from byte {offset}: {e}")))?;
        let range = result.range.clone();
        Ok(match result.payload {
            GetResultPayload::File(handle, _) => file_chunks(handle, display, range),
            GetResultPayload::Stream(stream) => {
                stream.map_err(move |e| FaucetError::source(format!("reading `{display}`: {e}"))).boxed()
            }
        })
    }
}

#[cfg(feature = "object-store")]
impl Listing {
    /// Streams a compressed object decoded, skipping its first `offset`
    /// decompressed bytes (a compressed stream cannot be entered midway).
    async fn read_decoded(&self, file: &ListedFile, offset: u64) -> Result<ByteStream> {
        use async_compression::tokio::bufread::{GzipDecoder, ZstdDecoder};
        use tokio_util::io::{ReaderStream, StreamReader};

        let display = file.display.clone();
        let result = self
            .store
            .get(&file.location)
            .await
            .map_err(|e| FaucetError::source(format!("reading `{display}`: {e}")))?;
        let raw = result.into_stream().map_err(std::io::Error::other);
        let reader = StreamReader::new(raw);
        let decoded: Box<dyn tokio::io::AsyncRead + Send + Unpin> = match file.codec {
            Codec::Gzip => {
                let mut decoder = GzipDecoder::new(reader);
                decoder.multiple_members(true);
                Box::new(decoder)
            }
            Codec::Zstd => {
                let mut decoder = ZstdDecoder::new(reader);
                decoder.multiple_members(true);
                Box::new(decoder)
            }
            Codec::None => Box::new(reader),
        };
        let mut skip = offset;
        let stream = ReaderStream::with_capacity(decoded, CHUNK_SIZE)
            .map_err(move |e| FaucetError::source(format!("reading `{display}`: {e}")))
            .try_filter_map(move |mut chunk: Bytes| {
                if skip > 0 {
                    let n = skip.min(chunk.len() as u64) as usize;
                    skip -= n as u64;
                    chunk = chunk.slice(n..);
                }
                futures_util::future::ready(Ok((!chunk.is_empty()).then_some(chunk)))
            });
        Ok(stream.boxed())
    }
}

impl Codec {
    /// The codec a key's extension implies: `.gz` / `.gzip` gzip, `.zst` / `.zstd` zstd, else none.
    pub(crate) fn from_extension(name: &str) -> Codec {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".gz") || lower.ends_with(".gzip") {
            Codec::Gzip
        } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Codec::Zstd
        } else {
            Codec::None
        }
    }
}

/// A configured path split at its last `/` before the first glob character.
struct GlobSplit<'a> {
    /// The directory part, with its trailing `/` (empty for the working directory).
    prefix: &'a str,
    /// The file name, or the glob pattern relative to `prefix`.
    rest: &'a str,
    /// Whether `rest` is a pattern.
    glob: bool,
}

fn split_glob(path: &str) -> GlobSplit<'_> {
    let first_glob = path.find(['*', '?', '[', ']', '{', '}']);
    let searched = &path[..first_glob.unwrap_or(path.len())];
    let cut = searched.rfind('/').map_or(0, |slash| slash + 1);
    GlobSplit { prefix: &path[..cut], rest: &path[cut..], glob: first_glob.is_some() }
}

/// Reads an open local file in [`CHUNK_SIZE`] chunks on the blocking pool
/// (object_store's own stream uses 8 KiB chunks, which costs a blocking-pool
/// round trip every 8 KiB).
///
/// One chunk is read ahead: while the source parses chunk N, the pool already
/// reads chunk N+1, so the parser rarely waits for a hand-off between threads.
/// Memory: two chunks.
fn file_chunks(file: std::fs::File, display: String, range: Range<u64>) -> ByteStream {
    let reader = ChunkReader { file, next: range.start, end: range.end, seeked: false };
    let state = (display, Some(ReadAhead::start(reader)));
    futures_util::stream::try_unfold(state, |(display, ahead)| async move {
        let Some(ahead) = ahead else { return Ok(None) };
        let (reader, read) = ahead.finish().await?;
        let buffer = read.map_err(|e| FaucetError::source(format!("reading `{display}`: {e}")))?;
        if buffer.is_empty() {
            // The end of the range, or the file shrank since it was opened: stop at what is there.
            return Ok(None);
        }
        let next = (reader.next < reader.end).then(|| ReadAhead::start(reader));
        Ok(Some((Bytes::from(buffer), (display, next))))
    })
    .boxed()
}

/// A local file's read position within its range.
struct ChunkReader {
    file: std::fs::File,
    next: u64,
    end: u64,
    seeked: bool,
}

impl ChunkReader {
    /// Reads the next chunk (empty at the end of the range or of the file).
    fn read(&mut self) -> std::io::Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        if !self.seeked {
            self.file.seek(SeekFrom::Start(self.next))?;
            self.seeked = true;
        }
        let want = (self.end.saturating_sub(self.next)).min(CHUNK_SIZE as u64);
        let mut buffer = Vec::with_capacity(want as usize);
        (&mut self.file).take(want).read_to_end(&mut buffer)?;
        self.next += buffer.len() as u64;
        Ok(buffer)
    }
}

type ChunkRead = (ChunkReader, std::io::Result<Vec<u8>>);

/// A chunk read started on the blocking pool, or done already (outside a runtime).
enum ReadAhead {
    Running(tokio::task::JoinHandle<ChunkRead>),
    Done(ChunkRead),
}

impl ReadAhead {
    /// Starts reading `reader`'s next chunk.
    fn start(mut reader: ChunkReader) -> ReadAhead {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => ReadAhead::Running(handle.spawn_blocking(move || {
                let read = reader.read();
                (reader, read)
            })),
            Err(_) => {
                let read = reader.read();
                ReadAhead::Done((reader, read))
            }
        }
    }

    /// The chunk, once read.
    async fn finish(self) -> Result<ChunkRead> {
        match self {
            ReadAhead::Running(task) => {
                task.await.map_err(|e| FaucetError::source(format!("file read task failed: {e}")))
            }
            ReadAhead::Done(read) => Ok(read),
        }
    }
}

/// A forward-only reader over one file's chunks that tracks the byte offset
/// of the next unread byte and strips a UTF-8 BOM at the file's start.
pub(crate) struct Cursor {
    stream: Option<ByteStream>,
    chunk: Bytes,
    pos: usize,
    offset: u64,
    at_start: bool,
}

impl Cursor {
    /// A cursor over `stream`, whose first byte is at file `offset`.
    pub(crate) fn new(stream: ByteStream, offset: u64) -> Cursor {
        Cursor { stream: Some(stream), chunk: Bytes::new(), pos: 0, offset, at_start: offset == 0 }
    }

    /// A cursor with nothing to read.
    pub(crate) fn empty(offset: u64) -> Cursor {
        Cursor { stream: None, chunk: Bytes::new(), pos: 0, offset, at_start: false }
    }

    /// Makes sure some unread bytes are buffered; false at the end of the file.
    pub(crate) async fn fill(&mut self) -> Result<bool> {
        while self.pos >= self.chunk.len() {
            let Some(stream) = self.stream.as_mut() else {
                return Ok(false);
            };
            match stream.next().await {
                Some(chunk) => {
                    self.chunk = chunk?;
                    self.pos = 0;
                    if self.at_start && !self.chunk.is_empty() {
                        self.at_start = false;
                        if self.chunk.starts_with(BOM) {
                            self.consume(BOM.len());
                        }
                    }
                }
                None => {
                    self.stream = None;
                    self.chunk = Bytes::new();
                    self.pos = 0;
                }
            }
        }
        Ok(true)
    }

    /// The buffered, unread bytes (empty until [`Cursor::fill`] and at the end).
    pub(crate) fn available(&self) -> &[u8] {
        &self.chunk[self.pos..]
    }

    /// The current chunk, read and unread parts both.
    pub(crate) fn chunk(&self) -> &[u8] {
        &self.chunk
    }

    /// The index of the next unread byte in [`Cursor::chunk`].
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Marks `n` buffered bytes as read.
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(self.pos + n <= self.chunk.len());
        self.pos += n;
        self.offset += n as u64;
    }

    /// The file offset of the next unread byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }
}

/// A file opened for reading at its resume position.
pub(crate) struct OpenedFile {
    /// Index into [`Listing::files`].
    pub(crate) index: usize,
    /// The byte offset reading starts at (0, or the bookmark's offset).
    pub(crate) offset: u64,
    /// The 1-based line number at `offset`.
    pub(crate) line: u64,
    /// Reads from `offset`.
    pub(crate) cursor: Cursor,
}

/// The listed files and which one comes next.
pub(crate) struct Files {
    listing: Listing,
    next: usize,
    resume_at: Option<(u64, u64)>,
}

impl Files {
    /// Lists `path` and positions just after `bookmark` (or at the first file).
    #[cfg(test)]
    pub(crate) async fn start(path: &str, bookmark: Option<&Value>) -> Result<Files> {
        Files::start_in(None, path, bookmark, None).await
    }

    /// Like [`Files::start`], over `origin`'s objects when given, else local files.
    ///
    /// A bookmarked object whose version tag (`etag`) changed since is read
    /// again from its start: it is a new object under the same key.
    ///
    /// A sharded run's `shard` keeps the files whose name hashes to it.
    pub(crate) async fn start_in(
        origin: Option<&StoreOrigin>,
        path: &str,
        bookmark: Option<&Value>,
        shard: Option<ShardId>,
    ) -> Result<Files> {
        let mut listing = match origin {
            Some(origin) => Listing::list_store(origin, path).await?,
            None => Listing::list(path).await?,
        };
        if let Some(shard) = shard {
            listing.files.retain(|f| shard.owns_object(f.name()));
        }
        let mut files = Files { listing, next: 0, resume_at: None };
        if let Some(bookmark) = bookmark {
            let (name, offset, line) = parse_bookmark(bookmark)?;
            files.next = files.listing.files().partition_point(|f| f.name() < name);
            if let Some(file) = files.listing.files().get(files.next).filter(|f| f.name() == name) {
                let tag = bookmark.get("etag").and_then(Value::as_str);
                match (tag, file.etag.as_deref()) {
                    (Some(was), Some(now)) if was != now => {
                        tracing::warn!(object = %file.display, "the object changed since the bookmark; reading it again from its start");
                    }
                    _ => files.resume_at = Some((offset, line)),
                }
            }
        }
        Ok(files)
    }

    /// The bookmark of a position in the file at `index`: `{"file", "offset",
    /// "line"}`, plus `"etag"` for an object of a remote store.
    pub(crate) fn bookmark(&self, index: usize, offset: u64, line: u64) -> Value {
        let file = self.get(index);
        let mut value = bookmark(file.name(), offset, line);
        if let (Some(tag), Some(map)) = (&file.etag, value.as_object_mut()) {
            map.insert("etag".into(), Value::String(tag.clone()));
        }
        value
    }

    /// Whether a last line without a line terminator, ending at byte `end` of
    /// the file at `index`, is complete. An object store's objects are written
    /// whole, so theirs always is. A local file may still be written: its line
    /// counts as complete only when the file still ends at `end` and was last
    /// modified at least [`SETTLE`] ago; otherwise a writer may be in the middle of it.
    pub(crate) async fn settled(&self, index: usize, end: u64) -> Result<bool> {
        if !self.listing.local {
            return Ok(true);
        }
        let file = self.get(index);
        let meta = match self.listing.store.head(&file.location).await {
            Ok(meta) => meta,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(FaucetError::source(format!("reading `{}`: {e}", file.display))),
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let age_ms = now.as_millis() as i64 - meta.last_modified.timestamp_millis();
        Ok(meta.size == end && age_ms >= SETTLE.as_millis() as i64)
    }

    /// The listed file at `index`.
    pub(crate) fn get(&self, index: usize) -> &ListedFile {
        &self.listing.files()[index]
    }

    /// A cursor over the file at `index` from `offset`.
    pub(crate) async fn cursor(&self, index: usize, offset: u64) -> Result<Cursor> {
        let file = &self.listing.files()[index];
        if offset >= file.size() {
            return Ok(Cursor::empty(offset));
        }
        Ok(Cursor::new(self.listing.read_from(file, offset).await?, offset))
    }

    /// Opens the next file that has bytes left to read, or `None` after the last.
    pub(crate) async fn next_file(&mut self) -> Result<Option<OpenedFile>> {
        while self.next < self.listing.files().len() {
            let index = self.next;
            self.next += 1;
            let (offset, line) = self.resume_at.take().unwrap_or((0, 1));
            let file = &self.listing.files()[index];
            if offset > file.size() {
                return Err(FaucetError::source(format!(
                    "cannot resume `{}` at byte {offset}: the file has only {} byte(s) (was it replaced?)",
                    file.display,
                    file.size()
                )));
            }
            if offset == file.size() {
                continue;
            }
            let cursor = Cursor::new(self.listing.read_from(file, offset).await?, offset);
            return Ok(Some(OpenedFile { index, offset, line, cursor }));
        }
        Ok(None)
    }
}

/// The bookmark of a position: `{"file", "offset", "line"}`.
pub(crate) fn bookmark(file: &str, offset: u64, line: u64) -> Value {
    json!({ "file": file, "offset": offset, "line": line })
}

fn parse_bookmark(bookmark: &Value) -> Result<(&str, u64, u64)> {
    let invalid = || {
        FaucetError::state(format!(
            "invalid file source bookmark {bookmark}: expected {{\"file\": string, \"offset\": integer, \"line\": integer}}"
        ))
    };
    let file = bookmark.get("file").and_then(Value::as_str).ok_or_else(invalid)?;
    let offset = bookmark.get("offset").and_then(Value::as_u64).ok_or_else(invalid)?;
    let line = bookmark.get("line").and_then(Value::as_u64).filter(|&l| l > 0).ok_or_else(invalid)?;
    Ok((file, offset, line))
}

/// Reports a last line held back as incomplete: it has no line terminator and
/// its file may still be written (see [`Files::settled`]). The bookmark stays
/// before it and reading stops there, so the next run reads it once complete.
pub(crate) fn held_back(file: &str, line: u64) {
    tracing::warn!(
        file,
        line,
        "the last line has no line terminator and the file was modified less than {} s ago: \
         holding it back as incomplete; a later run reads it",
        SETTLE.as_secs()
    );
}

/// Handles one malformed input per `mode`: fails with a parse error naming
/// `file:line`, queues it for the DLQ in `page.rejects`, or counts it as skipped.
pub(crate) fn malformed<R>(
    mode: OnParseError,
    page: &mut Page<R>,
    file: &str,
    line: u64,
    raw: &[u8],
    what: &str,
) -> Result<()> {
    reject(mode, page, ErrorKind::Parse, file, line, what, || raw_payload(file, line, raw))
}

/// Handles one input that is well-formed but does not fit the record type
/// like [`malformed`] input, with a schema error ([`ErrorKind::Schema`]:
/// dead-lettered with reason `schema`); `what` names the field.
pub(crate) fn misfit<R>(
    mode: OnParseError,
    page: &mut Page<R>,
    file: &str,
    line: u64,
    raw: &[u8],
    what: &str,
) -> Result<()> {
    reject(mode, page, ErrorKind::Schema, file, line, what, || raw_payload(file, line, raw))
}

/// The DLQ payload of one input: `{"file", "line", "raw"}` (see [`put_raw`]).
fn raw_payload(file: &str, line: u64, raw: &[u8]) -> Value {
    let mut payload = json!({ "file": file, "line": line });
    put_raw(&mut payload, raw);
    payload
}

/// Puts input bytes into a DLQ payload: `raw` as text, and when they are not
/// UTF-8 (so `raw` shows the bad bytes as U+FFFD) also `raw_base64`, the exact bytes.
fn put_raw(payload: &mut Value, raw: &[u8]) {
    let Some(map) = payload.as_object_mut() else { return };
    let text = String::from_utf8_lossy(raw);
    if let std::borrow::Cow::Owned(_) = text {
        map.insert("raw_base64".into(), Value::String(crate::connectors::base64(raw)));
    }
    map.insert("raw".into(), Value::String(text.into_owned()));
}

/// Handles a record longer than `max_record_bytes` like [`malformed`] input;
/// its DLQ payload holds the record's first bytes (`excerpt`, at most
/// [`EXCERPT_BYTES`]), its length and `"truncated": true`.
pub(crate) fn oversized<R>(
    mode: OnParseError,
    page: &mut Page<R>,
    file: &str,
    line: u64,
    excerpt: &[u8],
    bytes: u64,
    max: usize,
) -> Result<()> {
    let what = format!("the record is {bytes} bytes long, more than `max_record_bytes` ({max})");
    reject(mode, page, ErrorKind::Parse, file, line, &what, || {
        // Cut at the excerpt's last whole character, not inside one.
        let whole = match std::str::from_utf8(excerpt) {
            Err(e) if e.error_len().is_none() => &excerpt[..e.valid_up_to()],
            _ => excerpt,
        };
        let mut payload = json!({ "file": file, "line": line, "bytes": bytes, "truncated": true });
        put_raw(&mut payload, whole);
        payload
    })
}

fn reject<R>(
    mode: OnParseError,
    page: &mut Page<R>,
    kind: ErrorKind,
    file: &str,
    line: u64,
    what: &str,
    payload: impl FnOnce() -> Value,
) -> Result<()> {
    let error = FaucetError::new(kind, format!("{file}:{line}: {what}"));
    match mode {
        OnParseError::Fail => Err(error),
        OnParseError::Dlq => {
            page.rejects.push(Rejected { payload: payload(), error });
            Ok(())
        }
        OnParseError::Skip => {
            tracing::warn!(file, line, error = what, "skipping input that could not be read");
            page.skipped += 1;
            Ok(())
        }
    }
}

/// Marks the file at `path` as last modified an hour ago, so a last line
/// without a terminator counts as complete (see [`Files::settled`]).
#[cfg(test)]
pub(crate) fn settle(path: &std::path::Path) {
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().append(true).open(path).unwrap().set_modified(an_hour_ago).unwrap();
}

/// `raw` without its trailing line terminator.
pub(crate) fn trim_terminator(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &std::path::Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn names(listing: &Listing) -> Vec<&str> {
        listing.files().iter().map(ListedFile::name).collect()
    }

    #[test]
    fn splits_at_the_last_slash_before_a_glob() {
        let s = split_glob("data/in/*.csv");
        assert_eq!((s.prefix, s.rest, s.glob), ("data/in/", "*.csv", true));
        let s = split_glob("/abs/logs/**/x?.jsonl");
        assert_eq!((s.prefix, s.rest, s.glob), ("/abs/logs/", "**/x?.jsonl", true));
        let s = split_glob("a.csv");
        assert_eq!((s.prefix, s.rest, s.glob), ("", "a.csv", false));
        let s = split_glob("/tmp/a.csv");
        assert_eq!((s.prefix, s.rest, s.glob), ("/tmp/", "a.csv", false));
        let s = split_glob("*.csv");
        assert_eq!((s.prefix, s.rest, s.glob), ("", "*.csv", true));
    }

    #[tokio::test]
    async fn glob_lists_matches_sorted() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.csv", "1");
        write(dir.path(), "a.csv", "22");
        write(dir.path(), "c.txt", "3");
        write(dir.path(), "sub/d.csv", "4");
        let root = dir.path().display();
        let listing = Listing::list(&format!("{root}/*.csv")).await.unwrap();
        assert_eq!(names(&listing), ["a.csv", "b.csv"]);
        assert_eq!(listing.files()[0].size(), 2);
        assert_eq!(listing.files()[0].display(), format!("{root}/a.csv"));

        let listing = Listing::list(&format!("{root}/**/*.csv")).await.unwrap();
        assert_eq!(names(&listing), ["a.csv", "b.csv", "sub/d.csv"]);
        let listing = Listing::list(&format!("{root}/sub/*.csv")).await.unwrap();
        assert_eq!(names(&listing), ["d.csv"]);
    }

    #[tokio::test]
    async fn plain_path_lists_that_file_only() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.csv", "abc");
        write(dir.path(), "a.csv.bak", "abc");
        let path = dir.path().join("a.csv");
        let listing = Listing::list(path.to_str().unwrap()).await.unwrap();
        assert_eq!(names(&listing), ["a.csv"]);
        assert_eq!(listing.files()[0].size(), 3);
    }

    #[tokio::test]
    async fn nothing_matched_is_a_source_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.csv", "abc");
        let root = dir.path().display();
        for path in [
            format!("{root}/*.jsonl"),
            format!("{root}/missing.csv"),
            format!("{root}/nodir/a.csv"),
            format!("{root}/nodir/*.csv"),
            format!("{root}/"),
        ] {
            let error = Listing::list(&path).await.unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::Source);
            assert_eq!(error.message(), format!("no file matches `{path}`"));
        }
    }

    #[tokio::test]
    async fn reads_from_an_offset_and_strips_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let big: String = (0..100_000).map(|i| format!("{i}\n")).collect();
        write(dir.path(), "big.txt", &format!("\u{feff}{big}"));
        let path = dir.path().join("big.txt");
        let files = Files::start(path.to_str().unwrap(), None).await.unwrap();

        let mut cursor = files.cursor(0, 0).await.unwrap();
        let mut all = Vec::new();
        while cursor.fill().await.unwrap() {
            all.extend_from_slice(cursor.available());
            let n = cursor.available().len();
            cursor.consume(n);
        }
        assert_eq!(all, big.as_bytes());
        assert_eq!(cursor.offset(), big.len() as u64 + 3);

        let mut cursor = files.cursor(0, 3 + 10).await.unwrap();
        assert!(cursor.fill().await.unwrap());
        assert!(cursor.available().starts_with(b"5\n6\n"));
        assert_eq!(cursor.offset(), 13);
    }

    #[tokio::test]
    async fn resume_position_skips_earlier_and_finished_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.txt", "aaa");
        write(dir.path(), "b.txt", "bbb");
        write(dir.path(), "c.txt", "ccc");
        let glob = format!("{}/*.txt", dir.path().display());

        let mut files = Files::start(&glob, Some(&bookmark("b.txt", 1, 1))).await.unwrap();
        let opened = files.next_file().await.unwrap().unwrap();
        assert_eq!((files.get(opened.index).name(), opened.offset), ("b.txt", 1));
        let opened = files.next_file().await.unwrap().unwrap();
        assert_eq!((files.get(opened.index).name(), opened.offset), ("c.txt", 0));
        assert!(files.next_file().await.unwrap().is_none());

        let mut files = Files::start(&glob, Some(&bookmark("b.txt", 3, 1))).await.unwrap();
        let opened = files.next_file().await.unwrap().unwrap();
        assert_eq!(files.get(opened.index).name(), "c.txt");

        // A file that is gone: continue with the next one in order.
        let mut files = Files::start(&glob, Some(&bookmark("bb.txt", 3, 1))).await.unwrap();
        let opened = files.next_file().await.unwrap().unwrap();
        assert_eq!(files.get(opened.index).name(), "c.txt");

        let error = Files::start(&glob, Some(&json!({"file": "a.txt"}))).await.err().unwrap();
        assert_eq!(error.kind(), crate::ErrorKind::State);
        let mut files = Files::start(&glob, Some(&bookmark("a.txt", 9, 1))).await.unwrap();
        assert_eq!(files.next_file().await.err().unwrap().kind(), crate::ErrorKind::Source);
    }
}

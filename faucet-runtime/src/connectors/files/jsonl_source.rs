//! The `jsonl` source: JSON Lines files, one record per non-blank line.
//!
//! `path` is a file or a glob; the matched files are read one after the other
//! in byte order of their path relative to the glob's directory, streamed in
//! chunks (memory stays bounded by one page plus one chunk). Blank and
//! whitespace-only lines are skipped; a UTF-8 BOM at the start of a file is
//! ignored; lines may end in `\n` or `\r\n`.
//!
//! A page holds `batch_size` inputs (records plus malformed lines, which are
//! handled per `on_parse_error`), or fewer once its lines reach
//! `limits.max_page_bytes`, and may span files. A line longer than
//! `limits.max_record_bytes` is malformed; only its first bytes are kept.
//! A page's bookmark is `{"file": <path relative to the glob's directory>,
//! "offset": <byte just after the page's last line>, "line": <1-based number
//! of the next line>}`.
//! Resuming skips the files that sort before `file`, continues `file` at
//! `offset` and then reads every later file. Files added after a run that sort
//! before its bookmark's `file` are therefore never read.
//!
//! A file may grow while it is read. A last line without its terminator is
//! read only when complete (see [`Files::settled`]); else it is held back: the
//! bookmark stays at its start, the run stops reading there and warns, and a
//! later run reads it once complete. A last line read without its terminator
//! leaves the bookmark on its line, so appended lines keep their numbers.
//!
//! Typed (a generated record struct, through [`IntoTyped`]): each line is
//! decoded by serde_json straight into the struct. A line that is not JSON is
//! malformed as above; JSON that does not fit the struct (a string where an
//! integer is declared, a missing required field) is handled per
//! `on_parse_error` the same way, but with a schema error naming the field
//! and `file:line` (reason `schema` in the DLQ).

use std::fmt;
use std::ops::Range;

use serde_json::Value;

use super::input::{self, Cursor, EXCERPT_BYTES, Files};
pub use crate::config::files::JsonlSourceConfig;
use crate::config::files::OnParseError;
use crate::error::Result;
use crate::page::Page;
use crate::record::{self, RecordType};
use crate::shard::{Plan, ShardId, Shardable};
use crate::source::Source;
use crate::typed_source::IntoTyped;

/// Reads JSON Lines files, one record per non-blank line: JSON values, or,
/// typed, records of type `R`.
pub struct JsonlSource<R = Value> {
    config: JsonlSourceConfig,
    state: Option<State>,
    /// The object store to read instead of local files (the object-store connectors).
    origin: Option<input::StoreOrigin>,
    /// Typed records of confirmed pages handed back by the driver, read into
    /// in place by later lines, so their strings are reused.
    spare: Vec<R>,
    /// The shard of a sharded run: only the files whose name hashes to it are read.
    shard: Option<ShardId>,
}

impl<R> fmt::Debug for JsonlSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlSource")
            .field("config", &self.config)
            .field("started", &self.state.is_some())
            .finish()
    }
}

impl JsonlSource {
    /// A source for `config`; nothing is opened until the first page.
    pub fn new(config: JsonlSourceConfig) -> Self {
        JsonlSource { config, state: None, origin: None, spare: Vec::new(), shard: None }
    }

    /// A source reading `config.path` (a key, prefix or glob) from an object store.
    #[cfg_attr(not(feature = "object-store"), allow(dead_code))]
    pub(crate) fn in_store(config: JsonlSourceConfig, origin: input::StoreOrigin) -> Self {
        JsonlSource { config, state: None, origin: Some(origin), spare: Vec::new(), shard: None }
    }
}

impl<R: RecordType> IntoTyped<R> for JsonlSource {
    type Typed = JsonlSource<R>;

    fn into_typed(self) -> JsonlSource<R> {
        let JsonlSource { config, state, origin, shard, .. } = self;
        JsonlSource { config, state, origin, spare: Vec::new(), shard }
    }
}

impl<R> JsonlSource<R> {
    async fn start(&mut self, bookmark: Option<&Value>) -> Result<()> {
        let files = Files::start_in(self.origin.as_ref(), &self.config.path, bookmark, self.shard).await?;
        self.state = Some(State { files, current: None, carry: Vec::new(), finished: None, stopped: false });
        Ok(())
    }
}

/// A run's position: the listed files, the open one, and where the last finished file ended.
struct State {
    files: Files,
    current: Option<OpenFile>,
    /// The partial line carried over a chunk boundary.
    carry: Vec<u8>,
    /// The end position (file index, offset, line) of the last file read to
    /// its end, or to the start of a last line held back as incomplete.
    finished: Option<(usize, u64, u64)>,
    /// Set once a last line is held back: reading stops there, so no bookmark passes it.
    stopped: bool,
}

struct OpenFile {
    index: usize,
    cursor: Cursor,
    /// The number of the next line.
    line: u64,
}

/// Where the next line lies: in the cursor's chunk or in the carry buffer.
enum Found {
    Chunk(Range<usize>),
    Carry,
}

/// A line read by [`next_line`].
enum Line<'a> {
    /// The line without its terminator.
    Whole(&'a [u8]),
    /// A line longer than the limit: its first bytes and its length.
    TooLong { excerpt: &'a [u8], bytes: u64 },
}

/// The next line of `cursor`, with the file offset where it ends when it is a
/// last line without a terminator, or `None` at the end of the file. A line longer than `max`
/// bytes is read to its end but only its first [`EXCERPT_BYTES`] are kept, so
/// `carry` never holds more than `max` bytes.
async fn next_line<'a>(
    cursor: &'a mut Cursor,
    carry: &'a mut Vec<u8>,
    max: usize,
) -> Result<Option<(Line<'a>, Option<u64>)>> {
    carry.clear();
    // The line's length so far; past `max`, `carry` keeps the excerpt only.
    let mut bytes: u64 = 0;
    let mut unterminated = None;
    let found = loop {
        if !cursor.fill().await? {
            if carry.is_empty() && bytes == 0 {
                return Ok(None);
            }
            unterminated = Some(cursor.offset());
            break Found::Carry;
        }
        let available = cursor.available();
        match memchr::memchr(b'\n', available) {
            Some(end) if bytes == 0 && end <= max => {
                let start = cursor.pos();
                cursor.consume(end + 1);
                break Found::Chunk(start..start + end);
            }
            Some(end) => {
                take(carry, &mut bytes, max, &available[..end]);
                cursor.consume(end + 1);
                break Found::Carry;
            }
            None => {
                let n = available.len();
                take(carry, &mut bytes, max, available);
                cursor.consume(n);
            }
        }
    };
    let line = match found {
        Found::Chunk(range) => &cursor.chunk()[range],
        Found::Carry if bytes > max as u64 => {
            return Ok(Some((Line::TooLong { excerpt: carry, bytes }, unterminated)));
        }
        Found::Carry => &carry[..],
    };
    Ok(Some((Line::Whole(line.strip_suffix(b"\r").unwrap_or(line)), unterminated)))
}

/// Appends `part` of a line to `carry` while the line (`bytes` long so far)
/// fits in `max`; past it, keeps only the first [`EXCERPT_BYTES`].
fn take(carry: &mut Vec<u8>, bytes: &mut u64, max: usize, part: &[u8]) {
    *bytes += part.len() as u64;
    if *bytes <= max as u64 {
        carry.extend_from_slice(part);
    } else if carry.len() < EXCERPT_BYTES {
        let room = EXCERPT_BYTES - carry.len();
        carry.extend_from_slice(&part[..room.min(part.len())]);
    } else {
        carry.truncate(EXCERPT_BYTES);
    }
}

/// Decodes one line as a record on `page`, or handles it as malformed (or,
/// typed, as not fitting the record type).
fn take_line<R: RecordType>(
    mode: OnParseError,
    page: &mut Page<R>,
    spare: &mut Vec<R>,
    file: &str,
    number: u64,
    line: &[u8],
) -> Result<()> {
    if R::SCHEMA.is_none() {
        return match serde_json::from_slice::<Value>(line) {
            Ok(record) => match R::from_json(record) {
                Ok(record) => {
                    page.records.push(record);
                    Ok(())
                }
                Err(error) => input::misfit(mode, page, file, number, line, error.message()),
            },
            Err(error) => input::malformed(mode, page, file, number, line, &not_json(line, &error)),
        };
    }
    let decoded = match spare.pop() {
        Some(mut record) => {
            let mut json = serde_json::Deserializer::from_slice(line);
            match R::deserialize_in_place(&mut json, &mut record).and_then(|()| json.end()) {
                Ok(()) => Ok(record),
                Err(error) => {
                    spare.push(record);
                    Err(error)
                }
            }
        }
        None => serde_json::from_slice::<R>(line),
    };
    match decoded {
        Ok(record) => {
            page.records.push(record);
            Ok(())
        }
        // Which: not JSON, or JSON that does not fit (then say where, which
        // the fast decode above does not track).
        Err(error) => match serde_json::from_slice::<Value>(line) {
            Err(error) => input::malformed(mode, page, file, number, line, &not_json(line, &error)),
            Ok(json) => {
                let misfit = match record::decode_json::<R>(&json) {
                    Err(misfit) => misfit,
                    Ok(_) => record::schema_error(error),
                };
                input::misfit(mode, page, file, number, line, misfit.message())
            }
        },
    }
}

/// What is wrong with a line serde_json could not parse.
fn not_json(line: &[u8], error: &serde_json::Error) -> String {
    if std::str::from_utf8(line).is_err() {
        "invalid UTF-8".to_owned()
    } else {
        format!("invalid JSON: {error}")
    }
}

impl<R: RecordType> Shardable for JsonlSource<R> {
    async fn plan(&mut self, _count: u32) -> Result<Plan> {
        Ok(Plan::Hash)
    }

    fn narrow(&mut self, shard: ShardId, plan: &Plan) -> Result<()> {
        self.shard = Some(crate::shard::hashed(self.connector_name(), shard, plan)?);
        Ok(())
    }
}

impl<R: RecordType> Source for JsonlSource<R> {
    type Record = R;

    /// Keeps typed records to read into (JSON values are not reused).
    fn recycle(&mut self, spent: Vec<R>) {
        if R::SCHEMA.is_some() {
            self.spare = spent;
        }
    }

    /// Local files are read one chunk ahead already (see `input`); a remote store's are not.
    fn prefetch(&self) -> bool {
        self.origin.is_some()
    }

    fn connector_name(&self) -> &'static str {
        "jsonl"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        self.start(bookmark.as_ref()).await
    }

    async fn next_page(&mut self) -> Result<Option<Page<R>>> {
        if self.state.is_none() {
            self.start(None).await?;
        }
        let spare = &mut self.spare;
        let Some(State { files, current, carry, finished, stopped }) = self.state.as_mut() else {
            return Ok(None);
        };
        // `0` (no batching): the whole input in one page, within `max_page_bytes`.
        let batch_size = if self.config.batch_size == 0 { usize::MAX } else { self.config.batch_size };
        let mode = self.config.on_parse_error;
        let limits = self.config.limits;
        let mut page = Page { records: Vec::with_capacity(batch_size.min(4096)), ..Page::default() };
        let mut count = 0;
        // Input bytes of the page's lines (terminators included).
        let mut page_bytes = 0;

        while !*stopped && count < batch_size && page_bytes < limits.max_page_bytes {
            let file = match current {
                Some(file) => file,
                None => match files.next_file().await? {
                    Some(opened) => current.insert(OpenFile {
                        index: opened.index,
                        cursor: opened.cursor,
                        line: opened.line,
                    }),
                    None => break,
                },
            };
            let start = file.cursor.offset();
            let read = next_line(&mut file.cursor, carry, limits.max_record_bytes).await?;
            // A last line without its terminator: complete, or still being written?
            let unterminated = read.as_ref().and_then(|(_, end)| *end);
            if let Some(end) = unterminated
                && !files.settled(file.index, end).await?
            {
                input::held_back(files.get(file.index).display(), file.line);
                *finished = Some((file.index, start, file.line));
                *current = None;
                *stopped = true;
                break;
            }
            // An unterminated last line leaves the position on its line.
            let next = |line: u64| if unterminated.is_some() { line } else { line + 1 };
            let line = match read {
                Some((Line::Whole(line), _)) => line,
                Some((Line::TooLong { excerpt, bytes }, _)) => {
                    let number = file.line;
                    file.line = next(number);
                    count += 1;
                    page_bytes += EXCERPT_BYTES;
                    let display = files.get(file.index).display();
                    input::oversized(
                        mode,
                        &mut page,
                        display,
                        number,
                        excerpt,
                        bytes,
                        limits.max_record_bytes,
                    )?;
                    continue;
                }
                None => {
                    *finished = Some((file.index, file.cursor.offset(), file.line));
                    *current = None;
                    continue;
                }
            };
            let number = file.line;
            file.line = next(number);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            count += 1;
            page_bytes += line.len() + 1;
            take_line(mode, &mut page, spare, files.get(file.index).display(), number, line)?;
        }

        if count == 0 {
            return Ok(None);
        }
        let (index, offset, line) = match current {
            Some(file) => (file.index, file.cursor.offset(), file.line),
            None => finished.expect("a page with input read at least one file"),
        };
        page.bookmark = Some(files.bookmark(index, offset, line));
        Ok(Some(page))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorKind;
    use crate::config::files::OnParseError;

    fn source(path: &std::path::Path, batch_size: usize) -> JsonlSource {
        let mut config = JsonlSourceConfig::new(path.to_str().unwrap());
        config.batch_size = batch_size;
        JsonlSource::new(config)
    }

    async fn pages(source: &mut JsonlSource, bookmark: Option<Value>) -> Result<Vec<Page>> {
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

    /// Reads everything, then resumes from every page's bookmark and checks the rest.
    async fn check_resume_from_every_page(path: &std::path::Path, batch_size: usize) -> Vec<Page> {
        let all_pages = pages(&mut source(path, batch_size), None).await.unwrap();
        let all = records(&all_pages);
        let mut seen = 0;
        for (i, page) in all_pages.iter().enumerate() {
            seen += page.records.len();
            let rest = pages(&mut source(path, batch_size), page.bookmark.clone()).await.unwrap();
            assert_eq!(records(&rest), all[seen..], "resuming after page {i}");
            let sizes: Vec<usize> = rest.iter().map(|p| p.records.len()).collect();
            let expected: Vec<usize> = all_pages[i + 1..].iter().map(|p| p.records.len()).collect();
            assert_eq!(sizes, expected, "page sizes after page {i}");
        }
        all_pages
    }

    /// `batch_size: 0` (faucet-stream's "no batching"): the whole input in one page.
    #[tokio::test]
    async fn a_batch_size_of_zero_reads_the_whole_input_into_one_page() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let lines: String = (0..2500).map(|i| format!("{{\"id\":{i}}}\n")).collect();
        std::fs::write(&path, lines).unwrap();
        let all = pages(&mut source(&path, 0), None).await.unwrap();
        assert_eq!(all.iter().map(|p| p.records.len()).collect::<Vec<_>>(), [2500]);
    }

    #[tokio::test]
    async fn pages_of_batch_size_and_resume_from_every_bookmark() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let text: String = (0..10).map(|i| format!("{{\"id\":{i}}}\n")).collect();
        std::fs::write(&path, text).unwrap();

        let all_pages = check_resume_from_every_page(&path, 3).await;
        let sizes: Vec<usize> = all_pages.iter().map(|p| p.records.len()).collect();
        assert_eq!(sizes, [3, 3, 3, 1]);
        assert_eq!(records(&all_pages), (0..10).map(|i| json!({"id": i})).collect::<Vec<_>>());
        assert_eq!(all_pages[0].bookmark, Some(json!({"file": "in.jsonl", "offset": 27, "line": 4})));
        assert_eq!(all_pages[3].bookmark, Some(json!({"file": "in.jsonl", "offset": 90, "line": 11})));
    }

    #[tokio::test]
    async fn lines_across_chunk_boundaries_resume_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        // ~600 KiB with lines of varying length, so lines straddle the 128 KiB chunks.
        let text: String =
            (0..6000).map(|i| format!("{{\"id\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i % 173))).collect();
        std::fs::write(&path, &text).unwrap();
        let all_pages = pages(&mut source(&path, 700), None).await.unwrap();
        let all = records(&all_pages);
        assert_eq!(all.len(), 6000);
        assert!(all.iter().enumerate().all(|(i, r)| r["id"] == json!(i)));
        assert_eq!(all[5999]["pad"], json!("x".repeat(5999 % 173)));
        for (i, page) in all_pages.iter().enumerate() {
            let rest = pages(&mut source(&path, 700), page.bookmark.clone()).await.unwrap();
            assert_eq!(records(&rest), all[((i + 1) * 700).min(6000)..]);
        }
    }

    #[tokio::test]
    async fn glob_reads_three_files_in_order_and_resumes_across_files() {
        let dir = tempfile::tempdir().unwrap();
        for (name, ids) in [("b.jsonl", 3..5), ("a.jsonl", 0..3), ("c.jsonl", 5..9)] {
            let text: String = ids.map(|i| format!("{{\"id\":{i}}}\n")).collect();
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        std::fs::write(dir.path().join("skip.json"), "{\"id\":99}\n").unwrap();
        let glob = dir.path().join("*.jsonl");
        let all_pages = check_resume_from_every_page(&glob, 2).await;
        assert_eq!(records(&all_pages), (0..9).map(|i| json!({"id": i})).collect::<Vec<_>>());
        let sizes: Vec<usize> = all_pages.iter().map(|p| p.records.len()).collect();
        assert_eq!(sizes, [2, 2, 2, 2, 1]);
        // The second page ends with a.jsonl's last line and b.jsonl's first.
        assert_eq!(all_pages[1].bookmark, Some(json!({"file": "b.jsonl", "offset": 9, "line": 2})));
        // Page one ends in a.jsonl.
        assert_eq!(all_pages[0].bookmark, Some(json!({"file": "a.jsonl", "offset": 18, "line": 3})));
    }

    #[tokio::test]
    async fn blank_lines_crlf_and_bom() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "\u{feff}{\"a\":1}\r\n\r\n   \n\t\r\n{\"a\":2}\r\n\n{\"a\":3}").unwrap();
        input::settle(&path);
        let all_pages = check_resume_from_every_page(&path, 1).await;
        assert_eq!(records(&all_pages), [json!({"a": 1}), json!({"a": 2}), json!({"a": 3})]);
        assert_eq!(all_pages.len(), 3);
        assert_eq!(all_pages[0].bookmark, Some(json!({"file": "in.jsonl", "offset": 12, "line": 2})));
        assert_eq!(all_pages[1].bookmark.as_ref().unwrap()["line"], json!(6));
        // The last line has no terminator: the position stays on it.
        assert_eq!(all_pages[2].bookmark.as_ref().unwrap()["line"], json!(7));
    }

    /// Reads `config` from `bookmark` to the end: the records, the DLQ
    /// payloads, and the last page's bookmark (else `bookmark` again).
    async fn run_from(
        config: &JsonlSourceConfig,
        bookmark: Option<Value>,
    ) -> (Vec<Value>, Vec<Value>, Option<Value>) {
        let mut source = JsonlSource::new(config.clone());
        let read = pages(&mut source, bookmark.clone()).await.unwrap();
        let rejects = read.iter().flat_map(|p| p.rejects.iter().map(|r| r.payload.clone())).collect();
        let last = read.last().map_or(bookmark, |p| p.bookmark.clone());
        (records(&read), rejects, last)
    }

    fn append(path: &std::path::Path, text: &str) {
        use std::io::Write;
        std::fs::File::options().append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
    }

    #[tokio::test]
    async fn a_growing_file_is_read_exactly_once_with_its_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grow.jsonl");
        let mut config = JsonlSourceConfig::new(path.to_str().unwrap());
        config.on_parse_error = OnParseError::Dlq;
        // The writer is in the middle of line 3: it is held back, not dead-lettered in pieces.
        std::fs::write(&path, "{\"id\":0}\n{\"id\":1}\n{\"id\":2,\"text\":\"te").unwrap();
        let (got, rejects, bookmark) = run_from(&config, None).await;
        assert_eq!(got, [json!({"id": 0}), json!({"id": 1})]);
        assert!(rejects.is_empty(), "{rejects:?}");
        assert_eq!(bookmark, Some(json!({"file": "grow.jsonl", "offset": 18, "line": 3})));

        // The writer completes it and appends more, the last line again half written.
        append(&path, "xttexttext\"}\n{\"id\":3}\n{\"id\":4}");
        let (got, rejects, bookmark) = run_from(&config, bookmark).await;
        assert_eq!(got, [json!({"id": 2, "text": "texttexttext"}), json!({"id": 3})]);
        assert!(rejects.is_empty(), "{rejects:?}");
        assert_eq!(bookmark.as_ref().unwrap()["line"], json!(5));

        // Left alone, the file is finished: its last line counts although it has no newline.
        input::settle(&path);
        let (got, _, bookmark) = run_from(&config, bookmark).await;
        assert_eq!(got, [json!({"id": 4})]);
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(bookmark, Some(json!({"file": "grow.jsonl", "offset": size, "line": 5})));
        let (got, _, _) = run_from(&config, bookmark.clone()).await;
        assert!(got.is_empty());

        // Appended later after all: line numbers go on from line 5's end.
        append(&path, "\nnope\n{\"id\":5}\n");
        let (got, rejects, bookmark) = run_from(&config, bookmark).await;
        assert_eq!(got, [json!({"id": 5})]);
        assert_eq!(rejects, [json!({"file": path.to_str().unwrap(), "line": 6, "raw": "nope"})]);
        assert_eq!(bookmark.unwrap()["line"], json!(8));
    }

    #[tokio::test]
    async fn a_held_back_line_stops_the_glob_before_later_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.jsonl"), "1\n2\n3").unwrap();
        std::fs::write(dir.path().join("b.jsonl"), "4\n").unwrap();
        let config = JsonlSourceConfig::new(dir.path().join("*.jsonl").to_str().unwrap());
        let (got, _, bookmark) = run_from(&config, None).await;
        assert_eq!(got, [json!(1), json!(2)]);
        assert_eq!(bookmark, Some(json!({"file": "a.jsonl", "offset": 4, "line": 3})));
        input::settle(&dir.path().join("a.jsonl"));
        let (got, _, _) = run_from(&config, bookmark).await;
        assert_eq!(got, [json!(3), json!(4)]);
    }

    #[tokio::test]
    async fn empty_file_yields_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "").unwrap();
        assert!(pages(&mut source(&path, 5), None).await.unwrap().is_empty());
        std::fs::write(&path, "\n \n").unwrap();
        assert!(pages(&mut source(&path, 5), None).await.unwrap().is_empty());
    }

    async fn malformed_pages(text: &[u8], mode: OnParseError) -> (std::path::PathBuf, Result<Vec<Page>>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.jsonl");
        std::fs::write(&path, text).unwrap();
        let mut source = source(&path, 2);
        source.config.on_parse_error = mode;
        let result = pages(&mut source, None).await;
        (path, result)
    }

    #[tokio::test]
    async fn invalid_json_fails_names_file_and_line() {
        let text = b"{\"a\":1}\n\n{\"a\":\n{\"a\":3}\n";
        let (path, result) = malformed_pages(text, OnParseError::Fail).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse);
        let prefix = format!("{}:3: invalid JSON", path.display());
        assert!(error.message().starts_with(&prefix), "{}", error.message());
    }

    #[tokio::test]
    async fn invalid_json_goes_to_the_dlq() {
        let text = b"{\"a\":1}\n\n{\"a\":\n{\"a\":3}\n";
        let (path, result) = malformed_pages(text, OnParseError::Dlq).await;
        let pages = result.unwrap();
        // The rejected line counts toward the page size.
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].records, [json!({"a": 1})]);
        assert_eq!(pages[0].rejects.len(), 1);
        let rejected = &pages[0].rejects[0];
        assert_eq!(rejected.payload, json!({"file": path.to_str().unwrap(), "line": 3, "raw": "{\"a\":"}));
        assert_eq!(rejected.error.kind(), ErrorKind::Parse);
        assert!(rejected.error.message().contains(":3: invalid JSON"));
        assert_eq!(pages[1].records, [json!({"a": 3})]);
    }

    #[tokio::test]
    async fn nesting_past_127_levels_is_malformed() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let text = format!("{}\n{}\n", nested(127), nested(128));
        let (path, result) = malformed_pages(text.as_bytes(), OnParseError::Dlq).await;
        let pages = result.unwrap();
        assert_eq!(records(&pages), [serde_json::from_str::<Value>(&nested(127)).unwrap()]);
        let rejected = &pages[0].rejects[0];
        assert_eq!(rejected.payload["line"], json!(2));
        let prefix = format!("{}:2: invalid JSON: recursion limit exceeded", path.display());
        assert!(rejected.error.message().starts_with(&prefix), "{}", rejected.error.message());
    }

    #[tokio::test]
    async fn invalid_json_is_skipped_and_counted() {
        let text = b"{\"a\":1}\nnope\n{\"a\":3}\n";
        let (_, result) = malformed_pages(text, OnParseError::Skip).await;
        let pages = result.unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].records, [json!({"a": 1})]);
        assert_eq!(pages[0].skipped, 1);
        assert!(pages[0].rejects.is_empty());
        assert_eq!(pages[1].records, [json!({"a": 3})]);
        assert_eq!(pages[1].skipped, 0);
    }

    #[tokio::test]
    async fn invalid_utf8_per_mode() {
        let text = b"{\"a\":1}\n{\"a\":\"\xff\xfe\"}\r\n{\"a\":3}\n";
        let (path, result) = malformed_pages(text, OnParseError::Fail).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse);
        assert_eq!(error.message(), format!("{}:2: invalid UTF-8", path.display()));

        let (_, result) = malformed_pages(text, OnParseError::Dlq).await;
        let pages = result.unwrap();
        assert_eq!(records(&pages), [json!({"a": 1}), json!({"a": 3})]);
        let payload = &pages[0].rejects[0].payload;
        assert_eq!(payload["line"], json!(2));
        assert_eq!(payload["raw"], json!("{\"a\":\"\u{fffd}\u{fffd}\"}"));
        // The exact bytes, without the line's `\r\n`.
        assert_eq!(payload["raw_base64"], json!(crate::connectors::base64(b"{\"a\":\"\xff\xfe\"}")));

        let (_, result) = malformed_pages(text, OnParseError::Skip).await;
        let pages = result.unwrap();
        assert_eq!(records(&pages), [json!({"a": 1}), json!({"a": 3})]);
        assert_eq!(pages.iter().map(|p| p.skipped).sum::<u64>(), 1);
    }

    #[tokio::test]
    async fn a_line_over_max_record_bytes_is_malformed_and_only_its_excerpt_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.jsonl");
        // A 600 KiB line spans several 128 KiB chunks; the short lines around it are kept.
        let long = format!("{{\"pad\":\"a{}\"}}", "é".repeat(300 * 1024));
        std::fs::write(&path, format!("{{\"a\":1}}\n{long}\r\n{{\"a\":3}}\n")).unwrap();
        let run = |mode| {
            let mut source = source(&path, 10);
            source.config.on_parse_error = mode;
            source.config.limits.max_record_bytes = 64 * 1024;
            async move { pages(&mut source, None).await }
        };

        let error = run(OnParseError::Fail).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse);
        let bytes = long.len() + 1; // the `\r` of the CRLF counts
        let expected = format!(
            "{}:2: the record is {bytes} bytes long, more than `max_record_bytes` (65536)",
            path.display()
        );
        assert_eq!(error.message(), expected);

        let pages = run(OnParseError::Dlq).await.unwrap();
        assert_eq!(records(&pages), [json!({"a": 1}), json!({"a": 3})]);
        let rejected = &pages[0].rejects[0];
        assert_eq!(rejected.payload["line"], json!(2));
        assert_eq!(rejected.payload["bytes"], json!(bytes));
        assert_eq!(rejected.payload["truncated"], json!(true));
        let raw = rejected.payload["raw"].as_str().unwrap();
        // `{"pad":"a` then 507 two-byte characters: the half character at the cut is dropped.
        assert_eq!(raw, format!("{{\"pad\":\"a{}", "é".repeat(507)));
        let resumed = super::tests::pages(&mut source(&path, 10), pages[0].bookmark.clone()).await.unwrap();
        assert!(resumed.is_empty(), "the bookmark is after the last line");

        let pages = run(OnParseError::Skip).await.unwrap();
        assert_eq!(records(&pages), [json!({"a": 1}), json!({"a": 3})]);
        assert_eq!(pages[0].skipped, 1);

        // A line of exactly the limit is fine; one byte more is not.
        std::fs::write(&path, format!("\"{}\"\n\"{}\"\n", "x".repeat(62), "x".repeat(63))).unwrap();
        let mut source = source(&path, 10);
        source.config.limits.max_record_bytes = 64;
        source.config.on_parse_error = OnParseError::Dlq;
        let read = super::tests::pages(&mut source, None).await.unwrap();
        assert_eq!(records(&read), [json!("x".repeat(62))]);
        assert_eq!(read[0].rejects[0].payload["bytes"], json!(65));
    }

    #[tokio::test]
    async fn pages_end_at_max_page_bytes_and_resume_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        // 40 lines of ~10 KiB: a 32 KiB page budget ends a page after its fourth line.
        let text: String =
            (0..40).map(|i| format!("{{\"id\":{i},\"pad\":\"{}\"}}\n", "x".repeat(10_000))).collect();
        std::fs::write(&path, &text).unwrap();
        let mut config = JsonlSourceConfig::new(path.to_str().unwrap());
        config.batch_size = 1000;
        config.limits.max_page_bytes = 32 * 1024;
        let read = |bookmark| {
            let mut source = JsonlSource::new(config.clone());
            async move { pages(&mut source, bookmark).await.unwrap() }
        };
        let all_pages = read(None).await;
        let sizes: Vec<usize> = all_pages.iter().map(|p| p.records.len()).collect();
        assert_eq!(sizes, [4; 10]);
        let all = records(&all_pages);
        assert!(all.iter().enumerate().all(|(i, r)| r["id"] == json!(i)));
        for (i, page) in all_pages.iter().enumerate() {
            assert_eq!(records(&read(page.bookmark.clone()).await), all[(i + 1) * 4..]);
        }
    }

    #[tokio::test]
    async fn no_file_matched() {
        let dir = tempfile::tempdir().unwrap();
        let glob = dir.path().join("*.jsonl");
        let error = pages(&mut source(&glob, 5), None).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Source);
        assert_eq!(error.message(), format!("no file matches `{}`", glob.display()));
    }

    #[tokio::test]
    async fn next_page_without_resume_starts_at_the_beginning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "1\n2\n").unwrap();
        let mut source = source(&path, 10);
        let page = source.next_page().await.unwrap().unwrap();
        assert_eq!(page.records, [json!(1), json!(2)]);
        assert!(source.next_page().await.unwrap().is_none());
    }
}

//! The `csv` source: CSV files (RFC 4180) as records of strings or inferred scalars.
//!
//! `path` is a file or a glob; the matched files are read one after the other
//! in byte order of their path relative to the glob's directory, streamed in
//! chunks through `csv-core` (memory stays bounded by one page plus one chunk).
//! Quoted fields may hold delimiters, doubled quotes and line breaks; rows may
//! end in `\n` or `\r\n`; empty lines are skipped; a UTF-8 BOM at the start of
//! a file is ignored.
//!
//! With `has_headers` (the default) the first row of each file names the
//! columns: a file with only a header yields nothing, and a header that repeats
//! a name, or is not UTF-8, fails the run whatever `on_parse_error` says.
//! Without it the keys are `column_0`, `column_1`, …, and (unless `flexible`)
//! every row must have as many fields as the file's first row. With `flexible`,
//! fields beyond the header get `column_<index>` keys and missing ones are left out.
//!
//! Values are JSON strings; with `infer_types`, a field that parses as an i64
//! becomes an integer, a field written as a JSON number that number with its
//! exact value (whatever its size or precision), another finite decimal
//! spelling (`+1.5`, `.5`) the nearest double, exactly `true` / `false` a
//! boolean, and anything else (the empty string included) stays a string.
//!
//! Typed (a generated record struct, through [`IntoTyped`]): each row is read
//! straight into the struct by header name, each field parsed as its member's
//! type asks (see [`text_fields`](super::text_fields): integers, exact
//! doubles, `true` / `false`, decimals as their text, and an empty field is
//! null where the schema says the field is nullable and its type has no empty
//! value); `infer_types` does not apply. A row that does not fit (a field that
//! does not parse, a missing required column) is handled per
//! `on_parse_error` like a malformed one, but with a schema error naming the
//! field and `file:line` (reason `schema` in the DLQ).
//!
//! A page holds `batch_size` rows (well-formed or not; malformed ones are
//! handled per `on_parse_error`), or fewer once its rows reach
//! `limits.max_page_bytes`, and may span files. A row longer than
//! `limits.max_record_bytes` is malformed (a header that long fails the run);
//! only its first bytes are kept. A page's bookmark is
//! `{"file": <path relative to the glob's directory>, "offset": <byte where
//! the next row starts>, "line": <its 1-based line number>}`. Resuming skips
//! the files that sort before `file`, re-reads that file's header, continues
//! it at `offset` and then reads every later file. Files added after a run that
//! sort before its bookmark's `file` are therefore never read.
//!
//! A file may grow while it is read. A last row (or a header) without its
//! terminator is read only when complete (see [`Files::settled`]); else it is
//! held back: the bookmark stays at its start, the run stops reading there and
//! warns, and a later run reads it once complete.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use csv_core::{ReadRecordResult, ReaderBuilder};
use serde_json::{Number, Value};

use super::csv_plain::PlainRows;
use super::input::{self, Cursor, EXCERPT_BYTES, Files, OpenedFile};
use super::text_fields;
pub use crate::config::files::CsvSourceConfig;
use crate::error::{FaucetError, Result};
use crate::page::Page;
use crate::record::{RecordType, SCHEMA_MISFIT};
use crate::reshape;
use crate::shard::{Plan, ShardId, Shardable};
use crate::source::Source;
use crate::typed_source::IntoTyped;

/// Reads CSV files as records of strings (or inferred scalars), or, typed,
/// as records of type `R` (see the module documentation).
pub struct CsvSource<R = Value> {
    config: CsvSourceConfig,
    state: Option<State>,
    /// The object store to read instead of local files (the object-store connectors).
    origin: Option<input::StoreOrigin>,
    /// Records of confirmed pages handed back by the driver, refilled in place
    /// by later rows (at most one page's worth).
    spare: Spare<R>,
    /// The shard of a sharded run: only the files whose name hashes to it are read.
    shard: Option<ShardId>,
}

/// Spent records to refill: JSON values, or typed records (read into in
/// place, so their strings are reused).
struct Spare<R> {
    json: Vec<Value>,
    typed: Vec<R>,
}

impl<R> Default for Spare<R> {
    fn default() -> Self {
        Spare { json: Vec::new(), typed: Vec::new() }
    }
}

impl<R> fmt::Debug for CsvSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvSource")
            .field("config", &self.config)
            .field("started", &self.state.is_some())
            .finish()
    }
}

impl CsvSource {
    /// A source for `config`; nothing is opened until the first page.
    pub fn new(config: CsvSourceConfig) -> Self {
        CsvSource { config, state: None, origin: None, spare: Spare::default(), shard: None }
    }

    /// A source reading `config.path` (a key, prefix or glob) from an object store.
    #[cfg_attr(not(feature = "object-store"), allow(dead_code))]
    pub(crate) fn in_store(config: CsvSourceConfig, origin: input::StoreOrigin) -> Self {
        CsvSource { config, state: None, origin: Some(origin), spare: Spare::default(), shard: None }
    }
}

impl<R: RecordType> IntoTyped<R> for CsvSource {
    type Typed = CsvSource<R>;

    fn into_typed(self) -> CsvSource<R> {
        let CsvSource { config, state, origin, shard, .. } = self;
        CsvSource { config, state, origin, spare: Spare::default(), shard }
    }
}

impl<R> CsvSource<R> {
    async fn start(&mut self, bookmark: Option<&Value>) -> Result<()> {
        let files = Files::start_in(self.origin.as_ref(), &self.config.path, bookmark, self.shard).await?;
        let rows = Rows::new(&self.config);
        self.state = Some(State { files, rows, current: None, finished: None, stopped: false });
        Ok(())
    }
}

/// A run's position: the listed files, the row reader, the open file, and
/// where the last finished file ended.
struct State {
    files: Files,
    rows: Rows,
    current: Option<CsvFile>,
    /// The end position (file index, offset, line) of the last file read to
    /// its end, or to the start of a last row held back as incomplete.
    finished: Option<(usize, u64, u64)>,
    /// Set once a last row is held back: reading stops there, so no bookmark passes it.
    stopped: bool,
}

/// The file being read.
struct CsvFile {
    index: usize,
    cursor: Cursor,
    /// The keys by field index: the header, then `column_<i>` as needed.
    keys: Vec<String>,
    /// The field count every row must have (unless `flexible`), once known.
    expected: Option<usize>,
    /// Whether the header just read ended the file without a terminator.
    header_unterminated: bool,
    /// Which columns feed which members of a typed record.
    layout: text_fields::Layout,
}

/// The fields' bytes a row may have to be read by [`PlainRows`].
const PLAIN_ROW_BYTES: usize = 64 * 1024;

/// A push-based row reader that keeps its buffers from row to row.
struct Rows {
    reader: csv_core::Reader,
    /// Reads plainly formed rows faster than `reader` (`None`: an unusual dialect).
    plain: Option<PlainRows>,
    /// The fields of the last row when `plain` read it, as in `out` and
    /// `ends`: `plain_filled` bytes of `plain_out`, a fixed buffer (a row
    /// whose fields do not fit is read by `reader`).
    plain_out: Vec<u8>,
    plain_filled: usize,
    plain_ends: Vec<usize>,
    /// Whether `plain` read the last row.
    read_plain: bool,
    /// The rows `plain` read, and those it left to `reader`.
    plain_read: u64,
    plain_missed: u64,
    /// The unescaped fields of the last row, back to back.
    out: Vec<u8>,
    /// The end of each field in `out`.
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    /// The last row's raw bytes read from earlier chunks (empty when the row sits in one chunk).
    raw_carry: Vec<u8>,
    /// The last row's raw bytes in the cursor's current chunk.
    raw_range: Range<usize>,
    /// The line the last row starts on.
    start_line: u64,
    /// The longest row; past it only the first [`EXCERPT_BYTES`] are kept.
    max: usize,
    /// The last row's length in bytes of input, terminator included.
    bytes: u64,
    /// Whether the last row ended at the end of the file without a terminator.
    unterminated: bool,
}

impl Rows {
    fn new(config: &CsvSourceConfig) -> Rows {
        Rows {
            reader: ReaderBuilder::new().delimiter(config.csv.delimiter).quote(config.csv.quote).build(),
            plain: PlainRows::new(config.csv.delimiter, config.csv.quote),
            plain_out: vec![0; PLAIN_ROW_BYTES],
            plain_filled: 0,
            plain_ends: Vec::new(),
            read_plain: false,
            plain_read: 0,
            plain_missed: 0,
            out: vec![0; 4096],
            ends: vec![0; 64],
            nout: 0,
            nend: 0,
            raw_carry: Vec::new(),
            raw_range: 0..0,
            start_line: 1,
            max: config.limits.max_record_bytes,
            bytes: 0,
            unterminated: false,
        }
    }

    /// Forgets the parser state, for reading a file from a row start on `line`.
    fn restart(&mut self, line: u64) {
        self.reader.reset();
        self.reader.set_line(line);
    }

    /// The line of the next unread byte.
    fn line(&self) -> u64 {
        self.reader.line()
    }

    /// Skips line terminators (empty lines, the `\n` of a `\r\n`), so the
    /// cursor sits at the first byte of the next row and `line` is its line.
    async fn skip_terminators(&mut self, cursor: &mut Cursor) -> Result<()> {
        if cursor.available().first().is_some_and(|&b| b != b'\n' && b != b'\r') {
            return Ok(());
        }
        while cursor.fill().await? {
            let available = cursor.available();
            let n = available.iter().position(|&b| b != b'\n' && b != b'\r').unwrap_or(available.len());
            let newlines = memchr::memchr_iter(b'\n', &available[..n]).count() as u64;
            self.reader.set_line(self.reader.line() + newlines);
            cursor.consume(n);
            if !cursor.available().is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// Reads the next row into the buffers; false at the end of the file.
    ///
    /// A row longer than `max` is read to its end without growing the
    /// buffers further: its fields are lost, its first bytes kept ([`Rows::oversized`]).
    async fn read(&mut self, cursor: &mut Cursor) -> Result<bool> {
        self.start_line = self.reader.line();
        self.raw_carry.clear();
        self.nout = 0;
        self.nend = 0;
        self.bytes = 0;
        cursor.fill().await?;
        let (out, ends) = (&mut self.plain_out, &mut self.plain_ends);
        self.read_plain = false;
        let plain = self.plain.as_ref().and_then(|p| p.read(cursor.available(), out, ends));
        if let Some(row) = plain.filter(|row| row.length <= self.max) {
            self.plain_read += 1;
            let start = cursor.pos();
            cursor.consume(row.taken);
            (self.read_plain, self.bytes, self.unterminated) = (true, row.length as u64, false);
            self.plain_filled = row.nout;
            self.raw_range = start..cursor.pos();
            self.reader.set_line(self.start_line + row.newlines);
            return Ok(true);
        }
        // Input whose rows are mostly not plain is left to csv_core without trying.
        self.plain_missed += 1;
        if self.plain_missed >= 64 && self.plain_missed > self.plain_read / 4 {
            self.plain = None;
        }
        let mut raw_start = cursor.pos();
        loop {
            // Empty input tells the reader the file ended.
            self.unterminated = cursor.available().is_empty();
            let (result, nin, nout, nend) = self.reader.read_record(
                cursor.available(),
                &mut self.out[self.nout..],
                &mut self.ends[self.nend..],
            );
            self.nout += nout;
            self.nend += nend;
            self.bytes += nin as u64;
            match result {
                ReadRecordResult::InputEmpty => {
                    let end = cursor.pos() + nin;
                    let part = &cursor.chunk()[raw_start..end];
                    if self.oversized() {
                        let room = EXCERPT_BYTES.saturating_sub(self.raw_carry.len());
                        self.raw_carry.extend_from_slice(&part[..room.min(part.len())]);
                        self.raw_carry.truncate(EXCERPT_BYTES);
                    } else {
                        self.raw_carry.extend_from_slice(part);
                    }
                    cursor.consume(nin);
                    cursor.fill().await?;
                    raw_start = cursor.pos();
                }
                // Past the limit the fields are dropped, not buffered.
                ReadRecordResult::OutputFull if self.oversized() => {
                    cursor.consume(nin);
                    self.nout = 0;
                }
                ReadRecordResult::OutputEndsFull if self.oversized() => {
                    cursor.consume(nin);
                    self.nend = 0;
                }
                ReadRecordResult::OutputFull => {
                    cursor.consume(nin);
                    self.out.resize(self.out.len() * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    cursor.consume(nin);
                    self.ends.resize(self.ends.len() * 2, 0);
                }
                ReadRecordResult::Record => {
                    cursor.consume(nin);
                    self.raw_range = raw_start..cursor.pos();
                    return Ok(true);
                }
                ReadRecordResult::End => return Ok(false),
            }
        }
    }

    /// True when the last row is longer than `max` (its fields are lost).
    fn oversized(&self) -> bool {
        self.bytes > self.max as u64
    }

    /// The last row's fields.
    fn fields(&self) -> RowFields<'_> {
        if self.read_plain {
            RowFields { data: &self.plain_out[..self.plain_filled], ends: &self.plain_ends }
        } else {
            RowFields { data: &self.out[..self.nout], ends: &self.ends[..self.nend] }
        }
    }

    /// The last row as it appears in the file, without its line terminator.
    /// Valid until the cursor reads further.
    /// An oversized row's first [`EXCERPT_BYTES`] only.
    fn raw<'a>(&'a mut self, cursor: &'a Cursor) -> &'a [u8] {
        let in_chunk = &cursor.chunk()[self.raw_range.clone()];
        if self.oversized() {
            let room = EXCERPT_BYTES.saturating_sub(self.raw_carry.len());
            self.raw_carry.extend_from_slice(&in_chunk[..room.min(in_chunk.len())]);
            self.raw_range = 0..0;
            return &self.raw_carry;
        }
        let raw = if self.raw_carry.is_empty() {
            in_chunk
        } else {
            self.raw_carry.extend_from_slice(in_chunk);
            self.raw_range = 0..0;
            &self.raw_carry
        };
        input::trim_terminator(raw)
    }
}

/// A row's fields, unescaped, back to back in `data`; `ends` says where each ends.
#[derive(Clone, Copy)]
struct RowFields<'a> {
    data: &'a [u8],
    ends: &'a [usize],
}

impl<'a> RowFields<'a> {
    /// The number of fields.
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The row as text, when every field is UTF-8 (no field ends inside a character).
    fn text(&self) -> Option<&'a str> {
        let text = std::str::from_utf8(self.data).ok()?;
        self.ends.iter().all(|&end| text.is_char_boundary(end)).then_some(text)
    }
}

/// Positions a newly opened file at its first data row: reads the header
/// (or, for a resumed file, re-reads it from the file's start).
async fn open(
    config: &CsvSourceConfig,
    files: &Files,
    rows: &mut Rows,
    opened: OpenedFile,
) -> Result<CsvFile> {
    let display = files.get(opened.index).display();
    let mut file = CsvFile {
        index: opened.index,
        cursor: opened.cursor,
        keys: Vec::new(),
        expected: None,
        header_unterminated: false,
        layout: text_fields::Layout::default(),
    };
    let needs_first_row = config.csv.has_headers || !config.csv.flexible;
    if needs_first_row && opened.offset > 0 {
        let mut head = files.cursor(opened.index, 0).await?;
        rows.restart(1);
        rows.skip_terminators(&mut head).await?;
        if rows.read(&mut head).await? {
            first_row(config, &mut file, rows, display)?;
        }
    }
    rows.restart(opened.line);
    rows.skip_terminators(&mut file.cursor).await?;
    if config.csv.has_headers && opened.offset == 0 && rows.read(&mut file.cursor).await? {
        first_row(config, &mut file, rows, display)?;
        file.header_unterminated = rows.unterminated;
        rows.skip_terminators(&mut file.cursor).await?;
    }
    Ok(file)
}

/// Takes the field count (and with `has_headers`, the keys) from a file's first row.
fn first_row(config: &CsvSourceConfig, file: &mut CsvFile, rows: &Rows, display: &str) -> Result<()> {
    if rows.oversized() {
        return Err(FaucetError::parse(format!(
            "{display}:{}: the first row is {} bytes long, more than `max_record_bytes` ({})",
            rows.start_line, rows.bytes, rows.max
        )));
    }
    let RowFields { data, ends } = rows.fields();
    file.expected = Some(ends.len());
    if !config.csv.has_headers {
        return Ok(());
    }
    let line = rows.start_line;
    let not_utf8 = || FaucetError::parse(format!("{display}:{line}: invalid UTF-8 in the header"));
    let text = std::str::from_utf8(data).map_err(|_| not_utf8())?;
    let mut seen = HashSet::with_capacity(ends.len());
    let mut start = 0;
    file.keys.reserve(ends.len());
    for &end in ends {
        let name = text.get(start..end).ok_or_else(not_utf8)?;
        if !seen.insert(name) {
            return Err(FaucetError::parse(format!(
                "{display}:{line}: duplicate column `{name}` in the header"
            )));
        }
        file.keys.push(name.to_owned());
        start = end;
    }
    Ok(())
}

/// Turns the row just read into a record on `page`, or handles it as
/// malformed (or, typed, as not fitting the record type).
fn take_row<R: RecordType>(
    config: &CsvSourceConfig,
    page: &mut Page<R>,
    spare: &mut Spare<R>,
    display: &str,
    rows: &mut Rows,
    file: &mut CsvFile,
) -> Result<()> {
    let fields = rows.fields();
    let count = fields.len();
    let unread = if !config.csv.flexible && count != *file.expected.get_or_insert(count) {
        Unread::Malformed(format!("expected {} field(s), found {count}", file.expected.unwrap_or_default()))
    } else {
        while file.keys.len() < count {
            let index = file.keys.len();
            file.keys.push(format!("column_{index}"));
        }
        match read_record(config, fields, file, spare) {
            Ok(record) => {
                page.records.push(record);
                return Ok(());
            }
            Err(unread) => unread,
        }
    };
    let (mode, line) = (config.on_parse_error, rows.start_line);
    let raw = rows.raw(&file.cursor);
    match unread {
        Unread::Malformed(what) => input::malformed(mode, page, display, line, raw, &what),
        Unread::Misfit(what) => input::misfit(mode, page, display, line, raw, &what),
    }
}

/// Why a row gives no record.
enum Unread {
    /// It cannot be read at all (a ragged row, invalid UTF-8).
    Malformed(String),
    /// It does not fit the record type (the message names the field).
    Misfit(String),
}

/// The record of one row: untyped, a JSON object ([`build_record`]); typed,
/// the struct read straight from the fields' text.
fn read_record<R: RecordType>(
    config: &CsvSourceConfig,
    fields: RowFields<'_>,
    file: &mut CsvFile,
    spare: &mut Spare<R>,
) -> std::result::Result<R, Unread> {
    let not_utf8 = || Unread::Malformed("invalid UTF-8".to_owned());
    let RowFields { data, ends } = fields;
    let Some(schema) = R::SCHEMA else {
        let record = build_record(data, ends, &file.keys, config.csv.infer_types, spare.json.pop());
        return R::from_json(record.ok_or_else(not_utf8)?)
            .map_err(|e| Unread::Misfit(e.message().to_owned()));
    };
    let text = fields.text().ok_or_else(not_utf8)?;
    let (keys, layout) = (&file.keys, &mut file.layout);
    let read = match spare.typed.pop() {
        Some(mut record) => {
            match text_fields::read_row_into(text, ends, keys, layout, Some(schema), &mut record) {
                Ok(()) => Ok(record),
                Err(error) => {
                    spare.typed.push(record);
                    Err(error)
                }
            }
        }
        None => text_fields::read_row(text, ends, keys, layout, Some(schema)),
    };
    read.map_err(|e| Unread::Misfit(format!("{SCHEMA_MISFIT}{e}")))
}

/// The record of one row, or `None` when a field is not UTF-8.
///
/// `spare` is a record of an earlier, confirmed page: when it has exactly this
/// row's keys in order (the usual case), its values are overwritten in place,
/// so the row costs no allocation for its keys, its map or (mostly) its strings.
fn build_record(
    data: &[u8],
    ends: &[usize],
    keys: &[String],
    infer_types: bool,
    spare: Option<Value>,
) -> Option<Value> {
    let text = std::str::from_utf8(data).ok()?;
    let keys = &keys[..ends.len()];
    let mut map = reshape::map_with_keys(spare, keys.iter());
    let mut start = 0;
    if map.len() == keys.len() {
        for (value, &end) in map.values_mut().zip(ends) {
            set_field(value, text.get(start..end)?, infer_types);
            start = end;
        }
    } else {
        // A generated `column_N` equal to a header name: the later field wins.
        for (key, &end) in keys.iter().zip(ends) {
            let mut value = Value::Null;
            set_field(&mut value, text.get(start..end)?, infer_types);
            map.insert(key.clone(), value);
            start = end;
        }
    }
    Some(Value::Object(map))
}

/// Stores `field` in `value`, as a string or (with `infer_types`) as the
/// scalar it spells, reusing the string `value` already holds.
fn set_field(value: &mut Value, field: &str, infer_types: bool) {
    if infer_types && let Some(scalar) = infer(field) {
        *value = scalar;
    } else if let Value::String(text) = value {
        text.clear();
        text.push_str(field);
    } else {
        *value = Value::String(field.to_owned());
    }
}

/// A field as an integer, a float or a boolean; `None` when it stays a string.
/// A field written as a JSON number keeps its exact value, whatever its size
/// or precision; other float spellings (`+1.5`, `.5`, `1.`) become the nearest double.
fn infer(field: &str) -> Option<Value> {
    match field.as_bytes().first() {
        Some(b'0'..=b'9' | b'-' | b'+' | b'.') => infer_number(field),
        _ if field == "true" => Some(Value::Bool(true)),
        _ if field == "false" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// A field that starts like a number as that number, or `None`. Kept out of
/// line so the per-field code around it stays small.
#[inline(never)]
fn infer_number(field: &str) -> Option<Value> {
    if let Ok(int) = field.parse::<i64>() {
        return Some(Value::from(int));
    }
    let numeric = field.bytes().all(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'));
    if !numeric {
        return None;
    }
    if let Ok(exact) = field.parse::<Number>() {
        return Some(Value::Number(exact));
    }
    field.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number)
}

impl<R: RecordType> Shardable for CsvSource<R> {
    async fn plan(&mut self, _count: u32) -> Result<Plan> {
        Ok(Plan::Hash)
    }

    fn narrow(&mut self, shard: ShardId, plan: &Plan) -> Result<()> {
        self.shard = Some(crate::shard::hashed(self.connector_name(), shard, plan)?);
        Ok(())
    }
}

impl<R: RecordType> Source for CsvSource<R> {
    type Record = R;

    /// Local files are read one chunk ahead already (see `input`); a remote store's are not.
    fn prefetch(&self) -> bool {
        self.origin.is_some()
    }

    fn connector_name(&self) -> &'static str {
        "csv"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        self.start(bookmark.as_ref()).await
    }

    fn recycle(&mut self, spent: Vec<R>) {
        match R::into_json_vec(spent) {
            Ok(json) => self.spare.json = json,
            Err(typed) => self.spare.typed = typed,
        }
    }

    async fn next_page(&mut self) -> Result<Option<Page<R>>> {
        if self.state.is_none() {
            self.start(None).await?;
        }
        let config = &self.config;
        let spare = &mut self.spare;
        let Some(State { files, rows, current, finished, stopped }) = self.state.as_mut() else {
            return Ok(None);
        };
        // `0` (no batching): the whole input in one page, within `max_page_bytes`.
        let batch_size = if config.batch_size == 0 { usize::MAX } else { config.batch_size };
        let mut page = Page { records: Vec::with_capacity(batch_size.min(4096)), ..Page::default() };
        let mut count = 0;
        // Input bytes of the page's rows.
        let mut page_bytes = 0;

        while !*stopped && count < batch_size && page_bytes < config.limits.max_page_bytes {
            let file = match current {
                Some(file) => file,
                None => match files.next_file().await? {
                    Some(opened) => current.insert(open(config, files, rows, opened).await?),
                    None => break,
                },
            };
            let start = (file.cursor.offset(), rows.line());
            let more = rows.read(&mut file.cursor).await?;
            // A last row (or a header) without its terminator: complete, or still being written?
            let unterminated = if more { rows.unterminated } else { file.header_unterminated };
            if unterminated && !files.settled(file.index, file.cursor.offset()).await? {
                let (offset, line) = if more { start } else { (0, 1) };
                input::held_back(files.get(file.index).display(), line);
                *finished = Some((file.index, offset, line));
                *current = None;
                *stopped = true;
                break;
            }
            if !more {
                *finished = Some((file.index, file.cursor.offset(), rows.line()));
                *current = None;
                continue;
            }
            count += 1;
            let display = files.get(file.index).display();
            if rows.oversized() {
                // Only its excerpt is held.
                page_bytes += EXCERPT_BYTES;
                let (line, bytes, max) = (rows.start_line, rows.bytes, rows.max);
                let excerpt = rows.raw(&file.cursor);
                input::oversized(config.on_parse_error, &mut page, display, line, excerpt, bytes, max)?;
            } else {
                page_bytes += rows.bytes as usize;
                take_row(config, &mut page, spare, display, rows, file)?;
            }
            rows.skip_terminators(&mut file.cursor).await?;
        }

        if count == 0 {
            return Ok(None);
        }
        let (index, offset, line) = match current {
            Some(file) => (file.index, file.cursor.offset(), rows.line()),
            None => finished.expect("a page with rows read at least one file"),
        };
        page.bookmark = Some(files.bookmark(index, offset, line));
        Ok(Some(page))
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use super::*;
    use crate::ErrorKind;
    use crate::config::files::OnParseError;

    fn config(path: &Path, batch_size: usize) -> CsvSourceConfig {
        let mut config = CsvSourceConfig::new(path.to_str().unwrap());
        config.batch_size = batch_size;
        config
    }

    async fn pages(config: &CsvSourceConfig, bookmark: Option<Value>) -> Result<Vec<Page>> {
        let mut source = CsvSource::new(config.clone());
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

    fn sizes(pages: &[Page]) -> Vec<usize> {
        pages.iter().map(|p| p.records.len() + p.rejects.len() + p.skipped as usize).collect()
    }

    /// Reads everything, then resumes from every page's bookmark and checks the rest.
    async fn check_resume_from_every_page(config: &CsvSourceConfig) -> Vec<Page> {
        let all_pages = pages(config, None).await.unwrap();
        let all = records(&all_pages);
        let mut seen = 0;
        for (i, page) in all_pages.iter().enumerate() {
            seen += page.records.len();
            let rest = pages(config, page.bookmark.clone()).await.unwrap();
            assert_eq!(records(&rest), all[seen..], "resuming after page {i}");
            assert_eq!(sizes(&rest), sizes(&all_pages[i + 1..]), "page sizes after page {i}");
        }
        all_pages
    }

    fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[tokio::test]
    async fn recycled_records_are_refilled_with_the_same_result() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("id,name,score\n");
        for i in 0..25 {
            text.push_str(&format!("{i},name {i},{}\n", if i % 3 == 0 { "x" } else { "1.5" }));
        }
        let path = write(dir.path(), "in.csv", text);
        for infer_types in [false, true] {
            let mut config = config(&path, 4);
            config.csv.infer_types = infer_types;
            let fresh = records(&pages(&config, None).await.unwrap());
            let mut source = CsvSource::new(config.clone());
            source.resume(None).await.unwrap();
            let mut recycled = Vec::new();
            let mut round = 0;
            while let Some(page) = source.next_page().await.unwrap() {
                recycled.extend(page.records.iter().cloned());
                // Hand back matching maps, maps of another shape and non-objects in turn.
                let spent = match round % 3 {
                    0 => page.records,
                    1 => page.records.into_iter().map(|_| json!({"other": "shape"})).collect(),
                    _ => page.records.into_iter().map(|_| json!("not an object")).collect(),
                };
                source.recycle(spent);
                round += 1;
            }
            assert_eq!(recycled, fresh, "infer_types = {infer_types}");
        }
    }

    #[tokio::test]
    async fn pages_of_batch_size_and_resume_from_every_bookmark() {
        let dir = tempfile::tempdir().unwrap();
        let text: String =
            std::iter::once("id,name\n".to_owned()).chain((0..10).map(|i| format!("{i},n{i}\n"))).collect();
        let path = write(dir.path(), "in.csv", text);
        let all_pages = check_resume_from_every_page(&config(&path, 4)).await;
        assert_eq!(sizes(&all_pages), [4, 4, 2]);
        let expected: Vec<Value> =
            (0..10).map(|i| json!({"id": i.to_string(), "name": format!("n{i}")})).collect();
        assert_eq!(records(&all_pages), expected);
        assert_eq!(all_pages[0].bookmark, Some(json!({"file": "in.csv", "offset": 28, "line": 6})));
        assert_eq!(all_pages[2].bookmark, Some(json!({"file": "in.csv", "offset": 58, "line": 12})));
    }

    #[tokio::test]
    async fn rows_across_chunk_boundaries_resume_exactly() {
        let dir = tempfile::tempdir().unwrap();
        // ~700 KiB, with quoted fields holding newlines, so rows straddle the 128 KiB chunks.
        let mut text = String::from("id,text,n\r\n");
        for i in 0..8000 {
            text.push_str(&format!("{i},\"{}\nsecond \"\"line\"\"\",{}\r\n", "y".repeat(i % 97), i * 2));
        }
        let path = write(dir.path(), "big.csv", &text);
        let config = config(&path, 900);
        let all_pages = pages(&config, None).await.unwrap();
        let all = records(&all_pages);
        assert_eq!(all.len(), 8000);
        for (i, record) in all.iter().enumerate() {
            let text = format!("{}\nsecond \"line\"", "y".repeat(i % 97));
            assert_eq!(record, &json!({"id": i.to_string(), "text": text, "n": (i * 2).to_string()}));
        }
        let last = all_pages.last().unwrap().bookmark.clone().unwrap();
        assert_eq!(last["offset"], json!(text.len()));
        assert_eq!(last["line"], json!(1 + 2 * 8000 + 1));
        for (i, page) in all_pages.iter().enumerate() {
            let rest = pages(&config, page.bookmark.clone()).await.unwrap();
            assert_eq!(records(&rest), all[((i + 1) * 900).min(8000)..], "resuming after page {i}");
        }
    }

    #[tokio::test]
    async fn glob_reads_three_files_in_order_and_resumes_across_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.csv", "id\n3\n4\n");
        write(dir.path(), "a.csv", "id\n0\n1\n2\n");
        write(dir.path(), "c.csv", "id\n5\n6\n7\n8\n");
        write(dir.path(), "d.txt", "id\n99\n");
        let config = config(&dir.path().join("*.csv"), 2);
        let all_pages = check_resume_from_every_page(&config).await;
        let ids: Vec<Value> = records(&all_pages).iter().map(|r| r["id"].clone()).collect();
        assert_eq!(ids, (0..9).map(|i| json!(i.to_string())).collect::<Vec<_>>());
        assert_eq!(sizes(&all_pages), [2, 2, 2, 2, 1]);
        assert_eq!(all_pages[0].bookmark, Some(json!({"file": "a.csv", "offset": 7, "line": 4})));
        assert_eq!(all_pages[1].bookmark, Some(json!({"file": "b.csv", "offset": 5, "line": 3})));
        assert_eq!(all_pages[4].bookmark, Some(json!({"file": "c.csv", "offset": 11, "line": 6})));
    }

    #[tokio::test]
    async fn crlf_bom_blank_lines_and_quoted_newlines() {
        let dir = tempfile::tempdir().unwrap();
        let path =
            write(dir.path(), "in.csv", "\u{feff}a,b\r\n1,\"x\r\ny, \"\"q\"\"\"\r\n\r\n\r\n2,\"\"\r\n3,last");
        input::settle(&path);
        let all_pages = check_resume_from_every_page(&config(&path, 1)).await;
        assert_eq!(
            records(&all_pages),
            [
                json!({"a": "1", "b": "x\r\ny, \"q\""}),
                json!({"a": "2", "b": ""}),
                json!({"a": "3", "b": "last"})
            ]
        );
        assert_eq!(all_pages[0].bookmark, Some(json!({"file": "in.csv", "offset": 29, "line": 6})));
        assert_eq!(all_pages[1].bookmark.as_ref().unwrap()["line"], json!(7));
        assert_eq!(all_pages[2].bookmark.as_ref().unwrap()["line"], json!(7));
    }

    fn append(path: &Path, text: &str) {
        use std::io::Write;
        std::fs::File::options().append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
    }

    /// Reads `config` from `bookmark` to the end: the records, the DLQ
    /// payloads, and the last page's bookmark (else `bookmark` again).
    async fn run_from(
        config: &CsvSourceConfig,
        bookmark: Option<Value>,
    ) -> (Vec<Value>, Vec<Value>, Option<Value>) {
        let read = pages(config, bookmark.clone()).await.unwrap();
        let rejects = read.iter().flat_map(|p| p.rejects.iter().map(|r| r.payload.clone())).collect();
        let last = read.last().map_or(bookmark, |p| p.bookmark.clone());
        (records(&read), rejects, last)
    }

    #[tokio::test]
    async fn a_growing_file_is_read_exactly_once_with_its_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        // The writer is in the middle of the header: nothing is read, no bookmark.
        let path = write(dir.path(), "grow.csv", "id,te");
        let mut config = config(&path, 2);
        config.on_parse_error = OnParseError::Dlq;
        let (got, _, bookmark) = run_from(&config, None).await;
        assert!(got.is_empty() && bookmark.is_none());

        // Now in the middle of row 2 (line 4): it is held back, not read as `te`.
        append(&path, "xt\n0,a\n1,b\n2,te");
        let (got, rejects, bookmark) = run_from(&config, None).await;
        assert_eq!(got, [json!({"id": "0", "text": "a"}), json!({"id": "1", "text": "b"})]);
        assert!(rejects.is_empty());
        assert_eq!(bookmark, Some(json!({"file": "grow.csv", "offset": 16, "line": 4})));

        // Completed, with more rows, the last one half written again.
        append(&path, "xttexttext\n3,c\n4,d");
        let (got, rejects, bookmark) = run_from(&config, bookmark).await;
        assert_eq!(got, [json!({"id": "2", "text": "texttexttext"}), json!({"id": "3", "text": "c"})]);
        assert!(rejects.is_empty());
        assert_eq!(bookmark.as_ref().unwrap()["line"], json!(6));

        // Left alone, the file is finished: its last row counts although it has no newline.
        input::settle(&path);
        let (got, _, bookmark) = run_from(&config, bookmark).await;
        assert_eq!(got, [json!({"id": "4", "text": "d"})]);
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(bookmark, Some(json!({"file": "grow.csv", "offset": size, "line": 6})));

        // Appended later after all: line numbers go on from line 6's end.
        append(&path, "\n5,\"x\ny\"\n6,e,extra\n");
        let (got, rejects, bookmark) = run_from(&config, bookmark).await;
        assert_eq!(got, [json!({"id": "5", "text": "x\ny"})]);
        assert_eq!(rejects, [json!({"file": path.to_str().unwrap(), "line": 9, "raw": "6,e,extra"})]);
        assert_eq!(bookmark.unwrap()["line"], json!(10));
    }

    #[tokio::test]
    async fn header_only_and_empty_files_yield_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "h.csv", "a,b,c\n");
        assert!(pages(&config(&path, 5), None).await.unwrap().is_empty());
        let path = write(dir.path(), "h2.csv", "\u{feff}a,b,c");
        assert!(pages(&config(&path, 5), None).await.unwrap().is_empty());
        let path = write(dir.path(), "e.csv", "");
        assert!(pages(&config(&path, 5), None).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn without_headers_keys_are_column_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "in.csv", "1;\"a;b\"\n2;c\n3;d\n");
        let mut config = config(&path, 2);
        config.csv.has_headers = false;
        config.csv.delimiter = b';';
        let all_pages = check_resume_from_every_page(&config).await;
        assert_eq!(
            records(&all_pages),
            [
                json!({"column_0": "1", "column_1": "a;b"}),
                json!({"column_0": "2", "column_1": "c"}),
                json!({"column_0": "3", "column_1": "d"}),
            ]
        );
        // The first row fixes the width: a ragged row after a resume is still caught.
        write(dir.path(), "in.csv", "1,2\n3,4\n5\n");
        config.csv.delimiter = b',';
        config.batch_size = 1;
        let first = pages(&config, None).await.unwrap_err();
        let resumed =
            pages(&config, Some(json!({"file": "in.csv", "offset": 8, "line": 3}))).await.unwrap_err();
        assert_eq!(first, resumed);
        assert!(first.message().ends_with("in.csv:3: expected 2 field(s), found 1"), "{first}");
    }

    #[tokio::test]
    async fn flexible_rows_keep_what_they_have() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "in.csv", "a,b\n1\n1,2,3\n");
        let mut config = config(&path, 10);
        config.csv.flexible = true;
        let all = records(&pages(&config, None).await.unwrap());
        assert_eq!(all, [json!({"a": "1"}), json!({"a": "1", "b": "2", "column_2": "3"})]);
    }

    #[tokio::test]
    async fn infer_types_makes_numbers_and_booleans() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "in.csv",
            "i,neg,f,e,t,f2,s,empty,big,inf,nan,zip,huge,half,plus\n\
             42,-7,3.5,1e3,true,false,True,,1e400,inf,NaN,abc,123456789012345678901234567890,.5,+1.25\n",
        );
        let mut config = config(&path, 10);
        config.csv.infer_types = true;
        let all = records(&pages(&config, None).await.unwrap());
        let exact = |text: &str| Value::Number(text.parse().unwrap());
        assert_eq!(
            all,
            [json!({
                "i": 42, "neg": -7, "f": 3.5, "e": exact("1e3"), "t": true, "f2": false, "s": "True",
                "empty": "", "big": exact("1e400"), "inf": "inf", "nan": "NaN", "zip": "abc",
                "huge": exact("123456789012345678901234567890"), "half": 0.5, "plus": 1.25,
            })]
        );
        assert!(all[0]["i"].is_i64());
        assert!(all[0]["e"].is_f64());
        // Numbers keep the text they were written in (a positive exponent gains its sign).
        assert_eq!(all[0]["huge"].to_string(), "123456789012345678901234567890");
        assert_eq!(all[0]["e"].to_string(), "1e+3");
    }

    #[tokio::test]
    async fn duplicate_header_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "dup.csv", "a,b,a\n1,2,3\n");
        for mode in [OnParseError::Fail, OnParseError::Dlq, OnParseError::Skip] {
            let mut config = config(&path, 10);
            config.on_parse_error = mode;
            let error = pages(&config, None).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Parse);
            assert_eq!(error.message(), format!("{}:1: duplicate column `a` in the header", path.display()));
        }
    }

    /// Three data rows (lines 2, 3-4 and 5) where the second is malformed.
    async fn malformed(bad_row: &[u8], mode: OnParseError) -> (PathBuf, Result<Vec<Page>>) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = b"a,b\n1,\"x\ny\"\n".to_vec();
        text.extend_from_slice(bad_row);
        text.extend_from_slice(b"\n3,z\n");
        let path = write(dir.path(), "bad.csv", text);
        let mut config = config(&path, 2);
        config.on_parse_error = mode;
        let result = pages(&config, None).await;
        (path, result)
    }

    #[tokio::test]
    async fn ragged_row_per_mode() {
        let (path, result) = malformed(b"2,y,extra", OnParseError::Fail).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse);
        assert_eq!(error.message(), format!("{}:4: expected 2 field(s), found 3", path.display()));

        let (path, result) = malformed(b"2,y,extra", OnParseError::Dlq).await;
        let pages = result.unwrap();
        assert_eq!(sizes(&pages), [2, 1]);
        assert_eq!(records(&pages), [json!({"a": "1", "b": "x\ny"}), json!({"a": "3", "b": "z"})]);
        let rejected = &pages[0].rejects[0];
        assert_eq!(rejected.payload, json!({"file": path.to_str().unwrap(), "line": 4, "raw": "2,y,extra"}));
        assert_eq!(rejected.error.message(), format!("{}:4: expected 2 field(s), found 3", path.display()));

        let (_, result) = malformed(b"2", OnParseError::Skip).await;
        let pages = result.unwrap();
        assert_eq!(sizes(&pages), [2, 1]);
        assert_eq!(pages[0].skipped, 1);
        assert_eq!(records(&pages), [json!({"a": "1", "b": "x\ny"}), json!({"a": "3", "b": "z"})]);
    }

    #[tokio::test]
    async fn invalid_utf8_per_mode() {
        let (path, result) = malformed(b"2,\"\xff\"\"\"", OnParseError::Fail).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse);
        assert_eq!(error.message(), format!("{}:4: invalid UTF-8", path.display()));

        let (_, result) = malformed(b"2,\"\xff\"\"\"\r", OnParseError::Dlq).await;
        let pages = result.unwrap();
        assert_eq!(records(&pages), [json!({"a": "1", "b": "x\ny"}), json!({"a": "3", "b": "z"})]);
        assert_eq!(pages[0].rejects[0].payload["raw"], json!("2,\"\u{fffd}\"\"\""));
        assert_eq!(
            pages[0].rejects[0].payload["raw_base64"],
            json!(crate::connectors::base64(b"2,\"\xff\"\"\""))
        );
        assert_eq!(pages[0].rejects[0].payload["line"], json!(4));

        let (_, result) = malformed(b"\xc3,\xa9", OnParseError::Skip).await;
        let pages = result.unwrap();
        assert_eq!(pages.iter().map(|p| p.skipped).sum::<u64>(), 1);
        assert_eq!(records(&pages).len(), 2);
    }

    #[tokio::test]
    async fn a_row_over_max_record_bytes_is_malformed_and_only_its_excerpt_kept() {
        let dir = tempfile::tempdir().unwrap();
        // A 500 KiB quoted field with line breaks spans several 128 KiB chunks.
        let long = format!("2,\"{}\"", "ab\ncd,".repeat(80 * 1024));
        let path = write(dir.path(), "long.csv", format!("a,b\n1,x\n{long}\n3,z\n"));
        let run = |mode| {
            let mut config = config(&path, 10);
            config.on_parse_error = mode;
            config.limits.max_record_bytes = 64 * 1024;
            async move { pages(&config, None).await }
        };
        let bytes = long.len() + 1; // with its `\n`

        let error = run(OnParseError::Fail).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse);
        let expected = format!(
            "{}:3: the record is {bytes} bytes long, more than `max_record_bytes` (65536)",
            path.display()
        );
        assert_eq!(error.message(), expected);

        let pages = run(OnParseError::Dlq).await.unwrap();
        assert_eq!(records(&pages), [json!({"a": "1", "b": "x"}), json!({"a": "3", "b": "z"})]);
        let payload = &pages[0].rejects[0].payload;
        assert_eq!(payload["line"], json!(3));
        assert_eq!(payload["bytes"], json!(bytes));
        assert_eq!(payload["truncated"], json!(true));
        assert_eq!(payload["raw"].as_str().unwrap(), &long[..EXCERPT_BYTES]);
        // Line numbers go on after it: the field's line breaks count.
        let bookmark = pages[0].bookmark.clone().unwrap();
        assert_eq!(bookmark["line"], json!(3 + 80 * 1024 + 2));

        let pages = run(OnParseError::Skip).await.unwrap();
        assert_eq!(records(&pages).len(), 2);
        assert_eq!(pages[0].skipped, 1);

        // A header over the limit fails whatever `on_parse_error` says.
        let path = write(dir.path(), "wide.csv", format!("{}\n1\n", "h".repeat(100)));
        let mut config = config(&path, 10);
        config.limits.max_record_bytes = 64;
        config.on_parse_error = OnParseError::Skip;
        let error = super::tests::pages(&config, None).await.unwrap_err();
        assert!(
            error
                .message()
                .ends_with(":1: the first row is 101 bytes long, more than `max_record_bytes` (64)")
        );
    }

    #[tokio::test]
    async fn pages_end_at_max_page_bytes_and_resume_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = std::iter::once("id,pad\n".to_owned())
            .chain((0..40).map(|i| format!("{i},{}\n", "x".repeat(10_000))))
            .collect();
        let path = write(dir.path(), "big.csv", text);
        let mut config = config(&path, 1000);
        config.limits.max_page_bytes = 32 * 1024;
        let all_pages = check_resume_from_every_page(&config).await;
        assert_eq!(sizes(&all_pages), [4; 10]);
        assert_eq!(records(&all_pages)[39]["id"], json!("39"));
    }

    #[tokio::test]
    async fn no_file_matched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.csv");
        let error = pages(&config(&path, 5), None).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Source);
        assert_eq!(error.message(), format!("no file matches `{}`", path.display()));
    }
}

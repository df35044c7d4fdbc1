//! A fast path of the `csv` source's row reader: a plainly formed row read
//! with byte scans instead of csv_core's state machine, giving exactly the
//! fields csv_core would.
//!
//! csv_core spends about eighteen instructions a byte; most rows are plain:
//! each field unquoted (with no quote in it), or quoted and closed right
//! before a delimiter or the row's end, and the whole row in the chunk at
//! hand. Such a row is split here; anything else (a quote inside an
//! unquoted field, text after a closing quote, a row running past the chunk
//! or past the end of the file) is left to csv_core, from the row's start.

/// What a byte is to an unquoted field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Plain,
    Delimiter,
    Terminator,
    Quote,
}

/// The fast reader of one CSV dialect.
pub(super) struct PlainRows {
    delimiter: u8,
    quote: u8,
    classes: [Class; 256],
}

/// A row read by [`PlainRows::read`].
#[derive(Debug, PartialEq)]
pub(super) struct PlainRow {
    /// The row's length in bytes of input, with its first terminator byte
    /// (as csv_core counts it).
    pub(super) length: usize,
    /// The input bytes it took: `length`, and the `\n` of a `\r\n`.
    pub(super) taken: usize,
    /// The line breaks among them.
    pub(super) newlines: u64,
    /// The bytes of `out` its fields fill.
    pub(super) nout: usize,
}

impl PlainRows {
    /// The fast reader for `delimiter` and `quote`, or `None` when the
    /// dialect is unusual enough to leave every row to csv_core.
    pub(super) fn new(delimiter: u8, quote: u8) -> Option<PlainRows> {
        let special = [b'\r', b'\n'];
        if delimiter == quote || special.contains(&delimiter) || special.contains(&quote) {
            return None;
        }
        let mut classes = [Class::Plain; 256];
        classes[usize::from(delimiter)] = Class::Delimiter;
        classes[usize::from(quote)] = Class::Quote;
        classes[usize::from(b'\r')] = Class::Terminator;
        classes[usize::from(b'\n')] = Class::Terminator;
        Some(PlainRows { delimiter, quote, classes })
    }

    /// Reads the row at the start of `input` (which starts a row: not a line
    /// terminator) into `out` (its fields' bytes back to back, doubled quotes
    /// undone) and `ends` (where each field ends in `out`); `None` when the
    /// row is not plain, or its fields do not fit `out` (nothing is taken then).
    pub(super) fn read(&self, input: &[u8], out: &mut [u8], ends: &mut Vec<usize>) -> Option<PlainRow> {
        ends.clear();
        let mut out = Out { bytes: out, filled: 0 };
        if matches!(input.first(), None | Some(b'\r' | b'\n')) {
            return None;
        }
        let (delimiter, quote) = (self.delimiter, self.quote);
        let unquoted_stop = |word: u64| {
            lanes_equal(word, delimiter)
                | lanes_equal(word, quote)
                | lanes_equal(word, b'\r')
                | lanes_equal(word, b'\n')
        };
        let quoted_stop = |word: u64| lanes_equal(word, quote) | lanes_equal(word, b'\n');
        let mut newlines = 0;
        let mut at = 0;
        loop {
            // One field, starting at `at`; `end` is the byte after it.
            let end = if input[at] == quote {
                let mut from = at + 1;
                loop {
                    let stop = out.copy_until(input, from, quoted_stop, |b| b == quote || b == b'\n')?;
                    if input[stop] == b'\n' {
                        newlines += 1;
                        out.push(b'\n')?;
                        from = stop + 1;
                        continue;
                    }
                    match input.get(stop + 1) {
                        // A doubled quote is one quote of the text.
                        Some(&b) if b == quote => {
                            out.push(b)?;
                            from = stop + 2;
                        }
                        Some(&b) if self.classes[usize::from(b)] != Class::Plain => break stop + 1,
                        _ => return None,
                    }
                }
            } else {
                out.copy_until(input, at, unquoted_stop, |b| self.classes[usize::from(b)] != Class::Plain)?
            };
            ends.push(out.filled);
            match self.classes[usize::from(input[end])] {
                Class::Delimiter if end + 1 < input.len() => at = end + 1,
                Class::Terminator => {
                    let length = end + 1;
                    let crlf = input[end] == b'\r' && input.get(length) == Some(&b'\n');
                    let taken = length + usize::from(crlf);
                    newlines += u64::from(input[taken - 1] == b'\n');
                    return Some(PlainRow { length, taken, newlines, nout: out.filled });
                }
                // A quote inside an unquoted field (csv_core's rules), or the chunk's end.
                _ => return None,
            }
        }
    }
}

/// A row's output buffer, filled from the start.
struct Out<'a> {
    bytes: &'a mut [u8],
    filled: usize,
}

impl Out<'_> {
    /// Appends `byte`; `None` when the buffer is full.
    fn push(&mut self, byte: u8) -> Option<()> {
        *self.bytes.get_mut(self.filled)? = byte;
        self.filled += 1;
        Some(())
    }

    /// Copies `input` from `from` up to the first byte `stop` is true for,
    /// and returns that byte's index (`None` when there is none, or the
    /// buffer is full). Eight bytes at a time: `lanes` flags the lanes of a
    /// word that may stop the copy, the lowest flagged lane exactly.
    fn copy_until(
        &mut self,
        input: &[u8],
        mut from: usize,
        lanes: impl Fn(u64) -> u64,
        stop: impl Fn(u8) -> bool,
    ) -> Option<usize> {
        while let Some(word) = input.get(from..from + 8) {
            let word: &[u8; 8] = word.try_into().expect("eight bytes");
            let found = lanes(u64::from_le_bytes(*word));
            // The whole word, then back to the stop: cheaper than a copy of any length.
            self.bytes.get_mut(self.filled..self.filled + 8)?.copy_from_slice(word);
            if found != 0 {
                let at = (found.trailing_zeros() / 8) as usize;
                self.filled += at;
                return Some(from + at);
            }
            self.filled += 8;
            from += 8;
        }
        while let Some(&b) = input.get(from) {
            if stop(b) {
                return Some(from);
            }
            self.push(b)?;
            from += 1;
        }
        None
    }
}

/// The high bit of each byte of `word` equal to `byte`: nonzero exactly when
/// one is, and the lowest set lane is always one that is (borrows only run upwards).
fn lanes_equal(word: u64, byte: u8) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zeroes = word ^ (ONES * u64::from(byte));
    zeroes.wrapping_sub(ONES) & !zeroes & HIGHS
}

#[cfg(test)]
mod tests {
    use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

    use super::*;

    /// What csv_core reads from the start of `input` (fed whole, without
    /// its end): the fields, the bytes taken and the line breaks among them.
    fn by_csv_core(input: &[u8], reader: &mut Reader) -> Option<(Vec<Vec<u8>>, usize, u64)> {
        reader.reset();
        let (mut out, mut ends) = (vec![0; 256], vec![0; 64]);
        let (result, taken, _, nend) = reader.read_record(input, &mut out, &mut ends);
        if result != ReadRecordResult::Record {
            return None;
        }
        let mut start = 0;
        let fields = ends[..nend]
            .iter()
            .map(|&end| {
                let field = out[start..end].to_vec();
                start = end;
                field
            })
            .collect();
        Some((fields, taken, reader.line() - 1))
    }

    fn by_fast_path(input: &[u8], delimiter: u8, quote: u8) -> Option<(Vec<Vec<u8>>, usize, u64)> {
        let (mut out, mut ends) = (vec![0; 256], Vec::new());
        let row = PlainRows::new(delimiter, quote)?.read(input, &mut out, &mut ends)?;
        out.truncate(row.nout);
        let starts = std::iter::once(0).chain(ends.iter().copied());
        let fields = starts.zip(&ends).map(|(start, &end)| out[start..end].to_vec()).collect();
        // csv_core leaves the `\n` of a `\r\n` for the next row.
        let newlines = row.newlines - u64::from(row.taken > row.length);
        Some((fields, row.length, newlines))
    }

    #[test]
    fn plain_rows_are_read_as_csv_core_reads_them() {
        let rows: [&[u8]; 12] = [
            b"a,b,c\n",
            b"a,b,c\r\nnext",
            b",,\n",
            b"x\r",
            b"\"\"\n",
            b"\"a,b\",\"say \"\"hi\"\"\",c\n",
            b"1,\"multi\nline\r\ntext\",3\r\n",
            b"\"\",\"\"\"\"\n",
            b"caf\xc3\xa9,\"\xf0\x9f\x98\x80\"\n",
            b"trailing,\n",
            b"\"q\"\r\n",
            b"a;b\n",
        ];
        for row in rows {
            let fast = by_fast_path(row, b',', b'"');
            assert!(fast.is_some(), "{:?} is plain", String::from_utf8_lossy(row));
            assert_eq!(
                fast,
                by_csv_core(row, &mut csv_core::Reader::new()),
                "{:?}",
                String::from_utf8_lossy(row)
            );
        }
    }

    #[test]
    fn the_line_feed_of_a_crlf_is_taken_too() {
        let (mut out, mut ends) = ([0; 16], Vec::new());
        let rows = PlainRows::new(b',', b'"').unwrap();
        let row = rows.read(b"a,\"x\n\"\"y\"\r\nnext", &mut out, &mut ends).unwrap();
        assert_eq!(row, PlainRow { length: 10, taken: 11, newlines: 2, nout: 5 });
        assert_eq!((&out[..5], ends.as_slice()), (&b"ax\n\"y"[..], &[1, 5][..]));
        // Fields that do not fit the buffer are left to csv_core.
        assert!(rows.read(b"0123456789abcdef,x\n", &mut out, &mut ends).is_none());
    }

    #[test]
    fn other_rows_are_left_to_csv_core() {
        let rows: [&[u8]; 8] = [
            b"a,b",                // no terminator in the chunk
            b"\"open,b\n",         // an unclosed quote
            b"ab\"c,d\n",          // a quote inside an unquoted field
            b"\"ab\"c,d\n",        // text after a closing quote
            b"\"ab\"",             // the chunk ends after a closing quote
            b"\nempty line first", // not the start of a row
            b"",
            b"\"a\"\"",
        ];
        for row in rows {
            assert_eq!(by_fast_path(row, b',', b'"'), None, "{:?}", String::from_utf8_lossy(row));
        }
        assert!(PlainRows::new(b'\n', b'"').is_none());
        assert!(PlainRows::new(b',', b',').is_none());
    }

    #[test]
    fn random_rows_agree_with_csv_core() {
        // A fixed-seed generator over the bytes that matter, so every case repeats.
        let mut rng = fastrand::Rng::with_seed(0x00c5_fa57);
        let alphabet: &[u8] = b"ab,;\"\"\r\n \xc3\xa9'";
        let mut compared = 0;
        let mut readers: Vec<(u8, u8, Reader)> = [(b',', b'"'), (b';', b'\'')]
            .into_iter()
            .map(|(delimiter, quote)| {
                (delimiter, quote, ReaderBuilder::new().delimiter(delimiter).quote(quote).build())
            })
            .collect();
        for _ in 0..100_000 {
            let len = rng.usize(..40);
            let input: Vec<u8> = (0..len).map(|_| alphabet[rng.usize(..alphabet.len())]).collect();
            for (delimiter, quote, reader) in &mut readers {
                if let Some(fast) = by_fast_path(&input, *delimiter, *quote) {
                    let slow = by_csv_core(&input, reader);
                    assert_eq!(Some(fast), slow, "{:?}", String::from_utf8_lossy(&input));
                    compared += 1;
                }
            }
        }
        assert!(compared > 50_000, "only {compared} plain rows");
    }
}

//! pgoutput's binary messages, protocol version 1, as
//! `pg_logical_slot_peek_binary_changes` returns them (one message per row).
//!
//! Only what a change stream needs is decoded: transaction boundaries,
//! relation (table) descriptions and row changes with their values in text
//! form. Type, origin and logical messages are recognised and ignored.

use std::fmt;

/// A WAL position (`pg_lsn`), printed `X/Y` like PostgreSQL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl Lsn {
    /// Parses `X/Y` (hexadecimal halves).
    pub fn parse(text: &str) -> Option<Lsn> {
        let (hi, lo) = text.split_once('/')?;
        let hi = u64::from_str_radix(hi, 16).ok()?;
        let lo = u64::from_str_radix(lo, 16).ok()?;
        (hi <= u32::MAX as u64 && lo <= u32::MAX as u64).then_some(Lsn((hi << 32) | lo))
    }
}

/// One column of a relation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    /// Part of the replica identity (every column under `REPLICA IDENTITY FULL`).
    pub key: bool,
    pub name: String,
    pub type_oid: u32,
}

/// A table as pgoutput describes it before its first change in a decoding session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Relation {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// `d` default, `n` nothing, `f` full, `i` index.
    pub identity: u8,
    pub columns: Vec<Column>,
}

/// One value of a tuple.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Datum<'a> {
    Null,
    /// A TOASTed value the update did not change: pgoutput does not send it.
    Unchanged,
    Text(&'a str),
}

/// Which old tuple an update or delete carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Old {
    /// The replica identity's key columns only (`K`); others are null.
    Key,
    /// The whole old row (`O`, `REPLICA IDENTITY FULL`).
    Row,
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Message<'a> {
    Begin {
        final_lsn: Lsn,
        commit_ts: i64,
        xid: u32,
    },
    Commit {
        commit_lsn: Lsn,
        end_lsn: Lsn,
        commit_ts: i64,
    },
    Relation(Relation),
    Insert {
        rel: u32,
        new: Vec<Datum<'a>>,
    },
    Update {
        rel: u32,
        old: Option<(Old, Vec<Datum<'a>>)>,
        new: Vec<Datum<'a>>,
    },
    Delete {
        rel: u32,
        old: (Old, Vec<Datum<'a>>),
    },
    Truncate {
        rels: Vec<u32>,
    },
    /// Type, origin and logical messages: nothing a row stream needs.
    Other,
}

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

/// A pgoutput timestamp (µs since 2000-01-01) in milliseconds since the Unix epoch.
pub(crate) fn unix_ms(pg_us: i64) -> i64 {
    (pg_us + PG_EPOCH_US).div_euclid(1000)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

type Parsed<T> = Result<T, String>;

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Parsed<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            format!("message truncated at byte {} (wanted {n} more of {})", self.at, self.bytes.len())
        })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Parsed<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Parsed<u16> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }
    fn u32(&mut self) -> Parsed<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn i64(&mut self) -> Parsed<i64> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn lsn(&mut self) -> Parsed<Lsn> {
        Ok(Lsn(self.i64()? as u64))
    }
    fn cstr(&mut self) -> Parsed<String> {
        let rest = &self.bytes[self.at..];
        let len = rest.iter().position(|&b| b == 0).ok_or("unterminated string")?;
        let s = std::str::from_utf8(&rest[..len]).map_err(|_| "a name is not UTF-8".to_owned())?;
        self.at += len + 1;
        Ok(s.to_owned())
    }
    fn tuple(&mut self) -> Parsed<Vec<Datum<'a>>> {
        let n = self.u16()? as usize;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(match self.u8()? {
                b'n' => Datum::Null,
                b'u' => Datum::Unchanged,
                b't' => {
                    let len = self.u32()? as usize;
                    let raw = self.take(len)?;
                    Datum::Text(std::str::from_utf8(raw).map_err(|_| "a value is not UTF-8".to_owned())?)
                }
                other => return Err(format!("unexpected tuple value kind {:?}", other as char)),
            });
        }
        Ok(out)
    }
    fn old_or_new(&mut self) -> Parsed<u8> {
        self.u8()
    }
}

/// Decodes one message.
pub(crate) fn parse(bytes: &[u8]) -> Parsed<Message<'_>> {
    let mut r = Reader { bytes, at: 0 };
    let message = match r.u8()? {
        b'B' => Message::Begin { final_lsn: r.lsn()?, commit_ts: r.i64()?, xid: r.u32()? },
        b'C' => {
            let _flags = r.u8()?;
            Message::Commit { commit_lsn: r.lsn()?, end_lsn: r.lsn()?, commit_ts: r.i64()? }
        }
        b'R' => {
            let oid = r.u32()?;
            let schema = r.cstr()?;
            let name = r.cstr()?;
            let identity = r.u8()?;
            let n = r.u16()? as usize;
            let mut columns = Vec::with_capacity(n);
            for _ in 0..n {
                let flags = r.u8()?;
                let name = r.cstr()?;
                let type_oid = r.u32()?;
                let _typmod = r.u32()?;
                columns.push(Column { key: flags & 1 == 1, name, type_oid });
            }
            Message::Relation(Relation { oid, schema, name, identity, columns })
        }
        b'I' => {
            let rel = r.u32()?;
            match r.old_or_new()? {
                b'N' => Message::Insert { rel, new: r.tuple()? },
                other => return Err(format!("insert: expected 'N', found {:?}", other as char)),
            }
        }
        b'U' => {
            let rel = r.u32()?;
            let (old, marker) = match r.old_or_new()? {
                b'K' => (Some((Old::Key, r.tuple()?)), r.u8()?),
                b'O' => (Some((Old::Row, r.tuple()?)), r.u8()?),
                other => (None, other),
            };
            if marker != b'N' {
                return Err(format!("update: expected 'N', found {:?}", marker as char));
            }
            Message::Update { rel, old, new: r.tuple()? }
        }
        b'D' => {
            let rel = r.u32()?;
            let kind = match r.old_or_new()? {
                b'K' => Old::Key,
                b'O' => Old::Row,
                other => return Err(format!("delete: expected 'K' or 'O', found {:?}", other as char)),
            };
            Message::Delete { rel, old: (kind, r.tuple()?) }
        }
        b'T' => {
            let n = r.u32()? as usize;
            let _options = r.u8()?;
            let rels = (0..n).map(|_| r.u32()).collect::<Parsed<Vec<u32>>>()?;
            Message::Truncate { rels }
        }
        b'Y' | b'O' | b'M' => Message::Other,
        other => return Err(format!("unknown pgoutput message {:?}", other as char)),
    };
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn messages_of_one_transaction_decode() {
        // Captured from PostgreSQL 15 (`INSERT INTO t VALUES (1, …)`).
        let begin = hex("420000000001536908000303f8f5ed18a7000002d6");
        let begin = parse(&begin).unwrap();
        assert_eq!(
            begin,
            Message::Begin { final_lsn: Lsn(0x1536908), commit_ts: 0x0003_03f8_f5ed_18a7, xid: 726 }
        );
        let Message::Relation(rel) = parse(&hex(
            "52000040007075626c69630074006400050169640000000017ffffffff00747300000004a0ffffffff00620000000010ffffffff006900000004a2ffffffff0063000000041200000007",
        ))
        .unwrap() else {
            panic!("a relation")
        };
        assert_eq!(
            (rel.oid, rel.schema.as_str(), rel.name.as_str(), rel.identity),
            (0x4000, "public", "t", b'd')
        );
        let names: Vec<(&str, bool, u32)> =
            rel.columns.iter().map(|c| (c.name.as_str(), c.key, c.type_oid)).collect();
        assert_eq!(
            names,
            [("id", true, 23), ("ts", false, 1184), ("b", false, 16), ("i", false, 1186), ("c", false, 1042)]
        );
        let insert = hex(
            "49000040004e00057400000001317400000016323032342d30312d30312030333a30303a30302d3035740000000174740000000e31206461792030323a30303a30307400000003612020",
        );
        let insert = parse(&insert).unwrap();
        let Message::Insert { rel: 0x4000, new } = insert else { panic!("an insert") };
        assert_eq!(new[0], Datum::Text("1"));
        assert_eq!(new[4], Datum::Text("a  "));
        let commit = hex("430000000000015369080000000001536938000303f8f5ed18a7");
        let commit = parse(&commit).unwrap();
        assert_eq!(
            commit,
            Message::Commit {
                commit_lsn: Lsn(0x1536908),
                end_lsn: Lsn(0x1536938),
                commit_ts: 0x0003_03f8_f5ed_18a7
            }
        );
    }

    #[test]
    fn updates_deletes_and_truncates_decode() {
        // U, rel 7, old key (1 col "5"), new (2 cols: "6", unchanged toast).
        let u = hex("55000000074b000174000000013535" /* K + tuple */);
        assert!(parse(&u).is_err(), "an update without its new tuple is truncated");
        let mut u = hex("55000000074b0001740000000135");
        u.extend(hex("4e0002740000000136"));
        u.push(b'u');
        let Message::Update { rel: 7, old: Some((Old::Key, old)), new } = parse(&u).unwrap() else {
            panic!()
        };
        assert_eq!(old, [Datum::Text("5")]);
        assert_eq!(new, [Datum::Text("6"), Datum::Unchanged]);
        let d = hex("44000000074f00016e");
        assert_eq!(parse(&d).unwrap(), Message::Delete { rel: 7, old: (Old::Row, vec![Datum::Null]) });
        let t = hex("5400000002020000000700000008");
        assert_eq!(parse(&t).unwrap(), Message::Truncate { rels: vec![7, 8] });
        assert!(parse(b"Z").is_err());
    }

    #[test]
    fn lsns_print_and_parse_like_postgres() {
        assert_eq!(Lsn(0x1_0153_6938).to_string(), "1/1536938");
        assert_eq!(Lsn::parse("1/1536938"), Some(Lsn(0x1_0153_6938)));
        assert_eq!(Lsn::parse("0/0"), Some(Lsn(0)));
        assert_eq!(Lsn::parse("nope"), None);
        assert_eq!(unix_ms(0), 946_684_800_000);
    }
}

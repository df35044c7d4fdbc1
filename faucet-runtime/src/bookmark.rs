//! The driver's bookmark: what it persists under a pipeline's state key.
//!
//! After each confirmed page the driver writes
//! `{"v":1,"lineage":…,"seq":…,"source":…,"sink":…,"dlq":…}` (a missing
//! position is `null`); before a run's first write, when the store holds no
//! lineage yet, it writes the lineage alone,
//! `{"v":1,"seq":0,"source":null,"sink":null,"dlq":null,"lineage":…}`.
//!
//! A stored bookmark is read leniently (a field that is missing or of the
//! wrong type counts as absent, as it always has) and writes back byte for
//! byte: its keys keep their order, and keys this version does not know (from
//! an older or a newer faucet, or added by hand) are kept. Only adding a
//! lineage rewrites a stored bookmark; a page's bookmark is always built anew.

use serde_core::ser::SerializeMap;
use serde_core::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The format version the driver writes as `v`.
const VERSION: u64 = 1;

/// A bookmark: the run lineage, the page number and the positions of the
/// source, the sink and the dead-letter queue after that page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bookmark {
    /// `v`, when `keys` holds [`Key::Version`].
    version: u64,
    /// `lineage`; `Some` exactly when `keys` holds [`Key::Lineage`].
    lineage: Option<String>,
    /// `seq`, when `keys` holds [`Key::Seq`]; otherwise 0.
    seq: u64,
    /// `source`: `None` when absent or `null`.
    source: Option<Value>,
    /// `sink`: `None` when absent or `null`.
    sink: Option<Value>,
    /// `dlq`: `None` when absent or `null`.
    dlq: Option<Value>,
    /// The keys in their stored order: where each typed field is written, and
    /// every other key with its value as read.
    keys: Vec<Key>,
}

/// One key of a bookmark, in order.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Version,
    Lineage,
    Seq,
    Source,
    Sink,
    Dlq,
    /// A key this version does not know, or a known one whose value it cannot
    /// read (a `seq` that is not an unsigned integer, a `null` lineage): kept as is.
    Other(String, Value),
}

impl Bookmark {
    /// A bookmark with no position: page 0, no lineage.
    pub(crate) fn empty() -> Self {
        Bookmark {
            version: VERSION,
            lineage: None,
            seq: 0,
            source: None,
            sink: None,
            dlq: None,
            keys: vec![Key::Version, Key::Seq, Key::Source, Key::Sink, Key::Dlq],
        }
    }

    /// The bookmark after page `seq` of `lineage`, with the positions the
    /// source gave and the sink and the DLQ confirmed.
    pub(crate) fn after_page(
        lineage: String,
        seq: u64,
        source: Option<Value>,
        sink: Option<Value>,
        dlq: Option<Value>,
    ) -> Self {
        let present = |v: Option<Value>| v.filter(|v| !v.is_null());
        Bookmark {
            version: VERSION,
            lineage: Some(lineage),
            seq,
            source: present(source),
            sink: present(sink),
            dlq: present(dlq),
            keys: vec![Key::Version, Key::Lineage, Key::Seq, Key::Source, Key::Sink, Key::Dlq],
        }
    }

    /// The same bookmark with `lineage`: in place of a `lineage` key it
    /// already has (one it could not read, say `null`), else as its last key.
    pub(crate) fn with_lineage(mut self, lineage: String) -> Self {
        let at = self.keys.iter().position(|k| match k {
            Key::Lineage => true,
            Key::Other(name, _) => name == "lineage",
            _ => false,
        });
        match at {
            Some(at) => self.keys[at] = Key::Lineage,
            None => self.keys.push(Key::Lineage),
        }
        self.lineage = Some(lineage);
        self
    }

    /// Reads a stored bookmark. Anything but a JSON object (never written by
    /// faucet) reads as [`Bookmark::empty`], so it is rewritten as a fresh one.
    pub(crate) fn from_value(value: Value) -> Self {
        let Value::Object(fields) = value else { return Bookmark::empty() };
        let mut bookmark = Bookmark {
            version: 0,
            lineage: None,
            seq: 0,
            source: None,
            sink: None,
            dlq: None,
            keys: Vec::with_capacity(fields.len()),
        };
        let present = |v: Value| Some(v).filter(|v| !v.is_null());
        for (name, value) in fields {
            let known = match name.as_str() {
                "v" => Some(Key::Version),
                "lineage" => Some(Key::Lineage),
                "seq" => Some(Key::Seq),
                "source" => Some(Key::Source),
                "sink" => Some(Key::Sink),
                "dlq" => Some(Key::Dlq),
                _ => None,
            };
            let number = value.as_u64();
            let key = match (known, value, number) {
                (Some(Key::Version), _, Some(v)) => {
                    bookmark.version = v;
                    Key::Version
                }
                (Some(Key::Lineage), Value::String(lineage), _) => {
                    bookmark.lineage = Some(lineage);
                    Key::Lineage
                }
                (Some(Key::Seq), _, Some(seq)) => {
                    bookmark.seq = seq;
                    Key::Seq
                }
                (Some(Key::Source), value, _) => {
                    bookmark.source = present(value);
                    Key::Source
                }
                (Some(Key::Sink), value, _) => {
                    bookmark.sink = present(value);
                    Key::Sink
                }
                (Some(Key::Dlq), value, _) => {
                    bookmark.dlq = present(value);
                    Key::Dlq
                }
                (_, value, _) => Key::Other(name, value),
            };
            bookmark.keys.push(key);
        }
        bookmark
    }

    /// The run lineage the sink's commit tokens are scoped by; `None` in a
    /// bookmark written before lineages existed.
    pub(crate) fn lineage(&self) -> Option<&str> {
        self.lineage.as_deref()
    }

    /// The number of the last confirmed page (0 before the first).
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Where the source resumes.
    pub(crate) fn source(&self) -> Option<&Value> {
        self.source.as_ref()
    }

    /// The sink's checkpoint.
    pub(crate) fn sink(&self) -> Option<&Value> {
        self.sink.as_ref()
    }

    /// The dead-letter sink's checkpoint.
    pub(crate) fn dlq(&self) -> Option<&Value> {
        self.dlq.as_ref()
    }
}

impl Serialize for Bookmark {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.keys.len()))?;
        for key in &self.keys {
            match key {
                Key::Version => map.serialize_entry("v", &self.version)?,
                Key::Lineage => map.serialize_entry("lineage", &self.lineage)?,
                Key::Seq => map.serialize_entry("seq", &self.seq)?,
                Key::Source => map.serialize_entry("source", &self.source)?,
                Key::Sink => map.serialize_entry("sink", &self.sink)?,
                Key::Dlq => map.serialize_entry("dlq", &self.dlq)?,
                Key::Other(name, value) => map.serialize_entry(name, value)?,
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Bookmark {
    /// Never fails on well-formed JSON: see [`Bookmark::from_value`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Bookmark::from_value)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Every bookmark the driver wrote in the scenarios of
    /// `tests/bookmarks.rs`, one per line, captured from the driver before
    /// this type existed (a fresh run's lineage and four pages, and lineages
    /// added to a bookmark of an earlier version).
    const WRITTEN: &str = include_str!("../tests/fixtures/bookmarks/written.jsonl");

    /// Bookmarks the driver did not write, as an older or a newer version (or a
    /// person) may leave them.
    const FOREIGN: &[&str] = &[
        r#"{"v":1,"seq":2,"source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179}}"#,
        r#"{"v":1,"lineage":null,"seq":2,"note":"by hand","source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179}}"#,
        r#"{"v":2,"lineage":"01a24b0217307047aa05c362516fc90c","seq":2,"source":{"file":"in.jsonl","offset":54,"line":7},"compacted":[1,2],"sink":{"len":45},"dlq":{"len":179},"note":"newer"}"#,
        r#"{"seq":-1,"source":null,"dlq":{"len":123456789012345678901234567890},"v":"one","lineage":42}"#,
        r#"{}"#,
    ];

    fn round_trip(text: &str) -> String {
        let bookmark: Bookmark = serde_json::from_str(text).unwrap();
        let again = serde_json::to_string(&bookmark).unwrap();
        // Through `Value` (what the state stores take) too.
        let value = serde_json::to_value(&bookmark).unwrap();
        assert_eq!(Bookmark::from_value(value.clone()), bookmark, "{text}");
        assert_eq!(serde_json::to_string(&value).unwrap(), again);
        again
    }

    #[test]
    fn bookmarks_read_and_write_back_byte_for_byte() {
        let written: Vec<&str> = WRITTEN.lines().collect();
        assert_eq!(written.len(), 8);
        for text in written.iter().chain(FOREIGN) {
            assert_eq!(round_trip(text), *text);
        }
    }

    #[test]
    fn typed_fields_read_as_the_driver_always_read_them() {
        let written: Vec<&str> = WRITTEN.lines().collect();
        let lineage_only: Bookmark = serde_json::from_str(written[0]).unwrap();
        assert_eq!(lineage_only.lineage(), Some("01a24b0217307047aa05c362516fc90c"));
        assert_eq!((lineage_only.seq(), lineage_only.source(), lineage_only.sink()), (0, None, None));
        let page: Bookmark = serde_json::from_str(written[2]).unwrap();
        assert_eq!(page.seq(), 2);
        assert_eq!(page.source(), Some(&json!({"file": "in.jsonl", "offset": 54, "line": 7})));
        assert_eq!(page.sink(), Some(&json!({"len": 45})));
        assert_eq!(page.dlq(), Some(&json!({"len": 179})));

        // Wrong types count as absent, and stay as they were.
        let odd: Bookmark = serde_json::from_str(FOREIGN[3]).unwrap();
        assert_eq!((odd.lineage(), odd.seq(), odd.source()), (None, 0, None));
        assert_eq!(
            odd.dlq().map(Value::to_string).as_deref(),
            Some(r#"{"len":123456789012345678901234567890}"#)
        );
        let legacy: Bookmark = serde_json::from_str(FOREIGN[0]).unwrap();
        assert_eq!((legacy.lineage(), legacy.seq()), (None, 2));
        // Anything but an object holds no position.
        assert_eq!(Bookmark::from_value(json!([1])), Bookmark::empty());
        assert_eq!(serde_json::from_str::<Bookmark>("null").unwrap(), Bookmark::empty());
    }

    #[test]
    fn the_driver_writes_todays_layouts() {
        let written: Vec<&str> = WRITTEN.lines().collect();
        let lineage = "01a24b0217307047aa05c362516fc90c".to_owned();
        let fresh = Bookmark::empty().with_lineage(lineage.clone());
        assert_eq!(serde_json::to_string(&fresh).unwrap(), written[0]);
        let page = Bookmark::after_page(
            lineage,
            2,
            Some(json!({"file": "in.jsonl", "offset": 54, "line": 7})),
            Some(json!({"len": 45})),
            Some(json!({"len": 179})),
        );
        assert_eq!(serde_json::to_string(&page).unwrap(), written[2]);
        let none = Bookmark::after_page("l".into(), 1, None, Some(Value::Null), None);
        assert_eq!(
            serde_json::to_string(&none).unwrap(),
            r#"{"v":1,"lineage":"l","seq":1,"source":null,"sink":null,"dlq":null}"#
        );
    }

    #[test]
    fn a_lineage_is_added_in_place_or_last() {
        let upgraded = |text: &str| {
            let bookmark: Bookmark = serde_json::from_str(text).unwrap();
            serde_json::to_string(&bookmark.with_lineage("L".into())).unwrap()
        };
        assert_eq!(
            upgraded(FOREIGN[0]),
            r#"{"v":1,"seq":2,"source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179},"lineage":"L"}"#
        );
        assert_eq!(
            upgraded(FOREIGN[1]),
            r#"{"v":1,"lineage":"L","seq":2,"note":"by hand","source":{"file":"in.jsonl","offset":54,"line":7},"sink":{"len":45},"dlq":{"len":179}}"#
        );
        assert_eq!(upgraded("{}"), r#"{"lineage":"L"}"#);
        assert_eq!(upgraded("[]"), r#"{"v":1,"seq":0,"source":null,"sink":null,"dlq":null,"lineage":"L"}"#);
    }
}

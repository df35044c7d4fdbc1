//! Config strings as the generator carries them: literal text, references
//! read at run time (`${env:VAR}` and its alias `${secret:VAR}`,
//! `${file:PATH}`, `${now.…}`), and values from a matrix parent's record,
//! each with the rule that keeps it in its place.

/// A config string: literal text and references resolved at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct Text(pub Vec<TextPart>);

/// A piece of a [`Text`].
#[derive(Debug, Clone, PartialEq)]
pub enum TextPart {
    /// Literal text.
    Lit(String),
    /// An environment variable, read at run time (never at build time):
    /// `${env:VAR}`, or `${secret:VAR}`, its alias.
    Env(String),
    /// `${file:PATH}`: the file's contents, read at run time (never at build
    /// time), trailing whitespace trimmed; masked in every message.
    File(String),
    /// `${now.…}`: the run's clock, rendered at run time.
    Now(Now),
    /// `${shard.index}` or `${shard.count}` of a sharded pipeline, rendered
    /// at run time by each shard (a number).
    Shard(ShardValue),
    /// `${parent.dotted.path}`: a value of a matrix child's parent record,
    /// substituted at run time and made safe for its place.
    Parent {
        /// The dotted path into the parent record (empty = the whole record).
        path: Vec<String>,
        /// How the value is made safe where it lands.
        encode: Encode,
    },
}

/// What a `${shard.…}` reference renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardValue {
    /// `index`: the shard's number, `0` to `count - 1`.
    Index,
    /// `count`: how many shards there are.
    Count,
}

impl ShardValue {
    /// `index` or `count`, as written after `shard.`.
    pub fn as_written(self) -> &'static str {
        match self {
            ShardValue::Index => "index",
            ShardValue::Count => "count",
        }
    }
}

/// A `${now.…}` form: how the run's clock is written (faucet-stream's forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Now {
    /// `date`: `2026-03-08`.
    Date,
    /// `datetime` or `iso`: RFC 3339, `2026-03-08T14:05:09+00:00`.
    DateTime,
    /// `year`: `2026`.
    Year,
    /// `month`: `03`.
    Month,
    /// `day`: `08`.
    Day,
    /// `hour`: `14`.
    Hour,
    /// `minute`: `05`.
    Minute,
    /// `second`: `09`.
    Second,
    /// `unix`: seconds since the Unix epoch.
    Unix,
    /// `strftime.<format>`: a chrono strftime format, checked at build time.
    Strftime(String),
}

impl Now {
    /// The named forms, as written after `now.`.
    pub const NAMES: &'static [&'static str] =
        &["date", "datetime", "iso", "year", "month", "day", "hour", "minute", "second", "unix"];

    /// The form named `name` (one of [`Now::NAMES`]).
    pub fn named(name: &str) -> Option<Now> {
        Some(match name {
            "date" => Now::Date,
            "datetime" | "iso" => Now::DateTime,
            "year" => Now::Year,
            "month" => Now::Month,
            "day" => Now::Day,
            "hour" => Now::Hour,
            "minute" => Now::Minute,
            "second" => Now::Second,
            "unix" => Now::Unix,
            _ => return None,
        })
    }

    /// The form as written after `now.`.
    pub fn as_written(&self) -> String {
        match self {
            Now::Date => "date".into(),
            Now::DateTime => "datetime".into(),
            Now::Year => "year".into(),
            Now::Month => "month".into(),
            Now::Day => "day".into(),
            Now::Hour => "hour".into(),
            Now::Minute => "minute".into(),
            Now::Second => "second".into(),
            Now::Unix => "unix".into(),
            Now::Strftime(f) => format!("strftime.{f}"),
        }
    }
}

/// Where a parent-record value lands, and so how it is made safe: the
/// generator's side of `faucet_runtime::substitute::Encode` (whose docs say
/// what each one does at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encode {
    /// As is (data the receiving API encodes: header and query values, bodies).
    Raw,
    /// One segment of a file or object path: empty, `.`, `..`, `/`, `\` and NUL refused.
    PathSegment,
    /// A path segment of a glob: also glob characters escaped.
    GlobSegment,
    /// A path segment of a percent-decoded file URL (`sqlite://`): also percent-encoded.
    FileUrlSegment,
    /// Within one URL path segment, percent-encoded; dot segments refused.
    UrlSegment,
    /// A URL path segment of an absolute URL: also only after the authority.
    UrlPathInUrl,
}

impl Text {
    /// A text with no references.
    pub fn literal(s: impl Into<String>) -> Self {
        Text(vec![TextPart::Lit(s.into())])
    }

    /// The same text with every parent value substituted as `encode`
    /// (connectors call this for fields that are paths or URL parts).
    pub fn encoded_as(mut self, encode: Encode) -> Self {
        for part in &mut self.0 {
            if let TextPart::Parent { encode: e, .. } = part {
                *e = encode;
            }
        }
        self
    }

    /// True when the text takes a value from a parent record.
    pub fn has_parent_values(&self) -> bool {
        self.0.iter().any(|p| matches!(p, TextPart::Parent { .. }))
    }

    /// The text when it has no reference.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                TextPart::Lit(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }
}

/// The `${env:…}` variables whose values must never appear in a message,
/// found by the one secret rule (`validate::secrets`). Every other value
/// (a path, a host, a table) prints in full in errors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretEnv {
    /// Read somewhere in a secret position (a token, a URL's password): masked whole.
    pub whole: std::collections::BTreeSet<String>,
    /// Read inside a URL outside its known credentials (`${env:DATABASE_URL}`):
    /// the resolved URL's credentials are masked.
    pub in_url: std::collections::BTreeSet<String>,
}

//! The value types of the `rest` source's request and retry settings: each
//! knows how it is read, described and written into generated code.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::checks::is_token;
use crate::diag::Diagnostics;
use crate::emit::{Gen, int_lit, string, vec};
use crate::load::{Node, Value};
use crate::read::{text, text_in};
use crate::secrets::{self, Position};
use crate::settings::values::Int;
use crate::settings::{Nested, Setting, choice, settings};
use crate::spec::Kind;
use crate::text::{Encode, Text};

choice! {
    /// The HTTP method.
    pub enum Method => config::rest::Method {
        /// `GET`.
        Get = "GET",
        /// `POST`.
        Post = "POST",
        /// `PUT`.
        Put = "PUT",
        /// `PATCH`.
        Patch = "PATCH",
        /// `DELETE`.
        Delete = "DELETE",
    }
}

/// `method`: a [`Method`], in upper or lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnyCase(pub Method);

impl From<Method> for AnyCase {
    fn from(m: Method) -> Self {
        AnyCase(m)
    }
}

impl Setting for AnyCase {
    const KIND: Kind =
        Kind::AnyOf(&[Kind::OneOf(Method::VALUES), Kind::OneOf(&["get", "post", "put", "patch", "delete"])]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        if let Value::Str(s) = &node.value
            && let Some(m) = Method::VALUES.iter().find(|m| m.eq_ignore_ascii_case(s))
        {
            let upper = Node { value: Value::Str((*m).to_owned()), loc: node.loc.clone() };
            return Method::read(&upper, key, diags).map(AnyCase);
        }
        Method::read(node, key, diags).map(AnyCase)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.0.emit(g)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// A duration written in seconds (an integer or a decimal), kept in whole
/// milliseconds: from `MIN_MS` to a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds<const MIN_MS: u64> {
    /// The duration in milliseconds.
    pub ms: u64,
}

impl<const MIN_MS: u64> Seconds<MIN_MS> {
    /// `s` seconds.
    pub const fn secs(s: u64) -> Self {
        Seconds { ms: s * 1000 }
    }
}

/// A duration that may be zero (a wait).
pub type Wait = Seconds<0>;
/// A duration of at least a millisecond (a timeout).
pub type Timeout = Seconds<1>;

impl<const MIN_MS: u64> Setting for Seconds<MIN_MS> {
    const KIND: Kind = Kind::Number(MIN_MS as f64 / 1000.0, 86_400.0);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let seconds = match &node.value {
            Value::Int(i) => *i as f64,
            Value::Float(x) => *x,
            other => {
                diags.error(
                    &node.loc,
                    format!("`{key}` must be a number of seconds, found {}", other.kind_name()),
                );
                return None;
            }
        };
        let ms = (seconds * 1000.0).round();
        if !(0.0..=86_400_000.0).contains(&ms) || ms < MIN_MS as f64 {
            let range = if MIN_MS == 0 { "from 0 to 86400" } else { "from 0.001 to 86400" };
            diags.error_help(
                &node.loc,
                format!("`{key}` is {seconds}, out of range"),
                format!("use a number of seconds {range}"),
            );
            return None;
        }
        Some(Seconds { ms: ms as u64 })
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let ms = int_lit(self.ms);
        quote!(#rt::Duration::from_millis(#ms))
    }

    fn to_json(&self) -> serde_json::Value {
        if self.ms.is_multiple_of(1000) { (self.ms / 1000).into() } else { (self.ms as f64 / 1000.0).into() }
    }
}

/// Names to values (numbers and booleans are written as text): the request
/// headers (`HEADERS`, whose names are checked), or the query parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pairs<const HEADERS: bool>(pub Vec<(String, Text)>);

/// `headers`.
pub type Headers = Pairs<true>;
/// `query_params`.
pub type QueryParams = Pairs<false>;

impl<const HEADERS: bool> Setting for Pairs<HEADERS> {
    const KIND: Kind = Kind::Map(&Kind::Scalar);
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        string_map(node, key, HEADERS, diags).map(Pairs)
    }

    fn absent() -> Option<Self> {
        Some(Pairs(Vec::new()))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        pairs(&self.0, g)
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// `Vec::from([(String::from(name), value), …])`.
fn pairs(pairs: &[(String, Text)], g: &Gen) -> TokenStream {
    vec(pairs.iter().map(|(k, v)| {
        let (k, v) = (string(k), g.text(v));
        quote!((#k, #v))
    }))
}

/// A map of names to strings (numbers and booleans are written as text).
fn string_map(
    node: &Node,
    key: &str,
    is_headers: bool,
    diags: &mut Diagnostics,
) -> Option<Vec<(String, Text)>> {
    let Value::Map(entries) = &node.value else {
        diags.error(&node.loc, format!("`{key}` must be a map, found {}", node.value.kind_name()));
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for e in entries {
        let value = match &e.value.value {
            // `Host` picks the server the request is for: no record value there.
            Value::Str(_) if is_headers && e.key.eq_ignore_ascii_case("host") => {
                text(&e.value, &e.key, diags)
            }
            Value::Str(_) => text_in(&e.value, &e.key, Encode::Raw, diags),
            Value::Int(i) => Some(Text::literal(i.to_string())),
            Value::Float(x) => Some(Text::literal(x.to_string())),
            Value::Bool(b) => Some(Text::literal(b.to_string())),
            other => {
                diags.error(
                    &e.value.loc,
                    format!("`{key}.{}` must be a string, found {}", e.key, other.kind_name()),
                );
                None
            }
        };
        if is_headers && !is_token(&e.key) {
            diags.error(&e.key_loc, format!("`{}` is not a valid HTTP header name", e.key));
            ok = false;
            continue;
        }
        let Some(value) = value else {
            ok = false;
            continue;
        };
        let position = if is_headers { Position::Header(&e.key) } else { Position::Named(&e.key) };
        if !secrets::check(&e.value, &value, &e.key, position, diags) {
            ok = false;
            continue;
        }
        out.push((e.key.clone(), value));
    }
    ok.then_some(out)
}

/// A list of `T`; absent, it is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T>(pub Vec<T>);

/// `tolerated_http_errors`: HTTP error statuses.
pub type Statuses = List<Int<400, 599>>;

impl<T: Setting> Setting for List<T> {
    const KIND: Kind = Kind::List(&T::KIND);
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let Value::Seq(items) = &node.value else {
            diags.error(&node.loc, format!("`{key}` must be a list, found {}", node.value.kind_name()));
            return None;
        };
        let items: Vec<Option<T>> = items.iter().map(|n| T::read(n, key, diags)).collect();
        items.into_iter().collect::<Option<_>>().map(List)
    }

    fn absent() -> Option<Self> {
        Some(List(Vec::new()))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        vec(self.0.iter().map(|v| v.emit(g)))
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.iter().map(T::to_json).collect()
    }
}

/// The lowest `requests_per_second`: one request a day, the longest wait
/// `request_delay` may ask for too.
const MIN_REQUESTS_PER_SECOND: f64 = 1.0 / 86_400.0;

/// `requests_per_second`: from one request a day to 100000 a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerSecond(pub f64);

impl Setting for PerSecond {
    const KIND: Kind = Kind::Number(MIN_REQUESTS_PER_SECOND, 100_000.0);

    fn read(node: &Node, _: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let in_range = |x: f64| (MIN_REQUESTS_PER_SECOND..=100_000.0).contains(&x);
        match node.value {
            Value::Int(i) if in_range(i as f64) => Some(PerSecond(i as f64)),
            Value::Float(x) if in_range(x) => Some(PerSecond(x)),
            _ => {
                diags.error_help(
                    &node.loc,
                    "`requests_per_second` must be a positive number, from one request a day to 100000 a second",
                    "use a number such as `5` or `0.5` (at least 0.0000116, one a day)",
                );
                None
            }
        }
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        let x = Literal::f64_unsuffixed(self.0);
        quote!(#x)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.into()
    }
}

settings! {
    /// A request rate cap.
    pub struct RateLimitKeys("rest.rate_limit") {
        /// Requests per second, from one a day (0.0000116) to 100000.
        requests_per_second: PerSecond,
    }
}

/// `rate_limit: {requests_per_second}`, which the runtime holds as the number alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit(pub PerSecond);

impl Setting for RateLimit {
    const KIND: Kind = Kind::Object(&RateLimitKeys::SPEC);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        Nested::<RateLimitKeys>::read(node, key, diags).map(|keys| RateLimit(keys.0.requests_per_second))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.0.emit(g)
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// `partitions`: only an empty list, until partitioned reads land.
#[derive(Debug, Clone, PartialEq)]
pub struct NoPartitions;

impl Setting for NoPartitions {
    const KIND: Kind = Kind::List(&Kind::Json);

    fn read(node: &Node, _: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match &node.value {
            Value::Seq(items) if items.is_empty() => Some(NoPartitions),
            _ => {
                diags.error(
                    &node.loc,
                    "`partitions` in the `rest` source config is not supported by faucet yet",
                );
                None
            }
        }
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        vec([])
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(Vec::new())
    }
}

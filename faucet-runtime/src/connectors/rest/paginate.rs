//! Pagination styles: what the next request is, found from a response.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Value, json};
use serde_json_path::JsonPath;
use url::Url;

use crate::config::rest::{Auth, Method, Pagination, RestSourceConfig};
use crate::error::{FaucetError, Result};

/// Where the next request goes; stored in the bookmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Position {
    /// The first request of a style with no explicit position.
    Start,
    /// A cursor token.
    Cursor(String),
    /// A next link.
    Url(String),
    /// A page number.
    Page(u64),
    /// An offset.
    Offset(u64),
}

impl Position {
    pub(super) fn to_json(&self) -> Value {
        match self {
            Position::Start => json!({"start": true}),
            Position::Cursor(c) => json!({"cursor": c}),
            Position::Url(u) => json!({"url": u}),
            Position::Page(p) => json!({"page": p}),
            Position::Offset(o) => json!({"offset": o}),
        }
    }

    pub(super) fn from_json(v: &Value) -> Option<Position> {
        let map = v.as_object()?;
        let (key, value) = map.iter().next()?;
        Some(match key.as_str() {
            "start" => Position::Start,
            "cursor" => Position::Cursor(value.as_str()?.to_owned()),
            "url" => Position::Url(value.as_str()?.to_owned()),
            "page" => Position::Page(value.as_u64()?),
            "offset" => Position::Offset(value.as_u64()?),
            _ => return None,
        })
    }

    /// The position for messages: a cursor cut to 80 characters, a link
    /// redacted like every URL (`hidden` is the `api_key_query` parameter).
    pub(super) fn describe(&self, hidden: Option<&str>) -> String {
        match self {
            Position::Start => "the first request".to_owned(),
            Position::Cursor(c) => {
                let shown: String = c.chars().take(80).collect();
                let cut = if shown.len() < c.len() { "…" } else { "" };
                crate::secret::scrub(format!("cursor `{shown}{cut}`"))
            }
            Position::Url(u) => match Url::parse(u) {
                Ok(url) => format!("link `{}`", redact(&url, hidden)),
                Err(_) => "a link".to_owned(),
            },
            Position::Page(p) => format!("page {p}"),
            Position::Offset(o) => format!("offset {o}"),
        }
    }

    /// A hash identifying the position, for the repeated-position guard.
    pub(super) fn fingerprint(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }
}

impl Hash for Position {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            Position::Start => 0u8.hash(h),
            Position::Cursor(c) => (1u8, c).hash(h),
            Position::Url(u) => (2u8, u).hash(h),
            Position::Page(p) => (3u8, p).hash(h),
            Position::Offset(o) => (4u8, o).hash(h),
        }
    }
}

/// A hash of a response body, for the identical-page guard.
pub(super) fn fingerprint(body: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

/// One request, ready to send (the auth is applied when it is sent).
#[derive(Debug)]
pub(super) struct Request {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) body: Option<Value>,
    /// Query parameters whose values never print (the `api_key_query` parameter).
    pub(super) hidden: Option<String>,
}

impl Request {
    pub(super) fn method_name(&self) -> &'static str {
        self.method.name()
    }

    /// The position of a next link, resolved against this request's URL. The
    /// `api_key_query` parameter is dropped (it is added again when sent), so
    /// the key never lands in a bookmark.
    fn follow(&self, link: &str) -> Option<Position> {
        let mut url = self.url.join(link).ok()?;
        if let Some(hidden) = &self.hidden
            && url.query_pairs().any(|(k, _)| k == hidden.as_str())
        {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != hidden.as_str())
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            url.set_query(None);
            if !kept.is_empty() {
                url.query_pairs_mut().extend_pairs(kept);
            }
        }
        Some(Position::Url(url.into()))
    }

    /// The URL for messages: credentials and credential-like parameters redacted.
    pub(super) fn display_url(&self) -> String {
        redact(&self.url, self.hidden.as_deref())
    }
}

/// `url` with its password and every credential-like query value replaced by
/// `***`, then scrubbed of every registered secret.
pub(super) fn redact(url: &Url, hidden: Option<&str>) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    if shown.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let hide = Some(k.as_ref()) == hidden || crate::secret::is_secret_name(&k);
                (k.into_owned(), if hide { "***".to_owned() } else { v.into_owned() })
            })
            .collect();
        shown.set_query(None);
        if !pairs.is_empty() {
            let mut q = shown.query_pairs_mut();
            for (k, v) in &pairs {
                q.append_pair(k, v);
            }
        }
    }
    crate::secret::scrub(shown.to_string().replace("%2A%2A%2A", "***"))
}

/// What a response says about the next page, read before its records are taken out.
#[derive(Debug, Default)]
pub(super) struct Hints {
    token: Option<String>,
    total: Option<u64>,
}

/// A pagination style with its JSONPath expressions compiled.
pub(super) struct Compiled {
    style: Pagination,
    path: Option<JsonPath>,
    total: Option<JsonPath>,
}

impl Compiled {
    pub(super) fn new(style: &Pagination) -> Result<Self> {
        let (path, total) = match style {
            Pagination::Cursor { next_token_path: p, .. }
            | Pagination::CursorInBody { next_token_path: p, .. }
            | Pagination::NextLinkInBody { next_link_path: p } => (Some(compile_path(p)?), None),
            Pagination::Offset { total_path: Some(t), .. } => (None, Some(compile_path(t)?)),
            _ => (None, None),
        };
        Ok(Compiled { style: style.clone(), path, total })
    }

    /// The position of a run's first request.
    pub(super) fn first(&self) -> Position {
        match &self.style {
            Pagination::PageNumber { start_page, .. } => Position::Page(*start_page),
            Pagination::Offset { .. } => Position::Offset(0),
            _ => Position::Start,
        }
    }

    /// The request for `position`; `sent` is the replication value this run sends.
    pub(super) fn request(
        &self,
        config: &RestSourceConfig,
        endpoint: &Url,
        position: &Position,
        sent: Option<&Value>,
    ) -> Result<Request> {
        let hidden = match &config.auth {
            Auth::ApiKeyQuery { param, .. } => Some(param.clone()),
            _ => None,
        };
        let mut body = config.body.clone();
        if let Position::Url(next) = position {
            let url = Url::parse(next)
                .map_err(|e| FaucetError::source(format!("the next link is not a valid URL: {e}")))?;
            return Ok(Request { method: config.method, url, body, hidden });
        }
        let mut url = endpoint.clone();
        let mut pairs: Vec<(&str, String)> =
            config.query_params.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        if let (Some(param), Some(value)) =
            (config.replication.as_ref().and_then(|r| r.param.as_deref()), sent)
        {
            pairs.push((param, scalar_text(value)));
        }
        match (&self.style, position) {
            (Pagination::Cursor { param_name, .. }, Position::Cursor(c)) => {
                pairs.push((param_name, c.clone()))
            }
            (Pagination::CursorInBody { body_cursor_field, .. }, Position::Cursor(c)) => {
                let object = body.get_or_insert_with(|| json!({}));
                match object.as_object_mut() {
                    Some(map) => {
                        map.insert(body_cursor_field.clone(), Value::String(c.clone()));
                    }
                    None => {
                        return Err(FaucetError::config(
                            "`CursorInBody` pagination needs `body` to be a JSON object",
                        ));
                    }
                }
            }
            (Pagination::PageNumber { param_name, page_size, page_size_param, .. }, Position::Page(p)) => {
                pairs.push((param_name, p.to_string()));
                if let (Some(size), Some(param)) = (page_size, page_size_param) {
                    pairs.push((param, size.to_string()));
                }
            }
            (Pagination::Offset { offset_param, limit_param, limit, .. }, Position::Offset(o)) => {
                pairs.push((offset_param, o.to_string()));
                pairs.push((limit_param, limit.to_string()));
            }
            (_, Position::Start) => {}
            (style, position) => {
                return Err(FaucetError::state(format!(
                    "the bookmark's position {} does not fit {style:?} pagination",
                    position.to_json()
                )));
            }
        }
        if !pairs.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &pairs {
                q.append_pair(k, v);
            }
        }
        Ok(Request { method: config.method, url, body, hidden })
    }

    /// Reads the next token and the total from a parsed response.
    pub(super) fn hints(&self, value: &Value) -> Hints {
        Hints {
            token: self.path.as_ref().and_then(|p| p.query(value).first()).and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
            total: self.total.as_ref().and_then(|p| p.query(value).first()).and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }),
        }
    }

    /// The position after a page of `count` records, or `None` when it was the
    /// last (the caller checks it against the positions already requested).
    pub(super) fn next(
        &self,
        position: &Position,
        request: &Request,
        hints: Hints,
        link_header: Option<&str>,
        count: usize,
    ) -> Option<Position> {
        let count = count as u64;
        match &self.style {
            Pagination::None => None,
            Pagination::Cursor { .. } | Pagination::CursorInBody { .. } => hints.token.map(Position::Cursor),
            Pagination::LinkHeader => link_header.and_then(next_link).and_then(|link| request.follow(link)),
            Pagination::NextLinkInBody { .. } => hints.token.and_then(|link| request.follow(&link)),
            Pagination::PageNumber { page_size, .. } => match position {
                Position::Page(p) if count > 0 && page_size.is_none_or(|size| count >= size) => {
                    Some(Position::Page(p + 1))
                }
                _ => None,
            },
            Pagination::Offset { limit, .. } => match position {
                Position::Offset(o)
                    if count > 0 && count >= *limit && hints.total.is_none_or(|t| o + count < t) =>
                {
                    Some(Position::Offset(o + count))
                }
                _ => None,
            },
        }
    }
}

/// A JSON scalar as query-parameter text (strings without quotes).
pub(super) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `rel="next"` target of a `Link` header value (RFC 8288).
pub(super) fn next_link(header: &str) -> Option<&str> {
    let mut start = 0;
    let (mut in_angle, mut in_quote) = (false, false);
    let bytes = header.as_bytes();
    let mut links = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' if !in_quote => in_angle = true,
            b'>' if !in_quote => in_angle = false,
            b'"' if !in_angle => in_quote = !in_quote,
            b',' if !in_angle && !in_quote => {
                links.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    links.push(&header[start..]);
    links.into_iter().find_map(|link| {
        let rest = link.trim().strip_prefix('<')?;
        let end = rest.find('>')?;
        let is_next = rest[end + 1..].split(';').any(|param| {
            param.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        is_next.then_some(&rest[..end])
    })
}

/// Compiles a JSONPath validated at build time.
pub(super) fn compile_path(path: &str) -> Result<JsonPath> {
    JsonPath::parse(path).map_err(|e| FaucetError::config(format!("invalid JSONPath `{path}`: {e}")))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn link_header_next() {
        let h = r#"<https://x.test/a?page=1>; rel="prev", <https://x.test/a?page=3&q=a,b>; rel="next last""#;
        assert_eq!(next_link(h), Some("https://x.test/a?page=3&q=a,b"));
        assert_eq!(next_link(r#"</p2>; title="a, rel=next"; rel=next"#), Some("/p2"));
        assert_eq!(next_link(r#"<https://x.test/>; rel="prev""#), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn redacts_credentials() {
        let url = Url::parse("https://user:pw-123@x.test/a?api_key=k1&page=2&access_token=t&mine=v").unwrap();
        let shown = redact(&url, Some("mine"));
        assert_eq!(shown, "https://user:***@x.test/a?api_key=***&page=2&access_token=***&mine=***");
    }

    #[test]
    fn positions_round_trip() {
        for p in [
            Position::Start,
            Position::Cursor("c".into()),
            Position::Url("http://x/".into()),
            Position::Page(3),
            Position::Offset(40),
        ] {
            assert_eq!(Position::from_json(&p.to_json()), Some(p));
        }
        assert_eq!(Position::from_json(&json!({"bogus": 1})), None);
    }
}

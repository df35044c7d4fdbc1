//! `rest`: JSON over HTTP(S), with pagination, auth, retries and incremental replication.

use proc_macro2::{Literal, TokenStream};
use quote::{ToTokens as _, quote};

use super::common::opt;
use crate::diag::{Diagnostics, Loc, list};
use crate::emit::Gen;
use crate::load::{Node, Value};
use crate::read::{
    Fields, boolean, int_in, one_of, parent_reference, plain_string, text, text_in, token_loc,
};
use crate::secrets::{self, Position, secret};
use crate::spec::{Field, Kind, Spec, Variant};
use crate::text::{Encode, Text, TextPart};

/// A JSON value whose strings may hold `${env:…}` (a request body, a start value).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// A string, resolved at run time.
    Str(Text),
    /// An array.
    Seq(Vec<Json>),
    /// An object, keys in the order written.
    Map(Vec<(String, Json)>),
}

/// `pagination`.
#[derive(Debug, Clone, PartialEq)]
pub enum Pagination {
    /// `None`.
    None,
    /// `Cursor`.
    Cursor {
        /// JSONPath of the next token.
        next_token_path: String,
        /// Query parameter.
        param_name: String,
    },
    /// `CursorInBody`.
    CursorInBody {
        /// JSONPath of the next token.
        next_token_path: String,
        /// Body field.
        body_cursor_field: String,
    },
    /// `LinkHeader`.
    LinkHeader,
    /// `NextLinkInBody`.
    NextLinkInBody {
        /// JSONPath of the next link.
        next_link_path: String,
    },
    /// `PageNumber`.
    PageNumber {
        /// Query parameter of the page number.
        param_name: String,
        /// The first page.
        start_page: u64,
        /// Records per page.
        page_size: Option<u64>,
        /// Query parameter of the page size.
        page_size_param: Option<String>,
    },
    /// `Offset`.
    Offset {
        /// Query parameter of the offset.
        offset_param: String,
        /// Query parameter of the limit.
        limit_param: String,
        /// Records per page.
        limit: u64,
        /// JSONPath of the total.
        total_path: Option<String>,
    },
}

/// `auth`.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `none`.
    None,
    /// `bearer`.
    Bearer {
        /// The token (an `${env:…}` reference).
        token: Text,
    },
    /// `basic`.
    Basic {
        /// User name.
        username: Text,
        /// Password (an `${env:…}` reference).
        password: Text,
    },
    /// `api_key`.
    ApiKey {
        /// Header name.
        header: String,
        /// The key (an `${env:…}` reference).
        value: Text,
    },
    /// `api_key_query`.
    ApiKeyQuery {
        /// Query parameter.
        param: String,
        /// The key (an `${env:…}` reference).
        value: Text,
    },
    /// `oauth2` client credentials.
    OAuth2 {
        /// Token endpoint.
        token_url: Text,
        /// Client id.
        client_id: Text,
        /// Client secret (an `${env:…}` reference).
        client_secret: Text,
        /// Scopes.
        scopes: Vec<String>,
        /// Refresh after this share of the lifetime.
        expiry_ratio: f64,
    },
}

/// Incremental replication settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    /// The record field that grows.
    pub key: String,
    /// The first run's lower bound.
    pub start_value: Option<Json>,
    /// The query parameter carrying the bookmark.
    pub param: Option<String>,
}

/// `rest` source settings.
#[derive(Debug, Clone)]
pub struct RestSource {
    /// Scheme, host, base path.
    pub base_url: Text,
    /// Appended to `base_url`.
    pub path: Text,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// Request headers.
    pub headers: Vec<(String, Text)>,
    /// Query parameters.
    pub query_params: Vec<(String, Text)>,
    /// JSON body.
    pub body: Option<Json>,
    /// JSONPath of the records, checked at build time.
    pub records_path: Option<String>,
    /// Pagination style.
    pub pagination: Pagination,
    /// Page cap per run.
    pub max_pages: Option<u64>,
    /// Pages without records in a row that end pagination.
    pub max_empty_pages: u64,
    /// Request timeout, ms.
    pub timeout_ms: u64,
    /// Retries.
    pub max_retries: u64,
    /// Backoff base, ms.
    pub retry_backoff_ms: u64,
    /// `Retry-After` cap, ms.
    pub max_retry_after_ms: u64,
    /// Retry POST/PATCH.
    pub retry_non_idempotent: bool,
    /// Largest response body read.
    pub max_response_bytes: u64,
    /// Least time between requests, ms.
    pub request_delay_ms: u64,
    /// Requests per second.
    pub rate_limit: Option<f64>,
    /// Statuses that end pagination.
    pub tolerated_http_errors: Vec<u64>,
    /// Incremental replication.
    pub replication: Option<Replication>,
    /// Credentials.
    pub auth: Auth,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const STYLES: &[&str] =
    &["None", "Cursor", "CursorInBody", "LinkHeader", "NextLinkInBody", "PageNumber", "Offset"];
const AUTHS: &[&str] = &["none", "bearer", "basic", "api_key", "api_key_query", "oauth2"];

const NUM: Kind = Kind::Number(f64::NEG_INFINITY, f64::INFINITY);

const PAGINATION_NONE: Spec =
    Spec { name: "rest.pagination.None", doc: "One request.", fields: &[], variants: &[] };
const PAGINATION_LINK: Spec = Spec {
    name: "rest.pagination.LinkHeader",
    doc: "Follow the `Link: <…>; rel=\"next\"` header.",
    fields: &[],
    variants: &[],
};
const PAGINATION_CURSOR: Spec = Spec {
    name: "rest.pagination.Cursor",
    doc: "A token from the body, sent back as a query parameter.",
    fields: &[
        Field::req("next_token_path", Kind::Str, "JSONPath of the next token."),
        Field::req("param_name", Kind::Str, "The query parameter."),
    ],
    variants: &[],
};
const PAGINATION_CURSOR_BODY: Spec = Spec {
    name: "rest.pagination.CursorInBody",
    doc: "A token from the body, sent back in the request body.",
    fields: &[
        Field::req("next_token_path", Kind::Str, "JSONPath of the next token."),
        Field::req("body_cursor_field", Kind::Str, "The body field."),
    ],
    variants: &[],
};
const PAGINATION_NEXT_LINK: Spec = Spec {
    name: "rest.pagination.NextLinkInBody",
    doc: "The next page's URL from the body.",
    fields: &[Field::req("next_link_path", Kind::Str, "JSONPath of the next link.")],
    variants: &[],
};
const PAGINATION_PAGE: Spec = Spec {
    name: "rest.pagination.PageNumber",
    doc: "A page number query parameter, until a page is empty.",
    fields: &[
        Field::req("param_name", Kind::Str, "The page number's query parameter."),
        Field::opt("start_page", Kind::Int(0, i64::MAX), "The first page.").default("1"),
        Field::opt("page_size", Kind::Int(1, 1_000_000), "Records per page."),
        Field::opt("page_size_param", Kind::Str, "The page size's query parameter (with `page_size`)."),
    ],
    variants: &[],
};
const PAGINATION_OFFSET: Spec = Spec {
    name: "rest.pagination.Offset",
    doc: "Offset and limit query parameters.",
    fields: &[
        Field::req("offset_param", Kind::Str, "The offset's query parameter."),
        Field::req("limit_param", Kind::Str, "The limit's query parameter."),
        Field::req("limit", Kind::Int(1, 1_000_000), "Records per page."),
        Field::opt("total_path", Kind::Str, "JSONPath of the total, to stop early."),
    ],
    variants: &[],
};

const PAGINATION: Spec = Spec {
    name: "rest.pagination",
    doc: "How the next page is requested.",
    fields: &[Field::req("type", Kind::OneOf(STYLES), "The pagination style.")],
    variants: &[
        Variant { tag: "None", nested: false, spec: Some(&PAGINATION_NONE) },
        Variant { tag: "Cursor", nested: false, spec: Some(&PAGINATION_CURSOR) },
        Variant { tag: "CursorInBody", nested: false, spec: Some(&PAGINATION_CURSOR_BODY) },
        Variant { tag: "LinkHeader", nested: false, spec: Some(&PAGINATION_LINK) },
        Variant { tag: "NextLinkInBody", nested: false, spec: Some(&PAGINATION_NEXT_LINK) },
        Variant { tag: "PageNumber", nested: false, spec: Some(&PAGINATION_PAGE) },
        Variant { tag: "Offset", nested: false, spec: Some(&PAGINATION_OFFSET) },
    ],
};

/// The lowest `requests_per_second`: one request a day, the longest wait
/// `request_delay` may ask for too.
const MIN_REQUESTS_PER_SECOND: f64 = 1.0 / 86_400.0;

const RATE_LIMIT: Spec = Spec {
    name: "rest.rate_limit",
    doc: "A request rate cap.",
    fields: &[Field::req(
        "requests_per_second",
        Kind::Number(MIN_REQUESTS_PER_SECOND, 100_000.0),
        "Requests per second, from one a day (0.0000116) to 100000.",
    )],
    variants: &[],
};

const REPLICATION_METHOD: Spec = Spec {
    name: "rest.replication_method",
    doc: "Full or incremental reads.",
    fields: &[Field::req("type", Kind::OneOf(&["FullTable", "Incremental"]), "The method.")],
    variants: &[],
};

const SECRET_DOC: &str = "A secret: read it with `${env:VAR}`.";
const AUTH_NONE: Spec = Spec { name: "rest.auth.none", doc: "No credentials.", fields: &[], variants: &[] };
const AUTH_BEARER: Spec = Spec {
    name: "rest.auth.bearer",
    doc: "`Authorization: Bearer <token>`.",
    fields: &[Field::req("token", Kind::Text, SECRET_DOC)],
    variants: &[],
};
const AUTH_BASIC: Spec = Spec {
    name: "rest.auth.basic",
    doc: "HTTP basic authentication.",
    fields: &[
        Field::req("username", Kind::Text, "The user."),
        Field::req("password", Kind::Text, SECRET_DOC),
    ],
    variants: &[],
};
const AUTH_API_KEY: Spec = Spec {
    name: "rest.auth.api_key",
    doc: "A key in a header.",
    fields: &[
        Field::opt("header", Kind::Str, "The header.").default("\"X-API-Key\""),
        Field::req("value", Kind::Text, SECRET_DOC),
    ],
    variants: &[],
};
const AUTH_API_KEY_QUERY: Spec = Spec {
    name: "rest.auth.api_key_query",
    doc: "A key in a query parameter.",
    fields: &[
        Field::opt("param", Kind::Str, "The query parameter.").default("\"api_key\""),
        Field::req("value", Kind::Text, SECRET_DOC),
    ],
    variants: &[],
};
const AUTH_OAUTH2: Spec = Spec {
    name: "rest.auth.oauth2",
    doc: "OAuth2 client credentials; the token is refreshed before it expires.",
    fields: &[
        Field::req("token_url", Kind::Text, "The token endpoint."),
        Field::req("client_id", Kind::Text, "The client id."),
        Field::req("client_secret", Kind::Text, SECRET_DOC),
        Field::opt(
            "scopes",
            Kind::AnyOf(&[Kind::Str, Kind::List(&Kind::Str)]),
            "Scopes (a list or a space-separated string).",
        ),
        Field::opt(
            "expiry_ratio",
            Kind::Number(0.0, 1.0),
            "Refresh after this share of the token's lifetime.",
        )
        .default("0.9"),
    ],
    variants: &[],
};

const AUTH: Spec = Spec {
    name: "rest.auth",
    doc: "Credentials: a `type` and its `config`.",
    fields: &[
        Field::req("type", Kind::OneOf(AUTHS), "The kind of credentials."),
        Field::opt("config", Kind::Json, "The credentials' settings."),
        Field::not_yet("ref"),
    ],
    variants: &[
        Variant { tag: "none", nested: true, spec: Some(&AUTH_NONE) },
        Variant { tag: "bearer", nested: true, spec: Some(&AUTH_BEARER) },
        Variant { tag: "basic", nested: true, spec: Some(&AUTH_BASIC) },
        Variant { tag: "api_key", nested: true, spec: Some(&AUTH_API_KEY) },
        Variant { tag: "api_key_query", nested: true, spec: Some(&AUTH_API_KEY_QUERY) },
        Variant { tag: "oauth2", nested: true, spec: Some(&AUTH_OAUTH2) },
    ],
};

/// The `rest` source config.
pub(crate) const SOURCE: Spec = Spec {
    name: "source.rest",
    doc: "JSON over HTTP(S), with pagination, auth, retries and incremental replication.",
    fields: &[
        Field::req("base_url", Kind::Text, "Scheme, host and base path, e.g. `https://api.example.com/v1`."),
        Field::opt("path", Kind::Text, "Appended to `base_url`.").default("\"\""),
        Field::opt(
            "method",
            Kind::AnyOf(&[Kind::OneOf(METHODS), Kind::OneOf(&["get", "post", "put", "patch", "delete"])]),
            "The HTTP method.",
        )
        .default("\"GET\""),
        Field::opt("headers", Kind::Map(&Kind::Scalar), "Request headers (secrets through `${env:…}`)."),
        Field::opt("query_params", Kind::Map(&Kind::Scalar), "Query parameters."),
        Field::opt("body", Kind::Json, "A JSON body (strings may hold `${env:…}`)."),
        Field::opt("records_path", Kind::Str, "JSONPath of the records, e.g. `$.data[*]`."),
        Field::opt("pagination", Kind::Object(&PAGINATION), "How the next page is requested."),
        Field::opt("max_pages", Kind::Int(1, u32::MAX as i64), "Pages per run at most."),
        Field::opt(
            "max_empty_pages",
            Kind::Int(1, u32::MAX as i64),
            "Pages without records in a row that end pagination.",
        )
        .default("10"),
        Field::opt("timeout", Kind::Number(0.001, 86_400.0), "Request timeout in seconds.").default("30"),
        Field::opt("max_retries", Kind::Int(0, 100), "Retries of a failed request.").default("3"),
        Field::opt("retry_backoff", Kind::Number(0.0, 86_400.0), "Backoff base in seconds.").default("1"),
        Field::opt(
            "max_retry_after",
            Kind::Number(0.0, 86_400.0),
            "Longest `Retry-After` honoured, in seconds.",
        )
        .default("60"),
        Field::opt("retry_non_idempotent", Kind::Bool, "Retry POST and PATCH too.").default("false"),
        Field::opt(
            "max_response_bytes",
            Kind::Int(1024, 1 << 40),
            "The largest response body read; a larger one fails the run.",
        )
        .default("67108864"),
        Field::opt("request_delay", Kind::Number(0.0, 86_400.0), "Least seconds between requests.")
            .default("0"),
        Field::opt(
            "tolerated_http_errors",
            Kind::List(&Kind::Int(400, 599)),
            "Statuses that end pagination quietly.",
        ),
        Field::opt("rate_limit", Kind::Object(&RATE_LIMIT), "A request rate cap."),
        Field::opt(
            "replication_method",
            Kind::AnyOf(&[Kind::OneOf(&["FullTable", "Incremental"]), Kind::Object(&REPLICATION_METHOD)]),
            "`Incremental` reads past the last bookmark.",
        ),
        Field::opt("replication_key", Kind::Str, "The record field that grows (incremental)."),
        Field::opt(
            "start_replication_value",
            Kind::AnyOf(&[NUM, Kind::Text]),
            "The first run's lower bound.",
        ),
        Field::opt("replication_param", Kind::Str, "The query parameter carrying the bookmark."),
        Field::opt("auth", Kind::Object(&AUTH), "Credentials."),
        Field::opt(
            "state_key",
            Kind::Str,
            "Accepted for faucet-stream compatibility (the key is `pipeline::row`).",
        ),
        Field::opt("primary_keys", Kind::List(&Kind::Str), "Accepted for faucet-stream compatibility."),
        Field::opt("schema_sample_size", Kind::Int(0, i64::MAX), "Accepted for faucet-stream compatibility."),
        Field::opt("partitions", Kind::List(&Kind::Json), "Only an empty list is accepted for now."),
        Field::not_yet("query_params_multi"),
        Field::not_yet("name"),
        Field::not_yet("schema"),
        Field::not_yet("partition_concurrency"),
        Field::not_yet("tls"),
        Field::not_yet("response_format"),
        Field::not_yet("csv_delimiter"),
        Field::not_yet("csv_has_headers"),
        Field::not_yet("excel_sheet"),
        Field::not_yet("excel_header_row"),
        Field::not_yet("replication_bind"),
        Field::not_yet("odata"),
        Field::not_yet("decode"),
        Field::not_yet("async_job"),
        Field::not_yet("window"),
    ],
    variants: &[],
};

pub(crate) fn source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<RestSource> {
    let mut f = Fields::with_spec(config, &SOURCE, what, diags)?;
    let base_url = f.require("base_url", diags).and_then(|n| base_url(n, diags));
    // A matrix parent's value lands in the path percent-encoded, within one
    // segment; query values need nothing here (the runtime encodes them with
    // `append_pair`), nor do header values and bodies (sent as data).
    let path = opt(f.get("path"), Text::literal(""), |n| {
        let t = text_in(n, "path", Encode::UrlSegment, diags)?;
        secrets::check(n, &t, "path", Position::Url, diags).then_some(t)
    });
    let method = opt(f.get("method"), "GET", |n| method(n, diags));
    let headers = opt(f.get("headers"), Vec::new(), |n| string_map(n, "headers", true, diags));
    let query_params =
        opt(f.get("query_params"), Vec::new(), |n| string_map(n, "query_params", false, diags));
    let body = f.get("body").map(|n| json(n, "body", diags));
    let records_path = f.get("records_path").map(|n| json_path(n, "records_path", diags));
    let pagination = opt(f.get("pagination"), Pagination::None, |n| pagination(n, diags));
    let max_pages =
        f.get("max_pages").map(|n| int_in(n, "max_pages", 1, i64::from(u32::MAX), diags).map(|v| v as u64));
    let max_empty_pages = opt(f.get("max_empty_pages"), 10, |n| {
        int_in(n, "max_empty_pages", 1, i64::from(u32::MAX), diags).map(|v| v as u64)
    });
    let timeout = opt(f.get("timeout"), 30_000, |n| duration(n, "timeout", false, diags));
    let max_retries =
        opt(f.get("max_retries"), 3, |n| int_in(n, "max_retries", 0, 100, diags).map(|v| v as u64));
    let retry_backoff = opt(f.get("retry_backoff"), 1_000, |n| duration(n, "retry_backoff", true, diags));
    let max_retry_after =
        opt(f.get("max_retry_after"), 60_000, |n| duration(n, "max_retry_after", true, diags));
    let retry_non_idempotent =
        opt(f.get("retry_non_idempotent"), false, |n| boolean(n, "retry_non_idempotent", diags));
    let max_response_bytes = opt(f.get("max_response_bytes"), 64 << 20, |n| {
        int_in(n, "max_response_bytes", 1024, 1 << 40, diags).map(|v| v as u64)
    });
    let request_delay = opt(f.get("request_delay"), 0, |n| duration(n, "request_delay", true, diags));
    let tolerated = opt(f.get("tolerated_http_errors"), Vec::new(), |n| statuses(n, diags));
    let rate_limit = f.get("rate_limit").map(|n| rate_limit(n, diags));
    let replication = replication(&mut f, diags);
    let auth = opt(f.get("auth"), Auth::None, |n| auth(n, diags));
    // Accepted for faucet-stream compatibility; the state key is the driver's
    // (`pipeline::row`), and schema inference is not a faucet feature.
    if let Some(n) = f.get("state_key") {
        plain_string(n, "state_key", diags);
    }
    if let Some(n) = f.get("primary_keys") {
        string_list(n, "primary_keys", diags);
    }
    if let Some(n) = f.get("schema_sample_size") {
        int_in(n, "schema_sample_size", 0, i64::MAX, diags);
    }
    if let Some(n) = f.get("partitions") {
        match &n.value {
            Value::Seq(items) if items.is_empty() => {}
            _ => {
                diags.error(&n.loc, "`partitions` in the `rest` source config is not supported by faucet yet")
            }
        }
    }
    f.finish(diags);
    let (body, records_path, max_pages, rate_limit) =
        (body.present()?, records_path.present()?, max_pages.present()?, rate_limit.present()?);
    let pagination = pagination?;
    if let (Pagination::CursorInBody { .. }, Some(b)) = (&pagination, &body)
        && !matches!(b, Json::Map(_))
    {
        diags.error(&config.loc, "`CursorInBody` pagination needs `body` to be a map");
        return None;
    }
    Some(RestSource {
        base_url: base_url?,
        path: path?,
        method: method?,
        headers: headers?,
        query_params: query_params?,
        body,
        records_path,
        pagination,
        max_pages,
        max_empty_pages: max_empty_pages?,
        timeout_ms: timeout?,
        max_retries: max_retries?,
        retry_backoff_ms: retry_backoff?,
        max_retry_after_ms: max_retry_after?,
        retry_non_idempotent: retry_non_idempotent?,
        max_response_bytes: max_response_bytes?,
        request_delay_ms: request_delay?,
        rate_limit,
        tolerated_http_errors: tolerated?,
        replication: replication?,
        auth: auth?,
    })
}

/// `base_url`: when literal, an absolute http(s) URL without query, fragment
/// or password. A parent record's value may only follow the authority: it can
/// never pick the host, port or user the request (and its credentials) go to.
fn base_url(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text_in(node, "base_url", Encode::UrlPathInUrl, diags)?;
    if !secrets::check(node, &t, "base_url", Position::Url, diags) {
        return None;
    }
    if let Some((prefix, token)) = literal_before_parent(&t)
        && !authority_closed(&prefix)
    {
        diags.error_help(
            &token_loc(&node.loc, &token),
            format!("`{token}` would be part of the URL's host, port or user in `base_url`"),
            "a record value may only be part of the URL's path: write the host first, \
             e.g. `https://api.example.com/users/${…}`",
        );
        return None;
    }
    let Some(lit) = t.as_literal() else {
        return Some(t);
    };
    let url = match url::Url::parse(&lit) {
        Ok(url) => url,
        Err(e) => {
            diags.error_help(
                &node.loc,
                format!("`base_url` {lit:?} is not a valid URL: {e}"),
                "write an absolute URL such as `https://api.example.com/v1`",
            );
            return None;
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        diags.error_help(
            &node.loc,
            format!("`base_url` must use http or https, not `{}`", url.scheme()),
            "write an absolute URL such as `https://api.example.com/v1`",
        );
        return None;
    }
    if url.query().is_some() || url.fragment().is_some() {
        diags.error_help(
            &node.loc,
            "`base_url` has a query string or fragment",
            "put query parameters under `query_params:`",
        );
        return None;
    }
    Some(t)
}

/// The literal text before the first parent value and that value's reference,
/// when no `${env:…}` comes first (then only the run time can tell).
fn literal_before_parent(t: &Text) -> Option<(String, String)> {
    let mut prefix = String::new();
    for part in &t.0 {
        match part {
            TextPart::Lit(s) => prefix.push_str(s),
            TextPart::Env(_) => return None,
            TextPart::Parent { path, .. } => return Some((prefix, parent_reference(path))),
        }
    }
    None
}

/// True when `prefix` holds a whole authority (`scheme://host/`), as the
/// runtime checks again (`faucet_runtime::substitute`).
fn authority_closed(prefix: &str) -> bool {
    let Some(scheme_end) = prefix.find("://") else { return false };
    let after = &prefix[scheme_end + 3..];
    after.find(['/', '\\']).is_some() && !after.contains(['?', '#'])
}

fn method(node: &Node, diags: &mut Diagnostics) -> Option<&'static str> {
    if let Value::Str(s) = &node.value
        && let Some(m) = METHODS.iter().find(|m| m.eq_ignore_ascii_case(s))
    {
        return Some(m);
    }
    one_of(node, "method", METHODS, diags)
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

/// An HTTP token (RFC 9110): the characters a header name may use.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Any YAML value as a JSON template.
fn json(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Json> {
    Some(match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Int(*i),
        Value::Float(x) if x.is_finite() => Json::Float(*x),
        Value::Float(_) => {
            diags.error(&node.loc, format!("`{key}` holds a number JSON cannot represent"));
            return None;
        }
        Value::Str(_) => Json::Str(text_in(node, key, Encode::Raw, diags)?),
        Value::Seq(items) => {
            let items: Vec<Option<Json>> = items.iter().map(|n| json(n, key, diags)).collect();
            Json::Seq(items.into_iter().collect::<Option<_>>()?)
        }
        Value::Map(entries) => {
            let items: Vec<Option<(String, Json)>> =
                entries.iter().map(|e| json(&e.value, key, diags).map(|v| (e.key.clone(), v))).collect();
            Json::Map(items.into_iter().collect::<Option<_>>()?)
        }
    })
}

/// A JSONPath, parsed now so a typo is a build error.
fn json_path(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    let s = plain_string(node, key, diags)?;
    if crate::read::bracket_depth(&s) > crate::read::MAX_BRACKET_DEPTH {
        diags.error_help(
            &node.loc,
            format!("`{key}` nests brackets more than {} deep", crate::read::MAX_BRACKET_DEPTH),
            "write a JSONPath (RFC 9535) such as `$.data[*]`",
        );
        return None;
    }
    match serde_json_path::JsonPath::parse(&s) {
        Ok(_) => Some(s),
        Err(e) => {
            diags.error_help(
                &node.loc,
                format!(
                    "`{key}` {s:?} is not a valid JSONPath: {} (at character {})",
                    e.message(),
                    e.position() + 1
                ),
                "write a JSONPath (RFC 9535) such as `$.data[*]`",
            );
            None
        }
    }
}

/// A duration in seconds (integer or decimal), as milliseconds.
fn duration(node: &Node, key: &str, zero_ok: bool, diags: &mut Diagnostics) -> Option<u64> {
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
    if !(0.0..=86_400_000.0).contains(&ms) || (!zero_ok && ms < 1.0) {
        let range = if zero_ok { "from 0 to 86400" } else { "from 0.001 to 86400" };
        diags.error_help(
            &node.loc,
            format!("`{key}` is {seconds}, out of range"),
            format!("use a number of seconds {range}"),
        );
        return None;
    }
    Some(ms as u64)
}

fn statuses(node: &Node, diags: &mut Diagnostics) -> Option<Vec<u64>> {
    let Value::Seq(items) = &node.value else {
        diags.error(
            &node.loc,
            format!("`tolerated_http_errors` must be a list, found {}", node.value.kind_name()),
        );
        return None;
    };
    let codes: Vec<Option<u64>> =
        items.iter().map(|n| int_in(n, "tolerated_http_errors", 400, 599, diags).map(|v| v as u64)).collect();
    codes.into_iter().collect()
}

fn string_list(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Vec<String>> {
    let Value::Seq(items) = &node.value else {
        diags.error(&node.loc, format!("`{key}` must be a list, found {}", node.value.kind_name()));
        return None;
    };
    let items: Vec<Option<String>> = items.iter().map(|n| plain_string(n, key, diags)).collect();
    items.into_iter().collect()
}

fn rate_limit(node: &Node, diags: &mut Diagnostics) -> Option<f64> {
    let mut f = Fields::with_spec(node, &RATE_LIMIT, "`rate_limit`", diags)?;
    let rps = f.require("requests_per_second", diags);
    f.finish(diags);
    let rps = rps?;
    let in_range = |x: f64| (MIN_REQUESTS_PER_SECOND..=100_000.0).contains(&x);
    match rps.value {
        Value::Int(i) if in_range(i as f64) => Some(i as f64),
        Value::Float(x) if in_range(x) => Some(x),
        _ => {
            diags.error_help(
                &rps.loc,
                "`requests_per_second` must be a positive number, from one request a day to 100000 a second",
                "use a number such as `5` or `0.5` (at least 0.0000116, one a day)",
            );
            None
        }
    }
}

fn string_field(f: &mut Fields, key: &'static str, style: &str, diags: &mut Diagnostics) -> Option<String> {
    let node = f.require(key, diags)?;
    let s = plain_string(node, key, diags)?;
    if s.is_empty() {
        diags.error(&node.loc, format!("`{key}` of `{style}` pagination is empty"));
        return None;
    }
    Some(s)
}

fn pagination(node: &Node, diags: &mut Diagnostics) -> Option<Pagination> {
    let mut f = Fields::with_spec(node, &PAGINATION, "`pagination`", diags)?;
    let style_node = f.require("type", diags)?;
    let style = one_of(style_node, "pagination type", STYLES, diags);
    let Some(style) = style else {
        // Read the other keys so they are not reported as unknown as well.
        for key in [
            "next_token_path",
            "param_name",
            "body_cursor_field",
            "next_link_path",
            "start_page",
            "page_size",
        ] {
            f.get(key);
        }
        for key in ["page_size_param", "offset_param", "limit_param", "limit", "total_path"] {
            f.get(key);
        }
        return None;
    };
    let path = |f: &mut Fields, key: &'static str, diags: &mut Diagnostics| {
        f.require(key, diags).and_then(|n| json_path(n, key, diags))
    };
    let result = match style {
        "None" => Some(Pagination::None),
        "LinkHeader" => Some(Pagination::LinkHeader),
        "Cursor" => {
            let next_token_path = path(&mut f, "next_token_path", diags);
            let param_name = string_field(&mut f, "param_name", style, diags);
            Some(Pagination::Cursor { next_token_path: next_token_path?, param_name: param_name? })
        }
        "CursorInBody" => {
            let next_token_path = path(&mut f, "next_token_path", diags);
            let body_cursor_field = string_field(&mut f, "body_cursor_field", style, diags);
            Some(Pagination::CursorInBody {
                next_token_path: next_token_path?,
                body_cursor_field: body_cursor_field?,
            })
        }
        "NextLinkInBody" => {
            Some(Pagination::NextLinkInBody { next_link_path: path(&mut f, "next_link_path", diags)? })
        }
        "PageNumber" => {
            let param_name = string_field(&mut f, "param_name", style, diags);
            let start_page = opt(f.get("start_page"), 1, |n| {
                int_in(n, "start_page", 0, i64::MAX, diags).map(|v| v as u64)
            });
            let page_size =
                f.get("page_size").map(|n| int_in(n, "page_size", 1, 1_000_000, diags).map(|v| v as u64));
            let size_param = f.get("page_size_param").map(|n| plain_string(n, "page_size_param", diags));
            let (page_size, size_param) = (page_size.present()?, size_param.present()?);
            if let (None, Some(_)) = (page_size, &size_param) {
                diags.error_help(
                    &node.loc,
                    "`page_size_param` without `page_size`",
                    "add `page_size: <records per page>`",
                );
                return None;
            }
            Some(Pagination::PageNumber {
                param_name: param_name?,
                start_page: start_page?,
                page_size,
                page_size_param: size_param,
            })
        }
        _ => {
            let offset_param = string_field(&mut f, "offset_param", style, diags);
            let limit_param = string_field(&mut f, "limit_param", style, diags);
            let limit = f.require("limit", diags).and_then(|n| int_in(n, "limit", 1, 1_000_000, diags));
            let total_path = f.get("total_path").map(|n| json_path(n, "total_path", diags)).present();
            Some(Pagination::Offset {
                offset_param: offset_param?,
                limit_param: limit_param?,
                limit: limit? as u64,
                total_path: total_path?,
            })
        }
    };
    f.finish(diags);
    result
}

fn replication(f: &mut Fields, diags: &mut Diagnostics) -> Option<Option<Replication>> {
    let method_node = f.get("replication_method");
    let key_node = f.get("replication_key");
    let start_node = f.get("start_replication_value");
    let param_node = f.get("replication_param");
    let method = match method_node {
        None => None,
        Some(n) => {
            let kind = match &n.value {
                Value::Map(_) => {
                    let mut m = Fields::with_spec(n, &REPLICATION_METHOD, "`replication_method`", diags)?;
                    let t = m.require("type", diags);
                    m.finish(diags);
                    t?
                }
                _ => n,
            };
            Some(one_of(kind, "replication_method", &["FullTable", "Incremental"], diags)?)
        }
    };
    let key = key_node.map(|n| plain_string(n, "replication_key", diags)).present()?;
    let start = start_node
        .map(|n| match n.value {
            Value::Int(_) | Value::Float(_) | Value::Str(_) => json(n, "start_replication_value", diags),
            _ => {
                diags.error(&n.loc, "`start_replication_value` must be a number or a string");
                None
            }
        })
        .present()?;
    let param = param_node.map(|n| plain_string(n, "replication_param", diags)).present()?;
    let incremental = match method {
        Some("Incremental") => true,
        Some(_) => false,
        // Without `replication_method`, a `replication_key` means incremental.
        None => key.is_some(),
    };
    if !incremental {
        if let Some(n) = param_node.or(start_node).filter(|_| method.is_some()) {
            diags.error_help(
                &n.loc,
                "incremental settings with `replication_method: FullTable`",
                "use `replication_method: {type: Incremental}`, or remove them",
            );
            return None;
        }
        return Some(None);
    }
    let Some(key) = key else {
        let loc = method_node.map_or(Loc::Unknown, |n| n.loc.clone());
        diags.error_help(
            &loc,
            "incremental replication needs `replication_key`",
            "add `replication_key: <field>`",
        );
        return None;
    };
    Some(Some(Replication { key, start_value: start, param }))
}

fn auth(node: &Node, diags: &mut Diagnostics) -> Option<Auth> {
    let mut f = Fields::with_spec(node, &AUTH, "`auth`", diags)?;
    let kind = f.get("type");
    let config = f.get("config").cloned();
    f.finish(diags);
    let Some(kind) = kind else {
        if f_has_ref(node) {
            return None;
        }
        diags.error_help(
            &node.loc,
            "missing required key `type` in `auth`",
            format!("add `type: …`, one of {}", list(AUTHS)),
        );
        return None;
    };
    if let Value::Str(s) = &kind.value
        && matches!(s.as_str(), "token_endpoint" | "custom")
    {
        diags.error_help(
            &kind.loc,
            format!("`auth` type `{s}` is not supported by faucet yet"),
            format!("supported auth types: {}", list(AUTHS)),
        );
        return None;
    }
    let kind = one_of(kind, "auth type", AUTHS, diags)?;
    let config = config.unwrap_or_else(|| Node { value: Value::Map(Vec::new()), loc: node.loc.clone() });
    let spec = AUTH
        .variants
        .iter()
        .find(|v| v.tag == kind)
        .and_then(|v| v.spec)
        .expect("every auth type has a spec");
    let mut c = Fields::with_spec(&config, spec, format!("the `{kind}` auth config"), diags)?;
    let auth = match kind {
        "none" => Some(Auth::None),
        "bearer" => c
            .require("token", diags)
            .and_then(|n| secret(n, "token", diags))
            .map(|token| Auth::Bearer { token }),
        "basic" => {
            let username = c.require("username", diags).and_then(|n| text(n, "username", diags));
            let password = c.require("password", diags).and_then(|n| secret(n, "password", diags));
            Some(Auth::Basic { username: username?, password: password? })
        }
        "api_key" => {
            let header = opt(c.get("header"), "X-API-Key".to_owned(), |n| plain_string(n, "header", diags));
            let value = c.require("value", diags).and_then(|n| secret(n, "value", diags));
            match header {
                Some(h) if !is_token(&h) => {
                    diags.error(&config.loc, format!("`{h}` is not a valid HTTP header name"));
                    None
                }
                h => Some(Auth::ApiKey { header: h?, value: value? }),
            }
        }
        "api_key_query" => {
            let param = opt(c.get("param"), "api_key".to_owned(), |n| plain_string(n, "param", diags));
            let value = c.require("value", diags).and_then(|n| secret(n, "value", diags));
            Some(Auth::ApiKeyQuery { param: param?, value: value? })
        }
        _ => {
            let token_url = c.require("token_url", diags).and_then(|n| {
                let t = text(n, "token_url", diags)?;
                if !secrets::check(n, &t, "token_url", Position::Url, diags) {
                    return None;
                }
                if let Some(lit) = t.as_literal()
                    && !url::Url::parse(&lit).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
                {
                    diags.error_help(
                        &n.loc,
                        format!("`token_url` {lit:?} is not an http(s) URL"),
                        "write an absolute URL",
                    );
                    return None;
                }
                Some(t)
            });
            let client_id = c.require("client_id", diags).and_then(|n| text(n, "client_id", diags));
            let client_secret =
                c.require("client_secret", diags).and_then(|n| secret(n, "client_secret", diags));
            let scopes = opt(c.get("scopes"), Vec::new(), |n| match &n.value {
                Value::Str(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
                _ => string_list(n, "scopes", diags),
            });
            let ratio = opt(c.get("expiry_ratio"), 0.9, |n| match n.value {
                Value::Float(x) if x > 0.0 && x <= 1.0 => Some(x),
                Value::Int(1) => Some(1.0),
                _ => {
                    diags.error_help(&n.loc, "`expiry_ratio` must be above 0 and at most 1", "such as `0.9`");
                    None
                }
            });
            Some(Auth::OAuth2 {
                token_url: token_url?,
                client_id: client_id?,
                client_secret: client_secret?,
                scopes: scopes?,
                expiry_ratio: ratio?,
            })
        }
    };
    c.finish(diags);
    auth
}

fn f_has_ref(node: &Node) -> bool {
    matches!(&node.value, Value::Map(entries) if entries.iter().any(|e| e.key == "ref"))
}

fn ms(v: u64) -> TokenStream {
    let v = Literal::u64_suffixed(v);
    quote!(::core::time::Duration::from_millis(#v))
}

fn string(s: &str) -> TokenStream {
    quote!(::std::string::String::from(#s))
}

fn option(v: Option<TokenStream>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn json_tokens(j: &Json, g: &Gen) -> TokenStream {
    let rt = g.rt();
    let sj = quote!(#rt::serde_json);
    match j {
        Json::Null => quote!(#sj::Value::Null),
        Json::Bool(b) => quote!(#sj::Value::Bool(#b)),
        Json::Int(i) => {
            let i = Literal::i64_suffixed(*i);
            quote!(#sj::Value::from(#i))
        }
        Json::Float(x) => {
            let x = Literal::f64_suffixed(*x);
            quote!(#sj::Value::from(#x))
        }
        Json::Str(t) => {
            let t = g.text(t);
            quote!(#sj::Value::String(#t))
        }
        Json::Seq(items) => {
            let items = items.iter().map(|i| json_tokens(i, g));
            quote!(#sj::Value::Array(::std::vec![#(#items),*]))
        }
        Json::Map(entries) => {
            let inserts = entries.iter().map(|(k, v)| {
                let v = json_tokens(v, g);
                quote!(map.insert(::std::string::String::from(#k), #v);)
            });
            quote!({
                let mut map = #sj::Map::new();
                #(#inserts)*
                #sj::Value::Object(map)
            })
        }
    }
}

impl RestSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let rest = quote!(#rt::connectors::rest);
        let secret = |t: &Text| {
            let t = g.text(t);
            quote!(#rt::secret::SecretString::new(#t))
        };
        let pairs = |pairs: &[(String, Text)]| {
            let items = pairs.iter().map(|(k, v)| {
                let v = g.text(v);
                quote!((::std::string::String::from(#k), #v))
            });
            quote!(::std::vec![#(#items),*])
        };
        let base_url = g.text(&self.base_url);
        let path = g.text(&self.path);
        let method = match self.method {
            "POST" => quote!(Post),
            "PUT" => quote!(Put),
            "PATCH" => quote!(Patch),
            "DELETE" => quote!(Delete),
            _ => quote!(Get),
        };
        let headers = pairs(&self.headers);
        let query_params = pairs(&self.query_params);
        let body = option(self.body.as_ref().map(|b| json_tokens(b, g)));
        let records_path = option(self.records_path.as_deref().map(string));
        let opt_string = |s: &Option<String>| option(s.as_deref().map(string));
        let pagination = match &self.pagination {
            Pagination::None => quote!(#rest::Pagination::None),
            Pagination::LinkHeader => quote!(#rest::Pagination::LinkHeader),
            Pagination::Cursor { next_token_path, param_name } => {
                let (p, n) = (string(next_token_path), string(param_name));
                quote!(#rest::Pagination::Cursor { next_token_path: #p, param_name: #n })
            }
            Pagination::CursorInBody { next_token_path, body_cursor_field } => {
                let (p, n) = (string(next_token_path), string(body_cursor_field));
                quote!(#rest::Pagination::CursorInBody { next_token_path: #p, body_cursor_field: #n })
            }
            Pagination::NextLinkInBody { next_link_path } => {
                let p = string(next_link_path);
                quote!(#rest::Pagination::NextLinkInBody { next_link_path: #p })
            }
            Pagination::PageNumber { param_name, start_page, page_size, page_size_param } => {
                let n = string(param_name);
                let start = Literal::u64_suffixed(*start_page);
                let size = option(page_size.map(|s| Literal::u64_suffixed(s).into_token_stream()));
                let size_param = opt_string(page_size_param);
                quote!(#rest::Pagination::PageNumber { param_name: #n, start_page: #start, page_size: #size, page_size_param: #size_param })
            }
            Pagination::Offset { offset_param, limit_param, limit, total_path } => {
                let (o, l) = (string(offset_param), string(limit_param));
                let limit = Literal::u64_suffixed(*limit);
                let total = opt_string(total_path);
                quote!(#rest::Pagination::Offset { offset_param: #o, limit_param: #l, limit: #limit, total_path: #total })
            }
        };
        let max_pages = option(self.max_pages.map(|v| Literal::u64_suffixed(v).into_token_stream()));
        let max_empty_pages = Literal::u64_suffixed(self.max_empty_pages);
        let timeout = ms(self.timeout_ms);
        let max_retries = Literal::u32_suffixed(self.max_retries as u32);
        let retry_backoff = ms(self.retry_backoff_ms);
        let max_retry_after = ms(self.max_retry_after_ms);
        let retry_non_idempotent = self.retry_non_idempotent;
        let max_response_bytes = Literal::u64_suffixed(self.max_response_bytes);
        let request_delay = ms(self.request_delay_ms);
        let rate_limit = option(self.rate_limit.map(|r| Literal::f64_suffixed(r).into_token_stream()));
        let tolerated = self.tolerated_http_errors.iter().map(|c| Literal::u16_suffixed(*c as u16));
        let replication = option(self.replication.as_ref().map(|r| {
            let key = string(&r.key);
            let start = option(r.start_value.as_ref().map(|v| json_tokens(v, g)));
            let param = opt_string(&r.param);
            quote!(#rest::Replication { key: #key, start_value: #start, param: #param })
        }));
        let auth = match &self.auth {
            Auth::None => quote!(#rest::Auth::None),
            Auth::Bearer { token } => {
                let token = secret(token);
                quote!(#rest::Auth::Bearer { token: #token })
            }
            Auth::Basic { username, password } => {
                let (u, p) = (g.text(username), secret(password));
                quote!(#rest::Auth::Basic { username: #u, password: #p })
            }
            Auth::ApiKey { header, value } => {
                let (h, v) = (string(header), secret(value));
                quote!(#rest::Auth::ApiKey { header: #h, value: #v })
            }
            Auth::ApiKeyQuery { param, value } => {
                let (p, v) = (string(param), secret(value));
                quote!(#rest::Auth::ApiKeyQuery { param: #p, value: #v })
            }
            Auth::OAuth2 { token_url, client_id, client_secret, scopes, expiry_ratio } => {
                let (u, i, s) = (g.text(token_url), g.text(client_id), secret(client_secret));
                let scopes = scopes.iter().map(|s| string(s));
                let ratio = Literal::f64_suffixed(*expiry_ratio);
                quote!(#rest::Auth::OAuth2(#rest::OAuth2Config {
                    token_url: #u,
                    client_id: #i,
                    client_secret: #s,
                    scopes: ::std::vec![#(#scopes),*],
                    expiry_ratio: #ratio,
                }))
            }
        };
        g.gated_whole(
            "rest",
            "`rest` source",
            loc,
            quote! {
                #rest::RestSource::new(#rest::RestSourceConfig {
                    base_url: #base_url,
                    path: #path,
                    method: #rest::Method::#method,
                    headers: #headers,
                    query_params: #query_params,
                    body: #body,
                    records_path: #records_path,
                    pagination: #pagination,
                    max_pages: #max_pages,
                    max_empty_pages: #max_empty_pages,
                    timeout: #timeout,
                    max_retries: #max_retries,
                    retry_backoff: #retry_backoff,
                    max_retry_after: #max_retry_after,
                    retry_non_idempotent: #retry_non_idempotent,
                    max_response_bytes: #max_response_bytes,
                    request_delay: #request_delay,
                    rate_limit: #rate_limit,
                    tolerated_http_errors: ::std::vec![#(#tolerated),*],
                    replication: #replication,
                    auth: #auth,
                })?
            },
        )
    }
}

/// An optional setting as read: `None` absent, `Some(None)` present but invalid.
trait Present<T> {
    /// `Some(None)` when absent, `None` when invalid, `Some(Some(v))` when valid.
    fn present(self) -> Option<Option<T>>;
}

impl<T> Present<T> for Option<Option<T>> {
    fn present(self) -> Option<Option<T>> {
        match self {
            None => Some(None),
            Some(None) => None,
            Some(Some(v)) => Some(Some(v)),
        }
    }
}

// Transitional: this connector's settings are not declared with `settings!` yet.

impl super::registry::Connector for RestSource {
    const SPEC: Spec = SOURCE;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        source(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}

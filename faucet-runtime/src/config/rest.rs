//! Settings of the `rest` source: the request, pagination, retries, auth and
//! incremental replication. Plain data (std and serde_json only), so a
//! generated config literal compiles without the `rest` feature.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::secret::SecretString;

/// The HTTP method of the source's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET` (the default).
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

/// Incremental replication: which field orders the records and where its
/// high-water mark goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    /// The top-level field of each record that grows (`updated_at`, `id`).
    pub key: String,
    /// The value to start from when there is no bookmark yet.
    pub start_value: Option<Value>,
    /// The query parameter that carries the bookmark to the server, if any.
    pub param: Option<String>,
}

/// The default `max_empty_pages`.
pub const DEFAULT_MAX_EMPTY_PAGES: u64 = 10;

/// The default `max_response_bytes`: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// Settings of the `rest` source, validated at build time.
#[derive(Clone)]
pub struct RestSourceConfig {
    /// Scheme, host and optional base path (`https://api.example.com/v1`).
    pub base_url: String,
    /// Appended to `base_url` with exactly one `/` between them.
    pub path: String,
    /// The request method.
    pub method: Method,
    /// Extra request headers, sent before the auth headers.
    pub headers: Vec<(String, String)>,
    /// Query parameters of the first request (and of every request that is not a next link).
    pub query_params: Vec<(String, String)>,
    /// The JSON request body, if any.
    pub body: Option<Value>,
    /// A JSONPath selecting the records; without it an array body is the
    /// records and any other body is one record.
    pub records_path: Option<String>,
    /// How to find the next page.
    pub pagination: Pagination,
    /// The most pages one run reads.
    pub max_pages: Option<u64>,
    /// Pages without records in a row that end pagination.
    pub max_empty_pages: u64,
    /// The whole-request timeout (connect, send, read the body).
    pub timeout: Duration,
    /// Retries of a failed request (5xx, timeouts, connection errors).
    pub max_retries: u32,
    /// The base of the exponential backoff.
    pub retry_backoff: Duration,
    /// The longest wait a `Retry-After` may ask for.
    pub max_retry_after: Duration,
    /// Retry POST and PATCH requests too.
    pub retry_non_idempotent: bool,
    /// The largest response body read; a larger one fails the run.
    pub max_response_bytes: u64,
    /// The least time between the starts of two requests.
    pub request_delay: Duration,
    /// At most this many requests per second.
    pub rate_limit: Option<f64>,
    /// Statuses that end pagination instead of failing the run.
    pub tolerated_http_errors: Vec<u16>,
    /// Incremental replication, when on.
    pub replication: Option<Replication>,
    /// How requests authenticate.
    pub auth: Auth,
    /// The stream's name, in the log line that ends each run's pagination
    /// (`stream = …`, or `(unnamed)`), as faucet-stream's `name`.
    pub name: Option<String>,
}

impl RestSourceConfig {
    /// The defaults for `base_url`: one `GET`, no pagination, 30 s timeout,
    /// 3 retries from a 1 s backoff, `Retry-After` capped at 60 s.
    pub fn new(base_url: impl Into<String>) -> Self {
        RestSourceConfig {
            base_url: base_url.into(),
            path: String::new(),
            method: Method::Get,
            headers: Vec::new(),
            query_params: Vec::new(),
            body: None,
            records_path: None,
            pagination: Pagination::None,
            max_pages: None,
            max_empty_pages: DEFAULT_MAX_EMPTY_PAGES,
            timeout: Duration::from_secs(30),
            max_retries: 3,
            retry_backoff: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(60),
            retry_non_idempotent: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            request_delay: Duration::ZERO,
            rate_limit: None,
            tolerated_http_errors: Vec::new(),
            replication: None,
            auth: Auth::None,
            name: None,
        }
    }
}

impl fmt::Debug for RestSourceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values of headers, query parameters and the body may hold secrets:
        // only their names are printed.
        let names = |pairs: &[(String, String)]| pairs.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        f.debug_struct("RestSourceConfig")
            .field("name", &self.name)
            .field("base_url", &crate::secret::scrub(self.base_url.clone()))
            .field("path", &crate::secret::scrub(self.path.clone()))
            .field("method", &self.method)
            .field("headers", &names(&self.headers))
            .field("query_params", &names(&self.query_params))
            .field("body", &self.body.as_ref().map(|_| "…"))
            .field("records_path", &self.records_path)
            .field("pagination", &self.pagination)
            .field("max_pages", &self.max_pages)
            .field("max_empty_pages", &self.max_empty_pages)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("max_retry_after", &self.max_retry_after)
            .field("retry_non_idempotent", &self.retry_non_idempotent)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("request_delay", &self.request_delay)
            .field("rate_limit", &self.rate_limit)
            .field("tolerated_http_errors", &self.tolerated_http_errors)
            .field("replication", &self.replication)
            .field("auth", &self.auth)
            .finish()
    }
}

/// How the source finds the next page (faucet-stream's styles and fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pagination {
    /// One request.
    None,
    /// A token from the body (`next_token_path`) is sent as query parameter `param_name`.
    Cursor {
        /// JSONPath of the next token; a missing, null or empty token ends pagination.
        next_token_path: String,
        /// The query parameter that carries it.
        param_name: String,
    },
    /// A token from the body is sent as field `body_cursor_field` of the JSON request body.
    CursorInBody {
        /// JSONPath of the next token.
        next_token_path: String,
        /// The top-level field of the request body that carries it.
        body_cursor_field: String,
    },
    /// The `Link` response header's `rel="next"` target (RFC 8288).
    LinkHeader,
    /// A URL in the body (`next_link_path`), absolute or relative to the request.
    NextLinkInBody {
        /// JSONPath of the next link.
        next_link_path: String,
    },
    /// Page numbers from `start_page`; an empty page (or one shorter than
    /// `page_size`, when known) is the last.
    PageNumber {
        /// The query parameter of the page number.
        param_name: String,
        /// The first page's number.
        start_page: u64,
        /// The page size sent with `page_size_param`.
        page_size: Option<u64>,
        /// The query parameter of the page size.
        page_size_param: Option<String>,
    },
    /// Offsets in steps of the records received; a page shorter than `limit`
    /// (or reaching `total_path`'s total) is the last.
    Offset {
        /// The query parameter of the offset.
        offset_param: String,
        /// The query parameter of the limit.
        limit_param: String,
        /// Records asked for per page.
        limit: u64,
        /// JSONPath of the total number of records, if the API reports it.
        total_path: Option<String>,
    },
}

/// The `auth` of the `rest` source. Secrets are [`SecretString`]s, resolved
/// from `${env:…}` when the pipeline is built; `Debug` prints them as `***`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: SecretString,
    },
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: SecretString,
    },
    /// An API key in a request header.
    ApiKey {
        /// The header's name.
        header: String,
        /// The key.
        value: SecretString,
    },
    /// An API key in a query parameter (redacted from every printed URL).
    ApiKeyQuery {
        /// The parameter's name.
        param: String,
        /// The key.
        value: SecretString,
    },
    /// OAuth2 client credentials.
    OAuth2(OAuth2Config),
}

/// OAuth2 client-credentials settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuth2Config {
    /// The token endpoint.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: SecretString,
    /// Scopes requested, joined with spaces.
    pub scopes: Vec<String>,
    /// The share of a token's lifetime after which it is refreshed (0 < r ≤ 1).
    pub expiry_ratio: f64,
}

impl Eq for OAuth2Config {}

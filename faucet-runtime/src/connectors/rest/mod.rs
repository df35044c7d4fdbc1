//! The `rest` source: JSON over HTTP(S) through reqwest, one HTTP page per
//! pipeline page.
//!
//! Each request is `method` on `base_url` + `path` with `query_params`,
//! `headers`, an optional JSON `body` and the configured auth. The response
//! must be JSON; `records_path` (a JSONPath such as `$.data[*]`) selects the
//! records, and pagination finds the next request from the response. Memory is
//! bounded by one response body, itself bounded by `max_response_bytes`
//! (64 MiB by default): a larger body fails the run, before it is read when
//! its `Content-Length` says so, else as soon as the limit is passed.
//!
//! **Retries.** Connection errors, timeouts and 5xx are retried up to
//! `max_retries` times with exponential backoff and full jitter (a random wait
//! between 0 and `retry_backoff · 2^attempt`, capped at 60 s), but only for
//! idempotent methods (GET, PUT, DELETE) unless `retry_non_idempotent` is set;
//! a connection that was never established is retried for every method. A 429
//! waits for `Retry-After` (seconds or an HTTP date, capped by
//! `max_retry_after`; the backoff when absent) without using up `max_retries`,
//! up to 10 times in a row. Any other 4xx fails at once with the status and a
//! short excerpt of the body; a status listed in `tolerated_http_errors` ends
//! pagination quietly.
//!
//! **Loop guards.** A response body identical to the previous page's ends
//! pagination with a warning, without yielding that page again (as
//! faucet-stream does). A next cursor or link already requested in this run
//! fails the run, naming it: following it would read the same pages again, and
//! ending quietly would report an incomplete read as a success. Only after a
//! page without records does a repeated position end pagination (with a
//! warning): some APIs echo their last cursor when there is nothing more.
//! `max_empty_pages` (10) pages without records in a row end pagination with a
//! warning, so an API that always offers a next page cannot keep a run going;
//! `max_pages` caps the pages of one run.
//!
//! **Bookmark.** `{"next": <position or null>, "replication": {"sent", "max"}}`.
//! `next` is the request after the page (`{"cursor"}`, `{"url"}`, `{"page"}`,
//! `{"offset"}`), so a crashed run resumes right after its last confirmed page.
//! When pagination ends the source yields the position `null` (with an empty
//! page when the last data page still pointed further); the next run then
//! starts again from the first page. In incremental mode `sent` is the value
//! this run sent and filters by, and `max` is the largest `replication_key`
//! seen so far: the next run sends `max` and drops records below it (those
//! equal to it are read again, as faucet-stream 1.17 reads them, so a record
//! written with that value after the previous run is not lost).
//!
//! **Secrets.** Every URL in an error or a log line is redacted: the password
//! of the URL, the `api_key_query` parameter and any query parameter whose
//! name suggests a credential print as `***`, and every value read from
//! `${env:…}` (plus every OAuth2 access token) is scrubbed from messages.

mod auth;
mod http;
mod paginate;
mod records;
#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::{Value, json};
use serde_json_path::JsonPath;
use url::Url;

pub use crate::config::rest::{
    Auth, DEFAULT_MAX_EMPTY_PAGES, DEFAULT_MAX_RESPONSE_BYTES, Method, OAuth2Config, Pagination, Replication,
    RestSourceConfig,
};

use self::auth::AuthState;
use self::http::{Fetched, Http, Outcome};
use self::paginate::{Compiled, Position, compile_path};
use self::records::Filter;
use crate::error::{FaucetError, Result};
use crate::page::Page;
use crate::source::Source;

impl Method {
    fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }

    /// True for methods a server must treat as idempotent (safe to retry).
    fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Put | Method::Delete)
    }
}

/// Reads JSON from a REST API, page by page.
pub struct RestSource {
    config: RestSourceConfig,
    /// `base_url` + `path`, parsed.
    endpoint: Url,
    records_path: Option<JsonPath>,
    pagination: Compiled,
    http: Http,
    auth: AuthState,
    run: Option<Run>,
}

impl fmt::Debug for RestSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestSource")
            .field("config", &self.config)
            .field("started", &self.run.is_some())
            .finish()
    }
}

/// The state of one run.
struct Run {
    /// The next request, `None` once pagination ended.
    next: Option<Position>,
    /// Pages yielded in this run.
    pages: u64,
    /// Records yielded in this run.
    records: u64,
    /// Hashes of every position requested in this run (loop guard).
    seen: std::collections::HashSet<u64>,
    /// Hash of the previous page's body (loop guard).
    last_body: Option<u64>,
    /// Pages without records since the last page with records.
    empty_pages: u64,
    /// Whether the last yielded bookmark pointed at a further page.
    pending: bool,
    filter: Option<Filter>,
    finished: bool,
}

impl RestSource {
    /// A source for `config`; the JSONPath expressions (checked at build
    /// time) are compiled and the HTTP client is built, nothing is sent yet.
    pub fn new(config: RestSourceConfig) -> Result<Self> {
        let endpoint = join_url(&config.base_url, &config.path)?;
        let records_path = config.records_path.as_deref().map(compile_path).transpose()?;
        let pagination = Compiled::new(&config.pagination)?;
        let http = Http::new(&config)?;
        let auth = AuthState::new(&config.auth)?;
        Ok(RestSource { config, endpoint, records_path, pagination, http, auth, run: None })
    }

    fn start(&mut self, bookmark: Option<&Value>) -> Result<()> {
        let resumed = bookmark.and_then(|b| b.get("next")).filter(|n| !n.is_null());
        let next = match resumed {
            Some(position) => Position::from_json(position).ok_or_else(|| {
                FaucetError::state(format!("the `rest` source cannot resume from bookmark {position}"))
            })?,
            None => self.pagination.first(),
        };
        let filter = match &self.config.replication {
            Some(replication) => {
                let stored = bookmark.and_then(|b| b.get("replication"));
                // A crashed run continues with the value it sent; a new run
                // starts from the largest value seen so far.
                let key = if resumed.is_some() { "sent" } else { "max" };
                let from_bookmark = stored.and_then(|r| r.get(key)).filter(|v| !v.is_null()).cloned();
                let max = stored.and_then(|r| r.get("max")).filter(|v| !v.is_null()).cloned();
                let sent = from_bookmark.or_else(|| replication.start_value.clone());
                Some(Filter::new(replication.key.clone(), sent.clone(), max.or(sent)))
            }
            None => None,
        };
        self.run = Some(Run {
            next: Some(next),
            pages: 0,
            records: 0,
            seen: Default::default(),
            last_body: None,
            empty_pages: 0,
            pending: resumed.is_some(),
            filter,
            finished: false,
        });
        Ok(())
    }

    /// Ends pagination: a last empty page carries the `null` position when the
    /// previous bookmark still pointed further.
    fn finish(run: &mut Run, name: Option<&str>) -> Option<Page> {
        if !run.finished {
            completed(run, name);
        }
        run.finished = true;
        run.next = None;
        if !run.pending {
            return None;
        }
        run.pending = false;
        Some(Page { bookmark: Some(bookmark(None, run.filter.as_ref())), ..Page::default() })
    }
}

/// Logs the end of a run's pagination with the stream's `name`, as faucet-stream does.
fn completed(run: &Run, name: Option<&str>) {
    tracing::info!(
        stream = name.unwrap_or("(unnamed)"),
        records = run.records,
        pages = run.pages,
        "rest: fetch complete"
    );
}

fn bookmark(next: Option<&Position>, filter: Option<&Filter>) -> Value {
    let mut b = json!({"next": next.map_or(Value::Null, Position::to_json)});
    if let Some(filter) = filter {
        b["replication"] = json!({"sent": filter.sent(), "max": filter.max()});
    }
    b
}

/// `base_url` and `path` joined with exactly one `/`.
fn join_url(base: &str, path: &str) -> Result<Url> {
    let joined = match (base.ends_with('/'), path.starts_with('/')) {
        _ if path.is_empty() => base.to_owned(),
        (true, true) => format!("{base}{}", &path[1..]),
        (false, false) => format!("{base}/{path}"),
        _ => format!("{base}{path}"),
    };
    let url = Url::parse(&joined)
        .map_err(|e| FaucetError::config(format!("`base_url` + `path` is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FaucetError::config(format!("`base_url` must be http or https, not `{}`", url.scheme())));
    }
    Ok(url)
}

crate::typed_source::decoded_into_typed!(RestSource);

impl Source for RestSource {
    type Record = serde_json::Value;

    // An API may answer the same request with other records on a rerun (new
    // items shift offset pages), so a commit token must not skip a page.
    const REPLAYS_PAGES: bool = false;

    fn connector_name(&self) -> &'static str {
        "rest"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        self.start(bookmark.as_ref())
    }

    async fn next_page(&mut self) -> Result<Option<Page>> {
        if self.run.is_none() {
            self.start(None)?;
        }
        let run = self.run.as_mut().expect("started above");
        if run.finished {
            return Ok(None);
        }
        let Some(position) = run.next.take() else {
            return Ok(Self::finish(run, self.config.name.as_deref()));
        };
        if self.config.max_pages.is_some_and(|max| run.pages >= max) {
            return Ok(Self::finish(run, self.config.name.as_deref()));
        }
        run.seen.insert(position.fingerprint());
        let number = run.pages + 1;
        let request = self.pagination.request(
            &self.config,
            &self.endpoint,
            &position,
            run.filter.as_ref().and_then(Filter::sent),
        )?;
        let fetched = match self.http.fetch(&request, &mut self.auth, number).await? {
            Outcome::Page(fetched) => fetched,
            Outcome::Tolerated(status) => {
                tracing::debug!(page = number, status, "rest: tolerated status; pagination ends");
                return Ok(Self::finish(run, self.config.name.as_deref()));
            }
        };
        let Fetched { body, link } = fetched;
        let hash = paginate::fingerprint(&body);
        if run.last_body == Some(hash) {
            tracing::warn!(
                page = number,
                url = %request.display_url(),
                "rest: the response repeats the previous page; pagination ends without yielding it again"
            );
            return Ok(Self::finish(run, self.config.name.as_deref()));
        }
        run.last_body = Some(hash);
        let mut value: Value = serde_json::from_slice(&body).map_err(|e| {
            FaucetError::parse(format!(
                "{} {}: page {number}: the response is not valid JSON: {e}",
                request.method_name(),
                request.display_url()
            ))
        })?;
        drop(body);
        let hints = self.pagination.hints(&value);
        let mut records = records::extract(self.records_path.as_ref(), &mut value);
        drop(value);
        let mut next = self.pagination.next(&position, &request, hints, link.as_deref(), records.len());
        run.empty_pages = if records.is_empty() { run.empty_pages + 1 } else { 0 };
        if let Some(repeated) = next.as_ref().filter(|p| run.seen.contains(&p.fingerprint())) {
            let what = repeated.describe(request.hidden.as_deref());
            if !records.is_empty() {
                // Sticky: a caller that goes on after the error gets no page
                // whose bookmark would move past the loop.
                run.finished = true;
                return Err(FaucetError::source(format!(
                    "{} {}: page {number}: the next {what} was already requested in this run; the API's \
                     pagination loops (following it would read the same pages again)",
                    request.method_name(),
                    request.display_url(),
                )));
            }
            tracing::warn!(
                page = number,
                "rest: a page without records points back to {what}, already requested; pagination ends"
            );
            next = None;
        }
        if next.is_some() && run.empty_pages >= self.config.max_empty_pages {
            tracing::warn!(
                page = number,
                "rest: {} pages in a row without records (max_empty_pages); pagination ends",
                run.empty_pages
            );
            next = None;
        }
        if let Some(filter) = run.filter.as_mut() {
            filter.apply(&mut records);
        }
        run.pages = number;
        run.records += records.len() as u64;
        run.pending = next.is_some();
        let bm = bookmark(next.as_ref(), run.filter.as_ref());
        match next {
            Some(next) => run.next = Some(next),
            None => {
                completed(run, self.config.name.as_deref());
                run.finished = true;
            }
        }
        Ok(Some(Page { records, bookmark: Some(bm), ..Page::default() }))
    }
}

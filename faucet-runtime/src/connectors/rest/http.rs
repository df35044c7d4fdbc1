//! Sending requests: pacing, retries with backoff, `Retry-After`, OAuth2 tokens.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LINK, RETRY_AFTER};
use tokio::time::Instant;

use super::auth::{AuthState, Token};
use super::paginate::{Request, redact};
use crate::config::rest::{Method, OAuth2Config, RestSourceConfig};
use crate::error::{FaucetError, Result};

/// The longest backoff between two retries, whatever the attempt.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How many 429 answers in a row one request accepts before failing.
const MAX_THROTTLED: u32 = 10;
/// How much of an error body is quoted.
const EXCERPT_CHARS: usize = 200;

/// A successful response, read whole (one page).
#[derive(Debug)]
pub(super) struct Fetched {
    pub(super) body: Bytes,
    /// The `Link` headers, joined with `, `.
    pub(super) link: Option<String>,
}

/// What a page request came to.
#[derive(Debug)]
pub(super) enum Outcome {
    /// A 2xx response.
    Page(Fetched),
    /// A status listed in `tolerated_http_errors`.
    Tolerated(u16),
}

/// The HTTP client with the source's retry policy and pacing.
pub(super) struct Http {
    client: reqwest::Client,
    headers: HeaderMap,
    policy: Policy,
    pacer: Pacer,
}

struct Policy {
    timeout: Duration,
    max_retries: u32,
    backoff: Duration,
    max_retry_after: Duration,
    retry_non_idempotent: bool,
    tolerated: Vec<u16>,
    max_response_bytes: u64,
}

/// Spaces request starts by `request_delay` and `rate_limit`.
struct Pacer {
    interval: Duration,
    last: Option<Instant>,
}

impl Pacer {
    async fn wait(&mut self) {
        if let Some(last) = self.last {
            match last.checked_add(self.interval) {
                Some(until) => tokio::time::sleep_until(until).await,
                None => tokio::time::sleep(self.interval).await,
            }
        }
        self.last = Some(Instant::now());
    }
}

/// A response as the retry loop leaves it.
struct Sent {
    status: StatusCode,
    link: Option<String>,
    /// The whole body on success, an excerpt otherwise.
    body: Bytes,
}

impl Http {
    pub(super) fn new(config: &RestSourceConfig) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("faucet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FaucetError::config(format!("cannot build the HTTP client: {}", chain(&e))))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| FaucetError::config(format!("`{name}` is not a valid header name")))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                FaucetError::config(format!("the value of header `{name}` is not a valid header value"))
            })?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let rate = match config.rate_limit {
            None => Duration::ZERO,
            Some(r) => Duration::try_from_secs_f64(1.0 / r).map_err(|_| {
                FaucetError::config(format!(
                    "`rate_limit` of {r} requests per second is out of range: use a positive number"
                ))
            })?,
        };
        Ok(Http {
            client,
            headers,
            policy: Policy {
                timeout: config.timeout,
                max_retries: config.max_retries,
                backoff: config.retry_backoff,
                max_retry_after: config.max_retry_after,
                retry_non_idempotent: config.retry_non_idempotent,
                max_response_bytes: config.max_response_bytes,
                tolerated: config.tolerated_http_errors.clone(),
            },
            pacer: Pacer { interval: rate.max(config.request_delay), last: None },
        })
    }

    /// Sends a page request (fetching an OAuth2 token first when needed) and
    /// reads its body; `page` names the page in errors.
    pub(super) async fn fetch(
        &mut self,
        request: &Request,
        auth: &mut AuthState,
        page: u64,
    ) -> Result<Outcome> {
        let what = format!("{} {} (page {page})", request.method_name(), request.display_url());
        let idempotent = request.method.is_idempotent() || self.policy.retry_non_idempotent;
        let mut refreshed = false;
        loop {
            if let Some(oauth2) = auth.needs_token() {
                let token = self.token(oauth2).await?;
                auth.store(token);
            }
            let url = auth.url(&request.url);
            let build = || {
                let mut b = self
                    .client
                    .request(request.method.as_reqwest(), url.clone())
                    .headers(self.headers.clone());
                b = auth.apply(b);
                if let Some(body) = &request.body {
                    b = b.json(body);
                }
                b
            };
            let sent = send(&self.policy, &mut self.pacer, build, idempotent, &what).await?;
            if sent.status == StatusCode::UNAUTHORIZED && !refreshed && auth.invalidate() {
                tracing::debug!(request = %what, "rest: 401 with a cached OAuth2 token; fetching a new one");
                refreshed = true;
                continue;
            }
            if self.policy.tolerated.contains(&sent.status.as_u16()) {
                return Ok(Outcome::Tolerated(sent.status.as_u16()));
            }
            if !sent.status.is_success() {
                return Err(status_error(&what, sent.status, &sent.body));
            }
            return Ok(Outcome::Page(Fetched { body: sent.body, link: sent.link }));
        }
    }

    /// Fetches an OAuth2 client-credentials token.
    async fn token(&mut self, oauth2: &OAuth2Config) -> Result<Token> {
        let url = url::Url::parse(&oauth2.token_url)
            .map_err(|e| FaucetError::config(format!("the OAuth2 `token_url` is not a valid URL: {e}")))?;
        let what = format!("the OAuth2 token request POST {}", redact(&url, None));
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            form.append_pair("client_id", &oauth2.client_id);
            form.append_pair("client_secret", oauth2.client_secret.expose());
            if !oauth2.scopes.is_empty() {
                form.append_pair("scope", &oauth2.scopes.join(" "));
            }
            form.finish()
        };
        let build = || {
            self.client
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(form.clone())
        };
        // A token request changes nothing on the server: always safe to retry.
        let sent = send(&self.policy, &mut self.pacer, build, true, &what).await?;
        if !sent.status.is_success() {
            return Err(status_error(&what, sent.status, &sent.body));
        }
        let value: serde_json::Value = serde_json::from_slice(&sent.body)
            .map_err(|e| FaucetError::source(format!("{what}: the response is not valid JSON: {e}")))?;
        let access = value
            .get("access_token")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| FaucetError::source(format!("{what}: the response has no `access_token`")))?;
        let expires_in = value.get("expires_in").and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let expires_in = expires_in.and_then(|s| Duration::try_from_secs_f64(s).ok());
        Token::new(access, expires_in, oauth2.expiry_ratio)
    }
}

/// Sends a request built by `build`, retrying per `policy`.
async fn send(
    policy: &Policy,
    pacer: &mut Pacer,
    build: impl Fn() -> reqwest::RequestBuilder,
    idempotent: bool,
    what: &str,
) -> Result<Sent> {
    let mut attempt: u32 = 0;
    let mut throttled: u32 = 0;
    loop {
        pacer.wait().await;
        let failure = match build().send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    let link = links(response.headers());
                    match read_body(response, policy.max_response_bytes).await {
                        Ok(Body::Whole(body)) => return Ok(Sent { status, link, body }),
                        Ok(Body::TooLarge(bytes)) => {
                            let max = policy.max_response_bytes;
                            return Err(FaucetError::source(format!(
                                "{what}: the response body is larger than `max_response_bytes` ({max} bytes): {bytes}; \
                                 raise `max_response_bytes` or ask the API for smaller pages"
                            )));
                        }
                        Err(e) => e,
                    }
                } else {
                    let retry_after = retry_after(response.headers());
                    let tolerated = policy.tolerated.contains(&status.as_u16());
                    if status == StatusCode::TOO_MANY_REQUESTS && !tolerated {
                        throttled += 1;
                        if throttled > MAX_THROTTLED {
                            return Err(FaucetError::source(format!(
                                "{what}: still HTTP 429 Too Many Requests after {MAX_THROTTLED} waits"
                            )));
                        }
                        let wait = retry_after
                            .unwrap_or_else(|| backoff(policy.backoff, throttled))
                            .min(policy.max_retry_after);
                        tracing::warn!(request = %what, wait_ms = wait.as_millis() as u64, "rest: HTTP 429; waiting before retrying");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if status.is_server_error() && !tolerated && idempotent && attempt < policy.max_retries {
                        attempt += 1;
                        let wait = retry_after.map_or_else(
                            || backoff(policy.backoff, attempt),
                            |w| w.min(policy.max_retry_after),
                        );
                        tracing::warn!(request = %what, status = status.as_u16(), attempt, wait_ms = wait.as_millis() as u64, "rest: server error; retrying");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let body = excerpt(response).await;
                    return Ok(Sent { status, link: None, body });
                }
            }
            Err(e) => e,
        };
        // A transport failure: connecting, sending, timing out or reading the body.
        let never_sent = failure.is_connect();
        if (never_sent || idempotent) && attempt < policy.max_retries {
            attempt += 1;
            let wait = backoff(policy.backoff, attempt);
            tracing::warn!(request = %what, attempt, wait_ms = wait.as_millis() as u64, error = %describe(&failure, policy.timeout), "rest: request failed; retrying");
            tokio::time::sleep(wait).await;
            continue;
        }
        return Err(FaucetError::source(format!(
            "{what}: {} (after {} attempt(s))",
            describe(&failure, policy.timeout),
            attempt + 1
        )));
    }
}

/// Exponential backoff with full jitter: a random wait up to `base · 2^(attempt-1)`, capped.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20)).min(MAX_BACKOFF);
    ceiling.mul_f64(fastrand::f64())
}

/// A `Retry-After` header: delay seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn links(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// A success response's body, read up to a limit.
enum Body {
    Whole(Bytes),
    /// Over the limit: the declared length, or `more than N` bytes read so far.
    TooLarge(String),
}

/// Reads `response`'s body unless it is larger than `max` bytes: a declared
/// `Content-Length` over it is refused before reading, and a body without one
/// is abandoned as soon as it passes `max`, so memory never holds more.
async fn read_body(mut response: reqwest::Response, max: u64) -> reqwest::Result<Body> {
    let declared = response.content_length();
    if let Some(length) = declared.filter(|&n| n > max) {
        return Ok(Body::TooLarge(format!("{length} bytes declared")));
    }
    let mut body: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await? {
        let len = (body.len() + chunk.len()) as u64;
        if len > max {
            return Ok(Body::TooLarge(format!("more than {max} bytes sent")));
        }
        if body.capacity() < len as usize {
            // Grow by doubling, but never past the limit.
            let target = (body.capacity() * 2).max(len as usize).min(max as usize);
            body.reserve_exact(target - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Body::Whole(Bytes::from(body)))
}

/// The first bytes of an error response's body.
async fn excerpt(mut response: reqwest::Response) -> Bytes {
    let mut out = Vec::new();
    while out.len() < 4 * EXCERPT_CHARS {
        match response.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk),
            _ => break,
        }
    }
    Bytes::from(out)
}

/// The error for a status that is neither success, retried nor tolerated.
fn status_error(what: &str, status: StatusCode, body: &[u8]) -> FaucetError {
    // Scrubbed before it is shortened: a cut could keep part of an echoed secret.
    let text = crate::secret::scrub(String::from_utf8_lossy(body).into_owned());
    let mut quoted: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if quoted.chars().count() > EXCERPT_CHARS {
        quoted = quoted.chars().take(EXCERPT_CHARS).collect::<String>() + "…";
    }
    let reason = status.canonical_reason().unwrap_or("");
    let code = status.as_u16();
    if quoted.is_empty() {
        FaucetError::source(format!("{what}: HTTP {code} {reason}"))
    } else {
        FaucetError::source(format!("{what}: HTTP {code} {reason}: {quoted}"))
    }
}

/// A transport error without its URL (which may carry a key), with its causes.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("timed out after {}", humantime(timeout));
    }
    let what = if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "reading the response failed"
    } else {
        "the request failed"
    };
    let causes = chain(error);
    if causes.is_empty() { what.to_owned() } else { format!("{what}: {causes}") }
}

/// The causes of an error (not the error's own text, which names the URL).
fn chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

impl Method {
    /// For messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn backoff_is_jittered_and_capped() {
        for attempt in 1..40 {
            let d = backoff(Duration::from_millis(100), attempt);
            assert!(d <= MAX_BACKOFF);
            assert!(d <= Duration::from_millis(100) * 2u32.pow((attempt - 1).min(20)));
        }
        let waits: std::collections::HashSet<_> =
            (0..20).map(|_| backoff(Duration::from_secs(1), 3)).collect();
        assert!(waits.len() > 1, "full jitter varies the wait");
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(27) && d <= Duration::from_secs(30), "{d:?}");
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}

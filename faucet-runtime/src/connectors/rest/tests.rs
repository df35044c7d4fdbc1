//! Tests against a real HTTP server (axum) on 127.0.0.1, started by each test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::ErrorKind;
use crate::secret::SecretString;

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: HashMap<String, String>,
    /// The query as sent (percent-encoded).
    raw_query: String,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn q(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }
    fn header(&self, key: &str) -> Option<&str> {
        self.headers.get(key).and_then(|v| v.to_str().ok())
    }
}

/// What the server answers.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn ok(body: Value) -> Reply {
    Reply { status: 200, headers: Vec::new(), body: body.to_string(), delay: Duration::ZERO }
}

fn status(code: u16, body: &str) -> Reply {
    Reply { status: code, headers: Vec::new(), body: body.to_owned(), delay: Duration::ZERO }
}

impl Reply {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// A server answering with `handler(request, index among requests)`; returns
/// its base URL and the log of requests.
async fn serve(
    handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let handler: Handler = Arc::new(handler);
    let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let seen_log = log.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let handler = handler.clone();
        let log = seen_log.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let query = parts
                .uri
                .query()
                .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            let seen = Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                query,
                raw_query: parts.uri.query().unwrap_or_default().to_owned(),
                headers: parts.headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            let index = {
                let mut log = log.lock().unwrap();
                log.push(seen.clone());
                log.len() - 1
            };
            let reply = handler(&seen, index);
            if !reply.delay.is_zero() {
                tokio::time::sleep(reply.delay).await;
            }
            let mut response = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
            let mut json = true;
            for (k, v) in &reply.headers {
                json &= !k.eq_ignore_ascii_case("content-type");
                response = response.header(*k, v);
            }
            if json {
                response = response.header("content-type", "application/json");
            }
            response.body(Body::from(reply.body)).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), log)
}

fn config(base: &str, path: &str) -> RestSourceConfig {
    let mut c = RestSourceConfig::new(base);
    c.path = path.to_owned();
    c.retry_backoff = Duration::from_millis(5);
    c.timeout = Duration::from_secs(5);
    c
}

async fn all_pages(source: &mut RestSource, bookmark: Option<Value>) -> Result<Vec<Page>> {
    source.resume(bookmark).await?;
    let mut pages = Vec::new();
    while let Some(page) = source.next_page().await? {
        pages.push(page);
        assert!(pages.len() < 100, "runaway pagination");
    }
    Ok(pages)
}

fn ids(pages: &[Page]) -> Vec<i64> {
    pages.iter().flat_map(|p| p.records.iter().map(|r| r["id"].as_i64().unwrap())).collect()
}

fn requests(log: &Arc<Mutex<Vec<Seen>>>) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

/// Pages of ids: `[[1,2],[3,4],[5]]` by default.
fn page_of(n: usize) -> Vec<Value> {
    let pages: [&[i64]; 3] = [&[1, 2], &[3, 4], &[5]];
    pages.get(n).map(|ids| ids.iter().map(|i| json!({"id": i})).collect()).unwrap_or_default()
}

#[tokio::test]
async fn cursor_pagination_sends_params_headers_and_resumes() {
    let (base, log) = serve(|r, _| {
        let n: usize = r.q("cursor").map_or(0, |c| c.trim_start_matches('c').parse().unwrap());
        let next = if n < 2 { json!(format!("c{}", n + 1)) } else { Value::Null };
        ok(json!({"data": page_of(n), "meta": {"next": next}}))
    })
    .await;
    let mut c = config(&base, "/v1/items");
    c.query_params = vec![("status".into(), "open & shut".into())];
    c.headers = vec![("X-Trace".into(), "abc".into())];
    c.records_path = Some("$.data[*]".into());
    c.pagination = Pagination::Cursor { next_token_path: "$.meta.next".into(), param_name: "cursor".into() };
    let pages = all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5]);
    assert_eq!(pages[0].bookmark, Some(json!({"next": {"cursor": "c1"}})));
    assert_eq!(pages[2].bookmark, Some(json!({"next": null})));
    let seen = requests(&log);
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.path == "/v1/items" && s.method == "GET"));
    assert!(seen.iter().all(|s| s.q("status") == Some("open & shut") && s.header("x-trace") == Some("abc")));
    assert_eq!(seen[0].q("cursor"), None);
    assert_eq!(seen[2].q("cursor"), Some("c2"));

    // A crash after page 1: the next run continues at its cursor.
    let rest = all_pages(&mut RestSource::new(c).unwrap(), pages[0].bookmark.clone()).await.unwrap();
    assert_eq!(ids(&rest), [3, 4, 5]);
    assert_eq!(requests(&log)[3].q("cursor"), Some("c1"));
}

#[tokio::test]
async fn cursor_in_body_posts_the_cursor() {
    let (base, log) = serve(|r, _| {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        let n = body.get("after").and_then(Value::as_str).map_or(0, |a| a.parse().unwrap());
        ok(json!({"items": page_of(n), "next": if n < 2 { json!(n + 1) } else { json!("") }}))
    })
    .await;
    let mut c = config(&base, "search");
    c.method = Method::Post;
    c.body = Some(json!({"q": "all"}));
    c.records_path = Some("$.items".into());
    c.pagination =
        Pagination::CursorInBody { next_token_path: "$.next".into(), body_cursor_field: "after".into() };
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5]);
    let seen = requests(&log);
    assert_eq!(seen[0].body, r#"{"q":"all"}"#);
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    // The number cursor travels as a string.
    assert_eq!(serde_json::from_str::<Value>(&seen[2].body).unwrap(), json!({"q": "all", "after": "2"}));
}

#[tokio::test]
async fn link_header_and_next_link_in_body() {
    let (base, log) = serve(|r, _| {
        let n: usize = r.q("p").map_or(0, |p| p.parse().unwrap());
        let mut reply = ok(json!({"rows": page_of(n), "links": {"next": if n < 2 { json!(format!("/list?p={}", n + 1)) } else { Value::Null }}}));
        if n == 0 {
            reply = reply.header("link", format!(r#"<{}/list?p=1>; rel="next", </list?p=2>; rel="last""#, r.header("x-base").unwrap()));
        } else if n == 1 {
            reply = reply.header("link", r#"</list?p=2>; rel="next""#);
        }
        reply
    })
    .await;
    let mut c = config(&base, "list");
    c.headers = vec![("x-base".into(), base.clone())];
    c.records_path = Some("$.rows[*]".into());
    c.pagination = Pagination::LinkHeader;
    let pages = all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5]);
    assert_eq!(pages[1].bookmark, Some(json!({"next": {"url": format!("{base}/list?p=2")}})));

    c.pagination = Pagination::NextLinkInBody { next_link_path: "$.links.next".into() };
    let before = requests(&log).len();
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5]);
    assert_eq!(requests(&log).len() - before, 3);
}

#[tokio::test]
async fn page_number_and_offset() {
    let all: Vec<Value> = (1..=7).map(|i| json!({"id": i})).collect();
    let data = all.clone();
    let (base, log) = serve(move |r, _| {
        if r.path == "/pages" {
            let page: usize = r.q("page").unwrap().parse().unwrap();
            let size: usize = r.q("per_page").unwrap().parse().unwrap();
            let chunk: Vec<Value> = data.iter().skip((page - 1) * size).take(size).cloned().collect();
            ok(json!(chunk))
        } else {
            let offset: usize = r.q("offset").unwrap().parse().unwrap();
            let limit: usize = r.q("limit").unwrap().parse().unwrap();
            let chunk: Vec<Value> = data.iter().skip(offset).take(limit).cloned().collect();
            ok(json!({"results": chunk, "total": 6}))
        }
    })
    .await;
    let mut c = config(&base, "/pages");
    c.pagination = Pagination::PageNumber {
        param_name: "page".into(),
        start_page: 1,
        page_size: Some(3),
        page_size_param: Some("per_page".into()),
    };
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5, 6, 7]);
    // 3 + 3 + 1: the short page is the last, no fourth request.
    assert_eq!(requests(&log).len(), 3);
    assert_eq!(pages[0].bookmark, Some(json!({"next": {"page": 2}})));

    let mut c = config(&base, "/offset");
    c.records_path = Some("$.results[*]".into());
    c.pagination = Pagination::Offset {
        offset_param: "offset".into(),
        limit_param: "limit".into(),
        limit: 2,
        total_path: Some("$.total".into()),
    };
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    // `total` says 6: the source stops there although the server has a 7th.
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5, 6]);
    let offsets: Vec<String> =
        requests(&log)[3..].iter().map(|s| s.q("offset").unwrap().to_owned()).collect();
    assert_eq!(offsets, ["0", "2", "4"]);
}

/// Collects the log lines of this thread's code while the guard lives. The
/// tests using it run on a current-thread runtime, so the source logs here.
fn capture_logs() -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<u8>>>) {
    capture_logs_at(tracing::Level::WARN)
}

/// [`capture_logs`] at `level`. The callsites' interest is rebuilt with the
/// subscriber in place: other tests' threads may have registered them first.
fn capture_logs_at(level: tracing::Level) -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<u8>>>) {
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer: Arc<Mutex<Vec<u8>>> = Arc::default();
    let writer = Buffer(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    (guard, buffer)
}

#[tokio::test]
async fn the_end_of_pagination_is_logged_with_the_stream_name() {
    let (_guard, logs) = capture_logs_at(tracing::Level::INFO);
    let (base, _) = serve(|_, _| ok(json!({"data": [{"id": 1}, {"id": 2}]}))).await;
    let mut c = config(&base, "/users");
    c.records_path = Some("$.data".into());
    c.name = Some("users".into());
    let pages = all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap();
    assert_eq!(pages.len(), 1);
    let line = logged(&logs);
    assert!(line.contains("rest: fetch complete stream=\"users\" records=2 pages=1"), "{line}");

    // Without a name, as faucet-stream prints it.
    c.name = None;
    all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert!(logged(&logs).contains("stream=\"(unnamed)\""), "{}", logged(&logs));
}

fn logged(buffer: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

/// A cursor API that offers a next page forever, every page empty.
fn endless_empty(r: &Seen, i: usize) -> Reply {
    ok(json!({"data": [], "next": format!("c{}", i + 1), "asked": r.q("c")}))
}

#[tokio::test]
async fn endless_empty_pages_end_the_run_after_max_empty_pages() {
    let cursor = Pagination::Cursor { next_token_path: "$.next".into(), param_name: "c".into() };
    let (_guard, logs) = capture_logs();

    // The default: 10 empty pages in a row end pagination, as a success.
    let (base, log) = serve(endless_empty).await;
    let mut c = config(&base, "/feed");
    c.records_path = Some("$.data".into());
    c.pagination = cursor.clone();
    let mut source = RestSource::new(c.clone()).unwrap();
    let run = all_pages(&mut source, None);
    let pages = tokio::time::timeout(Duration::from_secs(20), run).await.expect("the run ends").unwrap();
    assert_eq!(requests(&log).len(), 10);
    assert_eq!(pages.len(), 10);
    assert!(pages.iter().all(|p| p.records.is_empty()));
    // The last page records the end: the next run starts from the first page.
    assert_eq!(pages[9].bookmark, Some(json!({"next": null})));
    assert!(
        logged(&logs).contains("10 pages in a row without records (max_empty_pages)"),
        "{}",
        logged(&logs)
    );

    // A configured count.
    let (base, log) = serve(endless_empty).await;
    c.base_url = base;
    c.max_empty_pages = 3;
    let pages = all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap();
    assert_eq!((requests(&log).len(), pages.len()), (3, 3));

    // Only consecutive empty pages count: a page with records resets the count.
    let (base, log) = serve(|_, i| {
        let data = if i % 3 == 0 && i < 6 { json!([{"id": i}]) } else { json!([]) };
        ok(json!({"data": data, "next": format!("c{}", i + 1)}))
    })
    .await;
    c.base_url = base;
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [0, 3]);
    assert_eq!(requests(&log).len(), 7);
}

#[tokio::test]
async fn a_cursor_loop_fails_the_run_naming_the_cursor() {
    // A → B → A, every page with records; and a cursor that always repeats itself.
    let (base, log) = serve(|r, _| match (r.path.as_str(), r.q("c")) {
        ("/loop", None) => ok(json!({"data": [{"id": 1}], "next": "A"})),
        ("/loop", Some("A")) => ok(json!({"data": [{"id": 2}], "next": "B"})),
        ("/loop", _) => ok(json!({"data": [{"id": 3}], "next": "A"})),
        (_, c) => ok(json!({"data": [{"id": if c.is_some() { 5 } else { 4 }}], "next": "again"})),
    })
    .await;
    let mut c = config(&base, "/loop");
    c.records_path = Some("$.data".into());
    c.pagination = Pagination::Cursor { next_token_path: "$.next".into(), param_name: "c".into() };
    let mut source = RestSource::new(c.clone()).unwrap();
    source.resume(None).await.unwrap();
    let first = source.next_page().await.unwrap().unwrap();
    let second = source.next_page().await.unwrap().unwrap();
    // Page 2 is yielded with its bookmark; page 3 is not: its bookmark would
    // send the next run around the loop again.
    assert_eq!(second.bookmark, Some(json!({"next": {"cursor": "B"}})));
    assert_eq!(ids(&[first, second]), [1, 2]);
    let e = source.next_page().await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("page 3") && text.contains("cursor `A`") && text.contains("loops"), "{text}");
    assert!(text.contains(&format!("{base}/loop?c=B")), "the error names the request: {text}");
    assert!(source.next_page().await.unwrap().is_none(), "nothing after the error");
    assert_eq!(requests(&log).len(), 3);

    c.path = "/same".into();
    let e = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err();
    assert!(e.to_string().contains("page 2: the next cursor `again` was already requested"), "{e}");
    assert_eq!(requests(&log).len(), 5);
}

#[tokio::test]
async fn a_next_link_loop_fails_the_run_naming_the_link() {
    let (base, log) = serve(|r, _| {
        let (id, next) = if r.path == "/a" { (1, "/b") } else { (2, "/a?token=s3cr3t") };
        ok(json!({"data": [{"id": id}], "next": next})).header("link", format!("<{next}>; rel=\"next\""))
    })
    .await;
    for pagination in [Pagination::LinkHeader, Pagination::NextLinkInBody { next_link_path: "$.next".into() }]
    {
        let before = requests(&log).len();
        let mut c = config(&base, "/a?token=s3cr3t");
        c.records_path = Some("$.data".into());
        c.pagination = pagination;
        let e = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err();
        let text = e.to_string();
        assert!(text.contains(&format!("page 3: the next link `{base}/b` was already requested")), "{text}");
        assert_eq!(requests(&log).len() - before, 3);
    }
    // A link to itself.
    let (base, log) =
        serve(|r, _| ok(json!({"data": [{"id": r.path.len()}], "next": "/y?token=s3cr3t", "path": r.path})))
            .await;
    let mut c = config(&base, "/x");
    c.records_path = Some("$.data".into());
    c.pagination = Pagination::NextLinkInBody { next_link_path: "$.next".into() };
    let text = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err().to_string();
    // A credential-like parameter of the repeated link is redacted.
    assert!(text.contains(&format!("the next link `{base}/y?token=***` was already requested")), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(requests(&log).len(), 2);
}

#[tokio::test]
async fn a_repeated_body_or_an_empty_page_pointing_back_ends_with_a_warning() {
    let (_guard, logs) = capture_logs();
    let (base, log) = serve(|r, _| match r.path.as_str() {
        // A server that ignores the page parameter: identical bodies.
        "/same-body" => ok(json!([{"id": 1}])),
        // An API that echoes its cursor on an empty page when there is nothing more.
        "/caught-up" if r.q("c").is_none() => ok(json!({"data": [{"id": 7}], "next": "z"})),
        "/caught-up" => ok(json!({"data": [], "next": "z"})),
        _ => {
            let p: i64 = r.q("page").unwrap().parse().unwrap();
            ok(json!([{"id": p}]))
        }
    })
    .await;
    let mut c = config(&base, "/same-body");
    c.pagination = Pagination::PageNumber {
        param_name: "page".into(),
        start_page: 0,
        page_size: None,
        page_size_param: None,
    };
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    // The second (identical) page is not yielded; a last empty page records the end.
    assert_eq!(ids(&pages), [1]);
    assert_eq!(pages.len(), 2);
    assert!(pages[1].records.is_empty());
    assert_eq!(pages[1].bookmark, Some(json!({"next": null})));
    assert_eq!(requests(&log).len(), 2);
    let text = logged(&logs);
    assert!(text.contains("WARN") && text.contains("the response repeats the previous page"), "{text}");
    assert!(text.contains(&format!("{base}/same-body?page=1")), "the warning names the request: {text}");

    let mut c = config(&base, "/caught-up");
    c.records_path = Some("$.data".into());
    c.pagination = Pagination::Cursor { next_token_path: "$.next".into(), param_name: "c".into() };
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [7]);
    assert_eq!(pages.last().unwrap().bookmark, Some(json!({"next": null})));
    assert_eq!(requests(&log).len(), 4);
    let text = logged(&logs);
    assert!(text.contains("a page without records points back to cursor `z`, already requested"), "{text}");

    let mut c = config(&base, "/endless");
    c.max_pages = Some(3);
    c.pagination = Pagination::PageNumber {
        param_name: "page".into(),
        start_page: 1,
        page_size: None,
        page_size_param: None,
    };
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1, 2, 3]);
    assert_eq!(requests(&log).len(), 7);
}

fn secret(s: &str) -> SecretString {
    SecretString::new(s.to_owned())
}

#[tokio::test]
async fn each_auth_type_reaches_the_server() {
    let (base, log) = serve(|_, _| ok(json!([{"id": 1}]))).await;
    let cases = [
        Auth::None,
        Auth::Bearer { token: secret("tok-123") },
        Auth::Basic { username: "ann".into(), password: secret("pw-456") },
        Auth::ApiKey { header: "X-Api-Key".into(), value: secret("key-789") },
        Auth::ApiKeyQuery { param: "api_key".into(), value: secret("qkey-000") },
    ];
    for auth in cases {
        let mut c = config(&base, "/a");
        c.auth = auth;
        let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
        assert_eq!(ids(&pages), [1]);
    }
    let seen = requests(&log);
    assert_eq!(seen[0].header("authorization"), None);
    assert_eq!(seen[1].header("authorization"), Some("Bearer tok-123"));
    // "ann:pw-456" in base64.
    assert_eq!(seen[2].header("authorization"), Some("Basic YW5uOnB3LTQ1Ng=="));
    assert_eq!(seen[3].header("x-api-key"), Some("key-789"));
    assert_eq!(seen[4].q("api_key"), Some("qkey-000"));
}

#[tokio::test]
async fn retries_server_errors_with_backoff_and_honours_retry_after() {
    let (base, log) = serve(|r, i| match (r.path.as_str(), i) {
        ("/flaky", 0) => status(500, "boom"),
        ("/flaky", 1) => status(503, "busy"),
        ("/flaky", _) => ok(json!([{"id": 1}])),
        ("/slow-down", 3) => status(429, "").header("retry-after", "1"),
        ("/slow-down", 4) => status(429, "").header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ("/slow-down", 5) => status(429, "").header("retry-after", "3600"),
        ("/slow-down", _) => ok(json!([{"id": 2}])),
        (_, _) => status(500, "always"),
    })
    .await;
    let pages = all_pages(&mut RestSource::new(config(&base, "/flaky")).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1]);
    assert_eq!(requests(&log).len(), 3);

    let mut c = config(&base, "/slow-down");
    c.max_retries = 0;
    c.max_retry_after = Duration::from_millis(300);
    let started = Instant::now();
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    let took = started.elapsed();
    assert_eq!(ids(&pages), [2]);
    assert_eq!(requests(&log).len(), 7);
    // 1 s is capped to 300 ms, the past date is 0, 3600 s is capped to 300 ms.
    assert!(took >= Duration::from_millis(600) && took < Duration::from_secs(3), "{took:?}");

    // Retries run out: the error names the status and the body.
    let mut c = config(&base, "/down");
    c.max_retries = 2;
    let error = all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Source);
    assert_eq!(error.message(), format!("GET {base}/down (page 1): HTTP 500 Internal Server Error: always"));
    assert_eq!(requests(&log).len(), 10);

    // A POST is not retried unless told to.
    c.method = Method::Post;
    all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap_err();
    assert_eq!(requests(&log).len(), 11);
    c.retry_non_idempotent = true;
    all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err();
    assert_eq!(requests(&log).len(), 14);
}

#[tokio::test]
async fn client_errors_fail_at_once_and_tolerated_ones_end_pagination() {
    let long = "x".repeat(1000);
    let (base, log) = serve(move |r, _| match r.path.as_str() {
        "/missing" => status(404, &format!("{{\"error\": \"no such thing\", \"pad\": \"{long}\"}}")),
        _ => match r.q("page") {
            Some("1") => ok(json!([{"id": 1}])),
            _ => status(404, "gone"),
        },
    })
    .await;
    let error = all_pages(&mut RestSource::new(config(&base, "/missing")).unwrap(), None).await.unwrap_err();
    assert_eq!(requests(&log).len(), 1);
    let message = error.message();
    assert!(
        message.starts_with(&format!(
            "GET {base}/missing (page 1): HTTP 404 Not Found: {{\"error\": \"no such thing\""
        )),
        "{message}"
    );
    assert!(message.len() < 400 && message.ends_with('…'), "{message}");

    let mut c = config(&base, "/pages");
    c.tolerated_http_errors = vec![404];
    c.pagination = Pagination::PageNumber {
        param_name: "page".into(),
        start_page: 1,
        page_size: None,
        page_size_param: None,
    };
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1]);
    assert_eq!(pages.last().unwrap().bookmark, Some(json!({"next": null})));
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let (base, log) = serve(|_, i| {
        let mut reply = ok(json!([{"id": 1}]));
        if i < 2 {
            reply.delay = Duration::from_millis(600);
        }
        reply
    })
    .await;
    let mut c = config(&base, "/t");
    c.timeout = Duration::from_millis(150);
    c.max_retries = 1;
    let error = all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap_err();
    assert_eq!(error.message(), format!("GET {base}/t (page 1): timed out after 150ms (after 2 attempt(s))"));
    assert_eq!(requests(&log).len(), 2);
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1]);
}

#[tokio::test]
async fn connection_refused_names_the_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut c = config(&format!("http://{addr}"), "/x");
    c.max_retries = 1;
    let error = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err();
    assert!(error.message().contains("could not connect"), "{error}");
    assert!(error.message().ends_with("(after 2 attempt(s))"), "{error}");
}

#[tokio::test]
async fn malformed_body_names_url_and_page_with_the_key_redacted() {
    let (base, _) = serve(|r, _| match r.q("page") {
        Some("1") => ok(json!([{"id": 1}])),
        _ => status(200, "{\"oops\": ").header("content-type", "text/plain"),
    })
    .await;
    let mut c = config(&base, "/m");
    c.auth = Auth::ApiKeyQuery { param: "key".into(), value: secret("malformed-secret-key") };
    c.query_params = vec![("access_token".into(), "literal-token".into()), ("q".into(), "x".into())];
    c.pagination = Pagination::PageNumber {
        param_name: "page".into(),
        start_page: 1,
        page_size: None,
        page_size_param: None,
    };
    let error = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Parse);
    let message = error.message();
    assert!(
        message.starts_with(&format!(
            "GET {base}/m?access_token=***&q=x&page=2: page 2: the response is not valid JSON"
        )),
        "{message}"
    );
    assert!(!message.contains("malformed-secret-key") && !message.contains("literal-token"));
}

#[tokio::test]
async fn oauth2_token_is_cached_refreshed_on_expiry_and_on_401() {
    let issued = Arc::new(Mutex::new(0u32));
    let counter = issued.clone();
    let (base, log) = serve(move |r, _| {
        if r.path == "/token" {
            assert_eq!(r.method, "POST");
            let form: HashMap<String, String> =
                url::form_urlencoded::parse(r.body.as_bytes()).into_owned().collect();
            assert_eq!(form["grant_type"], "client_credentials");
            assert_eq!(form["client_id"], "app");
            assert_eq!(form["client_secret"], "oauth-client-secret");
            assert_eq!(form["scope"], "read write");
            let mut n = counter.lock().unwrap();
            *n += 1;
            return ok(
                json!({"access_token": format!("token-{n}"), "token_type": "Bearer", "expires_in": 3600}),
            );
        }
        let page: usize = r.q("page").unwrap().parse().unwrap();
        // The server revokes token-1 after the first page.
        if page > 1 && r.header("authorization") == Some("Bearer token-1") {
            return status(401, "expired");
        }
        ok(json!(page_of(page - 1)))
    })
    .await;
    let mut c = config(&base, "/data");
    c.auth = Auth::OAuth2(OAuth2Config {
        token_url: format!("{base}/token"),
        client_id: "app".into(),
        client_secret: secret("oauth-client-secret"),
        scopes: vec!["read".into(), "write".into()],
        expiry_ratio: 0.9,
    });
    c.pagination = Pagination::PageNumber {
        param_name: "page".into(),
        start_page: 1,
        page_size: None,
        page_size_param: None,
    };
    let pages = all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5]);
    // One token, a 401 on page 2, one refresh; token-2 serves the rest.
    assert_eq!(*issued.lock().unwrap(), 2);
    let paths: Vec<String> = requests(&log).iter().map(|s| format!("{}?{:?}", s.path, s.q("page"))).collect();
    assert_eq!(
        paths,
        [
            "/token?None",
            "/data?Some(\"1\")",
            "/data?Some(\"2\")",
            "/token?None",
            "/data?Some(\"2\")",
            "/data?Some(\"3\")",
            "/data?Some(\"4\")"
        ]
    );

    // A second 401 in a row fails the run instead of looping.
    let (base2, _) = serve(|r, _| {
        if r.path == "/token" {
            ok(json!({"access_token": "t", "expires_in": 60}))
        } else {
            status(401, "no")
        }
    })
    .await;
    let mut c2 = config(&base2, "/data");
    c2.auth = Auth::OAuth2(OAuth2Config {
        token_url: format!("{base2}/token"),
        client_id: "app".into(),
        client_secret: secret("s3cr3t"),
        scopes: vec![],
        expiry_ratio: 0.9,
    });
    let error = all_pages(&mut RestSource::new(c2).unwrap(), None).await.unwrap_err();
    assert!(error.message().contains("HTTP 401 Unauthorized"), "{error}");
}

#[tokio::test]
async fn oauth2_token_refreshed_before_expiry() {
    let (base, log) = serve(|r, i| {
        if r.path == "/token" {
            return ok(json!({"access_token": format!("tk{i}"), "expires_in": "0.05"}));
        }
        ok(json!([{"id": r.q("o").unwrap()}]))
    })
    .await;
    let mut c = config(&base, "/d");
    c.request_delay = Duration::from_millis(60);
    c.pagination =
        Pagination::Offset { offset_param: "o".into(), limit_param: "l".into(), limit: 1, total_path: None };
    c.max_pages = Some(3);
    c.auth = Auth::OAuth2(OAuth2Config {
        token_url: format!("{base}/token"),
        client_id: "app".into(),
        client_secret: secret("client-secret-2"),
        scopes: vec![],
        expiry_ratio: 0.5,
    });
    all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    let paths: Vec<String> = requests(&log).iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/token", "/d", "/token", "/d", "/token", "/d"]);
}

#[tokio::test]
async fn rate_limit_spaces_requests() {
    let (base, _) = serve(|r, _| {
        let p: i64 = r.q("page").unwrap().parse().unwrap();
        ok(json!(if p <= 5 { json!([{"id": p}]) } else { json!([]) }))
    })
    .await;
    let mut c = config(&base, "/r");
    c.rate_limit = Some(20.0);
    c.pagination = Pagination::PageNumber {
        param_name: "page".into(),
        start_page: 1,
        page_size: None,
        page_size_param: None,
    };
    let started = Instant::now();
    let pages = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap();
    assert_eq!(ids(&pages), [1, 2, 3, 4, 5]);
    // Six requests at 20/s: at least five 50 ms gaps.
    assert!(started.elapsed() >= Duration::from_millis(250), "{:?}", started.elapsed());
}

#[test]
fn an_out_of_range_rate_limit_is_a_config_error_not_a_panic() {
    // 1e-20 requests per second used to panic in `Duration::from_secs_f64`.
    for rate in [1e-20, 0.0, -1.0, f64::NAN, f64::MIN_POSITIVE] {
        let mut c = config("http://127.0.0.1:9", "/r");
        c.rate_limit = Some(rate);
        let err = RestSource::new(c).err().unwrap_or_else(|| panic!("rate {rate} was accepted"));
        assert!(err.to_string().contains("rate_limit"), "{err}");
    }
    // The slowest rate faucet-gen accepts (one a day) and no cap at all construct.
    for rate in [1.0 / 86_400.0, f64::INFINITY] {
        let mut c = config("http://127.0.0.1:9", "/r");
        c.rate_limit = Some(rate);
        assert!(RestSource::new(c).is_ok(), "rate {rate}");
    }
}

/// The server of the incremental tests: records with `updated` 1..=n, filtered
/// by `since` unless `ignore_since` (then the source's own filter must work).
fn incremental_server(
    records: Arc<Mutex<Vec<i64>>>,
    ignore_since: bool,
) -> impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static {
    move |r, _| {
        let since: i64 = r.q("since").map_or(0, |s| s.parse().unwrap());
        let page: usize = r.q("page").unwrap().parse().unwrap();
        let keys: Vec<i64> =
            records.lock().unwrap().iter().copied().filter(|k| ignore_since || *k > since).collect();
        let chunk: Vec<Value> =
            keys.iter().skip((page - 1) * 2).take(2).map(|k| json!({"id": k, "updated": k})).collect();
        ok(json!({"data": chunk}))
    }
}

#[tokio::test]
async fn incremental_resume_through_the_driver_with_a_file_store() {
    use crate::connectors::files::{JsonlSink, JsonlSinkConfig};
    use crate::state::FileStore;

    for ignore_since in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(Mutex::new((1..=5).collect::<Vec<i64>>()));
        let (base, log) = serve(incremental_server(keys.clone(), ignore_since)).await;
        let out = dir.path().join("out.jsonl");
        let run = || {
            let mut c = config(&base, "/changes");
            c.records_path = Some("$.data[*]".into());
            c.pagination = Pagination::PageNumber {
                param_name: "page".into(),
                start_page: 1,
                page_size: Some(2),
                page_size_param: None,
            };
            c.replication = Some(Replication {
                key: "updated".into(),
                start_value: Some(json!(1)),
                param: Some("since".into()),
            });
            crate::Pipeline::new(
                RestSource::new(c).unwrap(),
                JsonlSink::new(JsonlSinkConfig::new(out.to_str().unwrap())),
            )
            .with_name("rest-incremental")
            .with_state(FileStore::new(dir.path().join("state")))
            .run()
        };
        // A server that ignores `since` sends every record; those at or above
        // the start value are kept (faucet-stream 1.17's inclusive filter).
        let report = run().await.unwrap();
        assert_eq!(report.records_written, if ignore_since { 5 } else { 4 }, "ignore_since={ignore_since}");
        let bookmark = report.last_bookmark.unwrap();
        assert_eq!(bookmark["source"], json!({"next": null, "replication": {"sent": 1, "max": 5}}));
        assert_eq!(requests(&log)[0].q("since"), Some("1"));

        // Nothing new: the second run sends the bookmark, and writes only what
        // the server sends with the bookmark's own value.
        let report = run().await.unwrap();
        assert_eq!(report.records_written, if ignore_since { 1 } else { 0 });
        let since: Vec<Option<String>> =
            requests(&log).iter().map(|s| s.q("since").map(str::to_owned)).collect();
        assert_eq!(since.last().unwrap().as_deref(), Some("5"));

        // New records arrive: only they are written.
        keys.lock().unwrap().extend([6, 7, 8]);
        let report = run().await.unwrap();
        assert_eq!(report.records_written, if ignore_since { 4 } else { 3 });
        let lines: Vec<Value> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let written: Vec<i64> = lines.iter().map(|r| r["updated"].as_i64().unwrap()).collect();
        match ignore_since {
            false => assert_eq!(written, [2, 3, 4, 5, 6, 7, 8]),
            true => assert_eq!(written, [1, 2, 3, 4, 5, 5, 5, 6, 7, 8]),
        }
    }
}

#[tokio::test]
async fn incremental_run_carries_on_from_faucet_stream_state() {
    use crate::connectors::files::{JsonlSink, JsonlSinkConfig};
    use crate::state::{FileStore, StateStore};

    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(Mutex::new((1..=5).collect::<Vec<i64>>()));
    let (base, log) = serve(incremental_server(keys, false)).await;
    let out = dir.path().join("out.jsonl");
    // What faucet-cli 1.17.0 leaves under the key after reading up to 3.
    let store = FileStore::new(dir.path().join("state"));
    let carried = json!({"faucet_state": 1, "owner": "rest", "schema": 0, "data": 3});
    store.put("rest-carried::row-0", &carried).await.unwrap();
    let mut c = config(&base, "/changes");
    c.records_path = Some("$.data[*]".into());
    c.pagination = Pagination::PageNumber {
        param_name: "page".into(),
        start_page: 1,
        page_size: Some(2),
        page_size_param: None,
    };
    c.replication =
        Some(Replication { key: "updated".into(), start_value: Some(json!(1)), param: Some("since".into()) });
    let report = crate::Pipeline::new(
        RestSource::new(c).unwrap(),
        JsonlSink::new(JsonlSinkConfig::new(out.to_str().unwrap())),
    )
    .with_name("rest-carried")
    .with_state(FileStore::new(dir.path().join("state")))
    .run()
    .await
    .unwrap();
    // The request sends faucet-stream's bookmark, not `start_value`, and only later records are written.
    assert_eq!(requests(&log)[0].q("since"), Some("3"));
    assert_eq!(report.records_written, 2);
    let stored = store.get("rest-carried::row-0").await.unwrap().unwrap();
    assert_eq!(stored["source"]["replication"]["max"], json!(5), "{stored}");
}

#[tokio::test]
async fn through_the_driver_endless_empty_pages_succeed_and_a_cursor_loop_fails() {
    use crate::connectors::files::{JsonlSink, JsonlSinkConfig};
    use crate::state::FileStore;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let run = |base: &str| {
        let mut c = config(base, "/feed");
        c.records_path = Some("$.data".into());
        c.pagination = Pagination::Cursor { next_token_path: "$.next".into(), param_name: "c".into() };
        crate::Pipeline::new(
            RestSource::new(c).unwrap(),
            JsonlSink::new(JsonlSinkConfig::new(out.to_str().unwrap())),
        )
        .with_name("rest-loops")
        .with_state(FileStore::new(dir.path().join("state")))
        .run()
    };
    let (base, log) = serve(endless_empty).await;
    let report =
        tokio::time::timeout(Duration::from_secs(20), run(&base)).await.expect("the run ends").unwrap();
    assert_eq!((report.records_written, requests(&log).len()), (0, 10));
    assert_eq!(report.last_bookmark.unwrap()["source"], json!({"next": null}));

    let (base, log) = serve(|r, _| match r.q("c") {
        None => ok(json!({"data": [{"id": 1}], "next": "A"})),
        Some("A") => ok(json!({"data": [{"id": 2}], "next": "B"})),
        _ => ok(json!({"data": [{"id": 3}], "next": "A"})),
    })
    .await;
    let e = run(&base).await.unwrap_err();
    assert!(e.to_string().contains("page 3: the next cursor `A` was already requested"), "{e}");
    assert_eq!(requests(&log).len(), 3);
    // The pages before the loop were written once; the page pointing back was not.
    let written: Vec<String> = std::fs::read_to_string(&out).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(written, [r#"{"id":1}"#, r#"{"id":2}"#]);
}

#[tokio::test]
async fn secrets_never_reach_errors_logs_or_debug() {
    use std::io::Write;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global, not scoped: a scoped subscriber misses callsites that tests on
    // other threads registered first. The other tests' output lands in the
    // buffer too, which only widens the check.
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only global subscriber of this test binary");

    // SAFETY: the names are unique to this test; nothing else reads them.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("FAUCET_REST_TEST_TOKEN", "sekrit-bearer-7731");
        std::env::set_var("FAUCET_REST_TEST_KEY", "sekrit-query-9942");
    }
    use crate::secret::{Part, Template};
    let token = Template(&[Part::Secret("FAUCET_REST_TEST_TOKEN")]).resolve().unwrap();
    let key = Template(&[Part::Secret("FAUCET_REST_TEST_KEY")]).resolve().unwrap();

    // The server echoes everything it received, in the Link header and in the error body.
    let (base, _) = serve(|r, i| {
        let echo = format!("{:?} {:?}", r.headers, r.query);
        match i % 5 {
            0 => status(500, &echo),
            1 => ok(json!([{"id": 1}]))
                .header("link", format!("</e?page=2&key={}>; rel=\"next\"", r.q("key").unwrap_or("none"))),
            2 => status(503, &echo).header("retry-after", "0"),
            3 => status(429, &echo).header("retry-after", "0"),
            _ => status(403, &echo),
        }
    })
    .await;
    let mut errors = Vec::new();
    for auth in [
        Auth::Bearer { token: SecretString::new(token.clone()) },
        Auth::ApiKeyQuery { param: "key".into(), value: SecretString::new(key.clone()) },
    ] {
        let mut c = config(&base, "/e");
        c.auth = auth;
        c.pagination = Pagination::LinkHeader;
        c.headers = vec![("X-Also".into(), token.clone())];
        let mut source = RestSource::new(c.clone()).unwrap();
        errors.push(format!("{c:?} {source:?}"));
        source.resume(None).await.unwrap();
        let first = source.next_page().await.unwrap().unwrap();
        errors.push(format!("{:?}", first.bookmark));
        let e = source.next_page().await.unwrap_err();
        errors.push(format!("{e} {e:?}"));
    }
    // A malformed body and a refused connection, with the key in the query.
    let mut c = config("http://127.0.0.1:9", "/e");
    c.max_retries = 0;
    c.auth = Auth::ApiKeyQuery { param: "key".into(), value: SecretString::new(key.clone()) };
    errors.push(all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err().to_string());

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("rest: server error; retrying"), "the test captured the retry log:\n{logs}");
    let everything = format!("{logs}\n{}", errors.join("\n"));
    assert!(errors.iter().any(|e| e.contains("HTTP 403")), "{everything}");
    for secret in ["sekrit-bearer-7731", "sekrit-query-9942"] {
        assert!(!everything.contains(secret), "`{secret}` leaked:\n{everything}");
    }
}

#[tokio::test]
async fn echoed_credentials_are_scrubbed_in_every_encoding() {
    // Secrets whose percent-, form- and base64-encoded forms all differ from the raw one.
    let password = "pä ss/+&=wd-4417";
    let key = "k€y /+&=-3391";
    let client_secret = "cs ecr/+&=et-8812";
    // The server answers 401 with what it received: headers, the raw query and
    // the body (the OAuth2 form); for `/cut`, the secret at the excerpt's end.
    let (base, _) = serve(move |r, _| {
        if r.path == "/cut" {
            return status(401, &format!("{}{}", "x".repeat(190), r.q("api_key").unwrap_or_default()));
        }
        status(401, &format!("{} {} {:?}", r.body, r.raw_query, r.headers))
    })
    .await;
    let oauth2 = OAuth2Config {
        token_url: format!("{base}/token"),
        client_id: "faucet".into(),
        client_secret: secret(client_secret),
        scopes: Vec::new(),
        expiry_ratio: 0.9,
    };
    let mut errors = Vec::new();
    for (path, auth) in [
        ("/e", Auth::Basic { username: "ann".into(), password: secret(password) }),
        ("/e", Auth::ApiKeyQuery { param: "api_key".into(), value: secret(key) }),
        ("/cut", Auth::ApiKeyQuery { param: "api_key".into(), value: secret(key) }),
        ("/e", Auth::OAuth2(oauth2)),
    ] {
        let mut c = config(&base, path);
        c.max_retries = 0;
        c.auth = auth;
        let e = all_pages(&mut RestSource::new(c.clone()).unwrap(), None).await.unwrap_err();
        errors.push(format!("{e} | {e:?} | {c:?}"));
    }
    let all = errors.join("\n");
    // The echoes are there (scrubbed): the check below is not vacuous.
    for echoed in ["\"authorization\": \"Basic ***\"", "api_key=***", "client_secret=***", "xxxxx***"] {
        assert!(all.contains(echoed), "`{echoed}` missing:\n{all}");
    }
    for secret in [password, key, client_secret] {
        let percent =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for form in [secret.to_owned(), percent.clone(), percent.to_lowercase(), form] {
            assert!(!all.contains(&form), "`{form}` leaked:\n{all}");
        }
        // Any piece long enough to tell it apart.
        let chars: Vec<char> = secret.chars().collect();
        for piece in chars.windows(5) {
            let piece: String = piece.iter().collect();
            assert!(!all.contains(&piece), "`{piece}` of `{secret}` leaked:\n{all}");
        }
    }
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ann:{password}"));
    assert!(!all.contains(&basic) && !all.contains(&basic[4..12]), "the basic-auth header leaked:\n{all}");
}

#[test]
fn bad_runtime_values_are_config_errors() {
    let error = RestSource::new(RestSourceConfig::new("ftp://x.test")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    let error = RestSource::new(RestSourceConfig::new("not a url")).unwrap_err();
    assert!(error.message().contains("not a valid URL"), "{error}");
    let mut c = RestSourceConfig::new("http://x.test/v1/");
    c.path = "/users".into();
    let source = RestSource::new(c).unwrap();
    assert_eq!(source.endpoint.as_str(), "http://x.test/v1/users");
}

#[tokio::test]
async fn a_response_over_max_response_bytes_fails_clearly_without_retrying() {
    // 2 MiB declared in Content-Length: refused before the body is read.
    let big = json!([{ "id": 1, "pad": "x".repeat(2 << 20) }]);
    let (base, log) = serve(move |_, _| ok(big.clone())).await;
    let mut c = config(&base, "/big");
    c.max_response_bytes = 1 << 20;
    let error = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Source);
    let message = error.message();
    assert!(
        message.contains(
            "(page 1): the response body is larger than `max_response_bytes` (1048576 bytes): 2097"
        ),
        "{message}"
    );
    assert!(message.contains("bytes declared; raise `max_response_bytes`"), "{message}");
    assert_eq!(requests(&log).len(), 1, "a response too large is not retried");

    // A body of exactly the limit is read.
    let exact = json!([{ "id": 7 }]).to_string();
    let limit = exact.len() as u64;
    let (base, _) = serve(move |_, _| status(200, &exact)).await;
    let mut c = config(&base, "/exact");
    c.max_response_bytes = limit;
    assert_eq!(ids(&all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap()), [7]);
}

#[tokio::test]
async fn a_streamed_gibibyte_response_is_abandoned_at_the_limit() {
    use std::sync::atomic::{AtomicU64, Ordering};
    // A chunked body (no Content-Length) of 1 GiB, produced only as fast as it is read.
    let produced = Arc::new(AtomicU64::new(0));
    let counter = produced.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            let chunk = bytes::Bytes::from(vec![b' '; 1 << 20]);
            let chunks = futures_util::StreamExt::map(futures_util::stream::iter(0..1024), move |_| {
                counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                Ok::<_, std::io::Error>(chunk.clone())
            });
            Response::builder()
                .header("content-type", "application/json")
                .body(Body::from_stream(chunks))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut c = config(&format!("http://{addr}"), "/huge");
    c.max_response_bytes = 4 << 20;
    c.max_retries = 0;
    let error = all_pages(&mut RestSource::new(c).unwrap(), None).await.unwrap_err();
    assert!(error.message().contains("more than 4194304 bytes sent"), "{error}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = produced.load(Ordering::Relaxed);
    assert!(sent < 64 << 20, "the server produced {sent} bytes: the body was read past the limit");
}

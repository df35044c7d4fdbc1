//! Runs the `users` pipeline against a small API served on 127.0.0.1: 25 users
//! in pages of 10, behind a bearer token. Run it twice: the second run sends
//! its bookmark (`updated_since`) and writes nothing new. Delete
//! `examples/rest-to-jsonl/out/` to start over.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

faucet_runtime::include_pipeline!("users");

const TOKEN: &str = "example-token-not-a-secret";

/// The API: `GET /v1/users?cursor=&updated_since=`, newest last.
async fn list_users(
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> (StatusCode, axum::Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "bad token"})));
    }
    let since = query.get("updated_since").cloned().unwrap_or_default();
    let all: Vec<Value> = (1..=25)
        .map(|i| json!({"id": i, "name": format!("user {i}"), "updated_at": format!("2024-05-{i:02}T00:00:00Z")}))
        .filter(|u| u["updated_at"].as_str().unwrap_or_default() > since.as_str())
        .collect();
    let start: usize = query.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(start).take(10).cloned().collect();
    let next = (start + 10 < all.len()).then(|| (start + 10).to_string());
    (StatusCode::OK, axum::Json(json!({"data": page, "meta": {"next_cursor": next}})))
}

#[allow(unsafe_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    // SAFETY: set before the runtime starts, while this is the only thread.
    unsafe {
        std::env::set_var("USERS_API_URL", &url);
        std::env::set_var("USERS_API_TOKEN", TOKEN);
    }
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR"))?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = axum::Router::new().route("/v1/users", axum::routing::get(list_users));
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        let report = users::run().await?;
        println!("{report}");
        Ok(())
    })
}

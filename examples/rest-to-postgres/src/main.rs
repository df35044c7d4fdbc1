//! Runs the `users_to_pg` pipeline against a small API served on 127.0.0.1 (25
//! users in pages of 10, behind a bearer token) into the table
//! `faucet_example.users` of the PostgreSQL at `DATABASE_URL` (default: the
//! local server). Run it twice: the second run sends its bookmark
//! (`updated_since`) and writes nothing new. Delete
//! `examples/rest-to-postgres/out/` to start over.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

faucet_runtime::include_pipeline!("users_to_pg");

const TOKEN: &str = "example-token-not-a-secret";
const LOCAL_DATABASE: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The API: `GET /v1/users?cursor=&updated_since=`, oldest first.
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
    let database = std::env::var("DATABASE_URL").unwrap_or_else(|_| LOCAL_DATABASE.to_owned());
    // SAFETY: set before the runtime starts, while this is the only thread.
    unsafe {
        std::env::set_var("USERS_API_URL", &url);
        std::env::set_var("USERS_API_TOKEN", TOKEN);
        std::env::set_var("DATABASE_URL", &database);
    }
    // Paths in the pipeline are relative to this example (its test points it at a scratch copy).
    let workdir =
        std::env::var_os("REST_EXAMPLE_WORKDIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    std::env::set_current_dir(workdir)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        // The upsert key needs a unique index; the sink never alters a table it did not create.
        let mut db = sqlx::PgConnection::connect(&database).await?;
        sqlx::raw_sql(
            "CREATE SCHEMA IF NOT EXISTS faucet_example;
             CREATE TABLE IF NOT EXISTS faucet_example.users (id BIGINT PRIMARY KEY, name TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
        )
        .execute(&mut db)
        .await?;
        let app = axum::Router::new().route("/v1/users", axum::routing::get(list_users));
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        let report = users_to_pg::run().await?;
        println!("{report}");
        Ok(())
    })
}

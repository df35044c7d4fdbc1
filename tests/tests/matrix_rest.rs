//! A REST parent fans out to REST children; hostile parent values (`../admin`,
//! `a&b=c d`) must stay one URL path segment and one query value.

use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<String>>>;

async fn users() -> Json<Value> {
    Json(json!({"data": [
        {"id": 1, "n": 1, "name": "ada"},
        {"id": "../admin", "n": 2, "name": "a&b=c d"},
    ]}))
}

/// Every request for a user's posts: records exactly what arrived on the wire.
async fn posts(State(seen): State<Seen>, uri: Uri) -> Json<Value> {
    let raw = uri.to_string();
    seen.lock().unwrap().push(raw.clone());
    Json(json!({"data": [{"request": raw}]}))
}

async fn admin() -> Json<Value> {
    Json(json!({"data": [{"leaked": true}]}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_children_get_percent_encoded_parent_values() {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/users", get(users))
        .route("/users/{id}/posts", get(posts))
        .route("/admin/posts", get(admin))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_e2e-runner"))
            .arg("matrix_rest")
            .env("FAUCET_E2E_DIR", &path)
            .env("FAUCET_E2E_API", &api)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{report:#}");

    let mut requests = seen.lock().unwrap().clone();
    requests.sort();
    assert_eq!(
        requests,
        ["/users/..%2Fadmin/posts?owner=a%26b%3Dc+d", "/users/1/posts?owner=ada"],
        "one path segment and one query value per parent value"
    );
    let hostile = std::fs::read_to_string(dir.path().join("out/posts-2.jsonl")).unwrap();
    assert!(!hostile.contains("leaked"), "the hostile id must not reach /admin: {hostile}");
    assert_eq!(report["totals"]["succeeded"], 3);
}

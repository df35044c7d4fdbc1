//! Hostile parent values cannot escape their place (issue 15, "DAG substitution").
//!
//! Each matrix below takes `${parent.field}` values from records chosen by an
//! attacker and substitutes them into every position that accepts one: a REST
//! `base_url` path and `path` (a real local HTTP server, plus a second one
//! playing the attacker's host), a file source's glob, a file sink's path, a
//! `file` object store's `root` and `prefix`, and a SQLite database URL (real
//! files). The run must send and write nothing outside its scope; the values
//! that could only escape (`..`, `a/b`) fail their own invocation.
//!
//! The last matrices are about compiling at all: a parent chain six deep and a
//! parent with 130 children (both failed in rustc before, E0275 and the
//! `tokio::join!` recursion limit).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

faucet_runtime::faucet! {
    name: escape_rest,
    pipeline: {
        sources: {
            api: { type: rest, config: { base_url: "${env:FAUCET_ESCAPE_API}", records_path: "$.data[*]" } },
        },
        sink: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_REST_DIR}/unused.jsonl" } },
    },
    matrix: [
        {
            id: users,
            source: { ref: api, config: { path: "/users" } },
            sink: { config: { path: "${env:FAUCET_ESCAPE_REST_DIR}/users.jsonl" } },
        },
        {
            id: by_base,
            parent: users,
            parent_key: n,
            source: { ref: api, config: { base_url: "${env:FAUCET_ESCAPE_API}/v1/${users.id}", path: "/items" } },
            sink: { config: { path: "${env:FAUCET_ESCAPE_REST_DIR}/base-${users.n}.jsonl" } },
        },
        {
            id: by_path,
            parent: users,
            parent_key: n,
            source: { ref: api, config: { path: "/items/${users.id}/detail" } },
            sink: { config: { path: "${env:FAUCET_ESCAPE_REST_DIR}/path-${users.n}.jsonl" } },
        },
    ],
    execution: { max_concurrent: 4 },
}

faucet_runtime::faucet! {
    name: escape_files,
    pipeline: {
        sink: { type: stdout, config: { destination: stderr } },
    },
    matrix: [
        {
            id: parents,
            source: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_FILES_DIR}/parents.jsonl" } },
        },
        {
            id: copy,
            parent: parents,
            parent_key: n,
            source: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_FILES_DIR}/in/${parents.id}.jsonl" } },
            sink: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_FILES_DIR}/out/${parents.id}.jsonl" } },
        },
        {
            id: lake,
            parent: parents,
            parent_key: n,
            source: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_FILES_DIR}/in/a.jsonl" } },
            sink: {
                type: file,
                config: { root: "${env:FAUCET_ESCAPE_FILES_DIR}/lake/${parents.id}", prefix: "p-${parents.id}-" },
            },
        },
        {
            id: db,
            parent: parents,
            parent_key: n,
            source: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_FILES_DIR}/in/a.jsonl" } },
            sink: {
                type: sqlite,
                config: {
                    database_url: "sqlite://${env:FAUCET_ESCAPE_FILES_DIR}/db/${parents.id}.db",
                    table_name: rows,
                    column_mapping: auto_map,
                    create_table: true,
                },
            },
        },
    ],
    execution: { max_concurrent: 4 },
}

type Seen = Arc<Mutex<Vec<String>>>;

/// Records every request that reaches a server, exactly as it arrived.
async fn record(State(seen): State<Seen>, uri: Uri) -> Json<Value> {
    seen.lock().unwrap().push(uri.to_string());
    Json(json!({"data": [{"request": uri.to_string()}]}))
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn statuses(report: &faucet_runtime::MatrixReport, row: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report
        .row(row)
        .map(|i| (i.parent_key.clone().unwrap_or_default(), i.status.as_str().to_owned()))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(unsafe_code)]
async fn rest_parent_values_never_leave_the_url_path_segment() {
    let attacker_seen: Seen = Arc::default();
    let attacker = serve(axum::Router::new().fallback(record).with_state(attacker_seen.clone())).await;
    let hostile_ids = [
        "ok".to_owned(),
        format!("{attacker}/steal?"),
        format!("attacker@{attacker}"),
        "..".to_owned(),
        ".".to_owned(),
        "../admin".to_owned(),
        "%2e%2e".to_owned(),
    ];
    let users: Vec<Value> =
        hostile_ids.iter().enumerate().map(|(n, id)| json!({"n": n + 1, "id": id})).collect();
    let seen: Seen = Arc::default();
    let api_seen = seen.clone();
    let api = serve(
        axum::Router::new()
            .route("/users", axum::routing::get(move || async move { Json(json!({ "data": users })) }))
            .fallback(record)
            .with_state(api_seen),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    // SAFETY: these variables are unique to this test; nothing else reads them.
    unsafe {
        std::env::set_var("FAUCET_ESCAPE_API", format!("http://{api}"));
        std::env::set_var("FAUCET_ESCAPE_REST_DIR", dir.path());
    }
    let report = escape_rest::run().await.unwrap();

    assert!(attacker_seen.lock().unwrap().is_empty(), "a parent value redirected a request: {report}");
    let mut requests = seen.lock().unwrap().clone();
    requests.sort();
    let expected: Vec<String> = [
        "/v1/ok/items",
        "/items/ok/detail",
        "/v1/127.0.0.1%3A{P}%2Fsteal%3F/items",
        "/items/127.0.0.1%3A{P}%2Fsteal%3F/detail",
        "/v1/attacker%40127.0.0.1%3A{P}/items",
        "/items/attacker%40127.0.0.1%3A{P}/detail",
        "/v1/..%2Fadmin/items",
        "/items/..%2Fadmin/detail",
        "/v1/%252e%252e/items",
        "/items/%252e%252e/detail",
    ]
    .iter()
    .map(|r| r.replace("{P}", attacker.rsplit(':').next().unwrap()))
    .collect::<BTreeSet<_>>()
    .into_iter()
    .collect();
    assert_eq!(requests, expected, "one percent-encoded segment per parent value, never a dot segment");

    // `..` and `.` would step out of the path: those invocations fail, nothing is sent for them.
    for row in ["by_base", "by_path"] {
        let failed: Vec<String> =
            statuses(&report, row).into_iter().filter(|(_, s)| s == "failed").map(|(k, _)| k).collect();
        assert_eq!(failed, ["4", "5"], "{row}: {report}");
        for invocation in report.row(row).filter(|i| i.status.as_str() == "failed") {
            let error = invocation.error.as_deref().unwrap_or_default();
            assert!(error.contains("step out of the configured path"), "{error}");
        }
    }
    // Five safe values in each of two rows; the parent reports its failed children
    // (its page stays unconfirmed, so a rerun retries them).
    assert_eq!(report.count(faucet_runtime::InvocationStatus::Succeeded), 2 * 5, "{report}");
}

/// Every file under `root`, relative to it.
fn files_under(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(unsafe_code)]
async fn file_store_and_sqlite_parent_values_stay_inside_their_directory() {
    // The work directory sits two levels down, so `../../x` has somewhere to go.
    let top = tempfile::tempdir().unwrap();
    let work = top.path().join("a/b");
    std::fs::create_dir_all(work.join("in")).unwrap();
    std::fs::create_dir_all(work.join("db")).unwrap();
    let outside = top.path().join("a/escaped.jsonl");
    std::fs::write(&outside, "{\"from\":\"outside\"}\n").unwrap();
    for (name, from) in [
        ("a", "a"),
        ("b", "b"),
        ("c", "c"),
        ("[a-c]", "class"),
        ("{a,b}", "braces"),
        ("*", "star"),
        ("q?mode=memory", "query"),
    ] {
        std::fs::write(work.join(format!("in/{name}.jsonl")), format!("{{\"from\":\"{from}\"}}\n")).unwrap();
    }
    let ids = ["a", "[a-c]", "{a,b}", "*", "q?mode=memory", "../../escaped", "..", "x/../../../escaped"];
    let parents: String =
        ids.iter().enumerate().map(|(n, id)| format!("{}\n", json!({"n": n + 1, "id": id}))).collect();
    std::fs::write(work.join("parents.jsonl"), parents).unwrap();
    // SAFETY: the variable is unique to this test; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_ESCAPE_FILES_DIR", &work) };

    let report = escape_files::run().await.unwrap();

    let read = |path: &str| std::fs::read_to_string(work.join(path)).unwrap();
    // Glob characters in a value match only themselves: one file each.
    assert_eq!(read("out/a.jsonl"), "{\"from\":\"a\"}\n");
    assert_eq!(read("out/[a-c].jsonl"), "{\"from\":\"class\"}\n");
    assert_eq!(read("out/{a,b}.jsonl"), "{\"from\":\"braces\"}\n");
    assert_eq!(read("out/*.jsonl"), "{\"from\":\"star\"}\n");
    assert_eq!(read("out/q?mode=memory.jsonl"), "{\"from\":\"query\"}\n");
    // Nothing outside the work directory was read, written or replaced.
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "{\"from\":\"outside\"}\n");
    let everything = files_under(top.path());
    let outside_work: Vec<&String> = everything.iter().filter(|f| !f.starts_with("a/b/")).collect();
    assert_eq!(outside_work, ["a/escaped.jsonl"], "{everything:?}");
    // A `?` in the value is part of the SQLite file's name, not a URL option.
    assert!(work.join("db/q?mode=memory.db").is_file(), "{everything:?}");
    for id in ["a", "[a-c]", "{a,b}", "*", "q?mode=memory"] {
        assert!(work.join(format!("db/{id}.db")).is_file(), "{id}: {everything:?}");
        // The store writes under its own root; the prefix is a key inside it.
        let lake = format!("a/b/lake/{id}/");
        assert_eq!(everything.iter().filter(|f| f.starts_with(&lake)).count(), 1, "{id}: {everything:?}");
    }
    // The values that could only escape fail their own invocations, in every row.
    for row in ["copy", "lake", "db"] {
        let failed: Vec<String> =
            statuses(&report, row).into_iter().filter(|(_, s)| s == "failed").map(|(k, _)| k).collect();
        assert_eq!(failed, ["6", "7", "8"], "{row}: {report}");
    }
}

faucet_runtime::faucet! {
    name: deep_chain,
    pipeline: {
        source: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_CHAIN_DIR}/one.jsonl" } },
        sink: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_CHAIN_DIR}/out/unused.jsonl" } },
    },
    matrix: [
        { id: l0, sink: { config: { path: "${env:FAUCET_ESCAPE_CHAIN_DIR}/out/l0.jsonl" } } },
        { id: l1, parent: l0, sink: { config: { path: "${env:FAUCET_ESCAPE_CHAIN_DIR}/out/l1-${l0.id}.jsonl" } } },
        { id: l2, parent: l1, sink: { config: { path: "${env:FAUCET_ESCAPE_CHAIN_DIR}/out/l2-${l1.id}.jsonl" } } },
        { id: l3, parent: l2, sink: { config: { path: "${env:FAUCET_ESCAPE_CHAIN_DIR}/out/l3-${l2.id}.jsonl" } } },
        { id: l4, parent: l3, sink: { config: { path: "${env:FAUCET_ESCAPE_CHAIN_DIR}/out/l4-${l3.id}.jsonl" } } },
        { id: l5, parent: l4, sink: { config: { path: "${env:FAUCET_ESCAPE_CHAIN_DIR}/out/l5-${l4.id}.jsonl" } } },
    ],
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(unsafe_code)]
async fn a_parent_chain_six_deep_compiles_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.jsonl"), "{\"id\":\"x\"}\n").unwrap();
    // SAFETY: the variable is unique to this test; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_ESCAPE_CHAIN_DIR", dir.path()) };
    let report = deep_chain::run().await.unwrap();
    assert_eq!(report.count(faucet_runtime::InvocationStatus::Succeeded), 6, "{report}");
    let out = std::fs::read_to_string(dir.path().join("out/l5-x.jsonl")).unwrap();
    assert_eq!(out, "{\"id\":\"x\"}\n");
}

/// A matrix with one root row and one child row per identifier.
macro_rules! wide_matrix {
    ($($child:ident)*) => {
        faucet_runtime::faucet! {
            name: wide,
            pipeline: {
                source: { type: jsonl, config: { path: "${env:FAUCET_ESCAPE_WIDE_DIR}/one.jsonl" } },
                sink: { type: stdout, config: { destination: stderr } },
            },
            matrix: [ { id: root }, $({ id: $child, parent: root },)* ],
        }
    };
}

wide_matrix! {
    c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 c10 c11 c12 c13 c14 c15 c16 c17 c18 c19
    c20 c21 c22 c23 c24 c25 c26 c27 c28 c29 c30 c31 c32 c33 c34 c35 c36 c37 c38 c39
    c40 c41 c42 c43 c44 c45 c46 c47 c48 c49 c50 c51 c52 c53 c54 c55 c56 c57 c58 c59
    c60 c61 c62 c63 c64 c65 c66 c67 c68 c69 c70 c71 c72 c73 c74 c75 c76 c77 c78 c79
    c80 c81 c82 c83 c84 c85 c86 c87 c88 c89 c90 c91 c92 c93 c94 c95 c96 c97 c98 c99
    c100 c101 c102 c103 c104 c105 c106 c107 c108 c109 c110 c111 c112 c113 c114 c115 c116 c117 c118 c119
    c120 c121 c122 c123 c124 c125 c126 c127 c128 c129
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(unsafe_code)]
async fn a_parent_with_130_children_compiles_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.jsonl"), "{\"id\":\"x\"}\n").unwrap();
    // SAFETY: the variable is unique to this test; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_ESCAPE_WIDE_DIR", dir.path()) };
    let report = wide::run().await.unwrap();
    assert_eq!(report.count(faucet_runtime::InvocationStatus::Succeeded), 131, "{report}");
}

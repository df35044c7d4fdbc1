//! Secrets through generated pipelines: read from `${env:…}` at run time, sent
//! to a real server that echoes every credential back in its error body, and
//! never found in the error, in any encoding. Also: faucet-gen's build-time
//! rule and faucet-runtime's redaction agree on what names a credential.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine as _;

faucet_runtime::faucet! {
    name: basic_echo,
    pipeline: {
        source: { type: rest, config: {
            base_url: "${env:FAUCET_SECRETS_API}", path: "/basic", max_retries: 0,
            auth: { type: basic, config: { username: ann, password: "${env:FAUCET_SECRETS_PASSWORD}" } },
        } },
        sink: { type: stdout, config: { destination: stderr } },
    }
}

faucet_runtime::faucet! {
    name: oauth2_echo,
    pipeline: {
        source: { type: rest, config: {
            base_url: "${env:FAUCET_SECRETS_API}", path: "/data", max_retries: 0,
            auth: { type: oauth2, config: {
                token_url: "${env:FAUCET_SECRETS_API}/token", client_id: faucet,
                client_secret: "${env:FAUCET_SECRETS_CLIENT_SECRET}",
            } },
        } },
        sink: { type: stdout, config: { destination: stderr } },
    }
}

faucet_runtime::faucet! {
    name: query_key_echo,
    pipeline: {
        source: { type: rest, config: {
            base_url: "${env:FAUCET_SECRETS_API}", path: "/key", max_retries: 0,
            query_params: { api_key: "${env:FAUCET_SECRETS_KEY}" },
        } },
        sink: { type: stdout, config: { destination: stderr } },
    }
}

/// Answers 401 with everything the request carried: raw query, body, headers.
async fn echo(uri: Uri, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let body = String::from_utf8_lossy(&body);
    (StatusCode::UNAUTHORIZED, format!("{} {body} {headers:?}", uri.query().unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoed_secrets_never_reach_the_errors() {
    let app = axum::Router::new().fallback(echo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // Each secret's percent-, form- and base64-encoded forms differ from it.
    let password = "pä ss/+&=wd-E2E-4417";
    let client_secret = "cs ecr/+&=et-E2E-8812";
    let key = "k€y /+&=-E2E-3391";
    // SAFETY: this is the only test of this binary that sets or reads these variables.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("FAUCET_SECRETS_API", &api);
        std::env::set_var("FAUCET_SECRETS_PASSWORD", password);
        std::env::set_var("FAUCET_SECRETS_CLIENT_SECRET", client_secret);
        std::env::set_var("FAUCET_SECRETS_KEY", key);
    }
    let runs = [
        format!("{:?}", basic_echo::run().await),
        format!("{:?}", oauth2_echo::run().await),
        format!("{:?}", query_key_echo::run().await),
    ];
    let all = runs.join("\n");
    // The server did echo each credential (scrubbed), so the checks below can fail.
    for echoed in ["Basic ***", "client_secret=***", "api_key=***"] {
        assert!(all.contains(echoed), "`{echoed}` missing:\n{all}");
    }
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ann:{password}"));
    for secret in [password, client_secret, key] {
        let percent =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for shown in [secret.to_owned(), percent.clone(), percent.to_lowercase(), form] {
            assert!(!all.contains(&shown), "`{shown}` leaked:\n{all}");
        }
        let chars: Vec<char> = secret.chars().collect();
        for piece in chars.windows(6) {
            let piece: String = piece.iter().collect();
            assert!(!all.contains(&piece), "`{piece}` of a secret leaked:\n{all}");
        }
    }
    assert!(!all.contains(&basic[4..16]), "the basic-auth header leaked:\n{all}");
}

/// Both public paths re-export faucet-credentials' one rule; this keeps a
/// second copy from growing back on either side.
#[test]
fn build_and_run_time_agree_on_credential_names() {
    for name in [
        "password",
        "sasl.password",
        "ssl.key.password",
        "sslpassword",
        "client_secret",
        "access_token",
        "accessToken",
        "X-Auth-Token",
        "X-Api-Key",
        "api_key",
        "apikey",
        "key",
        "secret_access_key",
        "session_token",
        "sas_token",
        "ssl.key.pem",
        "Authorization",
        "Cookie",
        "sig",
        "X-Amz-Signature",
        "username",
        "client_id",
        "access_key_id",
        "token_url",
        "page_token",
        "nextToken",
        "cursor",
        "ssl.key.location",
        "ssl.ca.pem",
        "sslkey",
        "ssl-key",
        "public_key",
        "sort_key",
        "auth_type",
        "sslmode",
        "limit",
    ] {
        assert_eq!(
            faucet_gen::secrets::is_secret_name(name),
            faucet_runtime::secret::is_secret_name(name),
            "{name}"
        );
    }
}

faucet_runtime::faucet! {
    name: env_path_csv,
    pipeline: {
        source: { type: csv, config: { path: "${env:FAUCET_SECRETS_CSV_PATH}" } },
        sink: { type: stdout, config: { destination: stderr } },
    }
}

/// A path from the environment is no secret: an error names the file that failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_paths_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders-from-env.csv");
    std::fs::write(&path, b"id,text\n1,ok\n2,caf\xe9\n").unwrap();
    let path = path.to_str().unwrap().to_owned();
    // SAFETY: this is the only test of this binary that sets or reads this variable.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("FAUCET_SECRETS_CSV_PATH", &path);
    }
    let error = env_path_csv::run().await.expect_err("line 3 is not UTF-8");
    assert!(error.to_string().contains(&format!("{path}:3")), "{error}");

    let missing = dir.path().join("missing-from-env.csv");
    let missing = missing.to_str().unwrap().to_owned();
    #[allow(unsafe_code)]
    // SAFETY: as above.
    unsafe {
        std::env::set_var("FAUCET_SECRETS_CSV_PATH", &missing);
    }
    let error = env_path_csv::run().await.expect_err("the file does not exist");
    assert!(error.to_string().contains(&missing), "{error}");
}

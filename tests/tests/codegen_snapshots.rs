//! faucet-gen's generated-code snapshots (`faucet-gen/tests/codegen/*.rs`)
//! compile against the runtime, and the pipelines they define can be built.

/// What the `custom_transform` snapshot's config names as its custom step.
pub mod snapshot_support {
    use faucet_runtime::{FaucetError, Record};

    /// Tags each record, so the test can see the function ran.
    pub fn tag_record(mut record: Record) -> Result<Option<Record>, FaucetError> {
        record["tagged"] = true.into();
        Ok(Some(record))
    }

    /// The `limits` snapshot's generic custom step, in a module named with
    /// the 2024 keyword `gen`.
    pub mod r#gen {
        use faucet_runtime::{FaucetError, Record};

        /// Passes records through.
        pub fn keep<T>(record: Record) -> Result<Option<Record>, FaucetError> {
            Ok(Some(record))
        }
    }
}

include!("../../faucet-gen/tests/codegen/minimal.rs");
include!("../../faucet-gen/tests/codegen/full.rs");
include!("../../faucet-gen/tests/codegen/custom_transform.rs");
include!("../../faucet-gen/tests/codegen/contract.rs");
include!("../../faucet-gen/tests/codegen/matrix.rs");
include!("../../faucet-gen/tests/codegen/object_store.rs");
include!("../../faucet-gen/tests/codegen/object_backends.rs");
include!("../../faucet-gen/tests/codegen/kafka.rs");
include!("../../faucet-gen/tests/codegen/kafka_auth.rs");
include!("../../faucet-gen/tests/codegen/rest.rs");
include!("../../faucet-gen/tests/codegen/postgres.rs");
include!("../../faucet-gen/tests/codegen/redis_state.rs");
include!("../../faucet-gen/tests/codegen/sqlite_to_pg.rs");
include!("../../faucet-gen/tests/codegen/mysql_to_pg.rs");
include!("../../faucet-gen/tests/codegen/pg_to_mysql.rs");
include!("../../faucet-gen/tests/codegen/observability.rs");
include!("../../faucet-gen/tests/codegen/postgres_cdc.rs");
include!("../../faucet-gen/tests/codegen/limits.rs");

#[test]
#[allow(unsafe_code)]
fn rest_snapshot_builds_once_its_secrets_are_set() {
    let error = rest_users::pipeline().err().expect("the env vars are unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_TEAM"), "{error}");
    // SAFETY: the names are unique to this test; nothing else reads them.
    unsafe {
        std::env::set_var("FAUCET_SNAPSHOT_TEAM", "blue");
        std::env::set_var("FAUCET_SNAPSHOT_CLIENT_SECRET", "snapshot-client-secret");
    }
    assert!(rest_users::pipeline().is_ok());
}

#[test]
fn snapshots_build_their_pipelines() {
    assert_eq!(minimal::NAME, "minimal");
    assert!(minimal::pipeline().is_ok());
    assert_eq!(full_featured::NAME, "full-featured");
    assert!(custom_transform::pipeline().is_ok());
    assert!(contract_orders::pipeline().is_ok());
    assert!(matrix::pipeline_users().is_ok());
    assert!(matrix::pipeline_posts(&serde_json::json!({"id": 1})).is_ok());
    assert!(
        matrix::pipeline_posts(&serde_json::json!({"id": "../x"})).is_err(),
        "hostile parent value rejected"
    );
    assert!(pg_to_jsonl::pipeline().is_ok(), "database connectors connect lazily");
    assert!(sqlite_to_pg::pipeline().is_ok());
    assert!(pg_to_mysql::pipeline().is_ok());
    let error = mysql_to_pg::pipeline().err().expect("the password variable is unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_MYSQL_PASSWORD"), "{error}");
    let error = pg_cdc_replica::pipeline().err().expect("the password variable is unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_CDC_PASSWORD"), "{error}");
    let error = pg_orders::pipeline().err().expect("the password variable is unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_PGPASSWORD"), "{error}");
}

#[test]
fn missing_env_var_is_a_run_time_error_naming_it() {
    // FAUCET_SNAPSHOT_DIR is never set in the test environment.
    let error = full_featured::pipeline().err().expect("the env var is unset");
    assert_eq!(error.kind(), faucet_runtime::ErrorKind::Config);
    assert!(error.message().contains("FAUCET_SNAPSHOT_DIR"), "{error}");
}

#[tokio::test]
async fn custom_function_from_config_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "{\"id\":1}\n{\"id\":2}\n").unwrap();
    // The snapshot's paths are relative to the working directory.
    let previous = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let report = custom_transform::run().await;
    std::env::set_current_dir(previous).unwrap();
    let report = report.unwrap();
    assert_eq!(report.records_written, 2);
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(out, "{\"id\":1,\"tagged\":true}\n{\"id\":2,\"tagged\":true}\n");
}

#[test]
#[allow(unsafe_code)]
fn object_backends_snapshot_builds_once_its_key_is_set() {
    let error = lake_copy::pipeline().err().expect("the env var is unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_AZURE_KEY"), "{error}");
    // SAFETY: the name is unique to this test; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_SNAPSHOT_AZURE_KEY", "c25hcHNob3Q=") };
    assert!(lake_copy::pipeline().is_ok());
}

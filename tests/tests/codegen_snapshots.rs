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
}

include!("../../faucet-gen/tests/codegen/minimal.rs");
include!("../../faucet-gen/tests/codegen/full.rs");
include!("../../faucet-gen/tests/codegen/custom_transform.rs");

#[test]
fn snapshots_build_their_pipelines() {
    assert_eq!(minimal::NAME, "minimal");
    assert!(minimal::pipeline().is_ok());
    assert_eq!(full_featured::NAME, "full-featured");
    assert!(custom_transform::pipeline().is_ok());
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

//! A pipeline whose source query was introspected while this crate built,
//! connecting with a password read from `${env:…}` (tests/build.rs sets it):
//! its schema is known (the generated module has `SCHEMA`), so it is typed end
//! to end (its records are the generated `Record`), it runs, and the password
//! is in no cache file, no binary and no message.

use std::path::Path;

/// The password tests/build.rs sets, assembled here so that this test's own
/// binary does not hold it in one piece.
fn password() -> String {
    ["e2e", "build", "pw", "93jT"].join("-")
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
#[allow(unsafe_code)]
async fn an_introspected_pipeline_keeps_its_password_out_of_everything() {
    let fields: Vec<(&str, bool)> =
        faucet_e2e::pg_introspected::SCHEMA.fields.iter().map(|f| (f.name, f.nullable)).collect();
    assert_eq!(fields.iter().map(|f| f.0).collect::<Vec<_>>(), ["id", "amount", "seen_at", "label"]);

    let password = password();
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join(".faucet");
    let mut files = 0;
    for entry in std::fs::read_dir(&cache).expect("the build wrote or kept tests/.faucet") {
        let path = entry.unwrap().path();
        let text = std::fs::read(&path).unwrap();
        assert!(!holds(&text, password.as_bytes()), "{} holds the password", path.display());
        assert!(
            !holds(&text, b"127.0.0.1") && !holds(&text, b"postgres://"),
            "{} holds the URL",
            path.display()
        );
        files += 1;
    }
    assert!(files > 0);
    for binary in [Path::new(env!("CARGO_BIN_EXE_e2e-runner")), &std::env::current_exe().unwrap()] {
        let bytes = std::fs::read(binary).unwrap();
        // The pipeline is in it: the variable it reads the password from at run time.
        assert!(holds(&bytes, b"FAUCET_E2E_INTROSPECT_PASSWORD"), "{}", binary.display());
        assert!(!holds(&bytes, password.as_bytes()), "{} holds the password", binary.display());
    }

    // It runs, with the password given at run time.
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: the only test of this binary; nothing else reads the environment meanwhile.
    unsafe {
        std::env::set_var("FAUCET_E2E_INTROSPECT_PASSWORD", &password);
        std::env::set_var("FAUCET_E2E_DIR", dir.path());
    }
    // Typed end to end: the source yields the generated struct, which the sink takes.
    fn typed<S, T, K, D, St>(_: &faucet_runtime::Pipeline<S, T, K, D, St>)
    where
        S: faucet_runtime::Source<Record = faucet_e2e::pg_introspected::Record>,
        T: faucet_runtime::Transform<
                faucet_e2e::pg_introspected::Record,
                Out = faucet_e2e::pg_introspected::Record,
            >,
        K: faucet_runtime::Writes<faucet_e2e::pg_introspected::Record>,
    {
    }
    typed(&faucet_e2e::pg_introspected::pipeline().unwrap());

    let report = faucet_e2e::pg_introspected::run().await.unwrap();
    assert_eq!(report.records_written, 1);
    let out = std::fs::read_to_string(dir.path().join("introspected.jsonl")).unwrap();
    assert!(!out.contains(&password));
    let record: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let row: faucet_e2e::pg_introspected::Record = serde_json::from_value(record.clone()).unwrap();
    assert_eq!((row.id, row.label.as_deref()), (Some(7), Some("x")));
    assert_eq!(serde_json::to_value(&row).unwrap(), record, "the generated Record reads the row exactly");
}

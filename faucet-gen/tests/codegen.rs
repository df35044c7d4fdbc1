//! Snapshots of generated code: every `tests/codegen/<case>.yaml` must generate
//! exactly `<case>.rs`. faucet-e2e's `codegen_snapshots` test compiles these
//! files, so every snapshot is also proven to build against the runtime.
//!
//! Set `FAUCET_BLESS=1` to (re)write the snapshots after an intended change.

use std::path::Path;

#[test]
fn generated_code_matches_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/codegen");
    let bless = std::env::var_os("FAUCET_BLESS").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 3);
    let mut changed = Vec::new();
    for case in &cases {
        let name = format!("tests/codegen/{}", case.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(case).unwrap();
        let options = faucet_gen::CodegenOptions { origin: format!("`{name}`"), ..Default::default() };
        let code = faucet_gen::generate_string(&name, &text, &options)
            .unwrap_or_else(|d| panic!("{name} is invalid:\n{d}"));
        let snapshot = case.with_extension("rs");
        if bless {
            std::fs::write(&snapshot, &code).unwrap();
        } else if std::fs::read_to_string(&snapshot).unwrap_or_default() != code {
            changed.push(format!("--- {}\n{code}", snapshot.display()));
        }
    }
    assert!(changed.is_empty(), "generated code changed (FAUCET_BLESS=1 to accept):\n{}", changed.join("\n"));
}

#[test]
fn kafka_tls_auth_is_gated_by_the_kafka_tls_feature() {
    let yaml = r#"
pipeline:
  source: { type: jsonl, config: { path: in.jsonl } }
  sink:
    type: kafka
    config:
      brokers: "k1:9093"
      topic: out
      auth:
        type: sasl_ssl
        config:
          sasl: { mechanism: SCRAM-SHA-512, username: u, password: "${env:KAFKA_PASSWORD}" }
          ssl: { ca_path: /etc/kafka/ca.pem }
"#;
    let code = faucet_gen::generate_string("tls.yaml", yaml, &faucet_gen::CodegenOptions::default()).unwrap();
    assert!(code.contains("gate_kafka_tls"), "{code}");
    // The typed `auth` the runtime maps to librdkafka's settings.
    for part in [
        "KafkaAuth::SaslSsl(",
        "SaslMechanism::ScramSha512",
        "ca_path: Some(String::from(\"/etc/kafka/ca.pem\"))",
    ] {
        assert!(code.contains(part), "{part} missing from:\n{code}");
    }
    // The password is read from the environment at run time, never baked in, and kept as a secret.
    assert!(code.contains("password: rt::secret::SecretString::new("), "{code}");
    assert!(code.contains("Part::Secret(\"KAFKA_PASSWORD\")") && !code.contains("hunter"), "{code}");
}

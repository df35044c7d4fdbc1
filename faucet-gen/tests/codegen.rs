//! Snapshots of generated code: every `tests/codegen/<case>.yaml` must generate
//! exactly `<case>.rs`. faucet-e2e's `codegen_snapshots` test compiles these
//! files, so every snapshot is also proven to build against the runtime.
//!
//! Set `FAUCET_BLESS=1` to (re)write the snapshots after an intended change.

use std::path::Path;

use faucet_gen::record_schema::{SchemaContext, context::with_context};

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
        // The tables the `typed_*` cases read are in `tests/codegen/.faucet/`,
        // as an offline build finds them.
        let mut context = SchemaContext::for_crate(&dir);
        context.offline = true;
        let (definition, _) = with_context(context, || faucet_gen::check_yaml(&name, &text));
        let definition = definition.unwrap_or_else(|d| panic!("{name} is invalid:\n{d}"));
        let tokens = faucet_gen::codegen::generate_definition(&definition, &options);
        let code = faucet_gen::format_tokens(tokens, &name);
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

/// A table sink takes the schema's columns only when it creates an
/// `auto_map` table: not without `create_table`, not with a JSON mapping,
/// and not when nothing is known of the records.
#[test]
fn sink_columns_come_from_the_schema_only_for_tables_the_sink_creates() {
    let cases = [
        ("create_table: true, column_mapping: auto_map", true, true),
        ("create_table: false, column_mapping: auto_map", true, false),
        ("create_table: true, column_mapping: { jsonb: { column: doc } }", true, false),
        ("create_table: true, column_mapping: auto_map", false, false),
    ];
    for (keys, known, typed) in cases {
        let declared = if known { ", record_schema: { fields: { id: integer } }" } else { "" };
        let yaml = format!(
            "pipeline:\n  source: {{ type: jsonl, config: {{ path: in.jsonl }}{declared} }}\n  \
             sink: {{ type: postgres, config: {{ connection_url: \"postgres://u@h/db\", table_name: t, {keys} }} }}\n"
        );
        let definition = faucet_gen::check_yaml("case.yaml", &yaml).unwrap_or_else(|d| panic!("{d}"));
        let tokens = faucet_gen::codegen::generate_definition(&definition, &Default::default());
        let code = faucet_gen::format_tokens(tokens, "case.yaml");
        let want = if typed { "columns: Some(SCHEMA.fields)," } else { "columns: None," };
        assert!(code.contains(want), "{keys} (known: {known}): {want} missing from\n{code}");
        assert_eq!(code.contains("pub struct Record"), known, "{keys}");
    }
}

/// faucet-stream's `auth`, `endpoint` and `storage_host` of `gcs` and
/// `azure-blob` land in the keys of faucet's stores object_store is built from.
#[test]
fn faucet_stream_object_store_auth_maps_onto_the_store_keys() {
    let yaml = r#"
pipeline:
  source:
    type: gcs
    config:
      bucket: raw-events
      file_format: jsonl
      storage_host: "http://127.0.0.1:4443"
      auth: { type: service_account_json_file, config: { path: /run/secrets/sa.json } }
  sink:
    type: azure-blob
    config:
      container: curated
      account: devstoreaccount1
      endpoint: "https://devstoreaccount1.blob.core.windows.net"
      auth: { type: account_key, config: { account_key: "${env:AZ_KEY}" } }
"#;
    let code =
        faucet_gen::generate_string("auth.yaml", yaml, &faucet_gen::CodegenOptions::default()).unwrap();
    let squeezed: String = code.split_whitespace().collect();
    for part in [
        "service_account_path:Some(String::from(\"/run/secrets/sa.json\"))",
        "endpoint_url:Some(String::from(\"http://127.0.0.1:4443\"))",
        "allow_http:true,anonymous:false",
        "access_key:Some(rt::secret::SecretString::new(rt::secret::Template(&[rt::secret::Part::Secret(\"AZ_KEY\")])",
        "endpoint_url:Some(String::from(\"https://devstoreaccount1.blob.core.windows.net\")",
    ] {
        assert!(squeezed.contains(part), "{part} missing from:\n{code}");
    }

    let anonymous = yaml.replace(
        "auth: { type: service_account_json_file, config: { path: /run/secrets/sa.json } }",
        "auth: { type: anonymous }",
    );
    let code =
        faucet_gen::generate_string("auth.yaml", &anonymous, &faucet_gen::CodegenOptions::default()).unwrap();
    let squeezed: String = code.split_whitespace().collect();
    assert!(squeezed.contains("service_account_path:None"), "{code}");
    assert!(squeezed.contains("anonymous:true"), "{code}");
}

//! `$${` is faucet-stream's escape for a literal `${`, in every string: each
//! position class below reaches the generated code as `${`, never as `$${`
//! (a regex replacement would otherwise read `$$` as a literal `$`).

fn generated(yaml: &str) -> String {
    let definition = faucet_gen::check_yaml("escapes.yaml", yaml).unwrap_or_else(|d| panic!("invalid:\n{d}"));
    let tokens = faucet_gen::codegen::generate_definition(&definition, &Default::default());
    let code = faucet_gen::format_tokens(tokens, "escapes.yaml");
    assert!(!code.contains("$${"), "an escape reached the generated code:\n{code}");
    code
}

fn rest(config: &str) -> String {
    generated(&format!(
        "version: 1\npipeline:\n  source: {{ type: rest, config: {{ {config} }} }}\n  sink: {{ type: stdout }}\n"
    ))
}

#[test]
fn in_a_rename_keys_replacement() {
    let code = generated(
        r#"
version: 1
pipeline:
  source: { type: jsonl, config: { path: in.jsonl } }
  transforms:
    - { type: rename_keys, config: { pattern: "^(.*)_at$", replacement: "$${1}_time" } }
  sink: { type: stdout }
"#,
    );
    assert!(code.contains(r#"RenameKeys::new("^(.*)_at$", "${1}_time")"#), "{code}");
}

#[test]
fn in_header_values_query_values_and_urls() {
    let code = rest(
        r#"base_url: "https://h.example/$${a}", headers: { X-T: "v$${b}" }, query_params: { q: "$${c}" }"#,
    );
    for literal in [r#""https://h.example/${a}""#, r#""v${b}""#, r#""${c}""#] {
        assert!(code.contains(literal), "{literal} missing:\n{code}");
    }
    // Beside a reference read at run time, the literal part is unescaped too.
    let code = rest(r#"base_url: "https://h.example", headers: { X-T: "$${b}-${env:FAUCET_ESC}" }"#);
    assert!(code.contains(r#"Part::Lit("${b}-")"#), "{code}");
}

#[test]
fn in_keys_of_query_parameters_and_bodies() {
    let code = rest(
        r#"base_url: "https://h.example", method: POST, query_params: { "p$${k}": v }, body: { "$${key}": "$${value}" }"#,
    );
    for literal in [r#""p${k}""#, r#""${key}""#, r#""${value}""#] {
        assert!(code.contains(literal), "{literal} missing:\n{code}");
    }
}

#[test]
fn in_paths() {
    let code = generated(
        "version: 1\npipeline:\n  source: { type: jsonl, config: { path: \"in/$${x}.jsonl\" } }\n  sink: { type: jsonl, config: { path: \"out/$${y}-${now.date}.jsonl\" } }\n",
    );
    assert!(code.contains(r#""in/${x}.jsonl""#), "{code}");
    assert!(code.contains(r#"Part::Lit("out/${y}-")"#), "{code}");
}

#[test]
fn in_auth_scopes() {
    let code = rest(
        r#"base_url: "https://h.example", auth: { type: oauth2, config: { token_url: "https://h.example/t", client_id: c, client_secret: "${secret:CS}", scopes: "read:$${x} write" } }"#,
    );
    assert!(code.contains(r#""read:${x}""#), "{code}");
}

#[test]
fn a_var_fragment_cannot_form_a_reference() {
    // `${vault:…` in a var, closed by the text after it: text, not a (refused) secret manager.
    let code = generated(
        r#"
version: 1
vars: { p: "${vault:secret/data/app#token", o: "$", whole: "${env:FAUCET_WHOLE}" }
pipeline:
  source: { type: rest, config: { base_url: "https://h.example", headers: { X-A: "${vars.p}}", X-B: "${vars.o}{env:NOPE}", X-C: "${vars.whole}" } } }
  sink: { type: stdout }
"#,
    );
    assert!(code.contains(r#""${vault:secret/data/app#token}""#), "{code}");
    assert!(code.contains(r#""${env:NOPE}""#), "{code}");
    // A reference whole inside one var still reads at run time.
    assert!(code.contains(r#"Part::Env("FAUCET_WHOLE")"#), "{code}");
}

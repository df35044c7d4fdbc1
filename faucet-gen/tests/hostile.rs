//! Hostile configs that used to crash the generator or rustc: each must now
//! get a located diagnostic (or, where the config is fine, code that parses).
//!
//! The tests run on the test harness's 2 MiB threads, a quarter of the stack
//! build scripts and rustc's proc-macro thread have, so a recursion that
//! survives here has room to spare there.

use std::time::Instant;

use faucet_gen::{CodegenOptions, Diagnostics, Loc};

const BASE: &str = "version: 1
pipeline:
  source: { type: jsonl, config: { path: in.jsonl } }
  sink: { type: jsonl, config: { path: out.jsonl } }
";

fn check(name: &str, text: &str) -> Result<faucet_gen::ir::Definition, Diagnostics> {
    faucet_gen::check_yaml(name, text)
}

/// The single diagnostic of an invalid config, with its line and column.
fn only_error(name: &str, text: &str) -> (String, usize, usize) {
    let diags = check(name, text).err().unwrap_or_else(|| panic!("{name} was accepted"));
    assert_eq!(diags.len(), 1, "{diags}");
    let d = diags.iter().next().unwrap();
    let Loc::File { line, col, .. } = d.loc else { panic!("not located: {d}") };
    (d.render(), line, col)
}

/// Generated code of a valid config, checked to parse as Rust.
fn generate(name: &str, text: &str) -> String {
    let tokens = faucet_gen::generate_tokens(name, text, &CodegenOptions::default())
        .unwrap_or_else(|d| panic!("{name} is invalid:\n{d}"));
    let code = tokens.to_string();
    syn::parse2::<syn::File>(tokens).unwrap_or_else(|e| panic!("{name}: generated code does not parse: {e}"));
    code
}

#[test]
fn fourteen_hundred_nested_dashes_are_an_error_not_a_stack_overflow() {
    let text = format!("name: nest\nvars:\n  x:\n    {}a\n{BASE}", "- ".repeat(1_400));
    assert!(text.len() > 2_800);
    let (rendered, line, col) = only_error("nest.yaml", &text);
    assert!(rendered.contains("nested more than 64 levels deep"), "{rendered}");
    // The map `vars` is level 2, so the 63rd dash opens level 65.
    assert_eq!((line, col), (4, 5 + 2 * 62));
    // Far deeper input is refused as fast (the parser's events, no tree).
    let started = Instant::now();
    let text = format!("{}a\n", "- ".repeat(500_000));
    assert!(check("nest.yaml", &text).is_err());
    let text = format!("name: nest\nx: {}\n", "[".repeat(200_000));
    assert!(check("nest.yaml", &text).is_err());
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

#[test]
fn a_chain_of_6500_vars_is_an_error_not_a_stack_overflow() {
    let mut text = String::from("name: chain\nvars:\n  v0: a\n");
    for i in 1..6_500 {
        text.push_str(&format!("  v{i}: \"${{vars.v{}}}/x\"\n", i - 1));
    }
    text.push_str(&BASE.replace("in.jsonl", "\"${vars.v6499}\""));
    let (rendered, _, _) = only_error("chain.yaml", &text);
    assert!(rendered.contains("refers to vars more than 64 levels deep"), "{rendered}");
    // 64 levels of references are fine, 65 are not, whatever order the
    // names sort in (resolved vars are remembered with their depth).
    let chain = |last: usize, name: &dyn Fn(usize) -> String| {
        let mut text = format!("name: chain\nvars:\n  {}: a\n", name(0));
        for i in 1..=last {
            text.push_str(&format!("  {}: \"${{vars.{}}}/x\"\n", name(i), name(i - 1)));
        }
        text + &BASE.replace("in.jsonl", &format!("\"${{vars.{}}}\"", name(last)))
    };
    let numbered = |i: usize| format!("v{i}");
    let reversed = |i: usize| format!("v{}", 1000 - i);
    for name in [&numbered as &dyn Fn(usize) -> String, &reversed] {
        generate("chain.yaml", &chain(64, name));
        let (rendered, _, _) = only_error("chain.yaml", &chain(65, name));
        assert!(rendered.contains("refers to vars more than 64 levels deep"), "{rendered}");
        let (rendered, _, _) = only_error("chain.yaml", &chain(99, name));
        assert!(rendered.contains("refers to vars more than 64 levels deep"), "{rendered}");
    }
}

#[test]
fn vars_that_multiply_are_stopped_at_16_mib() {
    // Eleven lines that each repeat the previous var ten times asked for 21 GB.
    let mut text = format!("name: bomb\nvars:\n  v0: {}\n", "a".repeat(200));
    for i in 1..=10 {
        text.push_str(&format!("  v{i}: \"{}\"\n", format!("${{vars.v{}}}", i - 1).repeat(10)));
    }
    text.push_str(&BASE.replace("in.jsonl", "\"${vars.v10}\""));
    let started = Instant::now();
    let (rendered, line, _) = only_error("bomb.yaml", &text);
    assert!(rendered.contains("grows the config past 16 MiB"), "{rendered}");
    assert_eq!(line, 3 + 5, "reported at the var that crosses the limit: {rendered}");
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    // The same budget covers strings in the pipeline: 1 MiB used 20 times.
    let mut text = format!("name: wide\nvars:\n  big: {}\n", "b".repeat(1 << 20));
    text.push_str(&BASE.replace("in.jsonl", &format!("\"{}\"", "${vars.big}".repeat(20))));
    let (rendered, line, _) = only_error("wide.yaml", &text);
    assert!(rendered.contains("grows the config past 16 MiB"), "{rendered}");
    assert_eq!(line, 6);
}

#[test]
fn file_stems_that_are_not_identifiers_need_a_name() {
    for (file, suggestion) in [
        ("pipelines/2024.yaml", "pipeline_2024"),
        ("orders.v2.yaml", "orders_v2"),
        ("fn.yaml", "fn_pipeline"),
        ("gen.yaml", "gen_pipeline"),
        ("my orders.yaml", "my_orders"),
    ] {
        let (rendered, line, col) = only_error(file, BASE);
        assert!(rendered.contains("this file has no `name:`"), "{rendered}");
        assert!(rendered.contains(&format!("add `name: {suggestion}`")), "{rendered}");
        assert_eq!((line, col), (1, 1));
        // The suggestion works.
        generate(file, &format!("name: {suggestion}\n{BASE}"));
    }
    // Stems that are identifiers (with `-`) still name the pipeline.
    generate("pipelines/daily-orders.yaml", BASE);
}

#[test]
fn keyword_names_are_errors() {
    for name in ["gen", "fn", "self", "Self", "crate", "super", "async", "try", "_", "r#x", "mod"] {
        let (rendered, line, _) = only_error("p.yaml", &format!("name: \"{name}\"\n{BASE}"));
        assert!(rendered.contains("invalid pipeline name"), "{rendered}");
        assert_eq!(line, 1);
    }
    for name in ["r#x", "a.b", "9lives", ""] {
        assert!(check("p.yaml", &format!("name: \"{name}\"\n{BASE}")).is_err(), "{name}");
    }
    generate("p.yaml", &format!("name: _private-ok\n{BASE}"));
}

#[test]
fn custom_function_paths_generate_expression_paths() {
    let with = |function: &str| {
        BASE.replace(
            "  sink:",
            &format!("  transforms: [ {{ type: custom, config: {{ function: {function:?} }} }} ]\n  sink:"),
        )
    };
    // Generic arguments take the turbofish; `gen` (a 2024 keyword) is raw.
    let code = generate("f.yaml", &with("crate::f<T>"));
    assert!(code.contains("crate :: f :: < T >"), "{code}");
    let code = generate("f.yaml", &with("crate::gen::clean"));
    assert!(code.contains("crate :: r#gen :: clean"), "{code}");
    let code = generate("f.yaml", &with("my::f::<Vec<u8>, 3>"));
    assert!(code.contains("my :: f :: < Vec < u8 > , 3 >"), "{code}");
    for bad in
        ["crate::f<T = U>", "Fn(u8) -> u8", "f::<", "a b", "crate::fn", &format!("f{}", "<T".repeat(5_000))]
    {
        let (rendered, _, _) = only_error("f.yaml", &format!("name: f\n{}", with(bad)));
        assert!(rendered.contains("`function`"), "{rendered}");
    }
}

#[test]
fn non_utf8_files_get_a_located_error() {
    let mut bytes = b"name: x\n# caf".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(BASE.as_bytes());
    let d = faucet_gen::load::decode("x.yaml", bytes.clone()).unwrap_err();
    let Loc::File { line, col, .. } = d.loc else { panic!() };
    assert_eq!((line, col), (2, 6));
    let rendered = d.render();
    assert!(rendered.contains("not valid UTF-8") && rendered.contains("0xE9"), "{rendered}");
    assert!(rendered.contains("--> x.yaml:2:6"), "{rendered}");

    // build.rs mode: the same located error, no panic.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.yaml"), &bytes).unwrap();
    let diags = faucet_gen::Config::new()
        .manifest_dir(dir.path())
        .out_dir(dir.path().join("out"))
        .try_compile(&["x.yaml"])
        .unwrap_err();
    assert!(diags.to_string().contains("--> x.yaml:2:6"), "{diags}");
}

#[test]
fn control_characters_in_diagnostics_are_escaped() {
    let text = format!("name: x\n{BASE}bogus\x1b[2J\u{202E}: 1\n");
    let diags = check("x.yaml", &text).unwrap_err();
    let rendered = diags.to_string();
    assert!(!rendered.contains('\x1b') && !rendered.contains('\u{202E}'), "{rendered:?}");
    assert!(rendered.contains(r"bogus\u{1b}[2J\u{202e}"), "{rendered}");
    // The caret still sits under the key, past the widened escapes.
    let lines: Vec<&str> = rendered.lines().collect();
    let at = lines.iter().position(|l| l.contains("| bogus")).unwrap();
    assert_eq!(lines[at].find("bogus"), lines[at + 1].find('^'), "{rendered}");
    assert_eq!(lines[at + 1].matches('^').count(), r"bogus\u{1b}[2J\u{202e}".len(), "{rendered}");
    let inline = diags.iter().next().unwrap().inline_message();
    assert!(!inline.contains('\x1b'), "{inline:?}");
}

#[test]
fn rate_limits_and_durations_out_of_range_are_errors() {
    let rest = |setting: &str| {
        format!(
            "name: r\npipeline:\n  source: {{ type: rest, config: {{ base_url: \"http://h\", {setting} }} }}\n  sink: {{ type: jsonl, config: {{ path: o.jsonl }} }}\n"
        )
    };
    for bad in [
        "rate_limit: { requests_per_second: 1e-20 }",
        "rate_limit: { requests_per_second: .nan }",
        "rate_limit: { requests_per_second: .inf }",
        "rate_limit: { requests_per_second: -1 }",
        "rate_limit: { requests_per_second: 0 }",
        "rate_limit: { requests_per_second: 1e300 }",
        "timeout: .nan",
        "timeout: 1e300",
        "timeout: -1",
        "request_delay: .inf",
        "retry_backoff: -0.5",
        "max_retry_after: 1e20",
    ] {
        let (rendered, line, _) = only_error("r.yaml", &rest(bad));
        assert_eq!(line, 3, "{bad}: {rendered}");
    }
    for good in
        ["rate_limit: { requests_per_second: 0.0000116 }", "rate_limit: { requests_per_second: 100000 }"]
    {
        generate("r.yaml", &rest(good));
    }
}

#[test]
fn deeply_nested_jsonpaths_and_regexes_are_errors() {
    let rest = |path: &str| {
        format!(
            "name: r\npipeline:\n  source: {{ type: rest, config: {{ base_url: \"http://h\", records_path: {path:?} }} }}\n  sink: {{ type: stdout }}\n"
        )
    };
    for path in [
        format!("$.a{}", "[?@".repeat(20_000)),
        format!("$[?{}@.a{}]", "(".repeat(20_000), ")".repeat(20_000)),
    ] {
        let (rendered, line, _) = only_error("r.yaml", &rest(&path));
        assert!(rendered.contains("records_path"), "{rendered}");
        assert_eq!(line, 3);
    }
    let transform = format!(
        "  transforms: [ {{ type: rename_keys, config: {{ pattern: \"{}\", replacement: x }} }} ]\n  sink:",
        "(".repeat(20_000)
    );
    let regex = format!("name: r\n{}", BASE.replace("  sink:", &transform));
    let (rendered, _, _) = only_error("r.yaml", &regex);
    assert!(rendered.contains("pattern"), "{rendered}");
}

#[test]
fn pipeline_files_beyond_16_mib_are_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, format!("name: big\n# {}\n{BASE}", "x".repeat(16 << 20))).unwrap();
    let err = faucet_gen::load::read_file(&big).unwrap_err();
    assert!(err.to_string().contains("larger than 16 MiB"), "{err}");
    let diags = faucet_gen::Config::new()
        .manifest_dir(dir.path())
        .out_dir(dir.path().join("out"))
        .try_compile(&["big.yaml"])
        .unwrap_err();
    assert!(diags.to_string().contains("larger than 16 MiB"), "{diags}");
    // /dev/zero never ends: it is refused after 16 MiB, not read forever.
    if std::path::Path::new("/dev/zero").exists() {
        assert!(faucet_gen::load::read_file(std::path::Path::new("/dev/zero")).is_err());
    }
}

#[test]
fn a_parent_cycle_is_an_error_not_an_endless_loop() {
    // Found by the fuzzer (seed 21): the walk to each row's root looped
    // forever on a `parent` cycle, growing until the machine ran out of memory.
    let text = "name: m
pipeline:
  sources:
    s: { type: jsonl, config: { path: in.jsonl } }
  sink: { type: stdout }
matrix:
  - { id: a, parent: b, source: { ref: s } }
  - { id: b, parent: a, source: { ref: s } }
";
    let diags = check("m.yaml", text).unwrap_err();
    assert!(diags.to_string().contains("the matrix has a cycle"), "{diags}");
}

#[test]
fn kafka_and_cdc_durations_out_of_range_are_errors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/codegen");
    for (fixture, setting) in [
        ("kafka.yaml", "poll_timeout: 0.5"),
        ("kafka.yaml", "idle_timeout: 10"),
        ("kafka.yaml", "linger: 0.02"),
        ("postgres_cdc.yaml", "idle_timeout: 5"),
    ] {
        let text = std::fs::read_to_string(dir.join(fixture)).unwrap();
        assert!(text.contains(setting), "{fixture} has no {setting}");
        let key = setting.split(':').next().unwrap();
        for bad in [".nan", ".inf", "-.inf", "-1", "1e300", "-1e300", "9223372036854775807"] {
            let (rendered, _, _) = only_error(fixture, &text.replacen(setting, &format!("{key}: {bad}"), 1));
            assert!(rendered.contains(key), "{fixture} {key}: {bad}: {rendered}");
        }
    }
}

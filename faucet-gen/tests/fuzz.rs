//! A seeded mutation fuzzer on stable Rust: valid configs (the snapshot
//! fixtures, the e2e pipelines, the examples) and hostile shapes are mutated
//! and run through every front end: `check_yaml`, code generation, and the
//! `faucet!` macro's expansion (inline tokens and a pipeline file).
//!
//! The properties: nothing panics; every accepted config generates code that
//! parses as Rust; diagnostics show no raw control characters.
//!
//! It runs for `FAUCET_FUZZ_SECS` seconds (3 by default, so CI stays fast)
//! from seed `FAUCET_FUZZ_SEED` (fixed by default, so a failure reproduces).
//! A failing input is written under the target directory and its path printed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faucet_gen::load::{self, Node, Value};
use faucet_gen::{CodegenOptions, MacroContext, SourceFile};

/// SplitMix64: small, fast and good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Pieces a mutation inserts or substitutes: YAML syntax, faucet syntax,
/// keys and types of the grammar, hostile scalars and characters.
const DICTIONARY: &[&str] = &[
    "- ",
    "[",
    "]",
    "{",
    "}",
    ": ",
    ", ",
    "\n",
    "  ",
    "\n  - ",
    "---\n",
    "? ",
    "|\n  ",
    ">\n  ",
    "#",
    "&a ",
    "*a",
    "!tag ",
    "~",
    "'",
    "\"",
    "${",
    "}",
    "$${",
    "${vars.",
    "${vars.x}",
    "${env:X}",
    "${env:}",
    "${parent.id}",
    "${users.id}",
    "${row.id}",
    "${a.b.c}",
    "null",
    "true",
    "no",
    "0",
    "-1",
    "1e-20",
    "1e300",
    "-0.0",
    ".nan",
    ".inf",
    "-.inf",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "0x7f",
    "0o17",
    "\u{0}",
    "\u{7}",
    "\u{1b}[31m",
    "\r",
    "\t",
    "\u{202E}",
    "\u{FEFF}",
    "é",
    "𝄞",
    "\u{2028}",
    "gen",
    "fn",
    "self",
    "crate",
    "r#x",
    "_",
    "2024",
    "crate::f<T>",
    "a::b::<C>",
    "f<'a>",
    "name",
    "version",
    "vars",
    "matrix",
    "execution",
    "observability",
    "pipeline",
    "source",
    "sink",
    "sources",
    "sinks",
    "transforms",
    "state",
    "dlq",
    "type",
    "config",
    "path",
    "batch_size",
    "parent",
    "ref",
    "id",
    "rows",
    "query",
    "table",
    "base_url",
    "records_path",
    "$.data[*]",
    "$[?(@.a)]",
    "[?@",
    "((",
    "<<",
    "pagination",
    "rate_limit",
    "requests_per_second",
    "timeout",
    "function",
    "pattern",
    "(a",
    "[^",
    "columns",
    "key",
    "mode",
    "upsert",
    "csv",
    "jsonl",
    "rest",
    "postgres",
    "mysql",
    "sqlite",
    "kafka",
    "s3",
    "gcs",
    "azure",
    "file",
    "redis",
    "memory",
    "custom",
    "flatten",
    "rename_keys",
    "keys_case",
    "cdc_unwrap",
    "stdout",
    "postgres://u@h/db",
    "http://h/${env:P}",
    "../..",
    "/",
    "*",
    "{a,b}",
];

/// Valid configs to mutate: every YAML file of the repository's tests and examples.
fn corpus() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["faucet-gen/tests/codegen", "faucet-gen/tests/diagnostics", "tests/pipelines", "examples"] {
        collect_yaml(&root.join(dir), &mut files);
    }
    files.sort();
    let mut out: Vec<(String, String)> = files
        .iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read_to_string(p).ok()?))
        })
        .collect();
    assert!(out.len() >= 40, "expected the repository's pipelines, found {}", out.len());
    out.extend(hostile_shapes());
    out
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.ends_with("target") {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Shapes that broke the generator before, kept small: mutations grow them.
fn hostile_shapes() -> Vec<(String, String)> {
    let base = "pipeline:\n  source: { type: jsonl, config: { path: in.jsonl } }\n  sink: { type: jsonl, config: { path: out.jsonl } }\n";
    let mut chain = String::from("vars:\n  v0: a\n");
    for i in 1..80 {
        chain.push_str(&format!("  v{i}: \"${{vars.v{}}}${{vars.v{}}}\"\n", i - 1, i - 1));
    }
    vec![
        ("nest.yaml".into(), format!("name: n\nvars:\n  x:\n    {}a\n{base}", "- ".repeat(70))),
        ("flow.yaml".into(), format!("name: n\nvars:\n  x: {}{}\n{base}", "[".repeat(70), "]".repeat(70))),
        ("chain.yaml".into(), format!("name: c\n{chain}{}", base.replace("in.jsonl", "\"${vars.v79}\""))),
        ("2024.yaml".into(), base.to_owned()),
        ("orders.v2.yaml".into(), base.to_owned()),
        ("gen.yaml".into(), format!("name: gen\n{base}")),
        ("f.yaml".into(), base.replace("  sink:", "  transforms: [{ type: custom, config: { function: \"crate::f<T>\" } }]\n  sink:")),
        ("alias.yaml".into(), format!("name: a\nvars: &v\n  x: &x [a, *x]\n{base}")),
        ("rate.yaml".into(), "name: r\npipeline:\n  source: { type: rest, config: { base_url: \"http://h\", rate_limit: { requests_per_second: 1e-20 } } }\n  sink: { type: stdout }\n".into()),
    ]
}

/// One mutation of `text`, with `other` (another corpus entry) for splices.
fn mutate(rng: &mut Rng, text: &str, other: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |rng: &mut Rng| rng.below(chars.len() + 1);
    let join = |parts: &[&[char]]| parts.iter().flat_map(|p| p.iter()).collect::<String>();
    match rng.below(11) {
        0 => {
            let (a, b) = sorted(at(rng), at(rng));
            join(&[&chars[..a], &chars[b.min(a + 40)..]])
        }
        1 => {
            let (a, b) = sorted(at(rng), at(rng));
            let b = b.min(a + 200);
            let most = if rng.below(8) == 0 { 200 } else { 3 };
            let times = 1 + rng.below(most);
            let piece: String = chars[a..b].iter().collect::<String>().repeat(times);
            format!("{}{piece}{}", join(&[&chars[..b]]), join(&[&chars[b..]]))
        }
        2 | 3 => {
            let i = at(rng);
            let word = rng.pick(DICTIONARY);
            let times = if rng.below(10) == 0 { 1 + rng.below(300) } else { 1 };
            format!("{}{}{}", join(&[&chars[..i]]), word.repeat(times), join(&[&chars[i..]]))
        }
        9 | 10 => {
            // Replace the value after some `: ` with a quoted string, which
            // keeps most configs valid: strange text reaches code generation.
            let spots: Vec<usize> = text.match_indices(": ").map(|(i, _)| i + 2).collect();
            if spots.is_empty() {
                return text.to_owned();
            }
            let start = *rng.pick(&spots);
            let end = text[start..].find([',', '}', '\n']).map_or(text.len(), |e| start + e);
            let words: String = (0..1 + rng.below(3)).map(|_| *rng.pick(DICTIONARY)).collect();
            format!("{}{}{}", &text[..start], yaml_quoted(&words), &text[end..])
        }
        4 => {
            // Replace the value after some `: ` with a dictionary word.
            let spots: Vec<usize> = text.match_indices(": ").map(|(i, _)| i + 2).collect();
            if spots.is_empty() {
                return text.to_owned();
            }
            let start = *rng.pick(&spots);
            let end = text[start..].find([',', '}', '\n']).map_or(text.len(), |e| start + e);
            format!("{}{}{}", &text[..start], rng.pick(DICTIONARY), &text[end..])
        }
        5 => {
            let mut lines: Vec<&str> = text.lines().collect();
            if lines.len() > 1 {
                let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                lines.swap(a, b);
            }
            lines.join("\n")
        }
        6 => {
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                return text.to_owned();
            }
            let i = rng.below(lines.len());
            let times = 1 + rng.below(50);
            let mut out: Vec<&str> = lines[..=i].to_vec();
            out.extend(std::iter::repeat_n(lines[i], times));
            out.extend(&lines[i + 1..]);
            out.join("\n")
        }
        7 => {
            let other: Vec<char> = other.chars().collect();
            let (a, b) = sorted(rng.below(other.len() + 1), rng.below(other.len() + 1));
            let i = at(rng);
            format!("{}{}{}", join(&[&chars[..i]]), join(&[&other[a..b]]), join(&[&chars[i..]]))
        }
        _ => {
            // Re-indent a line: YAML's structure lives in its indentation.
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            if !lines.is_empty() {
                let i = rng.below(lines.len());
                let line = lines[i].trim_start().to_owned();
                lines[i] = format!("{}{line}", " ".repeat(rng.below(12)));
            }
            lines.join("\n")
        }
    }
}

/// `text` as a YAML double-quoted scalar.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn sorted(a: usize, b: usize) -> (usize, usize) {
    if a <= b { (a, b) } else { (b, a) }
}

/// A YAML tree written in the `faucet!` macro's inline grammar.
fn inline(node: &Node, out: &mut String) {
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(x) if x.is_finite() => out.push_str(&format!("{x:?}")),
        Value::Float(_) => out.push_str("0.5"),
        Value::Str(s) => out.push_str(&format!("{s:?}")),
        Value::Seq(items) => {
            out.push('[');
            for item in items {
                inline(item, out);
                out.push_str(", ");
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            map_body(entries, out);
            out.push('}');
        }
    }
}

fn map_body(entries: &[load::Entry], out: &mut String) {
    for e in entries {
        let ident = e.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && e.key.starts_with(|c: char| c.is_ascii_alphabetic());
        if ident {
            out.push_str(&e.key)
        } else {
            out.push_str(&format!("{:?}", e.key))
        }
        out.push_str(": ");
        inline(&e.value, out);
        out.push_str(", ");
    }
}

/// What one input did wrong, if anything (`Ok(true)`: the config was accepted).
type Verdict = Result<bool, String>;

/// `check_yaml` and code generation on a file's bytes, as build.rs runs them.
fn run_yaml(name: &str, bytes: Vec<u8>) -> Verdict {
    let text = match load::decode(name, bytes) {
        Ok(text) => text,
        Err(d) => return clean_diagnostic(&d.render()),
    };
    match faucet_gen::check_yaml(name, &text) {
        Ok(_) => {
            let tokens = faucet_gen::generate_tokens(name, &text, &CodegenOptions::default())
                .map_err(|d| format!("checked but failed to generate:\n{d}"))?;
            syn::parse2::<syn::File>(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
            Ok(true)
        }
        Err(diags) => clean_diagnostic(&diags.to_string()),
    }
}

/// The `faucet!` expansion of `tokens` (inline, or the file form), which must parse as items.
fn run_macro(tokens: proc_macro2::TokenStream, ctx: &MacroContext) -> Verdict {
    let out = faucet_gen::expand(tokens, ctx);
    syn::parse2::<syn::File>(out).map_err(|e| format!("the macro's expansion does not parse: {e}"))?;
    Ok(false)
}

fn clean_diagnostic(rendered: &str) -> Verdict {
    match rendered.chars().find(|c| c.is_control() && *c != '\n' && *c != '\t') {
        Some(c) => Err(format!("raw control character {c:?} in a diagnostic:\n{rendered}")),
        None => Ok(false),
    }
}

/// Runs `f`, turning a panic into a failure.
fn guarded(f: impl FnOnce() -> Verdict) -> Verdict {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        Err(format!("panicked: {message}"))
    })
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn mutated_configs_never_crash_and_accepted_ones_generate_rust() {
    let seconds: f64 = env_or("FAUCET_FUZZ_SECS", 3.0);
    let seed: u64 = env_or("FAUCET_FUZZ_SEED", 0x0FA0_CE75);
    let corpus = corpus();
    let inline_corpus: Vec<String> = corpus
        .iter()
        .filter_map(|(name, text)| {
            let file = std::sync::Arc::new(SourceFile { name: name.clone(), text: text.clone() });
            let root = load::load_yaml(&file).ok()?;
            let Value::Map(entries) = &root.value else { return None };
            let mut out = String::new();
            if !entries.iter().any(|e| e.key == "name") {
                out.push_str("name: fuzzed, ");
            }
            map_body(entries, &mut out);
            Some(out)
        })
        .collect();
    let work = tempfile::tempdir().unwrap();
    let ctx = MacroContext { manifest_dir: work.path().to_owned(), caller_file: None };

    // `FAUCET_FUZZ_TRACE=path` writes each input there before it runs (and
    // the slowest so far beside it, as `path.slowest`).
    let trace = std::env::var_os("FAUCET_FUZZ_TRACE").map(PathBuf::from);
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut cases, mut accepted, mut slowest) = (0usize, 0usize, (Duration::ZERO, String::new()));
    let mut failure = None;
    // The unmutated corpus first, then mutants until the deadline.
    let mut round = 0usize;
    while failure.is_none() && (round == 0 || Instant::now() < deadline) {
        for (i, (name, text)) in corpus.iter().enumerate() {
            let mut input = text.clone();
            let mut name = name.clone();
            if round > 0 {
                // Mostly one mutation, so many mutants stay valid and reach code generation.
                let mutations = if rng.below(2) == 0 { 1 } else { 2 + rng.below(4) };
                for _ in 0..mutations {
                    let other = &rng.pick(&corpus).1;
                    input = mutate(&mut rng, &input, other);
                }
                if rng.below(30) == 0 {
                    name = rng
                        .pick(&["2024.yaml", "a.b.yaml", "gen.yaml", "x\u{1b}.yaml", "ok.yaml"])
                        .to_string();
                }
            }
            let mut bytes = input.clone().into_bytes();
            if round > 0 && rng.below(40) == 0 && !bytes.is_empty() {
                let i = rng.below(bytes.len());
                bytes[i] = 0x80 | rng.next() as u8;
            }
            if let Some(path) = &trace {
                // The input about to run, for a crash that kills the process.
                std::fs::write(path, &bytes).unwrap();
            }
            let started = Instant::now();
            let mut verdict = guarded(|| run_yaml(&name, bytes.clone()));
            if verdict == Ok(true) {
                accepted += 1;
            }
            // The macro's file form reads the same bytes from disk.
            if verdict.is_ok() && rng.below(8) == 0 {
                std::fs::write(work.path().join("p.yaml"), &bytes).unwrap();
                verdict = guarded(|| run_macro(quote::quote!("p.yaml"), &ctx));
            }
            // The inline form: the matching config as tokens, mutated as text.
            if verdict.is_ok()
                && let Some(source) = inline_corpus.get(i % inline_corpus.len().max(1))
            {
                let mut text = source.clone();
                if round > 0 {
                    for _ in 0..1 + rng.below(3) {
                        text = mutate(&mut rng, &text, &input);
                    }
                }
                if let Some(path) = &trace {
                    std::fs::write(path.with_extension("inline"), &text).unwrap();
                }
                if let Ok(tokens) = text.parse::<proc_macro2::TokenStream>() {
                    verdict = guarded(|| run_macro(tokens, &ctx));
                }
                if let Err(e) = &mut verdict {
                    e.push_str(&format!("\n(inline input: {text})"));
                }
            }
            let took = started.elapsed();
            if took > slowest.0 {
                slowest = (took, name.clone());
                if let Some(path) = &trace {
                    std::fs::write(path.with_extension("slowest"), &bytes).unwrap();
                }
            }
            cases += 1;
            if let Err(problem) = verdict {
                failure = Some((name, bytes, problem));
                break;
            }
        }
        round += 1;
    }
    std::panic::set_hook(quiet);
    println!(
        "fuzz: seed {seed:#x}, {cases} cases in {rounds} rounds ({accepted} accepted), slowest {:?} ({})",
        slowest.0,
        slowest.1,
        rounds = round
    );
    if let Some((name, bytes, problem)) = failure {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let saved = dir.join(format!("{seed:x}-{name}"));
        std::fs::write(&saved, &bytes).unwrap();
        panic!("{name} (saved to {}): {problem}", saved.display());
    }
}

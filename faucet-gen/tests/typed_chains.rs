//! Chains of config transforms over a declared schema with every kind of
//! field (nullable, optional, both, nested objects, arrays, JSON): every pair
//! of transforms from a catalog, and seeded longer chains, must validate or
//! fail with diagnostics, never panic, and generate code that parses as
//! Rust. Most chains are typed (moves, comparisons and bridged runtime
//! transforms in one generated `Reshape`), so this walks the typed code
//! paths with field shapes no hand-written snapshot has.

use std::panic::{AssertUnwindSafe, catch_unwind};

use faucet_gen::CodegenOptions;

/// The records' fields: each layer of `Option` and each kind of value.
const SCHEMA: &str = r#"
      fields:
        id: integer
        name: { type: string, nullable: true }
        tag: { type: string, required: false }
        note: { type: string, nullable: true, required: false }
        amount: number
        flag: boolean
        code: string
        count: { type: integer, nullable: true }
        meta:
          type: object
          fields:
            a: integer
            b: { type: string, required: false }
        maybe:
          type: object
          nullable: true
          fields:
            c: string
        items:
          type: array
          items:
            type: object
            fields:
              sku: string
              qty: integer
        nums: { type: array, items: integer }
        words: { type: array, items: string }
        blob: json
"#;

/// One transform each, written as in a config.
const CATALOG: &[&str] = &[
    "{ type: select, config: { fields: [id, name, meta, items] } }",
    "{ type: drop, config: { fields: [blob, note] } }",
    "{ type: set, config: { values: { source: crm, id: 7 } } }",
    "{ type: set, config: { values: { tag: x } } }",
    "{ type: rename_field, config: { fields: { name: full_name } } }",
    "{ type: cast, config: { fields: { id: string, code: int, flag: float } } }",
    "{ type: cast, config: { fields: { amount: int, count: bool }, on_error: \"null\" } }",
    "{ type: cast, config: { fields: { name: int, tag: bool }, on_error: skip } }",
    "{ type: cast, config: { fields: { name: int, tag: bool, note: float, count: string } } }",
    "{ type: cast, config: { fields: { amount: string, flag: int, count: float }, on_error: skip } }",
    "{ type: coalesce, config: { field: name, from: [tag, note] } }",
    "{ type: coalesce, config: { field: status, default: open } }",
    "{ type: coalesce, config: { field: note, default: n } }",
    "{ type: redact, config: { fields: [code, count] } }",
    "{ type: redact, config: { fields: [name], mask: 0 } }",
    "{ type: value_case, config: { fields: [code, name], mode: upper } }",
    "{ type: hash, config: { fields: [code] } }",
    "{ type: hash, config: { fields: [amount], into: amount_hash, algorithm: blake3 } }",
    "{ type: json_parse, config: { fields: [code], on_error: \"null\" } }",
    "{ type: json_parse, config: { fields: [name], into: parsed } }",
    "{ type: json_encode, config: { fields: [meta, items] } }",
    "{ type: split, config: { field: code, delimiter: \",\" } }",
    "{ type: split, config: { field: name, delimiter: \"-\", into: parts } }",
    "{ type: join, config: { field: words, delimiter: \" \" } }",
    "{ type: lookup, config: { values: [ { k: 1, v: one } ], on: { record: id, ref: k }, add: { label: v } } }",
    "{ type: filter, config: { path: code, op: eq, value: x } }",
    "{ type: filter, config: { path: meta.a, op: in, value: [1, 2] } }",
    "{ type: filter, config: { path: maybe.c, op: ne, value: y } }",
    "{ type: filter, config: { path: note, op: exists } }",
    "{ type: explode, config: { path: items, on_missing: drop, carry: { parent: id } } }",
    "{ type: explode, config: { path: nums } }",
    "{ type: explode, config: { path: words, on_missing: error } }",
    "{ type: unpivot, config: { id_fields: [id], key_name: k, value_name: v, columns: [amount, flag] } }",
    "{ type: unpivot, config: { id_fields: [id, code], key_name: k, value_name: v, columns: [count], drop_nulls: true } }",
    "{ type: flatten }",
    "{ type: snake_case }",
];

fn pipeline(transforms: &[&str]) -> String {
    format!(
        "version: 1\nname: chain\npipeline:\n  source:\n    type: jsonl\n    config: {{ path: in.jsonl }}\n    record_schema:{SCHEMA}  transforms: [{}]\n  sink: {{ type: jsonl, config: {{ path: out.jsonl }} }}\n  dlq: {{ sink: {{ type: jsonl, config: {{ path: dlq.jsonl }} }} }}\n",
        transforms.join(", ")
    )
}

/// Generates `transforms`' pipeline: `Some(typed)` when it is valid, `None`
/// when it is refused with diagnostics; a panic or unparsable code fails.
fn generate(transforms: &[&str]) -> Option<bool> {
    let yaml = pipeline(transforms);
    let out = catch_unwind(AssertUnwindSafe(|| {
        faucet_gen::generate_string("chain.yaml", &yaml, &CodegenOptions::default())
    }));
    let code = match out {
        Ok(Ok(code)) => code,
        Ok(Err(diags)) => {
            assert!(!diags.to_string().is_empty(), "refused without a message:\n{yaml}");
            return None;
        }
        Err(_) => panic!("the generator panicked on:\n{yaml}"),
    };
    if let Err(e) = syn::parse_file(&code) {
        panic!("generated code does not parse ({e}) for:\n{yaml}\n{code}");
    }
    Some(code.contains("impl rt::Transform<SourceRecord> for Reshape"))
}

#[test]
fn every_pair_of_transforms_generates_or_is_refused_without_a_panic() {
    let (mut valid, mut typed) = (0, 0);
    for a in CATALOG {
        for b in CATALOG {
            if let Some(is_typed) = generate(&[a, b]) {
                valid += 1;
                typed += usize::from(is_typed);
            }
        }
    }
    let pairs = CATALOG.len() * CATALOG.len();
    // Most pairs are valid, and most valid pairs are typed: the walk reaches the typed code.
    assert!(valid * 2 > pairs, "{valid} of {pairs} pairs valid");
    assert!(typed * 3 > valid * 2, "{typed} of {valid} valid pairs typed");
}

#[test]
fn seeded_longer_chains_generate_or_are_refused_without_a_panic() {
    let mut state: u64 = 0x5EED_C4A1;
    let mut next = |n: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    let mut typed = 0;
    for _ in 0..300 {
        let len = 3 + next(4);
        let chain: Vec<&str> = (0..len).map(|_| CATALOG[next(CATALOG.len())]).collect();
        typed += usize::from(generate(&chain) == Some(true));
    }
    assert!(typed > 30, "only {typed} of 300 chains typed");
}

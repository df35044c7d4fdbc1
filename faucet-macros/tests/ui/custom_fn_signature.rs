fn not_a_transform(x: u32) -> u32 {
    x
}

faucet_runtime::faucet! {
    name: custom,
    pipeline: {
        source: { type: jsonl, config: { path: "in.jsonl" } },
        transforms: [ { type: custom, config: { function: not_a_transform } } ],
        sink: { type: stdout },
    }
}

fn main() {}

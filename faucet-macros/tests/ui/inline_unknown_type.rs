faucet_runtime::faucet! {
    name: orders,
    pipeline: {
        source: { type: jsonl, config: { path: "orders.jsonl" } },
        transforms: [ { type: snake_cse } ],
        sink: { type: stdot },
    }
}

fn main() {}

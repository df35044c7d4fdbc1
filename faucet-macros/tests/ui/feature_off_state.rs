// A state store and a dead-letter sink whose features are off: one error
// each, at its `type`.
faucet_runtime::faucet! {
    name: orders,
    pipeline: {
        source: { type: jsonl, config: { path: "in.jsonl" } },
        sink: { type: jsonl, config: { path: "out.jsonl" } },
        dlq: { sink: { type: sqlite, config: { database_url: "sqlite://dlq.db", table_name: dead, column_mapping: auto_map } } },
        state: { type: redis, config: { url: "redis://127.0.0.1:6379" } },
    }
}

fn main() {
    let _ = orders::run();
}

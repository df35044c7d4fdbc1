faucet_runtime::faucet! {
    name: to_sqlite,
    pipeline: {
        source: { type: jsonl, config: { path: "in.jsonl" } },
        sink: { type: sqlite, config: { database_url: "sqlite://out.db", table_name: t, column_mapping: auto_map } },
    }
}

fn main() {
    let _ = to_sqlite::run();
}

faucet_runtime::faucet! {
    name: orders,
    pipeline: {
        source: { type: csv, config: { pathh: "orders.csv" } },
        sink: { type: jsonl, config: { path: "out.jsonl", batch_size: 2000000 } },
    }
}

fn main() {
    // The stub keeps this call from adding errors of its own.
    let _ = orders::run();
}

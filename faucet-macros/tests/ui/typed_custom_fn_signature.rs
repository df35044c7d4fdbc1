use faucet_runtime::{FaucetError, Record};

/// Written for untyped records, but the config declares the schemas on both
/// sides, so the pipeline hands it `orders::SourceRecord` and wants `orders::Record`.
fn add_total(record: Record) -> Result<Option<Record>, FaucetError> {
    Ok(Some(record))
}

faucet_runtime::faucet! {
    name: orders,
    pipeline: {
        source: {
            type: jsonl,
            config: { path: "orders.jsonl" },
            record_schema: { fields: { id: integer, price: number, quantity: integer } },
        },
        transforms: [
            {
                type: custom,
                config: { function: add_total },
                record_schema: { fields: { id: integer, total: number } },
            },
        ],
        sink: { type: stdout },
    }
}

fn main() {
    let _ = orders::run();
}

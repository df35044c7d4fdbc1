// A typed pipeline whose source and sink both need features that are off:
// one error each, at its `type`, and nothing more (the placeholders yield and
// take the generated structs).
faucet_runtime::faucet! {
    name: typed_relay,
    pipeline: {
        source: {
            type: kafka,
            config: { brokers: "localhost:9092", topics: [orders], group_id: relay },
            record_schema: { fields: { id: integer, note: { type: string, nullable: true } } },
        },
        transforms: [ { type: snake_case } ],
        sink: { type: sqlite, config: { database_url: "sqlite://out.db", table_name: t, column_mapping: auto_map } },
    }
}

fn main() {
    let _ = typed_relay::run();
    let _: Option<typed_relay::Record> = None;
}

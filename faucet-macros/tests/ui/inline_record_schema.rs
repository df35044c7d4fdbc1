faucet_runtime::faucet! {
    name: users,
    pipeline: {
        source: {
            type: csv,
            config: { path: "users.csv" },
            record_schema: { fields: { id: integer, email: { type: string, nullable: true } } },
        },
        transforms: [{ type: snake_case }],
        sink: {
            type: postgres,
            config: {
                connection_url: "postgres://app@localhost/shop",
                table_name: users,
                column_mapping: auto_map,
                write_mode: upsert,
                key: [emial],
            },
        },
    }
}

fn main() {
    // The stub keeps this call from adding errors of its own.
    let _ = users::run();
}

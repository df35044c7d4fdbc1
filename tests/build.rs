//! The end-to-end pipelines, compiled like an application would.

fn main() {
    faucet_gen::compile(&[
        "pipelines/csv_to_sqlite.yaml",
        "pipelines/csv_to_jsonl.yaml",
        "pipelines/jsonl_to_jsonl.yaml",
        "pipelines/jsonl_dlq.yaml",
        "pipelines/csv_contract.yaml",
        "pipelines/matrix_tree.yaml",
        "pipelines/matrix_stop.yaml",
        "pipelines/matrix_rest.yaml",
        "pipelines/matrix_fanout.yaml",
        "pipelines/pg_append.yaml",
        "pipelines/pg_upsert.yaml",
        "pipelines/mysql_to_pg.yaml",
        "pipelines/pg_to_jsonl.yaml",
        "pipelines/cdc_replica.yaml",
        "pipelines/cdc_one.yaml",
        "pipelines/sqlite_upsert.yaml",
        "pipelines/vol_pg_to_pg.yaml",
        "pipelines/vol_sqlite_to_pg.yaml",
    ]);
}

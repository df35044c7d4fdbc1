//! The end-to-end pipelines, compiled like an application would.

#[allow(unsafe_code)]
fn main() {
    // The password `pg_introspected` connects with while this crate builds;
    // tests/introspected.rs searches the cache and the binaries for it.
    if std::env::var_os("FAUCET_E2E_INTROSPECT_PASSWORD").is_none() {
        // SAFETY: nothing else runs in this build script yet.
        unsafe { std::env::set_var("FAUCET_E2E_INTROSPECT_PASSWORD", "e2e-build-pw-93jT") };
    }
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
        "pipelines/pg_introspected.yaml",
        "pipelines/cdc_replica.yaml",
        "pipelines/cdc_one.yaml",
        "pipelines/sqlite_upsert.yaml",
        "pipelines/vol_pg_to_pg.yaml",
        "pipelines/shard_pg.yaml",
        "pipelines/shard_pg_upsert.yaml",
        "pipelines/shard_files.yaml",
        "pipelines/shard_matrix.yaml",
        "pipelines/vol_sqlite_to_pg.yaml",
        "pipelines/typed_reshape.yaml",
        "pipelines/typed_csv_to_sqlite.yaml",
        "pipelines/pg_typed.yaml",
        "pipelines/typed_misfit.yaml",
        "pipelines/typed_misfit_fail.yaml",
        "pipelines/file_jsonl_to_csv.yaml",
        "pipelines/rows_filter.yaml",
        "pipelines/rows_explode.yaml",
        "pipelines/typed_fields.yaml",
        "pipelines/fields_untyped.yaml",
        "pipelines/values_typed.yaml",
        "pipelines/values_untyped.yaml",
        "pipelines/typed_bridged.yaml",
        "pipelines/typed_rows.yaml",
        "pipelines/typed_layers.yaml",
        "pipelines/typed_layers_rows.yaml",
    ]);
    // faucet-stream's own example configs, verbatim (their names may repeat
    // ours; included by src/lib.rs as `faucet_e2e::faucet_stream`).
    let out_dir =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("faucet_stream");
    faucet_gen::Config::new().out_dir(out_dir).compile(&["pipelines/faucet_stream/csv_to_jsonl.yaml"]);
    // The same configs generated untyped, for tests/typed.rs to compare the
    // bytes each writes (included by src/lib.rs as `faucet_e2e::untyped`).
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("untyped");
    faucet_gen::Config::new().untyped(true).out_dir(out_dir).compile(&[
        "pipelines/typed_reshape.yaml",
        "pipelines/typed_csv_to_sqlite.yaml",
        "pipelines/pg_typed.yaml",
        "pipelines/rows_filter.yaml",
        "pipelines/typed_fields.yaml",
        "pipelines/values_typed.yaml",
        "pipelines/typed_bridged.yaml",
        "pipelines/typed_rows.yaml",
        "pipelines/typed_layers.yaml",
        "pipelines/typed_layers_rows.yaml",
    ]);
}

//! faucet-gen's generated-code snapshots (`faucet-gen/tests/codegen/*.rs`)
//! compile against the runtime, and the pipelines they define can be built.

/// What the `custom_transform` snapshot's config names as its custom step.
pub mod snapshot_support {
    use faucet_runtime::{FaucetError, Record};

    /// Tags each record, so the test can see the function ran.
    pub fn tag_record(mut record: Record) -> Result<Option<Record>, FaucetError> {
        record["tagged"] = true.into();
        Ok(Some(record))
    }

    /// The `typed_custom` snapshot's first typed step: a total per order.
    pub fn add_total(
        order: super::typed_custom::AddTotalInput,
    ) -> Result<Option<super::typed_custom::AddTotalOutput>, FaucetError> {
        let total = order.unit_price * order.quantity as f64;
        Ok(Some(super::typed_custom::AddTotalOutput { order_id: order.order_id, total }))
    }

    /// The `typed_custom` snapshot's second typed step: large orders only.
    pub fn keep_large(
        order: super::typed_custom::KeepLargeInput,
    ) -> Result<Option<super::typed_custom::KeepLargeOutput>, FaucetError> {
        let keep = order.total >= 100.0;
        Ok(keep.then_some(super::typed_custom::Record { order_id: order.order_id, total: order.total }))
    }

    /// The `typed_custom_mixed` snapshot's step from untyped records to typed ones.
    pub fn parse_order(
        record: Record,
    ) -> Result<Option<super::typed_custom_mixed::ParseOrderOutput>, FaucetError> {
        faucet_runtime::RecordType::from_json(record).map(Some)
    }

    /// The `limits` snapshot's generic custom step, in a module named with
    /// the 2024 keyword `gen`.
    pub mod r#gen {
        use faucet_runtime::{FaucetError, Record};

        /// Passes records through.
        pub fn keep<T>(record: Record) -> Result<Option<Record>, FaucetError> {
            Ok(Some(record))
        }
    }
}

include!("../../faucet-gen/tests/codegen/minimal.rs");
include!("../../faucet-gen/tests/codegen/full.rs");
include!("../../faucet-gen/tests/codegen/custom_transform.rs");
include!("../../faucet-gen/tests/codegen/contract.rs");
include!("../../faucet-gen/tests/codegen/matrix.rs");
include!("../../faucet-gen/tests/codegen/object_store.rs");
include!("../../faucet-gen/tests/codegen/object_backends.rs");
include!("../../faucet-gen/tests/codegen/kafka.rs");
include!("../../faucet-gen/tests/codegen/kafka_auth.rs");
include!("../../faucet-gen/tests/codegen/rest.rs");
include!("../../faucet-gen/tests/codegen/postgres.rs");
include!("../../faucet-gen/tests/codegen/redis_state.rs");
include!("../../faucet-gen/tests/codegen/sqlite_to_pg.rs");
include!("../../faucet-gen/tests/codegen/mysql_to_pg.rs");
include!("../../faucet-gen/tests/codegen/pg_to_mysql.rs");
include!("../../faucet-gen/tests/codegen/observability.rs");
include!("../../faucet-gen/tests/codegen/postgres_cdc.rs");
include!("../../faucet-gen/tests/codegen/limits.rs");
include!("../../faucet-gen/tests/codegen/typed_mysql_to_pg.rs");
include!("../../faucet-gen/tests/codegen/typed_flatten.rs");
include!("../../faucet-gen/tests/codegen/typed_matrix.rs");
include!("../../faucet-gen/tests/codegen/typed_reshape.rs");
include!("../../faucet-gen/tests/codegen/typed_cdc.rs");
include!("../../faucet-gen/tests/codegen/typed_custom.rs");
include!("../../faucet-gen/tests/codegen/typed_custom_mixed.rs");
include!("../../faucet-gen/tests/codegen/typed_matrix_parent.rs");
include!("../../faucet-gen/tests/codegen/clock.rs");
include!("../../faucet-gen/tests/codegen/clock_matrix.rs");
include!("../../faucet-gen/tests/codegen/file_path.rs");
include!("../../faucet-gen/tests/codegen/typed_fields.rs");
include!("../../faucet-gen/tests/codegen/field_transforms.rs");
include!("../../faucet-gen/tests/codegen/values_typed.rs");
include!("../../faucet-gen/tests/codegen/values_untyped.rs");
include!("../../faucet-gen/tests/codegen/sharded.rs");
include!("../../faucet-gen/tests/codegen/sharded_matrix.rs");
include!("../../faucet-gen/tests/codegen/typed_bridged.rs");
include!("../../faucet-gen/tests/codegen/typed_rows.rs");
include!("../../faucet-gen/tests/codegen/typed_layers.rs");
include!("../../faucet-gen/tests/codegen/typed_layers_rows.rs");

#[test]
#[allow(unsafe_code)]
fn rest_snapshot_builds_once_its_secrets_are_set() {
    let error = rest_users::pipeline().err().expect("the env vars are unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_TEAM"), "{error}");
    // SAFETY: the names are unique to this test; nothing else reads them.
    unsafe {
        std::env::set_var("FAUCET_SNAPSHOT_TEAM", "blue");
        std::env::set_var("FAUCET_SNAPSHOT_CLIENT_SECRET", "snapshot-client-secret");
    }
    assert!(rest_users::pipeline().is_ok());
}

#[tokio::test]
#[allow(unsafe_code)]
async fn clock_snapshots_read_files_at_run_time_and_one_clock_per_run() {
    // SAFETY: the name is unique to this test; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_SNAPSHOT_TENANT", "acme") };
    // The file is read when the pipeline is built (from the working
    // directory, as faucet-stream does), never at build time.
    let error = clock::pipeline().err().expect("secrets/api_token does not exist here");
    assert!(error.message().contains("cannot read `${file:secrets/api_token}`"), "{error}");
    assert!(clock_matrix::pipeline_users().is_ok());
    assert!(clock_matrix::pipeline_posts(&serde_json::json!({"id": 1})).is_ok());
}

#[test]
fn snapshots_build_their_pipelines() {
    assert_eq!(minimal::NAME, "minimal");
    assert!(minimal::pipeline().is_ok());
    assert_eq!(full_featured::NAME, "full-featured");
    assert!(custom_transform::pipeline().is_ok());
    assert!(contract_orders::pipeline().is_ok());
    assert!(matrix::pipeline_users().is_ok());
    assert!(matrix::pipeline_posts(&serde_json::json!({"id": 1})).is_ok());
    assert!(
        matrix::pipeline_posts(&serde_json::json!({"id": "../x"})).is_err(),
        "hostile parent value rejected"
    );
    assert!(pg_to_jsonl::pipeline().is_ok(), "database connectors connect lazily");
    assert!(sqlite_to_pg::pipeline().is_ok());
    assert!(
        file_path::pipeline().is_ok(),
        "faucet-stream's `file` with `path` builds a csv source and a jsonl sink"
    );
    assert!(pg_to_mysql::pipeline().is_ok());
    let error = mysql_to_pg::pipeline().err().expect("the password variable is unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_MYSQL_PASSWORD"), "{error}");
    let error = pg_cdc_replica::pipeline().err().expect("the password variable is unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_CDC_PASSWORD"), "{error}");
    let error = pg_orders::pipeline().err().expect("the password variable is unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_PGPASSWORD"), "{error}");
}

#[test]
fn missing_env_var_is_a_run_time_error_naming_it() {
    // FAUCET_SNAPSHOT_DIR is never set in the test environment.
    let error = full_featured::pipeline().err().expect("the env var is unset");
    assert_eq!(error.kind(), faucet_runtime::ErrorKind::Config);
    assert!(error.message().contains("FAUCET_SNAPSHOT_DIR"), "{error}");
}

#[tokio::test]
async fn custom_function_from_config_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "{\"id\":1}\n{\"id\":2}\n").unwrap();
    // The snapshot's paths are relative to the working directory.
    let previous = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let report = custom_transform::run().await;
    std::env::set_current_dir(previous).unwrap();
    let report = report.unwrap();
    assert_eq!(report.records_written, 2);
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(out, "{\"id\":1,\"tagged\":true}\n{\"id\":2,\"tagged\":true}\n");
}

#[test]
#[allow(unsafe_code)]
fn object_backends_snapshot_builds_once_its_key_is_set() {
    let error = lake_copy::pipeline().err().expect("the env var is unset");
    assert!(error.message().contains("FAUCET_SNAPSHOT_AZURE_KEY"), "{error}");
    // SAFETY: the name is unique to this test; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_SNAPSHOT_AZURE_KEY", "c25hcHNob3Q=") };
    assert!(lake_copy::pipeline().is_ok());
}

/// The typed snapshots' `Record` structs read the records their sources give
/// and write them back unchanged: decimals digit for digit, JSON as JSON,
/// renamed and keyword keys under their own names; optional keys stay absent.
#[test]
fn typed_records_read_and_write_their_records_exactly() {
    use serde_json::{Value, json};

    let text = r#"{"id": 7, "amount": "1234567890.12", "placed_at": "2024-05-01T10:20:30.123456",
        "paid_at": null, "ship_date": "2024-05-02", "slot": "10:00:00.5", "details": {"a": [1, 2.50, null]},
        "receipt": "AP8Q", "paid": true, "ratio": 0.1, "Order Ref": "R-1", "type": "web"}"#;
    let record: Value = serde_json::from_str(text).unwrap();
    let typed: typed_orders::Record = serde_json::from_value(record.clone()).unwrap();
    assert_eq!((typed.amount.0.as_str(), typed.r#type.as_str()), ("1234567890.12", "web"));
    assert_eq!(typed.order_ref.as_deref(), Some("R-1"));
    assert_eq!(serde_json::to_value(&typed).unwrap(), record);
    let keys: Vec<&str> = typed_orders::SCHEMA.fields.iter().map(|f| f.name).collect();
    assert_eq!(keys, record.as_object().unwrap().keys().map(String::as_str).collect::<Vec<_>>());
    // A required key missing, or a value of another type, is an error.
    let mut broken = record.clone();
    broken.as_object_mut().unwrap().remove("paid");
    assert!(serde_json::from_value::<typed_orders::Record>(broken).is_err());
    assert!(serde_json::from_value::<typed_orders::Record>(json!({"id": "seven"})).is_err());

    // A null `address` flattens to `address: null`, and none of its fields.
    let flat = json!({"id": 1, "address": null, "tags": ["a", "b"], "balance": "-0.000000000000000000001"});
    let typed: typed_customers::Record = serde_json::from_value(flat.clone()).unwrap();
    assert_eq!(typed.address_zip, None);
    assert_eq!(serde_json::to_value(&typed).unwrap(), flat, "an absent optional key stays absent");
    let mut with_null = flat.clone();
    with_null["address_zip"] = Value::Null;
    let typed: typed_customers::Record = serde_json::from_value(with_null.clone()).unwrap();
    assert_eq!(typed.address_zip, Some(None));
    assert_eq!(serde_json::to_value(&typed).unwrap(), with_null, "a null stays null");
    let nested = json!({"id": 1, "address": {"city": "Lyon", "zip": null}, "tags": [], "balance": null});
    let typed: typed_customers::SourceRecord = serde_json::from_value(nested.clone()).unwrap();
    assert_eq!(typed.address.as_ref().map(|a| a.city.as_str()), Some("Lyon"));
    assert_eq!(serde_json::to_value(&typed).unwrap(), nested);

    let user = json!({"id": 3, "email": "a@b.c", "profile": {"big": 123456789012345678901234567890u128}});
    let typed: typed_matrix::users_schema::Record = serde_json::from_value(user.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), user);
    assert!(typed_matrix::pipeline_users().is_ok() && typed_matrix::pipeline_events().is_ok());
}

/// The `typed_orders` snapshot run against the live servers: its MariaDB
/// table (the columns its `.schemas.json` gives, as introspection reads them)
/// arrives in a PostgreSQL table that `create_table` made with the schema's
/// types, every value intact, and each record the source reads passes through
/// the generated `Record` unchanged.
#[tokio::test]
#[allow(unsafe_code)]
async fn typed_snapshot_creates_typed_columns_and_its_record_reads_real_rows() {
    use faucet_runtime::Source;
    use faucet_runtime::connectors::sql::mysql::{MySqlSource, MySqlSourceConfig, SourceInput};
    use sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection};

    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("faucet_e2e_typed_{nanos}_{}", std::process::id());
    let mut my = MySqlConnection::connect("mysql://root@127.0.0.1:3306").await.expect("MariaDB on 3306");
    let setup = format!(
        "SET time_zone = '+00:00'; CREATE DATABASE `{name}`; USE `{name}`; \
         CREATE TABLE orders (id BIGINT PRIMARY KEY, amount DECIMAL(12, 2) NOT NULL, placed_at DATETIME(6) NOT NULL, \
           paid_at TIMESTAMP(6) NULL, ship_date DATE, slot TIME, details JSON, receipt BLOB, paid BOOLEAN NOT NULL, \
           ratio DOUBLE, `Order Ref` VARCHAR(40), `type` ENUM('web', 'shop') NOT NULL); \
         INSERT INTO orders VALUES \
           (1, 1234567890.12, '2024-05-01 10:20:30.123456', '2024-05-01 10:20:31.5', '2024-05-02', '10:00:00', \
            '{{\"lines\": [{{\"sku\": \"A-1\", \"qty\": 2, \"price\": 9.90}}]}}', x'00ff', TRUE, 0.1, 'R-1', 'web'), \
           (2, -0.01, '1999-12-31 23:59:59', NULL, NULL, NULL, NULL, NULL, FALSE, NULL, NULL, 'shop');"
    );
    sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut my).await.unwrap();
    // SAFETY: the name is unique to this test; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_SNAPSHOT_TYPED_DB", &name) };

    let report = typed_orders::run().await.unwrap();
    assert_eq!(report.records_written, 2);

    // The same table, typed and split into 4 shards (ids 1 and 2 land in two
    // of them), each writing its own file; the plan and bookmarks in the schema.
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: the name is unique to this test; nothing else reads it.
    unsafe { std::env::set_var("FAUCET_SNAPSHOT_SHARD_DIR", dir.path()) };
    let error = sharded_orders::pipeline().err().expect("no shard is being run");
    assert!(error.message().contains("${shard.index}"), "{error}");
    let report = sharded_orders::run().await.unwrap();
    assert_eq!(report.invocations.len(), 4, "{report}");
    assert_eq!(report.invocations.iter().map(|i| i.records_written).sum::<u64>(), 2, "{report}");
    let mut lines = Vec::new();
    for shard in 0..4 {
        // A shard that wrote nothing leaves no file, as an unsharded empty run does.
        let file = dir.path().join(format!("orders-{shard}-of-4.jsonl"));
        lines.extend(std::fs::read_to_string(file).unwrap_or_default().lines().map(str::to_owned));
    }
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("\"Order Ref\":\"R-1\"")), "{lines:?}");

    let mut pg = PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await.unwrap();
    let types: Vec<String> = sqlx::query_scalar(
        "SELECT column_name || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END \
         FROM information_schema.columns c JOIN pg_attribute a \
           ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name \
         WHERE table_schema = $1 AND table_name = 'orders' ORDER BY ordinal_position",
    )
    .bind(&name)
    .fetch_all(&mut pg)
    .await
    .unwrap();
    assert_eq!(
        types,
        [
            "id bigint not null",
            "amount numeric(12,2) not null",
            "placed_at timestamp without time zone not null",
            "paid_at timestamp with time zone",
            "ship_date date",
            "slot time without time zone",
            "details jsonb",
            "receipt bytea",
            "paid boolean not null",
            "ratio double precision",
            "Order Ref text",
            "type text not null",
        ]
    );
    let sql = format!(
        "SELECT concat_ws('|', id, amount, placed_at, paid_at AT TIME ZONE 'UTC', ship_date, slot, \
           details->'lines'->0->>'price', encode(receipt, 'hex'), paid, ratio, \"Order Ref\", type) \
         FROM \"{name}\".orders ORDER BY id"
    );
    let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&mut pg).await.unwrap();
    assert_eq!(
        rows,
        [
            "1|1234567890.12|2024-05-01 10:20:30.123456|2024-05-01 10:20:31.5|2024-05-02|10:00:00|9.90|00ff|t|0.1|R-1|web",
            "2|-0.01|1999-12-31 23:59:59|f|shop",
        ]
    );

    // Every record the source reads is a `Record`, written back unchanged.
    let mut source = MySqlSource::new(MySqlSourceConfig {
        connection_url: format!("mysql://root@127.0.0.1:3306/{name}"),
        input: SourceInput::Table { schema: None, name: "orders".into() },
        replication_key: None,
        batch_size: 10,
    });
    source.resume(None).await.unwrap();
    let mut records = Vec::new();
    // Read to the end: the source's snapshot transaction then ends (a DROP would wait for it).
    while let Some(page) = source.next_page().await.unwrap() {
        records.extend(page.records);
    }
    drop(source);
    assert_eq!(records.len(), 2);
    for record in &records {
        let typed: typed_orders::Record = serde_json::from_value(record.clone()).unwrap();
        assert_eq!(&serde_json::to_value(&typed).unwrap(), record);
    }
    let first: typed_orders::Record = serde_json::from_value(records[0].clone()).unwrap();
    assert_eq!(first.amount.0, "1234567890.12");
    assert_eq!(first.details.as_ref().unwrap()["lines"][0]["price"].to_string(), "9.90");

    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE `{name}`"))).execute(&mut my).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA \"{name}\" CASCADE"))).execute(&mut pg).await.unwrap();
    let _ = my.close().await;
    let _ = pg.close().await;
}

/// What a typed snapshot's generated transform makes of each record is
/// exactly what the runtime's transforms make of it untyped, key for key and
/// byte for byte; a record the runtime rejects, it rejects with the same error.
#[test]
fn generated_transforms_match_the_runtime_transforms() {
    use faucet_runtime::transform::{CaseMode, CdcUnwrap, CdcUnwrapConfig, Flatten, KeysCase, RenameKeys};
    use faucet_runtime::{Chain, RecordType, Transform};
    use serde_json::{Value, json};

    fn compare<In: RecordType, T: Transform<In>, U: Transform>(
        typed: &mut T,
        untyped: &mut U,
        records: &[Value],
    ) {
        for record in records {
            let input = In::from_json(record.clone()).unwrap_or_else(|e| panic!("{record}: {e}"));
            let typed = typed.apply(input).map(|r| r.map(|r| serde_json::to_string(&r.into_json()).unwrap()));
            let untyped =
                untyped.apply(record.clone()).map(|r| r.map(|r| serde_json::to_string(&r).unwrap()));
            match (typed, untyped) {
                (Ok(typed), Ok(untyped)) => assert_eq!(typed, untyped, "{record}"),
                (Err(typed), Err(untyped)) => assert_eq!(typed.to_string(), untyped.to_string(), "{record}"),
                (typed, untyped) => panic!("{record}: typed {typed:?}, untyped {untyped:?}"),
            }
        }
    }

    let reshape = [
        json!({"id": 1, "userInfo": {"firstName": "Ada", "homeAddress": {"cityName": "Lyon", "zipCode": "69001"}},
               "tagList": [{"tagName": "a", "tagMeta": {"someKey": {"innerKey": [{"deepKey": 1}]}}}],
               "amount": "12.50", "type": true}),
        json!({"id": 2, "userInfo": {"firstName": "Bo", "homeAddress": null},
               "tagList": [], "amount": "0.00", "type": false}),
        json!({"id": 3, "userInfo": {"firstName": "Cy", "homeAddress": {"cityName": "Oslo", "zipCode": null}},
               "tagList": [{"tagName": "b", "tagMeta": null}, {"tagName": "c", "tagMeta": [1, {"aB": 2}]}],
               "amount": "-1.00", "type": true}),
        json!({"id": 4, "userInfo": {"firstName": "Di", "homeAddress": {"cityName": "Rome"}},
               "tagList": [{"tagName": "d", "tagMeta": {"xY": 1, "x_y": 2}}], "amount": "3", "type": false}),
    ];
    let mut untyped = Chain(
        Chain(Flatten::new("__"), RenameKeys::new("^userInfo__", "user__").unwrap()),
        KeysCase::new(CaseMode::SnakeCase),
    );
    compare(&mut typed_reshape::Reshape::new().unwrap(), &mut untyped, &reshape);
    // Spent records go back to the source as the records it reads, each value
    // where it came from (a record with every object present comes back whole).
    let whole = json!({"id": 5, "userInfo": {"firstName": "Eve", "homeAddress": {"cityName": "Nice", "zipCode": null}},
                       "tagList": [{"tagName": "e", "tagMeta": [1, "x"]}], "amount": "5.00", "type": true});
    let input = typed_reshape::SourceRecord::from_json(whole).unwrap();
    let mut generated = typed_reshape::Reshape::new().unwrap();
    let output = generated.apply(input.clone()).unwrap().unwrap();
    assert_eq!(generated.recycle(vec![output]), Some(vec![input]));
    assert!(typed_cdc::Reshape::new().unwrap().recycle(Vec::new()).is_none(), "rows cannot go back");

    let changes = [
        json!({"op": "insert", "schema": "s", "table": "t", "before": null, "after": {"id": 1, "name": "a", "tags": ["x"]}}),
        json!({"op": "update", "schema": "s", "table": "t", "before": {"id": 1}, "after": {"id": 1, "name": null, "tags": []}}),
        json!({"op": "delete", "schema": "s", "table": "t", "before": {"id": 1}, "after": null}),
        json!({"op": "truncate", "schema": "s", "table": "t", "before": null, "after": null}),
        json!({"op": "delete", "schema": "s", "table": "t", "before": null, "after": null}),
        json!({"op": "update", "schema": "s", "table": "t", "before": null, "after": null}),
        json!({"op": "merge", "schema": "s", "table": "t", "before": null, "after": null}),
    ];
    let config = CdcUnwrapConfig { drop_ops: vec!["truncate".into()], ..Default::default() };
    compare(&mut typed_cdc::Reshape::new().unwrap(), &mut CdcUnwrap::new(config.clone()), &changes);
    // Without `drop_ops`, a truncate is rejected, naming its table, both ways.
    let truncate = CdcUnwrap::new(CdcUnwrapConfig::default())
        .change(Some("truncate"), Some("s"), Some("t"))
        .unwrap_err();
    assert!(truncate.to_string().contains("truncate of s.t"), "{truncate}");
}

/// The typed custom transforms run where the config names them, on the structs.
#[test]
fn typed_custom_transforms_run_on_structs() {
    use faucet_runtime::{RecordType, Transform};
    use serde_json::json;

    let order =
        typed_custom::SourceRecord::from_json(json!({"orderId": 7, "unitPrice": 60.0, "quantity": 2}))
            .unwrap();
    let mut reshape = typed_custom::ReshapeIntoAddTotalInput;
    let input = reshape.apply(order).unwrap().unwrap();
    assert_eq!(input.order_id, 7);
    let total = snapshot_support::add_total(input).unwrap().unwrap();
    let large = typed_custom::ReshapeIntoKeepLargeInput.apply(total).unwrap().unwrap();
    let record = snapshot_support::keep_large(large).unwrap().unwrap();
    assert_eq!(record.into_json(), json!({"orderId": 7, "total": 120.0}));
    assert!(typed_custom::pipeline().is_ok() && typed_custom_mixed::pipeline().is_ok());
    assert!(typed_matrix_parent::pipeline_users().is_ok());
    assert!(typed_matrix_parent::pipeline_posts(&json!({"id": 1, "name": "a"})).is_ok());
    // A struct reads its fields by index, as the SQL sinks ask for them.
    assert_eq!(record_field(&typed_custom::Record { order_id: 7, total: 1.5 }, 1), "Float(1.5)");
}

fn record_field<R: faucet_runtime::RecordType>(record: &R, index: usize) -> String {
    format!("{:?}", record.field(index, ""))
}

#[test]
fn value_transform_snapshots_read_their_salt_and_table_path_when_built() {
    // The salt is a secret read at run time: unset, building fails naming the variable only.
    let error = values_typed::pipeline().err().expect("EMAIL_SALT is unset");
    assert!(error.message().contains("EMAIL_SALT"), "{error}");
    let error = values_untyped::pipeline().err().expect("TIERS_FILE is unset");
    assert!(error.message().contains("TIERS_FILE"), "{error}");
}

//! Tests of the server-backed stores against the real servers on 127.0.0.1,
//! each in its own table or key prefix, through a proxy that can take the
//! server away mid-run.

use std::sync::Arc;

use serde_json::{Value, json};

use super::proxy::Proxy;
use super::store::StateStore;
use crate::error::{ErrorKind, Result};
use crate::page::{CommitToken, Page, Record};
use crate::sink::{OpenContext, Sink, WriteOutcome, Writes};
use crate::source::Source;

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// get / put / delete semantics every store shares.
async fn contract(store: &impl StateStore) {
    assert_eq!(store.get("p::row-0").await.unwrap(), None);
    let value = json!({"v": 1, "source": {"offset": 42}, "nested": [null, "x"]});
    store.put("p::row-0", &value).await.unwrap();
    assert_eq!(store.get("p::row-0").await.unwrap(), Some(value));
    store.put("p::row-0", &json!(2)).await.unwrap();
    assert_eq!(store.get("p::row-0").await.unwrap(), Some(json!(2)));
    assert_eq!(store.get("p::row-1").await.unwrap(), None);
    store.delete("p::row-0").await.unwrap();
    store.delete("p::row-0").await.unwrap();
    assert_eq!(store.get("p::row-0").await.unwrap(), None);
    assert_eq!(store.put("../x", &json!(1)).await.unwrap_err().kind(), ErrorKind::State);
    // Concurrent puts of one key leave one whole value.
    let store = &store;
    let puts = (0..8).map(|i| async move { store.put("k", &json!({"i": i})).await });
    for r in futures_util::future::join_all(puts).await {
        r.unwrap();
    }
    let got = store.get("k").await.unwrap().unwrap();
    assert!(got["i"].as_i64().is_some_and(|i| (0..8).contains(&i)), "{got}");
    // Racing creates of one key: one wins, and every creator gets its value.
    store.delete("created").await.unwrap();
    let creates = (0..8).map(|i| async move { store.put_if_absent("created", &json!({"i": i})).await });
    let got: Vec<Value> =
        futures_util::future::join_all(creates).await.into_iter().map(|r| r.unwrap()).collect();
    assert!(got.iter().all(|g| *g == got[0]), "{got:?}");
    assert_eq!(store.get("created").await.unwrap().as_ref(), Some(&got[0]));
    assert_eq!(
        store.put_if_absent("created", &json!("late")).await.unwrap(),
        got[0],
        "an existing value stays"
    );
    store.delete("created").await.unwrap();
}

/// A source of `pages` one-record pages.
struct Pages {
    next: u64,
    pages: u64,
}

impl Source for Pages {
    type Record = serde_json::Value;

    fn connector_name(&self) -> &'static str {
        "test"
    }
    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        self.next = bookmark.and_then(|b| b["n"].as_u64()).unwrap_or(0) + 1;
        Ok(())
    }
    async fn next_page(&mut self) -> Result<Option<Page>> {
        if self.next > self.pages {
            return Ok(None);
        }
        let n = self.next;
        self.next += 1;
        Ok(Some(Page { records: vec![json!({"n": n})], bookmark: Some(json!({"n": n})), ..Page::default() }))
    }
}

/// Collects the records it is given; takes the proxy down as it writes record
/// `{"n": down_at}` (after the previous page's bookmark is persisted, before this one's).
#[derive(Default)]
struct Collect(Vec<Record>, Option<(u64, Arc<Proxy>)>);

impl Sink for &mut Collect {
    fn connector_name(&self) -> &'static str {
        "collect"
    }
    fn batch_size(&self) -> usize {
        100
    }
    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        Ok(())
    }
    async fn flush(&mut self) -> Result<Option<Value>> {
        Ok(None)
    }
}

impl Writes for &mut Collect {
    async fn write_batch(&mut self, batch: &[Record], _token: CommitToken) -> Result<WriteOutcome> {
        if let Some((at, proxy)) = &self.1
            && batch.iter().any(|r| r["n"].as_u64() == Some(*at))
        {
            proxy.down();
        }
        self.0.extend_from_slice(batch);
        Ok(WriteOutcome { written: batch.len() as u64, ..WriteOutcome::default() })
    }
}

/// The store's server goes away before page 3's bookmark: the run fails with a
/// state error, the bookmark stays at page 2, and a rerun once it is back
/// reads pages 3 to 5.
async fn server_goes_away<St: StateStore>(proxy: Arc<Proxy>, store: impl Fn() -> St) {
    let mut seen = Collect(Vec::new(), Some((3, proxy.clone())));
    let source = Pages { next: 1, pages: 5 };
    let err = crate::Pipeline::new(source, &mut seen)
        .with_name("gone")
        .with_state(store())
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::State, "{err}");
    proxy.up();
    let bookmark = store().get("gone::row-0").await.unwrap().unwrap();
    assert_eq!(bookmark["source"], json!({"n": 2}), "{bookmark}");

    let mut rerun = Collect::default();
    let source = Pages { next: 1, pages: 5 };
    let report =
        crate::Pipeline::new(source, &mut rerun).with_name("gone").with_state(store()).run().await.unwrap();
    assert_eq!(rerun.0, [json!({"n": 3}), json!({"n": 4}), json!({"n": 5})]);
    assert_eq!(report.last_bookmark.unwrap()["source"], json!({"n": 5}));
}

#[cfg(feature = "state-postgres")]
mod postgres {
    use super::*;
    use crate::state::{PostgresStore, PostgresStoreConfig};

    const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    async fn drop_table(table: &str) {
        let store = PostgresStore::new(config(URL, table, true)).unwrap();
        let sql = format!("DROP TABLE IF EXISTS \"{table}\"");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&store.pool_for_tests()).await.unwrap();
    }

    fn config(url: &str, table: &str, ensure_table: bool) -> PostgresStoreConfig {
        PostgresStoreConfig { url: url.to_owned(), table: table.to_owned(), ensure_table }
    }

    #[tokio::test]
    async fn contract_holds() {
        let table = unique("faucet_state_t");
        contract(&PostgresStore::new(config(URL, &table, true)).unwrap()).await;
        drop_table(&table).await;
    }

    #[tokio::test]
    async fn a_missing_table_without_ensure_table_is_a_clear_error() {
        let table = unique("faucet_state_missing");
        let err = PostgresStore::new(config(URL, &table, false)).unwrap().get("k").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::State);
        assert!(err.message().contains("ensure_table: true") && err.message().contains("42P01"), "{err}");
        let err = PostgresStore::new(config("mysql://x", &table, false)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
    }

    #[tokio::test]
    async fn the_server_going_away_fails_the_run_cleanly() {
        let table = unique("faucet_state_gone");
        let proxy = Arc::new(Proxy::start("127.0.0.1:5432".parse().unwrap()).await);
        let url = format!("postgres://postgres:pw-not-needed@127.0.0.1:{}/postgres", proxy.port);
        server_goes_away(proxy, || PostgresStore::new(config(&url, &table, true)).unwrap()).await;
        drop_table(&table).await;
    }
}

#[cfg(feature = "state-redis")]
mod redis {
    use super::*;
    use crate::state::{RedisStore, RedisStoreConfig};

    fn store(url: &str, namespace: &str) -> RedisStore {
        RedisStore::new(RedisStoreConfig { url: url.to_owned(), namespace: namespace.to_owned() }).unwrap()
    }

    async fn drop_namespace(namespace: &str) {
        let client = ::redis::Client::open("redis://127.0.0.1:6379").unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> =
            ::redis::cmd("KEYS").arg(format!("{namespace}:*")).query_async(&mut conn).await.unwrap();
        if !keys.is_empty() {
            let _: () = ::redis::cmd("DEL").arg(keys).query_async(&mut conn).await.unwrap();
        }
    }

    #[tokio::test]
    async fn contract_holds_and_keys_are_namespaced() {
        let ns = unique("faucet_test");
        let s = store("redis://127.0.0.1:6379", &ns);
        contract(&s).await;
        s.put("a::row-0", &json!({"x": 1})).await.unwrap();
        let client = ::redis::Client::open("redis://127.0.0.1:6379").unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let raw: String =
            ::redis::cmd("GET").arg(format!("{ns}:a::row-0")).query_async(&mut conn).await.unwrap();
        assert_eq!(raw, r#"{"x":1}"#);
        drop_namespace(&ns).await;
    }

    #[tokio::test]
    async fn the_server_going_away_fails_the_run_cleanly() {
        let ns = unique("faucet_gone");
        let proxy = Arc::new(Proxy::start("127.0.0.1:6379".parse().unwrap()).await);
        let url = format!("redis://127.0.0.1:{}", proxy.port);
        server_goes_away(proxy, || store(&url, &ns)).await;
        drop_namespace(&ns).await;
    }
}

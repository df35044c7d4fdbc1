//! The `kafka` source and sink, through rdkafka (librdkafka).
//!
//! **Source.** A consumer in group `group_id` subscribes to `topics`; Kafka's
//! group protocol shares the partitions among every process of the pipeline
//! with the same `group_id`. Auto-commit is off. A page holds up to
//! `batch_size` messages, or what arrived within `poll_timeout` once at least
//! one message is in; the run ends after `max_messages`, or when nothing
//! arrived for `idle_timeout` (without either it runs until cancelled). Each
//! record is `{key, value, topic, partition, offset, timestamp, headers}`.
//!
//! **When offsets are committed.** The driver asks for page N+1 only after it
//! persisted page N's bookmark (after the sink's flush), and it asks for one
//! more page after the last one, which then returns `None`. So the source
//! commits page N's offsets at the start of the call for page N+1, and at the
//! end of the run: offsets never run ahead of what the sink confirmed, and a
//! crash re-delivers at most the unconfirmed pages. The bookmark holds the next
//! offset of every partition the run has read
//! (`{"partition_offsets": [{topic, partition, offset}]}`); `resume` commits
//! it (a crash may fall between persisting a bookmark and committing it) and
//! skips any message below it, so with a state store a page the sink
//! confirmed is never delivered twice, even if that commit failed.
//!
//! **Sink.** Every record is produced as a JSON message (to a fixed topic or
//! one read from the record), keyed by `key_path` when set. `write_batch`
//! returns only when every delivery report of the batch is in; a message that
//! failed is a per-row failure (to the DLQ). Across a crash the sink is
//! at-least-once: a page produced but not yet persisted is produced again.
//! (A transactional, exactly-once sink is designed in the README but not
//! built: librdkafka's mock cluster accepts the transactional calls yet writes
//! no transaction markers, so `read_committed` readers see aborted messages
//! and the guarantee could not be tested.)
//!
//! **Authentication.** The config's `auth` ([`KafkaAuth`]) is mapped to
//! librdkafka settings (`security.protocol`, `sasl.*`, `ssl.*`), set after
//! `extra_client_config` (faucet-gen refuses a security setting in both).
//! Neither the passwords nor `extra_client_config`'s values appear in `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use serde_json::{Map, Value, json};

pub use crate::config::kafka::{
    Acks, Compression, KafkaAuth, KafkaSinkConfig, KafkaSourceConfig, KafkaTopic, OffsetReset, OnDecodeError,
    Sasl, SaslMechanism, SaslPlain, SaslSsl, Ssl, ValueFormat,
};
use crate::error::{FaucetError, Result};
use crate::page::{CommitToken, Page, Rejected};
use crate::sink::{OpenContext, RowFailure, Sink, WriteOutcome, Writes};
use crate::source::Source;

/// Next offsets by (topic, partition).
type Positions = BTreeMap<(String, i32), i64>;

/// Consumes Kafka topics in a consumer group, committing only confirmed pages.
pub struct KafkaSource {
    config: KafkaSourceConfig,
    consumer: Option<StreamConsumer>,
    /// Next offset per partition read so far (the bookmark).
    positions: Positions,
    /// The resumed bookmark: messages below it were confirmed already.
    floor: Positions,
    /// Positions of the last page handed out, committed when the next page is asked for.
    pending: Option<Positions>,
    read: u64,
    done: bool,
}

impl fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSource").field("config", &self.config).field("read", &self.read).finish()
    }
}

fn kafka_error(what: &str, e: impl fmt::Display) -> FaucetError {
    FaucetError::source(format!("kafka: {what}: {e}"))
}

impl KafkaSource {
    /// A source for `config`; the consumer is created by `resume` (or the first page).
    pub fn new(config: KafkaSourceConfig) -> Self {
        KafkaSource {
            config,
            consumer: None,
            positions: Positions::new(),
            floor: Positions::new(),
            pending: None,
            read: 0,
            done: false,
        }
    }

    fn connect(&mut self) -> Result<()> {
        let c = &self.config;
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &c.brokers)
            .set("group.id", &c.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set(
                "auto.offset.reset",
                match c.auto_offset_reset {
                    OffsetReset::Earliest => "earliest",
                    OffsetReset::Latest => "latest",
                },
            );
        for (k, v) in &c.extra_client_config {
            client.set(k, v);
        }
        for (k, v) in auth_settings(&c.auth) {
            client.set(k, v);
        }
        let consumer: StreamConsumer =
            client.create().map_err(|e| kafka_error("creating the consumer", e))?;
        let topics: Vec<&str> = c.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics).map_err(|e| kafka_error("subscribing", e))?;
        self.consumer = Some(consumer);
        Ok(())
    }

    /// Commits `positions` synchronously, for the partitions this consumer
    /// owns now: after a rebalance, a partition another member took over is
    /// that member's to commit (committing ours could move it backwards).
    fn commit(&self, positions: &Positions) -> Result<()> {
        let Some(consumer) = &self.consumer else { return Ok(()) };
        if positions.is_empty() {
            return Ok(());
        }
        let owned = consumer.assignment().map_err(|e| kafka_error("reading the assignment", e))?;
        let owned: std::collections::HashSet<(String, i32)> =
            owned.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect();
        let mut list = TopicPartitionList::new();
        for ((topic, partition), offset) in positions {
            if owned.contains(&(topic.clone(), *partition)) {
                list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
                    .map_err(|e| kafka_error("building the commit", e))?;
            }
        }
        if list.count() == 0 {
            return Ok(());
        }
        consumer.commit(&list, CommitMode::Sync).map_err(|e| kafka_error("committing offsets", e))
    }

    fn bookmark(&self) -> Value {
        let offsets: Vec<Value> = self
            .positions
            .iter()
            .map(|((topic, partition), offset)| json!({"topic": topic, "partition": partition, "offset": offset}))
            .collect();
        json!({ "partition_offsets": offsets })
    }
}

/// Turns one message into a record on `page`, or handles it per `on_decode_error`.
fn take(config: &KafkaSourceConfig, message: &BorrowedMessage<'_>, page: &mut Page) -> Result<()> {
    let (topic, partition, offset) = (message.topic(), message.partition(), message.offset());
    let value = match (message.payload(), config.value_format) {
        (None, _) => Ok(Value::Null),
        (Some([]), ValueFormat::Json) => Ok(Value::Null),
        (Some(bytes), ValueFormat::Json) => {
            serde_json::from_slice::<Value>(bytes).map_err(|e| format!("invalid JSON value: {e}"))
        }
        (Some(bytes), ValueFormat::RawString) => std::str::from_utf8(bytes)
            .map(|s| Value::String(s.to_owned()))
            .map_err(|_| "value is not UTF-8".to_owned()),
    };
    let key = message.key().map(|k| Value::String(String::from_utf8_lossy(k).into_owned()));
    let value = match value {
        Ok(value) => value,
        Err(what) => {
            let error = FaucetError::parse(format!("{topic}[{partition}]@{offset}: {what}"));
            return match config.on_decode_error {
                OnDecodeError::Fail => Err(error),
                OnDecodeError::Skip => {
                    tracing::warn!(topic, partition, offset, error = %what, "skipping an undecodable message");
                    page.skipped += 1;
                    Ok(())
                }
                OnDecodeError::Dlq => {
                    let raw = message.payload().map(String::from_utf8_lossy).unwrap_or_default();
                    let payload = json!({"topic": topic, "partition": partition, "offset": offset, "key": key, "raw": raw});
                    page.rejects.push(Rejected { payload, error });
                    Ok(())
                }
            };
        }
    };
    let mut headers = Map::new();
    if let Some(list) = message.headers() {
        for header in list.iter() {
            let v = header.value.map(|v| Value::String(String::from_utf8_lossy(v).into_owned()));
            headers.insert(header.key.to_owned(), v.unwrap_or(Value::Null));
        }
    }
    page.records.push(json!({
        "key": key,
        "value": value,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": message.timestamp().to_millis(),
        "headers": headers,
    }));
    Ok(())
}

fn parse_bookmark(bookmark: &Value) -> Result<Positions> {
    let invalid = || FaucetError::state(format!("invalid kafka bookmark {bookmark}"));
    let list = bookmark.get("partition_offsets").and_then(Value::as_array).ok_or_else(invalid)?;
    let mut positions = Positions::new();
    for entry in list {
        let topic = entry.get("topic").and_then(Value::as_str).ok_or_else(invalid)?;
        let partition = entry.get("partition").and_then(Value::as_i64).ok_or_else(invalid)?;
        let offset = entry.get("offset").and_then(Value::as_i64).ok_or_else(invalid)?;
        positions.insert((topic.to_owned(), partition as i32), offset);
    }
    Ok(positions)
}

crate::typed_source::decoded_into_typed!(KafkaSource);

impl Source for KafkaSource {
    type Record = serde_json::Value;

    const CONFIRMS_UPSTREAM: bool = true;
    // A page holds what had arrived when it was polled: a rerun after a crash
    // may cut its pages differently, so a commit token must not skip one.
    const REPLAYS_PAGES: bool = false;

    fn connector_name(&self) -> &'static str {
        "kafka"
    }

    async fn resume(&mut self, bookmark: Option<Value>) -> Result<()> {
        self.connect()?;
        if let Some(bookmark) = bookmark {
            let positions = parse_bookmark(&bookmark)?;
            // The bookmark was persisted, so its offsets are confirmed, but
            // the crash may have come before they were committed: skip what
            // lies below them, and commit them with this run's first
            // confirmed page (or at its end), once the consumer is in its group.
            self.floor = positions.clone();
            self.positions = positions;
        }
        Ok(())
    }

    async fn next_page(&mut self) -> Result<Option<Page>> {
        if self.consumer.is_none() {
            self.connect()?;
        }
        // The previous page's bookmark is persisted now: commit its offsets.
        if let Some(confirmed) = self.pending.take() {
            self.commit(&confirmed)?;
        }
        if self.done {
            return Ok(None);
        }
        let page = self.fill().await?;
        if page.is_none() && self.read == 0 && !self.floor.is_empty() {
            // Nothing new since the resumed bookmark: commit it now, best
            // effort (the consumer may never have joined its group).
            if let Err(e) = self.commit(&self.floor) {
                tracing::warn!(error = %e, "could not commit the resumed bookmark's offsets");
            }
        }
        Ok(page)
    }
}

impl KafkaSource {
    /// Reads the next page (committing nothing).
    async fn fill(&mut self) -> Result<Option<Page>> {
        let batch_size = self.config.batch_size.max(1);
        let mut page = Page::default();
        let mut taken = 0usize;
        let mut last_message = Instant::now();
        let mut first_in_page: Option<Instant> = None;
        loop {
            if self.config.max_messages.is_some_and(|max| self.read >= max) {
                self.done = true;
                break;
            }
            if taken >= batch_size {
                break;
            }
            // Wait for the page's poll window, or, on an empty page, up to the idle timeout.
            let wait = match (first_in_page, self.config.idle_timeout) {
                (Some(first), _) => self.config.poll_timeout.saturating_sub(first.elapsed()),
                (None, Some(idle)) => idle.saturating_sub(last_message.elapsed()),
                (None, None) => self.config.poll_timeout,
            };
            if first_in_page.is_some() && wait.is_zero() {
                break;
            }
            if first_in_page.is_none() && self.config.idle_timeout.is_some() && wait.is_zero() {
                self.done = true;
                break;
            }
            let received = {
                let consumer = self.consumer.as_ref().expect("connected above");
                match tokio::time::timeout(wait, consumer.recv()).await {
                    Err(_) => continue,
                    Ok(Err(e)) => return Err(kafka_error("receiving", e)),
                    Ok(Ok(message)) => {
                        let key = (message.topic().to_owned(), message.partition());
                        let offset = message.offset();
                        // Below the floor: confirmed before a crash whose commit did not happen.
                        let fresh = self.floor.get(&key).is_none_or(|&floor| offset >= floor);
                        if fresh {
                            take(&self.config, &message, &mut page)?;
                        }
                        (key, offset, fresh)
                    }
                }
            };
            last_message = Instant::now();
            let (key, offset, fresh) = received;
            if fresh {
                first_in_page.get_or_insert_with(Instant::now);
                self.positions.insert(key, offset + 1);
                self.read += 1;
                taken += 1;
            }
        }
        if taken == 0 {
            return Ok(None);
        }
        page.bookmark = Some(self.bookmark());
        self.pending = Some(self.positions.clone());
        Ok(Some(page))
    }
}

/// Produces records as JSON messages; a batch is confirmed when every delivery report is in.
pub struct KafkaSink {
    config: KafkaSinkConfig,
    producer: Option<FutureProducer>,
}

impl fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSink").field("config", &self.config).finish_non_exhaustive()
    }
}

fn at_path<'a>(record: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(record, |v, key| v.get(key))
}

impl KafkaSink {
    /// A sink for `config`; the producer is created by [`Sink::open`].
    pub fn new(config: KafkaSinkConfig) -> Self {
        KafkaSink { config, producer: None }
    }
}

impl Sink for KafkaSink {
    fn connector_name(&self) -> &'static str {
        "kafka"
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        let c = &self.config;
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &c.brokers)
            .set(
                "acks",
                match c.acks {
                    Acks::None => "0",
                    Acks::Leader => "1",
                    Acks::All => "all",
                },
            )
            .set("enable.idempotence", if c.idempotent { "true" } else { "false" })
            .set("linger.ms", c.linger.as_millis().to_string())
            .set("compression.type", compression_type(c.compression))
            .set("message.timeout.ms", c.message_timeout.as_millis().to_string());
        for (k, v) in &c.extra_client_config {
            client.set(k, v);
        }
        for (k, v) in auth_settings(&c.auth) {
            client.set(k, v);
        }
        let producer =
            client.create().map_err(|e| FaucetError::sink(format!("kafka: creating the producer: {e}")))?;
        self.producer = Some(producer);
        Ok(())
    }

    async fn flush(&mut self) -> Result<Option<Value>> {
        if let Some(producer) = &self.producer {
            producer
                .flush(self.config.message_timeout)
                .map_err(|e| FaucetError::sink(format!("kafka: flushing the producer: {e}")))?;
        }
        Ok(None)
    }
}

impl<R: crate::RecordType> Writes<R> for KafkaSink {
    async fn write_batch(&mut self, batch: &[R], _token: CommitToken) -> Result<WriteOutcome> {
        let batch = &*crate::record::json_batch(batch);
        let producer = self
            .producer
            .as_ref()
            .ok_or_else(|| FaucetError::sink("the kafka sink was written to before it was opened"))?;
        let mut failures = Vec::new();
        let mut pending: std::collections::VecDeque<(usize, DeliveryFuture)> =
            std::collections::VecDeque::with_capacity(batch.len());
        for (index, record) in batch.iter().enumerate() {
            let topic = match &self.config.topic {
                KafkaTopic::Fixed(topic) => topic.as_str(),
                KafkaTopic::FromPath(path) => match at_path(record, path).and_then(Value::as_str) {
                    Some(topic) if !topic.is_empty() => topic,
                    _ => {
                        let error = FaucetError::sink(format!("no topic string at `{}`", path.join(".")));
                        failures.push(RowFailure { index, error });
                        continue;
                    }
                },
            };
            let key = self.config.key_path.as_ref().and_then(|p| at_path(record, p)).map(|k| match k {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let payload = record.to_string();
            let mut message = FutureRecord::to(topic).payload(&payload);
            if let Some(key) = &key {
                message = message.key(key);
            }
            // A full local queue: wait for the oldest delivery, then retry.
            loop {
                match producer.send_result(message) {
                    Ok(delivery) => {
                        pending.push_back((index, delivery));
                        break;
                    }
                    Err((
                        rdkafka::error::KafkaError::MessageProduction(
                            rdkafka::types::RDKafkaErrorCode::QueueFull,
                        ),
                        back,
                    )) if !pending.is_empty() => {
                        message = back;
                        let (i, oldest) = pending.pop_front().expect("not empty");
                        if let Some(error) = delivered(oldest).await {
                            failures.push(RowFailure { index: i, error });
                        }
                    }
                    Err((e, _)) => {
                        failures.push(RowFailure {
                            index,
                            error: FaucetError::sink(format!("kafka: producing to `{topic}`: {e}")),
                        });
                        break;
                    }
                }
            }
        }
        for (index, delivery) in pending {
            if let Some(error) = delivered(delivery).await {
                failures.push(RowFailure { index, error });
            }
        }
        failures.sort_by_key(|f| f.index);
        let written = (batch.len() - failures.len()) as u64;
        Ok(WriteOutcome { written, failures, already_committed: false })
    }
}

/// librdkafka's `compression.type` value.
fn compression_type(c: Compression) -> &'static str {
    match c {
        Compression::None => "none",
        Compression::Gzip => "gzip",
        Compression::Snappy => "snappy",
        Compression::Lz4 => "lz4",
    }
}

/// librdkafka's name of a SASL mechanism.
fn mechanism_name(m: SaslMechanism) -> &'static str {
    match m {
        SaslMechanism::Plain => "PLAIN",
        SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
        SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
    }
}

/// The librdkafka settings `auth` maps to, in the order they are set:
/// `security.protocol`, then the SASL settings, then the TLS ones (none for
/// [`KafkaAuth::None`]).
fn auth_settings(auth: &KafkaAuth) -> Vec<(&'static str, &str)> {
    fn sasl<'a>(
        out: &mut Vec<(&'static str, &'a str)>,
        mechanism: SaslMechanism,
        user: &'a str,
        password: &'a str,
    ) {
        out.push(("sasl.mechanisms", mechanism_name(mechanism)));
        out.push(("sasl.username", user));
        out.push(("sasl.password", password));
    }
    fn ssl<'a>(out: &mut Vec<(&'static str, &'a str)>, ssl: &'a Ssl) {
        let settings = [
            ("ssl.ca.location", ssl.ca_path.as_deref()),
            ("ssl.certificate.location", ssl.cert_path.as_deref()),
            ("ssl.key.location", ssl.key_path.as_deref()),
            ("ssl.key.password", ssl.key_password.as_ref().map(|p| p.expose())),
        ];
        out.extend(settings.into_iter().filter_map(|(k, v)| Some((k, v?))));
    }
    let mut out = Vec::new();
    match auth {
        KafkaAuth::None => {}
        KafkaAuth::SaslPlain(c) => {
            out.push(("security.protocol", "sasl_plaintext"));
            sasl(&mut out, SaslMechanism::Plain, &c.username, c.password.expose());
        }
        KafkaAuth::SaslScram(c) => {
            out.push(("security.protocol", "sasl_plaintext"));
            sasl(&mut out, c.mechanism, &c.username, c.password.expose());
        }
        KafkaAuth::Ssl(c) => {
            out.push(("security.protocol", "ssl"));
            ssl(&mut out, c);
        }
        KafkaAuth::SaslSsl(c) => {
            out.push(("security.protocol", "sasl_ssl"));
            sasl(&mut out, c.sasl.mechanism, &c.sasl.username, c.sasl.password.expose());
            if let Some(tls) = &c.ssl {
                ssl(&mut out, tls);
            }
        }
    }
    out
}

/// Waits for one delivery report: `None` when delivered, else the failure.
async fn delivered(delivery: DeliveryFuture) -> Option<FaucetError> {
    match delivery.await {
        Ok(Ok(_)) => None,
        Ok(Err((e, _))) => Some(FaucetError::sink(format!("kafka: delivery failed: {e}"))),
        Err(_) => Some(FaucetError::sink("kafka: the producer dropped the delivery report")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use rdkafka::mocking::MockCluster;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::state::MemoryStore;
    use crate::{ErrorKind, Pipeline};

    /// Fails the test process if a test hangs (librdkafka's destroy can).
    struct Watchdog(Arc<AtomicBool>);

    impl Watchdog {
        fn arm(name: &'static str, secs: u64) -> Watchdog {
            let done = Arc::new(AtomicBool::new(false));
            let flag = done.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(secs));
                if !flag.load(Ordering::SeqCst) {
                    eprintln!("{name}: still running after {secs} s (a librdkafka hang?)");
                    std::process::exit(101);
                }
            });
            Watchdog(done)
        }
    }

    impl Drop for Watchdog {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A sink keeping rows in memory, truncated back to its checkpoint on open
    /// (like a file sink); it cancels the run after `cancel_after` flushes.
    struct VecSink {
        rows: Arc<Mutex<Vec<Value>>>,
        flushes: usize,
        cancel_after: Option<(usize, CancellationToken)>,
    }

    impl Sink for VecSink {
        fn connector_name(&self) -> &'static str {
            "vec"
        }
        fn batch_size(&self) -> usize {
            100
        }
        async fn open(&mut self, ctx: OpenContext<'_>) -> Result<()> {
            let keep = ctx.checkpoint.and_then(|c| c["len"].as_u64()).unwrap_or(0) as usize;
            self.rows.lock().unwrap().truncate(keep);
            Ok(())
        }
        async fn flush(&mut self) -> Result<Option<Value>> {
            self.flushes += 1;
            if let Some((after, cancel)) = &self.cancel_after
                && self.flushes >= *after
            {
                cancel.cancel();
            }
            Ok(Some(json!({"len": self.rows.lock().unwrap().len()})))
        }
    }

    impl Writes for VecSink {
        async fn write_batch(
            &mut self,
            batch: &[serde_json::Value],
            _token: CommitToken,
        ) -> Result<WriteOutcome> {
            self.rows.lock().unwrap().extend(batch.iter().cloned());
            Ok(WriteOutcome { written: batch.len() as u64, ..WriteOutcome::default() })
        }
    }

    async fn produce(brokers: &str, topic: &str, records: &[Value]) {
        let mut config = KafkaSinkConfig::new(brokers, KafkaTopic::Fixed(topic.into()));
        config.key_path = Some(vec!["id".into()]);
        let mut sink = KafkaSink::new(config);
        sink.open(OpenContext { scope: "seed", checkpoint: None }).await.unwrap();
        let outcome = sink.write_batch(records, CommitToken { seq: 1, part: 0 }).await.unwrap();
        assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
        assert_eq!(outcome.written, records.len() as u64);
        sink.flush().await.unwrap();
    }

    fn source(brokers: &str, topic: &str, group: &str, batch_size: usize) -> KafkaSource {
        let mut config = KafkaSourceConfig::new(brokers, vec![topic.into()], group);
        config.auto_offset_reset = OffsetReset::Earliest;
        config.batch_size = batch_size;
        config.poll_timeout = Duration::from_millis(300);
        config.idle_timeout = Some(Duration::from_secs(6));
        // The mock cluster keeps a closed consumer in its group until its
        // session times out, and the rerun's join waits for that.
        config.extra_client_config = vec![
            ("session.timeout.ms".into(), "6000".into()),
            ("heartbeat.interval.ms".into(), "500".into()),
        ];
        KafkaSource::new(config)
    }

    fn committed(brokers: &str, topic: &str, group: &str, partitions: i32) -> Vec<Offset> {
        let consumer: StreamConsumer =
            ClientConfig::new().set("bootstrap.servers", brokers).set("group.id", group).create().unwrap();
        let mut list = TopicPartitionList::new();
        for p in 0..partitions {
            list.add_partition(topic, p);
        }
        let got = consumer.committed_offsets(list, Duration::from_secs(10)).unwrap();
        got.elements().iter().map(|e| e.offset()).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn round_trip_records_keys_and_offsets() {
        let _watchdog = Watchdog::arm("round_trip", 90);
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("rt", 3, 1).unwrap();
        let brokers = cluster.bootstrap_servers();
        let rows: Vec<Value> = (0..300).map(|i| json!({"id": i, "name": format!("n{i}")})).collect();
        produce(&brokers, "rt", &rows).await;

        let mut source = source(&brokers, "rt", "g-rt", 128);
        source.resume(None).await.unwrap();
        let mut got = Vec::new();
        let mut pages = 0;
        while let Some(page) = source.next_page().await.unwrap() {
            assert!(page.records.len() <= 128);
            pages += 1;
            got.extend(page.records);
        }
        assert!(pages >= 3);
        assert_eq!(got.len(), 300);
        let mut values: Vec<Value> = got.iter().map(|r| r["value"].clone()).collect();
        values.sort_by_key(|v| v["id"].as_i64());
        assert_eq!(values, rows);
        for r in &got {
            assert_eq!(r["key"], json!(r["value"]["id"].to_string()));
            assert_eq!(r["topic"], json!("rt"));
            assert!(r["partition"].as_i64().is_some_and(|p| (0..3).contains(&p)));
            assert!(r["offset"].is_i64() && r["timestamp"].is_i64() && r["headers"].is_object());
        }
        // The end of the run committed everything read.
        let offsets = committed(&brokers, "rt", "g-rt", 3);
        let total: i64 = offsets.iter().map(|o| o.to_raw().unwrap_or(0)).sum();
        assert_eq!(total, 300);
        drop(source);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn offsets_are_committed_only_after_the_bookmark_and_a_crash_loses_nothing() {
        let _watchdog = Watchdog::arm("commit_after_persist", 120);
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("cap", 1, 1).unwrap();
        let brokers = cluster.bootstrap_servers();
        let rows: Vec<Value> = (0..30).map(|i| json!({"id": i})).collect();
        produce(&brokers, "cap", &rows).await;

        let state = Arc::new(MemoryStore::new());
        let out = Arc::new(Mutex::new(Vec::new()));
        // Run 1 stops right after page 1's bookmark is persisted: the process
        // "dies" before the source is asked for page 2, so before any commit.
        let cancel = CancellationToken::new();
        let sink = VecSink { rows: out.clone(), flushes: 0, cancel_after: Some((1, cancel.clone())) };
        let report = Pipeline::new(source(&brokers, "cap", "g-cap", 10), sink)
            .with_name("cap")
            .with_state(state.clone())
            .with_cancel(cancel)
            .run()
            .await
            .unwrap();
        assert!(report.cancelled);
        assert_eq!(out.lock().unwrap().len(), 10);
        assert_eq!(committed(&brokers, "cap", "g-cap", 1), [Offset::Invalid]);

        // The rerun resumes from the bookmark: all 30 rows, each once.
        let sink = VecSink { rows: out.clone(), flushes: 0, cancel_after: None };
        let started = Instant::now();
        let mut rerun = source(&brokers, "cap", "g-cap", 10);
        rerun.config.idle_timeout = Some(Duration::from_secs(8));
        let report =
            Pipeline::new(rerun, sink).with_name("cap").with_state(state.clone()).run().await.unwrap();
        eprintln!("rerun took {:?}: {report}", started.elapsed());
        assert_eq!(report.records_written, 20);
        let mut ids: Vec<i64> =
            out.lock().unwrap().iter().map(|r| r["value"]["id"].as_i64().unwrap()).collect();
        ids.sort();
        assert_eq!(ids, (0..30).collect::<Vec<_>>());
        assert_eq!(committed(&brokers, "cap", "g-cap", 1), [Offset::Offset(30)]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn delivery_failures_are_row_failures() {
        let _watchdog = Watchdog::arm("delivery_failures", 60);
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("small", 1, 1).unwrap();
        let brokers = cluster.bootstrap_servers();
        let mut config =
            KafkaSinkConfig::new(&brokers, KafkaTopic::FromPath(vec!["meta".into(), "topic".into()]));
        config.extra_client_config = vec![("message.max.bytes".into(), "1000".into())];
        let mut sink = KafkaSink::new(config);
        sink.open(OpenContext { scope: "s", checkpoint: None }).await.unwrap();
        let batch = vec![
            json!({"meta": {"topic": "small"}, "id": 1}),
            json!({"meta": {}, "id": 2}),
            json!({"meta": {"topic": "small"}, "pad": "x".repeat(5000)}),
            json!({"meta": {"topic": "small"}, "id": 4}),
        ];
        let outcome = sink.write_batch(&batch, CommitToken { seq: 1, part: 0 }).await.unwrap();
        assert_eq!(outcome.written, 2);
        let failed: Vec<usize> = outcome.failures.iter().map(|f| f.index).collect();
        assert_eq!(failed, [1, 2]);
        assert!(outcome.failures[0].error.message().contains("no topic string at `meta.topic`"));
        assert_eq!(outcome.failures[1].error.kind(), ErrorKind::Sink);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn undecodable_values_per_policy() {
        let _watchdog = Watchdog::arm("decode", 90);
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("raw", 1, 1).unwrap();
        let brokers = cluster.bootstrap_servers();
        let producer: FutureProducer =
            ClientConfig::new().set("bootstrap.servers", &brokers).create().unwrap();
        for payload in ["{\"a\":1}", "not json", "{\"a\":3}"] {
            producer
                .send(FutureRecord::<(), _>::to("raw").payload(payload), Duration::from_secs(5))
                .await
                .unwrap();
        }
        for (group, policy) in
            [("g-skip", OnDecodeError::Skip), ("g-dlq", OnDecodeError::Dlq), ("g-fail", OnDecodeError::Fail)]
        {
            let mut source = source(&brokers, "raw", group, 10);
            source.config.on_decode_error = policy;
            source.config.idle_timeout = Some(Duration::from_secs(5));
            source.resume(None).await.unwrap();
            let mut pages = Vec::new();
            let result = loop {
                match source.next_page().await {
                    Ok(Some(page)) => pages.push(page),
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            let values: Vec<Value> =
                pages.iter().flat_map(|p| p.records.iter().map(|r| r["value"].clone())).collect();
            match policy {
                OnDecodeError::Skip => {
                    result.unwrap();
                    assert_eq!(values, [json!({"a": 1}), json!({"a": 3})]);
                    assert_eq!(pages.iter().map(|p| p.skipped).sum::<u64>(), 1);
                }
                OnDecodeError::Dlq => {
                    result.unwrap();
                    assert_eq!(values.len(), 2);
                    let reject = &pages[0].rejects[0];
                    assert_eq!(reject.payload["raw"], json!("not json"));
                    assert_eq!(reject.payload["offset"], json!(1));
                    assert!(reject.error.message().starts_with("raw[0]@1: invalid JSON"));
                }
                OnDecodeError::Fail => {
                    let error = result.unwrap_err();
                    assert_eq!(error.kind(), ErrorKind::Parse);
                    assert!(error.message().starts_with("raw[0]@1: invalid JSON"), "{}", error.message());
                }
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_consumers_share_a_group_through_a_rebalance_and_lose_nothing() {
        let _watchdog = Watchdog::arm("group_sharing", 120);
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("shared", 4, 1).unwrap();
        let brokers = cluster.bootstrap_servers();
        let first: Vec<Value> = (0..200).map(|i| json!({"id": i})).collect();
        let second: Vec<Value> = (200..400).map(|i| json!({"id": i})).collect();
        produce(&brokers, "shared", &first).await;

        // Each consumer is driven as the driver would: a page is "confirmed"
        // (kept) before the next one is asked for.
        let consume = |brokers: String| async move {
            let mut source = source(&brokers, "shared", "g-shared", 25);
            // Long enough that a member still waiting for its share of a slow
            // rebalance (a loaded CI machine) does not give up first.
            source.config.idle_timeout = Some(Duration::from_secs(20));
            source.resume(None).await.unwrap();
            let mut got = Vec::new();
            while let Some(page) = source.next_page().await.unwrap() {
                got.extend(page.records.into_iter().map(|r| r["value"]["id"].as_i64().unwrap()));
            }
            got
        };
        let a = tokio::spawn(consume(brokers.clone()));
        tokio::time::sleep(Duration::from_secs(4)).await;
        // The second member joins: a rebalance splits the partitions.
        let b = tokio::spawn(consume(brokers.clone()));
        tokio::time::sleep(Duration::from_secs(10)).await;
        produce(&brokers, "shared", &second).await;
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(!b.is_empty(), "the second member got no partition");
        let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
        all.sort();
        all.dedup();
        assert_eq!(all, (0..400).collect::<Vec<_>>(), "a message was lost");
        let offsets = committed(&brokers, "shared", "g-shared", 4);
        let total: i64 = offsets.iter().map(|o| o.to_raw().unwrap_or(0)).sum();
        assert_eq!(total, 400, "{offsets:?}");
    }

    #[test]
    fn debug_hides_client_config_values() {
        let mut config = KafkaSourceConfig::new("b:9092", vec!["t".into()], "g");
        config.extra_client_config = vec![("sasl.password".into(), "hunter2".into())];
        let shown = format!("{config:?}");
        assert!(shown.contains("sasl.password=***") && !shown.contains("hunter2"), "{shown}");
        let mut sink = KafkaSinkConfig::new("b:9092", KafkaTopic::Fixed("t".into()));
        sink.extra_client_config = vec![("sasl.password".into(), "hunter2".into())];
        assert!(!format!("{sink:?}").contains("hunter2"));
    }

    fn secret(s: &str) -> crate::secret::SecretString {
        crate::secret::SecretString::new(s.to_owned())
    }

    /// `auth: {type: sasl_plain, config: {username: faucet, password: …}}`.
    fn sasl_plain() -> KafkaAuth {
        KafkaAuth::SaslPlain(SaslPlain { username: "faucet".into(), password: secret("hunter2") })
    }

    #[test]
    fn auth_maps_to_librdkafka_settings_in_order() {
        let got = |auth: &KafkaAuth| -> Vec<(String, String)> {
            auth_settings(auth).into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
        };
        let pairs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        assert!(got(&KafkaAuth::None).is_empty());
        assert_eq!(
            got(&sasl_plain()),
            pairs(&[
                ("security.protocol", "sasl_plaintext"),
                ("sasl.mechanisms", "PLAIN"),
                ("sasl.username", "faucet"),
                ("sasl.password", "hunter2"),
            ])
        );
        let scram =
            Sasl { mechanism: SaslMechanism::ScramSha512, username: "u".into(), password: secret("p") };
        assert_eq!(
            got(&KafkaAuth::SaslScram(scram.clone())),
            pairs(&[
                ("security.protocol", "sasl_plaintext"),
                ("sasl.mechanisms", "SCRAM-SHA-512"),
                ("sasl.username", "u"),
                ("sasl.password", "p"),
            ])
        );
        let tls = Ssl {
            ca_path: Some("/ca.pem".into()),
            cert_path: None,
            key_path: Some("/k.pem".into()),
            key_password: Some(secret("kp")),
        };
        assert_eq!(
            got(&KafkaAuth::Ssl(tls.clone())),
            pairs(&[
                ("security.protocol", "ssl"),
                ("ssl.ca.location", "/ca.pem"),
                ("ssl.key.location", "/k.pem"),
                ("ssl.key.password", "kp"),
            ])
        );
        assert_eq!(
            got(&KafkaAuth::SaslSsl(SaslSsl { sasl: scram.clone(), ssl: Some(tls) })),
            pairs(&[
                ("security.protocol", "sasl_ssl"),
                ("sasl.mechanisms", "SCRAM-SHA-512"),
                ("sasl.username", "u"),
                ("sasl.password", "p"),
                ("ssl.ca.location", "/ca.pem"),
                ("ssl.key.location", "/k.pem"),
                ("ssl.key.password", "kp"),
            ])
        );
        assert_eq!(got(&KafkaAuth::SaslSsl(SaslSsl { sasl: scram, ssl: None })).len(), 4);
    }

    #[test]
    fn debug_hides_auth_passwords() {
        let mut config = KafkaSinkConfig::new("b:9092", KafkaTopic::Fixed("t".into()));
        config.auth = sasl_plain();
        let shown = format!("{config:?}");
        assert!(shown.contains("faucet") && !shown.contains("hunter2"), "{shown}");
    }

    #[tokio::test]
    async fn auth_settings_reach_librdkafka_and_secrets_stay_out_of_errors() {
        let _watchdog = Watchdog::arm("auth_settings", 60);
        // The mock cluster does not speak SASL: this checks that librdkafka
        // accepts every setting `auth` maps to when it builds the clients.
        let cluster = MockCluster::new(1).unwrap();
        let brokers = cluster.bootstrap_servers();
        let mut config = KafkaSinkConfig::new(&brokers, KafkaTopic::Fixed("t".into()));
        config.auth = sasl_plain();
        let mut sink = KafkaSink::new(config.clone());
        sink.open(OpenContext { scope: "auth", checkpoint: None }).await.unwrap();
        assert!(!format!("{sink:?}").contains("hunter2"));
        drop(sink);

        // TLS needs librdkafka built with OpenSSL (the `kafka-tls` feature):
        // without it the client is refused, naming the setting but not the password.
        config.auth = KafkaAuth::SaslSsl(SaslSsl {
            sasl: Sasl {
                mechanism: SaslMechanism::Plain,
                username: "faucet".into(),
                password: secret("hunter2"),
            },
            ssl: None,
        });
        let outcome = KafkaSink::new(config).open(OpenContext { scope: "auth", checkpoint: None }).await;
        #[cfg(not(feature = "kafka-tls"))]
        {
            let error = outcome.unwrap_err();
            assert!(error.message().contains("security.protocol"), "{}", error.message());
            assert!(!error.message().contains("hunter2"), "{}", error.message());
        }
        #[cfg(feature = "kafka-tls")]
        outcome.unwrap();
    }
}

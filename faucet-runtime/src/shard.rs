//! Shards: one pipeline's source split into `count` disjoint parts, each run
//! as its own invocation with its own bookmark and commit-token scope, in one
//! process or one per process (the pods of a Kubernetes Indexed Job).
//!
//! How records are divided is a [`Plan`]:
//! - **ranges** of an integer key column (the SQL sources' `shard: {key}`):
//!   shard 0 has no lower bound, the last shard no upper bound and also takes
//!   every row whose key is NULL, so each row is in exactly one shard;
//! - a **hash** of each file's or object's key (the file and object-store
//!   sources): shard `fnv1a64(key) % count`.
//!
//! A range plan's cut points come from the data (one `MIN`/`MAX` probe), so
//! they are computed once and stored under `{pipeline}::{row}::shards` with
//! [`StateStore::put_if_absent`](crate::StateStore::put_if_absent): every
//! process, and every rerun, uses the plan stored first, and rows inserted
//! later never move between shards. A run whose `shard.count` differs from
//! the stored plan's is refused: it would read some rows twice and others
//! never.
//!
//! Which shards a run executes: [`RunOptions::shard`](crate::RunOptions::shard) (the generated
//! `main`'s `--shard I`), else the `JOB_COMPLETION_INDEX` environment variable
//! Kubernetes sets in an Indexed Job's pods, else all of them.

use std::future::Future;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::error::{FaucetError, Result};
use crate::source::Source;

/// The most shards a pipeline splits into (faucet-stream's bound).
pub const MAX_SHARDS: u32 = 4096;

/// The environment variable Kubernetes sets to a pod's index in an Indexed Job.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// What a `${shard.…}` reference renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardValue {
    /// `${shard.index}`: the shard's number, `0` to `count - 1`.
    Index,
    /// `${shard.count}`: how many shards there are.
    Count,
}

impl std::fmt::Display for ShardValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ShardValue::Index => "index",
            ShardValue::Count => "count",
        })
    }
}

tokio::task_local! {
    /// The shard whose pipeline is being built or run on this task.
    static RUN_SHARD: ShardId;
}

/// Runs `run` (building and running one shard's pipeline) with `shard` as
/// the value of its `${shard.…}` references.
pub async fn scope<F: Future>(shard: ShardId, run: F) -> F::Output {
    RUN_SHARD.scope(shard, run).await
}

/// The text of a `${shard.…}` reference in the shard being run.
pub(crate) fn render(value: ShardValue) -> Result<String> {
    let shard = RUN_SHARD.try_with(|s| *s).map_err(|_| {
        FaucetError::config(format!(
            "`${{shard.{value}}}` has a value only while a shard of a sharded pipeline runs"
        ))
    })?;
    Ok(match value {
        ShardValue::Index => shard.index.to_string(),
        ShardValue::Count => shard.count.to_string(),
    })
}

/// One shard: `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardId {
    /// Which shard, `0..count`.
    pub index: u32,
    /// How many shards the source is split into.
    pub count: u32,
}

impl ShardId {
    /// The state-key segment of this shard's bookmark (`shard-3`).
    pub fn key_suffix(&self) -> String {
        format!("shard-{}", self.index)
    }

    /// True when this shard owns the file or object named `key` (a hash plan).
    pub fn owns_object(&self, key: &str) -> bool {
        fnv1a64(key) % u64::from(self.count) == u64::from(self.index)
    }
}

/// The 64-bit FNV-1a hash of `key`: stable across processes, machines and
/// versions, so every process assigns an object to the same shard.
pub fn fnv1a64(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// How a source's records are divided among shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Ranges of the integer column `key`: shard `i` holds
    /// `cuts[i-1] <= key < cuts[i]`, where shard 0 has no lower bound and the
    /// last shard no upper bound (and holds the NULL keys). `cuts` has
    /// `count - 1` ascending entries; equal neighbours make an empty shard.
    Range {
        /// The key column, as configured.
        key: String,
        /// The cut points.
        cuts: Vec<i64>,
    },
    /// Each file or object goes to shard `fnv1a64(its key) % count`.
    Hash,
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Plan::Range { key, .. } => write!(f, "ranges of `{key}`"),
            Plan::Hash => f.write_str("a hash of each object's key"),
        }
    }
}

/// The rows one shard of a range plan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange {
    /// Inclusive lower bound; `None` for shard 0.
    pub lo: Option<i64>,
    /// Exclusive upper bound; `None` for the last shard.
    pub hi: Option<i64>,
    /// Whether rows whose key is NULL belong here (the last shard's).
    pub nulls: bool,
}

impl KeyRange {
    /// The SQL condition selecting this range of `column` (already quoted).
    /// The bounds are integers written as literals, so nothing from a record
    /// reaches the statement's text.
    pub fn condition(&self, column: &str) -> String {
        let mut bounds = Vec::new();
        if let Some(lo) = self.lo {
            bounds.push(format!("{column} >= {lo}"));
        }
        if let Some(hi) = self.hi {
            bounds.push(format!("{column} < {hi}"));
        }
        match (bounds.is_empty(), self.nulls) {
            (true, true) => "TRUE".to_owned(),
            (true, false) => format!("{column} IS NOT NULL"),
            (false, true) => format!("({} OR {column} IS NULL)", bounds.join(" AND ")),
            (false, false) => bounds.join(" AND "),
        }
    }
}

impl Plan {
    /// A range plan over `key` for `count` shards from the key's smallest and
    /// largest values (`None`: no row has a key yet). The cuts split
    /// `min..=max` into `count` parts as equal as integers allow; with fewer
    /// values than shards, some shards are empty.
    pub fn ranges(key: &str, bounds: Option<(i64, i64)>, count: u32) -> Plan {
        let (min, max) = bounds.unwrap_or((0, 0));
        let (min, max) = (i128::from(min), i128::from(max.max(min)));
        let width = max - min + 1;
        let n = i128::from(count.max(1));
        // `min + width * i / n` lies in `min..=max+1`, which fits an i64 but for
        // `max == i64::MAX`, where it is clamped (the last shard is unbounded anyway).
        let cuts = (1..n).map(|i| (min + width * i / n).min(i128::from(i64::MAX)) as i64).collect();
        Plan::Range { key: key.to_owned(), cuts }
    }

    /// The rows shard `index` of a range plan reads; `None` for a hash plan.
    pub fn range(&self, index: u32) -> Option<KeyRange> {
        let Plan::Range { cuts, .. } = self else { return None };
        let i = index as usize;
        Some(KeyRange {
            lo: i.checked_sub(1).and_then(|p| cuts.get(p).copied()),
            hi: cuts.get(i).copied(),
            nulls: i == cuts.len(),
        })
    }

    /// The plan as stored: `{"v":1,"count":N,"by":"range","key":…,"cuts":[…]}` or `{"v":1,"count":N,"by":"hash"}`.
    pub fn to_json(&self, count: u32) -> Value {
        match self {
            Plan::Range { key, cuts } => {
                json!({"v": 1, "count": count, "by": "range", "key": key, "cuts": cuts})
            }
            Plan::Hash => json!({"v": 1, "count": count, "by": "hash"}),
        }
    }

    /// Reads a stored plan and its shard count; `None` when it is not one.
    pub fn from_json(value: &Value) -> Option<(u32, Plan)> {
        let count = u32::try_from(value.get("count")?.as_u64()?).ok()?;
        let plan = match value.get("by")?.as_str()? {
            "range" => {
                let key = value.get("key")?.as_str()?.to_owned();
                let cuts: Option<Vec<i64>> =
                    value.get("cuts")?.as_array()?.iter().map(Value::as_i64).collect();
                let cuts = cuts?;
                if cuts.len() + 1 != count as usize || cuts.windows(2).any(|w| w[0] > w[1]) {
                    return None;
                }
                Plan::Range { key, cuts }
            }
            "hash" => Plan::Hash,
            _ => return None,
        };
        Some((count, plan))
    }
}

/// A source that can be split into shards.
pub trait Shardable: Source {
    /// The plan for `count` shards. A range source probes its key's bounds
    /// here; it is called once per run (by the first shard to start), and
    /// only when no plan is stored yet.
    fn plan(&mut self, count: u32) -> impl Future<Output = Result<Plan>> + Send;

    /// Narrows the source to `shard` of `plan`; called before
    /// [`Source::resume`]. Fails when `plan` is not one this source makes
    /// (a stored range plan over another column).
    fn narrow(&mut self, shard: ShardId, plan: &Plan) -> Result<()>;
}

/// The shards a run executes, sharing one plan.
#[derive(Debug, Clone)]
pub struct Shards {
    count: u32,
    /// The one shard this process runs, or `None` for all of them.
    only: Option<u32>,
    plan: Arc<OnceCell<Plan>>,
}

impl Shards {
    /// The shards of a pipeline split into `count`: `asked` (the run's
    /// [`RunOptions::shard`](crate::RunOptions::shard)), else the one
    /// [`INDEX_ENV`] names, else all of them.
    pub fn new(count: u32, asked: Option<u32>) -> Result<Shards> {
        let only = match asked {
            Some(index) => Some((index, "the shard asked for (--shard)")),
            None => match std::env::var(INDEX_ENV) {
                Ok(text) => {
                    let index = text.trim().parse::<u32>().map_err(|_| {
                        FaucetError::config(format!("{INDEX_ENV}={text:?} is not a shard index (0, 1, 2, …)"))
                    })?;
                    Some((index, INDEX_ENV))
                }
                Err(_) => None,
            },
        };
        if let Some((index, from)) = only
            && index >= count
        {
            return Err(FaucetError::config(format!(
                "{from} is {index}, but the pipeline has {count} shard(s) (`shard.count`), numbered 0 to {}; \
                 an Indexed Job's `completions` must equal `shard.count`",
                count - 1
            )));
        }
        Ok(Shards { count, only: only.map(|(index, _)| index), plan: Arc::default() })
    }

    /// Whether this process runs shard `index`.
    pub fn runs(&self, index: u32) -> bool {
        self.only.is_none_or(|only| only == index)
    }

    /// Each shard to run, in index order.
    pub fn each(&self) -> impl Iterator<Item = Shard> + '_ {
        let range = match self.only {
            Some(index) => index..index + 1,
            None => 0..self.count,
        };
        range.map(|index| Shard {
            id: ShardId { index, count: self.count },
            plan: self.plan.clone(),
            alone: self.only.is_some(),
        })
    }
}

/// Runs `run` for each shard of `shards`, each in a tokio task of its own,
/// so the shards of one process use every core the runtime has (a matrix's
/// invocations share their caller's task); `exec` bounds how many run at
/// once and records each. Every shard's `${now.…}` renders `clock` (default:
/// now). A shard's panic is resumed here once the others have ended.
pub async fn run_each<F, Fut>(
    shards: &Shards,
    exec: crate::matrix::Executor,
    clock: Option<crate::clock::Clock>,
    run: F,
) -> crate::MatrixReport
where
    F: Fn(Arc<crate::matrix::Executor>, Shard) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let exec = Arc::new(exec);
    let clock = clock.unwrap_or_else(crate::clock::Clock::now);
    let mut tasks = tokio::task::JoinSet::new();
    for shard in shards.each() {
        tasks.spawn(crate::clock::scope(Some(clock), run(exec.clone(), shard)));
    }
    let mut panicked = None;
    while let Some(ended) = tasks.join_next().await {
        if let Err(error) = ended
            && error.is_panic()
        {
            panicked.get_or_insert(error.into_panic());
        }
    }
    if let Some(payload) = panicked {
        std::panic::resume_unwind(payload);
    }
    match Arc::try_unwrap(exec) {
        Ok(exec) => exec.finish(),
        Err(_) => unreachable!("every shard's task has ended, and each held the only other handle"),
    }
}

/// Checks a run of a pipeline without `shard:` (`name`): asking for one of
/// its shards (`asked`, the run's [`RunOptions::shard`](crate::RunOptions::shard))
/// is an error, since its one run reads everything. Inside an Indexed Job's
/// pod ([`INDEX_ENV`] set) it warns: every pod runs the whole pipeline.
pub fn check_unsharded(name: &str, asked: Option<u32>) -> Result<()> {
    if let Some(index) = asked {
        return Err(FaucetError::config(format!(
            "shard {index} was asked for (--shard), but pipeline `{name}` has no `shard:`; \
             add `shard: {{count: N}}` to split its source, or run it without --shard"
        )));
    }
    if let Ok(index) = std::env::var(INDEX_ENV) {
        tracing::warn!(
            pipeline = name,
            "{INDEX_ENV}={index} is set, but the pipeline has no `shard:`: this process runs all of it, \
             as every pod of the Job does"
        );
    }
    Ok(())
}

/// One shard to run, with the plan its run shares with the others of this process.
#[derive(Debug, Clone)]
pub struct Shard {
    /// Which shard.
    pub id: ShardId,
    pub(crate) plan: Arc<OnceCell<Plan>>,
    /// True when this process runs this shard only: its siblings run
    /// elsewhere, and agree on the plan only through a shared state store.
    pub(crate) alone: bool,
}

/// The shard a source divided by [`Plan::Hash`] keeps, or why `plan` is not
/// one that `connector` makes.
pub(crate) fn hashed(connector: &str, shard: ShardId, plan: &Plan) -> Result<ShardId> {
    match plan {
        Plan::Hash => Ok(shard),
        other => Err(foreign_plan(connector, other)),
    }
}

/// The error of a source given a stored plan it does not make: the config
/// changed since the plan was stored.
pub(crate) fn foreign_plan(connector: &str, plan: &Plan) -> FaucetError {
    FaucetError::config(format!(
        "{connector}: the stored shard plan splits by {plan}, which this source does not; the config changed \
         since the plan was stored: start over with the program's `state reset --yes` to split the source anew"
    ))
}

/// Checks a stored plan against the run's: the same count, and a plan this
/// source can read. `key` names the state key, for the message.
pub(crate) fn check_stored(stored: &Value, count: u32, key: &str) -> Result<Plan> {
    let Some((stored_count, plan)) = Plan::from_json(stored) else {
        return Err(FaucetError::state(format!(
            "state key `{key}` does not hold a shard plan faucet can read ({stored}); \
             delete it with the program's `state reset` to split the source anew"
        )));
    };
    if stored_count != count {
        return Err(FaucetError::config(format!(
            "the state holds a plan for {stored_count} shard(s) under `{key}`, and this run asks for {count} \
             (`shard.count`): splitting the source differently would read some rows twice and others never. \
             Finish with `shard: {{count: {stored_count}}}`, or start over: the program's `state reset --yes` \
             deletes the plan and every shard's bookmark"
        )));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which shard of `plan` a key lands in; every key must land in exactly one.
    fn owner(plan: &Plan, count: u32, key: Option<i64>) -> u32 {
        let owners: Vec<u32> = (0..count)
            .filter(|&i| {
                let r = plan.range(i).unwrap();
                match key {
                    None => r.nulls,
                    Some(k) => r.lo.is_none_or(|lo| k >= lo) && r.hi.is_none_or(|hi| k < hi),
                }
            })
            .collect();
        assert_eq!(owners.len(), 1, "key {key:?} is in shards {owners:?} of {plan:?}");
        owners[0]
    }

    #[test]
    fn ranges_cover_every_key_once() {
        for (bounds, count) in [
            (Some((1, 1000)), 4),
            (Some((-50, 50)), 7),
            (Some((5, 5)), 3),
            (Some((1, 2)), 8),
            (None, 4),
            (Some((i64::MIN, i64::MAX)), 5),
            (Some((0, 10)), 1),
        ] {
            let plan = Plan::ranges("id", bounds, count);
            let Plan::Range { cuts, .. } = &plan else { unreachable!() };
            assert_eq!(cuts.len() + 1, count as usize);
            assert!(cuts.windows(2).all(|w| w[0] <= w[1]), "{cuts:?}");
            for key in [i64::MIN, -1_000_000, -51, -50, -1, 0, 1, 2, 5, 250, 251, 999, 1000, 1001, i64::MAX] {
                owner(&plan, count, Some(key));
            }
            assert_eq!(owner(&plan, count, None), count - 1, "NULL keys go to the last shard");
        }
    }

    #[test]
    fn ranges_are_even() {
        let plan = Plan::ranges("id", Some((1, 1000)), 4);
        assert_eq!(plan, Plan::Range { key: "id".into(), cuts: vec![251, 501, 751] });
        let sizes: Vec<usize> =
            (0..4).map(|s| (1..=1000).filter(|&k| owner(&plan, 4, Some(k)) == s).count()).collect();
        assert_eq!(sizes, [250, 250, 250, 250]);
        // More shards than values: the surplus shards are empty, none is skipped.
        let plan = Plan::ranges("id", Some((1, 2)), 4);
        let sizes: Vec<usize> =
            (0..4).map(|s| (1..=2).filter(|&k| owner(&plan, 4, Some(k)) == s).count()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 2);
    }

    #[test]
    fn conditions() {
        let r = |lo, hi, nulls| KeyRange { lo, hi, nulls };
        assert_eq!(r(None, Some(10), false).condition("\"id\""), "\"id\" < 10");
        assert_eq!(r(Some(10), Some(20), false).condition("k"), "k >= 10 AND k < 20");
        assert_eq!(r(Some(-5), None, true).condition("k"), "(k >= -5 OR k IS NULL)");
        assert_eq!(r(None, None, true).condition("k"), "TRUE");
    }

    #[test]
    fn plans_round_trip_and_bad_ones_are_refused() {
        for plan in [Plan::ranges("id", Some((3, 90)), 3), Plan::Hash] {
            assert_eq!(Plan::from_json(&plan.to_json(3)), Some((3, plan)));
        }
        assert_eq!(Plan::from_json(&json!({"count": 3, "by": "range", "key": "id", "cuts": [1]})), None);
        assert_eq!(Plan::from_json(&json!({"count": 3, "by": "range", "key": "id", "cuts": [5, 1]})), None);
        assert_eq!(Plan::from_json(&json!({"count": 2, "by": "modulo"})), None);
        let err = check_stored(&Plan::Hash.to_json(4), 8, "p::row-0::shards").unwrap_err().to_string();
        assert!(
            err.contains("plan for 4 shard(s)") && err.contains("asks for 8") && err.contains("state reset"),
            "{err}"
        );
    }

    #[test]
    fn hashing_is_stable_and_spreads() {
        // FNV-1a's published test vectors.
        assert_eq!(fnv1a64(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64("a"), 0xaf63_dc4c_8601_ec8c);
        let count = 4;
        let mut sizes = [0; 4];
        for i in 0..4000 {
            let key = format!("logs/2026/12/part-{i:05}.jsonl");
            let owners: Vec<u32> =
                (0..count).filter(|&index| ShardId { index, count }.owns_object(&key)).collect();
            assert_eq!(owners.len(), 1);
            sizes[owners[0] as usize] += 1;
        }
        assert!(sizes.iter().all(|&n| (850..1150).contains(&n)), "{sizes:?}");
    }

    /// `JOB_COMPLETION_INDEX` is covered by the process tests (tests/tests/shards.rs):
    /// the environment is shared by every test of this binary.
    #[test]
    fn the_index_comes_from_options() {
        let shards = Shards::new(4, Some(2)).unwrap();
        let ids: Vec<u32> = shards.each().map(|s| s.id.index).collect();
        assert_eq!(ids, [2]);
        assert!(shards.each().all(|s| s.alone));
        let err = Shards::new(2, Some(2)).unwrap_err().to_string();
        assert!(err.contains("--shard") && err.contains("numbered 0 to 1"), "{err}");
    }
}

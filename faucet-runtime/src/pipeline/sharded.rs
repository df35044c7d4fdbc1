//! Running one shard of a pipeline: the shared plan is found or made, the
//! source narrowed to the shard, and the bookmark kept under the shard's own
//! key (`{pipeline}::{row}::shard-{i}`). See [`crate::shard`].

use super::Pipeline;
use crate::error::{FaucetError, Result};
use crate::shard::{self, Shard, Shardable};
use crate::sink::Writes;
use crate::state::StateStore;
use crate::transform::Transform;

impl<S, T, K, D, St, H> Pipeline<S, T, K, D, St, H>
where
    S: Shardable,
    T: Transform<S::Record>,
    D: Writes,
    St: StateStore,
{
    /// Narrows the pipeline to `shard`: reads the plan stored under
    /// `{pipeline}::{row}::shards` (or makes it and stores it, if no other
    /// shard did first), narrows the source, and keys the bookmark by the
    /// shard. Call after [`Pipeline::with_options`].
    ///
    /// Refused: a stored plan for another shard count; state of an unsharded
    /// run of this pipeline; one shard run alone without a state store its
    /// siblings could share.
    pub async fn with_shard(mut self, shard: &Shard) -> Result<Self> {
        self.apply_state_path()?;
        let base = self.state_key();
        let plan_key = format!("{base}::shards");
        let persists = self.overrides.persists();
        let count = shard.id.count;
        let (source, state) = (&mut self.source, self.state.as_ref());
        let plan = shard
            .plan
            .get_or_try_init(|| async {
                let shared = state.filter(|s| s.outlives_process());
                if shard.alone && count > 1 && shared.is_none() {
                    return Err(FaucetError::config(format!(
                        "shard {} of {count} runs alone here, so it needs a state store its sibling shards share \
                         (postgres, redis, or file on a shared volume) to agree with them on where the source is cut; \
                         add `state:` to the pipeline, or run every shard in one process (no --shard, no {})",
                        shard.id.index,
                        shard::INDEX_ENV
                    )));
                }
                let Some(store) = state else { return source.plan(count).await };
                crate::state::validate_key(&plan_key)?;
                if let Some(stored) = store.get(&plan_key).await? {
                    return shard::check_stored(&stored, count, &plan_key);
                }
                if store.get(&base).await?.is_some() {
                    return Err(FaucetError::config(format!(
                        "the state holds a bookmark of an unsharded run under `{base}`; a sharded run would read \
                         again what it read. Finish it without `shard:`, or start over with the program's \
                         `state reset --yes`"
                    )));
                }
                let plan = source.plan(count).await?;
                if !persists {
                    return Ok(plan);
                }
                let stored = store.put_if_absent(&plan_key, &plan.to_json(count)).await?;
                shard::check_stored(&stored, count, &plan_key)
            })
            .await?;
        self.source.narrow(shard.id, plan)?;
        self.key_suffix = Some(shard.id.key_suffix());
        Ok(self)
    }
}

//! The run functions of a sharded pipeline (`shard: {count}`): each shard
//! is an invocation of the pipeline's one row, run by the matrix executor
//! (which bounds how many run at once and records each in the report).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use crate::emit::{Gen, int_lit, option};
use crate::ir;

impl Gen<'_> {
    /// `SHARDS`, `ROWS`, `run`, `run_with` and the function running one shard.
    pub(crate) fn shard_runs(&self, sharding: &ir::Sharding) -> TokenStream {
        let rt = self.rt();
        let matrix = quote!(#rt::matrix);
        let count = proc_macro2::Literal::u32_unsuffixed(sharding.count);
        let max_concurrent = option(sharding.max_concurrent.map(|n| int_lit(n).into_token_stream()));
        let on_error = match sharding.on_error {
            ir::OnError::Continue => quote!(#matrix::OnError::Continue),
            ir::OnError::Stop => quote!(#matrix::OnError::Stop),
        };
        quote! {
            /// How many shards the source is split into (`shard.count`).
            pub const SHARDS: u32 = #count;

            /// The schedule: one row, whose invocations are the shards.
            static ROWS: &[#matrix::RowInfo] = &[#matrix::RowInfo {
                id: "row-0",
                parent: None,
                root: 0,
                children: &[],
                depends_on: &[],
                parent_key: &["id"],
            }];

            /// Runs the shards with everything from the config; the report lists each shard.
            pub async fn run() -> Result<#rt::MatrixReport, #rt::FaucetError> {
                run_with(Default::default()).await
            }

            /// Runs the shard `options.shard` names, else the one `JOB_COMPLETION_INDEX`
            /// names, else every shard, each in a task of its own, at most
            /// `execution.max_concurrent` at once.
            pub async fn run_with(
                options: #rt::RunOptions,
            ) -> Result<#rt::MatrixReport, #rt::FaucetError> {
                let shards = #rt::shard::Shards::new(SHARDS, options.shard)?;
                let exec = #matrix::Executor::new(NAME, ROWS, #max_concurrent, #on_error, &options);
                Ok(#rt::shard::run_each(&shards, exec, options.clock, run_shard).await)
            }

            /// Runs one shard: its pipeline, narrowed to it, with its own bookmark.
            async fn run_shard(exec: ::std::sync::Arc<#matrix::Executor>, shard: #rt::shard::Shard) {
                let Some(invocation) = exec.begin_shard(0, shard.id.index).await else {
                    return;
                };
                let result = #rt::shard::scope(shard.id, async {
                    invocation.configure(pipeline()?).with_shard(&shard).await?.run().await
                })
                .await;
                exec.end(invocation, result);
            }
        }
    }
}

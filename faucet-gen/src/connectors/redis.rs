//! `redis`: the Redis state store (one string key per bookmark).

use proc_macro2::TokenStream;
use quote::quote;

use super::common::opt;
use super::postgres::{db_url, type_loc};
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::Node;
use crate::read::{Fields, plain_string};
use crate::spec::{Field, Kind, Spec};
use crate::text::Text;

/// The `redis` state store config.
pub(crate) const STATE: Spec = Spec {
    name: "state.redis",
    doc: "Bookmarks as Redis string keys `<namespace>:<key>`.",
    fields: &[
        Field::req("url", Kind::Text, "`redis://host:port/db`."),
        Field::opt("namespace", Kind::Str, "Key prefix: 1 to 128 characters from [A-Za-z0-9_.-].")
            .default("\"faucet\""),
    ],
    variants: &[],
};

/// `state: {type: redis, config: {url, namespace}}`.
#[derive(Debug, Clone)]
pub struct RedisState {
    /// `redis://…` or `rediss://…`.
    pub url: Text,
    /// Key prefix (default `faucet`).
    pub namespace: String,
    /// Where `type:` was written.
    pub loc: Loc,
}

/// Validates the `redis` state store's config.
pub(crate) fn state(node: &Node, config: Option<&Node>, diags: &mut Diagnostics) -> Option<RedisState> {
    let Some(config) = config else {
        diags.error_help(
            &node.loc,
            "the `redis` state store needs a `config` with `url`",
            "add `config: { url: \"redis://127.0.0.1:6379\" }`",
        );
        return None;
    };
    let mut f = Fields::with_spec(config, &STATE, "the `redis` state config", diags)?;
    let url = f
        .require("url", diags)
        .and_then(|n| db_url(n, "url", &["redis", "rediss"], "redis://127.0.0.1:6379/0", diags));
    let namespace = opt(f.get("namespace"), "faucet".to_owned(), |n| {
        let ns = plain_string(n, "namespace", diags)?;
        let valid = !ns.is_empty()
            && ns.len() <= 128
            && ns.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid {
            diags.error_help(
                &n.loc,
                format!("invalid namespace {ns:?}"),
                "use 1 to 128 characters from [A-Za-z0-9_.-]",
            );
            return None;
        }
        Some(ns)
    });
    f.finish(diags);
    Some(RedisState { url: url?, namespace: namespace?, loc: type_loc(node) })
}

impl RedisState {
    pub(crate) fn tokens(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let url = g.text(&self.url);
        let namespace = &self.namespace;
        g.gated_whole(
            "state-redis",
            "`redis` state store",
            &self.loc,
            quote! {
                #rt::state::RedisStore::new(#rt::state::RedisStoreConfig {
                    url: #url,
                    namespace: ::std::string::String::from(#namespace),
                })?
            },
        )
    }
}

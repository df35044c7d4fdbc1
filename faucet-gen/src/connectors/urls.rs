//! Connection URLs as settings: no credential may be written in one, and a
//! literal URL is parsed at build time and must have one of its schemes
//! (the `postgres_cdc` source and the state stores).

use std::marker::PhantomData;

use proc_macro2::TokenStream;

use super::postgres::db_url;
use crate::diag::Diagnostics;
use crate::emit::Gen;
use crate::load::Node;
use crate::settings::Setting;
use crate::spec::Kind;
use crate::text::Text;

/// The schemes a [`DbUrl`] accepts, and the example its messages suggest.
pub trait Schemes: std::fmt::Debug + Clone + PartialEq {
    /// The accepted schemes.
    const SCHEMES: &'static [&'static str];
    /// A URL to suggest.
    const EXAMPLE: &'static str;
}

/// A connection URL of a database or store whose schemes `S` names.
#[derive(Debug, Clone, PartialEq)]
pub struct DbUrl<S: Schemes>(pub Text, PhantomData<S>);

impl<S: Schemes> Setting for DbUrl<S> {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        db_url(node, key, S::SCHEMES, S::EXAMPLE, diags).map(|t| DbUrl(t, PhantomData))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// `postgres://` or `postgresql://`.
#[derive(Debug, Clone, PartialEq)]
pub struct Postgres;

impl Schemes for Postgres {
    const SCHEMES: &'static [&'static str] = &["postgres", "postgresql"];
    const EXAMPLE: &'static str = "postgres://user@host:5432/db";
}

/// `redis://` or `rediss://`.
#[derive(Debug, Clone, PartialEq)]
pub struct Redis;

impl Schemes for Redis {
    const SCHEMES: &'static [&'static str] = &["redis", "rediss"];
    const EXAMPLE: &'static str = "redis://127.0.0.1:6379/0";
}

/// A PostgreSQL connection URL.
pub type PostgresUrl = DbUrl<Postgres>;

/// A Redis connection URL.
pub type RedisUrl = DbUrl<Redis>;

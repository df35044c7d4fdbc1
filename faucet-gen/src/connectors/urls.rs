//! Connection URLs as settings: no credential may be written in one, and a
//! literal URL is parsed at build time and must have one of its schemes
//! (the SQL connectors, the `postgres_cdc` source and the state stores).

use std::marker::PhantomData;

use proc_macro2::TokenStream;

use crate::diag::Diagnostics;
use crate::emit::Gen;
use crate::load::Node;
use crate::read::text;
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

/// `mysql://` (MySQL and MariaDB).
#[derive(Debug, Clone, PartialEq)]
pub struct MySql;

impl Schemes for MySql {
    const SCHEMES: &'static [&'static str] = &["mysql"];
    const EXAMPLE: &'static str = "mysql://user@host:3306/db";
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

/// A MySQL or MariaDB connection URL.
pub type MySqlUrl = DbUrl<MySql>;

/// A Redis connection URL.
pub type RedisUrl = DbUrl<Redis>;

/// A connection URL: no credential may be written in it, and a literal is
/// parsed now and its scheme must be one of `schemes`.
fn db_url(node: &Node, key: &str, schemes: &[&str], example: &str, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, key, diags)?;
    if !crate::secrets::check(node, &t, key, crate::secrets::Position::Url, diags) {
        return None;
    }
    if let Some(lit) = t.as_literal() {
        match url::Url::parse(&lit) {
            Err(e) => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` {lit:?} is not a valid URL: {e}"),
                    format!("write `{example}`"),
                );
                return None;
            }
            Ok(u) if !schemes.contains(&u.scheme()) => {
                diags.error_help(
                    &node.loc,
                    format!(
                        "`{key}` has scheme `{}`, but this connector needs {}",
                        u.scheme(),
                        crate::diag::list(schemes)
                    ),
                    format!("write `{example}`"),
                );
                return None;
            }
            Ok(_) => {}
        }
    }
    Some(t)
}

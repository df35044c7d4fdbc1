//! `auth`: the `rest` source's credentials. A `{type, config}` block, one
//! declared struct per type; every credential follows the secret rule.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::checks::{TokenUrl, is_token};
use super::values::List;
use crate::diag::{Diagnostics, list};
use crate::emit::Gen;
use crate::load::{Node, Value};
use crate::read::{Fields, one_of};
use crate::settings::values::Secret;
use crate::settings::{Setting, settings};
use crate::spec::{Field, Kind, Spec, Variant};
use crate::text::Text;

/// `none` (no keys).
const NO_AUTH: Spec = Spec { name: "rest.auth.none", doc: "No credentials.", fields: &[], variants: &[] };

settings! {
    /// `Authorization: Bearer <token>`.
    pub struct Bearer("rest.auth.bearer") => rest::Auth::Bearer {
        /// A secret: read it with `${env:VAR}`.
        token: Secret,
    }
}

settings! {
    /// HTTP basic authentication.
    pub struct Basic("rest.auth.basic") => rest::Auth::Basic {
        /// The user.
        username: Text,
        /// A secret: read it with `${env:VAR}`.
        password: Secret,
    }
}

settings! {
    /// A key in a header.
    pub struct ApiKey("rest.auth.api_key") => rest::Auth::ApiKey {
        /// The header.
        header: String = "X-API-Key",
        /// A secret: read it with `${env:VAR}`.
        value: Secret,
    }
}

settings! {
    /// A key in a query parameter.
    pub struct ApiKeyQuery("rest.auth.api_key_query") => rest::Auth::ApiKeyQuery {
        /// The query parameter.
        param: String = "api_key",
        /// A secret: read it with `${env:VAR}`.
        value: Secret,
    }
}

settings! {
    /// OAuth2 client credentials; the token is refreshed before it expires.
    pub struct OAuth2("rest.auth.oauth2") => rest::OAuth2Config {
        /// The token endpoint.
        token_url: TokenUrl,
        /// The client id.
        client_id: Text,
        /// A secret: read it with `${env:VAR}`.
        client_secret: Secret,
        /// Scopes (a list or a space-separated string).
        scopes: Scopes,
        /// Refresh after this share of the token's lifetime.
        expiry_ratio: ExpiryRatio = 0.9,
    }
}

/// `scopes`: a list, or one space-separated string.
#[derive(Debug, Clone, PartialEq)]
pub struct Scopes(pub List<String>);

impl Setting for Scopes {
    const KIND: Kind = Kind::AnyOf(&[Kind::Str, Kind::List(&Kind::Str)]);
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match &node.value {
            Value::Str(_) => {
                let s = crate::read::plain_string(node, key, diags)?;
                Some(Scopes(List(s.split_whitespace().map(str::to_owned).collect())))
            }
            _ => List::read(node, key, diags).map(Scopes),
        }
    }

    fn absent() -> Option<Self> {
        List::absent().map(Scopes)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.0.emit(g)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// `expiry_ratio`: above 0, at most 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpiryRatio(pub f64);

impl From<f64> for ExpiryRatio {
    fn from(r: f64) -> Self {
        ExpiryRatio(r)
    }
}

impl Setting for ExpiryRatio {
    const KIND: Kind = Kind::Number(0.0, 1.0);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match node.value {
            Value::Float(x) if x > 0.0 && x <= 1.0 => Some(ExpiryRatio(x)),
            Value::Int(1) => Some(ExpiryRatio(1.0)),
            _ => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` must be above 0 and at most 1"),
                    "such as `0.9`",
                );
                None
            }
        }
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        let r = Literal::f64_unsuffixed(self.0);
        quote!(#r)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.into()
    }
}

const AUTHS: &[&str] = &["none", "bearer", "basic", "api_key", "api_key_query", "oauth2"];

/// The `auth` block: `type` picks the credentials, `config` holds their keys.
const AUTH: Spec = Spec {
    name: "rest.auth",
    doc: "Credentials: a `type` and its `config`.",
    fields: &[
        Field::req("type", Kind::OneOf(AUTHS), "The kind of credentials."),
        Field::opt("config", Kind::Json, "The credentials' settings."),
        Field::not_yet("ref"),
    ],
    variants: &[
        Variant { tag: "none", nested: true, spec: Some(&NO_AUTH) },
        Variant { tag: "bearer", nested: true, spec: Some(&Bearer::SPEC) },
        Variant { tag: "basic", nested: true, spec: Some(&Basic::SPEC) },
        Variant { tag: "api_key", nested: true, spec: Some(&ApiKey::SPEC) },
        Variant { tag: "api_key_query", nested: true, spec: Some(&ApiKeyQuery::SPEC) },
        Variant { tag: "oauth2", nested: true, spec: Some(&OAuth2::SPEC) },
    ],
};

/// `auth`: how requests authenticate (no credentials when absent).
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials.
    None,
    /// A bearer token.
    Bearer(Bearer),
    /// HTTP basic authentication.
    Basic(Basic),
    /// A key in a header.
    ApiKey(ApiKey),
    /// A key in a query parameter.
    ApiKeyQuery(ApiKeyQuery),
    /// OAuth2 client credentials.
    OAuth2(OAuth2),
}

impl Setting for Auth {
    const KIND: Kind = Kind::Object(&AUTH);
    const REQUIRED: bool = false;

    fn read(node: &Node, _: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(node, &AUTH, "`auth`", diags)?;
        let kind = f.get("type");
        let config = f.get("config").cloned();
        f.finish(diags);
        let Some(kind) = kind else {
            // A `ref` is reported as not supported yet.
            if matches!(&node.value, Value::Map(entries) if entries.iter().any(|e| e.key == "ref")) {
                return None;
            }
            diags.error_help(
                &node.loc,
                "missing required key `type` in `auth`",
                format!("add `type: …`, one of {}", list(AUTHS)),
            );
            return None;
        };
        if let Value::Str(s) = &kind.value
            && matches!(s.as_str(), "token_endpoint" | "custom")
        {
            diags.error_help(
                &kind.loc,
                format!("`auth` type `{s}` is not supported by faucet yet"),
                format!("supported auth types: {}", list(AUTHS)),
            );
            return None;
        }
        let kind = one_of(kind, "auth type", AUTHS, diags)?;
        let config = config.unwrap_or_else(|| Node { value: Value::Map(Vec::new()), loc: node.loc.clone() });
        let spec = AUTH.variants.iter().find(|v| v.tag == kind).and_then(|v| v.spec);
        let spec = spec.expect("every auth type has a spec");
        let mut c = Fields::with_spec(&config, spec, format!("the `{kind}` auth config"), diags)?;
        let auth = match kind {
            "none" => Some(Auth::None),
            "bearer" => Bearer::read(&mut c, diags).map(Auth::Bearer),
            "basic" => Basic::read(&mut c, diags).map(Auth::Basic),
            "api_key" => ApiKey::read(&mut c, diags).and_then(|key| {
                if is_token(&key.header) {
                    return Some(Auth::ApiKey(key));
                }
                diags.error(&config.loc, format!("`{}` is not a valid HTTP header name", key.header));
                None
            }),
            "api_key_query" => ApiKeyQuery::read(&mut c, diags).map(Auth::ApiKeyQuery),
            _ => OAuth2::read(&mut c, diags).map(Auth::OAuth2),
        };
        c.finish(diags);
        auth
    }

    fn absent() -> Option<Self> {
        Some(Auth::None)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        match self {
            Auth::None => quote!(#rt::config::rest::Auth::None),
            Auth::Bearer(a) => a.config(g),
            Auth::Basic(a) => a.config(g),
            Auth::ApiKey(a) => a.config(g),
            Auth::ApiKeyQuery(a) => a.config(g),
            Auth::OAuth2(a) => {
                let config = a.config(g);
                quote!(#rt::config::rest::Auth::OAuth2(#config))
            }
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

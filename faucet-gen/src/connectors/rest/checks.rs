//! The checks behind the `rest` source's URL, header and JSONPath settings:
//! what makes a request go to the wrong host, or fail at run time, is a
//! build error instead.

use proc_macro2::TokenStream;

use crate::diag::Diagnostics;
use crate::emit::{Gen, string};
use crate::load::Node;
use crate::read::{
    MAX_BRACKET_DEPTH, bracket_depth, parent_reference, plain_string, text, text_in, token_loc,
};
use crate::secrets::{self, Position};
use crate::settings::Setting;
use crate::spec::Kind;
use crate::text::{Encode, Text, TextPart};

/// A JSONPath (RFC 9535), parsed now so a typo is a build error.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath(pub String);

impl Setting for JsonPath {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let s = plain_string(node, key, diags)?;
        if bracket_depth(&s) > MAX_BRACKET_DEPTH {
            diags.error_help(
                &node.loc,
                format!("`{key}` nests brackets more than {MAX_BRACKET_DEPTH} deep"),
                "write a JSONPath (RFC 9535) such as `$.data[*]`",
            );
            return None;
        }
        match serde_json_path::JsonPath::parse(&s) {
            Ok(_) => Some(JsonPath(s)),
            Err(e) => {
                diags.error_help(
                    &node.loc,
                    format!(
                        "`{key}` {s:?} is not a valid JSONPath: {} (at character {})",
                        e.message(),
                        e.position() + 1
                    ),
                    "write a JSONPath (RFC 9535) such as `$.data[*]`",
                );
                None
            }
        }
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}

/// `base_url`: when literal, an absolute http(s) URL without query, fragment
/// or password. A parent record's value may only follow the authority: it can
/// never pick the host, port or user the request (and its credentials) go to.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseUrl(pub Text);

impl Setting for BaseUrl {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text_in(node, key, Encode::UrlPathInUrl, diags)?;
        if !secrets::check(node, &t, key, Position::Url, diags) {
            return None;
        }
        if let Some((prefix, token)) = literal_before_parent(&t)
            && !authority_closed(&prefix)
        {
            diags.error_help(
                &token_loc(&node.loc, &token),
                format!("`{token}` would be part of the URL's host, port or user in `base_url`"),
                "a record value may only be part of the URL's path: write the host first, \
                 e.g. `https://api.example.com/users/${…}`",
            );
            return None;
        }
        let Some(lit) = t.as_literal() else {
            return Some(BaseUrl(t));
        };
        let url = match url::Url::parse(&lit) {
            Ok(url) => url,
            Err(e) => {
                diags.error_help(
                    &node.loc,
                    format!("`base_url` {lit:?} is not a valid URL: {e}"),
                    "write an absolute URL such as `https://api.example.com/v1`",
                );
                return None;
            }
        };
        if !matches!(url.scheme(), "http" | "https") {
            diags.error_help(
                &node.loc,
                format!("`base_url` must use http or https, not `{}`", url.scheme()),
                "write an absolute URL such as `https://api.example.com/v1`",
            );
            return None;
        }
        if url.query().is_some() || url.fragment().is_some() {
            diags.error_help(
                &node.loc,
                "`base_url` has a query string or fragment",
                "put query parameters under `query_params:`",
            );
            return None;
        }
        Some(BaseUrl(t))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// `path`, appended to `base_url`. A matrix parent's value lands in it
/// percent-encoded, within one segment; query values need nothing here (the
/// runtime encodes them with `append_pair`), nor do header values and bodies
/// (sent as data).
#[derive(Debug, Clone, PartialEq)]
pub struct UrlPath(pub Text);

impl From<&str> for UrlPath {
    fn from(s: &str) -> Self {
        UrlPath(Text::literal(s))
    }
}

impl Setting for UrlPath {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text_in(node, key, Encode::UrlSegment, diags)?;
        secrets::check(node, &t, key, Position::Url, diags).then_some(UrlPath(t))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// The OAuth2 `token_url`: credentials in it follow the secret rule, and a
/// literal one is an absolute http(s) URL. No parent value: the token
/// request carries the client secret.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenUrl(pub Text);

impl Setting for TokenUrl {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text(node, key, diags)?;
        if !secrets::check(node, &t, key, Position::Url, diags) {
            return None;
        }
        if let Some(lit) = t.as_literal()
            && !url::Url::parse(&lit).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            diags.error_help(
                &node.loc,
                format!("`{key}` {lit:?} is not an http(s) URL"),
                "write an absolute URL",
            );
            return None;
        }
        Some(TokenUrl(t))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// The literal text before the first parent value and that value's reference,
/// when no other run-time reference comes first (then only the run time can tell).
fn literal_before_parent(t: &Text) -> Option<(String, String)> {
    let mut prefix = String::new();
    for part in &t.0 {
        match part {
            TextPart::Lit(s) => prefix.push_str(s),
            TextPart::Env(_) | TextPart::File(_) | TextPart::Now(_) | TextPart::Shard(_) => return None,
            TextPart::Parent { path, .. } => return Some((prefix, parent_reference(path))),
        }
    }
    None
}

/// True when `prefix` holds a whole authority (`scheme://host/`), as the
/// runtime checks again (`faucet_runtime::substitute`).
fn authority_closed(prefix: &str) -> bool {
    let Some(scheme_end) = prefix.find("://") else { return false };
    let after = &prefix[scheme_end + 3..];
    after.find(['/', '\\']).is_some() && !after.contains(['?', '#'])
}

/// An HTTP token (RFC 9110): the characters a header name may use.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

//! The small pieces generated code is written with: the runtime alias,
//! literals, config strings, and the cargo-feature gate around a connector's
//! constructor. A leaf module: connectors and the pipeline generator both
//! build on it, and it knows neither.
//!
//! Generated code reads like code a person would write: every path into the
//! runtime goes through one alias, `rt` (`use ::faucet_runtime::__private as
//! rt;` at the top of the generated module, which no user item can shadow),
//! numbers carry no suffix where the field's type decides, bytes are `b','`,
//! and only a connector's constructor call sits inside its feature gate, so
//! its config is an ordinary struct literal with one value per line.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::diag::Loc;
use crate::text::{Encode, Now, SecretEnv, ShardValue, Text, TextPart};

/// The generator's context, handed to each connector's code generation.
pub(crate) struct Gen<'a> {
    /// `rt`, the generated module's alias of the runtime's `__private` module.
    rt: TokenStream,
    /// The span for tokens with no better location.
    fallback_span: Span,
    /// Which `${env:…}` values the runtime masks.
    secret_env: &'a SecretEnv,
    /// The constant describing the records the pipeline's sink receives
    /// (`SCHEMA`), when they are known at build time.
    sink_schema: Option<TokenStream>,
    /// Set once a `${now.…}` is emitted: `run_with` then fixes the run's clock.
    reads_clock: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<'a> Gen<'a> {
    /// A context for one pipeline (or matrix) whose masked variables are `secret_env`.
    pub(crate) fn new(fallback_span: Span, secret_env: &'a SecretEnv) -> Self {
        Gen { rt: quote!(rt), fallback_span, secret_env, sink_schema: None, reads_clock: Default::default() }
    }

    /// The same context for one pipeline whose sink receives the records that
    /// the constant `schema` describes (`None`: not known at build time).
    pub(crate) fn with_sink_schema(&self, schema: Option<TokenStream>) -> Gen<'a> {
        Gen {
            rt: self.rt.clone(),
            fallback_span: self.fallback_span,
            secret_env: self.secret_env,
            sink_schema: schema,
            reads_clock: self.reads_clock.clone(),
        }
    }

    /// True once code reading the run's clock (`${now.…}`) was emitted.
    pub(crate) fn reads_clock(&self) -> bool {
        self.reads_clock.get()
    }

    /// The constant describing the records the sink receives, when known
    /// (a table sink creates its columns from its fields).
    pub(crate) fn sink_schema(&self) -> Option<&TokenStream> {
        self.sink_schema.as_ref()
    }

    /// The runtime alias, `rt`.
    pub(crate) fn rt(&self) -> &TokenStream {
        &self.rt
    }

    /// The span of `loc` in an inline definition, else the fallback.
    pub(crate) fn span(&self, loc: &Loc) -> Span {
        loc.span().unwrap_or(self.fallback_span)
    }

    /// The runtime `Part`s of a config string.
    pub(crate) fn parts(&self, t: &Text) -> Vec<TokenStream> {
        let rt = &self.rt;
        t.0.iter()
            .map(|p| match p {
                TextPart::Lit(s) => quote!(#rt::secret::Part::Lit(#s)),
                TextPart::Env(v) if self.secret_env.whole.contains(v) => {
                    quote!(#rt::secret::Part::Secret(#v))
                }
                TextPart::Env(v) if self.secret_env.in_url.contains(v) => {
                    quote!(#rt::secret::Part::InUrl(#v))
                }
                TextPart::Env(v) => quote!(#rt::secret::Part::Env(#v)),
                TextPart::File(path) => quote!(#rt::secret::Part::File(#path)),
                TextPart::Now(now) => {
                    self.reads_clock.set(true);
                    let now = match now {
                        Now::Date => quote!(Date),
                        Now::DateTime => quote!(DateTime),
                        Now::Year => quote!(Year),
                        Now::Month => quote!(Month),
                        Now::Day => quote!(Day),
                        Now::Hour => quote!(Hour),
                        Now::Minute => quote!(Minute),
                        Now::Second => quote!(Second),
                        Now::Unix => quote!(Unix),
                        Now::Strftime(format) => quote!(Strftime(#format)),
                    };
                    quote!(#rt::secret::Part::Now(#rt::clock::Now::#now))
                }
                TextPart::Shard(value) => {
                    let value = match value {
                        ShardValue::Index => quote!(Index),
                        ShardValue::Count => quote!(Count),
                    };
                    quote!(#rt::secret::Part::Shard(#rt::shard::ShardValue::#value))
                }
                TextPart::Parent { path, encode } => {
                    let encode = match encode {
                        Encode::Raw => quote!(Raw),
                        Encode::PathSegment => quote!(PathSegment),
                        Encode::GlobSegment => quote!(GlobSegment),
                        Encode::FileUrlSegment => quote!(FileUrlSegment),
                        Encode::UrlSegment => quote!(UrlSegment),
                        Encode::UrlPathInUrl => quote!(UrlPathInUrl),
                    };
                    quote!(#rt::secret::Part::Parent(&[#(#path),*], #rt::substitute::Encode::#encode))
                }
            })
            .collect()
    }

    /// A `String` expression: a literal, or a run-time template for
    /// references read at run time and parent-record values.
    pub(crate) fn text(&self, t: &Text) -> TokenStream {
        let rt = &self.rt;
        if let Some(lit) = t.as_literal() {
            return string(&lit);
        }
        let parts = self.parts(t);
        if t.has_parent_values() {
            // `parent` is the matrix child's parent record, in scope in its builder.
            quote!(#rt::secret::Template(&[#(#parts),*]).resolve_with(parent)?)
        } else {
            quote!(#rt::secret::Template(&[#(#parts),*]).resolve()?)
        }
    }

    /// A connector built from its config: `config` is an ordinary struct
    /// literal, bound to `config`; only `call` (the constructor, which names
    /// `config`) sits inside the gate of the runtime's cargo `feature`. With
    /// the feature off, the gate is a `compile_error!` at the config's
    /// `type:` (every token of the gate carries its span).
    pub(crate) fn gated(
        &self,
        feature: &str,
        what: &str,
        loc: &Loc,
        config: TokenStream,
        call: TokenStream,
    ) -> TokenStream {
        let span = self.span(loc);
        let gate = quote::format_ident!("gate_{}", feature.replace('-', "_"), span = span);
        let (prefix, what) = (spanned_str(&loc_prefix(loc), span), spanned_str(what, span));
        let rt = respan(self.rt.clone(), span);
        let gate = quote_spanned!(span=> #rt::#gate!(#prefix, #what, #call));
        quote! {
            {
                let config = #config;
                #gate
            }
        }
    }
}

/// `file:line:col: ` for a file location, nothing otherwise (tokens carry their own span).
pub fn loc_prefix(loc: &Loc) -> String {
    match loc {
        Loc::File { file, line, col, .. } => format!("{}:{line}:{col}: ", file.name),
        _ => String::new(),
    }
}

/// A string literal carrying `span`: the error a gate raises from it points
/// at the config.
pub(crate) fn spanned_str(s: &str, span: Span) -> Literal {
    let mut lit = Literal::string(s);
    lit.set_span(span);
    lit
}

/// An integer literal without a suffix: the field or parameter it fills gives its type.
pub(crate) fn int_lit(v: u64) -> Literal {
    Literal::u64_unsuffixed(v)
}

/// A byte literal, `b','`.
pub(crate) fn byte_lit(v: u8) -> Literal {
    syn::LitByte::new(v, Span::call_site()).token()
}

/// A `String` from a literal.
pub(crate) fn string(s: &str) -> TokenStream {
    quote!(String::from(#s))
}

/// `Some(value)`, or `None`.
pub(crate) fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}

/// A `Vec` of `items` (`Vec::new()` when there are none).
pub(crate) fn vec(items: impl IntoIterator<Item = TokenStream>) -> TokenStream {
    let items: Vec<TokenStream> = items.into_iter().collect();
    if items.is_empty() {
        return quote!(Vec::new());
    }
    quote!(Vec::from([#(#items),*]))
}

/// Gives every token of `tokens` the span `span`, so rustc points at the config.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            tt.set_span(span);
            tt
        })
        .collect()
}

//! One declaration per setting.
//!
//! A connector declares its settings once, with [`settings!`]: each key's doc
//! text, its Rust type (which says what values it accepts, how it is read and
//! how it is written into generated code), its typed default and the runtime
//! field it fills. From that one declaration come the IR struct, its reader
//! (every mistake a diagnostic), the config literal in generated code, the
//! [`Spec`] that `faucet-gen schema` and the grammar tables are built from.
//!
//! A value type implements [`Setting`]; the types shared by many connectors
//! live in [`values`]. A group of keys that several connectors lay out in the
//! same map (the file sources' input limits) is itself a `settings!` struct,
//! used as one member: [`Part`] covers both.
//!
//! [`Spec`]: crate::spec::Spec

pub(crate) mod checks;
pub(crate) mod values;

use proc_macro2::TokenStream;

use crate::diag::Diagnostics;
use crate::emit::Gen;
use crate::load::Node;
use crate::read::Fields;
use crate::spec::{Field, Kind};

/// A value a setting holds: how it is read, described and written out.
pub(crate) trait Setting: Sized {
    /// The values accepted, for the schema.
    const KIND: Kind;
    /// Whether the key must be present when the declaration gives no default
    /// (`Option<T>` is optional).
    const REQUIRED: bool = true;

    /// Reads a present, non-null value of `key`, reporting every mistake.
    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self>;

    /// The value of an absent key without a declared default: `None` for a
    /// required setting (reported as missing).
    fn absent() -> Option<Self> {
        None
    }

    /// The value as a Rust expression in generated code.
    fn emit(&self, g: &Gen) -> TokenStream;

    /// The value as JSON (a default in the schema and the grammar tables).
    fn to_json(&self) -> serde_json::Value;
}

/// A member of a `settings!` struct: one setting, or a group of settings laid
/// out in the same map.
pub(crate) trait Part: Sized {
    /// The member's field in the spec ([`Kind::Flatten`] for a group).
    const KIND: Kind;
    /// See [`Setting::REQUIRED`].
    const REQUIRED: bool;

    /// Reads the member from `f`: the value of `key`, or a group's keys.
    fn read_part(f: &mut Fields<'_>, key: &'static str, diags: &mut Diagnostics) -> Option<Self>;

    /// The member as a Rust expression in generated code.
    fn emit_part(&self, g: &Gen) -> TokenStream;
}

impl<T: Setting> Part for T {
    const KIND: Kind = T::KIND;
    const REQUIRED: bool = T::REQUIRED;

    fn read_part(f: &mut Fields<'_>, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match f.get(key) {
            Some(node) => T::read(node, key, diags),
            None => T::absent().or_else(|| {
                f.missing(key, diags);
                None
            }),
        }
    }

    fn emit_part(&self, g: &Gen) -> TokenStream {
        self.emit(g)
    }
}

/// A struct declared with [`settings!`]: its keys, its reader and its runtime config literal.
pub(crate) trait Declared: Sized {
    /// The declared keys.
    const SPEC_REF: &'static crate::spec::Spec;

    /// The declared keys.
    fn spec() -> &'static crate::spec::Spec {
        Self::SPEC_REF
    }
    /// Reads every member from `f` (which the caller finishes).
    fn read(f: &mut Fields<'_>, diags: &mut Diagnostics) -> Option<Self>;
    /// The runtime config struct literal (declared with `=> path`).
    fn config(&self, g: &Gen) -> TokenStream;
}

/// A declared group of keys laid out in its parent's map, as one member
/// (the file sources' `max_record_bytes` and `max_page_bytes`).
#[derive(Debug, Clone, PartialEq)]
pub struct Flatten<T>(pub T);

impl<T: Declared> Part for Flatten<T> {
    const KIND: Kind = Kind::Flatten(T::SPEC_REF);
    const REQUIRED: bool = false;

    fn read_part(f: &mut Fields<'_>, _key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        T::read(f, diags).map(Flatten)
    }

    fn emit_part(&self, g: &Gen) -> TokenStream {
        self.0.config(g)
    }
}

/// A declared struct as the value of one key: a nested map with its own keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Nested<T>(pub T);

impl<T: Declared> Setting for Nested<T> {
    const KIND: Kind = Kind::Object(T::SPEC_REF);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(node, T::spec(), format!("`{key}`"), diags)?;
        let value = T::read(&mut f, diags);
        f.finish(diags);
        value.map(Nested)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.0.config(g)
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// Reads an optional setting with a declared default.
pub(crate) fn read_or<T: Setting>(
    f: &mut Fields<'_>,
    key: &'static str,
    default: impl FnOnce() -> T,
    diags: &mut Diagnostics,
) -> Option<T> {
    match f.get(key) {
        Some(node) => T::read(node, key, diags),
        None => Some(default()),
    }
}

/// The spec field of a member declared in `settings!`.
pub(crate) const fn field<P: Part>(
    key: &'static str,
    doc: &'static str,
    default: Option<fn() -> serde_json::Value>,
) -> Field {
    Field {
        key,
        doc,
        kind: P::KIND,
        required: default.is_none() && P::REQUIRED,
        default: match default {
            Some(f) => Some(crate::spec::DefaultValue::Typed(f)),
            None => None,
        },
        not_yet: false,
    }
}

/// Declares a connector's (or a group's) settings once; see the module docs.
///
/// ```ignore
/// settings! {
///     /// Local CSV files: one record per row.
///     pub struct CsvSource("source.csv") => files::CsvSourceConfig {
///         /// File path or glob.
///         path: SourcePath,
///         /// The first line names the columns.
///         has_headers: bool = true,
///         …
///     }
///     not_yet: ["compression"]
/// }
/// ```
///
/// A struct may take one type parameter with one bound (`struct
/// TableWrite<N: Names>(…)`), for a group whose keys several connectors
/// share but check by each one's rule.
///
/// Each member is `key: Type` (required unless the type is an `Option`) or
/// `key: Type = default`; `key as field: …` fills a runtime field of another
/// name. `=> path` names the runtime config struct under `rt::config` that
/// [`config`](#method.config) builds; without it the struct only reads and
/// emits its members ([`members`](#method.members)), for a connector that
/// assembles its runtime config by hand.
macro_rules! settings {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident $(<$param:ident: $bound:path>)? ($spec:literal) $(=> $($config:ident)::+)? {
            $(
                $(#[doc = $fdoc:literal])*
                $key:ident $(as $field:ident)? : $ty:ty $(= $default:expr)?
            ),* $(,)?
        }
        $(not_yet: [$($not_yet:literal),* $(,)?])?
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone)]
        $vis struct $name $(<$param: $bound>)? {
            $(
                $(#[doc = $fdoc])*
                pub $key: $ty,
            )*
        }

        impl $(<$param: $bound>)? $name $(<$param>)? {
            /// The declared keys (the schema's and the validator's).
            pub(crate) const SPEC: $crate::spec::Spec = $crate::spec::Spec {
                name: $spec,
                doc: ::core::concat!($($doc, "\n"),*),
                fields: &[
                    $(
                        $crate::settings::field::<$ty>(
                            ::core::stringify!($key),
                            ::core::concat!($($fdoc, "\n"),*),
                            $crate::settings::settings!(@json_default $ty $(= $default)?),
                        ),
                    )*
                    $($($crate::spec::Field::not_yet($not_yet),)*)?
                ],
                variants: &[],
            };

            /// Reads every member from `f` (which the caller finishes).
            pub(crate) fn read(
                f: &mut $crate::read::Fields<'_>,
                diags: &mut $crate::diag::Diagnostics,
            ) -> ::core::option::Option<Self> {
                $(
                    let $key = $crate::settings::settings!(@read f diags $key $ty $(= $default)?);
                )*
                ::core::option::Option::Some(Self { $($key: $key?,)* })
            }

            /// Reads a whole config map: every member, then unknown and
            /// not-yet keys reported.
            #[allow(dead_code)]
            pub(crate) fn from_config(
                config: &$crate::load::Node,
                what: ::std::string::String,
                diags: &mut $crate::diag::Diagnostics,
            ) -> ::core::option::Option<Self> {
                let spec = <Self as $crate::settings::Declared>::spec();
                let mut f = $crate::read::Fields::with_spec(config, spec, what, diags)?;
                let read = Self::read(&mut f, diags);
                f.finish(diags);
                read
            }

            /// Each member as `field: value` in generated code.
            #[allow(dead_code)]
            pub(crate) fn members(&self, g: &$crate::emit::Gen) -> ::std::vec::Vec<::proc_macro2::TokenStream> {
                ::std::vec![$({
                    let field = $crate::settings::settings!(@field $key $($field)?);
                    let value = $crate::settings::Part::emit_part(&self.$key, g);
                    ::quote::quote!(#field: #value)
                }),*]
            }

            $(
                /// The runtime config struct literal.
                pub(crate) fn config(&self, g: &$crate::emit::Gen) -> ::proc_macro2::TokenStream {
                    let rt = g.rt();
                    let members = self.members(g);
                    ::quote::quote!(#rt::config::$($config)::+ { #(#members,)* })
                }
            )?
        }

        impl $(<$param: $bound>)? $crate::settings::Declared for $name $(<$param>)? {
            const SPEC_REF: &'static $crate::spec::Spec = &Self::SPEC;

            fn read(
                f: &mut $crate::read::Fields<'_>,
                diags: &mut $crate::diag::Diagnostics,
            ) -> ::core::option::Option<Self> {
                Self::read(f, diags)
            }

            fn config(&self, g: &$crate::emit::Gen) -> ::proc_macro2::TokenStream {
                $crate::settings::settings!(@config self g $($($config)::+)?)
            }
        }
    };
    (@config $self:ident $g:ident $($config:ident)::+) => {
        $self.config($g)
    };
    (@config $self:ident $g:ident) => {{
        let _ = ($self, $g);
        ::core::unreachable!("only a struct declared with `=> path` is emitted as a runtime config")
    }};
    (@json_default $ty:ty = $default:expr) => {
        ::core::option::Option::Some(|| {
            let value: $ty = ::core::convert::From::from($default);
            $crate::settings::Setting::to_json(&value)
        })
    };
    (@json_default $ty:ty) => {
        ::core::option::Option::None
    };
    (@read $f:ident $diags:ident $key:ident $ty:ty = $default:expr) => {
        $crate::settings::read_or::<$ty>($f, ::core::stringify!($key), || ::core::convert::From::from($default), $diags)
    };
    (@read $f:ident $diags:ident $key:ident $ty:ty) => {
        <$ty as $crate::settings::Part>::read_part($f, ::core::stringify!($key), $diags)
    };
    (@field $key:ident $field:ident) => {
        ::quote::quote!($field)
    };
    (@field $key:ident) => {
        ::quote::quote!($key)
    };
}

/// Declares a setting that takes one of a fixed set of strings, as a Rust
/// enum mirrored by a runtime enum of the same variant names (its path
/// under `faucet_runtime`). The strings, the reading, the generated value
/// and the JSON of the setting all come from this one declaration. `later`
/// lists faucet-stream values faucet does not support yet.
///
/// ```ignore
/// choice! {
///     /// What a file source does with input it cannot parse.
///     pub enum OnParseError => config::files::OnParseError {
///         /// Fail the run.
///         Fail = "fail",
///         …
///     }
/// }
/// ```
macro_rules! choice {
    (
        $(#[doc = $doc:literal])*
        $vis:vis enum $name:ident => $($runtime:ident)::+ {
            $(
                $(#[doc = $vdoc:literal])*
                $variant:ident = $value:literal
            ),* $(,)?
        }
        $(later: [$($later:literal),* $(,)?])?
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $(
                $(#[doc = $vdoc])*
                $variant,
            )*
        }

        impl $name {
            /// The values, as written in a config.
            pub(crate) const VALUES: &'static [&'static str] = &[$($value),*];

            /// The value as written in a config.
            #[allow(dead_code)]
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)*
                }
            }

            /// The variant a config's value names.
            #[allow(dead_code)]
            pub(crate) fn from_value(value: &str) -> ::core::option::Option<Self> {
                match value {
                    $($value => ::core::option::Option::Some($name::$variant),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl $crate::settings::Setting for $name {
            const KIND: $crate::spec::Kind = $crate::spec::Kind::OneOf($name::VALUES);

            fn read(
                node: &$crate::load::Node,
                key: &'static str,
                diags: &mut $crate::diag::Diagnostics,
            ) -> ::core::option::Option<Self> {
                let later: &[&str] = &[$($($later),*)?];
                if let $crate::load::Value::Str(s) = &node.value
                    && later.contains(&s.as_str())
                {
                    diags.error(&node.loc, ::std::format!("`{key}: {s}` is not supported by faucet yet"));
                    return ::core::option::Option::None;
                }
                let value = $crate::read::one_of(node, key, Self::VALUES, diags)?;
                Self::from_value(value)
            }

            fn emit(&self, g: &$crate::emit::Gen) -> ::proc_macro2::TokenStream {
                let rt = g.rt();
                let ty = ::quote::quote!(#rt::$($runtime)::+);
                match self {
                    $($name::$variant => ::quote::quote!(#ty::$variant),)*
                }
            }

            fn to_json(&self) -> ::serde_json::Value {
                ::serde_json::Value::from(self.as_str())
            }
        }
    };
}

pub(crate) use {choice, settings};

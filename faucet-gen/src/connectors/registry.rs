//! What a connector is to the generator, and the macro that registers one.
//!
//! A connector module declares its settings (`settings!`) and implements
//! [`Connector`]; `connectors/mod.rs` registers it with one line of
//! [`register!`], which writes the IR enum, the list of type names, the
//! schema's variants and the dispatch of reading and emitting.

use proc_macro2::TokenStream;

use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::Node;
use crate::spec::Spec;

/// A source or sink connector's settings, as the generator sees them.
pub(crate) trait Connector: Sized {
    /// The config's declared keys (for a connector registered under several
    /// types with different keys, the registration names each one's).
    const SPEC: Spec;

    /// Reads and checks the config of connector type `tag`, described as
    /// `what` in messages ("the `csv` source config").
    fn read(tag: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self>;

    /// The expression that builds the connector: its config literal and its
    /// constructor, gated by its cargo feature (`loc` is the config's `type:`).
    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream;
}

/// Large settings are boxed in the IR enum; the box changes nothing else.
impl<T: Connector> Connector for Box<T> {
    const SPEC: Spec = T::SPEC;

    fn read(tag: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        T::read(tag, config, what, diags).map(Box::new)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        T::emit(self, g, loc)
    }
}

/// Registers the source or sink connectors: one line each,
/// `Variant(Type): "tag", "other-tag" = SPEC_FOR_IT;`. A tag whose config
/// takes two shapes lists both specs (`"file" = OBJECTS | ONE_FILE`) for the
/// schema and the docs; its reading is the dispatch's (`connectors::read_source`).
macro_rules! register {
    (
        $(#[doc = $doc:literal])*
        pub enum $kind:ident($role:literal) {
            $(
                $(#[doc = $vdoc:literal])*
                $variant:ident($ty:ty): $($tag:literal $(= $spec:path $(| $also:path)*)?),+;
            )*
        }
        types: $types:ident,
        specs: $specs:ident,
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone)]
        pub enum $kind {
            $(
                $(#[doc = $vdoc])*
                $variant($ty),
            )*
        }

        /// The type names, in registration order.
        pub(crate) const $types: &[&str] = &[$($($tag),+),*];

        /// Each type's config spec, for the schema.
        pub(crate) static $specs: &[$crate::spec::Variant] = &[$($(
            $crate::spec::Variant {
                tag: $tag,
                nested: true,
                spec: ::core::option::Option::Some(
                    &$crate::connectors::registry::register!(@spec $ty $(, $spec)?),
                ),
            },
            $($(
                $crate::spec::Variant { tag: $tag, nested: true, spec: ::core::option::Option::Some(&$also) },
            )*)?
        )+)*];

        impl $kind {
            /// Reads the config of connector type `tag`: `None` when `tag` is
            /// not one of these, `Some(None)` when the config is invalid.
            pub(crate) fn read(
                tag: &str,
                config: &$crate::load::Node,
                diags: &mut $crate::diag::Diagnostics,
            ) -> ::core::option::Option<::core::option::Option<Self>> {
                let what = ::std::format!("the `{tag}` {} config", $role);
                ::core::option::Option::Some(match tag {
                    $(
                        $($tag)|+ => <$ty as $crate::connectors::registry::Connector>::read(tag, config, what, diags)
                            .map($kind::$variant),
                    )*
                    _ => return ::core::option::Option::None,
                })
            }

            /// The expression that builds the connector.
            pub(crate) fn emit(&self, g: &$crate::emit::Gen, loc: &$crate::diag::Loc) -> ::proc_macro2::TokenStream {
                match self {
                    $($kind::$variant(c) => $crate::connectors::registry::Connector::emit(c, g, loc),)*
                }
            }
        }
    };
    (@spec $ty:ty, $spec:expr) => { $spec };
    (@spec $ty:ty) => { <$ty as $crate::connectors::registry::Connector>::SPEC };
}

pub(crate) use register;

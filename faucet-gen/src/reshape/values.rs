//! `redact`, `value_case`, `hash` and `cast` on a typed stream: each
//! rewritten value stays in its place, computed by the runtime's own
//! functions (`ValueCaseMode::apply`, `Hash::digest`, `cast::text_to_int`,
//! …), so typed and untyped records come out the same.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Body, Part, Slot};
use crate::ir::{CastOnError, CastType};
use crate::record_schema::FieldType;
use crate::record_schema::flow::values::Rewrite;
use crate::records::{Layers, Type, value_type};

impl Body<'_, '_> {
    /// Rewrites the slots `rewrites` names; the others pass as they are.
    pub(super) fn rewrite(&mut self, part: &Part<'_>, rewrites: &[Rewrite], slots: Vec<Slot>) -> Vec<Slot> {
        let mut out = Vec::with_capacity(slots.len());
        for ((slot, rewrite), field) in slots.into_iter().zip(rewrites).zip(&part.output.fields) {
            let local = slot.local.clone();
            let layers = Layers::of(&slot.field);
            let slot = match rewrite {
                Rewrite::Kept => slot,
                Rewrite::Masked(mask) => {
                    // The old value is dropped here, never copied.
                    let value = if layers.required {
                        quote!(String::from(#mask))
                    } else {
                        quote!(#local.map(|_| String::from(#mask)))
                    };
                    self.stmts.push(quote! {
                        let _ = #local;
                        let #local = #value;
                    });
                    let same_type = matches!(&slot.ty, Type::Plain(ty) if ty.to_string() == "String");
                    let origin = if same_type { slot.origin } else { None };
                    Slot { ty: Type::Plain(quote!(String)), origin, ..slot }
                }
                Rewrite::Recased(mode) => {
                    let mode = crate::settings::Setting::emit(mode, self.g);
                    let value = in_layers(&local, layers, |v| quote!(#mode.apply(&#v)));
                    self.stmts.push(quote!(let #local = #value;));
                    slot
                }
                Rewrite::Hashed => {
                    let state = self.state(part);
                    let value = in_layers(&local, layers, |v| quote!(self.#state.digest(&#v)));
                    self.stmts.push(quote!(let #local = #value;));
                    slot
                }
                Rewrite::Cast(to, on_error) => {
                    let value = self.cast(&slot, *to, *on_error);
                    self.stmts.push(quote!(let #local = #value;));
                    Slot { ty: value_type(&field.ty), origin: None, ..slot }
                }
            };
            out.push(Slot { field: field.clone(), ..slot });
        }
        out
    }
}

impl Body<'_, '_> {
    /// `slot`'s value cast to `to`, in the layers the flow gives it: a
    /// conversion that fails rejects the record with the runtime's message
    /// (`on_error: error`) or makes the value null (`null`); `skip` is only
    /// generated where every value converts.
    fn cast(&self, slot: &Slot, to: CastType, on_error: CastOnError) -> TokenStream {
        let rt = self.g.rt();
        let (local, name, from) = (&slot.local, &slot.field.name, &slot.field.ty);
        let to_tokens = crate::settings::Setting::emit(&to, self.g);
        let fail = quote!(#rt::transform::Cast::failure(#name, #to_tokens, why));
        let null = quote!(return Err(#rt::transform::Cast::failure(#name, #to_tokens, #rt::transform::cast::null_is_not(#to_tokens))));
        let convert = |v: TokenStream| conversion(rt, from, to, v);
        // The value converted, or the record rejected.
        let checked = |v: TokenStream| match convert(v) {
            (converted, true) => quote!(#converted.map_err(|why| #fail)?),
            (converted, false) => converted,
        };
        // The value converted, or `None`.
        let or_null = |v: TokenStream| match convert(v) {
            (converted, true) => quote!(#converted.ok()),
            (converted, false) => quote!(Some(#converted)),
        };
        let layers = Layers::of(&slot.field);
        match on_error {
            CastOnError::Error => {
                let value = checked(quote!(value));
                match (layers.nullable, layers.required) {
                    (false, true) => checked(quote!(#local)),
                    (true, true) => quote!(match #local { Some(value) => #value, None => #null }),
                    (false, false) => quote!(match #local { Some(value) => Some(#value), None => None }),
                    (true, false) => quote! {
                        match #local {
                            Some(Some(value)) => Some(#value),
                            Some(None) => #null,
                            None => None,
                        }
                    },
                }
            }
            CastOnError::Null => {
                let value = or_null(quote!(value));
                match (layers.nullable, layers.required) {
                    (false, true) => or_null(quote!(#local)),
                    (true, true) => quote!(#local.and_then(|value| #value)),
                    (false, false) => quote!(#local.map(|value| #value)),
                    (true, false) => quote!(#local.map(|value| value.and_then(|value| #value))),
                }
            }
            CastOnError::Skip => in_layers(local, layers, |v| convert(v).0),
        }
    }
}

/// How `cast` converts `v`, a (non-null) member of type `from`, to `to`:
/// the expression, and whether it is a `Result` with the runtime's reason.
/// Each fallible conversion is the runtime's own
/// (`rt::transform::cast::text_to_int`, …), which its untyped `cast` calls too.
fn conversion(rt: &TokenStream, from: &FieldType, to: CastType, v: TokenStream) -> (TokenStream, bool) {
    let c = quote!(#rt::transform::cast);
    match (from, to) {
        (FieldType::Integer, CastType::Int)
        | (FieldType::Number, CastType::Float)
        | (FieldType::Boolean, CastType::Bool)
        | (FieldType::String, CastType::String) => (v, false),
        (FieldType::Integer, CastType::Float) => (quote!(#v as f64), false),
        (FieldType::Integer, CastType::Bool) => (quote!(#c::int_to_bool(#v)), true),
        (FieldType::Integer | FieldType::Boolean, CastType::String) => (quote!(#v.to_string()), false),
        (FieldType::Number, CastType::Int) => (quote!(#c::float_to_int(#v)), true),
        (FieldType::Number, CastType::Bool) => (quote!(#c::float_to_bool(#v)), true),
        (FieldType::Number, CastType::String) => (quote!(#c::float_to_text(#v)), false),
        (FieldType::Boolean, CastType::Int) => (quote!(i64::from(#v)), false),
        (FieldType::Boolean, CastType::Float) => (quote!(f64::from(u8::from(#v))), false),
        (FieldType::String, CastType::Int) => (quote!(#c::text_to_int(&#v)), true),
        (FieldType::String, CastType::Float) => (quote!(#c::text_to_float(&#v)), true),
        (FieldType::String, CastType::Bool) => (quote!(#c::text_to_bool(&#v)), true),
        (FieldType::String, CastType::Timestamp) => (quote!(#c::text_to_timestamp(&#v)), true),
        _ => unreachable!(
            "the flow casts members of these types only, and never a number or boolean to a timestamp"
        ),
    }
}

/// `f` applied to the value of `local`, held in `layers` (`Option`s kept).
fn in_layers(
    local: &proc_macro2::Ident,
    layers: Layers,
    f: impl Fn(TokenStream) -> TokenStream,
) -> TokenStream {
    let inner = f(quote!(value));
    match layers.depth() {
        0 => f(quote!(#local)),
        1 => quote!(#local.map(|value| #inner)),
        _ => quote!(#local.map(|value| value.map(|value| #inner))),
    }
}

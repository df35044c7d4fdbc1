//! `redact`, `value_case` and `hash` on a typed stream: each rewritten value
//! stays in its place, computed by the runtime's own functions
//! (`ValueCaseMode::apply`, `Hash::digest`), so typed and untyped records
//! come out the same.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Body, Part, Slot};
use crate::record_schema::flow::values::Rewrite;
use crate::records::{Layers, Type};

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
            };
            out.push(Slot { field: field.clone(), ..slot });
        }
        out
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

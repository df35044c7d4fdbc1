//! A bridged transform on a typed stream (`cast`, `coalesce`, `json_parse`,
//! `lookup`, …): the values of the fields it names are put into a small JSON
//! object (copies: the locals keep them), the runtime transform runs on it,
//! and the fields it writes are taken back into new typed locals
//! (`faucet_runtime::transform::bridge`). The other fields never leave
//! their locals.

use std::collections::HashMap;

use quote::{format_ident, quote};

use super::{Body, Loop, Part, Slot};
use crate::record_schema::flow::bridge::Bridge;
use crate::records::{Layers, value_type};

impl Body<'_, '_> {
    /// Runs the transform of `part` on the slots `bridge` names.
    pub(super) fn bridge(&mut self, part: &Part<'_>, bridge: &Bridge, slots: Vec<Slot>) -> Vec<Slot> {
        let rt = self.g.rt().clone();
        let b = quote!(#rt::transform::bridge);
        let state = self.state(part);
        let fields = self.local("fields");
        let mut by_name: HashMap<String, Slot> =
            slots.into_iter().map(|s| (s.field.name.clone(), s)).collect();
        let mut puts = Vec::new();
        for name in &bridge.names {
            let Some(slot) = by_name.get(name) else { continue };
            let local = &slot.local;
            let layers = Layers::of(&slot.field);
            let put = format_ident!("put{}", suffix(layers));
            let value = match layers.depth() {
                0 => quote!(&#local),
                1 => quote!(#local.as_ref()),
                _ => quote!(#local.as_ref().map(Option::as_ref)),
            };
            puts.push(quote!(#b::#put(&mut #fields, #name, #value)?;));
        }
        self.stmts.push(quote! {
            let mut #fields = #b::Fields::new();
            #(#puts)*
        });
        // What `unpivot` leaves out of its rows without reading it: dropped
        // here, before any loop over rows.
        let kept =
            |s: &&Slot| bridge.names.contains(&s.field.name) || part.output.field(&s.field.name).is_some();
        let mut dropped: Vec<&Slot> = by_name.values().filter(|s| !kept(s)).collect();
        dropped.sort_by_key(|s| s.local.to_string());
        let dropped: Vec<_> = dropped.iter().map(|s| &s.local).collect();
        match dropped.as_slice() {
            [] => {}
            [one] => self.stmts.push(quote!(let _ = #one;)),
            many => self.stmts.push(quote!(let _ = (#(#many),*);)),
        }
        let skip = self.skip.clone();
        let returns = quote!(#b::apply(&mut self.#state, #fields)?);
        if bridge.expands {
            // The statements from here on run once per record it makes.
            let rows = quote!(#b::expand(&mut self.#state, #fields)?);
            let before = std::mem::take(&mut self.stmts);
            self.loops.push(Loop { before, head: quote!(for mut #fields in #rows) });
            self.skip = quote!(continue);
            // Each record gets its own copy of the fields the transform does not write.
            for f in &part.output.fields {
                if let Some(slot) = by_name.get(&f.name).filter(|_| !bridge.writes.contains(&f.name)) {
                    let local = &slot.local;
                    self.stmts.push(quote!(let #local = #local.clone();));
                }
            }
        } else if bridge.writes.is_empty() {
            // `filter`: it only says whether the record stays.
            self.stmts.push(quote! {
                if #returns.is_none() {
                    #skip;
                }
            });
        } else {
            self.stmts.push(quote! {
                let Some(mut #fields) = #returns else {
                    #skip;
                };
            });
        }
        let mut out = Vec::with_capacity(part.output.fields.len());
        for f in &part.output.fields {
            let before = by_name.remove(&f.name);
            if !bridge.writes.contains(&f.name) {
                let slot = before.expect("a field the transform does not write stays");
                out.push(Slot { field: f.clone(), ..slot });
                continue;
            }
            // A value that comes back as it went keeps its type (a nested struct, say).
            let ty = match before {
                Some(slot) if slot.field == *f => slot.ty,
                _ => value_type(&f.ty),
            };
            let local = self.local(&f.name);
            let rust = ty.tokens(self.g);
            let name = &f.name;
            let take = format_ident!("take{}", suffix(Layers::of(f)));
            self.stmts.push(quote!(let #local = #b::#take::<#rust>(&mut #fields, #name)?;));
            out.push(Slot { field: f.clone(), local, ty, null_only: false, origin: None });
        }
        out
    }
}

/// The suffix of the `bridge` function that puts or takes a value held in
/// `layers`: `put`, `put_nullable`, `put_optional` or `put_maybe`.
fn suffix(layers: Layers) -> &'static str {
    match (layers.nullable, layers.required) {
        (false, true) => "",
        (true, true) => "_nullable",
        (false, false) => "_optional",
        (true, false) => "_maybe",
    }
}

//! `filter` on a typed stream: the condition, checked against the schema at
//! build time, becomes a comparison of the field's member with literals of
//! its own type, with faucet-stream's rules for a missing or null field
//! (`eq`/`in` false, `ne`/`not_in` true).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use super::{Body, Part, Slot};
use crate::ir::FilterOp;
use crate::record_schema::FieldType;
use crate::record_schema::flow::rows::Test;
use crate::records::{Layers, Type};

impl Body<'_, '_> {
    /// `if <the record fails the test> { return Ok(None); }` (or the loop's
    /// `continue`); every value stays where it is.
    pub(super) fn filter(&mut self, _part: &Part<'_>, test: &Test, slots: Vec<Slot>) -> Vec<Slot> {
        let slot = &slots[test.field];
        // Down through members of structs that are always there.
        let (mut local, mut field, mut ty) = (slot.local.to_token_stream(), &slot.field, &slot.ty);
        for &i in &test.inside {
            let Type::Struct(object) = ty else { unreachable!("the flow walks objects") };
            let member = &object.members[i];
            let ident = &member.ident;
            (local, field, ty) = (quote!(#local.#ident), &member.field, &member.ty);
        }
        let local = &local;
        let slot_field = field;
        let depth = Layers::of(slot_field).depth();
        let keep_equal = matches!(test.op, FilterOp::Eq | FilterOp::In);
        let drop = match test.op {
            FilterOp::Exists => match depth {
                0 => None,
                1 => Some(quote!(#local.is_none())),
                _ => Some(quote!(!matches!(#local, Some(Some(_))))),
            },
            _ if depth == 0 => {
                let (equal, differs) = compare(&slot_field.ty, quote!(#local), false, &test.values);
                Some(if keep_equal { differs } else { equal })
            }
            _ => {
                let (equal, _) = compare(&slot_field.ty, quote!(value), true, &test.values);
                let found = if depth == 1 {
                    quote!(#local.as_ref())
                } else {
                    quote!(#local.as_ref().and_then(Option::as_ref))
                };
                let equal = quote!(#found.is_some_and(|value| #equal));
                // A missing or null field equals nothing.
                Some(if keep_equal { quote!(!#equal) } else { equal })
            }
        };
        if let Some(drop) = drop {
            let skip = &self.skip;
            self.stmts.push(quote! {
                if #drop {
                    #skip;
                }
            });
        }
        slots
    }
}

/// Whether `place` (a `T`, or a `&T` when `by_ref`, of a member of type
/// `ty`) equals one of `values` as JSON compares them (numbers by value,
/// never a string with a number), and its negation.
fn compare(
    ty: &FieldType,
    place: TokenStream,
    by_ref: bool,
    values: &[serde_json::Value],
) -> (TokenStream, TokenStream) {
    let deref = if by_ref && !matches!(ty, FieldType::String) { quote!(*#place) } else { place.clone() };
    if matches!(ty, FieldType::Boolean) {
        let has = |b: bool| values.contains(&serde_json::Value::Bool(b));
        return match (has(true), has(false)) {
            (true, true) => (quote!(true), quote!(false)),
            (true, false) => (deref.clone(), quote!(!#deref)),
            (false, true) => (quote!(!#deref), deref),
            (false, false) => (quote!(false), quote!(true)),
        };
    }
    let literals: Vec<TokenStream> = values.iter().filter_map(|v| literal(ty, v)).collect();
    match literals.as_slice() {
        [] => (quote!(false), quote!(true)),
        [one] => (quote!(#deref == #one), quote!(#deref != #one)),
        many => {
            let equal = match ty {
                FieldType::String => quote!(matches!(#place.as_str(), #(#many)|*)),
                FieldType::Integer => quote!(matches!(#deref, #(#many)|*)),
                _ => {
                    let borrowed = if by_ref { place } else { quote!(&#place) };
                    quote!([#(#many),*].contains(#borrowed))
                }
            };
            (equal.clone(), quote!(!#equal))
        }
    }
}

/// `v` as a literal of the member's type; `None` when no value of it equals `v`.
fn literal(ty: &FieldType, v: &serde_json::Value) -> Option<TokenStream> {
    match (ty, v) {
        (FieldType::String, serde_json::Value::String(s)) => Some(quote!(#s)),
        (FieldType::Integer, serde_json::Value::Number(n)) => {
            let i = n
                .as_i64()
                .or_else(|| n.as_f64().filter(|x| x.fract() == 0.0 && x.abs() < 9.2e18).map(|x| x as i64))?;
            Some(proc_macro2::Literal::i64_suffixed(i).into_token_stream())
        }
        (FieldType::Number, serde_json::Value::Number(n)) => {
            Some(proc_macro2::Literal::f64_suffixed(n.as_f64()?).into_token_stream())
        }
        _ => None,
    }
}

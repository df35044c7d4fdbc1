//! The row transforms on untyped records: `filter`'s predicate, built from
//! literals once when the pipeline is built (never parsed per record), and
//! `explode` and `unpivot`, which return several records per record.

use proc_macro2::TokenStream;
use quote::quote;

use super::json_tokens;
use crate::emit::{Gen, vec};
use crate::ir::{Explode, Filter, FilterOp, Unpivot, UnpivotColumns};
use crate::settings::Setting;

impl Gen<'_> {
    /// `rt::transform::Filter::new([keys], predicate)`.
    pub(crate) fn filter(&self, f: &Filter) -> TokenStream {
        let rt = self.rt();
        let tr = quote!(#rt::transform);
        let keys = &f.path.keys;
        let json = |v: &serde_json::Value| {
            let v = json_tokens(v);
            quote!(#rt::serde_json::json!(#v))
        };
        let list = || match &f.value {
            Some(serde_json::Value::Array(items)) => vec(items.iter().map(json)),
            _ => quote!(Vec::new()),
        };
        let value = || f.value.as_ref().map_or_else(|| quote!(#rt::serde_json::Value::Null), json);
        let predicate = match f.op {
            FilterOp::Eq => {
                let v = value();
                quote!(#tr::Predicate::Eq(#v))
            }
            FilterOp::Ne => {
                let v = value();
                quote!(#tr::Predicate::Ne(#v))
            }
            FilterOp::Exists => quote!(#tr::Predicate::Exists),
            FilterOp::In => {
                let l = list();
                quote!(#tr::Predicate::In(#l))
            }
            FilterOp::NotIn => {
                let l = list();
                quote!(#tr::Predicate::NotIn(#l))
            }
        };
        quote!(#tr::Filter::new([#(#keys),*], #predicate))
    }

    /// `rt::transform::Explode::new(…)?`, with its `carry`.
    pub(crate) fn explode(&self, e: &Explode) -> TokenStream {
        let rt = self.rt();
        let tr = quote!(#rt::transform);
        let keys = &e.path.keys;
        let prefix = match &e.prefix {
            Some(p) => quote!(Some(#p)),
            None => quote!(None),
        };
        let separator = &e.separator;
        let on_missing = e.on_missing.emit(self);
        let carry = e.carry.iter().map(|(field, from)| {
            let from = &from.keys;
            quote!(.carry(#field, [#(#from),*]))
        });
        quote!(#tr::Explode::new([#(#keys),*], #prefix, #separator, #on_missing)? #(#carry)*)
    }

    /// `rt::transform::Unpivot::new(…)`.
    pub(crate) fn unpivot(&self, u: &Unpivot) -> TokenStream {
        let rt = self.rt();
        let tr = quote!(#rt::transform);
        let strings = |names: &[String]| vec(names.iter().map(|n| quote!(String::from(#n))));
        let ids = strings(&u.id_fields);
        let columns = match &u.columns {
            UnpivotColumns::Listed(columns) => {
                let columns = strings(columns);
                quote!(#tr::Columns::Listed(#columns))
            }
            UnpivotColumns::AllButIds => quote!(#tr::Columns::AllButIds),
            UnpivotColumns::From(from) => quote!(#tr::Columns::From(String::from(#from))),
        };
        let (key, value) = (&u.key_name, &u.value_name);
        let drop_nulls = u.drop_nulls.then(|| quote!(.drop_nulls(true)));
        let drop_if_empty = u.drop_if_empty.then(|| quote!(.drop_if_empty(true)));
        quote!(#tr::Unpivot::new(#ids, #key, #value, #columns) #drop_nulls #drop_if_empty)
    }
}

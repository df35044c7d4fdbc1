//! The value transforms (`redact`, `value_case`, `hash`, `json_parse`,
//! `json_encode`, `split`, `join`, `lookup`) as the runtime's, on untyped records.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::{Gen, option, vec};
use crate::ir::values::{Reference, SplitJoin};
use crate::ir::{Named, Transform};
use crate::settings::Setting;

/// The runtime transform `t` is.
pub(super) fn transform(g: &Gen, t: &Transform) -> TokenStream {
    let rt = g.rt();
    let tr = quote!(#rt::transform);
    match t {
        Transform::Redact { fields, mask } => {
            let fields = names(fields);
            let mask = match mask {
                serde_json::Value::String(s) => quote!(#rt::serde_json::Value::from(#s)),
                other => {
                    let v = super::json_tokens(other);
                    quote!(#rt::serde_json::json!(#v))
                }
            };
            quote!(#tr::Redact::new(#fields, #mask))
        }
        Transform::ValueCase { fields, mode } => {
            let fields = names(fields);
            let mode = mode.emit(g);
            quote!(#tr::ValueCase::new(#fields, #mode))
        }
        Transform::Hash(h) => {
            let fields = names(&h.fields);
            let (algorithm, encoding) = (h.algorithm.emit(g), h.encoding.emit(g));
            // Read from the environment (or a file) when the pipeline is built, masked in messages.
            let salt = option(h.salt.as_ref().map(|s| g.text(s)));
            let into = into(h.into.as_ref());
            quote!(#tr::Hash::new(#fields, #algorithm, #encoding, #salt, #into))
        }
        Transform::JsonParse(p) => {
            let fields = names(&p.fields);
            let on_error = p.on_error.emit(g);
            let into = into(p.into.as_ref());
            quote!(#tr::JsonParse::new(#fields, #on_error, #into))
        }
        Transform::JsonEncode { fields } => {
            let fields = names(fields);
            quote!(#tr::JsonEncode::new(#fields))
        }
        Transform::Split(SplitJoin { field, delimiter, trim, into: target }) => {
            let (field, target) = (&field.name, into(target.as_ref()));
            quote!(#tr::Split::new(String::from(#field), String::from(#delimiter), #trim, #target))
        }
        Transform::Join(SplitJoin { field, delimiter, into: target, .. }) => {
            let (field, target) = (&field.name, into(target.as_ref()));
            quote!(#tr::Join::new(String::from(#field), String::from(#delimiter), #target))
        }
        Transform::Lookup(l) => {
            let (on_record, on_ref) = (&l.on_record.name, &l.on_ref.name);
            let add = vec(l.add.iter().map(|(column, from)| {
                let from = &from.name;
                quote!((String::from(#column), String::from(#from)))
            }));
            let on_missing = l.on_missing.emit(g);
            let config = quote! {
                #tr::LookupConfig {
                    on_record: String::from(#on_record),
                    on_ref: String::from(#on_ref),
                    add: #add,
                    on_missing: #on_missing,
                }
            };
            match &l.reference {
                Reference::Rows(rows) => {
                    // The table read at build time, one row per line, compiled in.
                    let text: String = rows
                        .iter()
                        .map(|row| serde_json::to_string(row).unwrap_or_default() + "\n")
                        .collect();
                    quote!(#tr::Lookup::new(#config, #text)?)
                }
                Reference::File(path) => {
                    let path = g.text(path);
                    quote!(#tr::Lookup::from_file(#config, &#path)?)
                }
            }
        }
        _ => unreachable!("not a value transform"),
    }
}

fn names(fields: &[Named]) -> TokenStream {
    vec(fields.iter().map(|f| {
        let name = &f.name;
        quote!(String::from(#name))
    }))
}

fn into(target: Option<&Named>) -> TokenStream {
    option(target.map(|f| {
        let name = &f.name;
        quote!(String::from(#name))
    }))
}

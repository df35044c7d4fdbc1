//! The generated description of a stream's records, when their schema is
//! known at build time: a `SCHEMA` constant (`rt::schema::Schema`, which the
//! table sinks create their columns from) and a documented `Record` struct
//! with one member per field, which reads and writes the records exactly.
//!
//! Members are named in snake case (`#[serde(rename)]` keeps the record's
//! key); nullable fields and fields that may be absent are `Option`s (both:
//! `Option<Option<T>>`, `None` absent and `Some(None)` null); each
//! type round-trips its values: decimals as `rt::schema::Decimal` (their
//! digits), JSON as `serde_json::Value`, dates, times, timestamps and binary
//! (base64) as the `String` the sources give; nested objects with known fields
//! become structs of their own.

use std::collections::HashSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};

use crate::emit::{Gen, int_lit, option};
use crate::record_schema::{FieldDef, FieldType, Origin, RecordSchema};

/// The names of the items generated for one schema.
pub(crate) struct Names<'a> {
    /// The constant (`SCHEMA`).
    pub(crate) constant: &'a str,
    /// The struct (`Record`); nested objects' structs are named after it.
    pub(crate) record: &'a str,
    /// Which records, for the doc comments ("the records the sink receives").
    pub(crate) what: &'a str,
}

/// The constant and the structs describing `schema`.
pub(crate) fn emit(g: &Gen, schema: &RecordSchema, names: &Names<'_>) -> TokenStream {
    let rt = g.rt();
    let origin = origin(schema);
    let constant = format_ident!("{}", names.constant);
    let fields = schema.fields.iter().map(|f| field_value(g, f));
    let open = schema.open;
    let constant_doc = format!(" The fields of {} (from {origin}).", names.what);
    let mut structs = Structs { g, origin: &origin, used: HashSet::new(), out: Vec::new() };
    structs.used.insert(names.record.to_owned());
    let record_doc = format!(
        " One of {}, as [`{}`] describes it: it reads and writes such a record exactly.",
        names.what, names.constant
    );
    let extra = open.then_some(" Keys not listed here are allowed, and ignored when read.");
    structs.record(names.record, &[record_doc.as_str()], extra, &schema.fields);
    let structs = structs.out;
    quote! {
        #[doc = #constant_doc]
        pub const #constant: #rt::schema::Schema = #rt::schema::Schema {
            fields: &[#(#fields),*],
            open: #open,
            origin: #origin,
        };

        #(#structs)*
    }
}

/// Where the fields come from, for doc comments: "MySQL table `shop.orders`"
/// (the offline cache's file is left out: the table is what matters here).
fn origin(schema: &RecordSchema) -> String {
    fn uncached(origin: &Origin) -> Origin {
        match origin {
            Origin::Table { database, name, .. } => {
                Origin::Table { database: *database, name: name.clone(), cache: None }
            }
            Origin::Transform { name, from } => {
                Origin::Transform { name: name.clone(), from: Box::new(uncached(from)) }
            }
            other => other.clone(),
        }
    }
    let note = uncached(&schema.origin).note();
    note.strip_prefix("the fields come from ").map(str::to_owned).unwrap_or(note)
}

/// A field as an `rt::schema::Field` literal.
fn field_value(g: &Gen, f: &FieldDef) -> TokenStream {
    let rt = g.rt();
    let (name, nullable, required) = (&f.name, f.nullable, f.required);
    let ty = type_value(g, &f.ty);
    quote!(#rt::schema::Field { name: #name, ty: #ty, nullable: #nullable, required: #required })
}

/// A type as an `rt::schema::FieldType` constant expression.
fn type_value(g: &Gen, ty: &FieldType) -> TokenStream {
    let rt = g.rt();
    let t = quote!(#rt::schema::FieldType);
    let option = |v: Option<u32>| option(v.map(|v| int_lit(u64::from(v)).into_token_stream()));
    match ty {
        FieldType::String => quote!(#t::String),
        FieldType::Integer => quote!(#t::Integer),
        FieldType::Number => quote!(#t::Number),
        FieldType::Decimal { precision, scale } => {
            let (precision, scale) = (option(*precision), option(*scale));
            quote!(#t::Decimal { precision: #precision, scale: #scale })
        }
        FieldType::Boolean => quote!(#t::Boolean),
        FieldType::Date => quote!(#t::Date),
        FieldType::Time => quote!(#t::Time),
        FieldType::Timestamp { time_zone } => quote!(#t::Timestamp { time_zone: #time_zone }),
        FieldType::Json => quote!(#t::Json),
        FieldType::Binary => quote!(#t::Binary),
        FieldType::Object { fields } => {
            let fields = fields.iter().map(|f| field_value(g, f));
            quote!(#t::Object { fields: &[#(#fields),*] })
        }
        FieldType::Array { items } => {
            let items = type_value(g, items);
            quote!(#t::Array { items: &#items })
        }
        FieldType::Other { name } => quote!(#t::Other { name: #name }),
    }
}

/// The structs of one schema: the record's, then one per nested object.
struct Structs<'g, 'a> {
    g: &'g Gen<'a>,
    origin: &'g str,
    /// Struct names taken.
    used: HashSet<String>,
    out: Vec<TokenStream>,
}

impl Structs<'_, '_> {
    /// Emits struct `name` for `fields` (doc: `doc` lines, then `extra`).
    fn record(&mut self, name: &str, doc: &[&str], extra: Option<&str>, fields: &[FieldDef]) {
        let rt = self.g.rt().clone();
        let ident = format_ident!("{name}");
        // The struct comes before the structs of its nested objects.
        let at = self.out.len();
        self.out.push(TokenStream::new());
        let mut members = Vec::new();
        let mut taken = HashSet::new();
        for f in fields {
            let member = unique(member_name(&f.name), &mut taken);
            let ty = self.rust_type(name, &f.name, &f.ty);
            // Absent and null are told apart, so a record is written back as it was read.
            let ty = match (f.nullable, f.required) {
                (true, false) => quote!(Option<Option<#ty>>),
                (false, true) => ty,
                _ => quote!(Option<#ty>),
            };
            let doc = format!(" `{}`: {}. From {}.", f.name, describe(f), self.origin);
            let rename = (member.to_string().trim_start_matches("r#") != f.name).then(|| {
                let key = &f.name;
                quote!(#[serde(rename = #key)])
            });
            let absent = match (f.nullable, f.required) {
                (true, false) => Some(quote! {
                    #[serde(
                        default,
                        deserialize_with = "rt::schema::present",
                        skip_serializing_if = "::core::option::Option::is_none"
                    )]
                }),
                (false, false) => {
                    Some(quote!(#[serde(default, skip_serializing_if = "::core::option::Option::is_none")]))
                }
                _ => None,
            };
            members.push(quote! {
                #[doc = #doc]
                #rename
                #absent
                pub #member: #ty
            });
        }
        let extra = extra.map(|e| quote!(#[doc = #e]));
        self.out[at] = quote! {
            #(#[doc = #doc])*
            #extra
            #[derive(Debug, Clone, PartialEq, #rt::serde::Serialize, #rt::serde::Deserialize)]
            #[serde(crate = "rt::serde")]
            pub struct #ident {
                #(#members,)*
            }
        };
    }

    /// The Rust type of a value of `ty` (field `field` of struct `parent`).
    fn rust_type(&mut self, parent: &str, field: &str, ty: &FieldType) -> TokenStream {
        let rt = self.g.rt().clone();
        match ty {
            FieldType::String
            | FieldType::Date
            | FieldType::Time
            | FieldType::Timestamp { .. }
            | FieldType::Binary
            | FieldType::Other { .. } => quote!(String),
            FieldType::Integer => quote!(i64),
            FieldType::Number => quote!(f64),
            FieldType::Decimal { .. } => quote!(#rt::schema::Decimal),
            FieldType::Boolean => quote!(bool),
            FieldType::Json => quote!(#rt::serde_json::Value),
            FieldType::Object { fields } if fields.is_empty() => {
                quote!(#rt::serde_json::Map<String, #rt::serde_json::Value>)
            }
            FieldType::Object { fields } => {
                let name = unique_type(format!("{parent}{}", camel(field)), &mut self.used);
                let doc = format!(" The object in `{field}` of [`{parent}`].");
                self.record(&name, &[doc.as_str()], None, fields);
                let ident = format_ident!("{name}");
                quote!(#ident)
            }
            FieldType::Array { items } => {
                let item = self.rust_type(parent, &format!("{field}_item"), items);
                quote!(Vec<#item>)
            }
        }
    }
}

/// A field's type and nullability in words: "decimal(12,2), nullable, may be absent".
fn describe(f: &FieldDef) -> String {
    let mut text = f.ty.describe();
    match &f.ty {
        FieldType::Binary => text.push_str(" (base64)"),
        FieldType::Timestamp { time_zone: true } => text.push_str(" (RFC 3339)"),
        FieldType::Timestamp { time_zone: false } | FieldType::Date | FieldType::Time => {
            text.push_str(" (ISO 8601)")
        }
        _ => {}
    }
    if f.nullable {
        text.push_str(", nullable");
    }
    if !f.required {
        text.push_str(", may be absent");
    }
    text
}

/// A record key as a Rust member name: snake case, a raw identifier for a
/// keyword, `field` when nothing of it is left.
fn member_name(key: &str) -> String {
    let mut name = snake(key);
    if name.is_empty() {
        name = "field".to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if syn::parse_str::<Ident>(&name).is_err() {
        // A keyword: raw, except the few that cannot be raw.
        if matches!(name.as_str(), "self" | "super" | "crate" | "_") {
            name.push('_');
        } else {
            name.insert_str(0, "r#");
        }
    }
    name
}

/// `name`, or `name_2`, `name_3`… when taken; marks it taken.
fn unique(name: String, taken: &mut HashSet<String>) -> Ident {
    let mut candidate = name.clone();
    let mut n = 2;
    while !taken.insert(candidate.trim_start_matches("r#").to_owned()) {
        candidate = format!("{}_{n}", name.trim_start_matches("r#"));
        n += 1;
    }
    match candidate.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(&candidate, Span::call_site()),
    }
}

/// A struct name not taken yet (`name`, `name2`…); marks it taken.
fn unique_type(name: String, used: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{name}{n}");
        n += 1;
    }
    candidate
}

/// The words of a key: split at every character that is not a letter or a
/// digit, and where a lowercase letter or digit meets an uppercase one.
fn words(key: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `Order Date` → `order_date`, `orderID` → `order_id`.
fn snake(key: &str) -> String {
    words(key).iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>().join("_")
}

/// `order_date` → `OrderDate` (`Field` when nothing is left, `F1st` for `1st`).
fn camel(key: &str) -> String {
    let mut name: String = words(key)
        .iter()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    if name.is_empty() {
        name = "Field".to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'F');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_member_and_type_names() {
        let cases = [
            ("id", "id"),
            ("Order Date", "order_date"),
            ("orderID", "order_id"),
            ("_faucet_deleted", "faucet_deleted"),
            ("type", "r#type"),
            ("self", "self_"),
            ("1st", "_1st"),
            ("ü", "field"),
        ];
        for (key, want) in cases {
            assert_eq!(member_name(key), want, "{key}");
        }
        assert_eq!(camel("shipping_address"), "ShippingAddress");
        assert_eq!(camel("1st"), "F1st");
        let mut taken = HashSet::new();
        let names: Vec<String> = ["a_b", "aB", "type", "type"]
            .iter()
            .map(|k| unique(member_name(k), &mut taken).to_string())
            .collect();
        assert_eq!(names, ["a_b", "a_b_2", "r#type", "type_2"]);
    }
}

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

/// A generated struct, as the code that fills one or takes one apart sees it.
#[derive(Debug, Clone)]
pub(crate) struct Struct {
    /// Its name.
    pub(crate) ident: Ident,
    /// Its doc comment's first line.
    doc: String,
    /// One member per field, in the schema's order.
    pub(crate) members: Vec<Member>,
}

/// One member of a generated struct.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The member's name (the record's key is the field's name).
    pub(crate) ident: Ident,
    /// The field it holds.
    pub(crate) field: FieldDef,
    /// The type of its value, inside the `Option`s of its [`Layers`].
    pub(crate) ty: Type,
}

/// The Rust type of a value.
#[derive(Debug, Clone)]
pub(crate) enum Type {
    /// A type with no JSON and no generated struct in it (`i64`, `String`, a decimal).
    Plain(TokenStream),
    /// `serde_json::Value`.
    Json,
    /// An object of undeclared fields, `serde_json::Map`.
    Map,
    /// A generated struct.
    Struct(Box<Struct>),
    /// A list.
    Vec(Box<Type>),
}

impl Type {
    /// The type as Rust tokens.
    pub(crate) fn tokens(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        match self {
            Type::Plain(ty) => ty.clone(),
            Type::Json => quote!(#rt::serde_json::Value),
            Type::Map => quote!(#rt::serde_json::Map<String, #rt::serde_json::Value>),
            Type::Struct(s) => s.ident.to_token_stream(),
            Type::Vec(item) => {
                let item = item.tokens(g);
                quote!(Vec<#item>)
            }
        }
    }

    /// Whether a value of `self` is a value of `other` (the same generated structs).
    pub(crate) fn same(&self, other: &Type) -> bool {
        match (self, other) {
            (Type::Plain(a), Type::Plain(b)) => a.to_string() == b.to_string(),
            (Type::Json, Type::Json) | (Type::Map, Type::Map) => true,
            (Type::Struct(a), Type::Struct(b)) => a.ident == b.ident,
            (Type::Vec(a), Type::Vec(b)) => a.same(b),
            _ => false,
        }
    }

    /// Whether a JSON value may be somewhere in it.
    pub(crate) fn holds_json(&self) -> bool {
        match self {
            Type::Plain(_) => false,
            Type::Json | Type::Map => true,
            Type::Struct(s) => s.members.iter().any(|m| m.ty.holds_json()),
            Type::Vec(item) => item.holds_json(),
        }
    }
}

/// How a member holds its field's value: `T` (required, never null),
/// `Option<T>` (`None`: null, or absent), or `Option<Option<T>>` (`None`
/// absent, `Some(None)` null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layers {
    /// The value may be null.
    pub(crate) nullable: bool,
    /// The key is always there.
    pub(crate) required: bool,
}

impl Layers {
    /// The layers of `field`'s member.
    pub(crate) fn of(field: &FieldDef) -> Layers {
        Layers { nullable: field.nullable, required: field.required }
    }

    /// How many `Option`s wrap the value.
    pub(crate) fn depth(self) -> usize {
        usize::from(self.nullable) + usize::from(!self.required)
    }

    /// `ty` inside these layers.
    pub(crate) fn wrap(self, ty: TokenStream) -> TokenStream {
        match self.depth() {
            0 => ty,
            1 => quote!(Option<#ty>),
            _ => quote!(Option<Option<#ty>>),
        }
    }
}

/// The structs of `schema`: the record's, named `record` (documented with
/// `doc`), and one per nested object, named after it.
pub(crate) fn model(schema: &RecordSchema, record: &str, doc: String) -> Struct {
    let mut used = HashSet::from([record.to_owned()]);
    struct_model(record, doc, &schema.fields, &mut used)
}

fn struct_model(name: &str, doc: String, fields: &[FieldDef], used: &mut HashSet<String>) -> Struct {
    let mut taken = HashSet::new();
    let members = fields
        .iter()
        .map(|f| Member {
            ident: unique(member_name(&f.name), &mut taken),
            field: f.clone(),
            ty: type_model(name, &f.name, &f.ty, used),
        })
        .collect();
    Struct { ident: format_ident!("{name}"), doc, members }
}

/// The Rust type of a value of `ty` that holds no object of declared fields
/// (so no struct is made for it).
pub(crate) fn value_type(ty: &FieldType) -> Type {
    type_model("", "value", ty, &mut HashSet::new())
}

/// The Rust type of a value of `ty` (field `field` of struct `parent`).
fn type_model(parent: &str, field: &str, ty: &FieldType, used: &mut HashSet<String>) -> Type {
    match ty {
        FieldType::String
        | FieldType::Date
        | FieldType::Time
        | FieldType::Timestamp { .. }
        | FieldType::Binary
        | FieldType::Other { .. } => Type::Plain(quote!(String)),
        FieldType::Integer => Type::Plain(quote!(i64)),
        FieldType::Number => Type::Plain(quote!(f64)),
        FieldType::Decimal { .. } => Type::Plain(quote!(rt::schema::Decimal)),
        FieldType::Boolean => Type::Plain(quote!(bool)),
        FieldType::Json => Type::Json,
        FieldType::Object { fields } if fields.is_empty() => Type::Map,
        FieldType::Object { fields } => {
            let name = unique_type(format!("{parent}{}", camel(field)), used);
            let doc = format!(" The object in `{field}` of [`{parent}`].");
            Type::Struct(Box::new(struct_model(&name, doc, fields, used)))
        }
        FieldType::Array { items } => {
            Type::Vec(Box::new(type_model(parent, &format!("{field}_item"), items, used)))
        }
    }
}

/// The constant and the structs describing `schema`, and the model of its
/// record's struct. As a `record_type`, that struct is what a typed stream
/// moves: it implements `rt::RecordType`, and rejects keys it does not list.
pub(crate) fn emit(
    g: &Gen,
    schema: &RecordSchema,
    names: &Names<'_>,
    record_type: bool,
) -> (TokenStream, Struct) {
    let rt = g.rt();
    let origin = origin(schema);
    let constant = format_ident!("{}", names.constant);
    let fields = schema.fields.iter().map(|f| field_value(g, f));
    let open = schema.open;
    let constant_doc = format!(" The fields of {} (from {origin}).", names.what);
    let record_doc = format!(
        " One of {}, as [`{}`] describes it: it reads and writes such a record exactly.",
        names.what, names.constant
    );
    let record = model(schema, names.record, record_doc);
    let extra = open.then_some(" Keys not listed here are allowed, and ignored when read.");
    let mut emitter = Emitter { g, origin: &origin, closed: record_type && !open, out: Vec::new() };
    emitter.emit(&record, extra);
    let structs = emitter.out;
    let record_type = record_type.then(|| record_type_impl(g, &record, &constant));
    let tokens = quote! {
        #[doc = #constant_doc]
        pub const #constant: #rt::schema::Schema = #rt::schema::Schema {
            fields: &[#(#fields),*],
            open: #open,
            origin: #origin,
        };

        #(#structs)*

        #record_type
    };
    (tokens, record)
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

/// Writes the structs of a model: each struct, then the structs of its
/// members' nested objects, depth first.
struct Emitter<'g, 'a> {
    g: &'g Gen<'a>,
    origin: &'g str,
    /// Keys not listed are rejected (the struct is a typed stream's record).
    closed: bool,
    out: Vec<TokenStream>,
}

impl Emitter<'_, '_> {
    /// Emits `s` (its doc, then `extra`), then its nested objects' structs.
    fn emit(&mut self, s: &Struct, extra: Option<&str>) {
        let rt = self.g.rt().clone();
        // The struct comes before the structs of its nested objects.
        let at = self.out.len();
        self.out.push(TokenStream::new());
        let mut members = Vec::new();
        for m in &s.members {
            let f = &m.field;
            let member = &m.ident;
            let ty = Layers::of(f).wrap(m.ty.tokens(self.g));
            let doc = format!(" `{}`: {}. From {}.", f.name, describe(f), self.origin);
            let rename = (member.to_string().trim_start_matches("r#") != f.name).then(|| {
                let key = &f.name;
                quote!(#[serde(rename = #key)])
            });
            // Absent and null are told apart, so a record is written back as
            // it was read; a key that must be there, or a null where none may
            // be, does not fit (serde alone would read either as `None`).
            let absent = match (f.nullable, f.required) {
                (_, false) => Some(quote! {
                    #[serde(
                        default,
                        deserialize_with = "rt::schema::present",
                        skip_serializing_if = "::core::option::Option::is_none"
                    )]
                }),
                (true, true) => Some(quote!(#[serde(deserialize_with = "rt::schema::required")])),
                (false, true) => None,
            };
            members.push(quote! {
                #[doc = #doc]
                #rename
                #absent
                pub #member: #ty
            });
            self.nested(&m.ty);
        }
        let doc = &s.doc;
        let extra = extra.map(|e| quote!(#[doc = #e]));
        let deny = self.closed.then(|| quote!(#[serde(deny_unknown_fields)]));
        let ident = &s.ident;
        self.out[at] = quote! {
            #[doc = #doc]
            #extra
            #[derive(Debug, Clone, PartialEq, #rt::serde::Serialize, #rt::serde::Deserialize)]
            #[serde(crate = "rt::serde")]
            #deny
            pub struct #ident {
                #(#members,)*
            }
        };
    }

    /// Emits the structs of the nested objects in a value of `ty`.
    fn nested(&mut self, ty: &Type) {
        match ty {
            Type::Struct(s) => self.emit(s, None),
            Type::Vec(item) => self.nested(item),
            _ => {}
        }
    }
}

/// `impl rt::RecordType` for a typed stream's record: its schema, each
/// field's value by index, and its JSON through serde.
fn record_type_impl(g: &Gen, record: &Struct, constant: &Ident) -> TokenStream {
    let rt = g.rt();
    let fv = quote!(#rt::FieldValue);
    let ident = &record.ident;
    let arms = record.members.iter().enumerate().map(|(i, m)| {
        let index = int_lit(i as u64);
        let member = &m.ident;
        let value = match member_value(g, &m.field.ty, &m.ty, quote!(self.#member), true) {
            // Required and never null: read in place.
            value if Layers::of(&m.field).depth() == 0 => value,
            _ => {
                // Otherwise from the reference the `match` binds.
                let value = member_value(g, &m.field.ty, &m.ty, quote!(value), false);
                let bound =
                    if matches!(m.ty, Type::Plain(_) | Type::Json) { quote!(value) } else { quote!(_) };
                match Layers::of(&m.field) {
                    Layers { nullable: true, required: true } => {
                        quote!(match &self.#member { Some(#bound) => #value, None => #fv::Null })
                    }
                    Layers { nullable: false, .. } => {
                        quote!(match &self.#member { Some(#bound) => #value, None => #fv::Absent })
                    }
                    Layers { nullable: true, required: false } => quote! {
                        match &self.#member {
                            Some(Some(#bound)) => #value,
                            Some(None) => #fv::Null,
                            None => #fv::Absent,
                        }
                    },
                }
            }
        };
        quote!(#index => #value)
    });
    quote! {
        impl #rt::RecordType for #ident {
            const SCHEMA: Option<&'static #rt::schema::Schema> = Some(&#constant);

            fn field(&self, index: usize, _name: &str) -> #rt::FieldValue<'_> {
                match index {
                    #(#arms,)*
                    _ => #fv::Absent,
                }
            }

            fn to_json(&self) -> ::std::borrow::Cow<'_, #rt::serde_json::Value> {
                #rt::record::json_of(self)
            }

            fn from_json(value: #rt::serde_json::Value) -> #rt::Result<Self> {
                #rt::record::from_json_value(value)
            }
        }
    }
}

/// The `rt::FieldValue` of a value of `ty` (a field of type `field`): `value`
/// is the member itself when `in_place`, else a reference to it.
fn member_value(g: &Gen, field: &FieldType, ty: &Type, value: TokenStream, in_place: bool) -> TokenStream {
    let rt = g.rt();
    let fv = quote!(#rt::FieldValue);
    let copied = if in_place { value.clone() } else { quote!(*#value) };
    match (field, ty) {
        (_, Type::Json) if in_place => quote!(#fv::Json(&#value)),
        (_, Type::Json) => quote!(#fv::Json(#value)),
        (_, Type::Map | Type::Struct(_) | Type::Vec(_)) => quote!(#fv::Nested),
        (FieldType::Integer, _) => quote!(#fv::Int(#copied)),
        (FieldType::Number, _) => quote!(#fv::Float(#copied)),
        (FieldType::Boolean, _) => quote!(#fv::Bool(#copied)),
        (FieldType::Decimal { .. }, _) => quote!(#fv::Text(#value.0.as_str())),
        _ => quote!(#fv::Text(#value.as_str())),
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
pub(crate) fn member_name(key: &str) -> String {
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
pub(crate) fn unique(name: String, taken: &mut HashSet<String>) -> Ident {
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
pub(crate) fn camel(key: &str) -> String {
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

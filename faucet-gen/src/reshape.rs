//! The config transforms of a typed stretch of a pipeline, resolved at build
//! time into one generated transform: it takes the input struct apart and
//! moves each value to its place in the output struct, as the schema flow's
//! [`Mapping`]s say.
//!
//! A rename costs nothing: the value keeps its place, only the member it
//! lands in is named otherwise. `flatten` moves nested members up (a `match`
//! per object that may be absent or null); `cdc_unwrap` is a `match` on the
//! op, which the runtime's own `CdcUnwrap::change` classifies, so messages
//! and rules are one implementation; `select`, `drop`, `set` and
//! `rename_field` are moves and constants; a `filter` on a top-level value is
//! a comparison ([`filter`]); `redact`, `value_case` and `hash` rewrite values
//! in place ([`values`]). Every other transform of named fields (`cast`,
//! `coalesce`, `json_parse`, `lookup`, …) runs as the runtime transform on
//! those fields alone ([`bridge`]). The key transforms still meet `json`
//! values at run time: they rewrite the keys inside them, as they would in
//! an untyped record.

mod bridge;
mod filter;

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::emit::Gen;
use crate::ir::Transform;
use crate::record_schema::flow::fields::Pick;
use crate::record_schema::flow::{self, Leaf, Mapping, RowField, Unwrap};
use crate::record_schema::{FieldDef, FieldType, RecordSchema};
use crate::records::{Layers, Struct, Type, member_name, unique};

mod values;

/// One config transform of the stretch.
pub(crate) struct Part<'a> {
    /// The transform.
    pub(crate) transform: &'a Transform,
    /// Its index in the pipeline.
    pub(crate) index: usize,
    /// The schema of the records it returns.
    pub(crate) output: &'a RecordSchema,
    /// Where their fields come from.
    pub(crate) mapping: &'a Mapping,
}

/// A generated transform.
pub(crate) struct Reshape {
    /// The struct and its `impl rt::Transform`.
    pub(crate) items: TokenStream,
    /// The struct's name.
    pub(crate) ident: Ident,
    /// Whether it is built with `new()?` (it keeps runtime transforms),
    /// rather than being a unit struct.
    pub(crate) has_state: bool,
}

/// The transform named `name` that does `parts`, from `input` to `output`.
pub(crate) fn emit(g: &Gen, name: &str, input: &Struct, output: &Struct, parts: &[Part<'_>]) -> Reshape {
    let rt = g.rt();
    let (input_ident, output_ident) = (&input.ident, &output.ident);
    let expands = parts.iter().any(|p| matches!(p.mapping, Mapping::Bridged(b) if b.expands));
    let skip = if expands { quote!(return Ok(())) } else { quote!(return Ok(None)) };
    let mut body =
        Body { g, stmts: Vec::new(), taken: HashSet::new(), state: Vec::new(), skip, loops: Vec::new() };
    body.taken.insert("record".to_owned());
    body.taken.insert("out".to_owned());
    let mut slots = body.take_apart(input);
    for part in parts {
        slots = match part.mapping {
            Mapping::Renamed => body.rename(part, slots),
            Mapping::Flattened(leaves) => body.flatten(part, leaves, slots),
            Mapping::Unwrapped(rows) => body.unwrap(part, rows, slots),
            Mapping::Filtered(test) => body.filter(part, test, slots),
            Mapping::Picked(picks) => body.pick(picks, part, slots),
            Mapping::Rewritten(rewrites) => body.rewrite(part, rewrites, slots),
            Mapping::Bridged(bridge) => body.bridge(part, bridge, slots),
        };
    }
    // The source refills spent records: each value goes back where it came
    // from (not when one record makes several).
    let recycle = recycled(input, output, &slots).filter(|_| !expands).map(|rebuilt| {
        quote! {
            fn recycle(&mut self, spent: Vec<#output_ident>) -> Option<Vec<#input_ident>> {
                Some(spent.into_iter().map(|record| #rebuilt).collect())
            }
        }
    });
    let fill = body.fill(output, slots);
    let ident = format_ident!("{name}");
    let names: Vec<String> = parts.iter().map(|p| format!("`{}`", flow::name(p.transform))).collect();
    let doc = format!(
        " {}, resolved at build time: moves each value from [`{input_ident}`] to its place in [`{output_ident}`].",
        list(&names)
    );
    let apply = if expands {
        // The loops over each record's rows, innermost last: each closes around what follows it.
        let mut stmts = std::mem::take(&mut body.stmts);
        stmts.push(quote!(out.push(#fill);));
        while let Some(Loop { before, head }) = body.loops.pop() {
            let inner = std::mem::replace(&mut stmts, before);
            stmts.push(quote! {
                #head {
                    #(#inner)*
                }
            });
        }
        quote! {
            const EXPANDS: bool = true;

            fn apply(&mut self, record: #input_ident) -> #rt::Result<Option<#output_ident>> {
                let mut out = Vec::with_capacity(1);
                self.apply_into(record, &mut out)?;
                #rt::transform::at_most_one(#name, out)
            }

            fn apply_into(&mut self, record: #input_ident, out: &mut Vec<#output_ident>) -> #rt::Result<()> {
                #(#stmts)*
                Ok(())
            }
        }
    } else {
        let stmts = &body.stmts;
        quote! {
            fn apply(&mut self, record: #input_ident) -> #rt::Result<Option<#output_ident>> {
                #(#stmts)*
                let record = #fill;
                Ok(Some(record))
            }
        }
    };
    // Moves alone never fail: the driver then keeps no copy of a record for the DLQ.
    let can_fail = body.state.is_empty().then(|| {
        quote!(
            const CAN_FAIL: bool = false;
        )
    });
    let (definition, constructor) = if body.state.is_empty() {
        (quote!(pub struct #ident;), None)
    } else {
        let fields = body.state.iter().map(|s| {
            let (member, ty) = (&s.member, &s.ty);
            quote!(#member: #ty)
        });
        let inits = body.state.iter().map(|s| {
            let (member, init) = (&s.member, &s.init);
            quote!(#member: #init)
        });
        let doc = " The runtime transforms it keeps: for the keys inside `json` values, the ops of change records, and the transforms run on the fields they name.";
        (
            quote! {
                pub struct #ident {
                    #(#fields,)*
                }
            },
            Some(quote! {
                impl #ident {
                    #[doc = #doc]
                    pub fn new() -> #rt::Result<Self> {
                        Ok(#ident {
                            #(#inits,)*
                        })
                    }
                }
            }),
        )
    };
    let items = quote! {
        #[doc = #doc]
        #definition

        #constructor

        impl #rt::Transform<#input_ident> for #ident {
            type Out = #output_ident;
            #can_fail

            #apply

            #recycle
        }
    };
    let has_state = !body.state.is_empty();
    Reshape { items, ident, has_state }
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A value at one point of the transform: a local holding it, its field
/// (whose nullability and presence are the local's `Option`s) and its type.
#[derive(Debug, Clone)]
struct Slot {
    field: FieldDef,
    local: Ident,
    ty: Type,
    /// A nullable object's key after `flatten`: it only ever holds null.
    null_only: bool,
    /// Where the value is in the input struct (member indexes, down through
    /// nested structs), when it is a value moved from there.
    origin: Option<Vec<usize>>,
}

/// A runtime transform the generated one keeps.
struct State {
    member: Ident,
    ty: TokenStream,
    init: TokenStream,
}

/// The statements of `apply`, written part by part.
struct Body<'g, 'a> {
    g: &'g Gen<'a>,
    stmts: Vec<TokenStream>,
    /// Local names taken.
    taken: HashSet<String>,
    state: Vec<State>,
    /// The statement that drops the record at hand: `return Ok(None)` in
    /// `apply`, `return Ok(())` in `apply_into`, `continue` in a loop over rows.
    skip: TokenStream,
    /// The loops over rows opened so far, outermost first.
    loops: Vec<Loop>,
}

/// A loop over the records a transform makes of one: the statements before
/// it, and its head; the statements after it are its body.
struct Loop {
    before: Vec<TokenStream>,
    head: TokenStream,
}

impl Body<'_, '_> {
    /// A local not taken yet, named after `hint`.
    fn local(&mut self, hint: &str) -> Ident {
        unique(member_name(hint), &mut self.taken)
    }

    /// The member keeping `t`'s runtime transform (added the first time).
    fn state(&mut self, part: &Part<'_>) -> Ident {
        let rt = self.g.rt().clone();
        let member = format_ident!("{}_{}", flow::name(part.transform), part.index + 1);
        if !self.state.iter().any(|s| s.member == member) {
            let ty = match part.transform {
                Transform::RenameKeys { .. } => quote!(RenameKeys),
                Transform::KeysCase(_) => quote!(KeysCase),
                Transform::CdcUnwrap { .. } => quote!(CdcUnwrap),
                Transform::Filter(_) => quote!(Filter),
                Transform::Explode(_) => quote!(Explode),
                Transform::Unpivot(_) => quote!(Unpivot),
                Transform::Cast { .. } => quote!(Cast),
                Transform::Coalesce { .. } => quote!(Coalesce),
                Transform::Redact { .. } => quote!(Redact),
                Transform::ValueCase { .. } => quote!(ValueCase),
                Transform::Hash(_) => quote!(Hash),
                Transform::JsonParse(_) => quote!(JsonParse),
                Transform::JsonEncode { .. } => quote!(JsonEncode),
                Transform::Split(_) => quote!(Split),
                Transform::Join(_) => quote!(Join),
                Transform::Lookup(_) => quote!(Lookup),
                other => unreachable!("`{}` keeps no runtime transform", flow::name(other)),
            };
            let ty = quote!(#rt::transform::#ty);
            let init = self.g.transform(part.transform);
            self.state.push(State { member: member.clone(), ty, init });
        }
        member
    }

    /// `let Input { a, b } = record;`: one slot per member.
    fn take_apart(&mut self, input: &Struct) -> Vec<Slot> {
        let mut patterns = Vec::new();
        let mut slots = Vec::new();
        for (i, m) in input.members.iter().enumerate() {
            let local = self.local(&m.field.name);
            patterns.push(field_pattern(&m.ident, &local));
            let origin = Some(vec![i]);
            slots.push(Slot { field: m.field.clone(), local, ty: m.ty.clone(), null_only: false, origin });
        }
        let ident = &input.ident;
        self.stmts.push(quote!(let #ident { #(#patterns),* } = record;));
        slots
    }

    /// `rename_keys`, `snake_case`, `keys_case`: every value stays where it
    /// is; keys inside `json` values are rewritten by the runtime transform.
    fn rename(&mut self, part: &Part<'_>, slots: Vec<Slot>) -> Vec<Slot> {
        let holds_json = |s: &&Slot| s.ty.holds_json() && !s.null_only;
        if slots.iter().any(|s| holds_json(&s)) {
            let state = self.state(part);
            for s in slots.iter().filter(holds_json) {
                let local = &s.local;
                let rekey = rekey_place(quote!(#local), false, Layers::of(&s.field), &s.ty, &state);
                self.stmts.push(quote! {
                    let mut #local = #local;
                    #rekey
                });
            }
        }
        slots.into_iter().zip(&part.output.fields).map(|(s, f)| Slot { field: f.clone(), ..s }).collect()
    }

    /// `flatten`: every object is taken apart into its members, and the
    /// leaves become the fields, in the order of `leaves`.
    fn flatten(&mut self, part: &Part<'_>, leaves: &[Leaf], slots: Vec<Slot>) -> Vec<Slot> {
        let mut lifted = Lifted::default();
        for (i, slot) in slots.into_iter().enumerate() {
            self.lift(vec![i], slot, &mut lifted);
        }
        leaves
            .iter()
            .zip(&part.output.fields)
            .map(|(leaf, f)| {
                let slot = match leaf {
                    Leaf::Value(path) => lifted.values.remove(path),
                    Leaf::Null(path) => lifted.nulls.remove(path),
                };
                let slot = slot.expect("the flow's leaves are the values lifted");
                debug_assert_eq!(Layers::of(&slot.field), Layers::of(f), "{}", f.name);
                Slot { field: f.clone(), ..slot }
            })
            .collect()
    }

    /// Binds the leaves of `slot` (at `path`): an object is taken apart (its
    /// members absent where it is absent or null), anything else is a leaf.
    fn lift(&mut self, path: Vec<usize>, slot: Slot, lifted: &mut Lifted) {
        let Type::Struct(object) = &slot.ty else {
            lifted.values.insert(path, slot);
            return;
        };
        let layers = Layers::of(&slot.field);
        let local = &slot.local;
        if slot.field.nullable {
            // A null object keeps its key, holding null.
            let null = self.local(&format!("{local}_null"));
            let is_null =
                if layers.required { quote!(#local.is_none()) } else { quote!(matches!(#local, Some(None))) };
            self.stmts.push(quote!(let #null = #is_null.then_some(None);));
            let field =
                FieldDef { name: String::new(), ty: FieldType::Json, nullable: true, required: false };
            let null = Slot { field, local: null, ty: Type::Json, null_only: true, origin: None };
            lifted.nulls.insert(path.clone(), null);
        }
        let base = local.to_string();
        let base = base.trim_start_matches("r#");
        let children: Vec<Slot> = object
            .members
            .iter()
            .enumerate()
            .map(|(j, m)| {
                let local = self.local(&format!("{base}_{}", m.field.name));
                let field = match layers.depth() {
                    0 => m.field.clone(),
                    _ => FieldDef { required: false, ..m.field.clone() },
                };
                let origin = slot.origin.as_ref().map(|o| [o.as_slice(), &[j]].concat());
                Slot { field, local, ty: m.ty.clone(), null_only: false, origin }
            })
            .collect();
        let patterns: Vec<TokenStream> =
            object.members.iter().zip(&children).map(|(m, c)| field_pattern(&m.ident, &c.local)).collect();
        let ident = &object.ident;
        let locals: Vec<&Ident> = children.iter().map(|c| &c.local).collect();
        if layers.depth() == 0 {
            self.stmts.push(quote!(let #ident { #(#patterns),* } = #local;));
        } else {
            // Absent or null: so is every member.
            let present: Vec<TokenStream> = object
                .members
                .iter()
                .zip(&locals)
                .map(|(m, local)| if m.field.required { quote!(Some(#local)) } else { quote!(#local) })
                .collect();
            let pattern = match layers.depth() {
                1 => quote!(Some(#ident { #(#patterns),* })),
                _ => quote!(Some(Some(#ident { #(#patterns),* }))),
            };
            let statement = match (&locals[..], &present[..]) {
                ([one], [value]) => quote! {
                    let #one = match #local {
                        #pattern => #value,
                        _ => None,
                    };
                },
                _ => {
                    let nones = locals.iter().map(|_| quote!(None));
                    quote! {
                        let (#(#locals),*) = match #local {
                            #pattern => (#(#present),*),
                            _ => (#(#nones),*),
                        };
                    }
                }
            };
            self.stmts.push(statement);
        }
        for (i, child) in children.into_iter().enumerate() {
            let mut child_path = path.clone();
            child_path.push(i);
            self.lift(child_path, child, lifted);
        }
    }

    /// `cdc_unwrap`: the op decides which row's values become the fields.
    fn unwrap(&mut self, part: &Part<'_>, rows: &Unwrap, slots: Vec<Slot>) -> Vec<Slot> {
        let rt = self.g.rt().clone();
        let skip = self.skip.clone();
        let state = self.state(part);
        let named = |name: &str| slots.iter().find(|s| s.field.name == name);
        let (op, schema, table) = (
            text_of(self.g, rows.op.map(|i| &slots[i])),
            text_of(self.g, named("schema")),
            text_of(self.g, named("table")),
        );
        let op_name = self.local("op_name");
        self.stmts.push(quote! {
            let #op_name = #op;
            let change = self.#state.change(#op_name, #schema, #table)?;
        });
        let after = &slots[rows.after];
        let before = rows.before.map(|i| &slots[i]);
        let object = |slot: &Slot| match &slot.ty {
            Type::Struct(s) => (**s).clone(),
            _ => unreachable!("the flow takes rows from objects"),
        };
        let after_object = object(after);
        let before_object = before.map(object);
        // The fields returned, each typed as the row that has it.
        let out: Vec<Slot> = rows
            .fields
            .iter()
            .zip(&part.output.fields)
            .map(|(row, f)| {
                let ty = match row {
                    RowField::Column { after: Some(j), .. } => after_object.members[*j].ty.clone(),
                    RowField::Column { before: Some(j), .. } => {
                        before_object.as_ref().expect("a delete row").members[*j].ty.clone()
                    }
                    _ => Type::Plain(quote!(bool)),
                };
                Slot { field: f.clone(), local: self.local(&f.name), ty, null_only: false, origin: None }
            })
            .collect();
        let missing = quote!(return Err(self.#state.missing_row(#op_name.unwrap_or_default(), change)));
        let arm = |body: &mut Self, slot: Option<&Slot>, object: Option<&Struct>, delete: bool| {
            let (Some(slot), Some(object)) = (slot, object) else { return quote!(#missing) };
            let mut patterns = Vec::new();
            let values: Vec<TokenStream> = rows
                .fields
                .iter()
                .zip(&out)
                .map(|(row, field)| {
                    let column = match row {
                        RowField::Column { after, before } => {
                            if delete {
                                *before
                            } else {
                                *after
                            }
                        }
                        RowField::Marker => return if delete { quote!(Some(true)) } else { quote!(None) },
                    };
                    let Some(j) = column else { return quote!(None) };
                    let m = &object.members[j];
                    let local = body.local(&format!("row_{}", m.field.name));
                    patterns.push(field_pattern(&m.ident, &local));
                    let value = convert(quote!(#local), Layers::of(&m.field), &m.ty, &field.ty);
                    if m.field.required && !field.field.required { quote!(Some(#value)) } else { value }
                })
                .collect();
            let ident = &object.ident;
            let row = present(&slot.local, Layers::of(&slot.field));
            quote! {
                let Some(#ident { #(#patterns,)* .. }) = #row else {
                    #missing;
                };
                (#(#values),*)
            }
        };
        let delete = arm(self, before, before_object.as_ref(), true);
        let insert = arm(self, Some(after), Some(&after_object), false);
        let change = quote!(#rt::transform::Change);
        let locals = out.iter().map(|s| &s.local);
        self.stmts.push(quote! {
            let (#(#locals),*) = match change {
                #change::Drop => #skip,
                #change::Delete => {
                    #delete
                }
                #change::Row => {
                    #insert
                }
            };
        });
        out
    }

    /// `select`, `drop`, `set`, `rename_field`: each field returned is a value
    /// moved from the input (under its new name) or a constant; the values
    /// not picked are dropped.
    fn pick(&mut self, picks: &[Pick], part: &Part<'_>, slots: Vec<Slot>) -> Vec<Slot> {
        let mut slots: Vec<Option<Slot>> = slots.into_iter().map(Some).collect();
        let out: Vec<Slot> = picks
            .iter()
            .zip(&part.output.fields)
            .map(|(pick, f)| match pick {
                Pick::Field(i) => {
                    let slot = slots[*i].take().expect("the flow picks each field once");
                    Slot { field: f.clone(), ..slot }
                }
                Pick::Constant(value) => {
                    let local = self.local(&f.name);
                    let (ty, value) = constant(self.g, f, value);
                    self.stmts.push(quote!(let #local = #value;));
                    Slot { field: f.clone(), local, ty, null_only: false, origin: None }
                }
            })
            .collect();
        let dropped: Vec<&Ident> = slots.iter().flatten().map(|s| &s.local).collect();
        match dropped.as_slice() {
            [] => {}
            [one] => self.stmts.push(quote!(let _ = #one;)),
            many => self.stmts.push(quote!(let _ = (#(#many),*);)),
        }
        out
    }

    /// The output struct, each member filled from its slot.
    fn fill(&self, output: &Struct, slots: Vec<Slot>) -> TokenStream {
        let members = output.members.iter().zip(slots).map(|(m, slot)| {
            debug_assert_eq!(Layers::of(&slot.field), Layers::of(&m.field), "{}", m.field.name);
            let local = &slot.local;
            let value = convert(quote!(#local), Layers::of(&m.field), &slot.ty, &m.ty);
            let member = &m.ident;
            if *member == value.to_string() { quote!(#member) } else { quote!(#member: #value) }
        });
        let ident = &output.ident;
        quote!(#ident { #(#members),* })
    }
}

/// `input` rebuilt from the values of an `output` struct named `record`,
/// each moved back to where it came from (an object `flatten` took apart is
/// made again, present); `None` when a value came from elsewhere (a
/// `cdc_unwrap` row). What the values are does not matter: the source that
/// takes the record back overwrites them, and keeps their allocations.
fn recycled(input: &Struct, output: &Struct, slots: &[Slot]) -> Option<TokenStream> {
    let mut sources: HashMap<Vec<usize>, (&Ident, Layers, &Type)> = HashMap::new();
    for (m, slot) in output.members.iter().zip(slots).filter(|(_, slot)| !slot.null_only) {
        sources.insert(slot.origin.clone()?, (&m.ident, Layers::of(&m.field), &m.ty));
    }
    rebuild(input, &[], &sources)
}

fn rebuild(
    s: &Struct,
    path: &[usize],
    sources: &HashMap<Vec<usize>, (&Ident, Layers, &Type)>,
) -> Option<TokenStream> {
    let mut members = Vec::new();
    for (j, m) in s.members.iter().enumerate() {
        let at = [path, &[j]].concat();
        let into = Layers::of(&m.field);
        let value = match (sources.get(&at), &m.ty) {
            (Some((member, from, ty)), _) => {
                let value = convert(quote!(record.#member), *from, ty, &m.ty);
                // `flatten` made a member of an object that may be absent optional: take that `Option` off.
                match (*from, into) {
                    (from, into) if from == into => value,
                    (
                        Layers { nullable: true, required: false },
                        Layers { nullable: true, required: true },
                    ) => {
                        quote!(#value.flatten())
                    }
                    (
                        Layers { nullable: false, required: false },
                        Layers { nullable: false, required: true },
                    ) => {
                        quote!(#value.unwrap_or_default())
                    }
                    _ => return None,
                }
            }
            (None, Type::Struct(nested)) => {
                let nested = rebuild(nested, &at, sources)?;
                match into.depth() {
                    0 => nested,
                    1 => quote!(Some(#nested)),
                    _ => quote!(Some(Some(#nested))),
                }
            }
            (None, _) => return None,
        };
        let ident = &m.ident;
        members.push(quote!(#ident: #value));
    }
    let ident = &s.ident;
    Some(quote!(#ident { #(#members),* }))
}

/// The slots `flatten` has bound: each leaf by its path, and each nullable
/// object's null marker.
#[derive(Default)]
struct Lifted {
    values: HashMap<Vec<usize>, Slot>,
    nulls: HashMap<Vec<usize>, Slot>,
}

/// `member` in a struct pattern, bound to `local`.
fn field_pattern(member: &Ident, local: &Ident) -> TokenStream {
    if member == local { quote!(#member) } else { quote!(#member: #local) }
}

/// A value held in `layers` as an `Option` that is `None` when absent or null.
fn present(local: &Ident, layers: Layers) -> TokenStream {
    match layers.depth() {
        0 => quote!(Some(#local)),
        1 => quote!(#local),
        _ => quote!(#local.flatten()),
    }
}

/// An `Option<&str>`: the text of a field as the runtime reads it from an
/// untyped record (`Value::as_str`), borrowed from its local; `None` for a
/// field that is never a string (or that the records lack).
fn text_of(g: &Gen, slot: Option<&Slot>) -> TokenStream {
    let rt = g.rt();
    let Some(slot) = slot else { return quote!(None) };
    let local = &slot.local;
    let depth = Layers::of(&slot.field).depth();
    match &slot.ty {
        Type::Json => match depth {
            0 => quote!(#local.as_str()),
            1 => quote!(#local.as_ref().and_then(#rt::serde_json::Value::as_str)),
            _ => quote!(#local.as_ref().and_then(Option::as_ref).and_then(#rt::serde_json::Value::as_str)),
        },
        Type::Plain(ty) if ty.to_string() == "String" => match depth {
            0 => quote!(Some(#local.as_str())),
            1 => quote!(#local.as_deref()),
            _ => quote!(#local.as_ref().and_then(Option::as_deref)),
        },
        _ => quote!(None),
    }
}

/// `place` (a `&mut` reference when `by_ref`) with the keys inside every
/// `json` value in it rewritten by the runtime transform in `state`.
fn rekey_place(place: TokenStream, by_ref: bool, layers: Layers, ty: &Type, state: &Ident) -> TokenStream {
    let borrow = (!by_ref).then(|| quote!(&mut));
    match layers.depth() {
        0 => rekey_value(place, by_ref, ty, state),
        depth => {
            let inner = rekey_value(quote!(value), true, ty, state);
            let pattern = if depth == 1 { quote!(Some(value)) } else { quote!(Some(Some(value))) };
            quote! {
                if let #pattern = #borrow #place {
                    #inner
                }
            }
        }
    }
}

fn rekey_value(place: TokenStream, by_ref: bool, ty: &Type, state: &Ident) -> TokenStream {
    match ty {
        Type::Json | Type::Map => {
            let borrow = (!by_ref).then(|| quote!(&mut));
            quote!(self.#state.rekey(#borrow #place)?;)
        }
        Type::Struct(s) => {
            let members = s.members.iter().filter(|m| m.ty.holds_json()).map(|m| {
                let member = &m.ident;
                rekey_place(quote!(#place.#member), false, Layers::of(&m.field), &m.ty, state)
            });
            quote!(#(#members)*)
        }
        Type::Vec(item) => {
            let inner = rekey_value(quote!(item), true, item, state);
            quote! {
                for item in #place.iter_mut() {
                    #inner
                }
            }
        }
        Type::Plain(_) => TokenStream::new(),
    }
}

/// `value` (held in `layers`) of type `from` as type `to`: the same
/// fields in the same places, in structs named otherwise (a renamed nested
/// object); nothing to do when the types are the same.
fn convert(value: TokenStream, layers: Layers, from: &Type, to: &Type) -> TokenStream {
    if from.same(to) {
        return value;
    }
    match layers.depth() {
        0 => convert_value(value, from, to),
        1 => {
            let inner = convert_value(quote!(value), from, to);
            quote!(#value.map(|value| #inner))
        }
        _ => {
            let inner = convert_value(quote!(value), from, to);
            quote!(#value.map(|value| value.map(|value| #inner)))
        }
    }
}

fn convert_value(value: TokenStream, from: &Type, to: &Type) -> TokenStream {
    match (from, to) {
        (Type::Struct(a), Type::Struct(b)) => {
            let members = a.members.iter().zip(&b.members).map(|(am, bm)| {
                let (from_member, to_member) = (&am.ident, &bm.ident);
                let inner = convert(quote!(#value.#from_member), Layers::of(&am.field), &am.ty, &bm.ty);
                quote!(#to_member: #inner)
            });
            let ident = &b.ident;
            quote!(#ident { #(#members),* })
        }
        (Type::Vec(a), Type::Vec(b)) => {
            let inner = convert_value(quote!(item), a, b);
            quote!(#value.into_iter().map(|item| #inner).collect())
        }
        _ => value,
    }
}

/// A constant of field `field` (its type as the flow gave it): the value's
/// type in a struct, and the expression that makes it.
fn constant(g: &Gen, field: &FieldDef, value: &serde_json::Value) -> (Type, TokenStream) {
    use proc_macro2::Literal;
    use serde_json::Value as J;
    let rt = g.rt();
    match (value, &field.ty) {
        (J::Null, _) => (Type::Json, quote!(None)),
        (J::String(s), FieldType::String) => (Type::Plain(quote!(String)), quote!(String::from(#s))),
        (J::Bool(b), FieldType::Boolean) => (Type::Plain(quote!(bool)), quote!(#b)),
        (J::Number(n), FieldType::Integer) => {
            let n = Literal::i64_suffixed(n.as_i64().expect("an integer"));
            (Type::Plain(quote!(i64)), quote!(#n))
        }
        (J::Number(n), FieldType::Number) => {
            let n = Literal::f64_suffixed(n.as_f64().expect("a number"));
            (Type::Plain(quote!(f64)), quote!(#n))
        }
        (value, _) => {
            let value = crate::codegen::json_tokens(value);
            (Type::Json, quote!(#rt::serde_json::json!(#value)))
        }
    }
}

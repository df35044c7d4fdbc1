//! Where a pipeline's records are generated structs: which stretches of its
//! chain are typed, what each struct is called, and how each transform is built.
//!
//! The chain is cut at its `custom` transforms into stretches, each from the
//! source (or a custom transform's output) to the next custom transform (or
//! the sink). A stretch is typed when:
//! - the records' schema is known and closed at every point of it (`open:
//!   false`, and no object of undeclared fields): a struct then holds every
//!   record exactly;
//! - each config transform in it says exactly where every field it returns
//!   comes from ([`flow::Mapping`]), so the transforms become moves between
//!   structs, fused into one generated transform per stretch;
//! - it ends at the sink, or at a custom transform that declares its output
//!   (`record_schema:`), whose function then takes the struct.
//!
//! A custom transform without a declared output takes and returns
//! `rt::Record`, so the stretch before it stays untyped (decoding records
//! into structs only to turn them back into JSON would cost more than it
//! saves). Everything else stays untyped exactly as before. With
//! `CodegenOptions::untyped` (for tests comparing the two), nothing is typed.

use std::collections::HashSet;
use std::ops::Range;

use crate::ir::{self, Transform};
use crate::record_schema::flow::{self, Mapping};
use crate::record_schema::{FieldType, RecordSchema};
use crate::records::camel;

/// The record types of one pipeline.
#[derive(Debug)]
pub(crate) struct Typing {
    /// What is known at each point of the chain: `points[i]` is what
    /// transform `i` receives, the last what the sink receives.
    pub(crate) points: Vec<Point>,
    /// How each transform is built, in order.
    pub(crate) steps: Vec<Step>,
    /// The names a custom transform's function is written with, per custom
    /// transform that declares its output.
    pub(crate) aliases: Vec<Alias>,
}

/// One point of the chain.
#[derive(Debug)]
pub(crate) struct Point {
    /// The records' schema there (`None`: nothing is known).
    pub(crate) schema: Option<RecordSchema>,
    /// Where the transform after this point gets its fields (config transforms only).
    pub(crate) mapping: Option<Mapping>,
    /// The records' type there.
    pub(crate) record: Record,
}

/// The type of the records at a point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    /// `rt::Record`.
    Untyped,
    /// A generated struct.
    Struct(Names),
    /// Typed, inside a generated transform (no struct of its own).
    Passing,
}

impl Record {
    /// The struct's name, at a point that has one.
    pub(crate) fn name(&self) -> Option<&Names> {
        match self {
            Record::Struct(names) => Some(names),
            _ => None,
        }
    }
}

/// The items generated for one struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    /// The struct: `SourceRecord`, `Record`, `EnrichInput`.
    pub(crate) record: String,
    /// Its schema constant: `SOURCE_SCHEMA`, `SCHEMA`, `ENRICH_INPUT_SCHEMA`.
    pub(crate) constant: String,
    /// Which records, for doc comments.
    pub(crate) what: String,
}

/// How one transform (or a run of them) is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Config transforms resolved at build time: a generated transform
    /// (named `name`) from the struct at point `transforms.start` to the
    /// struct at point `transforms.end`.
    Reshape {
        /// The transforms' indexes.
        transforms: Range<usize>,
        /// The generated transform's name.
        name: String,
    },
    /// A config transform the runtime runs on untyped records.
    Runtime(usize),
    /// A custom transform: it takes the records at its point; it returns
    /// `output` (its declared struct, else `rt::Record`).
    Custom {
        /// Its index.
        index: usize,
        /// The struct its function returns.
        output: Option<Names>,
        /// The records after it are untyped: its output is turned into JSON.
        to_json: bool,
    },
}

/// The names a typed custom transform's function is written with:
/// `fn(EnrichInput) -> Result<Option<EnrichOutput>, FaucetError>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Alias {
    /// The custom transform's index.
    pub(crate) index: usize,
    /// `EnrichInput`.
    pub(crate) input: String,
    /// `EnrichOutput`.
    pub(crate) output: String,
}

/// Decides the record types of `p` (none when `untyped`).
pub(crate) fn plan(p: &ir::Pipeline, untyped: bool) -> Typing {
    let n = p.transforms.len();
    let mut points: Vec<Point> = Vec::with_capacity(n + 1);
    let mut schema = p.schemas.source.clone();
    for t in &p.transforms {
        let (next, mapping) = match t {
            Transform::Custom { output, .. } => (output.clone(), None),
            _ => match schema.as_ref().and_then(|s| flow::step(s, t).ok().flatten()) {
                Some(step) => (Some(step.schema), step.mapping),
                None => (None, None),
            },
        };
        points.push(Point { schema: schema.take(), mapping, record: Record::Untyped });
        schema = next;
    }
    points.push(Point { schema, mapping: None, record: Record::Untyped });

    let custom_names = custom_names(&p.transforms);
    let declared = |i: usize| matches!(p.transforms.get(i), Some(Transform::Custom { output: Some(_), .. }));
    // The stretches: from the source or a custom transform's output to the
    // next custom transform's input or the sink.
    let mut stretches: Vec<Range<usize>> = Vec::new();
    let mut start = 0;
    for (i, t) in p.transforms.iter().enumerate() {
        if matches!(t, Transform::Custom { .. }) {
            stretches.push(start..i);
            start = i + 1;
        }
    }
    stretches.push(start..n);
    let typed: Vec<bool> = stretches
        .iter()
        .map(|s| {
            !untyped
                && (s.start..=s.end).all(|i| points[i].schema.as_ref().is_some_and(typeable))
                && (s.start..s.end).all(|i| points[i].mapping.is_some())
                && (s.end == n || declared(s.end))
        })
        .collect();
    for (s, &typed) in stretches.iter().zip(&typed) {
        if !typed {
            continue;
        }
        for (i, point) in points.iter_mut().enumerate().take(s.end + 1).skip(s.start) {
            point.record = match point_names(i, n, &p.transforms, &custom_names) {
                Some(names) => Record::Struct(names),
                None => Record::Passing,
            };
        }
    }

    let mut steps = Vec::new();
    let mut aliases = Vec::new();
    let mut reshapes = 0;
    for (s, &typed) in stretches.iter().zip(&typed) {
        if typed && s.start < s.end {
            reshapes += 1;
            steps.push(Step::Reshape { transforms: s.clone(), name: String::new() });
        } else if !typed {
            steps.extend((s.start..s.end).map(Step::Runtime));
        }
        if s.end == n {
            break;
        }
        // The custom transform that ends the stretch.
        let index = s.end;
        let output = match &p.transforms[index] {
            Transform::Custom { output: Some(output), .. } if !untyped && typeable(output) => {
                Some(if index + 1 == n { record_names() } else { custom_output_names(&custom_names[index]) })
            }
            _ => None,
        };
        let to_json = output.is_some() && points[index + 1].record.name() != output.as_ref();
        if declared(index) && !untyped {
            let name = &custom_names[index];
            aliases.push(Alias { index, input: format!("{name}Input"), output: format!("{name}Output") });
        }
        steps.push(Step::Custom { index, output, to_json });
    }
    // One generated transform is `Reshape`; several are named after the struct each fills.
    for step in &mut steps {
        if let Step::Reshape { transforms, name } = step {
            *name = match (reshapes, points[transforms.end].record.name()) {
                (1, _) | (_, None) => "Reshape".to_owned(),
                (_, Some(names)) => format!("ReshapeInto{}", names.record),
            };
        }
    }
    Typing { points, steps, aliases }
}

/// Whether a struct can hold every record of `schema` exactly: it is closed,
/// and no object in it has undeclared fields.
pub(crate) fn typeable(schema: &RecordSchema) -> bool {
    fn closed(ty: &FieldType) -> bool {
        match ty {
            FieldType::Object { fields } => !fields.is_empty() && fields.iter().all(|f| closed(&f.ty)),
            FieldType::Array { items } => closed(items),
            _ => true,
        }
    }
    !schema.open && schema.fields.iter().all(|f| closed(&f.ty))
}

/// The struct at point `i` of a typed stretch, when it has one: the
/// source's, the sink's, and the input and output of each custom transform.
fn point_names(i: usize, n: usize, transforms: &[Transform], custom: &[String]) -> Option<Names> {
    let is_custom = |i: usize| matches!(transforms.get(i), Some(Transform::Custom { .. }));
    if i == n {
        Some(record_names())
    } else if i == 0 {
        Some(source_names())
    } else if is_custom(i - 1) {
        Some(custom_output_names(&custom[i - 1]))
    } else if is_custom(i) {
        let name = &custom[i];
        Some(Names {
            record: format!("{name}Input"),
            constant: format!("{}_INPUT_SCHEMA", screaming(name)),
            what: format!("the records `{name}` receives"),
        })
    } else {
        None
    }
}

/// `Record` and `SCHEMA`: the records the sink receives.
pub(crate) fn record_names() -> Names {
    Names { record: "Record".into(), constant: "SCHEMA".into(), what: "the records the sink receives".into() }
}

/// `SourceRecord` and `SOURCE_SCHEMA`: the records the source reads.
pub(crate) fn source_names() -> Names {
    Names {
        record: "SourceRecord".into(),
        constant: "SOURCE_SCHEMA".into(),
        what: "the records the source reads".into(),
    }
}

fn custom_output_names(name: &str) -> Names {
    Names {
        record: format!("{name}Output"),
        constant: format!("{}_OUTPUT_SCHEMA", screaming(name)),
        what: format!("the records `{name}` returns"),
    }
}

/// Each custom transform's name in the items generated for it: its
/// function's name in camel case (`add_total` → `AddTotal`), with the
/// transform's number when two would share one. Empty for other transforms.
fn custom_names(transforms: &[Transform]) -> Vec<String> {
    let mut used = HashSet::new();
    transforms
        .iter()
        .enumerate()
        .map(|(i, t)| match t {
            Transform::Custom { function, .. } => {
                let name = camel(&function_name(function));
                if used.insert(name.clone()) { name } else { format!("{name}{}", i + 1) }
            }
            _ => String::new(),
        })
        .collect()
}

/// The last segment of a function path, without generics or `r#`.
fn function_name(path: &str) -> String {
    use syn::ext::IdentExt;
    syn::parse_str::<syn::Path>(path)
        .ok()
        .and_then(|p| p.segments.last().map(|s| s.ident.unraw().to_string()))
        .unwrap_or_default()
}

/// `AddTotal` → `ADD_TOTAL`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The struct (or `-` untyped, `.` inside a generated transform) at each
    /// point, and the steps, of the pipeline whose source and transforms are given.
    fn plan_of(source: &str, transforms: &str, untyped: bool) -> (Vec<String>, Vec<Step>) {
        let yaml = format!(
            "pipeline:\n  source: {source}\n  transforms: {transforms}\n  sink: {{ type: jsonl, config: {{ path: out.jsonl }} }}\n"
        );
        let definition = crate::check_yaml("case.yaml", &yaml).unwrap_or_else(|d| panic!("{d}"));
        let ir::Definition::Single(p) = definition else { panic!("one pipeline") };
        let typing = plan(&p, untyped);
        let points = typing
            .points
            .iter()
            .map(|p| match &p.record {
                Record::Untyped => "-".to_owned(),
                Record::Passing => ".".to_owned(),
                Record::Struct(names) => names.record.clone(),
            })
            .collect();
        (points, typing.steps)
    }

    const DECLARED: &str = "{ type: jsonl, config: { path: in.jsonl }, record_schema: { fields: { id: integer, userInfo: { type: object, fields: { firstName: string } }, note: { type: json, nullable: true } } } }";
    const UNKNOWN: &str = "{ type: jsonl, config: { path: in.jsonl } }";

    #[test]
    fn a_closed_schema_through_config_transforms_is_typed() {
        let (points, steps) = plan_of(
            DECLARED,
            "[{ type: rename_keys, config: { pattern: a, replacement: b } }, { type: snake_case }]",
            false,
        );
        assert_eq!(points, ["SourceRecord", ".", "Record"]);
        assert_eq!(steps, [Step::Reshape { transforms: 0..2, name: "Reshape".into() }]);
        let (points, steps) = plan_of(DECLARED, "[]", false);
        assert_eq!((points, steps), (vec!["Record".to_owned()], vec![]));
        // Forced untyped, for tests comparing the two.
        let (points, steps) = plan_of(DECLARED, "[{ type: snake_case }]", true);
        assert_eq!((points, steps), (vec!["-".to_owned(), "-".to_owned()], vec![Step::Runtime(0)]));
    }

    #[test]
    fn what_keeps_a_stream_untyped() {
        // `flatten` lifts a `json` value's keys, which nobody declared.
        let (points, _) = plan_of(DECLARED, "[{ type: flatten }]", false);
        assert_eq!(points, ["-", "-"]);
        // `flatten` of an object that may be empty (every field optional)
        // keeps `{}` under its key, which no generated move writes; with a
        // field always present the object is never empty, and all is typed.
        let maybe_empty = "{ type: jsonl, config: { path: in.jsonl }, record_schema: { fields: { id: integer, o: { type: object, fields: { a: { type: string, required: false } } } } } }";
        let (points, _) = plan_of(maybe_empty, "[{ type: flatten }]", false);
        assert_eq!(points, ["-", "-"]);
        let never_empty = "{ type: jsonl, config: { path: in.jsonl }, record_schema: { fields: { id: integer, o: { type: object, fields: { a: string } } } } }";
        let (points, _) = plan_of(never_empty, "[{ type: flatten }]", false);
        assert_eq!(points, ["SourceRecord", "Record"]);
        // An empty separator is faucet-stream's too: keys joined as they are.
        let (points, _) = plan_of(never_empty, "[{ type: flatten, config: { separator: \"\" } }]", false);
        assert_eq!(points, ["SourceRecord", "Record"]);
        // A custom transform that declares nothing takes `rt::Record`.
        let (points, steps) =
            plan_of(DECLARED, "[{ type: snake_case }, { type: custom, config: { function: f } }]", false);
        assert_eq!(points, ["-", "-", "-"]);
        assert_eq!(steps[0], Step::Runtime(0));
        // Nothing is known of the source.
        let (points, _) = plan_of(UNKNOWN, "[{ type: snake_case }]", false);
        assert_eq!(points, ["-", "-"]);
        // An open schema may carry keys a struct would lose; so may an object of undeclared fields.
        let field = |name: &str, ty| crate::record_schema::FieldDef {
            name: name.into(),
            ty,
            nullable: false,
            required: true,
        };
        let origin = crate::record_schema::Origin::Declared { loc: crate::diag::Loc::Unknown };
        let closed = RecordSchema { fields: vec![field("id", FieldType::Integer)], open: false, origin };
        assert!(typeable(&closed));
        assert!(!typeable(&RecordSchema { open: true, ..closed.clone() }));
        let items = FieldType::Array { items: Box::new(FieldType::Object { fields: vec![] }) };
        assert!(!typeable(&RecordSchema { fields: vec![field("list", items)], ..closed }));
    }

    #[test]
    fn custom_transforms_that_declare_their_output_take_and_return_structs() {
        let declared_custom = "{ type: custom, config: { function: crate::add_total }, record_schema: { fields: { id: integer, total: number } } }";
        let (points, steps) = plan_of(
            DECLARED,
            &format!(
                "[{{ type: snake_case }}, {declared_custom}, {{ type: keys_case, config: {{ mode: camel }} }}]"
            ),
            false,
        );
        assert_eq!(points, ["SourceRecord", "AddTotalInput", "AddTotalOutput", "Record"]);
        assert!(
            matches!(&steps[0], Step::Reshape { transforms, name } if *transforms == (0..1) && name == "ReshapeIntoAddTotalInput")
        );
        assert!(
            matches!(&steps[1], Step::Custom { index: 1, output: Some(o), to_json: false } if o.record == "AddTotalOutput")
        );
        // On an untyped stream it takes `rt::Record`; its output goes on
        // untyped when a custom transform that declares nothing follows.
        let (points, steps) = plan_of(
            UNKNOWN,
            &format!("[{declared_custom}, {{ type: custom, config: {{ function: g }} }}]"),
            false,
        );
        assert_eq!(points, ["-", "-", "-"]);
        assert!(matches!(&steps[0], Step::Custom { index: 0, output: Some(_), to_json: true }));
        let (points, _) = plan_of(UNKNOWN, &format!("[{declared_custom}]"), false);
        assert_eq!(points, ["-", "Record"]);
    }

    #[test]
    fn custom_transforms_are_named_after_their_function() {
        let custom = |function: &str| Transform::Custom {
            function: function.into(),
            loc: crate::diag::Loc::Unknown,
            output: None,
        };
        let names = custom_names(&[
            custom("crate::enrich::add_total"),
            Transform::KeysCase(ir::CaseMode::Snake),
            custom("r#gen::keep::<T>"),
            custom("other::add_total"),
        ]);
        assert_eq!(names, ["AddTotal", "", "Keep", "AddTotal4"]);
        assert_eq!(screaming("AddTotal4"), "ADD_TOTAL4");
    }
}

//! `contract:`: faucet-stream's data contract, a versioned promise about the
//! records a pipeline writes. Read and checked here at build time (every
//! mistake faucet-stream rejects when it loads a config, regexes compiled);
//! enforced per page at run time by `faucet_runtime::contract`. As a schema it
//! is a declaration of the pipeline's output ([`ir::Contract::schema`]), and
//! [`check_flow`] compares it with what the transforms actually produce.

use crate::diag::{Diagnostic, Diagnostics, Loc, list};
use crate::ir::{self, ContractField, ContractType, OnBreach};
use crate::load::{Entry, Node, Value};
use crate::read::{Fields, boolean, int_in, one_of, plain_string};
use crate::record_schema::{FieldDef, FieldType, Origin, RecordSchema};
use crate::spec::{Field, Kind, Spec};

/// `pipeline.contract`.
pub(crate) static CONTRACT: Spec = Spec {
    name: "contract",
    doc: "A data contract: the promised shape of the records the pipeline writes, checked on every page \
          after the transforms and before the sink write.",
    fields: &[
        Field::req(
            "version",
            Kind::Str,
            "The contract's version, named in every breach message and envelope.",
        ),
        Field::opt("description", Kind::Str, "What the data is, for its consumers."),
        Field::opt("owner", Kind::Str, "Who answers for the contract."),
        Field::opt(
            "on_breach",
            Kind::OneOf(OnBreach::VALUES),
            "A breaching record fails the run (nothing of its page is written), goes to the dead-letter \
             queue (`quarantine`, which needs `dlq:`), or is written anyway and counted (`warn`).",
        )
        .default("\"fail\""),
        Field::opt(
            "allow_extra_fields",
            Kind::Bool,
            "`false`: a field the contract does not declare is a breach.",
        )
        .default("true"),
        Field::req(
            "fields",
            Kind::List(&Kind::Object(&CONTRACT_FIELD)),
            "The promised top-level fields, checked in this order; a record's first breach is reported.",
        ),
    ],
    variants: &[],
};

/// One item of `contract.fields`.
pub(crate) static CONTRACT_FIELD: Spec = Spec {
    name: "contract.field",
    doc: "One promised field. Per record the checks run in this order: presence, null, type, `enum`, \
          `pattern`, range, length.",
    fields: &[
        Field::req("name", Kind::Str, "The top-level key."),
        Field::req(
            "type",
            Kind::OneOf(ContractType::VALUES),
            "The value's JSON type; `integer` is a number with no fractional part.",
        ),
        Field::opt(
            "required",
            Kind::Bool,
            "Every record has the key; an absent optional field is not checked.",
        )
        .default("true"),
        Field::opt("nullable", Kind::Bool, "The value may be `null` (which skips the other checks).")
            .default("false"),
        Field::opt("enum", Kind::List(&Kind::Json), "The allowed values, each of `type` (never `null`)."),
        Field::opt("pattern", Kind::Str, "A regex a string value must match (Rust regex syntax)."),
        Field::opt(
            "min",
            Kind::Number(f64::NEG_INFINITY, f64::INFINITY),
            "The smallest allowed value of an `integer` or `number` field, inclusive.",
        ),
        Field::opt(
            "max",
            Kind::Number(f64::NEG_INFINITY, f64::INFINITY),
            "The largest allowed value of an `integer` or `number` field, inclusive.",
        ),
        Field::opt("min_length", Kind::Int(0, i64::MAX), "The fewest characters of a `string` field."),
        Field::opt("max_length", Kind::Int(0, i64::MAX), "The most characters of a `string` field."),
        Field::opt("description", Kind::Str, "What the field means, for its consumers."),
    ],
    variants: &[],
};

/// Reads `contract:`; `has_dlq` says whether the pipeline has a `dlq:`
/// (which `on_breach: quarantine` needs).
pub(crate) fn read(node: &Node, has_dlq: bool, diags: &mut Diagnostics) -> Option<ir::Contract> {
    let mut f = Fields::with_spec(node, &CONTRACT, "`contract`", diags)?;
    let version = f.require("version", diags).and_then(|n| version(n, diags));
    let description = f.get("description").map(|n| plain_string(n, "description", diags));
    let owner = f.get("owner").map(|n| plain_string(n, "owner", diags));
    let on_breach_node = f.get("on_breach");
    let on_breach = match on_breach_node {
        Some(n) => one_of(n, "on_breach", OnBreach::VALUES, diags).map(|v| match v {
            "quarantine" => OnBreach::Quarantine,
            "warn" => OnBreach::Warn,
            _ => OnBreach::Fail,
        }),
        None => Some(OnBreach::Fail),
    };
    let allow_extra_node = f.get("allow_extra_fields");
    let allow_extra_fields = match allow_extra_node {
        Some(n) => boolean(n, "allow_extra_fields", diags),
        None => Some(true),
    };
    let fields = f.require("fields", diags).and_then(|n| fields(n, diags));
    f.finish(diags);
    if let (Some(OnBreach::Quarantine), Some(n), false) = (on_breach, on_breach_node, has_dlq) {
        diags.error_help(
            &n.loc,
            "`on_breach: quarantine` sends breaching records to the dead-letter queue, but this pipeline has no `dlq:`",
            "add `dlq: { sink: { type: jsonl, config: { path: … } } }` to `pipeline`, or use `on_breach: fail` or `warn`",
        );
        return None;
    }
    Some(ir::Contract {
        loc: node.loc.clone(),
        version: version?,
        description: description.flatten(),
        owner: owner.flatten(),
        on_breach: on_breach?,
        allow_extra_fields: allow_extra_fields?,
        allow_extra_fields_loc: allow_extra_node.map(|n| n.loc.clone()),
        fields: fields?,
    })
}

/// `version`: a non-empty string (a number must be quoted, as faucet-stream reads it as text).
fn version(node: &Node, diags: &mut Diagnostics) -> Option<String> {
    if let Value::Int(_) | Value::Float(_) = node.value {
        diags.error_help(
            &node.loc,
            format!("`version` must be a string, found {}", node.value.kind_name()),
            "quote it, e.g. `version: \"1.0.0\"`",
        );
        return None;
    }
    let v = plain_string(node, "version", diags)?;
    if v.trim().is_empty() {
        diags.error_help(
            &node.loc,
            "`version` must not be empty",
            "write the contract's version, e.g. `version: \"1.0.0\"`; it is named in every breach",
        );
        return None;
    }
    Some(v)
}

/// `fields`: a non-empty list of distinct, non-empty names.
fn fields(node: &Node, diags: &mut Diagnostics) -> Option<Vec<ContractField>> {
    let Value::Seq(items) = &node.value else {
        diags.error(&node.loc, format!("`fields` must be a list, found {}", node.value.kind_name()));
        return None;
    };
    if items.is_empty() {
        diags.error_help(
            &node.loc,
            "`fields` must not be empty",
            "declare at least one field, e.g. `- { name: id, type: integer }`",
        );
        return None;
    }
    let mut out: Vec<ContractField> = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match field(item, diags) {
            Some(f) => {
                if let Some(first) = out.iter().find(|o| o.name == f.name) {
                    let mut d =
                        Diagnostic::new(f.name_loc.clone(), format!("duplicate contract field `{}`", f.name))
                            .with_help("declare each field once");
                    d.notes.push(format!("first declared at {}", first.name_loc.short()));
                    diags.push(d);
                    ok = false;
                } else {
                    out.push(f);
                }
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// One item of `fields`, with every constraint checked against its type.
fn field(node: &Node, diags: &mut Diagnostics) -> Option<ContractField> {
    let mut f = Fields::with_spec(node, &CONTRACT_FIELD, "a contract field", diags)?;
    let name_node = f.require("name", diags);
    let name = name_node.and_then(|n| plain_string(n, "name", diags));
    let ty = f.require("type", diags).and_then(|n| field_type(n, diags));
    let required = f.get("required").map_or(Some(true), |n| boolean(n, "required", diags));
    let nullable = f.get("nullable").map_or(Some(false), |n| boolean(n, "nullable", diags));
    let mut present = |key| f.entry(key).filter(|e| !matches!(e.value.value, Value::Null));
    let (allowed, pattern) = (present("enum"), present("pattern"));
    let (min, max) = (present("min"), present("max"));
    let (min_length, max_length) = (present("min_length"), present("max_length"));
    let description = f.get("description").map(|n| plain_string(n, "description", diags));
    f.finish(diags);

    let (name_node, name, ty) = (name_node?, name?, ty?);
    if name.trim().is_empty() {
        diags.error_help(
            &name_node.loc,
            "a contract field's `name` must not be empty",
            "name the record's key",
        );
        return None;
    }
    let mut c = Constraints { name: &name, ty, ok: true, diags };
    let (string, numeric) = ([ContractType::String], [ContractType::Integer, ContractType::Number]);
    let pattern = c.applies(pattern, &string);
    let (min, max) = (c.applies(min, &numeric), c.applies(max, &numeric));
    let (min_length, max_length) = (c.applies(min_length, &string), c.applies(max_length, &string));
    let pattern = c.pattern(pattern);
    let (min, max) = c.bounds(min, max);
    let (min_length, max_length) = c.lengths(min_length, max_length);
    let allowed = allowed.and_then(|e| c.allowed(&e.value));
    let ok = c.ok && description.as_ref().is_none_or(Option::is_some);
    ok.then_some(ContractField {
        name_loc: name_node.loc.clone(),
        ty,
        required: required?,
        nullable: nullable?,
        allowed,
        pattern,
        min,
        max,
        min_length,
        max_length,
        description: description.flatten(),
        name,
    })
}

/// `type`.
fn field_type(node: &Node, diags: &mut Diagnostics) -> Option<ContractType> {
    Some(match one_of(node, "type", ContractType::VALUES, diags)? {
        "integer" => ContractType::Integer,
        "number" => ContractType::Number,
        "boolean" => ContractType::Boolean,
        "object" => ContractType::Object,
        "array" => ContractType::Array,
        _ => ContractType::String,
    })
}

/// The checks of one field's constraints against its type and each other;
/// `ok` turns false at the first mistake reported.
struct Constraints<'a> {
    name: &'a str,
    ty: ContractType,
    ok: bool,
    diags: &'a mut Diagnostics,
}

impl Constraints<'_> {
    /// `entry`, when the field's type is one of `types`; else reported.
    fn applies<'e>(&mut self, entry: Option<&'e Entry>, types: &[ContractType]) -> Option<&'e Entry> {
        let entry = entry?;
        if types.contains(&self.ty) {
            return Some(entry);
        }
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        self.error(
            &entry.key_loc,
            format!(
                "`{}` applies only to {} fields, but `{}` is {} field",
                entry.key,
                list(&names),
                self.name,
                a_type(self.ty)
            ),
            format!("remove `{}`, or change the field's `type`", entry.key),
        );
        None
    }

    fn error(&mut self, loc: &Loc, message: String, help: impl Into<String>) {
        self.diags.error_help(loc, message, help);
        self.ok = false;
    }

    /// `pattern`: a regex that compiles.
    fn pattern(&mut self, entry: Option<&Entry>) -> Option<String> {
        let node = &entry?.value;
        let Some(p) = plain_string(node, "pattern", self.diags) else {
            self.ok = false;
            return None;
        };
        if let Err(e) = regex::Regex::new(&p) {
            let detail = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
            self.error(
                &node.loc,
                format!("invalid regex {p:?}: {detail}"),
                "the pattern uses Rust regex syntax",
            );
            return None;
        }
        Some(p)
    }

    /// `min` and `max`: numbers as their exact text, `min` at most `max`.
    fn bounds(&mut self, min: Option<&Entry>, max: Option<&Entry>) -> (Option<String>, Option<String>) {
        let lo = min.and_then(|e| self.number(&e.value, "min"));
        let hi = max.and_then(|e| self.number(&e.value, "max"));
        if let (Some((lo, lo_text)), Some((hi, hi_text)), Some(min)) = (&lo, &hi, min)
            && lo > hi
        {
            let message = format!(
                "`min` ({lo_text}) is greater than `max` ({hi_text}) for `{}`: no value can pass",
                self.name
            );
            self.error(&min.key_loc, message, "make `min` at most `max`");
        }
        (lo.map(|(_, text)| text), hi.map(|(_, text)| text))
    }

    /// A finite number: its value (to order the bounds) and its exact JSON text.
    fn number(&mut self, node: &Node, key: &str) -> Option<(f64, String)> {
        let found = match node.value {
            Value::Int(i) => Some((i as f64, i.to_string())),
            Value::Float(x) => serde_json::Number::from_f64(x).map(|n| (x, n.to_string())),
            _ => None,
        };
        if found.is_none() {
            let what = match &node.value {
                Value::Float(_) => "an infinite or NaN number",
                other => other.kind_name(),
            };
            self.error(
                &node.loc,
                format!("`{key}` must be a number, found {what}"),
                format!("write `{key}: 0`"),
            );
        }
        found
    }

    /// `min_length` and `max_length`: counts of characters, the first at most the second.
    fn lengths(&mut self, min: Option<&Entry>, max: Option<&Entry>) -> (Option<u64>, Option<u64>) {
        let mut count = |e: Option<&Entry>, key: &str| {
            let e = e?;
            let n = int_in(&e.value, key, 0, i64::MAX, self.diags);
            self.ok &= n.is_some();
            n.map(|n| n as u64)
        };
        let (lo, hi) = (count(min, "min_length"), count(max, "max_length"));
        if let (Some(lo), Some(hi), Some(min)) = (lo, hi, min)
            && lo > hi
        {
            let message = format!(
                "`min_length` ({lo}) is greater than `max_length` ({hi}) for `{}`: no value can pass",
                self.name
            );
            self.error(&min.key_loc, message, "make `min_length` at most `max_length`");
        }
        (lo, hi)
    }

    /// `enum`: a non-empty list of values of the field's type, none of them null.
    fn allowed(&mut self, node: &Node) -> Option<Vec<serde_json::Value>> {
        let Value::Seq(items) = &node.value else {
            let message = format!("`enum` must be a list, found {}", node.value.kind_name());
            self.error(&node.loc, message, "list the allowed values: `enum: [a, b]`");
            return None;
        };
        if items.is_empty() {
            let message = format!("`enum` of `{}` must not be empty: no value could pass", self.name);
            self.error(&node.loc, message, "list the allowed values, or remove `enum`");
            return None;
        }
        let reported = self.diags.len();
        for item in items {
            if let Value::Null = item.value {
                let message = format!("`enum` of `{}` must not contain null", self.name);
                self.error(&item.loc, message, "remove it and set `nullable: true` to allow null");
            } else if !value_has_type(&item.value, self.ty) {
                let found = match &item.value {
                    Value::Float(_) if self.ty == ContractType::Integer => "a number with a fractional part",
                    other => other.kind_name(),
                };
                let message =
                    format!("this `enum` value is {found}, but `{}` is {} field", self.name, a_type(self.ty));
                self.error(&item.loc, message, format!("every value of `enum` must be {}", a_type(self.ty)));
            }
        }
        (self.diags.len() == reported).then(|| items.iter().map(Node::to_json).collect())
    }
}

/// Whether a config value is of the contract type (`1.0` is an integer, as at run time).
fn value_has_type(value: &Value, ty: ContractType) -> bool {
    match (ty, value) {
        (ContractType::String, Value::Str(_)) => true,
        (ContractType::Integer, Value::Int(_)) => true,
        (ContractType::Integer, Value::Float(x)) => x.is_finite() && x.fract() == 0.0,
        (ContractType::Number, Value::Int(_)) => true,
        (ContractType::Number, Value::Float(x)) => x.is_finite(),
        (ContractType::Boolean, Value::Bool(_)) => true,
        (ContractType::Object, Value::Map(_)) => true,
        (ContractType::Array, Value::Seq(_)) => true,
        _ => false,
    }
}

/// "a string", "an integer", …
fn a_type(ty: ContractType) -> String {
    match ty {
        ContractType::Integer | ContractType::Object | ContractType::Array => format!("an {}", ty.as_str()),
        _ => format!("a {}", ty.as_str()),
    }
}

impl ir::Contract {
    /// The contract as a declared schema of the pipeline's output: its fields
    /// with their types, and open to other fields unless `allow_extra_fields` is false.
    pub fn schema(&self) -> RecordSchema {
        let fields = self
            .fields
            .iter()
            .map(|f| FieldDef {
                name: f.name.clone(),
                ty: match f.ty {
                    ContractType::String => FieldType::String,
                    ContractType::Integer => FieldType::Integer,
                    ContractType::Number => FieldType::Number,
                    ContractType::Boolean => FieldType::Boolean,
                    // The contract promises an object, not its fields: any JSON object.
                    ContractType::Object => FieldType::Json,
                    ContractType::Array => FieldType::Array { items: Box::new(FieldType::Json) },
                },
                nullable: f.nullable,
                required: f.required,
            })
            .collect();
        RecordSchema {
            fields,
            open: self.allow_extra_fields,
            origin: Origin::Contract { loc: self.loc.clone() },
        }
    }
}

/// Reports what the flow into the sink (`output`) contradicts in `contract`:
/// a contract field the flow cannot produce (unless the flow is open to
/// fields it does not list), one it produces with a type the contract's
/// cannot hold, and, with `allow_extra_fields: false`, a field every record
/// carries that the contract does not declare. Errors point at the contract.
pub(crate) fn check_flow(contract: &ir::Contract, output: &RecordSchema, diags: &mut Diagnostics) {
    let names = output.names();
    for field in &contract.fields {
        match output.field(&field.name) {
            None if output.open => {}
            None => {
                let help = match crate::diag::suggest(&field.name, names.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None if names.is_empty() => "the records reaching the sink have no fields".to_owned(),
                    None => format!("the records reaching the sink have {}", list(&names)),
                };
                push(
                    diags,
                    &field.name_loc,
                    format!(
                        "contract field `{}` is never produced: the records reaching the sink have no such field",
                        field.name
                    ),
                    help,
                    output,
                );
            }
            Some(produced) if !holds(field.ty, &produced.ty) => push(
                diags,
                &field.name_loc,
                format!(
                    "contract field `{}` is {}, but the records reaching the sink carry it as {}",
                    field.name,
                    field.ty.as_str(),
                    produced.ty.describe()
                ),
                format!("change the contract's `type`, or convert `{}` before the sink", field.name),
                output,
            ),
            Some(_) => {}
        }
    }
    if !contract.allow_extra_fields {
        let declared: Vec<&str> = contract.fields.iter().map(|f| f.name.as_str()).collect();
        let loc = contract.allow_extra_fields_loc.as_ref().unwrap_or(&contract.loc);
        for extra in output.fields.iter().filter(|f| f.required && !declared.contains(&f.name.as_str())) {
            push(
                diags,
                loc,
                format!(
                    "every record reaching the sink has field `{}`, which the contract does not declare \
                     and `allow_extra_fields: false` rejects",
                    extra.name
                ),
                match crate::diag::suggest(&extra.name, declared.iter().copied()) {
                    Some(best) => format!("did you mean to declare `{best}` as `{}`?", extra.name),
                    None => format!("declare `{}` in `fields`, or drop it before the sink", extra.name),
                },
                output,
            );
        }
    }
}

fn push(diags: &mut Diagnostics, loc: &Loc, message: String, help: String, output: &RecordSchema) {
    let mut d = Diagnostic::new(loc.clone(), message).with_help(help);
    d.notes.push(output.origin.note());
    diags.push(d);
}

/// Whether values of the flow's type `produced` can be of the contract type
/// `ty`. A decimal travels as a JSON number, or as its exact text (from
/// PostgreSQL), so both `number` and `string` may hold it; JSON may hold anything.
fn holds(ty: ContractType, produced: &FieldType) -> bool {
    use FieldType as F;
    matches!(
        (ty, produced),
        (_, F::Json)
            | (
                ContractType::String,
                F::String
                    | F::Date
                    | F::Time
                    | F::Timestamp { .. }
                    | F::Binary
                    | F::Other { .. }
                    | F::Decimal { .. }
            )
            | (ContractType::Integer | ContractType::Number, F::Integer | F::Number | F::Decimal { .. })
            | (ContractType::Boolean, F::Boolean)
            | (ContractType::Object, F::Object { .. })
            | (ContractType::Array, F::Array { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract of a pipeline whose `contract:` block is `block` (indented under it).
    fn contract(block: &str) -> ir::Contract {
        let yaml = format!(
            "pipeline:\n  source: {{ type: jsonl, config: {{ path: in.jsonl }} }}\n  sink: {{ type: stdout }}\n  contract:\n{block}"
        );
        match crate::check_yaml("flow.yaml", &yaml) {
            Ok(ir::Definition::Single(p)) => p.contract.expect("a contract"),
            Ok(_) => panic!("not a single pipeline"),
            Err(d) => panic!("invalid:\n{d}"),
        }
    }

    fn field(name: &str, ty: FieldType) -> FieldDef {
        FieldDef { name: name.into(), ty, nullable: false, required: true }
    }

    fn output(fields: Vec<FieldDef>, open: bool) -> RecordSchema {
        RecordSchema { fields, open, origin: Origin::Declared { loc: Loc::Unknown } }
    }

    fn check(c: &ir::Contract, out: &RecordSchema) -> Vec<Diagnostic> {
        let mut diags = Diagnostics::new();
        check_flow(c, out, &mut diags);
        diags.into_iter().collect()
    }

    const ORDERS: &str = "    version: \"1\"\n    fields:\n      - { name: id, type: integer }\n      - { name: stauts, type: string }\n      - { name: amount, type: number }\n      - { name: placed, type: string }\n      - { name: paid, type: boolean }\n";

    #[test]
    fn fields_the_flow_cannot_produce_or_contradicts_are_errors_at_the_contract() {
        let c = contract(ORDERS);
        let out = output(
            vec![
                field("id", FieldType::String),
                field("status", FieldType::String),
                field("amount", FieldType::Decimal { precision: Some(10), scale: Some(2) }),
                field("placed", FieldType::Timestamp { time_zone: true }),
                field("paid", FieldType::Json),
            ],
            false,
        );
        let found = check(&c, &out);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].message,
            "contract field `id` is integer, but the records reaching the sink carry it as string"
        );
        assert_eq!(found[0].loc.short(), "flow.yaml:7:17");
        assert!(found[1].message.contains("`stauts` is never produced"), "{}", found[1].message);
        assert_eq!(found[1].help.as_deref(), Some("did you mean `status`?"));
        assert_eq!(found[1].loc.short(), "flow.yaml:8:17");
        for d in &found {
            assert_eq!(d.notes, [out.origin.note()]);
        }
    }

    #[test]
    fn an_open_flow_may_produce_any_field() {
        let c = contract(ORDERS);
        let out = output(vec![field("id", FieldType::Integer), field("amount", FieldType::Integer)], true);
        assert!(check(&c, &out).is_empty());
        // Without a near name, the help lists what the flow produces.
        let closed =
            output(vec![field("id", FieldType::Integer), field("amount", FieldType::Integer)], false);
        let found = check(&c, &closed);
        assert_eq!(found.len(), 3);
        assert_eq!(found[1].help.as_deref(), Some("the records reaching the sink have `id` or `amount`"));
    }

    #[test]
    fn without_extra_fields_a_field_every_record_carries_must_be_declared() {
        let c = contract(
            "    version: \"1\"\n    allow_extra_fields: false\n    fields:\n      - { name: id, type: integer }\n",
        );
        let mut optional = field("note", FieldType::String);
        optional.required = false;
        let out =
            output(vec![field("id", FieldType::Integer), field("idd", FieldType::Integer), optional], false);
        let found = check(&c, &out);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("field `idd`, which the contract does not declare"));
        assert_eq!(found[0].loc.short(), "flow.yaml:6:25");
        assert_eq!(found[0].help.as_deref(), Some("did you mean to declare `id` as `idd`?"));
    }

    #[test]
    fn the_schema_is_the_contract_as_a_declaration() {
        let c = contract(
            "    version: \"1\"\n    allow_extra_fields: false\n    fields:\n      - { name: id, type: integer }\n      - { name: tags, type: array, required: false, nullable: true }\n",
        );
        let s = c.schema();
        assert!(!s.open);
        assert!(matches!(s.origin, Origin::Contract { .. }));
        assert_eq!(s.fields[0], field("id", FieldType::Integer));
        assert_eq!(
            s.fields[1],
            FieldDef {
                name: "tags".into(),
                ty: FieldType::Array { items: Box::new(FieldType::Json) },
                nullable: true,
                required: false
            }
        );
        assert!(contract(ORDERS).schema().open);
    }

    #[test]
    fn bounds_keep_their_exact_text() {
        let c = contract(
            "    version: \"1\"\n    fields:\n      - { name: n, type: number, min: -0.1, max: 9007199254740993 }\n",
        );
        assert_eq!(c.fields[0].min.as_deref(), Some("-0.1"));
        assert_eq!(c.fields[0].max.as_deref(), Some("9007199254740993"));
    }

    #[test]
    fn an_inline_definition_takes_the_same_contract() {
        let tokens = quote::quote! {
            name: inline_contract,
            pipeline: {
                source: { type: jsonl, config: { path: "in.jsonl" } },
                sink: { type: stdout },
                contract: {
                    version: "1",
                    on_breach: warn,
                    fields: [
                        { name: status, type: string, enum: [open, "shipped"], pattern: "^[a-z]+$" },
                        { name: n, type: number, min: 0.5, max: 10, required: false },
                    ],
                },
            }
        };
        let ctx = crate::MacroContext { manifest_dir: ".".into(), caller_file: None };
        let out = crate::expand(tokens, &ctx).to_string();
        assert!(!out.contains("compile_error"), "{out}");
        for part in
            ["with_contract", "OnBreach :: Warn", "one_of ([\"open\" , \"shipped\"])", "min (\"0.5\")"]
        {
            assert!(out.contains(part), "{part} missing from {out}");
        }
    }
}

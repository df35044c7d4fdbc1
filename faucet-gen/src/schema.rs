//! `faucet-gen schema`: the JSON Schema (draft 2020-12) of the whole grammar.
//!
//! Nothing here describes a key: the schema is generated from the same
//! [`Spec`]s the validators read through [`Fields::with_spec`], so the two
//! cannot drift (a validator reading an undeclared key panics in debug builds,
//! and a test checks that every declared key is read). The schema is for
//! editors (completion, hover docs); `faucet-gen check` stays the authority
//! for what it cannot express (JSONPath and regex syntax, URL checks, matrix
//! graphs, cross-key rules).
//!
//! [`Fields::with_spec`]: crate::read::Fields::with_spec

use schemars::Schema;
use serde_json::{Map, Value, json};

use crate::spec::{Kind, Spec, doc_text};
use crate::validate::{PIPELINE, TOP};

/// How strictly a map is described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// As written for a pipeline without `matrix:`: required keys required.
    Strict,
    /// A template that matrix rows complete: no key is required.
    Partial,
    /// A matrix row's `source` / `sink` overlay: partial, plus `ref`.
    Row,
}

/// The JSON Schema of faucet's pipeline grammar.
pub fn json_schema() -> Schema {
    let mut g = Generator { defs: Map::new() };
    let mut root = g.object(&TOP, Mode::Strict);
    // Without `matrix:`, `pipeline` must be complete; with it, it is a template.
    let strict = g.reference(&PIPELINE, Mode::Strict);
    root.insert(
        "allOf".into(),
        json!([{ "if": { "required": ["matrix"] }, "else": { "properties": { "pipeline": strict } } }]),
    );
    let mut out = Map::new();
    out.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    out.insert("title".into(), json!("faucet pipeline"));
    out.extend(root);
    out.insert("$defs".into(), Value::Object(std::mem::take(&mut g.defs)));
    Schema::from(out)
}

struct Generator {
    defs: Map<String, Value>,
}

impl Generator {
    /// A `$ref` to `spec` in `mode`, adding it to `$defs` on first use.
    fn reference(&mut self, spec: &'static Spec, mode: Mode) -> Value {
        let name = match mode {
            Mode::Strict => spec.name.to_owned(),
            Mode::Partial => format!("{}~template", spec.name),
            Mode::Row => format!("{}~row", spec.name),
        };
        if !self.defs.contains_key(&name) {
            self.defs.insert(name.clone(), Value::Null);
            let schema = Value::Object(self.object(spec, mode));
            self.defs.insert(name.clone(), schema);
        }
        json!({ "$ref": format!("#/$defs/{name}") })
    }

    /// A map described by `spec`: closed, a tagged union when it has variants.
    fn object(&mut self, spec: &'static Spec, mode: Mode) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("type".into(), json!("object"));
        out.insert("description".into(), json!(doc_text(spec.doc)));
        if spec.variants.is_empty() {
            let (properties, required) = self.properties(spec, mode, &[]);
            close(&mut out, properties, required);
            return out;
        }
        let tag = spec.fields.iter().find(|f| f.key == "type");
        let mut alternatives = Vec::new();
        for variant in spec.variants {
            let skip: &[&str] = if variant.nested { &["type", "config"] } else { &["type"] };
            let (mut properties, mut required) = self.properties(spec, mode, skip);
            let mut tag_schema = json!({ "const": variant.tag });
            if let Some(f) = tag {
                tag_schema["description"] = json!(doc_text(f.doc));
            }
            properties.insert("type".into(), tag_schema);
            if mode == Mode::Strict {
                required.insert(0, "type".into());
            }
            match (variant.nested, variant.spec) {
                (true, Some(s)) => {
                    let config = self.reference(s, child(spec, "config", mode));
                    properties.insert("config".into(), config);
                }
                (true, None) => {
                    properties.insert("config".into(), json!({ "type": "object" }));
                }
                (false, Some(s)) => {
                    let (more, more_required) = self.properties(s, mode, &[]);
                    properties.extend(more);
                    required.extend(more_required);
                }
                (false, None) => {}
            }
            let mut alternative = Map::new();
            alternative.insert("title".into(), json!(variant.tag));
            if let Some(s) = variant.spec {
                alternative.insert("description".into(), json!(doc_text(s.doc)));
            }
            close(&mut alternative, properties, required);
            alternatives.push(Value::Object(alternative));
        }
        out.insert("anyOf".into(), Value::Array(alternatives));
        out
    }

    /// The properties of `fields` (not-yet keys left out) and the required ones.
    fn properties(
        &mut self,
        spec: &'static Spec,
        mode: Mode,
        skip: &[&str],
    ) -> (Map<String, Value>, Vec<Value>) {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for f in spec.keys().into_iter().filter(|f| !f.not_yet && !skip.contains(&f.key)) {
            let mut schema = self.kind(&f.kind, child(spec, f.key, mode));
            if let Value::Object(map) = &mut schema {
                map.insert("description".into(), json!(doc_text(f.doc)));
                if let Some(default) = f.default {
                    map.insert("default".into(), default.to_json());
                }
            }
            properties.insert(f.key.into(), schema);
            if f.required && mode == Mode::Strict {
                required.push(json!(f.key));
            }
        }
        if mode == Mode::Row && matches!(spec.name, "source" | "sink") {
            properties.insert(
                "ref".into(),
                json!({ "type": "string", "description": "The named template (under `pipeline.sources` / `sinks`) this row merges onto." }),
            );
        }
        (properties, required)
    }

    /// A `$ref` to a definition shared by many keys, added on first use.
    fn shared(&mut self, name: &str, schema: Value) -> Value {
        self.defs.entry(name).or_insert(schema);
        json!({ "$ref": format!("#/$defs/{name}") })
    }

    /// A string holding `${vars.…}`: the validator substitutes vars before it
    /// checks a value, so such a string is accepted wherever a string value would be.
    fn vars_reference(&mut self) -> Value {
        self.shared(
            "vars_reference",
            json!({ "type": "string", "pattern": "\\$\\{vars\\.", "description": "A `${vars.name}` reference." }),
        )
    }

    fn kind(&mut self, kind: &'static Kind, mode: Mode) -> Value {
        match kind {
            Kind::Bool => json!({ "type": "boolean" }),
            Kind::Int(min, max) => {
                let mut s = json!({ "type": "integer" });
                if *min != i64::MIN {
                    s["minimum"] = json!(min);
                }
                if *max != i64::MAX {
                    s["maximum"] = json!(max);
                }
                s
            }
            Kind::Number(min, max) => {
                let mut s = json!({ "type": "number" });
                if min.is_finite() {
                    s["minimum"] = json!(min);
                }
                if max.is_finite() {
                    s["maximum"] = json!(max);
                }
                s
            }
            // A secret's `${env:…}` may also arrive through `${vars.…}`.
            Kind::Str | Kind::Text | Kind::Secret => json!({ "type": "string" }),
            Kind::Byte => {
                let vars = self.vars_reference();
                self.shared(
                    "byte",
                    json!({ "anyOf": [
                    { "type": "integer", "minimum": 0, "maximum": 255 },
                    { "type": "string", "minLength": 1, "maxLength": 1 },
                    { "const": "\\t" },
                    vars,
                ] }),
                )
            }
            Kind::OneOf(choices) => json!({ "anyOf": [{ "enum": choices }, self.vars_reference()] }),
            Kind::List(item) => json!({ "type": "array", "items": self.kind(item, mode) }),
            Kind::Map(value) => json!({ "type": "object", "additionalProperties": self.kind(value, mode) }),
            Kind::Object(spec) => self.reference(spec, mode),
            Kind::AnyOf(kinds) => {
                let alternatives: Vec<Value> = kinds.iter().map(|k| self.kind(k, mode)).collect();
                json!({ "anyOf": alternatives })
            }
            Kind::Scalar => json!({ "type": ["string", "number", "boolean"] }),
            // Groups are laid out in place by `Spec::keys`.
            Kind::Json | Kind::Flatten(_) => json!({}),
        }
    }
}

/// Sets properties, required keys and `additionalProperties: false` (unknown keys are errors).
fn close(out: &mut Map<String, Value>, properties: Map<String, Value>, required: Vec<Value>) {
    out.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    out.insert("additionalProperties".into(), json!(false));
}

/// The mode of the value of `key` in `parent`: in `pipeline` the source and
/// sink parts follow the pipeline's mode (templates with `matrix:`) and the
/// rest is strict; a matrix row's `source` / `sink` are overlays.
fn child(parent: &Spec, key: &str, mode: Mode) -> Mode {
    match (parent.name, key) {
        ("definition", "pipeline") => Mode::Partial,
        ("pipeline", "source" | "sink" | "sources" | "sinks") => mode,
        ("pipeline", _) => Mode::Strict,
        ("matrix.row", "source" | "sink") => Mode::Row,
        ("matrix.row", _) => Mode::Strict,
        _ if mode == Mode::Row => Mode::Partial,
        _ => mode,
    }
}

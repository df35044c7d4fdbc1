//! The value transforms' configs: `redact`, `value_case`, `hash`,
//! `json_parse`, `json_encode`, `split` and `join` (faucet-stream 1.17's keys
//! and defaults). The fields they name are checked against the schema in the
//! schema flow (`record_schema/flow/values.rs`).

use crate::diag::{Diagnostics, list};
use crate::ir::values::{
    Hash, HashAlgorithm, HashEncoding, JsonParse, JsonParseOnError, SplitJoin, ValueCaseMode,
};
use crate::ir::{Named, Transform};
use crate::load::{Node, Value};
use crate::read::{Fields, boolean, plain_string};
use crate::settings::Setting;
use crate::spec::{Field, Kind, Spec};

const FIELDS_DOC: &str = "Top-level field names.";
const INTO_DOC: &str = "Where the result goes, leaving the field as it is; absent: the field is replaced.";

pub(super) static REDACT: Spec = Spec {
    name: "transform.redact",
    doc: "Listed fields overwritten with `mask`; a field a record lacks stays absent.",
    fields: &[
        Field::req("fields", Kind::List(&Kind::Str), FIELDS_DOC),
        Field::opt("mask", Kind::Json, "What replaces each value.").default("\"***\""),
    ],
    variants: &[],
};

pub(super) static VALUE_CASE: Spec = Spec {
    name: "transform.value_case",
    doc: "The text of listed string fields re-cased or trimmed.",
    fields: &[
        Field::req("fields", Kind::List(&Kind::Str), "String fields."),
        Field::req(
            "mode",
            Kind::OneOf(ValueCaseMode::VALUES),
            "`title` upper-cases each whitespace-delimited word's first letter, `capitalize` the string's first letter; both lower-case the rest.",
        ),
    ],
    variants: &[],
};

pub(super) static HASH: Spec = Spec {
    name: "transform.hash",
    doc: "Listed fields replaced by a digest of their value (a string's UTF-8 bytes, any other value's compact JSON, keys sorted); null stays null.",
    fields: &[
        Field::req("fields", Kind::List(&Kind::Str), "Top-level field names; exactly one with `into`."),
        Field::opt("algorithm", Kind::OneOf(HashAlgorithm::VALUES), "The digest.").default("\"sha256\""),
        Field::opt("encoding", Kind::OneOf(HashEncoding::VALUES), "`hex` (lowercase) or `base64` (padded).")
            .default("\"hex\""),
        Field::opt("salt", Kind::Secret, "Prepended to each value before hashing; read at run time."),
        Field::opt("into", Kind::Str, INTO_DOC),
    ],
    variants: &[],
};

pub(super) static JSON_PARSE: Spec = Spec {
    name: "transform.json_parse",
    doc: "JSON text in listed fields parsed into values; a value that is not a string stays.",
    fields: &[
        Field::req("fields", Kind::List(&Kind::Str), "Top-level field names; exactly one with `into`."),
        Field::opt(
            "on_error",
            Kind::OneOf(JsonParseOnError::VALUES),
            "Text that is not JSON: `keep` it, write `null`, or reject the record (`error`).",
        )
        .default("\"keep\""),
        Field::opt("into", Kind::Str, INTO_DOC),
    ],
    variants: &[],
};

pub(super) static JSON_ENCODE: Spec = Spec {
    name: "transform.json_encode",
    doc: "Object and array fields written as compact JSON text (keys sorted); other values stay.",
    fields: &[Field::req("fields", Kind::List(&Kind::Str), FIELDS_DOC)],
    variants: &[],
};

pub(super) static SPLIT: Spec = Spec {
    name: "transform.split",
    doc: "A string field split into an array of strings; empty parts are kept.",
    fields: &[
        Field::req("field", Kind::Str, "A string field."),
        Field::req("delimiter", Kind::Str, "What separates the parts; empty: one part, the whole string."),
        Field::opt("trim", Kind::Bool, "Trim whitespace around each part.").default("false"),
        Field::opt("into", Kind::Str, INTO_DOC),
    ],
    variants: &[],
};

pub(super) static JOIN: Spec = Spec {
    name: "transform.join",
    doc: "An array field joined into one string: strings as they are, null as nothing, anything else as JSON.",
    fields: &[
        Field::req("field", Kind::Str, "An array field."),
        Field::req("delimiter", Kind::Str, "Placed between the items."),
        Field::opt("into", Kind::Str, INTO_DOC),
    ],
    variants: &[],
};

/// `redact`.
pub(super) fn redact(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &REDACT, what, diags)?;
    let fields = c.require("fields", diags).and_then(|n| field_list(n, diags));
    // An explicit `mask: null` masks with null.
    let mask = match c.entry("mask") {
        Some(e) => e.value.to_json(),
        None => serde_json::Value::String("***".to_owned()),
    };
    c.finish(diags);
    Some(Transform::Redact { fields: fields?, mask })
}

/// `value_case`.
pub(super) fn value_case(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &VALUE_CASE, what, diags)?;
    let fields = c.require("fields", diags).and_then(|n| field_list(n, diags));
    let mode = c.require("mode", diags).and_then(|n| ValueCaseMode::read(n, "mode", diags));
    c.finish(diags);
    Some(Transform::ValueCase { fields: fields?, mode: mode? })
}

/// `hash`.
pub(super) fn hash(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &HASH, what, diags)?;
    let fields = c.require("fields", diags).and_then(|n| field_list(n, diags));
    let algorithm = match c.get("algorithm") {
        Some(n) => algorithm(n, diags),
        None => Some(HashAlgorithm::Sha256),
    };
    let encoding = match c.get("encoding") {
        Some(n) => HashEncoding::read(n, "encoding", diags),
        None => Some(HashEncoding::Hex),
    };
    let salt = match c.get("salt") {
        Some(n) => crate::secrets::secret(n, "salt", diags).map(Some),
        None => Some(None),
    };
    let into = read_into(&mut c, diags);
    c.finish(diags);
    let (fields, into) = (fields?, into?);
    one_field_into("hash", &fields, into.as_ref(), diags)?;
    Some(Transform::Hash(Hash { fields, algorithm: algorithm?, encoding: encoding?, salt: salt?, into }))
}

/// `hash`'s `algorithm`: faucet has faucet-stream's two.
fn algorithm(node: &Node, diags: &mut Diagnostics) -> Option<HashAlgorithm> {
    match &node.value {
        Value::Str(s) if let Some(algorithm) = HashAlgorithm::from_value(s) => Some(algorithm),
        Value::Str(s) => {
            let lower = s.to_ascii_lowercase();
            let help = match HashAlgorithm::VALUES.iter().find(|a| **a == lower) {
                Some(a) => format!("write it in lowercase: `{a}`"),
                None => format!("faucet, like faucet-stream, hashes with {}", list(HashAlgorithm::VALUES)),
            };
            diags.error_help(&node.loc, format!("faucet has no hash algorithm `{s}`"), help);
            None
        }
        other => {
            diags.error_help(
                &node.loc,
                format!("`algorithm` must be a string, found {}", other.kind_name()),
                format!("use {}", list(HashAlgorithm::VALUES)),
            );
            None
        }
    }
}

/// `json_parse`.
pub(super) fn json_parse(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &JSON_PARSE, what, diags)?;
    let fields = c.require("fields", diags).and_then(|n| field_list(n, diags));
    let on_error = match c.get("on_error") {
        Some(n) => JsonParseOnError::read(n, "on_error", diags),
        None => Some(JsonParseOnError::Keep),
    };
    let into = read_into(&mut c, diags);
    c.finish(diags);
    let (fields, into) = (fields?, into?);
    one_field_into("json_parse", &fields, into.as_ref(), diags)?;
    Some(Transform::JsonParse(JsonParse { fields, on_error: on_error?, into }))
}

/// `json_encode`.
pub(super) fn json_encode(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &JSON_ENCODE, what, diags)?;
    let fields = c.require("fields", diags).and_then(|n| field_list(n, diags));
    c.finish(diags);
    Some(Transform::JsonEncode { fields: fields? })
}

/// `split`.
pub(super) fn split(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &SPLIT, what, diags)?;
    let field = c.require("field", diags).and_then(|n| field_name(n, "field", diags));
    let delimiter = c.require("delimiter", diags).and_then(|n| plain_string(n, "delimiter", diags));
    let trim = match c.get("trim") {
        Some(n) => boolean(n, "trim", diags),
        None => Some(false),
    };
    let into = read_into(&mut c, diags);
    c.finish(diags);
    Some(Transform::Split(SplitJoin { field: field?, delimiter: delimiter?, trim: trim?, into: into? }))
}

/// `join`.
pub(super) fn join(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &JOIN, what, diags)?;
    let field = c.require("field", diags).and_then(|n| field_name(n, "field", diags));
    let delimiter = c.require("delimiter", diags).and_then(|n| plain_string(n, "delimiter", diags));
    let into = read_into(&mut c, diags);
    c.finish(diags);
    Some(Transform::Join(SplitJoin { field: field?, delimiter: delimiter?, trim: false, into: into? }))
}

/// A field name: a non-empty string fixed at build time.
pub(super) fn field_name(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Named> {
    let name = plain_string(node, key, diags)?;
    if name.is_empty() {
        diags.error_help(&node.loc, format!("`{key}` is empty"), "name a top-level field of the records");
        return None;
    }
    Some(Named { name, loc: node.loc.clone() })
}

/// `fields`: a non-empty list of distinct field names.
pub(super) fn field_list(node: &Node, diags: &mut Diagnostics) -> Option<Vec<Named>> {
    let Value::Seq(items) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`fields` must be a list of field names, found {}", node.value.kind_name()),
            "write e.g. `fields: [email, phone]`",
        );
        return None;
    };
    if items.is_empty() {
        diags.error_help(&node.loc, "`fields` is empty", "list the fields, e.g. `fields: [email]`");
        return None;
    }
    let mut out: Vec<Named> = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match field_name(item, "fields", diags) {
            Some(f) if out.iter().any(|o| o.name == f.name) => {
                diags.error_help(
                    &f.loc,
                    format!("field `{}` is listed twice", f.name),
                    "list each field once: the transform would apply twice",
                );
                ok = false;
            }
            Some(f) => out.push(f),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// `into`, if present.
fn read_into(c: &mut Fields<'_>, diags: &mut Diagnostics) -> Option<Option<Named>> {
    match c.get("into") {
        Some(n) => field_name(n, "into", diags).map(Some),
        None => Some(None),
    }
}

/// `into` takes the result of one field only, as in faucet-stream.
fn one_field_into(kind: &str, fields: &[Named], into: Option<&Named>, diags: &mut Diagnostics) -> Option<()> {
    let Some(into) = into else { return Some(()) };
    if fields.len() != 1 {
        diags.error_help(
            &into.loc,
            format!("`{kind}` with `into` takes exactly one field, found {}", fields.len()),
            format!("remove `into` to replace each field in place, or write one `{kind}` per field"),
        );
        return None;
    }
    Some(())
}

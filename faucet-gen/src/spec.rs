//! The declared grammar: which keys a map accepts, what each one holds, its
//! default and its doc text. The validator reads maps through these
//! ([`crate::read::Fields::with_spec`]), `faucet-gen schema` turns them into a
//! JSON Schema, and `faucet-gen docs` prints the grammar reference
//! (`docs/grammar.md`) from them, so none of the three can drift from the
//! others. Connector settings are declared with `settings!`
//! ([`crate::settings`]), which writes their [`Spec`].

/// The accepted keys of one map: the single description that both the
/// validator ([`Fields::with_spec`]) and the JSON Schema (`faucet-gen schema`)
/// read, so neither can drift from the other.
///
/// A validator reading a key its spec does not declare panics in debug builds,
/// and a unit test (`schema::tests`) checks that every declared key is read.
// Read by the schema generator, which only the `schema` feature compiles.
#[cfg_attr(not(feature = "schema"), allow(dead_code))]
#[derive(Debug)]
pub struct Spec {
    /// A unique name, also the schema's `$defs` key (`source.csv`).
    pub name: &'static str,
    /// Hover text for the map.
    pub doc: &'static str,
    /// The keys, in the order the validator reads them.
    pub fields: &'static [Field],
    /// A tagged union: the `type` key picks one variant, whose keys sit
    /// beside `type` ([`Variant::nested`] false) or under `config` (true).
    pub variants: &'static [Variant],
}

/// One alternative of a tagged [`Spec`].
#[derive(Debug)]
pub struct Variant {
    /// The value of `type`.
    pub tag: &'static str,
    /// `config` holds the keys (`{type, config}` blocks) rather than the map itself.
    pub nested: bool,
    /// The variant's keys; `None` for a connector whose spec has not landed (any map).
    pub spec: Option<&'static Spec>,
}

/// One key of a [`Spec`].
// Read by the schema generator, which only the `schema` feature compiles.
#[cfg_attr(not(feature = "schema"), allow(dead_code))]
#[derive(Debug)]
pub struct Field {
    /// The key.
    pub key: &'static str,
    /// Hover text.
    pub doc: &'static str,
    /// The values accepted.
    pub kind: Kind,
    /// Must be present.
    pub required: bool,
    /// The default, shown in the schema.
    pub default: Option<DefaultValue>,
    /// A faucet-stream key faucet does not support yet: present, it is an error.
    pub not_yet: bool,
}

/// The values a [`Field`] accepts, as the validator reads them.
// Read by the schema generator, which only the `schema` feature compiles.
#[cfg_attr(not(feature = "schema"), allow(dead_code))]
#[derive(Debug)]
pub enum Kind {
    /// `true` / `false`.
    Bool,
    /// An integer in `min..=max`.
    Int(i64, i64),
    /// An integer or a decimal in `min..=max`.
    Number(f64, f64),
    /// A plain string (names, SQL, JSONPath, patterns).
    Str,
    /// A string that may hold `${env:VAR}` and matrix `${row.path}` references.
    Text,
    /// A credential: it must come from `${env:VAR}` (never a literal in the
    /// config, so never in the binary), and its value is masked at run time.
    Secret,
    /// One ASCII character, or its byte value.
    Byte,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A list of these.
    List(&'static Kind),
    /// A map of any keys to these.
    Map(&'static Kind),
    /// A nested map with its own spec (which may be a tagged union).
    Object(&'static Spec),
    /// Any of these forms.
    AnyOf(&'static [Kind]),
    /// A string, number or boolean (numbers and booleans are used as their text).
    Scalar,
    /// Any JSON value.
    Json,
    /// A group of keys laid out in the same map (`max_record_bytes` and
    /// `max_page_bytes` of every file source), declared once.
    Flatten(&'static Spec),
}

/// A [`Field`]'s default.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    /// As JSON text (hand-written specs).
    Json(&'static str),
    /// Computed from a setting's typed default (`settings!` declarations).
    Typed(fn() -> serde_json::Value),
}

impl DefaultValue {
    /// The default as JSON.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            DefaultValue::Json(text) => serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
            DefaultValue::Typed(value) => value(),
        }
    }
}

impl Field {
    const fn new(key: &'static str, kind: Kind, doc: &'static str, required: bool) -> Self {
        Field { key, doc, kind, required, default: None, not_yet: false }
    }

    /// A key that must be present.
    pub const fn req(key: &'static str, kind: Kind, doc: &'static str) -> Self {
        Self::new(key, kind, doc, true)
    }

    /// An optional key.
    pub const fn opt(key: &'static str, kind: Kind, doc: &'static str) -> Self {
        Self::new(key, kind, doc, false)
    }

    /// A faucet-stream key that faucet reports as not supported yet.
    pub const fn not_yet(key: &'static str) -> Self {
        Field { key, doc: "", kind: Kind::Json, required: false, default: None, not_yet: true }
    }

    /// The same field with a default (JSON text, e.g. `"1000"` or `"\"GET\""`).
    pub const fn default(self, json: &'static str) -> Self {
        Field { default: Some(DefaultValue::Json(json)), ..self }
    }
}

impl Spec {
    /// The keys, with flattened groups expanded in place.
    pub fn keys(&self) -> Vec<&'static Field> {
        let mut out = Vec::new();
        for f in self.fields {
            match f.kind {
                Kind::Flatten(group) => out.extend(group.keys()),
                _ => out.push(f),
            }
        }
        out
    }

    /// Whether `key` is declared here or in one of the variants laid out beside `type`.
    pub(crate) fn declares(&self, key: &str) -> bool {
        self.keys().iter().any(|f| f.key == key && !f.not_yet)
            || self.variants.iter().any(|v| !v.nested && v.spec.is_some_and(|s| s.declares(key)))
    }

    /// The not-yet keys, in declaration order.
    pub(crate) fn not_yet_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.keys().iter().filter(|f| f.not_yet).map(|f| f.key).collect();
        for v in self.variants.iter().filter(|v| !v.nested) {
            for k in v.spec.map(Spec::not_yet_keys).unwrap_or_default() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        keys
    }
}

/// Doc text as one paragraph: `settings!` keeps a doc comment's lines as
/// written, with their leading space.
pub fn doc_text(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}

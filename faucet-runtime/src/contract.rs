//! Data contracts: a versioned promise about the records a pipeline writes,
//! and the per-record check against it.
//!
//! A [`Contract`] is declared with a builder (generated code writes one from
//! the config's `contract:` block); the driver [compiles](Contract::compile)
//! it once when the run starts and [checks](Compiled::check) every record of
//! each page after the transforms and before the sink write. What a breach
//! does is the contract's [`OnBreach`].
//!
//! Per record the first breach wins: the fields in declared order, each
//! checked for presence, null, type, `enum`, pattern, range and length; then
//! the fields the contract does not declare. A breach names the field, the
//! [`Rule`] and the bound, never the record's value, so a message that
//! reaches a log or a dead-letter envelope carries no data.
//!
//! ```
//! use faucet_runtime::contract::{Contract, Field, OnBreach};
//! let contract = Contract::new("1.0.0")
//!     .on_breach(OnBreach::Warn)
//!     .field(Field::integer("id").min(1))
//!     .field(Field::string("status").one_of(["open", "closed"]));
//! let compiled = contract.compile().unwrap();
//! let breach = compiled.check(&serde_json::json!({"id": 0, "status": "open"})).unwrap();
//! assert_eq!(breach.rule.as_str(), "range");
//! ```

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;

use serde_json::{Number, Value};

use crate::error::{ErrorKind, FaucetError, Result};
use crate::number;

/// What a record that breaches the contract does to its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBreach {
    /// The run fails; nothing of the page is written and its bookmark does not move.
    #[default]
    Fail,
    /// The record goes to the dead-letter queue (reason `contract`); the rest is written.
    Quarantine,
    /// The record is written anyway; the breach is counted and logged once per run.
    Warn,
}

impl OnBreach {
    /// The policy as written in a config (the `mode` label of the violation metric).
    pub fn as_str(self) -> &'static str {
        match self {
            OnBreach::Fail => "fail",
            OnBreach::Quarantine => "quarantine",
            OnBreach::Warn => "warn",
        }
    }
}

/// The JSON type a field promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A string.
    String,
    /// A number with no fractional part (`1` and `1.0` both are).
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
}

impl FieldType {
    /// The type's name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Object => "object",
            FieldType::Array => "array",
        }
    }

    /// Whether `value` (not null) is of this type.
    fn holds(self, value: &Value) -> bool {
        match (self, value) {
            (FieldType::String, Value::String(_))
            | (FieldType::Number, Value::Number(_))
            | (FieldType::Boolean, Value::Bool(_))
            | (FieldType::Object, Value::Object(_))
            | (FieldType::Array, Value::Array(_)) => true,
            (FieldType::Integer, Value::Number(n)) => number::is_whole(n),
            _ => false,
        }
    }
}

/// A contract as declared: the builder generated code writes.
#[derive(Debug, Clone)]
pub struct Contract {
    version: String,
    on_breach: OnBreach,
    allow_extra_fields: bool,
    fields: Vec<Field>,
}

impl Contract {
    /// A contract at `version` that fails the run on a breach and allows undeclared fields.
    pub fn new(version: impl Into<String>) -> Self {
        Contract {
            version: version.into(),
            on_breach: OnBreach::Fail,
            allow_extra_fields: true,
            fields: Vec::new(),
        }
    }

    /// What a breaching record does.
    pub fn on_breach(mut self, on_breach: OnBreach) -> Self {
        self.on_breach = on_breach;
        self
    }

    /// `false`: a top-level field the contract does not declare is a breach.
    pub fn allow_extra_fields(mut self, allow: bool) -> Self {
        self.allow_extra_fields = allow;
        self
    }

    /// Adds a field; fields are checked in the order added.
    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    /// Compiles the contract for checking: regexes built, bounds parsed.
    /// A [`ErrorKind::Config`] error names what is invalid (faucet-gen
    /// rejects all of it at build time, so only a hand-built contract can fail).
    pub fn compile(&self) -> Result<Compiled> {
        if self.version.trim().is_empty() {
            return Err(FaucetError::config("contract: `version` must not be empty"));
        }
        let mut declared = HashSet::with_capacity(self.fields.len());
        let mut fields = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            if !declared.insert(f.name.clone()) {
                return Err(FaucetError::config(format!("contract: field `{}` is declared twice", f.name)));
            }
            fields.push(f.compile()?);
        }
        Ok(Compiled {
            version: self.version.clone(),
            on_breach: self.on_breach,
            allow_extra_fields: self.allow_extra_fields,
            fields,
            declared,
        })
    }
}

/// One promised field, as declared.
#[derive(Debug, Clone)]
pub struct Field {
    name: String,
    ty: FieldType,
    required: bool,
    nullable: bool,
    allowed: Option<Vec<Value>>,
    pattern: Option<String>,
    min: Option<String>,
    max: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

impl Field {
    /// A required, non-nullable field `name` of type `ty`, with no other check.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        Field {
            name: name.into(),
            ty,
            required: true,
            nullable: false,
            allowed: None,
            pattern: None,
            min: None,
            max: None,
            min_length: None,
            max_length: None,
        }
    }

    /// A string field.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, FieldType::String)
    }

    /// An integer field.
    pub fn integer(name: impl Into<String>) -> Self {
        Self::new(name, FieldType::Integer)
    }

    /// A number field.
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, FieldType::Number)
    }

    /// A boolean field.
    pub fn boolean(name: impl Into<String>) -> Self {
        Self::new(name, FieldType::Boolean)
    }

    /// An object field.
    pub fn object(name: impl Into<String>) -> Self {
        Self::new(name, FieldType::Object)
    }

    /// An array field.
    pub fn array(name: impl Into<String>) -> Self {
        Self::new(name, FieldType::Array)
    }

    /// The field may be absent (an absent field is not checked further).
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// The value may be `null` (which is not checked further).
    pub fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// The allowed values; numbers compare by value (`1` matches `1.0`).
    pub fn one_of<V: Into<Value>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        self.allowed = Some(values.into_iter().map(Into::into).collect());
        self
    }

    /// A regex a string value must match (Rust regex syntax).
    pub fn pattern(mut self, regex: impl Into<String>) -> Self {
        self.pattern = Some(regex.into());
        self
    }

    /// The smallest allowed number, inclusive, written as a JSON number
    /// (`0`, `"2.5"`, `"1e3"`): compared exactly, whatever its size or precision.
    pub fn min(mut self, bound: impl fmt::Display) -> Self {
        self.min = Some(bound.to_string());
        self
    }

    /// The largest allowed number, inclusive (see [`Field::min`]).
    pub fn max(mut self, bound: impl fmt::Display) -> Self {
        self.max = Some(bound.to_string());
        self
    }

    /// The fewest characters of a string.
    pub fn min_length(mut self, chars: usize) -> Self {
        self.min_length = Some(chars);
        self
    }

    /// The most characters of a string.
    pub fn max_length(mut self, chars: usize) -> Self {
        self.max_length = Some(chars);
        self
    }

    fn compile(&self) -> Result<CompiledField> {
        let invalid = |what: String| FaucetError::config(format!("contract field `{}`: {what}", self.name));
        let pattern = match &self.pattern {
            Some(p) => Some(regex::Regex::new(p).map_err(|e| invalid(format!("invalid pattern: {e}")))?),
            None => None,
        };
        let bound = |text: &Option<String>, key: &str| -> Result<Option<Number>> {
            match text {
                Some(t) => t
                    .parse::<Number>()
                    .map(Some)
                    .map_err(|_| invalid(format!("`{key}` must be a JSON number, found {t:?}"))),
                None => Ok(None),
            }
        };
        Ok(CompiledField {
            name: self.name.clone(),
            ty: self.ty,
            required: self.required,
            nullable: self.nullable,
            allowed: self.allowed.clone(),
            pattern,
            min: bound(&self.min, "min")?,
            max: bound(&self.max, "max")?,
            min_length: self.min_length,
            max_length: self.max_length,
        })
    }
}

/// A contract ready to check records: built once per run.
#[derive(Debug)]
pub struct Compiled {
    version: String,
    on_breach: OnBreach,
    allow_extra_fields: bool,
    fields: Vec<CompiledField>,
    declared: HashSet<String>,
}

#[derive(Debug)]
struct CompiledField {
    name: String,
    ty: FieldType,
    required: bool,
    nullable: bool,
    allowed: Option<Vec<Value>>,
    pattern: Option<regex::Regex>,
    min: Option<Number>,
    max: Option<Number>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

/// Which check a record failed: a stable label (metrics, messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The record is not a JSON object.
    NotObject,
    /// A required field is absent.
    Missing,
    /// A non-nullable field is `null`.
    Null,
    /// The value is of another type.
    Type,
    /// The value is not one of the allowed values.
    Enum,
    /// The string does not match the pattern.
    Pattern,
    /// The number is out of bounds.
    Range,
    /// The string is too short or too long.
    Length,
    /// A field the contract does not declare (with `allow_extra_fields: false`).
    ExtraField,
}

impl Rule {
    /// The label: `not_object`, `missing`, `null`, `type`, `enum`, `pattern`, `range`, `length`, `extra_field`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::NotObject => "not_object",
            Rule::Missing => "missing",
            Rule::Null => "null",
            Rule::Type => "type",
            Rule::Enum => "enum",
            Rule::Pattern => "pattern",
            Rule::Range => "range",
            Rule::Length => "length",
            Rule::ExtraField => "extra_field",
        }
    }
}

/// A record's first breach of the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// The check that failed.
    pub rule: Rule,
    /// The field, when the breach is about one (`None` for [`Rule::NotObject`]).
    pub field: Option<String>,
    /// What is wrong, with the bound but never the value.
    pub message: String,
}

impl fmt::Display for Breach {
    /// `field `status`: the value is not one of the 3 allowed values (enum)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {} ({})", self.message, self.rule.as_str()),
            None => write!(f, "{} ({})", self.message, self.rule.as_str()),
        }
    }
}

impl Compiled {
    /// The contract's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// What a breach does.
    pub fn on_breach(&self) -> OnBreach {
        self.on_breach
    }

    /// The [`ErrorKind::ContractViolation`] error of `breach` (`what` names
    /// the record, such as `record 3 of page 2`): the message of the run's
    /// error under `fail` and of the envelope under `quarantine`.
    pub fn error(&self, breach: &Breach, what: Option<&str>) -> FaucetError {
        let message = match what {
            Some(what) => format!("{what} breaches contract {}: {breach}", self.version),
            None => format!("contract {}: {breach}", self.version),
        };
        FaucetError::new(ErrorKind::ContractViolation, message)
    }

    /// The first breach of `record`, or `None` when it conforms.
    pub fn check(&self, record: &Value) -> Option<Breach> {
        let Value::Object(map) = record else {
            return Some(Breach {
                rule: Rule::NotObject,
                field: None,
                message: format!("the record is not a JSON object but {}", json_type(record)),
            });
        };
        for f in &self.fields {
            if let Some(breach) = f.check(map.get(&f.name)) {
                return Some(breach);
            }
        }
        if !self.allow_extra_fields
            && let Some(extra) = map.keys().find(|k| !self.declared.contains(k.as_str()))
        {
            return Some(Breach {
                rule: Rule::ExtraField,
                field: Some(extra.clone()),
                message: "the contract does not declare this field and allows no extra fields".into(),
            });
        }
        None
    }
}

impl CompiledField {
    fn check(&self, value: Option<&Value>) -> Option<Breach> {
        let breach = |rule, message: String| Some(Breach { rule, field: Some(self.name.clone()), message });
        let value = match value {
            None if self.required => return breach(Rule::Missing, "the required field is missing".into()),
            None => return None,
            Some(Value::Null) if self.nullable => return None,
            Some(Value::Null) => return breach(Rule::Null, "the field is null but not nullable".into()),
            Some(value) => value,
        };
        if !self.ty.holds(value) {
            return breach(Rule::Type, format!("expected {}, found {}", self.ty.as_str(), json_type(value)));
        }
        if let Some(allowed) = &self.allowed
            && !allowed.iter().any(|a| same_value(a, value))
        {
            let count = allowed.len();
            return breach(Rule::Enum, format!("the value is not one of the {count} allowed values"));
        }
        if let (Some(re), Value::String(s)) = (&self.pattern, value)
            && !re.is_match(s)
        {
            return breach(Rule::Pattern, format!("the value does not match the pattern `{}`", re.as_str()));
        }
        if let Value::Number(n) = value {
            if let Some(min) = &self.min
                && number::cmp(n, min) == Ordering::Less
            {
                return breach(Rule::Range, format!("the value is below the minimum {min}"));
            }
            if let Some(max) = &self.max
                && number::cmp(n, max) == Ordering::Greater
            {
                return breach(Rule::Range, format!("the value is above the maximum {max}"));
            }
        }
        if let Value::String(s) = value
            && (self.min_length.is_some() || self.max_length.is_some())
        {
            let chars = s.chars().count();
            if let Some(min) = self.min_length
                && chars < min
            {
                return breach(Rule::Length, format!("the string is shorter than the minimum length {min}"));
            }
            if let Some(max) = self.max_length
                && chars > max
            {
                return breach(Rule::Length, format!("the string is longer than the maximum length {max}"));
            }
        }
        None
    }
}

/// Equality for `enum`: numbers by exact value (`1` is `1.0`), the rest as JSON.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number::cmp(x, y) == Ordering::Equal,
        _ => a == b,
    }
}

/// A value's JSON type, for messages (never the value itself).
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn orders() -> Compiled {
        Contract::new("1.0.0")
            .field(Field::integer("id").min(1))
            .field(Field::string("status").one_of(["open", "closed"]))
            .field(Field::string("email").optional().nullable().pattern("^[^@]+@[^@]+$").min_length(5))
            .field(Field::number("amount").optional().min("0").max("1e3"))
            .compile()
            .unwrap()
    }

    fn rule(c: &Compiled, record: Value) -> Option<(&'static str, Option<String>)> {
        c.check(&record).map(|b| (b.rule.as_str(), b.field))
    }

    #[test]
    fn each_rule_in_order() {
        let c = orders();
        let field = |f: &str| Some(f.to_owned());
        assert_eq!(rule(&c, json!({"id": 1, "status": "open"})), None);
        assert_eq!(rule(&c, json!([1])), Some(("not_object", None)));
        assert_eq!(rule(&c, json!({"status": "open"})), Some(("missing", field("id"))));
        assert_eq!(rule(&c, json!({"id": null, "status": "open"})), Some(("null", field("id"))));
        assert_eq!(rule(&c, json!({"id": "1", "status": "open"})), Some(("type", field("id"))));
        assert_eq!(rule(&c, json!({"id": 1.5, "status": "open"})), Some(("type", field("id"))));
        assert_eq!(rule(&c, json!({"id": 0, "status": "open"})), Some(("range", field("id"))));
        assert_eq!(rule(&c, json!({"id": 1, "status": "gone"})), Some(("enum", field("status"))));
        assert_eq!(rule(&c, json!({"id": 1, "status": "open", "email": null})), None);
        assert_eq!(
            rule(&c, json!({"id": 1, "status": "open", "email": "nope"})),
            Some(("pattern", field("email")))
        );
        // Both the pattern and the length fail: the pattern is checked first.
        assert_eq!(
            rule(&c, json!({"id": 1, "status": "open", "email": "a@"})),
            Some(("pattern", field("email")))
        );
        assert_eq!(
            rule(&c, json!({"id": 1, "status": "open", "email": "a@b"})),
            Some(("length", field("email")))
        );
        // Declared order: `id` breaches before `status`.
        assert_eq!(rule(&c, json!({"id": "x", "status": "gone"})), Some(("type", field("id"))));
        // Undeclared fields pass unless the contract forbids them.
        assert_eq!(rule(&c, json!({"id": 1, "status": "open", "extra": 1})), None);
        let closed =
            Contract::new("1").allow_extra_fields(false).field(Field::integer("id")).compile().unwrap();
        assert_eq!(rule(&closed, json!({"id": 1, "extra": 1})), Some(("extra_field", field("extra"))));
    }

    #[test]
    fn integers_are_whole_numbers_of_any_spelling_and_size() {
        let c = Contract::new("1").field(Field::integer("n")).compile().unwrap();
        for ok in ["1", "1.0", "-0", "1e3", "2.50e1", "123456789012345678901234567890"] {
            let record: Value = serde_json::from_str(&format!(r#"{{"n": {ok}}}"#)).unwrap();
            assert_eq!(c.check(&record), None, "{ok}");
        }
        for bad in ["1.5", "1e-3", "0.000000000000000000001", "12345678901234567890.5"] {
            let record: Value = serde_json::from_str(&format!(r#"{{"n": {bad}}}"#)).unwrap();
            assert_eq!(c.check(&record).map(|b| b.rule), Some(Rule::Type), "{bad}");
        }
    }

    #[test]
    fn bounds_are_inclusive_and_exact() {
        let c = Contract::new("1")
            .field(Field::number("n").min("0.1").max("9007199254740993"))
            .compile()
            .unwrap();
        let check = |text: &str| {
            let record: Value = serde_json::from_str(&format!(r#"{{"n": {text}}}"#)).unwrap();
            c.check(&record).map(|b| b.message)
        };
        assert_eq!(check("0.1"), None);
        assert_eq!(check("9007199254740993"), None);
        // One above 2^53 + 1: equal to the bound through a double, above it exactly.
        assert_eq!(
            check("9007199254740994").as_deref(),
            Some("the value is above the maximum 9007199254740993")
        );
        assert_eq!(check("0.09999999999999999999").as_deref(), Some("the value is below the minimum 0.1"));
        assert_eq!(check("1e-1"), None);
    }

    #[test]
    fn enum_numbers_compare_by_value() {
        let c =
            Contract::new("1").field(Field::number("rate").one_of([json!(1), json!(2.5)])).compile().unwrap();
        assert_eq!(c.check(&json!({"rate": 1.0})), None);
        assert_eq!(c.check(&json!({"rate": 2.50})), None);
        assert_eq!(c.check(&json!({"rate": 3})).map(|b| b.rule), Some(Rule::Enum));
    }

    #[test]
    fn lengths_count_characters() {
        let c = Contract::new("1").field(Field::string("s").min_length(2).max_length(3)).compile().unwrap();
        assert_eq!(c.check(&json!({"s": "héé"})), None);
        assert_eq!(c.check(&json!({"s": "é"})).map(|b| b.rule), Some(Rule::Length));
        assert_eq!(c.check(&json!({"s": "éééé"})).map(|b| b.rule), Some(Rule::Length));
    }

    #[test]
    fn messages_never_carry_the_value() {
        let c = orders();
        for record in [
            json!({"id": "secret-1", "status": "open"}),
            json!({"id": 987654321, "status": "secret-2"}),
            json!({"id": -987654321, "status": "open"}),
            json!({"id": 1, "status": "open", "email": "secret-3"}),
            json!({"id": 1, "status": "open", "email": "@secret"}),
            json!({"id": 1, "status": "open", "amount": 987654321}),
        ] {
            let breach = c.check(&record).unwrap();
            let error = c.error(&breach, Some("record 0 of page 1")).to_string();
            assert!(!error.contains("secret") && !error.contains("987654321"), "{error}");
            assert!(error.contains("contract 1.0.0"), "{error}");
        }
    }

    #[test]
    fn invalid_hand_built_contracts_fail_to_compile() {
        let err = |c: Contract| c.compile().unwrap_err().to_string();
        assert!(err(Contract::new(" ").field(Field::string("a"))).contains("version"));
        assert!(
            err(Contract::new("1").field(Field::string("a")).field(Field::string("a"))).contains("twice")
        );
        assert!(err(Contract::new("1").field(Field::string("a").pattern("("))).contains("invalid pattern"));
        assert!(err(Contract::new("1").field(Field::number("a").min("NaN"))).contains("JSON number"));
    }
}

//! A config transform run on the fields of a typed record it names.
//!
//! On a typed stream faucet-gen resolves most config transforms into moves
//! between structs. The ones whose result depends on the values (`cast`,
//! `coalesce`, `json_parse`, `split`, `lookup`, a `filter` deep in an
//! object, …) run as the runtime transform itself, on a small JSON object
//! holding only the fields the transform names: the generated code [`put`]s
//! those values in, [`apply`]s the transform, and [`take`]s the results back
//! into typed members. Every other field stays where it is, untouched, and the
//! transform is the same code an untyped record meets, so typed and untyped
//! runs agree value for value and error for error.
//!
//! Each value is put and taken according to how its member holds it: `T`
//! ([`put`], [`take`]), `Option<T>` with `None` null ([`put_nullable`],
//! [`take_nullable`]), `Option<T>` with `None` absent ([`put_optional`],
//! [`take_optional`]), or `Option<Option<T>>` ([`put_maybe`], [`take_maybe`]).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::chain::Transform;
use crate::error::Result;
use crate::record::schema_error;

/// The fields handed to a transform.
pub type Fields = Map<String, Value>;

/// Runs `transform` on `fields`: `None` when it drops the record.
pub fn apply<T: Transform<Out = Value>>(transform: &mut T, fields: Fields) -> Result<Option<Fields>> {
    transform.apply(Value::Object(fields))?.map(object).transpose()
}

/// Runs a transform that may make several records of one (`explode`,
/// `unpivot`) on `fields`: the fields of each record it makes, in order.
pub fn expand<T: Transform<Out = Value>>(transform: &mut T, fields: Fields) -> Result<Vec<Fields>> {
    let mut out = Vec::new();
    transform.apply_into(Value::Object(fields), &mut out)?;
    out.into_iter().map(object).collect()
}

/// The fields of a record a transform returned (the config transforms return objects).
fn object(record: Value) -> Result<Fields> {
    match record {
        Value::Object(fields) => Ok(fields),
        other => Err(schema_error(format_args!("a transform returned {other}, not an object"))),
    }
}

/// Puts a value that is always there.
pub fn put<T: Serialize + ?Sized>(fields: &mut Fields, name: &str, value: &T) -> Result<()> {
    let value = serde_json::to_value(value).map_err(|e| schema_error(format_args!("field `{name}`: {e}")))?;
    fields.insert(name.to_owned(), value);
    Ok(())
}

/// Puts a value that may be null (`None`).
pub fn put_nullable<T: Serialize + ?Sized>(fields: &mut Fields, name: &str, value: Option<&T>) -> Result<()> {
    match value {
        Some(value) => put(fields, name, value),
        None => {
            fields.insert(name.to_owned(), Value::Null);
            Ok(())
        }
    }
}

/// Puts a value that may be absent (`None`: the key is left out).
pub fn put_optional<T: Serialize + ?Sized>(fields: &mut Fields, name: &str, value: Option<&T>) -> Result<()> {
    match value {
        Some(value) => put(fields, name, value),
        None => Ok(()),
    }
}

/// Puts a value that may be absent (`None`) or null (`Some(None)`).
pub fn put_maybe<T: Serialize + ?Sized>(
    fields: &mut Fields,
    name: &str,
    value: Option<Option<&T>>,
) -> Result<()> {
    match value {
        Some(value) => put_nullable(fields, name, value),
        None => Ok(()),
    }
}

/// Takes a value that is always there and never null.
pub fn take<T: DeserializeOwned>(fields: &mut Fields, name: &str) -> Result<T> {
    match fields.remove(name) {
        Some(value) => decode(name, &value),
        None => Err(schema_error(format_args!("field `{name}` is missing"))),
    }
}

/// Takes a value that is always there, maybe null (`None`).
pub fn take_nullable<T: DeserializeOwned>(fields: &mut Fields, name: &str) -> Result<Option<T>> {
    match fields.remove(name) {
        Some(Value::Null) => Ok(None),
        Some(value) => decode(name, &value).map(Some),
        None => Err(schema_error(format_args!("field `{name}` is missing"))),
    }
}

/// Takes a value that may be absent (`None`), never null.
pub fn take_optional<T: DeserializeOwned>(fields: &mut Fields, name: &str) -> Result<Option<T>> {
    match fields.remove(name) {
        Some(Value::Null) => Err(schema_error(format_args!("field `{name}` is null"))),
        Some(value) => decode(name, &value).map(Some),
        None => Ok(None),
    }
}

/// Takes a value that may be absent (`None`) or null (`Some(None)`).
pub fn take_maybe<T: DeserializeOwned>(fields: &mut Fields, name: &str) -> Result<Option<Option<T>>> {
    match fields.remove(name) {
        Some(Value::Null) => Ok(Some(None)),
        Some(value) => decode(name, &value).map(|v| Some(Some(v))),
        None => Ok(None),
    }
}

fn decode<T: DeserializeOwned>(name: &str, value: &Value) -> Result<T> {
    T::deserialize(value).map_err(|e| schema_error(format_args!("field `{name}`: {e}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::transform::{Cast, CastOnError, CastType, Filter};

    #[test]
    fn every_layer_round_trips() {
        let mut fields = Fields::new();
        put(&mut fields, "a", &7_i64).unwrap();
        put_nullable::<String>(&mut fields, "b", None).unwrap();
        put_optional::<f64>(&mut fields, "c", None).unwrap();
        put_maybe::<bool>(&mut fields, "d", Some(None)).unwrap();
        put_maybe(&mut fields, "e", Some(Some(&1.5_f64))).unwrap();
        assert_eq!(Value::Object(fields.clone()), json!({"a": 7, "b": null, "d": null, "e": 1.5}));
        assert_eq!(take::<i64>(&mut fields, "a").unwrap(), 7);
        assert_eq!(take_nullable::<String>(&mut fields, "b").unwrap(), None);
        assert_eq!(take_optional::<f64>(&mut fields, "c").unwrap(), None);
        assert_eq!(take_maybe::<bool>(&mut fields, "d").unwrap(), Some(None));
        assert_eq!(take_maybe::<f64>(&mut fields, "e").unwrap(), Some(Some(1.5)));
        assert_eq!(take_maybe::<f64>(&mut fields, "e").unwrap(), None, "taken once");
    }

    #[test]
    fn a_value_that_does_not_fit_is_a_schema_error_naming_the_field() {
        let mut fields = Fields::new();
        fields.insert("id".into(), json!("x"));
        let e = take::<i64>(&mut fields, "id").unwrap_err();
        assert!(e.to_string().contains("field `id`"), "{e}");
        assert!(take::<i64>(&mut fields, "id").unwrap_err().to_string().contains("missing"));
        fields.insert("id".into(), Value::Null);
        assert!(take_optional::<i64>(&mut fields, "id").unwrap_err().to_string().contains("null"));
    }

    #[test]
    fn the_transform_sees_only_its_fields_and_its_errors_are_its_own() {
        let mut cast = Cast::new(&[("n", CastType::Int)], CastOnError::Error);
        let mut fields = Fields::new();
        put(&mut fields, "n", " 42 ").unwrap();
        let mut out = apply(&mut cast, fields).unwrap().unwrap();
        assert_eq!(take::<i64>(&mut out, "n").unwrap(), 42);
        let mut fields = Fields::new();
        put(&mut fields, "n", "x").unwrap();
        let e = apply(&mut cast, fields).unwrap_err();
        let untyped = cast.apply(json!({"n": "x"})).unwrap_err();
        assert_eq!(e.to_string(), untyped.to_string());
        let mut filter = Filter::new(["n"], crate::transform::Predicate::Exists);
        assert!(apply(&mut filter, Fields::new()).unwrap().is_none());
        let mut explode =
            crate::transform::Explode::new(["n"], None, "_", crate::transform::OnMissing::Drop).unwrap();
        let mut fields = Fields::new();
        put(&mut fields, "n", &[1, 2]).unwrap();
        let rows = expand(&mut explode, fields).unwrap();
        assert_eq!(
            rows.into_iter().map(Value::Object).collect::<Vec<_>>(),
            [json!({"n": 1}), json!({"n": 2})]
        );
    }
}

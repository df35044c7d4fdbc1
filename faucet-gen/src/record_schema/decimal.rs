//! A decimal's precision and scale, read the same way from both forms of a
//! declaration: `record_schema`'s `precision`/`scale` and a JSON Schema
//! file's `x-precision`/`x-scale`.

use super::FieldType;
use crate::diag::Diagnostics;
use crate::load::Node;
use crate::read::int_in;

/// A decimal's precision and scale, each optional, written under the keys
/// named (`precision`/`scale`, or a JSON Schema's `x-precision`/`x-scale`);
/// the scale at most the precision.
pub(super) fn read(
    (precision_key, precision): (&str, Option<&Node>),
    (scale_key, scale): (&str, Option<&Node>),
    diags: &mut Diagnostics,
) -> Option<FieldType> {
    let digits = |key: &str, node: Option<&Node>, min: i64, diags: &mut Diagnostics| match node {
        Some(n) => int_in(n, key, min, 1000, diags).map(|v| Some(v as u32)),
        None => Some(None),
    };
    let p = digits(precision_key, precision, 1, diags);
    let s = digits(scale_key, scale, 0, diags);
    let (precision_value, scale_value) = (p?, s?);
    if let (Some(p), Some(s), Some(at)) = (precision_value, scale_value, scale)
        && s > p
    {
        diags.error_help(
            &at.loc,
            format!("`{scale_key}` {s} is larger than `{precision_key}` {p}"),
            "the scale counts the digits after the point, among the precision's",
        );
        return None;
    }
    Some(FieldType::Decimal { precision: precision_value, scale: scale_value })
}

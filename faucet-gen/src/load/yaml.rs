//! YAML text into a located [`Node`] tree, through saphyr's marked tree.

use std::sync::Arc;

use saphyr::{LoadableYamlNode, MarkedYaml, Marker, Scalar, YamlData};
use saphyr_parser::{Event, Parser};

use super::{Entry, MAX_DEPTH, Node, Value, too_deep};
use crate::diag::{Diagnostic, Loc, SourceFile};

/// Parses one YAML document; a syntax error is a diagnostic at its position.
pub fn load_yaml(file: &Arc<SourceFile>) -> Result<Node, Diagnostic> {
    check_depth(file)?;
    let docs = MarkedYaml::load_from_str(&file.text).map_err(|e| {
        let mark = e.marker();
        Diagnostic::new(loc_of(file, mark, mark), format!("YAML syntax error: {}", e.info()))
    })?;
    let mut docs = docs.into_iter();
    let Some(doc) = docs.next() else {
        return Err(Diagnostic::new(
            Loc::File { file: file.clone(), line: 1, col: 1, len: 1 },
            "the pipeline file is empty",
        )
        .with_help("start with `version: 1` and a `pipeline:` map"));
    };
    if let Some(extra) = docs.next() {
        return Err(Diagnostic::new(
            loc_of(file, &extra.span.start, &extra.span.end),
            "a pipeline file holds one YAML document, but this one has several",
        )
        .with_help("remove the `---` separator, or split the pipelines into separate files"));
    }
    convert(file, doc)
}

/// Rejects nesting deeper than [`MAX_DEPTH`] before any tree is built.
///
/// saphyr's event parser keeps its state on the heap, so this pass over its
/// events cannot overflow the stack, while the marked tree it would otherwise
/// build (and [`convert`], and dropping that tree) recurse once per level.
/// A syntax error ends the pass: loading reports it with its position.
fn check_depth(file: &Arc<SourceFile>) -> Result<(), Diagnostic> {
    let mut depth = 0usize;
    let mut parser = Parser::new_from_str(&file.text);
    while let Some(Ok((event, span))) = parser.next_event() {
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep(loc_of(file, &span.start, &span.start)));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            // saphyr would copy the anchored value in, nesting past the bound
            // and multiplying the tree: refuse aliases before it does.
            Event::Alias(_) => return Err(alias_error(loc_of(file, &span.start, &span.end))),
            Event::StreamEnd => break,
            _ => {}
        }
    }
    Ok(())
}

fn alias_error(loc: Loc) -> Diagnostic {
    Diagnostic::new(loc, "YAML aliases (`*name`) are not supported")
        .with_help("write the value out, or use `vars:` once matrix support lands")
}

fn loc_of(file: &Arc<SourceFile>, start: &Marker, end: &Marker) -> Loc {
    let len = if end.line() == start.line() { end.index().saturating_sub(start.index()).max(1) } else { 1 };
    Loc::File { file: file.clone(), line: start.line().max(1), col: start.col() + 1, len }
}

fn convert(file: &Arc<SourceFile>, node: MarkedYaml<'_>) -> Result<Node, Diagnostic> {
    let loc = loc_of(file, &node.span.start, &node.span.end);
    let value = match node.data {
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::Str(text.into_owned()),
        YamlData::Sequence(items) => {
            Value::Seq(items.into_iter().map(|item| convert(file, item)).collect::<Result<_, _>>()?)
        }
        YamlData::Mapping(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (key, value) in map {
                let key_loc = loc_of(file, &key.span.start, &key.span.end);
                let key = match key.data {
                    YamlData::Value(Scalar::String(s)) => s.into_owned(),
                    YamlData::Value(Scalar::Integer(i)) => i.to_string(),
                    YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
                    _ => return Err(Diagnostic::new(key_loc, "map keys must be plain strings")),
                };
                entries.push(Entry { key, key_loc, value: convert(file, value)? });
            }
            Value::Map(entries)
        }
        YamlData::Tagged(tag, _) => {
            return Err(Diagnostic::new(
                loc,
                format!("YAML tags such as `!{}` are not supported", tag.suffix),
            ));
        }
        YamlData::Alias(_) => return Err(alias_error(loc)),
        YamlData::BadValue => return Err(Diagnostic::new(loc, "this value cannot be read")),
    };
    Ok(Node { value, loc })
}

fn scalar_value(scalar: Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Int(i),
        Scalar::FloatingPoint(f) => Value::Float(f.into_inner()),
        Scalar::String(s) => Value::Str(s.into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Arc<SourceFile> {
        Arc::new(SourceFile { name: "t.yaml".into(), text: text.into() })
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let node = load_yaml(&file("version: 1\npipeline:\n  source:\n    type: csv\n")).unwrap();
        let Value::Map(top) = node.value else { panic!("not a map") };
        assert_eq!(top[1].key, "pipeline");
        let Value::Map(p) = &top[1].value.value else { panic!() };
        let Value::Map(s) = &p[0].value.value else { panic!() };
        let Loc::File { line, col, len, .. } = &s[0].value.loc else { panic!() };
        assert_eq!((*line, *col, *len), (4, 11, 3));
        let Loc::File { line, col, .. } = &s[0].key_loc else { panic!() };
        assert_eq!((*line, *col), (4, 5));
    }

    #[test]
    fn syntax_error_has_position() {
        let d = load_yaml(&file("a: [1, 2\nb: 3\n")).unwrap_err();
        assert!(d.message.starts_with("YAML syntax error"), "{}", d.message);
        assert!(matches!(d.loc, Loc::File { .. }));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // 1,400 block sequences on one line (2.8 KB) used to overflow the stack.
        let text = format!("{}x\n", "- ".repeat(1_400));
        let d = load_yaml(&file(&text)).unwrap_err();
        assert!(d.message.contains("nested more than 64 levels"), "{}", d.message);
        let Loc::File { line, col, .. } = d.loc else { panic!() };
        assert_eq!((line, col), (1, 1 + 2 * 64));
        // Flow style too, and exactly the limit still loads.
        assert!(load_yaml(&file(&format!("a: {}{}\n", "[".repeat(200), "]".repeat(200)))).is_err());
        let ok = format!("{}x{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(load_yaml(&file(&ok)).is_ok());
    }

    #[test]
    fn aliases_are_refused_before_they_are_copied() {
        // Each alias would copy a 60-deep value one level deeper than the last.
        let mut text = format!("a0: &a0 {}1{}\n", "[".repeat(60), "]".repeat(60));
        for i in 1..50 {
            text.push_str(&format!("a{i}: &a{i} {}*a{}{}\n", "[".repeat(60), i - 1, "]".repeat(60)));
        }
        let d = load_yaml(&file(&text)).unwrap_err();
        assert!(d.message.contains("aliases"), "{}", d.message);
        let Loc::File { line, col, .. } = d.loc else { panic!() };
        assert_eq!((line, col), (2, 69));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let d = load_yaml(&file("a: 1\na: 2\n")).unwrap_err();
        assert!(d.message.contains("duplicated key"), "{}", d.message);
    }
}

//! `vars:` — named values substituted as `${vars.name}` into every string at
//! build time, before anything else is validated.

use std::collections::BTreeMap;

use crate::diag::{Diagnostics, help_for};
use crate::load::{Node, Value};

/// The tree with every `${vars.name}` substituted; `None` when `vars` itself is invalid.
pub(crate) fn apply(root: &Node, diags: &mut Diagnostics) -> Option<Node> {
    let Value::Map(entries) = &root.value else { return Some(root.clone()) };
    let Some(vars_entry) = entries.iter().find(|e| e.key == "vars") else { return Some(root.clone()) };
    let Value::Map(var_entries) = &vars_entry.value.value else {
        if !matches!(vars_entry.value.value, Value::Null) {
            diags.error(
                &vars_entry.value.loc,
                format!("`vars` must be a map, found {}", vars_entry.value.value.kind_name()),
            );
            return None;
        }
        return Some(root.clone());
    };
    let mut raw: BTreeMap<&str, (String, &Node)> = BTreeMap::new();
    for e in var_entries {
        let text = match &e.value.value {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                diags.error(
                    &e.value.loc,
                    format!(
                        "var `{}` must be a string, number or boolean, found {}",
                        e.key,
                        other.kind_name()
                    ),
                );
                continue;
            }
        };
        raw.insert(&e.key, (text, &e.value));
    }
    let mut resolved: BTreeMap<String, String> = BTreeMap::new();
    let names: Vec<&str> = raw.keys().copied().collect();
    let mut failed = false;
    for name in &names {
        let mut chain = Vec::new();
        if resolve(name, &raw, &mut resolved, &mut chain, diags).is_none() {
            failed = true;
        }
    }
    let mut out = root.clone();
    if let Value::Map(entries) = &mut out.value {
        for e in entries.iter_mut().filter(|e| e.key != "vars") {
            substitute_tree(&mut e.value, &resolved, &names, diags);
        }
    }
    (!failed).then_some(out)
}

/// Resolves one var, following references to other vars; a cycle is an error naming it.
fn resolve(
    name: &str,
    raw: &BTreeMap<&str, (String, &Node)>,
    resolved: &mut BTreeMap<String, String>,
    chain: &mut Vec<String>,
    diags: &mut Diagnostics,
) -> Option<String> {
    if let Some(done) = resolved.get(name) {
        return Some(done.clone());
    }
    let (text, node) = raw.get(name)?;
    if let Some(start) = chain.iter().position(|c| c == name) {
        let mut cycle = chain[start..].to_vec();
        cycle.push(name.to_owned());
        // Every var on the cycle finds it; only the walk that starts at its
        // smallest member reports it, so it is reported once.
        if cycle.iter().min() == cycle.first() {
            diags.error_help(
                &node.loc,
                format!("the vars refer to each other in a cycle: {}", cycle.join(" -> ")),
                "break the cycle: one of these vars must be written out",
            );
        }
        return None;
    }
    chain.push(name.to_owned());
    let mut value = String::new();
    let mut rest = text.as_str();
    while let Some((before, var, after)) = next_var(rest) {
        value.push_str(before);
        if !raw.contains_key(var) {
            let names: Vec<&str> = raw.keys().copied().collect();
            diags.error_help(&node.loc, format!("`${{vars.{var}}}` is not defined"), help_for(var, &names));
            return None;
        }
        value.push_str(&resolve(var, raw, resolved, chain, diags)?);
        rest = after;
    }
    value.push_str(rest);
    chain.pop();
    resolved.insert(name.to_owned(), value.clone());
    Some(value)
}

/// The text before the next `${vars.NAME}` (not escaped as `$${`), the name, and the rest.
fn next_var(s: &str) -> Option<(&str, &str, &str)> {
    let mut from = 0;
    while let Some(i) = s[from..].find("${vars.").map(|i| i + from) {
        if i > 0 && s.as_bytes()[i - 1] == b'$' {
            from = i + 2;
            continue;
        }
        let name_start = i + "${vars.".len();
        let end = s[name_start..].find('}')? + name_start;
        return Some((&s[..i], &s[name_start..end], &s[end + 1..]));
    }
    None
}

/// Substitutes resolved vars; a name that is defined but failed to resolve is
/// left alone (its own error was reported), an undefined one is an error.
fn substitute_tree(
    node: &mut Node,
    vars: &BTreeMap<String, String>,
    defined: &[&str],
    diags: &mut Diagnostics,
) {
    match &mut node.value {
        Value::Str(s) if s.contains("${vars.") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some((before, var, after)) = next_var(rest) {
                out.push_str(before);
                match vars.get(var) {
                    Some(value) => out.push_str(value),
                    None if defined.contains(&var) => return,
                    None => {
                        diags.error_help(
                            &node.loc,
                            format!("`${{vars.{var}}}` is not defined"),
                            help_for(var, defined),
                        );
                        return;
                    }
                }
                rest = after;
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| substitute_tree(n, vars, defined, diags)),
        Value::Map(entries) => {
            entries.iter_mut().for_each(|e| substitute_tree(&mut e.value, vars, defined, diags))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_vars_but_not_escapes() {
        assert_eq!(next_var("a/${vars.x}/b"), Some(("a/", "x", "/b")));
        assert_eq!(next_var("$${vars.x}"), None);
        assert_eq!(next_var("no vars"), None);
    }
}

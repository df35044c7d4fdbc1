//! `vars:` — named values substituted as `${vars.name}` into every string at
//! build time, before anything else is validated.

use std::collections::BTreeMap;

use crate::diag::{Diagnostics, Loc, help_for};
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
    let names: Vec<&str> = raw.keys().copied().collect();
    let mut expander = Expander { raw: &raw, resolved: BTreeMap::new(), budget: MAX_EXPANDED_BYTES };
    let mut failed = false;
    for name in &names {
        let mut chain = Vec::new();
        match expander.resolve(name, &mut chain, diags) {
            Ok(Some(_)) => {}
            Ok(None) => failed = true,
            Err(Abort) => return None,
        }
    }
    let mut out = root.clone();
    if let Value::Map(entries) = &mut out.value {
        for e in entries.iter_mut().filter(|e| e.key != "vars") {
            expander.substitute_tree(&mut e.value, &names, diags).ok()?;
        }
    }
    (!failed).then_some(out)
}

/// How deep `${vars.…}` references may nest: a var naming a var naming a var…
pub(crate) const MAX_VAR_DEPTH: usize = 64;

/// How many bytes substitution may produce in all, resolved vars and
/// substituted strings together: vars that each repeat the previous one ten
/// times would otherwise grow a small file into gigabytes.
pub(crate) const MAX_EXPANDED_BYTES: usize = 16 << 20;

/// Substitution stopped by a limit (already reported): nothing more is checked.
struct Abort;

/// Resolves vars and substitutes them, within [`MAX_VAR_DEPTH`] and [`MAX_EXPANDED_BYTES`].
struct Expander<'a> {
    raw: &'a BTreeMap<&'a str, (String, &'a Node)>,
    /// Resolved vars: their text and depth.
    resolved: BTreeMap<String, (String, usize)>,
    /// Bytes substitution may still produce.
    budget: usize,
}

impl Expander<'_> {
    /// Resolves one var into `resolved`, following references to other vars,
    /// and returns its depth (0 without references); a cycle or an undefined
    /// name is an error for this var (`Ok(None)`), a limit stops the whole
    /// substitution.
    fn resolve(
        &mut self,
        name: &str,
        chain: &mut Vec<String>,
        diags: &mut Diagnostics,
    ) -> Result<Option<usize>, Abort> {
        if let Some((_, depth)) = self.resolved.get(name) {
            return Ok(Some(*depth));
        }
        let Some((text, node)) = self.raw.get(name) else { return Ok(None) };
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
            return Ok(None);
        }
        if chain.len() > MAX_VAR_DEPTH {
            // Each var of the walk refers to the next, so the first is this deep.
            let (_, top) = self.raw[chain[0].as_str()];
            return Err(too_deep(&chain[0], &top.loc, diags));
        }
        chain.push(name.to_owned());
        let (mut value, mut depth, mut spliced) = (String::new(), 0, Vec::new());
        let mut rest = text.as_str();
        while let Some((before, var, after)) = next_var(rest) {
            append(&mut self.budget, &mut value, before, &node.loc, diags)?;
            if !self.raw.contains_key(var) {
                let names: Vec<&str> = self.raw.keys().copied().collect();
                diags.error_help(
                    &node.loc,
                    format!("`${{vars.{var}}}` is not defined"),
                    help_for(var, &names),
                );
                return Ok(None);
            }
            let Some(inner_depth) = self.resolve(var, chain, diags)? else { return Ok(None) };
            depth = depth.max(inner_depth + 1);
            let (inner, _) = &self.resolved[var];
            let start = value.len();
            append(&mut self.budget, &mut value, inner, &node.loc, diags)?;
            spliced.push(start..value.len());
            rest = after;
        }
        append(&mut self.budget, &mut value, rest, &node.loc, diags)?;
        chain.pop();
        if depth > MAX_VAR_DEPTH {
            return Err(too_deep(name, &node.loc, diags));
        }
        self.resolved.insert(name.to_owned(), (escape_spliced(&value, &spliced), depth));
        Ok(Some(depth))
    }

    /// Substitutes resolved vars; a name that is defined but failed to resolve is
    /// left alone (its own error was reported), an undefined one is an error.
    fn substitute_tree(
        &mut self,
        node: &mut Node,
        defined: &[&str],
        diags: &mut Diagnostics,
    ) -> Result<(), Abort> {
        match &mut node.value {
            Value::Str(s) if s.contains("${vars.") => {
                let (mut out, mut spliced) = (String::new(), Vec::new());
                let mut rest = s.as_str();
                while let Some((before, var, after)) = next_var(rest) {
                    out.push_str(before);
                    let value = match self.resolved.get(var) {
                        Some((value, _)) => value,
                        None if defined.contains(&var) => return Ok(()),
                        None => {
                            diags.error_help(
                                &node.loc,
                                format!("`${{vars.{var}}}` is not defined"),
                                help_for(var, defined),
                            );
                            return Ok(());
                        }
                    };
                    let start = out.len();
                    append(&mut self.budget, &mut out, value, &node.loc, diags)?;
                    spliced.push(start..out.len());
                    rest = after;
                }
                out.push_str(rest);
                *s = escape_spliced(&out, &spliced);
            }
            Value::Seq(items) => {
                for item in items {
                    self.substitute_tree(item, defined, diags)?;
                }
            }
            Value::Map(entries) => {
                for e in entries {
                    self.substitute_tree(&mut e.value, defined, diags)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// `out` with every `${…}` that a substitution formed escaped as `$${`, so
/// it stays text: one that starts or ends inside a substituted value
/// (`spliced`, in order) and not wholly within it, or wholly within the text
/// around them. A var holding `${vau` cannot open a `${vault:…}` with the
/// text after it (faucet-stream's rule); `${env:X}` whole in a var still reads.
fn escape_spliced(out: &str, spliced: &[std::ops::Range<usize>]) -> String {
    if spliced.is_empty() || !out.contains("${") {
        return out.to_owned();
    }
    // Which piece `at` is in: even between values, odd inside one.
    let piece = |at: usize| {
        let before = spliced.partition_point(|r| r.end <= at);
        2 * before + usize::from(spliced.get(before).is_some_and(|r| r.contains(&at)))
    };
    let mut escaped = String::with_capacity(out.len() + 2);
    let mut copied = 0;
    for (range, body) in crate::reference::references(out) {
        // A `${` never closed reads as nothing: it stays as it is.
        if body.is_some() && piece(range.start) != piece(range.end - 1) {
            escaped.push_str(&out[copied..range.start]);
            escaped.push('$');
            copied = range.start;
        }
    }
    escaped.push_str(&out[copied..]);
    escaped
}

/// The error for var `name`, whose references nest deeper than [`MAX_VAR_DEPTH`].
fn too_deep(name: &str, loc: &Loc, diags: &mut Diagnostics) -> Abort {
    diags.error_help(
        loc,
        format!("var `{name}` refers to vars more than {MAX_VAR_DEPTH} levels deep"),
        "write some of these vars out instead of referring to one another",
    );
    Abort
}

/// Appends `piece` to `out` within `budget` (the bytes substitution may still
/// produce); over it, the error is at `loc`, the string being built.
fn append(
    budget: &mut usize,
    out: &mut String,
    piece: &str,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Result<(), Abort> {
    if piece.len() > *budget {
        diags.error_help(
            loc,
            format!("substituting `${{vars.…}}` here grows the config past {} MiB", MAX_EXPANDED_BYTES >> 20),
            "vars that repeat other vars multiply in size: write the value out, or read it at run time with `${env:…}`",
        );
        return Err(Abort);
    }
    *budget -= piece.len();
    out.push_str(piece);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // one substituted value's range
    fn substitution_never_forms_a_reference() {
        // `${vau` + `lt:x}`: both ends in different pieces.
        assert_eq!(escape_spliced("${vault:x}", &[0..4]), "$${vault:x}");
        // A `$` before a value opening with `{`.
        assert_eq!(escape_spliced("${env:X}", &[1..8]), "$${env:X}");
        // Whole within one value, or within the text around: kept.
        assert_eq!(escape_spliced("a${env:X}b", &[1..9]), "a${env:X}b");
        assert_eq!(escape_spliced("${env:X}/v", &[9..10]), "${env:X}/v");
        assert_eq!(escape_spliced("${a}${b}", &[4..8]), "${a}${b}");
        assert_eq!(escape_spliced("$${a}", &[0..1]), "$${a}");
        assert_eq!(escape_spliced("${a", &[0..3]), "${a");
    }

    #[test]
    fn finds_vars_but_not_escapes() {
        assert_eq!(next_var("a/${vars.x}/b"), Some(("a/", "x", "/b")));
        assert_eq!(next_var("$${vars.x}"), None);
        assert_eq!(next_var("no vars"), None);
    }
}

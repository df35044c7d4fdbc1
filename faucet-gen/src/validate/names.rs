//! Pipeline names and the Rust module each one is generated into.

use crate::diag::Diagnostics;
use crate::load::Node;
use crate::read::plain_string;

pub(super) fn pipeline_name(node: &Node, diags: &mut Diagnostics) -> Option<String> {
    let name = plain_string(node, "name", diags)?;
    if let Err(problem) = name_problem(&name) {
        diags.error_help(
            &node.loc,
            format!("invalid pipeline name {name:?}: {problem}"),
            "use letters, digits, `_` and `-`, starting with a letter: it names the generated module",
        );
        return None;
    }
    Some(name)
}

/// A file's stem as the pipeline's name when it has no `name:`; a stem that
/// cannot name a module (`2024.yaml`, `orders.v2.yaml`, `fn.yaml`) is an
/// error at the top of the file, suggesting a `name:` that can.
pub(super) fn name_from_stem(stem: &str, root: &Node, diags: &mut Diagnostics) -> Option<String> {
    let Err(problem) = name_problem(stem) else { return Some(stem.to_owned()) };
    let mut suggestion: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if !suggestion.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        suggestion.insert_str(0, "pipeline_");
    }
    if name_problem(&suggestion).is_err() {
        suggestion.push_str("_pipeline");
    }
    let loc = match &root.loc {
        crate::diag::Loc::File { file, .. } => {
            crate::diag::Loc::File { file: file.clone(), line: 1, col: 1, len: 1 }
        }
        other => other.clone(),
    };
    diags.error_help(
        &loc,
        format!("this file has no `name:`, and its file name {stem:?} cannot name the pipeline: {problem}"),
        format!("add `name: {suggestion}` (it names the generated module)"),
    );
    None
}

/// Why `name` cannot name a pipeline (and its generated module), if it cannot.
fn name_problem(name: &str) -> Result<(), &'static str> {
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err("it must start with a letter");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err("it may only hold letters, digits, `_` and `-`");
    }
    if !is_identifier(&module_name(name)) {
        return Err("it is a Rust keyword");
    }
    Ok(())
}

/// Whether `word` is a plain Rust identifier in every edition: not a keyword,
/// strict or reserved, so it can name an item in whatever crate includes the code.
pub(crate) fn is_identifier(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        // syn knows every keyword up to edition 2021; `gen` is reserved since 2024.
        && word != "gen"
        && syn::parse_str::<syn::Ident>(word).is_ok()
}

/// The module a pipeline is generated into: its name with `-` as `_`.
pub(crate) fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

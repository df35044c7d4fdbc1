//! The `faucet!` macro's expansion, as a plain function the proc-macro shim calls.
//!
//! It lives here, not in the proc-macro crate, so it can be tested with
//! `proc_macro2` and no compiler.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::codegen::{self, CodegenOptions};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::load::{self, MacroBody, Node, Value};
use crate::record_schema::SchemaContext;

/// What the macro knows about where it was invoked.
#[derive(Debug, Clone)]
pub struct MacroContext {
    /// `CARGO_MANIFEST_DIR` of the crate invoking the macro: plain paths resolve against it.
    pub manifest_dir: PathBuf,
    /// The source file of the invocation, if the compiler says: `./` and `../` paths resolve against its directory.
    pub caller_file: Option<PathBuf>,
}

/// Expands `faucet!(…)`: the generated module, or compile errors plus a stub of
/// the module's API so the caller's code does not pile up follow-on errors.
pub fn expand(input: TokenStream, ctx: &MacroContext) -> TokenStream {
    let parsed = match load::parse_macro_input(input) {
        Ok(parsed) => parsed,
        Err(diags) => return errors(&diags, Span::call_site(), false),
    };
    let runtime = match parsed.runtime_path {
        Some(path) => match syn::parse2::<syn::Path>(path.clone()) {
            Ok(p) if p.segments.iter().all(|s| s.arguments.is_none()) => path,
            _ => {
                let span = path.into_iter().next().map_or_else(Span::call_site, |t| t.span());
                return syn::Error::new(
                    span,
                    "`crate = …` takes the path of the runtime crate, such as `::my_rt`",
                )
                .to_compile_error();
            }
        },
        None => quote!(::faucet_runtime),
    };
    match parsed.body {
        MacroBody::File { path, span } => expand_file(&path, span, runtime, ctx),
        MacroBody::Inline(root) => match in_context(ctx, || crate::validate::validate(&root, None)) {
            (Ok(definition), cache_files) => {
                let options = CodegenOptions { runtime, tracked_files: cache_files, ..Default::default() };
                codegen::generate_definition(&definition, &options)
            }
            (Err(diags), _) => {
                let mut out = errors(&diags, Span::call_site(), false);
                if let Some(name) = declared_name(&root) {
                    out.extend(codegen::stub(&crate::validate::module_name(&name), &name, &runtime));
                }
                out
            }
        },
    }
}

fn expand_file(path: &str, span: Span, runtime: TokenStream, ctx: &MacroContext) -> TokenStream {
    let fail = |message: String| syn::Error::new(span, message).to_compile_error();
    let full = match resolve(path, ctx) {
        Ok(full) => full,
        Err(message) => return fail(message),
    };
    let bytes = match load::read_file(&full) {
        Ok(bytes) => bytes,
        Err(e) => return fail(format!("cannot read pipeline file `{path}` ({}): {e}", full.display())),
    };
    let display = full
        .strip_prefix(&ctx.manifest_dir)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_owned());
    let tracked = full.canonicalize().unwrap_or(full).display().to_string();
    let (checked, cache_files) = in_context(ctx, || {
        crate::load::decode(&display, bytes)
            .map_err(|d| Diagnostics::from_iter([d]))
            .and_then(|text| crate::check_yaml(&display, &text))
    });
    match checked {
        Ok(definition) => {
            let options = CodegenOptions {
                runtime,
                fallback_span: span,
                tracked_files: std::iter::once(tracked).chain(cache_files).collect(),
                origin: format!("`{display}`"),
                ..Default::default()
            };
            codegen::generate_definition(&definition, &options)
        }
        Err(diags) => {
            let mut out = errors(&diags, span, true);
            // Still track the file, so fixing it triggers a rebuild.
            out.extend(quote!(
                const _: &[u8] = ::core::include_bytes!(#tracked);
            ));
            let stem = crate::file_stem(path);
            out.extend(codegen::stub(&crate::validate::module_name(&stem), &stem, &runtime));
            out
        }
    }
}

/// The file a macro's path names: `./…` and `../…` from the invoking
/// source file, other relative paths from `CARGO_MANIFEST_DIR`; an absolute
/// path is an error (it would only work on this machine).
pub(crate) fn resolve(path: &str, ctx: &MacroContext) -> Result<PathBuf, String> {
    if Path::new(path).is_absolute() {
        return Err(format!(
            "absolute path `{path}`: it would only work on this machine; write it relative to the crate root, or `./…` relative to this file"
        ));
    }
    if path.starts_with("./") || path.starts_with("../") {
        match ctx.caller_file.as_ref().and_then(|f| f.parent()) {
            Some(dir) => Ok(dir.join(path)),
            None => {
                Err(format!("cannot resolve `{path}`: the compiler did not say which file invokes the macro"))
            }
        }
    } else {
        Ok(ctx.manifest_dir.join(path))
    }
}

/// Runs `validate` in the schema context of the invoking crate; returns its
/// result and the `.faucet/` cache files it read or wrote, which the
/// generated code embeds (`include_bytes!`) so that cargo expands the macro
/// again when one changes. A proc macro cannot ask cargo to watch
/// environment variables: a changed `FAUCET_OFFLINE` or database URL variable
/// takes effect the next time the macro is expanded, when the invoking file
/// or a cache file changes.
pub(crate) fn in_context<R>(ctx: &MacroContext, validate: impl FnOnce() -> R) -> (R, Vec<String>) {
    let (result, schemas) = crate::record_schema::context::with_context(
        SchemaContext::for_crate(ctx.manifest_dir.clone()),
        validate,
    );
    let files =
        schemas.touched.borrow().iter().filter(|f| f.is_file()).map(|f| f.display().to_string()).collect();
    (result, files)
}

/// One `compile_error!` per diagnostic: on the token's own span for inline
/// definitions, on `fallback` (the path literal) with the rendered snippet for files.
pub(crate) fn errors(diags: &Diagnostics, fallback: Span, from_file: bool) -> TokenStream {
    let mut combined: Option<syn::Error> = None;
    for d in diags.iter() {
        let error = to_syn_error(d, fallback, from_file);
        match combined.as_mut() {
            Some(c) => c.combine(error),
            None => combined = Some(error),
        }
    }
    combined.map(|e| e.to_compile_error()).unwrap_or_default()
}

fn to_syn_error(d: &Diagnostic, fallback: Span, from_file: bool) -> syn::Error {
    match (&d.loc, from_file) {
        (Loc::Tokens(span), _) => syn::Error::new(*span, d.inline_message()),
        (_, true) => {
            syn::Error::new(fallback, format!("{}{}", crate::diag::escape(&d.message), d.render_body()))
        }
        _ => syn::Error::new(fallback, d.inline_message()),
    }
}

/// The `name:` of an inline definition, when it is a plain string.
fn declared_name(root: &Node) -> Option<String> {
    let Value::Map(entries) = &root.value else { return None };
    entries.iter().find(|e| e.key == "name").and_then(|e| match &e.value.value {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    })
}

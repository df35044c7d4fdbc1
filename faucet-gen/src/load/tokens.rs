//! `faucet!` tokens into a located [`Node`] tree.
//!
//! The inline grammar is the YAML grammar written as Rust tokens: maps in
//! braces (`key: value, …`), lists in brackets, string / number / bool
//! literals, and bare identifiers or paths for names and enum values.
//! Every node keeps the span of its token, so rustc underlines the exact spot.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};

use super::{Entry, MAX_DEPTH, Node, Value, too_deep};
use crate::diag::{Diagnostic, Diagnostics, Loc};

/// What a `faucet!` invocation asks for.
#[derive(Debug)]
pub struct MacroInput {
    /// `crate = path`: where generated code finds the runtime, when renamed.
    pub runtime_path: Option<TokenStream>,
    /// The pipeline: a file to load or an inline definition.
    pub body: MacroBody,
}

/// The pipeline part of a `faucet!` invocation.
#[derive(Debug)]
pub enum MacroBody {
    /// `faucet!("pipelines/orders.yaml")`.
    File {
        /// The path as written.
        path: String,
        /// The span of the path literal, where file diagnostics are reported.
        span: Span,
    },
    /// `faucet! { name: orders, pipeline: { … } }`.
    Inline(Node),
}

/// Parses the tokens of a `faucet!` invocation.
pub fn parse_macro_input(tokens: TokenStream) -> Result<MacroInput, Diagnostics> {
    let mut cursor = Cursor::new(tokens, Span::call_site(), 1);
    let mut runtime_path = None;
    if cursor.peek_ident("crate") && cursor.peek_punct_at(1, '=') {
        cursor.next();
        cursor.next();
        let mut path = TokenStream::new();
        while let Some(tt) = cursor.peek() {
            if is_punct(tt, ',') {
                break;
            }
            path.extend([cursor.next().expect("peeked")]);
        }
        cursor.eat_punct(',');
        runtime_path = Some(path);
    }
    if let Some(TokenTree::Literal(lit)) = cursor.peek()
        && cursor.len_left() <= 2
    {
        let span = lit.span();
        let parsed: syn::Lit = syn::parse2(TokenStream::from(TokenTree::Literal(lit.clone())))
            .map_err(|e| single(Loc::Tokens(span), e.to_string()))?;
        let syn::Lit::Str(path) = parsed else {
            return Err(single(Loc::Tokens(span), "expected the pipeline file's path as a string literal"));
        };
        cursor.next();
        cursor.eat_punct(',');
        if let Some(extra) = cursor.peek() {
            return Err(single(
                Loc::Tokens(extra.span()),
                "unexpected tokens after the pipeline file's path",
            ));
        }
        return Ok(MacroInput { runtime_path, body: MacroBody::File { path: path.value(), span } });
    }
    let mut diags = Diagnostics::new();
    let entries = cursor.map_body(&mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    if entries.is_empty() {
        return Err(single(
            Loc::Tokens(Span::call_site()),
            "expected a pipeline: `faucet!(\"path/to/pipeline.yaml\")` or `faucet! { name: …, pipeline: { … } }`",
        ));
    }
    let body = Node { value: Value::Map(entries), loc: Loc::Tokens(Span::call_site()) };
    Ok(MacroInput { runtime_path, body: MacroBody::Inline(body) })
}

fn single(loc: Loc, message: impl Into<String>) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.push(Diagnostic::new(loc, message));
    d
}

fn is_punct(tt: &TokenTree, ch: char) -> bool {
    matches!(tt, TokenTree::Punct(p) if p.as_char() == ch)
}

struct Cursor {
    tokens: Vec<TokenTree>,
    pos: usize,
    /// The span of the enclosing group, for errors at its end.
    end_span: Span,
    /// How many maps and lists enclose these tokens (the top-level map is 1).
    depth: usize,
}

impl Cursor {
    fn new(tokens: TokenStream, end_span: Span, depth: usize) -> Self {
        Cursor { tokens: tokens.into_iter().collect(), pos: 0, end_span, depth }
    }

    fn peek(&self) -> Option<&TokenTree> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, ahead: usize) -> Option<&TokenTree> {
        self.tokens.get(self.pos + ahead)
    }

    fn len_left(&self) -> usize {
        self.tokens.len() - self.pos
    }

    fn next(&mut self) -> Option<TokenTree> {
        let tt = self.tokens.get(self.pos).cloned();
        if tt.is_some() {
            self.pos += 1;
        }
        tt
    }

    fn peek_ident(&self, name: &str) -> bool {
        matches!(self.peek(), Some(TokenTree::Ident(i)) if i == name)
    }

    fn peek_punct_at(&self, ahead: usize, ch: char) -> bool {
        self.peek_at(ahead).is_some_and(|tt| is_punct(tt, ch))
    }

    fn eat_punct(&mut self, ch: char) -> bool {
        if self.peek().is_some_and(|tt| is_punct(tt, ch)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn here(&self) -> Span {
        self.peek().map_or(self.end_span, TokenTree::span)
    }

    /// `key: value, key: value, …` up to the end of the stream.
    fn map_body(&mut self, diags: &mut Diagnostics) -> Vec<Entry> {
        let mut entries = Vec::new();
        while self.peek().is_some() {
            let (key, key_span) = match self.next() {
                Some(TokenTree::Ident(ident)) => (ident.to_string(), ident.span()),
                Some(TokenTree::Literal(lit)) => {
                    match syn::parse2::<syn::LitStr>(TokenTree::Literal(lit.clone()).into()) {
                        Ok(s) => (s.value(), lit.span()),
                        Err(_) => {
                            diags.error(
                                &Loc::Tokens(lit.span()),
                                "expected a key (an identifier or a string)",
                            );
                            return entries;
                        }
                    }
                }
                Some(other) => {
                    diags.error(&Loc::Tokens(other.span()), "expected a key (an identifier or a string)");
                    return entries;
                }
                None => break,
            };
            if !self.eat_punct(':') {
                diags.error_help(
                    &Loc::Tokens(self.here()),
                    format!("expected `:` after the key `{key}`"),
                    "inline pipelines are written `key: value`, with entries separated by commas",
                );
                return entries;
            }
            let Some(value) = self.value(diags) else { return entries };
            entries.push(Entry { key, key_loc: Loc::Tokens(key_span), value });
            if self.peek().is_some() && !self.eat_punct(',') {
                diags.error_help(
                    &Loc::Tokens(self.here()),
                    "expected `,` between entries",
                    "separate entries with commas",
                );
                return entries;
            }
        }
        entries
    }

    /// One value: a literal, a (negative) number, an identifier or path, a map or a list.
    fn value(&mut self, diags: &mut Diagnostics) -> Option<Node> {
        let Some(tt) = self.next() else {
            diags.error(&Loc::Tokens(self.end_span), "expected a value");
            return None;
        };
        let span = tt.span();
        let loc = Loc::Tokens(span);
        let value = match tt {
            TokenTree::Group(group) => {
                if self.depth >= MAX_DEPTH {
                    diags.push(too_deep(loc));
                    return None;
                }
                let mut inner = Cursor::new(group.stream(), group.span_close(), self.depth + 1);
                match group.delimiter() {
                    Delimiter::Brace => Value::Map(inner.map_body(diags)),
                    Delimiter::Bracket => {
                        let mut items = Vec::new();
                        while inner.peek().is_some() {
                            items.push(inner.value(diags)?);
                            if inner.peek().is_some() && !inner.eat_punct(',') {
                                diags.error(&Loc::Tokens(inner.here()), "expected `,` between list items");
                                return None;
                            }
                        }
                        Value::Seq(items)
                    }
                    _ => {
                        diags.error_help(
                            &loc,
                            "unexpected group",
                            "maps are written in braces, lists in brackets",
                        );
                        return None;
                    }
                }
            }
            TokenTree::Literal(lit) => literal(&lit, &loc, diags)?,
            TokenTree::Punct(p) if p.as_char() == '-' => match self.next() {
                Some(TokenTree::Literal(lit)) => match literal(&lit, &loc, diags)? {
                    Value::Int(i) => Value::Int(-i),
                    Value::Float(f) => Value::Float(-f),
                    _ => {
                        diags.error(&loc, "expected a number after `-`");
                        return None;
                    }
                },
                _ => {
                    diags.error(&loc, "expected a number after `-`");
                    return None;
                }
            },
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                match name.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => Value::Str(self.path_rest(name)),
                }
            }
            TokenTree::Punct(p) if p.as_char() == ':' && self.peek_punct_at(0, ':') => {
                self.next();
                let first = match self.next() {
                    Some(TokenTree::Ident(i)) => i.to_string(),
                    _ => {
                        diags.error(&loc, "expected a path after `::`");
                        return None;
                    }
                };
                Value::Str(format!("::{}", self.path_rest(first)))
            }
            other => {
                diags.error_help(
                    &Loc::Tokens(other.span()),
                    format!("unexpected `{other}`"),
                    "a value is a literal, an identifier or path, a `{ map }` or a `[list]`",
                );
                return None;
            }
        };
        Some(Node { value, loc })
    }

    /// Continues `first` with `::segment` pairs: `my_crate::transforms::clean`.
    fn path_rest(&mut self, first: String) -> String {
        let mut path = first;
        while self.peek_punct_at(0, ':') && self.peek_punct_at(1, ':') {
            let Some(TokenTree::Ident(segment)) = self.peek_at(2) else { break };
            path.push_str("::");
            path.push_str(&segment.to_string());
            self.pos += 3;
        }
        path
    }
}

fn literal(lit: &proc_macro2::Literal, loc: &Loc, diags: &mut Diagnostics) -> Option<Value> {
    match syn::parse2::<syn::Lit>(TokenTree::Literal(lit.clone()).into()) {
        Ok(syn::Lit::Str(s)) => Some(Value::Str(s.value())),
        Ok(syn::Lit::Int(i)) => match i.base10_parse::<i64>() {
            Ok(v) => Some(Value::Int(v)),
            Err(e) => {
                diags.error(loc, format!("integer out of range: {e}"));
                None
            }
        },
        Ok(syn::Lit::Float(f)) => match f.base10_parse::<f64>() {
            Ok(v) => Some(Value::Float(v)),
            Err(e) => {
                diags.error(loc, format!("invalid number: {e}"));
                None
            }
        },
        Ok(syn::Lit::Bool(b)) => Some(Value::Bool(b.value)),
        _ => {
            diags.error_help(loc, "unsupported literal", "use a string, an integer, a number or a boolean");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn inline_map_lowers_to_nodes() {
        let input = parse_macro_input(quote! {
            name: orders,
            pipeline: {
                source: { type: csv, config: { path: "data/orders.csv", batch_size: 500, delimiter: -1, x: 1.5 } },
                transforms: [ { type: custom, config: { function: my_crate::clean } } ],
            }
        })
        .unwrap();
        assert!(input.runtime_path.is_none());
        let MacroBody::Inline(node) = input.body else { panic!() };
        let Value::Map(top) = node.value else { panic!() };
        assert_eq!(top[0].key, "name");
        assert!(matches!(&top[0].value.value, Value::Str(s) if s == "orders"));
        let Value::Map(p) = &top[1].value.value else { panic!() };
        let Value::Map(src) = &p[0].value.value else { panic!() };
        assert!(matches!(&src[0].value.value, Value::Str(s) if s == "csv"));
        let Value::Map(cfg) = &src[1].value.value else { panic!() };
        assert!(matches!(&cfg[1].value.value, Value::Int(500)));
        assert!(matches!(&cfg[2].value.value, Value::Int(-1)));
        let Value::Seq(ts) = &p[1].value.value else { panic!() };
        let Value::Map(t) = &ts[0].value else { panic!() };
        let Value::Map(tc) = &t[1].value.value else { panic!() };
        assert!(matches!(&tc[0].value.value, Value::Str(s) if s == "my_crate::clean"));
    }

    #[test]
    fn file_form_and_crate_option() {
        let input = parse_macro_input(quote! { crate = ::my_rt, "pipelines/a.yaml" }).unwrap();
        assert_eq!(input.runtime_path.unwrap().to_string(), ":: my_rt");
        assert!(matches!(input.body, MacroBody::File { path, .. } if path == "pipelines/a.yaml"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = |levels: usize| -> TokenStream {
            format!("name: x, v: {}1{}", "[".repeat(levels), "]".repeat(levels)).parse().unwrap()
        };
        let err = parse_macro_input(deep(5_000)).unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(err.iter().next().unwrap().message.contains("nested more than 64 levels"));
        // The top-level map counts as one level, as in YAML.
        assert!(parse_macro_input(deep(MAX_DEPTH - 1)).is_ok());
        assert!(parse_macro_input(deep(MAX_DEPTH)).is_err());
    }

    #[test]
    fn missing_colon_is_reported() {
        let err = parse_macro_input(quote! { name orders }).unwrap_err();
        assert!(err.iter().next().unwrap().message.contains("expected `:`"));
    }
}

//! Reading a map node field by field, with every mistake reported.
//!
//! A [`Fields`] reader remembers which keys were asked for; [`Fields::finish`]
//! then reports every other key as unknown, suggesting the nearest valid one.
//! The typed readers below check a value's type and range and return it
//! normalized, or record a diagnostic and return `None`.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use crate::diag::{Diagnostics, Loc, help_for, list};
use crate::load::{Entry, Node, Value};
use crate::reference::{Problem, Reference, classify, references};
use crate::spec::Spec;
use crate::text::{Encode, Text, TextPart};

/// What `${row.path}` references may name in the strings being validated now.
///
/// Set by the matrix validator around each row; a thread-local so that every
/// connector's validation sees it without threading it through each call.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextScope {
    /// The matrix's row ids (empty without `matrix:`), shared by every row's
    /// scope and looked up by name, so a large matrix validates in near-linear time.
    pub rows: Rc<BTreeSet<String>>,
    /// The id of the row's parent, whose record `${parent.path}` reads.
    pub parent: Option<String>,
    /// False in blocks where tokens are rejected (transforms, state, dlq).
    pub tokens_allowed: bool,
    /// True in a sharded pipeline (top-level `shard:`), where `${shard.index}`
    /// and `${shard.count}` name the shard being run.
    pub sharded: bool,
}

thread_local! {
    static SCOPE: RefCell<TextScope> = RefCell::new(TextScope::default());
}

/// Runs `f` with `scope` as the text scope, restoring the previous one after,
/// also when `f` panics: rustc catches a proc macro's panic and may expand the
/// next invocation on the same thread, which must not inherit a stale scope.
pub(crate) fn with_scope<R>(scope: TextScope, f: impl FnOnce() -> R) -> R {
    /// Puts the scope it holds back on drop, so unwinding restores it too.
    struct Restore(Option<TextScope>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                SCOPE.with(|s| *s.borrow_mut() = previous);
            }
        }
    }
    let _restore = Restore(Some(SCOPE.with(|s| s.replace(scope))));
    f()
}

/// The id of the current row's parent (whose record `${parent.path}` reads), if any.
pub(crate) fn parent_row() -> Option<String> {
    SCOPE.with(|s| s.borrow().parent.clone())
}

/// Runs `f` with parent tokens rejected (inside transforms, state and dlq blocks).
pub(crate) fn without_tokens<R>(f: impl FnOnce() -> R) -> R {
    let scope = SCOPE.with(|s| TextScope { tokens_allowed: false, ..s.borrow().clone() });
    with_scope(scope, f)
}

#[cfg(test)]
thread_local! {
    /// Every `(spec, key)` a validator read, for the test that each declared key is read.
    pub(crate) static TOUCHED: RefCell<std::collections::BTreeSet<(&'static str, &'static str)>> =
        const { RefCell::new(std::collections::BTreeSet::new()) };
}

/// Reads the keys of one map node.
pub(crate) struct Fields<'a> {
    what: String,
    loc: Loc,
    entries: &'a [Entry],
    asked: Vec<&'static str>,
    later: Vec<&'static str>,
    spec: Option<&'static Spec>,
    reported_not_yet: bool,
    /// Each required key reported missing: a misspelling of it found by
    /// [`Fields::finish`] replaces that report.
    missing: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// A reader for `node`, described as `what` in messages ("the `csv` source config").
    /// A null node reads as an empty map; anything else that is not a map is an error.
    pub(crate) fn new(node: &'a Node, what: impl Into<String>, diags: &mut Diagnostics) -> Option<Self> {
        let what = what.into();
        let entries: &'a [Entry] = match &node.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            other => {
                diags.error(&node.loc, format!("{what} must be a map, found {}", other.kind_name()));
                return None;
            }
        };
        let mut seen: Vec<&str> = Vec::new();
        for e in entries {
            if seen.contains(&e.key.as_str()) {
                diags.error(&e.key_loc, format!("duplicate key `{}` in {what}", e.key));
            }
            seen.push(&e.key);
        }
        Some(Fields {
            what,
            loc: node.loc.clone(),
            entries,
            asked: Vec::new(),
            later: Vec::new(),
            spec: None,
            reported_not_yet: false,
            missing: Vec::new(),
        })
    }

    /// A reader for `node` that may read only the keys `spec` declares (checked
    /// in debug builds); [`Fields::finish`] reports the spec's not-yet keys
    /// unless [`Fields::report_not_yet`] did so earlier.
    pub(crate) fn with_spec(
        node: &'a Node,
        spec: &'static Spec,
        what: impl Into<String>,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let mut f = Self::new(node, what, diags)?;
        f.spec = Some(spec);
        Some(f)
    }

    /// Records that `key` is read, checking it against the spec.
    fn touch(&mut self, key: &'static str) {
        self.asked.push(key);
        if let Some(spec) = self.spec {
            debug_assert!(spec.declares(key), "`{key}` is read but not declared in spec `{}`", spec.name);
            #[cfg(test)]
            TOUCHED.with(|t| t.borrow_mut().insert((spec.name, key)));
        }
    }

    /// Reports, as not supported yet, each of the spec's not-yet keys that is present.
    pub(crate) fn report_not_yet(&mut self, diags: &mut Diagnostics) {
        if let Some(spec) = self.spec
            && !self.reported_not_yet
        {
            self.reported_not_yet = true;
            self.not_yet(&spec.not_yet_keys(), diags);
        }
    }

    /// The value of `key`, if present (a `null` value counts as absent).
    pub(crate) fn get(&mut self, key: &'static str) -> Option<&'a Node> {
        self.touch(key);
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
            .filter(|n| !matches!(n.value, Value::Null))
    }

    /// The entry of `key`, if present, with its key location.
    pub(crate) fn entry(&mut self, key: &'static str) -> Option<&'a Entry> {
        self.touch(key);
        self.entries.iter().find(|e| e.key == key)
    }

    /// The value of a required `key`; a missing key is reported at the map.
    pub(crate) fn require(&mut self, key: &'static str, diags: &mut Diagnostics) -> Option<&'a Node> {
        let found = self.get(key);
        if found.is_none() {
            self.missing(key, diags);
        }
        found
    }

    /// Whether `key` is written in the map, without reading it (a not-yet key).
    pub(crate) fn present(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.key == key)
    }

    /// Reports the required `key` as missing, at the map.
    pub(crate) fn missing(&mut self, key: &'static str, diags: &mut Diagnostics) {
        self.missing.push(key);
        diags.error_help(&self.loc, missing_message(key, &self.what), format!("add `{key}: …`"));
    }

    /// Reports every key that was not asked for, with the nearest valid key.
    /// An unknown key that is a misspelling of a required key reported
    /// missing is one mistake: its "unknown key" report, with the
    /// suggestion, replaces the "missing" one.
    pub(crate) fn finish(mut self, diags: &mut Diagnostics) {
        self.report_not_yet(diags);
        for e in self.entries {
            if !self.asked.contains(&e.key.as_str()) && !self.later.contains(&e.key.as_str()) {
                let mut valid: Vec<&str> = Vec::new();
                for key in &self.asked {
                    if !valid.contains(key) {
                        valid.push(key);
                    }
                }
                let meant = crate::diag::suggest(&e.key, valid.iter().copied());
                if let Some(key) = meant.filter(|m| self.missing.contains(m)) {
                    diags.retract(&self.loc, &missing_message(key, &self.what));
                }
                diags.error_help(
                    &e.key_loc,
                    format!("unknown key `{}` in {}", e.key, self.what),
                    help_for(&e.key, &valid),
                );
            }
        }
    }

    /// Reports, as not supported yet, each of `keys` that is present: faucet-stream
    /// keys that faucet will accept once the feature behind them lands.
    pub(crate) fn not_yet(&mut self, keys: &[&'static str], diags: &mut Diagnostics) {
        for key in keys {
            self.later.push(key);
            if let Some(e) = self.entries.iter().find(|e| e.key == *key) {
                diags.error_help(
                    &e.key_loc,
                    format!("`{key}` in {} is not supported by faucet yet", self.what),
                    format!("faucet-stream reads `{key}` here and faucet does not yet; remove it to build with faucet"),
                );
            }
        }
    }
}

/// The message reporting the required `key` missing from the map described as `what`.
fn missing_message(key: &str, what: &str) -> String {
    format!("missing required key `{key}` in {what}")
}

/// A boolean.
pub(crate) fn boolean(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::Str(s) if s.contains("${") => {
            diags.error_help(
                &node.loc,
                format!("`{key}` must be true or false, found the reference {s:?}"),
                "`${…}` references are substituted into strings only",
            );
            None
        }
        other => {
            diags.error(&node.loc, format!("`{key}` must be true or false, found {}", other.kind_name()));
            None
        }
    }
}

/// True when the reference body `body` (`users.id`) names one of the matrix's rows.
fn names_row(body: &str) -> bool {
    let row = body.split('.').next().unwrap_or_default();
    SCOPE.with(|scope| scope.borrow().rows.contains(row))
}

/// An integer within `min..=max`.
pub(crate) fn int_in(node: &Node, key: &str, min: i64, max: i64, diags: &mut Diagnostics) -> Option<i64> {
    match &node.value {
        Value::Int(i) if (min..=max).contains(i) => Some(*i),
        Value::Int(i) => {
            diags.error_help(
                &node.loc,
                format!("`{key}` is {i}, out of range"),
                format!("use a value from {min} to {max}"),
            );
            None
        }
        Value::Str(s) if s.contains("${") => {
            diags.error_help(
                &node.loc,
                format!("`{key}` must be an integer, found the reference {s:?}"),
                "`${…}` references are substituted into strings only; write a number here",
            );
            None
        }
        other => {
            diags.error(&node.loc, format!("`{key}` must be an integer, found {}", other.kind_name()));
            None
        }
    }
}

/// A plain string with no `${…}` reference (names, enum values, patterns).
/// The deepest nesting of brackets (`(`, `[`, `{` and `<`) in `s`: checked
/// before a string reaches a recursive parser (syn, JSONPath), which a few
/// kilobytes of `[[[[` would otherwise run off the end of the stack.
pub(crate) fn bracket_depth(s: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in s.chars() {
        match c {
            '(' | '[' | '{' | '<' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' | '>' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// True when `s` reads a value at run time: `${env:…}`, `${secret:…}`,
/// `${file:…}` or `${now.…}` (a `$${` escape is skipped).
pub(crate) fn reads_at_run_time(s: &str) -> bool {
    references(s).any(|(range, body)| match body {
        Some(body) => {
            matches!(classify(body), Ok(Reference::Env(_) | Reference::File(_) | Reference::Now(_)))
        }
        None => meant_at_run_time(&s[range]),
    })
}

/// True when a `${` never closed starts like a run-time reference (`${env:X`).
fn meant_at_run_time(token: &str) -> bool {
    ["${env:", "${secret:", "${file:", "${now."].iter().any(|p| token.starts_with(p))
}

/// `$${` written as the literal `${` it stands for (faucet-stream's escape).
pub(crate) fn unescape(s: &str) -> String {
    s.replace("$${", "${")
}

/// The most [`bracket_depth`] a string parsed at build time may have.
pub(crate) const MAX_BRACKET_DEPTH: usize = 32;

/// A string fixed at build time (a name, identifier, query, pattern): it is
/// checked and compiled in as written, with `$${` as a literal `${`. A
/// reference read at run time (`${env:…}`, `${file:…}`, `${now.…}`) is
/// refused rather than taken literally (a table named `${env:TABLE}`); other
/// `${…}` text (a regex replacement's `${1}`) is kept as written.
pub(crate) fn plain_string(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    match &node.value {
        Value::Str(s) => build_time_string(s, key).map_err(|(m, h)| diags.error_help(&node.loc, m, h)).ok(),
        other => {
            diags.error(&node.loc, format!("`{key}` must be a string, found {}", other.kind_name()));
            None
        }
    }
}

/// `s` (the value of `key`) as a string fixed at build time: see [`plain_string`].
pub(crate) fn build_time_string(s: &str, key: &str) -> Result<String, Problem> {
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for (range, body) in references(s) {
        out.push_str(&unescape(&s[at..range.start]));
        let token = &s[range.clone()];
        at = range.end;
        match body.map(classify) {
            Some(Ok(Reference::Row(row))) if names_row(row) => {
                return Err((
                    format!("`{key}` cannot take a parent reference ({s:?})"),
                    "parent references are only substituted into source and sink config strings".into(),
                ));
            }
            None if meant_at_run_time(token) => {
                return Err((
                    format!("malformed `${{…}}` in {s:?}: no closing `}}`"),
                    "close the reference, or write `$${` for a literal `${`".into(),
                ));
            }
            // Never closed, or no reference: text, as written.
            None | Some(Ok(Reference::Row(_))) => out.push_str(&unescape(token)),
            Some(Err(problem)) => return Err(problem),
            Some(Ok(_)) => {
                return Err((
                    format!(
                        "`{key}` is fixed at build time and cannot read `{token}`: it would be taken literally"
                    ),
                    "write the value itself, which is checked when the pipeline is built; `${…}` \
                     references are read at run time in connection strings, paths, URLs, headers, \
                     credentials, and the table and schema names of `postgres` and `mysql` sources and \
                     sinks; write `$${` for a literal `${`"
                        .into(),
                ));
            }
        }
    }
    out.push_str(&unescape(&s[at..]));
    Ok(out)
}

/// Every map key under `node` with `$${` written as `${`, as faucet-stream
/// unescapes keys. A key that reads a value at run time (`${env:…}`) is
/// reported: faucet keys are fixed at build time.
pub(crate) fn unescape_keys(node: &mut Node, diags: &mut Diagnostics) {
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| unescape_keys(n, diags)),
        Value::Map(entries) => {
            // A key read at run time is reported and dropped: no follow-on errors about it.
            entries.retain(|e| {
                let run_time = reads_at_run_time(&e.key);
                if run_time {
                    diags.error_help(
                        &e.key_loc,
                        format!(
                            "a run-time `${{…}}` reference in the key `{}` is not supported by faucet yet",
                            e.key
                        ),
                        "keys are fixed at build time: write the key itself, or `$${` for a literal `${`",
                    );
                }
                !run_time
            });
            for e in entries {
                if e.key.contains("$${") {
                    e.key = unescape(&e.key);
                }
                unescape_keys(&mut e.value, diags);
            }
        }
        _ => {}
    }
}

/// One of `choices`, with a suggestion for a near miss.
pub(crate) fn one_of(
    node: &Node,
    key: &str,
    choices: &[&'static str],
    diags: &mut Diagnostics,
) -> Option<&'static str> {
    let s = match &node.value {
        Value::Str(s) => s.as_str(),
        other => {
            diags.error_help(
                &node.loc,
                format!("`{key}` must be one of {}, found {}", list(choices), other.kind_name()),
                format!("expected one of {}", list(choices)),
            );
            return None;
        }
    };
    match choices.iter().find(|c| **c == s) {
        Some(c) => Some(c),
        None => {
            diags.error_help(&node.loc, format!("invalid value `{s}` for `{key}`"), help_for(s, choices));
            None
        }
    }
}

/// A single-byte character: an integer 0..=255 (faucet-stream's form) or a one-character ASCII string.
pub(crate) fn byte(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<u8> {
    match &node.value {
        Value::Int(i) if (0..=255).contains(i) => Some(*i as u8),
        Value::Str(s) if s.len() == 1 && s.is_ascii() => Some(s.as_bytes()[0]),
        Value::Str(s) if s == "\\t" => Some(b'\t'),
        _ => {
            diags.error_help(
                &node.loc,
                format!("`{key}` must be one ASCII character"),
                format!("write it as a one-character string such as `\",\"` or as its byte value, e.g. `{key}: 44`"),
            );
            None
        }
    }
}

/// A string that may hold `${env:VAR}` references, resolved at run time, in
/// a position that takes no value from a parent record (URLs' authorities,
/// database URLs, buckets, credentials, names).
///
/// `$${` writes a literal `${`. A `${row.path}` reference here is an error at
/// the reference; positions that can take one safely use [`text_in`].
pub(crate) fn text(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Text> {
    let t = any_text(node, key, diags)?;
    if let Some(path) = t.0.iter().find_map(|p| match p {
        TextPart::Parent { path, .. } => Some(path),
        _ => None,
    }) {
        let token = parent_reference(path);
        diags.error_help(
            &token_loc(&node.loc, &token),
            format!("`{key}` cannot take a value from the parent record (`{token}`)"),
            "a record value could redirect this connector; record values go only into file and object paths, \
             URL paths, query values, headers and bodies, where they are escaped",
        );
        return None;
    }
    Some(t)
}

/// A parent reference as written, `${row.a.b}`, for `path` (`a.b`).
pub(crate) fn parent_reference(path: &[String]) -> String {
    let row = SCOPE.with(|s| s.borrow().parent.clone()).unwrap_or_default();
    let mut token = format!("${{{row}");
    for segment in path {
        token.push('.');
        token.push_str(segment);
    }
    token.push('}');
    token
}

/// A string in a position that can take values from a parent record: each
/// `${row.path}` is substituted at run time as `encode` says (see
/// `faucet_runtime::substitute`), so it cannot leave its place.
pub(crate) fn text_in(node: &Node, key: &str, encode: Encode, diags: &mut Diagnostics) -> Option<Text> {
    any_text(node, key, diags).map(|t| t.encoded_as(encode))
}

fn any_text(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Text> {
    let s = match &node.value {
        Value::Str(s) => s,
        other => {
            diags.error(&node.loc, format!("`{key}` must be a string, found {}", other.kind_name()));
            return None;
        }
    };
    parse_text(s).map_err(|(message, help)| diags.error_help(&node.loc, message, help)).ok()
}

/// The location of `token` inside the string at `loc`, when the file shows it
/// on that line (it does not after `vars` substitution); else `loc` itself.
pub(crate) fn token_loc(loc: &Loc, token: &str) -> Loc {
    let Loc::File { file, line, col, .. } = loc else { return loc.clone() };
    let Some(text) = file.text.lines().nth(line - 1) else { return loc.clone() };
    let from: usize = text.chars().take(col - 1).map(char::len_utf8).sum();
    match text.get(from..).and_then(|rest| rest.find(token)) {
        Some(at) => Loc::File {
            file: file.clone(),
            line: *line,
            col: text[..from + at].chars().count() + 1,
            len: token.chars().count(),
        },
        None => loc.clone(),
    }
}

/// Splits a string into literal parts and references read at run time
/// (`${env:…}`, `${secret:…}`, `${file:…}`, `${now.…}`, a parent's
/// `${row.path}`), with `$${` as a literal `${`.
pub(crate) fn parse_text(s: &str) -> Result<Text, (String, String)> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut at = 0;
    for (range, body) in references(s) {
        lit.push_str(&unescape(&s[at..range.start]));
        at = range.end;
        let Some(body) = body else {
            return Err((
                format!("malformed `${{…}}` in {s:?}: no closing `}}`"),
                "close the reference (`${env:VAR}`), or write `$${` for a literal `${`".into(),
            ));
        };
        let part = match classify(body)? {
            Reference::Env(var) => TextPart::Env(var.to_owned()),
            Reference::File(path) => TextPart::File(path.to_owned()),
            Reference::Now(now) => TextPart::Now(now),
            Reference::Row(body) if is_shard_reference(body) => shard_token(body)?,
            Reference::Row(body) => parent_token(body)?,
        };
        if !lit.is_empty() {
            parts.push(TextPart::Lit(std::mem::take(&mut lit)));
        }
        parts.push(part);
    }
    lit.push_str(&unescape(&s[at..]));
    if !lit.is_empty() || parts.is_empty() {
        parts.push(TextPart::Lit(lit));
    }
    Ok(Text(parts))
}

/// Whether `${body}` names the shard being run: `shard.…` in a sharded
/// pipeline, unless a matrix row is called `shard` (then it is that row's).
fn is_shard_reference(body: &str) -> bool {
    let id = body.split('.').next().unwrap_or_default();
    id == "shard" && SCOPE.with(|s| s.borrow().sharded && !s.borrow().rows.contains("shard"))
}

/// `${shard.index}` or `${shard.count}`.
fn shard_token(body: &str) -> Result<TextPart, (String, String)> {
    match body {
        "shard.index" => Ok(TextPart::Shard(crate::text::ShardValue::Index)),
        "shard.count" => Ok(TextPart::Shard(crate::text::ShardValue::Count)),
        _ => Err((
            format!("unknown reference `${{{body}}}`"),
            "a sharded pipeline's strings can hold `${shard.index}` (0, 1, …) and `${shard.count}`".into(),
        )),
    }
}

/// `${row.dotted.path}`: valid only naming the current row's parent, in a
/// string of a source or sink config.
fn parent_token(body: &str) -> Result<TextPart, (String, String)> {
    let scope = SCOPE.with(|s| s.borrow().clone());
    let mut segments = body.split('.');
    let row = segments.next().unwrap_or_default();
    let path: Vec<String> = segments.map(str::to_owned).collect();
    if path.iter().any(|s| s.is_empty()) || row.is_empty() {
        return Err((
            format!("malformed reference `${{{body}}}`"),
            "write `${parent_row.field}` or `${parent_row.a.b}`".into(),
        ));
    }
    if row == "vars" {
        return Err((
            format!("`${{{body}}}`: there is no var `{}`", path.join(".")),
            "define it under the top-level `vars:`".into(),
        ));
    }
    if row == "shard" && !scope.rows.contains(row) {
        return Err((
            format!("`${{{body}}}` names the shard being run, and this pipeline is not sharded"),
            "add `shard: { count: N }` at the top level to split the source; each shard then renders \
             `${shard.index}` (0 to N-1) and `${shard.count}`"
                .into(),
        ));
    }
    if !scope.rows.contains(row) {
        let help = if scope.rows.is_empty() {
            "references to a row's record need `matrix:`; use `${env:VAR}`, or write `$${` for a literal `${`"
                .to_owned()
        } else {
            help_for(row, &scope.rows.iter().map(String::as_str).collect::<Vec<_>>())
        };
        return Err((format!("`${{{body}}}` refers to `{row}`, which is not a matrix row"), help));
    }
    if !scope.tokens_allowed {
        return Err((
            format!(
                "`${{{body}}}`: parent references are only substituted into source and sink config strings"
            ),
            "transforms, `state` and `dlq` are the same for every invocation".into(),
        ));
    }
    match scope.parent.as_deref() {
        Some(parent) if parent == row => Ok(TextPart::Parent { path, encode: Encode::Raw }),
        Some(parent) => Err((
            format!("`${{{body}}}` refers to row `{row}`, but this row's parent is `{parent}`"),
            format!("a child reads its own parent's record: `${{{parent}.…}}`"),
        )),
        None => Err((
            format!("`${{{body}}}` refers to row `{row}`, but this row has no parent"),
            format!("add `parent: {row}` to the row, so it runs once per record `{row}` writes"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parts() {
        assert_eq!(parse_text("plain").unwrap(), Text::literal("plain"));
        assert_eq!(
            parse_text("pg://u:${env:PW}@h/${env:DB}").unwrap().0,
            vec![
                TextPart::Lit("pg://u:".into()),
                TextPart::Env("PW".into()),
                TextPart::Lit("@h/".into()),
                TextPart::Env("DB".into())
            ]
        );
        assert_eq!(parse_text("cost $5 and $${x}").unwrap(), Text::literal("cost $5 and ${x}"));
        assert!(parse_text("${env:PW").unwrap_err().0.contains("no closing"));
        assert!(parse_text("${vault:a#b}").unwrap_err().0.contains("vault"));
        assert!(parse_text("${env:9x}").unwrap_err().0.contains("does not name"));
        assert!(parse_text("${users.id}").unwrap_err().0.contains("not a matrix row"));
        let scope = TextScope {
            rows: Rc::new(["users".to_owned(), "posts".to_owned()].into()),
            parent: Some("users".into()),
            tokens_allowed: true,
            sharded: false,
        };
        with_scope(scope.clone(), || {
            assert_eq!(
                parse_text("out/${users.id}.jsonl").unwrap().0[1],
                TextPart::Parent { path: vec!["id".into()], encode: Encode::Raw }
            );
            assert!(parse_text("${posts.id}").unwrap_err().0.contains("parent is `users`"));
            without_tokens(|| assert!(parse_text("${users.id}").unwrap_err().0.contains("only substituted")));
        });
    }

    #[test]
    fn build_time_strings_unescape_and_refuse_run_time_references() {
        let b = |s: &str| build_time_string(s, "replacement");
        assert_eq!(b("$${1}_id").unwrap(), "${1}_id");
        // Kept as written where no reference is meant: a regex group, an unclosed `${`.
        assert_eq!(b("${1}_id").unwrap(), "${1}_id");
        assert_eq!(b("${name}$${x}").unwrap(), "${name}${x}");
        assert_eq!(b("a ${b").unwrap(), "a ${b");
        // `$$${`: a `$`, then the escape (faucet-stream scans the same way).
        assert_eq!(b("$$${1}").unwrap(), "$${1}");
        assert_eq!(b("SELECT '$${x}' AS v, '$y' AS w").unwrap(), "SELECT '${x}' AS v, '$y' AS w");
        for refused in ["${env:X}", "${secret:X}", "${file:./x}", "${now.date}", "${env:X"] {
            assert!(b(refused).is_err(), "{refused}");
        }
        assert!(b("${vault:a#b}").unwrap_err().0.contains("not supported by faucet yet"));
        assert!(b("${evn:X}").unwrap_err().1.contains("did you mean `${env:…}`"));
        assert!(b("$${env:X}").is_ok());
        assert!(reads_at_run_time("a/${now.year}") && !reads_at_run_time("$${env:X}"));
    }

    #[test]
    fn text_parts_for_every_run_time_form() {
        assert_eq!(
            parse_text("${secret:T}|${file:/run/t}|${now.strftime.%Y}|$${x}").unwrap().0,
            vec![
                TextPart::Env("T".into()),
                TextPart::Lit("|".into()),
                TextPart::File("/run/t".into()),
                TextPart::Lit("|".into()),
                TextPart::Now(crate::text::Now::Strftime("%Y".into())),
                TextPart::Lit("|${x}".into()),
            ]
        );
        assert!(parse_text("${evn:X}").unwrap_err().1.contains("did you mean"));
    }

    #[test]
    fn keys_are_unescaped_and_run_time_keys_reported() {
        let file = std::sync::Arc::new(crate::diag::SourceFile {
            name: "k.yaml".into(),
            text: "a: { \"$${x}\": 1, \"${env:K}\": 2, b: 3 }".into(),
        });
        let mut node = crate::load::load_yaml(&file).unwrap();
        let mut diags = Diagnostics::new();
        unescape_keys(&mut node, &mut diags);
        assert_eq!(diags.len(), 1);
        let Value::Map(top) = &node.value else { panic!() };
        let Value::Map(inner) = &top[0].value.value else { panic!() };
        let keys: Vec<&str> = inner.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["${x}", "b"]);
    }

    #[test]
    fn shard_references_only_in_a_sharded_pipeline() {
        assert!(parse_text("out/${shard.index}.jsonl").unwrap_err().0.contains("not sharded"));
        let sharded = TextScope { sharded: true, ..TextScope::default() };
        with_scope(sharded.clone(), || {
            let text = parse_text("out/${shard.index}-of-${shard.count}.jsonl").unwrap();
            assert_eq!(text.0[1], TextPart::Shard(crate::text::ShardValue::Index));
            assert_eq!(text.0[3], TextPart::Shard(crate::text::ShardValue::Count));
            assert!(parse_text("${shard.id}").unwrap_err().0.contains("unknown reference"));
        });
        // A matrix row called `shard` keeps its name.
        let row = TextScope {
            rows: Rc::new(["shard".to_owned()].into()),
            parent: Some("shard".into()),
            tokens_allowed: true,
            ..sharded
        };
        with_scope(row, || {
            assert!(matches!(parse_text("${shard.index}").unwrap().0[0], TextPart::Parent { .. }));
        });
    }

    #[test]
    fn scope_is_restored_after_a_panic_inside() {
        let outer = TextScope {
            rows: Rc::new(["users".to_owned()].into()),
            parent: Some("users".into()),
            tokens_allowed: true,
            sharded: false,
        };
        let inner = TextScope { parent: Some("posts".into()), ..outer.clone() };
        with_scope(outer, || {
            let panicked = std::panic::catch_unwind(|| with_scope(inner, || panic!("inside the scope")));
            assert!(panicked.is_err());
            assert_eq!(parent_row().as_deref(), Some("users"));
            let panicked = std::panic::catch_unwind(|| without_tokens(|| panic!("inside without_tokens")));
            assert!(panicked.is_err());
            assert!(SCOPE.with(|s| s.borrow().tokens_allowed));
        });
        assert_eq!(parent_row(), None);
        assert!(!SCOPE.with(|s| s.borrow().tokens_allowed));
    }
}

//! Diagnostics: where a config is wrong, what is wrong, and how to fix it.
//!
//! One renderer serves every entry point: build.rs prints the rendered text as
//! `cargo::error=` lines, the macro puts it on the path literal of a file
//! pipeline, and an inline pipeline gets the message on the offending token's
//! span so rustc underlines it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use proc_macro2::Span;

/// A loaded config file: its display path and text, kept for snippets.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as shown to the user (relative to the manifest where possible).
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// Where a config node came from.
#[derive(Debug, Clone)]
pub enum Loc {
    /// A position in a YAML file: 1-based line and column, length in characters.
    File {
        /// The file.
        file: Arc<SourceFile>,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// How many characters to underline (at least 1).
        len: usize,
    },
    /// A token of an inline `faucet!` definition.
    Tokens(Span),
    /// No better place is known (the whole definition).
    Unknown,
}

impl Loc {
    /// Where, in a few words: `file.yaml:3:5`, or the definition.
    pub fn short(&self) -> String {
        match self {
            Loc::File { file, line, col, .. } => format!("{}:{line}:{col}", file.name),
            Loc::Tokens(_) | Loc::Unknown => "its place in the definition".into(),
        }
    }

    /// The token span, for inline definitions.
    pub fn span(&self) -> Option<Span> {
        match self {
            Loc::Tokens(span) => Some(*span),
            _ => None,
        }
    }
}

/// One problem found in a config.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Where it is.
    pub loc: Loc,
    /// What is wrong, in one line.
    pub message: String,
    /// How to fix it, when we can tell (`did you mean `path`?`).
    pub help: Option<String>,
    /// Context, such as the matrix rows whose merged pipeline has the problem.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic at `loc`.
    pub fn new(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic { loc, message: message.into(), help: None, notes: Vec::new() }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic as a compiler would: message, `--> file:line:col`,
    /// the source line with a caret under the offending node, then the help.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}", escape(&self.message));
        out.push_str(&self.render_body());
        out
    }

    /// Everything after the message line: location, snippet and help.
    pub fn render_body(&self) -> String {
        let mut out = String::new();
        if let Loc::File { file, line, col, len } = &self.loc {
            let gutter = line.to_string().len();
            let pad = " ".repeat(gutter);
            out.push_str(&format!("\n{pad}--> {}:{line}:{col}", escape(&file.name)));
            if let Some(text) = file.text.lines().nth(line.saturating_sub(1)) {
                let (text, caret_pad, carets) = snippet(text.trim_end(), *col, *len);
                out.push_str(&format!("\n{pad} |\n{line} | {text}\n{pad} | {caret_pad}{carets}"));
            }
            if let Some(help) = &self.help {
                out.push_str(&format!("\n{pad} = help: {}", escape(help)));
            }
            for note in &self.notes {
                out.push_str(&format!("\n{pad} = note: {}", escape(note)));
            }
        } else {
            if let Some(help) = &self.help {
                out.push_str(&format!("\n  = help: {}", escape(help)));
            }
            for note in &self.notes {
                out.push_str(&format!("\n  = note: {}", escape(note)));
            }
        }
        out
    }

    /// The message and help on one line each, for an inline token span.
    pub fn inline_message(&self) -> String {
        let mut out = escape(&self.message).into_owned();
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  = help: {}", escape(help)));
        }
        for note in &self.notes {
            out.push_str(&format!("\n  = note: {}", escape(note)));
        }
        out
    }

    /// Identifies the problem regardless of notes: its place, message and help.
    fn identity(&self) -> String {
        let place = match &self.loc {
            Loc::File { file, line, col, .. } => format!("{}:{line}:{col}", file.name),
            Loc::Tokens(span) => format!("{span:?}"),
            Loc::Unknown => String::new(),
        };
        format!("{place}|{}|{:?}", self.message, self.help)
    }
}

/// Whether `c` would act on a terminal or reorder text rather than show:
/// control characters and Unicode's bidirectional overrides ("Trojan Source").
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [hidden](is_hidden) character written as an escape
/// (`\u{1b}`), so a config cannot paint, rewrite or reorder what the user reads.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_hidden(c) { c.escape_default().to_string() } else { c.to_string() })
            .collect(),
    )
}

/// One source line as shown: hidden characters escaped except tabs (kept, so
/// the caret lines up in any tab width), with the padding and carets that
/// underline `len` characters from the 1-based column `col`.
fn snippet(line: &str, col: usize, len: usize) -> (String, String, String) {
    let (mut shown, mut pad, mut carets) = (String::new(), String::new(), 0usize);
    let start = col.saturating_sub(1);
    for (i, c) in line.chars().enumerate() {
        let piece = if c == '\t' || !is_hidden(c) { c.to_string() } else { c.escape_default().to_string() };
        let width = piece.chars().count();
        if i < start {
            pad.push_str(&if c == '\t' { "\t".to_owned() } else { " ".repeat(width) });
        } else if i < start + len.max(1) {
            carets += width;
        }
        shown.push_str(&piece);
    }
    // An underline running past the end of the line keeps its length.
    let end = start + len.max(1);
    carets += end.saturating_sub(line.chars().count().max(start));
    (shown, pad, "^".repeat(carets.max(1)))
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Every diagnostic of a config: validation collects them all instead of
/// stopping at the first, so one build shows every problem.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// No diagnostics yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Records an error at `loc`.
    pub fn error(&mut self, loc: &Loc, message: impl Into<String>) {
        self.push(Diagnostic::new(loc.clone(), message));
    }

    /// Records an error at `loc` with a help line.
    pub fn error_help(&mut self, loc: &Loc, message: impl Into<String>, help: impl Into<String>) {
        self.push(Diagnostic::new(loc.clone(), message).with_help(help));
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Withdraws the last diagnostic at `loc` with `message`, when a later
    /// one turns out to report the same mistake better.
    pub(crate) fn retract(&mut self, loc: &Loc, message: &str) {
        let place = |l: &Loc| match l {
            Loc::File { file, line, col, .. } => Some((file.name.clone(), *line, *col)),
            _ => None,
        };
        if let Some(at) = self.items.iter().rposition(|d| d.message == message && place(&d.loc) == place(loc))
        {
            self.items.remove(at);
        }
    }

    /// How many diagnostics there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The diagnostics, in the order they were found (or, once
    /// [`Diagnostics::sort_by_place`] ran, in source order).
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Puts the diagnostics in source order: by file, line and column, so a
    /// reader goes down the config once. Diagnostics of the same place, and
    /// those of an inline definition (whose token spans have no order here)
    /// or of no place, keep the order they were found in, after the files'.
    pub fn sort_by_place(&mut self) {
        self.items.sort_by_cached_key(|d| match &d.loc {
            Loc::File { file, line, col, .. } => (0, file.name.clone(), *line, *col),
            Loc::Tokens(_) => (1, String::new(), 0, 0),
            Loc::Unknown => (2, String::new(), 0, 0),
        });
    }

    /// Appends all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Appends all of `other`, each with `note` added; a problem already
    /// reported (the same place, message and help, such as an error in the base
    /// pipeline that every matrix row inherits) only gains the note.
    pub fn extend_noted(&mut self, other: Diagnostics, note: &str) {
        for mut d in other.items {
            let id = d.identity();
            match self.items.iter_mut().find(|known| known.identity() == id) {
                Some(known) => known.notes.push(note.to_owned()),
                None => {
                    d.notes.push(note.to_owned());
                    self.items.push(d);
                }
            }
        }
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(items: I) -> Self {
        Diagnostics { items: items.into_iter().collect() }
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            f.write_str(&d.render())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The candidate closest to `input` by edit distance, if close enough to be a likely typo.
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(input, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `did you mean `x`?` when a candidate is close, otherwise the list of valid values.
pub fn help_for(input: &str, candidates: &[&str]) -> String {
    match suggest(input, candidates.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("expected one of {}", list(candidates)),
    }
}

/// `` `a`, `b` or `c` ``.
pub fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

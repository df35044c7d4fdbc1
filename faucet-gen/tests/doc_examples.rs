//! Every ```` ```yaml ```` block of README.md and docs/*.md is a complete
//! pipeline that `faucet-gen check` accepts, or is marked as a fragment.
//!
//! A fragment (an outline with placeholders, one block shown alone) says so
//! on the line right before its fence, with the reason:
//!
//! ```text
//! <!-- fragment: the outline of a config, with placeholders -->
//! ```
//!
//! A marker without a reason, or one that is not followed by a YAML block,
//! fails the test too, so markers cannot go stale. Blocks are checked
//! offline and outside any crate (only declared schemas are known), as
//! `faucet-gen check` checks a file with no `Cargo.toml` above it.

use std::path::{Path, PathBuf};

use faucet_gen::record_schema::{SchemaContext, context::with_context};

/// The marker's opening, on the line before a fence.
const FRAGMENT: &str = "<!-- fragment";

/// One ```` ```yaml ```` block of a Markdown file.
#[derive(Debug, PartialEq)]
struct Block {
    /// The 1-based line of the opening fence.
    fence_line: usize,
    /// The block's text, its fence's indentation removed.
    text: String,
    /// The fragment marker's reason, when the block is marked.
    fragment: Option<String>,
}

/// The YAML blocks of `markdown`, or the mistakes in its fragment markers.
fn yaml_blocks(markdown: &str) -> Result<Vec<Block>, Vec<String>> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut blocks = Vec::new();
    let mut mistakes = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with(FRAGMENT) {
            let next = lines.get(i + 1).map(|l| l.trim());
            if next != Some("```yaml") {
                mistakes
                    .push(format!("line {}: a fragment marker must be right before a ```yaml fence", i + 1));
            }
            if fragment_reason(trimmed).is_none() {
                mistakes.push(format!(
                    "line {}: a fragment marker says why: `<!-- fragment: what the block shows -->`",
                    i + 1
                ));
            }
        }
        let Some(fence) = trimmed.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let indent = line.len() - trimmed.len();
        let is_yaml = fence.trim() == "yaml";
        let start = i;
        i += 1;
        let mut text = String::new();
        while i < lines.len() && lines[i].trim() != "```" {
            let body = lines[i];
            // The fence's indentation (a block inside a list item) is not the YAML's.
            let cut = body.len() - body.trim_start().len();
            text.push_str(&body[cut.min(indent)..]);
            text.push('\n');
            i += 1;
        }
        i += 1; // the closing fence
        if is_yaml {
            let fragment = start.checked_sub(1).and_then(|p| fragment_reason(lines[p].trim()));
            blocks.push(Block { fence_line: start + 1, text, fragment });
        }
    }
    if mistakes.is_empty() { Ok(blocks) } else { Err(mistakes) }
}

/// The reason of a `<!-- fragment: reason -->` marker, if `line` is one with a reason.
fn fragment_reason(line: &str) -> Option<String> {
    let reason = line.strip_prefix(FRAGMENT)?.strip_prefix(':')?.strip_suffix("-->")?.trim();
    (!reason.is_empty()).then(|| reason.to_owned())
}

/// README.md and docs/*.md, relative to the workspace root.
fn documents() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs.into_iter().map(|p| (p.strip_prefix(&root).unwrap().display().to_string(), p)).collect()
}

#[test]
fn every_yaml_block_in_the_docs_checks_or_is_a_marked_fragment() {
    let mut checked = 0;
    let mut fragments = 0;
    let mut failures = Vec::new();
    for (shown, path) in documents() {
        let markdown = std::fs::read_to_string(&path).unwrap();
        let blocks = match yaml_blocks(&markdown) {
            Ok(blocks) => blocks,
            Err(mistakes) => {
                failures.extend(mistakes.into_iter().map(|m| format!("{shown}: {m}")));
                continue;
            }
        };
        for block in blocks {
            if block.fragment.is_some() {
                fragments += 1;
                continue;
            }
            // Blank lines first, so a diagnostic's line is the Markdown file's.
            let text = format!("{}{}", "\n".repeat(block.fence_line), block.text);
            let context = SchemaContext { offline: true, ..SchemaContext::default() };
            match with_context(context, || faucet_gen::check_yaml(&shown, &text)).0 {
                Ok(_) => checked += 1,
                Err(diags) => failures.push(format!(
                    "{shown}:{}: this ```yaml block does not pass `faucet-gen check` (fix it, or mark it \
                     `<!-- fragment: why -->` if it is not meant to be a whole pipeline):\n{diags}",
                    block.fence_line
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The docs hold complete examples, and the scan found them.
    assert!(checked >= 5, "only {checked} complete YAML examples found ({fragments} fragments)");
}

#[test]
fn blocks_are_found_with_their_lines_markers_and_indentation() {
    let md = "text\n\n```yaml\na: 1\n```\n<!-- fragment: an outline -->\n```yaml\nb: 2\n```\n- item\n\n  ```yaml\n  c:\n    d: 3\n  ```\n```sh\nx: 1\n```\n";
    let blocks = yaml_blocks(md).unwrap();
    assert_eq!(
        blocks,
        [
            Block { fence_line: 3, text: "a: 1\n".into(), fragment: None },
            Block { fence_line: 7, text: "b: 2\n".into(), fragment: Some("an outline".into()) },
            Block { fence_line: 12, text: "c:\n  d: 3\n".into(), fragment: None },
        ]
    );
}

#[test]
fn a_marker_needs_a_reason_and_a_yaml_block() {
    let no_reason = "<!-- fragment -->\n```yaml\na: 1\n```\n";
    assert_eq!(yaml_blocks(no_reason).unwrap_err().len(), 1);
    let dangling = "<!-- fragment: x -->\n\n```yaml\na: 1\n```\n";
    assert_eq!(yaml_blocks(dangling).unwrap_err().len(), 1);
    let on_rust = "<!-- fragment: x -->\n```rust\nfn f() {}\n```\n";
    assert!(yaml_blocks(on_rust).is_err());
}

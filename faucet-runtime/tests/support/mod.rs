//! Helpers shared by the test files that need a server `.ci/run` starts.

use std::io::Write;

/// The server URL in the environment variable `var`, or `None` after saying,
/// visibly, that the calling test is skipped and why: `cargo test` shows the
/// `SKIPPED` line even when the test passes (libtest captures `eprintln!`, not
/// direct writes to stderr), so a skip never passes for a run.
pub fn server(var: &str, reason: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ => {
            let thread = std::thread::current();
            let test = thread.name().unwrap_or("a test");
            let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {var} is unset ({reason})");
            None
        }
    }
}

//! The `${…}` forms of faucet-stream's grammar, classified once: those faucet
//! reads at run time, those it does not support yet, and the messages for
//! everything else.
//!
//! A body with a `:` is a kind and its argument (`${env:VAR}`); one without is
//! a dotted name (`${users.id}`, `${now.date}`), as in faucet-stream, which
//! checks the `:` first. `$${` is the escape for a literal `${`; the scanners
//! that call [`classify`] skip it.

use crate::diag::{list, suggest};
use crate::text::Now;

/// A `${…}` reference faucet reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reference<'a> {
    /// `${env:VAR}` or `${secret:VAR}` (its alias): an environment variable.
    Env(&'a str),
    /// `${file:PATH}`: a file's contents, read at run time.
    File(&'a str),
    /// `${now.…}`: the run's clock.
    Now(Now),
    /// `${name…}`: a matrix row's record (`${users.id}`), or, where no row
    /// is meant, text taken as written (a regex group, `${1}`).
    Row(&'a str),
}

/// An invalid or unsupported reference: the message and the help line.
pub(crate) type Problem = (String, String);

/// The kinds written `${kind:…}` that faucet reads.
const KINDS: &[&str] = &["env", "secret", "file"];

/// faucet-stream's secret-manager kinds (its `secrets-*` features).
const SECRET_MANAGERS: &[&str] = &["vault", "aws-sm", "gcp-sm", "azure-kv"];

/// faucet-stream's reserved names of run-time values faucet does not have
/// yet, with what each is.
const RUN_TIME_NAMES: &[(&str, &str)] = &[
    ("sources", "a source template's value"),
    ("sinks", "a sink template's value"),
    ("param", "a typed `params:` value"),
    ("partition", "the partition being run"),
    ("backfill", "the backfill window"),
    ("window", "the run's time window"),
    ("bookmark", "the run's bookmark"),
    ("job_id", "the run's job id"),
    ("tenant", "the tenant being run"),
];

/// The help line for a secret that must be read at run time.
pub(crate) const RUN_TIME_SECRET_HELP: &str =
    "read it at run time with `${env:VAR}`, `${secret:VAR}` (the same) or `${file:PATH}`";

/// What the `${…}` with this body (the text between `${` and `}`) is.
pub(crate) fn classify(body: &str) -> Result<Reference<'_>, Problem> {
    if let Some((kind, arg)) = body.split_once(':') {
        return match kind {
            "env" | "secret" if is_env_name(arg) => Ok(Reference::Env(arg)),
            "env" | "secret" => Err((
                format!("`${{{body}}}` does not name an environment variable"),
                "variable names are letters, digits and `_`, not starting with a digit".into(),
            )),
            "file" => file_path(body, arg).map(Reference::File),
            _ if SECRET_MANAGERS.contains(&kind) => Err((
                format!("`${{{kind}:…}}` (a secret manager reference) is not supported by faucet yet"),
                RUN_TIME_SECRET_HELP.into(),
            )),
            _ if kind.starts_with("now.") => Err((
                format!("`${{{body}}}`: a `${{now.…}}` format cannot hold `:`"),
                "faucet-stream reads the `:` as a reference kind and leaves the text as written; \
                 use `%R` for `%H:%M` and `%T` for `%H:%M:%S`"
                    .into(),
            )),
            _ => {
                let known: Vec<&str> = KINDS.iter().chain(SECRET_MANAGERS).copied().collect();
                let help = match near(kind, &known) {
                    Some(best) => format!("did you mean `${{{best}:…}}`?"),
                    None => "`${env:VAR}`, `${secret:VAR}` and `${file:PATH}` are read at run time; \
                             write `$${` for a literal `${`"
                        .into(),
                };
                Err((format!("unknown reference `${{{body}}}`: `{kind}:` is not a reference kind"), help))
            }
        };
    }
    let (id, path) = body.split_once('.').unwrap_or((body, ""));
    if id == "now" {
        return now(body, path).map(Reference::Now);
    }
    if let Some((_, what)) = RUN_TIME_NAMES.iter().find(|(name, _)| *name == id) {
        return Err((
            format!("`${{{id}.…}}` ({what}) is not supported by faucet yet"),
            "write the value itself, share it with `vars:` and `${vars.name}`, or read it at run time \
             with `${env:VAR}`"
                .into(),
        ));
    }
    Ok(Reference::Row(body))
}

/// The known kind `kind` is likely a typo of: close by spelling (`evn` for
/// `env`, which is too short for the similarity `suggest` uses).
fn near<'k>(kind: &str, known: &[&'k str]) -> Option<&'k str> {
    suggest(kind, known.iter().copied()).or_else(|| {
        known
            .iter()
            .map(|k| (strsim::damerau_levenshtein(kind, k), *k))
            .filter(|(d, k)| *d <= 1 || (*d == 2 && k.len() > 4))
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k)
    })
}

/// The path of `${file:PATH}`: written out, non-empty, without NUL.
fn file_path<'a>(body: &str, path: &'a str) -> Result<&'a str, Problem> {
    if path.trim().is_empty() {
        return Err((format!("`${{{body}}}` names no file"), "write `${file:path/to/file}`".into()));
    }
    if path.contains('\0') || path.contains("${") {
        return Err((
            format!("`${{{body}}}`: the path of a `${{file:…}}` is written out"),
            "it cannot hold NUL or another `${…}` reference".into(),
        ));
    }
    Ok(path)
}

/// The `${now.…}` form `path` names (`body` is the whole reference).
fn now(body: &str, path: &str) -> Result<Now, Problem> {
    if let Some(format) = path.strip_prefix("strftime.") {
        return check_strftime(format).map(|()| Now::Strftime(format.to_owned())).map_err(|why| {
            (
                format!("`${{{body}}}`: {why}"),
                "see chrono's strftime specifiers: `%Y-%m-%d`, `%H%M%S`, `%j`, …".into(),
            )
        });
    }
    Now::named(path).ok_or_else(|| {
        let mut forms: Vec<&str> = Now::NAMES.to_vec();
        forms.push("strftime.<format>");
        let help = match suggest(path, Now::NAMES.iter().copied()) {
            Some(best) => format!("did you mean `${{now.{best}}}`?"),
            None => format!("the forms after `now.` are {}", list(&forms)),
        };
        (format!("unknown clock reference `${{{body}}}`"), help)
    })
}

/// Whether chrono can format a date with `format`, as the run will.
fn check_strftime(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if format.is_empty() {
        return Err("the strftime format is empty".into());
    }
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(format!("`{format}` is not a valid strftime format"));
    }
    // Some specifiers parse but cannot format (`%#z`): try one date.
    let date = chrono::DateTime::from_timestamp(0, 0).map(|d| d.fixed_offset());
    let mut out = String::new();
    match date {
        Some(d)
            if std::fmt::write(&mut out, format_args!("{}", d.format_with_items(items.iter()))).is_ok() =>
        {
            Ok(())
        }
        _ => Err(format!("`{format}` cannot format a date")),
    }
}

/// A valid environment variable name: letters, digits and `_`, not starting with a digit.
pub(crate) fn is_env_name(var: &str) -> bool {
    let mut chars = var.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every `${…}` in `s` not escaped as `$${`: its byte range and its body
/// (`None` for a `${` never closed, which runs to the end).
pub(crate) fn references(s: &str) -> impl Iterator<Item = (std::ops::Range<usize>, Option<&str>)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if bytes[i..].starts_with(b"$${") {
                i += 3;
                continue;
            }
            if bytes[i..].starts_with(b"${") {
                let start = i;
                return Some(match s[start + 2..].find('}') {
                    Some(rel) => {
                        let end = start + 2 + rel;
                        i = end + 1;
                        (start..end + 1, Some(&s[start + 2..end]))
                    }
                    None => {
                        i = bytes.len();
                        (start..bytes.len(), None)
                    }
                });
            }
            i += 1;
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_names() {
        assert_eq!(classify("env:A_1"), Ok(Reference::Env("A_1")));
        assert_eq!(classify("secret:TOKEN"), Ok(Reference::Env("TOKEN")));
        assert_eq!(classify("file:./run/token"), Ok(Reference::File("./run/token")));
        assert_eq!(classify("now.date"), Ok(Reference::Now(Now::Date)));
        assert_eq!(classify("now.iso"), Ok(Reference::Now(Now::DateTime)));
        assert_eq!(classify("now.strftime.%Y/%m"), Ok(Reference::Now(Now::Strftime("%Y/%m".into()))));
        assert_eq!(classify("users.id"), Ok(Reference::Row("users.id")));
        assert_eq!(classify("1"), Ok(Reference::Row("1")));
    }

    #[test]
    fn problems_name_the_form() {
        let (m, h) = classify("evn:X").unwrap_err();
        assert!(m.contains("`evn:` is not a reference kind"), "{m}");
        assert_eq!(h, "did you mean `${env:…}`?");
        let (m, h) = classify("vault:secret/data/app#token").unwrap_err();
        assert!(m.contains("not supported by faucet yet") && m.contains("vault"), "{m}");
        assert!(h.contains("${secret:VAR}") && h.contains("${file:PATH}"), "{h}");
        for kind in SECRET_MANAGERS {
            assert!(classify(&format!("{kind}:x")).unwrap_err().0.contains("not supported"));
        }
        let (m, h) = classify("now.dat").unwrap_err();
        assert!(m.contains("`${now.dat}`"), "{m}");
        assert_eq!(h, "did you mean `${now.date}`?");
        let (_, h) = classify("now.xyzzy").unwrap_err();
        assert!(h.contains("`strftime.<format>`") && h.contains("`unix`"), "{h}");
        assert!(classify("now").is_err());
        assert!(classify("now.strftime.%Q").unwrap_err().0.contains("not a valid strftime"));
        assert!(classify("now.strftime.%#z").unwrap_err().0.contains("cannot format"));
        assert!(classify("now.strftime.%H:%M").unwrap_err().1.contains("%R"));
        assert!(classify("file:").is_err());
        assert!(classify("secret:9x").unwrap_err().0.contains("does not name"));
        assert!(classify("partition.id").unwrap_err().0.contains("not supported by faucet yet"));
        assert!(classify("sources.api.config.host").unwrap_err().0.contains("template"));
    }

    #[test]
    fn references_skip_escapes() {
        let s = "a$${x}${env:A}b${open";
        let found: Vec<_> = references(s).collect();
        assert_eq!(found, vec![(6..14, Some("env:A")), (15..21, None)]);
    }
}

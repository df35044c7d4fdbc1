//! The database schema behind a source or a sink: which table or query it
//! reads or writes, introspected while compiling or read from the `.faucet/`
//! cache ([`super::cache`]).
//!
//! The policy, for the PostgreSQL, MySQL and SQLite connectors:
//! - no schema context (a plain `check_yaml`): nothing is known;
//! - `FAUCET_OFFLINE=true`: the cache only;
//! - otherwise, when the URL is literal or every `${env:VAR}` it reads is set
//!   at build time, connect and introspect, and rewrite the cache file if it
//!   changed; a server that cannot be reached means the cache;
//! - a reachable server that has no such source table, or refuses the
//!   source's query, is a build error at the `table` or `query` value. A sink's
//!   table that does not exist is simply unknown (it may be created at run time).
//!
//! The resolved URL may hold a secret: it is used for the connection only,
//! and masked in every message that quotes the database.

use std::path::PathBuf;

use super::cache::{self, Cached};
use super::context::{self, Introspected, Prepare, SchemaContext};
use super::introspect::{self, Failure, What};
use super::{Database, Origin, TableSchema};
use crate::connectors::{SinkKind, SourceKind};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::ir;
use crate::text::{Text, TextPart};

/// The table or query a source reads, with what is known of it.
pub(crate) fn source_table(source: &ir::Source, diags: &mut Diagnostics) -> Option<(TableSchema, Origin)> {
    use crate::connectors::sql::{Input, sqlite};
    let server = |database, role, url: &Text, input: &Input| {
        let (subject, loc) = match input {
            Input::Query { sql, loc, .. } => (Subject::Query(sql.clone()), loc.clone()),
            Input::Table { schema, name, loc } => (
                Subject::Table { schema: schema.as_ref().map(|s| s.0.clone()), name: name.0.clone() },
                loc.clone(),
            ),
        };
        Request {
            database,
            role,
            url: url.clone(),
            subject,
            loc,
            connector_loc: source.loc.clone(),
            source: true,
            cached: true,
        }
    };
    let request = match &source.kind {
        SourceKind::Postgres(s) => {
            let c = &s.source.0;
            server(Database::Postgres, "`postgres` source", &c.connection_url.0, &c.input)
        }
        SourceKind::MySql(s) => {
            let c = &s.source.0;
            server(Database::MySql, "`mysql` source", &c.connection_url.0, &c.input)
        }
        SourceKind::Sqlite(s) => {
            let s = &s.source.0;
            let (subject, loc) = match &s.input {
                sqlite::Input::Query { sql, loc, .. } => (Subject::Query(sql.clone()), loc.clone()),
                sqlite::Input::Table { name, loc } => {
                    (Subject::Table { schema: None, name: Text::literal(name.clone()) }, loc.clone())
                }
            };
            Request {
                database: Database::Sqlite,
                role: "`sqlite` source",
                url: s.database_url.0.clone(),
                subject,
                loc,
                connector_loc: source.loc.clone(),
                source: true,
                cached: true,
            }
        }
        _ => return None,
    };
    resolve(&request, diags)
}

/// The table a sink writes, when it exists (or its cache file does).
pub(crate) fn sink_table(sink: &ir::Sink, diags: &mut Diagnostics) -> Option<(TableSchema, Origin)> {
    // A table the sink creates is the pipeline's own output: it is checked when
    // it can be read, but not cached (the cache would record a run's artifact).
    let cached = !match &sink.kind {
        SinkKind::Postgres(s) => s.sink.0.write.0.create_table,
        SinkKind::MySql(s) => s.sink.0.write.0.create_table,
        SinkKind::Sqlite(s) => s.sink.0.write.0.create_table,
        _ => return None,
    };
    let table = |database, role, url: &Text, schema: Option<&Text>, name: &Text| Request {
        database,
        role,
        url: url.clone(),
        subject: Subject::Table { schema: schema.cloned(), name: name.clone() },
        loc: sink.loc.clone(),
        connector_loc: sink.loc.clone(),
        source: false,
        cached,
    };
    let request = match &sink.kind {
        SinkKind::Postgres(s) => {
            let c = &s.sink.0;
            table(
                Database::Postgres,
                "`postgres` sink",
                &c.connection_url.0,
                c.schema.as_ref().map(|s| &s.0),
                &c.table_name.0,
            )
        }
        SinkKind::MySql(s) => {
            let c = &s.sink.0;
            table(
                Database::MySql,
                "`mysql` sink",
                &c.connection_url.0,
                c.schema.as_ref().map(|s| &s.0),
                &c.table_name.0,
            )
        }
        SinkKind::Sqlite(s) => table(
            Database::Sqlite,
            "`sqlite` sink",
            &s.sink.0.database_url.0,
            None,
            &Text::literal(s.sink.0.table_name.0.clone()),
        ),
        _ => return None,
    };
    resolve(&request, diags)
}

/// One table or query to resolve.
struct Request {
    database: Database,
    /// The connector, for messages: "`postgres` source".
    role: &'static str,
    /// The connection URL as written (literal text and `${env:…}` parts).
    url: Text,
    subject: Subject,
    /// Where the table or query is named (a sink: its `type`).
    loc: Loc,
    /// Where the connector's `type` is written.
    connector_loc: Loc,
    /// A source (its table must exist) or a sink (its table may be created later).
    source: bool,
    /// Whether the schema is read from and written to the `.faucet/` cache.
    cached: bool,
}

/// A table (names may read `${env:…}`) or a query.
enum Subject {
    Table { schema: Option<Text>, name: Text },
    Query(String),
}

/// A config text with every `${env:…}` substituted from the build's environment.
struct Resolved {
    value: String,
    /// The substituted values: masked in messages.
    secrets: Vec<String>,
}

/// `text` with its `${env:…}` parts read from the build's environment (each
/// recorded in the context); `Err` says why it cannot be known now: a
/// variable that is not set, or a part read only at run time (`${file:…}`,
/// `${now.…}`). A matrix parent's value cannot be known at build time: `Err(None)`.
fn resolve_text(text: &Text, ctx: &SchemaContext) -> Result<Resolved, Option<String>> {
    let mut resolved = Resolved { value: String::new(), secrets: Vec::new() };
    for part in &text.0 {
        match part {
            TextPart::Lit(s) => resolved.value.push_str(s),
            TextPart::Env(var) => {
                ctx.read_env(var);
                match std::env::var(var) {
                    Ok(value) => {
                        resolved.value.push_str(&value);
                        resolved.secrets.push(value);
                    }
                    Err(_) => return Err(Some(format!("`${{env:{var}}}` is not set"))),
                }
            }
            // Read at run time only: never by the build.
            TextPart::File(path) => return Err(Some(format!("`${{file:{path}}}` is read only at run time"))),
            TextPart::Now(now) => {
                return Err(Some(format!("`${{now.{}}}` is known only at run time", now.as_written())));
            }
            TextPart::Shard(value) => {
                return Err(Some(format!("`${{shard.{}}}` is known only at run time", value.as_written())));
            }
            TextPart::Parent { .. } => return Err(None),
        }
    }
    Ok(resolved)
}

fn resolve(request: &Request, diags: &mut Diagnostics) -> Option<(TableSchema, Origin)> {
    context::current(|ctx| resolve_in(ctx?, request, diags))
}

fn resolve_in(
    ctx: &SchemaContext,
    request: &Request,
    diags: &mut Diagnostics,
) -> Option<(TableSchema, Origin)> {
    // The table's names: one that reads an unset `${env:…}` is not known now.
    let (schema, name);
    let what = match &request.subject {
        Subject::Query(sql) => What::Query(sql),
        Subject::Table { schema: written_schema, name: written_name } => {
            schema = match written_schema {
                Some(s) => Some(resolve_text(s, ctx).ok()?.value),
                None => None,
            };
            name = resolve_text(written_name, ctx).ok()?.value;
            What::Table { schema: schema.as_deref(), name: &name }
        }
    };
    let query = match &request.subject {
        Subject::Query(sql) => Some(sql.as_str()),
        Subject::Table { .. } => None,
    };
    let file_name = cache::file_name(request.database, &what);
    let file =
        ctx.manifest_dir.as_ref().filter(|_| request.cached).map(|dir| dir.join(cache::DIR).join(&file_name));
    let origin = |cached: bool| Origin::Table {
        database: request.database,
        name: query.is_none().then(|| what.display()),
        cache: cached.then(|| format!("{}/{file_name}", cache::DIR)),
    };
    let from_cache = |diags: &mut Diagnostics| {
        let file = file.as_ref()?;
        match cache::read(file, request.database, query) {
            Cached::Missing => None,
            Cached::Invalid(why) => {
                ctx.touch(file.clone());
                diags.error_help(
                    &request.loc,
                    format!("cannot use the schema cache `{}/{file_name}`: {why}", cache::DIR),
                    "run `faucet-gen prepare` with the database reachable to rewrite it, or delete it",
                );
                None
            }
            Cached::Found(table) => {
                ctx.touch(file.clone());
                Some((table, origin(true)))
            }
        }
    };
    if ctx.offline && ctx.prepare.is_none() {
        return from_cache(diags);
    }
    let url = match resolve_text(&request.url, ctx) {
        Ok(url) => url,
        Err(unset) => {
            if ctx.prepare.is_some() {
                let why = unset.unwrap_or_else(|| "its URL takes a value from a parent record".to_owned());
                diags.error_help(
                    &request.connector_loc,
                    format!("cannot introspect the {}: {why}", request.role),
                    "`faucet-gen prepare` connects to every database the pipelines read or write; set the variable",
                );
                return None;
            }
            return from_cache(diags);
        }
    };
    match introspect_once(ctx, request.database, &url, &file_name, what) {
        Ok(Some(table)) => {
            let cached =
                file.as_ref().is_some_and(|file| store(ctx, file, &file_name, &table, query, request, diags));
            Some((table, origin(cached)))
        }
        Ok(None) if request.source => {
            let mut d = Diagnostic::new(
                request.loc.clone(),
                format!("{} table `{}` does not exist", request.database.name(), what.display()),
            )
            .with_help("check the table's name and schema, or create the table");
            d.notes.push(introspected_note(request));
            diags.push(d);
            None
        }
        Ok(None) => None,
        Err(Failure::Refused(message)) if request.source => {
            let what = if query.is_some() { "query" } else { "table" };
            let mut d = Diagnostic::new(
                request.loc.clone(),
                format!("the {}'s {what} does not run: {message}", request.role),
            )
            .with_help(format!(
                "fix the {what}; {} refused it when faucet-gen prepared it",
                request.database.name()
            ));
            d.notes.push(introspected_note(request));
            diags.push(d);
            None
        }
        Err(Failure::Refused(message) | Failure::Unreachable(message)) => {
            if ctx.prepare.is_some() {
                diags.error_help(
                    &request.connector_loc,
                    format!("cannot introspect the {}: {message}", request.role),
                    "`faucet-gen prepare` connects to every database the pipelines read or write; start it",
                );
                return None;
            }
            from_cache(diags)
        }
    }
}

/// Introspects `what` unless this validation already did (for another matrix
/// row), or already found the server at `url` unreachable. A failure's
/// message has the URL's secrets masked before it is kept or returned.
fn introspect_once(
    ctx: &SchemaContext,
    database: Database,
    url: &Resolved,
    file_name: &str,
    what: What<'_>,
) -> Result<Option<TableSchema>, Failure> {
    let secrets = secrets_of(url);
    let url = &url.value;
    let server = cache::fnv1a(&format!("{}\n{url}", database.key()));
    let key = cache::fnv1a(&format!("{server:x}\n{file_name}"));
    let known =
        ctx.answers.0.borrow().iter().find(|i| i.key == key || i.key == server).map(|i| i.answer.clone());
    if let Some(answer) = known {
        return answer;
    }
    let answer =
        introspect::introspect(database, url, ctx.manifest_dir.as_deref(), what).map_err(|f| match f {
            Failure::Unreachable(m) => Failure::Unreachable(redact(&m, &secrets)),
            Failure::Refused(m) => Failure::Refused(redact(&m, &secrets)),
        });
    let key = if matches!(answer, Err(Failure::Unreachable(_))) { server } else { key };
    ctx.answers.0.borrow_mut().push(Introspected { key, answer: answer.clone() });
    answer
}

/// The note of an error found by introspecting.
fn introspected_note(request: &Request) -> String {
    format!(
        "faucet-gen connected to the {}'s database while compiling to read its columns (`FAUCET_OFFLINE=true` builds from the `.faucet/` cache instead)",
        request.role
    )
}

/// Keeps `table` in its cache file (in `faucet-gen prepare --check`, compares
/// it with the file instead); returns whether the file holds it. A build that
/// cannot write the file goes on without it.
fn store(
    ctx: &SchemaContext,
    file: &PathBuf,
    file_name: &str,
    table: &TableSchema,
    query: Option<&str>,
    request: &Request,
    diags: &mut Diagnostics,
) -> bool {
    let text = cache::render(table, query);
    let shown = format!("{}/{file_name}", cache::DIR);
    match ctx.prepare {
        Some(Prepare::Check) => {
            ctx.touch(file.clone());
            let problem = match std::fs::read_to_string(file) {
                Ok(old) if old == text => return true,
                Ok(_) => "is stale: the database says otherwise",
                Err(_) => "is missing",
            };
            diags.error_help(
                &request.loc,
                format!("the schema cache `{shown}` of the {} {problem}", request.role),
                "run `faucet-gen prepare` and commit `.faucet/`",
            );
            false
        }
        Some(Prepare::Write) | None => match cache::write(file, &text) {
            Ok(_) => {
                ctx.touch(file.clone());
                true
            }
            Err(e) => {
                if ctx.prepare.is_some() {
                    diags.error(&request.loc, format!("cannot write the schema cache `{shown}`: {e}"));
                }
                false
            }
        },
    }
}

/// What must never appear in a message about the database at `url`: each
/// `${env:…}` value it read, and the URL's password (as written and decoded).
fn secrets_of(url: &Resolved) -> Vec<String> {
    let mut secrets = url.secrets.clone();
    if let Ok(parsed) = url::Url::parse(&url.value)
        && let Some(password) = parsed.password()
    {
        secrets.push(password.to_owned());
        if let Ok(decoded) = percent_decode(password) {
            secrets.push(decoded);
        }
    }
    secrets.retain(|s| !s.is_empty());
    // The longest first, so a secret inside another is masked with it.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

/// `text` with each of `secrets` written `***`.
fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), "***"))
}

/// Percent-decodes a URL component.
fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(Some(hi)), Some(Some(lo))) =
                (bytes.get(i + 1).map(|b| hex(*b)), bytes.get(i + 2).map(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_form_of_the_password() {
        let url = Resolved { value: "postgres://app:p%40ss@db/x".into(), secrets: vec!["p%40ss".into()] };
        let secrets = secrets_of(&url);
        assert_eq!(redact("auth failed for p@ss (p%40ss)", &secrets), "auth failed for *** (***)");
    }
}

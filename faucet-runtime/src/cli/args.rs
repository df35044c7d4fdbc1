//! The generated `main`'s command line: one table, [`FLAGS`], declares every
//! flag once; parsing and the `--help` text both come from it.
//!
//! Flag names and meanings follow faucet-cli's `faucet run` where they apply
//! (`--dry-run`, `--limit`, `--clock`, `--state-path`, `--log-level`,
//! `--log-format`); the subcommands are `state` (show or reset a bookmark) and
//! `dlq replay FILE` (with faucet-cli's `--reason` and `--dry-run`). Every
//! flag with a value is also accepted as `--flag=value`.

use std::path::PathBuf;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::observability::TracingLevel;
use crate::dlq::Reason;

/// How the end-of-run summary is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One readable line per invocation and a totals line, on stderr.
    Text,
    /// One JSON document on stdout.
    Json,
    /// One JSON object per invocation, then a totals object, one per line on stdout.
    Ndjson,
}

/// How progress is shown on stderr while the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Live lines when stderr is a terminal, plain lines otherwise (the default).
    Auto,
    /// Plain lines, even on a terminal.
    Plain,
    /// Nothing until the summary.
    None,
}

/// How log events are rendered on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Readable lines (the default).
    #[default]
    Text,
    /// One JSON object per event, span fields included, for log collectors.
    Json,
}

/// What the program does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Command {
    /// Runs the pipeline (no subcommand).
    #[default]
    Run,
    /// `--help`: prints the usage and exits 0.
    Help,
    /// `state` / `state show`: prints the stored bookmark of each row.
    StateShow,
    /// `state reset [ROW]`: deletes one row's bookmark, after confirmation.
    StateReset {
        /// The row (`row-0` for a pipeline without a matrix); `None`: the only row.
        row: Option<String>,
    },
    /// `dlq replay FILE`: writes the dead letters of FILE through the pipeline's sink.
    DlqReplay {
        /// A JSONL file of DLQ envelopes.
        file: PathBuf,
    },
}

/// The program's parsed arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    /// The subcommand.
    pub command: Command,
    /// `--output`: how the summary is printed.
    pub output: Output,
    /// `--progress`: how progress is shown.
    pub progress: ProgressMode,
    /// `--progress-interval`: seconds between plain progress lines (default 10).
    pub progress_interval: Duration,
    /// `--force-new-lineage`: run even when the state was lost but the sink
    /// holds commit tokens of an earlier run ([`crate::RunOptions::force_new_lineage`]).
    pub force_new_lineage: bool,
    /// `--clock`: the time every `${now.…}` renders ([`crate::RunOptions::clock`]).
    pub clock: Option<Clock>,
    /// `--dry-run`: read and transform, write and persist nothing ([`crate::RunOptions::dry_run`]).
    pub dry_run: bool,
    /// `--limit`: write at most this many records, persist no bookmark ([`crate::RunOptions::limit`]).
    pub limit: Option<u64>,
    /// `--log-level`: overrides the config's `observability.tracing.level`.
    pub log_level: Option<TracingLevel>,
    /// `--log-format`: how log events are rendered.
    pub log_format: LogFormat,
    /// `--state-path`: the directory of a `file` state store ([`crate::RunOptions::state_path`]).
    pub state_path: Option<PathBuf>,
    /// `--yes`: `state reset` without asking.
    pub yes: bool,
    /// `--shard`: run this shard only ([`crate::RunOptions::shard`]).
    pub shard: Option<u32>,
    /// `--reason`: `dlq replay` only the dead letters of this reason.
    pub reason: Option<Reason>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            command: Command::Run,
            output: Output::Text,
            progress: ProgressMode::Auto,
            progress_interval: Duration::from_secs(10),
            force_new_lineage: false,
            clock: None,
            dry_run: false,
            limit: None,
            log_level: None,
            log_format: LogFormat::Text,
            state_path: None,
            yes: false,
            shard: None,
            reason: None,
        }
    }
}

/// Which commands a flag applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    /// Every command.
    All,
    /// A run.
    Run,
    /// A run or `dlq replay`.
    RunOrReplay,
    /// `dlq replay`.
    Replay,
    /// `state reset`.
    Reset,
}

/// One flag: its names, its value, its help line and what it sets.
struct Flag {
    long: &'static str,
    short: Option<&'static str>,
    /// The value's placeholder; `None` for a switch.
    value: Option<&'static str>,
    help: &'static str,
    applies: Applies,
    /// Sets the flag's field from its value (`""` for a switch).
    set: fn(&mut Args, &str) -> Result<(), String>,
}

/// Every flag, once: parsing and `--help` read this table.
const FLAGS: &[Flag] = &[
    Flag {
        long: "--output",
        short: Some("-o"),
        value: Some("text|json|ndjson"),
        help: "the summary: text on stderr (default), or JSON on stdout",
        applies: Applies::All,
        set: |a, v| {
            a.output = match v {
                "text" => Output::Text,
                "json" => Output::Json,
                "ndjson" => Output::Ndjson,
                other => return Err(format!("unknown output `{other}`: use text, json or ndjson")),
            };
            Ok(())
        },
    },
    Flag {
        long: "--progress",
        short: None,
        value: Some("auto|plain|none"),
        help: "progress on stderr: live on a terminal, else plain lines (auto, the default)",
        applies: Applies::Run,
        set: |a, v| {
            a.progress = match v {
                "auto" => ProgressMode::Auto,
                "plain" => ProgressMode::Plain,
                "none" => ProgressMode::None,
                other => return Err(format!("unknown progress `{other}`: use auto, plain or none")),
            };
            Ok(())
        },
    },
    Flag {
        long: "--progress-interval",
        short: None,
        value: Some("SECONDS"),
        help: "seconds between plain progress lines (default 10)",
        applies: Applies::Run,
        set: |a, v| match v.parse::<u64>() {
            Ok(secs) if secs > 0 => {
                a.progress_interval = Duration::from_secs(secs);
                Ok(())
            }
            _ => Err(format!("--progress-interval: `{v}` is not a positive number of seconds")),
        },
    },
    Flag {
        long: "--dry-run",
        short: None,
        value: None,
        help: "read and transform, but write nothing and persist nothing (no sink, DLQ or bookmark writes)",
        applies: Applies::RunOrReplay,
        set: |a, _| {
            a.dry_run = true;
            Ok(())
        },
    },
    Flag {
        long: "--limit",
        short: None,
        value: Some("N"),
        help: "stop after writing N records; the bookmark is not moved",
        applies: Applies::Run,
        set: |a, v| match v.parse::<u64>() {
            Ok(n) if n > 0 => {
                a.limit = Some(n);
                Ok(())
            }
            _ => Err(format!("--limit: `{v}` is not a positive number of records")),
        },
    },
    Flag {
        long: "--clock",
        short: None,
        value: Some("RFC3339|DATE"),
        help: "the time every ${now.…} renders (default: when the run starts, UTC)",
        applies: Applies::Run,
        set: |a, v| {
            a.clock = Some(Clock::parse(v).map_err(|e| format!("--clock: {e}"))?);
            Ok(())
        },
    },
    Flag {
        long: "--force-new-lineage",
        short: None,
        value: None,
        help: "run although the state was lost and the sink holds an earlier run's commit tokens",
        applies: Applies::Run,
        set: |a, _| {
            a.force_new_lineage = true;
            Ok(())
        },
    },
    Flag {
        long: "--shard",
        short: None,
        value: Some("I"),
        help: "run shard I only, of a pipeline with `shard: {count}` (default: JOB_COMPLETION_INDEX, else all)",
        applies: Applies::Run,
        set: |a, v| match v.parse::<u32>() {
            Ok(i) => {
                a.shard = Some(i);
                Ok(())
            }
            _ => Err(format!("--shard: `{v}` is not a shard index (0, 1, 2, …)")),
        },
    },
    Flag {
        long: "--state-path",
        short: None,
        value: Some("DIR"),
        help: "keep a `file` state store's bookmarks in DIR (other stores ignore it, with a warning)",
        applies: Applies::All,
        set: |a, v| {
            if v.is_empty() {
                return Err("--state-path: the directory is empty".to_owned());
            }
            a.state_path = Some(PathBuf::from(v));
            Ok(())
        },
    },
    Flag {
        long: "--log-level",
        short: None,
        value: Some("trace|debug|info|warn|error"),
        help: "the most verbose log events shown (default: the config's tracing.level, else info)",
        applies: Applies::All,
        set: |a, v| {
            a.log_level = Some(match v {
                "trace" => TracingLevel::Trace,
                "debug" => TracingLevel::Debug,
                "info" => TracingLevel::Info,
                "warn" => TracingLevel::Warn,
                "error" => TracingLevel::Error,
                other => {
                    return Err(format!(
                        "unknown log level `{other}`: use trace, debug, info, warn or error"
                    ));
                }
            });
            Ok(())
        },
    },
    Flag {
        long: "--log-format",
        short: None,
        value: Some("text|json"),
        help: "log events as text lines (default) or one JSON object per line",
        applies: Applies::All,
        set: |a, v| {
            a.log_format = match v {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => return Err(format!("unknown log format `{other}`: use text or json")),
            };
            Ok(())
        },
    },
    Flag {
        long: "--reason",
        short: None,
        value: Some("partial|dlq_all|contract"),
        help: "dlq replay: only the dead letters of this reason",
        applies: Applies::Replay,
        set: |a, v| match Reason::parse(v) {
            Some(reason) => match reason.not_replayable() {
                Some(why) => Err(why),
                None => {
                    a.reason = Some(reason);
                    Ok(())
                }
            },
            None => Err(format!("unknown --reason `{v}`: use partial, dlq_all or contract")),
        },
    },
    Flag {
        long: "--yes",
        short: Some("-y"),
        value: None,
        help: "state reset: do not ask for confirmation",
        applies: Applies::Reset,
        set: |a, _| {
            a.yes = true;
            Ok(())
        },
    },
];

/// The subcommands, for the usage text.
const COMMANDS: &[(&str, &str)] = &[
    ("", "run the pipeline"),
    ("state [show]", "print each row's stored bookmark"),
    ("state reset [ROW] [--yes]", "delete ROW's bookmark (the next run starts over), after confirmation"),
    ("dlq replay FILE", "write FILE's dead letters (JSONL envelopes) through the pipeline's sink"),
];

/// The `--help` text of `program`, from [`COMMANDS`] and [`FLAGS`].
pub fn usage(program: &str) -> String {
    let mut text = String::from("usage:\n");
    for (command, help) in COMMANDS {
        let call = if command.is_empty() { "[FLAGS]".to_owned() } else { format!("{command} [FLAGS]") };
        text.push_str(&format!("  {program} {call:<34} {help}\n"));
    }
    text.push_str("\nflags:\n");
    for flag in FLAGS {
        let names = match flag.short {
            Some(short) => format!("{short}, {}", flag.long),
            None => format!("    {}", flag.long),
        };
        let call = match flag.value {
            Some(value) => format!("{names} {value}"),
            None => names,
        };
        text.push_str(&format!("  {call:<44} {}\n", flag.help));
    }
    text.push_str(&format!("  {:<44} {}\n", "-h, --help", "print this help"));
    text
}

/// Parses the program's arguments (without the program's name): an optional
/// subcommand with its operands, then flags from [`FLAGS`] in any order.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut words: Vec<String> = Vec::new();
    let mut seen: Vec<&Flag> = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if matches!(arg.as_str(), "-h" | "--help") {
            parsed.command = Command::Help;
            return Ok(parsed);
        }
        if !arg.starts_with('-') {
            words.push(arg);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let Some(flag) = FLAGS.iter().find(|f| f.long == name || f.short == Some(name)) else {
            return Err(format!("unexpected argument `{arg}` (see --help)"));
        };
        let value = match (flag.value, inline) {
            (None, None) => String::new(),
            (None, Some(_)) => return Err(format!("`{}` takes no value", flag.long)),
            (Some(_), Some(value)) => value,
            (Some(placeholder), None) => {
                args.next().ok_or_else(|| format!("`{arg}` needs a value: {} {placeholder}", flag.long))?
            }
        };
        (flag.set)(&mut parsed, &value)?;
        seen.push(flag);
    }
    parsed.command = command(&words)?;
    for flag in seen {
        let replay = matches!(parsed.command, Command::DlqReplay { .. });
        let fits = match flag.applies {
            Applies::All => true,
            Applies::Run => parsed.command == Command::Run,
            Applies::RunOrReplay => parsed.command == Command::Run || replay,
            Applies::Replay => replay,
            Applies::Reset => matches!(parsed.command, Command::StateReset { .. }),
        };
        if !fits {
            let what = match flag.applies {
                Applies::Reset => "`state reset`",
                Applies::Replay => "`dlq replay`",
                Applies::RunOrReplay => "a run or `dlq replay`",
                _ => "a run",
            };
            return Err(format!("`{}` applies to {what} only", flag.long));
        }
    }
    Ok(parsed)
}

/// The subcommand the positional words name.
fn command(words: &[String]) -> Result<Command, String> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] => Ok(Command::Run),
        ["state"] | ["state", "show"] => Ok(Command::StateShow),
        ["state", "reset"] => Ok(Command::StateReset { row: None }),
        ["state", "reset", row] => Ok(Command::StateReset { row: Some((*row).to_owned()) }),
        ["dlq", "replay", file] => Ok(Command::DlqReplay { file: PathBuf::from(file) }),
        ["dlq", "replay"] => Err("`dlq replay` needs the file of dead letters: dlq replay FILE".to_owned()),
        ["state", other, ..] => Err(format!("unknown `state` command `{other}`: use show or reset")),
        ["dlq", ..] => Err("unknown `dlq` command: use dlq replay FILE".to_owned()),
        [first, ..] => Err(format!("unexpected argument `{first}` (see --help)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Args, String> {
        parse_args(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags() {
        let output = |a: &[&str]| args(a).map(|a| a.output);
        assert_eq!(args(&[]), Ok(Args::default()));
        assert_eq!(output(&["--output", "json"]), Ok(Output::Json));
        assert_eq!(output(&["-o", "json"]), Ok(Output::Json));
        assert_eq!(output(&["--output=ndjson"]), Ok(Output::Ndjson));
        assert_eq!(
            args(&["--progress=plain", "--progress-interval", "2"]),
            Ok(Args {
                progress: ProgressMode::Plain,
                progress_interval: Duration::from_secs(2),
                ..Args::default()
            })
        );
        assert_eq!(args(&["--progress", "none"]).unwrap().progress, ProgressMode::None);
        assert!(args(&["--force-new-lineage"]).unwrap().force_new_lineage);
        assert!(args(&["--progress", "loud"]).unwrap_err().contains("unknown progress `loud`"));
        assert!(args(&["--progress-interval=0"]).unwrap_err().contains("not a positive number"));
        assert!(args(&["--output", "yaml"]).unwrap_err().contains("unknown output `yaml`"));
        assert!(args(&["--output"]).unwrap_err().contains("needs a value"));
        assert!(args(&["--dry-run=yes"]).unwrap_err().contains("takes no value"));
        assert!(args(&["run"]).unwrap_err().contains("unexpected argument `run`"));
        assert!(args(&["--verbose"]).unwrap_err().contains("unexpected argument `--verbose`"));
        let clock = args(&["--clock", "2026-01-31T12:00:00Z"]).unwrap().clock.unwrap();
        assert_eq!(clock.to_string(), "2026-01-31T12:00:00+00:00");
        assert!(
            args(&["--clock", "soon"]).unwrap_err().starts_with("--clock: `soon` is not an RFC 3339 time")
        );
        let a = args(&["--dry-run", "--limit=5", "--log-level", "debug", "--log-format", "json"]).unwrap();
        assert!(a.dry_run);
        assert_eq!(a.limit, Some(5));
        assert_eq!(a.log_level, Some(TracingLevel::Debug));
        assert_eq!(a.log_format, LogFormat::Json);
        assert!(args(&["--limit", "0"]).unwrap_err().contains("not a positive number of records"));
        assert!(args(&["--log-level", "loud"]).unwrap_err().contains("unknown log level `loud`"));
        assert!(args(&["--log-format", "xml"]).unwrap_err().contains("unknown log format `xml`"));
        assert_eq!(args(&["--state-path", "/tmp/s"]).unwrap().state_path, Some(PathBuf::from("/tmp/s")));
        assert_eq!(args(&["--shard", "3"]).unwrap().shard, Some(3));
        assert!(args(&["--shard", "-1"]).unwrap_err().contains("not a shard index"));
    }

    #[test]
    fn commands() {
        let command = |a: &[&str]| args(a).map(|a| a.command);
        assert_eq!(command(&["--help"]), Ok(Command::Help));
        assert_eq!(command(&["--output", "json", "-h"]), Ok(Command::Help));
        assert_eq!(command(&["state"]), Ok(Command::StateShow));
        assert_eq!(command(&["state", "show", "--state-path", "d"]), Ok(Command::StateShow));
        assert_eq!(command(&["state", "reset"]), Ok(Command::StateReset { row: None }));
        let reset = args(&["state", "reset", "row-0", "--yes"]).unwrap();
        assert_eq!(reset.command, Command::StateReset { row: Some("row-0".into()) });
        assert!(reset.yes);
        assert_eq!(
            command(&["dlq", "replay", "dead.jsonl"]),
            Ok(Command::DlqReplay { file: PathBuf::from("dead.jsonl") })
        );
        assert!(args(&["dlq", "replay"]).unwrap_err().contains("needs the file"));
        assert!(args(&["state", "wipe"]).unwrap_err().contains("unknown `state` command `wipe`"));
        assert!(args(&["--yes"]).unwrap_err().contains("`--yes` applies to `state reset` only"));
        assert!(
            args(&["state", "--dry-run"])
                .unwrap_err()
                .contains("`--dry-run` applies to a run or `dlq replay` only")
        );
        let replay = args(&["dlq", "replay", "f", "--dry-run", "--reason", "dlq_all"]).unwrap();
        assert!(replay.dry_run);
        assert_eq!(replay.reason, Some(Reason::DlqAll));
        assert!(
            args(&["--reason", "partial"]).unwrap_err().contains("`--reason` applies to `dlq replay` only")
        );
        let transform = args(&["dlq", "replay", "f", "--reason", "transform"]).unwrap_err();
        assert!(transform.contains("hold the source's input"), "{transform}");
        assert!(
            args(&["dlq", "replay", "f", "--reason=sink"]).unwrap_err().contains("unknown --reason `sink`")
        );
        assert!(args(&["dlq", "replay", "f", "--limit", "3"]).unwrap_err().contains("applies to a run only"));
    }

    #[test]
    fn usage_lists_every_flag_once() {
        let text = usage("orders");
        for flag in FLAGS {
            assert_eq!(text.matches(&format!("{} ", flag.long)).count(), 1, "{}\n{text}", flag.long);
        }
        assert!(text.contains("  orders dlq replay FILE [FLAGS] "), "{text}");
    }
}

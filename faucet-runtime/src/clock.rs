//! The run's clock, which `${now.…}` references render.
//!
//! A run reads the clock once: a generated `run_with` fixes it for the whole
//! run ([`scope`]), from [`RunOptions::clock`](crate::RunOptions::clock) (the
//! generated `main`'s `--clock`) or the time the run starts, so every
//! `${now.…}` of a run, in every matrix invocation, agrees. Without a run (a
//! generated `pipeline()` called directly) each reference reads the time when
//! it is resolved. The default clock is UTC; one given keeps its offset, as
//! faucet-stream's `--clock` does.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::error::{FaucetError, Result};

/// A `${now.…}` form: how the clock is written (faucet-stream's forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    /// `${now.date}`: `2026-03-08`.
    Date,
    /// `${now.datetime}` / `${now.iso}`: RFC 3339, `2026-03-08T14:05:09+00:00`.
    DateTime,
    /// `${now.year}`: `2026`.
    Year,
    /// `${now.month}`: `03`.
    Month,
    /// `${now.day}`: `08`.
    Day,
    /// `${now.hour}`: `14`.
    Hour,
    /// `${now.minute}`: `05`.
    Minute,
    /// `${now.second}`: `09`.
    Second,
    /// `${now.unix}`: seconds since the Unix epoch.
    Unix,
    /// `${now.strftime.<format>}`: a chrono strftime format (checked at build time).
    Strftime(&'static str),
}

impl fmt::Display for Now {
    /// The form as written after `now.`: `date`, `strftime.%Y`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Now::Date => f.write_str("date"),
            Now::DateTime => f.write_str("datetime"),
            Now::Year => f.write_str("year"),
            Now::Month => f.write_str("month"),
            Now::Day => f.write_str("day"),
            Now::Hour => f.write_str("hour"),
            Now::Minute => f.write_str("minute"),
            Now::Second => f.write_str("second"),
            Now::Unix => f.write_str("unix"),
            Now::Strftime(format) => write!(f, "strftime.{format}"),
        }
    }
}

/// A point in time with its UTC offset: the clock of one run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Clock(DateTime<FixedOffset>);

impl Clock {
    /// The current time, in UTC.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let utc: DateTime<Utc> =
            DateTime::from_timestamp(since.as_secs() as i64, since.subsec_nanos()).unwrap_or_default();
        Clock(utc.fixed_offset())
    }

    /// Parses an RFC 3339 time (`2026-01-31T00:00:00Z`, offset kept) or a
    /// date (`2026-01-31`, midnight UTC), as faucet-stream's `--clock` does.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(Clock(at));
        }
        if let Some(midnight) =
            NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0))
        {
            return Ok(Clock(midnight.and_utc().fixed_offset()));
        }
        Err(format!("`{text}` is not an RFC 3339 time (2026-01-31T00:00:00Z) or a date (2026-01-31)"))
    }

    /// The clock written as `now` says; a strftime format that cannot
    /// format a date (checked at build time) is a `Config` error, never a panic.
    pub fn render(&self, now: Now) -> Result<String> {
        let format = match now {
            Now::DateTime => return Ok(self.0.to_rfc3339()),
            Now::Unix => return Ok(self.0.timestamp().to_string()),
            Now::Date => "%Y-%m-%d",
            Now::Year => "%Y",
            Now::Month => "%m",
            Now::Day => "%d",
            Now::Hour => "%H",
            Now::Minute => "%M",
            Now::Second => "%S",
            Now::Strftime(format) => format,
        };
        let items: Vec<chrono::format::Item<'_>> = chrono::format::StrftimeItems::new(format).collect();
        let invalid = || FaucetError::config(format!("`${{now.strftime.{format}}}` cannot format a date"));
        if items.iter().any(|i| matches!(i, chrono::format::Item::Error)) {
            return Err(invalid());
        }
        let mut out = String::new();
        fmt::write(&mut out, format_args!("{}", self.0.format_with_items(items.iter())))
            .map_err(|_| invalid())?;
        Ok(out)
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({})", self.0.to_rfc3339())
    }
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339())
    }
}

tokio::task_local! {
    /// The clock of the run in progress on this task.
    static RUN_CLOCK: Clock;
}

/// Runs `run` with its clock fixed: `clock`, or the time now.
pub async fn scope<F: Future>(clock: Option<Clock>, run: F) -> F::Output {
    RUN_CLOCK.scope(clock.unwrap_or_else(Clock::now), run).await
}

/// The clock of the run in progress, or the time now outside a run.
pub fn current() -> Clock {
    RUN_CLOCK.try_with(|c| *c).unwrap_or_else(|_| Clock::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_faucet_stream_forms() {
        let c = Clock::parse("2026-03-08T14:05:09Z").unwrap();
        let r = |now| c.render(now).unwrap();
        assert_eq!(r(Now::Date), "2026-03-08");
        assert_eq!(r(Now::DateTime), "2026-03-08T14:05:09+00:00");
        assert_eq!(r(Now::Year), "2026");
        assert_eq!(r(Now::Month), "03");
        assert_eq!(r(Now::Day), "08");
        assert_eq!(r(Now::Hour), "14");
        assert_eq!(r(Now::Minute), "05");
        assert_eq!(r(Now::Second), "09");
        assert_eq!(r(Now::Unix), "1772978709");
        assert_eq!(r(Now::Strftime("%Y/%m/%d %j")), "2026/03/08 067");
        assert!(c.render(Now::Strftime("%Q")).unwrap_err().message().contains("cannot format"));
        assert!(c.render(Now::Strftime("%#z")).is_err());
    }

    #[test]
    fn parses_rfc3339_keeping_the_offset_and_dates() {
        let east = Clock::parse("2026-01-31T23:30:00-05:00").unwrap();
        assert_eq!(east.render(Now::Date).unwrap(), "2026-01-31");
        assert_eq!(east.render(Now::DateTime).unwrap(), "2026-01-31T23:30:00-05:00");
        let day = Clock::parse("2026-01-31").unwrap();
        assert_eq!(day.render(Now::DateTime).unwrap(), "2026-01-31T00:00:00+00:00");
        assert!(Clock::parse("yesterday").unwrap_err().contains("not an RFC 3339 time"));
        assert!(Clock::parse("2026-13-01").is_err());
    }

    #[tokio::test]
    async fn a_run_reads_one_clock() {
        let pinned = Clock::parse("2030-05-06T07:08:09Z").unwrap();
        let inside = scope(Some(pinned), async {
            let first = current();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            (first, current())
        })
        .await;
        assert_eq!(inside, (pinned, pinned));
        // A run without a given clock fixes the time it starts.
        let (a, b) = scope(None, async {
            let a = current();
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            (a, current())
        })
        .await;
        assert_eq!(a, b);
        assert_ne!(current(), pinned);
    }
}

//! SIGINT and SIGTERM in the generated `main`: the first stops the run at its
//! next page boundary (what was written is flushed and its bookmark
//! persisted), the second exits at once.
//!
//! Kubernetes and systemd stop a program with SIGTERM, a terminal with SIGINT
//! (Ctrl-C): both are handled alike. A cancelled run exits with the shell's
//! code for the signal, 128 + its number (130 for SIGINT, 143 for SIGTERM), so
//! a scheduler never mistakes it for a success. An abort is as safe as a
//! crash: the rerun resumes from the last persisted page.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::CancellationToken;

/// A stop signal the program handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// A service manager's stop.
    Terminate,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 128 + the signal's number, as shells report a process it stopped.
    pub(super) fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// The first signal received, shared with the task that waits for them.
#[derive(Debug, Clone, Default)]
pub(super) struct Received(Arc<AtomicU8>);

impl Received {
    /// The first signal, if one arrived.
    pub(super) fn first(&self) -> Option<Signal> {
        match self.0.load(Ordering::Acquire) {
            1 => Some(Signal::Interrupt),
            2 => Some(Signal::Terminate),
            _ => None,
        }
    }

    fn set(&self, signal: Signal) {
        self.0.store(if signal == Signal::Interrupt { 1 } else { 2 }, Ordering::Release);
    }
}

/// What the handler does on the first signal.
pub(super) struct OnSignal {
    /// Cancelled at once: the run stops at its next page boundary.
    pub cancel: CancellationToken,
    /// Cancelled at once: the progress display stops and clears its lines.
    pub stop_progress: CancellationToken,
    /// Fires once the progress display is gone, so the notice is printed on a clean line.
    pub progress_cleared: CancellationToken,
    /// Cancelled once the notice is printed, so the summary follows it.
    pub noticed: CancellationToken,
}

/// Starts listening for SIGINT and SIGTERM (inside the runtime). The handlers
/// are installed before this returns, so no signal sent after it is missed.
pub(super) fn listen(on: OnSignal) -> std::io::Result<Received> {
    let mut signals = Signals::install()?;
    let received = Received::default();
    let first_seen = received.clone();
    tokio::spawn(async move {
        let Some(first) = signals.next().await else { return };
        first_seen.set(first);
        on.cancel.cancel();
        on.stop_progress.cancel();
        on.progress_cleared.cancelled().await;
        let _ = writeln!(
            std::io::stderr().lock(),
            "received {}: stopping after the current page; send it again to abort",
            first.name()
        );
        on.noticed.cancel();
        let Some(second) = signals.next().await else { return };
        let _ = writeln!(std::io::stderr().lock(), "received {}: aborting", second.name());
        std::process::exit(i32::from(second.exit_code()));
    });
    Ok(received)
}

/// The installed signal streams.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next signal; `None` if the runtime shuts the streams down.
    async fn next(&mut self) -> Option<Signal> {
        tokio::select! {
            got = self.interrupt.recv() => got.map(|()| Signal::Interrupt),
            got = self.terminate.recv() => got.map(|()| Signal::Terminate),
        }
    }
}

/// Elsewhere only Ctrl-C exists.
#[cfg(windows)]
struct Signals(tokio::signal::windows::CtrlC);

#[cfg(windows)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        Ok(Signals(tokio::signal::windows::ctrl_c()?))
    }

    async fn next(&mut self) -> Option<Signal> {
        self.0.recv().await.map(|()| Signal::Interrupt)
    }
}

//! The engine's `tracing` events, forwarded to the host app's logger (Android `Log`,
//! `os_log`, Python `logging`, …) through a callback the host implements.
//!
//! [`set_log_sink`] installs, once per process, a global `tracing` subscriber whose only
//! layer hands each event at or above the chosen level to the current [`LogSink`].
//! Calling it again swaps the sink and the level; [`clear_log_sink`] stops forwarding.
//! The level is also reported to `tracing` as the maximum level, so events below it cost
//! next to nothing.
//!
//! The sink is called on whatever thread logged the event, possibly several at once. A
//! sink that throws (or panics) loses that one line and nothing else; a sink that calls
//! back into the engine does not see the events of that nested call (no recursion).

use crate::error::LifecertError;
use std::cell::Cell;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// Severity of a log line, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something is wrong but the engine carries on.
    Warn,
    /// Milestones (models loaded, session started).
    Info,
    /// Per-frame detail (decisions, spoken instructions).
    Debug,
    /// Everything, including per-stage timing spans.
    Trace,
}

impl LogLevel {
    fn of(level: &Level) -> LogLevel {
        match *level {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            Level::TRACE => LogLevel::Trace,
        }
    }

    fn filter_code(self) -> u8 {
        match self {
            LogLevel::Error => 1,
            LogLevel::Warn => 2,
            LogLevel::Info => 3,
            LogLevel::Debug => 4,
            LogLevel::Trace => 5,
        }
    }
}

/// Where the engine's log lines go. Implemented by the host app; called from any thread.
#[uniffi::export(callback_interface)]
pub trait LogSink: Send + Sync {
    /// One log line: its level, its target (the Rust module that logged it, e.g.
    /// `lifecert_core::capture::guidance`) and its text (the spans it happened in, the message and
    /// its fields, e.g. `ffi_push_frame: guidance speaks instruction="come_closer"`).
    ///
    /// Whatever the implementation throws (declared or not) reaches Rust as an error and
    /// only that line is lost: the `Result` is what lets uniffi report a foreign exception
    /// as an error instead of a panic.
    fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), LifecertError>;
}

/// The minimum level forwarded, as a code: 0 = nothing, 1 = errors … 5 = trace.
static MIN_LEVEL: AtomicU8 = AtomicU8::new(0);
/// The current sink.
static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);
/// Whether installing the global subscriber succeeded (done once per process).
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

thread_local! {
    /// Set while this thread is inside the sink, so that logging from the sink (or from an
    /// engine call it makes) is not forwarded back into it.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

fn current_filter() -> LevelFilter {
    match MIN_LEVEL.load(Ordering::Relaxed) {
        0 => LevelFilter::OFF,
        1 => LevelFilter::ERROR,
        2 => LevelFilter::WARN,
        3 => LevelFilter::INFO,
        4 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Sends every log line of the engine at `min_level` or more severe to `sink`, replacing
/// any sink set before.
///
/// Errors: [`LifecertError::Internal`] when another `tracing` subscriber was already
/// installed globally in this process (by another Rust library), which the engine cannot
/// replace.
#[uniffi::export]
pub fn set_log_sink(sink: Box<dyn LogSink>, min_level: LogLevel) -> Result<(), LifecertError> {
    let installed = INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(ForwardLayer);
        tracing::subscriber::set_global_default(subscriber).map_err(|e| e.to_string())
    });
    if let Err(e) = installed {
        return Err(LifecertError::internal(format!(
            "cannot forward logs: another tracing subscriber is installed ({e})"
        )));
    }
    *SINK.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::from(sink));
    MIN_LEVEL.store(min_level.filter_code(), Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
    Ok(())
}

/// Stops forwarding log lines and releases the sink.
#[uniffi::export]
pub fn clear_log_sink() {
    MIN_LEVEL.store(0, Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
    SINK.write().unwrap_or_else(PoisonError::into_inner).take();
}

/// The `tracing` layer that formats events and hands them to the current sink.
struct ForwardLayer;

impl<S> Layer<S> for ForwardLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if *metadata.level() <= current_filter() {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        *metadata.level() <= current_filter()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(current_filter())
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if IN_SINK.with(Cell::get) {
            return;
        }
        let Some(sink) = SINK
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(Arc::clone)
        else {
            return;
        };
        let metadata = event.metadata();
        let mut text = String::new();
        if let Some(scope) = ctx.event_scope(event) {
            for (i, span) in scope.from_root().enumerate() {
                text.push_str(if i == 0 { "" } else { ">" });
                text.push_str(span.name());
            }
            if !text.is_empty() {
                text.push_str(": ");
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        text.push_str(&fields.message);
        if fields.message.is_empty() {
            text.push_str(fields.rest.trim_start());
        } else {
            text.push_str(&fields.rest);
        }
        IN_SINK.with(|f| f.set(true));
        // A sink that throws returns an error; one that panics (a Rust sink) is caught. Either
        // way that one line is dropped and the engine carries on.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            sink.log(
                LogLevel::of(metadata.level()),
                metadata.target().to_owned(),
                text,
            )
        }));
        IN_SINK.with(|f| f.set(false));
    }
}

/// An event's `message` and its other fields as ` name=value`.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

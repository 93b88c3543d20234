//! The log sink across the FFI boundary, tested from Rust: events reach the sink from many
//! threads at once, the level filter holds, and a sink that fails (what a throwing foreign
//! callback becomes), panics or logs itself cannot hurt the engine.
//!
//! The sink is process-global, so the tests of this file take turns (`SERIAL`).

use lifecert_ffi::{
    clear_log_sink, set_log_sink, validate_id_number, LifecertError, LogLevel, LogSink,
};
use std::sync::{Arc, Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<(LogLevel, String, String)>>>);

impl Collect {
    fn lines(&self, target: &str) -> Vec<(LogLevel, String)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, t, _)| t == target)
            .map(|(l, _, m)| (*l, m.clone()))
            .collect()
    }
}

impl LogSink for Collect {
    fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), LifecertError> {
        self.0.lock().unwrap().push((level, target, message));
        Ok(())
    }
}

#[test]
fn events_from_many_threads_all_arrive_once() {
    let _serial = serial();
    let sink = Collect::default();
    set_log_sink(Box::new(sink.clone()), LogLevel::Debug).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..200 {
                    let _span = tracing::info_span!("worker").entered();
                    tracing::debug!(target: "ffi_test::threads", thread = t, i, "event");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    clear_log_sink();
    let lines = sink.lines("ffi_test::threads");
    assert_eq!(lines.len(), 8 * 200);
    let mut seen: Vec<&str> = lines.iter().map(|(_, m)| m.as_str()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen.len(),
        8 * 200,
        "every line is distinct and arrives once"
    );
    assert!(lines.iter().all(|(l, _)| *l == LogLevel::Debug));
    assert!(
        seen.contains(&"worker: event thread=3 i=17"),
        "{:?}",
        &seen[..3]
    );
}

#[test]
fn the_level_filter_holds_and_can_change() {
    let _serial = serial();
    let sink = Collect::default();
    set_log_sink(Box::new(sink.clone()), LogLevel::Warn).unwrap();
    tracing::error!(target: "ffi_test::levels", "e1");
    tracing::warn!(target: "ffi_test::levels", "w1");
    tracing::info!(target: "ffi_test::levels", "i1");
    tracing::trace!(target: "ffi_test::levels", "t1");
    set_log_sink(Box::new(sink.clone()), LogLevel::Trace).unwrap();
    tracing::trace!(target: "ffi_test::levels", "t2");
    clear_log_sink();
    tracing::error!(target: "ffi_test::levels", "after clear");
    assert_eq!(
        sink.lines("ffi_test::levels"),
        vec![
            (LogLevel::Error, "e1".to_owned()),
            (LogLevel::Warn, "w1".to_owned()),
            (LogLevel::Trace, "t2".to_owned()),
        ]
    );
}

#[test]
fn core_events_are_forwarded_with_their_target() {
    let _serial = serial();
    let sink = Collect::default();
    set_log_sink(Box::new(sink.clone()), LogLevel::Trace).unwrap();
    let checked = validate_id_number("11010519491231002X".into()).unwrap();
    clear_log_sink();
    assert_eq!(checked.birth_year, 1949);
    let lines = sink.lines("lifecert_core::identity::person");
    assert_eq!(
        lines,
        vec![(
            LogLevel::Trace,
            "parsed ID number kind=MainlandResident".to_owned()
        )]
    );
}

/// What a foreign sink that throws looks like from Rust.
struct Failing;

impl LogSink for Failing {
    fn log(&self, _: LogLevel, _: String, _: String) -> Result<(), LifecertError> {
        Err(
            uniffi::UnexpectedUniFFICallbackError::new("RuntimeException: the host's logger threw")
                .into(),
        )
    }
}

/// A Rust sink with a bug.
struct Panicking;

impl LogSink for Panicking {
    fn log(&self, _: LogLevel, _: String, _: String) -> Result<(), LifecertError> {
        panic!("the sink panicked");
    }
}

/// Logs from inside the sink: must not recurse into itself.
struct Reentrant(Collect);

impl LogSink for Reentrant {
    fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), LifecertError> {
        tracing::error!(target: "ffi_test::reentrant", "logged from the sink");
        self.0.log(level, target, message)
    }
}

#[test]
fn a_failing_panicking_or_reentrant_sink_does_not_hurt_the_engine() {
    let _serial = serial();
    for sink in [Box::new(Failing) as Box<dyn LogSink>, Box::new(Panicking)] {
        set_log_sink(sink, LogLevel::Trace).unwrap();
        for _ in 0..3 {
            tracing::error!(target: "ffi_test::failing", "dropped");
        }
        let checked = validate_id_number("11010519491231002X".into()).unwrap();
        assert_eq!(checked.masked, "110***********002X");
    }

    let sink = Collect::default();
    set_log_sink(Box::new(Reentrant(sink.clone())), LogLevel::Info).unwrap();
    tracing::info!(target: "ffi_test::outer", "outer");
    clear_log_sink();
    assert_eq!(
        sink.lines("ffi_test::outer"),
        vec![(LogLevel::Info, "outer".to_owned())]
    );
    assert!(sink.lines("ffi_test::reentrant").is_empty());
}

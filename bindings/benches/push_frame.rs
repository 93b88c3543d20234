//! The Rust side of the FFI-overhead comparison: `push_frame` called directly (no foreign
//! language, no FFI), on the same 512×512 RGB sample frame that `scripts/bindings.sh bench`
//! pushes from Python and Kotlin. Each copied call gets its own copy of the frame, as a
//! foreign call does.
//!
//! - `push_frame_512x512_rgb`: `GuidanceSession::push_frame`.
//! - `certification_push_frame_512x512_rgb`: `CertificationSession::push_frame` (a frame
//!   copied in a `FrameInput`), and `certification_push_frame_bytes_512x512_rgb` the same
//!   frame borrowed (`push_frame_bytes`). The session runs with the recordings
//!   configuration and a template enrolled from the same photo, in its liveness phase (no
//!   voice comes, so every 15 s of session clock it times out; a finished session is
//!   replaced outside the timed calls).
//! - `*_refused_*`: the frame with a 45° rotation, refused right after validation: the Rust
//!   baseline of the "boundary only" numbers.
//! - `lift_frame_input_512x512_rgb`: the Rust half of the boundary itself, reading a
//!   `FrameInput` out of the buffer the foreign side wrote (what the scaffolding does
//!   before `push_frame` runs).

#[path = "../tests/common/mod.rs"]
mod common;

use common::{astronaut, certification_request, engine, enroll, sealed_template, Keystore};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use lifecert_ffi::{
    CertificationSession, ChallengeSource, Engine, FrameInput, FrameLayout, SessionPhase, UniFfiTag,
};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uniffi::{Lift, Lower};

fn layout(frame: &FrameInput) -> FrameLayout {
    FrameLayout {
        width: frame.width,
        height: frame.height,
        format: frame.format,
        row_strides: frame.row_strides.clone(),
        rotation_degrees: frame.rotation_degrees,
        mirrored: frame.mirrored,
    }
}

/// Certification sessions on a template of the sample photo, renewed when one finishes.
struct Certifier {
    keys: Keystore,
    sealed: Vec<u8>,
    session: Arc<CertificationSession>,
    clock: u64,
}

impl Certifier {
    fn new(frame: &FrameInput) -> Self {
        let keys = Keystore::new();
        let sealed = sealed_template(enroll(&keys, &vec![frame.clone(); 8]));
        let session = Self::open(&keys, &sealed);
        Certifier {
            keys,
            sealed,
            session,
            clock: 0,
        }
    }

    fn open(keys: &Keystore, sealed: &[u8]) -> Arc<CertificationSession> {
        engine()
            .certification_session(
                certification_request(sealed.to_vec(), ChallengeSource::Seeded { seed: 1 }),
                keys.certification(),
            )
            .expect("the template opens")
    }

    /// The session for the next push (a new one when the last finished) and its timestamp.
    fn next(&mut self) -> (Arc<CertificationSession>, u64) {
        if self.session.phase() == SessionPhase::Finished {
            self.session = Self::open(&self.keys, &self.sealed);
            self.clock = 0;
        }
        self.clock += 33;
        (self.session.clone(), self.clock)
    }

    /// Total time of `iters` calls of `push`, session renewal left out.
    fn time(&mut self, iters: u64, mut push: impl FnMut(&CertificationSession, u64)) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let (session, t) = self.next();
            let start = Instant::now();
            push(&session, t);
            total += start.elapsed();
        }
        total
    }
}

fn benches(c: &mut Criterion) {
    let frame = astronaut();
    let refused = FrameInput {
        rotation_degrees: 45,
        ..frame.clone()
    };
    let (frame_layout, refused_layout) = (layout(&frame), layout(&refused));
    let guidance_engine = Engine::new().expect("the embedded models load");
    let session = guidance_engine
        .guidance_session("en".into())
        .expect("en is supported");
    let mut clock = 0u64;
    let mut certifier = Certifier::new(&frame);
    let mut group = c.benchmark_group("ffi_facade");
    group.sample_size(30);
    group.bench_function("push_frame_512x512_rgb", |b| {
        b.iter(|| {
            clock += 33;
            black_box(session.push_frame(frame.clone(), clock).expect("one face"))
        })
    });
    group.bench_function("push_frame_refused_512x512_rgb", |b| {
        b.iter(|| {
            clock += 33;
            black_box(session.push_frame(refused.clone(), clock).unwrap_err())
        })
    });
    group.bench_function("certification_push_frame_512x512_rgb", |b| {
        b.iter_custom(|iters| {
            certifier.time(iters, |s, t| {
                let u = s.push_frame(frame.clone(), t).expect("frame taken");
                assert!(u.face.is_some());
                black_box(u);
            })
        })
    });
    group.bench_function("certification_push_frame_bytes_512x512_rgb", |b| {
        b.iter_custom(|iters| {
            certifier.time(iters, |s, t| {
                let u = s
                    .push_frame_bytes(&frame.data, frame_layout.clone(), t)
                    .expect("frame taken");
                assert!(u.face.is_some());
                black_box(u);
            })
        })
    });
    group.bench_function("certification_push_frame_refused_512x512_rgb", |b| {
        b.iter_custom(|iters| {
            certifier.time(iters, |s, t| {
                black_box(s.push_frame(refused.clone(), t).unwrap_err());
            })
        })
    });
    group.bench_function("certification_push_frame_bytes_refused_512x512_rgb", |b| {
        b.iter_custom(|iters| {
            certifier.time(iters, |s, t| {
                black_box(
                    s.push_frame_bytes(&refused.data, refused_layout.clone(), t)
                        .unwrap_err(),
                );
            })
        })
    });
    group.bench_function("lift_frame_input_512x512_rgb", |b| {
        b.iter_batched(
            || <FrameInput as Lower<UniFfiTag>>::lower(frame.clone()),
            |buf| black_box(<FrameInput as Lift<UniFfiTag>>::try_lift(buf).expect("lifts")),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(push_frame, benches);
criterion_main!(push_frame);

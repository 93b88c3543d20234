//! The Rust side of the FFI-overhead comparison: `GuidanceSession::push_frame` called
//! directly (no foreign language, no FFI), on the same 512×512 RGB sample frame that
//! `scripts/bindings.sh bench` pushes from Python and Kotlin. Each call gets its own copy
//! of the frame, as a foreign call does.
//!
//! `push_frame_refused` pushes the frame with a 45° rotation, refused right after
//! validation: the Rust baseline of the "boundary only" numbers. `lift_frame_input` is
//! the Rust half of the boundary itself: reading a `FrameInput` out of the buffer the
//! foreign side wrote (what the scaffolding does before `push_frame` runs).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use lifecert_ffi::{Engine, FrameInput, PixelFormat, UniFfiTag};
use std::hint::black_box;
use std::path::PathBuf;
use uniffi::{Lift, Lower};

fn astronaut() -> FrameInput {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/astronaut.png");
    let image = lifecert_core::image_io::load_image(&path).expect("the sample photo decodes");
    let (width, height) = image.dimensions();
    FrameInput {
        data: image.into_raw(),
        width,
        height,
        format: PixelFormat::Rgb8,
        row_strides: vec![],
        rotation_degrees: 0,
        mirrored: false,
    }
}

fn benches(c: &mut Criterion) {
    let frame = astronaut();
    let refused = FrameInput {
        rotation_degrees: 45,
        ..frame.clone()
    };
    let engine = Engine::new().expect("the embedded models load");
    let session = engine
        .guidance_session("en".into())
        .expect("en is supported");
    let mut clock = 0u64;
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

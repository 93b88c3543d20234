use criterion::{criterion_group, criterion_main, Criterion};
use lifecert_ffi::{FrameInput, PixelFormat, UniFfiTag};
use std::hint::black_box;
use uniffi::{Lift, Lower};

fn benches(c: &mut Criterion) {
    let frame = FrameInput {
        data: vec![7u8; 786432],
        width: 512,
        height: 512,
        format: PixelFormat::Rgb8,
        row_strides: vec![],
        rotation_degrees: 0,
        mirrored: false,
    };
    c.bench_function("lower_then_lift_frame", |b| {
        b.iter(|| {
            let buf = <FrameInput as Lower<UniFfiTag>>::lower(frame.clone());
            black_box(<FrameInput as Lift<UniFfiTag>>::try_lift(buf).unwrap())
        })
    });
    c.bench_function("lower_only", |b| {
        b.iter(|| {
            let buf = <FrameInput as Lower<UniFfiTag>>::lower(frame.clone());
            black_box(buf.destroy_into_vec())
        })
    });
}
criterion_group!(g, benches);
criterion_main!(g);

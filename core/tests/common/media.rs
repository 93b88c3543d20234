//! Decoding test clips with the ffmpeg command-line tools (ffmpeg, ffprobe): 16 kHz mono audio
//! and RGB video frames. The library itself never decodes media; this is test set-up only.

use image::RgbImage;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Whether ffmpeg and ffprobe can be run. When they cannot, records the skip (a failure
/// when `CI` is set) and returns `false`: the caller skips.
pub fn media_tools(test: &str) -> bool {
    lifecert_test_support::media_tools(test)
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The first audio stream of `path`, down-mixed to mono and resampled to 16 kHz by ffmpeg,
/// as f32 in [-1, 1) (`s16 / 32768`).
pub fn audio_16k(path: &Path) -> Vec<f32> {
    let bytes = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "s16le", "-ac", "1", "-ar", "16000", "-"]));
    bytes
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

/// Whether `path` has an audio stream.
pub fn has_audio(path: &Path) -> bool {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a",
            "-show_entries",
            "stream=index",
            "-of",
            "csv=p=0",
        ])
        .arg(path));
    !String::from_utf8_lossy(&out).trim().is_empty()
}

/// Size and frame rate of the first video stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    /// Width (pixels).
    pub width: u32,
    /// Height (pixels).
    pub height: u32,
    /// Frames per second (`r_frame_rate`).
    pub fps: f64,
}

/// Probes the first video stream of `path`.
pub fn video_info(path: &Path) -> VideoInfo {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height,r_frame_rate",
            "-of",
            "csv=p=0",
        ])
        .arg(path));
    let text = String::from_utf8_lossy(&out);
    let fields: Vec<&str> = text.trim().split(',').collect();
    assert_eq!(fields.len(), 3, "ffprobe said {text:?}");
    let (num, den) = fields[2].split_once('/').unwrap_or((fields[2], "1"));
    let fps = num.parse::<f64>().unwrap() / den.parse::<f64>().unwrap();
    assert!(fps > 0.0 && fps.is_finite(), "frame rate {fps}");
    VideoInfo {
        width: fields[0].parse().unwrap(),
        height: fields[1].parse().unwrap(),
        fps,
    }
}

/// Decodes the video frames of `path` one at a time (RGB8, the stream's own size) and calls
/// `f(index, frame)` for each, without holding more than one frame in memory. Frame `k` is
/// presented at `k / fps`. Returns the number of frames and the stream information.
pub fn for_each_frame(path: &Path, mut f: impl FnMut(usize, RgbImage)) -> (usize, VideoInfo) {
    let info = video_info(path);
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run ffmpeg: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let size = info.width as usize * info.height as usize * 3;
    let mut count = 0;
    loop {
        let mut buf = vec![0u8; size];
        let mut got = 0;
        while got < size {
            match stdout.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("reading ffmpeg output: {e}"),
            }
        }
        if got == 0 {
            break;
        }
        assert_eq!(got, size, "truncated frame {count} of {}", path.display());
        let frame = RgbImage::from_raw(info.width, info.height, buf).unwrap();
        f(count, frame);
        count += 1;
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ffmpeg failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    (count, info)
}

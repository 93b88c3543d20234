//! Decoding recordings (video and audio) with the system's `ffmpeg` and `ffprobe`, run as
//! child processes; the engine itself never decodes media.
//!
//! * [`probe`]: size, frame rate, duration, audio presence and rotation of a recording.
//! * [`frames`]: the video frames one at a time ([`Frames`], an iterator of
//!   [`VideoFrame`]s), streamed from `ffmpeg -f rawvideo -pix_fmt rgb24`: only one frame is
//!   held in memory at a time.
//! * [`audio_16k_mono`]: the first audio stream as 16 kHz mono signed 16-bit samples, on the
//!   same time line as the frames.
//! * [`still_clip`]: a still picture turned into a clip (the same picture at a constant rate),
//!   e.g. to show what the liveness checks make of a photo held up to the camera.
//!
//! # Time line
//! Frame `k` is at `k / fps` seconds, where `fps` is the stream's average frame rate
//! ([`MediaInfo::fps`]): frames are decoded at that constant rate, so a variable-frame-rate
//! phone recording gets a frame repeated or dropped where its rate wandered and frame `k`
//! always shows the picture at `k / fps`. Audio sample `n` is at `n / 16 000` seconds on the
//! same time line (frame 0 at 0 s): when the audio stream starts after the first video frame,
//! silence is inserted in front; when it starts before, the earlier samples are dropped.
//!
//! # Orientation
//! Phone recordings carry a display rotation; ffmpeg applies it while decoding, so frames
//! come out upright and [`MediaInfo::width`]/[`MediaInfo::height`] are the upright size.
//!
//! # Limits
//! Video larger than [`MAX_VIDEO_SIDE`] pixels on a side is refused ([`MediaError::TooLarge`]);
//! audio longer than [`MAX_AUDIO_SECONDS`] is refused ([`MediaError::TooLong`]).
//! Non-square pixels (anamorphic video) are not corrected. A container duration that is
//! negative or not a number is treated as unknown.
//!
//! # What ffmpeg may open
//! ffmpeg reads far more than recordings: a playlist (`.m3u8`, also when renamed `.mp4`), a
//! concat list or an image sequence makes it open other files named inside. Every ffprobe
//! and ffmpeg run here is restricted to the `file` protocol and to the demuxers of
//! [`ALLOWED_DEMUXERS`] (`-protocol_whitelist`, `-format_whitelist`), and the decoding run
//! is pinned (`-f`) to the demuxer the probe found. Anything else is
//! [`MediaError::NotMedia`].

use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;
use thiserror::Error;

/// Largest accepted width or height of a video (after rotation), pixels.
pub const MAX_VIDEO_SIDE: u32 = 4096;
/// Sample rate of [`audio_16k_mono`], Hz.
pub const AUDIO_SAMPLE_RATE: u32 = 16_000;
/// Longest audio [`audio_16k_mono`] returns, seconds (10 minutes: a certification takes
/// well under one).
pub const MAX_AUDIO_SECONDS: u32 = 600;
/// Longest [`still_clip`], seconds.
pub const MAX_STILL_CLIP_SECONDS: f64 = 600.0;
/// Highest frame rate accepted from a file or for a [`still_clip`], frames per second.
pub const MAX_FPS: f64 = 1000.0;

/// The demuxers ffmpeg may use (its `-format_whitelist`): the containers of phone and camera
/// recordings (MP4/MOV/3GP/M4A, Matroska/WebM, MPEG program and transport streams, AVI,
/// FLV), audio files (WAV, MP3, FLAC, Ogg, AAC, AMR, CAF) and single still pictures (PNG,
/// JPEG, WebP). Playlists (HLS, DASH), concat lists, image sequences, text and devices are
/// not on it.
pub const ALLOWED_DEMUXERS: &str = "mov,matroska,mpeg,mpegts,avi,flv,wav,mp3,flac,ogg,aac,amr,caf,\
                                    png_pipe,jpeg_pipe,webp_pipe";
/// The protocols ffmpeg may use (`-protocol_whitelist`): local files only.
const ALLOWED_PROTOCOLS: &str = "file,pipe";

/// Most bytes of ffmpeg's error output kept for an error message.
const STDERR_TAIL: usize = 4096;

/// Why a recording could not be probed or decoded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MediaError {
    /// `ffmpeg` or `ffprobe` is not installed (or cannot be started).
    #[error(
        "{tool} cannot be run ({source}); install ffmpeg: apt install ffmpeg / brew install ffmpeg"
    )]
    ToolMissing {
        /// `"ffmpeg"` or `"ffprobe"`.
        tool: &'static str,
        /// Why starting it failed.
        #[source]
        source: io::Error,
    },
    /// The file cannot be opened (missing, no permission, a directory).
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// ffmpeg does not recognise the file as audio or video (e.g. a text file).
    #[error("{} is not a video or audio file ffmpeg can read: {detail}", path.display())]
    NotMedia {
        /// The file.
        path: PathBuf,
        /// What ffprobe said, or what is missing.
        detail: String,
    },
    /// The file has no video stream (audio only).
    #[error("{} has no video stream", path.display())]
    NoVideo {
        /// The file.
        path: PathBuf,
    },
    /// The file has no audio stream.
    #[error("{} has no audio stream", path.display())]
    NoAudio {
        /// The file.
        path: PathBuf,
    },
    /// The video is larger than [`MAX_VIDEO_SIDE`] on a side.
    #[error("{}: {width}x{height} video is larger than {max} pixels on a side", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Upright width.
        width: u32,
        /// Upright height.
        height: u32,
        /// The limit.
        max: u32,
    },
    /// The audio is longer than [`MAX_AUDIO_SECONDS`].
    #[error("{}: audio is longer than {max_s} s", path.display())]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The limit, seconds.
        max_s: u32,
    },
    /// ffmpeg started but failed while decoding (corrupt or truncated stream).
    #[error("{}: ffmpeg failed: {detail}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// ffmpeg's own message (last lines of its error output), or what went wrong.
        detail: String,
    },
    /// [`still_clip`] was asked for an impossible clip; the text says which value.
    #[error("invalid still clip: {0}")]
    InvalidClip(&'static str),
}

/// What [`probe`] found out about a recording (its first video stream).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MediaInfo {
    /// Width of the decoded (upright) frames, pixels.
    pub width: u32,
    /// Height of the decoded (upright) frames, pixels.
    pub height: u32,
    /// Frames per second at which [`frames`] decodes (the stream's average frame rate, or
    /// its nominal rate when the average is unknown).
    pub fps: f64,
    /// Length of the recording, seconds, when the container states it.
    pub duration_s: Option<f64>,
    /// Whether the file has an audio stream.
    pub has_audio: bool,
    /// Clockwise rotation (0, 90, 180 or 270 degrees) that ffmpeg applies to the stored
    /// frames to show them upright (a phone's display-rotation metadata).
    pub rotation: u16,
}

/// One decoded video frame.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFrame {
    /// Position in the stream, from 0.
    pub index: usize,
    /// Presentation time from the first frame (`index / fps`).
    pub timestamp: Duration,
    /// The picture, upright RGB8 at [`MediaInfo::width`] × [`MediaInfo::height`].
    pub image: RgbImage,
}

/// Checks that `ffmpeg` and `ffprobe` can be started (`-version`).
pub fn tools_available() -> Result<(), MediaError> {
    for tool in ["ffmpeg", "ffprobe"] {
        let status = Command::new(tool)
            .arg("-version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|source| MediaError::ToolMissing { tool, source })?;
        if !status.success() {
            return Err(MediaError::ToolMissing {
                tool,
                source: io::Error::other(format!("`{tool} -version` exited with {status}")),
            });
        }
    }
    Ok(())
}

/// A frame rate as a fraction (`num / den` frames per second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rate {
    num: u64,
    den: u64,
}

impl Rate {
    /// Parses ffprobe's `"30000/1001"` form; `None` for `0/0`, zero or absurd rates.
    fn parse(text: &str) -> Option<Rate> {
        let (num, den) = text.split_once('/').unwrap_or((text, "1"));
        let rate = Rate {
            num: num.trim().parse().ok()?,
            den: den.trim().parse().ok()?,
        };
        let fps = rate.fps();
        (rate.num > 0 && rate.den > 0 && fps <= MAX_FPS).then_some(rate)
    }

    fn fps(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Time of frame `index`.
    fn timestamp(self, index: usize) -> Duration {
        let nanos = index as u128 * u128::from(self.den) * 1_000_000_000 / u128::from(self.num);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

// ffprobe's JSON (`-of json`), only the fields asked for.
#[derive(Deserialize)]
struct ProbeOutput {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeStream {
    index: usize,
    codec_type: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    r_frame_rate: Option<String>,
    avg_frame_rate: Option<String>,
    start_time: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<SideData>,
    #[serde(default)]
    disposition: BTreeMap<String, i64>,
}

#[derive(Deserialize)]
struct SideData {
    rotation: Option<f64>,
}

#[derive(Deserialize)]
struct ProbeFormat {
    format_name: Option<String>,
    duration: Option<String>,
}

/// The first (non-cover-art) video stream.
struct VideoStream {
    index: usize,
    info: MediaInfo,
    rate: Rate,
    start_s: Option<f64>,
}

/// Everything ffprobe said that this module uses.
struct Streams {
    /// The demuxer ffprobe chose (one of [`ALLOWED_DEMUXERS`]), given to ffmpeg as `-f`.
    demuxer: String,
    video: Option<VideoStream>,
    /// Index and start time of the first audio stream.
    audio: Option<(usize, Option<f64>)>,
}

/// `file:PATH`, so that ffmpeg never reads a path as an option (leading `-`) or a network
/// URL (`http:`…).
fn file_url(path: &Path) -> OsString {
    let mut url = OsString::from("file:");
    url.push(path.as_os_str());
    url
}

/// Opens `path` to report a missing or unreadable file as such (ffmpeg's message would
/// be less clear).
fn check_readable(path: &Path) -> Result<(), MediaError> {
    let unreadable = |source| MediaError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(unreadable(io::Error::other("is a directory")));
    }
    std::fs::File::open(path).map_err(unreadable)?;
    Ok(())
}

/// The last non-empty lines of ffmpeg's error output, at most [`STDERR_TAIL`] bytes.
fn tail(stderr: &str) -> String {
    let text = stderr.trim();
    if text.is_empty() {
        return "no error output".into();
    }
    let mut start = text.len().saturating_sub(STDERR_TAIL);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].lines().collect::<Vec<_>>().join(" | ")
}

/// Clockwise display rotation in {0, 90, 180, 270}: from the display matrix (which ffprobe
/// reports counter-clockwise) or, for older files, the `rotate` tag (clockwise). Angles
/// that are not within a degree of a right angle are not applied by ffmpeg: 0.
fn rotation_of(stream: &ProbeStream) -> u16 {
    let clockwise = stream
        .side_data_list
        .iter()
        .find_map(|s| s.rotation)
        .map(|ccw| -ccw)
        .or_else(|| {
            stream
                .tags
                .get("rotate")
                .and_then(|r| r.trim().parse().ok())
        });
    let Some(cw) = clockwise.filter(|v: &f64| v.is_finite()) else {
        return 0;
    };
    let cw = cw.rem_euclid(360.0);
    let right = (cw / 90.0).round();
    if (cw - right * 90.0).abs() > 1.0 {
        return 0;
    }
    ((right as u16) % 4) * 90
}

fn run_ffprobe(path: &Path) -> Result<ProbeOutput, MediaError> {
    let output = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(["-protocol_whitelist", ALLOWED_PROTOCOLS])
        .args(["-format_whitelist", ALLOWED_DEMUXERS])
        .arg("-show_entries")
        .arg(
            "stream=index,codec_type,width,height,r_frame_rate,avg_frame_rate,start_time\
             :stream_tags=rotate:stream_side_data=rotation:stream_disposition=attached_pic\
             :format=format_name,duration",
        )
        .args(["-of", "json"])
        .arg(file_url(path))
        .stdin(Stdio::null())
        .output()
        .map_err(|source| MediaError::ToolMissing {
            tool: "ffprobe",
            source,
        })?;
    if !output.status.success() {
        return Err(MediaError::NotMedia {
            path: path.to_path_buf(),
            detail: tail(&String::from_utf8_lossy(&output.stderr)),
        });
    }
    serde_json::from_slice(&output.stdout).map_err(|e| MediaError::NotMedia {
        path: path.to_path_buf(),
        detail: format!("unexpected ffprobe output: {e}"),
    })
}

fn probe_streams(path: &Path) -> Result<Streams, MediaError> {
    check_readable(path)?;
    let out = run_ffprobe(path)?;
    let not_media = |detail: &str| MediaError::NotMedia {
        path: path.to_path_buf(),
        detail: detail.into(),
    };
    let format = out.format.as_ref();
    // ffmpeg's "tty" demuxer shows any text file as ANSI art: not a recording (and not on
    // the list of demuxers anyway).
    let format_name = format.and_then(|f| f.format_name.as_deref()).unwrap_or("");
    if format_name == "tty" {
        return Err(not_media("a text file"));
    }
    // ffprobe names a demuxer by all its aliases ("mov,mp4,m4a,3gp,3g2,mj2"); the first is
    // the one `-f` takes. Checked against the list again: ffprobe honoured it already.
    let demuxer = format_name
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    if !ALLOWED_DEMUXERS
        .split(',')
        .any(|allowed| allowed.trim() == demuxer)
    {
        return Err(not_media(&format!(
            "container {format_name:?} is not accepted (only {ALLOWED_DEMUXERS})"
        )));
    }
    let seconds = |s: &Option<String>| {
        s.as_deref()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    let audio = out
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"))
        .map(|s| (s.index, seconds(&s.start_time)));
    let video = out.streams.iter().find(|s| {
        s.codec_type.as_deref() == Some("video")
            && s.disposition.get("attached_pic").copied().unwrap_or(0) == 0
    });
    let video = match video {
        None => None,
        Some(stream) => {
            let (Some(w), Some(h)) = (stream.width, stream.height) else {
                return Err(not_media("the video stream has no picture size"));
            };
            if w == 0 || h == 0 {
                return Err(not_media("the video stream has no picture size"));
            }
            let rate = stream
                .avg_frame_rate
                .as_deref()
                .and_then(Rate::parse)
                .or_else(|| stream.r_frame_rate.as_deref().and_then(Rate::parse))
                .ok_or_else(|| not_media("the video stream has no frame rate"))?;
            let rotation = rotation_of(stream);
            let (width, height) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
            if width > MAX_VIDEO_SIDE || height > MAX_VIDEO_SIDE {
                return Err(MediaError::TooLarge {
                    path: path.to_path_buf(),
                    width,
                    height,
                    max: MAX_VIDEO_SIDE,
                });
            }
            Some(VideoStream {
                index: stream.index,
                info: MediaInfo {
                    width,
                    height,
                    fps: rate.fps(),
                    duration_s: format
                        .and_then(|f| seconds(&f.duration))
                        .filter(|d| *d >= 0.0),
                    has_audio: audio.is_some(),
                    rotation,
                },
                rate,
                start_s: seconds(&stream.start_time),
            })
        }
    };
    if video.is_none() && audio.is_none() {
        return Err(not_media("no audio or video stream"));
    }
    Ok(Streams {
        demuxer,
        video,
        audio,
    })
}

/// Probes `path` with ffprobe: its first video stream's upright size, frame rate and
/// rotation, the duration, and whether it has audio.
///
/// Errors: [`MediaError::ToolMissing`], [`MediaError::Unreadable`], [`MediaError::NotMedia`]
/// (e.g. a text file), [`MediaError::NoVideo`] (audio only), [`MediaError::TooLarge`]. A
/// still picture (PNG, JPEG) probes as a one-frame video.
pub fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    let _span = tracing::debug_span!("probe", path = %path.display()).entered();
    probe_streams(path)?
        .video
        .map(|v| v.info)
        .ok_or_else(|| MediaError::NoVideo {
            path: path.to_path_buf(),
        })
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Collects a child's error output on a thread (so a chatty ffmpeg never blocks on a full
/// pipe), keeping the last [`STDERR_TAIL`] bytes.
fn collect_stderr(child: &mut Child) -> Option<JoinHandle<String>> {
    let mut stderr = child.stderr.take()?;
    Some(std::thread::spawn(move || {
        let mut kept: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match stderr.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    kept.extend_from_slice(&chunk[..n]);
                    if kept.len() > 2 * STDERR_TAIL {
                        kept.drain(..kept.len() - STDERR_TAIL);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    }))
}

/// Starts `ffmpeg -nostdin -v error <whitelists> -f DEMUXER -i file:PATH <args> -` with
/// its output piped.
fn spawn_ffmpeg(path: &Path, demuxer: &str, args: &[String]) -> Result<Child, MediaError> {
    Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error"])
        .args(["-protocol_whitelist", ALLOWED_PROTOCOLS])
        .args(["-format_whitelist", ALLOWED_DEMUXERS])
        .args(["-f", demuxer, "-i"])
        .arg(file_url(path))
        .args(args)
        .arg("-")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| MediaError::ToolMissing {
            tool: "ffmpeg",
            source,
        })
}

/// The video frames of a recording, decoded one at a time by an ffmpeg child process.
///
/// An iterator of `Result<VideoFrame, MediaError>`: after an error it ends. Dropping it
/// early stops ffmpeg.
#[derive(Debug)]
pub struct Frames {
    path: PathBuf,
    info: MediaInfo,
    rate: Rate,
    child: Option<Child>,
    stdout: Option<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    frame_bytes: usize,
    next: usize,
}

/// Starts decoding the first video stream of `path` (see the module docs for the time
/// line). Probes first, so it fails with the same errors as [`probe`].
pub fn frames(path: &Path) -> Result<Frames, MediaError> {
    let _span = tracing::debug_span!("frames", path = %path.display()).entered();
    let streams = probe_streams(path)?;
    let video = streams.video.ok_or_else(|| MediaError::NoVideo {
        path: path.to_path_buf(),
    })?;
    let info = video.info;
    // Constant rate at the probed rate, and a fixed output size: the byte stream is then
    // exactly `width * height * 3` bytes per frame even if the stream changes size.
    let filter = format!(
        "fps={}/{},scale={}:{}",
        video.rate.num, video.rate.den, info.width, info.height
    );
    let args: Vec<String> = [
        "-map",
        &format!("0:{}", video.index),
        "-vf",
        &filter,
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut child = spawn_ffmpeg(path, &streams.demuxer, &args)?;
    let stdout = child.stdout.take();
    let stderr = collect_stderr(&mut child);
    Ok(Frames {
        path: path.to_path_buf(),
        info,
        rate: video.rate,
        child: Some(child),
        stdout,
        stderr,
        frame_bytes: info.width as usize * info.height as usize * 3,
        next: 0,
    })
}

impl Frames {
    /// What [`probe`] said about the recording.
    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    /// Waits for ffmpeg to exit; its error output when it failed.
    fn finish(&mut self) -> Result<(), MediaError> {
        self.stdout = None;
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let status = child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(MediaError::Decode {
                path: self.path.clone(),
                detail: format!("{s}: {}", tail(&stderr)),
            }),
            Err(e) => Err(MediaError::Decode {
                path: self.path.clone(),
                detail: format!("waiting for ffmpeg: {e}"),
            }),
        }
    }

    fn fail(&mut self, detail: String) -> MediaError {
        self.stop();
        MediaError::Decode {
            path: self.path.clone(),
            detail,
        }
    }

    /// Stops ffmpeg (our own child) and reaps it.
    fn stop(&mut self) {
        self.stdout = None;
        if let Some(mut child) = self.child.take() {
            // It may have exited already; either way it is reaped below.
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
    }
}

impl Iterator for Frames {
    type Item = Result<VideoFrame, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        let stdout = self.stdout.as_mut()?;
        let mut buf = vec![0u8; self.frame_bytes];
        let got = match read_full(stdout, &mut buf) {
            Ok(n) => n,
            Err(e) => return Some(Err(self.fail(format!("reading decoded frames: {e}")))),
        };
        if got == 0 {
            return match self.finish() {
                Ok(()) => None,
                Err(e) => Some(Err(e)),
            };
        }
        if got < self.frame_bytes {
            let finished = self.finish();
            return Some(Err(finished.err().unwrap_or_else(|| MediaError::Decode {
                path: self.path.clone(),
                detail: format!("frame {} is truncated ({got} bytes)", self.next),
            })));
        }
        let Some(image) = RgbImage::from_raw(self.info.width, self.info.height, buf) else {
            return Some(Err(self.fail("frame buffer of the wrong size".into())));
        };
        let index = self.next;
        self.next += 1;
        Some(Ok(VideoFrame {
            index,
            timestamp: self.rate.timestamp(index),
            image,
        }))
    }
}

impl Drop for Frames {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The first audio stream of `path`, down-mixed to mono and resampled to 16 kHz by ffmpeg,
/// as signed 16-bit samples, aligned to the video's time line when there is video (see
/// the module docs).
///
/// Errors: [`MediaError::ToolMissing`], [`MediaError::Unreadable`], [`MediaError::NotMedia`],
/// [`MediaError::NoAudio`], [`MediaError::TooLong`], [`MediaError::Decode`]. Works on
/// audio-only files too.
pub fn audio_16k_mono(path: &Path) -> Result<Vec<i16>, MediaError> {
    let _span = tracing::debug_span!("audio_16k_mono", path = %path.display()).entered();
    let streams = probe_streams(path)?;
    let Some((audio_index, audio_start)) = streams.audio else {
        return Err(MediaError::NoAudio {
            path: path.to_path_buf(),
        });
    };
    let args: Vec<String> = [
        "-map",
        &format!("0:{audio_index}"),
        "-ac",
        "1",
        "-ar",
        &AUDIO_SAMPLE_RATE.to_string(),
        "-f",
        "s16le",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut child = spawn_ffmpeg(path, &streams.demuxer, &args)?;
    let stderr = collect_stderr(&mut child);
    let limit = MAX_AUDIO_SECONDS as usize * AUDIO_SAMPLE_RATE as usize * 2;
    let mut bytes = Vec::new();
    let read = match child.stdout.take() {
        Some(out) => out.take(limit as u64 + 1).read_to_end(&mut bytes),
        None => Err(io::Error::other("no output pipe")),
    };
    let too_long = bytes.len() > limit;
    if too_long || read.is_err() {
        let _ = child.kill();
    }
    let status = child.wait();
    let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if too_long {
        return Err(MediaError::TooLong {
            path: path.to_path_buf(),
            max_s: MAX_AUDIO_SECONDS,
        });
    }
    let decode = |detail: String| MediaError::Decode {
        path: path.to_path_buf(),
        detail,
    };
    read.map_err(|e| decode(format!("reading decoded audio: {e}")))?;
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(decode(format!("{s}: {}", tail(&stderr)))),
        Err(e) => return Err(decode(format!("waiting for ffmpeg: {e}"))),
    }
    let mut samples: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    // Put sample 0 at the first video frame.
    if let (Some(video_start), Some(audio_start)) =
        (streams.video.as_ref().and_then(|v| v.start_s), audio_start)
    {
        let shift = ((audio_start - video_start) * f64::from(AUDIO_SAMPLE_RATE)).round();
        if shift > 0.0 {
            let pad = (shift as usize).min(limit / 2);
            samples.splice(0..0, std::iter::repeat_n(0, pad));
        } else if shift < 0.0 {
            let drop = ((-shift) as usize).min(samples.len());
            samples.drain(..drop);
        }
    }
    Ok(samples)
}

/// A still picture shown for a while: the same frame at a constant rate. An iterator of
/// [`VideoFrame`]s (each a copy of the picture).
#[derive(Debug, Clone)]
pub struct StillClip {
    image: RgbImage,
    rate: Rate,
    count: usize,
    next: usize,
}

/// Turns `image` into a clip of `seconds` at `fps` (`round(seconds * fps)` frames, at least
/// one), timestamped like decoded video. For the attack demonstration: a photo held up to
/// the camera.
///
/// Errors ([`MediaError::InvalidClip`]): an empty image or one larger than
/// [`MAX_VIDEO_SIDE`], `seconds` not in (0, [`MAX_STILL_CLIP_SECONDS`]], `fps` not in
/// (0, [`MAX_FPS`]].
pub fn still_clip(image: &RgbImage, seconds: f64, fps: f64) -> Result<StillClip, MediaError> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Err(MediaError::InvalidClip("the image is empty"));
    }
    if w > MAX_VIDEO_SIDE || h > MAX_VIDEO_SIDE {
        return Err(MediaError::InvalidClip(
            "the image is larger than 4096 pixels on a side",
        ));
    }
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_STILL_CLIP_SECONDS) {
        return Err(MediaError::InvalidClip("seconds must be in (0, 600]"));
    }
    if !(fps.is_finite() && fps > 0.0 && fps <= MAX_FPS) {
        return Err(MediaError::InvalidClip("fps must be in (0, 1000]"));
    }
    // The rate as a fraction with millisecond-of-a-frame precision (e.g. 29.97 = 29970/1000).
    let rate = Rate {
        num: (fps * 1000.0).round().max(1.0) as u64,
        den: 1000,
    };
    let count = ((seconds * fps).round() as usize).max(1);
    Ok(StillClip {
        image: image.clone(),
        rate,
        count,
        next: 0,
    })
}

impl StillClip {
    /// The clip's description, as [`probe`] would give it (no audio, no rotation).
    pub fn info(&self) -> MediaInfo {
        MediaInfo {
            width: self.image.width(),
            height: self.image.height(),
            fps: self.rate.fps(),
            duration_s: Some(self.count as f64 / self.rate.fps()),
            has_audio: false,
            rotation: 0,
        }
    }
}

impl Iterator for StillClip {
    type Item = VideoFrame;

    fn next(&mut self) -> Option<VideoFrame> {
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        Some(VideoFrame {
            index,
            timestamp: self.rate.timestamp(index),
            image: self.image.clone(),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.count - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for StillClip {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates_parse_and_time_frames_exactly() {
        let ntsc = Rate::parse("30000/1001").unwrap();
        assert!((ntsc.fps() - 29.97).abs() < 0.001);
        assert_eq!(ntsc.timestamp(30), Duration::from_nanos(1_001_000_000));
        assert_eq!(
            Rate::parse("25/1").unwrap().timestamp(75),
            Duration::from_secs(3)
        );
        assert_eq!(Rate::parse("25").unwrap().num, 25);
        assert!(Rate::parse("0/0").is_none());
        assert!(Rate::parse("90000/1").is_none());
        assert!(Rate::parse("x/1").is_none());
    }

    fn stream(side: Option<f64>, tag: Option<&str>) -> ProbeStream {
        ProbeStream {
            index: 0,
            codec_type: Some("video".into()),
            width: Some(640),
            height: Some(480),
            r_frame_rate: None,
            avg_frame_rate: None,
            start_time: None,
            tags: tag
                .map(|t| [("rotate".to_string(), t.to_string())].into())
                .unwrap_or_default(),
            side_data_list: side
                .map(|r| vec![SideData { rotation: Some(r) }])
                .unwrap_or_default(),
            disposition: BTreeMap::new(),
        }
    }

    #[test]
    fn rotation_is_reported_clockwise() {
        // ffprobe's display-matrix rotation is counter-clockwise: a portrait phone video
        // says -90 and needs a 90° clockwise turn.
        assert_eq!(rotation_of(&stream(Some(-90.0), None)), 90);
        assert_eq!(rotation_of(&stream(Some(90.0), None)), 270);
        assert_eq!(rotation_of(&stream(Some(180.0), None)), 180);
        assert_eq!(rotation_of(&stream(None, Some("90"))), 90);
        assert_eq!(rotation_of(&stream(None, None)), 0);
        assert_eq!(rotation_of(&stream(Some(45.0), None)), 0);
        assert_eq!(rotation_of(&stream(Some(-89.6), None)), 90);
    }

    #[test]
    fn a_still_becomes_a_timed_clip() {
        let img = RgbImage::from_pixel(4, 3, image::Rgb([1, 2, 3]));
        let clip = still_clip(&img, 2.0, 25.0).unwrap();
        assert_eq!(clip.len(), 50);
        assert_eq!(clip.info().width, 4);
        let frames: Vec<VideoFrame> = clip.collect();
        assert_eq!(frames[49].index, 49);
        assert_eq!(frames[49].timestamp, Duration::from_millis(1960));
        assert_eq!(frames[0].image, img);
        assert!(matches!(
            still_clip(&img, 0.0, 25.0),
            Err(MediaError::InvalidClip(_))
        ));
        assert!(matches!(
            still_clip(&img, 1.0, f64::NAN),
            Err(MediaError::InvalidClip(_))
        ));
        assert!(matches!(
            still_clip(&RgbImage::new(0, 0), 1.0, 25.0),
            Err(MediaError::InvalidClip(_))
        ));
        assert!(matches!(
            still_clip(&RgbImage::new(4097, 1), 1.0, 25.0),
            Err(MediaError::InvalidClip(_))
        ));
    }

    #[test]
    fn error_tails_are_short_single_lines() {
        assert_eq!(tail("a\nb\n"), "a | b");
        assert_eq!(tail("  "), "no error output");
        let long = "é".repeat(5000);
        assert!(tail(&long).len() <= STDERR_TAIL);
    }
}

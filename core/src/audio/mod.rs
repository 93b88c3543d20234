//! The audio stream: WAV reading, resampling, voice activity (Silero VAD), speech segments,
//! MFCC features and the speaker encoder. Imports `image` and below.

pub mod mfcc;
pub mod resample;
pub mod segments;
pub mod speaker;
pub mod vad;
pub mod wav;

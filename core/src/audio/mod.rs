//! The audio stream: the microphone on the session clock and the buffer its samples are kept in, WAV reading, resampling, voice activity (Silero VAD), speech segments,
//! MFCC features and the speaker encoder. Imports `image` and below.

pub mod buffer;
pub mod mfcc;
pub mod resample;
pub mod segments;
pub mod speaker;
pub mod stream;
pub mod vad;
pub mod wav;

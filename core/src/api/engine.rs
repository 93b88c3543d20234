//! Everything a session needs that is loaded once per app: the face models, the voice-activity
//! model, the optional passive anti-spoofing models and the message texts.
//!
//! Loading takes a moment (a few hundred milliseconds); create one [`Engine`], keep it in an
//! `Arc`, and open as many enrollment and certification sessions on it as needed, from any
//! thread.

use crate::api::config::Config;
use crate::api::error::Result;
use crate::audio::speaker::SpeakerEncoder;
use crate::audio::vad::VoiceActivityDetector;
use crate::capture::guide::{guide_still, Guide, GuidedFrame};
use crate::face::analyzer::Analyzer;
use crate::face::anti_spoofing::PassiveAntiSpoof;
use crate::identity::id_document::IdDocumentChecker;
use crate::image::frame::Frame;
use crate::model::assets::{ModelInfo, ModelSource};
use crate::text::messages::Messages;
use std::path::Path;
use std::sync::OnceLock;

/// The loaded models and texts shared by every session. `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Config,
    analyzer: Analyzer,
    vad: VoiceActivityDetector,
    pad: Option<PassiveAntiSpoof>,
    messages: Messages,
    source: ModelSource,
    /// Loaded on the first ID-document upload (it may need a tiled detector).
    id_documents: OnceLock<IdDocumentChecker>,
    /// Loaded when a session first needs the voice (enrollment of the voice, certification
    /// against an enrolled voice).
    speaker: OnceLock<SpeakerEncoder>,
}

impl Engine {
    /// Loads the models embedded in the library with `config`.
    pub fn new(config: Config) -> Result<Self> {
        Self::with_models(config, &ModelSource::Embedded)
    }

    /// Loads the models from `source`.
    pub fn with_models(config: Config, source: &ModelSource) -> Result<Self> {
        let _span = tracing::info_span!("load_engine").entered();
        config.validate()?;
        Ok(Self {
            analyzer: Analyzer::with_models(&config, source)?,
            config,
            vad: VoiceActivityDetector::with_models(source)?,
            pad: None,
            messages: Messages::builtin(),
            source: source.clone(),
            id_documents: OnceLock::new(),
            speaker: OnceLock::new(),
        })
    }

    /// Adds the optional MiniFASNet passive anti-spoofing models from `dir` (see
    /// [`crate::face::anti_spoofing`]; they are not shipped with the library). Sessions then score the
    /// live face and refuse a low score ([`crate::api::session::SessionConfig::min_pad_score`]).
    pub fn with_passive_anti_spoof(mut self, dir: &Path) -> Result<Self> {
        self.pad = Some(PassiveAntiSpoof::from_dir(dir)?);
        Ok(self)
    }

    /// Replaces the message texts (e.g. with an integrator's overrides, see
    /// [`Messages::with_overrides`]).
    pub fn with_messages(mut self, messages: Messages) -> Self {
        self.messages = messages;
        self
    }

    /// The face analyzer.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The voice-activity detector.
    pub fn vad(&self) -> &VoiceActivityDetector {
        &self.vad
    }

    /// The passive anti-spoofing models, when loaded.
    pub fn passive_anti_spoof(&self) -> Option<&PassiveAntiSpoof> {
        self.pad.as_ref()
    }

    /// The message texts.
    pub fn messages(&self) -> &Messages {
        &self.messages
    }

    /// A new positioning guide for a stream of frames, with [`Config::guidance`]; push the
    /// frames with [`Guide::push_frame`] and [`Engine::analyzer`].
    pub fn guide(&self) -> Result<Guide> {
        Ok(Guide::new(self.config.guidance.clone())?)
    }

    /// Analyses one frame on its own and guides on it as a still picture ([`guide_still`]:
    /// what the guidance says on the first frame of a stream).
    pub fn guide_still(&self, frame: &Frame<'_>) -> Result<GuidedFrame> {
        let analysis = self.analyzer.analyze(frame)?;
        Ok(guide_still(&self.config.guidance, analysis)?)
    }

    /// The ID-document checker, loaded on first use.
    pub fn id_documents(&self) -> Result<&IdDocumentChecker> {
        if let Some(c) = self.id_documents.get() {
            return Ok(c);
        }
        let checker = IdDocumentChecker::from_analyzer(
            self.analyzer.clone(),
            self.config.id_document.clone(),
            &self.source,
        )?;
        Ok(self.id_documents.get_or_init(|| checker))
    }

    /// The speaker encoder (GE2E, [`crate::audio::speaker`]) with [`crate::Config::speaker`], loaded
    /// on first use.
    pub fn speaker(&self) -> Result<&SpeakerEncoder> {
        if let Some(s) = self.speaker.get() {
            return Ok(s);
        }
        let encoder = SpeakerEncoder::with_config(&self.source, self.config().speaker.clone())?;
        Ok(self.speaker.get_or_init(|| encoder))
    }

    /// Every model file in use (name and SHA-256), for signed results.
    pub fn models(&self) -> Vec<ModelInfo> {
        let mut models = self.analyzer.models().to_vec();
        models.push(self.vad.model_info().clone());
        models
    }
}

//! The face descriptor model, loaded when it is first needed rather than with the engine.
//!
//! The first frame of a session needs only the detector and the landmark model; the 6.5 MB
//! descriptor is needed when the live face is matched (after the liveness challenge, seconds
//! later) or enrolled. Parsing and optimising it is the largest part of loading every model,
//! so [`crate::Analyzer`] records its name and SHA-256 at creation (templates name the model
//! they were made with) and loads it on first use, or in the background when a session that
//! will need it starts ([`LazyDescriptor::prefetch`]).
//!
//! Only the embedded copy is loaded lazily: it is compiled into the library and checked by the
//! tests, so loading it later cannot fail differently from loading it now. A descriptor read
//! from a directory ([`ModelSource::Directory`]) is loaded at creation, as before, so that a
//! bad file is reported when the engine is created and not in the middle of a session.

use crate::face::descriptor::DescriptorModel;
use crate::model::assets::{ModelSource, DESCRIPTOR_FILE};
use crate::model::error::ModelError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The descriptor model, loaded at most once and shared by every clone.
#[derive(Debug, Clone)]
pub(crate) struct LazyDescriptor(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    model: OnceLock<DescriptorModel>,
    /// Held while loading, so that a caller arriving during a background load waits for it
    /// instead of loading a second copy.
    loading: Mutex<()>,
    /// Set once a background load has been started (one thread at most).
    prefetching: AtomicBool,
}

impl LazyDescriptor {
    /// Loads the model now from a directory, or prepares the lazy load of the embedded copy.
    /// `bytes` are the file's bytes as read (and hashed) by the caller.
    pub(crate) fn new(source: &ModelSource, bytes: &[u8]) -> Result<Self, ModelError> {
        let lazy = Self(Arc::new(Inner {
            model: OnceLock::new(),
            loading: Mutex::new(()),
            prefetching: AtomicBool::new(false),
        }));
        if !matches!(source, ModelSource::Embedded) {
            let model = DescriptorModel::new(bytes)?;
            let _ = lazy.0.model.set(model);
        }
        Ok(lazy)
    }

    /// Whether the model is loaded.
    pub(crate) fn is_loaded(&self) -> bool {
        self.0.model.get().is_some()
    }

    /// The model, loading the embedded copy on first use (a caller arriving during a load
    /// waits for it).
    pub(crate) fn get(&self) -> Result<&DescriptorModel, ModelError> {
        if let Some(model) = self.0.model.get() {
            return Ok(model);
        }
        // A poisoned lock only means another loader panicked; the cell is still consistent.
        let _guard = self
            .0
            .loading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(model) = self.0.model.get() {
            return Ok(model);
        }
        let _span = tracing::info_span!("load_descriptor_lazily").entered();
        let (bytes, _) = ModelSource::Embedded.read(DESCRIPTOR_FILE)?;
        let model = DescriptorModel::new(&bytes)?;
        Ok(self.0.model.get_or_init(|| model))
    }

    /// Starts loading the model on a background thread if it is not loaded yet. An error is
    /// not lost: the thread only logs it, and the next [`LazyDescriptor::get`] loads again
    /// and returns it.
    pub(crate) fn prefetch(&self) {
        if self.is_loaded() || self.0.prefetching.swap(true, Ordering::AcqRel) {
            return;
        }
        let lazy = self.clone();
        let spawned = std::thread::Builder::new()
            .name("lifecert-descriptor-load".into())
            .spawn(move || {
                if let Err(e) = lazy.get() {
                    tracing::warn!(error = %e, "background load of the face descriptor failed");
                }
            });
        if let Err(e) = spawned {
            tracing::debug!(error = %e, "no thread for the descriptor; it loads on first use");
        }
    }
}

//! The face analyser of the still-image commands (`analyze`, `match`), with the exit code
//! its failure calls for.

use super::{EXIT_BAD_INPUT, EXIT_INTERNAL};
use lifecert_core::{Analyzer, Config, ModelSource};

/// Loads the models from `source` into an analyser with `config`: a configuration error is
/// bad input ([`EXIT_BAD_INPUT`]), any other failure internal ([`EXIT_INTERNAL`]).
pub fn load_analyzer(source: &ModelSource, config: Config) -> Result<Analyzer, (u8, String)> {
    config
        .validate()
        .map_err(|e| (EXIT_BAD_INPUT, format!("{e}")))?;
    Analyzer::with_models(config, source)
        .map_err(|e| (EXIT_INTERNAL, format!("cannot load models: {e}")))
}

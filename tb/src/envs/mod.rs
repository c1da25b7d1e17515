//! Envs: one per design, each composing the design's agents, the environment models behind
//! them and a scoreboard against the golden models, with a short cycle loop that steps every
//! part once. A test is a stimulus plus an env's configuration.

pub mod bypass;
pub mod core;
pub mod object_alloc;
pub mod page_alloc;

use memento_sim::WaveFormat;
use std::path::PathBuf;

/// A waveform window: cycles `from..to` of the run.
#[derive(Clone, Debug)]
pub struct TraceWindow {
    pub from: u64,
    pub to: u64,
    pub path: PathBuf,
    pub format: WaveFormat,
}

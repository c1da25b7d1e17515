//! Envs: one per design, each composing the design's agents, the environment models behind
//! them and a scoreboard against the golden models, with a short cycle loop that steps every
//! part once. A test is a stimulus plus an env's configuration.

pub mod bypass;
pub mod core;
pub mod object_alloc;
pub mod page_alloc;

use memento_sim::{Model, VTable, WaveFormat};
use std::path::PathBuf;

/// A waveform window: cycles `from..to` of the run.
#[derive(Clone, Debug)]
pub struct TraceWindow {
    pub from: u64,
    pub to: u64,
    pub path: PathBuf,
    pub format: WaveFormat,
}

impl TraceWindow {
    /// The model to run: `vt` without a window, a model of the same design that writes
    /// waveforms with one ([`memento_sim::with_tracing`]: the regression build's models do not
    /// trace, so the first waveform of a design builds a tracing model, cached under
    /// `build/sim/dyn/`).
    pub fn table(window: &Option<TraceWindow>, vt: &'static VTable) -> &'static VTable {
        if window.is_none() {
            return vt;
        }
        memento_sim::with_tracing(vt).unwrap_or_else(|e| {
            panic!(
                "a waveform of {} needs a tracing build of it, which failed: {e}",
                vt.name
            )
        })
    }

    /// Starts or stops the waveform of `dut` when `cycle` is the window's first or last.
    pub fn apply(window: &Option<TraceWindow>, dut: &mut Model, cycle: u64) {
        let Some(w) = window else { return };
        if cycle == w.from {
            if let Err(e) = dut.trace_on(&w.path, w.format) {
                eprintln!("waveform {}: {e}", w.path.display());
            }
        }
        if cycle == w.to {
            if let Err(e) = dut.trace_off() {
                eprintln!("waveform {}: {e}", w.path.display());
            }
        }
    }
}

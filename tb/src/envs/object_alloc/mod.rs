//! The object allocator on its own: the Verilated `object_alloc` driven from a stimulus, its
//! header and new-arena ports answered by environment models, every response and header write
//! checked against the golden model the cycle it happens. Commands are pipelined.
//!
//! - [`scoreboard`]: the golden model's predictions, held per command in flight;
//! - [`env`]: the design, its agents (command, header, arena server), the header memory and
//!   the arena responder, stepped once each per cycle; kept between runs so that a stream can be
//!   fed in pieces (proptest drives it one command at a time).

pub mod env;
pub mod scoreboard;

pub use env::ObjectAllocEnv;

use super::TraceWindow;
use crate::env::EnvTiming;
use crate::scoreboard::Mismatch;
use crate::stats::RunStats;
use crate::stimulus::Stimulus;
use memento_hw::Params;
use std::io::Write;

/// One run's set-up.
#[derive(Clone)]
pub struct RunConfig {
    pub params: Params,
    pub mrs: u64,
    pub timing: EnvTiming,
    pub seed: u64,
    pub trace: Option<TraceWindow>,
    /// Cycles a command may wait for its response before the run fails.
    pub watchdog: u64,
    /// One EXIT of the stimulus in this many (0: none) is played as a reset instead: once every
    /// command before it is answered, the allocator is reset and MRS written again, and the model
    /// takes the EXIT (a reset must leave the state an EXIT leaves: no HOT entry, class-table
    /// entry or cached header). The reset meets a function's state, so every register's reset
    /// value is checked like every other value.
    pub reset_for_exit: u32,
}

impl RunConfig {
    pub fn new(seed: u64, timing: EnvTiming) -> Self {
        RunConfig {
            params: Params::default(),
            mrs: 1 << 44,
            timing,
            seed,
            trace: None,
            watchdog: 20_000,
            reset_for_exit: 0,
        }
    }
}

/// Runs a stimulus on a fresh env; writes one command-log line per response to `log` when
/// given.
pub fn run(
    cfg: &RunConfig,
    stim: &mut dyn Stimulus,
    log: Option<&mut dyn Write>,
) -> Result<RunStats, Box<Mismatch>> {
    ObjectAllocEnv::new(cfg.clone()).run(stim, log)
}

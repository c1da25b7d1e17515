//! The page allocator on its own: a random stream of walker faults, arena pages and exits
//! through the Verilated `page_alloc`, with the table memory, the OS page supply and the
//! requesters as environment models, checked against the golden model every cycle.
//!
//! - [`stream`]: the requests, drawn from the seed;
//! - [`scoreboard`]: the page model's predictions against every monitored transaction (shared
//!   with the `memento_core` env, which holds a page allocator inside);
//! - [`os_side`]: the pool's OS interface with the OS supply behind it (shared too);
//! - [`env`]: the design, its agents and models, stepped once each per cycle.

pub mod env;
pub mod os_side;
pub mod scoreboard;
pub mod stream;

pub use stream::PageStream;

use crate::env::OsTiming;
use crate::envs::TraceWindow;
use crate::model::page_alloc::PageStats;
use crate::scoreboard::Mismatch;
use memento_hw::Params;

/// A request of the page-allocator stream.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PageReq {
    Walk(u64),
    Arena(u64),
    Exit,
}

/// Timing of the page allocator's environment.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PageTiming {
    pub pte_lat_min: u64,
    pub pte_lat_max: u64,
    pub pte_stall: f64,
    pub pte_rsp_stall: f64,
    pub rsp_stall: f64,
    pub os: OsTiming,
    pub os_req_stall: f64,
    pub drain_stall: f64,
}

impl PageTiming {
    /// Random stalls on every port; with `starve`, the OS answers refills very late.
    pub fn stressed(starve: bool) -> Self {
        PageTiming {
            pte_lat_min: 1,
            pte_lat_max: 10,
            pte_stall: 0.3,
            pte_rsp_stall: 0.2,
            rsp_stall: 0.3,
            os: OsTiming {
                latency_min: if starve { 500 } else { 1 },
                latency_max: if starve { 5000 } else { 60 },
                gap_min: 1,
                gap_max: if starve { 400 } else { 20 },
            },
            os_req_stall: 0.5,
            drain_stall: 0.5,
        }
    }
}

#[derive(Clone)]
pub struct PageRunConfig {
    pub params: Params,
    pub mrs: u64,
    pub root: u64,
    pub seed: u64,
    pub timing: PageTiming,
    pub trace: Option<TraceWindow>,
    /// Cycles any one wait may last before the run fails, naming the port.
    pub watchdog: u64,
    /// `LOW` and `HIGH` written on the config port (`cfg_sel` 2 and 3) after reset, instead of
    /// the generator's values.
    pub watermarks: Option<(usize, usize)>,
}

impl PageRunConfig {
    pub fn new(seed: u64, timing: PageTiming) -> Self {
        PageRunConfig {
            params: Params::default(),
            mrs: 1 << 44,
            root: 0x80,
            seed,
            timing,
            trace: None,
            watchdog: 200_000,
            watermarks: None,
        }
    }
}

/// What a page-allocator run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageRunStats {
    pub requests: u64,
    pub cycles: u64,
    pub starved_cycles: u64,
    pub os_frames_given: u64,
    pub os_frames_taken_back: u64,
    pub model: PageStats,
}

/// Runs `stream` through the page allocator and its model.
pub fn run(
    cfg: &PageRunConfig,
    stream: &mut dyn Iterator<Item = PageReq>,
) -> Result<PageRunStats, Box<Mismatch>> {
    let mut env = env::PageEnv::new(cfg);
    while !env.step(stream)? {}
    env.finish()
}

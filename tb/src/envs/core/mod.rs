//! The env of `memento_core` and `memento_top` end to end: commands through the object
//! allocator, arenas mapped by the page allocator, and the program's own accesses through an
//! MMU model; in `memento_top`, also the bypass below a last-level-cache model and DRAM.
//!
//! - [`program`]: the program on the core, which issues the stimulus one command at a time and
//!   writes and checks a pattern in every object;
//! - [`scoreboard`]: both golden models' predictions against every monitored transaction;
//! - [`env`]: the design, its agents and environment models, stepped once each per cycle.
//!
//! Header lines and object bytes live in one physical memory, reached through the page table the
//! hardware builds; a frame reads as zero from the moment a table entry maps it. Nothing
//! reaches the pool between a map's start and its first table access: the mapper does not start
//! in a refill cycle and is busy afterwards.

pub mod env;
pub mod program;
pub mod scoreboard;

use crate::env::mem_path::MemStats;
use crate::env::{EnvTiming, OsTiming};
use crate::envs::page_alloc::PageTiming;
use crate::envs::TraceWindow;
use crate::model::page_alloc::PageStats;
use crate::scoreboard::Mismatch;
use crate::stats::{LatencyHist, RunStats};
use crate::stimulus::Stimulus;
use memento_hw::emit::Design;
use memento_hw::Params;
use std::io::Write;

#[derive(Clone)]
pub struct CoreRunConfig {
    pub params: Params,
    pub mrs: u64,
    pub root: u64,
    pub seed: u64,
    pub hoa_timing: EnvTiming,
    pub page_timing: PageTiming,
    pub trace: Option<TraceWindow>,
    /// Cycles any one wait may last before the run fails, naming the port.
    pub watchdog: u64,
    /// End the run with an EXIT (if the stream did not), so every frame comes back.
    pub final_exit: bool,
    /// `MementoCore`, or `MementoTop` (the bypass below a last-level-cache model and DRAM).
    pub design: Design,
    /// The first frame number the OS model hands out.
    pub first_frame: u64,
    /// DRAM read latency in cycles, uniform in this range (memento_top only).
    pub dram_latency: (u64, u64),
    /// The last-level cache above the bypass (`memento_top` only).
    pub llc: crate::env::llc::LlcConfig,
    /// The pool's `(LOW, HIGH)`, written on the config port after reset (after `MRS` and the
    /// root); `None`: the parameters' reset values.
    pub watermarks: Option<(u64, u64)>,
}

impl CoreRunConfig {
    pub fn new(seed: u64, stressed: bool) -> Self {
        CoreRunConfig {
            params: Params::default(),
            mrs: 1 << 44,
            root: 0x80,
            seed,
            hoa_timing: if stressed {
                EnvTiming::stressed()
            } else {
                EnvTiming::fixed(4, 4)
            },
            page_timing: if stressed {
                PageTiming::stressed(false)
            } else {
                PageTiming {
                    pte_lat_min: 30,
                    pte_lat_max: 30,
                    pte_stall: 0.0,
                    pte_rsp_stall: 0.0,
                    rsp_stall: 0.0,
                    os: OsTiming {
                        latency_min: 2000,
                        latency_max: 2000,
                        gap_min: 1,
                        gap_max: 1,
                    },
                    os_req_stall: 0.0,
                    drain_stall: 0.0,
                }
            },
            trace: None,
            watchdog: 500_000,
            final_exit: true,
            design: Design::MementoCore,
            first_frame: 0x1000,
            watermarks: None,
            dram_latency: if stressed { (20, 100) } else { (100, 100) },
            llc: crate::env::llc::LlcConfig::default(),
        }
    }
}

/// What a `memento_core` run did.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CoreRunStats {
    pub hoa: RunStats,
    pub pages: PageStats,
    pub starved_cycles: u64,
    pub os_frames_given: u64,
    pub os_frames_taken_back: u64,
    pub frames_lost: u64,
    pub objects_checked: u64,
    pub walker_faults: u64,
    /// Cycles from a walk request to its answer (first-touch page faults served by the page
    /// allocator).
    pub walk_latency: LatencyHist,
    /// The memory path (memento_top only).
    pub mem: MemStats,
}

impl CoreRunStats {
    pub fn merge(&mut self, o: &CoreRunStats) {
        self.hoa.merge(&o.hoa);
        let (a, b) = (&mut self.pages, &o.pages);
        a.maps += b.maps;
        a.pages_mapped += b.pages_mapped;
        a.tables_allocated += b.tables_allocated;
        a.already_mapped += b.already_mapped;
        a.out_of_region += b.out_of_region;
        a.exits += b.exits;
        a.frames_returned_at_exit += b.frames_returned_at_exit;
        a.frames_in += b.frames_in;
        a.frames_drained += b.frames_drained;
        a.refill_requests += b.refill_requests;
        a.starved_walks += b.starved_walks;
        a.watermark_requests += b.watermark_requests;
        for (x, y) in a.maps_by_new_tables.iter_mut().zip(&b.maps_by_new_tables) {
            *x += y;
        }
        self.starved_cycles += o.starved_cycles;
        self.os_frames_given += o.os_frames_given;
        self.os_frames_taken_back += o.os_frames_taken_back;
        self.frames_lost += o.frames_lost;
        self.objects_checked += o.objects_checked;
        let (m, n) = (&mut self.mem, &o.mem);
        m.llc_hits += n.llc_hits;
        m.llc_misses += n.llc_misses;
        m.fills_checked += n.fills_checked;
        m.evictions_with_fresh += n.evictions_with_fresh;
        m.events_meeting_requests += n.events_meeting_requests;
        m.bypass.reads_bypassed += n.bypass.reads_bypassed;
        m.bypass.writebacks_dropped += n.bypass.writebacks_dropped;
        m.bypass.zero_lines += n.bypass.zero_lines;
        m.bypass.dram_reads += n.bypass.dram_reads;
        m.bypass.dram_writes += n.bypass.dram_writes;
        self.walker_faults += o.walker_faults;
        self.walk_latency.merge(&o.walk_latency);
    }
}

/// Runs `stim` through `memento_core` or `memento_top` and both models; writes one command-log
/// line per answer to `log` when given.
pub fn run(
    cfg: &CoreRunConfig,
    stim: &mut dyn Stimulus,
    mut log: Option<&mut dyn Write>,
) -> Result<CoreRunStats, Box<Mismatch>> {
    let mut env = env::CoreEnv::new(cfg);
    while !env.step(stim, &mut log)? {}
    env.finish()
}

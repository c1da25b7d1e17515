//! The bypass unit on its own: the testbench plays the last-level cache (fills and writebacks of
//! lines in mapped frames) and the page allocator (map and reclaim events), over a DRAM model
//! whose never-written lines hold stale garbage, as a reused frame would, and a record memory.
//! Every DRAM and record access is compared with the bypass model, and every fill's data with
//! the guarantee: the last value written since the frame was mapped, or zero.
//!
//! - [`plan`]: the events offered, drawn from the seed;
//! - [`env`]: the design, its agents (`agents::bypass`), DRAM and the record memory, and the
//!   scoreboard against the bypass model and the guarantee, stepped once each per cycle.

pub mod env;
pub mod plan;

use crate::model::bypass::BypassCounters;
use crate::scoreboard::Mismatch;
use memento_hw::Params;

/// What a bypass run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct BypassRunStats {
    pub events: u64,
    pub cycles: u64,
    pub fills_checked: u64,
    /// Cycles in which a map or reclaim event and a cache request were on offer together.
    pub events_meeting_requests: u64,
    pub counters: BypassCounters,
    /// Records read and written on the metadata port.
    pub record_reads: u64,
    pub record_writes: u64,
    /// Resets in the middle of the run.
    pub resets: u64,
}

/// Cycles from a map or reclaim event taken in Idle to Idle again when it writes no record: the
/// table is looked up (`Lookup`), the entry written (`Decide`), and the bypass is back.
pub const EVENT_CYCLES: u64 = 3;

/// The default weights of the harness's events: a frame mapped, a frame reclaimed (dead), a
/// cache fill or writeback.
pub const MIX: [u32; 3] = [12, 4, 84];

/// What the harness's events are drawn from.
#[derive(Clone, Copy, Debug)]
pub struct Knobs {
    /// Weights of a frame mapped, a frame reclaimed, a cache access.
    pub mix: [u32; 3],
    /// One cache access in this many goes to a reclaimed frame.
    pub dead_access: u32,
    /// Every this many events (0: never) an episode leaves one fresh line in an entry and evicts
    /// it ([`plan::lone_fresh`]).
    pub lone_every: u64,
    /// Phases of this many events (0: none) alternate between one event at a time and the page
    /// allocator and the cache each offering theirs whenever their own port is free, so that a
    /// map or reclaim event meets a cache request on offer and the bypass's priority between
    /// them is exercised. The counters are checked between events in the one-at-a-time phases.
    pub overlap_every: u64,
    /// The chance that a cycle in which an event could be issued stays empty, so that the unit
    /// also sits in `Idle` with nothing offered (without gaps it never did, and a unit that left
    /// `Idle` on no request at all passed every test).
    pub gap: f64,
    /// Every this many events (0: never), at a quiet point, the unit is reset: its table must be
    /// empty after it, whatever the entries held (the record region is zeroed again; every other
    /// time the environment starts over with no frame mapped, else its frames stay mapped).
    /// Without resets in the middle of a run, a reset that left an entry valid, or a lookup that
    /// ignored an entry's valid bit, showed in no test; without frames kept mapped, no cache
    /// request ever missed while the table had a free slot.
    pub reset_every: u64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            mix: MIX,
            dead_access: 21,
            lone_every: 500,
            overlap_every: 1000,
            gap: 0.1,
            reset_every: 2000,
        }
    }
}

/// Runs `events` events over `frames` frames through the bypass variant built for `params`,
/// drawn as `knobs` says.
pub fn run(
    params: &Params,
    seed: u64,
    events: u64,
    frames: u64,
    knobs: &Knobs,
) -> Result<BypassRunStats, Box<Mismatch>> {
    let mut env = env::BypassEnv::new(params, seed, events, frames, knobs);
    while !env.step()? {}
    env.finish()
}

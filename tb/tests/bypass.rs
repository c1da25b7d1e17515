//! The bypass unit (Verilated) against its model and the guarantee, over a DRAM full of stale data.
//! Seeds come from `MEMENTO_SEED` or are fresh and printed on failure.

use memento_hw::Params;
use memento_tb::envs::bypass::{run, Knobs};
use memento_tb::seed;

fn replay_hint(test: &str, seed: u64) -> String {
    format!("replay: MEMENTO_SEED={seed} cargo test --release -p memento-tb --test bypass {test}")
}

/// A 4-entry table over 24 frames: entries with fresh lines are evicted all the time (their records
/// written, and read back when the frame is touched again), and every read of a mapped line still
/// returns its last write or zero, never the stale DRAM data.
#[test]
fn evicting_fresh_entries_exposes_no_stale_data() {
    let s = seed::seed();
    let params = Params {
        bypass: 4,
        ..Params::default()
    };
    let st = run(&params, s, 20_000, 24, &Knobs::default()).unwrap_or_else(|m| {
        panic!(
            "seed {s}: {m}\n{}",
            replay_hint("evicting_fresh_entries_exposes_no_stale_data", s)
        )
    });
    let c = &st.counters;
    assert!(
        c.zero_lines == 0 && c.reads_bypassed > 0 && c.writebacks_dropped > 0,
        "seed {s}: {st:?}"
    );
    assert!(
        st.record_reads > 1000 && st.record_writes > 1000,
        "seed {s}: records go out and come back: {st:?}"
    );
    assert!(st.fills_checked > 1000, "seed {s}: {st:?}");
    assert!(
        st.resets >= 2,
        "seed {s}: resets in the middle of the run: {st:?}"
    );
    assert!(
        st.events_meeting_requests > 100,
        "seed {s}: map and reclaim events meet cache requests: {st:?}"
    );
}

#[test]
fn default_table_bypasses_fresh_reads() {
    let s = seed::seed();
    let st = run(&Params::default(), s, 20_000, 40, &Knobs::default()).unwrap_or_else(|m| {
        panic!(
            "seed {s}: {m}\n{}",
            replay_hint("default_table_bypasses_fresh_reads", s)
        )
    });
    assert!(
        st.counters.reads_bypassed > 0 && st.fills_checked > 1000,
        "seed {s}: {st:?}"
    );
}

#[test]
fn off_zeroes_every_mapped_page_in_dram() {
    let s = seed::seed();
    let params = Params {
        bypass_on: false,
        dram_zero: true,
        ..Params::default()
    };
    let st = run(&params, s, 10_000, 40, &Knobs::default()).unwrap_or_else(|m| {
        panic!(
            "seed {s}: {m}\n{}",
            replay_hint("off_zeroes_every_mapped_page_in_dram", s)
        )
    });
    let c = &st.counters;
    assert_eq!((c.reads_bypassed, c.writebacks_dropped), (0, 0), "seed {s}");
    assert!(
        c.zero_lines > 0 && c.zero_lines.is_multiple_of(64),
        "seed {s}: whole pages are zeroed: {st:?}"
    );
}

/// The `off` baseline: the unit passes every fill and writeback to DRAM and does nothing on a map
/// or a reclaim (the OS zeroes through the cache above it).
#[test]
fn off_without_dram_zero_only_passes_through() {
    let s = seed::seed();
    let params = Params {
        bypass_on: false,
        ..Params::default()
    };
    let st = run(&params, s, 10_000, 40, &Knobs::default()).unwrap_or_else(|m| {
        panic!(
            "seed {s}: {m}\n{}",
            replay_hint("off_without_dram_zero_only_passes_through", s)
        )
    });
    let c = &st.counters;
    assert_eq!(
        (c.reads_bypassed, c.writebacks_dropped, c.zero_lines),
        (0, 0, 0),
        "seed {s}"
    );
    // The counters count from the last reset in the middle of the run.
    assert!(
        c.dram_reads > 0 && c.dram_writes > 0 && st.fills_checked > 1000,
        "seed {s}: {st:?}"
    );
}

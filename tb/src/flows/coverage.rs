//! Functional coverage: one named bin for every situation of the contract, counted from what the
//! runs did. A regression list is expected to hit every bin; `memento regress` fails on a bin at
//! zero.

use crate::envs::core::CoreRunStats;
use std::collections::BTreeMap;

/// Every bin with its count. Which bins exist does not depend on the run: a bin never hit is there
/// with 0.
pub fn bins(s: &CoreRunStats) -> BTreeMap<String, u64> {
    let h = &s.hoa;
    let p = &s.pages;
    let b = &s.mem.bypass;
    let path = |k: &str| h.paths.get(k).copied().unwrap_or(0);
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: u64| {
        out.insert(k.to_string(), v);
    };
    for c in 0..64 {
        put(
            &format!("alloc.class.{c:02}"),
            h.alloc_class.get(c).copied().unwrap_or(0),
        );
        put(
            &format!("free.class.{c:02}"),
            h.free_class.get(c).copied().unwrap_or(0),
        );
    }
    put("alloc.oversize", path("AllocOversize"));
    put("alloc.hot_hit", path("AllocHit"));
    put("alloc.hot_miss.pop", path("AllocPop"));
    put("alloc.hot_miss.new_arena", path("AllocNew"));
    put("alloc.evict_dirty_entry", path("AllocEvictDirty"));
    put("alloc.lane_full", path("AllocLaneFull"));
    put("free.hot_hit", path("FreeHit"));
    put("free.hot_miss", path("FreeMiss"));
    put("free.hot_miss.push_available", path("FreeMissPush"));
    put(
        "free.invalid.out_of_region",
        path("FreeInvalid(OutOfRegion)"),
    );
    put("free.invalid.in_header", path("FreeInvalid(InHeader)"));
    put("free.invalid.misaligned", path("FreeInvalid(Misaligned)"));
    put("free.invalid.past_end", path("FreeInvalid(PastEnd)"));
    put("free.invalid.not_created", path("FreeInvalid(NotCreated)"));
    put("free.double.in_hot", path("DoubleFreeHit"));
    put("free.double.in_memory", path("DoubleFreeMiss"));
    put("hdc.free_hit", path("FreeCached") + path("FreeCachedPush"));
    put("hdc.double_free", path("DoubleFreeCached"));
    put("hdc.evict_write_back", path("HdcEvict"));
    put("hdc.pop_into_hot", path("HdcPop"));
    put("exit.with_live_objects", h.exits_with_live);
    put("cmd.reserved_op", path("Reserved"));
    put("reset.for_exit", h.resets);
    put("pool.refill", p.refill_requests);
    put("pool.request_on_watermark_write", p.watermark_requests);
    put("pool.drain", p.frames_drained);
    put("pool.starved", s.starved_cycles);
    put("pool.recovered_walk", p.starved_walks);
    for (n, v) in p.maps_by_new_tables.iter().enumerate() {
        put(&format!("map.new_tables.{n}"), *v);
    }
    put("map.walker_fault", s.walker_faults);
    put("exit.frames_returned", p.frames_returned_at_exit);
    put("bypass.fresh_read", b.reads_bypassed);
    put("bypass.dram_read", b.dram_reads);
    put("bypass.dead_writeback_dropped", b.writebacks_dropped);
    put("bypass.evict_with_fresh_lines", s.mem.evictions_with_fresh);
    out
}

/// The bins at zero.
pub fn missing(bins: &BTreeMap<String, u64>) -> Vec<String> {
    bins.iter()
        .filter(|(_, v)| **v == 0)
        .map(|(k, _)| k.clone())
        .collect()
}

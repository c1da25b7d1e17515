//! The bypass unit on its own: the testbench plays the last-level cache (fills and writebacks of
//! lines in mapped frames) and the page allocator (map and reclaim events), over a DRAM model whose
//! never-written lines hold stale garbage, as a reused frame would. Every DRAM access is compared
//! with the bypass model, and every fill's data with the guarantee: the last value written since
//! the frame was mapped, or zero.

use crate::agents::chance;
use crate::env::Dram;
use crate::line::{bytes, short, words};
use crate::model::bypass::{
    record_words, BypassCounters, BypassModel, DramAccess, FillSource, Guarantee, MetaAccess,
};
use crate::scoreboard::take_expected;
use crate::scoreboard::Mismatch;
use crate::seed;
use memento_hw::emit::Design;
use memento_hw::Params;
use memento_sim::bypass as p;
use memento_sim::Model;
use rand::seq::SliceRandom;
use rand::Rng;

/// A request of the cache side.
#[derive(Copy, Clone, Debug)]
enum Event {
    Fill(u64),
    Writeback(u64, [u8; 64]),
}

/// An event of the page allocator (a frame mapped or reclaimed) or of the cache.
enum Planned {
    Map(u64),
    Dead(u64),
    Mem(Event),
}

fn page_free_now(map: Option<u64>, dead: Option<u64>) -> bool {
    map.is_none() && dead.is_none()
}

/// A random event, drawn by `knobs.mix`: a frame not mapped is mapped, a mapped frame reclaimed,
/// or a line of a mapped frame (one access in `dead_access`: of a reclaimed one) filled or
/// written back.
fn draw(knobs: &Knobs, all: &[u64], mapped: &[u64], dead: &[u64], rng: &mut impl Rng) -> Planned {
    let [m, d, c] = knobs.mix;
    let r = rng.gen_range(0..(m + d + c).max(1));
    let unmapped: Vec<u64> = all
        .iter()
        .copied()
        .filter(|f| !mapped.contains(f))
        .collect();
    if (r < m || mapped.is_empty()) && !unmapped.is_empty() {
        return Planned::Map(*unmapped.choose(rng).unwrap());
    }
    if r < m + d && !mapped.is_empty() {
        // An exit reclaims a frame: its late writebacks must be dropped.
        return Planned::Dead(*mapped.choose(rng).unwrap());
    }
    let frame = if rng.gen_ratio(1, knobs.dead_access.max(1)) && !dead.is_empty() {
        *dead.choose(rng).unwrap()
    } else {
        *mapped.choose(rng).unwrap_or(&all[0])
    };
    let addr = (frame << 12) | (rng.gen_range(0..64) << 6);
    Planned::Mem(if rng.gen_bool(0.55) {
        Event::Fill(addr)
    } else {
        Event::Writeback(addr, std::array::from_fn(|_| rng.gen()))
    })
}

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

/// `n` distinct frame numbers below `2^(PA_BITS-12)`, none zero: a random frame and its
/// neighbours that differ from it in one bit each, then its complement and the complement's
/// neighbours (bits in random order, so that a table compare that ignores bit `k` meets two frames
/// told apart by `k` alone, and every bit is 0 in some frames and 1 in others, so that logic
/// that mixes two frame bits meets both values of each), then random frames.
fn frame_set(params: &Params, n: u64, rng: &mut impl Rng) -> Vec<u64> {
    let bits = params.pa_bits - 12;
    let mask = (1u64 << bits) - 1;
    let base = loop {
        let b = rng.gen_range(1..1u64 << bits);
        if b.count_ones() > 1 && (b ^ mask).count_ones() > 1 {
            break b;
        }
    };
    let mut order: Vec<u32> = (0..bits).collect();
    order.shuffle(rng);
    let half = (n as usize).div_ceil(2);
    let mut all = vec![base];
    all.extend(order.iter().take(half - 1).map(|k| base ^ (1 << k)));
    let other = base ^ mask;
    all.push(other);
    all.extend(order.iter().skip(half - 1).map(|k| other ^ (1 << k)));
    all.truncate(n as usize);
    while (all.len() as u64) < n {
        let f = rng.gen_range(1..1u64 << bits);
        if !all.contains(&f) {
            all.push(f);
        }
    }
    all
}

/// Cycles from a map or reclaim event taken in Idle to Idle again when it writes no record: the
/// table is looked up (`Lookup`), the entry written (`Decide`), and the bypass is back.
const EVENT_CYCLES: u64 = 3;

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
    /// it ([`lone_fresh`]).
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
    /// empty after it, whatever the entries held (the environment starts over: no frame mapped,
    /// the record region zeroed again). Without resets in the middle of a run, a reset that left
    /// an entry valid, or a lookup that ignored an entry's valid bit, showed in no test.
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

/// An episode: every line of a frame in the table but one is written back, frames not in the
/// table are mapped until it is evicted (its record, with one fresh line, goes to memory), and
/// that line is read (the record comes back, and the line must read as zero). A random stream almost never leaves exactly one fresh line in an entry.
/// Empty when no mapped frame is in the table or too few frames are outside it.
fn lone_fresh(
    model: &BypassModel,
    all: &[u64],
    mapped: &[u64],
    entries: usize,
    rng: &mut impl Rng,
) -> Vec<Planned> {
    let resident: Vec<u64> = mapped.iter().copied().filter(|&f| model.holds(f)).collect();
    let outside: Vec<u64> = all
        .iter()
        .copied()
        .filter(|&f| !mapped.contains(&f) && !model.holds(f))
        .collect();
    let Some(&f) = resident.choose(rng) else {
        return vec![];
    };
    if outside.len() < entries {
        return vec![];
    }
    let keep = rng.gen_range(0..64u64);
    let mut plan: Vec<Planned> = (0..64)
        .filter(|&l| l != keep)
        .map(|l| {
            Planned::Mem(Event::Writeback(
                (f << 12) | (l << 6),
                std::array::from_fn(|_| rng.gen()),
            ))
        })
        .collect();
    plan.extend(
        outside
            .choose_multiple(rng, entries)
            .map(|&g| Planned::Map(g)),
    );
    plan.push(Planned::Mem(Event::Fill((f << 12) | (keep << 6))));
    plan
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
    let vt = memento_sim::model_for(Design::Bypass, params)
        .unwrap_or_else(|| panic!("no compiled bypass for {}", params.summary()));
    assert_eq!(
        vt.ports,
        p::PORTS,
        "every bypass variant has the same ports"
    );
    let mut dut = Model::new(vt);
    let mut rng = seed::rng(seed, 0xb7a5);
    let mut junk = seed::rng(seed, 0x7a11);
    // Gaps come from their own stream, so that the events drawn are the same with or without them.
    let mut gaps = seed::rng(seed, 0x6a95);
    let mut model = BypassModel::new(params);
    let mut guarantee = Guarantee::default();
    let mut dram = Dram::new(seed);
    // The records in memory (the cache above would hold them), and the record read in flight:
    // (due cycle, the record).
    let mut records: std::collections::HashMap<u64, (u64, bool)> = Default::default();
    let mut meta_read: Option<(u64, (u64, bool))> = None;
    let mut stats = BypassRunStats::default();
    let all = frame_set(params, frames, &mut rng);
    let mut mapped: Vec<u64> = vec![];
    let mut dead: Vec<u64> = vec![];

    dut.reset();
    let start = dut.cycle();
    let (mut evt_map, mut evt_dead, mut evt_mem): (Option<u64>, Option<u64>, Option<Event>) =
        (None, None, None);
    let mut pending_fill: Option<(u64, Option<[u8; 64]>, FillSource)> = None;
    let mut issued = 0u64;
    let mut plan: std::collections::VecDeque<Planned> = Default::default();
    let mut last_progress = 0;
    let mut wide = [0u32; 16];
    // The cycle by which the bypass must be back in Idle after an event that zeroes nothing.
    let mut idle_due: Option<u64> = None;
    // The event count after which the next quiet point resets the unit.
    let mut next_reset = knobs.reset_every;

    loop {
        let cycle = dut.cycle() - start;
        // Between events, with nothing in flight, the counters are those of the events done: a
        // counter bit that only a count with another bit set shows is seen when it is set, not
        // only if the final count happens to have it.
        let quiet = evt_map.is_none()
            && evt_dead.is_none()
            && evt_mem.is_none()
            && pending_fill.is_none()
            && model.expected_dram.is_empty()
            && model.expected_meta.is_empty()
            && meta_read.is_none()
            && dut.peek(p::MEM_REQ_READY) == 1;
        if quiet && issued >= events {
            // The bypass is back in Idle (ready for a request): its counters are final.
            break;
        }
        if quiet && issued > 0 {
            check_counters(
                &mut dut,
                &model,
                &dram,
                cycle,
                issued,
                "between events",
                params.cnt_bits,
            )?;
            if knobs.reset_every > 0 && issued >= next_reset {
                next_reset = issued + knobs.reset_every;
                for v in [
                    p::MAP_VALID,
                    p::DEAD_VALID,
                    p::MEM_REQ_VALID,
                    p::META_RSP_VALID,
                    p::DRAM_RSP_VALID,
                ] {
                    dut.poke(v, 0);
                }
                dut.reset();
                model = BypassModel::new(params);
                guarantee = Guarantee::default();
                mapped.clear();
                dead.clear();
                records.clear();
                plan.clear();
                // The counters start from zero again; DRAM keeps its (now stale) contents.
                dram.reads_done = 0;
                dram.writes_done = 0;
                stats.resets += 1;
                continue;
            }
        }
        // The page allocator and the cache each keep one event on offer: one at a time, or in
        // overlapping phases each whenever its port is free (a directed episode runs alone).
        let page_free = evt_map.is_none() && evt_dead.is_none();
        let all_free = page_free && evt_mem.is_none();
        let overlap =
            knobs.overlap_every > 0 && (issued / knobs.overlap_every) % 2 == 1 && plan.is_empty();
        if issued < events && (all_free || overlap) && !chance(&mut gaps, knobs.gap) {
            if all_free
                && plan.is_empty()
                && knobs.lone_every > 0
                && (issued + 1).is_multiple_of(knobs.lone_every)
            {
                let entries = params.bypass as usize;
                plan.extend(lone_fresh(&model, &all, &mapped, entries, &mut rng));
            }
            let drawn = plan
                .pop_front()
                .unwrap_or_else(|| draw(knobs, &all, &mapped, &dead, &mut rng));
            // An event whose port is busy is dropped: nothing is issued this cycle.
            let placed = match drawn {
                Planned::Map(f) if page_free => evt_map.replace(f).is_none(),
                Planned::Dead(f) if page_free => evt_dead.replace(f).is_none(),
                Planned::Mem(e) if evt_mem.is_none() => evt_mem.replace(e).is_none(),
                _ => false,
            };
            issued += placed as u64;
        }
        dut.poke(p::MAP_VALID, evt_map.is_some() as u64);
        dut.poke(p::MAP_FRAME, evt_map.unwrap_or(0));
        dut.poke(p::DEAD_VALID, evt_dead.is_some() as u64);
        dut.poke(p::DEAD_FRAME, evt_dead.unwrap_or(0));
        let (mem_valid, write, addr, data) = match evt_mem {
            // A fill's write data means nothing: the cache side drives junk there (from its
            // own stream, so that the events drawn are the same with or without it).
            Some(Event::Fill(a)) => (true, false, a, std::array::from_fn(|_| junk.gen())),
            Some(Event::Writeback(a, d)) => (true, true, a, d),
            _ => (false, false, 0, [0; 64]),
        };
        dut.poke(p::MEM_REQ_VALID, mem_valid as u64);
        stats.events_meeting_requests += (mem_valid && !page_free_now(evt_map, evt_dead)) as u64;
        dut.poke(p::MEM_REQ_WRITE, write as u64);
        dut.poke(p::MEM_REQ_ADDR, addr);
        dut.poke_wide(p::MEM_REQ_WDATA, &words(&data));
        let mem_rsp_ready = !chance(&mut rng, 0.3);
        dut.poke(p::MEM_RSP_READY, mem_rsp_ready as u64);
        let dram_req_ready = !chance(&mut rng, 0.3);
        dut.poke(p::DRAM_REQ_READY, dram_req_ready as u64);
        let meta_req_ready = !chance(&mut rng, 0.3);
        dut.poke(p::META_REQ_READY, meta_req_ready as u64);
        let meta_data = meta_read
            .filter(|(due, _)| *due <= cycle)
            .filter(|_| !chance(&mut rng, 0.2))
            .map(|(_, r)| r);
        dut.poke(p::META_RSP_VALID, meta_data.is_some() as u64);
        let (m_fresh, m_dead) = meta_data.unwrap_or((0, false));
        dut.poke_wide(p::META_RSP_RDATA, &record_words(m_fresh, m_dead));
        let dram_data = dram.due(cycle).filter(|_| !chance(&mut rng, 0.2));
        dut.poke(p::DRAM_RSP_VALID, dram_data.is_some() as u64);
        dut.poke_wide(p::DRAM_RSP_RDATA, &words(&dram_data.unwrap_or([0; 64])));
        dut.settle();
        let fail = |what: &str, expected: String, got: String| {
            Box::new(Mismatch {
                cycle,
                command: issued,
                op: "bypass".into(),
                what: what.into(),
                expected,
                got,
            })
        };

        // In Idle exactly one of the event readies is up (the map's when a map is offered, else
        // the reclaim's), and no ready is up in any other state.
        let idle = dut.peek(p::MAP_READY) == 1 || dut.peek(p::DEAD_READY) == 1;
        if idle_due == Some(cycle) {
            idle_due = None;
            if !idle {
                return Err(fail(
                    "event latency",
                    format!(
                        "back in Idle {EVENT_CYCLES} cycles after a map or reclaim event that \
                         writes no record and zeroes no line (Lookup, Decide)"
                    ),
                    "busy".into(),
                ));
            }
        }
        let writes_before = (model.record_writes, model.counters.zero_lines);
        let event_taken = (evt_map.is_some() && dut.peek(p::MAP_READY) == 1)
            || (evt_dead.is_some() && dut.peek(p::DEAD_READY) == 1);
        if let Some(f) = evt_map.filter(|_| dut.peek(p::MAP_READY) == 1) {
            model.map(f);
            guarantee.map(f);
            if !params.bypass_on && !params.dram_zero {
                // The `off` baseline: the OS zeroes the page through the cache above the unit,
                // which passes the zero lines on; here they are in DRAM at once.
                for l in 0..64 {
                    dram.preload((f << 12) | (l << 6), [0; 64]);
                }
            }
            mapped.push(f);
            dead.retain(|&d| d != f);
            evt_map = None;
            last_progress = cycle;
        }
        if let Some(f) = evt_dead.filter(|_| dut.peek(p::DEAD_READY) == 1) {
            model.dead(f);
            guarantee.unmap(f);
            mapped.retain(|&m| m != f);
            dead.push(f);
            evt_dead = None;
            last_progress = cycle;
        }
        if event_taken && (model.record_writes, model.counters.zero_lines) == writes_before {
            idle_due = Some(cycle + EVENT_CYCLES);
        }
        if mem_valid && dut.peek(p::MEM_REQ_READY) == 1 {
            if write {
                model.writeback(addr, data);
                guarantee.write(addr, data);
            } else {
                let src = model.fill(addr);
                pending_fill = Some((addr, guarantee.expect(addr), src));
            }
            evt_mem = None;
            last_progress = cycle;
        }
        if dut.peek(p::DRAM_REQ_VALID) == 1 && dram_req_ready {
            let a = dut.peek(p::DRAM_REQ_ADDR);
            let got = if dut.peek(p::DRAM_REQ_WRITE) == 1 {
                dut.peek_wide(p::DRAM_REQ_WDATA, &mut wide);
                DramAccess::Write(a, bytes(&wide))
            } else {
                DramAccess::Read(a)
            };
            take_expected(&mut model.expected_dram, &got)
                .map_err(|(e, g)| fail("DRAM access differs", e, g))?;
            match got {
                DramAccess::Write(a, d) => dram.write(a, d),
                DramAccess::Read(a) => dram.start_read(a, cycle + rng.gen_range(2..30)),
            }
            last_progress = cycle;
        }
        if dram_data.is_some() && dut.peek(p::DRAM_RSP_READY) == 1 {
            dram.pop_read();
        }
        if dut.peek(p::META_REQ_VALID) == 1 && meta_req_ready {
            let f = dut.peek(p::META_REQ_FRAME);
            let mut w = [0u32; 3];
            dut.peek_wide(p::META_REQ_WDATA, &mut w);
            let got = MetaAccess::of_port(f, dut.peek(p::META_REQ_WRITE) == 1, &w);
            take_expected(&mut model.expected_meta, &got)
                .map_err(|(e, g)| fail("metadata access differs", e, g))?;
            match got {
                MetaAccess::Write(f, fresh, dead) => {
                    records.insert(f, (fresh, dead));
                    stats.record_writes += 1;
                }
                MetaAccess::Read(f) => {
                    let r = records.get(&f).copied().unwrap_or((0, false));
                    meta_read = Some((cycle + rng.gen_range(1..20), r));
                    stats.record_reads += 1;
                }
            }
            last_progress = cycle;
        }
        if meta_data.is_some() && dut.peek(p::META_RSP_READY) == 1 {
            meta_read = None;
        }
        if dut.peek(p::MEM_RSP_VALID) == 1 && mem_rsp_ready {
            dut.peek_wide(p::MEM_RSP_RDATA, &mut wide);
            let got = bytes(&wide);
            let Some((a, expect, src)) = pending_fill.take() else {
                return Err(fail(
                    "fill response with no fill outstanding",
                    "none".into(),
                    short(&got),
                ));
            };
            if src == FillSource::Zero && got != [0; 64] {
                return Err(fail(
                    &format!("bypassed fill of {a:x} is not zero"),
                    "zero line".into(),
                    short(&got),
                ));
            }
            if let Some(e) = expect {
                stats.fills_checked += 1;
                if got != e {
                    return Err(fail(
                        &format!("read of mapped line {a:x} breaks the guarantee"),
                        short(&e),
                        short(&got),
                    ));
                }
            }
            last_progress = cycle;
        }
        dut.step();
        if dut.rtl_errors() > 0 {
            return Err(fail(
                "RTL assertion failed (its message is printed above)",
                "no $error".into(),
                format!("{} errors", dut.rtl_errors()),
            ));
        }
        if cycle - last_progress > 10_000 {
            return Err(fail(
                "watchdog: no progress",
                "progress within 10000 cycles".into(),
                "waiting on the map/dead/mem/dram/meta ports".into(),
            ));
        }
    }
    let end = dut.cycle() - start;
    let got = check_counters(
        &mut dut,
        &model,
        &dram,
        end,
        issued,
        "end of run",
        params.cnt_bits,
    )?;
    stats.events = issued;
    stats.cycles = dut.cycle() - start;
    stats.counters = got;
    Ok(stats)
}

/// The counter outputs against the model's counts and the DRAM's, with nothing in flight.
fn check_counters(
    dut: &mut Model,
    model: &BypassModel,
    dram: &Dram,
    cycle: u64,
    issued: u64,
    when: &str,
    cnt_bits: u32,
) -> Result<BypassCounters, Box<Mismatch>> {
    let got = BypassCounters {
        reads_bypassed: dut.peek(p::CNT_READS_BYPASSED),
        writebacks_dropped: dut.peek(p::CNT_WRITEBACKS_DROPPED),
        zero_lines: dut.peek(p::CNT_ZERO_LINES),
        dram_reads: dut.peek(p::CNT_DRAM_READS),
        dram_writes: dut.peek(p::CNT_DRAM_WRITES),
    };
    let expected = model.counters.wrapped(cnt_bits);
    if !model
        .counters
        .shown_as(&got, dram.reads_done, dram.writes_done, cnt_bits)
    {
        return Err(Box::new(Mismatch {
            cycle,
            command: issued,
            op: when.into(),
            what: format!("counters differ ({cnt_bits}-bit counters)"),
            expected: format!("{expected:?}"),
            got: format!("{got:?}"),
        }));
    }
    Ok(model.counters.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame set: distinct, non-zero frames below 2^(PA_BITS-12), a random frame's
    /// single-bit neighbours, then its complement's; in every set each frame bit is 0 in some
    /// frame and 1 in another, and over a few seeds every frame bit tells two frames apart.
    #[test]
    fn frame_sets_hold_single_bit_neighbours() {
        let p = Params::default();
        let bits = p.pa_bits - 12;
        let mask = (1u64 << bits) - 1;
        let mut told_apart = 0u64;
        for seed in 0..4 {
            let mut rng = seed::rng(seed, 1);
            let all = frame_set(&p, 24, &mut rng);
            assert_eq!(all.len(), 24);
            let mut sorted = all.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 24, "distinct: {all:x?}");
            assert!(all.iter().all(|&f| f > 0 && f < 1 << bits), "{all:x?}");
            let (a, b) = (all[0], all[12]);
            assert_eq!(a ^ b, mask, "{a:x} and {b:x} are complements");
            for (i, f) in all.iter().enumerate().filter(|&(i, _)| i != 0 && i != 12) {
                let d = f ^ if i < 12 { a } else { b };
                assert_eq!(d.count_ones(), 1, "{f:x} next to {a:x} or {b:x}");
                told_apart |= d;
            }
            let ones = all.iter().fold(0, |o, f| o | f);
            let zeros = all.iter().fold(0, |z, f| z | (f ^ mask));
            assert_eq!((ones, zeros), (mask, mask), "every bit both ways: {all:x?}");
        }
        assert_eq!(
            told_apart,
            (1 << bits) - 1,
            "every frame bit, over four seeds"
        );
    }
}

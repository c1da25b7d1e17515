//! The bypass env: the unit, an agent per interface, DRAM and the record memory, and the
//! scoreboard (the bypass model's DRAM and record accesses, the guarantee on every fill, the
//! counters between events), stepped once each per cycle in a fixed order.

use super::plan::{draw, frame_set, lone_fresh, page_free_now, Event, Planned};
use super::{BypassRunStats, Knobs, EVENT_CYCLES};
use crate::agents::bypass::{CacheAgent, Counters, DramAgent, EventSource, LineReq, MetaAgent};
use crate::agents::chance;
use crate::env::Dram;
use crate::line::short;
use crate::model::bypass::{
    BypassCounters, BypassModel, DramAccess, FillSource, Guarantee, MetaAccess,
};
use crate::scoreboard::{take_expected, Mismatch, Place};
use crate::seed;
use memento_hw::emit::Design;
use memento_hw::Params;
use memento_sim::Model;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, VecDeque};

type Check<T = ()> = Result<T, Box<Mismatch>>;

/// Cycles without progress before the run fails.
const WATCHDOG: u64 = 10_000;

pub struct BypassEnv<'k> {
    params: Params,
    knobs: &'k Knobs,
    events: u64,
    dut: Model,
    start: u64,
    rng: ChaCha8Rng,
    /// The fill data the cache side drives (meaningless), from its own stream so that the events
    /// drawn are the same with or without it.
    junk: ChaCha8Rng,
    /// Gaps come from their own stream, so that the events drawn are the same with or without
    /// them.
    gaps: ChaCha8Rng,
    cache: CacheAgent,
    dram_port: DramAgent,
    meta: MetaAgent,
    pager: EventSource,
    cnt: Counters,
    model: BypassModel,
    guarantee: Guarantee,
    dram: Dram,
    /// The records in memory (the cache above would hold them), and the record read in flight:
    /// (due cycle, the record).
    records: HashMap<u64, (u64, bool)>,
    meta_read: Option<(u64, (u64, bool))>,
    stats: BypassRunStats,
    all: Vec<u64>,
    mapped: Vec<u64>,
    dead: Vec<u64>,
    /// The events on offer: a frame to map, a frame to reclaim, a cache request.
    evt_map: Option<u64>,
    evt_dead: Option<u64>,
    evt_mem: Option<Event>,
    /// The fill taken and not yet answered: (line, the guarantee's value, who answers).
    pending_fill: Option<(u64, Option<[u8; 64]>, FillSource)>,
    /// The cycle DRAM's answer to the pending fill's read was taken: a fill read from DRAM may be
    /// answered only in a later cycle (the unit passes on data it has received).
    fill_dram_answer: Option<u64>,
    issued: u64,
    plan: VecDeque<Planned>,
    last_progress: u64,
    /// The cycle by which the bypass must be back in Idle after an event that zeroes nothing.
    idle_due: Option<u64>,
    /// The event count after which the next quiet point resets the unit.
    next_reset: u64,
    place: Place,
}

impl<'k> BypassEnv<'k> {
    pub fn new(params: &Params, seed: u64, events: u64, frames: u64, knobs: &'k Knobs) -> Self {
        let vt = memento_sim::model_for(Design::Bypass, params)
            .unwrap_or_else(|| panic!("no compiled bypass for {}", params.summary()));
        let mut dut = Model::new(vt);
        let mut rng = seed::rng(seed, 0xb7a5);
        let all = frame_set(params, frames, &mut rng);
        dut.reset();
        let start = dut.cycle();
        BypassEnv {
            params: params.clone(),
            knobs,
            events,
            start,
            rng,
            junk: seed::rng(seed, 0x7a11),
            gaps: seed::rng(seed, 0x6a95),
            cache: CacheAgent::of(vt, 0.3).expect("the bypass has a cache port"),
            dram_port: DramAgent::of(vt, 0.3, 0.2),
            meta: MetaAgent::of(vt, 0.3, 0.2),
            pager: EventSource::of(vt),
            cnt: Counters::of(vt),
            dut,
            model: BypassModel::new(params),
            guarantee: Guarantee::default(),
            dram: Dram::new(seed),
            records: HashMap::new(),
            meta_read: None,
            stats: BypassRunStats::default(),
            all,
            mapped: vec![],
            dead: vec![],
            evt_map: None,
            evt_dead: None,
            evt_mem: None,
            pending_fill: None,
            fill_dram_answer: None,
            issued: 0,
            plan: VecDeque::new(),
            last_progress: 0,
            idle_due: None,
            next_reset: knobs.reset_every,
            place: Place::default(),
        }
    }

    fn cycle(&self) -> u64 {
        self.dut.cycle() - self.start
    }

    /// One cycle of every part; `Ok(true)` once every event is issued and the unit is quiet.
    pub fn step(&mut self) -> Check<bool> {
        let cycle = self.cycle();
        // Between events, with nothing in flight, the counters are those of the events done: a
        // counter bit that only a count with another bit set shows is seen when it is set, not
        // only if the final count happens to have it.
        let quiet = self.quiet();
        if quiet && self.issued >= self.events {
            // The bypass is back in Idle (ready for a request): its counters are final.
            return Ok(true);
        }
        if quiet && self.issued > 0 {
            self.check_counters(cycle, "between events")?;
            if self.knobs.reset_every > 0 && self.issued >= self.next_reset {
                self.reset();
                return Ok(false);
            }
        }
        self.issue();
        self.place.at(cycle, self.issued, "bypass".into());
        let mem = self.drive();
        self.dut.settle();
        self.check_idle(cycle)?;
        self.observe_events(cycle);
        if let Some(req) = mem.filter(|_| self.cache.taken(&mut self.dut)) {
            self.request_taken(req);
            self.last_progress = cycle;
        }
        self.observe_dram(cycle)?;
        self.observe_meta(cycle)?;
        self.observe_fill(cycle)?;
        self.dut.step();
        if self.dut.rtl_errors() > 0 {
            return Err(self.place.fail(
                "RTL assertion failed (its message is printed above)",
                "no $error".into(),
                format!("{} errors", self.dut.rtl_errors()),
            ));
        }
        if cycle - self.last_progress > WATCHDOG {
            return Err(self.place.fail(
                "watchdog: no progress",
                format!("progress within {WATCHDOG} cycles"),
                "waiting on the map/dead/mem/dram/meta ports".into(),
            ));
        }
        Ok(false)
    }

    /// Nothing on offer, in flight or expected, and the unit in Idle.
    fn quiet(&mut self) -> bool {
        self.evt_map.is_none()
            && self.evt_dead.is_none()
            && self.evt_mem.is_none()
            && self.pending_fill.is_none()
            && self.model.expected_dram.is_empty()
            && self.model.expected_meta.is_empty()
            && self.meta_read.is_none()
            && self.cache.ready(&mut self.dut)
    }

    /// Resets the unit at a quiet point; the record region is zeroed again and DRAM keeps its
    /// (now stale) contents. Every other reset the environment starts over (no frame mapped);
    /// at the others the frames stay mapped, so that the unit, its table empty, meets cache
    /// requests for frames it has no entry for while it has free slots.
    fn reset(&mut self) {
        self.next_reset = self.issued + self.knobs.reset_every;
        let dut = &mut self.dut;
        self.pager.hold(dut);
        self.cache.hold(dut);
        self.meta.hold(dut);
        self.dram_port.hold(dut);
        dut.reset();
        self.model = BypassModel::new(&self.params);
        self.guarantee = Guarantee::default();
        if self.stats.resets.is_multiple_of(2) {
            self.mapped.clear();
            self.dead.clear();
        }
        self.records.clear();
        self.plan.clear();
        // The counters start from zero again.
        self.dram.reads_done = 0;
        self.dram.writes_done = 0;
        self.stats.resets += 1;
    }

    /// The page allocator and the cache each keep one event on offer: one at a time, or in
    /// overlapping phases each whenever its port is free (a directed episode runs alone).
    fn issue(&mut self) {
        let k = self.knobs;
        let page_free = self.evt_map.is_none() && self.evt_dead.is_none();
        let all_free = page_free && self.evt_mem.is_none();
        let overlap =
            k.overlap_every > 0 && (self.issued / k.overlap_every) % 2 == 1 && self.plan.is_empty();
        if self.issued >= self.events || !(all_free || overlap) || chance(&mut self.gaps, k.gap) {
            return;
        }
        // A reset is due: nothing new until the unit drains to a quiet point (an episode in
        // progress finishes first). Without this, overlapping traffic can keep it from ever
        // being quiet, and a run meant to reset every `reset_every` events resets once or never.
        if k.reset_every > 0 && self.issued >= self.next_reset && self.plan.is_empty() {
            return;
        }
        if all_free
            && self.plan.is_empty()
            && k.lone_every > 0
            && (self.issued + 1).is_multiple_of(k.lone_every)
        {
            let entries = self.params.bypass as usize;
            let episode = lone_fresh(&self.model, &self.all, &self.mapped, entries, &mut self.rng);
            self.plan.extend(episode);
        }
        let drawn = self
            .plan
            .pop_front()
            .unwrap_or_else(|| draw(k, &self.all, &self.mapped, &self.dead, &mut self.rng));
        // An event whose port is busy is dropped: nothing is issued this cycle.
        let placed = match drawn {
            Planned::Map(f) if page_free => self.evt_map.replace(f).is_none(),
            Planned::Dead(f) if page_free => self.evt_dead.replace(f).is_none(),
            Planned::Mem(e) if self.evt_mem.is_none() => self.evt_mem.replace(e).is_none(),
            _ => false,
        };
        self.issued += placed as u64;
    }

    /// Every agent drives its side of the pins; returns the cache request on offer.
    fn drive(&mut self) -> Option<LineReq> {
        let (dut, rng) = (&mut self.dut, &mut self.rng);
        self.pager.drive(dut, rng, self.evt_map, self.evt_dead);
        let req = match self.evt_mem {
            // A fill's write data means nothing: the cache side drives junk there.
            Some(Event::Fill(addr)) => Some(LineReq {
                write: false,
                addr,
                data: std::array::from_fn(|_| self.junk.gen()),
            }),
            Some(Event::Writeback(addr, data)) => Some(LineReq {
                write: true,
                addr,
                data,
            }),
            None => None,
        };
        self.stats.events_meeting_requests +=
            (req.is_some() && !page_free_now(self.evt_map, self.evt_dead)) as u64;
        self.cache.drive_req(dut, rng, req);
        self.cache.drive_rsp(dut, rng);
        self.dram_port.drive_req(dut, rng);
        self.meta.drive_req(dut, rng);
        let cycle = dut.cycle() - self.start;
        let record = self
            .meta_read
            .filter(|(due, _)| *due <= cycle)
            .map(|(_, r)| r);
        self.meta.drive_rsp(dut, rng, record);
        self.dram_port.drive_rsp(dut, rng, self.dram.due(cycle));
        req
    }

    /// In Idle exactly one of the event readies is up (the map's when a map is offered, else
    /// the reclaim's), and no ready is up in any other state: an event that writes no record
    /// and zeroes no line has the unit back in Idle after [`EVENT_CYCLES`].
    fn check_idle(&mut self, cycle: u64) -> Check {
        let idle = self.pager.ready(&mut self.dut);
        if self.idle_due != Some(cycle) {
            return Ok(());
        }
        self.idle_due = None;
        if idle {
            return Ok(());
        }
        Err(self.place.fail(
            "event latency",
            format!(
                "back in Idle {EVENT_CYCLES} cycles after a map or reclaim event that \
                 writes no record and zeroes no line (Lookup, Decide)"
            ),
            "busy".into(),
        ))
    }

    /// Map and reclaim events taken: into the model, the guarantee and the frame sets.
    fn observe_events(&mut self, cycle: u64) {
        let writes_before = (self.model.record_writes, self.model.counters.zero_lines);
        let (map, dead) = self.pager.taken(&mut self.dut);
        if let Some(f) = self.evt_map.filter(|_| map) {
            self.model.map(f);
            self.guarantee.map(f);
            if !self.params.bypass_on && !self.params.dram_zero {
                // The `off` baseline: the OS zeroes the page through the cache above the unit,
                // which passes the zero lines on; here they are in DRAM at once.
                for l in 0..64 {
                    self.dram.preload((f << 12) | (l << 6), [0; 64]);
                }
            }
            self.mapped.push(f);
            self.dead.retain(|&d| d != f);
            self.evt_map = None;
            self.last_progress = cycle;
        }
        if let Some(f) = self.evt_dead.filter(|_| dead) {
            self.model.dead(f);
            self.guarantee.unmap(f);
            self.mapped.retain(|&m| m != f);
            self.dead.push(f);
            self.evt_dead = None;
            self.last_progress = cycle;
        }
        let writes = (self.model.record_writes, self.model.counters.zero_lines);
        if (map || dead) && writes == writes_before {
            self.idle_due = Some(cycle + EVENT_CYCLES);
        }
    }

    /// The cache request taken: a writeback into the model and the guarantee, or a fill whose
    /// answer is awaited.
    fn request_taken(&mut self, req: LineReq) {
        if req.write {
            self.model.writeback(req.addr, req.data);
            self.guarantee.write(req.addr, req.data);
        } else {
            let src = self.model.fill(req.addr);
            self.pending_fill = Some((req.addr, self.guarantee.expect(req.addr), src));
            self.fill_dram_answer = None;
        }
        self.evt_mem = None;
    }

    /// DRAM accesses against the model's, into the DRAM model.
    fn observe_dram(&mut self, cycle: u64) -> Check {
        if let Some(got) = self.dram_port.request(&mut self.dut) {
            take_expected(&mut self.model.expected_dram, &got)
                .map_err(|(e, g)| self.place.fail("DRAM access differs", e, g))?;
            match got {
                DramAccess::Write(a, d) => self.dram.write(a, d),
                DramAccess::Read(a) => self.dram.start_read(a, cycle + self.rng.gen_range(2..30)),
            }
            self.last_progress = cycle;
        }
        if self.dram_port.answered(&mut self.dut) {
            self.dram.pop_read();
            if self.pending_fill.is_some() {
                self.fill_dram_answer = Some(cycle);
            }
        }
        Ok(())
    }

    /// Record accesses against the model's, into the record memory.
    fn observe_meta(&mut self, cycle: u64) -> Check {
        if let Some(got) = self.meta.request(&mut self.dut) {
            take_expected(&mut self.model.expected_meta, &got)
                .map_err(|(e, g)| self.place.fail("metadata access differs", e, g))?;
            match got {
                MetaAccess::Write(f, fresh, dead) => {
                    self.records.insert(f, (fresh, dead));
                    self.stats.record_writes += 1;
                }
                MetaAccess::Read(f) => {
                    let r = self.records.get(&f).copied().unwrap_or((0, false));
                    self.meta_read = Some((cycle + self.rng.gen_range(1..20), r));
                    self.stats.record_reads += 1;
                }
            }
            self.last_progress = cycle;
        }
        if self.meta.answered(&mut self.dut) {
            self.meta_read = None;
        }
        Ok(())
    }

    /// A fill's data: zero when bypassed, and the guarantee's value when it has one.
    fn observe_fill(&mut self, cycle: u64) -> Check {
        let Some(got) = self.cache.fill(&mut self.dut) else {
            return Ok(());
        };
        let Some((a, expect, src)) = self.pending_fill.take() else {
            return Err(self.place.fail(
                "fill response with no fill outstanding",
                "none".into(),
                short(&got),
            ));
        };
        let answered_before = self.fill_dram_answer.take().is_some_and(|c| c < cycle);
        if src == FillSource::Dram && !answered_before {
            return Err(self.place.fail(
                &format!("fill of {a:x} answered before DRAM's answer to its read was taken"),
                "DRAM's answer taken (dram_rsp_valid and dram_rsp_ready) in an earlier cycle"
                    .into(),
                "the fill's answer first".into(),
            ));
        }
        if src == FillSource::Zero && got != [0; 64] {
            return Err(self.place.fail(
                &format!("bypassed fill of {a:x} is not zero"),
                "zero line".into(),
                short(&got),
            ));
        }
        if let Some(e) = expect {
            self.stats.fills_checked += 1;
            if got != e {
                return Err(self.place.fail(
                    &format!("read of mapped line {a:x} breaks the guarantee"),
                    short(&e),
                    short(&got),
                ));
            }
        }
        self.last_progress = cycle;
        Ok(())
    }

    /// The counter outputs against the model's counts and the DRAM's, with nothing in flight.
    fn check_counters(&mut self, cycle: u64, when: &str) -> Check<BypassCounters> {
        let got = self.cnt.read(&mut self.dut);
        let bits = self.params.cnt_bits;
        let (reads, writes) = (self.dram.reads_done, self.dram.writes_done);
        if !self.model.counters.shown_as(&got, reads, writes, bits) {
            let mut place = Place::default();
            place.at(cycle, self.issued, when.into());
            return Err(place.fail(
                &format!("counters differ ({bits}-bit counters)"),
                format!("{:?}", self.model.counters.wrapped(bits)),
                format!("{got:?}"),
            ));
        }
        Ok(self.model.counters.clone())
    }

    /// At the end, with the unit quiet: the final counters, and the run's statistics.
    pub fn finish(mut self) -> Check<BypassRunStats> {
        let end = self.cycle();
        let counters = self.check_counters(end, "end of run")?;
        let mut stats = self.stats;
        stats.events = self.issued;
        stats.cycles = end;
        stats.counters = counters;
        Ok(stats)
    }
}

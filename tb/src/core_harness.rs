//! `memento_core` end to end: commands through the object allocator, arenas mapped by the page
//! allocator, and the program's own accesses through an MMU model.
//!
//! The core issues one command at a time and uses its answer like a program would: it writes a
//! pattern into every object it allocates (touching each page, so a missing page faults to the
//! page allocator through the walker port) and checks the pattern before it frees the object.
//! Header lines and object bytes live in one physical memory, reached through the page table the
//! hardware builds; a frame reads as zero from the moment a table entry maps it.
//!
//! Both golden models run beside it: the object allocator's predicts every response and header
//! write, the page allocator's every table write, walk answer, refill request and drained frame.
//! Arena maps and exits reach the page allocator inside the design; the page model starts them
//! at the first table access after the command that causes them once it expects no other access
//! (a reclaim may still be running after its EXIT was answered). Nothing reaches the pool in
//! between: the mapper does not start in a refill cycle and is busy afterwards.

use crate::env::EnvTiming;
use crate::env::{chance, HeaderMemory, OsSupply, OsTiming, RefillWatch, TableMemory};
use crate::harness::{fmt_op, fmt_rsp, fmt_write, Mismatch, Next, Stimulus, TraceWindow};
use crate::line::{bytes, words};
use crate::mem_path::{Kind, MemPath, MemStats};
use crate::model::object_alloc::{
    Geometry, HeaderWrite, ObjectAllocModel, Op, Path, Response, Status,
};
use crate::model::page_alloc::{
    MapAnswer, PageAllocModel, PageStats, PoolGeometry, Requester, TableAccess,
};
use crate::page_harness::{
    events_left, offer_event_ready, table_access, take_events, EventPorts, PageTiming, PtePorts,
};
use crate::seed;
use crate::stats::{LatencyHist, RunStats};
use memento_hw::emit::Design;
use memento_hw::object_alloc::{
    OP_ALLOC, OP_EXIT, OP_FREE, OP_RESERVED, ST_DOUBLE_FREE, ST_FALLBACK, ST_INVALID, ST_OK,
};
use memento_hw::Params;
use memento_sim::{Model, Port, VTable};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, VecDeque};
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
    pub llc: crate::llc::LlcConfig,
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
            llc: crate::llc::LlcConfig::default(),
        }
    }
}

/// What a `memento_core` run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
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

/// The ports the harness drives, looked up by name in the compiled design (`memento_core` or
/// `memento_top` have them all).
struct CorePorts {
    cmd_arg: Port,
    cmd_op: Port,
    cmd_ready: Port,
    cmd_valid: Port,
    drain_frame: Port,
    drain_ready: Port,
    drain_valid: Port,
    hdr_req_addr: Port,
    hdr_req_ready: Port,
    hdr_req_valid: Port,
    hdr_req_wdata: Port,
    hdr_req_write: Port,
    hdr_rsp_rdata: Port,
    hdr_rsp_ready: Port,
    hdr_rsp_valid: Port,
    pool_count: Port,
    pte_req_addr: Port,
    pte_req_ready: Port,
    pte_req_valid: Port,
    pte_req_wdata: Port,
    pte_req_write: Port,
    pte_rsp_rdata: Port,
    pte_rsp_ready: Port,
    pte_rsp_valid: Port,
    refill_frame: Port,
    refill_ready: Port,
    refill_req_count: Port,
    refill_req_ready: Port,
    refill_req_valid: Port,
    refill_valid: Port,
    rsp_ptr: Port,
    rsp_ready: Port,
    rsp_status: Port,
    rsp_valid: Port,
    starved: Port,
    walk_req_ready: Port,
    walk_req_va: Port,
    walk_req_valid: Port,
    walk_rsp_err: Port,
    walk_rsp_frame: Port,
    walk_rsp_ready: Port,
    walk_rsp_valid: Port,
}

fn pt_port(vt: &VTable, name: &str) -> Port {
    vt.port(name)
        .unwrap_or_else(|| panic!("{} has no port {name}", vt.name))
}

impl CorePorts {
    fn of(vt: &VTable) -> Self {
        let port = |name: &str| pt_port(vt, name);
        CorePorts {
            cmd_arg: port("cmd_arg"),
            cmd_op: port("cmd_op"),
            cmd_ready: port("cmd_ready"),
            cmd_valid: port("cmd_valid"),
            drain_frame: port("drain_frame"),
            drain_ready: port("drain_ready"),
            drain_valid: port("drain_valid"),
            hdr_req_addr: port("hdr_req_addr"),
            hdr_req_ready: port("hdr_req_ready"),
            hdr_req_valid: port("hdr_req_valid"),
            hdr_req_wdata: port("hdr_req_wdata"),
            hdr_req_write: port("hdr_req_write"),
            hdr_rsp_rdata: port("hdr_rsp_rdata"),
            hdr_rsp_ready: port("hdr_rsp_ready"),
            hdr_rsp_valid: port("hdr_rsp_valid"),
            pool_count: port("pool_count"),
            pte_req_addr: port("pte_req_addr"),
            pte_req_ready: port("pte_req_ready"),
            pte_req_valid: port("pte_req_valid"),
            pte_req_wdata: port("pte_req_wdata"),
            pte_req_write: port("pte_req_write"),
            pte_rsp_rdata: port("pte_rsp_rdata"),
            pte_rsp_ready: port("pte_rsp_ready"),
            pte_rsp_valid: port("pte_rsp_valid"),
            refill_frame: port("refill_frame"),
            refill_ready: port("refill_ready"),
            refill_req_count: port("refill_req_count"),
            refill_req_ready: port("refill_req_ready"),
            refill_req_valid: port("refill_req_valid"),
            refill_valid: port("refill_valid"),
            rsp_ptr: port("rsp_ptr"),
            rsp_ready: port("rsp_ready"),
            rsp_status: port("rsp_status"),
            rsp_valid: port("rsp_valid"),
            starved: port("starved"),
            walk_req_ready: port("walk_req_ready"),
            walk_req_va: port("walk_req_va"),
            walk_req_valid: port("walk_req_valid"),
            walk_rsp_err: port("walk_rsp_err"),
            walk_rsp_frame: port("walk_rsp_frame"),
            walk_rsp_ready: port("walk_rsp_ready"),
            walk_rsp_valid: port("walk_rsp_valid"),
        }
    }
}

/// Physical memory: table entries (for the page allocator) and bytes (headers and objects).
#[derive(Default)]
struct Memory {
    tables: TableMemory,
    data: HashMap<u64, Box<[u8; 4096]>>,
    root: u64,
}

impl Memory {
    fn write_pte(&mut self, pa: u64, value: u64) {
        self.tables.write(pa, value);
        if value & 1 == 1 {
            self.data.remove(&((value >> 12) & ((1 << 40) - 1)));
        }
    }

    /// The MMU's walk of the table the hardware built: the frame of `va`, if mapped.
    fn translate(&self, va: u64) -> Option<u64> {
        let mut table = self.root;
        for level in (1..=4).rev() {
            let e = self
                .tables
                .read_now(table * 4096 + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
            if e & 1 == 0 {
                return None;
            }
            table = (e >> 12) & ((1 << 40) - 1);
        }
        Some(table)
    }

    fn byte(&self, frame: u64, off: u64) -> u8 {
        self.data.get(&frame).map_or(0, |d| d[off as usize])
    }

    fn set_byte(&mut self, frame: u64, off: u64, v: u8) {
        self.data
            .entry(frame)
            .or_insert_with(|| Box::new([0; 4096]))[off as usize] = v;
    }
}

/// How often a page's first touch is preceded by a fault outside the region.
const STRAY_FAULT: f64 = 0.03;

/// A page address outside the region `[mrs, mrs + 2^region_log2)`: mostly `page` with one bit
/// above the region's size flipped (so a region compare that ignores any one bit answers a
/// frame), else anywhere below or above the region.
/// Writes HIGH, then LOW, on the config port with the pool's OS side quiet (no refill offered,
/// no request or drain taken), so that nothing moves at the pool's ports unobserved meanwhile.
fn write_watermarks(dut: &mut Model, pt: &CorePorts, low: u64, high: u64) {
    dut.poke(pt.refill_req_ready, 0);
    dut.poke(pt.refill_valid, 0);
    dut.poke(pt.drain_ready, 0);
    dut.configure(&[(3, high), (2, low)]);
}

fn stray_va(p: &Params, mrs: u64, page: u64, rng: &mut ChaCha8Rng) -> u64 {
    let (lo, top) = (p.region_log2(), p.va_bits);
    let va = match rng.gen_range(0..4) {
        0 if mrs > 0 => rng.gen_range(0..mrs),
        1 if mrs + (1 << lo) < 1u64 << top => rng.gen_range(mrs + (1 << lo)..1u64 << top),
        _ => page ^ (1 << rng.gen_range(lo..top)),
    };
    va & !4095
}

fn pattern(ptr: u64, tag: u64, i: u64) -> u8 {
    (seed::mix(ptr ^ tag.rotate_left(17) ^ (i / 8)) >> (8 * (i % 8))) as u8
}

enum Phase {
    /// Ready for the next command.
    Idle,
    /// A command on the port or awaiting its answer.
    Command {
        op: Op,
        accepted: Option<u64>,
        expected: Option<crate::model::object_alloc::Effects>,
        traffic: bool,
        refill: bool,
    },
    /// Bringing an object's lines into the cache, then checking its pattern before `op` frees it.
    Fetch {
        op: Op,
        ptr: u64,
        len: u64,
        tag: u64,
    },
    /// Bringing a new object's lines into the cache, then writing its pattern.
    Store { ptr: u64, len: u64 },
    /// Touching the pages of a new object before writing its pattern.
    Touch {
        ptr: u64,
        len: u64,
        page: u64,
        fault: Option<(u64, bool)>,
    },
}

impl Phase {
    /// `op` on the command port, not yet accepted.
    fn command(op: Op) -> Self {
        Phase::Command {
            op,
            accepted: None,
            expected: None,
            traffic: false,
            refill: false,
        }
    }
}

/// The lines of an object, physical, with the byte range each holds: (line, offset in line,
/// offset in object, length).
fn object_lines(mem: &Memory, ptr: u64, len: u64) -> Vec<(u64, usize, u64, usize)> {
    let mut out = vec![];
    let mut i = 0;
    while i < len {
        let va = ptr + i;
        let pa = (mem.translate(va).expect("object pages are mapped") << 12) | (va & 4095);
        let n = (64 - (pa & 63)).min(len - i);
        out.push((pa & !63, (pa & 63) as usize, i, n as usize));
        i += n;
    }
    out
}

enum HpaStart {
    Arena(u64),
    Exit,
}

/// Runs `stim` through `memento_core` and both models.
pub fn run(
    cfg: &CoreRunConfig,
    stim: &mut dyn Stimulus,
    mut log: Option<&mut dyn Write>,
) -> Result<CoreRunStats, Box<Mismatch>> {
    let th = &cfg.hoa_timing;
    let tp = &cfg.page_timing;
    let mut rng = seed::rng(cfg.seed, 0xc0e);
    let vt = memento_sim::model_for(cfg.design, &cfg.params).unwrap_or_else(|| {
        panic!(
            "no compiled memento_core for {:?}: add it to memento_hw::emit::variants",
            cfg.params
        )
    });
    let pt = CorePorts::of(vt);
    let pte_ports = PtePorts {
        addr: pt.pte_req_addr,
        write: pt.pte_req_write,
        wdata: pt.pte_req_wdata,
    };
    // memento_core shows the page allocator's bypass events; in memento_top they stay inside.
    let event_ports = vt.port("map_evt_valid").map(|_| EventPorts {
        map_valid: pt_port(vt, "map_evt_valid"),
        map_ready: pt_port(vt, "map_evt_ready"),
        map_frame: pt_port(vt, "map_evt_frame"),
        dead_valid: pt_port(vt, "dead_evt_valid"),
        dead_ready: pt_port(vt, "dead_evt_ready"),
        dead_frame: pt_port(vt, "dead_evt_frame"),
    });
    let mut dut = Model::new(vt);
    let mut mp = MemPath::of(vt, &cfg.params, cfg.llc.clone(), cfg.seed);
    if let Some(m) = mp.as_mut() {
        m.dram_latency = cfg.dram_latency;
        // A record is read through the cache like a table entry.
        m.meta_latency = (cfg.page_timing.pte_lat_min, cfg.page_timing.pte_lat_max);
        m.os_table(cfg.root);
    }
    let mut walk_since: Option<u64> = None;
    let mut hdr_wait: Option<u64> = None;
    let mut flushed = false;
    let g = Geometry::from(&cfg.params);
    let mut hoa = ObjectAllocModel::new(g.clone(), cfg.mrs);
    let mut hpa = PageAllocModel::new(PoolGeometry::from((&cfg.params, cfg.mrs)), cfg.root);
    let mut mem = Memory {
        root: cfg.root,
        ..Default::default()
    };
    let mut hdr_reads = HeaderMemory::default();
    let mut os = OsSupply::new(cfg.first_frame, tp.os.clone());
    let mut stats = CoreRunStats::default();
    let mut objects: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut header_writes: VecDeque<HeaderWrite> = VecDeque::new();
    let mut hpa_starts: VecDeque<HpaStart> = VecDeque::new();
    let mut phase = Phase::Idle;
    let mut index = 0u64;
    let mut stim_done = false;
    let mut exited_last = false;
    let mut last_progress = 0u64;
    let mut wide = [0u32; 16];

    dut.reset();
    dut.configure(&[(0, cfg.mrs), (1, cfg.root)]);
    // The watermarks are written before the first command, once the pool has filled to the reset
    // HIGH (the refill request raised as reset ends is answered): a LOW above that raises a
    // request of its own.
    let mut watermarks = cfg.watermarks;
    let start = dut.cycle();
    let mut refill_watch = RefillWatch::new(cfg.params.low as u64, start);

    loop {
        let cycle = dut.cycle() - start;
        if let Some(w) = &cfg.trace {
            if cycle == w.from {
                let _ = dut.trace_on(&w.path, w.format);
            }
            if cycle == w.to {
                let _ = dut.trace_off();
            }
        }
        let op_name = match &phase {
            Phase::Command { op, .. } => fmt_op(*op),
            Phase::Touch { ptr, .. } => format!("touching object {ptr:x}"),
            Phase::Fetch { op, .. } => format!("reading the object before {}", fmt_op(*op)),
            Phase::Store { ptr, .. } => format!("writing object {ptr:x}"),
            Phase::Idle => "idle".into(),
        };
        let command = index;
        let fail = |what: &str, expected: String, got: String| {
            Box::new(Mismatch {
                cycle,
                command,
                op: op_name.clone(),
                what: what.into(),
                expected,
                got,
            })
        };

        if let (Some((low, high)), Phase::Idle) = (watermarks, &phase) {
            if hpa.refills_settled() && dut.peek(pt.drain_valid) == 0 {
                write_watermarks(&mut dut, &pt, low, high);
                refill_watch.set_low(low, dut.cycle());
                hpa.set_watermarks(low as usize, high as usize);
                // The writes' cycles were idle ones: a HIGH below the count drains from now on.
                hpa.end_of_cycle();
                watermarks = None;
                continue;
            }
        }
        // The core: next command, or the pages of the object it just got.
        if let (Phase::Idle, None) = (&phase, watermarks) {
            let next = if stim_done {
                None
            } else {
                match stim.next() {
                    Next::Cmd(op) => Some(op),
                    Next::Wait => unreachable!("one command at a time: every answer is back"),
                    Next::Done => {
                        stim_done = true;
                        None
                    }
                }
            };
            let next = next.or_else(|| (cfg.final_exit && !exited_last).then_some(Op::Exit));
            match next {
                Some(op) => {
                    let tracked = match op {
                        Op::Free(ptr) => {
                            objects.get(&ptr).copied().map(|(len, tag)| (ptr, len, tag))
                        }
                        _ => None,
                    };
                    if let (Some((ptr, len, tag)), true) = (tracked, mp.is_some()) {
                        objects.remove(&ptr);
                        phase = Phase::Fetch { op, ptr, len, tag };
                    } else if let Op::Free(ptr) = op {
                        if let Some((len, tag)) = objects.remove(&ptr) {
                            for i in 0..len {
                                let va = ptr + i;
                                let Some(frame) = mem.translate(va) else {
                                    return Err(fail(
                                        "object page unmapped before its free",
                                        "mapped".into(),
                                        format!("{va:x}"),
                                    ));
                                };
                                let got = mem.byte(frame, va & 4095);
                                if got != pattern(ptr, tag, i) {
                                    return Err(fail(
                                        "object data differs before its free",
                                        format!("byte {i} = {:02x}", pattern(ptr, tag, i)),
                                        format!("{got:02x} (frame {frame:x})"),
                                    ));
                                }
                            }
                            stats.objects_checked += 1;
                        }
                    }
                    if !matches!(phase, Phase::Fetch { .. }) {
                        phase = Phase::command(op);
                    }
                }
                None => {
                    // The cache is flushed once the exit's reclaim is over (every event taken by
                    // the bypass): the dirty lines left are written back after the function.
                    let reclaimed = hpa.expected_accesses.is_empty()
                        && hpa_starts.is_empty()
                        && hpa.bypass_events.is_empty();
                    if let (Some(m), false, true) = (mp.as_mut(), flushed, reclaimed) {
                        m.flush();
                        flushed = true;
                    }
                    if mp.as_ref().is_none_or(|m| flushed && m.settled(&mut dut))
                        && hpa.expected_accesses.is_empty()
                        && hpa.expected_drains.is_empty()
                        && hpa_starts.is_empty()
                        && dut.peek(pt.pte_req_valid) == 0
                        && dut.peek(pt.drain_valid) == 0
                    {
                        break;
                    }
                }
            }
        }
        let (cmd_valid, opc, arg) = match &phase {
            Phase::Command {
                op, accepted: None, ..
            } => match *op {
                Op::Alloc(s) => (true, OP_ALLOC, s),
                Op::Free(ptr) => (true, OP_FREE, ptr),
                Op::Exit => (true, OP_EXIT, 0),
                Op::Reserved(a) => (true, OP_RESERVED, a),
            },
            _ => (false, 0, 0),
        };
        dut.poke(pt.cmd_valid, cmd_valid as u64);
        dut.poke(pt.cmd_op, opc);
        dut.poke(pt.cmd_arg, arg);
        let rsp_ready = !chance(&mut rng, th.rsp_stall);
        dut.poke(pt.rsp_ready, rsp_ready as u64);
        let hdr_req_ready = !chance(&mut rng, th.hdr_stall);
        dut.poke(pt.hdr_req_ready, hdr_req_ready as u64);
        let hdr_data = hdr_reads
            .due(cycle)
            .copied()
            .filter(|_| !chance(&mut rng, th.hdr_rsp_stall));
        dut.poke(pt.hdr_rsp_valid, hdr_data.is_some() as u64);
        dut.poke_wide(pt.hdr_rsp_rdata, &hdr_data.unwrap_or([0; 16]));
        let walk_va = match &phase {
            Phase::Touch {
                fault: Some((va, false)),
                ..
            } => Some(*va),
            _ => None,
        };
        if walk_va.is_some() && walk_since.is_none() {
            walk_since = Some(cycle);
        }
        dut.poke(pt.walk_req_valid, walk_va.is_some() as u64);
        dut.poke(pt.walk_req_va, walk_va.unwrap_or(0));
        let walk_rsp_ready = !chance(&mut rng, tp.rsp_stall);
        dut.poke(pt.walk_rsp_ready, walk_rsp_ready as u64);
        let pte_req_ready = !chance(&mut rng, tp.pte_stall);
        dut.poke(pt.pte_req_ready, pte_req_ready as u64);
        let pte_data = match mp.as_mut() {
            Some(m) => m.table_answer(cycle).map_err(|(w, e, g)| fail(&w, e, g))?,
            None => mem.tables.due(cycle),
        }
        .filter(|_| !chance(&mut rng, tp.pte_rsp_stall));
        dut.poke(pt.pte_rsp_valid, pte_data.is_some() as u64);
        dut.poke(pt.pte_rsp_rdata, pte_data.unwrap_or(0));
        let req_ready = !chance(&mut rng, tp.os_req_stall);
        dut.poke(pt.refill_req_ready, req_ready as u64);
        let offer = os.offer(cycle);
        dut.poke(pt.refill_valid, offer.is_some() as u64);
        dut.poke(pt.refill_frame, offer.unwrap_or(0));
        let drain_ready = !chance(&mut rng, tp.drain_stall);
        dut.poke(pt.drain_ready, drain_ready as u64);
        if let Some(m) = mp.as_mut() {
            m.drive(&mut dut, &mut rng, cycle, tp.pte_stall);
        }
        let evt_ready = match &event_ports {
            Some(ev) => offer_event_ready(&mut dut, ev, &mut rng, tp.pte_stall),
            None => (false, false),
        };
        dut.settle();
        stats.starved_cycles += dut.peek(pt.starved);
        // `starved` means the mapper waits on an empty pool.
        if dut.peek(pt.starved) == 1 && dut.peek(pt.pool_count) != 0 {
            return Err(fail(
                "starved with frames in the pool",
                "starved only while the pool is empty".into(),
                format!("starved with {} frames", dut.peek(pt.pool_count)),
            ));
        }
        refill_watch
            .check(
                dut.cycle(),
                dut.peek(pt.pool_count),
                dut.peek(pt.refill_req_valid) == 1,
                os.owed(),
            )
            .map_err(|(w, e, g)| fail(&w, e, g))?;

        // The OS side first.
        if dut.peek(pt.refill_req_valid) == 1 && req_ready {
            let got = dut.peek(pt.refill_req_count);
            match hpa.request_taken() {
                Some(c) if c == got => os.request(c, cycle, &mut rng),
                exp => {
                    return Err(fail(
                        "refill request differs",
                        format!("{exp:?}"),
                        format!("count {got}"),
                    ))
                }
            }
        }
        if let Some(f) = offer.filter(|_| dut.peek(pt.refill_ready) == 1) {
            os.delivered(cycle, &mut rng);
            hpa.refill(f)
                .map_err(|e| fail("refill", "a frame owed".into(), e))?;
            last_progress = cycle;
        }
        if dut.peek(pt.drain_valid) == 1 && drain_ready {
            let got = dut.peek(pt.drain_frame);
            match hpa.drain() {
                Some(f) if f == got => os.take_back(f),
                exp => {
                    return Err(fail(
                        "drained frame differs",
                        format!("{exp:?}"),
                        format!("{got:x}"),
                    ))
                }
            }
            last_progress = cycle;
        }
        if let Some(m) = mp.as_mut() {
            let arch = |addr: u64| -> [u8; 64] {
                mem.tables.line_bytes(addr).unwrap_or_else(|| {
                    std::array::from_fn(|i| mem.byte(addr >> 12, (addr & 4095) + i as u64))
                })
            };
            if m.observe(&mut dut, &mut rng, cycle, &mut hpa, &arch)
                .map_err(|(w, e, g)| fail(&w, e, g))?
            {
                last_progress = cycle;
            }
        }
        // The table port; an arena map or an exit begins with its first table access.
        if dut.peek(pt.pte_req_valid) == 1 && pte_req_ready {
            if hpa.expected_accesses.is_empty() {
                match hpa_starts.pop_front() {
                    Some(HpaStart::Arena(va)) => hpa.start_map(va, Requester::Arena),
                    Some(HpaStart::Exit) => hpa.exit(),
                    None => {}
                }
            }
            match table_access(&mut dut, &pte_ports, &mut hpa.expected_accesses)
                .map_err(|(e, g)| fail("table access differs", e, g))?
            {
                TableAccess::Write(addr, value) => {
                    let old = mem.tables.read_now(addr);
                    mem.write_pte(addr, value);
                    if let Some(m) = mp.as_mut() {
                        m.table_write(addr, old, value);
                        if value & 1 == 1 {
                            m.frame_mapped((value >> 12) & ((1 << 40) - 1));
                        }
                    }
                }
                TableAccess::Read(addr) => {
                    let due = cycle + rng.gen_range(tp.pte_lat_min..=tp.pte_lat_max);
                    match mp.as_mut() {
                        Some(m) => m.table_read(addr, mem.tables.read_now(addr), due),
                        None => mem.tables.start_read(addr, due),
                    }
                }
            }
            last_progress = cycle;
        }
        if pte_data.is_some() && dut.peek(pt.pte_rsp_ready) == 1 {
            match mp.as_mut() {
                Some(m) => m.table_answered(),
                None => mem.tables.pop_read(),
            }
        }
        if let Some(ev) = &event_ports {
            take_events(&mut dut, ev, evt_ready, &mut hpa).map_err(|(w, e, g)| fail(&w, e, g))?;
        }
        // The header port, through the page table.
        if dut.peek(pt.hdr_req_valid) == 1 && hdr_req_ready {
            let va = dut.peek(pt.hdr_req_addr);
            let Some(frame) = mem.translate(va) else {
                return Err(fail(
                    "header access to an unmapped page",
                    "a mapped arena header".into(),
                    format!("{va:x}"),
                ));
            };
            if let Phase::Command {
                traffic,
                refill,
                op,
                ..
            } = &mut phase
            {
                *traffic = true;
                *refill |= matches!(op, Op::Alloc(_)) && dut.peek(pt.hdr_req_write) == 0;
            }
            if dut.peek(pt.hdr_req_write) == 1 {
                dut.peek_wide(pt.hdr_req_wdata, &mut wide);
                let got = HeaderWrite {
                    va,
                    line: bytes(&wide),
                };
                stats.hoa.header_writes += 1;
                match header_writes.pop_front() {
                    Some(exp) if exp == got => {}
                    exp => {
                        return Err(fail(
                            "header write differs",
                            exp.map_or("no write".into(), |e| fmt_write(&e)),
                            fmt_write(&got),
                        ))
                    }
                }
                for (i, b) in got.line.iter().enumerate() {
                    mem.set_byte(frame, (va & 4095) + i as u64, *b);
                }
                if let Some(m) = mp.as_mut() {
                    m.write_line((frame << 12) | (va & 4095), got.line, Kind::Header);
                }
            } else {
                stats.hoa.header_reads += 1;
                if mp.is_some() {
                    // Through the cache: answered once the line is in (see below).
                    hdr_wait = Some((frame << 12) | (va & 4095));
                } else {
                    let mut line = [0u8; 64];
                    for (i, b) in line.iter_mut().enumerate() {
                        *b = mem.byte(frame, (va & 4095) + i as u64);
                    }
                    hdr_reads.start_read_data(
                        words(&line),
                        cycle + rng.gen_range(th.hdr_lat_min..=th.hdr_lat_max),
                    );
                }
            }
            last_progress = cycle;
        }
        if hdr_data.is_some() && dut.peek(pt.hdr_rsp_ready) == 1 {
            hdr_reads.pop_read();
        }
        // The walker port.
        if let Phase::Touch {
            fault: Some((va, sent)),
            ..
        } = &mut phase
        {
            if !*sent && dut.peek(pt.walk_req_ready) == 1 {
                *sent = true;
                hpa.start_map(*va, Requester::Walker);
                stats.walker_faults += 1;
                last_progress = cycle;
            }
        }
        if dut.peek(pt.walk_rsp_valid) == 1 && walk_rsp_ready {
            let got = if dut.peek(pt.walk_rsp_err) == 1 {
                // An error answer carries frame 0 (a deterministic value on the port).
                if dut.peek(pt.walk_rsp_frame) != 0 {
                    return Err(fail(
                        "walk error answer with a frame",
                        "walk_rsp_frame 0 with walk_rsp_err".into(),
                        format!("frame {:x}", dut.peek(pt.walk_rsp_frame)),
                    ));
                }
                MapAnswer::OutOfRegion
            } else {
                MapAnswer::Frame(dut.peek(pt.walk_rsp_frame))
            };
            match hpa.expected_answers.pop_front() {
                Some((Requester::Walker, a)) if a == got => {}
                exp => {
                    return Err(fail(
                        "walk answer differs",
                        format!("{exp:?}"),
                        format!("{got:?}"),
                    ))
                }
            }
            match &mut phase {
                Phase::Touch { fault, .. } if matches!(fault, Some((_, true))) => {
                    *fault = None;
                    if let Some(t0) = walk_since.take() {
                        stats.walk_latency.add(cycle - t0);
                    }
                }
                _ => {
                    return Err(fail(
                        "walk answer with no fault outstanding",
                        "none".into(),
                        format!("{got:?}"),
                    ))
                }
            }
            last_progress = cycle;
        }
        if let Some((Requester::Arena, _)) = hpa.expected_answers.front() {
            // Arena answers go to the object allocator inside the design; nothing to see outside.
            hpa.expected_answers.pop_front();
        }
        // The command port.
        if let Phase::Command {
            op,
            accepted,
            expected,
            ..
        } = &mut phase
        {
            if accepted.is_none() && dut.peek(pt.cmd_ready) == 1 {
                let e = hoa.apply(*op);
                header_writes.extend(e.writes.iter().copied());
                match e.path {
                    Path::AllocNew => {
                        let stride = g.stride((e.rsp.ptr - cfg.mrs) >> g.lane_bits);
                        hpa_starts.push_back(HpaStart::Arena(e.rsp.ptr & !(stride - 1)));
                    }
                    Path::Exit => hpa_starts.push_back(HpaStart::Exit),
                    _ => {}
                }
                *stats.hoa.paths.entry(format!("{:?}", e.path)).or_default() += 1;
                e.count_extras(&mut stats.hoa.paths);
                stim.issued(*op, &e);
                *accepted = Some(cycle);
                *expected = Some(e);
                last_progress = cycle;
            }
        }
        if dut.peek(pt.rsp_valid) == 1 && rsp_ready {
            let status = match dut.peek(pt.rsp_status) {
                ST_OK => Status::Ok,
                ST_FALLBACK => Status::Fallback,
                ST_INVALID => Status::Invalid,
                ST_DOUBLE_FREE => Status::DoubleFree,
                _ => unreachable!("2-bit status"),
            };
            let got = Response {
                status,
                ptr: dut.peek(pt.rsp_ptr),
            };
            let Phase::Command {
                op,
                accepted: Some(acc),
                expected: Some(e),
                traffic,
                refill,
            } = std::mem::replace(&mut phase, Phase::Idle)
            else {
                return Err(fail(
                    "response with no command outstanding",
                    "nothing".into(),
                    fmt_rsp(got),
                ));
            };
            if got != e.rsp {
                return Err(fail("response differs", fmt_rsp(e.rsp), fmt_rsp(got)));
            }
            if let Some(w) = header_writes.front() {
                return Err(fail(
                    "response before its header write",
                    fmt_write(w),
                    "no write".into(),
                ));
            }
            let lat = cycle - acc;
            let h = &mut stats.hoa;
            h.commands += 1;
            h.latency_all.add(lat);
            if !traffic {
                h.latency_hit.add(lat);
            }
            match op {
                Op::Alloc(size) => {
                    h.allocs += 1;
                    h.latency_alloc.add(lat);
                    if status == Status::Ok {
                        h.allocs_ok += 1;
                        // Arena creation is inside the design: classify by the path the model took.
                        h.alloc_hits += (e.path == Path::AllocHit) as u64;
                        h.arena_refills += refill as u64;
                        h.arena_creations += (e.path == Path::AllocNew) as u64;
                        let len = size.max(1);
                        phase = Phase::Touch {
                            ptr: got.ptr,
                            len,
                            page: got.ptr & !4095,
                            fault: None,
                        };
                    }
                }
                Op::Free(_) => {
                    h.frees += 1;
                    h.latency_free.add(lat);
                    if status == Status::Ok {
                        h.frees_ok += 1;
                        h.free_hits += !traffic as u64;
                    }
                }
                Op::Exit => {
                    h.exits += 1;
                    objects.clear();
                }
                Op::Reserved(_) => h.reserved += 1,
            }
            match status {
                Status::Fallback => h.fallbacks += 1,
                Status::Invalid => h.invalid += 1,
                Status::DoubleFree => h.double_frees += 1,
                Status::Ok => {}
            }
            exited_last = op == Op::Exit;
            if let Some(l) = log.as_mut() {
                let (name, a) = op.log_fields();
                let _ = writeln!(l, "{name} {a:x} {} {:x} {lat}", status.name(), got.ptr);
            }
            stats
                .hoa
                .count_answer(op, status == Status::Ok, |p| (p - cfg.mrs) >> g.lane_bits);
            stim.answered(op, got);
            index += 1;
            last_progress = cycle;
        }
        // Touch the next page of a new object; when all are mapped, write its pattern.
        if let Phase::Touch {
            ptr,
            len,
            page,
            fault: fault @ None,
        } = &mut phase
        {
            let end = *ptr + *len;
            while *page < end && mem.translate(*page).is_some() {
                *page += 4096;
            }
            if *page < end {
                // Now and then the MMU faults on an address outside the region first, which
                // the page allocator must refuse (its answer is checked like any other).
                let va = if chance(&mut rng, STRAY_FAULT) {
                    stray_va(&cfg.params, cfg.mrs, *page, &mut rng)
                } else {
                    *page
                };
                *fault = Some((va, false));
            } else {
                let (ptr, len) = (*ptr, *len);
                if mp.is_some() {
                    phase = Phase::Store { ptr, len };
                } else {
                    let tag = rng.gen::<u64>();
                    for i in 0..len {
                        let va = ptr + i;
                        let frame = mem.translate(va).expect("touched");
                        mem.set_byte(frame, va & 4095, pattern(ptr, tag, i));
                    }
                    objects.insert(ptr, (len, tag));
                    phase = Phase::Idle;
                }
            }
        }
        // Through the cache: an object's lines come in before it is read or written.
        if let Some(m) = mp.as_mut() {
            let ready = match &phase {
                Phase::Fetch { ptr, len, .. } | Phase::Store { ptr, len } => {
                    let lines = object_lines(&mem, *ptr, *len);
                    let mut all = true;
                    for (line, ..) in &lines {
                        all &= m.present(*line, Kind::Data);
                    }
                    all.then_some(lines)
                }
                _ => None,
            };
            if let Some(lines) = ready {
                match std::mem::replace(&mut phase, Phase::Idle) {
                    Phase::Fetch { op, ptr, len, tag } => {
                        for (line, off, at, n) in &lines {
                            let data = m.read(*line);
                            for k in 0..*n {
                                let i = at + k as u64;
                                if data[off + k] != pattern(ptr, tag, i) {
                                    return Err(fail(
                                        "object data differs before its free",
                                        format!("byte {i} = {:02x}", pattern(ptr, tag, i)),
                                        format!("{:02x} (line {line:x})", data[off + k]),
                                    ));
                                }
                            }
                        }
                        let _ = len;
                        stats.objects_checked += 1;
                        phase = Phase::command(op);
                    }
                    Phase::Store { ptr, len } => {
                        let tag = rng.gen::<u64>();
                        for (line, off, at, n) in &lines {
                            let bytes: Vec<u8> =
                                (0..*n as u64).map(|k| pattern(ptr, tag, at + k)).collect();
                            m.write(*line, *off, &bytes);
                            for (k, b) in bytes.iter().enumerate() {
                                mem.set_byte(line >> 12, (line & 4095) + (*off + k) as u64, *b);
                            }
                        }
                        objects.insert(ptr, (len, tag));
                    }
                    other => phase = other,
                }
            }
            if let Some(pa) = hdr_wait.filter(|pa| m.present(*pa, Kind::Header)) {
                let line = m.read(pa);
                hdr_reads.start_read_data(
                    words(&line),
                    cycle + rng.gen_range(th.hdr_lat_min..=th.hdr_lat_max),
                );
                hdr_wait = None;
            }
        } else {
            hpa.bypass_events.clear();
        }
        hpa.end_of_cycle();
        hpa.conserves_frames().map_err(|e| {
            fail(
                "frames not conserved",
                "frames in = pool + mapped + drained".into(),
                e,
            )
        })?;
        dut.step();
        if dut.rtl_errors() > 0 {
            return Err(fail(
                "RTL assertion failed (its message is printed above)",
                "no $error".into(),
                format!("{} errors", dut.rtl_errors()),
            ));
        }
        if cycle - last_progress > cfg.watchdog {
            let port = if dut.peek(pt.starved) == 1 {
                format!(
                    "the refill stream: the pool is starved and the OS still owes {} frames",
                    os.owed()
                )
            } else if mem.tables.reads_in_flight() > 0
                || mp.as_ref().is_some_and(|m| m.table_reads_waiting() > 0)
                || dut.peek(pt.pte_req_valid) == 1
            {
                "the table port (pte_req / pte_rsp)".into()
            } else if hdr_reads.reads_in_flight() > 0 || dut.peek(pt.hdr_req_valid) == 1 {
                "the header port (hdr_req / hdr_rsp)".into()
            } else if event_ports
                .as_ref()
                .is_some_and(|ev| dut.peek(ev.map_valid) == 1 || dut.peek(ev.dead_valid) == 1)
            {
                "the bypass event ports (map_evt / dead_evt)".into()
            } else if dut.peek(pt.drain_valid) == 1 {
                "the drain stream (drain_ready)".into()
            } else if mp.as_ref().is_some_and(|m| !m.idle()) {
                "the cache and DRAM ports (mem_req / mem_rsp / dram_req / dram_rsp)".into()
            } else if matches!(phase, Phase::Touch { .. }) {
                "the walker port (walk_req / walk_rsp)".into()
            } else {
                "the command port (cmd / rsp)".into()
            };
            let (low, high) = cfg
                .watermarks
                .unwrap_or((cfg.params.low.into(), cfg.params.high.into()));
            return Err(fail(
                "watchdog: no progress",
                format!("progress within {} cycles", cfg.watchdog),
                format!(
                    "waiting on {port} (the pool holds {} frames, LOW {low}, HIGH {high}; the OS owes {})",
                    dut.peek(pt.pool_count),
                    os.owed()
                ),
            ));
        }
    }
    let cycle = dut.cycle() - start;
    let count = dut.peek(pt.pool_count);
    let end = |what: &str, expected: String, got: String| {
        Box::new(Mismatch {
            cycle,
            command: index,
            op: "end of run".into(),
            what: what.into(),
            expected,
            got,
        })
    };
    if event_ports.is_some() {
        events_left(&hpa).map_err(|(w, e, g)| end(&w, e, g))?;
    }
    if count != hpa.pool_len() as u64 {
        return Err(end(
            "pool count differs",
            hpa.pool_len().to_string(),
            count.to_string(),
        ));
    }
    if cfg.final_exit && (hpa.mapped_len() != 0 || !hpa.root_is_empty()) {
        return Err(end(
            "frames still mapped after the final exit",
            "0".into(),
            hpa.mapped_len().to_string(),
        ));
    }
    if let Some(m) = mp.as_mut() {
        stats.mem = m
            .finish(&mut dut, &mut hpa)
            .map_err(|(w, e, g)| end(&w, e, g))?;
    }
    stats.hoa.cycles = cycle;
    stats.pages = hpa.stats.clone();
    stats.os_frames_given = os.given;
    stats.os_frames_taken_back = os.taken_back;
    // Every frame the OS gave is back with the OS, in the pool, or mapped.
    let accounted = os.taken_back + hpa.pool_len() as u64 + hpa.mapped_len() as u64;
    if accounted != os.given {
        return Err(end(
            "frames lost",
            format!("{} frames given by the OS accounted for", os.given),
            format!(
                "{accounted} (back with the OS {}, pool {}, mapped {})",
                os.taken_back,
                hpa.pool_len(),
                hpa.mapped_len()
            ),
        ));
    }
    stats.frames_lost = os.given - accounted;
    Ok(stats)
}

//! Golden model of the main-memory bypass, and the guarantee it must keep.
//!
//! [`BypassModel`] follows the unit's rules (docs/design.md): every frame has a record in memory
//! (fresh mask, dead bit) and the table caches records, replacing round-robin; an evicted entry
//! writes its record; a request for a frame not in the table reads the frame's record first; a
//! mapped frame's entry gets every line fresh, a reclaimed one's is dead; a fill of a fresh line is
//! answered with zeros; a writeback clears the fresh bit, and is dropped when the frame is dead.
//! From the events in the order the unit takes them it predicts every DRAM access, every access
//! of the metadata port, and whether each fill is answered by the bypass.
//!
//! [`Guarantee`] is independent of all that: a read of any mapped address returns the last value
//! written since the frame was mapped, or zero.

use std::collections::{HashMap, HashSet, VecDeque};

/// A DRAM access, by physical line address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DramAccess {
    Read(u64),
    Write(u64, [u8; 64]),
}

impl std::fmt::Display for DramAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DramAccess::Read(a) => write!(f, "DRAM read [{a:x}]"),
            DramAccess::Write(a, d) if d.iter().all(|&b| b == 0) => {
                write!(f, "DRAM write [{a:x}] = zero line")
            }
            DramAccess::Write(a, d) => write!(
                f,
                "DRAM write [{a:x}] = {:02x}{:02x}{:02x}{:02x}..",
                d[0], d[1], d[2], d[3]
            ),
        }
    }
}

/// An access of the unit's metadata port: a frame's record read, or written with its fresh mask
/// and dead bit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetaAccess {
    Read(u64),
    Write(u64, u64, bool),
}

impl std::fmt::Display for MetaAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetaAccess::Read(fr) => write!(f, "record read of frame {fr:x}"),
            MetaAccess::Write(fr, m, d) => write!(
                f,
                "record write of frame {fr:x}: fresh {m:016x}{}",
                if *d { ", dead" } else { "" }
            ),
        }
    }
}

/// A record as the metadata port's 65-bit data carries it: fresh mask in bits 63..0, dead in 64.
pub fn record_words(fresh: u64, dead: bool) -> [u32; 3] {
    [fresh as u32, (fresh >> 32) as u32, dead as u32]
}

impl MetaAccess {
    /// The frame whose record is accessed.
    pub fn frame(&self) -> u64 {
        match *self {
            MetaAccess::Read(f) | MetaAccess::Write(f, ..) => f,
        }
    }

    /// The access the port shows: a write of the record in `wdata`'s words, or a read.
    pub fn of_port(frame: u64, write: bool, wdata: &[u32; 3]) -> Self {
        if write {
            let fresh = wdata[0] as u64 | (wdata[1] as u64) << 32;
            MetaAccess::Write(frame, fresh, wdata[2] & 1 == 1)
        } else {
            MetaAccess::Read(frame)
        }
    }
}

/// Who answers a fill.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FillSource {
    /// The bypass: a fresh line, zeros, no DRAM read.
    Zero,
    Dram,
}

/// The unit's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BypassCounters {
    pub reads_bypassed: u64,
    pub writebacks_dropped: u64,
    pub zero_lines: u64,
    pub dram_reads: u64,
    pub dram_writes: u64,
}

impl BypassCounters {
    /// Whether counters of `bits` bits that show `got` agree with these counts and with the
    /// DRAM's own counts of reads and writes.
    pub fn shown_as(
        &self,
        got: &BypassCounters,
        dram_reads: u64,
        dram_writes: u64,
        bits: u32,
    ) -> bool {
        let counted = BypassCounters {
            dram_reads,
            dram_writes,
            ..self.clone()
        };
        *got == self.wrapped(bits) && *got == counted.wrapped(bits)
    }

    /// The counts as counters of `bits` bits show them (modulo 2^bits).
    pub fn wrapped(&self, bits: u32) -> Self {
        let m = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        BypassCounters {
            reads_bypassed: self.reads_bypassed & m,
            writebacks_dropped: self.writebacks_dropped & m,
            zero_lines: self.zero_lines & m,
            dram_reads: self.dram_reads & m,
            dram_writes: self.dram_writes & m,
        }
    }
}

#[derive(Copy, Clone, Debug)]
struct Entry {
    frame: u64,
    dead: bool,
    fresh: u64,
}

pub struct BypassModel {
    on: bool,
    /// Off: a mapped frame is zeroed in DRAM (`DRAM_ZERO`); else mapping costs nothing here.
    dram_zero: bool,
    entries: Vec<Option<Entry>>,
    rr: usize,
    pub counters: BypassCounters,
    /// Entries evicted while they still had fresh lines (for coverage).
    pub evictions_with_fresh: u64,
    /// DRAM accesses the unit must make next, in order.
    pub expected_dram: VecDeque<DramAccess>,
    /// Metadata-port accesses the unit must make next, in order.
    pub expected_meta: VecDeque<MetaAccess>,
    /// The records in memory as the unit last wrote them: (fresh, dead). A frame never written
    /// reads as (0, live).
    pub records: HashMap<u64, (u64, bool)>,
    /// Record reads and writes made.
    pub record_reads: u64,
    pub record_writes: u64,
}

fn line_addr(frame: u64, line: u64) -> u64 {
    (frame << 12) | (line << 6)
}

impl BypassModel {
    pub fn new(params: &memento_hw::Params) -> Self {
        BypassModel {
            on: params.bypass_on,
            dram_zero: params.dram_zero,
            entries: vec![None; params.bypass as usize],
            rr: 0,
            counters: BypassCounters::default(),
            evictions_with_fresh: 0,
            expected_dram: VecDeque::new(),
            expected_meta: VecDeque::new(),
            records: HashMap::new(),
            record_reads: 0,
            record_writes: 0,
        }
    }

    /// The record a read of `frame`'s returns.
    pub fn record(&self, frame: u64) -> (u64, bool) {
        self.records.get(&frame).copied().unwrap_or((0, false))
    }

    /// `frame` has an entry in the table.
    pub fn holds(&self, frame: u64) -> bool {
        self.find(frame).is_some()
    }

    fn find(&self, frame: u64) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.is_some_and(|e| e.frame == frame))
    }

    fn write_zero(&mut self, frame: u64, line: u64) {
        self.counters.zero_lines += 1;
        self.counters.dram_writes += 1;
        self.expected_dram
            .push_back(DramAccess::Write(line_addr(frame, line), [0; 64]));
    }

    /// The round-robin victim, if its slot is valid, writes its record.
    fn evict(&mut self) {
        if let Some(v) = self.entries[self.rr] {
            if !v.dead && v.fresh != 0 {
                self.evictions_with_fresh += 1;
            }
            self.records.insert(v.frame, (v.fresh, v.dead));
            self.record_writes += 1;
            self.expected_meta
                .push_back(MetaAccess::Write(v.frame, v.fresh, v.dead));
        }
    }

    /// Puts `e` in the round-robin victim's slot (its record written first).
    fn install(&mut self, e: Entry) -> usize {
        self.evict();
        let i = self.rr;
        self.entries[i] = Some(e);
        self.rr = (self.rr + 1) % self.entries.len();
        i
    }

    /// Puts `e` in the table: in place if its frame is there, else in the victim's slot.
    fn place(&mut self, e: Entry) {
        match self.find(e.frame) {
            Some(i) => self.entries[i] = Some(e),
            None => {
                self.install(e);
            }
        }
    }

    /// The entry of `frame`, its record read into the table first if it is not there.
    fn load(&mut self, frame: u64) -> Entry {
        if let Some(i) = self.find(frame) {
            return self.entries[i].unwrap();
        }
        // The victim's record goes out before the frame's is read.
        self.evict();
        self.record_reads += 1;
        self.expected_meta.push_back(MetaAccess::Read(frame));
        let (fresh, dead) = self.record(frame);
        let e = Entry { frame, dead, fresh };
        self.entries[self.rr] = Some(e);
        self.rr = (self.rr + 1) % self.entries.len();
        e
    }

    /// The page allocator mapped `frame`.
    pub fn map(&mut self, frame: u64) {
        if self.on {
            self.place(Entry {
                frame,
                dead: false,
                fresh: u64::MAX,
            });
        } else if self.dram_zero {
            for line in 0..64 {
                self.write_zero(frame, line);
            }
        }
    }

    /// `frame` was reclaimed at exit.
    pub fn dead(&mut self, frame: u64) {
        if self.on {
            self.place(Entry {
                frame,
                dead: true,
                fresh: 0,
            });
        }
    }

    /// A fill of the line at `addr`.
    pub fn fill(&mut self, addr: u64) -> FillSource {
        let line = (addr >> 6) & 63;
        let fresh = self.on && {
            let e = self.load(addr >> 12);
            !e.dead && e.fresh >> line & 1 == 1
        };
        if fresh {
            self.counters.reads_bypassed += 1;
            FillSource::Zero
        } else {
            self.counters.dram_reads += 1;
            self.expected_dram.push_back(DramAccess::Read(addr));
            FillSource::Dram
        }
    }

    /// A writeback of the line at `addr`.
    pub fn writeback(&mut self, addr: u64, data: [u8; 64]) {
        if self.on {
            self.load(addr >> 12);
            let i = self.find(addr >> 12).expect("loaded");
            let e = self.entries[i].as_mut().unwrap();
            if e.dead {
                self.counters.writebacks_dropped += 1;
                return;
            }
            e.fresh &= !(1 << ((addr >> 6) & 63));
        }
        self.counters.dram_writes += 1;
        self.expected_dram.push_back(DramAccess::Write(addr, data));
    }
}

/// The contract of the bypass, checked on every read: the last value written since the frame was
/// mapped, or zero. Frames not mapped are not checked.
#[derive(Default)]
pub struct Guarantee {
    mapped: HashSet<u64>,
    lines: HashMap<u64, [u8; 64]>,
}

impl Guarantee {
    pub fn map(&mut self, frame: u64) {
        self.mapped.insert(frame);
        for line in 0..64 {
            self.lines.remove(&line_addr(frame, line));
        }
    }

    pub fn unmap(&mut self, frame: u64) {
        self.mapped.remove(&frame);
    }

    pub fn is_mapped(&self, frame: u64) -> bool {
        self.mapped.contains(&frame)
    }

    pub fn write(&mut self, addr: u64, data: [u8; 64]) {
        if self.mapped.contains(&(addr >> 12)) {
            self.lines.insert(addr, data);
        }
    }

    /// What a read of `addr` must return, if the frame is mapped.
    pub fn expect(&self, addr: u64) -> Option<[u8; 64]> {
        self.mapped
            .contains(&(addr >> 12))
            .then(|| self.lines.get(&addr).copied().unwrap_or([0; 64]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoreboard::take_expected;

    /// Counters of `bits` bits show each count modulo 2^bits; 32-bit ones a count below 2^32.
    #[test]
    fn counters_wrap_at_their_width() {
        let c = BypassCounters {
            reads_bypassed: 4095,
            writebacks_dropped: 4096,
            zero_lines: 4097,
            dram_reads: 1 << 32,
            dram_writes: 12,
        };
        let w = c.wrapped(12);
        assert_eq!(
            (w.reads_bypassed, w.writebacks_dropped, w.zero_lines),
            (4095, 0, 1)
        );
        assert_eq!((w.dram_reads, w.dram_writes), (0, 12));
        assert_eq!(c.wrapped(32).zero_lines, 4097);
        assert_eq!(c.wrapped(32).dram_reads, 0);
        assert_eq!(c.wrapped(64), c);
    }

    fn model(entries: u32, on: bool) -> BypassModel {
        BypassModel::new(&memento_hw::Params {
            bypass: entries,
            bypass_on: on,
            dram_zero: !on,
            ..Default::default()
        })
    }

    #[test]
    fn a_record_goes_through_the_port_words_and_back() {
        let w = record_words(0x8000_0000_0000_0001, true);
        assert_eq!(
            MetaAccess::of_port(7, true, &w),
            MetaAccess::Write(7, 0x8000_0000_0000_0001, true)
        );
        assert_eq!(MetaAccess::of_port(7, false, &w), MetaAccess::Read(7));
        let mut q: VecDeque<MetaAccess> = [MetaAccess::Read(1)].into();
        assert_eq!(take_expected(&mut q, &MetaAccess::Read(1)), Ok(()));
        assert_eq!(
            take_expected(&mut q, &MetaAccess::Read(2)),
            Err(("no access".into(), "record read of frame 2".into()))
        );
    }

    #[test]
    fn fresh_lines_read_zero_without_dram() {
        let mut m = model(4, true);
        m.map(7);
        assert_eq!(m.fill(line_addr(7, 3)), FillSource::Zero);
        m.writeback(line_addr(7, 3), [9; 64]);
        assert_eq!(m.fill(line_addr(7, 3)), FillSource::Dram);
        assert_eq!(
            m.counters,
            BypassCounters {
                reads_bypassed: 1,
                dram_reads: 1,
                dram_writes: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn eviction_writes_the_record_and_a_miss_reads_it_back() {
        let mut m = model(2, true);
        m.map(1);
        m.writeback(line_addr(1, 0), [1; 64]);
        m.map(2);
        assert!(m.expected_meta.is_empty(), "two entries, no eviction yet");
        m.map(3); // evicts frame 1: one record write, no DRAM access
        assert_eq!(
            m.expected_meta.pop_front(),
            Some(MetaAccess::Write(1, u64::MAX - 1, false))
        );
        assert_eq!(m.expected_dram.len(), 1, "only the writeback");
        // Frame 1 again: frame 2's record goes out, frame 1's comes in, still fresh but line 0.
        assert_eq!(m.fill(line_addr(1, 5)), FillSource::Zero);
        assert_eq!(
            m.expected_meta.drain(..).collect::<Vec<_>>(),
            vec![MetaAccess::Write(2, u64::MAX, false), MetaAccess::Read(1)]
        );
        assert_eq!(m.fill(line_addr(1, 0)), FillSource::Dram);
        assert_eq!(m.evictions_with_fresh, 2);
        assert_eq!((m.record_reads, m.record_writes), (1, 2));
    }

    #[test]
    fn a_frame_never_recorded_passes_through() {
        let mut m = model(2, true);
        assert_eq!(m.fill(line_addr(9, 0)), FillSource::Dram);
        m.writeback(line_addr(9, 0), [3; 64]);
        assert_eq!(m.counters.dram_writes, 1);
        assert_eq!(m.expected_meta.len(), 1, "one record read");
    }

    #[test]
    fn a_dead_frame_out_of_the_table_still_drops_its_writebacks() {
        let mut m = model(1, true);
        m.map(5);
        m.dead(5);
        m.map(6); // frame 5's dead record goes to memory
        m.writeback(line_addr(5, 2), [1; 64]);
        assert_eq!(m.counters.writebacks_dropped, 1);
        assert!(m.expected_dram.is_empty());
    }

    #[test]
    fn dead_frames_drop_writebacks() {
        let mut m = model(4, true);
        m.map(5);
        m.dead(5);
        m.writeback(line_addr(5, 0), [1; 64]);
        assert_eq!(m.counters.writebacks_dropped, 1);
        assert!(m.expected_dram.is_empty());
    }

    #[test]
    fn off_without_dram_zero_passes_everything_through() {
        let mut m = BypassModel::new(&memento_hw::Params {
            bypass_on: false,
            ..Default::default()
        });
        m.map(5);
        m.dead(5);
        assert!(
            m.expected_dram.is_empty(),
            "the OS zeroes through the cache"
        );
        m.writeback(line_addr(5, 0), [1; 64]);
        assert_eq!(m.fill(line_addr(5, 1)), FillSource::Dram);
        assert_eq!(m.counters.dram_writes, 1);
        assert_eq!(m.counters.zero_lines, 0);
    }

    #[test]
    fn off_zeroes_the_page_in_dram() {
        let mut m = model(4, false);
        m.map(5);
        assert_eq!(m.counters.zero_lines, 64);
        assert_eq!(m.fill(line_addr(5, 0)), FillSource::Dram);
    }
}

//! Golden model of the main-memory bypass, and the guarantee it must keep.
//!
//! [`BypassModel`] follows the unit's rules (docs/design.md): a mapped frame enters the table with
//! every line fresh, replacing round-robin; an evicted entry with fresh lines writes a zero line to
//! DRAM for each; a fill of a fresh line is answered with zeros; a writeback clears the fresh bit,
//! and is dropped when the frame was reclaimed. From the events in the order the unit takes them it
//! predicts every DRAM access and whether each fill is answered by the bypass.
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

/// Who answers a fill.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FillSource {
    /// The bypass: a fresh line, zeros, no DRAM read.
    Zero,
    Dram,
}

/// The unit's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
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
        }
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

    /// Puts `e` in the table: in place if its frame is there, else over the round-robin victim,
    /// whose fresh lines first become zeros in DRAM.
    fn place(&mut self, e: Entry) {
        if let Some(i) = self.find(e.frame) {
            self.entries[i] = Some(e);
            return;
        }
        if let Some(v) = self.entries[self.rr].filter(|v| !v.dead && v.fresh != 0) {
            self.evictions_with_fresh += 1;
            for line in (0..64).filter(|l| v.fresh >> l & 1 == 1) {
                self.write_zero(v.frame, line);
            }
        }
        self.entries[self.rr] = Some(e);
        self.rr = (self.rr + 1) % self.entries.len();
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
        let fresh = self.on
            && self
                .find(addr >> 12)
                .and_then(|i| self.entries[i])
                .is_some_and(|e| !e.dead && e.fresh >> line & 1 == 1);
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
            if let Some(i) = self.find(addr >> 12) {
                let e = self.entries[i].as_mut().unwrap();
                if e.dead {
                    self.counters.writebacks_dropped += 1;
                    return;
                }
                e.fresh &= !(1 << ((addr >> 6) & 63));
            }
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
    fn eviction_writes_zero_lines_for_fresh_lines_only() {
        let mut m = model(2, true);
        m.map(1);
        m.writeback(line_addr(1, 0), [1; 64]);
        m.map(2);
        m.expected_dram.clear();
        m.map(3); // evicts frame 1: 63 lines still fresh
        assert_eq!(m.expected_dram.len(), 63);
        assert_eq!(
            m.expected_dram[0],
            DramAccess::Write(line_addr(1, 1), [0; 64])
        );
        assert_eq!(
            m.fill(line_addr(1, 5)),
            FillSource::Dram,
            "no longer tracked: DRAM holds the zero"
        );
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

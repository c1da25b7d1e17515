//! Table memory: the page-table entries the page allocator's table port reads and writes.

use super::FastMap;
use super::ReadPipe;

/// Physical memory as the page allocator's table port sees it: 8-byte entries, zero where never
/// written, with a read pipeline. A frame that a table entry starts pointing at reads as zero
/// from then on, as the bypass guarantees for a freshly mapped frame.
#[derive(Default)]
pub struct TableMemory {
    frames: FastMap<u64, Box<[u64; 512]>>,
    reads: ReadPipe<u64>,
}

impl TableMemory {
    pub fn read_now(&self, pa: u64) -> u64 {
        self.frames
            .get(&(pa >> 12))
            .map_or(0, |f| f[((pa >> 3) & 511) as usize])
    }

    /// The 64 bytes of the table line at `line`, if its frame holds a table (entries little-endian).
    pub fn line_bytes(&self, line: u64) -> Option<[u8; 64]> {
        let f = self.frames.get(&(line >> 12))?;
        let first = ((line >> 3) & 511) as usize & !7;
        let mut out = [0u8; 64];
        for (k, w) in f[first..first + 8].iter().enumerate() {
            out[8 * k..8 * k + 8].copy_from_slice(&w.to_le_bytes());
        }
        Some(out)
    }

    pub fn write(&mut self, pa: u64, value: u64) {
        self.frames
            .entry(pa >> 12)
            .or_insert_with(|| Box::new([0; 512]))[((pa >> 3) & 511) as usize] = value;
        if value & 1 == 1 {
            self.frames.remove(&((value >> 12) & ((1 << 40) - 1)));
        }
    }

    pub fn start_read(&mut self, pa: u64, due: u64) {
        let v = self.read_now(pa);
        self.reads.push(due, v);
    }

    pub fn due(&self, cycle: u64) -> Option<u64> {
        self.reads.due(cycle).copied()
    }

    pub fn pop_read(&mut self) {
        self.reads.pop();
    }

    pub fn reads_in_flight(&self) -> usize {
        self.reads.len()
    }
}

//! Header memory: the lines the object allocator's header port reads and writes.

use super::FastMap;
use super::ReadPipe;

/// Header memory: sparse 64-byte lines, zero where never written, with a read pipeline.
#[derive(Default)]
pub struct HeaderMemory {
    lines: FastMap<u64, [u32; 16]>,
    reads: ReadPipe<[u32; 16]>,
}

impl HeaderMemory {
    pub fn read_now(&self, va: u64) -> [u32; 16] {
        self.lines.get(&va).copied().unwrap_or([0; 16])
    }

    pub fn write(&mut self, va: u64, line: [u32; 16]) {
        self.lines.insert(va, line);
    }

    /// Queues a read whose data is due at `due`.
    pub fn start_read(&mut self, va: u64, due: u64) {
        let data = self.read_now(va);
        self.start_read_data(data, due);
    }

    /// Queues read data that another memory supplied.
    pub fn start_read_data(&mut self, data: [u32; 16], due: u64) {
        self.reads.push(due, data);
    }

    /// The read data due at `cycle`, if any.
    pub fn due(&self, cycle: u64) -> Option<&[u32; 16]> {
        self.reads.due(cycle)
    }

    pub fn pop_read(&mut self) {
        self.reads.pop();
    }

    pub fn reads_in_flight(&self) -> usize {
        self.reads.len()
    }

    /// A freshly mapped page reads as zero.
    pub fn zero_page(&mut self, va: u64, page: u64) {
        let base = va & !(page - 1);
        self.lines.retain(|&a, _| a < base || a >= base + page);
    }

    /// Every page of the region is reclaimed at exit.
    pub fn clear(&mut self) {
        self.lines.clear();
    }
}

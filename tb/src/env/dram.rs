//! DRAM below the bypass: real contents, latency, and stale garbage where never written.

use super::FastMap;
use super::ReadPipe;
use crate::seed;

/// DRAM with latency and stalls that keeps real contents. A line never written reads as stale
/// garbage derived from the seed.
pub struct Dram {
    lines: FastMap<u64, [u8; 64]>,
    stale: u64,
    reads: ReadPipe<[u8; 64]>,
    pub reads_done: u64,
    pub writes_done: u64,
}

impl Dram {
    pub fn new(seed: u64) -> Self {
        Dram {
            lines: FastMap::default(),
            stale: seed::mix(seed ^ 0xd7a),
            reads: ReadPipe::default(),
            reads_done: 0,
            writes_done: 0,
        }
    }

    pub fn read_now(&self, addr: u64) -> [u8; 64] {
        self.lines.get(&addr).copied().unwrap_or_else(|| {
            std::array::from_fn(|i| {
                (seed::mix(self.stale ^ addr ^ (i as u64 / 8)) >> (8 * (i % 8))) as u8
            })
        })
    }

    pub fn write(&mut self, addr: u64, data: [u8; 64]) {
        self.lines.insert(addr, data);
        self.writes_done += 1;
    }

    /// What memory holds before the run starts (the OS's own setup; not an access).
    pub fn preload(&mut self, addr: u64, data: [u8; 64]) {
        self.lines.insert(addr, data);
    }

    pub fn start_read(&mut self, addr: u64, due: u64) {
        let d = self.read_now(addr);
        self.reads.push(due, d);
        self.reads_done += 1;
    }

    pub fn due(&self, cycle: u64) -> Option<[u8; 64]> {
        self.reads.due(cycle).copied()
    }

    pub fn pop_read(&mut self) {
        self.reads.pop();
    }
}

//! Environment models: the parts of the system around a design that answer its requests, each
//! owning its state and its latency policy. Header memory, table memory, the OS page supply, the
//! MMU over physical memory, the last-level cache and DRAM below the bypass (with the memory
//! path that joins them for `memento_top`), and the new-arena responder for a lone object
//! allocator. Agents put their answers on the pins; the models never touch the design.

pub mod arena;
pub mod dram;
pub mod header_mem;
pub mod llc;
pub mod mem_path;
pub mod mmu;
pub mod os;
pub mod table_mem;
pub mod timing;
pub mod traffic;

pub use arena::ArenaResponder;
pub use dram::Dram;
pub use header_mem::HeaderMemory;
pub use os::{OsSupply, OsTiming, RefillWatch};
pub use table_mem::TableMemory;
pub use timing::EnvTiming;

use std::collections::VecDeque;

/// Read data in flight: each entry is due at a cycle, in request order.
pub struct ReadPipe<T> {
    reads: VecDeque<(u64, T)>,
}

impl<T> Default for ReadPipe<T> {
    fn default() -> Self {
        ReadPipe {
            reads: VecDeque::new(),
        }
    }
}

impl<T> ReadPipe<T> {
    pub fn push(&mut self, due: u64, data: T) {
        self.reads.push_back((due, data));
    }

    /// The oldest read's data, once it is due at `cycle`.
    pub fn due(&self, cycle: u64) -> Option<&T> {
        self.reads
            .front()
            .filter(|(d, _)| *d <= cycle)
            .map(|(_, data)| data)
    }

    pub fn pop(&mut self) {
        self.reads.pop_front();
    }

    pub fn len(&self) -> usize {
        self.reads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reads.is_empty()
    }
}

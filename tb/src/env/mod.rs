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

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for the models' address-keyed maps, which the harness touches every cycle. The
/// standard SipHash guards against chosen keys, which a model's own addresses are not; it cost
/// about 3% of a `memento_top` run. Words are mixed in by a multiply, and `finish` spreads the
/// bits (MurmurHash3's 64-bit finaliser) so that line- and page-aligned keys, whose low bits are
/// zero, still fill every bucket of the table.
#[derive(Default, Clone, Copy)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(23) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A map keyed by addresses (see [`AddrHasher`]).
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<AddrHasher>>;
/// A set of addresses (see [`AddrHasher`]).
pub type FastSet<K> = HashSet<K, BuildHasherDefault<AddrHasher>>;

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

//! The page allocator's stimulus: a seeded random stream of walker faults, arena pages and
//! exits.

use super::PageReq;
use crate::seed;
use memento_hw::Params;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A seeded random stream of page requests: phases of sparse faults, dense faults, repeats of
/// mapped pages and faults outside the region, with arena pages between and an exit now and then.
pub struct PageStream {
    rng: ChaCha8Rng,
    remaining: u64,
    mrs: u64,
    lane_bits: u32,
    region: u64,
    cursors: Vec<u64>,
    arena_cursors: Vec<u64>,
    touched: Vec<u64>,
    phase_left: u64,
    mode: u8,
    /// Mean requests per function; each function's length is uniform in `[mean/2, 3*mean/2]`.
    exit_every: u64,
    function_left: u64,
}

impl PageStream {
    pub fn new(seed: u64, requests: u64, params: &Params, mrs: u64, exit_every: u64) -> Self {
        PageStream {
            rng: seed::rng(seed, 0x9a6e),
            remaining: requests,
            mrs,
            lane_bits: params.lane_bits,
            region: 1 << params.region_log2(),
            cursors: vec![0; params.classes as usize],
            arena_cursors: vec![0; params.classes as usize],
            touched: vec![],
            phase_left: 0,
            mode: 0,
            exit_every,
            function_left: 0,
        }
    }

    fn lane(&mut self) -> u64 {
        self.rng.gen_range(0..self.cursors.len() as u64)
    }
}

impl Iterator for PageStream {
    type Item = PageReq;

    fn next(&mut self) -> Option<PageReq> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if self.exit_every > 0 && self.function_left == 0 {
            self.function_left = self
                .rng
                .gen_range(self.exit_every / 2..=self.exit_every * 3 / 2);
        }
        if self.exit_every > 0 && self.function_left == 1 {
            self.function_left = 0;
            self.cursors.iter_mut().for_each(|c| *c = 0);
            self.arena_cursors.iter_mut().for_each(|c| *c = 0);
            self.touched.clear();
            return Some(PageReq::Exit);
        }
        self.function_left = self.function_left.saturating_sub(1);
        if self.phase_left == 0 {
            self.phase_left = self.rng.gen_range(50..800);
            self.mode = self.rng.gen_range(0..3);
        }
        self.phase_left -= 1;
        if self.rng.gen_range(0..10) == 0 {
            let c = self.rng.gen_range(0..4);
            let va = self.mrs + (c << self.lane_bits) + self.arena_cursors[c as usize];
            self.arena_cursors[c as usize] += 1 << 16;
            return Some(PageReq::Arena(va));
        }
        let r = self.rng.gen_range(0..100);
        let va = if r < 3 {
            // Outside the region, below or above it.
            if self.rng.gen_bool(0.5) {
                self.rng.gen_range(0..self.mrs)
            } else {
                self.mrs + self.region + self.rng.gen_range(0..1 << 40)
            }
        } else if r < 10 && !self.touched.is_empty() {
            *self.touched.choose(&mut self.rng).unwrap()
        } else {
            match self.mode {
                // Sparse: anywhere in the region, new tables at every level.
                0 => self.mrs + self.rng.gen_range(0..self.region),
                // Dense: consecutive pages in a few lanes.
                1 => {
                    let c = self.rng.gen_range(0..3);
                    let v = self.mrs
                        + (c << self.lane_bits)
                        + (4 << 20)
                        + self.cursors[c as usize] * 4096;
                    self.cursors[c as usize] += 1;
                    v
                }
                // Clustered: random pages within a few MiB of one lane.
                _ => {
                    let c = self.lane();
                    self.mrs + (c << self.lane_bits) + self.rng.gen_range(0..8u64 << 20)
                }
            }
        };
        let va = va & !4095;
        if va >= self.mrs && va < self.mrs + self.region {
            self.touched.push(va);
        }
        Some(PageReq::Walk(va))
    }
}

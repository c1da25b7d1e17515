//! Seeded random command streams, weighted over alloc, free and bad free.
//!
//! The stream moves through phases (a few thousand commands each) that change the free order
//! (LIFO, FIFO, random) and the alloc/free balance, so the live set grows and shrinks, frees
//! miss the HOT, full arenas join the available list and are popped again.

use crate::model::object_alloc::{Effects, Geometry, Op, Response, Status};
pub mod shrink;
pub mod trace;

use crate::seed;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, VecDeque};

/// What a stimulus offers the driver in a cycle.
pub enum Next {
    Cmd(Op),
    /// Nothing yet: the next command needs a response that has not arrived.
    Wait,
    Done,
}

/// A source of commands.
pub trait Stimulus {
    fn next(&mut self) -> Next;
    /// The command was accepted; `expected` is the golden model's prediction.
    fn issued(&mut self, _op: Op, _expected: &Effects) {}
    /// The hardware answered the command.
    fn answered(&mut self, _op: Op, _rsp: Response) {}
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum FreeOrder {
    Lifo,
    Fifo,
    Random,
}

/// Weights of the command kinds, in any units.
#[derive(Clone, Debug)]
pub struct Mix {
    pub alloc: u32,
    pub free: u32,
    pub bad_free: u32,
    /// Mean commands per function: each function lasts a length drawn uniformly from
    /// `[exit_every/2, 3*exit_every/2]` and ends with an EXIT (0: never).
    pub exit_every: u64,
    /// Allocate only from this range of size classes (and now and then an oversize request).
    pub classes: Option<(u64, u64)>,
    /// Each phase allocates from two classes whose numbers differ in one bit.
    pub class_pairs: bool,
    /// With `class_pairs`: half the phases are edge phases ([`RandomStream`]).
    pub edges: bool,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            alloc: 50,
            free: 40,
            bad_free: 10,
            exit_every: 25_000,
            classes: None,
            class_pairs: false,
            edges: false,
        }
    }
}

/// A random stream of `ops` commands.
pub struct RandomStream {
    rng: ChaCha8Rng,
    g: Geometry,
    mrs: u64,
    mix: Mix,
    remaining: u64,
    live: VecDeque<u64>,
    freed: VecDeque<u64>,
    bumps: Vec<u64>,
    order: FreeOrder,
    alloc_bias: u32,
    phase_left: u64,
    function_left: u64,
    /// The phase's two classes, with `class_pairs`.
    pair: Option<(u64, u64)>,
    /// An edge phase (with `edges`).
    edge: bool,
    /// Commands an edge phase has lined up to follow the last one.
    queued: VecDeque<Op>,
    /// Live objects per arena (by its base address).
    arena_live: HashMap<u64, u64>,
    /// Per class, the arena of its last allocation: the one in the HOT.
    hot_arena: Vec<Option<u64>>,
}

impl RandomStream {
    pub fn new(seed: u64, ops: u64, g: Geometry, mrs: u64, mix: Mix) -> Self {
        let classes = g.classes as usize;
        RandomStream {
            rng: seed::rng(seed, 0x5717),
            g,
            mrs,
            mix,
            remaining: ops,
            live: VecDeque::new(),
            freed: VecDeque::new(),
            bumps: vec![0; classes],
            order: FreeOrder::Random,
            alloc_bias: 0,
            phase_left: 0,
            function_left: 0,
            pair: None,
            edge: false,
            queued: VecDeque::new(),
            arena_live: HashMap::new(),
            hot_arena: vec![None; classes],
        }
    }

    fn new_phase(&mut self) {
        self.phase_left = self.rng.gen_range(500..5000);
        self.order = *[FreeOrder::Lifo, FreeOrder::Fifo, FreeOrder::Random]
            .choose(&mut self.rng)
            .unwrap();
        self.alloc_bias = *[0, 0, 20, 40].choose(&mut self.rng).unwrap();
        if self.mix.class_pairs {
            let bits = 64 - (self.g.classes - 1).leading_zeros();
            let c = self.rng.gen_range(0..self.g.classes);
            let other = c ^ (1 << self.rng.gen_range(0..bits.max(1)));
            self.pair = Some((c, other.min(self.g.classes - 1)));
            self.edge = self.mix.edges && self.rng.gen_bool(0.5);
        }
    }

    fn arena_of(&self, ptr: u64) -> u64 {
        ptr & !(self.g.stride(self.class_of(ptr)) - 1)
    }

    /// Class `c`'s arena in the HOT has every object allocated.
    fn hot_full(&self, c: u64) -> bool {
        self.hot_arena[c as usize]
            .is_some_and(|a| self.arena_live.get(&a).copied().unwrap_or(0) == self.g.objs)
    }

    /// A live object of class `c` in a full arena other than the HOT's, the most recently
    /// allocated first (its arena left the HOT last, so its header is likely in the header
    /// cache, and the free is answered from there in one cycle).
    fn in_full_arena(&self, c: u64) -> Option<u64> {
        let hot = self.hot_arena[c as usize];
        self.live.iter().rev().copied().find(|&p| {
            self.class_of(p) == c
                && Some(self.arena_of(p)) != hot
                && self.arena_live.get(&self.arena_of(p)) == Some(&self.g.objs)
        })
    }

    /// A command of an edge phase over classes `(a, b)`: allocate from each until the arena in
    /// its HOT is full; then free an object of a full arena of `a` that is not in the HOT (the
    /// arena becomes available: the class table's entry of `a` is written when the free is
    /// answered) with an alloc of `a` or `b` lined up right behind it. That alloc finds its HOT
    /// arena full, so it reads the class table in the cycle the free writes it: the write-first
    /// forwarding of the class table and the HOT, for one class or two one bit apart.
    fn edge_op(&mut self, (a, b): (u64, u64)) -> Op {
        if let Some(op) = self.queued.pop_front() {
            return op;
        }
        let alloc = |s: &mut Self, c: u64| Op::Alloc(8 * c + s.rng.gen_range(1..=8));
        for c in [a, b] {
            if !self.hot_full(c) {
                return alloc(self, c);
            }
        }
        match self.in_full_arena(a) {
            Some(ptr) => {
                let i = self
                    .live
                    .iter()
                    .position(|&p| p == ptr)
                    .expect("found in live");
                self.live.remove(i);
                if self.freed.len() >= 64 {
                    self.freed.pop_front();
                }
                self.freed.push_back(ptr);
                // Mostly `a` again (its next arena is one alloc from full: a cheap next edge),
                // now and then `b` (a class one bit apart, reading its entry in that cycle).
                let next = if self.rng.gen_ratio(3, 4) { a } else { b };
                let op = alloc(self, next);
                self.queued.push_back(op);
                Op::Free(ptr)
            }
            None => alloc(self, a),
        }
    }

    /// An oversize request: mostly just above the largest class; or the largest size plus one
    /// power of two below it (a size compare that drops that bit takes it for the largest
    /// size: 768 against 512 is the only size that shows bit 8 forced to 0); else a size whose
    /// highest set bit is anywhere from there to bit 63 (every bit of the size path gets to be
    /// the one that makes it too large).
    fn oversize(&mut self) -> u64 {
        let max = 8 * self.g.classes;
        if self.rng.gen_bool(0.5) {
            return self.rng.gen_range(max + 1..=4 * max);
        }
        if self.rng.gen_bool(0.2) {
            return max + (1 << self.rng.gen_range(0..64 - max.leading_zeros()));
        }
        let top = self.rng.gen_range(64 - max.leading_zeros()..64);
        (1u64 << top) | self.rng.gen_range(0..1u64 << top) >> self.rng.gen_range(0..=top)
    }

    fn size(&mut self) -> u64 {
        let max = 8 * self.g.classes;
        if self.pair.is_some() || self.mix.classes.is_some() {
            if self.rng.gen_range(0..100) < 2 {
                return self.oversize();
            }
            let c = match (self.pair, self.mix.classes) {
                (Some((a, b)), _) => *[a, b].choose(&mut self.rng).unwrap(),
                (None, Some((lo, hi))) => self.rng.gen_range(lo..=hi.min(self.g.classes - 1)),
                (None, None) => unreachable!("checked above"),
            };
            return 8 * c + self.rng.gen_range(1..=8);
        }
        match self.rng.gen_range(0..100) {
            0..=4 => self.oversize(),
            5..=6 => 0,
            7..=56 => self.rng.gen_range(1..=64.min(max)),
            _ => {
                let c = self.rng.gen_range(0..self.g.classes);
                8 * c + self.rng.gen_range(1..=8)
            }
        }
    }

    fn class_of(&self, ptr: u64) -> u64 {
        (ptr - self.mrs) >> self.g.lane_bits
    }

    fn take_live(&mut self) -> Option<u64> {
        match self.order {
            FreeOrder::Lifo => self.live.pop_back(),
            FreeOrder::Fifo => self.live.pop_front(),
            FreeOrder::Random => {
                if self.live.is_empty() {
                    return None;
                }
                let i = self.rng.gen_range(0..self.live.len());
                self.live.swap_remove_back(i)
            }
        }
    }

    fn bad_free(&mut self) -> u64 {
        let region = self.g.region_bytes();
        let sample = self
            .live
            .get(self.rng.gen_range(0..self.live.len().max(1)))
            .copied();
        let kind = self.rng.gen_range(0..6);
        match (kind, sample) {
            (0, _) | (_, None) => match self.rng.gen_range(0..5) {
                0 => self.rng.gen_range(0..self.mrs),
                1 => self.mrs + region + self.rng.gen_range(0..1 << 20),
                // A pointer into the region with garbage above the virtual address bits (a tagged
                // or corrupted pointer): outside the region as a 64-bit value.
                2 => sample.unwrap_or(self.mrs) | self.rng.gen_range(1u64..1 << 16) << 48,
                // One bit above the region's size flipped, up to bit 63: outside the region by
                // that bit alone, so a region check that drops any one bit answers it.
                3 => {
                    let lo = region.trailing_zeros();
                    sample.unwrap_or(self.mrs) ^ (1 << self.rng.gen_range(lo..64))
                }
                _ => self.mrs.wrapping_sub(8),
            },
            (1, Some(ptr)) => {
                let base = ptr & !(self.g.stride(self.class_of(ptr)) - 1);
                base + self.rng.gen_range(0..self.g.line)
            }
            // Off an object boundary: half the time by whole granules (8 bytes), where only the
            // slot arithmetic's remainder test tells it from an object, else by any bytes.
            (2, Some(ptr)) => {
                let size = self.g.obj_size(self.class_of(ptr));
                if size > 8 && self.rng.gen_bool(0.5) {
                    ptr + 8 * self.rng.gen_range(1..size / 8)
                } else {
                    ptr + self.rng.gen_range(1..size)
                }
            }
            (3, Some(ptr)) => {
                let c = self.class_of(ptr);
                let base = ptr & !(self.g.stride(c) - 1);
                let end = base + self.g.line + self.g.objs * self.g.obj_size(c);
                let room = (base + self.g.stride(c) - end) / self.g.obj_size(c);
                if room == 0 {
                    end
                } else {
                    end + self.rng.gen_range(0..room) * self.g.obj_size(c)
                }
            }
            (4, Some(ptr)) => {
                let c = self.class_of(ptr);
                self.mrs + (c << self.g.lane_bits) + self.bumps[c as usize] + self.g.line
            }
            _ => self
                .freed
                .get(self.rng.gen_range(0..self.freed.len().max(1)))
                .copied()
                .unwrap_or(self.mrs),
        }
    }
}

impl Stimulus for RandomStream {
    fn next(&mut self) -> Next {
        if self.remaining == 0 {
            return Next::Done;
        }
        self.remaining -= 1;
        if self.phase_left == 0 {
            self.new_phase();
        }
        self.phase_left -= 1;
        if self.mix.exit_every > 0 && self.function_left == 0 {
            let e = self.mix.exit_every;
            self.function_left = self.rng.gen_range(e / 2..=e * 3 / 2).max(1);
        }
        self.function_left = self.function_left.saturating_sub(1);
        if self.mix.exit_every > 0 && self.function_left == 0 {
            return Next::Cmd(Op::Exit);
        }
        if let (true, Some(pair)) = (self.edge, self.pair) {
            return Next::Cmd(self.edge_op(pair));
        }
        let total = self.mix.alloc + self.alloc_bias + self.mix.free + self.mix.bad_free;
        let r = self.rng.gen_range(0..total);
        if r < self.mix.alloc + self.alloc_bias
            || self.live.is_empty() && r < total - self.mix.bad_free
        {
            let size = self.size();
            return Next::Cmd(Op::Alloc(size));
        }
        if r < total - self.mix.bad_free {
            let ptr = self.take_live().expect("live set is not empty");
            if self.freed.len() >= 64 {
                self.freed.pop_front();
            }
            self.freed.push_back(ptr);
            return Next::Cmd(Op::Free(ptr));
        }
        // One bad command in 16 is not a free at all but the undefined op 3.
        if self.rng.gen_range(0..16) == 0 {
            return Next::Cmd(Op::Reserved(self.rng.gen()));
        }
        let ptr = self.bad_free();
        Next::Cmd(Op::Free(ptr))
    }

    fn issued(&mut self, op: Op, expected: &Effects) {
        match op {
            Op::Alloc(_) if expected.rsp.status == Status::Ok => {
                let ptr = expected.rsp.ptr;
                let c = self.class_of(ptr) as usize;
                let arena_end = (ptr & !(self.g.stride(c as u64) - 1))
                    - self.mrs
                    - ((c as u64) << self.g.lane_bits)
                    + self.g.stride(c as u64);
                self.bumps[c] = self.bumps[c].max(arena_end);
                self.freed.retain(|&f| f != ptr);
                self.live.push_back(ptr);
                let arena = self.arena_of(ptr);
                *self.arena_live.entry(arena).or_insert(0) += 1;
                self.hot_arena[c] = Some(arena);
            }
            Op::Free(ptr) if expected.rsp.status == Status::Ok => {
                let arena = self.arena_of(ptr);
                if let Some(n) = self.arena_live.get_mut(&arena) {
                    *n = n.saturating_sub(1);
                }
            }
            Op::Exit => {
                self.live.clear();
                self.freed.clear();
                self.queued.clear();
                self.arena_live.clear();
                self.hot_arena.iter_mut().for_each(|a| *a = None);
                self.bumps.iter_mut().for_each(|b| *b = 0);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::object_alloc::{ObjectAllocModel, Path};

    /// An edge phase does what it is for: against the golden model, the arena in the HOT is full
    /// when a free makes another full arena available, and an alloc of the pair follows it.
    #[test]
    fn edge_phases_free_into_full_arenas_with_an_alloc_behind() {
        let p = memento_hw::Params {
            hdc: 2,
            lane_bits: 19,
            ..Default::default()
        };
        let g = Geometry::from(&p);
        let mrs = 1u64 << 44;
        let mix = Mix {
            alloc: 55,
            free: 35,
            bad_free: 10,
            exit_every: 6000,
            classes: None,
            class_pairs: true,
            edges: true,
        };
        let seed = crate::seed::seed();
        // 60,000 commands: about twenty phases, so that some are edge phases for any seed.
        let mut s = RandomStream::new(seed, 60_000, g.clone(), mrs, mix);
        let mut m = ObjectAllocModel::new(g, mrs);
        let (mut pushes, mut then_pop, mut edge_cmds) = (0, 0, 0);
        let mut last_push = false;
        while let Next::Cmd(op) = s.next() {
            edge_cmds += s.edge as u32;
            let e = m.apply(op);
            let pop = matches!(e.path, Path::AllocPop);
            then_pop += (last_push && pop) as u32;
            last_push = matches!(e.path, Path::FreeMissPush | Path::FreeCachedPush);
            pushes += last_push as u32;
            s.issued(op, &e);
        }
        assert!(
            edge_cmds > 0 && pushes > edge_cmds / 100 && then_pop > pushes / 4,
            "seed {seed}: in {edge_cmds} commands of edge phases, {pushes} frees made a full arena \
             available, {then_pop} followed by a pop (replay: MEMENTO_SEED={seed} cargo test \
             --release -p memento-tb edge_phases)"
        );
    }
}

//! The bypass env's stimulus: the events the testbench's cache and page allocator offer, drawn
//! from the seed ([`draw`]) over a set of frames chosen to tell every frame bit apart
//! ([`frame_set`]), with directed episodes ([`lone_fresh`]).

use super::Knobs;
use crate::model::bypass::BypassModel;
use memento_hw::Params;
use rand::seq::SliceRandom;
use rand::Rng;

/// A request of the cache side.
#[derive(Copy, Clone, Debug)]
pub enum Event {
    Fill(u64),
    Writeback(u64, [u8; 64]),
}

/// An event of the page allocator (a frame mapped or reclaimed) or of the cache.
pub enum Planned {
    Map(u64),
    Dead(u64),
    Mem(Event),
}

pub fn page_free_now(map: Option<u64>, dead: Option<u64>) -> bool {
    map.is_none() && dead.is_none()
}

/// A random event, drawn by `knobs.mix`: a frame not mapped is mapped, a mapped frame reclaimed,
/// or a line of a mapped frame (one access in `dead_access`: of a reclaimed one) filled or
/// written back.
pub fn draw(
    knobs: &Knobs,
    all: &[u64],
    mapped: &[u64],
    dead: &[u64],
    rng: &mut impl Rng,
) -> Planned {
    let [m, d, c] = knobs.mix;
    let r = rng.gen_range(0..(m + d + c).max(1));
    let unmapped: Vec<u64> = all
        .iter()
        .copied()
        .filter(|f| !mapped.contains(f))
        .collect();
    if (r < m || mapped.is_empty()) && !unmapped.is_empty() {
        return Planned::Map(*unmapped.choose(rng).unwrap());
    }
    if r < m + d && !mapped.is_empty() {
        // An exit reclaims a frame: its late writebacks must be dropped.
        return Planned::Dead(*mapped.choose(rng).unwrap());
    }
    let frame = if rng.gen_ratio(1, knobs.dead_access.max(1)) && !dead.is_empty() {
        *dead.choose(rng).unwrap()
    } else {
        *mapped.choose(rng).unwrap_or(&all[0])
    };
    let addr = (frame << 12) | (rng.gen_range(0..64) << 6);
    Planned::Mem(if rng.gen_bool(0.55) {
        Event::Fill(addr)
    } else {
        Event::Writeback(addr, std::array::from_fn(|_| rng.gen()))
    })
}

/// `n` distinct frame numbers below `2^(PA_BITS-12)`, none zero: a random frame and its
/// neighbours that differ from it in one bit each, then its complement and the complement's
/// neighbours (bits in random order, so that a table compare that ignores bit `k` meets two frames
/// told apart by `k` alone, and every bit is 0 in some frames and 1 in others, so that logic
/// that mixes two frame bits meets both values of each), then random frames.
pub fn frame_set(params: &Params, n: u64, rng: &mut impl Rng) -> Vec<u64> {
    let bits = params.pa_bits - 12;
    let mask = (1u64 << bits) - 1;
    let base = loop {
        let b = rng.gen_range(1..1u64 << bits);
        if b.count_ones() > 1 && (b ^ mask).count_ones() > 1 {
            break b;
        }
    };
    let mut order: Vec<u32> = (0..bits).collect();
    order.shuffle(rng);
    let half = (n as usize).div_ceil(2);
    let mut all = vec![base];
    all.extend(order.iter().take(half - 1).map(|k| base ^ (1 << k)));
    let other = base ^ mask;
    all.push(other);
    all.extend(order.iter().skip(half - 1).map(|k| other ^ (1 << k)));
    all.truncate(n as usize);
    while (all.len() as u64) < n {
        let f = rng.gen_range(1..1u64 << bits);
        if !all.contains(&f) {
            all.push(f);
        }
    }
    all
}

/// An episode: every line of a frame in the table but one is written back, frames not in the
/// table are mapped until it is evicted (its record, with one fresh line, goes to memory), and
/// that line is read (the record comes back, and the line must read as zero). A random stream almost never leaves exactly one fresh line in an entry.
/// Empty when no mapped frame is in the table or too few frames are outside it.
pub fn lone_fresh(
    model: &BypassModel,
    all: &[u64],
    mapped: &[u64],
    entries: usize,
    rng: &mut impl Rng,
) -> Vec<Planned> {
    let resident: Vec<u64> = mapped.iter().copied().filter(|&f| model.holds(f)).collect();
    let outside: Vec<u64> = all
        .iter()
        .copied()
        .filter(|&f| !mapped.contains(&f) && !model.holds(f))
        .collect();
    let Some(&f) = resident.choose(rng) else {
        return vec![];
    };
    if outside.len() < entries {
        return vec![];
    }
    let keep = rng.gen_range(0..64u64);
    let mut plan: Vec<Planned> = (0..64)
        .filter(|&l| l != keep)
        .map(|l| {
            Planned::Mem(Event::Writeback(
                (f << 12) | (l << 6),
                std::array::from_fn(|_| rng.gen()),
            ))
        })
        .collect();
    plan.extend(
        outside
            .choose_multiple(rng, entries)
            .map(|&g| Planned::Map(g)),
    );
    plan.push(Planned::Mem(Event::Fill((f << 12) | (keep << 6))));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed;

    /// The frame set: distinct, non-zero frames below 2^(PA_BITS-12), a random frame's
    /// single-bit neighbours, then its complement's; in every set each frame bit is 0 in some
    /// frame and 1 in another, and over a few seeds every frame bit tells two frames apart.
    #[test]
    fn frame_sets_hold_single_bit_neighbours() {
        let p = Params::default();
        let bits = p.pa_bits - 12;
        let mask = (1u64 << bits) - 1;
        let mut told_apart = 0u64;
        for seed in 0..4 {
            let mut rng = seed::rng(seed, 1);
            let all = frame_set(&p, 24, &mut rng);
            assert_eq!(all.len(), 24);
            let mut sorted = all.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 24, "distinct: {all:x?}");
            assert!(all.iter().all(|&f| f > 0 && f < 1 << bits), "{all:x?}");
            let (a, b) = (all[0], all[12]);
            assert_eq!(a ^ b, mask, "{a:x} and {b:x} are complements");
            for (i, f) in all.iter().enumerate().filter(|&(i, _)| i != 0 && i != 12) {
                let d = f ^ if i < 12 { a } else { b };
                assert_eq!(d.count_ones(), 1, "{f:x} next to {a:x} or {b:x}");
                told_apart |= d;
            }
            let ones = all.iter().fold(0, |o, f| o | f);
            let zeros = all.iter().fold(0, |z, f| z | (f ^ mask));
            assert_eq!((ones, zeros), (mask, mask), "every bit both ways: {all:x?}");
        }
        assert_eq!(
            told_apart,
            (1 << bits) - 1,
            "every frame bit, over four seeds"
        );
    }
}

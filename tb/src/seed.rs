//! The one place seeds come from. Every random run takes one `u64`: `MEMENTO_SEED` when set,
//! otherwise a fresh value that is printed so the run can be replayed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Environment variable that overrides the seed of every random run.
pub const SEED_ENV: &str = "MEMENTO_SEED";

/// The seed for a run: `MEMENTO_SEED` (decimal or 0x-hex) if set, else a new random one.
pub fn seed() -> u64 {
    match std::env::var(SEED_ENV) {
        Ok(s) => {
            parse(&s).unwrap_or_else(|| panic!("{SEED_ENV}={s:?} is not a u64 (decimal or 0x-hex)"))
        }
        Err(_) => fresh(),
    }
}

pub fn parse(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A new seed from the clock and the process id (the seed itself is always reported).
fn fresh() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    mix(t ^ ((std::process::id() as u64) << 32))
}

/// SplitMix64 finaliser: independent-looking values from related inputs.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A deterministic RNG for one purpose (`stream`) of the run with `seed`.
pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(seed ^ mix(stream)))
}

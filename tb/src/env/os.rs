//! The OS side of the page pool: the frame supply that answers refill requests and takes
//! drained frames back, and the watch on the pool's refill promise.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// The pool's promise at its ports: a count below LOW with no frame owed has a refill request
/// up. The request is a register, so it shows the cycle after the count falls below LOW, or after
/// a LOW is written; from then on every cycle is checked, so a request raised a cycle late fails.
pub struct RefillWatch {
    low: u64,
    /// The first cycle (`Model::cycle`) the check applies to.
    from: u64,
}

impl RefillWatch {
    /// LOW is `low` as of cycle `now` (after reset and configuration, before the first check).
    pub fn new(low: u64, now: u64) -> Self {
        RefillWatch { low, from: now }
    }

    /// LOW was written in the cycle before `now`.
    pub fn set_low(&mut self, low: u64, now: u64) {
        self.low = low;
        self.from = now + 1;
    }

    /// Checks one cycle's settled ports; the error is (what, expected, got).
    pub fn check(
        &self,
        now: u64,
        count: u64,
        requesting: bool,
        owed: u64,
    ) -> Result<(), (String, String, String)> {
        if now < self.from || count >= self.low || requesting || owed > 0 {
            return Ok(());
        }
        Err((
            "no refill request below LOW".into(),
            format!(
                "refill_req_valid: {count} frames in the pool, LOW {}, nothing owed",
                self.low
            ),
            "no request".into(),
        ))
    }
}

/// The OS side of the page pool: answers a refill request after a latency, then delivers the
/// frames it owes one at a time with gaps between them; takes drained frames back and hands them
/// out again later.
pub struct OsSupply {
    next_new: u64,
    free: VecDeque<u64>,
    owed: u64,
    next_due: u64,
    timing: OsTiming,
    pub given: u64,
    pub taken_back: u64,
}

/// Cycles from a refill request to its first frame, and between frames (uniform ranges).
#[derive(Clone, Debug, serde::Serialize)]
pub struct OsTiming {
    pub latency_min: u64,
    pub latency_max: u64,
    pub gap_min: u64,
    pub gap_max: u64,
}

impl OsSupply {
    pub fn new(first_frame: u64, timing: OsTiming) -> Self {
        OsSupply {
            next_new: first_frame,
            free: VecDeque::new(),
            owed: 0,
            next_due: 0,
            timing,
            given: 0,
            taken_back: 0,
        }
    }

    pub fn request(&mut self, count: u64, cycle: u64, rng: &mut ChaCha8Rng) {
        self.owed += count;
        self.next_due = cycle + rng.gen_range(self.timing.latency_min..=self.timing.latency_max);
    }

    /// The frame on offer this cycle, if one is due.
    pub fn offer(&mut self, cycle: u64) -> Option<u64> {
        if self.owed == 0 || cycle < self.next_due {
            return None;
        }
        Some(*self.free.front().unwrap_or(&self.next_new))
    }

    /// The offered frame was taken.
    pub fn delivered(&mut self, cycle: u64, rng: &mut ChaCha8Rng) {
        if self.free.pop_front().is_none() {
            self.next_new += 1;
        }
        self.owed -= 1;
        self.given += 1;
        self.next_due = cycle + rng.gen_range(self.timing.gap_min..=self.timing.gap_max);
    }

    pub fn owed(&self) -> u64 {
        self.owed
    }

    /// A drained frame comes back and will be handed out again.
    pub fn take_back(&mut self, frame: u64) {
        self.free.push_back(frame);
        self.taken_back += 1;
    }
}

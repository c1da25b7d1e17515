//! The pool's OS interface with the OS behind it: the pool agent, the OS page supply that
//! answers refill requests and takes drained frames back, and the watch on the pool's refill
//! promise. Shared by the `page_alloc` and `memento_core` envs.

use super::scoreboard::PageScoreboard;
use super::PageTiming;
use crate::agents::pool::PoolAgent;
use crate::env::{OsSupply, RefillWatch};
use crate::scoreboard::{Mismatch, Place};
use memento_sim::{Model, VTable};
use rand_chacha::ChaCha8Rng;

type Check<T = ()> = Result<T, Box<Mismatch>>;

pub struct OsSide {
    pub pool: PoolAgent,
    pub os: OsSupply,
    watch: RefillWatch,
    /// The frame the OS offers this cycle.
    offer: Option<u64>,
}

impl OsSide {
    /// The pool ports of `vt` and an OS handing out frames from `first_frame`; LOW is `low` as
    /// of the model's cycle `now`.
    pub fn new(vt: &VTable, t: &PageTiming, first_frame: u64, low: u64, now: u64) -> Self {
        OsSide {
            pool: PoolAgent::of(vt, t.os_req_stall, t.drain_stall),
            os: OsSupply::new(first_frame, t.os.clone()),
            watch: RefillWatch::new(low, now),
            offer: None,
        }
    }

    /// LOW was written in the cycle before the model's cycle `now`.
    pub fn set_low(&mut self, low: u64, now: u64) {
        self.watch.set_low(low, now);
    }

    /// Driver: the OS's side of the pins this cycle.
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, cycle: u64) {
        self.offer = self.os.offer(cycle);
        self.pool.drive(dut, rng, self.offer);
    }

    /// The pool's promises at its ports: starved only while empty, a refill request up below
    /// LOW; counts the starved cycle.
    pub fn check(&self, dut: &mut Model, place: &Place, starved_cycles: &mut u64) -> Check {
        let starved = self.pool.starved(dut);
        *starved_cycles += starved as u64;
        let count = self.pool.count(dut);
        if starved && count != 0 {
            return Err(place.fail(
                "starved with frames in the pool",
                "starved only while the pool is empty".into(),
                format!("starved with {count} frames"),
            ));
        }
        let requesting = self.pool.requesting(dut);
        self.watch
            .check(dut.cycle(), count, requesting, self.os.owed())
            .map_err(|d| place.diff(d))
    }

    /// Monitor and OS: refill requests, frames handed in, frames drained, each against the page
    /// model; returns whether a frame moved.
    pub fn observe(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        cycle: u64,
        sb: &mut PageScoreboard,
    ) -> Check<bool> {
        let mut progress = false;
        if let Some(count) = self.pool.request(dut) {
            sb.refill_request(count)?;
            self.os.request(count, cycle, rng);
        }
        if let Some(f) = self.offer.filter(|_| self.pool.refilled(dut)) {
            self.os.delivered(cycle, rng);
            sb.refill(f)?;
            progress = true;
        }
        if let Some(f) = self.pool.drained(dut) {
            sb.drained(f)?;
            self.os.take_back(f);
            progress = true;
        }
        Ok(progress)
    }

    /// The refill stream, when the pool waits on it.
    pub fn starved_wait(&self, dut: &mut Model) -> Option<String> {
        self.pool.starved(dut).then(|| {
            format!(
                "the refill stream: the pool is starved and the OS still owes {} frames",
                self.os.owed()
            )
        })
    }
}

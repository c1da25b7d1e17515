//! Agents: one per interface kind of the designs. Each pairs a *driver*, which puts the
//! testbench's side of a port on the pins every cycle with its stall policy, with a *monitor*,
//! which turns the settled pins back into transactions for the scoreboard and the environment
//! models. The valid/ready handshake is written once, here: [`Sink`] is the testbench's side of a
//! port the design drives (it draws `ready`), [`Source`] the side of a port the testbench drives
//! (it offers `valid` and a payload).
//!
//! Every driver draws its stalls from the env's one random stream, in the order the env calls
//! them; that order is part of what a seed means, so an env drives its agents in a fixed order.

pub mod arena;
pub mod bypass;
pub mod command;
pub mod events;
pub mod header;
pub mod memory;
pub mod pool;
pub mod table;
pub mod walker;

use memento_sim::{Model, Port, VTable};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// True with probability `p`; draws from `rng` only when `p > 0`, so a port without stalls
/// leaves the stream untouched.
#[inline]
pub fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    p > 0.0 && rng.gen::<f64>() < p
}

/// The port `name` of the compiled design; a design without it is a testbench bug.
pub fn port(vt: &VTable, name: &str) -> Port {
    vt.port(name)
        .unwrap_or_else(|| panic!("{} has no port {name}", vt.name))
}

/// The two wires of a valid/ready handshake, `<prefix>_valid` and `<prefix>_ready`.
#[derive(Clone, Copy)]
struct Handshake {
    valid: Port,
    ready: Port,
}

impl Handshake {
    fn of(vt: &VTable, prefix: &str) -> Self {
        Handshake {
            valid: port(vt, &format!("{prefix}_valid")),
            ready: port(vt, &format!("{prefix}_ready")),
        }
    }
}

/// The testbench's side of a valid/ready port the design drives: each cycle `ready` is drawn
/// from the stall chance, and a transfer happens when the design's `valid` meets it.
pub struct Sink {
    hs: Handshake,
    stall: f64,
    ready_now: bool,
}

impl Sink {
    /// The port `<prefix>_valid` / `<prefix>_ready` of `vt`, refusing a cycle with chance `stall`.
    pub fn of(vt: &VTable, prefix: &str, stall: f64) -> Self {
        let hs = Handshake::of(vt, prefix);
        Sink {
            hs,
            stall,
            ready_now: false,
        }
    }

    /// Driver: draws and drives this cycle's `ready` (before `settle`); returns it.
    #[inline]
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng) -> bool {
        self.ready_now = !chance(rng, self.stall);
        dut.poke(self.hs.ready, self.ready_now as u64);
        self.ready_now
    }

    /// Drives `ready` low without a draw (a quiet port during configuration).
    #[inline]
    pub fn hold(&mut self, dut: &mut Model) {
        self.ready_now = false;
        dut.poke(self.hs.ready, 0);
    }

    /// Monitor: the design offers a transfer (after `settle`).
    #[inline]
    pub fn valid(&self, dut: &mut Model) -> bool {
        dut.peek(self.hs.valid) == 1
    }

    /// Monitor: a transfer happens this cycle.
    #[inline]
    pub fn fired(&self, dut: &mut Model) -> bool {
        self.ready_now && dut.peek(self.hs.valid) == 1
    }
}

/// The testbench's side of a valid/ready port it drives: each cycle it offers an item unless the
/// stall chance holds it back, and the transfer happens when the design's `ready` meets it.
pub struct Source {
    hs: Handshake,
    stall: f64,
    offered: bool,
}

impl Source {
    /// The port `<prefix>_valid` / `<prefix>_ready` of `vt`, holding a due item back a cycle with
    /// chance `stall`.
    pub fn of(vt: &VTable, prefix: &str, stall: f64) -> Self {
        let hs = Handshake::of(vt, prefix);
        Source {
            hs,
            stall,
            offered: false,
        }
    }

    /// Driver: offers `item` (drawing the stall only when there is one) and drives `valid`;
    /// returns what is on offer, for the caller to drive the payload.
    #[inline]
    pub fn offer<T>(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        item: Option<T>,
    ) -> Option<T> {
        let item = item.filter(|_| !chance(rng, self.stall));
        self.offered = item.is_some();
        dut.poke(self.hs.valid, self.offered as u64);
        item
    }

    /// Drives `valid` low (nothing on offer).
    #[inline]
    pub fn hold(&mut self, dut: &mut Model) {
        self.offered = false;
        dut.poke(self.hs.valid, 0);
    }

    /// Monitor: the design takes the offered item this cycle.
    #[inline]
    pub fn fired(&self, dut: &mut Model) -> bool {
        self.offered && dut.peek(self.hs.ready) == 1
    }

    /// Monitor: the design's `ready` (after `settle`).
    #[inline]
    pub fn ready(&self, dut: &mut Model) -> bool {
        dut.peek(self.hs.ready) == 1
    }
}

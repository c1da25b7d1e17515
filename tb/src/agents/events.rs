//! The page allocator's bypass events (`map_evt_*`, `dead_evt_*` out): a frame mapped, a frame
//! reclaimed. `memento_core` and `page_alloc` show them; in `memento_top` they stay inside.

use super::{port, Sink};
use memento_sim::{Model, Port, VTable};
use rand_chacha::ChaCha8Rng;

pub struct EventAgent {
    map: Sink,
    map_frame: Port,
    dead: Sink,
    dead_frame: Port,
}

/// The events taken in one cycle: (frame mapped, frame reclaimed).
pub type Events = (Option<u64>, Option<u64>);

impl EventAgent {
    /// The event ports of `vt`, each refusing a cycle with chance `stall`; `None` when the
    /// design keeps them inside.
    pub fn of(vt: &VTable, stall: f64) -> Option<Self> {
        vt.port("map_evt_valid")?;
        Some(EventAgent {
            map: Sink::of(vt, "map_evt", stall),
            map_frame: port(vt, "map_evt_frame"),
            dead: Sink::of(vt, "dead_evt", stall),
            dead_frame: port(vt, "dead_evt_frame"),
        })
    }

    /// Driver: both ports' ready.
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng) {
        self.map.drive(dut, rng);
        self.dead.drive(dut, rng);
    }

    /// Monitor: the events taken this cycle.
    pub fn taken(&self, dut: &mut Model) -> Events {
        (
            self.map.fired(dut).then(|| dut.peek(self.map_frame)),
            self.dead.fired(dut).then(|| dut.peek(self.dead_frame)),
        )
    }

    /// Monitor: an event is on offer, taken or not.
    pub fn offering(&self, dut: &mut Model) -> bool {
        self.map.valid(dut) || self.dead.valid(dut)
    }
}

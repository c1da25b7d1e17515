//! The new-arena responder that stands in for the page allocator beside a lone object
//! allocator.

use super::ReadPipe;

/// The new-arena responder: answers each request after a delay.
#[derive(Default)]
pub struct ArenaResponder {
    pending: ReadPipe<()>,
}

impl ArenaResponder {
    pub fn request(&mut self, due: u64) {
        self.pending.push(due, ());
    }

    pub fn due(&self, cycle: u64) -> bool {
        self.pending.due(cycle).is_some()
    }

    pub fn pop(&mut self) {
        self.pending.pop();
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }
}

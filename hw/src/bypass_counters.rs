//! The bypass's five status counters: reads bypassed, writebacks dropped, zero lines written,
//! DRAM reads, DRAM writes. Each counts the cycles its increment is up, modulo 2^CNT_BITS, and
//! reads as its register (no logic between the register and `cnt_*`).
//!
//! ```text
//!  inc_bypassed, inc_dropped, inc_zero, ---->| bypass_counters |----> bypassed, dropped, zero,
//!  inc_reads, inc_writes, rst                |  5 x 32 flops   |      reads, writes
//! ```
//!
//! Latency: a count shows the cycle after its increment. Storage: five 32-bit registers, of which
//! `CNT_BITS` bits are kept.

use crate::params::Params;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct BypassCounters {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub inc_bypassed: Signal<In, Bit>,
    pub inc_dropped: Signal<In, Bit>,
    pub inc_zero: Signal<In, Bit>,
    pub inc_reads: Signal<In, Bit>,
    pub inc_writes: Signal<In, Bit>,
    pub bypassed: Signal<Out, Bits<32>>,
    pub dropped: Signal<Out, Bits<32>>,
    pub zero: Signal<Out, Bits<32>>,
    pub reads: Signal<Out, Bits<32>>,
    pub writes: Signal<Out, Bits<32>>,
    n_bypassed: DFF<Bits<32>>,
    n_dropped: DFF<Bits<32>>,
    n_zero: DFF<Bits<32>>,
    n_reads: DFF<Bits<32>>,
    n_writes: DFF<Bits<32>>,
    /// The counters' kept bits (`CNT_BITS`): a count wraps at 2^CNT_BITS.
    kept: Constant<Bits<32>>,
}

impl BypassCounters {
    pub fn new(p: &Params) -> Self {
        BypassCounters {
            clock: Default::default(),
            rst: Default::default(),
            inc_bypassed: Default::default(),
            inc_dropped: Default::default(),
            inc_zero: Default::default(),
            inc_reads: Default::default(),
            inc_writes: Default::default(),
            bypassed: Default::default(),
            dropped: Default::default(),
            zero: Default::default(),
            reads: Default::default(),
            writes: Default::default(),
            n_bypassed: Default::default(),
            n_dropped: Default::default(),
            n_zero: Default::default(),
            n_reads: Default::default(),
            n_writes: Default::default(),
            kept: Constant::new((((1u64 << p.cnt_bits) - 1) as u32).to_bits()),
        }
    }
}

impl Logic for BypassCounters {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, n_bypassed, n_dropped, n_zero, n_reads, n_writes);
        self.bypassed.next = self.n_bypassed.q.val();
        self.dropped.next = self.n_dropped.q.val();
        self.zero.next = self.n_zero.q.val();
        self.reads.next = self.n_reads.q.val();
        self.writes.next = self.n_writes.q.val();
        if self.inc_bypassed.val() {
            self.n_bypassed.d.next = (self.n_bypassed.q.val() + 1) & self.kept.val();
        }
        if self.inc_dropped.val() {
            self.n_dropped.d.next = (self.n_dropped.q.val() + 1) & self.kept.val();
        }
        if self.inc_zero.val() {
            self.n_zero.d.next = (self.n_zero.q.val() + 1) & self.kept.val();
        }
        if self.inc_reads.val() {
            self.n_reads.d.next = (self.n_reads.q.val() + 1) & self.kept.val();
        }
        if self.inc_writes.val() {
            self.n_writes.d.next = (self.n_writes.q.val() + 1) & self.kept.val();
        }
        if self.rst.val() {
            self.n_bypassed.d.next = 0.into();
            self.n_dropped.d.next = 0.into();
            self.n_zero.d.next = 0.into();
            self.n_reads.d.next = 0.into();
            self.n_writes.d.next = 0.into();
        }
    }
}

//! The bypass unit's table: `BYPASS` entries of {frame tag, fresh mask, dead}, fully associative,
//! replaced round-robin.
//!
//! ```text
//!                 +--------------+
//!  lk_frame ----->| bypass_table |----> lk_hit, lk_index, lk_dead, lk_fresh   (combinational)
//!  wr_* --------->|  BYPASS x    |----> rr_index, rr_valid,                   (next victim)
//!  advance_rr --->|  106 bits    |      rr_dead, rr_frame, rr_fresh
//!                 +--------------+
//! ```
//!
//! A lookup compares `lk_frame` with every valid entry (a CAM of `BYPASS` 40-bit comparators).
//! `wr_en` writes one whole entry; `advance_rr` moves the round-robin victim pointer. A memory
//! primitive written as a Verilog template because its depth is a generator parameter; it asserts
//! `bypass_unique_frame`: no frame is held by two valid entries.
//!
//! Storage: `BYPASS * 106` flops and a 6-bit pointer.

use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct BypassTable {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub lk_frame: Signal<In, Bits<40>>,
    pub lk_hit: Signal<Out, Bit>,
    pub lk_index: Signal<Out, Bits<6>>,
    pub lk_dead: Signal<Out, Bit>,
    pub lk_fresh: Signal<Out, Bits<64>>,
    pub rr_index: Signal<Out, Bits<6>>,
    pub rr_valid: Signal<Out, Bit>,
    pub rr_dead: Signal<Out, Bit>,
    pub rr_frame: Signal<Out, Bits<40>>,
    pub rr_fresh: Signal<Out, Bits<64>>,
    pub wr_en: Signal<In, Bit>,
    pub wr_index: Signal<In, Bits<6>>,
    pub wr_dead: Signal<In, Bit>,
    pub wr_frame: Signal<In, Bits<40>>,
    pub wr_fresh: Signal<In, Bits<64>>,
    pub advance_rr: Signal<In, Bit>,
    _depth: usize,
    /// Simulation state: (dead, frame, fresh) per valid entry, and the victim pointer.
    _sim: Vec<Option<(bool, u64, u64)>>,
    _rr: usize,
}

impl BypassTable {
    pub fn new(depth: usize) -> Self {
        BypassTable {
            clock: Default::default(),
            rst: Default::default(),
            lk_frame: Default::default(),
            lk_hit: Default::default(),
            lk_index: Default::default(),
            lk_dead: Default::default(),
            lk_fresh: Default::default(),
            rr_index: Default::default(),
            rr_valid: Default::default(),
            rr_dead: Default::default(),
            rr_frame: Default::default(),
            rr_fresh: Default::default(),
            wr_en: Default::default(),
            wr_index: Default::default(),
            wr_dead: Default::default(),
            wr_frame: Default::default(),
            wr_fresh: Default::default(),
            advance_rr: Default::default(),
            _depth: depth,
            _sim: vec![None; depth],
            _rr: 0,
        }
    }
}

impl Logic for BypassTable {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.rst.val() {
                self._sim.iter_mut().for_each(|e| *e = None);
                self._rr = 0;
            } else {
                if self.wr_en.val() {
                    let e = (
                        self.wr_dead.val(),
                        self.wr_frame.val().to_u64(),
                        self.wr_fresh.val().to_u64(),
                    );
                    self._sim[self.wr_index.val().index()] = Some(e);
                }
                if self.advance_rr.val() {
                    self._rr = (self._rr + 1) % self._depth;
                }
            }
        }
        let want = self.lk_frame.val().to_u64();
        let hit = self
            ._sim
            .iter()
            .rposition(|e| e.is_some_and(|(_, f, _)| f == want));
        let (dead, fresh) = hit
            .and_then(|i| self._sim[i])
            .map_or((false, 0), |(d, _, m)| (d, m));
        self.lk_hit.next = hit.is_some();
        self.lk_index.next = (hit.unwrap_or(0) as u64).to_bits();
        self.lk_dead.next = dead;
        self.lk_fresh.next = fresh.to_bits();
        let victim = self._sim[self._rr];
        self.rr_index.next = (self._rr as u64).to_bits();
        self.rr_valid.next = victim.is_some();
        self.rr_dead.next = victim.is_some_and(|(d, _, _)| d);
        self.rr_frame.next = victim.map_or(0, |(_, f, _)| f).to_bits();
        self.rr_fresh.next = victim.map_or(0, |(_, _, m)| m).to_bits();
    }

    fn connect(&mut self) {
        self.lk_hit.connect();
        self.lk_index.connect();
        self.lk_dead.connect();
        self.lk_fresh.connect();
        self.rr_index.connect();
        self.rr_valid.connect();
        self.rr_dead.connect();
        self.rr_frame.connect();
        self.rr_fresh.connect();
    }

    fn hdl(&self) -> Verilog {
        // Bits of an entry number (at least one).
        let iw = (usize::BITS - (self._depth.max(2) - 1).leading_zeros()) as usize;
        // A 6-bit port from an entry number.
        let ext = |name: &str| {
            if iw < 6 {
                format!("{{{}'d0, {name}}}", 6 - iw)
            } else {
                name.to_string()
            }
        };
        Verilog::Custom(format!(
            "\
reg valid[0:{last}];
reg dead[0:{last}];
reg [39:0] frame[0:{last}];
reg [63:0] fresh[0:{last}];
// The round-robin pointer and the lookup's index are as wide as an entry number ({iw} bits); the
// ports are 6 bits for every size.
reg [{iwm}:0] rr;
reg [{iwm}:0] lk_idx;
integer i;
integer j;

initial begin
   rr = {iw}'d0;
   for (i = 0; i < {depth}; i = i + 1) valid[i] = 1'b0;
end

// The lookup: at most one valid entry holds a frame (bypass_unique_frame), so the match vector
// is one-hot and each output is an OR over the entries, a tree as deep as log2 BYPASS, not a
// priority chain through every entry.
reg [{last}:0] lk_match;
always @(*) begin
   for (i = 0; i < {depth}; i = i + 1) lk_match[i] = valid[i] && frame[i] == lk_frame;
   lk_hit = |lk_match;
   lk_idx = {iw}'d0;
   lk_dead = 1'b0;
   lk_fresh = 64'd0;
   for (i = 0; i < {depth}; i = i + 1) begin
      lk_idx = lk_idx | ({{{iw}{{lk_match[i]}}}} & i[{iwm}:0]);
      lk_dead = lk_dead | (lk_match[i] & dead[i]);
      lk_fresh = lk_fresh | ({{64{{lk_match[i]}}}} & fresh[i]);
   end
   lk_index = {lk_ext};
   rr_index = {rr_ext};
   // An entry's fields read as zero while it is not valid: reset clears only the valid bits, and
   // no output may depend on storage never written since power-up (an event-driven simulator
   // shows it as X; `memento xsim`).
   rr_valid = valid[rr];
   rr_dead = valid[rr] & dead[rr];
   rr_frame = {{40{{valid[rr]}}}} & frame[rr];
   rr_fresh = {{64{{valid[rr]}}}} & fresh[rr];
end

always @(posedge clock) begin
   if (rst) begin
      rr <= {iw}'d0;
      for (i = 0; i < {depth}; i = i + 1) valid[i] <= 1'b0;
   end else begin
      if (wr_en) begin
         valid[wr_index] <= 1'b1;
         dead[wr_index] <= wr_dead;
         frame[wr_index] <= wr_frame;
         fresh[wr_index] <= wr_fresh;
      end
      if (advance_rr) rr <= {rr_next};
   end
end

`ifndef SYNTHESIS
always @(posedge clock) begin
   if (!rst) begin
      for (i = 0; i < {depth}; i = i + 1)
         for (j = i + 1; j < {depth}; j = j + 1)
            if (valid[i] && valid[j] && frame[i] == frame[j])
               $error(\"bypass_unique_frame: frame %0h in entries %0d and %0d\", frame[i], i, j);
      // A dead frame has no fresh line: a reclaim writes none, and a writeback to a dead frame
      // is dropped before it touches the mask.
      for (i = 0; i < {depth}; i = i + 1)
         if (valid[i] && dead[i] && fresh[i] != 64'h0)
            $error(\"bypass_dead_has_no_fresh: entry %0d is dead with fresh lines %0h\", i, fresh[i]);
   end
end
`endif

`ifdef FORMAL
// Invariants for `memento formal` (hw/formal/bypass.sv drives the bypass's ports): no frame in
// two valid entries, and the round-robin pointer names an entry.
reg fpv_unique_frames;
integer fa;
integer fb;
always @(*) begin
   fpv_unique_frames = 1'b1;
   for (fa = 0; fa < {depth}; fa = fa + 1)
      for (fb = fa + 1; fb < {depth}; fb = fb + 1)
         if (valid[fa] && valid[fb] && frame[fa] == frame[fb]) fpv_unique_frames = 1'b0;
end
always @(*) begin
   if (!rst) begin
      BypassTableUniqueFrame_A: assert (fpv_unique_frames);
      BypassTableRrInRange_A: assert (rr <= {iw}'d{last});
   end
end
`endif
",
            last = self._depth - 1,
            depth = self._depth,
            iw = iw,
            iwm = iw - 1,
            lk_ext = ext("lk_idx"),
            rr_ext = ext("rr"),
            rr_next = if self._depth.is_power_of_two() {
                format!("rr + {iw}'d1")
            } else {
                format!("(rr == {iw}'d{}) ? {iw}'d0 : rr + {iw}'d1", self._depth - 1)
            },
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "bypass_table".into(),
            clock: "clock".into(),
            inputs: vec![
                "wr_en".into(),
                "wr_index".into(),
                "advance_rr".into(),
                "rst".into(),
            ],
            outputs: vec!["rr_index".into(), "rr_valid".into()],
        }]
    }
}

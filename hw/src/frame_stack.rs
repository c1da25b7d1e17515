//! The page pool's storage: a LIFO stack of frame numbers, `DEPTH` deep.
//!
//! ```text
//!              +-------------+
//!  push ------>| frame_stack |----> top    frame at the top (0 when empty), combinational
//!  push_frame->|  DEPTH x 40 |----> count  frames held
//!  pop ------->|             |
//!              +-------------+
//! ```
//!
//! One operation per cycle: `push` and `pop` are never both high. A memory primitive written as a
//! Verilog template (like rust-hdl's `RAM`) because its depth is a generator parameter. It carries
//! the pool's safety assertions, checked by Verilator on every clock edge (`$error` makes the
//! simulation report an error; synthesis skips them):
//! - `pool_count_within_bounds`: the count never exceeds `DEPTH`;
//! - `pool_no_push_when_full`, `pool_no_pop_when_empty`, `pool_one_op_per_cycle`;
//! - `pool_no_duplicate_frame`: a frame pushed is not already in the pool, so no frame is ever
//!   handed out twice.
//!
//! Storage: `(DEPTH + 1) * 40` bits (the spare slot takes the write of every cycle while the
//! stack is full) and a count of as many bits as `0..=DEPTH` needs (7 at 64), put out
//! zero-extended to 13 bits.

use rust_hdl::prelude::*;

/// A LIFO of frame numbers with its assertions.
#[derive(LogicBlock)]
pub struct FrameStack {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub push: Signal<In, Bit>,
    pub push_frame: Signal<In, Bits<40>>,
    pub pop: Signal<In, Bit>,
    pub top: Signal<Out, Bits<40>>,
    pub count: Signal<Out, Bits<13>>,
    _depth: usize,
    _sim: Vec<Bits<40>>,
}

impl FrameStack {
    pub fn new(depth: usize) -> Self {
        FrameStack {
            clock: Default::default(),
            rst: Default::default(),
            push: Default::default(),
            push_frame: Default::default(),
            pop: Default::default(),
            top: Default::default(),
            count: Default::default(),
            _depth: depth,
            _sim: Vec::with_capacity(depth),
        }
    }
}

impl Logic for FrameStack {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.rst.val() {
                self._sim.clear();
            } else if self.push.val() && self._sim.len() < self._depth {
                self._sim.push(self.push_frame.val());
            } else if self.pop.val() {
                self._sim.pop();
            }
        }
        self.count.next = (self._sim.len() as u64).to_bits();
        self.top.next = self._sim.last().copied().unwrap_or_default();
    }

    fn connect(&mut self) {
        self.top.connect();
        self.count.connect();
    }

    fn hdl(&self) -> Verilog {
        // The count's bits: as many as 0..=DEPTH needs (a wider count held bits that were zero in
        // every reachable state, and mutants of them showed at no port).
        let cw = (usize::BITS - self._depth.leading_zeros()) as usize;
        Verilog::Custom(format!(
            "\
reg [39:0] mem[0:{last}];
reg [{cmsb}:0] count_p;
integer i;

initial begin
   count_p = {cw}'d0;
end

always @(*) begin
   count = {count_out};
   if (count_p == {cw}'d0) top = 40'd0;
   else top = mem[count_p - {cw}'d1];
end

// The slot at the count is written in every cycle, push or not: a slot at or above the count is
// written before it is read again, so what it holds is nobody's. One spare slot (DEPTH + 1 words)
// takes the write while the stack is full.
always @(posedge clock) begin
   mem[count_p] <= push_frame;
end

always @(posedge clock) begin
   if (rst) begin
      count_p <= {cw}'d0;
   end else if (push) begin
      count_p <= count_p + {cw}'d1;
   end else if (pop) begin
      count_p <= count_p - {cw}'d1;
   end
end

`ifndef SYNTHESIS
always @(posedge clock) begin
   if (!rst) begin
      if (count_p > {cw}'d{depth}) $error(\"pool_count_within_bounds: count %0d above POOL {depth}\", count_p);
      if (push && count_p == {cw}'d{depth}) $error(\"pool_no_push_when_full: push of frame %0h into a full pool\", push_frame);
      if (pop && count_p == {cw}'d0) $error(\"pool_no_pop_when_empty: pop from an empty pool\");
      if (push && pop) $error(\"pool_one_op_per_cycle: push and pop in one cycle\");
      if (push) begin
         for (i = 0; i < {depth}; i = i + 1) begin
            if (i < count_p && mem[i] == push_frame)
               $error(\"pool_no_duplicate_frame: frame %0h pushed while already in the pool\", push_frame);
         end
      end
   end
end
`endif
",
            last = self._depth,
            depth = self._depth,
            cw = cw,
            cmsb = cw - 1,
            count_out = if cw == 13 {
                "count_p".to_string()
            } else {
                format!("{{{}'d0, count_p}}", 13 - cw)
            },
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "frame_stack".into(),
            clock: "clock".into(),
            inputs: vec![
                "push".into(),
                "push_frame".into(),
                "pop".into(),
                "rst".into(),
            ],
            outputs: vec!["top".into(), "count".into()],
        }]
    }
}

//! The optional header cache (`HDC` entries): header lines of arenas that are not in the HOT,
//! fully associative, least recently used, write-back.
//!
//! ```text
//!                 +--------------+
//!  lk_tag ------->| header_cache |----> lk_hit, lk_line            (combinational)
//!  wr_line ------>|  HDC x       |----> victim_valid, victim_tag,   (the entry an insert takes)
//!  upd_en ------->|  (48 + 344)  |      victim_line
//!  ins_en ------->|  + LRU ages  |
//!  rm_en -------->|              |
//!  clear_all ---->+--------------+
//! ```
//!
//! A line is the header's first 344 bits (bitmap, next, live count, state); the rest of a header
//! line is zero. `lk_tag` is an arena base; a lookup compares it with every valid entry.
//! One operation a cycle:
//! - `upd_en`: the entry that hits `lk_tag` takes `wr_line` and becomes the most recently used;
//! - `ins_en`: `lk_tag` with `wr_line` goes into the victim entry (an invalid entry if there is one,
//!   else the least recently used), which becomes the most recently used. The caller writes a valid
//!   victim back first (`victim_*`);
//! - `rm_en`: the entry that hits `lk_tag` is invalidated (an arena popped into the HOT);
//! - `clear_all`: every entry is invalidated (EXIT: nothing is written back).
//!
//! Recency is a permutation of ages `0..HDC` (0 = most recent): using entry `k` ages every entry
//! younger than `k` by one, so the valid entry with the largest age is always the least recently
//! used valid one. With `HDC = 0` the block is empty and never hits.
//!
//! A memory primitive written as a Verilog template because its depth is a generator parameter.
//! It asserts `hdc_unique_tag` (no arena in two valid entries) and `hdc_one_op` (one operation a
//! cycle). Storage: `HDC * (1 + 48 + 344 + log2 HDC)` flops.

use rust_hdl::prelude::*;

/// Bits of a cached header line.
pub const LINE_BITS: usize = 344;

#[derive(LogicBlock)]
pub struct HeaderCache {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub lk_tag: Signal<In, Bits<48>>,
    pub lk_hit: Signal<Out, Bit>,
    pub lk_line: Signal<Out, Bits<344>>,
    pub victim_valid: Signal<Out, Bit>,
    pub victim_tag: Signal<Out, Bits<48>>,
    pub victim_line: Signal<Out, Bits<344>>,
    pub wr_line: Signal<In, Bits<344>>,
    pub upd_en: Signal<In, Bit>,
    pub ins_en: Signal<In, Bit>,
    pub rm_en: Signal<In, Bit>,
    pub clear_all: Signal<In, Bit>,
    _depth: usize,
    /// Simulation state: (tag, line) per valid entry and the age of every entry.
    _sim: Vec<Option<(u64, Bits<344>)>>,
    _age: Vec<usize>,
}

impl HeaderCache {
    pub fn new(depth: usize) -> Self {
        HeaderCache {
            clock: Default::default(),
            rst: Default::default(),
            lk_tag: Default::default(),
            lk_hit: Default::default(),
            lk_line: Default::default(),
            victim_valid: Default::default(),
            victim_tag: Default::default(),
            victim_line: Default::default(),
            wr_line: Default::default(),
            upd_en: Default::default(),
            ins_en: Default::default(),
            rm_en: Default::default(),
            clear_all: Default::default(),
            _depth: depth,
            _sim: vec![None; depth],
            _age: (0..depth).collect(),
        }
    }

    fn hit(&self) -> Option<usize> {
        let want = self.lk_tag.val().to_u64();
        self._sim
            .iter()
            .position(|e| e.is_some_and(|(t, _)| t == want))
    }

    fn victim(&self) -> Option<usize> {
        if self._depth == 0 {
            return None;
        }
        self._sim
            .iter()
            .position(|e| e.is_none())
            .or_else(|| (0..self._depth).max_by_key(|&i| self._age[i]))
    }

    fn touch(&mut self, k: usize) {
        let a = self._age[k];
        for x in self._age.iter_mut() {
            if *x < a {
                *x += 1;
            }
        }
        self._age[k] = 0;
    }
}

impl Logic for HeaderCache {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.rst.val() || self.clear_all.val() {
                self._sim.iter_mut().for_each(|e| *e = None);
                if self.rst.val() {
                    self._age = (0..self._depth).collect();
                }
            } else if self.upd_en.val() {
                if let Some(k) = self.hit() {
                    self._sim[k] = Some((self.lk_tag.val().to_u64(), self.wr_line.val()));
                    self.touch(k);
                }
            } else if self.ins_en.val() {
                if let Some(k) = self.victim() {
                    self._sim[k] = Some((self.lk_tag.val().to_u64(), self.wr_line.val()));
                    self.touch(k);
                }
            } else if self.rm_en.val() {
                if let Some(k) = self.hit() {
                    self._sim[k] = None;
                }
            }
        }
        let hit = self.hit().and_then(|k| self._sim[k]);
        self.lk_hit.next = hit.is_some();
        self.lk_line.next = hit.map_or(Bits::default(), |(_, l)| l);
        let victim = self.victim().and_then(|k| self._sim[k]);
        self.victim_valid.next = victim.is_some();
        self.victim_tag.next = victim.map_or(0, |(t, _)| t).to_bits();
        self.victim_line.next = victim.map_or(Bits::default(), |(_, l)| l);
    }

    fn connect(&mut self) {
        self.lk_hit.connect();
        self.lk_line.connect();
        self.victim_valid.connect();
        self.victim_tag.connect();
        self.victim_line.connect();
    }

    fn hdl(&self) -> Verilog {
        if self._depth == 0 {
            return Verilog::Custom(
                "\
// No header cache: the inputs go nowhere (the usual Verilator idiom for that).
wire unused_ok = &{1'b0, clock, rst, lk_tag, wr_line, upd_en, ins_en, rm_en, clear_all};
always @(*) begin
   lk_hit = 1'b0;
   lk_line = 344'd0;
   victim_valid = 1'b0;
   victim_tag = 48'd0;
   victim_line = 344'd0;
end
"
                .into(),
            );
        }
        let depth = self._depth;
        let aw = (usize::BITS - (depth - 1).leading_zeros()).max(1) as usize;
        Verilog::Custom(format!(
            "\
reg valid[0:{last}];
reg [47:0] tag[0:{last}];
reg [343:0] line[0:{last}];
reg [{amax}:0] age[0:{last}];
reg [{amax}:0] lk_index;
reg [{amax}:0] victim_index;
reg victim_free;
integer i;
integer j;

initial begin
   for (i = 0; i < {depth}; i = i + 1) begin
      valid[i] = 1'b0;
      age[i] = i[{amax}:0];
   end
end

// Tags are unique among valid entries (hdc_unique_tag), so the lookup's match vector is
// one-hot and the outputs are ORs over the entries. The victim is the lowest invalid entry
// (each entry checks the ones below it, an OR tree) or else the one of the largest age (ages
// are a permutation): one-hot too, and read out the same way. No priority chain anywhere.
reg [{last}:0] lk_match;
reg [{last}:0] free_first;
reg [{last}:0] oldest;
reg [{last}:0] victim_sel;
reg [{last}:0] below_free;
reg [{amax}:0] victim_age;
reg [{amax}:0] lk_age;
always @(*) begin
   for (i = 0; i < {depth}; i = i + 1) begin
      lk_match[i] = valid[i] && tag[i] == lk_tag;
      oldest[i] = age[i] == {aw}'d{last};
      below_free[i] = 1'b0;
      for (j = 0; j < i; j = j + 1) below_free[i] = below_free[i] | !valid[j];
      free_first[i] = !valid[i] && !below_free[i];
   end
   lk_hit = |lk_match;
   victim_free = |free_first;
   victim_sel = victim_free ? free_first : oldest;
   lk_index = {aw}'d0;
   lk_line = 344'd0;
   victim_index = {aw}'d0;
   victim_valid = 1'b0;
   victim_tag = 48'd0;
   victim_line = 344'd0;
   victim_age = {aw}'d0;
   lk_age = {aw}'d0;
   for (i = 0; i < {depth}; i = i + 1) begin
      victim_age = victim_age | ({{{aw}{{victim_sel[i]}}}} & age[i]);
      lk_age = lk_age | ({{{aw}{{lk_match[i]}}}} & age[i]);
      lk_index = lk_index | ({{{aw}{{lk_match[i]}}}} & i[{amax}:0]);
      lk_line = lk_line | ({{344{{lk_match[i]}}}} & line[i]);
      victim_index = victim_index | ({{{aw}{{victim_sel[i]}}}} & i[{amax}:0]);
      victim_valid = victim_valid | (victim_sel[i] & valid[i]);
      victim_tag = victim_tag | ({{48{{victim_sel[i]}}}} & tag[i]);
      victim_line = victim_line | ({{344{{victim_sel[i]}}}} & line[i]);
   end
end

always @(posedge clock) begin
   if (rst) begin
      for (i = 0; i < {depth}; i = i + 1) begin
         valid[i] <= 1'b0;
         age[i] <= i[{amax}:0];
      end
   end else if (clear_all) begin
      for (i = 0; i < {depth}; i = i + 1) valid[i] <= 1'b0;
   end else begin
      // The entry an insert or an update uses becomes the most recently used.
      if (ins_en) begin
         valid[victim_index] <= 1'b1;
         tag[victim_index] <= lk_tag;
         line[victim_index] <= wr_line;
         for (i = 0; i < {depth}; i = i + 1) begin
            if (age[i] < victim_age) age[i] <= age[i] + {aw}'d1;
         end
         age[victim_index] <= {aw}'d0;
      end else if (upd_en && lk_hit) begin
         line[lk_index] <= wr_line;
         for (i = 0; i < {depth}; i = i + 1) begin
            if (age[i] < lk_age) age[i] <= age[i] + {aw}'d1;
         end
         age[lk_index] <= {aw}'d0;
      end else if (rm_en && lk_hit) begin
         valid[lk_index] <= 1'b0;
      end
   end
end

`ifndef SYNTHESIS
always @(posedge clock) begin
   if (!rst) begin
      for (i = 0; i < {depth}; i = i + 1)
         for (j = i + 1; j < {depth}; j = j + 1)
            if (valid[i] && valid[j] && tag[i] == tag[j])
               $error(\"hdc_unique_tag: arena %0h in entries %0d and %0d\", tag[i], i, j);
      if ((upd_en + ins_en + rm_en + clear_all) > 1)
         $error(\"hdc_one_op: more than one operation in a cycle\");
   end
end
`endif
",
            last = depth - 1,
            amax = aw - 1,
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "header_cache".into(),
            clock: "clock".into(),
            inputs: vec![
                "upd_en".into(),
                "ins_en".into(),
                "rm_en".into(),
                "clear_all".into(),
                "rst".into(),
            ],
            outputs: vec!["victim_valid".into()],
        }]
    }
}

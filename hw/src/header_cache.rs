//! The optional header cache (`HDC` entries): header lines of arenas that are not in the HOT,
//! fully associative, least recently used, write-back.
//!
//! ```text
//!                 +--------------+
//!  lk_tag ------->| header_cache |----> lk_hit, lk_line            (combinational)
//!  wr_line ------>|  HDC x       |----> victim_valid, victim_tag,   (the entry an insert takes)
//!  upd_en ------->|  (48 + 344)  |      victim_line
//!  ins_en ------->|  + recency   |
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
//!   victim back first (`victim_*`; its tag and line mean nothing while `victim_valid` is low);
//! - `rm_en`: the entry that hits `lk_tag` is invalidated (an arena popped into the HOT);
//! - `clear_all`: every entry is invalidated (EXIT: nothing is written back).
//!
//! Recency is one total order over the entries, kept as a matrix of "used more recently than"
//! bits: using entry `k` makes it newer than every other, so when every entry is valid the least
//! recently used one is the entry newer than none (a NOR over its row, no age arithmetic).
//! Reset orders the entries by index, entry 0 the newest. With `HDC = 0` the block is empty and
//! never hits.
//!
//! A memory primitive written as a Verilog template because its depth is a generator parameter.
//! It asserts `hdc_unique_tag` (no arena in two valid entries) and `hdc_one_op` (one operation a
//! cycle). Storage: `HDC * (1 + 48 + 344) + HDC * (HDC - 1) / 2` flops.

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

/// The stored recency of `depth` entries: one bit `order[p]` per pair i < j (1: i is newer),
/// as Verilog: its declaration, its reset (entry 0 newest, every bit 1), its update by the
/// one-hot `touch` (the touched entry becomes newer than every other), and the full matrix
/// `newer` derived from it.
fn recency(depth: usize) -> (String, String, String, String) {
    let pairs: Vec<(usize, usize)> = (0..depth)
        .flat_map(|i| (i + 1..depth).map(move |j| (i, j)))
        .collect();
    let n = pairs.len();
    let index = |i: usize, j: usize| pairs.iter().position(|&p| p == (i, j)).unwrap();
    if n == 0 {
        return (
            String::new(),
            String::new(),
            String::new(),
            "   newer[0] = 1'b0;\n".into(),
        );
    }
    let decl = format!("reg [{}:0] order;\n", n - 1);
    let reset = format!("   order = {{{n}{{1'b1}}}};\n");
    let update: String = pairs
        .iter()
        .enumerate()
        .map(|(p, (i, j))| {
            format!("      order[{p}] <= touch[{i}] | (~touch[{j}] & order[{p}]);\n")
        })
        .collect();
    let mut newer = String::new();
    for i in 0..depth {
        for j in 0..depth {
            let bit = match i.cmp(&j) {
                std::cmp::Ordering::Less => format!("order[{}]", index(i, j)),
                std::cmp::Ordering::Equal => "1'b0".into(),
                std::cmp::Ordering::Greater => format!("~order[{}]", index(j, i)),
            };
            newer += &format!("   newer[{i}][{j}] = {bit};\n");
        }
    }
    (decl, reset, update, newer)
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
        let (order_decl, order_reset, order_update, newer) = recency(depth);
        Verilog::Custom(format!(
            "\
reg [{last}:0] valid;
reg [47:0] tag[0:{last}];
reg [343:0] line[0:{last}];
// Recency as a matrix: bit j of newer[i] says entry i was used more recently than entry j.
// The entries are in one total order, so the least recently used entry is the one newer than
// none, and using entry k sets row k and clears column k. Only the pairs i < j are stored
// (`order`, entry 0 newest after reset): newer[i][i] is 0 and newer[j][i] is ~newer[i][j].
{order_decl}reg [{last}:0] newer[0:{last}];
integer i;

initial begin
   valid = {depth}'d0;
{order_reset}end

always @(*) begin
{newer}end

// Tags are unique among valid entries (hdc_unique_tag), so the lookup's match vector is
// one-hot and the outputs are ORs over the entries. The victim is the lowest invalid entry
// (each entry ORs the validity of the ones below it, a balanced tree) or else the one newer
// than none: one-hot too, and read out the same way. No priority chain and no arithmetic.
reg [{last}:0] lk_match;
reg [{last}:0] free_first;
reg [{last}:0] oldest;
reg [{last}:0] victim_sel;
reg [{last}:0] touch;
reg victim_free;
always @(*) begin
   for (i = 0; i < {depth}; i = i + 1) begin
      lk_match[i] = valid[i] && tag[i] == lk_tag;
      oldest[i] = ~|newer[i];
      free_first[i] = !valid[i] && ~|(~valid & ~({{{depth}{{1'b1}}}} << i));
   end
   lk_hit = |lk_match;
   victim_free = |free_first;
   victim_sel = victim_free ? free_first : oldest;
   // The victim is valid only when every entry is, and then it is the oldest: its tag and line
   // are read through `oldest` alone, not through the invalid-entry search.
   victim_valid = &valid;
   lk_line = 344'd0;
   victim_tag = 48'd0;
   victim_line = 344'd0;
   for (i = 0; i < {depth}; i = i + 1) begin
      lk_line = lk_line | ({{344{{lk_match[i]}}}} & line[i]);
      victim_tag = victim_tag | ({{48{{oldest[i]}}}} & tag[i]);
      victim_line = victim_line | ({{344{{oldest[i]}}}} & line[i]);
   end
   // While the victim is not valid its tag and line are nobody's: the oldest entry's, whatever it
   // holds.
end

// The entry an insert or an update uses becomes the most recently used. A block of its own: the
// operations depend on the lookup's outputs in the caller.
always @(*) touch = ins_en ? victim_sel : (upd_en ? lk_match : {depth}'d0);

always @(posedge clock) begin
   if (rst) begin
      valid <= {depth}'d0;
{order_reset_nb}   end else if (clear_all) begin
      valid <= {depth}'d0;
   end else begin
      for (i = 0; i < {depth}; i = i + 1) begin
         if (ins_en && victim_sel[i]) begin
            valid[i] <= 1'b1;
            tag[i] <= lk_tag;
         end
         if (touch[i]) line[i] <= wr_line;
         if (!ins_en && !upd_en && rm_en && lk_match[i]) valid[i] <= 1'b0;
      end
{order_update}   end
end

`ifndef SYNTHESIS
integer j;
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

`ifdef FORMAL
// Invariants for `memento formal` (hw/formal/header_cache.sv drives the ports): no arena in two
// valid entries, and recency one strict total order (no entry newer than itself, exactly one of
// any two newer than the other, transitive), so the entries' ages are a permutation.
reg fpv_unique_tags;
reg fpv_total_order;
integer fa;
integer fb;
integer fc;
always @(*) begin
   fpv_unique_tags = 1'b1;
   fpv_total_order = 1'b1;
   for (fa = 0; fa < {depth}; fa = fa + 1) begin
      if (newer[fa][fa]) fpv_total_order = 1'b0;
      for (fb = 0; fb < {depth}; fb = fb + 1) begin
         if (fa < fb && valid[fa] && valid[fb] && tag[fa] == tag[fb]) fpv_unique_tags = 1'b0;
         if (fa != fb && newer[fa][fb] == newer[fb][fa]) fpv_total_order = 1'b0;
         for (fc = 0; fc < {depth}; fc = fc + 1)
            if (newer[fa][fb] && newer[fb][fc] && !newer[fa][fc]) fpv_total_order = 1'b0;
      end
   end
end
always @(*) begin
   if (!rst) begin
      HdcUniqueTag_A: assert (fpv_unique_tags);
      HdcAgesPermutation_A: assert (fpv_total_order);
   end
end
`endif
",
            last = depth - 1,
            order_reset_nb = order_reset.replace(" = ", " <= "),
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

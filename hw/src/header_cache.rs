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
//! line is zero. `lk_tag` is an arena base's offset in the region; a lookup compares it with every
//! valid entry.
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
//! cycle). Storage: `HDC * (1 + T + L) + HDC * (HDC - 1) / 2` flops, where T and L are the tag's
//! and the line's bits that can be set ([`tag_kept`], [`line_kept`]): 26 and 303 of 48 and 344 at
//! the default parameters. A tag is an arena's offset in the region (its base without MRS).

use crate::class_ram::{kept_runs, packed_runs, unpacked_runs};
use crate::params::Params;
use rust_hdl::prelude::*;

/// The bits of a tag: an arena base is page-aligned and inside the region, whose base (MRS)
/// holds every bit from the region's size up, the same for every arena. So a tag is the arena's
/// page-aligned offset in the region, and the caller puts MRS back on a victim's tag.
pub fn tag_kept(p: &Params) -> Bits<48> {
    let page_bits = p.page_bits();
    let region = p.region_log2() as usize;
    (0..48).fold(Bits::<48>::default(), |k, i| {
        k.replace_bit(i, i >= page_bits && i < region)
    })
}

/// The bits a cached line can have set: OBJS bitmap bits, the next arena's page-aligned VA
/// (bits 256..320), a count of at most OBJS (bits 320..336) and a state of 0, 1 or 2 (bits
/// 336..344).
pub fn line_kept(p: &Params) -> Bits<344> {
    let page_bits = p.page_bits();
    let objs = p.objs as usize;
    let count_bits = p.count_bits();
    (0..344).fold(Bits::<344>::default(), |k, i| {
        let keep = match i {
            0..=255 => i < objs,
            256..=319 => i - 256 >= page_bits && i - 256 < p.va_bits as usize,
            320..=335 => i - 320 < count_bits,
            _ => i - 336 < 2,
        };
        k.replace_bit(i, keep)
    })
}

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
    /// The bits of a tag and of a line that can be set (`tag_kept`, `line_kept`): only those are
    /// stored.
    _tag_kept: Bits<48>,
    _line_kept: Bits<344>,
    /// Simulation state: (tag, line) per valid entry and the age of every entry.
    _sim: Vec<Option<(u64, Bits<344>)>>,
    _age: Vec<usize>,
}

impl HeaderCache {
    /// A cache of `p.hdc` entries storing the tag and line bits `p` lets be set.
    pub fn new(p: &Params) -> Self {
        let depth = p.hdc as usize;
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
            _tag_kept: tag_kept(p),
            _line_kept: line_kept(p),
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
        let tag_runs = kept_runs(self._tag_kept);
        let line_runs = kept_runs(self._line_kept);
        let width =
            |runs: &[(usize, usize)]| -> usize { runs.iter().map(|(l, h)| h + 1 - l).sum() };
        let (tw, lw) = (width(&tag_runs), width(&line_runs));
        Verilog::Custom(format!(
            "\
// Tags and lines are stored packed: only the bits they can have set (an arena base's
// page-aligned VA bits; a line's OBJS bitmap bits, the next arena's VA bits, the count up to
// OBJS and the 2-bit state). The others read as zero.
reg [{last}:0] valid;
reg [{tmsb}:0] tag[0:{last}];
reg [{lmsb}:0] line[0:{last}];
wire [{tmsb}:0] lk_tag_p = {{{lk_tag_p}}};
wire [{lmsb}:0] wr_line_p = {{{wr_line_p}}};
reg [{tmsb}:0] victim_tag_p;
reg [{lmsb}:0] lk_line_p;
reg [{lmsb}:0] victim_line_p;
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
      lk_match[i] = valid[i] && tag[i] == lk_tag_p;
      oldest[i] = ~|newer[i];
      free_first[i] = !valid[i] && ~|(~valid & ~({{{depth}{{1'b1}}}} << i));
   end
   lk_hit = |lk_match;
   victim_free = |free_first;
   victim_sel = victim_free ? free_first : oldest;
   // The victim is valid only when every entry is, and then it is the oldest: its tag and line
   // are read through `oldest` alone, not through the invalid-entry search.
   victim_valid = &valid;
   lk_line_p = {lw}'d0;
   victim_tag_p = {tw}'d0;
   victim_line_p = {lw}'d0;
   for (i = 0; i < {depth}; i = i + 1) begin
      lk_line_p = lk_line_p | ({{{lw}{{lk_match[i]}}}} & line[i]);
      victim_tag_p = victim_tag_p | ({{{tw}{{oldest[i]}}}} & ({{{tw}{{valid[i]}}}} & tag[i]));
      victim_line_p = victim_line_p | ({{{lw}{{oldest[i]}}}} & ({{{lw}{{valid[i]}}}} & line[i]));
   end
   lk_line = {{{lk_line}}};
   victim_tag = {{{victim_tag}}};
   victim_line = {{{victim_line}}};
   // While the victim is not valid its tag and line are nobody's, but never an entry that was not
   // written since power-up: reset clears only the valid bits, and an output that depends on
   // storage never written is X in an event-driven simulator (`memento xsim`). The extra AND is
   // with a register, beside the `oldest` tree, so the path is no deeper.
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
            tag[i] <= lk_tag_p;
         end
         if (touch[i]) line[i] <= wr_line_p;
         // One operation a cycle (hdc_one_op): a removal is never beside an insert or update.
         if (rm_en && lk_match[i]) valid[i] <= 1'b0;
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
      if ((upd_en || ins_en || rm_en) && (lk_tag & ~{tag_kept:x}) != 0)
         $error(\"hdc_tag_unkept_bit: tag %h outside %h\", lk_tag, {tag_kept:x});
      if ((upd_en || ins_en) && (wr_line & ~{line_kept:x}) != 0)
         $error(\"hdc_line_unkept_bit: line %h outside %h\", wr_line, {line_kept:x});
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
// The object allocator's side: an arena base and a line have only the bits they can have set.
always @(*) begin
   assume ((lk_tag & ~{tag_kept:x}) == 0);
   assume ((wr_line & ~{line_kept:x}) == 0);
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
            tmsb = tw - 1,
            lmsb = lw - 1,
            lk_tag_p = packed_runs(&tag_runs, "lk_tag"),
            wr_line_p = packed_runs(&line_runs, "wr_line"),
            lk_line = unpacked_runs(&line_runs, 344, "lk_line_p"),
            victim_tag = unpacked_runs(&tag_runs, 48, "victim_tag_p"),
            victim_line = unpacked_runs(&line_runs, 344, "victim_line_p"),
            tag_kept = self._tag_kept.verilog(),
            line_kept = self._line_kept.verilog(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn set(bits: impl Fn(usize) -> bool, n: usize) -> Vec<usize> {
        (0..n).filter(|&i| bits(i)).collect()
    }

    /// At the default parameters a tag keeps bits 12..38 (the region is 2^38 bytes) and a line
    /// 303 bits: the 256-bit
    /// bitmap, next's bits 12..48, a 9-bit count and a 2-bit state. With 32 objects the line
    /// keeps 32 bitmap bits and a 6-bit count.
    #[test]
    fn kept_bits_are_those_an_arena_base_and_a_header_can_have_set() {
        let p = Params::default();
        let tag = tag_kept(&p);
        assert_eq!(set(|i| tag.get_bit(i), 48), (12..38).collect::<Vec<_>>());
        let line = line_kept(&p);
        let expect: Vec<usize> = (0..256)
            .chain(268..304)
            .chain(320..329)
            .chain(336..338)
            .collect();
        assert_eq!(set(|i| line.get_bit(i), 344), expect);
        let small = Params {
            objs: 32,
            ..Params::default()
        };
        let line = line_kept(&small);
        let expect: Vec<usize> = (0..32)
            .chain(268..304)
            .chain(320..326)
            .chain(336..338)
            .collect();
        assert_eq!(set(|i| line.get_bit(i), 344), expect);
    }
}

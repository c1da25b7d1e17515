//! Class-indexed storage shared by the HOT and the class table.
//!
//! ```text
//!             +-----------+
//!  rd_index ->| class_ram |----> rd_data   entry rd_index of the last cycle with rd_en
//!  rd_en   -->|  RAM x64  |----> rd_valid  that entry was written since the last clear
//!  wr_en   -->|           |
//!  wr_index ->|  valid[64]|
//!  wr_data -->|           |
//!  clear_all->+-----------+
//! ```
//!
//! A synchronous 64-entry RAM read one cycle after the address is presented with `rd_en`, whose
//! output register holds while `rd_en` is low; write-first: a read issued in the same cycle as a
//! write of the same entry returns the new value, so back-to-back commands of one class see each
//! other's updates. An entry not written since the last clear reads as zero, or, for a user that
//! reads the data only with `rd_valid` (`ClassRam::unzeroed`, the HOT), as whatever the array
//! holds. The read enable lets
//! the object allocator keep the executing command's entry while it decides, late in the cycle,
//! whether the next command reads. Validity sits in a 64-bit flop vector, so `clear_all` (function
//! exit) empties every entry in one cycle instead of 64 RAM writes. No read is issued in the
//! clearing cycle (the object allocator clears in `ExitReq`, where no command moves up; a
//! simulation error otherwise, `class_ram_read_in_clear`), so the read does not look at the
//! clear: a gate fewer on the HOT's read path, and no logic whose effect no user could see.
//!
//! Write-first is an option: the class table never reads an entry in the cycle it writes one
//! (`ClassRam::read_first`), so it has no forwarding path; in simulation a read of the entry
//! being written is an error there (`class_ram_read_of_written_entry`). So is keeping only some
//! bits of an entry (`ClassRam::keeping`): the class table's head and bump pointer are
//! page-aligned and below their ranges' tops, so the other bits are written and read as zero; a
//! write with one of them set is a simulation error (`class_ram_write_of_unkept_bit`).
//!
//! Storage: `64 * D::BITS` RAM bits, `D::BITS + 65` flops.
//!
//! Like rust-hdl's own `RAM`, this is a memory primitive written as a Verilog template: both
//! outputs come straight from flops, in their own `always` block, so the combinational logic
//! around it never forms a loop through it.

use rust_hdl::prelude::*;
use std::ops::BitAnd;

/// A class-indexed write-first RAM with a one-cycle clear.
#[derive(LogicBlock)]
pub struct ClassRam<D: Synth + BitAnd<Output = D>> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub rd_index: Signal<In, Bits<6>>,
    pub rd_en: Signal<In, Bit>,
    pub rd_data: Signal<Out, D>,
    pub rd_valid: Signal<Out, Bit>,
    pub wr_en: Signal<In, Bit>,
    pub wr_index: Signal<In, Bits<6>>,
    pub wr_data: Signal<In, D>,
    pub clear_all: Signal<In, Bit>,
    _mem: Box<[D; 64]>,
    _valid: u64,
    /// A read of the entry written in the same cycle returns the new value (else the old one,
    /// and the simulation reports it: the user promises never to do it).
    _write_first: bool,
    /// The bits an entry keeps (`None`: all of them); the others read as zero and are never
    /// stored.
    _kept: Option<D>,
    /// An entry not written since the last clear reads as zero (else as whatever the array
    /// holds there: for a user that looks at the data only with `rd_valid`).
    _zero_invalid: bool,
}

impl<D: Synth + BitAnd<Output = D>> ClassRam<D> {
    /// A RAM with no write-first forwarding, for a user that never reads the entry it writes in
    /// the same cycle.
    pub fn read_first() -> Self {
        ClassRam {
            _write_first: false,
            ..Default::default()
        }
    }

    /// The same RAM keeping only the bits set in `kept`: its user never writes the others with
    /// anything but zero (in simulation, a write of one is an error,
    /// `class_ram_write_of_unkept_bit`), and they read as zero whatever the array holds there, so
    /// an implementation need not store them.
    pub fn keeping(self, kept: D) -> Self {
        ClassRam {
            _kept: Some(kept),
            ..self
        }
    }

    /// The same RAM reading an entry not written since the last clear as whatever its array
    /// holds (stale data from before the clear, or the power-up value): for a user that looks
    /// at `rd_data` only with `rd_valid`, which saves a gate per bit on the read path.
    pub fn unzeroed(self) -> Self {
        ClassRam {
            _zero_invalid: false,
            ..self
        }
    }

    /// `value` with the bits not kept cleared.
    fn kept_only(&self, value: D) -> D {
        self._kept.map_or(value, |k| value & k)
    }
}

/// The runs of set bits of `kept`, `(lowest, highest)`, from bit 0 up.
pub(crate) fn kept_runs<D: Synth>(kept: D) -> Vec<(usize, usize)> {
    // The literal `<width>'h<hex>`, most significant digit first.
    let literal = format!("{:x}", kept.verilog());
    let hex = literal.split("'h").nth(1).expect("a Verilog literal");
    let bits: Vec<bool> = hex
        .chars()
        .rev()
        .flat_map(|c| {
            let d = c.to_digit(16).expect("a hex digit");
            (0..4).map(move |i| d >> i & 1 == 1)
        })
        .collect();
    let mut runs: Vec<(usize, usize)> = vec![];
    for (i, &b) in bits.iter().enumerate().take(D::BITS) {
        match runs.last_mut() {
            Some((_, hi)) if b && *hi + 1 == i => *hi = i,
            _ if b => runs.push((i, i)),
            _ => {}
        }
    }
    runs
}

/// The kept runs of the signal `from` packed, as the items of a Verilog concatenation (highest
/// first).
pub(crate) fn packed_runs(runs: &[(usize, usize)], from: &str) -> String {
    let items: Vec<String> = runs
        .iter()
        .rev()
        .map(|(lo, hi)| format!("{from}[{hi}:{lo}]"))
        .collect();
    items.join(", ")
}

/// A `width`-bit word from the packed signal `from`: each kept run in its place, zeros between,
/// as the items of a Verilog concatenation (highest first).
pub(crate) fn unpacked_runs(runs: &[(usize, usize)], width: usize, from: &str) -> String {
    let mut items = vec![];
    let mut at = 0; // the packed bit of the next run
    let mut next = 0; // the entry bit after the last run placed
    let mut low_first = vec![];
    for &(lo, hi) in runs {
        if lo > next {
            low_first.push(format!("{}'d0", lo - next));
        }
        low_first.push(format!("{from}[{}:{}]", at + hi - lo, at));
        at += hi + 1 - lo;
        next = hi + 1;
    }
    if width > next {
        low_first.push(format!("{}'d0", width - next));
    }
    items.extend(low_first.into_iter().rev());
    items.join(", ")
}

impl<D: Synth + BitAnd<Output = D>> Default for ClassRam<D> {
    fn default() -> Self {
        ClassRam {
            clock: Default::default(),
            rst: Default::default(),
            rd_index: Default::default(),
            rd_en: Default::default(),
            rd_data: Default::default(),
            rd_valid: Default::default(),
            wr_en: Default::default(),
            wr_index: Default::default(),
            wr_data: Default::default(),
            clear_all: Default::default(),
            _mem: Box::new([D::default(); 64]),
            _valid: 0,
            _write_first: true,
            _kept: None,
            _zero_invalid: true,
        }
    }
}

impl<D: Synth + BitAnd<Output = D>> Logic for ClassRam<D> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let rd = self.rd_index.val().index();
            let wr = self.wr_index.val().index();
            let same = self._write_first && self.wr_en.val() && wr == rd;
            let clear = self.clear_all.val() || self.rst.val();
            if self.rd_en.val() {
                let valid = same || self._valid & (1 << rd) != 0;
                self.rd_data.next = if !valid && self._zero_invalid {
                    D::default()
                } else if same {
                    self.kept_only(self.wr_data.val())
                } else {
                    self._mem[rd]
                };
                self.rd_valid.next = valid;
            }
            if self.wr_en.val() {
                self._mem[wr] = self.kept_only(self.wr_data.val());
                self._valid |= 1 << wr;
            }
            if clear {
                self._valid = 0;
            }
        }
    }

    fn connect(&mut self) {
        self.rd_data.connect();
        self.rd_valid.connect();
    }

    fn hdl(&self) -> Verilog {
        let (same, check) = if self._write_first {
            ("wr_en & (wr_index == rd_index)", "")
        } else {
            (
                "1'b0",
                "
`ifndef SYNTHESIS
always @(posedge clock) begin
   if (!rst && rd_en && wr_en && rd_index == wr_index)
      $error(\"class_ram_read_of_written_entry: entry %0d read and written in one cycle\", rd_index);
end
`endif
",
            )
        };
        // A RAM that keeps every bit stores the entry as it is. With some bits not kept, the
        // array, the forwarded write and the read register `rd_q` hold only the kept bits,
        // packed (wires: a concatenation of wr_data's kept runs); rd_data is rd_q's bits back in
        // their places, zeros between them.
        let (decl, written, read, out, width) = match self._kept {
            Some(k) => {
                let runs = kept_runs(k);
                let width: usize = runs.iter().map(|(lo, hi)| hi + 1 - lo).sum();
                (
                    format!(
                        "wire [{pmsb}:0] wr_packed = {{{packed}}};
reg [{pmsb}:0] rd_q;
always @(*) rd_data = {{{unpacked}}};
`ifndef SYNTHESIS
wire [{msb}:0] kept = {kept:x};
always @(posedge clock) begin
   if (!rst && wr_en && (wr_data & ~kept) != 0)
      $error(\"class_ram_write_of_unkept_bit: entry %0d written with %h outside %h\", wr_index, wr_data, kept);
end
`endif
",
                        pmsb = width - 1,
                        msb = D::BITS - 1,
                        packed = packed_runs(&runs, "wr_data"),
                        unpacked = unpacked_runs(&runs, D::BITS, "rd_q"),
                        kept = k.verilog()
                    ),
                    "wr_packed",
                    "(same ? wr_packed : mem[rd_index])",
                    "rd_q",
                    width,
                )
            }
            None => (
                String::new(),
                "wr_data",
                "(same ? wr_data : mem[rd_index])",
                "rd_data",
                D::BITS,
            ),
        };
        Verilog::Custom(format!(
            "\
reg [{smsb}:0] mem[0:63];
reg [63:0] valid;
{decl}wire clear = clear_all | rst;
wire same = {same};
// No read is issued in a clearing cycle (simulation error class_ram_read_in_clear).
wire rd_hit = same | valid[rd_index];
`ifndef SYNTHESIS
always @(posedge clock) begin
   if (!rst && rd_en && clear_all)
      $error(\"class_ram_read_in_clear: entry %0d read in the cycle the RAM is cleared\", rd_index);
end
`endif

initial begin
   valid = 64'h0;
   rd_valid = 1'b0;
end

always @(posedge clock) begin
   if (wr_en) begin
      mem[wr_index] <= {written};
   end
   if (rd_en) begin
      {out} <= {read_or_zero};
      rd_valid <= rd_hit;
   end
   if (clear) begin
      valid <= 64'h0;
   end else if (wr_en) begin
      valid <= valid | (64'd1 << wr_index);
   end
end
{check}",
            smsb = width - 1,
            read_or_zero = if self._zero_invalid {
                format!("rd_hit ? {read} : {width}'d0")
            } else {
                read.to_string()
            },
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "class_ram".into(),
            clock: "clock".into(),
            inputs: vec![
                "rd_index".into(),
                "rd_en".into(),
                "wr_en".into(),
                "wr_index".into(),
                "wr_data".into(),
                "clear_all".into(),
                "rst".into(),
            ],
            outputs: vec!["rd_data".into(), "rd_valid".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept runs of a mask, its packed write and its unpacked read: every kept bit is in
    /// the packed word once, in order, and the read puts it back where it was.
    #[test]
    fn kept_runs_pack_and_unpack_in_place() {
        let kept = (0..20).fold(Bits::<20>::default(), |k, i| {
            k.replace_bit(i, (3..7).contains(&i) || i == 9 || (12..20).contains(&i))
        });
        let runs = kept_runs(kept);
        assert_eq!(runs, vec![(3, 6), (9, 9), (12, 19)]);
        assert_eq!(
            packed_runs(&runs, "wr_data"),
            "wr_data[19:12], wr_data[9:9], wr_data[6:3]"
        );
        assert_eq!(
            unpacked_runs(&runs, 20, "rd_q"),
            "rd_q[12:5], 2'd0, rd_q[4:4], 2'd0, rd_q[3:0], 3'd0"
        );
        // A mask with its top and bottom bits kept leaves no zeros at the ends.
        let ends = Bits::<8>::from(0b1000_0001u64);
        let runs = kept_runs(ends);
        assert_eq!(runs, vec![(0, 0), (7, 7)]);
        assert_eq!(
            unpacked_runs(&runs, 8, "rd_q"),
            "rd_q[1:1], 6'd0, rd_q[0:0]"
        );
    }

    /// The class table zeroes an invalid entry's data (its user reads "no arena, bump 0" from
    /// it); the HOT does not (its user reads the data only with `rd_valid`).
    #[test]
    fn only_the_class_table_zeroes_invalid_entries() {
        let p = crate::Params::default();
        let text = |v: Verilog| match v {
            Verilog::Custom(t) => t,
            _ => panic!("a template"),
        };
        let table = text(crate::class_table::new(&p).hdl());
        let hot = text(crate::hot::new(&p).hdl());
        assert!(
            table.contains("rd_q <= rd_hit ? (same ? wr_packed : mem[rd_index]) :"),
            "{table}"
        );
        assert!(
            hot.contains("rd_q <= (same ? wr_packed : mem[rd_index]);"),
            "{hot}"
        );
        assert!(hot.contains("rd_valid <= rd_hit;"), "{hot}");
    }
}

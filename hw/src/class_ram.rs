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
//! other's updates. An entry not written since the last clear reads as zero. The read enable lets the object allocator keep the executing command's entry
//! while it decides, late in the cycle, whether the next command reads. Validity sits in a 64-bit flop vector, so
//! `clear_all` (function exit) empties every entry in one cycle instead of 64 RAM writes; a read
//! issued in the clearing cycle already sees the entry invalid.
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

    /// `value` with the bits not kept cleared.
    fn kept_only(&self, value: D) -> D {
        self._kept.map_or(value, |k| value & k)
    }
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
                let valid = !clear && (same || self._valid & (1 << rd) != 0);
                self.rd_data.next = if !valid {
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
        // A RAM that keeps every bit has no mask at all (its netlist is the same as before the
        // option existed).
        // With some bits not kept, the read register is `rd_q` and the output is it masked
        // (a constant mask: wires and zeros, after the register, which stays the RAM's own).
        let (decl, written, read, out) = match self._kept {
            Some(k) => (
                format!(
                    "wire [{msb}:0] kept = {kept:x};
wire [{msb}:0] wr_kept = wr_data & kept;
reg [{msb}:0] rd_q;
always @(*) rd_data = rd_q & kept;
`ifndef SYNTHESIS
always @(posedge clock) begin
   if (!rst && wr_en && (wr_data & ~kept) != 0)
      $error(\"class_ram_write_of_unkept_bit: entry %0d written with %h outside %h\", wr_index, wr_data, kept);
end
`endif
",
                    msb = D::BITS - 1,
                    kept = k.verilog()
                ),
                "wr_kept",
                "(same ? wr_kept : mem[rd_index])",
                "rd_q",
            ),
            None => (
                String::new(),
                "wr_data",
                "(same ? wr_data : mem[rd_index])",
                "rd_data",
            ),
        };
        Verilog::Custom(format!(
            "\
reg [{msb}:0] mem[0:63];
reg [63:0] valid;
{decl}wire clear = clear_all | rst;
wire same = {same};
wire rd_hit = ~clear & (same | valid[rd_index]);

initial begin
   valid = 64'h0;
   rd_valid = 1'b0;
end

always @(posedge clock) begin
   if (wr_en) begin
      mem[wr_index] <= {written};
   end
   if (rd_en) begin
      {out} <= rd_hit ? {read} : {msb1}'d0;
      rd_valid <= rd_hit;
   end
   if (clear) begin
      valid <= 64'h0;
   end else if (wr_en) begin
      valid[wr_index] <= 1'b1;
   end
end
{check}",
            msb = D::BITS - 1,
            msb1 = D::BITS
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

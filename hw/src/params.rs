//! Generator parameters and their elaboration-time checks.
//!
//! Every number the hardware depends on is a field of [`Params`]. [`Params::validate`] runs before
//! any block is built, so a bad combination is a readable error and never malformed Verilog.
//!
//! The datapath has fixed maximum widths (48-bit virtual addresses, 256-bit bitmaps, 64 classes);
//! a smaller parameter becomes a constant inside the block and synthesis prunes what it leaves
//! unused.

use std::fmt;

/// Widest virtual address the datapath carries.
pub const MAX_VA_BITS: u32 = 48;
/// Widest bitmap the HOT stores (one header line holds 256 bits of bitmap).
pub const MAX_OBJS: u32 = 256;
/// Most size classes (class `c` holds `8*(c+1)` bytes, so 64 classes reach 512 B).
pub const MAX_CLASSES: u32 = 64;
/// Bytes in one size-class step.
pub const CLASS_GRANULE: u64 = 8;
/// The most two-input gate levels on any path inside one cycle (SPEC section 10): register or
/// input port to register or output port, after Yosys and ABC, unit delay. `memento timing`
/// checks every design against it.
pub const STAGE_LEVELS: u32 = 24;

/// The generator parameters of the Memento blocks, with the project defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// Virtual address width.
    pub va_bits: u32,
    /// Physical address width.
    pub pa_bits: u32,
    /// Cache line in bytes (one arena header is one line).
    pub line: u64,
    /// Page in bytes.
    pub page: u64,
    /// Number of size classes.
    pub classes: u32,
    /// Objects per arena, the bitmap width.
    pub objs: u32,
    /// log2 of the bytes of region each class owns.
    pub lane_bits: u32,
    /// Page-pool capacity in frames.
    pub pool: u32,
    /// Pool low watermark.
    pub low: u32,
    /// Pool high watermark.
    pub high: u32,
    /// Pages tracked by the bypass unit.
    pub bypass: u32,
    /// Entries of the header cache (0 leaves it out; SPEC's default is 8).
    pub hdc: u32,
    /// The main-memory bypass is on. Off, mapping a page costs what an OS pays to zero it: 64 line
    /// writes to DRAM, and every fill reads DRAM.
    pub bypass_on: bool,
    /// With the bypass off: the unit zeroes each mapped frame with 64 line writes to DRAM (the
    /// `off-dram` baseline). Without it the unit passes everything through and the OS zeroes a
    /// mapped page with 64 full-line stores through the cache (the `off` baseline, SPEC section 6),
    /// which the testbench's cache model does. Ignored with the bypass on.
    pub dram_zero: bool,
    /// Width of the bypass's status counters (they count modulo 2^CNT_BITS). SPEC's counters are
    /// 32 bits; a narrower width is for short runs that take every counter bit, and its carry
    /// out, through both values (the mutation list's bypass).
    pub cnt_bits: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            va_bits: 48,
            pa_bits: 40,
            line: 64,
            page: 4096,
            classes: 64,
            objs: 256,
            lane_bits: 32,
            pool: 64,
            low: 16,
            high: 48,
            bypass: 32,
            hdc: 8,
            bypass_on: true,
            dram_zero: false,
            cnt_bits: 32,
        }
    }
}

/// A parameter combination the generator refuses, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: &'static str,
    pub value: u64,
    pub reason: String,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "parameter {} = {}: {}",
            self.param, self.value, self.reason
        )
    }
}

impl std::error::Error for ParamError {}

fn check(
    ok: bool,
    param: &'static str,
    value: u64,
    reason: impl Into<String>,
) -> Result<(), ParamError> {
    if ok {
        Ok(())
    } else {
        Err(ParamError {
            param,
            value,
            reason: reason.into(),
        })
    }
}

impl Params {
    /// Corner-case parameters: 32 objects per arena and lanes of 2^15 bytes (8 arenas of class 0,
    /// one of class 63), so that full arenas, the available list and full lanes come often.
    pub fn corner() -> Self {
        Params {
            objs: 32,
            lane_bits: 15,
            ..Params::default()
        }
    }

    /// Checks every parameter and every relation between them.
    pub fn validate(&self) -> Result<(), ParamError> {
        check(
            (32..=MAX_VA_BITS).contains(&self.va_bits),
            "VA_BITS",
            self.va_bits.into(),
            format!(
                "must be in 32..={MAX_VA_BITS} (the datapath carries 48-bit virtual addresses)"
            ),
        )?;
        check(
            (32..=52).contains(&self.pa_bits),
            "PA_BITS",
            self.pa_bits.into(),
            "must be in 32..=52",
        )?;
        check(
            self.line == 64,
            "LINE",
            self.line,
            "must be 64: the arena header layout fills exactly one 64-byte line",
        )?;
        check(
            self.page.is_power_of_two() && (4096..=65536).contains(&self.page),
            "PAGE",
            self.page,
            "must be a power of two in 4096..=65536",
        )?;
        check(
            self.classes.is_power_of_two() && self.classes <= MAX_CLASSES,
            "CLASSES",
            self.classes.into(),
            format!("must be a power of two, at most {MAX_CLASSES} (class c holds 8*(c+1) bytes, 512 B at most)"),
        )?;
        check(
            matches!(self.objs, 32 | 64 | 128 | 256),
            "OBJS",
            self.objs.into(),
            "must be one of 32, 64, 128, 256 so that the bitmap fits the header line",
        )?;
        let largest = self.stride(self.classes - 1);
        check(
            (1u64 << self.lane_bits.min(63)) >= largest && self.lane_bits <= 40,
            "LANE_BITS",
            self.lane_bits.into(),
            format!(
                "a lane of 2^LANE_BITS bytes must hold one arena of the largest class ({largest} bytes) and LANE_BITS <= 40"
            ),
        )?;
        check(
            self.lane_bits + self.classes.trailing_zeros() < self.va_bits,
            "LANE_BITS",
            self.lane_bits.into(),
            format!(
                "the region (CLASSES * 2^LANE_BITS) must fit below 2^VA_BITS = 2^{}",
                self.va_bits
            ),
        )?;
        check(
            self.pool >= 2 && self.pool <= 4096,
            "POOL",
            self.pool.into(),
            "must be in 2..=4096",
        )?;
        check(
            self.low < self.high,
            "LOW",
            self.low.into(),
            format!("must be below HIGH = {}", self.high),
        )?;
        // A frame given back into a full pool waits for a drain, and the pool drains only above
        // HIGH: at HIGH = POOL the two wait for each other.
        check(
            self.high < self.pool,
            "HIGH",
            self.high.into(),
            format!(
                "must be below POOL = {} (a full pool drains only above HIGH)",
                self.pool
            ),
        )?;
        check(
            (1..=64).contains(&self.bypass),
            "BYPASS",
            self.bypass.into(),
            "must be in 1..=64 (the table is fully associative)",
        )?;
        check(
            (8..=32).contains(&self.cnt_bits),
            "CNT_BITS",
            self.cnt_bits.into(),
            "must be in 8..=32 (the counters are 32-bit registers; they keep CNT_BITS of them)",
        )?;
        check(
            self.hdc <= 32,
            "HDC",
            self.hdc.into(),
            "must be in 0..=32 (0 leaves the header cache out; it is fully associative)",
        )?;
        Ok(())
    }

    /// The parameters in one line, `NAME=value`, as a report shows them.
    pub fn summary(&self) -> String {
        format!(
            "VA_BITS={} PA_BITS={} LINE={} PAGE={} CLASSES={} OBJS={} LANE_BITS={} POOL={} LOW={} HIGH={} BYPASS={}{} HDC={}{}",
            self.va_bits, self.pa_bits, self.line, self.page, self.classes, self.objs, self.lane_bits, self.pool,
            self.low, self.high, self.bypass, if self.bypass_on { "" } else if self.dram_zero { " (off, zeroing in DRAM)" } else { " (off)" }, self.hdc,
            if self.cnt_bits == 32 { String::new() } else { format!(" CNT_BITS={}", self.cnt_bits) }
        )
    }

    /// Object size of class `c` in bytes.
    pub fn obj_size(&self, class: u32) -> u64 {
        CLASS_GRANULE * (class as u64 + 1)
    }

    /// Bytes of one arena of class `c`: the smallest power of two holding the header line and
    /// `OBJS` objects, and at least one page.
    pub fn stride(&self, class: u32) -> u64 {
        (self.line + self.objs as u64 * self.obj_size(class))
            .next_power_of_two()
            .max(self.page)
    }

    /// log2 of [`Params::stride`].
    pub fn stride_log2(&self, class: u32) -> u32 {
        self.stride(class).trailing_zeros()
    }

    /// Bits of an offset within a page.
    pub fn page_bits(&self) -> usize {
        self.page.trailing_zeros() as usize
    }

    /// Bits of an arena's live count, 0..=OBJS.
    pub fn count_bits(&self) -> usize {
        (u32::BITS - self.objs.leading_zeros()) as usize
    }

    /// log2 of the region size, `CLASSES * 2^LANE_BITS`.
    pub fn region_log2(&self) -> u32 {
        self.lane_bits + self.classes.trailing_zeros()
    }

    /// log2 of `CLASSES`: the number of class bits above the lane offset.
    pub fn class_bits(&self) -> u32 {
        self.classes.trailing_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        Params::default().validate().unwrap();
    }

    #[test]
    fn stride_matches_the_layout_rule() {
        let p = Params::default();
        assert_eq!(p.stride(0), 4096);
        assert_eq!(p.stride(6), 16384); // 64 + 256*56 = 14400
        assert_eq!(p.stride(7), 32768); // 64 + 256*64 = 16448
        assert_eq!(p.stride(63), 262144);
    }

    #[test]
    fn corner_validates_with_the_largest_arena_filling_a_lane() {
        let p = Params::corner();
        p.validate().unwrap();
        assert_eq!(p.stride(63), 1 << p.lane_bits);
    }

    #[test]
    fn bad_objs_is_named() {
        let p = Params {
            objs: 100,
            ..Params::default()
        };
        let e = p.validate().unwrap_err();
        assert_eq!(e.param, "OBJS");
        assert!(e.to_string().contains("32, 64, 128, 256"));
    }

    /// A counter narrower than 8 bits or wider than its 32-bit register is refused, by name.
    #[test]
    fn counter_width_is_bounded() {
        for (bits, ok) in [(7, false), (8, true), (12, true), (32, true), (33, false)] {
            let p = Params {
                cnt_bits: bits,
                ..Params::default()
            };
            match p.validate() {
                Ok(()) => assert!(ok, "CNT_BITS={bits} accepted"),
                Err(e) => assert!(!ok && e.param == "CNT_BITS", "CNT_BITS={bits}: {e}"),
            }
        }
        let p = Params {
            cnt_bits: 12,
            ..Params::default()
        };
        assert!(p.summary().ends_with(" CNT_BITS=12"), "{}", p.summary());
        assert!(!Params::default().summary().contains("CNT_BITS"));
    }

    #[test]
    fn lane_too_small_for_largest_arena() {
        let p = Params {
            lane_bits: 17,
            ..Params::default()
        };
        assert_eq!(p.validate().unwrap_err().param, "LANE_BITS");
    }

    #[test]
    fn watermarks_ordered() {
        let p = Params {
            low: 48,
            high: 16,
            ..Params::default()
        };
        assert_eq!(p.validate().unwrap_err().param, "LOW");
    }
}

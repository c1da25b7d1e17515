//! DRAM traffic as SPEC section 6 counts it: by the kind of line moved, for each way of running
//! the memory path ([`Mode`]), beside the ceiling of what any bypass could save ([`Ideal`]).

use super::FastSet;

/// How the memory path runs: the bypass on, or one of the two baselines.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The bypass on.
    On,
    /// The OS zeroes each mapped page with 64 full-line stores through the cache (the headline
    /// baseline: what systems do today).
    Off,
    /// The bypass off, each mapped page zeroed with 64 line writes straight to DRAM.
    OffDram,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::On, Mode::Off, Mode::OffDram];

    pub fn name(self) -> &'static str {
        match self {
            Mode::On => "on",
            Mode::Off => "off",
            Mode::OffDram => "off-dram",
        }
    }

    /// `params` set for this mode.
    pub fn apply(self, params: &mut memento_hw::Params) {
        params.bypass_on = self == Mode::On;
        params.dram_zero = self == Mode::OffDram;
    }

    /// The mode `params` describe.
    pub fn of(params: &memento_hw::Params) -> Mode {
        match (params.bypass_on, params.dram_zero) {
            (true, _) => Mode::On,
            (false, false) => Mode::Off,
            (false, true) => Mode::OffDram,
        }
    }

    /// `on`, `off`, `off-dram`, a comma-separated list of them, or `all`.
    pub fn parse_list(s: &str) -> Result<Vec<Mode>, String> {
        if s == "all" {
            return Ok(Mode::ALL.to_vec());
        }
        s.split(',')
            .map(|m| {
                Mode::ALL
                    .into_iter()
                    .find(|x| x.name() == m.trim())
                    .ok_or_else(|| {
                        format!(
                            "{m:?} is not a mode: expected on, off, off-dram (or a list, or all)"
                        )
                    })
            })
            .collect()
    }
}

/// What a line of memory holds, for counting DRAM traffic.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Object bytes.
    Data,
    /// Arena header lines.
    Header,
    /// Page-table entries.
    Table,
    /// What a bypass keeps about frames in memory.
    Meta,
    /// Zero lines written only to zero a page (by the OS or the bypass).
    Zeroing,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Data,
        Kind::Header,
        Kind::Table,
        Kind::Meta,
        Kind::Zeroing,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Data => "data",
            Kind::Header => "header",
            Kind::Table => "table",
            Kind::Meta => "meta",
            Kind::Zeroing => "zeroing",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// DRAM reads and writes by [`Kind`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Traffic {
    pub reads: [u64; 5],
    pub writes: [u64; 5],
}

impl Traffic {
    pub fn read(&mut self, k: Kind) {
        self.reads[k.index()] += 1;
    }

    pub fn write(&mut self, k: Kind) {
        self.writes[k.index()] += 1;
    }

    pub fn reads_of(&self, k: Kind) -> u64 {
        self.reads[k.index()]
    }

    pub fn writes_of(&self, k: Kind) -> u64 {
        self.writes[k.index()]
    }

    pub fn total_reads(&self) -> u64 {
        self.reads.iter().sum()
    }

    pub fn total_writes(&self) -> u64 {
        self.writes.iter().sum()
    }

    pub fn total(&self) -> u64 {
        self.total_reads() + self.total_writes()
    }

    pub fn merge(&mut self, o: &Traffic) {
        for i in 0..5 {
            self.reads[i] += o.reads[i];
            self.writes[i] += o.writes[i];
        }
    }
}

/// The ceiling of any bypass on one run's cache traffic: a fill costs a DRAM read only when its
/// line was written back since its frame was mapped, a writeback costs a DRAM write only when its
/// frame is live and the line holds more than a page's zeroing, and nothing is zeroed. The cache's
/// requests are the same as the run's; only what reaches DRAM is what could not be avoided.
#[derive(Default)]
pub struct Ideal {
    written: FastSet<u64>,
    dead: FastSet<u64>,
    pub traffic: Traffic,
}

impl Ideal {
    pub fn map(&mut self, frame: u64) {
        self.dead.remove(&frame);
        for l in 0..64 {
            self.written.remove(&((frame << 12) | (l << 6)));
        }
    }

    pub fn dead(&mut self, frame: u64) {
        self.dead.insert(frame);
    }

    pub fn fill(&mut self, line: u64, kind: Kind) {
        if self.written.contains(&line) {
            self.traffic.read(kind);
        }
    }

    pub fn writeback(&mut self, line: u64, kind: Kind) {
        if kind != Kind::Zeroing && !self.dead.contains(&(line >> 12)) {
            self.traffic.write(kind);
            self.written.insert(line);
        }
    }
}

/// Percent saved by `a` against `base` (negative: more traffic).
pub fn saving(a: u64, base: u64) -> f64 {
    if base == 0 {
        0.0
    } else {
        100.0 * (base as f64 - a as f64) / base as f64
    }
}

/// A table of traffic by kind, one row per (name, traffic), each with its saving against `base`.
pub fn table(rows: &[(String, Traffic)], base: &Traffic, indent: &str) -> String {
    let mut out = format!("{indent}{:<9}", "mode");
    for k in Kind::ALL {
        out += &format!(" {:>17}", format!("{} r/w", k.name()));
    }
    out += &format!(
        " {:>9} {:>9} {:>9} {:>8}\n",
        "reads", "writes", "total", "vs off"
    );
    for (name, t) in rows {
        out += &format!("{indent}{name:<9}");
        for k in Kind::ALL {
            out += &format!(" {:>17}", format!("{}/{}", t.reads_of(k), t.writes_of(k)));
        }
        out += &format!(
            " {:>9} {:>9} {:>9} {:>7.1}%\n",
            t.total_reads(),
            t.total_writes(),
            t.total(),
            // The change against the base (+0.0 for the base itself, not -0.0).
            0.0 - saving(t.total(), base.total())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ideal_counts_only_unavoidable_traffic() {
        let mut i = Ideal::default();
        i.map(1);
        i.fill(0x1000, Kind::Data); // never written: free
        i.writeback(0x1000, Kind::Data); // live: a write
        i.fill(0x1000, Kind::Data); // written before: a read
        i.writeback(0x1040, Kind::Zeroing); // zeroing only: free
        i.dead(1);
        i.writeback(0x1080, Kind::Table); // dead frame: free
        i.map(1);
        i.fill(0x1000, Kind::Data); // mapped again: fresh
        assert_eq!(i.traffic.total_reads(), 1);
        assert_eq!(i.traffic.writes_of(Kind::Data), 1);
        assert_eq!(i.traffic.total(), 2);
    }

    #[test]
    fn the_table_shows_each_kind_and_the_change_against_the_base() {
        let mut off = Traffic::default();
        off.write(Kind::Zeroing);
        off.write(Kind::Data);
        let mut on = Traffic::default();
        on.write(Kind::Data);
        let t = table(&[("on".into(), on), ("off".into(), off.clone())], &off, "");
        for k in Kind::ALL {
            assert!(t.contains(&format!("{} r/w", k.name())), "{t}");
        }
        let rows: Vec<&str> = t.lines().collect();
        assert!(
            rows[1].starts_with("on") && rows[1].ends_with("-50.0%"),
            "{t}"
        );
        assert!(
            rows[2].ends_with(" 0.0%"),
            "the base is unchanged, not -0.0: {t}"
        );
    }

    #[test]
    fn modes_parse_and_set_params() {
        assert_eq!(Mode::parse_list("all").unwrap(), Mode::ALL.to_vec());
        assert_eq!(
            Mode::parse_list("off-dram,on").unwrap(),
            vec![Mode::OffDram, Mode::On]
        );
        assert!(Mode::parse_list("both").unwrap_err().contains("\"both\""));
        for m in Mode::ALL {
            let mut p = memento_hw::Params::default();
            m.apply(&mut p);
            assert_eq!(Mode::of(&p), m);
        }
    }
}

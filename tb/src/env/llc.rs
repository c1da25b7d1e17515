//! A last-level-cache model: set-associative, write-back, write-allocate, least recently used
//! replacement, holding real line data. It sits above the bypass: misses become fills at the
//! bypass's cache port, dirty victims become writebacks.
//!
//! When the page allocator maps a frame, the cache drops that frame's lines without writing them
//! back: whatever a previous function left there is dead, and the frame must read as zero.

use super::FastMap;

#[derive(Clone, Debug)]
struct CacheLine {
    dirty: bool,
    data: [u8; 64],
    used: u64,
}

/// Size, ways and line size.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LlcConfig {
    pub bytes: u64,
    pub ways: usize,
    pub line: u64,
}

impl Default for LlcConfig {
    fn default() -> Self {
        LlcConfig {
            bytes: 2 << 20,
            ways: 16,
            line: 64,
        }
    }
}

pub struct Llc {
    cfg: LlcConfig,
    sets: u64,
    /// Per set: line address to line.
    lines: Vec<FastMap<u64, CacheLine>>,
    tick: u64,
    /// Accesses that found their line (misses are counted by whoever fetches the line).
    pub hits: u64,
}

impl Llc {
    pub fn new(cfg: LlcConfig) -> Self {
        let sets = cfg.bytes / cfg.line / cfg.ways as u64;
        assert!(
            sets.is_power_of_two(),
            "LLC of {} bytes, {} ways: the set count must be a power of two",
            cfg.bytes,
            cfg.ways
        );
        Llc {
            lines: vec![FastMap::default(); sets as usize],
            sets,
            cfg,
            tick: 0,
            hits: 0,
        }
    }

    fn set(&self, addr: u64) -> usize {
        ((addr / self.cfg.line) % self.sets) as usize
    }

    pub fn contains(&self, addr: u64) -> bool {
        self.lines[self.set(addr)].contains_key(&addr)
    }

    /// The line's data, if cached, without counting an access.
    pub fn peek(&self, addr: u64) -> Option<&[u8; 64]> {
        self.lines[self.set(addr)].get(&addr).map(|l| &l.data)
    }

    /// The line's data, if cached (an access: it becomes most recently used).
    pub fn access(&mut self, addr: u64) -> Option<&mut [u8; 64]> {
        self.tick += 1;
        let t = self.tick;
        let s = self.set(addr);
        match self.lines[s].get_mut(&addr) {
            Some(l) => {
                self.hits += 1;
                l.used = t;
                Some(&mut l.data)
            }
            None => None,
        }
    }

    /// Marks a cached line dirty.
    pub fn set_dirty(&mut self, addr: u64) {
        let s = self.set(addr);
        if let Some(l) = self.lines[s].get_mut(&addr) {
            l.dirty = true;
        }
    }

    /// Installs a line; returns the dirty victim it displaced, to be written back.
    pub fn install(&mut self, addr: u64, data: [u8; 64], dirty: bool) -> Option<(u64, [u8; 64])> {
        self.tick += 1;
        let s = self.set(addr);
        let mut victim = None;
        if !self.lines[s].contains_key(&addr) && self.lines[s].len() == self.cfg.ways {
            let (&va, _) = self.lines[s].iter().min_by_key(|(_, l)| l.used).unwrap();
            let old = self.lines[s].remove(&va).unwrap();
            if old.dirty {
                victim = Some((va, old.data));
            }
        }
        self.lines[s].insert(
            addr,
            CacheLine {
                dirty,
                data,
                used: self.tick,
            },
        );
        victim
    }

    /// The frame was mapped: its lines vanish, dirty or not.
    pub fn drop_frame(&mut self, frame: u64) {
        for l in 0..4096 / self.cfg.line {
            let addr = (frame << 12) + l * self.cfg.line;
            let s = self.set(addr);
            self.lines[s].remove(&addr);
        }
    }

    /// Every dirty line, cleaned (the end of a run writes them back).
    pub fn flush(&mut self) -> Vec<(u64, [u8; 64])> {
        let mut out = vec![];
        for set in &mut self.lines {
            for (&a, l) in set.iter_mut().filter(|(_, l)| l.dirty) {
                l.dirty = false;
                out.push((a, l.data));
            }
        }
        out.sort_by_key(|(a, _)| *a);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_victim_is_written_back_only_when_dirty() {
        let mut c = Llc::new(LlcConfig {
            bytes: 4 * 64 * 2,
            ways: 2,
            line: 64,
        });
        // 4 sets of 2 ways: lines 0, 4*64, 8*64 share set 0.
        assert_eq!(c.install(0, [1; 64], true), None);
        assert_eq!(c.install(256, [2; 64], false), None);
        c.access(0);
        assert_eq!(
            c.install(512, [3; 64], false),
            None,
            "the clean line 256 goes quietly"
        );
        assert_eq!(
            c.install(256, [4; 64], false),
            Some((0, [1; 64])),
            "line 0 is dirty"
        );
    }

    #[test]
    fn mapping_a_frame_drops_its_lines() {
        let mut c = Llc::new(LlcConfig::default());
        c.install(0x5000, [1; 64], true);
        c.install(0x5fc0, [1; 64], true);
        c.install(0x6000, [1; 64], true);
        c.drop_frame(5);
        assert!(!c.contains(0x5000) && !c.contains(0x5fc0) && c.contains(0x6000));
        assert_eq!(c.flush().len(), 1);
    }
}

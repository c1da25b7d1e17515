//! Golden model of the page allocator: the pool, the page table and the mapper.
//!
//! It is driven by the events the testbench sees at the allocator's outer ports, in cycle order:
//! a map request taken, a refill frame delivered, a refill request taken, an exit taken. From
//! them it predicts every table-port access (each entry read and written, in order), every walk
//! answer, every refill request's count and every frame drained, following the pool's arbitration rules (docs/design.md); the
//! testbench calls [`PageAllocModel::end_of_cycle`] after each cycle's events. The mapper
//! owns the pool during a walk or reclaim, except that a walk waiting on an empty pool takes the
//! next refill frame, and a give waiting on a full pool lets the top frame drain first.
//!
//! It also keeps the books: every frame that came in is in the pool, mapped, or drained.

use std::collections::{HashMap, HashSet, VecDeque};

/// A table entry pointing at `frame`.
pub fn pte(frame: u64) -> u64 {
    (frame << 12) | 1
}

/// The frame an entry points at.
pub fn pte_frame(e: u64) -> u64 {
    (e >> 12) & ((1 << 40) - 1)
}

/// One access of the table port.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TableAccess {
    Read(u64),
    Write(u64, u64),
}

impl std::fmt::Display for TableAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableAccess::Read(a) => write!(f, "read [{a:x}]"),
            TableAccess::Write(a, v) => write!(f, "write [{a:x}] = {v:x}"),
        }
    }
}

/// Who asked for a mapping.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Requester {
    Walker,
    Arena,
}

/// The answer to a map request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MapAnswer {
    Frame(u64),
    OutOfRegion,
}

/// The numbers the model needs.
#[derive(Clone, Debug)]
pub struct PoolGeometry {
    pub mrs: u64,
    pub region_log2: u32,
    pub capacity: usize,
    pub low: usize,
    pub high: usize,
}

impl From<(&memento_hw::Params, u64)> for PoolGeometry {
    fn from((p, mrs): (&memento_hw::Params, u64)) -> Self {
        PoolGeometry {
            mrs,
            region_log2: p.region_log2(),
            capacity: p.pool as usize,
            low: p.low as usize,
            high: p.high as usize,
        }
    }
}

#[derive(Clone, Debug)]
struct Walk {
    va: u64,
    level: u32,
    table: u64,
    /// The entry at this level is known missing (its table was just created, or it was read and
    /// the walk waits for a frame): take a frame without reading.
    fresh: bool,
    who: Requester,
    /// Tables this walk has created so far.
    new_tables: usize,
}

/// Counters of what the page allocator did.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PageStats {
    pub maps: u64,
    pub pages_mapped: u64,
    pub tables_allocated: u64,
    pub already_mapped: u64,
    pub out_of_region: u64,
    pub exits: u64,
    pub frames_returned_at_exit: u64,
    pub frames_in: u64,
    pub frames_drained: u64,
    pub refill_requests: u64,
    /// Map requests that had to wait for a refill frame (the pool ran empty mid-walk).
    pub starved_walks: u64,
    /// Refill requests raised by a watermark write (LOW set above the pool's count).
    pub watermark_requests: u64,
    /// Maps that answered a new frame, by the number of intermediate tables they created (0..=3).
    pub maps_by_new_tables: [u64; 4],
}

#[derive(Clone, Debug)]
pub struct PageAllocModel {
    pub g: PoolGeometry,
    root: u64,
    pool: Vec<u64>,
    req_pending: Option<u64>,
    outstanding: u64,
    tables: HashMap<u64, Box<[u64; 512]>>,
    walk: Option<Walk>,
    mapped: HashSet<u64>,
    pub stats: PageStats,
    /// Table-port accesses the hardware must make next, in order.
    pub expected_accesses: VecDeque<TableAccess>,
    /// Answers the hardware must give next, in order.
    pub expected_answers: VecDeque<(Requester, MapAnswer)>,
    /// Frames the hardware must drain next, in order.
    pub expected_drains: VecDeque<u64>,
    /// Frames the hardware must announce as mapped (to the bypass) next, in order.
    pub expected_map_events: VecDeque<u64>,
    /// Frames the hardware must announce as reclaimed next, in order.
    pub expected_dead_events: VecDeque<u64>,
    /// Both kinds of event in the order they happen (`true` = mapped), for a bypass model.
    pub bypass_events: VecDeque<(bool, u64)>,
}

impl PageAllocModel {
    /// A fresh allocator with an empty pool and an empty root table at frame `root`.
    pub fn new(g: PoolGeometry, root: u64) -> Self {
        let mut m = PageAllocModel {
            g,
            root,
            pool: vec![],
            req_pending: None,
            outstanding: 0,
            tables: HashMap::new(),
            walk: None,
            mapped: HashSet::new(),
            stats: PageStats::default(),
            expected_accesses: VecDeque::new(),
            expected_answers: VecDeque::new(),
            expected_drains: VecDeque::new(),
            expected_map_events: VecDeque::new(),
            expected_dead_events: VecDeque::new(),
            bypass_events: VecDeque::new(),
        };
        m.after_op();
        m
    }

    pub fn pool_len(&self) -> usize {
        self.pool.len()
    }

    pub fn mapped_len(&self) -> usize {
        self.mapped.len()
    }

    /// A map request is in progress or waiting for frames.
    pub fn walking(&self) -> bool {
        self.walk.is_some()
    }

    /// A refill request is raised after any operation that leaves the pool below LOW with no
    /// request pending and no frames owed.
    fn after_op(&mut self) {
        if self.req_pending.is_none() && self.outstanding == 0 && self.pool.len() < self.g.low {
            self.req_pending = Some((self.g.high - self.pool.len()) as u64);
        }
    }

    /// The OS took the pending refill request: its count, or `None` if none was due.
    pub fn request_taken(&mut self) -> Option<u64> {
        let c = self.req_pending.take()?;
        self.outstanding = c;
        self.stats.refill_requests += 1;
        Some(c)
    }

    /// The watermarks written on the config port: a request already raised keeps its count, a
    /// LOW above the pool's count raises one now (HIGH is written first), and the next end of an
    /// idle cycle drains the pool down to the new HIGH.
    pub fn set_watermarks(&mut self, low: usize, high: usize) {
        self.g.low = low;
        self.g.high = high;
        let raised = self.req_pending.is_none();
        self.after_op();
        if raised && self.req_pending.is_some() {
            self.stats.watermark_requests += 1;
        }
    }

    /// No refill request is pending and the OS owes no frames.
    pub fn refills_settled(&self) -> bool {
        self.req_pending.is_none() && self.outstanding == 0
    }

    /// The OS delivered a frame.
    pub fn refill(&mut self, frame: u64) -> Result<(), String> {
        if self.outstanding == 0 {
            return Err(format!(
                "refill frame {frame:x} delivered with no frames owed"
            ));
        }
        self.outstanding -= 1;
        self.stats.frames_in += 1;
        self.pool.push(frame);
        self.after_op();
        self.advance();
        Ok(())
    }

    /// The end of a cycle: frames owed from before an exit can lift the pool above HIGH again;
    /// the idle pool offers them to the drain before the mapper takes another request (it takes
    /// none in a cycle in which a refill frame enters).
    pub fn end_of_cycle(&mut self) {
        if self.walk.is_none() {
            self.drain_above_high();
        }
    }

    fn drain_above_high(&mut self) {
        while self.pool.len() > self.g.high {
            let top = self.pool.pop().unwrap();
            self.expected_drains.push_back(top);
        }
    }

    /// The next frame the hardware must drain.
    pub fn drain(&mut self) -> Option<u64> {
        let f = self.expected_drains.pop_front()?;
        self.stats.frames_drained += 1;
        Some(f)
    }

    fn entry(&self, table: u64, i: u64) -> u64 {
        self.tables.get(&table).map_or(0, |t| t[i as usize])
    }

    /// The hardware reads entry `i` of `table`.
    fn read_entry(&mut self, table: u64, i: u64) -> u64 {
        self.expected_accesses
            .push_back(TableAccess::Read(table * 4096 + i * 8));
        self.entry(table, i)
    }

    fn set_entry(&mut self, table: u64, i: u64, v: u64) {
        self.tables
            .entry(table)
            .or_insert_with(|| Box::new([0; 512]))[i as usize] = v;
        self.expected_accesses
            .push_back(TableAccess::Write(table * 4096 + i * 8, v));
    }

    fn index(va: u64, level: u32) -> u64 {
        (va >> (12 + 9 * (level - 1))) & 511
    }

    /// A map request (walker fault or arena page) was taken.
    pub fn start_map(&mut self, va: u64, who: Requester) {
        assert!(self.walk.is_none(), "one map request at a time");
        self.stats.maps += 1;
        if va >> self.g.region_log2 != self.g.mrs >> self.g.region_log2 {
            self.stats.out_of_region += 1;
            self.expected_answers
                .push_back((who, MapAnswer::OutOfRegion));
            return;
        }
        self.walk = Some(Walk {
            va,
            level: 4,
            table: self.root,
            fresh: false,
            who,
            new_tables: 0,
        });
        self.advance();
        if self.walk.is_some() {
            self.stats.starved_walks += 1;
        }
    }

    /// Walks as far as the pool allows.
    fn advance(&mut self) {
        while let Some(mut w) = self.walk.take() {
            let i = Self::index(w.va, w.level);
            if !w.fresh {
                let e = self.read_entry(w.table, i);
                if e & 1 == 1 {
                    if w.level == 1 {
                        self.stats.already_mapped += 1;
                        self.expected_answers
                            .push_back((w.who, MapAnswer::Frame(pte_frame(e))));
                    } else {
                        w.table = pte_frame(e);
                        w.level -= 1;
                        self.walk = Some(w);
                    }
                    continue;
                }
            }
            let Some(f) = self.pool.pop() else {
                // Wait for a refill; the entry is known missing, so it is not read again.
                w.fresh = true;
                self.walk = Some(w);
                return;
            };
            self.after_op();
            assert!(self.mapped.insert(f), "frame {f:x} handed out while mapped");
            self.expected_map_events.push_back(f);
            self.bypass_events.push_back((true, f));
            self.set_entry(w.table, i, pte(f));
            if w.level == 1 {
                self.tables.remove(&f);
                self.stats.pages_mapped += 1;
                self.stats.maps_by_new_tables[w.new_tables.min(3)] += 1;
                self.expected_answers
                    .push_back((w.who, MapAnswer::Frame(f)));
            } else {
                self.tables.insert(f, Box::new([0; 512]));
                self.stats.tables_allocated += 1;
                w.new_tables += 1;
                w.table = f;
                w.level -= 1;
                w.fresh = true;
                self.walk = Some(w);
            }
        }
    }

    fn give(&mut self, f: u64) {
        assert!(
            self.mapped.remove(&f),
            "frame {f:x} given back but not mapped"
        );
        self.expected_dead_events.push_back(f);
        self.bypass_events.push_back((false, f));
        if self.pool.len() == self.g.capacity {
            let top = self.pool.pop().unwrap();
            self.expected_drains.push_back(top);
        }
        self.pool.push(f);
        self.stats.frames_returned_at_exit += 1;
        self.after_op();
    }

    fn reclaim(&mut self, level: u32, table: u64) {
        for i in 0..512 {
            let e = self.read_entry(table, i);
            if e & 1 == 1 {
                let f = pte_frame(e);
                if level > 1 {
                    self.reclaim(level - 1, f);
                }
                self.give(f);
            }
        }
    }

    /// The function exited: reclaim every frame depth-first, empty the root, drain above HIGH.
    pub fn exit(&mut self) {
        assert!(
            self.walk.is_none(),
            "exit is taken only between map requests"
        );
        self.stats.exits += 1;
        for i in 0..512 {
            let e = self.read_entry(self.root, i);
            if e & 1 == 1 {
                let f = pte_frame(e);
                self.reclaim(3, f);
                self.give(f);
                self.set_entry(self.root, i, 0);
            }
        }
        self.drain_above_high();
    }

    /// Frames in = in the pool + mapped + drained (counting drains the hardware still owes).
    pub fn conserves_frames(&self) -> Result<(), String> {
        let owed = self.expected_drains.len() as u64;
        let held =
            self.pool.len() as u64 + self.mapped.len() as u64 + self.stats.frames_drained + owed;
        if held == self.stats.frames_in {
            Ok(())
        } else {
            Err(format!(
                "frames in {} != pool {} + mapped {} + drained {} + to drain {}",
                self.stats.frames_in,
                self.pool.len(),
                self.mapped.len(),
                self.stats.frames_drained,
                owed
            ))
        }
    }

    /// The root table has no present entry.
    pub fn root_is_empty(&self) -> bool {
        (0..512).all(|i| self.entry(self.root, i) & 1 == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> PageAllocModel {
        let p = memento_hw::Params::default();
        PageAllocModel::new(PoolGeometry::from((&p, 1 << 44)), 7)
    }

    fn fill(m: &mut PageAllocModel, first: u64) {
        let n = m.request_taken().expect("a request is due");
        for f in first..first + n {
            m.refill(f).unwrap();
        }
    }

    #[test]
    fn first_map_creates_three_tables_then_the_page() {
        let mut m = model();
        fill(&mut m, 100);
        assert_eq!(m.pool_len(), 48, "the first request asks for HIGH frames");
        m.start_map((1 << 44) + 0x5000, Requester::Walker);
        // Frames come off the top of the stack: 147 (L3), 146 (L2), 145 (L1), 144 (data).
        assert_eq!(
            m.expected_answers.pop_front(),
            Some((Requester::Walker, MapAnswer::Frame(144)))
        );
        let a: Vec<_> = m.expected_accesses.drain(..).collect();
        // The root entry is read and found missing; below a new table nothing is read.
        assert_eq!(a[0], TableAccess::Read(7 * 4096 + 32 * 8));
        assert_eq!(a[1], TableAccess::Write(7 * 4096 + 32 * 8, pte(147)));
        assert_eq!(a[4], TableAccess::Write(145 * 4096 + 5 * 8, pte(144)));
        assert_eq!(a.len(), 5);
        // The neighbour page: four reads down to the missing leaf, then its data frame.
        m.start_map((1 << 44) + 0x6000, Requester::Arena);
        assert_eq!(m.expected_accesses.len(), 5);
        assert_eq!(m.stats.tables_allocated, 3);
        m.conserves_frames().unwrap();
    }

    #[test]
    fn empty_pool_waits_for_the_next_refill() {
        let mut m = model();
        m.start_map(1 << 44, Requester::Walker);
        assert!(m.walking(), "no frames yet: the walk waits");
        fill(&mut m, 10);
        assert!(!m.walking());
        assert_eq!(m.expected_accesses.len(), 5);
    }

    #[test]
    fn exit_returns_everything_and_empties_the_root() {
        let mut m = model();
        fill(&mut m, 1000);
        for k in 0..12 {
            m.start_map((1 << 44) + (k << 30) + (k << 12), Requester::Walker);
        }
        assert!(m.pool_len() < 16);
        m.expected_accesses.clear();
        m.exit();
        assert!(m.root_is_empty());
        assert_eq!(m.mapped_len(), 0);
        assert_eq!(m.pool_len(), 48, "drained down to HIGH");
        m.conserves_frames().unwrap();
    }

    #[test]
    fn out_of_region_is_an_error() {
        let mut m = model();
        m.start_map(5, Requester::Walker);
        assert_eq!(
            m.expected_answers.pop_front(),
            Some((Requester::Walker, MapAnswer::OutOfRegion))
        );
    }
}

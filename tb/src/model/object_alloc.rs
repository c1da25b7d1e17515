//! Golden model of the object allocator.
//!
//! Plain Rust, written from the contract: it predicts the status and pointer of every command and
//! every header line the hardware writes. It keeps its own copy of header memory, which is the
//! authority for every arena that is not in the HOT.

use std::collections::HashMap;

/// A command on the command port.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Alloc(u64),
    Free(u64),
    Exit,
    /// The command port's fourth encoding (op 3), which SPEC does not define: answered INVALID,
    /// changing nothing (docs/design.md). Random streams send it among their bad commands.
    Reserved(u64),
}

impl Op {
    /// `OP ARG` as in the command log.
    pub fn log_fields(&self) -> (&'static str, u64) {
        match *self {
            Op::Alloc(s) => ("ALLOC", s),
            Op::Free(p) => ("FREE", p),
            Op::Exit => ("EXIT", 0),
            Op::Reserved(a) => ("OP3", a),
        }
    }
}

/// A response status.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    Fallback,
    Invalid,
    DoubleFree,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Fallback => "FALLBACK",
            Status::Invalid => "INVALID",
            Status::DoubleFree => "DOUBLE_FREE",
        }
    }
}

/// A response: status and pointer (0 unless an OK alloc).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    pub ptr: u64,
}

/// Arena states in a header.
pub const IN_HOT: u8 = 0;
pub const AVAILABLE: u8 = 1;
pub const FULL: u8 = 2;

/// An arena header as it sits in memory.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub bitmap: [u64; 4],
    pub next: u64,
    pub count: u16,
    pub state: u8,
}

impl Header {
    /// The 64-byte little-endian line: bitmap, next, count, state, then zeros.
    pub fn to_line(&self) -> [u8; 64] {
        let mut l = [0u8; 64];
        for (i, w) in self.bitmap.iter().enumerate() {
            l[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        l[32..40].copy_from_slice(&self.next.to_le_bytes());
        l[40..42].copy_from_slice(&self.count.to_le_bytes());
        l[42] = self.state;
        l
    }

    pub fn from_line(l: &[u8; 64]) -> Header {
        let word = |i: usize| u64::from_le_bytes(l[i..i + 8].try_into().unwrap());
        Header {
            bitmap: [word(0), word(8), word(16), word(24)],
            next: word(32),
            count: u16::from_le_bytes([l[40], l[41]]),
            state: l[42],
        }
    }

    fn bit(&self, i: u64) -> bool {
        self.bitmap[(i / 64) as usize] >> (i % 64) & 1 == 1
    }

    fn set_bit(&mut self, i: u64, v: bool) {
        let w = &mut self.bitmap[(i / 64) as usize];
        if v {
            *w |= 1 << (i % 64);
        } else {
            *w &= !(1 << (i % 64));
        }
    }
}

/// A header line the allocator writes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HeaderWrite {
    pub va: u64,
    pub line: [u8; 64],
}

/// Which way a command went, for coverage and statistics.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    AllocHit,
    AllocPop,
    AllocNew,
    AllocOversize,
    AllocLaneFull,
    FreeHit,
    FreeMiss,
    FreeMissPush,
    /// The arena's header was in the header cache.
    FreeCached,
    FreeCachedPush,
    FreeInvalid(InvalidKind),
    DoubleFreeHit,
    DoubleFreeMiss,
    DoubleFreeCached,
    Exit,
    /// Op 3, answered INVALID.
    Reserved,
}

/// Why a free was rejected as INVALID.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum InvalidKind {
    OutOfRegion,
    InHeader,
    Misaligned,
    PastEnd,
    NotCreated,
}

/// Everything one command does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effects {
    pub rsp: Response,
    pub writes: Vec<HeaderWrite>,
    pub path: Path,
    /// The alloc evicted a dirty HOT entry (written back FULL).
    pub evicted: bool,
    /// The header cache: an alloc popped its arena from it, or a free that missed it wrote its
    /// least recently used line back to make room.
    pub hdc_pop: bool,
    pub hdc_evicted: bool,
}

impl Effects {
    /// Counts what the path does not say (a dirty HOT eviction, header-cache pops and
    /// write-backs) under their own names beside the paths.
    pub fn count_extras(&self, paths: &mut std::collections::BTreeMap<String, u64>) {
        for (on, name) in [
            (self.evicted, "AllocEvictDirty"),
            (self.hdc_pop, "HdcPop"),
            (self.hdc_evicted, "HdcEvict"),
        ] {
            if on {
                *paths.entry(name.into()).or_default() += 1;
            }
        }
    }
}

/// The numbers of the contract the model needs.
#[derive(Clone, Debug)]
pub struct Geometry {
    pub classes: u64,
    pub objs: u64,
    pub lane_bits: u32,
    pub line: u64,
    pub page: u64,
    /// Entries of the header cache (0 = none).
    pub hdc: usize,
}

impl Geometry {
    pub fn obj_size(&self, c: u64) -> u64 {
        8 * (c + 1)
    }
    pub fn stride(&self, c: u64) -> u64 {
        (self.line + self.objs * self.obj_size(c))
            .next_power_of_two()
            .max(self.page)
    }
    pub fn region_bytes(&self) -> u64 {
        self.classes << self.lane_bits
    }
}

impl From<&memento_hw::Params> for Geometry {
    fn from(p: &memento_hw::Params) -> Self {
        Geometry {
            classes: p.classes as u64,
            objs: p.objs as u64,
            lane_bits: p.lane_bits,
            line: p.line,
            page: p.page,
            hdc: p.hdc as usize,
        }
    }
}

#[derive(Clone, Debug)]
struct HotEntry {
    header: Header,
    base: u64,
    dirty: bool,
}

#[derive(Clone, Debug, Default)]
struct ClassState {
    head: u64,
    bump: u64,
}

/// The object allocator's golden model.
#[derive(Clone, Debug)]
pub struct ObjectAllocModel {
    pub g: Geometry,
    pub mrs: u64,
    hot: Vec<Option<HotEntry>>,
    classes: Vec<ClassState>,
    mem: HashMap<u64, Header>,
    /// The header cache, most recently used first: (arena base, header). A cached header is newer
    /// than `mem`'s copy.
    hdc: Vec<(u64, Header)>,
}

impl ObjectAllocModel {
    pub fn new(g: Geometry, mrs: u64) -> Self {
        assert_eq!(
            mrs % g.region_bytes(),
            0,
            "MRS {mrs:#x} must be aligned to the region size"
        );
        let n = g.classes as usize;
        ObjectAllocModel {
            g,
            mrs,
            hot: vec![None; n],
            classes: vec![ClassState::default(); n],
            mem: HashMap::new(),
            hdc: vec![],
        }
    }

    pub fn apply(&mut self, op: Op) -> Effects {
        match op {
            Op::Alloc(size) => self.alloc(size),
            Op::Free(ptr) => self.free(ptr),
            Op::Exit => self.exit(),
            Op::Reserved(_) => Effects {
                rsp: Response {
                    status: Status::Invalid,
                    ptr: 0,
                },
                writes: vec![],
                path: Path::Reserved,
                evicted: false,
                hdc_pop: false,
                hdc_evicted: false,
            },
        }
    }

    fn lane_base(&self, c: u64) -> u64 {
        self.mrs + (c << self.g.lane_bits)
    }

    fn alloc(&mut self, size: u64) -> Effects {
        let fallback = |path| Effects {
            rsp: Response {
                status: Status::Fallback,
                ptr: 0,
            },
            writes: vec![],
            path,
            evicted: false,
            hdc_pop: false,
            hdc_evicted: false,
        };
        if size > 8 * self.g.classes {
            return fallback(Path::AllocOversize);
        }
        let c = if size == 0 { 0 } else { (size - 1) / 8 };
        let ci = c as usize;
        let has_room = |e: &HotEntry| (e.header.count as u64) < self.g.objs;
        let mut writes = vec![];
        let mut path = Path::AllocHit;
        let mut evicted = false;
        let mut hdc_pop = false;
        if !self.hot[ci].as_ref().is_some_and(has_room) {
            let head = self.classes[ci].head;
            let stride = self.g.stride(c);
            let bump = self.classes[ci].bump;
            if head == 0 && bump + stride > 1u64 << self.g.lane_bits {
                return fallback(Path::AllocLaneFull);
            }
            if let Some(old) = self.hot[ci].take() {
                if old.dirty {
                    let h = Header {
                        bitmap: old.header.bitmap,
                        next: 0,
                        count: old.header.count,
                        state: FULL,
                    };
                    self.mem.insert(old.base, h);
                    writes.push(HeaderWrite {
                        va: old.base,
                        line: h.to_line(),
                    });
                    evicted = true;
                }
            }
            if head != 0 {
                // The head's header comes out of the header cache when it is there.
                let h = match self.hdc.iter().position(|(b, _)| *b == head) {
                    Some(k) => {
                        hdc_pop = true;
                        self.hdc.remove(k).1
                    }
                    None => self.mem.get(&head).copied().unwrap_or_default(),
                };
                self.classes[ci].head = h.next;
                self.hot[ci] = Some(HotEntry {
                    header: h,
                    base: head,
                    dirty: false,
                });
                path = Path::AllocPop;
            } else {
                let base = self.lane_base(c) + bump;
                self.classes[ci].bump = bump + stride;
                self.mem.remove(&base);
                self.hot[ci] = Some(HotEntry {
                    header: Header::default(),
                    base,
                    dirty: false,
                });
                path = Path::AllocNew;
            }
        }
        let objs = self.g.objs;
        let size_c = self.g.obj_size(c);
        let line = self.g.line;
        let e = self.hot[ci].as_mut().unwrap();
        let i = (0..objs)
            .find(|&i| !e.header.bit(i))
            .expect("entry with room has a clear bit");
        e.header.set_bit(i, true);
        e.header.count += 1;
        e.dirty = true;
        Effects {
            rsp: Response {
                status: Status::Ok,
                ptr: e.base + line + i * size_c,
            },
            writes,
            path,
            evicted,
            hdc_pop,
            hdc_evicted: false,
        }
    }

    /// Classifies a pointer: `Ok((class, arena base, slot))` or why it is invalid.
    pub fn decode(&self, ptr: u64) -> Result<(u64, u64, u64), InvalidKind> {
        let region = self.g.region_bytes();
        if ptr < self.mrs || ptr - self.mrs >= region {
            return Err(InvalidKind::OutOfRegion);
        }
        let c = (ptr - self.mrs) >> self.g.lane_bits;
        let lane_off = (ptr - self.mrs) & ((1u64 << self.g.lane_bits) - 1);
        let stride = self.g.stride(c);
        let arena_off = lane_off & !(stride - 1);
        let o = lane_off & (stride - 1);
        if o < self.g.line {
            return Err(InvalidKind::InHeader);
        }
        let size = self.g.obj_size(c);
        if !(o - self.g.line).is_multiple_of(size) {
            return Err(InvalidKind::Misaligned);
        }
        let slot = (o - self.g.line) / size;
        if slot >= self.g.objs {
            return Err(InvalidKind::PastEnd);
        }
        if arena_off >= self.classes[c as usize].bump {
            return Err(InvalidKind::NotCreated);
        }
        Ok((c, self.lane_base(c) + arena_off, slot))
    }

    fn free(&mut self, ptr: u64) -> Effects {
        let done = |status, path, writes| Effects {
            rsp: Response { status, ptr: 0 },
            writes,
            path,
            evicted: false,
            hdc_pop: false,
            hdc_evicted: false,
        };
        let (c, base, slot) = match self.decode(ptr) {
            Ok(d) => d,
            Err(kind) => return done(Status::Invalid, Path::FreeInvalid(kind), vec![]),
        };
        let ci = c as usize;
        if let Some(e) = self.hot[ci].as_mut().filter(|e| e.base == base) {
            if !e.header.bit(slot) {
                return done(Status::DoubleFree, Path::DoubleFreeHit, vec![]);
            }
            e.header.set_bit(slot, false);
            e.header.count -= 1;
            e.dirty = true;
            return done(Status::Ok, Path::FreeHit, vec![]);
        }
        let cached = self.hdc.iter().position(|(b, _)| *b == base);
        let mut h = match cached {
            Some(k) => self.hdc[k].1,
            None => self.mem.get(&base).copied().unwrap_or_default(),
        };
        if !h.bit(slot) {
            // Rejected: nothing changes, not even the cache's recency order.
            let path = if cached.is_some() {
                Path::DoubleFreeCached
            } else {
                Path::DoubleFreeMiss
            };
            return done(Status::DoubleFree, path, vec![]);
        }
        h.set_bit(slot, false);
        h.count -= 1;
        let push = h.state == FULL;
        if push {
            h.state = AVAILABLE;
            h.next = self.classes[ci].head;
            self.classes[ci].head = base;
        }
        if self.g.hdc == 0 {
            // No header cache: the line is written straight back.
            self.mem.insert(base, h);
            let path = if push {
                Path::FreeMissPush
            } else {
                Path::FreeMiss
            };
            return done(
                Status::Ok,
                path,
                vec![HeaderWrite {
                    va: base,
                    line: h.to_line(),
                }],
            );
        }
        if let Some(k) = cached {
            // A hit: the cached line changes and becomes the most recently used.
            self.hdc.remove(k);
            self.hdc.insert(0, (base, h));
            let path = if push {
                Path::FreeCachedPush
            } else {
                Path::FreeCached
            };
            return done(Status::Ok, path, vec![]);
        }
        // A miss: the line read from memory goes into the cache, after the least recently used
        // line is written back when the cache is full (every cached line differs from memory).
        let mut writes = vec![];
        if self.hdc.len() == self.g.hdc {
            let (vb, vh) = self.hdc.pop().expect("a full cache has a victim");
            self.mem.insert(vb, vh);
            writes.push(HeaderWrite {
                va: vb,
                line: vh.to_line(),
            });
        }
        self.hdc.insert(0, (base, h));
        let path = if push {
            Path::FreeMissPush
        } else {
            Path::FreeMiss
        };
        let mut e = done(Status::Ok, path, writes);
        e.hdc_evicted = !e.writes.is_empty();
        e
    }

    fn exit(&mut self) -> Effects {
        self.hot.iter_mut().for_each(|e| *e = None);
        self.classes
            .iter_mut()
            .for_each(|c| *c = ClassState::default());
        self.mem.clear();
        // The header cache is dropped, nothing written back.
        self.hdc.clear();
        Effects {
            rsp: Response {
                status: Status::Ok,
                ptr: 0,
            },
            writes: vec![],
            path: Path::Exit,
            evicted: false,
            hdc_pop: false,
            hdc_evicted: false,
        }
    }

    /// Bump pointer of class `c` (lane offset of the next arena).
    pub fn bump(&self, c: u64) -> u64 {
        self.classes[c as usize].bump
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ObjectAllocModel {
        ObjectAllocModel::new(Geometry::from(&memento_hw::Params::default()), 1 << 44)
    }

    #[test]
    fn first_allocs_follow_the_layout() {
        let mut m = model();
        // Class 2 (24 B) lane starts at MRS + 2 << 32; first object right after the header line.
        assert_eq!(
            m.apply(Op::Alloc(18)).rsp,
            Response {
                status: Status::Ok,
                ptr: 0x1002_0000_0040
            }
        );
        assert_eq!(m.apply(Op::Alloc(24)).rsp.ptr, 0x1002_0000_0058);
        assert_eq!(m.apply(Op::Free(0x1002_0000_0040)).rsp.status, Status::Ok);
        assert_eq!(
            m.apply(Op::Alloc(17)).rsp.ptr,
            0x1002_0000_0040,
            "lowest free bit is reused"
        );
        assert_eq!(m.apply(Op::Alloc(513)).rsp.status, Status::Fallback);
        assert_eq!(m.apply(Op::Alloc(0)).rsp.ptr, 0x1000_0000_0040);
    }

    #[test]
    fn invalid_frees_are_classified() {
        let mut m = model();
        let p = m.apply(Op::Alloc(64)).rsp.ptr;
        assert_eq!(m.decode(p + 1), Err(InvalidKind::Misaligned));
        assert_eq!(m.decode(p - 64), Err(InvalidKind::InHeader));
        assert_eq!(m.decode(p + 256 * 64), Err(InvalidKind::PastEnd));
        assert_eq!(m.decode(p + m.g.stride(7)), Err(InvalidKind::NotCreated));
        assert_eq!(m.decode(5), Err(InvalidKind::OutOfRegion));
        assert_eq!(m.apply(Op::Free(p)).rsp.status, Status::Ok);
        assert_eq!(m.apply(Op::Free(p)).rsp.status, Status::DoubleFree);
    }

    /// Without the header cache (HDC = 0): a free that misses the HOT writes its header back.
    #[test]
    fn full_arena_is_written_back_and_pushed_on_free() {
        let mut g = Geometry::from(&memento_hw::Params::default());
        g.hdc = 0;
        let mut m = ObjectAllocModel::new(g, 1 << 44);
        let ptrs: Vec<u64> = (0..256).map(|_| m.apply(Op::Alloc(8)).rsp.ptr).collect();
        let e = m.apply(Op::Alloc(8));
        assert_eq!(e.path, Path::AllocNew);
        assert_eq!(e.writes.len(), 1, "the full arena's header is written back");
        assert_eq!(Header::from_line(&e.writes[0].line).state, FULL);
        let f = m.apply(Op::Free(ptrs[3]));
        assert_eq!(f.path, Path::FreeMissPush);
        let h = Header::from_line(&f.writes[0].line);
        assert_eq!((h.state, h.count, h.next), (AVAILABLE, 255, 0));
        // Fill the second arena; the next alloc pops the first one and reuses slot 3.
        for _ in 1..256 {
            m.apply(Op::Alloc(8));
        }
        let e = m.apply(Op::Alloc(8));
        assert_eq!(e.path, Path::AllocPop);
        assert_eq!(e.rsp.ptr, ptrs[3]);
    }

    #[test]
    fn header_cache_keeps_lines_lru_and_writes_back_only_on_eviction() {
        let mut g = Geometry::from(&memento_hw::Params::default());
        g.hdc = 2;
        let mut m = ObjectAllocModel::new(g, 1 << 44);
        // Three full arenas of class 0 (the fourth is in the HOT).
        let ptrs: Vec<u64> = (0..3 * 256 + 1)
            .map(|_| m.apply(Op::Alloc(8)).rsp.ptr)
            .collect();
        let arena = |k: usize| ptrs[k * 256];
        // A miss reads the line into the cache; nothing is written back yet.
        let f = m.apply(Op::Free(arena(0)));
        assert_eq!((f.path, f.writes.len()), (Path::FreeMissPush, 0));
        let f = m.apply(Op::Free(arena(1)));
        assert_eq!((f.path, f.writes.len()), (Path::FreeMissPush, 0));
        // A hit changes the cached line and makes it the most recent: arena 1 is now the oldest.
        let f = m.apply(Op::Free(arena(0) + 8));
        assert_eq!((f.path, f.writes.len()), (Path::FreeCached, 0));
        // A rejected free changes nothing, not even the order.
        let f = m.apply(Op::Free(arena(1)));
        assert_eq!(f.path, Path::DoubleFreeCached);
        // A third arena evicts the least recently used line (arena 1), written back as cached.
        let f = m.apply(Op::Free(arena(2)));
        assert_eq!(f.path, Path::FreeMissPush);
        assert!(f.hdc_evicted);
        assert_eq!(f.writes.len(), 1);
        let base1 = arena(1) - 64;
        assert_eq!(f.writes[0].va, base1);
        let h = Header::from_line(&f.writes[0].line);
        assert_eq!((h.state, h.count, h.next), (AVAILABLE, 255, arena(0) - 64));
        // The available list is arena 2, 1, 0; popping arena 2 takes it out of the cache.
        for _ in 0..255 {
            m.apply(Op::Alloc(8));
        }
        let e = m.apply(Op::Alloc(8));
        assert_eq!(e.path, Path::AllocPop);
        assert!(e.hdc_pop, "arena 2's header came from the cache");
        assert_eq!(e.rsp.ptr, arena(2));
        // EXIT drops the cache without writing anything.
        assert!(m.apply(Op::Exit).writes.is_empty());
    }

    #[test]
    fn exit_invalidates_old_pointers() {
        let mut m = model();
        let p = m.apply(Op::Alloc(100)).rsp.ptr;
        m.apply(Op::Exit);
        assert_eq!(m.apply(Op::Free(p)).rsp.status, Status::Invalid);
        assert_eq!(
            m.apply(Op::Alloc(100)).rsp.ptr,
            p,
            "the next function starts from the same bump pointer"
        );
    }
}

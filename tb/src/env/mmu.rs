//! Physical memory as the program sees it through the MMU: the page-table entries the page
//! allocator writes (its table memory) and the bytes of header lines and objects, with the walk
//! of the table the hardware built from a virtual address to its frame. A frame reads as zero
//! from the moment a table entry maps it.

use super::FastMap;
use super::TableMemory;

#[derive(Default)]
pub struct PhysMem {
    pub tables: TableMemory,
    data: FastMap<u64, Box<[u8; 4096]>>,
    root: u64,
}

impl PhysMem {
    /// Memory whose page table has its root in frame `root`.
    pub fn new(root: u64) -> Self {
        PhysMem {
            root,
            ..Default::default()
        }
    }

    /// A table write: a valid entry maps its frame, which reads as zero from now on.
    pub fn write_pte(&mut self, pa: u64, value: u64) {
        self.tables.write(pa, value);
        if value & 1 == 1 {
            self.data.remove(&((value >> 12) & ((1 << 40) - 1)));
        }
    }

    /// The MMU's walk of the table the hardware built: the frame of `va`, if mapped.
    pub fn translate(&self, va: u64) -> Option<u64> {
        let mut table = self.root;
        for level in (1..=4).rev() {
            let e = self
                .tables
                .read_now(table * 4096 + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
            if e & 1 == 0 {
                return None;
            }
            table = (e >> 12) & ((1 << 40) - 1);
        }
        Some(table)
    }

    pub fn byte(&self, frame: u64, off: u64) -> u8 {
        self.data.get(&frame).map_or(0, |d| d[off as usize])
    }

    pub fn set_byte(&mut self, frame: u64, off: u64, v: u8) {
        self.data
            .entry(frame)
            .or_insert_with(|| Box::new([0; 4096]))[off as usize] = v;
    }

    /// The 64 bytes at physical `addr` as the program last left them (table lines included).
    pub fn line(&self, addr: u64) -> [u8; 64] {
        self.tables.line_bytes(addr).unwrap_or_else(|| {
            std::array::from_fn(|i| self.byte(addr >> 12, (addr & 4095) + i as u64))
        })
    }

    /// The physical lines of `len` bytes at `ptr`, with the byte range each holds: (line, offset
    /// in line, offset in object, length). Every page must be mapped.
    pub fn lines_of(&self, ptr: u64, len: u64) -> Vec<(u64, usize, u64, usize)> {
        let mut out = vec![];
        let mut i = 0;
        while i < len {
            let va = ptr + i;
            let pa = (self.translate(va).expect("object pages are mapped") << 12) | (va & 4095);
            let n = (64 - (pa & 63)).min(len - i);
            out.push((pa & !63, (pa & 63) as usize, i, n as usize));
            i += n;
        }
        out
    }
}

//! The interposer's log (`<pid>.raw`): a 4 KiB header of 64-bit words, then 16-byte records.
//! The field order mirrors `enum field` in interpose.c.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub const MAGIC: u64 = 0x3150_4143_4f4d_454d;
pub const VERSION: u64 = 1;
pub const HEADER_BYTES: usize = 4096;

/// The call kinds, in the order of the per-kind counters.
pub const KINDS: [&str; 10] = [
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "free",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
];

/// Header word indices (interpose.c `enum field`).
pub mod field {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 1;
    pub const PID: usize = 2;
    pub const PPID: usize = 3;
    pub const RECORDS: usize = 4;
    pub const STATE: usize = 5;
    pub const START_TSC: usize = 6;
    pub const START_NS: usize = 7;
    pub const LAST_TSC: usize = 8;
    pub const END_TSC: usize = 9;
    pub const END_NS: usize = 10;
    pub const MINFLT_START: usize = 11;
    pub const MINFLT_END: usize = 12;
    pub const CAPTURE_FAULTS: usize = 13;
    pub const OVERHEAD_CYCLES: usize = 14;
    pub const SERVED_CALLS: usize = 15;
    pub const SERVED_CYCLES: usize = 16;
    pub const SERVED_FAULTS: usize = 17;
    pub const UNTRACKED_FREES: usize = 18;
    pub const UNTRACKED_REALLOCS: usize = 19;
    pub const FAILED_CALLS: usize = 20;
    pub const ALIGNED_CALLS: usize = 21;
    pub const TRUNCATED: usize = 22;
    pub const FOLLOW_EXEC: usize = 23;
    pub const WINDOW_CYCLES: usize = 24;
    pub const THREADS: usize = 25;
    pub const CALLS: usize = 26;
    pub const CYCLES: usize = CALLS + super::KINDS.len();
    pub const FAULTS: usize = CYCLES + super::KINDS.len();
    pub const COMM: usize = FAULTS + super::KINDS.len();
    pub const COUNT: usize = COMM + 2;
}

/// One logged operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Alloc { id: u64, size: u64 },
    Free { id: u64 },
    Realloc { id: u64, size: u64 },
}

/// A log read back.
#[derive(Debug)]
pub struct RawLog {
    pub path: PathBuf,
    pub header: Vec<u64>,
    pub records: Vec<Record>,
}

impl RawLog {
    /// Reads a log, rejecting anything that is not one with the file and the reason.
    pub fn read(path: &Path) -> Result<RawLog> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading capture log {}", path.display()))?;
        if bytes.len() < HEADER_BYTES {
            bail!(
                "{}: {} bytes, shorter than the log's {HEADER_BYTES}-byte header (the process \
                 ended before the interposer started)",
                path.display(),
                bytes.len()
            );
        }
        let word = |i: usize| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap());
        let header: Vec<u64> = (0..field::COUNT).map(word).collect();
        if header[field::MAGIC] != MAGIC {
            bail!(
                "{}: not a capture log (magic {:#x}; the process ended while its interposer \
                 was starting)",
                path.display(),
                header[field::MAGIC]
            );
        }
        if header[field::VERSION] != VERSION {
            bail!(
                "{}: log version {} (this memento reads {VERSION})",
                path.display(),
                header[field::VERSION]
            );
        }
        let n = header[field::RECORDS] as usize;
        let room = (bytes.len() - HEADER_BYTES) / 16;
        if n > room {
            bail!(
                "{}: the header counts {n} records, the file holds {room}",
                path.display()
            );
        }
        let mut records = Vec::with_capacity(n);
        for k in 0..n {
            let at = HEADER_BYTES + 16 * k;
            let a = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
            let size = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap());
            let id = a & ((1 << 56) - 1);
            records.push(match a >> 56 {
                1 => Record::Alloc { id, size },
                2 => Record::Free { id },
                3 => Record::Realloc { id, size },
                other => bail!(
                    "{}: record {} has kind {other} (1 alloc, 2 free, 3 realloc)",
                    path.display(),
                    k + 1
                ),
            });
        }
        Ok(RawLog {
            path: path.to_path_buf(),
            header,
            records,
        })
    }

    pub fn get(&self, f: usize) -> u64 {
        self.header[f]
    }

    pub fn pid(&self) -> u32 {
        self.get(field::PID) as u32
    }

    /// The process name the kernel gave it (`comm`).
    pub fn comm(&self) -> String {
        let bytes: Vec<u8> = self.header[field::COMM..field::COMM + 2]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .take_while(|&b| b != 0)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// True when the interposer's exit handler ran (a normal `exit`).
    pub fn exited(&self) -> bool {
        self.get(field::STATE) == 1
    }

    /// Per call kind: (calls, cycles inside the real call, minor faults inside it).
    pub fn per_kind(&self) -> Vec<(&'static str, u64, u64, u64)> {
        KINDS
            .iter()
            .enumerate()
            .map(|(k, name)| {
                (
                    *name,
                    self.get(field::CALLS + k),
                    self.get(field::CYCLES + k),
                    self.get(field::FAULTS + k),
                )
            })
            .collect()
    }

    /// The log's generation for its pid: 0 for `<pid>.raw`, n for `<pid>-<n>.raw` (the n-th image
    /// an exec put in the same process).
    pub fn generation(&self) -> u32 {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.split_once('-'))
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(0)
    }
}

/// What a log's records make as a trace.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TraceText {
    pub text: String,
    pub ids: u64,
    pub ops: u64,
    pub allocs: u64,
    pub frees: u64,
    pub reallocs: u64,
    /// Objects still live at the end.
    pub live: u64,
}

/// The records as a malloc-lab trace (ids renumbered densely in order of allocation, which the
/// interposer already does; each record is checked against the objects live at its point).
pub fn to_trace(log: &RawLog) -> Result<TraceText> {
    let mut dense: std::collections::HashMap<u64, u64> = Default::default();
    let mut live: Vec<bool> = vec![];
    let mut body = String::with_capacity(log.records.len() * 12);
    let mut t = TraceText::default();
    use std::fmt::Write as _;
    for (k, r) in log.records.iter().enumerate() {
        let known = |raw: u64, dense: &std::collections::HashMap<u64, u64>, live: &[bool]| {
            dense
                .get(&raw)
                .copied()
                .filter(|&d| live[d as usize])
                .with_context(|| {
                    format!(
                        "{}: record {} names object {raw}, which is not live",
                        log.path.display(),
                        k + 1
                    )
                })
        };
        match *r {
            Record::Alloc { id, size } => {
                if dense.get(&id).is_some_and(|&d| live[d as usize]) {
                    bail!(
                        "{}: record {} allocates object {id}, which is already live",
                        log.path.display(),
                        k + 1
                    );
                }
                let d = live.len() as u64;
                dense.insert(id, d);
                live.push(true);
                t.allocs += 1;
                let _ = writeln!(body, "a {d} {size}");
            }
            Record::Free { id } => {
                let d = known(id, &dense, &live)?;
                live[d as usize] = false;
                t.frees += 1;
                let _ = writeln!(body, "f {d}");
            }
            Record::Realloc { id, size } => {
                let d = known(id, &dense, &live)?;
                t.reallocs += 1;
                let _ = writeln!(body, "r {d} {size}");
            }
        }
    }
    t.ids = live.len() as u64;
    t.ops = log.records.len() as u64;
    t.live = live.iter().filter(|&&l| l).count() as u64;
    t.text = format!("0\n{}\n{}\n1\n{body}", t.ids, t.ops);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(records: Vec<Record>) -> RawLog {
        RawLog {
            path: "t.raw".into(),
            header: vec![0; field::COUNT],
            records,
        }
    }

    #[test]
    fn records_become_a_dense_malloc_lab_trace() {
        use Record::*;
        let t = to_trace(&log(vec![
            Alloc { id: 0, size: 24 },
            Alloc { id: 1, size: 600 },
            Realloc { id: 0, size: 100 },
            Free { id: 1 },
            Alloc { id: 2, size: 0 },
        ]))
        .unwrap();
        assert_eq!(t.text, "0\n3\n5\n1\na 0 24\na 1 600\nr 0 100\nf 1\na 2 0\n");
        assert_eq!(
            (t.ids, t.ops, t.allocs, t.frees, t.reallocs, t.live),
            (3, 5, 3, 1, 1, 2)
        );
    }

    #[test]
    fn records_on_objects_not_live_are_rejected_with_their_number() {
        use Record::*;
        let e = to_trace(&log(vec![
            Alloc { id: 0, size: 8 },
            Free { id: 0 },
            Free { id: 0 },
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("record 3 names object 0, which is not live"),
            "{e}"
        );
        let e = to_trace(&log(vec![Realloc { id: 4, size: 8 }]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("record 1"), "{e}");
        let e = to_trace(&log(vec![
            Alloc { id: 0, size: 8 },
            Alloc { id: 0, size: 8 },
        ]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("already live"), "{e}");
    }

    #[test]
    fn a_short_or_foreign_file_is_not_a_log() {
        let dir = std::env::temp_dir().join(format!("memento-raw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("1.raw");
        std::fs::write(&p, b"hello").unwrap();
        assert!(RawLog::read(&p)
            .unwrap_err()
            .to_string()
            .contains("shorter"));
        std::fs::write(&p, vec![0u8; 8192]).unwrap();
        assert!(RawLog::read(&p)
            .unwrap_err()
            .to_string()
            .contains("not a capture log"));
        let mut bytes = vec![0u8; 8192];
        bytes[..8].copy_from_slice(&MAGIC.to_le_bytes());
        bytes[8..16].copy_from_slice(&VERSION.to_le_bytes());
        bytes[32..40].copy_from_slice(&1000u64.to_le_bytes());
        std::fs::write(&p, &bytes).unwrap();
        let e = RawLog::read(&p).unwrap_err().to_string();
        assert!(e.contains("counts 1000 records, the file holds 256"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Real programs' allocation traces (malloc-lab format, gzip or plain) and their replay as the
//! runtime would drive the hardware: `a` is ALLOC, `f` a FREE of a hardware object, `r` an ALLOC
//! then a FREE unless the new size stays in the same class, and the end of the trace is EXIT.

use crate::model::object_alloc::{Op, Response, Status};
use crate::stimulus::{Next, Stimulus};
use anyhow::{bail, Context, Result};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TraceOp {
    Alloc { id: usize, size: u64 },
    Free { id: usize },
    Realloc { id: usize, size: u64 },
}

#[derive(Debug)]
pub struct Trace {
    pub ids: usize,
    pub ops: Vec<TraceOp>,
}

/// Reads a trace, gzip-compressed (by magic number) or plain, rejecting anything malformed with
/// the file, the line number and what was expected.
pub fn read(path: &Path) -> Result<Trace> {
    let mut raw = vec![];
    std::fs::File::open(path)
        .with_context(|| format!("opening trace {}", path.display()))?
        .read_to_end(&mut raw)
        .with_context(|| format!("reading {}", path.display()))?;
    let text: Box<dyn BufRead> = if raw.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(
            std::io::Cursor::new(raw),
        )))
    } else {
        Box::new(BufReader::new(std::io::Cursor::new(raw)))
    };
    parse(text, &path.display().to_string())
}

pub fn parse(input: impl BufRead, name: &str) -> Result<Trace> {
    let mut header = vec![];
    let mut ops = vec![];
    let mut live: Vec<bool> = vec![];
    let mut ids = 0usize;
    let mut declared_ops = 0usize;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = line.with_context(|| format!("{name}:{n}: not valid text"))?;
        let t = line.trim();
        if header.len() < 4 {
            let v: u64 = t.parse().with_context(|| {
                format!(
                    "{name}:{n}: header line {} must be a number, found {t:?}",
                    header.len() + 1
                )
            })?;
            header.push(v);
            if header.len() == 4 {
                ids = header[1] as usize;
                declared_ops = header[2] as usize;
                live = vec![false; ids];
            }
            continue;
        }
        if t.is_empty() {
            continue;
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        let id_of = |s: &str| -> Result<usize> {
            let id: usize = s
                .parse()
                .with_context(|| format!("{name}:{n}: id {s:?} is not a number"))?;
            if id >= ids {
                bail!("{name}:{n}: id {id} is not below the declared {ids} ids");
            }
            Ok(id)
        };
        let size_of = |s: &str| -> Result<u64> {
            s.parse()
                .with_context(|| format!("{name}:{n}: size {s:?} is not a number"))
        };
        let op = match (f[0], f.len()) {
            ("a", 3) => {
                let id = id_of(f[1])?;
                if live[id] {
                    bail!("{name}:{n}: allocation of id {id}, which is already live");
                }
                live[id] = true;
                TraceOp::Alloc {
                    id,
                    size: size_of(f[2])?,
                }
            }
            ("f", 2) => {
                let id = id_of(f[1])?;
                if !live[id] {
                    bail!("{name}:{n}: free of id {id}, which is not live");
                }
                live[id] = false;
                TraceOp::Free { id }
            }
            ("r", 3) => {
                let id = id_of(f[1])?;
                if !live[id] {
                    bail!("{name}:{n}: realloc of id {id}, which is not live");
                }
                TraceOp::Realloc {
                    id,
                    size: size_of(f[2])?,
                }
            }
            _ => bail!(
                "{name}:{n}: expected `a <id> <size>`, `f <id>` or `r <id> <size>`, found {t:?}"
            ),
        };
        ops.push(op);
    }
    if header.len() < 4 {
        bail!("{name}: the four header lines are missing");
    }
    if ops.len() != declared_ops {
        bail!(
            "{name}: header declares {declared_ops} operations, the body has {}",
            ops.len()
        );
    }
    Ok(Trace { ids, ops })
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Obj {
    None,
    /// An ALLOC is in flight for it.
    Pending,
    Hw(u64),
    Sw,
}

/// Replays a trace through the command port.
pub struct TraceReplay<'a> {
    trace: &'a Trace,
    mrs: u64,
    lane_bits: u32,
    pos: usize,
    objs: Vec<Obj>,
    /// Commands of the current trace operation still to issue (a realloc is two).
    queue: VecDeque<(Op, Option<usize>)>,
    /// The id each in-flight ALLOC is for, in issue order.
    in_flight: VecDeque<Option<usize>>,
    exited: bool,
}

impl<'a> TraceReplay<'a> {
    /// A replay into a region at `mrs` whose lanes are `2^lane_bits` bytes.
    pub fn new(trace: &'a Trace, mrs: u64, lane_bits: u32) -> Self {
        TraceReplay {
            trace,
            mrs,
            lane_bits,
            pos: 0,
            objs: vec![Obj::None; trace.ids],
            queue: VecDeque::new(),
            in_flight: VecDeque::new(),
            exited: false,
        }
    }

    fn class(size: u64) -> u64 {
        size.saturating_sub(1) / 8
    }
}

impl Stimulus for TraceReplay<'_> {
    fn next(&mut self) -> Next {
        while self.queue.is_empty() {
            let Some(&op) = self.trace.ops.get(self.pos) else {
                if self.exited {
                    return Next::Done;
                }
                self.exited = true;
                self.queue.push_back((Op::Exit, None));
                break;
            };
            let id = match op {
                TraceOp::Alloc { id, .. } | TraceOp::Free { id } | TraceOp::Realloc { id, .. } => {
                    id
                }
            };
            if self.objs[id] == Obj::Pending {
                return Next::Wait;
            }
            self.pos += 1;
            match op {
                TraceOp::Alloc { id, size } => self.queue.push_back((Op::Alloc(size), Some(id))),
                TraceOp::Free { id } => {
                    if let Obj::Hw(ptr) = self.objs[id] {
                        self.queue.push_back((Op::Free(ptr), None));
                    }
                    self.objs[id] = Obj::None;
                }
                TraceOp::Realloc { id, size } => match self.objs[id] {
                    Obj::Hw(ptr) => {
                        let old_class = (ptr - self.mrs) >> self.lane_bits;
                        if size <= 512 && Self::class(size) == old_class {
                            continue;
                        }
                        self.queue.push_back((Op::Alloc(size), Some(id)));
                        self.queue.push_back((Op::Free(ptr), None));
                    }
                    _ => self.queue.push_back((Op::Alloc(size), Some(id))),
                },
            }
        }
        Next::Cmd(self.queue.front().unwrap().0)
    }

    fn issued(&mut self, op: Op, _: &crate::model::object_alloc::Effects) {
        let (_, id) = self.queue.pop_front().expect("issued what next() offered");
        if let Op::Alloc(_) = op {
            self.in_flight.push_back(id);
            if let Some(id) = id {
                self.objs[id] = Obj::Pending;
            }
        }
    }

    fn answered(&mut self, op: Op, rsp: Response) {
        if let Op::Alloc(_) = op {
            if let Some(Some(id)) = self.in_flight.pop_front() {
                self.objs[id] = if rsp.status == Status::Ok {
                    Obj::Hw(rsp.ptr)
                } else {
                    Obj::Sw
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(std::io::Cursor::new(text), "t.rep")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_a_small_trace() {
        let t = parse(
            std::io::Cursor::new("0\n2\n4\n1\na 0 10\na 1 20\nr 0 30\nf 1\n"),
            "t.rep",
        )
        .unwrap();
        assert_eq!(t.ops.len(), 4);
        assert_eq!(t.ops[2], TraceOp::Realloc { id: 0, size: 30 });
    }

    #[test]
    fn rejects_bad_input_with_the_line() {
        assert!(err("0\n1\n1\n1\nx 0 4\n").contains("t.rep:5: expected"));
        assert!(err("0\n1\n1\n1\nf 0\n").contains("t.rep:5: free of id 0, which is not live"));
        assert!(err("0\n1\n2\n1\na 0 4\n").contains("declares 2 operations, the body has 1"));
        assert!(err("0\n1\n1\n1\na 0 big\n").contains("t.rep:5: size \"big\""));
        assert!(err("0\n1\n1\n1\na 3 4\n").contains("id 3 is not below the declared 1 ids"));
        assert!(err("0\nx\n").contains("t.rep:2: header line 2"));
    }
}

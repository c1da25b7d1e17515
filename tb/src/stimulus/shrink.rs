//! Shrinking a failing run: the commands a failing seed issued are recorded, then cut down by
//! delta debugging (Zeller's ddmin over the recorded list, keeping any failure) to a short script
//! that still fails. The script is a text file a person can read and edit, one command a line,
//! and `memento regress --test T --seed S --script FILE` replays exactly it.
//!
//! A free of an object the stream allocated is kept as a reference to that alloc (`free @K`):
//! when earlier commands are cut, the same object can sit at another address, and the free must
//! still name it. A free whose alloc was cut, or that never named an allocated object (a bad
//! free), uses the address it had in the recorded run.

use crate::model::object_alloc::{Effects, Op, Status};
use crate::scoreboard::Mismatch;
use crate::stimulus::{Next, Stimulus};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// One command of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Alloc(u64),
    /// Free what command `of` allocated; `raw` where that command is gone or did not allocate.
    FreeOf {
        of: usize,
        raw: u64,
    },
    Free(u64),
    Exit,
    /// Op 3 with its argument.
    Reserved(u64),
}

/// Records the commands a stimulus issued, as a script.
pub struct Recording<'a> {
    inner: &'a mut dyn Stimulus,
    pub cmds: Vec<Cmd>,
    /// Live objects: pointer -> index of the alloc that returned it.
    live: HashMap<u64, usize>,
    offered: bool,
}

impl<'a> Recording<'a> {
    pub fn new(inner: &'a mut dyn Stimulus) -> Self {
        Recording {
            inner,
            cmds: vec![],
            live: HashMap::new(),
            offered: false,
        }
    }
}

impl Stimulus for Recording<'_> {
    fn next(&mut self) -> Next {
        let n = self.inner.next();
        self.offered = matches!(n, Next::Cmd(_));
        n
    }

    fn issued(&mut self, op: Op, expected: &Effects) {
        // The core's harness ends a run with an EXIT of its own; only the stimulus's commands
        // belong in the script.
        if std::mem::take(&mut self.offered) {
            let i = self.cmds.len();
            self.cmds.push(match op {
                Op::Alloc(size) => {
                    if expected.rsp.status == Status::Ok {
                        self.live.insert(expected.rsp.ptr, i);
                    }
                    Cmd::Alloc(size)
                }
                Op::Free(ptr) => match self.live.remove(&ptr) {
                    Some(of) => Cmd::FreeOf { of, raw: ptr },
                    None => Cmd::Free(ptr),
                },
                Op::Exit => {
                    self.live.clear();
                    Cmd::Exit
                }
                Op::Reserved(a) => Cmd::Reserved(a),
            });
        }
        self.inner.issued(op, expected);
    }

    fn answered(&mut self, op: Op, rsp: crate::model::object_alloc::Response) {
        self.inner.answered(op, rsp)
    }
}

/// Plays a script: `cmds` are `(index in the script being cut down, command)`; a `FreeOf`
/// names its alloc by that index.
pub struct Playback<'a> {
    cmds: &'a [(usize, Cmd)],
    pos: usize,
    /// What each alloc of the script was predicted to return, by script index.
    got: HashMap<usize, u64>,
    last: Option<usize>,
}

impl<'a> Playback<'a> {
    pub fn new(cmds: &'a [(usize, Cmd)]) -> Self {
        Playback {
            cmds,
            pos: 0,
            got: HashMap::new(),
            last: None,
        }
    }
}

impl Stimulus for Playback<'_> {
    fn next(&mut self) -> Next {
        let Some(&(i, c)) = self.cmds.get(self.pos) else {
            return Next::Done;
        };
        self.pos += 1;
        self.last = Some(i);
        Next::Cmd(match c {
            Cmd::Alloc(size) => Op::Alloc(size),
            Cmd::FreeOf { of, raw } => Op::Free(self.got.get(&of).copied().unwrap_or(raw)),
            Cmd::Free(ptr) => Op::Free(ptr),
            Cmd::Exit => Op::Exit,
            Cmd::Reserved(a) => Op::Reserved(a),
        })
    }

    fn issued(&mut self, op: Op, expected: &Effects) {
        if let (Some(i), Op::Alloc(_)) = (self.last.take(), op) {
            if expected.rsp.status == Status::Ok {
                self.got.insert(i, expected.rsp.ptr);
            }
        }
    }
}

/// Numbers a script's commands by their place in it.
pub fn indexed(cmds: &[Cmd]) -> Vec<(usize, Cmd)> {
    cmds.iter().copied().enumerate().collect()
}

/// What shrinking did.
pub struct Shrunk {
    /// The commands left, renumbered from 0 (a `FreeOf` whose alloc was cut is a plain free).
    pub cmds: Vec<Cmd>,
    pub from: usize,
    /// The failure the shortest script shows.
    pub mismatch: Mismatch,
    pub runs: usize,
    /// Whether ddmin finished (the script is 1-minimal: no single chunk of the last granularity
    /// can go) or the time ran out first.
    pub finished: bool,
}

/// Delta debugging: the shortest sub-list of `cmds` that `fails` still fails on, trying to cut
/// complements of ever smaller chunks (Zeller and Hildebrandt's ddmin), until `budget` is spent.
/// `fails` runs a candidate and returns its failure, if any. `failure` is the full list's.
pub fn ddmin(
    cmds: &[Cmd],
    failure: Mismatch,
    budget: Duration,
    mut fails: impl FnMut(&[(usize, Cmd)]) -> Option<Mismatch>,
) -> Shrunk {
    let start = Instant::now();
    let mut cur = indexed(cmds);
    let mut best = failure;
    let mut runs = 0;
    let mut n = 2usize;
    let mut finished = false;
    while start.elapsed() < budget {
        if cur.len() < 2 {
            finished = true;
            break;
        }
        let chunk = cur.len().div_ceil(n);
        let mut cut = None;
        for k in 0..n {
            let (lo, hi) = (k * chunk, ((k + 1) * chunk).min(cur.len()));
            if lo >= hi || start.elapsed() >= budget {
                break;
            }
            let candidate: Vec<(usize, Cmd)> =
                cur[..lo].iter().chain(&cur[hi..]).copied().collect();
            runs += 1;
            if let Some(m) = fails(&candidate) {
                cut = Some((candidate, m));
                break;
            }
        }
        match cut {
            Some((candidate, m)) => {
                (cur, best) = (candidate, m);
                // What comes after the failing command may not matter: try without it.
                let keep = best.command as usize + 1;
                if keep < cur.len() {
                    runs += 1;
                    if let Some(m) = fails(&cur[..keep]) {
                        cur.truncate(keep);
                        best = m;
                    }
                }
                n = (n - 1).max(2);
            }
            None if n >= cur.len() => {
                finished = start.elapsed() < budget;
                break;
            }
            None => n = (2 * n).min(cur.len()),
        }
    }
    Shrunk {
        cmds: renumber(&cur),
        from: cmds.len(),
        mismatch: best,
        runs,
        finished,
    }
}

/// A sub-list's commands renumbered from 0.
fn renumber(cur: &[(usize, Cmd)]) -> Vec<Cmd> {
    let place: HashMap<usize, usize> = cur.iter().enumerate().map(|(p, &(i, _))| (i, p)).collect();
    cur.iter()
        .map(|&(_, c)| match c {
            Cmd::FreeOf { of, raw } => match place.get(&of) {
                Some(&p) => Cmd::FreeOf { of: p, raw },
                None => Cmd::Free(raw),
            },
            c => c,
        })
        .collect()
}

/// A script as text: a header of `#` lines, then `alloc SIZE`, `free 0xPTR`, `free @K 0xPTR`
/// (what command K allocated; the address if K did not) and `exit`, one a line.
pub fn to_text(cmds: &[Cmd], header: &str) -> String {
    let mut o = String::new();
    for l in header.lines() {
        let _ = writeln!(o, "# {l}");
    }
    for c in cmds {
        let _ = match c {
            Cmd::Alloc(s) => writeln!(o, "alloc {s}"),
            Cmd::FreeOf { of, raw } => writeln!(o, "free @{of} {raw:#x}"),
            Cmd::Free(p) => writeln!(o, "free {p:#x}"),
            Cmd::Exit => writeln!(o, "exit"),
            Cmd::Reserved(a) => writeln!(o, "op3 {a:#x}"),
        };
    }
    o
}

fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Reads a script written by [`to_text`] (or by hand); errors name the file and the line.
pub fn parse(text: &str, name: &str) -> Result<Vec<Cmd>> {
    let mut cmds = vec![];
    for (ln, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| format!("{name}:{}: {what}: {line:?}", ln + 1);
        let f: Vec<&str> = line.split_whitespace().collect();
        let cmd = match f.as_slice() {
            ["alloc", s] => {
                Cmd::Alloc(number(s).with_context(|| bad("a size that is not a number"))?)
            }
            ["free", r, p] if r.starts_with('@') => {
                let of: usize = r[1..]
                    .parse()
                    .ok()
                    .with_context(|| bad("a command number after @ that is not a number"))?;
                if of >= cmds.len() {
                    bail!(bad("@K must name an earlier command"));
                }
                if !matches!(cmds[of], Cmd::Alloc(_)) {
                    bail!(bad("@K must name an alloc"));
                }
                let raw = number(p).with_context(|| bad("an address that is not a number"))?;
                Cmd::FreeOf { of, raw }
            }
            ["free", p] => {
                Cmd::Free(number(p).with_context(|| bad("an address that is not a number"))?)
            }
            ["exit"] => Cmd::Exit,
            ["op3", a] => {
                Cmd::Reserved(number(a).with_context(|| bad("an argument that is not a number"))?)
            }
            _ => bail!(bad(
                "expected `alloc SIZE`, `free PTR`, `free @K PTR`, `exit` or `op3 ARG`"
            )),
        };
        cmds.push(cmd);
    }
    Ok(cmds)
}

/// Writes a script and returns its text.
pub fn write(path: &Path, cmds: &[Cmd], header: &str) -> Result<String> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let text = to_text(cmds, header);
    std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mm(command: u64) -> Mismatch {
        Mismatch {
            cycle: 0,
            command,
            op: String::new(),
            what: "test".into(),
            expected: String::new(),
            got: String::new(),
        }
    }

    /// A "design" that fails when an alloc of 7 is followed, at any distance, by a free of it.
    fn fails(c: &[(usize, Cmd)]) -> Option<Mismatch> {
        let mut seen = None;
        for (p, &(i, cmd)) in c.iter().enumerate() {
            match cmd {
                Cmd::Alloc(7) => seen = Some(i),
                Cmd::FreeOf { of, .. } if Some(of) == seen => return Some(mm(p as u64)),
                _ => {}
            }
        }
        None
    }

    #[test]
    fn ddmin_cuts_a_long_stream_to_the_two_commands_the_failure_needs() {
        let mut cmds: Vec<Cmd> = (0..500).map(|i| Cmd::Alloc(16 + i % 5)).collect();
        cmds[123] = Cmd::Alloc(7);
        cmds.insert(
            400,
            Cmd::FreeOf {
                of: 123,
                raw: 0x1000,
            },
        );
        cmds.push(Cmd::Exit);
        let full = fails(&indexed(&cmds)).expect("the full stream fails");
        let s = ddmin(&cmds, full, Duration::from_secs(60), fails);
        assert!(s.finished);
        assert_eq!(
            s.cmds,
            vec![Cmd::Alloc(7), Cmd::FreeOf { of: 0, raw: 0x1000 }]
        );
        assert_eq!(s.from, 502);
        assert_eq!(s.mismatch.command, 1);
    }

    #[test]
    fn scripts_round_trip_through_text_and_errors_name_the_line() {
        let cmds = vec![
            Cmd::Alloc(24),
            Cmd::Free(0xdead0),
            Cmd::FreeOf {
                of: 0,
                raw: 0x1000_0000_0040,
            },
            Cmd::Exit,
        ];
        let text = to_text(&cmds, "test x, seed 1\n4 commands");
        assert!(text.starts_with("# test x, seed 1\n# 4 commands\n"));
        assert_eq!(parse(&text, "s").unwrap(), cmds);
        let e = parse("alloc 8\nfree @1 0x0\n", "f.cmds")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.cmds:2") && e.contains("earlier command"),
            "{e}"
        );
        let e = parse("alloc 8\nmalloc 3\n", "f.cmds")
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.cmds:2") && e.contains("expected"), "{e}");
    }

    #[test]
    fn a_cut_alloc_turns_its_free_into_a_plain_free_of_the_recorded_address() {
        let cur = vec![
            (3, Cmd::Alloc(8)),
            (9, Cmd::FreeOf { of: 3, raw: 0x10 }),
            (12, Cmd::FreeOf { of: 5, raw: 0x20 }),
        ];
        assert_eq!(
            renumber(&cur),
            vec![
                Cmd::Alloc(8),
                Cmd::FreeOf { of: 0, raw: 0x10 },
                Cmd::Free(0x20)
            ]
        );
    }
}

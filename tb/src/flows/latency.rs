//! Latency benchmark of the object allocator with the header port answering in 4 cycles and no
//! stalls: how long a HOT hit takes, and whether back-to-back hits run at one command per cycle.
//! The baseline, run in the same process, is the same number of commands that all miss the HOT.

use crate::env::EnvTiming;
use crate::envs::object_alloc::{run, RunConfig};
use crate::model::object_alloc::{Effects, Op, Status};
use crate::stats::RunStats;
use crate::stimulus::{Next, Stimulus};
use anyhow::{anyhow, Result};

/// Alloc then free the same object, over and over: after the first alloc every command hits.
struct PingPong {
    left: u64,
    ptr: Option<u64>,
    size: u64,
}

impl Stimulus for PingPong {
    fn next(&mut self) -> Next {
        if self.left == 0 {
            return Next::Done;
        }
        self.left -= 1;
        match self.ptr.take() {
            Some(p) => Next::Cmd(Op::Free(p)),
            None => Next::Cmd(Op::Alloc(self.size)),
        }
    }

    fn issued(&mut self, op: Op, e: &Effects) {
        if let Op::Alloc(_) = op {
            if e.rsp.status == Status::Ok {
                self.ptr = Some(e.rsp.ptr);
            }
        }
    }
}

/// Fill 64 classes, then free in allocation order (FIFO): frees miss the HOT.
struct FifoMisses {
    allocs: u64,
    live: std::collections::VecDeque<u64>,
    sent: u64,
}

impl Stimulus for FifoMisses {
    fn next(&mut self) -> Next {
        if self.sent < self.allocs {
            self.sent += 1;
            return Next::Cmd(Op::Alloc(8 * (self.sent % 64) + 1));
        }
        match self.live.pop_front() {
            Some(p) => Next::Cmd(Op::Free(p)),
            None => Next::Done,
        }
    }

    fn issued(&mut self, op: Op, e: &Effects) {
        if let Op::Alloc(_) = op {
            self.live.push_back(e.rsp.ptr);
        }
    }
}

pub struct LatencyReport {
    pub hits: RunStats,
    pub misses: RunStats,
}

pub fn bench(commands: u64, hdr_latency: u64) -> Result<LatencyReport> {
    let cfg = RunConfig::new(0, EnvTiming::fixed(hdr_latency, hdr_latency));
    let hits = run(
        &cfg,
        &mut PingPong {
            left: commands,
            ptr: None,
            size: 48,
        },
        None,
    )
    .map_err(|m| anyhow!("hit stream: {m}"))?;
    let allocs = commands / 2;
    let misses = run(
        &cfg,
        &mut FifoMisses {
            allocs,
            live: Default::default(),
            sent: 0,
        },
        None,
    )
    .map_err(|m| anyhow!("miss stream: {m}"))?;
    Ok(LatencyReport { hits, misses })
}

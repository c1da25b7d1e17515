//! The header interface (`hdr_req_*` out, `hdr_rsp_*` in): the object allocator's reads and
//! writes of arena header lines, answered by a header memory.

use super::memory::{MemoryAgent, Payload};
use crate::line::bytes;
use memento_sim::{Model, Port};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A header access the design made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderReq {
    pub va: u64,
    /// The line written; `None` for a read.
    pub write: Option<[u8; 64]>,
}

/// Header lines: 64 bytes read and written at a virtual address.
pub struct HeaderLines;

impl Payload for HeaderLines {
    const PORTS: (&'static str, &'static str, &'static str) =
        ("hdr_req", "hdr_req_addr", "hdr_rsp");
    type Data = [u32; 16];
    type Req = HeaderReq;

    fn put(dut: &mut Model, rdata: Port, data: &[u32; 16]) {
        dut.poke_wide(rdata, data);
    }

    fn junk(rng: &mut ChaCha8Rng) -> [u32; 16] {
        rng.gen()
    }

    fn take(dut: &mut Model, va: u64, write: bool, wdata: Port) -> HeaderReq {
        let write = write.then(|| {
            let mut wide = [0u32; 16];
            dut.peek_wide(wdata, &mut wide);
            bytes(&wide)
        });
        HeaderReq { va, write }
    }
}

pub type HeaderAgent = MemoryAgent<HeaderLines>;

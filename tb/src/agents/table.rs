//! The page-table interface (`pte_req_*` out, `pte_rsp_*` in): the page allocator's 8-byte
//! reads and writes of table entries, answered by a table memory (or the cache above DRAM).

use super::memory::{MemoryAgent, Payload};
use crate::model::page_alloc::TableAccess;
use memento_sim::{Model, Port};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Table entries: 8 bytes read and written at a physical address.
pub struct TableEntries;

impl Payload for TableEntries {
    const PORTS: (&'static str, &'static str, &'static str) =
        ("pte_req", "pte_req_addr", "pte_rsp");
    type Data = u64;
    type Req = TableAccess;

    fn put(dut: &mut Model, rdata: Port, data: &u64) {
        dut.poke(rdata, *data);
    }

    fn junk(rng: &mut ChaCha8Rng) -> u64 {
        rng.gen()
    }

    fn take(dut: &mut Model, addr: u64, write: bool, wdata: Port) -> TableAccess {
        if write {
            TableAccess::Write(addr, dut.peek(wdata))
        } else {
            TableAccess::Read(addr)
        }
    }
}

pub type TableAgent = MemoryAgent<TableEntries>;

//! The Memento testbench: golden models, environment models, stimulus, the Verilator harness
//! that compares them every cycle, and the reports the `memento` CLI writes.
pub mod bench;
pub mod bench_report;
pub mod bypass_harness;
pub mod code_coverage;
pub mod core_harness;
pub mod coverage;
pub mod env;
pub mod harness;
pub mod latency;
pub mod line;
pub mod llc;
pub mod mem_path;
pub mod model;
pub mod mutate;
pub mod page_harness;
pub mod regress;
pub mod seed;
pub mod stats;
pub mod stimulus;
pub mod swbench;
pub mod sweep;
pub mod synth;
pub mod timing;
pub mod timing_graph;
pub mod trace;
pub mod waves;

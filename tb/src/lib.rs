//! The Memento testbench: golden models, environment models, stimulus, the Verilator harness
//! that compares them every cycle, and the reports the `memento` CLI writes.
pub mod agents;
pub mod bench;
pub mod bench_report;
pub mod code_coverage;
pub mod coverage;
pub mod env;
pub mod envs;
pub mod formal;
pub mod latency;
pub mod line;
pub mod model;
pub mod mutate;
pub mod regress;
pub mod scoreboard;
pub mod seed;
pub mod shrink;
pub mod stats;
pub mod stimulus;
pub mod swbench;
pub mod sweep;
pub mod synth;
pub mod timing;
pub mod timing_graph;
pub mod trace;
pub mod traffic;
pub mod waves;

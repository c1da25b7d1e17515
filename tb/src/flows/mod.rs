//! Flows: what the `memento` verbs do beyond one simulation. The regression runner and its
//! coverage bins, mutation and formal campaigns, synthesis and timing (logic levels), waveform
//! windows, code coverage, the performance benchmarks (hardware replays, software allocators,
//! latency), what Memento would save a captured program, and the design-space sweep.

pub mod bench;
pub mod code_coverage;
pub mod coverage;
pub mod estimate;
pub mod formal;
pub mod latency;
pub mod mutate;
pub mod regress;
pub mod simbench;
pub mod swbench;
pub mod sweep;
pub mod synth;
pub mod timing;
pub mod timing_graph;
pub mod waves;
pub mod xsim;

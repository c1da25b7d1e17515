//! The Memento testbench: golden models, environment models, stimulus, the Verilator harness
//! that compares them every cycle, and the reports the `memento` CLI writes.
pub mod agents;
pub mod cli;
pub mod env;
pub mod envs;
pub mod flows;
pub mod line;
pub mod model;
pub mod report;
pub mod scoreboard;
pub mod seed;
pub mod stats;
pub mod stimulus;

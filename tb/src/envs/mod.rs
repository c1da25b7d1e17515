//! Envs: one per design, each composing the design's agents, the environment models behind
//! them and a scoreboard against the golden models, with a short cycle loop that steps every
//! part once. A test is a stimulus plus an env's configuration.

pub mod bypass;
pub mod core;
pub mod page_alloc;

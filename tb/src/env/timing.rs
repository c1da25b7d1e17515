//! The object allocator's environment timing: latencies and stall chances of its ports.

/// Timing of the environment, in cycles and probabilities.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EnvTiming {
    /// Header read latency: uniform in `hdr_lat_min..=hdr_lat_max` cycles from request to data.
    pub hdr_lat_min: u64,
    pub hdr_lat_max: u64,
    /// Probability that the header port refuses a request in a cycle.
    pub hdr_stall: f64,
    /// Probability that the header read data is held back one more cycle when due.
    pub hdr_rsp_stall: f64,
    /// New-arena answer delay, uniform in `arena_lat_min..=arena_lat_max` (an empty pool is a
    /// long delay).
    pub arena_lat_min: u64,
    pub arena_lat_max: u64,
    pub arena_stall: f64,
    /// Probability that the core does not take a response in a cycle.
    pub rsp_stall: f64,
    /// Probability that the core has no command ready in a cycle (a bubble).
    pub cmd_bubble: f64,
}

impl EnvTiming {
    /// Random stalls on every port at once.
    pub fn stressed() -> Self {
        EnvTiming {
            hdr_lat_min: 1,
            hdr_lat_max: 12,
            hdr_stall: 0.3,
            hdr_rsp_stall: 0.2,
            arena_lat_min: 1,
            arena_lat_max: 60,
            arena_stall: 0.3,
            rsp_stall: 0.25,
            cmd_bubble: 0.2,
        }
    }

    /// No stalls: the header port answers in a fixed number of cycles, the core never waits.
    pub fn fixed(hdr_latency: u64, arena_latency: u64) -> Self {
        EnvTiming {
            hdr_lat_min: hdr_latency,
            hdr_lat_max: hdr_latency,
            hdr_stall: 0.0,
            hdr_rsp_stall: 0.0,
            arena_lat_min: arena_latency,
            arena_lat_max: arena_latency,
            arena_stall: 0.0,
            rsp_stall: 0.0,
            cmd_bubble: 0.0,
        }
    }
}

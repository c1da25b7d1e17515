//! Reports a person reads: the benchmark's and the sweep's text tables, HTML pages and charts.

pub mod bench;
pub mod estimate;

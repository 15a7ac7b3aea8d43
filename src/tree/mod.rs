//! The ratchet tree (§4, §7).

pub mod math;

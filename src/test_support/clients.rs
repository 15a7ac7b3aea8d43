//! Clients for the API's unit tests: a fixed clock and seeded randomness,
//! so every run makes the same keys and messages.

use std::sync::Arc;

use crate::api::{Client, FixedClock};
use crate::crypto::SeededRandom;

/// The time every test client sees.
pub(crate) const NOW: u64 = 1_750_000_000;

/// A client called `name` whose randomness is seeded with `seed`.
pub(crate) fn client(name: &str, seed: u8) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap()
}

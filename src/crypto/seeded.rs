//! A deterministic [`RandomSource`] expanded from a seed.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::{CryptoError, RandomSource};

/// ChaCha20 keyed with a 32-byte seed. Used to hand independent, reproducible
/// randomness to parallel workers (each gets a seed drawn from the caller's
/// source), and as a deterministic source in tests and benchmarks.
pub struct SeededRandom(ChaCha20Rng);

impl SeededRandom {
    /// A source expanded from `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ChaCha20Rng::from_seed(seed))
    }

    /// A source seeded with 32 bytes drawn from `rng`.
    pub fn split(rng: &mut dyn RandomSource) -> Result<Self, CryptoError> {
        let mut seed = [0u8; 32];
        rng.fill(&mut seed)?;
        let out = Self::from_seed(seed);
        zeroize::Zeroize::zeroize(&mut seed);
        Ok(out)
    }
}

impl std::fmt::Debug for SeededRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeededRandom([REDACTED])")
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

//! The default provider: pure Rust (RustCrypto, dalek, hpke-rs).

use std::sync::Arc;

use super::{CipherSuite, CryptoProvider, SuiteCrypto};

/// Pure-Rust provider for suites 0x0001-0x0003.
#[derive(Debug, Default, Clone, Copy)]
pub struct RustCryptoProvider;

impl CryptoProvider for RustCryptoProvider {
    fn suite(&self, _suite: CipherSuite) -> Option<Arc<dyn SuiteCrypto>> {
        None
    }

    fn supported_suites(&self) -> Vec<CipherSuite> {
        Vec::new()
    }
}

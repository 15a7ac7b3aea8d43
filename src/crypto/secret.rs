use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};

/// Secret bytes: zeroized on drop, redacted in `Debug`, compared in constant
/// time.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps bytes that must stay secret.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// `n` zero bytes (the RFC's "all-zero vector" of length `KDF.Nh`).
    pub fn zero(n: usize) -> Self {
        Self(vec![0; n])
    }

    /// Overwrites the secret with random bytes of the same length.
    pub fn fill_random(
        &mut self,
        rng: &mut dyn super::RandomSource,
    ) -> Result<(), super::CryptoError> {
        rng.fill(&mut self.0)
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty secret.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time equality with `other`.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.0.ct_eq(other).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([REDACTED; {}])", self.0.len())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(&other.0)
    }
}

impl Eq for Secret {}

/// Wire form of a secret (`opaque<V>`), e.g. `path_secret` or `joiner_secret`
/// inside GroupSecrets.
impl Encode for Secret {
    fn encode(&self, w: &mut Writer) {
        w.opaque(&self.0);
    }
}

impl Decode for Secret {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.vector()?.take_rest().to_vec()))
    }
}

macro_rules! public_key {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub Vec<u8>);

        impl $name {
            /// The raw key bytes.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                for b in self.0.iter().take(8) {
                    write!(f, "{b:02x}")?;
                }
                if self.0.len() > 8 {
                    f.write_str("..")?;
                }
                f.write_str(")")
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl Encode for $name {
            fn encode(&self, w: &mut Writer) {
                w.opaque(&self.0);
            }
        }

        impl Decode for $name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self(r.vector()?.take_rest().to_vec()))
            }
        }
    };
}

macro_rules! private_key {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Debug)]
        pub struct $name(pub Secret);

        impl $name {
            /// The raw private key bytes.
            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_bytes()
            }
        }
    };
}

public_key!(
    /// `HPKEPublicKey` (§5.1.1): a KEM public key in its serialized form.
    HpkePublicKey
);
public_key!(
    /// `SignaturePublicKey` (§5.1.1).
    SignaturePublicKey
);
private_key!(
    /// An HPKE private key, serialized with `SerializePrivateKey`.
    HpkePrivateKey
);
private_key!(
    /// A signature private key (seed for EdDSA, scalar for ECDSA).
    SignaturePrivateKey
);

//! Credentials (§5.3).

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer, code_point, field, wire_struct};

code_point! {
    /// `CredentialType` (§17.5). Unknown values round-trip unchanged.
    pub struct CredentialType(u16) {
        /// `basic`: a bare identity.
        BASIC = 0x0001,
        /// `x509`: a certificate chain.
        X509 = 0x0002,
        /// `multi` (draft-ietf-mls-extensions, provisional codepoint): a
        /// [`MultiCredential`](crate::crypto::multi_credential), every
        /// binding supported by every member.
        MULTI = 0x0003,
        /// `weak-multi` (draft-ietf-mls-extensions, provisional codepoint):
        /// every member supports at least one binding.
        WEAK_MULTI = 0x0004,
    }
}

wire_struct! {
    /// `Certificate` (§5.3): one DER certificate.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Certificate {
        /// The DER encoding.
        pub cert_data: Vec<u8>,
    }
}

/// `Credential` (§5.3).
///
/// Credential types other than basic and x509 carry their body as
/// `opaque<V>`, the convention the MLS extensions framework uses for
/// application-defined credentials; it lets unknown types round-trip.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Credential {
    /// `basic`: an application-defined identity.
    Basic {
        /// The identity bytes.
        identity: Vec<u8>,
    },
    /// `x509`: a certificate chain, leaf first.
    X509 {
        /// The chain.
        certificates: Vec<Certificate>,
    },
    /// Any other type, body kept opaque.
    Other {
        /// The type.
        credential_type: CredentialType,
        /// The body.
        data: Vec<u8>,
    },
}

impl Credential {
    /// A basic credential with `identity`.
    pub fn basic(identity: impl Into<Vec<u8>>) -> Self {
        Self::Basic {
            identity: identity.into(),
        }
    }

    /// The credential type.
    pub fn credential_type(&self) -> CredentialType {
        match self {
            Self::Basic { .. } => CredentialType::BASIC,
            Self::X509 { .. } => CredentialType::X509,
            Self::Other {
                credential_type, ..
            } => *credential_type,
        }
    }
}

impl Encode for Credential {
    fn encode(&self, w: &mut Writer) {
        self.credential_type().encode(w);
        match self {
            Self::Basic { identity } => identity.encode(w),
            Self::X509 { certificates } => certificates.encode(w),
            Self::Other { data, .. } => data.encode(w),
        }
    }
}

impl Decode for Credential {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let credential_type: CredentialType = field(r, "credential_type")?;
        Ok(match credential_type {
            CredentialType::BASIC => Self::Basic {
                identity: field(r, "identity")?,
            },
            CredentialType::X509 => Self::X509 {
                certificates: field(r, "certificates")?,
            },
            credential_type => Self::Other {
                credential_type,
                data: field(r, "data")?,
            },
        })
    }
}

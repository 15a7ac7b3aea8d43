//! Wire form of pre-shared key identifiers (§8.4).

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer, wire_enum, wire_struct};
use crate::crypto::component::ComponentId;

/// The `PSKType` of an application component's PSK
/// (draft-ietf-mls-extensions, "Pre-Shared Keys"). Provisional: the
/// draft's suggested value, not yet assigned by IANA.
pub const PSK_TYPE_APPLICATION: u8 = 3;

wire_enum! {
    /// `ResumptionPSKUsage` (§8.4).
    pub enum ResumptionPskUsage: u8 {
        /// Resumption within the same group.
        Application = 1,
        /// PSK from the group being reinitialized.
        Reinit = 2,
        /// PSK from the group being branched.
        Branch = 3,
    }
}

/// What a PSK is: an external one by id, a resumption secret of an epoch,
/// or an application component's PSK by component and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Psk {
    /// `psktype = external`.
    External {
        /// The application-chosen PSK id.
        psk_id: Vec<u8>,
    },
    /// `psktype = resumption`.
    Resumption {
        /// Why the resumption PSK is used.
        usage: ResumptionPskUsage,
        /// Group the PSK comes from.
        psk_group_id: Vec<u8>,
        /// Epoch the PSK comes from.
        psk_epoch: u64,
    },
    /// `psktype = application` (draft-ietf-mls-extensions, provisional
    /// codepoint [`PSK_TYPE_APPLICATION`]): a PSK of one application
    /// component, separate from external PSKs and from every other
    /// component's, even under the same `psk_id`.
    Application {
        /// The component the PSK belongs to.
        component_id: ComponentId,
        /// The component-chosen PSK id.
        psk_id: Vec<u8>,
    },
}

impl Encode for Psk {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::External { psk_id } => {
                w.put(&[1]);
                psk_id.encode(w);
            }
            Self::Resumption {
                usage,
                psk_group_id,
                psk_epoch,
            } => {
                w.put(&[2]);
                usage.encode(w);
                psk_group_id.encode(w);
                psk_epoch.encode(w);
            }
            Self::Application {
                component_id,
                psk_id,
            } => {
                w.put(&[PSK_TYPE_APPLICATION]);
                component_id.encode(w);
                psk_id.encode(w);
            }
        }
    }
}

impl Decode for Psk {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        match r.take(1)?[0] {
            1 => Ok(Self::External {
                psk_id: Decode::decode(r).map_err(|e| e.within("psk_id"))?,
            }),
            2 => Ok(Self::Resumption {
                usage: Decode::decode(r).map_err(|e| e.within("usage"))?,
                psk_group_id: Decode::decode(r).map_err(|e| e.within("psk_group_id"))?,
                psk_epoch: Decode::decode(r).map_err(|e| e.within("psk_epoch"))?,
            }),
            PSK_TYPE_APPLICATION => Ok(Self::Application {
                component_id: Decode::decode(r).map_err(|e| e.within("component_id"))?,
                psk_id: Decode::decode(r).map_err(|e| e.within("psk_id"))?,
            }),
            v => Err(DecodeError::new(
                crate::codec::DecodeErrorKind::InvalidValue { value: v.into() },
                at,
            )
            .within("psktype")),
        }
    }
}

wire_struct! {
    /// `PreSharedKeyID` (§8.4).
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct PreSharedKeyId {
        /// External or resumption PSK.
        pub psk: Psk,
        /// Fresh random nonce of length `KDF.Nh`.
        pub psk_nonce: Vec<u8>,
    }
}

wire_struct! {
    /// `PSKLabel` (§8.4): context of each PSK's ExpandWithLabel.
    #[derive(Debug, Clone)]
    pub struct PskLabel {
        /// The PSK being folded in.
        pub id: PreSharedKeyId,
        /// Its position in the list.
        pub index: u16,
        /// Number of PSKs in the list.
        pub count: u16,
    }
}

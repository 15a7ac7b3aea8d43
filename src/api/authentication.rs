//! The authentication service hook (§5.3.1). The engine runs it inside the
//! receive pipeline, before anything is cached, staged or merged.

pub use crate::group::authorization::{
    AcceptBasic, BindingPosition, CredentialUse, CredentialValidator, DeviceIdentity, Rejection,
    ValidationContext, same_device, same_identity,
};

//! The authentication service hook (§5.3.1). The engine runs it inside the
//! receive pipeline; see [`crate::group::authorization`].

pub use crate::group::authorization::{
    AcceptBasic, CredentialUse, CredentialValidator, Rejection, ValidationContext, same_identity,
};

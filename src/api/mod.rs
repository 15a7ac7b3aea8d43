//! The application API: [`Client`] and [`Group`].
//!
//! A `Client` holds an identity and its key packages; a `Group` is one group
//! seen by that client. Neither is generic: the cipher suite is chosen at
//! run time. Time and randomness are injected through the
//! [`ClientBuilder`].

pub mod async_client;
pub mod async_partial;
pub mod authentication;
pub mod client;
pub mod clock;
mod continuation;
mod event;
pub mod external_sender;
pub mod group;
mod group_app_ack;
mod group_app_data;
mod group_content;
mod group_devices;
mod group_lifecycle;
pub mod group_partial;
mod group_safe;
mod group_storage;
pub mod message;
pub mod observer;
mod observer_self_remove;
mod options;
pub mod partial_group;
mod partial_proposals;
mod partial_transitions;
mod received_generations;
mod recovery;

pub use crate::framing::WireFormat;
pub use crate::group::app_data_rules::{AppComponents, AppDataContext, AppUpdate};
pub use crate::group::observer::{CommitOrder, Confirmation, Observed, ObservedCommit, Route};
pub use crate::group::proposal_select::LeftOut;
pub use crate::group::state::{GroupConfig, PublishGroupInfo};
pub use crate::types::MessageKind;
pub use crate::types::error::{Action, EpochTiming, NotForUs};
pub use async_client::{AsyncClient, AsyncGroup};
pub use async_partial::AsyncPartialGroup;
pub use authentication::{
    AcceptBasic, BindingPosition, CredentialUse, CredentialValidator, DeviceIdentity, Rejection,
    ValidationContext,
};
pub use client::{
    BoundCredential, Client, ClientBuilder, ExternalJoinOptions, GroupOptions, KeyPackageOptions,
};
pub use clock::{Clock, FixedClock, SystemClock};
pub use external_sender::{ExternalSender, external_senders_extension};
pub use group::{CommitOutput, Event, Group, Member};
pub use group_partial::CommitAnnotations;
pub use message::{GroupInfo, KeyPackage, Message, Welcome};
pub use observer::{Observer, ObserverOptions};
pub use partial_group::{MAX_PARTIAL_PROPOSALS, PartialCommitEvent, PartialGroup, PartialMessage};
pub use received_generations::MAX_ACK_RANGES;

#[cfg(test)]
mod app_data_tests;
#[cfg(test)]
mod application_psk_tests;
#[cfg(test)]
mod async_client_tests;
#[cfg(test)]
mod async_partial_tests;
#[cfg(test)]
mod content_tests;
#[cfg(test)]
mod device_tests;
#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod grease_tests;
#[cfg(test)]
mod group_info_app_data_tests;
#[cfg(test)]
mod last_resort_tests;
#[cfg(test)]
mod lifecycle_tests;
#[cfg(test)]
mod message_tests;
#[cfg(test)]
mod multi_credential_forged_tests;
#[cfg(test)]
mod multi_credential_tests;
#[cfg(test)]
mod observer_app_records_tests;
#[cfg(test)]
mod observer_shared_tests;
#[cfg(test)]
mod observer_storage_tests;
#[cfg(test)]
mod options_tests;
#[cfg(test)]
mod partial_annotate_tests;
#[cfg(test)]
mod partial_external_tests;
#[cfg(test)]
mod partial_group_tests;
#[cfg(test)]
mod partial_lifecycle_tests;
#[cfg(all(test, feature = "pq"))]
mod pq_lifecycle_tests;
#[cfg(test)]
mod reinit_tests;
#[cfg(test)]
mod required_components_tests;
#[cfg(test)]
mod safe_aad_party_tests;
#[cfg(test)]
mod safe_aad_tests;
#[cfg(test)]
mod safe_interface_tests;
#[cfg(test)]
mod self_remove_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod wire_format_tests;

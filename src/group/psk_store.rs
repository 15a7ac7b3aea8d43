//! Where pre-shared keys come from (§8.4): external PSKs from the
//! application, resumption PSKs from retained epochs, and the PSKs of
//! application components (draft-ietf-mls-extensions, PSKType
//! `application`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::crypto::component::ComponentId;
use crate::crypto::{Secret, Suite};
use crate::schedule::{PreSharedKeyId, Psk, PskSecret, ResumptionPskUsage};
use crate::{Error, Result};

/// Supplies PSK values the group itself does not hold.
pub trait PskStore {
    /// The external PSK with id `psk_id`.
    fn external(&self, psk_id: &[u8]) -> Option<Secret>;

    /// The resumption PSK of `epoch` of another group (for joining a
    /// reinitialized or branched group). Defaults to none.
    fn resumption(&self, _group_id: &[u8], _epoch: u64) -> Option<Secret> {
        None
    }

    /// The PSK `psk_id` of application component `component_id`
    /// (draft-ietf-mls-extensions, PSKType `application`). Looked up only
    /// under that component: never an external PSK or another
    /// component's PSK with the same id. Defaults to none.
    fn application(&self, _component_id: ComponentId, _psk_id: &[u8]) -> Option<Secret> {
        None
    }

    /// Whether the application knows `component_id` as a component with
    /// PSKs: a PSK of a component it does not know is refused with that
    /// reason, not as a merely missing PSK. Defaults to none known.
    fn knows_component(&self, _component_id: ComponentId) -> bool {
        false
    }
}

/// A store with no PSKs.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPsks;

impl PskStore for NoPsks {
    fn external(&self, _psk_id: &[u8]) -> Option<Secret> {
        None
    }
}

/// External PSKs held in memory, by id.
#[derive(Debug, Default, Clone)]
pub struct ExternalPsks(pub HashMap<Vec<u8>, Secret>);

impl PskStore for ExternalPsks {
    fn external(&self, psk_id: &[u8]) -> Option<Secret> {
        self.0.get(psk_id).cloned()
    }
}

/// External PSKs by id, resumption PSKs of other groups by (group id,
/// epoch) and application components' PSKs by (component id, PSK id):
/// what a client knows beyond its groups' own epochs.
#[derive(Debug, Default, Clone)]
pub struct PskMap {
    /// External PSKs.
    pub external: HashMap<Vec<u8>, Secret>,
    /// Resumption PSKs, e.g. of a group being reinitialized or branched.
    pub resumption: HashMap<(Vec<u8>, u64), Secret>,
    /// Application components' PSKs. A component is known
    /// ([`PskStore::knows_component`]) while it has at least one.
    pub application: HashMap<(ComponentId, Vec<u8>), Secret>,
}

impl PskStore for PskMap {
    fn external(&self, psk_id: &[u8]) -> Option<Secret> {
        self.external.get(psk_id).cloned()
    }

    fn resumption(&self, group_id: &[u8], epoch: u64) -> Option<Secret> {
        self.resumption.get(&(group_id.to_vec(), epoch)).cloned()
    }

    fn application(&self, component_id: ComponentId, psk_id: &[u8]) -> Option<Secret> {
        self.application
            .get(&(component_id, psk_id.to_vec()))
            .cloned()
    }

    fn knows_component(&self, component_id: ComponentId) -> bool {
        self.application.keys().any(|(c, _)| *c == component_id)
    }
}

/// A [`PskMap`] shared by a client and all its groups: a PSK provisioned
/// after a group was created or joined is seen by that group too (an
/// external PSK proposal of ours, or a peer's commit that uses it).
#[derive(Debug, Default, Clone)]
pub struct SharedPsks(Arc<RwLock<PskMap>>);

impl SharedPsks {
    /// Reads the map. A writer that panicked cannot leave it half-written
    /// (each write is one map insertion or removal), so poisoning is ignored.
    pub fn read(&self) -> RwLockReadGuard<'_, PskMap> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes the map.
    pub fn write(&self) -> RwLockWriteGuard<'_, PskMap> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl PskStore for SharedPsks {
    fn external(&self, psk_id: &[u8]) -> Option<Secret> {
        self.read().external(psk_id)
    }

    fn resumption(&self, group_id: &[u8], epoch: u64) -> Option<Secret> {
        self.read().resumption(group_id, epoch)
    }

    fn application(&self, component_id: ComponentId, psk_id: &[u8]) -> Option<Secret> {
        self.read().application(component_id, psk_id)
    }

    fn knows_component(&self, component_id: ComponentId) -> bool {
        self.read().knows_component(component_id)
    }
}

/// Resumption PSKs the group kept from its own past epochs.
pub trait ResumptionSource {
    /// The resumption PSK of this group's `epoch`, if retained.
    fn own_resumption(&self, group_id: &[u8], epoch: u64) -> Option<Secret>;
}

/// Why PSKs are being resolved: ReInit and branch resumption PSKs are only
/// valid in those operations (§12.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PskUse {
    /// A regular commit or Welcome.
    Normal,
    /// Joining or committing the first epoch of a reinitialized group.
    Reinit,
    /// Joining or committing the first epoch of a branched group.
    Branch,
}

/// The value of the PSK `id`: our own group's resumption PSKs first, then
/// `store`. The one lookup of [`resolve_psks`] and of proposal selection,
/// so a committer never covers a PSK it would fail to resolve.
pub(crate) fn lookup(
    id: &PreSharedKeyId,
    store: &dyn PskStore,
    own: &dyn ResumptionSource,
) -> Option<Secret> {
    match &id.psk {
        Psk::External { psk_id } => store.external(psk_id),
        Psk::Resumption {
            psk_group_id,
            psk_epoch,
            ..
        } => own
            .own_resumption(psk_group_id, *psk_epoch)
            .or_else(|| store.resumption(psk_group_id, *psk_epoch)),
        Psk::Application {
            component_id,
            psk_id,
        } => store.application(*component_id, psk_id),
    }
}

/// The rule cited by the application-PSK checks.
pub const APPLICATION_PSK_RULE: &str = "draft-ietf-mls-extensions §Pre-Shared Keys (PSKs)";

/// Looks every PSK up and combines them into `psk_secret` (§8.4). Checks
/// the §12.1.4 rules on each id: nonce length and allowed resumption usage.
pub fn resolve_psks(
    suite: &Suite,
    ids: &[PreSharedKeyId],
    store: &dyn PskStore,
    own: &dyn ResumptionSource,
    use_: PskUse,
) -> Result<PskSecret> {
    let mut values = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        check_psk_id(suite, id, use_)?;
        // The draft says nothing of a PSK whose component the member does
        // not know. Its secret could only come from that component's
        // logic, and the PSKType exists to keep components' PSKs apart, so
        // such a PSK is refused, naming the reason, rather than looked up.
        if let Psk::Application { component_id, .. } = &id.psk
            && !store.knows_component(*component_id)
        {
            return Err(Error::protocol(
                APPLICATION_PSK_RULE,
                format!(
                    "PSK {i} ({}) belongs to component {component_id:#06x}, which this client \
                     does not know",
                    describe(id)
                ),
            ));
        }
        let value = lookup(id, store, own).ok_or_else(|| {
            Error::protocol(
                "§12.4.2",
                format!("PSK {i} ({:?}) is not available", describe(id)),
            )
        })?;
        values.push(value);
    }
    PskSecret::compute(suite, ids.iter().zip(values.iter().map(Secret::as_bytes)))
}

/// The per-PSK rules of §12.1.4.
pub fn check_psk_id(suite: &Suite, id: &PreSharedKeyId, use_: PskUse) -> Result<()> {
    // §12.1.4: "The psk_nonce is not of length KDF.Nh" makes it invalid.
    if id.psk_nonce.len() != suite.hash_len() {
        return Err(Error::protocol(
            "§12.1.4",
            format!(
                "psk_nonce of {} is {} bytes, not KDF.Nh = {}",
                describe(id),
                id.psk_nonce.len(),
                suite.hash_len()
            ),
        ));
    }
    // §12.1.4: reinit and branch resumption PSKs only in those operations.
    if let Psk::Resumption { usage, .. } = &id.psk {
        let allowed = match usage {
            ResumptionPskUsage::Application => true,
            ResumptionPskUsage::Reinit => use_ == PskUse::Reinit,
            ResumptionPskUsage::Branch => use_ == PskUse::Branch,
        };
        if !allowed {
            return Err(Error::protocol(
                "§12.1.4",
                format!("resumption PSK with usage {usage:?} outside of that operation"),
            ));
        }
    }
    Ok(())
}

fn describe(id: &PreSharedKeyId) -> String {
    match &id.psk {
        Psk::External { psk_id } => format!("external PSK {}", hex_prefix(psk_id)),
        Psk::Resumption {
            psk_group_id,
            psk_epoch,
            usage,
        } => format!(
            "{usage:?} resumption PSK of group {} epoch {psk_epoch}",
            hex_prefix(psk_group_id)
        ),
        Psk::Application {
            component_id,
            psk_id,
        } => format!(
            "application PSK {} of component {component_id:#06x}",
            hex_prefix(psk_id)
        ),
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    let mut s: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 8 {
        s.push_str("..");
    }
    s
}

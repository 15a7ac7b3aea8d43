//! Users and their devices in a group: which leaves a user holds, which
//! leaf a device holds, and a client built for a device. (The resync of a
//! device that lost its state is in `recovery.rs`.)

use crate::api::client::{Client, ClientBuilder};
use crate::api::group::Group;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::DeviceIdentity;
use crate::types::math::LeafIndex;

/// Every member of `tree` with the device its credential names, in leaf
/// order. Members whose credential names none are skipped.
fn devices(tree: &RatchetTree) -> impl Iterator<Item = (LeafIndex, DeviceIdentity)> + '_ {
    tree.members().filter_map(|(leaf, node)| {
        DeviceIdentity::of_credential(&node.credential)
            .ok()
            .flatten()
            .map(|device| (leaf, device))
    })
}

/// The leaves of `tree` that present `device`.
pub(crate) fn leaves_of_device(tree: &RatchetTree, device: &DeviceIdentity) -> Vec<LeafIndex> {
    devices(tree)
        .filter(|(_, d)| d == device)
        .map(|(leaf, _)| leaf)
        .collect()
}

/// Device queries. Each reads every leaf's credential once: O(n) in the
/// group's size (and linear in a certificate's size for X.509 leaves),
/// with no index to keep in sync, so call them per decision, not per
/// message.
impl Group {
    /// The leaves of `user`'s devices, in leaf order: every device of the
    /// user, named or not ([`DeviceIdentity::user`]). O(n).
    pub fn leaves_of_user(&self, user: &[u8]) -> Vec<LeafIndex> {
        devices(self.state.tree())
            .filter(|(_, d)| d.user() == user)
            .map(|(leaf, _)| leaf)
            .collect()
    }

    /// The leaf of `device`, if it is a member. The default validator lets
    /// no device into a leaf of another; should a laxer one have let two
    /// leaves present the same device, this is the lowest. O(n).
    pub fn leaf_of_device(&self, device: &DeviceIdentity) -> Option<LeafIndex> {
        devices(self.state.tree())
            .find(|(_, d)| d == device)
            .map(|(leaf, _)| leaf)
    }

    /// Whether `device` is a new device of a user already in the group:
    /// some member is another device of its user, none is `device` itself.
    /// Read it from a key package before adding it
    /// ([`DeviceIdentity::of_credential`] of
    /// [`KeyPackage::credential`](crate::KeyPackage::credential)), e.g. to
    /// tell the user's contacts "alice added a device". O(n).
    pub fn is_new_device_of_member(&self, device: &DeviceIdentity) -> bool {
        let mut same_user = false;
        for (_, d) in devices(self.state.tree()) {
            if &d == device {
                return false;
            }
            same_user |= d.user() == device.user();
        }
        same_user
    }
}

impl Client {
    /// A builder for `device`'s client: a basic credential presenting it
    /// ([`DeviceIdentity::credential`]). For an X.509 credential, put
    /// [`DeviceIdentity::uri`] in the certificate's subjectAltName and
    /// pass it with [`ClientBuilder::credential`].
    pub fn builder_for_device(device: &DeviceIdentity) -> ClientBuilder {
        Self::builder(device.identity())
    }

    /// The device this client's credential presents; `None` when it names
    /// none (an X.509 certificate without an `mls-device:` URI, another
    /// type, a malformed identity).
    pub fn device(&self) -> Option<DeviceIdentity> {
        DeviceIdentity::of_credential(self.credential())
            .ok()
            .flatten()
    }
}

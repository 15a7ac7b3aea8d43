//! The options of [`Client`](crate::Client) calls that make a key package,
//! create a group or join one by external commit.

use crate::Result;
use crate::codec::encode;
use crate::group::state::GroupConfig;
use crate::types::extensions::Extension;
#[cfg(doc)]
use crate::{Client, ClientBuilder};

/// Options of a new key package.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyPackageOptions {
    /// How long the key package is valid, from now, in seconds.
    pub lifetime: u64,
    /// Key package extensions.
    pub extensions: Vec<Extension>,
    /// Leaf node extensions.
    pub leaf_extensions: Vec<Extension>,
    /// A "last resort" key package (RFC 9420 §16.8): marked with the
    /// `last_resort_key_package` component of draft-ietf-mls-extensions
    /// (in an `app_data_dictionary` extension, which its leaf then lists
    /// in its capabilities), and its private keys are kept after a join,
    /// so that it can be used more than once.
    pub last_resort: bool,
}

impl Default for KeyPackageOptions {
    /// 90 days, no extensions, single use.
    fn default() -> Self {
        Self {
            lifetime: 90 * 24 * 3600,
            extensions: Vec::new(),
            leaf_extensions: Vec::new(),
            last_resort: false,
        }
    }
}

/// Options of a new group.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GroupOptions {
    /// The group id; random `KDF.Nh` bytes when `None`.
    pub group_id: Option<Vec<u8>>,
    /// Initial group context extensions.
    pub extensions: Vec<Extension>,
    /// Group policy.
    pub config: GroupConfig,
}

/// Options of an external join ([`Client::join_by_external_commit_with`]).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ExternalJoinOptions {
    /// The encoded ratchet tree, when the GroupInfo does not carry it.
    pub ratchet_tree: Option<Vec<u8>>,
    /// Our own old leaf, removed in the same commit: a resync after losing
    /// state (§12.4.3.2). The credential validator must agree it is ours
    /// (by default: the same device). [`Client::rejoin_device`] finds it.
    pub remove_old_leaf: Option<crate::types::math::LeafIndex>,
    /// Ids of external PSKs (registered with [`Client::add_external_psk`](crate::Client::add_external_psk))
    /// to inject as PreSharedKey proposals; every member must know them.
    pub external_psks: Vec<Vec<u8>>,
    /// The commit's authenticated data (sent in the clear, signed).
    pub authenticated_data: Vec<u8>,
    /// The group's configuration.
    pub config: GroupConfig,
    /// Pending SelfRemove proposals of the epoch (MLSMessages, as the
    /// delivery service hands them out with the GroupInfo): the joiner
    /// validates each (signature by a member; the membership tag cannot be
    /// checked) and covers it by reference, as draft-ietf-mls-extensions
    /// requires of joiners of a self-remove-capable group.
    pub self_removes: Vec<Vec<u8>>,
}

impl ExternalJoinOptions {
    /// Adds a pending SelfRemove proposal to [`Self::self_removes`].
    pub fn self_remove(mut self, proposal: Vec<u8>) -> Self {
        self.self_removes.push(proposal);
        self
    }

    /// Sets [`Self::ratchet_tree`].
    pub fn ratchet_tree(mut self, tree: Vec<u8>) -> Self {
        self.ratchet_tree = Some(tree);
        self
    }

    /// Sets [`Self::remove_old_leaf`].
    pub fn remove_old_leaf(mut self, leaf: crate::types::math::LeafIndex) -> Self {
        self.remove_old_leaf = Some(leaf);
        self
    }

    /// Adds an external PSK id to [`Self::external_psks`].
    pub fn external_psk(mut self, psk_id: Vec<u8>) -> Self {
        self.external_psks.push(psk_id);
        self
    }

    /// Sets [`Self::authenticated_data`].
    pub fn authenticated_data(mut self, aad: Vec<u8>) -> Self {
        self.authenticated_data = aad;
        self
    }

    /// Sets [`Self::config`].
    pub fn config(mut self, config: GroupConfig) -> Self {
        self.config = config;
        self
    }
}

impl KeyPackageOptions {
    /// Sets [`Self::lifetime`] (seconds from now).
    pub fn lifetime(mut self, seconds: u64) -> Self {
        self.lifetime = seconds;
        self
    }

    /// Sets [`Self::extensions`].
    pub fn extensions(mut self, extensions: Vec<Extension>) -> Self {
        self.extensions = extensions;
        self
    }

    /// Sets [`Self::leaf_extensions`] (instead of the client's default).
    pub fn leaf_extensions(mut self, extensions: Vec<Extension>) -> Self {
        self.leaf_extensions = extensions;
        self
    }

    /// Sets [`Self::last_resort`].
    pub fn last_resort(mut self, last_resort: bool) -> Self {
        self.last_resort = last_resort;
        self
    }
}

impl GroupOptions {
    /// Sets [`Self::group_id`].
    pub fn group_id(mut self, group_id: Vec<u8>) -> Self {
        self.group_id = Some(group_id);
        self
    }

    /// Sets [`Self::extensions`].
    pub fn extensions(mut self, extensions: Vec<Extension>) -> Self {
        self.extensions = extensions;
        self
    }

    /// Sets [`Self::config`].
    pub fn config(mut self, config: GroupConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds (or replaces) the `required_capabilities` extension (§11.1):
    /// every member, and every key package added later, must support the
    /// listed extension, proposal and credential types. The creator's own
    /// capabilities should include them ([`ClientBuilder::capabilities`](crate::ClientBuilder::capabilities));
    /// creating the group does not check that yet.
    pub fn required_capabilities(
        mut self,
        required: crate::wire::RequiredCapabilities,
    ) -> Result<Self> {
        self.extensions
            .retain(|e| e.extension_type != crate::wire::ExtensionType::REQUIRED_CAPABILITIES);
        self.extensions.push(Extension {
            extension_type: crate::wire::ExtensionType::REQUIRED_CAPABILITIES,
            extension_data: encode(&required)?,
        });
        Ok(self)
    }
}

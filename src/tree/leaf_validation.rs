//! LeafNode validation (§7.3) for the checks that concern one leaf on its
//! own. Checks across the whole tree (uniqueness of keys, credential types
//! every member supports) live with the tree.

use crate::crypto::{HpkePublicKey, Suite};
use crate::tree::leaf_node::{LeafNode, LeafNodeSource};
use crate::types::extensions::RequiredCapabilities;
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// Where a leaf node was found; this fixes which source it must have and
/// what its signature covers (§7.3).
#[derive(Debug, Clone, Copy)]
pub enum LeafRole<'a> {
    /// Inside a KeyPackage: source `key_package`.
    KeyPackage,
    /// In an Update proposal from `leaf`: source `update`, and a new
    /// encryption key (`replaced` is the key of the leaf being replaced).
    Update {
        /// The group id.
        group_id: &'a [u8],
        /// The sender's leaf.
        leaf: LeafIndex,
        /// The encryption key of the leaf the update replaces.
        replaced: &'a HpkePublicKey,
    },
    /// In a Commit's UpdatePath from `leaf`: source `commit`.
    Commit {
        /// The group id.
        group_id: &'a [u8],
        /// The committer's leaf.
        leaf: LeafIndex,
    },
    /// At `leaf` of a ratchet tree being imported: any source.
    InTree {
        /// The group id.
        group_id: &'a [u8],
        /// The leaf's index.
        leaf: LeafIndex,
    },
}

impl LeafRole<'_> {
    fn leaf(&self) -> Option<LeafIndex> {
        match *self {
            Self::KeyPackage => None,
            Self::Update { leaf, .. } | Self::Commit { leaf, .. } | Self::InTree { leaf, .. } => {
                Some(leaf)
            }
        }
    }

    fn describe(&self) -> String {
        match self.leaf() {
            Some(l) => format!("leaf {}", l.0),
            None => "key package leaf".into(),
        }
    }
}

/// Time-related policy for leaf validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimePolicy {
    /// Current time in seconds since the Unix epoch, from the caller's clock.
    /// `None` skips the lifetime window check; see
    /// [`LifetimePolicy::dangerous_unchecked`].
    pub now: Option<u64>,
    /// Longest acceptable `not_after - not_before` (§7.2: "Applications MUST
    /// define a maximum total lifetime").
    pub max_lifetime: u64,
}

impl LifetimePolicy {
    /// Default maximum total lifetime: 366 days.
    pub const DEFAULT_MAX_LIFETIME: u64 = 366 * 24 * 3600;

    /// Checks lifetimes against `now` with the default maximum.
    pub fn at(now: u64) -> Self {
        Self {
            now: Some(now),
            max_lifetime: Self::DEFAULT_MAX_LIFETIME,
        }
    }

    /// Skips the `not_before <= now <= not_after` check. Only for replaying
    /// old transcripts whose time is unknown.
    pub fn dangerous_unchecked() -> Self {
        Self {
            now: None,
            max_lifetime: Self::DEFAULT_MAX_LIFETIME,
        }
    }
}

/// Validates one leaf node (§7.3): source, signature, required
/// capabilities, lifetime, extension support and credential support.
pub fn validate_leaf_node(
    suite: &Suite,
    leaf: &LeafNode,
    role: LeafRole<'_>,
    required: Option<&RequiredCapabilities>,
    lifetime: LifetimePolicy,
) -> Result<()> {
    let who = role.describe();
    let violation = |detail: String| Error::protocol("§7.3", format!("{who}: {detail}"));

    // §7.3: the leaf_node_source must match where the leaf appears.
    let source_ok = matches!(
        (&role, &leaf.leaf_node_source),
        (LeafRole::KeyPackage, LeafNodeSource::KeyPackage(_))
            | (LeafRole::Update { .. }, LeafNodeSource::Update)
            | (LeafRole::Commit { .. }, LeafNodeSource::Commit(_))
            | (LeafRole::InTree { .. }, _)
    );
    if !source_ok {
        return Err(violation(format!(
            "leaf_node_source {} is not allowed here",
            leaf.leaf_node_source.code()
        )));
    }
    // §7.3: an Update must bring a new encryption key.
    if let LeafRole::Update { replaced, .. } = role
        && *replaced == leaf.encryption_key
    {
        return Err(violation(
            "Update reuses the encryption key of the leaf it replaces".into(),
        ));
    }

    let group = match role {
        LeafRole::KeyPackage => None,
        LeafRole::Update { group_id, leaf, .. }
        | LeafRole::Commit { group_id, leaf }
        | LeafRole::InTree { group_id, leaf } => Some((group_id, leaf)),
    };
    leaf.verify_signature(suite, group)?;

    // §7.3 with §11.1: required capabilities must be listed (default
    // extension and proposal types are implied, credential types are not).
    if let Some(req) = required {
        let caps = &leaf.capabilities;
        if let Some(t) = req
            .extension_types
            .iter()
            .find(|t| !caps.supports_extension(**t))
        {
            return Err(violation(format!(
                "does not support required extension {t:?}"
            )));
        }
        if let Some(t) = req
            .proposal_types
            .iter()
            .find(|t| !caps.supports_proposal(**t))
        {
            return Err(violation(format!(
                "does not support required proposal {t:?}"
            )));
        }
        if let Some(t) = req
            .credential_types
            .iter()
            .find(|t| !caps.credentials.contains(t))
        {
            return Err(violation(format!(
                "does not support required credential {t:?}"
            )));
        }
    }

    if let LeafNodeSource::KeyPackage(lt) = &leaf.leaf_node_source {
        // §7.2: reject lifetimes longer than the application's maximum.
        let span = lt.not_after.saturating_sub(lt.not_before);
        if lt.not_after < lt.not_before || span > lifetime.max_lifetime {
            return Err(violation(format!(
                "lifetime {}..{} is longer than the maximum of {} s",
                lt.not_before, lt.not_after, lifetime.max_lifetime
            )));
        }
        // §7.3: the current time must be within the lifetime.
        if let Some(now) = lifetime.now
            && (now < lt.not_before || now > lt.not_after)
        {
            return Err(Error::Expired {
                subject: who.clone(),
                leaf: role.leaf(),
                not_before: lt.not_before,
                not_after: lt.not_after,
                now,
            });
        }
    }

    // §7.2/§7.3: every non-default extension in the leaf must be listed in
    // its capabilities.
    if let Some(e) = leaf
        .extensions
        .iter()
        .find(|e| !leaf.capabilities.supports_extension(e.extension_type))
    {
        return Err(violation(format!(
            "carries extension {:?} its capabilities do not list",
            e.extension_type
        )));
    }
    crate::types::extensions::check_unique_types(&leaf.extensions, &who)?;
    // §7.2: the credential type in use must be listed.
    let ct = leaf.credential.credential_type();
    if !leaf.capabilities.credentials.contains(&ct) {
        return Err(violation(format!(
            "uses credential type {ct:?} its capabilities do not list"
        )));
    }
    // draft-ietf-mls-extensions, Verifying a Multi-Credential: the bindings
    // must be valid in the context of this leaf.
    crate::tree::multi_credential_rules::verify_leaf_bindings(suite, leaf, &who)
}

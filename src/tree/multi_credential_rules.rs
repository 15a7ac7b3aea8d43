//! Verifying multi-credentials (draft-ietf-mls-extensions, "Verifying a
//! Multi-Credential"): the bindings of one leaf against its signature key,
//! and the support every member must have for them.
//!
//! A binding is "supported" by a member when its capabilities list the
//! binding's cipher suite and credential type. A binding is "supported by
//! this client" when this client's provider has the binding's suite (it
//! can then verify it); whether its credential is valid for the
//! application is the credential validator's decision, which sees every
//! bound credential.

use crate::crypto::credential::CredentialType;
use crate::crypto::multi_credential::{CredentialBinding, MULTI_CREDENTIAL_RULE, is_multi};
use crate::crypto::{CipherSuite, Suite};
use crate::tree::leaf_node::{Capabilities, LeafNode};
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::LeafIndex;
use crate::{Error, Result};

fn rule(detail: String) -> Error {
    Error::protocol(MULTI_CREDENTIAL_RULE, detail)
}

/// The bindings of `leaf`'s credential if it is a multi-credential
/// (`None` otherwise); a body that does not decode, is empty, holds more
/// than [`crate::crypto::multi_credential::MAX_BINDINGS`] bindings or a
/// nested multi-credential is refused.
pub fn leaf_bindings(leaf: &LeafNode, who: &str) -> Result<Option<Vec<CredentialBinding>>> {
    match leaf.credential.bindings() {
        None => Ok(None),
        Some(Ok(b)) => Ok(Some(b)),
        Some(Err(e)) => Err(rule(format!("{who}: malformed multi-credential: {e}"))),
    }
}

/// The checks on one leaf alone: each binding this client supports must
/// be "valid in the context of the LeafNode" (its signature, by
/// `credential_key`, covers the leaf's `signature_key`). A `multi`
/// credential must have every binding supported by every member, this
/// client included, so a binding in a suite this client lacks is refused;
/// a `weak-multi` one skips such bindings.
pub fn verify_leaf_bindings(suite: &Suite, leaf: &LeafNode, who: &str) -> Result<()> {
    let Some(bindings) = leaf_bindings(leaf, who)? else {
        return Ok(());
    };
    let multi = leaf.credential.credential_type() == CredentialType::MULTI;
    for (i, b) in bindings.iter().enumerate() {
        match suite.other_suite(b.cipher_suite) {
            Some(binding_suite) => {
                b.verify(&binding_suite, &leaf.signature_key).map_err(|_| {
                    rule(format!(
                        "{who}: credential binding {i} does not verify for the leaf's signature key"
                    ))
                })?;
            }
            None if multi => {
                return Err(rule(format!(
                    "{who}: credential binding {i} is in cipher suite {:?}, which this client \
                     does not support (a multi credential needs every binding supported by \
                     every member)",
                    b.cipher_suite
                )));
            }
            None => {}
        }
    }
    Ok(())
}

/// What the multi-credentials of a set of leaves ask of every member.
#[derive(Default)]
struct Demands {
    /// Credential types listed by every member: `multi`, `weak-multi`,
    /// and the types of `multi` bindings.
    types: Vec<CredentialType>,
    /// Suites of `multi` bindings.
    suites: Vec<CipherSuite>,
    /// For each distinct `weak-multi` credential, its bindings' (suite,
    /// type) pairs: every member supports one of them.
    weak: Vec<Vec<(CipherSuite, CredentialType)>>,
}

impl Demands {
    fn add(&mut self, leaf: &LeafNode, who: &str) -> Result<()> {
        let Some(bindings) = leaf_bindings(leaf, who)? else {
            return Ok(());
        };
        let t = leaf.credential.credential_type();
        push_unique(&mut self.types, t);
        if t == CredentialType::MULTI {
            for b in &bindings {
                push_unique(&mut self.suites, b.cipher_suite);
                push_unique(&mut self.types, b.credential.credential_type());
            }
        } else {
            let mut pairs: Vec<_> = bindings
                .iter()
                .map(|b| (b.cipher_suite, b.credential.credential_type()))
                .collect();
            pairs.sort_by_key(|(s, t)| (s.0, t.0));
            pairs.dedup();
            if !self.weak.contains(&pairs) {
                self.weak.push(pairs);
            }
        }
        Ok(())
    }

    fn check(&self, caps: &Capabilities, who: &str) -> Result<()> {
        if let Some(t) = self.types.iter().find(|t| !caps.credentials.contains(t)) {
            return Err(rule(format!(
                "{who} does not support credential type {t:?}, which a multi-credential of \
                 the group needs"
            )));
        }
        if let Some(s) = self.suites.iter().find(|s| !caps.cipher_suites.contains(s)) {
            return Err(rule(format!(
                "{who} does not support cipher suite {s:?} of a binding of a multi credential"
            )));
        }
        for pairs in &self.weak {
            let any = pairs
                .iter()
                .any(|(s, t)| caps.cipher_suites.contains(s) && caps.credentials.contains(t));
            if !any {
                return Err(rule(format!(
                    "{who} supports no binding of a weak-multi credential of the group"
                )));
            }
        }
        Ok(())
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

impl RatchetTree {
    /// The membership rules of multi-credentials over the whole tree: for
    /// a `multi` credential, every member supports `multi` and each
    /// binding's suite and credential type; for a `weak-multi` one, every
    /// member supports `weak-multi` and at least one of its bindings.
    /// Linear in the members when no leaf has a multi-credential; otherwise
    /// O(members x distinct weak-multi credentials x bindings).
    pub fn check_multi_credentials(&self) -> Result<()> {
        let mut demands = Demands::default();
        for (leaf, node) in self.members() {
            if is_multi(node.credential.credential_type()) {
                demands.add(node, &format!("leaf {}", leaf.0))?;
            }
        }
        if demands.types.is_empty() {
            return Ok(());
        }
        for (leaf, node) in self.members() {
            demands.check(&node.capabilities, &format!("leaf {}", leaf.0))?;
        }
        Ok(())
    }

    /// [`Self::check_multi_credentials`] for one new leaf (an Add's or an
    /// Update's) against the current members: what its own credential asks
    /// of them, and what theirs ask of it. `replacing` is the leaf an
    /// Update replaces, which then asks nothing.
    pub fn check_new_multi_credential(
        &self,
        new: &LeafNode,
        replacing: Option<LeafIndex>,
        who: &str,
    ) -> Result<()> {
        let others = || self.members().filter(move |(l, _)| Some(*l) != replacing);
        let mut demands = Demands::default();
        demands.add(new, who)?;
        if !demands.types.is_empty() {
            for (leaf, node) in others() {
                demands.check(&node.capabilities, &format!("leaf {}", leaf.0))?;
            }
            demands.check(&new.capabilities, who)?;
        }
        let mut theirs = Demands::default();
        for (leaf, node) in others() {
            if is_multi(node.credential.credential_type()) {
                theirs.add(node, &format!("leaf {}", leaf.0))?;
            }
        }
        theirs.check(&new.capabilities, who)
    }
}

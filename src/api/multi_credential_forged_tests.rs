//! Forged credential bindings (draft-ietf-mls-extensions,
//! Multi-Credentials: "The `signature` field is valid with respect to the
//! `signature_key` value in the leaf node") arriving by the three routes
//! that carry a leaf without an Add: a commit's UpdatePath leaf, the
//! ratchet tree of a Welcome, and an external commit. Each forgery is
//! refused, the group or the joiner unchanged.

use super::app_data_tests::{group_of, snapshot};
use super::multi_credential_tests::{binding_for, key_pair, member, pair, presenting};
use super::*;
use crate::Error;
use crate::crypto::CipherSuite;
use crate::crypto::SignaturePublicKey;
use crate::crypto::credential::{Credential, CredentialType};
use crate::crypto::multi_credential::{CredentialBinding, MULTI_CREDENTIAL_RULE};
use crate::group::commit_create::CommitParams;
use crate::group::psk_store::{NoPsks, PskUse};
use crate::tree::treekem::LeafContent;
use crate::types::math::LeafIndex;

const S1: CipherSuite = CipherSuite(1);
const S2: CipherSuite = CipherSuite(2);

/// Three forgeries of a binding over `leaf`, each with the detail its
/// refusal names: signed by a key other than its `credential_key`, its
/// `cipher_suite` changed after signing, and a genuine binding of one
/// credential presented for another.
fn forgeries(leaf: &SignaturePublicKey, seed: u8) -> Vec<(&'static str, CredentialBinding)> {
    let mut other_key = binding_for(S1, "mallory@corp", seed, leaf);
    other_key.signature = binding_for(S1, "mallory@corp", seed.wrapping_add(1), leaf).signature;
    let mut other_suite = binding_for(S1, "mallory@corp", seed.wrapping_add(2), leaf);
    other_suite.cipher_suite = S2;
    let mut other_credential = binding_for(S1, "alice@corp", seed.wrapping_add(3), leaf);
    other_credential.credential = Credential::basic("mallory@corp");
    vec![
        ("signed by another key", other_key),
        ("another cipher suite", other_suite),
        ("another credential", other_credential),
    ]
}

fn assert_binding_refused(what: &str, result: Result<impl std::fmt::Debug, Error>) {
    match result {
        Err(Error::Protocol { rule, detail }) => {
            assert_eq!(rule, MULTI_CREDENTIAL_RULE, "{what}: {detail}");
        }
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

/// Accepts every credential and every change of credential, so that the
/// only check left to refuse a forged binding is the library's own.
struct AcceptAll;

impl CredentialValidator for AcceptAll {
    fn validate(
        &self,
        _cx: &ValidationContext<'_>,
        _credential: &Credential,
        _signature_key: &SignaturePublicKey,
    ) -> Result<(), Rejection> {
        Ok(())
    }

    fn validate_successor(
        &self,
        _cx: &ValidationContext<'_>,
        _old: &Credential,
        _new: &Credential,
    ) -> Result<(), Rejection> {
        Ok(())
    }
}

/// Alice presents a genuine `multi` credential (one S1 binding); Bob is a
/// basic member supporting `multi` and S2.
fn multi_pair() -> Vec<Group> {
    let (private, public) = key_pair(S1, 191);
    let mut alice = Client::builder("alice")
        .clock(std::sync::Arc::new(FixedClock(
            crate::test_support::clients::NOW,
        )))
        .random(Box::new(crate::crypto::SeededRandom::from_seed([192; 32])))
        .credential_validator(std::sync::Arc::new(AcceptAll))
        .multi_credential(
            false,
            vec![BoundCredential {
                cipher_suite: S1,
                credential: Credential::basic("alice@corp"),
                public,
                private,
            }],
        )
        .build()
        .unwrap();
    let mut bob = Client::builder("bob")
        .clock(std::sync::Arc::new(FixedClock(
            crate::test_support::clients::NOW,
        )))
        .random(Box::new(crate::crypto::SeededRandom::from_seed([193; 32])))
        .credential_validator(std::sync::Arc::new(AcceptAll))
        .capabilities({
            let mut c = crate::tree::leaf_node::Capabilities::for_suite(S1);
            c.cipher_suites.push(S2);
            c.credentials.push(CredentialType::MULTI);
            c
        })
        .build()
        .unwrap();
    group_of(&mut alice, &mut [&mut bob], GroupOptions::default())
}

#[test]
fn a_forged_binding_in_a_commits_path_leaf_is_refused() {
    let mut g = multi_pair();
    let own = g[0].state.tree().leaf(LeafIndex(0)).unwrap().clone();
    assert_eq!(own.credential.credential_type(), CredentialType::MULTI);
    for (what, forged) in forgeries(&own.signature_key, 190) {
        let b = &mut g[0];
        let params = CommitParams {
            by_value: vec![],
            by_reference: vec![],
            force_path: true,
            wire_format: crate::framing::WireFormat::PUBLIC_MESSAGE,
            ratchet_tree_in_welcome: true,
            authenticated_data: vec![],
            signer: &b.signer,
            leaf: Some(LeafContent {
                signature_key: own.signature_key.clone(),
                credential: Credential::multi(&[forged]).unwrap(),
                capabilities: own.capabilities.clone(),
                extensions: own.extensions.clone(),
            }),
            psks: &NoPsks,
            now: crate::test_support::clients::NOW,
            dangerous_skip_validation: false,
            extra_psks: vec![],
            psk_use: PskUse::Normal,
            group_info_extensions: vec![],
        };
        // The engine signs what its caller hands it; the receiver checks.
        let created = b.state.create_commit(params, &mut *b.rng).unwrap();
        let before = snapshot(&g[1]);
        assert_binding_refused(what, g[1].process(&created.message));
        assert_eq!(snapshot(&g[1]), before, "{what}");
    }
    // The group still works, Alice's genuine leaf included.
    let out = g[0].update().unwrap();
    g[0].process(&out.commit).unwrap();
    match g[1].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => g[1].merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(g[0].epoch_authenticator(), g[1].epoch_authenticator());
}

#[test]
fn a_forged_binding_in_a_welcomes_tree_is_refused_by_the_joiner() {
    for (i, seed) in [(0usize, 200u8), (1, 204), (2, 208)] {
        let mut alice = member("alice", seed, &[S2], &[CredentialType::MULTI]);
        let mut bob = member("bob", seed + 1, &[S2], &[CredentialType::MULTI]);
        let mut g = alice.create_group(GroupOptions::default()).unwrap();
        // A hostile committer: Alice's own leaf in the tree she sends
        // carries a forged binding, the leaf itself validly signed.
        let mut leaf = g.state.tree().leaf(LeafIndex(0)).unwrap().clone();
        let (what, forged) = forgeries(&leaf.signature_key, seed + 2).remove(i);
        leaf.credential = Credential::multi(&[forged]).unwrap();
        leaf.sign(&g.state.suite, &g.signer, None).unwrap();
        g.state.epoch.tree.update_leaf(LeafIndex(0), leaf).unwrap();

        let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
        let out = g.add(&[&kp]).unwrap();
        assert_binding_refused(what, bob.join(&out.welcome.unwrap(), None));
        // Nothing consumed: the key package opens a later Welcome.
        assert_eq!(bob.key_package_count(), 1, "{what}");
    }
    // The same Welcome without the forgery is accepted (the refusal above
    // is the binding's, not the test's construction).
    let mut alice = member("alice", 212, &[S2], &[CredentialType::MULTI]);
    let mut bob = member("bob", 213, &[S2], &[CredentialType::MULTI]);
    let g = group_of(&mut alice, &mut [&mut bob], GroupOptions::default());
    assert_eq!(g[0].epoch(), g[1].epoch());
}

#[test]
fn a_forged_binding_in_an_external_commit_is_refused() {
    let mut g = pair();
    let info = g[0].group_info(true).unwrap();
    let (_, leaf) = key_pair(S1, 220);
    for (what, forged) in forgeries(&leaf, 221) {
        let mut mallory = presenting(Credential::multi(&[forged]).unwrap(), 220);
        // Our own joiner does not check its own bindings; every member
        // refuses the commit.
        let (_, commit) = mallory.join_by_external_commit(&info, None, None).unwrap();
        for m in g.iter_mut() {
            let before = snapshot(m);
            assert_binding_refused(what, m.process(&commit));
            assert_eq!(snapshot(m), before, "{what}");
        }
    }
}

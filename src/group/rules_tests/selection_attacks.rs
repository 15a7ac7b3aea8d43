//! Proposals that pass admission must never make a committer's commit
//! invalid: what the committer cannot cover is left out and reported
//! (§12.2, §12.4.2, §7.3). Each test caches what an outsider or a member
//! can get admitted, then every member commits in turn.

use super::*;
use crate::group::psk_store::{ExternalPsks, PskStore};
use crate::messages::key_package::KeyPackageData;
use proptest::prelude::*;

/// A key package of `who` whose leaf uses `encryption_key` (re-signed, so
/// it is valid on its own).
fn key_package_with_encryption_key(
    who: &EngineMember,
    encryption_key: &crate::crypto::HpkePublicKey,
    seed: u8,
) -> KeyPackageData {
    let (mut kp, _) = who.key_package(&mut rng(seed));
    kp.leaf_node.encryption_key = encryption_key.clone();
    kp.leaf_node.sign(&who.suite, &who.signer, None).unwrap();
    kp.signature = who
        .suite
        .sign_with_label(
            &who.signer,
            crate::messages::key_package::KEY_PACKAGE_LABEL,
            &kp.to_be_signed().unwrap(),
        )
        .unwrap();
    kp
}

/// `who`'s new-member proposal adding `kp`, cached by every member.
fn new_member_add(groups: &mut [GroupState], who: &EngineMember, kp: KeyPackageData) -> Vec<u8> {
    let message = frame_public(
        &groups[0],
        &who.signer,
        Sender::NewMemberProposal,
        groups[0].epoch(),
        Content::Proposal(Box::new(add(kp))),
    );
    cache_everywhere(groups, &message)
}

/// Every member in turn selects from its cache and commits; everyone else
/// processes and merges. Returns the left-out reasons of the first commit.
fn everyone_commits(
    clients: &[EngineMember],
    groups: &mut [GroupState],
    psks: &dyn PskStore,
    round: u8,
) -> Vec<String> {
    let mut first = None;
    for committer in 0..groups.len() {
        if groups[committer].is_removed() {
            continue;
        }
        let selection = groups[committer].select_proposals(&[], psks, NOW);
        let mut params = clients[committer].params(vec![]);
        params.by_reference = selection.references.clone();
        params.psks = psks;
        let created = groups[committer]
            .create_commit(
                params,
                &mut rng(round.wrapping_mul(8).wrapping_add(committer as u8)),
            )
            .unwrap_or_else(|e| panic!("member {committer} cannot commit: {e}"));
        for (i, g) in groups.iter_mut().enumerate() {
            if i == committer || g.is_removed() {
                continue;
            }
            match g.process(&created.message, psks, NOW) {
                Ok(Received::Commit(staged)) => g.merge(*staged).unwrap(),
                other => panic!("member {i} refuses member {committer}'s commit: {other:?}"),
            }
        }
        groups[committer].merge(created.staged).unwrap();
        first.get_or_insert(selection.left_out.into_iter().map(|l| l.reason).collect());
    }
    first.unwrap_or_default()
}

#[test]
fn two_adds_with_one_encryption_key_do_not_block_commits_7_3() {
    let (clients, mut groups) = group_of(3);
    let erin = EngineMember::new("erin", 50);
    let frank = EngineMember::new("frank", 51);
    let (erin_kp, _) = erin.key_package(&mut rng(1));
    let frank_kp = key_package_with_encryption_key(&frank, &erin_kp.leaf_node.encryption_key, 2);
    new_member_add(&mut groups, &erin, erin_kp);
    new_member_add(&mut groups, &frank, frank_kp);
    let left_out = everyone_commits(&clients, &mut groups, &NoPsks, 1);
    assert_eq!(left_out.len(), 1, "{left_out:?}");
    assert!(left_out[0].contains("§7.3"), "{left_out:?}");
    assert_eq!(groups[0].tree().member_count(), 4);
}

#[test]
fn an_add_reusing_a_members_encryption_key_does_not_block_commits_7_3() {
    let (clients, mut groups) = group_of(3);
    let erin = EngineMember::new("erin", 50);
    let taken = groups[0]
        .tree()
        .leaf(LeafIndex(1))
        .unwrap()
        .encryption_key
        .clone();
    let kp = key_package_with_encryption_key(&erin, &taken, 3);
    new_member_add(&mut groups, &erin, kp);
    let left_out = everyone_commits(&clients, &mut groups, &NoPsks, 1);
    assert_eq!(left_out.len(), 1, "{left_out:?}");
    assert!(left_out[0].contains("§7.3"), "{left_out:?}");
    assert_eq!(groups[0].tree().member_count(), 3);
}

#[test]
fn a_psk_nobody_holds_does_not_block_commits_12_4_2() {
    let (clients, mut groups) = group_of(3);
    let unknown = psk_id(&groups[0].suite, b"nobody has this", 1);
    let proposal = Proposal::PreSharedKey(PreSharedKey { psk: unknown });
    let message = propose(&groups[1], &clients[1].signer, proposal);
    cache_everywhere(&mut groups, &message);
    let left_out = everyone_commits(&clients, &mut groups, &NoPsks, 1);
    assert_eq!(left_out.len(), 1, "{left_out:?}");
    assert!(left_out[0].contains("§12.4.2"), "{left_out:?}");
    // A PSK the members hold is covered.
    let held = psk_id(&groups[0].suite, b"held", 2);
    let store = ExternalPsks(std::collections::HashMap::from([(
        b"held".to_vec(),
        crate::crypto::Secret::new(vec![7; 32]),
    )]));
    let message = propose(
        &groups[1],
        &clients[1].signer,
        Proposal::PreSharedKey(PreSharedKey { psk: held }),
    );
    cache_everywhere_with(&mut groups, &message, &store);
    let left_out = everyone_commits(&clients, &mut groups, &store, 2);
    assert!(left_out.is_empty(), "{left_out:?}");
}

/// Caches `message` at every member, resolving PSKs from `psks`.
fn cache_everywhere_with(groups: &mut [GroupState], message: &[u8], psks: &dyn PskStore) {
    for g in groups.iter_mut() {
        assert!(matches!(
            g.process(message, psks, NOW).unwrap(),
            Received::Proposal(_)
        ));
    }
}

/// Randomness for an outsider's key package, from a stream no member's
/// commit or Update draws from (those use `rng(n)`, a constant seed): with
/// a shared stream, an outsider's encryption key could be a key a
/// member's path later derives, and a valid commit would be refused as
/// reusing it.
fn outsider_rng(seed: u8) -> crate::crypto::SeededRandom {
    let mut bytes = [seed; 32];
    bytes[0] = !seed;
    crate::crypto::SeededRandom::from_seed(bytes)
}

/// A new leaf for `client`'s Update in `g`, and its private key.
fn update_leaf(
    g: &GroupState,
    client: &EngineMember,
    seed: u8,
) -> (
    crate::crypto::HpkePrivateKey,
    crate::tree::leaf_node::LeafNode,
) {
    let own = g.own_leaf();
    let mut leaf = g.tree().leaf(own).unwrap().clone();
    let (sk, pk) = generate_hpke_key_pair(&g.suite, &mut rng(seed)).unwrap();
    leaf.encryption_key = pk;
    leaf.leaf_node_source = LeafNodeSource::Update;
    leaf.sign(&g.suite, &client.signer, Some((&g.context().group_id, own)))
        .unwrap();
    (sk, leaf)
}

/// What an admitted proposal can be, as the property test draws them.
#[derive(Debug, Clone)]
enum Admitted {
    /// A new member's Add, sometimes reusing the encryption key of another
    /// drawn Add or of a member.
    NewMember { seed: u8, reuse_key_of: Option<u8> },
    /// A member's Remove of a leaf.
    Remove { from: usize, leaf: u32 },
    /// A member's Update.
    Update { from: usize },
    /// A member's PreSharedKey proposal, for a PSK held or not.
    Psk { from: usize, held: bool, nonce: u8 },
    /// A member's empty GroupContextExtensions.
    Extensions { from: usize },
}

fn admitted() -> impl Strategy<Value = Admitted> {
    prop_oneof![
        (any::<u8>(), proptest::option::of(0u8..4))
            .prop_map(|(seed, reuse_key_of)| Admitted::NewMember { seed, reuse_key_of }),
        (0usize..3, 0u32..4).prop_map(|(from, leaf)| Admitted::Remove { from, leaf }),
        (0usize..3).prop_map(|from| Admitted::Update { from }),
        (0usize..3, any::<bool>(), any::<u8>()).prop_map(|(from, held, nonce)| Admitted::Psk {
            from,
            held,
            nonce
        }),
        (0usize..3).prop_map(|from| Admitted::Extensions { from }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Whatever proposals members and outsiders get admitted, every member
    /// can commit, and every other member accepts the commit.
    #[test]
    fn every_member_can_commit_whatever_was_admitted(draws in proptest::collection::vec(admitted(), 1..8)) {
        let (clients, mut groups) = group_of(3);
        let store = ExternalPsks(std::collections::HashMap::from([(b"held".to_vec(), crate::crypto::Secret::new(vec![7; 32]))]));
        let mut outsider_keys: Vec<crate::crypto::HpkePublicKey> = Vec::new();
        for (i, draw) in draws.into_iter().enumerate() {
            let sender = match &draw {
                Admitted::NewMember { .. } => None,
                Admitted::Remove { from, .. }
                | Admitted::Update { from }
                | Admitted::Psk { from, .. }
                | Admitted::Extensions { from } => Some(*from),
            };
            let message = match draw {
                Admitted::NewMember { seed, reuse_key_of } => {
                    let who = EngineMember::new("outsider", seed.wrapping_add(100));
                    let (mut kp, _) = who.key_package(&mut outsider_rng(seed));
                    let reused = reuse_key_of.and_then(|k| {
                        outsider_keys.get(k as usize).cloned().or_else(|| {
                            groups[0].tree().leaf(LeafIndex(u32::from(k))).map(|l| l.encryption_key.clone())
                        })
                    });
                    if let Some(key) = reused {
                        kp = key_package_with_encryption_key(&who, &key, seed);
                    }
                    outsider_keys.push(kp.leaf_node.encryption_key.clone());
                    frame_public(&groups[0], &who.signer, Sender::NewMemberProposal, groups[0].epoch(), Content::Proposal(Box::new(add(kp))))
                }
                Admitted::Remove { from, leaf } => propose(&groups[from], &clients[from].signer, remove(leaf)),
                Admitted::Update { from } => {
                    let (sk, leaf) = update_leaf(&groups[from], &clients[from], i as u8);
                    let (message, reference) = groups[from]
                        .send_proposal(Proposal::Update(Update { leaf_node: leaf }), &[], &clients[from].signer, &mut rng(i as u8))
                        .unwrap();
                    groups[from].remember_own_update(reference, sk);
                    message
                }
                Admitted::Psk { from, held, nonce } => {
                    let id: &[u8] = if held { b"held" } else { b"missing" };
                    let psk = psk_id(&groups[from].suite, id, nonce);
                    propose(&groups[from], &clients[from].signer, Proposal::PreSharedKey(PreSharedKey { psk }))
                }
                Admitted::Extensions { from } => propose(
                    &groups[from],
                    &clients[from].signer,
                    Proposal::GroupContextExtensions(GroupContextExtensions { extensions: vec![] }),
                ),
            };
            // Admission decides what is cached: the members other than the
            // sender (whose own copy may come back as an echo) admit or
            // refuse alike.
            let outcomes: Vec<bool> = groups
                .iter_mut()
                .enumerate()
                .map(|(k, g)| (k, g.process(&message, &store, NOW).is_ok()))
                .filter(|(k, _)| Some(*k) != sender)
                .map(|(_, ok)| ok)
                .collect();
            prop_assert!(outcomes.iter().all(|o| *o == outcomes[0]), "members disagree on admission");
        }
        everyone_commits(&clients, &mut groups, &store, 1);
        let active: Vec<&GroupState> = groups.iter().filter(|g| !g.is_removed()).collect();
        for g in &active[1..] {
            prop_assert_eq!(g.epoch_authenticator(), active[0].epoch_authenticator());
        }
    }
}

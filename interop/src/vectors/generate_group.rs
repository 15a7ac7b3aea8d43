//! The generated files that need a tree or a group: `treekem.json` (a tree
//! of seven members in eight leaves, one earlier commit, and three
//! UpdatePaths from different senders) and
//! `passive-client-handling-commit.json` (a Welcome, then five commits of
//! different kinds that a passive member follows). Same conventions as
//! [`super::generate`]: one entry per suite, every value from the suite's
//! seeded stream, so the output is deterministic.

use std::collections::BTreeMap;

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::{HpkePrivateKey, Secret, SeededRandom, SignaturePrivateKey, Suite};
use arbor_mls::framing::{MlsMessage, MlsMessageBody, WireFormat};
use arbor_mls::group::commit_create::CommitParams;
use arbor_mls::group::engine::Received;
use arbor_mls::group::join::JoinInputs;
use arbor_mls::group::psk_store::{ExternalPsks, PskUse};
use arbor_mls::group::state::{GroupConfig, GroupState};
use arbor_mls::messages::key_package::{KeyPackageData, KeyPackageParams, KeyPackagePrivate};
use arbor_mls::messages::proposals::{Add, PreSharedKey, Proposal, Remove};
use arbor_mls::schedule::{GroupContext, PreSharedKeyId, Psk};
use arbor_mls::test_support::FIXTURE_LIFETIME;
use arbor_mls::tree::leaf_node::{Capabilities, LeafNode, LeafNodeSource, Lifetime};
use arbor_mls::tree::private::{TreePrivate, generate_hpke_key_pair};
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::tree::treekem::{LeafContent, NewLeaf, PathContext, generate_update_path};
use arbor_mls::types::ProtocolVersion;
use arbor_mls::types::math::{LeafCount, LeafIndex, NodeIndex};
use serde_json::{Value, json};

use super::generate::{Gen, bytes, err, u32_from};
use super::passive_client::COMMIT_CLOCK;

/// Leaves of the treekem tree; leaf [`BLANK_LEAF`] is empty.
const TREE_LEAVES: u32 = 8;
const BLANK_LEAF: u32 = 5;
/// The member whose earlier commit set the parent nodes.
const EARLIER_COMMITTER: u32 = 7;
/// The senders of the UpdatePaths of the entry.
const SENDERS: [u32; 3] = [0, 3, 6];

/// Whether leaf `leaf` lies under node `x` (RFC 9420 Appendix C: the
/// subtree of a node of level k spans 2^(k+1) - 1 node indices around it).
fn covers(x: NodeIndex, leaf: u32) -> bool {
    let half = (1u64 << x.0.trailing_ones()) - 1;
    let node = 2 * u64::from(leaf);
    u64::from(x.0) - half <= node && node <= u64::from(x.0) + half
}

/// The path secret a member at `leaf` learns from a path whose secrets are
/// `path_secrets` (bottom up): the one of the lowest node above it (§7.5).
fn secret_for(path_secrets: &[(NodeIndex, Secret)], leaf: u32) -> Option<&Secret> {
    path_secrets
        .iter()
        .find(|(x, _)| covers(*x, leaf))
        .map(|(_, s)| s)
}

/// `treekem.json`: the tree after an earlier commit of leaf 7, every
/// member's private state, and three UpdatePaths from leaves 0, 3 and 6,
/// each made against that tree, with the path secret every other member
/// must decrypt, the commit secret and the tree hash after merging.
pub(super) fn treekem(suite: &Suite, rng: &mut SeededRandom) -> Gen {
    let nh = suite.hash_len();
    let group_id = bytes(rng, 16)?;
    let epoch = u64::from(u32_from(rng)?);
    let confirmed_transcript_hash = bytes(rng, nh)?;
    let context_for = |tree_hash: &[u8]| {
        Ok(encode(&GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite.id(),
            group_id: group_id.clone(),
            epoch,
            tree_hash: tree_hash.to_vec(),
            confirmed_transcript_hash: confirmed_transcript_hash.clone(),
            extensions: Vec::new(),
        })?)
    };
    let ctx = PathContext {
        group_id: &group_id,
        joiners: &[],
        external: false,
    };

    let count = LeafCount::new(TREE_LEAVES).ok_or("leaf count")?;
    let mut tree = RatchetTree::blank(count);
    let mut signers: BTreeMap<u32, SignaturePrivateKey> = BTreeMap::new();
    let mut leaf_keys: BTreeMap<u32, HpkePrivateKey> = BTreeMap::new();
    for i in (0..TREE_LEAVES).filter(|&i| i != BLANK_LEAF) {
        let (signer, signature_key) = suite.primitives().signature_key_pair(rng).map_err(err)?;
        let (leaf_key, encryption_key) = generate_hpke_key_pair(suite, rng).map_err(err)?;
        let mut leaf = LeafNode {
            encryption_key,
            signature_key,
            credential: Credential::basic(format!("member {i}").into_bytes()),
            capabilities: Capabilities::for_suite(suite.id()),
            leaf_node_source: LeafNodeSource::KeyPackage(FIXTURE_LIFETIME),
            extensions: Vec::new(),
            signature: Vec::new(),
        };
        leaf.sign(suite, &signer, None).map_err(err)?;
        tree.set_leaf(LeafIndex(i), Some(leaf)).map_err(err)?;
        signers.insert(i, signer);
        leaf_keys.insert(i, leaf_key);
    }

    // The earlier commit: sets the parents on leaf 7's direct path.
    let committer = LeafIndex(EARLIER_COMMITTER);
    let mut private = TreePrivate::new(
        committer,
        leaf_keys
            .get(&EARLIER_COMMITTER)
            .ok_or("committer key")?
            .clone(),
    )
    .map_err(err)?;
    let content = LeafContent::from_leaf(tree.leaf(committer).ok_or("committer leaf")?);
    let earlier = generate_update_path(
        suite,
        &mut tree,
        &mut private,
        NewLeaf {
            content: &content,
            signer: signers.get(&EARLIER_COMMITTER).ok_or("committer signer")?,
        },
        ctx,
        context_for,
        rng,
    )
    .map_err(err)?;
    let committer_node = committer.node().ok_or("committer node")?;
    leaf_keys.insert(
        EARLIER_COMMITTER,
        private.key(committer_node).ok_or("new leaf key")?.clone(),
    );

    let mut leaves_private = Vec::new();
    for (&i, key) in &leaf_keys {
        // What member i holds of the earlier path: from its lowest common
        // node with leaf 7 up to the root (all of it for leaf 7).
        let from = earlier
            .path_secrets
            .iter()
            .position(|(x, _)| covers(*x, i))
            .unwrap_or(0);
        let path_secrets: Vec<Value> = earlier.path_secrets[from..]
            .iter()
            .map(|(x, s)| json!({"node": x.0, "path_secret": hex::encode(s.as_bytes())}))
            .collect();
        leaves_private.push(json!({
            "index": i,
            "encryption_priv": hex::encode(key.as_bytes()),
            "signature_priv": hex::encode(signers.get(&i).ok_or("signer")?.as_bytes()),
            "path_secrets": path_secrets,
        }));
    }

    let mut update_paths = Vec::new();
    for sender in SENDERS {
        let mut after = tree.clone();
        let mut private = TreePrivate::new(
            LeafIndex(sender),
            leaf_keys.get(&sender).ok_or("sender key")?.clone(),
        )
        .map_err(err)?;
        let content = LeafContent::from_leaf(tree.leaf(LeafIndex(sender)).ok_or("sender leaf")?);
        let path = generate_update_path(
            suite,
            &mut after,
            &mut private,
            NewLeaf {
                content: &content,
                signer: signers.get(&sender).ok_or("sender signer")?,
            },
            ctx,
            context_for,
            rng,
        )
        .map_err(err)?;
        let path_secrets: Vec<Value> = (0..TREE_LEAVES)
            .map(|j| {
                if j == sender || j == BLANK_LEAF {
                    return Ok(Value::Null);
                }
                let secret = secret_for(&path.path_secrets, j).ok_or("no path secret")?;
                Ok(Value::String(hex::encode(secret.as_bytes())))
            })
            .collect::<Gen<_>>()?;
        update_paths.push(json!({
            "sender": sender,
            "update_path": hex::encode(encode(&path.update_path).map_err(err)?),
            "path_secrets": path_secrets,
            "commit_secret": hex::encode(path.commit_secret.as_bytes()),
            "tree_hash_after": hex::encode(after.root_tree_hash(suite).map_err(err)?),
        }));
    }

    Ok(json!({
        "cipher_suite": suite.id().0,
        "group_id": hex::encode(&group_id),
        "epoch": epoch,
        "confirmed_transcript_hash": hex::encode(&confirmed_transcript_hash),
        "ratchet_tree": hex::encode(tree.to_bytes().map_err(err)?),
        "leaves_private": leaves_private,
        "update_paths": update_paths,
    }))
}

/// Key packages of the passive-client file are valid at any time, as the
/// official generators made the joiners' ones, so any clock replays them.
const ALWAYS: Lifetime = Lifetime {
    not_before: 0,
    not_after: u64::MAX,
};

fn key_package(
    suite: &Suite,
    name: &str,
    rng: &mut SeededRandom,
) -> Gen<(KeyPackageData, KeyPackagePrivate, SignaturePrivateKey)> {
    let (signer, public) = suite.primitives().signature_key_pair(rng).map_err(err)?;
    let (key_package, private) = KeyPackageData::create(
        suite,
        &signer,
        &public,
        KeyPackageParams {
            credential: Credential::basic(name.as_bytes().to_vec()),
            lifetime: ALWAYS,
            capabilities: Capabilities::for_suite(suite.id()),
            leaf_extensions: vec![],
            extensions: vec![],
        },
        rng,
    )
    .map_err(err)?;
    Ok((key_package, private, signer))
}

/// An active member: its group state and signature key.
struct Active {
    group: GroupState,
    signer: SignaturePrivateKey,
}

fn welcome_of(message: &[u8]) -> Gen<arbor_mls::messages::welcome::Welcome> {
    match decode_exact::<MlsMessage>(message).map_err(err)?.body {
        MlsMessageBody::Welcome(w) => Ok(*w),
        _ => Err("not a Welcome".into()),
    }
}

/// `passive-client-handling-commit.json`: alice creates a group and adds
/// the passive client and carol (the Welcome carries the tree); then
/// alice adds dave with a path, carol commits an empty path, alice removes
/// dave, carol commits an external PSK (PrivateMessage), alice commits an
/// empty path (PrivateMessage). Each epoch lists the commit and the epoch
/// authenticator after it. The clock is [`COMMIT_CLOCK`]; every key
/// package is valid at any time.
pub(super) fn passive_client(suite: &Suite, rng: &mut SeededRandom) -> Gen {
    let now = COMMIT_CLOCK;
    let config = GroupConfig::default().with_max_lifetime(u64::MAX);
    let psk_id = bytes(rng, 16)?;
    let psk = bytes(rng, suite.hash_len())?;
    let mut psks = ExternalPsks::default();
    psks.0.insert(psk_id.clone(), Secret::new(psk.clone()));

    let (alice_kp, alice_private, alice_signer) = key_package(suite, "alice", rng)?;
    let (passive_kp, passive_private, passive_signer) = key_package(suite, "passive", rng)?;
    let (carol_kp, carol_private, carol_signer) = key_package(suite, "carol", rng)?;
    let (dave_kp, _, _) = key_package(suite, "dave", rng)?;
    let mut alice = Active {
        group: GroupState::create(
            suite,
            config,
            bytes(rng, 16)?,
            vec![],
            alice_kp.leaf_node.clone(),
            alice_private.encryption_key.clone(),
            rng,
        )
        .map_err(err)?,
        signer: alice_signer,
    };

    let commit = |member: &mut Active,
                  by_value: Vec<Proposal>,
                  wire_format: WireFormat,
                  rng: &mut SeededRandom|
     -> Gen<(Vec<u8>, Option<Vec<u8>>)> {
        let created = member
            .group
            .create_commit(
                CommitParams {
                    by_value,
                    by_reference: vec![],
                    force_path: true,
                    wire_format,
                    ratchet_tree_in_welcome: true,
                    authenticated_data: vec![],
                    signer: &member.signer,
                    leaf: None,
                    psks: &psks,
                    now,
                    dangerous_skip_validation: false,
                    extra_psks: Vec::new(),
                    psk_use: PskUse::Normal,
                    group_info_extensions: Vec::new(),
                },
                rng,
            )
            .map_err(err)?;
        member.group.merge(created.staged).map_err(err)?;
        Ok((created.message, created.welcome))
    };
    let follow = |member: &mut Active, message: &[u8]| -> Gen<()> {
        match member.group.process(message, &psks, now).map_err(err)? {
            Received::Commit(staged) => member.group.merge(*staged).map_err(err),
            _ => Err("not a commit".into()),
        }
    };

    let adds = vec![
        Proposal::Add(Add {
            key_package: passive_kp.clone(),
        }),
        Proposal::Add(Add {
            key_package: carol_kp.clone(),
        }),
    ];
    let (_, welcome) = commit(&mut alice, adds, WireFormat::PUBLIC_MESSAGE, rng)?;
    let welcome = welcome.ok_or("the adds made no Welcome")?;
    let initial_epoch_authenticator = alice.group.epoch_authenticator().to_vec();
    let mut carol = Active {
        group: GroupState::join(
            suite,
            JoinInputs {
                welcome: &welcome_of(&welcome)?,
                key_package: &carol_kp,
                private: &carol_private,
                ratchet_tree: None,
                psks: &psks,
                now,
                config,
                psk_use: PskUse::Normal,
            },
        )
        .map_err(err)?,
        signer: carol_signer,
    };

    let dave_leaf = LeafIndex(3);
    let psk_proposal = Proposal::PreSharedKey(PreSharedKey {
        psk: PreSharedKeyId {
            psk: Psk::External {
                psk_id: psk_id.clone(),
            },
            psk_nonce: bytes(rng, suite.hash_len())?,
        },
    });
    // (committer is alice, proposals, wire format)
    let steps: [(bool, Vec<Proposal>, WireFormat); 5] = [
        (
            true,
            vec![Proposal::Add(Add {
                key_package: dave_kp,
            })],
            WireFormat::PUBLIC_MESSAGE,
        ),
        (false, vec![], WireFormat::PUBLIC_MESSAGE),
        (
            true,
            vec![Proposal::Remove(Remove { removed: dave_leaf })],
            WireFormat::PUBLIC_MESSAGE,
        ),
        (false, vec![psk_proposal], WireFormat::PRIVATE_MESSAGE),
        (true, vec![], WireFormat::PRIVATE_MESSAGE),
    ];
    let mut epochs = Vec::new();
    for (by_alice, proposals, wire_format) in steps {
        let (committer, other) = if by_alice {
            (&mut alice, &mut carol)
        } else {
            (&mut carol, &mut alice)
        };
        let (message, _) = commit(committer, proposals, wire_format, rng)?;
        follow(other, &message)?;
        if committer.group.epoch_authenticator() != other.group.epoch_authenticator() {
            return Err("alice and carol disagree on the epoch".into());
        }
        epochs.push(json!({
            "proposals": [],
            "commit": hex::encode(&message),
            "epoch_authenticator": hex::encode(committer.group.epoch_authenticator()),
        }));
    }

    let key_package = encode(&MlsMessage::new(MlsMessageBody::KeyPackage(Box::new(
        passive_kp,
    ))))
    .map_err(err)?;
    Ok(json!({
        "cipher_suite": suite.id().0,
        "external_psks": [{"psk_id": hex::encode(&psk_id), "psk": hex::encode(&psk)}],
        "key_package": hex::encode(key_package),
        "signature_priv": hex::encode(passive_signer.as_bytes()),
        "encryption_priv": hex::encode(passive_private.encryption_key.as_bytes()),
        "init_priv": hex::encode(passive_private.init_key.as_bytes()),
        "welcome": hex::encode(&welcome),
        "ratchet_tree": null,
        "initial_epoch_authenticator": hex::encode(initial_epoch_authenticator),
        "epochs": epochs,
    }))
}

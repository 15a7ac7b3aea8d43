//! Multi-credentials (draft-ietf-mls-extensions, Multi-Credentials)
//! through the API: members presenting `multi` and `weak-multi`
//! credentials added, joining and committing, the validator shown each
//! bound credential, and hostile credentials refused with the group
//! unchanged.

use std::sync::{Arc, Mutex};

use super::app_data_tests::{forge, group_of, refused, snapshot};
use super::*;
use crate::Error;
use crate::crypto::credential::{Credential, CredentialType};
use crate::crypto::multi_credential::{CredentialBinding, MULTI_CREDENTIAL_RULE};
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::crypto::{CipherSuite, SeededRandom, SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::framing::{Content, MlsMessage, MlsMessageBody};
use crate::messages::commit::Commit;
use crate::messages::proposals::{Add, Proposal, ProposalOrRef, Update};
use crate::test_support::clients::NOW;
use crate::tree::leaf_node::{Capabilities, LeafNodeSource};
use crate::types::math::LeafIndex;

/// The groups' suite.
const S1: CipherSuite = CipherSuite(1);
/// Another suite the provider has (P-256), for bindings only.
const S2: CipherSuite = CipherSuite(2);
/// A suite the provider has that no member lists.
const S3: CipherSuite = CipherSuite(3);
/// A suite no provider has.
const UNKNOWN: CipherSuite = CipherSuite(0x0f0f);

pub(super) fn key_pair(suite: CipherSuite, seed: u8) -> (SignaturePrivateKey, SignaturePublicKey) {
    Suite::from_provider(&RustCryptoProvider, suite)
        .unwrap()
        .primitives()
        .signature_key_pair(&mut SeededRandom::from_seed([seed; 32]))
        .unwrap()
}

fn bound(suite: CipherSuite, name: &str, seed: u8) -> BoundCredential {
    let (private, public) = key_pair(suite, seed);
    BoundCredential {
        cipher_suite: suite,
        credential: Credential::basic(name),
        public,
        private,
    }
}

/// Accepts basic credentials except `refuse`, and records every one it is
/// shown, with its binding position.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(Credential, Option<BindingPosition>)>>,
    refuse: Option<Vec<u8>>,
}

impl CredentialValidator for Recorder {
    fn validate(
        &self,
        cx: &ValidationContext<'_>,
        credential: &Credential,
        _signature_key: &SignaturePublicKey,
    ) -> Result<(), Rejection> {
        self.seen
            .lock()
            .unwrap()
            .push((credential.clone(), cx.binding));
        match credential {
            Credential::Basic { identity } if Some(identity) == self.refuse.as_ref() => {
                Err(Rejection::new("refused by the test"))
            }
            Credential::Basic { .. } => Ok(()),
            other => Err(Rejection::new(format!(
                "unexpected {:?}",
                other.credential_type()
            ))),
        }
    }
}

fn capabilities(suites: &[CipherSuite], types: &[CredentialType]) -> Capabilities {
    let mut c = Capabilities::for_suite(S1);
    c.cipher_suites.extend_from_slice(suites);
    c.credentials.extend_from_slice(types);
    c
}

fn builder(name: &str, seed: u8, validator: Arc<Recorder>) -> ClientBuilder {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .credential_validator(validator)
}

/// A basic member whose leaves list `suites` and `types` besides the
/// defaults.
pub(super) fn member(
    name: &str,
    seed: u8,
    suites: &[CipherSuite],
    types: &[CredentialType],
) -> Client {
    builder(name, seed, Arc::default())
        .capabilities(capabilities(suites, types))
        .build()
        .unwrap()
}

/// A client presenting `credential` as it is (bindings unchecked by the
/// builder), with the leaf key pair of `seed`: what an attacker can
/// publish.
pub(super) fn presenting(credential: Credential, seed: u8) -> Client {
    let (private, public) = key_pair(S1, seed);
    builder("mallory", seed, Arc::default())
        .credential(credential)
        .signature_key(private, public)
        .build()
        .unwrap()
}

pub(super) fn binding_for(
    suite: CipherSuite,
    name: &str,
    seed: u8,
    leaf: &SignaturePublicKey,
) -> CredentialBinding {
    let b = bound(suite, name, seed);
    CredentialBinding::sign(
        &Suite::from_provider(&RustCryptoProvider, suite).unwrap(),
        b.credential,
        b.public,
        &b.private,
        leaf,
    )
    .unwrap()
}

fn key_package_data(c: &mut Client) -> crate::messages::key_package::KeyPackageData {
    let kp = c.key_package(KeyPackageOptions::default()).unwrap();
    let message: MlsMessage = crate::codec::decode_exact(&kp).unwrap();
    match message.body {
        MlsMessageBody::KeyPackage(kp) => *kp,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_multi_credential_member_joins_commits_and_is_validated_binding_by_binding() {
    let alice_validator = Arc::new(Recorder::default());
    let mut alice = builder("alice", 150, alice_validator)
        .multi_credential(
            false,
            vec![bound(S1, "alice@corp", 151), bound(S2, "alice@chat", 152)],
        )
        .build()
        .unwrap();
    let bob_validator = Arc::new(Recorder::default());
    let mut bob = builder("bob", 153, bob_validator.clone())
        .capabilities(capabilities(&[S2], &[CredentialType::MULTI]))
        .build()
        .unwrap();
    let mut g = group_of(&mut alice, &mut [&mut bob], GroupOptions::default());

    // Bob imported Alice's leaf: a `multi` credential listing what its
    // bindings need, each binding shown to his validator with its
    // position, never the multi-credential itself.
    let leaf = g[1].state.tree().leaf(LeafIndex(0)).unwrap().clone();
    assert_eq!(leaf.credential.credential_type(), CredentialType::MULTI);
    assert!(leaf.capabilities.cipher_suites.contains(&S2));
    assert!(
        leaf.capabilities
            .credentials
            .contains(&CredentialType::MULTI)
    );
    let bindings = leaf.credential.bindings().unwrap().unwrap();
    assert_eq!(bindings.len(), 2);
    assert_eq!(bindings[1].cipher_suite, S2);
    let seen = bob_validator.seen.lock().unwrap().clone();
    let bound_seen: Vec<_> = seen
        .iter()
        .filter_map(|(c, p)| p.map(|p| (c.clone(), p.index, p.cipher_suite, p.weak)))
        .collect();
    assert!(bound_seen.contains(&(Credential::basic("alice@corp"), 0, S1, false)));
    assert!(bound_seen.contains(&(Credential::basic("alice@chat"), 1, S2, false)));
    assert!(
        seen.iter()
            .all(|(c, _)| c.credential_type() == CredentialType::BASIC)
    );

    // Alice's commit path carries her multi-credential leaf: Bob verifies
    // it again and follows.
    bob_validator.seen.lock().unwrap().clear();
    let out = g[0].update().unwrap();
    g[0].process(&out.commit).unwrap();
    match g[1].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => g[1].merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(g[0].epoch_authenticator(), g[1].epoch_authenticator());
    assert!(
        bob_validator
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|(c, p)| *c == Credential::basic("alice@chat") && p.is_some())
    );

    // A validator that refuses one bound credential refuses the member.
    let mut carol = builder(
        "carol",
        154,
        Arc::new(Recorder {
            refuse: Some(b"alice@chat".to_vec()),
            ..Recorder::default()
        }),
    )
    .capabilities(capabilities(&[S2], &[CredentialType::MULTI]))
    .build()
    .unwrap();
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = g[0].add(&[&kp]).unwrap();
    g[0].process(&out.commit).unwrap();
    match carol.join(&out.welcome.unwrap(), None) {
        Err(Error::Rejected {
            rule, rejection, ..
        }) => {
            assert_eq!(rule, MULTI_CREDENTIAL_RULE);
            assert_eq!(rejection.reason, "refused by the test");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn weak_multi_needs_one_supported_binding_per_member() {
    let mut dave = builder("dave", 160, Arc::default())
        .multi_credential(
            true,
            vec![bound(S1, "dave@a", 161), bound(S2, "dave@b", 162)],
        )
        .build()
        .unwrap();
    // Erin supports only the first binding's suite: enough for weak-multi.
    let mut erin = member("erin", 163, &[], &[CredentialType::WEAK_MULTI]);
    let mut g = group_of(&mut dave, &mut [&mut erin], GroupOptions::default());
    assert_eq!(g[0].epoch_authenticator(), g[1].epoch_authenticator());

    // Frank does not list weak-multi: "All members of the group support
    // credential type weak-multi".
    let mut frank = member("frank", 164, &[S2], &[]);
    let kp = frank.key_package(KeyPackageOptions::default()).unwrap();
    let before = snapshot(&g[0]);
    match g[0].add(&[&kp]) {
        Err(Error::Protocol { rule, detail }) => {
            assert_eq!(rule, MULTI_CREDENTIAL_RULE);
            assert!(
                detail.contains("does not support credential type"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(snapshot(&g[0]), before);
    assert!(!g[0].has_pending_commit());

    // Greg's weak-multi has bindings only in S2, which Erin does not
    // support: "Each member of the group supports at least one binding".
    let mut greg = builder("greg", 165, Arc::default())
        .multi_credential(true, vec![bound(S2, "greg@b", 166)])
        .build()
        .unwrap();
    let kp = greg.key_package(KeyPackageOptions::default()).unwrap();
    match g[1].add(&[&kp]) {
        Err(Error::Protocol { rule, detail }) => {
            assert_eq!(rule, MULTI_CREDENTIAL_RULE);
            assert!(detail.contains("supports no binding"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // The same Add forged into Dave's commit is refused by Erin.
    let greg_kp = key_package_data(&mut greg);
    let commit = forge(
        &g[0],
        Content::Commit(Box::new(Commit {
            proposals: vec![ProposalOrRef::Proposal(Box::new(Proposal::Add(Add {
                key_package: greg_kp,
            })))],
            path: None,
        })),
    );
    refused(
        &mut g[1],
        &commit,
        MULTI_CREDENTIAL_RULE,
        "supports no binding",
    );

    // A weak-multi binding in a suite this client lacks is skipped, not
    // refused: Hank binds one credential in S1 and one in an unknown
    // suite (listed by the members, so each supports one binding).
    let (private, public) = key_pair(S1, 167);
    let mut unknown = binding_for(S1, "hank@x", 168, &public);
    unknown.cipher_suite = UNKNOWN;
    let hank_credential =
        Credential::weak_multi(&[binding_for(S1, "hank@a", 169, &public), unknown]).unwrap();
    let mut hank = builder("hank", 167, Arc::default())
        .credential(hank_credential)
        .signature_key(private, public)
        .build()
        .unwrap();
    let kp = hank.key_package(KeyPackageOptions::default()).unwrap();
    let out = g[1].add(&[&kp]).unwrap();
    g[1].process(&out.commit).unwrap();
    match g[0].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => g[0].merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    hank.join(&out.welcome.unwrap(), None).unwrap();
}

/// Alice and Bob, basic members that support `multi` and suite S2.
pub(super) fn pair() -> Vec<Group> {
    let mut alice = member("alice", 170, &[S2], &[CredentialType::MULTI]);
    let mut bob = member("bob", 171, &[S2], &[CredentialType::MULTI]);
    group_of(&mut alice, &mut [&mut bob], GroupOptions::default())
}

/// `credential`, presented by a leaf of key `seed`, is refused: by a
/// member adding its key package, and by a member receiving a commit that
/// adds it, each time with `needle` in the detail and the group unchanged.
fn refused_everywhere(g: &mut [Group], credential: Credential, seed: u8, needle: &str) {
    let mut mallory = presenting(credential, seed);
    let kp = mallory.key_package(KeyPackageOptions::default()).unwrap();
    let before = snapshot(&g[0]);
    match g[0].add(&[&kp]) {
        Err(Error::Protocol { rule, detail }) => {
            assert_eq!(rule, MULTI_CREDENTIAL_RULE, "{detail}");
            assert!(detail.contains(needle), "{detail:?} lacks {needle:?}");
        }
        other => panic!("expected {needle}, got {other:?}"),
    }
    assert_eq!(snapshot(&g[0]), before);
    assert!(!g[0].has_pending_commit());
    let commit = forge(
        &g[0],
        Content::Commit(Box::new(Commit {
            proposals: vec![ProposalOrRef::Proposal(Box::new(Proposal::Add(Add {
                key_package: key_package_data(&mut mallory),
            })))],
            path: None,
        })),
    );
    refused(&mut g[1], &commit, MULTI_CREDENTIAL_RULE, needle);
}

#[test]
fn hostile_multi_credentials_are_refused_with_the_group_unchanged() {
    let mut g = pair();
    let (_, leaf) = key_pair(S1, 180);

    // A forged binding: its signature is not the credential key's.
    let mut forged = binding_for(S1, "mallory@corp", 181, &leaf);
    let last = forged.signature.len() - 1;
    forged.signature[last] ^= 1;
    refused_everywhere(
        &mut g,
        Credential::multi(&[forged]).unwrap(),
        180,
        "does not verify",
    );

    // A genuine binding, but for another leaf's signature key.
    let (_, someone_else) = key_pair(S1, 182);
    let stolen = binding_for(S1, "alice@corp", 183, &someone_else);
    refused_everywhere(
        &mut g,
        Credential::multi(&[stolen]).unwrap(),
        180,
        "does not verify",
    );

    // A `multi` binding in a suite the members do not list ("Every member
    // of the group supports the cipher suite ... for the binding").
    let other_suite = binding_for(S3, "mallory@s3", 184, &leaf);
    refused_everywhere(
        &mut g,
        Credential::multi(&[binding_for(S1, "m@a", 185, &leaf), other_suite]).unwrap(),
        180,
        "does not support cipher suite",
    );
    // And one in a suite this client cannot verify at all.
    let mut unverifiable = binding_for(S1, "m@x", 186, &leaf);
    unverifiable.cipher_suite = UNKNOWN;
    refused_everywhere(
        &mut g,
        Credential::multi(&[unverifiable]).unwrap(),
        180,
        "which this client does not support",
    );

    // A malformed multi-credential.
    refused_everywhere(
        &mut g,
        Credential::Other {
            credential_type: CredentialType::MULTI,
            data: vec![0x00, 0x01, 0x02],
        },
        180,
        "malformed multi-credential",
    );

    // A member's Update whose new leaf carries a forged binding.
    let current = g[1].state.tree().leaf(LeafIndex(1)).unwrap().clone();
    let mut bad = binding_for(S1, "bob@corp", 187, &current.signature_key);
    bad.signature[0] ^= 1;
    let (_, encryption_key) = crate::tree::private::generate_hpke_key_pair(
        &g[1].state.suite,
        &mut SeededRandom::from_seed([188; 32]),
    )
    .unwrap();
    let mut leaf_node = crate::tree::leaf_node::LeafNode {
        encryption_key,
        leaf_node_source: LeafNodeSource::Update,
        credential: Credential::multi(&[bad]).unwrap(),
        signature: Vec::new(),
        ..current
    };
    leaf_node
        .sign(
            &g[1].state.suite,
            &g[1].signer,
            Some((g[1].group_id(), LeafIndex(1))),
        )
        .unwrap();
    let update = forge(
        &g[1],
        Content::Proposal(Box::new(Proposal::Update(Update { leaf_node }))),
    );
    refused(&mut g[0], &update, MULTI_CREDENTIAL_RULE, "does not verify");

    // The group still works.
    let out = g[1].update().unwrap();
    g[1].process(&out.commit).unwrap();
    match g[0].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => g[0].merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(g[0].epoch_authenticator(), g[1].epoch_authenticator());
}

//! With mls-rs 0.57.0 (features `self_remove_proposal`,
//! `last_resort_key_package_ext`). Neither feature is at the draft's
//! codepoint:
//!
//! - SelfRemove: mls-rs's `ProposalType::SELF_REMOVE` is `0xf003`, in RFC
//!   9420's private-use range (§17.4), where the draft suggests `0x000a`
//!   (draft-ietf-mls-extensions, IANA "MLS Proposal Types"). Our codepoint
//!   is not configurable, and is not changed to match. What runs: mls-rs's
//!   `0xf003` proposal is refused by us with the group unchanged. It fails
//!   to decode: RFC 9420's `Proposal` (§12.1) gives no length to the body
//!   of a type it does not define, so we read an unknown type's body as
//!   `opaque<V>`, which mls-rs's empty SelfRemove body is not. And our
//!   `Group::leave`, in a group where the mls-rs member does not list
//!   `0x000a`, sends RFC 9420's Remove of ourselves, which mls-rs commits.
//! - Last resort: mls-rs marks a key package with the KeyPackage extension
//!   `LAST_RESORT_KEY_PACKAGE = 0x000a` (its docs cite
//!   draft-ietf-mls-extensions-04); the current draft marks it with the
//!   `last_resort_key_package` component (`0x0004`) of an
//!   `app_data_dictionary` KeyPackage extension. Neither reads the other's
//!   mark, but both key packages can be used twice: that runs, both ways.

use super::*;
use arbor_mls::api::{GroupOptions, KeyPackageOptions};
use mls_rs::client_builder::{BaseConfig, WithCryptoProvider, WithIdentityProvider};
use mls_rs::extension::MlsExtension as _;
use mls_rs::extension::recommended::LastResortKeyPackageExt;
use mls_rs::group::ReceivedMessage;
use mls_rs::group::proposal::ProposalType;
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::mls_rules::DefaultMlsRules;
use mls_rs::{CipherSuiteProvider, CryptoProvider, ExtensionList, MlsMessage};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;

type RsConfig =
    WithIdentityProvider<BasicIdentityProvider, WithCryptoProvider<RustCryptoProvider, BaseConfig>>;
type RsClient = mls_rs::Client<RsConfig>;
type RsGroup = mls_rs::Group<RsConfig>;

/// mls-rs's SelfRemove proposal type.
const MLS_RS_SELF_REMOVE: u16 = 0xf003;

/// An mls-rs client listing its SelfRemove (`0xf003`) in its capabilities,
/// as mls-rs requires before it proposes one.
fn mls_rs_client(identity: &[u8]) -> RsClient {
    let crypto = RustCryptoProvider::new();
    let suite = crypto
        .cipher_suite_provider(mls_rs::CipherSuite::from(SUITE))
        .expect("suite 1");
    let (secret, public) = suite.signature_key_generate().expect("signature key");
    let identity = SigningIdentity::new(
        BasicCredential::new(identity.to_vec()).into_credential(),
        public,
    );
    mls_rs::Client::builder()
        .crypto_provider(crypto)
        .identity_provider(BasicIdentityProvider::new())
        .signing_identity(identity, secret, mls_rs::CipherSuite::from(SUITE))
        .mls_rules(DefaultMlsRules::new())
        .custom_proposal_type(ProposalType::SELF_REMOVE)
        .build()
}

fn decode(bytes: &[u8]) -> MlsMessage {
    MlsMessage::from_bytes(bytes).expect("mls-rs decodes the message")
}

fn encode(message: &MlsMessage) -> Vec<u8> {
    message.to_bytes().expect("encode mls-rs message")
}

/// A key package of mls-rs's, marked last resort (its extension) if
/// `last_resort`.
fn mls_rs_key_package(client: &RsClient, last_resort: bool) -> Vec<u8> {
    let mut extensions = ExtensionList::new();
    if last_resort {
        extensions.set(
            LastResortKeyPackageExt
                .into_extension()
                .expect("encode the mark"),
        );
    }
    encode(
        &client
            .generate_key_package_message(extensions, ExtensionList::new(), None)
            .expect("mls-rs key package"),
    )
}

/// mls-rs joins from a Welcome (tree included) and stores its state,
/// which is when it deletes a key package that is not last resort.
fn mls_rs_join(client: &RsClient, welcome: &[u8]) -> Result<RsGroup, mls_rs::error::MlsError> {
    let (mut group, _) = client.join_group(None, &decode(welcome), None)?;
    group.write_to_storage()?;
    Ok(group)
}

fn assert_agree(ours: &Group, theirs: &RsGroup) {
    assert_eq!(ours.epoch(), theirs.current_epoch(), "epoch");
    assert_eq!(
        ours.epoch_authenticator(),
        theirs
            .epoch_authenticator()
            .expect("authenticator")
            .as_bytes(),
        "epoch authenticator"
    );
    assert_eq!(
        ours.ratchet_tree().expect("our tree"),
        theirs.export_tree().to_bytes().expect("mls-rs tree"),
        "ratchet tree"
    );
}

/// mls-rs adds our key package to a new group of its own; returns the
/// Welcome.
fn mls_rs_adds(client: &RsClient, key_package: &[u8]) -> (RsGroup, Vec<u8>) {
    let mut group = client
        .create_group(ExtensionList::new(), ExtensionList::new(), None)
        .expect("mls-rs group");
    let out = group
        .commit_builder()
        .add_member(decode(key_package))
        .expect("mls-rs validates our key package")
        .build()
        .expect("mls-rs adds");
    group.apply_pending_commit().expect("mls-rs applies");
    let welcome = encode(&out.welcome_messages[0]);
    (group, welcome)
}

/// A group of ours with one mls-rs member, in epoch 1.
fn group_with_mls_rs(alice: &mut Client, bob: &RsClient) -> (Group, RsGroup) {
    let mut ours = alice.create_group(GroupOptions::default()).expect("group");
    let out = ours.add(&[&mls_rs_key_package(bob, false)]).expect("add");
    arbor_merge_own(&mut ours, &out.commit, 1);
    let theirs = mls_rs_join(bob, &out.welcome.expect("Welcome")).expect("join");
    assert_agree(&ours, &theirs);
    (ours, theirs)
}

/// mls-rs's SelfRemove (`0xf003`) is refused by us (it does not decode as
/// an unknown proposal type), group unchanged; our
/// `leave` falls back to RFC 9420's Remove of ourselves (the mls-rs member
/// does not list `0x000a`), which mls-rs commits.
#[test]
fn self_remove_codepoints_differ() {
    let mut alice = arbor_client("arbor-alice", false);
    let bob = mls_rs_client(b"mls-rs-bob");

    // mls-rs's SelfRemove: a proposal type we do not know, whose empty
    // body is not the `opaque<V>` we read unknown types as.
    let (mut ours, mut theirs) = group_with_mls_rs(&mut alice, &bob);
    let proposal = theirs
        .propose_self_remove(Vec::new())
        .expect("mls-rs proposes its SelfRemove");
    let before = ours.epoch_authenticator().to_vec();
    let err = ours
        .process(&encode(&proposal))
        .expect_err("we refuse proposal type 0xf003");
    assert!(matches!(err, arbor_mls::Error::Malformed { .. }), "{err}");
    eprintln!("mls-rs's SelfRemove ({MLS_RS_SELF_REMOVE:#06x}) refused: {err}");
    assert_eq!(ours.epoch(), 1);
    assert_eq!(ours.epoch_authenticator(), before.as_slice());
    // Nothing was cached: our commit covers no proposal, so mls-rs (which
    // cannot commit its own SelfRemove) follows it.
    let out = ours.commit().expect("an empty commit");
    assert!(out.left_out.is_empty(), "{:?}", out.left_out);
    arbor_merge_own(&mut ours, &out.commit, 2);
    match theirs
        .process_incoming_message(decode(&out.commit))
        .expect("mls-rs follows")
    {
        ReceivedMessage::Commit(_) => {}
        other => panic!("mls-rs expected a commit, got {other:?}"),
    }
    assert_agree(&ours, &theirs);

    // Our leave, in a new group: a Remove of ourselves, since not every
    // member lists SelfRemove at 0x000a. mls-rs commits it; we see
    // ourselves removed.
    let (mut ours, mut theirs) = group_with_mls_rs(&mut alice, &bob);
    let leave = ours.leave().expect("we leave");
    let content = match Group::decode_message(&leave).unwrap().body {
        arbor_mls::framing::MlsMessageBody::PublicMessage(m) => m.content.content,
        other => panic!("expected a PublicMessage, got {other:?}"),
    };
    let arbor_mls::framing::Content::Proposal(proposal) = content else {
        panic!("expected a proposal, got {content:?}");
    };
    assert!(
        matches!(*proposal, arbor_mls::wire::Proposal::Remove(ref r) if r.removed == ours.own_leaf()),
        "{proposal:?}"
    );
    match theirs
        .process_incoming_message(decode(&leave))
        .expect("mls-rs accepts our Remove")
    {
        ReceivedMessage::Proposal(_) => {}
        other => panic!("mls-rs expected a proposal, got {other:?}"),
    }
    let out = theirs
        .commit(Vec::new())
        .expect("mls-rs commits our Remove");
    theirs.apply_pending_commit().expect("mls-rs applies");
    let summary = arbor_follow(&mut ours, &encode(&out.commit_message));
    assert!(summary.self_removed);
    assert!(!ours.is_active());
    assert_eq!(theirs.roster().members().len(), 1);
}

/// mls-rs's last-resort key package (its extension `0x000a`) used by two
/// of our groups: mls-rs joins both, although it stored its state after
/// the first join (when it deletes a regular key package, which a control
/// shows). Ours (the `last_resort_key_package` component) used by two
/// mls-rs groups: we join both.
#[test]
fn last_resort_key_packages_both_ways() {
    let bob = mls_rs_client(b"mls-rs-bob");
    for (last_resort, name) in [(true, "last resort"), (false, "regular")] {
        let kp = mls_rs_key_package(&bob, last_resort);
        assert!(
            !arbor_mls::api::KeyPackage::decode(&kp)
                .unwrap()
                .is_last_resort(),
            "mls-rs's mark is extension 0x000a, not our component"
        );
        for round in 0..2 {
            let mut client = arbor_client(&format!("arbor-{round}"), false);
            let mut ours = client.create_group(GroupOptions::default()).unwrap();
            let out = ours.add(&[&kp]).expect("we add mls-rs's key package");
            arbor_merge_own(&mut ours, &out.commit, 1);
            let joined = mls_rs_join(&bob, &out.welcome.expect("Welcome"));
            if round == 1 && !last_resort {
                assert!(
                    joined.is_err(),
                    "a {name} key package opened a second Welcome"
                );
            } else {
                assert_agree(&ours, &joined.expect("mls-rs joins"));
            }
        }
    }

    // Ours, twice by mls-rs.
    let mut carol = arbor_client("arbor-carol", false);
    let kp = carol
        .key_package(KeyPackageOptions::default().last_resort(true))
        .unwrap();
    for name in [&b"mls-rs-1"[..], b"mls-rs-2"] {
        let (theirs, welcome) = mls_rs_adds(&mls_rs_client(name), &kp);
        let ours = carol.join(&welcome, None).expect("we join again");
        assert_agree(&ours, &theirs);
    }
}

//! Generates vector files in the official formats (mlswg/mls-implementations
//! `test-vectors.md`) for any suites a provider supports: `crypto-basics`,
//! `key-schedule`, `message-protection`, `welcome`, `treekem` and
//! `passive-client-handling-commit` (the last two in
//! [`super::generate_group`]), one entry per suite. Used for the
//! post-quantum suites, which have no official vectors:
//!
//! ```text
//! cargo run -p arbor-interop --features pq -- gen-vectors --pq DIR
//! ```
//!
//! Every value comes from a ChaCha20 stream seeded per suite, and every
//! operation is deterministic given its randomness (EdDSA, RFC 6979 ECDSA,
//! deterministic ML-DSA, HPKE with injected randomness), so the same build
//! writes the same bytes. The files check our implementation against itself
//! across versions and give other implementations something to compare
//! with; they are not independent of arbor-mls.

use arbor_mls::codec::encode;
use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::{
    CipherSuite, CryptoProvider, RandomSource, Secret, SeededRandom, SignaturePrivateKey,
    SignaturePublicKey, Suite,
};
use arbor_mls::framing::{
    self, Content, FramedContent, MlsMessage, MlsMessageBody, Sender, WireFormat,
};
use arbor_mls::group::commit_create::CommitParams;
use arbor_mls::group::psk_store::{NoPsks, PskUse};
use arbor_mls::group::state::{GroupConfig, GroupState};
use arbor_mls::messages::commit::Commit;
use arbor_mls::messages::key_package::{KeyPackageData, KeyPackageParams, KeyPackagePrivate};
use arbor_mls::messages::proposals::Add;
use arbor_mls::messages::proposals::{Proposal, ProposalOrRef, Remove};
use arbor_mls::schedule::{
    GroupContext, InitSecret, PskSecret, SecretTree, SecretTreeConfig, mls_exporter,
};
use arbor_mls::test_support::FIXTURE_LIFETIME;
use arbor_mls::tree::leaf_node::Capabilities;
use arbor_mls::types::ProtocolVersion;
use arbor_mls::types::math::{LeafCount, LeafIndex};
use serde_json::{Value, json};

/// The files this module writes, in order.
pub const GENERATED_FILES: [&str; 6] = [
    "crypto-basics.json",
    "key-schedule.json",
    "message-protection.json",
    "welcome.json",
    "treekem.json",
    "passive-client-handling-commit.json",
];

/// Epochs per key-schedule entry (as in the official file).
const EPOCHS: u64 = 5;

/// A generator's result; `Err` says what failed.
pub(super) type Gen<T = Value> = Result<T, String>;

pub(super) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A deterministic source for one suite and one file.
fn rng(suite: CipherSuite, file: u8) -> SeededRandom {
    let mut seed = [0x5a; 32];
    seed[..2].copy_from_slice(&suite.0.to_be_bytes());
    seed[2] = file;
    SeededRandom::from_seed(seed)
}

pub(super) fn bytes(rng: &mut dyn RandomSource, len: usize) -> Gen<Vec<u8>> {
    let mut out = vec![0u8; len];
    rng.fill(&mut out).map_err(err)?;
    Ok(out)
}

pub(super) fn u32_from(rng: &mut dyn RandomSource) -> Gen<u32> {
    let b = bytes(rng, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The files for `suites`, as `(file name, JSON array)`.
pub fn generate(
    provider: &dyn CryptoProvider,
    suites: &[CipherSuite],
) -> Gen<Vec<(&'static str, Value)>> {
    let mut basics = Vec::new();
    let mut schedules = Vec::new();
    let mut protection = Vec::new();
    let mut welcomes = Vec::new();
    let mut treekems = Vec::new();
    let mut passive = Vec::new();
    for &id in suites {
        let suite = Suite::from_provider(provider, id).map_err(err)?;
        basics.push(crypto_basics(&suite, &mut rng(id, 1))?);
        schedules.push(key_schedule(&suite, &mut rng(id, 2))?);
        protection.push(message_protection(&suite, &mut rng(id, 3))?);
        welcomes.push(welcome(&suite, &mut rng(id, 4))?);
        treekems.push(super::generate_group::treekem(&suite, &mut rng(id, 5))?);
        passive.push(super::generate_group::passive_client(
            &suite,
            &mut rng(id, 6),
        )?);
    }
    Ok(vec![
        (GENERATED_FILES[0], Value::Array(basics)),
        (GENERATED_FILES[1], Value::Array(schedules)),
        (GENERATED_FILES[2], Value::Array(protection)),
        (GENERATED_FILES[3], Value::Array(welcomes)),
        (GENERATED_FILES[4], Value::Array(treekems)),
        (GENERATED_FILES[5], Value::Array(passive)),
    ])
}

/// Pretty JSON with a final newline, as the files are written.
pub fn to_text(value: &Value) -> Gen<String> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(err)
}

fn crypto_basics(suite: &Suite, rng: &mut dyn RandomSource) -> Gen {
    let nh = suite.hash_len();
    let value = bytes(rng, nh)?;
    let ref_hash = suite.ref_hash(b"RefHash", &value).map_err(err)?;

    let secret = bytes(rng, nh)?;
    let context = bytes(rng, nh)?;
    let expanded = suite
        .expand_with_label(&secret, "ExpandWithLabel", &context, 16)
        .map_err(err)?;

    let derive = bytes(rng, nh)?;
    let derived = suite.derive_secret(&derive, "DeriveSecret").map_err(err)?;

    let tree = bytes(rng, nh)?;
    let generation = u32_from(rng)?;
    let tree_secret = suite
        .derive_tree_secret(&tree, "DeriveTreeSecret", generation, nh)
        .map_err(err)?;

    let (sign_priv, sign_pub) = suite.primitives().signature_key_pair(rng).map_err(err)?;
    let content = bytes(rng, nh)?;
    let signature = suite
        .sign_with_label(&sign_priv, "SignWithLabel", &content)
        .map_err(err)?;

    let ikm = bytes(rng, 32)?;
    let (hpke_priv, hpke_pub) = suite.primitives().hpke_derive_key_pair(&ikm).map_err(err)?;
    let enc_context = bytes(rng, nh)?;
    let plaintext = bytes(rng, nh)?;
    let (kem_output, ciphertext) = suite
        .encrypt_with_label(&hpke_pub, "EncryptWithLabel", &enc_context, &plaintext, rng)
        .map_err(err)?;

    Ok(json!({
        "cipher_suite": suite.id().0,
        "ref_hash": {"label": "RefHash", "value": hex::encode(&value), "out": hex::encode(ref_hash)},
        "expand_with_label": {
            "secret": hex::encode(&secret), "label": "ExpandWithLabel",
            "context": hex::encode(&context), "length": 16, "out": hex::encode(expanded.as_bytes()),
        },
        "derive_secret": {
            "label": "DeriveSecret", "secret": hex::encode(&derive), "out": hex::encode(derived.as_bytes()),
        },
        "derive_tree_secret": {
            "secret": hex::encode(&tree), "label": "DeriveTreeSecret", "generation": generation,
            "length": nh, "out": hex::encode(tree_secret.as_bytes()),
        },
        "sign_with_label": {
            "priv": hex::encode(sign_priv.as_bytes()), "pub": hex::encode(sign_pub.as_bytes()),
            "content": hex::encode(&content), "label": "SignWithLabel",
            "signature": hex::encode(&signature),
        },
        "encrypt_with_label": {
            "priv": hex::encode(hpke_priv.as_bytes()), "pub": hex::encode(hpke_pub.as_bytes()),
            "label": "EncryptWithLabel", "context": hex::encode(&enc_context),
            "plaintext": hex::encode(&plaintext), "kem_output": hex::encode(&kem_output),
            "ciphertext": hex::encode(&ciphertext),
        },
    }))
}

fn key_schedule(suite: &Suite, rng: &mut dyn RandomSource) -> Gen {
    let nh = suite.hash_len();
    let group_id = bytes(rng, 32)?;
    let initial = bytes(rng, nh)?;
    let mut init = InitSecret::new(Secret::new(initial.clone()));
    let mut epochs = Vec::new();
    for epoch in 0..EPOCHS {
        let tree_hash = bytes(rng, nh)?;
        let transcript = bytes(rng, nh)?;
        let commit_secret = bytes(rng, nh)?;
        let psk = bytes(rng, nh)?;
        let context = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite.id(),
            group_id: group_id.clone(),
            epoch,
            tree_hash: tree_hash.clone(),
            confirmed_transcript_hash: transcript.clone(),
            extensions: Vec::new(),
        };
        let joiner = init
            .into_joiner_secret(suite, Some(Secret::new(commit_secret.clone())), &context)
            .map_err(err)?;
        let joiner_secret = joiner.as_secret().as_bytes().to_vec();
        let psk_secret = PskSecret::from_secret(Secret::new(psk.clone()));
        let welcome = joiner.welcome_secret(suite, &psk_secret).map_err(err)?;
        let secrets = joiner
            .into_epoch_secret(suite, &psk_secret, &context)
            .map_err(err)?
            .into_epoch_secrets(suite)
            .map_err(err)?;
        let (_, external_pub) = secrets.external_key_pair(suite).map_err(err)?;
        // The official files use a label that looks like hex, as text.
        let label = hex::encode(bytes(rng, nh)?);
        let exporter_context = bytes(rng, nh)?;
        let exported = mls_exporter(
            suite,
            &secrets.exporter_secret,
            &label,
            &exporter_context,
            nh,
        )
        .map_err(err)?;
        epochs.push(json!({
            "group_context": hex::encode(encode(&context).map_err(err)?),
            "tree_hash": hex::encode(&tree_hash),
            "confirmed_transcript_hash": hex::encode(&transcript),
            "commit_secret": hex::encode(&commit_secret),
            "psk_secret": hex::encode(&psk),
            "joiner_secret": hex::encode(&joiner_secret),
            "welcome_secret": hex::encode(welcome.as_secret().as_bytes()),
            "init_secret": hex::encode(secrets.init_secret.as_secret().as_bytes()),
            "sender_data_secret": hex::encode(secrets.sender_data_secret.as_bytes()),
            "encryption_secret": hex::encode(secrets.encryption_secret.as_bytes()),
            "exporter_secret": hex::encode(secrets.exporter_secret.as_bytes()),
            "epoch_authenticator": hex::encode(secrets.epoch_authenticator.as_bytes()),
            "external_secret": hex::encode(secrets.external_secret.as_bytes()),
            "confirmation_key": hex::encode(secrets.confirmation_key.as_bytes()),
            "membership_key": hex::encode(secrets.membership_key.as_bytes()),
            "resumption_psk": hex::encode(secrets.resumption_psk.as_bytes()),
            "external_pub": hex::encode(external_pub.as_bytes()),
            "exporter": {
                "label": label, "context": hex::encode(&exporter_context),
                "length": nh, "secret": hex::encode(exported.as_bytes()),
            },
        }));
        init = secrets.init_secret;
    }
    Ok(json!({
        "cipher_suite": suite.id().0,
        "group_id": hex::encode(&group_id),
        "initial_init_secret": hex::encode(&initial),
        "epochs": epochs,
    }))
}

fn message_protection(suite: &Suite, rng: &mut dyn RandomSource) -> Gen {
    let nh = suite.hash_len();
    let group_id = bytes(rng, 32)?;
    let epoch = u64::from(u32_from(rng)?);
    let context = GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite.id(),
        group_id: group_id.clone(),
        epoch,
        tree_hash: bytes(rng, nh)?,
        confirmed_transcript_hash: bytes(rng, nh)?,
        extensions: Vec::new(),
    };
    let (sign_priv, sign_pub) = suite.primitives().signature_key_pair(rng).map_err(err)?;
    let encryption_secret = bytes(rng, nh)?;
    let sender_data_secret = Secret::new(bytes(rng, nh)?);
    let membership_key = Secret::new(bytes(rng, nh)?);

    let proposal = Proposal::Remove(Remove {
        removed: LeafIndex(2),
    });
    let commit = Commit {
        proposals: vec![ProposalOrRef::Proposal(Box::new(proposal.clone()))],
        path: None,
    };
    let application = bytes(rng, 64)?;
    let tag = bytes(rng, nh)?;

    let sign = |wire_format: WireFormat, content: Content| {
        let framed = FramedContent {
            group_id: group_id.clone(),
            epoch,
            sender: Sender::Member(LeafIndex(1)),
            authenticated_data: Vec::new(),
            content,
        };
        let mut signed =
            framing::sign_content(suite, wire_format, framed, &context, &sign_priv).map_err(err)?;
        if let Content::Commit(_) = signed.content.content {
            // Only the framing is under test; any tag of the right length.
            signed.auth.confirmation_tag = Some(tag.clone());
        }
        Gen::Ok(signed)
    };
    let public = |content: Content| {
        let signed = sign(WireFormat::PUBLIC_MESSAGE, content)?;
        let message =
            framing::to_public_message(suite, signed, &membership_key, &context).map_err(err)?;
        encode(&MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(
            message,
        ))))
        .map_err(err)
    };
    // Each PrivateMessage from a fresh secret tree (generation 0), as the
    // official file is read: every message on its own.
    let leaves = LeafCount::new(2).ok_or("leaf count")?;
    let private = |content: Content, rng: &mut dyn RandomSource| {
        let mut tree = SecretTree::new(
            suite,
            Secret::from_slice(&encryption_secret),
            leaves,
            SecretTreeConfig::default(),
        );
        let signed = sign(WireFormat::PRIVATE_MESSAGE, content)?;
        let message =
            framing::encrypt_private(suite, &signed, &mut tree, &sender_data_secret, 0, rng)
                .map_err(err)?;
        encode(&MlsMessage::new(MlsMessageBody::PrivateMessage(Box::new(
            message,
        ))))
        .map_err(err)
    };
    let proposal_content = Content::Proposal(Box::new(proposal.clone()));
    let commit_content = Content::Commit(Box::new(commit.clone()));
    let application_content = Content::Application(application.clone());
    Ok(json!({
        "cipher_suite": suite.id().0,
        "group_id": hex::encode(&group_id),
        "epoch": epoch,
        "tree_hash": hex::encode(&context.tree_hash),
        "confirmed_transcript_hash": hex::encode(&context.confirmed_transcript_hash),
        "signature_priv": hex::encode(sign_priv.as_bytes()),
        "signature_pub": hex::encode(sign_pub.as_bytes()),
        "encryption_secret": hex::encode(&encryption_secret),
        "sender_data_secret": hex::encode(sender_data_secret.as_bytes()),
        "membership_key": hex::encode(membership_key.as_bytes()),
        "proposal": hex::encode(encode(&proposal).map_err(err)?),
        "proposal_priv": hex::encode(private(proposal_content.clone(), rng)?),
        "proposal_pub": hex::encode(public(proposal_content)?),
        "commit": hex::encode(encode(&commit).map_err(err)?),
        "commit_priv": hex::encode(private(commit_content.clone(), rng)?),
        "commit_pub": hex::encode(public(commit_content)?),
        "application": hex::encode(&application),
        "application_priv": hex::encode(private(application_content, rng)?),
    }))
}

/// A key package with a fresh signature key, as `(key package, its private
/// keys, the signer)`.
fn key_package(
    suite: &Suite,
    name: &str,
    rng: &mut SeededRandom,
) -> Gen<(
    KeyPackageData,
    KeyPackagePrivate,
    SignaturePrivateKey,
    SignaturePublicKey,
)> {
    let (signer, public) = suite.primitives().signature_key_pair(rng).map_err(err)?;
    let (key_package, private) = KeyPackageData::create(
        suite,
        &signer,
        &public,
        KeyPackageParams {
            credential: Credential::basic(name.as_bytes().to_vec()),
            lifetime: FIXTURE_LIFETIME,
            capabilities: Capabilities::for_suite(suite.id()),
            leaf_extensions: vec![],
            extensions: vec![],
        },
        rng,
    )
    .map_err(err)?;
    Ok((key_package, private, signer, public))
}

/// `welcome.json`: a group of one adds a member; the entry holds the
/// joiner's key package and init key, the Welcome and the committer's
/// signature key.
fn welcome(suite: &Suite, rng: &mut SeededRandom) -> Gen {
    let now = FIXTURE_LIFETIME.not_before + 60;
    let (creator_kp, creator_private, creator_signer, creator_pub) =
        key_package(suite, "alice", rng)?;
    let (joiner_kp, joiner_private, _, _) = key_package(suite, "bob", rng)?;
    let mut group = GroupState::create(
        suite,
        GroupConfig::default(),
        bytes(rng, 16)?,
        vec![],
        creator_kp.leaf_node.clone(),
        creator_private.encryption_key.clone(),
        rng,
    )
    .map_err(err)?;
    let created = group
        .create_commit(
            CommitParams {
                by_value: vec![Proposal::Add(Add {
                    key_package: joiner_kp.clone(),
                })],
                by_reference: vec![],
                force_path: false,
                wire_format: WireFormat::PUBLIC_MESSAGE,
                ratchet_tree_in_welcome: true,
                authenticated_data: vec![],
                signer: &creator_signer,
                leaf: None,
                psks: &NoPsks,
                now,
                dangerous_skip_validation: false,
                extra_psks: Vec::new(),
                psk_use: PskUse::Normal,
                group_info_extensions: Vec::new(),
            },
            rng,
        )
        .map_err(err)?;
    let welcome = created.welcome.ok_or("the add made no Welcome")?;
    let key_package = encode(&MlsMessage::new(MlsMessageBody::KeyPackage(Box::new(
        joiner_kp,
    ))))
    .map_err(err)?;
    Ok(json!({
        "cipher_suite": suite.id().0,
        "init_priv": hex::encode(joiner_private.init_key.as_bytes()),
        "signer_pub": hex::encode(creator_pub.as_bytes()),
        "key_package": hex::encode(key_package),
        "welcome": hex::encode(welcome),
    }))
}

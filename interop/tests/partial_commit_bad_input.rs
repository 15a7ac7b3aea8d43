//! A partial client on hostile AnnotatedCommits and sender-authenticated
//! messages: the official passive-client scenario (suite 0x0001) with one
//! annotation field tampered at a time. Each is refused with an error, the
//! client's state is unchanged (it still processes the genuine commit to
//! the expected epoch authenticator), and a refused message uses up no
//! ratchet generation.

use arbor_interop::vectors::bundled_dir;
use arbor_interop::vectors::partial::annotated_welcome::join;
use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::crypto::rust_crypto::RustCryptoProvider;
use arbor_mls::crypto::{CipherSuite, HpkePrivateKey, Secret, Suite};
use arbor_mls::framing::{
    AnnotatedCommit, AnnotatedWelcome, MlsMessage, SenderAuthenticatedMessage,
};
use arbor_mls::group::partial_epoch::{PartialCommitOutcome, PartialEpoch};
use arbor_mls::group::proposal_cache::ProposalCache;
use arbor_mls::group::psk_store::ExternalPsks;
use arbor_mls::schedule::SecretTreeConfig;
use serde_json::Value;

fn field(case: &Value, name: &str) -> Vec<u8> {
    hex::decode(case[name].as_str().expect(name)).expect(name)
}

struct Scenario {
    suite: Suite,
    case: Value,
    psks: ExternalPsks,
}

impl Scenario {
    fn load() -> Self {
        let text = std::fs::read_to_string(
            bundled_dir().join("partial/test-vector-partial-passive-client-scenarios.json"),
        )
        .expect("vector file");
        let cases: Vec<Value> = serde_json::from_str(&text).expect("JSON");
        let case = cases
            .into_iter()
            .find(|c| c["cipher_suite"] == 1)
            .expect("a suite 1 case");
        let suite = Suite::from_provider(&RustCryptoProvider, CipherSuite(1)).expect("suite 1");
        Self {
            suite,
            case,
            psks: ExternalPsks::default(),
        }
    }

    fn joined(&self) -> PartialEpoch {
        let (joined, _) = join(&self.case, &self.suite).expect("the vector joins");
        let welcome: AnnotatedWelcome =
            decode_exact(&field(&self.case, "annotated_welcome")).expect("welcome");
        PartialEpoch::from_join(
            &self.suite,
            joined,
            HpkePrivateKey(Secret::new(field(&self.case, "encryption_priv"))),
            &welcome.joiner_membership_proof,
            SecretTreeConfig::default(),
        )
        .expect("state")
    }

    fn epoch(&self, i: usize) -> &Value {
        &self.case["epochs"][i]
    }

    fn commit(&self, i: usize) -> AnnotatedCommit {
        decode_exact(&field(self.epoch(i), "annotated_commit")).expect("annotated commit")
    }

    fn stage(&self, state: &PartialEpoch, c: &AnnotatedCommit) -> arbor_mls::Result<PartialEpoch> {
        match state.stage_commit(
            &self.suite,
            c,
            &ProposalCache::default(),
            &self.psks,
            SecretTreeConfig::default(),
        )? {
            PartialCommitOutcome::Next(next) => Ok(*next),
            PartialCommitOutcome::Removed => panic!("not removed in this scenario"),
        }
    }
}

#[test]
fn tampered_annotated_commits_are_refused_and_change_nothing() {
    let s = Scenario::load();
    let state = s.joined();
    let before = (state.epoch(), state.secrets.epoch_authenticator.clone());
    let good = s.commit(0);
    let next_epoch_commit = s.commit(1);

    let mut bad: Vec<(&str, AnnotatedCommit)> = Vec::new();
    let mut c = good.clone();
    c.sender_membership_proof = Some(good.receiver_membership_proof_after.clone());
    bad.push(("sender proof of another leaf and tree", c));
    let mut c = good.clone();
    if let Some(p) = c.sender_membership_proof.as_mut() {
        p.copath_hashes[0].hash_value[0] ^= 1;
    }
    bad.push(("sender proof of another tree", c));
    let mut c = good.clone();
    c.sender_membership_proof = None;
    bad.push(("member commit without sender proof", c));
    let mut c = good.clone();
    c.resolution_index = c.resolution_index.map(|i| i + 1);
    bad.push(("wrong resolution index", c));
    let mut c = good.clone();
    c.resolution_index = Some(u32::MAX);
    bad.push(("resolution index past the ciphertexts", c));
    let mut c = good.clone();
    c.resolution_index = None;
    bad.push(("no resolution index for a path", c));
    let mut c = good.clone();
    c.tree_hash_after[0] ^= 1;
    bad.push(("tampered tree_hash_after", c));
    // Proofs and tree hash of another (real) tree, consistent with each
    // other: only the confirmation tag tells.
    let mut c = good.clone();
    c.tree_hash_after = next_epoch_commit.tree_hash_after.clone();
    c.sender_membership_proof_after = next_epoch_commit.sender_membership_proof_after.clone();
    c.receiver_membership_proof_after = next_epoch_commit.receiver_membership_proof_after.clone();
    bad.push(("post-commit proofs of another tree", c));
    let mut c = good.clone();
    std::mem::swap(
        &mut c.sender_membership_proof_after,
        &mut c.receiver_membership_proof_after,
    );
    bad.push(("sender and receiver proofs swapped", c));
    let mut c = good.clone();
    let mut bytes = encode(&c.commit).expect("encode");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    c.commit = decode_exact::<MlsMessage>(&bytes).expect("still decodes");
    bad.push(("commit bytes tampered", c));
    bad.push(("a commit of the next epoch", next_epoch_commit.clone()));

    for (what, c) in &bad {
        match s.stage(&state, c) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => eprintln!("{what}: {e}"),
        }
        assert_eq!(
            (state.epoch(), &state.secrets.epoch_authenticator),
            (before.0, &before.1),
            "{what}: state changed"
        );
    }
    // The state still follows the group with the genuine commit.
    let next = s.stage(&state, &good).expect("the genuine commit");
    assert_eq!(next.epoch(), before.0 + 1);
    assert_eq!(
        next.secrets.epoch_authenticator.as_bytes(),
        field(s.epoch(0), "epoch_authenticator")
    );
}

#[test]
fn tampered_sender_proofs_are_refused_and_use_no_generation() {
    let s = Scenario::load();
    let mut state = s.stage(&s.joined(), &s.commit(0)).expect("epoch 1");
    let bytes = hex::decode(
        s.epoch(0)["application_messages"][0]
            .as_str()
            .expect("message"),
    )
    .expect("hex");
    let good: SenderAuthenticatedMessage<MlsMessage> = decode_exact(&bytes).expect("message");
    let mut another_leaf = good.clone();
    another_leaf.sender_membership_proof = s.commit(0).receiver_membership_proof_after.clone();
    let mut another_tree = good.clone();
    another_tree.sender_membership_proof.copath_hashes[0].hash_value[0] ^= 1;
    let mut old_tree = good.clone();
    old_tree.sender_membership_proof = s
        .commit(0)
        .sender_membership_proof
        .clone()
        .expect("member commit");
    for (what, m) in [
        ("proof of another leaf", &another_leaf),
        ("proof of another tree", &another_tree),
        ("proof of the previous epoch's tree", &old_tree),
    ] {
        match state.open_message(&s.suite, m) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => eprintln!("{what}: {e}"),
        }
    }
    // The refusals used up no generation: the genuine message opens once.
    state
        .open_message(&s.suite, &good)
        .expect("genuine message");
    assert!(
        state.open_message(&s.suite, &good).is_err(),
        "a replayed message is refused"
    );
}

//! Partial MLS on hostile annotations: a real UpdatePath from the official
//! tree-operations vectors, with its proofs, index or keys tampered, is
//! refused with an error (never a panic, never a wrong commit secret).

use arbor_interop::vectors::bundled_dir;
use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::rust_crypto::RustCryptoProvider;
use arbor_mls::crypto::{CipherSuite, HpkePrivateKey, Secret, Suite};
use arbor_mls::tree::membership_proof::MembershipProof;
use arbor_mls::tree::partial_path::decrypt_partial_path;
use arbor_mls::tree::update_path::UpdatePath;
use arbor_mls::types::math::NodeIndex;
use serde_json::Value;

fn field(case: &Value, name: &str) -> Vec<u8> {
    hex::decode(case[name].as_str().expect(name)).expect(name)
}

#[test]
fn tampered_update_path_annotations_are_refused() {
    let text = std::fs::read_to_string(
        bundled_dir().join("partial/test-vector-partial-tree-operations.json"),
    )
    .expect("vector file");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("JSON");
    let case = &cases[0];
    let suite = Suite::from_provider(&RustCryptoProvider, CipherSuite(1)).expect("suite 1");
    let path: UpdatePath = decode_exact(&field(case, "update_path")).expect("path");
    let th = field(case, "tree_hash_after");
    let sender: MembershipProof =
        decode_exact(&field(case, "sender_membership_proof_after")).expect("proof");
    let receiver: MembershipProof =
        decode_exact(&field(case, "receiver_membership_proof_after")).expect("proof");
    let keys: Vec<(u32, Vec<u8>)> = case["receiver_path_state"]
        .as_array()
        .expect("state")
        .iter()
        .map(|e| {
            (
                e["node"].as_u64().expect("node") as u32,
                field(e, "encryption_priv"),
            )
        })
        .collect();
    let lookup = |x: NodeIndex| {
        keys.iter()
            .find(|(n, _)| *n == x.0)
            .map(|(_, k)| HpkePrivateKey(Secret::new(k.clone())))
    };
    let run = |path: &UpdatePath, s: &MembershipProof, r: &MembershipProof, i: u32, ctx: &[u8]| {
        decrypt_partial_path(&suite, path, s, r, i, ctx, &lookup)
    };
    let good = run(&path, &sender, &receiver, 0, &th).expect("the vector decrypts");
    assert_eq!(good.commit_secret.as_bytes(), field(case, "commit_secret"));

    // A resolution index past the ciphertexts, or naming another one.
    assert!(run(&path, &sender, &receiver, 1_000, &th).is_err());
    assert!(run(&path, &sender, &receiver, u32::MAX, &th).is_err());
    // Another context: the AEAD refuses.
    assert!(run(&path, &sender, &receiver, 0, b"another context").is_err());
    // The receiver's proof in the sender's place, and the other way round.
    assert!(run(&path, &receiver, &sender, 0, &th).is_err());
    assert!(run(&path, &sender, &sender, 0, &th).is_err());
    // A receiver proof of another tree.
    let mut foreign = receiver.clone();
    foreign.copath_hashes[0].hash_value[0] ^= 1;
    assert!(run(&path, &sender, &foreign, 0, &th).is_err());
    // An UpdatePath node key that the proof does not carry.
    let mut wrong_key = path.clone();
    wrong_key.nodes.swap(0, 1);
    assert!(run(&wrong_key, &sender, &receiver, 0, &th).is_err());
    // One UpdatePath node fewer than the proof's non-blank path.
    let mut short = path.clone();
    short.nodes.pop();
    assert!(run(&short, &sender, &receiver, 0, &th).is_err());
    // No private key for the node the secret is encrypted to.
    let none = |_: NodeIndex| None;
    assert!(decrypt_partial_path(&suite, &path, &sender, &receiver, 0, &th, &none).is_err());
}

//! The rules an observer cannot check because they need a secret of the
//! epoch: each test feeds a message that breaks only such a rule. Members
//! reject it (`assert_rejected`); the observer accepts it, as
//! `NEEDS_SECRETS` declares and `observer_agrees` asserts. The confirmation
//! tag case is `message_rules::wrong_confirmation_tag_12_4_2`.

use super::*;

#[test]
fn bad_membership_tag_is_beyond_an_observer_6_2() {
    let (clients, mut groups) = group_of(3);
    let created = groups[1]
        .create_commit(clients[1].params(vec![]), &mut rng(40))
        .unwrap();
    let decoded: MlsMessage = decode_exact("MLSMessage", &created.message).unwrap();
    let MlsMessageBody::PublicMessage(mut m) = decoded.body else {
        panic!("expected a PublicMessage");
    };
    m.membership_tag.as_mut().unwrap()[0] ^= 1;
    let tampered = encode_message(MlsMessageBody::PublicMessage(m));
    for i in [0, 2] {
        assert_rejected(
            &mut groups[i],
            &tampered,
            "§6.2",
            "membership tag of leaf 1 in epoch 1 does not verify",
        );
    }
    still_works(&clients, &mut groups, 0, 41);
}

#[test]
fn unknown_psk_is_beyond_an_observer_12_4_2() {
    let (clients, mut groups) = group_of(3);
    let id = psk_id(&groups[0].suite, b"nobody has this psk", 5);
    let message = forge_commit(
        &groups[1],
        &clients[1].signer,
        commit(vec![Proposal::PreSharedKey(PreSharedKey { psk: id })]),
        None,
    );
    for i in [0, 2] {
        assert_rejected(&mut groups[i], &message, "§12.4.2", "is not available");
    }
    still_works(&clients, &mut groups, 0, 42);
}

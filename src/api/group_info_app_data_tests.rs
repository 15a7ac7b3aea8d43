//! Application data in the GroupInfo (draft-ietf-mls-extensions,
//! "Attaching Application Data to MLS Messages": it "distributes the
//! application data confidentially to the new joiners"): a committer
//! attaches an `app_data_dictionary` to its Welcomes (and, when asked, to
//! the GroupInfos it publishes), joiners read it with GREASE dropped, and a
//! malformed one is refused at the join with nothing created or consumed.

use std::sync::Arc;

use super::*;
use crate::Error;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::framing::MlsMessageBody;
use crate::group::app_data_rules::GROUP_INFO_APP_DATA_RULE;
use crate::messages::welcome::GroupInfo;
use crate::test_support::clients::{NOW, client};
use crate::types::app_data::{AppDataDictionary, ComponentData};
use crate::types::extensions::{Extension, ExtensionType, find_extension};
use crate::types::grease::{COMPONENT_GREASE, is_grease};

fn dictionary(entries: &[(u16, &[u8])]) -> AppDataDictionary {
    AppDataDictionary::new(
        entries
            .iter()
            .map(|(id, data)| ComponentData {
                component_id: *id,
                data: data.to_vec(),
            })
            .collect(),
    )
    .unwrap()
}

fn greasy(name: &str, seed: u8) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .grease(true)
        .build()
        .unwrap()
}

fn decode_group_info(bytes: &[u8]) -> GroupInfo {
    match Group::decode_message(bytes).unwrap().body {
        MlsMessageBody::GroupInfo(gi) => *gi,
        other => panic!("{other:?}"),
    }
}

/// The GroupInfo inside `welcome`, decrypted with `joiner`'s key package
/// as §12.4.3.1 does (no PSKs), without joining.
fn welcome_group_info(joiner: &Client, welcome: &[u8]) -> GroupInfo {
    let MlsMessageBody::Welcome(welcome) = Group::decode_message(welcome).unwrap().body else {
        panic!("not a Welcome")
    };
    let (kp_ref, stored) = joiner.key_package_for(&welcome).unwrap();
    let suite = &joiner.suite;
    let secrets = crate::group::welcome_open::decrypt_group_secrets(
        suite,
        &welcome,
        &kp_ref,
        &stored.private.init_key,
    )
    .unwrap();
    let psk_secret = crate::group::psk_store::resolve_psks(
        suite,
        &[],
        &crate::group::psk_store::NoPsks,
        &crate::group::state::NoResumption,
        crate::group::psk_store::PskUse::Normal,
    )
    .unwrap();
    crate::group::welcome_open::decrypt_group_info(
        suite,
        &welcome,
        &crate::schedule::JoinerSecret::new(secrets.joiner_secret.clone()),
        &psk_secret,
    )
    .unwrap()
}

#[test]
fn joiners_read_the_application_data_of_the_welcome_group_info() {
    let mut alice = client("alice", 160);
    let mut bob = client("bob", 161);
    let mut carol = client("carol", 162);
    let mut dave = client("dave", 163);
    let mut g = alice.create_group(GroupOptions::default()).unwrap();
    let data = dictionary(&[(0x8001, b"welcome note"), (0x8003, b"")]);
    g.set_group_info_app_data(Some(data.clone()), false)
        .unwrap();

    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = g.add(&[&kp]).unwrap();
    g.process(&out.commit).unwrap();
    let bobs = bob.join(&out.welcome.unwrap(), None).unwrap();
    assert_eq!(bobs.group_info_app_data(), Some(&data));
    // The creator joined nothing.
    assert_eq!(g.group_info_app_data(), None);

    // Not published: the GroupInfo for external joiners does not carry it,
    // and an external joiner reads none.
    let published = g.group_info(true).unwrap();
    assert!(
        find_extension(
            &decode_group_info(&published).extensions,
            ExtensionType::APP_DATA_DICTIONARY
        )
        .is_none()
    );
    let (daves, _) = dave
        .join_by_external_commit(&published, None, None)
        .unwrap();
    assert_eq!(daves.group_info_app_data(), None);

    // Published: an external joiner reads it too.
    g.set_group_info_app_data(Some(data.clone()), true).unwrap();
    let published = g.group_info(true).unwrap();
    let mut erin = client("erin", 164);
    let (erins, _) = erin
        .join_by_external_commit(&published, None, None)
        .unwrap();
    assert_eq!(erins.group_info_app_data(), Some(&data));

    // Cleared: the next Welcome carries none.
    g.set_group_info_app_data(None, false).unwrap();
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = g.add(&[&kp]).unwrap();
    let carols = carol.join(&out.welcome.unwrap(), None).unwrap();
    assert_eq!(carols.group_info_app_data(), None);
}

#[test]
fn greasing_clients_grease_the_welcome_group_info_and_joiners_ignore_it() {
    let mut alice = greasy("alice", 165);
    let mut bob = client("bob", 166);
    let mut g = alice.create_group(GroupOptions::default()).unwrap();
    let data = dictionary(&[(0x8001, b"hi")]);
    g.set_group_info_app_data(Some(data.clone()), true).unwrap();

    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = g.add(&[&kp]).unwrap();
    g.process(&out.commit).unwrap();
    let welcome = out.welcome.unwrap();

    // The Welcome's GroupInfo carries a GREASE extension (RFC 9420 §13.5)
    // and a GREASE entry in its dictionary (draft "GREASE"), and the
    // published GroupInfo both of them too.
    let has_grease = |info: &GroupInfo| {
        let entry = AppDataDictionary::parse(
            &find_extension(&info.extensions, ExtensionType::APP_DATA_DICTIONARY)
                .unwrap()
                .extension_data,
        )
        .unwrap()
        .component_data()
        .iter()
        .any(|c| COMPONENT_GREASE.contains(&c.component_id));
        let extension = info
            .extensions
            .iter()
            .any(|e| is_grease(e.extension_type.0));
        entry && extension
    };
    assert!(has_grease(&welcome_group_info(&bob, &welcome)));
    assert!(has_grease(&decode_group_info(&g.group_info(true).unwrap())));

    // The joiner ignores both: the join succeeds and the data it reads is
    // exactly the application's.
    let bobs = bob.join(&welcome, None).unwrap();
    assert_eq!(bobs.group_info_app_data(), Some(&data));
    assert_eq!(bobs.epoch(), g.epoch());

    // A client that does not grease adds neither.
    let mut carol = client("carol", 167);
    let mut dave = client("dave", 168);
    let mut h = carol.create_group(GroupOptions::default()).unwrap();
    h.set_group_info_app_data(Some(data.clone()), false)
        .unwrap();
    let kp = dave.key_package(KeyPackageOptions::default()).unwrap();
    let out = h.add(&[&kp]).unwrap();
    let info = welcome_group_info(&dave, &out.welcome.unwrap());
    assert!(
        !info
            .extensions
            .iter()
            .any(|e| is_grease(e.extension_type.0))
    );
    let entries = AppDataDictionary::parse(
        &find_extension(&info.extensions, ExtensionType::APP_DATA_DICTIONARY)
            .unwrap()
            .extension_data,
    )
    .unwrap();
    assert_eq!(entries, data);
}

/// Dictionaries that break the draft's MUSTs, encoded by hand: unsorted,
/// an id twice, and bytes that are no dictionary.
fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    let entry = |id: u16| ComponentData {
        component_id: id,
        data: b"x".to_vec(),
    };
    vec![
        (
            "unsorted",
            encode(&vec![entry(0x8002), entry(0x8001)]).unwrap(),
        ),
        (
            "an id twice",
            encode(&vec![entry(0x8001), entry(0x8001)]).unwrap(),
        ),
        ("truncated", vec![0x05, 0x80]),
    ]
}

#[test]
fn a_malformed_group_info_dictionary_is_refused_at_the_join() {
    let mut alice = client("alice", 169);
    let mut bob = client("bob", 170);
    let mut g = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    for (what, bytes) in malformed() {
        // The API builds only well-formed dictionaries: a hostile committer
        // is played by setting the extension directly.
        g.group_info_app_data = Some((
            Extension {
                extension_type: ExtensionType::APP_DATA_DICTIONARY,
                extension_data: bytes,
            },
            true,
        ));
        let out = g.add(&[&kp]).unwrap();
        match bob.join(&out.welcome.unwrap(), None) {
            Err(Error::Protocol { rule, detail }) => {
                assert_eq!(rule, GROUP_INFO_APP_DATA_RULE, "{what}: {detail}");
                assert!(detail.contains("does not decode"), "{what}: {detail}");
            }
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
        // The key package is kept for a later, valid Welcome.
        assert_eq!(bob.key_package_count(), 1, "{what}");
        // An external joiner refuses the same published GroupInfo.
        let mut carol = client("carol", 171);
        let err = carol
            .join_by_external_commit(&g.group_info(true).unwrap(), None, None)
            .unwrap_err();
        assert!(
            matches!(&err, Error::Protocol { rule, .. } if *rule == GROUP_INFO_APP_DATA_RULE),
            "{what}: {err:?}"
        );
        assert!(g.discard_pending(), "{what}");
    }

    // The same key package then opens a valid Welcome.
    g.set_group_info_app_data(Some(dictionary(&[(0x8001, b"ok")])), false)
        .unwrap();
    let out = g.add(&[&kp]).unwrap();
    g.process(&out.commit).unwrap();
    let bobs = bob.join(&out.welcome.unwrap(), None).unwrap();
    assert_eq!(bobs.epoch(), g.epoch());
    assert_eq!(
        bobs.group_info_app_data().unwrap().get(0x8001),
        Some(&b"ok"[..])
    );
}

#[test]
fn an_observer_refuses_a_group_info_with_a_malformed_dictionary() {
    let mut alice = client("alice", 172);
    let mut g = alice.create_group(GroupOptions::default()).unwrap();
    let (_, bytes) = malformed().remove(0);
    g.group_info_app_data = Some((
        Extension {
            extension_type: ExtensionType::APP_DATA_DICTIONARY,
            extension_data: bytes,
        },
        true,
    ));
    let err = Observer::from_group_info(
        &g.group_info(true).unwrap(),
        None,
        ObserverOptions {
            clock: Arc::new(FixedClock(NOW)),
            ..ObserverOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { rule, .. } if *rule == GROUP_INFO_APP_DATA_RULE),
        "{err:?}"
    );
}

#[test]
fn the_group_info_grease_draw_reports_a_failing_random_source() {
    // `Client::adopt` used to drop this error; now every caller draws
    // first and propagates it.
    let alice = greasy("alice", 173);
    let mut failing = crate::crypto::conformance::Failing;
    assert!(alice.group_info_grease(&mut failing).is_err());
    let plain = client("bob", 174);
    assert!(plain.group_info_grease(&mut failing).unwrap().is_none());
}

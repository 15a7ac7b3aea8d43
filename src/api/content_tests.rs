//! Content advertisement and AppAck (draft-ietf-mls-extensions) through
//! the API: advertised media types, "can every member read type T", the
//! ApplicationFraming of application data, joiners that lack a required
//! type, and hostile dictionaries and acknowledgements refused with the
//! group unchanged.

use std::sync::Arc;

use super::app_data_tests::{app, forge, group_of, refused};
use super::*;
use crate::ErrorCategory;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::crypto::component::component_ids::{APP_ACK, CONTENT_MEDIA_TYPES};
use crate::framing::Content;
use crate::group::app_data_rules::{APP_ACK_RULE, CONTENT_RULE};
use crate::messages::app_data_proposals::AppEphemeral;
use crate::messages::proposals::{GroupContextExtensions, Proposal};
use crate::test_support::clients::NOW;
use crate::types::app_data::{AppDataDictionary, ComponentData};
use crate::types::content_media::{AppAck, MediaType, MediaTypeList, MessageRange};
use crate::types::extensions::Extension;
use crate::types::math::LeafIndex;

fn plain() -> MediaType {
    MediaType::new("text/plain").with_parameter("charset", "UTF-8")
}

fn png() -> MediaType {
    MediaType::new("image/png")
}

fn media_client(name: &str, seed: u8, types: Vec<MediaType>) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .content_media_types(MediaTypeList::new(types).unwrap())
        .build()
        .unwrap()
}

/// The GroupContext `app_data_dictionary` requiring `types` (bytes as
/// given, to build malformed ones too).
fn requiring(data: Vec<u8>) -> Extension {
    AppDataDictionary::new(vec![ComponentData {
        component_id: CONTENT_MEDIA_TYPES,
        data,
    }])
    .unwrap()
    .to_extension()
    .unwrap()
}

fn required_plain() -> Extension {
    requiring(encode(&MediaTypeList::new(vec![plain()]).unwrap()).unwrap())
}

#[test]
fn members_advertise_media_types_and_application_data_is_framed() {
    let mut alice = media_client("alice", 100, vec![plain(), png()]);
    let mut bob = media_client(
        "bob",
        101,
        vec![MediaType::new("TEXT/PLAIN").with_parameter("Charset", "UTF-8")],
    );
    let options = GroupOptions::default().extensions(vec![required_plain()]);
    let mut g = group_of(&mut alice, &mut [&mut bob], options);

    assert_eq!(
        g[0].required_media_types().unwrap().unwrap().media_types(),
        &[plain()]
    );
    assert!(
        g[1].member_media_types(LeafIndex(0))
            .unwrap()
            .accepts(&png())
    );
    assert!(g[0].all_members_accept(&plain()));
    assert!(!g[0].all_members_accept(&png()));
    assert_eq!(g[0].members_not_accepting(&png()), vec![LeafIndex(1)]);

    // A type Bob does not advertise is not sent.
    let err = g[0].encrypt_framed(&png(), b"img", b"").unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse);

    // Framed content, with an explicit type and with the empty one that
    // stands for the group's first media type.
    for (sent, text) in [(plain(), &b"hello"[..]), (MediaType::new(""), b"again")] {
        let message = g[0].encrypt_framed(&sent, text, b"").unwrap();
        let data = match g[1].process(&message).unwrap() {
            Event::Application { data, .. } => data,
            other => panic!("{other:?}"),
        };
        let (media_type, content) = g[1].read_framed(&data).unwrap();
        assert_eq!(media_type, plain());
        assert_eq!(content, text);
    }
    // Application data that is not ApplicationFraming is malformed.
    let err = g[1].read_framed(b"\xff\xff").unwrap_err();
    assert_eq!(err.category(), ErrorCategory::MalformedInput);
}

#[test]
fn a_joiner_without_the_required_types_is_not_added() {
    let mut alice = media_client("alice", 102, vec![plain()]);
    let mut carol = media_client("carol", 103, vec![png()]);
    let mut dave = Client::builder("dave")
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([104; 32])))
        .capabilities(crate::tree::leaf_node::Capabilities {
            extensions: vec![crate::types::ExtensionType::APP_DATA_DICTIONARY],
            ..crate::tree::leaf_node::Capabilities::default()
        })
        .build()
        .unwrap();
    let mut a = alice
        .create_group(GroupOptions::default().extensions(vec![required_plain()]))
        .unwrap();
    // "SHOULD NOT add an MLS client ... unless all the members ...
    // advertise support for all the required media types".
    for kp in [
        carol.key_package(KeyPackageOptions::default()).unwrap(),
        dave.key_package(KeyPackageOptions::default()).unwrap(),
    ] {
        let err = a.add(&[&kp]).unwrap_err();
        assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err:?}");
        assert!(!a.has_pending_commit());
        let err = a.propose_add(&kp).unwrap_err();
        assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err:?}");
    }
    assert_eq!(a.members().len(), 1);
}

#[test]
fn an_empty_required_media_type_list_is_refused() {
    // "must contain at least one item": a GroupContextExtensions setting
    // an empty content_media_types is refused.
    let mut alice = media_client("alice", 105, vec![plain()]);
    let mut bob = media_client("bob", 106, vec![plain()]);
    let mut g = group_of(&mut alice, &mut [&mut bob], GroupOptions::default());
    let m = forge(
        &g[0],
        Content::Proposal(Box::new(Proposal::GroupContextExtensions(
            GroupContextExtensions {
                extensions: vec![requiring(vec![0])],
            },
        ))),
    );
    refused(
        &mut g[1],
        &m,
        CONTENT_RULE,
        "content_media_types does not decode",
    );
    // A valid list is accepted.
    let ok = g[0]
        .propose_group_context_extensions(vec![required_plain()])
        .unwrap();
    assert!(matches!(g[1].process(&ok).unwrap(), Event::Proposal { .. }));
}

#[test]
fn app_acks_travel_as_app_ephemeral_and_malformed_ones_are_refused() {
    let mut alice = super::app_data_tests::app_client("alice", 107, app(&[APP_ACK], true));
    let mut bob = super::app_data_tests::app_client("bob", 108, app(&[APP_ACK], true));
    let mut g = group_of(&mut alice, &mut [&mut bob], GroupOptions::default());
    // Bob receives Alice's first two application messages and acks them.
    for _ in 0..2 {
        let m = g[0].encrypt(b"x", b"").unwrap();
        assert!(matches!(
            g[1].process(&m).unwrap(),
            Event::Application { .. }
        ));
    }
    let ack = AppAck::new(vec![MessageRange {
        sender: 0,
        first_generation: 0,
        last_generation: 1,
    }])
    .unwrap();
    let p = g[1].propose_app_ack(&ack).unwrap();
    assert!(matches!(g[0].process(&p).unwrap(), Event::Proposal { .. }));
    let out = g[0].commit().unwrap();
    g[0].process(&out.commit).unwrap();
    let staged = match g[1].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => staged,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        staged.summary.app_ephemeral,
        vec![AppEphemeral {
            component_id: APP_ACK,
            data: encode(&ack).unwrap()
        }]
    );
    let received: AppAck =
        crate::codec::decode_exact(&staged.summary.app_ephemeral[0].data).unwrap();
    assert!(received.covers(0, 1) && !received.covers(0, 2));
    g[1].merge(*staged).unwrap();

    // An AppAck whose range is inverted, or that does not decode, is
    // refused whatever the application's logic says.
    for data in [vec![12, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1], vec![3, 1, 2]] {
        let m = forge(
            &g[0],
            Content::Proposal(Box::new(Proposal::AppEphemeral(AppEphemeral {
                component_id: APP_ACK,
                data,
            }))),
        );
        refused(&mut g[1], &m, APP_ACK_RULE, "does not decode");
    }
}

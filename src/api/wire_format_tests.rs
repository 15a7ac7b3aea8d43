//! Supported and required wire formats (draft-ietf-mls-extensions,
//! "Negotiating Extensions and Components"): a group requiring a
//! non-default wire format admits only members that support it, and
//! hostile GroupContextExtensions and Adds are refused with the group
//! unchanged.

use std::sync::Arc;

use super::app_data_tests::{forge, group_of, refused};
use super::*;
use crate::crypto::SeededRandom;
use crate::framing::{Content, WireFormat};
use crate::group::wire_format_rules::{WIRE_FORMAT_RULE, WireFormats};
use crate::messages::commit::Commit;
use crate::messages::proposals::{Add, GroupContextExtensions, Proposal, ProposalOrRef};
use crate::test_support::clients::NOW;
use crate::tree::leaf_node::Capabilities;
use crate::types::extensions::{Extension, ExtensionType};

const CUSTOM: WireFormat = WireFormat(0xF001);
const OTHER: WireFormat = WireFormat(0xF002);

/// A client whose leaves support `formats` beyond the defaults.
fn supporting(name: &str, seed: u8, formats: &[WireFormat]) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .capabilities(Capabilities {
            extensions: vec![
                ExtensionType::SUPPORTED_WIRE_FORMATS,
                ExtensionType::REQUIRED_WIRE_FORMATS,
            ],
            ..Capabilities::default()
        })
        .leaf_extensions(vec![
            WireFormats {
                wire_formats: formats.to_vec(),
            }
            .to_extension(ExtensionType::SUPPORTED_WIRE_FORMATS)
            .unwrap(),
        ])
        .build()
        .unwrap()
}

fn requiring(formats: &[WireFormat]) -> Extension {
    WireFormats {
        wire_formats: formats.to_vec(),
    }
    .to_extension(ExtensionType::REQUIRED_WIRE_FORMATS)
    .unwrap()
}

fn gce(extensions: Vec<Extension>) -> Content {
    Content::Proposal(Box::new(Proposal::GroupContextExtensions(
        GroupContextExtensions { extensions },
    )))
}

#[test]
fn required_wire_formats_hold_for_every_member() {
    let mut alice = supporting("alice", 120, &[CUSTOM]);
    let mut bob = supporting("bob", 121, &[CUSTOM, OTHER]);
    let mut carol = supporting("carol", 122, &[]);
    let mut g = group_of(&mut alice, &mut [&mut bob], GroupOptions::default());

    // Requiring a format Alice lacks is refused by Bob.
    let m = forge(&g[0], gce(vec![requiring(&[OTHER])]));
    refused(&mut g[1], &m, WIRE_FORMAT_RULE, "leaf 0 does not support");
    // A required_wire_formats that does not decode is refused.
    let m = forge(
        &g[0],
        gce(vec![Extension {
            extension_type: ExtensionType::REQUIRED_WIRE_FORMATS,
            extension_data: vec![3, 0xF0],
        }]),
    );
    refused(&mut g[1], &m, WIRE_FORMAT_RULE, "does not decode");

    // Requiring one both support is accepted and committed.
    let ok = g[0]
        .propose_group_context_extensions(vec![requiring(&[CUSTOM])])
        .unwrap();
    assert!(matches!(g[1].process(&ok).unwrap(), Event::Proposal { .. }));
    let out = g[1].commit().unwrap();
    g[1].process(&out.commit).unwrap();
    match g[0].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => g[0].merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }

    // Carol does not support it: our add refuses her key package, and a
    // forged commit adding her is refused by Bob.
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let err = g[0].add(&[&kp]).unwrap_err();
    assert!(
        matches!(&err, crate::Error::Protocol { rule, .. } if *rule == WIRE_FORMAT_RULE),
        "{err:?}"
    );
    assert!(!g[0].has_pending_commit());
    let kp = match Group::decode_message(&kp).unwrap().body {
        crate::framing::MlsMessageBody::KeyPackage(kp) => *kp,
        _ => unreachable!(),
    };
    let forged = forge(
        &g[0],
        Content::Commit(Box::new(Commit {
            proposals: vec![ProposalOrRef::Proposal(Box::new(Proposal::Add(Add {
                key_package: kp,
            })))],
            path: None,
        })),
    );
    refused(
        &mut g[1],
        &forged,
        WIRE_FORMAT_RULE,
        "added member does not support",
    );
}

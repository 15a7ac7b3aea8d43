//! Observer records: their keys are as documented, and a set of records
//! that is not one the library writes is refused, naming the record.

use super::*;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::group::observer::tests::observer_of;
use crate::test_support::engine::group_of;
use crate::types::math::LeafIndex;

#[test]
fn keys_are_as_documented() {
    let k = ObserverKeys::new(&[0xab, 0x01]);
    let s = |key: Vec<u8>| String::from_utf8(key).unwrap();
    assert_eq!(s(k.all()), "o/ab01/");
    assert_eq!(s(k.epoch()), "o/ab01/epoch");
    assert_eq!(s(k.node(NodeIndex(0x1f))), "o/ab01/t/0000001f");
    assert_eq!(s(k.node(NodeIndex(u32::MAX))), "o/ab01/t/ffffffff");
    assert_eq!(s(k.proposals(1)), "o/ab01/prop/1/");
    assert_eq!(s(k.proposal(0, 0x2a)), "o/ab01/prop/0/0000002a");
    assert_eq!(s(k.group_info()), "o/ab01/gi");
    assert_eq!(s(k.other()), "o/ab01/other");
    assert_eq!(s(k.other_nodes()), "o/ab01/other/t/");
    assert_eq!(s(k.other_node(NodeIndex(3))), "o/ab01/other/t/00000003");
    assert_eq!(s(legacy_key(&[0xab, 0x01])), "o/ab01");
    for good in [
        "epoch",
        "gi",
        "other",
        "t/0000001f",
        "other/t/00000000",
        "prop/1/00000002",
    ] {
        assert!(parse_key(good.as_bytes()).is_some(), "{good}");
    }
    for bad in [
        "epoch2",
        "t/1f",
        "t/0000001F",
        "t/+000001f",
        "prop/2/00000000",
        "prop/0/0000000",
        "other/t/",
        "pending",
    ] {
        assert!(parse_key(bad.as_bytes()).is_none(), "{bad}");
    }
}

/// The records of an observer of a two-member group with two cached
/// proposals, relative keys.
fn records() -> BTreeMap<String, Vec<u8>> {
    let (_, groups) = group_of(2);
    let mut observer = observer_of(&groups[0]);
    // The loader does not judge proposals (the checks did, before they
    // were cached): any will do.
    for leaf in [0u8, 1] {
        observer.current.proposals.insert(CachedProposal {
            reference: vec![leaf; 32],
            proposal: Proposal::Remove(crate::messages::proposals::Remove {
                removed: LeafIndex(leaf.into()),
            }),
            sender: Sender::Member(LeafIndex(1)),
        });
    }
    let mut batch = WriteBatch::default();
    put_all(&ObserverKeys::relative(), &observer, 0, &mut batch).unwrap();
    std::mem::take(&mut batch.ops)
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), v.unwrap()))
        .collect()
}

fn load(records: &BTreeMap<String, Vec<u8>>) -> Result<(ObserverState, u8)> {
    load_records(
        &ObserverKeys::relative(),
        records
            .iter()
            .map(|(k, v)| (k.clone().into_bytes(), v.clone()))
            .collect(),
        &RustCryptoProvider,
        GroupConfig::default(),
        Authority::default(),
    )
}

fn refused(records: &BTreeMap<String, Vec<u8>>, naming: &str) {
    match load(records) {
        Err(Error::Storage(m)) => assert!(m.contains(naming), "{m}"),
        Err(e) => panic!("expected a storage error naming {naming}, got {e}"),
        Ok(_) => panic!("loaded records that should be refused ({naming})"),
    }
}

#[test]
fn records_that_the_library_does_not_write_are_refused() {
    let good = records();
    assert!(good.contains_key("prop/0/00000001"), "{:?}", good.keys());
    let (state, slot) = load(&good).unwrap();
    assert_eq!(slot, 0);
    assert_eq!(state.proposals().len(), 2);

    let mut r = good.clone();
    r.remove("epoch");
    refused(&r, "epoch");

    let mut r = good.clone();
    r.insert("pending".into(), vec![1, 6]);
    refused(&r, "pending");

    // A gap among the cached proposals.
    let mut r = good.clone();
    r.remove("prop/0/00000000");
    refused(&r, "prop/0/00000001");

    // The same proposal twice.
    let mut r = good.clone();
    let first = r["prop/0/00000000"].clone();
    r.insert("prop/0/00000001".into(), first);
    refused(&r, "prop/0/00000001");

    // Proposals or nodes of another branch, without one.
    let mut r = good.clone();
    let first = r["prop/0/00000000"].clone();
    r.insert("prop/1/00000000".into(), first);
    refused(&r, "prop/1/00000000");
    let mut r = good.clone();
    let node = other_node_record(None).unwrap();
    r.insert("other/t/00000001".into(), node);
    refused(&r, "other/t/00000001");

    // A node beyond the tree's width, a node of the wrong kind, a node
    // missing (the tree no longer hashes to the context's tree hash).
    let mut r = good.clone();
    let leaf = r["t/00000000"].clone();
    r.insert("t/00000009".into(), leaf);
    refused(&r, "t/00000009");
    let mut r = good.clone();
    let gi = group_info_record(b"x").unwrap();
    r.insert("t/00000000".into(), gi);
    refused(&r, "t/00000000");
    let mut r = good.clone();
    r.remove("t/00000002");
    refused(&r, "epoch");

    // More cached proposals than the limit.
    let config = GroupConfig {
        max_cached_proposals: 1,
        ..GroupConfig::default()
    };
    let loaded = load_records(
        &ObserverKeys::relative(),
        good.iter()
            .map(|(k, v)| (k.clone().into_bytes(), v.clone()))
            .collect(),
        &RustCryptoProvider,
        config,
        Authority::default(),
    );
    assert!(
        matches!(&loaded, Err(Error::Storage(m)) if m.contains("max_cached_proposals")),
        "{:?}",
        loaded.err()
    );
}

/// A tree width that `max_leaves` does not allow is refused before any
/// node is placed (a stored width is a number, not bytes).
#[test]
fn a_width_beyond_max_leaves_is_refused() {
    let good = records();
    let config = GroupConfig {
        max_leaves: 1,
        ..GroupConfig::default()
    };
    let loaded = load_records(
        &ObserverKeys::relative(),
        good.iter()
            .map(|(k, v)| (k.clone().into_bytes(), v.clone()))
            .collect(),
        &RustCryptoProvider,
        config,
        Authority::default(),
    );
    assert!(
        matches!(&loaded, Err(Error::Storage(m)) if m.contains("max_leaves")),
        "{:?}",
        loaded.err()
    );
}

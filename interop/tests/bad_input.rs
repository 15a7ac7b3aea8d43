//! Hostile bytes: every truncation and a set of byte flips of every structure
//! in messages.json must decode to an error or to a different valid value
//! (which then re-encodes to exactly the mutated bytes, since decoding is
//! canonical), never panic, and never allocate more than a small multiple of
//! the input size.
//!
//! This file is its own test binary with a single test so that the global
//! allocation counter sees only this thread's work.

use std::alloc::System;

use arbor_interop::vectors::locate_dir;
use arbor_mls::codec::{Decode, Encode, decode_exact, encode};
use arbor_mls::framing::MlsMessage;
use arbor_mls::messages::commit::Commit;
use arbor_mls::messages::proposals::{
    Add, ExternalInit, GroupContextExtensions, PreSharedKey, ReInit, Remove, Update,
};
use arbor_mls::messages::welcome::GroupSecrets;
use arbor_mls::tree::nodes::RatchetTreeWire;
use cap::Cap;
use serde_json::Value;

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes a decode may allocate per input byte, plus a constant.
const ALLOC_FACTOR: usize = 64;
const ALLOC_SLACK: usize = 4096;

#[derive(Default)]
struct Tally {
    inputs: usize,
    rejected: usize,
    accepted: usize,
    worst_ratio: f64,
}

/// Decodes `input`, checks the allocation bound and canonicity; returns
/// whether it was accepted.
fn probe<T: Decode + Encode>(what: &str, input: &[u8], tally: &mut Tally) -> bool {
    let before = ALLOC.total_allocated();
    let result = decode_exact::<T>(input);
    let allocated = ALLOC.total_allocated() - before;
    let bound = ALLOC_FACTOR * input.len() + ALLOC_SLACK;
    assert!(
        allocated <= bound,
        "{what}: decoding {} bytes allocated {allocated} bytes (bound {bound})",
        input.len()
    );
    tally.inputs += 1;
    if input.len() >= 64 {
        tally.worst_ratio = tally.worst_ratio.max(allocated as f64 / input.len() as f64);
    }
    match result {
        Err(_) => {
            tally.rejected += 1;
            false
        }
        Ok(value) => {
            tally.accepted += 1;
            let again = encode(&value).expect("decoded value re-encodes");
            assert_eq!(again, input, "{what}: accepted input is not canonical");
            true
        }
    }
}

fn mutate<T: Decode + Encode>(what: &str, valid: &[u8], tally: &mut Tally) {
    assert!(
        probe::<T>(what, valid, tally),
        "{what}: vector does not decode"
    );
    // Every structure here ends in a length-delimited or fixed-size field,
    // so no proper prefix is a valid value: each must be rejected.
    for len in 0..valid.len() {
        assert!(
            !probe::<T>(what, &valid[..len], tally),
            "{what}: truncation to {len} bytes accepted"
        );
    }
    let mut extended = valid.to_vec();
    extended.push(0);
    assert!(
        !probe::<T>(what, &extended, tally),
        "{what}: trailing byte accepted"
    );
    let mut buf = valid.to_vec();
    for i in 0..valid.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            buf[i] ^= flip;
            probe::<T>(what, &buf, tally);
            buf[i] ^= flip;
        }
    }
}

fn hex(case: &Value, field: &str) -> Vec<u8> {
    hex::decode(case[field].as_str().expect("hex field")).expect("valid hex")
}

#[test]
fn truncations_and_flips_never_panic_or_overallocate() {
    let dir = locate_dir(None).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(dir.join("messages.json")).expect("messages.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("JSON array");
    let mut tally = Tally::default();

    // A ratchet tree claiming 2^30 - 1 bytes with one byte behind it.
    let before = ALLOC.total_allocated();
    assert!(decode_exact::<RatchetTreeWire>(&[0xbf, 0xff, 0xff, 0xff, 0x01]).is_err());
    assert!(ALLOC.total_allocated() - before < ALLOC_SLACK);

    for case in &cases {
        for field in [
            "mls_welcome",
            "mls_group_info",
            "mls_key_package",
            "public_message_application",
            "public_message_proposal",
            "public_message_commit",
            "private_message",
        ] {
            mutate::<MlsMessage>(field, &hex(case, field), &mut tally);
        }
        mutate::<RatchetTreeWire>("ratchet_tree", &hex(case, "ratchet_tree"), &mut tally);
        mutate::<GroupSecrets>("group_secrets", &hex(case, "group_secrets"), &mut tally);
        mutate::<Add>("add_proposal", &hex(case, "add_proposal"), &mut tally);
        mutate::<Update>("update_proposal", &hex(case, "update_proposal"), &mut tally);
        mutate::<Remove>("remove_proposal", &hex(case, "remove_proposal"), &mut tally);
        mutate::<PreSharedKey>("psk", &hex(case, "pre_shared_key_proposal"), &mut tally);
        mutate::<ReInit>(
            "re_init_proposal",
            &hex(case, "re_init_proposal"),
            &mut tally,
        );
        mutate::<ExternalInit>(
            "external_init",
            &hex(case, "external_init_proposal"),
            &mut tally,
        );
        mutate::<GroupContextExtensions>(
            "group_context_extensions",
            &hex(case, "group_context_extensions_proposal"),
            &mut tally,
        );
        mutate::<Commit>("commit", &hex(case, "commit"), &mut tally);
    }
    println!(
        "{} inputs: {} rejected, {} accepted as other valid values; worst allocation {:.1} bytes per input byte (inputs of 64+ bytes)",
        tally.inputs, tally.rejected, tally.accepted, tally.worst_ratio
    );
}

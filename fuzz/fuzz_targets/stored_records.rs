//! Stored records, changed by the fuzzer, fed to the loaders: a client
//! reopened on them (identity, key packages, external PSKs), every group
//! it lists loaded (`Client::load_group`) and used, and the observer
//! loaded (`Observer::load`) and used. The records start as a real
//! member's (Alice at epoch 2 with a retained past epoch, a cached
//! proposal, a pending commit, authenticated data, a key package and an
//! external PSK) and an observer's, so changed ones still get past the
//! record header and reach the body decoders and the checks behind them.
//!
//! Each step (`arbor_mls_fuzz::script::steps`) picks the member's or the
//! observer's records, one of them, and a change: its value edited
//! (`arbor_mls_fuzz::mutate`), its key edited, the record deleted, or its
//! value replaced by the payload.
//!
//! Properties: never a panic, and the Rust heap never holds more than
//! [`HEAP_LIMIT`] bytes (a larger allocation aborts, which libFuzzer
//! reports as a crash).
#![no_main]

use std::alloc::System;
use std::sync::OnceLock;

use arbor_mls::Observer;
use arbor_mls_fuzz::mutate;
use arbor_mls_fuzz::script::steps;
use arbor_mls_fuzz::stats::Outcomes;
use arbor_mls_fuzz::stored::{ALICE, StoredGroup, observer_options, open_client, storage_of};
use cap::Cap;
use libfuzzer_sys::fuzz_target;

/// A three-member group's records load in well under a megabyte; the
/// largest group `GroupConfig::max_leaves` allows keeps a few megabytes.
const HEAP_LIMIT: usize = 256 << 20;

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, HEAP_LIMIT);

static FIXTURE: OnceLock<StoredGroup> = OnceLock::new();

/// Groups loaded per input: the fixture stores one; a changed index
/// record can list more.
const MAX_GROUPS: usize = 2;

fuzz_target!(|data: &[u8]| {
    let f = FIXTURE.get_or_init(StoredGroup::new);
    let mut stats = Outcomes::default();
    // The operation's top bit picks the member's records (`c/`, `i/`,
    // `g/`) or the observer's (`o/`), so both loaders get changed input
    // equally often; the rest picks a record and a change.
    let mut member = f.alice_rich.clone();
    let mut observer = f.observer_rich.clone();
    let (mut member_changed, mut observer_changed) = (false, false);
    for step in steps(data) {
        let (records, changed) = if step.op & 0x80 == 0 {
            (&mut member, &mut member_changed)
        } else {
            (&mut observer, &mut observer_changed)
        };
        if records.is_empty() {
            continue;
        }
        let choice = usize::from(step.op & 0x7f);
        let index = choice % records.len();
        let before = records[index].clone();
        match (choice / records.len()) % 4 {
            0 => records[index].1 = mutate(&before.1, step.payload),
            1 => records[index].0 = mutate(&before.0, step.payload),
            2 => {
                records.remove(index);
            }
            _ => records[index].1 = step.payload.to_vec(),
        }
        if records.get(index) != Some(&before) {
            *changed = true;
        }
    }
    if member_changed {
        stats.hit("member_changed");
    }
    if observer_changed {
        stats.hit("observer_changed");
    }
    member.extend(observer);
    let storage = storage_of(&member);

    match open_client(ALICE, storage.clone()) {
        Ok(mut client) => {
            stats.hit("client_loaded");
            for id in client.groups().unwrap_or_default().iter().take(MAX_GROUPS) {
                let Ok(mut group) = client.load_group(id) else {
                    continue;
                };
                stats.hit("group_loaded");
                if member_changed {
                    stats.hit("group_loaded_changed");
                    stats.hit("loaded_changed");
                }
                // Use what was loaded: decrypt, send, merge the pending
                // commit, and export the tree and GroupInfo.
                let _ = group.process(&f.rich_message);
                let _ = group.encrypt(b"fuzz", b"");
                let _ = group.merge_pending();
                let _ = group.ratchet_tree();
                let _ = group.group_info(true);
            }
        }
        Err(_) => stats.hit("client_refused"),
    }

    if let Ok(Some(mut observer)) = Observer::load(&f.group_id, observer_options(storage)) {
        stats.hit("observer_loaded");
        if observer_changed {
            stats.hit("observer_loaded_changed");
            stats.hit("loaded_changed");
        }
        let _ = observer.ratchet_tree();
        let _ = observer.accept_group_info(&f.rich_group_info);
        if let Ok(arbor_mls::Observed::Commit(staged)) = observer.process(&f.rich_commit) {
            let _ = observer.merge(*staged);
        }
    }
});

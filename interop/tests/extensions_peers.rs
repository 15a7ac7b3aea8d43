//! Live interop of draft-ietf-mls-extensions features with openmls 0.9
//! (feature `extensions-draft`) and mls-rs 0.57 (features
//! `self_remove_proposal`, `last_resort_key_package_ext`), in-process,
//! both directions. Only bytes cross between the libraries (MLSMessages);
//! cipher suite 0x0001; every side on the real clock, as the peers date
//! their key packages from it.
//!
//! Codepoints (ours are the draft's suggested values, provisional; see
//! `docs/extensions.md`):
//!
//! | feature | arbor (draft) | openmls 0.9.2 | mls-rs 0.57.0 |
//! | --- | --- | --- | --- |
//! | SelfRemove proposal | `0x000a` | `0x000a` | `0xf003` (private use) |
//! | AppDataUpdate proposal | `0x0008` | `0x0008` | – |
//! | AppEphemeral proposal | `0x0009` | `0x0009` | – |
//! | `app_data_dictionary` extension | `0x0006` | `0x0006` | – |
//! | last resort | component `0x0004` in `app_data_dictionary` | extension `0x000a` | extension `0x000a` |
//! | safe exporter | `application_export` tree | same | – |
//!
//! Where the codepoints match (`with_openmls`: SelfRemove, AppDataUpdate,
//! AppEphemeral, the safe exporter) the tests check that both sides reach
//! the same epoch, epoch authenticator and GroupContext. Where they differ
//! (last resort with both peers, SelfRemove with mls-rs) they run what can
//! run: a peer's last-resort key package (its own mark, which we accept as
//! an unknown extension) used twice by us, ours used twice by the peer, and
//! for mls-rs's SelfRemove the refusal of its private-use proposal and our
//! fallback to RFC 9420's Remove. One divergence is recorded: openmls
//! moves an updated `app_data_dictionary` to the end of the GroupContext
//! extensions, where the draft updates it in place
//! (`with_openmls::app_data_update_dictionary_not_last_diverges`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "extensions_peers/with_mls_rs.rs"]
mod with_mls_rs;
#[path = "extensions_peers/with_openmls.rs"]
mod with_openmls;

use arbor_mls::api::{AppComponents, AppDataContext, AppUpdate, Client, Event, Group};
use arbor_mls::crypto::CipherSuite;
use arbor_mls::crypto::component::ComponentId;
use arbor_mls::{Rejection, SystemClock};
use std::sync::Arc;

/// The suite every test runs in.
const SUITE: u16 = 1;

/// A private-use component whose data is the concatenation of its
/// updates, in the order applied: any difference in the order two
/// implementations apply AppDataUpdates shows in the bytes.
const LOG: ComponentId = 0x8001;

/// The arbor side of [`LOG`].
struct LogApp;

impl AppComponents for LogApp {
    fn components(&self) -> Vec<ComponentId> {
        vec![LOG]
    }

    fn apply_updates(
        &self,
        _cx: &AppDataContext<'_>,
        component_id: ComponentId,
        current: Option<&[u8]>,
        updates: &[AppUpdate<'_>],
    ) -> Result<Vec<u8>, Rejection> {
        if component_id != LOG {
            return Err(Rejection::new("unknown component"));
        }
        Ok(concat_log(current, updates.iter().map(|u| u.update)))
    }
}

/// [`LOG`]'s logic, shared by both sides.
fn concat_log<'a>(current: Option<&[u8]>, updates: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut data = current.unwrap_or_default().to_vec();
    for u in updates {
        data.extend_from_slice(u);
    }
    data
}

/// An arbor client on the real clock; with [`LogApp`] registered if
/// `app_data`.
fn arbor_client(identity: &str, app_data: bool) -> Client {
    let mut builder = Client::builder(identity)
        .cipher_suite(CipherSuite(SUITE))
        .clock(Arc::new(SystemClock));
    if app_data {
        builder = builder.app_components(Arc::new(LogApp));
    }
    builder.build().expect("arbor client")
}

/// Our GroupContext, as encoded on the wire.
fn arbor_context(group: &Group) -> Vec<u8> {
    arbor_mls::codec::encode(group.state().context()).expect("encode our GroupContext")
}

/// Processes another member's commit and merges it.
fn arbor_follow(group: &mut Group, commit: &[u8]) -> arbor_mls::wire::CommitSummary {
    match group.process(commit).expect("we accept the peer's commit") {
        Event::Commit { staged, .. } => {
            let summary = staged.summary.clone();
            group.merge(*staged).expect("merge the peer's commit");
            summary
        }
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// Our own commit, echoed, is merged into `epoch`.
fn arbor_merge_own(group: &mut Group, commit: &[u8], epoch: u64) {
    match group.process(commit).expect("our commit echoed") {
        Event::OwnCommitMerged { epoch: e } => assert_eq!(e, epoch, "our new epoch"),
        other => panic!("expected our commit to merge, got {other:?}"),
    }
}

/// A proposal from a peer, cached.
fn arbor_cache_proposal(group: &mut Group, proposal: &[u8]) -> arbor_mls::wire::Proposal {
    match group
        .process(proposal)
        .expect("we accept the peer's proposal")
    {
        Event::Proposal { proposal, .. } => *proposal,
        other => panic!("expected a proposal, got {other:?}"),
    }
}

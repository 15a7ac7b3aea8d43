//! Rust values as JavaScript ones: errors with their action, members and
//! the typed events of `Group.process`.

use arbor_mls::{Action, Credential, Error, ErrorCategory, Event, Member, Sender, StagedCommit};
use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::JsValue;

use crate::store::{js_error, set};

/// An `Error` whose `name` is `MlsError`, with `action` (what to do:
/// `drop`, `buffer`, `resync`, `report`, `fixCall`, `retry`, `reopen`) and
/// `category` (`malformed`, `protocol`, `wrongEpoch`, ...).
pub(crate) fn error(e: &Error) -> JsValue {
    let js = js_error(&e.to_string());
    set(&js, "name", &"MlsError".into());
    set(&js, "action", &action(e.action()).into());
    set(&js, "category", &category(e.category()).into());
    js
}

fn action(action: Action) -> &'static str {
    match action {
        Action::Drop => "drop",
        Action::Buffer => "buffer",
        Action::Resync => "resync",
        Action::Report => "report",
        Action::FixCall => "fixCall",
        Action::Retry => "retry",
        Action::Reopen => "reopen",
        _ => "report",
    }
}

fn category(category: ErrorCategory) -> &'static str {
    match category {
        ErrorCategory::MalformedInput => "malformed",
        ErrorCategory::ProtocolViolation => "protocol",
        ErrorCategory::WrongEpoch => "wrongEpoch",
        ErrorCategory::NotForUs => "notForUs",
        ErrorCategory::Replay => "replay",
        ErrorCategory::Expired => "expired",
        ErrorCategory::Unsupported => "unsupported",
        ErrorCategory::ApiMisuse => "misuse",
        ErrorCategory::Crypto => "crypto",
        ErrorCategory::Rejected => "rejected",
        ErrorCategory::Unconfirmed => "unconfirmed",
        ErrorCategory::Storage => "storage",
        _ => "internal",
    }
}

/// The identity of a basic credential; other credentials have none here.
pub(crate) fn identity(credential: &Credential) -> JsValue {
    match credential {
        Credential::Basic { identity } => Uint8Array::from(identity.as_slice()).into(),
        _ => JsValue::NULL,
    }
}

/// `{ index, identity, signatureKey }`.
pub(crate) fn member(m: &Member) -> JsValue {
    let object: JsValue = Object::new().into();
    set(&object, "index", &m.index.0.into());
    set(&object, "identity", &identity(&m.credential));
    set(
        &object,
        "signatureKey",
        &Uint8Array::from(m.signature_key.as_bytes()).into(),
    );
    object
}

fn members(list: &[Member]) -> JsValue {
    list.iter().map(member).collect::<Array>().into()
}

/// `{ kind: "member", index }`, `{ kind: "external", index }`,
/// `{ kind: "newMemberProposal" }` or `{ kind: "newMemberCommit" }`.
fn sender(s: &Sender) -> JsValue {
    let object: JsValue = Object::new().into();
    let kind = match s {
        Sender::Member(leaf) => {
            set(&object, "index", &leaf.0.into());
            "member"
        }
        Sender::External(index) => {
            set(&object, "index", &(*index).into());
            "external"
        }
        Sender::NewMemberProposal => "newMemberProposal",
        Sender::NewMemberCommit => "newMemberCommit",
    };
    set(&object, "kind", &kind.into());
    object
}

/// The summary of a commit being merged: `{ type: "commit", epoch,
/// committer, added, removed, updated, removedUs, authenticatedData }`.
pub(crate) fn commit_event(staged: &StagedCommit) -> JsValue {
    let summary = &staged.summary;
    let object: JsValue = Object::new().into();
    set(&object, "type", &"commit".into());
    if let Some(epoch) = staged.epoch() {
        set(&object, "epoch", &epoch_value(epoch));
    }
    set(&object, "committer", &sender(&summary.committer));
    set(&object, "added", &members(&staged.added_members()));
    set(&object, "removed", &members(staged.removed_members()));
    set(&object, "updated", &members(&staged.updated_members()));
    set(&object, "removedUs", &summary.self_removed.into());
    set(
        &object,
        "authenticatedData",
        &Uint8Array::from(summary.authenticated_data.as_slice()).into(),
    );
    object
}

/// Epochs as JavaScript numbers: exact up to 2^53, which no group reaches.
pub(crate) fn epoch_value(epoch: u64) -> JsValue {
    JsValue::from_f64(epoch as f64)
}

/// The events of `process` other than a commit (which is merged first and
/// reported by [`commit_event`]).
pub(crate) fn event(event: &Event) -> JsValue {
    let object: JsValue = Object::new().into();
    match event {
        Event::Application {
            sender,
            epoch,
            data,
            authenticated_data,
        } => {
            set(&object, "type", &"application".into());
            set(&object, "sender", &sender.0.into());
            set(&object, "epoch", &epoch_value(*epoch));
            set(&object, "data", &Uint8Array::from(data.as_slice()).into());
            set(
                &object,
                "authenticatedData",
                &Uint8Array::from(authenticated_data.as_slice()).into(),
            );
        }
        Event::Proposal { sender: from, .. } => {
            set(&object, "type", &"proposal".into());
            set(&object, "sender", &sender(from));
        }
        Event::OwnCommitMerged { epoch } => {
            set(&object, "type", &"ownCommitMerged".into());
            set(&object, "epoch", &epoch_value(*epoch));
        }
        Event::OwnMessageEcho { epoch, .. } => {
            set(&object, "type", &"ownMessageEcho".into());
            set(&object, "epoch", &epoch_value(*epoch));
        }
        // Commits are merged and reported by `commit_event`; a future kind
        // of event is reported by name only.
        _ => set(&object, "type", &"other".into()),
    }
    object
}
